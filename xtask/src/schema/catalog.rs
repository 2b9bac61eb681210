//! What every catalog query shares, the schema introspection's and the data snapshot's: the
//! session settings they run under, how they name objects, and which objects are ours.
//!
//! The macros expand to SQL text (string literals, for `concat!`); their arguments are SQL
//! expressions or aliases given as literals.

/// Printed definitions and values depend on these: `search_path` decides which names are
/// qualified (`public` objects print bare, as the model names them; everything else
/// qualified, and `pg_catalog` is searched first implicitly so built-in types print bare);
/// the date, time zone and float settings decide how constants and values print; the
/// quoting settings decide how identifiers (`quote_ident`, `format('%I')`) and literals
/// print. JIT compilation is off: from a few thousand tables on, the planner costs a
/// catalog query above `jit_above_cost`, and compiling one costs more than running it.
/// `SET LOCAL` keeps the caller's session as it was.
pub const SETTINGS: &str = "\
    SET LOCAL jit = off;
    SET LOCAL search_path = public;
    SET LOCAL DateStyle = 'ISO, YMD';
    SET LOCAL IntervalStyle = 'postgres';
    SET LOCAL TimeZone = 'UTC';
    SET LOCAL extra_float_digits = 1;
    SET LOCAL bytea_output = 'hex';
    SET LOCAL lc_monetary = 'C';
    SET LOCAL standard_conforming_strings = on;
    SET LOCAL quote_all_identifiers = off;";

/// The display name of the object named `$name` in the namespace named `$schema`: each
/// part quoted as PostgreSQL quotes identifiers (`quote_ident`), the schema left out in
/// `public`: `pack`, `auth.users`, `"audit.thing"`, `audit."Thing"`. The model builds the
/// same name on the client from the quoted parts (see [`super::model::SqlName`]); this one
/// is for names held in properties and in the data comparison.
macro_rules! display_name {
    ($schema:literal, $name:literal) => {
        concat!(
            "(CASE WHEN ",
            $schema,
            " = 'public' THEN quote_ident(",
            $name,
            ") ELSE quote_ident(",
            $schema,
            ") || '.' || quote_ident(",
            $name,
            ") END)"
        )
    };
}
pub(crate) use display_name;

/// The namespace (a `pg_namespace` alias) is not a system one. `LIKE` rather than a regular
/// expression: in some plans the test runs once per row, not once per namespace.
macro_rules! user_namespace {
    ($n:literal) => {
        concat!(
            "(",
            $n,
            ".nspname NOT IN ('pg_catalog', 'information_schema') AND ",
            $n,
            ".nspname NOT LIKE 'pg\\_toast%' AND ",
            $n,
            ".nspname NOT LIKE 'pg\\_temp%')"
        )
    };
}
pub(crate) use user_namespace;

/// The object (the OID expression `$oid`, given in pieces, in the catalog `$catalog`) is
/// not part of an extension. An extension membership always refers to the extension;
/// saying so lets the server find the few memberships through `pg_depend_reference_index`
/// instead of scanning all of `pg_depend` in every query.
macro_rules! not_extension_member {
    ($catalog:literal, $($oid:literal),+) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '", $catalog,
            "'::regclass AND e.objid = ", $($oid,)+ " AND e.deptype = 'e'",
            " AND e.refclassid = 'pg_extension'::regclass)"
        )
    };
}
pub(crate) use not_extension_member;

/// The relation (a `pg_class` alias `$c` in the namespace alias `$n`) is ours: not in a
/// system namespace, not part of an extension, not the migration bookkeeping table.
macro_rules! user_relation {
    ($c:literal, $n:literal) => {
        concat!(
            "(",
            $crate::schema::catalog::user_namespace!($n),
            " AND ",
            $crate::schema::catalog::not_extension_member!("pg_class", $c, ".oid"),
            " AND ",
            $c,
            ".relname <> '_sqlx_migrations')"
        )
    };
}
pub(crate) use user_relation;
