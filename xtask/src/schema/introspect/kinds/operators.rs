//! Operators, operator classes and operator families. A family holds the operators and
//! support functions (those of its classes and those added with `ALTER OPERATOR FAMILY`),
//! so they are compared there, once.

use super::KindQuery;
use crate::schema::catalog::{display_name, not_extension_member, user_namespace};
use crate::schema::model::ObjectKind;

pub(in crate::schema::introspect) const OPERATORS: KindQuery = KindQuery {
    kind: ObjectKind::Operator,
    present: "EXISTS (SELECT 1 FROM pg_operator WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(n.nspname) AS sql_schema, o.oprname::text AS sql_name, ",
            operator_arguments!("o.oprleft", "o.oprright"),
            " AS sql_arguments,
       CASE WHEN o.oprcode <> 0 THEN ",
            function_ref!("o.oprcode"),
            " END AS function,
       format_type(o.oprresult, NULL) AS result,
       CASE WHEN o.oprcom <> 0 THEN ",
            operator_ref!("o.oprcom"),
            " END AS commutator,
       CASE WHEN o.oprnegate <> 0 THEN ",
            operator_ref!("o.oprnegate"),
            " END AS negator,
       CASE WHEN o.oprrest <> 0 THEN ",
            function_ref!("o.oprrest"),
            " END AS restrict,
       CASE WHEN o.oprjoin <> 0 THEN ",
            function_ref!("o.oprjoin"),
            " END AS \"join\",
       o.oprcanhash::text AS hashes,
       o.oprcanmerge::text AS merges,
       ",
            owner!("o.oprowner"),
            ",
       ds.description AS comment
FROM pg_operator o
JOIN pg_namespace n ON n.oid = o.oprnamespace",
            comment_join!("o.oid", "pg_operator"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_operator", "o.oid")
        ),
    )],
};

/// Operator classes, named `name USING method` as in `CREATE OPERATOR CLASS`.
pub(in crate::schema::introspect) const OPERATOR_CLASSES: KindQuery = KindQuery {
    kind: ObjectKind::OperatorClass,
    present: "EXISTS (SELECT 1 FROM pg_opclass WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "c.opcname"),
            ", ",
            display_name!("n.nspname", "c.opcname"),
            " || ' USING ' || quote_ident(am.amname) AS name,
       format_type(c.opcintype, NULL) AS type,
       c.opcdefault::text AS \"default\",
       ",
            display_name!("fn.nspname", "f.opfname"),
            " AS family,
       CASE WHEN c.opckeytype <> 0 THEN format_type(c.opckeytype, NULL) END AS storage,
       ",
            owner!("c.opcowner"),
            ",
       ds.description AS comment
FROM pg_opclass c
JOIN pg_namespace n ON n.oid = c.opcnamespace
JOIN pg_am am ON am.oid = c.opcmethod
JOIN pg_opfamily f ON f.oid = c.opcfamily
JOIN pg_namespace fn ON fn.oid = f.opfnamespace",
            comment_join!("c.oid", "pg_opclass"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_opclass", "c.oid")
        ),
    )],
};

/// Operator families with their members: `OPERATOR 1 <(integer, integer)` (with `FOR ORDER
/// BY` a sort family) and `FUNCTION 1 (integer, integer) btint4cmp(integer, integer)`, in
/// strategy or support number order.
pub(in crate::schema::introspect) const OPERATOR_FAMILIES: KindQuery = KindQuery {
    kind: ObjectKind::OperatorFamily,
    present: "EXISTS (SELECT 1 FROM pg_opfamily WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "f.opfname"),
            ", ",
            display_name!("n.nspname", "f.opfname"),
            " || ' USING ' || quote_ident(am.amname) AS name,
       (SELECT string_agg('OPERATOR ' || ao.amopstrategy || ' ' || ",
            operator_ref!("ao.amopopr"),
            "
                          || CASE WHEN ao.amoppurpose = 'o' THEN ' FOR ORDER BY ' || (
                                  SELECT ",
            display_name!("sn.nspname", "sf.opfname"),
            " FROM pg_opfamily sf
                                  JOIN pg_namespace sn ON sn.oid = sf.opfnamespace
                                  WHERE sf.oid = ao.amopsortfamily) ELSE '' END,
                          '; ' ORDER BY ao.amopstrategy, format_type(ao.amoplefttype, NULL),
                                        format_type(ao.amoprighttype, NULL))
        FROM pg_amop ao WHERE ao.amopfamily = f.oid) AS operators,
       (SELECT string_agg('FUNCTION ' || ap.amprocnum || ' ('
                          || format_type(ap.amproclefttype, NULL) || ', '
                          || format_type(ap.amprocrighttype, NULL) || ') ' || ",
            function_ref!("ap.amproc"),
            ",
                          '; ' ORDER BY ap.amprocnum, format_type(ap.amproclefttype, NULL),
                                        format_type(ap.amprocrighttype, NULL))
        FROM pg_amproc ap WHERE ap.amprocfamily = f.oid) AS functions,
       ",
            owner!("f.opfowner"),
            ",
       ds.description AS comment
FROM pg_opfamily f
JOIN pg_namespace n ON n.oid = f.opfnamespace
JOIN pg_am am ON am.oid = f.opfmethod",
            comment_join!("f.oid", "pg_opfamily"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_opfamily", "f.oid")
        ),
    )],
};
