//! The object kinds that most databases have none of: rules, event triggers, range types,
//! default privileges, collations, casts, operators and their classes and families, text
//! search objects, statistics objects, publications and subscriptions, foreign data
//! wrappers, servers and user mappings, conversions, access methods, languages, large
//! objects, database-level settings and grants, and parameter grants.
//!
//! Their queries follow the rules of [`super::queries`]. What they add costs a typical
//! database one query: [`present_kinds`] asks whether each kind has any object at all, in
//! one `SELECT` of `EXISTS` tests, and only the kinds that have objects are read.
//!
//! Options that can hold secrets (those of servers and user mappings, a subscription's
//! connection string) never reach the model: a digest of each value stands in for it (see
//! [`redacted_options`]), so that a change is still seen but no report can print the value.

use anyhow::Context;
use postgres::Transaction;

use super::object_from_row;
use crate::pg::Capabilities;
use crate::schema::model::{ObjectKind, SchemaObject};

/// A function (an OID expression) as the model names functions: `name(argument types)`,
/// schema-qualified out of `public`.
macro_rules! function_ref {
    ($oid:literal) => {
        concat!(
            "(SELECT ",
            $crate::schema::catalog::display_name!("ref_fn.nspname", "ref_f.proname"),
            " || '(' || oidvectortypes(ref_f.proargtypes) || ')'
              FROM pg_proc ref_f JOIN pg_namespace ref_fn ON ref_fn.oid = ref_f.pronamespace
              WHERE ref_f.oid = ",
            $oid,
            ")"
        )
    };
}

/// The argument types of an operator (its left and right type OID expressions) as
/// `(left type, right type)`, `NONE` for the missing left of a prefix operator: what
/// follows an operator's name in the model, as argument types follow a function's.
macro_rules! operator_arguments {
    ($left:literal, $right:literal) => {
        concat!(
            "'(' || CASE WHEN ",
            $left,
            " = 0 THEN 'NONE' ELSE format_type(",
            $left,
            ", NULL) END || ', ' || format_type(",
            $right,
            ", NULL) || ')'"
        )
    };
}

/// An operator given by its OID expression, named as the model names operators:
/// `===(text, text)`, schema-qualified out of `public` (an operator's name is no identifier,
/// so it is never quoted).
macro_rules! operator_ref {
    ($oid:literal) => {
        concat!(
            "(SELECT CASE WHEN ref_on.nspname = 'public' THEN '' ELSE quote_ident(ref_on.nspname) || '.' END
                     || ref_o.oprname || ",
            operator_arguments!("ref_o.oprleft", "ref_o.oprright"),
            " FROM pg_operator ref_o JOIN pg_namespace ref_on ON ref_on.oid = ref_o.oprnamespace
              WHERE ref_o.oid = ",
            $oid,
            ")"
        )
    };
}

/// The owner (the role OID expression `$owner`) as an `owner` column: the role's name,
/// quoted, or NULL when it is the user reading the catalog, who replayed the migrations.
macro_rules! owner {
    ($owner:literal) => {
        concat!(
            "NULLIF(quote_ident(pg_get_userbyid(",
            $owner,
            ")), quote_ident(current_user)) AS owner"
        )
    };
}

/// Options (`key=value` text array) sorted, each value replaced by the first 16 hex digits
/// of its SHA-256: equal values still compare equal, and a changed one shows as changed,
/// but neither can be read back from a report.
macro_rules! redacted_options {
    ($options:literal) => {
        concat!(
            "(SELECT string_agg(split_part(o, '=', 1) || '=<redacted sha256:'
                    || left(encode(sha256(convert_to(substr(o, strpos(o, '=') + 1), 'UTF8')),
                                   'hex'), 16)
                    || '>', ', ' ORDER BY o)
              FROM unnest(",
            $options,
            ") o)"
        )
    };
}

// Declared after the macros above, which they use.
mod database;
mod foreign;
mod operators;
mod relations;
mod replication;
mod text_search;
mod types;

/// The first major release whose catalogs a kind's query reads, for each variant of it.
/// Columns that a release added are written `{{alias.column}}` instead, for
/// [`Capabilities::sql`]; variants are for tables and columns that have no stand-in.
type Variants = &'static [(u32, &'static str)];

/// One kind of object: how to tell whether a database has any, and how to read them all.
pub(super) struct KindQuery {
    pub kind: ObjectKind,
    /// A boolean SQL expression, true when the database has at least one object of the
    /// kind, ours or an extension's; cheap, as it runs on every introspection.
    present: &'static str,
    /// The kind's query for each major from which it applies, newest first; a server
    /// older than every variant has no such kind.
    queries: Variants,
}

impl KindQuery {
    fn query(&self, major: u32) -> Option<&'static str> {
        self.queries
            .iter()
            .find(|(since, _)| *since <= major)
            .map(|(_, sql)| *sql)
    }
}

/// Every kind this module reads, in the order of the model's kinds.
const KINDS: [KindQuery; 25] = [
    relations::RULES,
    database::EVENT_TRIGGERS,
    types::RANGE_TYPES,
    database::DEFAULT_PRIVILEGES,
    types::COLLATIONS,
    types::CASTS,
    operators::OPERATORS,
    operators::OPERATOR_CLASSES,
    operators::OPERATOR_FAMILIES,
    text_search::CONFIGURATIONS,
    text_search::DICTIONARIES,
    text_search::PARSERS,
    text_search::TEMPLATES,
    relations::STATISTICS,
    replication::PUBLICATIONS,
    replication::SUBSCRIPTIONS,
    foreign::WRAPPERS,
    foreign::SERVERS,
    foreign::USER_MAPPINGS,
    types::CONVERSIONS,
    types::ACCESS_METHODS,
    database::LANGUAGES,
    database::LARGE_OBJECTS,
    database::DATABASE,
    database::PARAMETERS,
];

/// The kinds, with their query for this server, that the database has objects of: one
/// query for all of them.
fn present_kinds(
    tx: &mut Transaction<'_>,
    capabilities: Capabilities,
) -> anyhow::Result<Vec<(ObjectKind, &'static str)>> {
    let candidates: Vec<(&KindQuery, &str)> = KINDS
        .iter()
        .filter_map(|k| Some((k, k.query(capabilities.major())?)))
        .collect();
    let tests: Vec<&str> = candidates.iter().map(|(k, _)| k.present).collect();
    let row = tx
        .query_one(&format!("SELECT {}", tests.join(",\n       ")), &[])
        .context("asking which kinds of object the database has")?;
    let mut present = Vec::new();
    for (i, (kind, sql)) in candidates.into_iter().enumerate() {
        let any: bool = row.try_get(i).context("a presence test must be boolean")?;
        if any {
            present.push((kind.kind, sql));
        }
    }
    Ok(present)
}

/// Reads the objects of every kind of this module that the database has.
pub(super) fn read(
    tx: &mut Transaction<'_>,
    capabilities: Capabilities,
    objects: &mut Vec<SchemaObject>,
) -> anyhow::Result<()> {
    for (kind, sql) in present_kinds(tx, capabilities)? {
        let rows = tx
            .query(&*capabilities.sql(sql)?, &[])
            .with_context(|| format!("listing the {kind} objects"))?;
        for row in &rows {
            objects
                .push(object_from_row(kind, row).with_context(|| format!("reading a {kind} row"))?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn every_query_names_only_columns_the_capability_table_knows() {
        for major in 14..=18 {
            let capabilities = Capabilities::of(major * 10000);
            for kind in &KINDS {
                if let Some(sql) = kind.query(major) {
                    let sql = capabilities.sql(sql).unwrap();
                    assert!(!sql.contains("{{"), "{}: {sql}", kind.kind);
                }
            }
        }
    }

    #[test]
    fn every_new_kind_has_one_query_and_the_newest_variant_comes_first() {
        for kind in &KINDS {
            assert_eq!(KINDS.iter().filter(|k| k.kind == kind.kind).count(), 1);
            assert!(
                kind.queries.windows(2).all(|w| w[0].0 > w[1].0),
                "{} variants out of order",
                kind.kind
            );
        }
        assert!(KINDS[24].query(14).is_none(), "parameter grants are 15+");
        assert!(KINDS[24].query(15).is_some());
    }
}
