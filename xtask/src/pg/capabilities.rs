//! What each supported PostgreSQL major holds in its catalogs, decided in one place by
//! `server_version_num`.
//!
//! A catalog query names a column that some supported majors lack as `{{alias.column}}`;
//! [`Capabilities::sql`] writes the column where the server has it, else the value that
//! means the same on a server without it. Rows that only newer majors make (PostgreSQL
//! 18's NOT NULL constraints, `contype = 'n'`, and virtual generated columns,
//! `attgenerated = 'v'`) need nothing here: older servers have no such rows.

use std::borrow::Cow;

use anyhow::bail;

/// PostgreSQL 14 is the oldest major still maintained, and the first with
/// `pg_attribute.attcompression`, which the column query reads.
pub const OLDEST_SUPPORTED_MAJOR: u32 = 14;

/// A catalog column that appeared in a supported major.
struct CatalogColumn {
    name: &'static str,
    /// The first `server_version_num` that has it.
    since: u32,
    /// What stands for it on older servers: what they behaved as.
    before: &'static str,
}

/// Every catalog column the queries read that PostgreSQL 14 lacks.
const COLUMNS: &[CatalogColumn] = &[
    // UNIQUE NULLS NOT DISTINCT (15); before it, nulls were always distinct.
    CatalogColumn {
        name: "indnullsnotdistinct",
        since: 150000,
        before: "false",
    },
    // Publications' column lists and row filters (15); before them, every column and row.
    CatalogColumn {
        name: "prattrs",
        since: 150000,
        before: "NULL",
    },
    CatalogColumn {
        name: "prqual",
        since: 150000,
        before: "NULL",
    },
    // Subscriptions' two_phase and disable_on_error (15); before them, neither.
    CatalogColumn {
        name: "subtwophasestate",
        since: 150000,
        before: "'d'",
    },
    CatalogColumn {
        name: "subdisableonerr",
        since: 150000,
        before: "false",
    },
    // ICU tailoring rules of a collation (16); before them, none.
    CatalogColumn {
        name: "collicurules",
        since: 160000,
        before: "NULL",
    },
    // NOT ENFORCED constraints (18); before it, every constraint was enforced.
    CatalogColumn {
        name: "conenforced",
        since: 180000,
        before: "true",
    },
];

/// The catalog columns of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    version_num: u32,
}

impl Capabilities {
    /// For a server whose `server_version_num` is `version_num` (`150019` for 15.19).
    pub fn of(version_num: u32) -> Capabilities {
        Capabilities { version_num }
    }

    /// The major release: 15 for 15.19.
    pub fn major(&self) -> u32 {
        self.version_num / 10000
    }

    /// `sql` with each `{{alias.column}}` replaced by `alias.column` if the server has the
    /// column, else by the column's stand-in. A placeholder naming a column missing from
    /// the table is an error in the query, reported with the query's start.
    pub fn sql<'a>(&self, sql: &'a str) -> anyhow::Result<Cow<'a, str>> {
        if !sql.contains("{{") {
            return Ok(Cow::Borrowed(sql));
        }
        let mut out = String::with_capacity(sql.len());
        let mut rest = sql;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find("}}") else {
                bail!("an unclosed {{{{ in a catalog query: {}", excerpt(sql));
            };
            let reference = &rest[start + 2..start + len];
            let column = reference.rsplit('.').next().unwrap_or(reference);
            let Some(known) = COLUMNS.iter().find(|c| c.name == column) else {
                bail!(
                    "the catalog column {reference} is not in the capability table: {}",
                    excerpt(sql)
                );
            };
            out.push_str(if self.version_num >= known.since {
                reference
            } else {
                known.before
            });
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        Ok(Cow::Owned(out))
    }
}

fn excerpt(sql: &str) -> String {
    sql.trim().chars().take(60).collect()
}

/// Refuses a major older than [`OLDEST_SUPPORTED_MAJOR`] before any work; `what` names the
/// server binaries or the server.
pub fn ensure_supported(major: u32, what: &str) -> anyhow::Result<()> {
    if major < OLDEST_SUPPORTED_MAJOR {
        bail!(
            "PostgreSQL {major} is not supported (end of life); use \
             {OLDEST_SUPPORTED_MAJOR} or newer\n(found: {what})"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_written_from_their_major_on_and_stand_ins_before() {
        let sql = "SELECT {{x.indnullsnotdistinct}}, {{k.conenforced}} FROM t";
        let on = |num| Capabilities::of(num).sql(sql).unwrap().into_owned();
        assert_eq!(on(140023), "SELECT false, true FROM t");
        assert_eq!(on(150019), "SELECT x.indnullsnotdistinct, true FROM t");
        assert_eq!(on(170010), "SELECT x.indnullsnotdistinct, true FROM t");
        assert_eq!(
            on(180004),
            "SELECT x.indnullsnotdistinct, k.conenforced FROM t"
        );
    }

    #[test]
    fn a_query_without_placeholders_is_not_copied() {
        let sql = "SELECT '{}'::int[]";
        assert!(matches!(
            Capabilities::of(150000).sql(sql).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn an_unknown_or_unclosed_placeholder_is_an_error() {
        let caps = Capabilities::of(180000);
        let err = caps.sql("SELECT {{a.attnotnullvalid}}").unwrap_err();
        assert!(
            err.to_string()
                .contains("a.attnotnullvalid is not in the capability table"),
            "{err}"
        );
        let err = caps.sql("SELECT {{k.conenforced").unwrap_err();
        assert!(err.to_string().contains("unclosed"), "{err}");
    }

    #[test]
    fn thirteen_and_older_are_refused_by_name() {
        let err = ensure_supported(13, "/usr/lib/postgresql/13/bin (13.23)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "PostgreSQL 13 is not supported (end of life); use 14 or newer\n\
             (found: /usr/lib/postgresql/13/bin (13.23))"
        );
        assert!(ensure_supported(9, "x").is_err());
        for major in OLDEST_SUPPORTED_MAJOR..=18 {
            ensure_supported(major, "x").unwrap();
        }
    }
}
