//! Kinds that decide how values behave: range types, collations, casts, conversions and
//! access methods. Columns and indexes name these, so a redefinition under the same name
//! would otherwise go unseen.

use super::KindQuery;
use crate::schema::catalog::{display_name, not_extension_member, user_namespace};
use crate::schema::model::ObjectKind;

/// Range types with what makes one: subtype, its operator class and collation, the
/// canonical and subtype difference functions, and the multirange type that comes with it.
pub(in crate::schema::introspect) const RANGE_TYPES: KindQuery = KindQuery {
    kind: ObjectKind::RangeType,
    present: "EXISTS (SELECT 1 FROM pg_range WHERE rngtypid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "t.typname"),
            ",
       format_type(r.rngsubtype, NULL) AS subtype,
       ",
            display_name!("opn.nspname", "opc.opcname"),
            " AS subtype_opclass,
       CASE WHEN r.rngcollation <> 0 THEN r.rngcollation::regcollation::text END AS collation,
       CASE WHEN r.rngcanonical <> 0 THEN ",
            function_ref!("r.rngcanonical"),
            " END AS canonical,
       CASE WHEN r.rngsubdiff <> 0 THEN ",
            function_ref!("r.rngsubdiff"),
            " END AS subtype_diff,
       format_type(r.rngmultitypid, NULL) AS multirange,
       ",
            owner!("t.typowner"),
            ",
       ds.description AS comment,
       ",
            acl!("t.typacl", "'T'", "t.typowner"),
            " AS acl
FROM pg_range r
JOIN pg_type t ON t.oid = r.rngtypid
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_namespace opn ON opn.oid = opc.opcnamespace",
            comment_join!("t.oid", "pg_type"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_type", "t.oid")
        ),
    )],
};

/// Collations, given the catalog column that holds an ICU locale (`$locale`: none before
/// PostgreSQL 15, renamed in 17); ICU rules came in 16.
macro_rules! collations {
    ($locale:literal) => {
        concat!(
            "
SELECT ",
            object_name!("n", "c.collname"),
            ",
       CASE c.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin'
                           WHEN 'd' THEN 'default' END AS provider,
       c.collcollate AS lc_collate,
       c.collctype AS lc_ctype,
       ",
            $locale,
            "::text AS locale,
       {{c.collicurules}} AS icu_rules,
       c.collisdeterministic::text AS deterministic,
       CASE WHEN c.collencoding <> -1 THEN pg_encoding_to_char(c.collencoding)::text END
           AS encoding,
       c.collversion AS version,
       ",
            owner!("c.collowner"),
            ",
       ds.description AS comment
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace",
            comment_join!("c.oid", "pg_collation"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_collation", "c.oid")
        )
    };
}

/// The catalogs' collations (libc's and ICU's, which initdb imports) are left out with
/// their schema.
pub(in crate::schema::introspect) const COLLATIONS: KindQuery = KindQuery {
    kind: ObjectKind::Collation,
    present: "EXISTS (SELECT 1 FROM pg_collation WHERE oid >= 16384)",
    queries: &[
        (17, collations!("c.colllocale")),
        (15, collations!("c.colliculocale")),
        (0, collations!("NULL")),
    ],
};

/// Casts the migrations made (the built-in ones have OIDs below 16384), named as in
/// `CREATE CAST`: `(text AS mood)`.
pub(in crate::schema::introspect) const CASTS: KindQuery = KindQuery {
    kind: ObjectKind::Cast,
    present: "EXISTS (SELECT 1 FROM pg_cast WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT '(' || format_type(k.castsource, NULL) || ' AS ' || format_type(k.casttarget, NULL)
       || ')' AS name,
       CASE WHEN k.castfunc <> 0 THEN ",
            function_ref!("k.castfunc"),
            " END AS function,
       CASE k.castcontext WHEN 'e' THEN 'explicit' WHEN 'a' THEN 'assignment'
                          WHEN 'i' THEN 'implicit' END AS context,
       CASE k.castmethod WHEN 'f' THEN 'function' WHEN 'i' THEN 'inout'
                         WHEN 'b' THEN 'binary' END AS method,
       ds.description AS comment
FROM pg_cast k",
            comment_join!("k.oid", "pg_cast"),
            "
WHERE k.oid >= 16384 AND ",
            not_extension_member!("pg_cast", "k.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const CONVERSIONS: KindQuery = KindQuery {
    kind: ObjectKind::Conversion,
    present: "EXISTS (SELECT 1 FROM pg_conversion WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "c.conname"),
            ",
       pg_encoding_to_char(c.conforencoding)::text AS source,
       pg_encoding_to_char(c.contoencoding)::text AS destination,
       ",
            function_ref!("c.conproc"),
            " AS function,
       c.condefault::text AS \"default\",
       ",
            owner!("c.conowner"),
            ",
       ds.description AS comment
FROM pg_conversion c
JOIN pg_namespace n ON n.oid = c.connamespace",
            comment_join!("c.oid", "pg_conversion"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_conversion", "c.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const ACCESS_METHODS: KindQuery = KindQuery {
    kind: ObjectKind::AccessMethod,
    present: "EXISTS (SELECT 1 FROM pg_am WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(a.amname) AS sql_name,
       CASE a.amtype WHEN 'i' THEN 'index' WHEN 't' THEN 'table' END AS type,
       ",
            function_ref!("a.amhandler"),
            " AS handler,
       ds.description AS comment
FROM pg_am a",
            comment_join!("a.oid", "pg_am"),
            "
WHERE a.oid >= 16384 AND ",
            not_extension_member!("pg_am", "a.oid")
        ),
    )],
};
