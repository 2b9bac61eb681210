//! Reading part of the catalog: the objects within a set of scopes, through the same
//! queries as [`introspect`](super::introspect), so that a part reads exactly as the whole.
//!
//! An object's scope is the OID it is read by: a table's, view's or sequence's own OID for
//! the relation and everything that belongs to it (columns, constraints, indexes, triggers,
//! policies), a domain's for the domain and its constraints, a type's, function's, schema's
//! or extension's own. Each kind's query is narrowed by adding its scope as a column and,
//! for a part, a condition on it that the server answers from the catalog's indexes; the
//! statements are prepared once and planned generically, so that reading a few objects
//! costs the same whatever the size of the catalog. A kind without an entry in [`SCOPES`]
//! is read whole every time, which is always right; so are the kinds that most databases
//! have none of ([`kinds`]).

use std::collections::BTreeMap;

use anyhow::Context;
use postgres::{IsolationLevel, Statement};

use super::{kinds, read_row, record_column_order, QUERIES};
use crate::pg::Capabilities;
use crate::schema::catalog::SETTINGS;
use crate::schema::model::{ObjectKind, Schema, SchemaObject};

/// For each kind, the expression of its query giving an object's scope, and the condition
/// that keeps the objects whose scope is in `$1` (an `oid[]`), written so that the server
/// can use the catalog's indexes.
const SCOPES: [(ObjectKind, &str, &str); 16] = [
    (ObjectKind::Extension, "x.oid", "x.oid = ANY($1)"),
    (
        ObjectKind::ExtensionMember,
        "m.extoid",
        "m.extoid = ANY($1)",
    ),
    (ObjectKind::Schema, "n.oid", "n.oid = ANY($1)"),
    (ObjectKind::Enum, "t.oid", "t.oid = ANY($1)"),
    (ObjectKind::Domain, "t.oid", "t.oid = ANY($1)"),
    (ObjectKind::CompositeType, "t.oid", "t.oid = ANY($1)"),
    (ObjectKind::Sequence, "c.oid", "c.oid = ANY($1)"),
    (ObjectKind::Table, "c.oid", "c.oid = ANY($1)"),
    (ObjectKind::Column, "c.oid", "c.oid = ANY($1)"),
    (
        ObjectKind::Constraint,
        "CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END",
        "(k.conrelid = ANY($1) OR k.contypid = ANY($1))",
    ),
    (ObjectKind::Index, "x.indrelid", "x.indrelid = ANY($1)"),
    (ObjectKind::View, "c.oid", "c.oid = ANY($1)"),
    (ObjectKind::MaterializedView, "c.oid", "c.oid = ANY($1)"),
    (ObjectKind::Function, "p.oid", "p.oid = ANY($1)"),
    (ObjectKind::Trigger, "tg.tgrelid", "tg.tgrelid = ANY($1)"),
    (ObjectKind::Policy, "p.polrelid", "p.polrelid = ANY($1)"),
];

/// The column a narrowed query adds; read, then taken off the object's properties.
const SCOPE_COLUMN: &str = "xtask_scope";

/// Where a query's top-level condition starts: inner ones are indented.
const TOP_LEVEL_WHERE: &str = "\nWHERE ";

/// One object read, with its scope; `None` for a kind that is always read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedObject {
    pub scope: Option<u32>,
    pub object: SchemaObject,
}

/// What one read found: the objects, and the column order of the tables among them.
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub server_version: String,
    pub objects: Vec<ScopedObject>,
    pub column_order: BTreeMap<String, Vec<String>>,
}

/// The prepared statements of one connection.
pub struct ScopedReader {
    capabilities: Capabilities,
    kinds: Vec<KindStatements>,
}

struct KindStatements {
    kind: ObjectKind,
    /// Every object of the kind, with its scope when the kind has one.
    whole: Statement,
    /// The objects whose scope is in `$1`; `None` for a kind read whole every time.
    part: Option<Statement>,
}

impl ScopedReader {
    pub fn prepare(client: &mut postgres::Client) -> anyhow::Result<ScopedReader> {
        let version: i32 = client
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .context("reading server_version_num")?
            .get(0);
        let capabilities = Capabilities::of(version.unsigned_abs());
        let mut kinds = Vec::new();
        for (kind, sql) in QUERIES {
            let sql = &*capabilities.sql(sql)?;
            let narrowed = SCOPES
                .iter()
                .find(|(k, _, _)| *k == kind)
                .and_then(|(_, scope, condition)| narrow(sql, scope, condition));
            let (whole, part) = match narrowed {
                Some((whole, part)) => (whole, Some(part)),
                None => (sql.to_owned(), None),
            };
            let mut prepare = |sql: &str| {
                client
                    .prepare(sql)
                    .with_context(|| format!("preparing the {kind} query"))
            };
            kinds.push(KindStatements {
                kind,
                whole: prepare(&whole)?,
                part: part.as_deref().map(&mut prepare).transpose()?,
            });
        }
        Ok(ScopedReader {
            capabilities,
            kinds,
        })
    }

    /// Reads every object when `scopes` is `None`, else the objects within `scopes` and
    /// every object of the kinds read whole.
    pub fn read(
        &self,
        client: &mut postgres::Client,
        scopes: Option<&[u32]>,
    ) -> anyhow::Result<Part> {
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .context("starting the introspection transaction")?;
        tx.batch_execute(SETTINGS)
            .context("fixing the session settings for introspection")?;
        // The narrowed statements are run once per migration: planned once, not each time.
        tx.batch_execute("SET LOCAL plan_cache_mode = force_generic_plan")
            .context("fixing the plan cache mode")?;
        let mut part = Part {
            server_version: tx
                .query_one("SHOW server_version", &[])
                .context("reading server_version")?
                .get(0),
            ..Part::default()
        };
        let scopes = scopes.map(<[u32]>::to_vec);
        let mut columns = Vec::new();
        for statements in &self.kinds {
            let kind = statements.kind;
            let rows = match (&scopes, &statements.part) {
                (Some(scopes), Some(part)) => tx.query(part, &[scopes]),
                _ => tx.query(&statements.whole, &[]),
            }
            .with_context(|| format!("listing the {kind} objects"))?;
            for row in &rows {
                let mut object = read_row(kind, row, &mut columns)?;
                let scope = match object.properties.remove(SCOPE_COLUMN) {
                    Some(oid) => Some(
                        oid.parse()
                            .with_context(|| format!("the scope of {} is {oid}", object.id))?,
                    ),
                    None => None,
                };
                part.objects.push(ScopedObject { scope, object });
            }
        }
        let mut rare = Vec::new();
        kinds::read(&mut tx, self.capabilities, &mut rare)?;
        part.objects
            .extend(rare.into_iter().map(|object| ScopedObject {
                scope: None,
                object,
            }));
        tx.commit()?;
        let mut tables = Schema::default();
        for scoped in &part.objects {
            if scoped.object.id.kind == ObjectKind::Table {
                tables
                    .objects
                    .insert(scoped.object.id.clone(), scoped.object.clone());
            }
        }
        record_column_order(&mut tables, columns);
        part.column_order = tables.column_order;
        Ok(part)
    }
}

/// A kind's query reading each object's scope too, whole and narrowed to the scopes in
/// `$1`; `None` when the query's shape is not the one expected (a `SELECT` whose last
/// clause is its one top-level `WHERE`, or that has none).
fn narrow(sql: &str, scope: &str, condition: &str) -> Option<(String, String)> {
    let body = sql.trim_start().strip_prefix("SELECT ")?;
    let whole = format!("SELECT ({scope})::text AS {SCOPE_COLUMN}, {body}");
    let part = match whole.matches(TOP_LEVEL_WHERE).count() {
        0 => format!("{whole}\nWHERE {condition}"),
        1 => {
            let (select, filter) = whole.split_once(TOP_LEVEL_WHERE)?;
            format!("{select}{TOP_LEVEL_WHERE}({filter})\n  AND {condition}")
        }
        _ => return None,
    };
    Some((whole, part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::testing::scratch_client;
    use crate::schema::introspect::introspect;

    /// Kinds read whole on every read: few objects, changed only with an extension.
    const READ_WHOLE: [ObjectKind; 1] = [ObjectKind::ExtensionMember];

    #[test]
    fn every_kind_has_a_scope_and_its_query_the_expected_shape() {
        for (kind, sql) in QUERIES {
            match SCOPES.iter().find(|(k, _, _)| *k == kind) {
                Some((_, scope, condition)) => {
                    assert!(narrow(sql, scope, condition).is_some(), "{kind}: {sql}")
                }
                None => assert!(READ_WHOLE.contains(&kind), "{kind} has no scope"),
            }
        }
    }

    /// Objects read whole, as a schema, with each object's scope beside it.
    fn as_schema(part: &Part) -> Schema {
        let mut schema = Schema {
            server_version: part.server_version.clone(),
            column_order: part.column_order.clone(),
            ..Schema::default()
        };
        for scoped in &part.objects {
            schema.insert(scoped.object.clone());
        }
        schema
    }

    #[test]
    fn a_whole_read_is_the_introspection_and_a_part_reads_exactly_its_scopes() {
        let (mut client, _server) = scratch_client("scoped_read");
        client
            .batch_execute(
                "CREATE SCHEMA audit;
                 CREATE TYPE mood AS ENUM ('calm', 'busy');
                 CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);
                 CREATE TABLE \"a.b\" (id int PRIMARY KEY, m mood, p positive);
                 CREATE TABLE audit.log (id serial PRIMARY KEY, at timestamptz,
                                         ab int REFERENCES \"a.b\"(id));
                 CREATE INDEX log_at ON audit.log (at);
                 CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
                   $$ BEGIN RETURN NEW; END $$;
                 CREATE TRIGGER touch BEFORE INSERT ON audit.log
                   FOR EACH ROW EXECUTE FUNCTION touch();
                 CREATE VIEW recent AS SELECT id FROM audit.log;
                 ALTER TABLE audit.log ENABLE ROW LEVEL SECURITY;
                 CREATE POLICY mine ON audit.log USING (id > 0);",
            )
            .unwrap();
        let reader = ScopedReader::prepare(&mut client).unwrap();
        let whole = reader.read(&mut client, None).unwrap();
        let full = introspect(&mut client).unwrap();
        let read = as_schema(&whole);
        assert_eq!(read.objects, full.objects);
        assert_eq!(read.column_order, full.column_order);

        let log: u32 = client
            .query_one("SELECT 'audit.log'::regclass::oid", &[])
            .unwrap()
            .get(0);
        let part = reader.read(&mut client, Some(&[log])).unwrap();
        let expected: BTreeMap<_, _> = whole
            .objects
            .iter()
            .filter(|o| o.scope == Some(log))
            .map(|o| (&o.object.id, &o.object))
            .collect();
        let got: BTreeMap<_, _> = part
            .objects
            .iter()
            .filter(|o| o.scope.is_some())
            .map(|o| (&o.object.id, &o.object))
            .collect();
        assert_eq!(got, expected);
        // The table, its three columns, key, foreign key, index, trigger and policy.
        assert_eq!(got.len(), 9, "{got:#?}");
        assert_eq!(part.column_order.len(), 1);
    }
}
