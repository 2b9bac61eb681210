//! What each migration touched, so that only that part of the catalog is read again.
//!
//! Event triggers in the scratch database record the objects each migration created,
//! altered (`ddl_command_end`, `pg_event_trigger_ddl_commands()`) or dropped (`sql_drop`,
//! `pg_event_trigger_dropped_objects()`), in a session setting rather than a table, so that
//! recording writes no row. Their function lives in the session's temporary schema, which
//! introspection leaves out. The objects are then mapped to scopes (see
//! [`crate::schema::introspect::scoped`]), together with the objects that depend on them
//! (whose printed definitions name them: a view on a renamed column, a foreign key to a
//! renamed table), and, for a renamed schema, the dependents of everything in it.
//!
//! What no event trigger reports is checked per migration, cheaply: row counts through the
//! statistics (rows inserted or deleted outside the system catalogs; a truncated table gets
//! a new file), roles (renaming one changes how privileges print), `CLUSTER` (which
//! table is clustered on which index) and `GRANT`/`REVOKE`, which the trigger sees without
//! the object. Any of the last three, or an object of a kind that has no scope, makes the
//! next read a whole one.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context;
use postgres::Statement;

/// The session setting the event triggers append to; it starts with [`LOG_START`], so that
/// a migration that resets every setting is noticed.
const LOG_SETTING: &str = "xtask.analyze_log";
const LOG_START: &str = "log:";

/// Installed before the history, so that the snapshot before the first migration already
/// holds them; `ENABLE ALWAYS` so that `session_replication_role` cannot silence them.
const INSTALL: &str = "
CREATE FUNCTION pg_temp.xtask_analyze_log() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    entries text;
BEGIN
    IF tg_event = 'sql_drop' THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('D %s %s;', classid, objid), '')
          INTO entries FROM pg_catalog.pg_event_trigger_dropped_objects();
    ELSE
        SELECT pg_catalog.string_agg(pg_catalog.format('C %s %s;',
                   coalesce(classid, 0), coalesce(objid, 0)), '')
          INTO entries FROM pg_catalog.pg_event_trigger_ddl_commands() WHERE NOT in_extension;
    END IF;
    PERFORM pg_catalog.set_config('xtask.analyze_log',
        pg_catalog.current_setting('xtask.analyze_log', true) || coalesce(entries, ''), false);
END $$;
CREATE EVENT TRIGGER xtask_analyze_changes ON ddl_command_end
    EXECUTE FUNCTION pg_temp.xtask_analyze_log();
CREATE EVENT TRIGGER xtask_analyze_drops ON sql_drop
    EXECUTE FUNCTION pg_temp.xtask_analyze_log();
ALTER EVENT TRIGGER xtask_analyze_changes ENABLE ALWAYS;
ALTER EVENT TRIGGER xtask_analyze_drops ENABLE ALWAYS;";

/// The catalogs whose objects have a scope, and how each maps to it.
const SCOPED_CATALOGS: [&str; 10] = [
    "pg_class",
    "pg_type",
    "pg_proc",
    "pg_namespace",
    "pg_extension",
    "pg_constraint",
    "pg_trigger",
    "pg_policy",
    "pg_attrdef",
    "pg_rewrite",
];

/// The objects `$1`/`$2` (catalog and OID pairs) and their dependents, each with its scope:
/// NULL for an object that no longer exists.
const RESOLVE: &str = "
WITH touched AS (
    SELECT DISTINCT classid, objid FROM unnest($1::oid[], $2::oid[]) AS t(classid, objid)
), reached AS (
    SELECT classid, objid FROM touched
    UNION
    SELECT d.classid, d.objid FROM touched t
    JOIN pg_depend d ON d.refclassid = t.classid AND d.refobjid = t.objid
    WHERE d.deptype <> 'e'
    UNION
    SELECT d2.classid, d2.objid FROM touched t
    JOIN pg_depend d ON d.refclassid = t.classid AND d.refobjid = t.objid
    JOIN pg_depend d2 ON d2.refclassid = d.classid AND d2.refobjid = d.objid
    WHERE t.classid = 'pg_namespace'::regclass AND d.deptype <> 'e' AND d2.deptype <> 'e'
)
SELECT r.classid, s.scope FROM reached r
LEFT JOIN LATERAL (
    SELECT CASE WHEN c.relkind IN ('i', 'I') THEN x.indrelid ELSE c.oid END FROM pg_class c
    LEFT JOIN pg_index x ON x.indexrelid = c.oid
    WHERE r.classid = 'pg_class'::regclass AND c.oid = r.objid
    UNION ALL SELECT c.reltype FROM pg_class c
    WHERE r.classid = 'pg_class'::regclass AND c.oid = r.objid AND c.relkind = 'c'
    UNION ALL SELECT t.oid FROM pg_type t
    WHERE r.classid = 'pg_type'::regclass AND t.oid = r.objid
    UNION ALL SELECT t.typrelid FROM pg_type t
    WHERE r.classid = 'pg_type'::regclass AND t.oid = r.objid AND t.typrelid <> 0
    UNION ALL SELECT p.oid FROM pg_proc p
    WHERE r.classid = 'pg_proc'::regclass AND p.oid = r.objid
    UNION ALL SELECT n.oid FROM pg_namespace n
    WHERE r.classid = 'pg_namespace'::regclass AND n.oid = r.objid
    UNION ALL SELECT e.oid FROM pg_extension e
    WHERE r.classid = 'pg_extension'::regclass AND e.oid = r.objid
    UNION ALL SELECT CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END
    FROM pg_constraint k WHERE r.classid = 'pg_constraint'::regclass AND k.oid = r.objid
    UNION ALL SELECT tg.tgrelid FROM pg_trigger tg
    WHERE r.classid = 'pg_trigger'::regclass AND tg.oid = r.objid
    UNION ALL SELECT p.polrelid FROM pg_policy p
    WHERE r.classid = 'pg_policy'::regclass AND p.oid = r.objid
    UNION ALL SELECT d.adrelid FROM pg_attrdef d
    WHERE r.classid = 'pg_attrdef'::regclass AND d.oid = r.objid
    UNION ALL SELECT w.ev_class FROM pg_rewrite w
    WHERE r.classid = 'pg_rewrite'::regclass AND w.oid = r.objid
) s(scope) ON true";

/// The objects that belong to a relation or domain, with its OID: what a drop of one of
/// them must be mapped to, once the catalog no longer knows. `$1` narrows to scopes.
const MEMBERS: &str = "
SELECT indexrelid, indrelid FROM pg_index WHERE indrelid = ANY($1)
UNION ALL SELECT oid, CASE WHEN conrelid <> 0 THEN conrelid ELSE contypid END
FROM pg_constraint WHERE conrelid = ANY($1) OR contypid = ANY($1)
UNION ALL SELECT oid, tgrelid FROM pg_trigger WHERE tgrelid = ANY($1)
UNION ALL SELECT oid, polrelid FROM pg_policy WHERE polrelid = ANY($1)
UNION ALL SELECT oid, adrelid FROM pg_attrdef WHERE adrelid = ANY($1)
UNION ALL SELECT oid, ev_class FROM pg_rewrite WHERE ev_class = ANY($1)";

/// What no event trigger reports: rows inserted or deleted outside the system catalogs
/// (`$1`, the database's own catalogs), and the roles.
const UNREPORTED: &str = "
SELECT ((SELECT tup_inserted + tup_deleted FROM pg_stat_database
         WHERE datname = current_database())
        - (SELECT coalesce(sum(pg_stat_get_tuples_inserted(o) + pg_stat_get_tuples_deleted(o)), 0)
           FROM unnest($1::oid[]) o))::bigint,
       (SELECT md5(string_agg(oid::text || ' ' || rolname, ',' ORDER BY oid)) FROM pg_roles)";

/// What one migration did, as far as the watch saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub touched: Touched,
    /// Rows may have been inserted or deleted (truncations aside: see [`Watch`]).
    pub rows_written: bool,
}

/// What one migration touched in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// The scopes to read again; none when the catalog did not change.
    Scopes(BTreeSet<u32>),
    /// Read everything again, for this reason.
    Everything(&'static str),
}

/// The event triggers of one scratch database and the statements that read what they saw.
pub struct Watch {
    resolve: Statement,
    members: Statement,
    unreported: Statement,
    /// The OIDs of [`SCOPED_CATALOGS`], in their order.
    scoped_catalogs: Vec<u32>,
    /// The database's own catalogs, whose rows DDL writes.
    catalogs: Vec<u32>,
    /// Whether the statistics are flushed on demand (PostgreSQL 15 on); before that, rows
    /// are counted after every migration.
    flushes_statistics: bool,
    /// A relation's member (index, constraint, trigger, policy, default, rule) → its scope.
    member_scopes: HashMap<u32, u32>,
    last_rows_written: Option<i64>,
    last_roles: Option<String>,
}

impl Watch {
    /// Installs the event triggers; `None` when the server refuses (they need a superuser),
    /// in which case every migration is followed by a whole read.
    pub fn install(client: &mut postgres::Client) -> anyhow::Result<Option<Watch>> {
        let installed = {
            let mut tx = client.transaction()?;
            match tx.batch_execute(INSTALL) {
                Ok(()) => {
                    tx.commit()?;
                    true
                }
                Err(err) if err.as_db_error().is_some() => false,
                Err(err) => return Err(err).context("installing the event triggers"),
            }
        };
        if !installed {
            return Ok(None);
        }
        let scoped_catalogs = SCOPED_CATALOGS
            .iter()
            .map(|name| {
                let oid: u32 = client
                    .query_one("SELECT $1::text::regclass::oid", &[name])
                    .with_context(|| format!("looking up {name}"))?
                    .get(0);
                Ok(oid)
            })
            .collect::<anyhow::Result<_>>()?;
        let catalogs = client
            .query(
                "SELECT oid FROM pg_class
                 WHERE oid < 16384 AND NOT relisshared AND relkind IN ('r', 't', 'm')",
                &[],
            )
            .context("listing the system catalogs")?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])?
            .get(0);
        let mut watch = Watch {
            resolve: client.prepare(RESOLVE).context("preparing RESOLVE")?,
            members: client.prepare(MEMBERS).context("preparing MEMBERS")?,
            unreported: client.prepare(UNREPORTED).context("preparing UNREPORTED")?,
            scoped_catalogs,
            catalogs,
            flushes_statistics: version >= 150000,
            member_scopes: HashMap::new(),
            last_rows_written: None,
            last_roles: None,
        };
        watch.take_log(client)?;
        watch.unreported(client)?;
        Ok(Some(watch))
    }

    /// What the migration just applied did; `sql` is its text.
    pub fn observe(
        &mut self,
        client: &mut postgres::Client,
        sql: &str,
    ) -> anyhow::Result<Observed> {
        let log = self.take_log(client)?;
        let (rows_written, roles) = self.unreported(client)?;
        let touched = match log {
            None => Touched::Everything("the migration reset the session's settings"),
            Some(_) if roles => Touched::Everything("roles changed"),
            Some(_) if clusters(sql) => Touched::Everything("CLUSTER is not reported"),
            Some(log) => self.touched(client, &log)?,
        };
        Ok(Observed {
            touched,
            rows_written: rows_written || !self.flushes_statistics,
        })
    }

    fn touched(&mut self, client: &mut postgres::Client, log: &str) -> anyhow::Result<Touched> {
        let mut changed = (Vec::new(), Vec::new());
        let mut scopes = BTreeSet::new();
        for entry in log.split(';').filter(|e| !e.is_empty()) {
            let mut fields = entry.split(' ');
            let (Some(event), Some(Ok(classid)), Some(Ok(objid))) = (
                fields.next(),
                fields.next().map(str::parse::<u32>),
                fields.next().map(str::parse::<u32>),
            ) else {
                anyhow::bail!("unexpected event trigger entry {entry:?}");
            };
            let Some(catalog) = self.scoped_catalogs.iter().position(|&c| c == classid) else {
                return Ok(Touched::Everything("an object that has no scope changed"));
            };
            if event == "D" {
                // The catalog no longer knows a dropped member's relation: the map does.
                match (self.member_scopes.get(&objid), SCOPED_CATALOGS[catalog]) {
                    (Some(&scope), _) => scopes.insert(scope),
                    (
                        None,
                        "pg_class" | "pg_type" | "pg_proc" | "pg_namespace" | "pg_extension",
                    ) => scopes.insert(objid),
                    (None, _) => {
                        return Ok(Touched::Everything(
                            "a member of no known scope was dropped",
                        ))
                    }
                };
            } else {
                changed.0.push(classid);
                changed.1.push(objid);
            }
        }
        if !changed.0.is_empty() {
            let rows = client
                .query(&self.resolve, &[&changed.0, &changed.1])
                .context("finding what the migration touched")?;
            for row in rows {
                let classid: u32 = row.get(0);
                if !self.scoped_catalogs.contains(&classid) {
                    return Ok(Touched::Everything(
                        "an object that has no scope depends on a changed one",
                    ));
                }
                if let Some(scope) = row.get::<_, Option<u32>>(1) {
                    scopes.insert(scope);
                }
            }
        }
        Ok(Touched::Scopes(scopes))
    }

    /// Records the members of `scopes` (of every relation and domain when `None`), read
    /// again after a migration, for mapping later drops.
    pub fn read_members(
        &mut self,
        client: &mut postgres::Client,
        scopes: Option<&[u32]>,
    ) -> anyhow::Result<()> {
        let rows = match scopes {
            Some(scopes) => client.query(&self.members, &[&scopes]),
            None => client.query(&MEMBERS.replace("= ANY($1)", "<> 0"), &[]),
        }
        .context("listing the members of relations and domains")?;
        if scopes.is_none() {
            self.member_scopes.clear();
        }
        for row in rows {
            self.member_scopes.insert(row.get(0), row.get(1));
        }
        Ok(())
    }

    /// The event triggers' entries since the last call, and a fresh log; `None` when the
    /// log was lost.
    fn take_log(&self, client: &mut postgres::Client) -> anyhow::Result<Option<String>> {
        let row = client
            .query_one(
                "SELECT current_setting($1, true), set_config($1, $2, false)",
                &[&LOG_SETTING, &LOG_START],
            )
            .context("reading the event triggers' log")?;
        let log: Option<String> = row.get(0);
        Ok(log.and_then(|log| log.strip_prefix(LOG_START).map(str::to_owned)))
    }

    /// Whether rows were written and whether the roles changed since the last call.
    fn unreported(&mut self, client: &mut postgres::Client) -> anyhow::Result<(bool, bool)> {
        if self.flushes_statistics {
            // Statistics reach shared memory when the session goes idle, at most once a
            // second unless asked; this statement asks, and the next one reads them.
            client
                .batch_execute("SELECT pg_stat_force_next_flush()")
                .context("flushing the statistics")?;
        }
        let row = client
            .query_one(&self.unreported, &[&self.catalogs])
            .context("reading the statistics")?;
        let rows_written: Option<i64> = row.get(0);
        let roles: Option<String> = row.get(1);
        let changed = (
            self.last_rows_written != rows_written,
            self.last_roles != roles,
        );
        self.last_rows_written = rows_written;
        self.last_roles = roles;
        Ok(changed)
    }
}

/// Whether the migration has a `CLUSTER` statement.
fn clusters(sql: &str) -> bool {
    use super::sql_text::{Pattern, SqlText};
    !SqlText::parse(sql)
        .statements(&[Pattern::Word("cluster")])
        .is_empty()
}
