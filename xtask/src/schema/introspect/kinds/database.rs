//! Objects of the database as a whole: event triggers, default privileges, languages,
//! large objects, the database's own settings and grants, and grants on parameters.

use super::KindQuery;
use crate::schema::catalog::not_extension_member;
use crate::schema::model::ObjectKind;

pub(in crate::schema::introspect) const EVENT_TRIGGERS: KindQuery = KindQuery {
    kind: ObjectKind::EventTrigger,
    present: "EXISTS (SELECT 1 FROM pg_event_trigger)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(et.evtname) AS sql_name,
       et.evtevent::text AS event,
       (SELECT string_agg(t, ', ' ORDER BY t) FROM unnest(et.evttags) t) AS tags,
       ",
            function_ref!("et.evtfoid"),
            " AS function,
       CASE et.evtenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
                         WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END AS enabled,
       ",
            owner!("et.evtowner"),
            ",
       ds.description AS comment
FROM pg_event_trigger et",
            comment_join!("et.oid", "pg_event_trigger"),
            "
WHERE ",
            not_extension_member!("pg_event_trigger", "et.oid")
        ),
    )],
};

/// `ALTER DEFAULT PRIVILEGES`, named as the statement reads: `on tables for role app in
/// schema auth`. The catalog keeps only entries that differ from the built-in defaults.
pub(in crate::schema::introspect) const DEFAULT_PRIVILEGES: KindQuery = KindQuery {
    kind: ObjectKind::DefaultPrivileges,
    present: "EXISTS (SELECT 1 FROM pg_default_acl)",
    queries: &[(
        0,
        "
SELECT 'on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                     WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                     WHEN 'n' THEN 'schemas' END
       || ' for role ' || quote_ident(pg_get_userbyid(d.defaclrole))
       || CASE WHEN d.defaclnamespace = 0 THEN ''
               ELSE ' in schema ' || quote_ident(n.nspname) END AS name,
       (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(d.defaclacl) a)::text AS acl
FROM pg_default_acl d
LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
    )],
};

/// Procedural languages that are not built in and not an extension's (`plpgsql` is one).
pub(in crate::schema::introspect) const LANGUAGES: KindQuery = KindQuery {
    kind: ObjectKind::Language,
    present: "EXISTS (SELECT 1 FROM pg_language WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(l.lanname) AS sql_name,
       l.lanpltrusted::text AS trusted,
       ",
            function_ref!("l.lanplcallfoid"),
            " AS handler,
       ",
            function_ref!("l.laninline"),
            " AS inline,
       ",
            function_ref!("l.lanvalidator"),
            " AS validator,
       ",
            owner!("l.lanowner"),
            ",
       ds.description AS comment,
       ",
            acl!("l.lanacl", "'l'", "l.lanowner"),
            " AS acl
FROM pg_language l",
            comment_join!("l.oid", "pg_language"),
            "
WHERE l.oid >= 16384 AND ",
            not_extension_member!("pg_language", "l.oid")
        ),
    )],
};

/// Large objects, named by their OID, which is how migrations and applications name them.
/// Their contents are data, not schema.
pub(in crate::schema::introspect) const LARGE_OBJECTS: KindQuery = KindQuery {
    kind: ObjectKind::LargeObject,
    present: "EXISTS (SELECT 1 FROM pg_largeobject_metadata)",
    queries: &[(
        0,
        concat!(
            "
SELECT m.oid::text AS name,
       ",
            owner!("m.lomowner"),
            ",
       ds.description AS comment,
       ",
            acl!("m.lomacl", "'L'", "m.lomowner"),
            " AS acl
FROM pg_largeobject_metadata m",
            comment_join!("m.oid", "pg_largeobject")
        ),
    )],
};

/// The database itself, whose name differs between the two sides and so is not compared:
/// its settings (`ALTER DATABASE ... SET`), those of roles in it (`ALTER ROLE ... IN
/// DATABASE ... SET`), its grants and comment. One object named `(current)`, present when
/// any of these is set.
pub(in crate::schema::introspect) const DATABASE: KindQuery = KindQuery {
    kind: ObjectKind::Database,
    present: "EXISTS (SELECT 1 FROM pg_database d
                      WHERE d.datname = current_database()
                        AND (d.datacl IS NOT NULL
                             OR EXISTS (SELECT 1 FROM pg_db_role_setting s
                                        WHERE s.setdatabase = d.oid)
                             OR EXISTS (SELECT 1 FROM pg_shdescription c
                                        WHERE c.objoid = d.oid
                                          AND c.classoid = 'pg_database'::regclass)))",
    queries: &[(
        0,
        concat!(
            "
SELECT * FROM (
SELECT '(current)' AS name,
       (SELECT string_agg(x, ', ' ORDER BY x) FROM pg_db_role_setting s, unnest(s.setconfig) x
        WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings,
       (SELECT string_agg(quote_ident(pg_get_userbyid(s.setrole)) || ': ' || x, ', '
                          ORDER BY pg_get_userbyid(s.setrole), x)
        FROM pg_db_role_setting s, unnest(s.setconfig) x
        WHERE s.setdatabase = d.oid AND s.setrole <> 0) AS role_settings,
       (SELECT c.description FROM pg_shdescription c
        WHERE c.objoid = d.oid AND c.classoid = 'pg_database'::regclass) AS comment,
       ",
            acl!("d.datacl", "'d'", "d.datdba"),
            " AS acl
FROM pg_database d
WHERE d.datname = current_database()) d
WHERE settings IS NOT NULL OR role_settings IS NOT NULL OR comment IS NOT NULL
   OR acl IS NOT NULL"
        ),
    )],
};

/// Grants on configuration parameters (`GRANT SET ON PARAMETER`), from PostgreSQL 15 on.
pub(in crate::schema::introspect) const PARAMETERS: KindQuery = KindQuery {
    kind: ObjectKind::Parameter,
    present: "EXISTS (SELECT 1 FROM pg_parameter_acl)",
    queries: &[(
        15,
        concat!(
            "
SELECT * FROM (
SELECT p.parname AS name, ",
            acl!("p.paracl", "'p'", "10"),
            " AS acl
FROM pg_parameter_acl p) p
WHERE acl IS NOT NULL"
        ),
    )],
};
