//! Logical replication: publications and subscriptions.

use super::KindQuery;
use crate::schema::catalog::display_name;
use crate::schema::model::ObjectKind;

/// Publications, given the expression for the schemas published whole (`pg_publication_namespace`,
/// from PostgreSQL 15 on; NULL before). Tables are listed as `t (a, b) WHERE (a > 0)`,
/// columns sorted by name, as their order in the list means nothing; column lists and row
/// filters came in 15 too.
macro_rules! publications {
    ($schemas:literal) => {
        concat!(
            "
SELECT quote_ident(p.pubname) AS sql_name,
       p.puballtables::text AS all_tables,
       concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END,
                 CASE WHEN p.pubupdate THEN 'update' END,
                 CASE WHEN p.pubdelete THEN 'delete' END,
                 CASE WHEN p.pubtruncate THEN 'truncate' END) AS publish,
       p.pubviaroot::text AS via_root,
       (SELECT string_agg(",
            display_name!("tn.nspname", "t.relname"),
            "
                          || coalesce(' (' || (
                                 SELECT string_agg(quote_ident(a.attname), ', '
                                                   ORDER BY a.attname)
                                 FROM pg_attribute a
                                 WHERE a.attrelid = pr.prrelid
                                   AND a.attnum = ANY ({{pr.prattrs}})) || ')', '')
                          || coalesce(' WHERE ' || pg_get_expr({{pr.prqual}}, pr.prrelid), ''),
                          '; ' ORDER BY ",
            display_name!("tn.nspname", "t.relname"),
            ")
        FROM pg_publication_rel pr
        JOIN pg_class t ON t.oid = pr.prrelid
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE pr.prpubid = p.oid) AS tables,
       ",
            $schemas,
            " AS schemas,
       ",
            owner!("p.pubowner"),
            ",
       ds.description AS comment
FROM pg_publication p",
            comment_join!("p.oid", "pg_publication")
        )
    };
}

pub(in crate::schema::introspect) const PUBLICATIONS: KindQuery = KindQuery {
    kind: ObjectKind::Publication,
    present: "EXISTS (SELECT 1 FROM pg_publication)",
    queries: &[
        (
            15,
            publications!(
                "(SELECT string_agg(quote_ident(sn.nspname), ', ' ORDER BY sn.nspname)
                   FROM pg_publication_namespace ps
                   JOIN pg_namespace sn ON sn.oid = ps.pnnspid
                   WHERE ps.pnpubid = p.oid)"
            ),
        ),
        (0, publications!("NULL")),
    ],
};

/// Subscriptions of this database. The connection string can hold a password: it is
/// replaced by a digest (see `redacted_options`). Only a superuser may read it; a
/// migration that creates a subscription runs as one.
pub(in crate::schema::introspect) const SUBSCRIPTIONS: KindQuery = KindQuery {
    kind: ObjectKind::Subscription,
    present: "EXISTS (SELECT 1 FROM pg_subscription
                      WHERE subdbid = (SELECT oid FROM pg_database
                                       WHERE datname = current_database()))",
    queries: &[(
        0,
        concat!(
            "
SELECT quote_ident(s.subname) AS sql_name,
       ",
            redacted_options!("ARRAY['connection=' || s.subconninfo]"),
            " AS connection,
       (SELECT string_agg(quote_ident(x), ', ' ORDER BY x) FROM unnest(s.subpublications) x)
           AS publications,
       s.subenabled::text AS enabled,
       s.subslotname::text AS slot_name,
       s.subsynccommit AS synchronous_commit,
       s.subbinary::text AS binary,
       s.substream::text AS streaming,
       {{s.subtwophasestate}}::text AS two_phase,
       {{s.subdisableonerr}}::text AS disable_on_error,
       ",
            owner!("s.subowner"),
            ",
       ds.description AS comment
FROM pg_subscription s",
            comment_join!("s.oid", "pg_subscription"),
            "
WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
    )],
};
