//! Foreign data wrappers, servers and user mappings. The options of servers and user
//! mappings can hold credentials: their values are compared through a digest only.

use super::KindQuery;
use crate::schema::catalog::not_extension_member;
use crate::schema::model::ObjectKind;

pub(in crate::schema::introspect) const WRAPPERS: KindQuery = KindQuery {
    kind: ObjectKind::ForeignDataWrapper,
    present: "EXISTS (SELECT 1 FROM pg_foreign_data_wrapper)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(w.fdwname) AS sql_name,
       CASE WHEN w.fdwhandler <> 0 THEN ",
            function_ref!("w.fdwhandler"),
            " END AS handler,
       CASE WHEN w.fdwvalidator <> 0 THEN ",
            function_ref!("w.fdwvalidator"),
            " END AS validator,
       ",
            options!("w.fdwoptions"),
            " AS options,
       ",
            owner!("w.fdwowner"),
            ",
       ds.description AS comment,
       ",
            acl!("w.fdwacl", "'F'", "w.fdwowner"),
            " AS acl
FROM pg_foreign_data_wrapper w",
            comment_join!("w.oid", "pg_foreign_data_wrapper"),
            "
WHERE ",
            not_extension_member!("pg_foreign_data_wrapper", "w.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const SERVERS: KindQuery = KindQuery {
    kind: ObjectKind::ForeignServer,
    present: "EXISTS (SELECT 1 FROM pg_foreign_server)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(s.srvname) AS sql_name,
       quote_ident(w.fdwname) AS wrapper,
       s.srvtype AS type,
       s.srvversion AS version,
       ",
            redacted_options!("s.srvoptions"),
            " AS options,
       ",
            owner!("s.srvowner"),
            ",
       ds.description AS comment,
       ",
            acl!("s.srvacl", "'S'", "s.srvowner"),
            " AS acl
FROM pg_foreign_server s
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw",
            comment_join!("s.oid", "pg_foreign_server"),
            "
WHERE ",
            not_extension_member!("pg_foreign_server", "s.oid")
        ),
    )],
};

/// User mappings, named as in `CREATE USER MAPPING`: `for app server files`. Read through
/// `pg_user_mappings`, which shows the options only to those allowed to see them.
pub(in crate::schema::introspect) const USER_MAPPINGS: KindQuery = KindQuery {
    kind: ObjectKind::UserMapping,
    present: "EXISTS (SELECT 1 FROM pg_user_mapping)",
    queries: &[(
        0,
        concat!(
            "
SELECT 'for ' || quote_ident(u.usename) || ' server ' || quote_ident(u.srvname) AS name,
       ",
            redacted_options!("u.umoptions"),
            " AS options
FROM pg_user_mappings u"
        ),
    )],
};
