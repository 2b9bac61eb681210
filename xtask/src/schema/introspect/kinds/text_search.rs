//! Text search configurations with their token mappings, dictionaries, parsers and
//! templates; those of the catalog (`english`, `simple`) are left out with their schema.

use super::KindQuery;
use crate::schema::catalog::{display_name, not_extension_member, user_namespace};
use crate::schema::model::ObjectKind;

/// Configurations with their parser and, per token type of the parser, the dictionaries
/// in the order they are consulted: `asciiword: english_stem; word: simple, english_stem`.
pub(in crate::schema::introspect) const CONFIGURATIONS: KindQuery = KindQuery {
    kind: ObjectKind::TextSearchConfiguration,
    present: "EXISTS (SELECT 1 FROM pg_ts_config WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "c.cfgname"),
            ",
       ",
            display_name!("pn.nspname", "p.prsname"),
            " AS parser,
       (SELECT string_agg(tt.alias || ': ' || m.dictionaries, '; ' ORDER BY tt.alias)
        FROM (SELECT m.maptokentype, string_agg(",
            display_name!("dn.nspname", "d.dictname"),
            ", ', ' ORDER BY m.mapseqno) AS dictionaries
              FROM pg_ts_config_map m
              JOIN pg_ts_dict d ON d.oid = m.mapdict
              JOIN pg_namespace dn ON dn.oid = d.dictnamespace
              WHERE m.mapcfg = c.oid
              GROUP BY m.maptokentype) m
        JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.maptokentype) AS mappings,
       ",
            owner!("c.cfgowner"),
            ",
       ds.description AS comment
FROM pg_ts_config c
JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser
JOIN pg_namespace pn ON pn.oid = p.prsnamespace",
            comment_join!("c.oid", "pg_ts_config"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_ts_config", "c.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const DICTIONARIES: KindQuery = KindQuery {
    kind: ObjectKind::TextSearchDictionary,
    present: "EXISTS (SELECT 1 FROM pg_ts_dict WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "d.dictname"),
            ",
       ",
            display_name!("tn.nspname", "t.tmplname"),
            " AS template,
       d.dictinitoption AS options,
       ",
            owner!("d.dictowner"),
            ",
       ds.description AS comment
FROM pg_ts_dict d
JOIN pg_namespace n ON n.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate
JOIN pg_namespace tn ON tn.oid = t.tmplnamespace",
            comment_join!("d.oid", "pg_ts_dict"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_ts_dict", "d.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const PARSERS: KindQuery = KindQuery {
    kind: ObjectKind::TextSearchParser,
    present: "EXISTS (SELECT 1 FROM pg_ts_parser WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "p.prsname"),
            ",
       ",
            function_ref!("p.prsstart"),
            " AS start,
       ",
            function_ref!("p.prstoken"),
            " AS gettoken,
       ",
            function_ref!("p.prsend"),
            " AS \"end\",
       ",
            function_ref!("p.prslextype"),
            " AS lextypes,
       CASE WHEN p.prsheadline <> 0 THEN ",
            function_ref!("p.prsheadline"),
            " END AS headline,
       ds.description AS comment
FROM pg_ts_parser p
JOIN pg_namespace n ON n.oid = p.prsnamespace",
            comment_join!("p.oid", "pg_ts_parser"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_ts_parser", "p.oid")
        ),
    )],
};

pub(in crate::schema::introspect) const TEMPLATES: KindQuery = KindQuery {
    kind: ObjectKind::TextSearchTemplate,
    present: "EXISTS (SELECT 1 FROM pg_ts_template WHERE oid >= 16384)",
    queries: &[(
        0,
        concat!(
            "
SELECT ",
            object_name!("n", "t.tmplname"),
            ",
       CASE WHEN t.tmplinit <> 0 THEN ",
            function_ref!("t.tmplinit"),
            " END AS init,
       ",
            function_ref!("t.tmpllexize"),
            " AS lexize,
       ds.description AS comment
FROM pg_ts_template t
JOIN pg_namespace n ON n.oid = t.tmplnamespace",
            comment_join!("t.oid", "pg_ts_template"),
            "
WHERE ",
            user_namespace!("n"),
            " AND ",
            not_extension_member!("pg_ts_template", "t.oid")
        ),
    )],
};
