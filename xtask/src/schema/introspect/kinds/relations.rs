//! Objects that hang off a table: rules and statistics objects.

use super::KindQuery;
use crate::schema::catalog::{display_name, user_relation};
use crate::schema::model::ObjectKind;

/// Rules on tables and views, but not the `_RETURN` rule that is a view's definition. The
/// catalog's own rules (on `pg_settings`) have OIDs below 16384.
pub(in crate::schema::introspect) const RULES: KindQuery = KindQuery {
    kind: ObjectKind::Rule,
    present: "EXISTS (SELECT 1 FROM pg_rewrite WHERE oid >= 16384 AND rulename <> '_RETURN')",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            member_name!("n", "c.relname", "r.rulename"),
            ", ",
            display_name!("n.nspname", "c.relname"),
            " AS \"table\",
       pg_get_ruledef(r.oid, true) AS definition,
       CASE r.ev_enabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                         WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled,
       ds.description AS comment
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_namespace n ON n.oid = c.relnamespace",
            comment_join!("r.oid", "pg_rewrite"),
            "
WHERE r.rulename <> '_RETURN' AND ",
            user_relation!("c", "n")
        ),
    )],
};

/// Extended statistics: `pg_get_statisticsobjdef` prints the kinds, columns and
/// expressions; the statistics target is apart (`ALTER STATISTICS ... SET STATISTICS`).
pub(in crate::schema::introspect) const STATISTICS: KindQuery = KindQuery {
    kind: ObjectKind::Statistics,
    present: "EXISTS (SELECT 1 FROM pg_statistic_ext)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "s.stxname"),
            ", ",
            display_name!("cn.nspname", "c.relname"),
            " AS \"table\",
       pg_get_statisticsobjdef(s.oid) AS definition,
       NULLIF(s.stxstattarget, -1)::text AS statistics,
       ",
            owner!("s.stxowner"),
            ",
       ds.description AS comment
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
JOIN pg_class c ON c.oid = s.stxrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace",
            comment_join!("s.oid", "pg_statistic_ext"),
            "
WHERE ",
            user_relation!("c", "cn")
        ),
    )],
};
