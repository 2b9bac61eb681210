//! Introspection against a real server: pairs of small schemas that differ in one detail
//! must differ in exactly the expected property, and pairs written differently but equal
//! must give equal models.

use std::sync::Arc;
use std::time::Instant;

use postgres::Client;

use super::introspect;
use crate::pg::testing::scratch_client;
use crate::pg::{Capabilities, ScratchServer};
use crate::schema::diff::{Change, SchemaDiff, Side};
use crate::schema::model::Schema;

/// A fresh database on the tests' shared throwaway cluster.
pub(super) struct TestDatabase {
    client: Client,
    _server: Arc<ScratchServer>,
}

impl TestDatabase {
    pub(super) fn create() -> TestDatabase {
        let (client, server) = scratch_client("introspect");
        TestDatabase {
            client,
            _server: server,
        }
    }

    pub(super) fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// The schema the database has after running `sql`.
    pub(super) fn schema_after(sql: &str) -> Schema {
        let mut db = TestDatabase::create();
        db.client()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("setting up {sql}: {e:?}"));
        introspect(db.client()).expect("introspection")
    }
}

fn server_version_num(client: &mut Client) -> u32 {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .expect("server_version_num");
    row.get::<_, i32>(0).unsigned_abs()
}

/// The major of the tests' scratch server: what a test may use depends on it.
pub(super) fn scratch_major() -> u32 {
    server_version_num(TestDatabase::create().client()) / 10_000
}

/// A role made for one test. Roles belong to the whole cluster, so the guard keeps the
/// shared cluster alive while the test uses the role.
pub(super) struct TestRole {
    pub(super) name: String,
    _server: Arc<ScratchServer>,
}

impl TestRole {
    pub(super) fn create(purpose: &str) -> TestRole {
        let name = format!("xtask_introspect_{purpose}");
        let (mut client, server) = scratch_client("roles");
        client
            .batch_execute(&format!(
                "DO $$ BEGIN CREATE ROLE {name}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            ))
            .expect("creating a test role");
        TestRole {
            name,
            _server: server,
        }
    }
}

/// What differs between two models, as the comparison reports it: one line per object
/// only on one side (`+ column t.a` / `- column t.a`) or per differing property
/// (`column t.a: default`); column order aside.
pub(super) fn differences(a: &Schema, b: &Schema) -> Vec<String> {
    let mut found: Vec<String> = SchemaDiff::compare(a, b)
        .differences
        .into_iter()
        .filter_map(|d| match d.change {
            Change::OnlyIn {
                side: Side::Old, ..
            } => Some(format!("- {}", d.object)),
            Change::OnlyIn {
                side: Side::New, ..
            } => Some(format!("+ {}", d.object)),
            Change::Property { property, .. } => Some(format!("{}: {property}", d.object)),
            Change::ColumnOrder { .. } => None,
        })
        .collect();
    found.sort();
    found
}

/// Asserts that `common` followed by `a`, and `common` followed by `b`, give models that
/// differ in exactly `expected`.
#[track_caller]
pub(super) fn assert_differ(common: &str, a: &str, b: &str, expected: &[&str]) {
    let left = TestDatabase::schema_after(&format!("{common};\n{a}"));
    let right = TestDatabase::schema_after(&format!("{common};\n{b}"));
    assert_eq!(
        differences(&left, &right),
        expected,
        "\nleft: {left:#?}\nright: {right:#?}"
    );
}

/// Asserts that the two setups give equal models (the column order aside).
#[track_caller]
pub(super) fn assert_same(a: &str, b: &str) -> (Schema, Schema) {
    let left = TestDatabase::schema_after(a);
    let right = TestDatabase::schema_after(b);
    assert_eq!(left.objects, right.objects);
    (left, right)
}

const TABLE: &str = "CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text)";

/// Every kind of object, to check that each query runs and names things as the model says.
const EVERY_KIND: &str = "
CREATE EXTENSION pgcrypto;
CREATE SCHEMA auth;
COMMENT ON SCHEMA auth IS 'identities';
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE TYPE pair AS (x integer, y text COLLATE \"C\");
CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);
CREATE TABLE t (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    a integer DEFAULT 0 CHECK (a >= 0),
    b text COLLATE \"C\",
    c integer GENERATED ALWAYS AS (a * 2) STORED,
    m mood,
    p positive,
    r tsrange,
    owner uuid REFERENCES auth.users ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (a, b) INCLUDE (c),
    EXCLUDE USING gist (r WITH &&)
);
CREATE TABLE log (id serial, at timestamptz NOT NULL DEFAULT now(), t_id bigint)
    PARTITION BY RANGE (at);
CREATE TABLE log_2026 PARTITION OF log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX t_a_b ON t (b DESC, a) WHERE a > 0;
CREATE INDEX t_lower_b ON t (lower(b));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION add(x integer, y integer) RETURNS integer IMMUTABLE STRICT
    LANGUAGE sql AS 'SELECT x + y';
CREATE PROCEDURE noop(INOUT n integer) LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE total(integer) (SFUNC = add, STYPE = integer, INITCOND = '0');
CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW v AS SELECT id, a FROM t WHERE a > 1;
COMMENT ON COLUMN v.a IS 'the a';
CREATE MATERIALIZED VIEW mv AS SELECT a, count(*) AS n FROM t GROUP BY a WITH NO DATA;
CREATE UNIQUE INDEX mv_a ON mv (a);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY t_mine ON t FOR UPDATE USING (a > 0) WITH CHECK (a < 100);
CREATE SEQUENCE counter INCREMENT 5 START 10 CACHE 2 CYCLE;
";

#[test]
fn every_kind_is_read_and_named() {
    let schema = TestDatabase::schema_after(EVERY_KIND);
    let names: Vec<String> = schema.objects.keys().map(ToString::to_string).collect();
    for expected in [
        "extension pgcrypto",
        "extension plpgsql",
        "schema auth",
        "schema public",
        "enum mood",
        "domain positive",
        "constraint positive.positive_check",
        "type pair",
        "sequence counter",
        "sequence t_id_seq",
        "sequence log_id_seq",
        "table auth.users",
        "column auth.users.id",
        "constraint auth.users.users_pkey",
        "table t",
        "table log",
        "table log_2026",
        "column t.c",
        "constraint t.t_a_check",
        "constraint t.t_owner_fkey",
        "constraint t.t_r_excl",
        "constraint t.t_a_b_c_key",
        "index t_a_b",
        "index t_lower_b",
        "index mv_a",
        "function touch()",
        "function add(integer, integer)",
        "function noop(integer)",
        "function total(integer)",
        "trigger t.t_touch",
        "view v",
        "column v.a",
        "materialized view mv",
        "policy t.t_mine",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing: {names:#?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("function digest(") || n == "index t_pkey"),
        "extension members and constraint indexes are not objects: {names:#?}"
    );
    let property = |id: &str, key: &str| {
        let object = schema.objects.values().find(|o| o.id.to_string() == id);
        let object = object.unwrap_or_else(|| panic!("{id} missing"));
        object.properties.get(key).cloned()
    };
    assert_eq!(property("table t", "row_security").as_deref(), Some("true"));
    assert_eq!(
        property("table log", "partition_key").as_deref(),
        Some("RANGE (at)")
    );
    assert_eq!(
        property("table log_2026", "partition_of").as_deref(),
        Some("log")
    );
    assert_eq!(
        property("column t.id", "identity").as_deref(),
        Some("always")
    );
    assert_eq!(
        property("column t.c", "generated").as_deref(),
        Some("(a * 2)")
    );
    assert_eq!(property("column t.c", "default"), None);
    assert_eq!(
        property("column t.b", "collation").as_deref(),
        Some("\"C\"")
    );
    assert_eq!(property("column t.a", "options"), None);
    assert_eq!(
        property("sequence t_id_seq", "owned_by").as_deref(),
        Some("t.id")
    );
    assert_eq!(
        property("sequence log_id_seq", "owned_by").as_deref(),
        Some("log.id")
    );
    assert_eq!(
        property("enum mood", "labels").as_deref(),
        Some("{sad,ok,happy}")
    );
    assert_eq!(
        property("constraint t.t_owner_fkey", "definition").as_deref(),
        Some(
            "FOREIGN KEY (owner) REFERENCES auth.users(id) ON DELETE CASCADE \
             DEFERRABLE INITIALLY DEFERRED"
        )
    );
    assert_eq!(
        property("materialized view mv", "populated").as_deref(),
        Some("false")
    );
    assert_eq!(
        property("function total(integer)", "kind").as_deref(),
        Some("aggregate")
    );
    assert_eq!(
        schema.column_order["t"],
        ["id", "a", "b", "c", "m", "p", "r", "owner"]
    );
    assert!(!schema.column_order.contains_key("v"));
    println!("{schema:#?}");
}

#[test]
fn names_are_quoted_as_postgresql_quotes_them_and_never_meet() {
    let schema = TestDatabase::schema_after(
        "CREATE SCHEMA audit;
         CREATE SCHEMA \"Audit Log\";
         CREATE TABLE audit.thing (id integer);
         CREATE TABLE \"audit.thing\" (id integer);
         CREATE TABLE a (n integer);
         CREATE TABLE \"A\" (n integer, \"N\" integer, \"say \"\"hi\"\"\" integer);
         CREATE TABLE \"Audit Log\".\"my table\" (\"Col.x\" text CONSTRAINT \"Check me\" CHECK (true));
         CREATE INDEX \"Idx 1\" ON \"Audit Log\".\"my table\" (\"Col.x\");
         CREATE FUNCTION \"Audit Log\".\"Add\"(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
         CREATE TABLE \"user\" (id integer)",
    );
    let name = |display: &str| {
        schema
            .objects
            .values()
            .find(|o| o.id.to_string() == display)
            .unwrap_or_else(|| panic!("{display} missing: {:#?}", schema.objects.keys()))
    };
    for table in ["audit.thing", "\"audit.thing\"", "a", "\"A\"", "\"user\""] {
        assert_eq!(
            name(&format!("table {table}")).table.as_deref(),
            Some(table)
        );
    }
    name("column \"A\".\"N\"");
    name("column \"A\".n");
    name("column \"A\".\"say \"\"hi\"\"\"");
    name("schema \"Audit Log\"");
    name("index \"Audit Log\".\"Idx 1\"");
    assert_eq!(
        schema.column_order["\"A\""],
        ["n", "\"N\"", "\"say \"\"hi\"\"\""]
    );

    let column = name("column \"Audit Log\".\"my table\".\"Col.x\"");
    assert_eq!(column.sql.qualified(), "\"Audit Log\".\"my table\"");
    assert_eq!(column.sql.member.as_deref(), Some("\"Col.x\""));
    assert_eq!(column.table.as_deref(), Some("\"Audit Log\".\"my table\""));
    let constraint = name("constraint \"Audit Log\".\"my table\".\"Check me\"");
    assert_eq!(constraint.sql.member.as_deref(), Some("\"Check me\""));
    let function = name("function \"Audit Log\".\"Add\"(integer)");
    assert_eq!(function.sql.qualified(), "\"Audit Log\".\"Add\"(integer)");
    assert_eq!(name("table a").sql.qualified(), "public.a");
    assert_eq!(name("table \"user\"").sql.qualified(), "public.\"user\"");
    assert_eq!(
        name("schema \"Audit Log\"").sql.qualified(),
        "\"Audit Log\""
    );
}

#[test]
fn a_column_default() {
    assert_differ(
        "",
        "CREATE TABLE t (a integer DEFAULT 1)",
        "CREATE TABLE t (a integer DEFAULT 2)",
        &["column t.a: default"],
    );
}

#[test]
fn a_column_nullability() {
    assert_differ(
        "",
        "CREATE TABLE t (a integer)",
        "CREATE TABLE t (a integer NOT NULL)",
        &["column t.a: nullable"],
    );
}

/// PostgreSQL 18 keeps a NOT NULL column's constraint, whose name is compared, and which
/// keeps its name when the table is renamed; older servers keep no name, so the two
/// setups are the same there.
#[test]
fn a_not_null_constraint_name() {
    let on_18 = scratch_major() >= 18;
    assert_differ(
        "",
        "CREATE TABLE t (a integer NOT NULL)",
        "CREATE TABLE t (a integer CONSTRAINT a_required NOT NULL)",
        if on_18 {
            &["column t.a: not_null_constraint"]
        } else {
            &[]
        },
    );
    assert_differ(
        "",
        "CREATE TABLE job (id integer NOT NULL); ALTER TABLE job RENAME TO task",
        "CREATE TABLE task (id integer NOT NULL)",
        if on_18 {
            &["column task.id: not_null_constraint"]
        } else {
            &[]
        },
    );
}

#[test]
fn a_not_null_constraint_flag() {
    if scratch_major() < 18 {
        return;
    }
    assert_differ(
        "CREATE TABLE t (a integer)",
        "ALTER TABLE t ADD CONSTRAINT a_required NOT NULL a",
        "ALTER TABLE t ADD CONSTRAINT a_required NOT NULL a NO INHERIT",
        &["column t.a: not_null_constraint"],
    );
}

/// From PostgreSQL 18 on, a constraint may be NOT ENFORCED, which also leaves it
/// unvalidated.
#[test]
fn a_constraint_not_enforced() {
    if scratch_major() < 18 {
        return;
    }
    assert_differ(
        TABLE,
        "ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0)",
        "ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0) NOT ENFORCED",
        &[
            "constraint t.t_a_check: definition",
            "constraint t.t_a_check: enforced",
            "constraint t.t_a_check: validated",
        ],
    );
}

/// PostgreSQL 18's generated columns are virtual unless STORED.
#[test]
fn a_virtual_generated_column() {
    if scratch_major() < 18 {
        return;
    }
    assert_differ(
        "",
        "CREATE TABLE t (a integer, g integer GENERATED ALWAYS AS (a * 2) STORED)",
        "CREATE TABLE t (a integer, g integer GENERATED ALWAYS AS (a * 2))",
        &["column t.g: generated_kind"],
    );
    assert_differ(
        "",
        "CREATE TABLE t (a integer, g integer GENERATED ALWAYS AS (a * 2))",
        "CREATE TABLE t (a integer, g integer GENERATED ALWAYS AS (a * 3))",
        &["column t.g: generated"],
    );
}

#[test]
fn a_column_type_and_identity() {
    assert_differ(
        "",
        "CREATE TABLE t (a bigint GENERATED BY DEFAULT AS IDENTITY, b varchar(10))",
        "CREATE TABLE t (a bigint GENERATED ALWAYS AS IDENTITY, b varchar(20))",
        &["column t.a: identity", "column t.b: type"],
    );
}

#[test]
fn an_index_predicate() {
    assert_differ(
        TABLE,
        "CREATE INDEX t_a ON t (a) WHERE a > 0",
        "CREATE INDEX t_a ON t (a) WHERE a >= 0",
        &["index t_a: definition"],
    );
}

#[test]
fn an_index_column_order() {
    assert_differ(
        TABLE,
        "CREATE INDEX t_ab ON t (a, b)",
        "CREATE INDEX t_ab ON t (b, a)",
        &["index t_ab: definition"],
    );
}

#[test]
fn the_storage_parameters_of_a_primary_key() {
    assert_differ(
        "",
        "CREATE TABLE t (a integer PRIMARY KEY)",
        "CREATE TABLE t (a integer PRIMARY KEY WITH (fillfactor = 70))",
        &["constraint t.t_pkey: options"],
    );
}

#[test]
fn an_enum_label_order() {
    assert_differ(
        "",
        "CREATE TYPE mood AS ENUM ('sad', 'happy')",
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        &["enum mood: labels"],
    );
}

#[test]
fn a_check_expression() {
    assert_differ(
        "",
        "CREATE TABLE t (a integer CHECK (a > 0))",
        "CREATE TABLE t (a integer CHECK (a >= 0))",
        &["constraint t.t_a_check: definition"],
    );
}

#[test]
fn a_constraint_deferrability() {
    assert_differ(
        TABLE,
        "ALTER TABLE t ADD UNIQUE (a) DEFERRABLE",
        "ALTER TABLE t ADD UNIQUE (a) DEFERRABLE INITIALLY DEFERRED",
        &[
            "constraint t.t_a_key: deferred",
            "constraint t.t_a_key: definition",
        ],
    );
}

#[test]
fn a_foreign_key_action() {
    assert_differ(
        TABLE,
        "CREATE TABLE c (t_id bigint REFERENCES t ON DELETE CASCADE)",
        "CREATE TABLE c (t_id bigint REFERENCES t ON DELETE SET NULL)",
        &["constraint c.c_t_id_fkey: definition"],
    );
}

#[test]
fn an_exclusion_constraint() {
    assert_differ(
        "CREATE TABLE booking (room integer, during tsrange)",
        "ALTER TABLE booking ADD EXCLUDE USING gist (during WITH &&)",
        "",
        &["- constraint booking.booking_during_excl"],
    );
}

#[test]
fn a_sequence_increment() {
    assert_differ(
        "",
        "CREATE SEQUENCE s INCREMENT 1",
        "CREATE SEQUENCE s INCREMENT 2",
        &["sequence s: increment"],
    );
}

#[test]
fn a_sequence_owner() {
    assert_differ(
        "CREATE TABLE t (a integer); CREATE SEQUENCE s",
        "ALTER SEQUENCE s OWNED BY t.a",
        "",
        &["sequence s: owned_by"],
    );
}

/// The two ends of a function, to be given one body or one option each.
fn function(tail: &str) -> String {
    format!("CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql {tail}")
}

#[test]
fn a_function_body() {
    assert_differ(
        "",
        &function("AS 'SELECT x + 1'"),
        &function("AS 'SELECT x + 2'"),
        &["function f(integer): definition"],
    );
}

#[test]
fn a_function_volatility() {
    assert_differ(
        "",
        &function("STABLE AS 'SELECT x'"),
        &function("IMMUTABLE AS 'SELECT x'"),
        &["function f(integer): definition"],
    );
}

#[test]
fn a_function_set_option() {
    assert_differ(
        "",
        &function("SET search_path = public AS 'SELECT x'"),
        &function("AS 'SELECT x'"),
        &["function f(integer): definition"],
    );
}

const TRIGGER_FUNCTION: &str = "
CREATE TABLE t (a integer);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$";

#[test]
fn a_trigger_timing() {
    assert_differ(
        TRIGGER_FUNCTION,
        "CREATE TRIGGER tg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE TRIGGER tg AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()",
        &["trigger t.tg: definition"],
    );
}

#[test]
fn a_disabled_trigger() {
    assert_differ(
        &format!(
            "{TRIGGER_FUNCTION}; \
             CREATE TRIGGER tg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()"
        ),
        "ALTER TABLE t DISABLE TRIGGER tg",
        "",
        &["trigger t.tg: enabled"],
    );
}

#[test]
fn a_view_definition() {
    assert_differ(
        TABLE,
        "CREATE VIEW v AS SELECT id, a FROM t WHERE a > 1",
        "CREATE VIEW v AS SELECT id, a FROM t WHERE a > 2",
        &["view v: definition"],
    );
}

#[test]
fn a_materialized_view_definition() {
    assert_differ(
        TABLE,
        "CREATE MATERIALIZED VIEW mv AS SELECT a FROM t WHERE a > 1",
        "CREATE MATERIALIZED VIEW mv AS SELECT a FROM t WHERE a > 2",
        &["materialized view mv: definition"],
    );
}

#[test]
fn a_policy() {
    assert_differ(
        &format!("{TABLE}; ALTER TABLE t ENABLE ROW LEVEL SECURITY"),
        "CREATE POLICY p ON t USING (a > 0)",
        "CREATE POLICY p ON t USING (a > 1)",
        &["policy t.p: using"],
    );
}

#[test]
fn row_level_security() {
    assert_differ(
        TABLE,
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        "",
        &["table t: row_security"],
    );
}

#[test]
fn a_comment() {
    assert_differ(
        TABLE,
        "COMMENT ON COLUMN t.a IS 'the a'",
        "COMMENT ON COLUMN t.a IS 'the other a'",
        &["column t.a: comment"],
    );
}

#[test]
fn a_grant() {
    let role = TestRole::create("grant");
    assert_differ(
        TABLE,
        &format!("GRANT SELECT ON t TO {}", role.name),
        "",
        &["table t: acl"],
    );
    assert_differ(
        TABLE,
        &format!("GRANT UPDATE (a) ON t TO {}", role.name),
        "",
        &["column t.a: acl"],
    );
}

/// One object of every kind that has an owner.
const OWNED: &str = "CREATE SCHEMA s;
CREATE TABLE t (id integer PRIMARY KEY);
CREATE SEQUENCE q;
CREATE VIEW v AS SELECT id FROM t;
CREATE MATERIALIZED VIEW m AS SELECT id FROM t;
CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE total(integer) (SFUNC = int4pl, STYPE = integer);
CREATE TYPE e AS ENUM ('x');
CREATE DOMAIN d AS integer;
CREATE TYPE c AS (x integer)";

#[test]
fn owners_are_compared_by_role_name() {
    let role = TestRole::create("owner");
    let r = &role.name;
    assert_differ(
        OWNED,
        "",
        &format!(
            "ALTER SCHEMA s OWNER TO {r}; ALTER TABLE t OWNER TO {r}; \
             ALTER SEQUENCE q OWNER TO {r}; ALTER VIEW v OWNER TO {r}; \
             ALTER MATERIALIZED VIEW m OWNER TO {r}; ALTER FUNCTION f() OWNER TO {r}; \
             ALTER PROCEDURE p() OWNER TO {r}; ALTER AGGREGATE total(integer) OWNER TO {r}; \
             ALTER TYPE e OWNER TO {r}; ALTER DOMAIN d OWNER TO {r}; ALTER TYPE c OWNER TO {r}"
        ),
        &[
            "domain d: owner",
            "enum e: owner",
            "function f(): owner",
            "function p(): owner",
            "function total(integer): owner",
            "materialized view m: owner",
            "schema s: owner",
            "sequence q: owner",
            "table t: owner",
            "type c: owner",
            "view v: owner",
        ],
    );
}

#[test]
fn owned_by_the_replaying_user_says_nothing_of_owners() {
    let role = TestRole::create("owner_back");
    let (left, _) = assert_same(
        OWNED,
        &format!(
            "{OWNED}; ALTER TABLE t OWNER TO {r}; ALTER FUNCTION f() OWNER TO {r}; \
             ALTER TABLE t OWNER TO CURRENT_USER; ALTER FUNCTION f() OWNER TO CURRENT_USER",
            r = role.name
        ),
    );
    let owned: Vec<String> = left
        .objects
        .values()
        .filter(|o| o.properties.contains_key("owner"))
        .map(|o| o.id.to_string())
        .collect();
    assert!(owned.is_empty(), "{owned:?}");
}

#[test]
fn foreign_key_triggers_switched_off() {
    let common = "CREATE TABLE customer (id integer PRIMARY KEY);
                  CREATE TABLE order_line (id integer, customer integer REFERENCES customer)";
    assert_differ(
        common,
        "ALTER TABLE order_line DISABLE TRIGGER ALL",
        "",
        &["constraint order_line.order_line_customer_fkey: internal_triggers"],
    );
    assert_differ(
        common,
        "ALTER TABLE customer DISABLE TRIGGER ALL",
        "ALTER TABLE order_line DISABLE TRIGGER ALL",
        &["constraint order_line.order_line_customer_fkey: internal_triggers"],
    );
    assert_same(
        &format!("{common}; ALTER TABLE order_line DISABLE TRIGGER ALL; ALTER TABLE order_line ENABLE TRIGGER ALL"),
        common,
    );
    let schema = TestDatabase::schema_after(&format!(
        "{common}; ALTER TABLE order_line DISABLE TRIGGER ALL;
         CREATE TABLE k (n integer UNIQUE DEFERRABLE); ALTER TABLE k DISABLE TRIGGER ALL"
    ));
    let state = |name: &str| {
        schema
            .objects
            .values()
            .find(|o| o.id.to_string() == name)
            .and_then(|o| o.properties.get("internal_triggers").cloned())
    };
    assert_eq!(
        state("constraint order_line.order_line_customer_fkey").as_deref(),
        Some("order_line: disabled")
    );
    assert_eq!(
        state("constraint k.k_n_key").as_deref(),
        Some("k: disabled")
    );
}

#[test]
fn a_grant_on_an_extension_member_after_the_extension() {
    let common = "CREATE EXTENSION pgcrypto";
    assert_differ(
        common,
        "REVOKE EXECUTE ON FUNCTION digest(text, text) FROM PUBLIC",
        "",
        &["extension member pgcrypto: function digest(text,text): acl"],
    );
    // Revoked and granted again: the privileges the extension's script left.
    assert_same(
        common,
        &format!(
            "{common}; REVOKE EXECUTE ON FUNCTION digest(text, text) FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION digest(text, text) TO PUBLIC"
        ),
    );
}

#[test]
fn an_object_added_to_an_extension() {
    let common =
        "CREATE EXTENSION pgcrypto; CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'";
    assert_differ(
        common,
        "ALTER EXTENSION pgcrypto ADD FUNCTION f()",
        "",
        &[
            "+ function f()",
            "- extension member pgcrypto: function f()",
        ],
    );
    assert_differ(
        common,
        "ALTER EXTENSION pgcrypto DROP FUNCTION digest(text, text)",
        "",
        &[
            "+ extension member pgcrypto: function digest(text,text)",
            "- function digest(text, text)",
        ],
    );
    // An extension on one side only takes its members with it.
    let with = TestDatabase::schema_after(common);
    let without = TestDatabase::schema_after(
        "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
    );
    let diff = SchemaDiff::compare(&with, &without);
    assert_eq!(diff.differences.len(), 1, "{:#?}", diff.differences);
    let Change::OnlyIn { dependents, .. } = &diff.differences[0].change else {
        panic!("{:?}", diff.differences[0]);
    };
    assert!(dependents
        .iter()
        .any(|d| d.name == "pgcrypto: function digest(text,text)"));
}

const SUM: &str = "CREATE AGGREGATE s(integer) (SFUNC = int4pl, STYPE = integer";

#[test]
fn aggregate_options() {
    for (option, spelled) in [
        (
            ", MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = integer, MINITCOND = '0'",
            "MSFUNC = int4pl(integer,integer), MINVFUNC = int4mi(integer,integer), \
             MSTYPE = integer, MINITCOND = '0'",
        ),
        (", PARALLEL = SAFE", "PARALLEL = SAFE"),
        (", SSPACE = 100", "SSPACE = 100"),
        (
            ", FINALFUNC = int4abs, FINALFUNC_MODIFY = SHAREABLE",
            "FINALFUNC = int4abs(integer), FINALFUNC_MODIFY = SHAREABLE",
        ),
    ] {
        assert_differ(
            "",
            &format!("{SUM})"),
            &format!("{SUM}{option})"),
            &["function s(integer): definition"],
        );
        let schema = TestDatabase::schema_after(&format!("{SUM}{option})"));
        let definition = &schema.objects.values().find(|o| o.id.name == "s(integer)");
        let definition = &definition.unwrap().properties["definition"];
        assert!(definition.contains(spelled), "{definition}");
    }
    assert_differ(
        "",
        "CREATE AGGREGATE s(n integer) (SFUNC = int4pl, STYPE = integer)",
        &format!("{SUM})"),
        &["function s(integer): definition"],
    );
}

#[test]
fn an_index_statistics_target() {
    let common = format!("{TABLE}; CREATE INDEX t_lower_b ON t (lower(b))");
    assert_differ(
        &common,
        "ALTER INDEX t_lower_b ALTER COLUMN 1 SET STATISTICS 500",
        "",
        &["index t_lower_b: statistics"],
    );
    assert_same(
        &common,
        &format!(
            "{common}; ALTER INDEX t_lower_b ALTER COLUMN 1 SET STATISTICS 500;
             ALTER INDEX t_lower_b ALTER COLUMN 1 SET STATISTICS -1"
        ),
    );
}

#[test]
fn a_table_access_method_and_toast_parameters() {
    let heap2 = "CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler";
    assert_differ(
        heap2,
        &format!("{TABLE} USING heap2"),
        TABLE,
        &["table t: access_method"],
    );
    assert_differ(
        TABLE,
        "ALTER TABLE t SET (toast.autovacuum_enabled = false)",
        "ALTER TABLE t SET (autovacuum_enabled = false)",
        &["table t: options", "table t: toast_options"],
    );
    assert_same(
        &format!("{TABLE} WITH (toast.autovacuum_enabled = false)"),
        &format!("{TABLE}; ALTER TABLE t SET (toast.autovacuum_enabled = false)"),
    );
}

#[test]
fn a_tablespace() {
    let (mut client, _server) = scratch_client("tablespace");
    client
        .batch_execute("SET allow_in_place_tablespaces = on")
        .expect("allowing in-place tablespaces");
    client
        .batch_execute("CREATE TABLESPACE xtask_introspect_space LOCATION ''")
        .expect("creating a tablespace");
    let common = format!(
        "{TABLE}; CREATE INDEX t_a ON t (a);
         CREATE MATERIALIZED VIEW mv AS SELECT a FROM t"
    );
    assert_differ(
        &common,
        "ALTER TABLE t SET TABLESPACE xtask_introspect_space;
         ALTER INDEX t_a SET TABLESPACE xtask_introspect_space;
         ALTER MATERIALIZED VIEW mv SET TABLESPACE xtask_introspect_space",
        "",
        &[
            "index t_a: tablespace",
            "materialized view mv: tablespace",
            "table t: tablespace",
        ],
    );
    assert_same(
        &common,
        &format!(
            "{common}; ALTER TABLE t SET TABLESPACE xtask_introspect_space;
             ALTER TABLE t SET TABLESPACE pg_default"
        ),
    );
}

#[test]
fn a_replica_identity_index_and_a_materialized_view_clustered_on() {
    let common = "CREATE TABLE t (a integer NOT NULL UNIQUE, b integer NOT NULL UNIQUE);
                  CREATE MATERIALIZED VIEW mv AS SELECT a, b FROM t;
                  CREATE INDEX mv_a ON mv (a); CREATE INDEX mv_b ON mv (b)";
    assert_differ(
        common,
        "ALTER TABLE t REPLICA IDENTITY USING INDEX t_a_key; CLUSTER mv USING mv_a",
        "ALTER TABLE t REPLICA IDENTITY USING INDEX t_b_key; CLUSTER mv USING mv_b",
        &[
            "materialized view mv: clustered_on",
            "table t: replica_identity",
        ],
    );
    assert_same(
        &format!("{common}; CLUSTER mv USING mv_a"),
        &format!("{common}; ALTER MATERIALIZED VIEW mv CLUSTER ON mv_a"),
    );
}

/// Sequences can be unlogged from PostgreSQL 15 on.
#[test]
fn an_unlogged_sequence() {
    if scratch_major() < 15 {
        return;
    }
    assert_differ(
        "",
        "CREATE UNLOGGED SEQUENCE q",
        "CREATE SEQUENCE q",
        &["sequence q: persistence"],
    );
    assert_same(
        "CREATE UNLOGGED SEQUENCE q",
        "CREATE SEQUENCE q; ALTER SEQUENCE q SET UNLOGGED",
    );
}

#[test]
fn a_comment_on_a_composite_type_attribute() {
    let common = "CREATE TYPE pair AS (x integer, y text)";
    assert_differ(
        common,
        "COMMENT ON COLUMN pair.x IS 'the x'",
        "COMMENT ON COLUMN pair.x IS 'the y'",
        &["type pair: attribute_comments"],
    );
}

#[test]
fn a_column_defined_locally_as_well_as_inherited() {
    let common = "CREATE TABLE parent (a integer)";
    assert_differ(
        common,
        "CREATE TABLE child (a integer, b integer) INHERITS (parent)",
        "CREATE TABLE child (b integer) INHERITS (parent)",
        &["column child.a: inheritance"],
    );
    assert_same(
        &format!("{common}; CREATE TABLE child (a integer, b integer) INHERITS (parent)"),
        &format!(
            "{common}; CREATE TABLE child (a integer, b integer); ALTER TABLE child INHERIT parent"
        ),
    );
    let checked = "CREATE TABLE parent (a integer CONSTRAINT a_positive CHECK (a > 0))";
    assert_differ(
        checked,
        "CREATE TABLE child (a integer CONSTRAINT a_positive CHECK (a > 0)) INHERITS (parent)",
        "CREATE TABLE child () INHERITS (parent)",
        &[
            "column child.a: inheritance",
            "constraint child.a_positive: inheritance",
        ],
    );
    // A partition's columns are its parent's however it became one.
    let log = "CREATE TABLE log (at date) PARTITION BY RANGE (at)";
    assert_same(
        &format!("{log}; CREATE TABLE log_1 PARTITION OF log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
        &format!("{log}; CREATE TABLE log_1 (at date);
                  ALTER TABLE log ATTACH PARTITION log_1 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"),
    );
}

#[test]
fn an_extension() {
    assert_differ(
        "",
        "CREATE EXTENSION pgcrypto",
        "",
        &["- extension pgcrypto"],
    );
}

#[test]
fn a_domain_constraint() {
    assert_differ(
        "",
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
        "CREATE DOMAIN positive AS integer CHECK (VALUE >= 0)",
        &["constraint positive.positive_check: definition"],
    );
}

#[test]
fn a_composite_type_attribute() {
    assert_differ(
        "",
        "CREATE TYPE pair AS (x integer, y text)",
        "CREATE TYPE pair AS (y text, x integer)",
        &["type pair: attributes"],
    );
}

#[test]
fn a_partition_bound() {
    assert_differ(
        "CREATE TABLE log (at date) PARTITION BY RANGE (at)",
        "CREATE TABLE log_a PARTITION OF log FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "CREATE TABLE log_a PARTITION OF log FOR VALUES FROM ('2026-01-01') TO ('2026-07-01')",
        &["table log_a: partition_bound"],
    );
}

#[test]
fn the_parents_a_table_inherits_from_in_their_order() {
    assert_differ(
        "CREATE TABLE a (x integer); CREATE TABLE b (x integer)",
        "CREATE TABLE c () INHERITS (a, b)",
        "CREATE TABLE c () INHERITS (b, a)",
        &["table c: inherits"],
    );
}

#[test]
fn the_index_a_table_is_clustered_on() {
    assert_differ(
        "CREATE TABLE t (a integer, b integer); CREATE INDEX t_a ON t (a); \
         CREATE INDEX t_b ON t (b)",
        "CLUSTER t USING t_a",
        "CLUSTER t USING t_b",
        &["table t: clustered_on"],
    );
}

#[test]
fn a_column_added_then_dropped_changes_only_the_order() {
    let (left, right) = assert_same(
        "CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text DEFAULT 'x')",
        "CREATE TABLE t (id bigint PRIMARY KEY, gone integer, b text);
         ALTER TABLE t ADD COLUMN a integer;
         ALTER TABLE t DROP COLUMN gone;
         ALTER TABLE t ALTER COLUMN b SET DEFAULT 'x';",
    );
    assert_eq!(left.column_order["t"], ["id", "a", "b"]);
    assert_eq!(right.column_order["t"], ["id", "b", "a"]);
}

#[test]
fn inline_and_added_constraints_are_equal() {
    assert_same(
        "CREATE TABLE p (id integer PRIMARY KEY);
         CREATE TABLE t (id integer PRIMARY KEY, p_id integer REFERENCES p ON DELETE CASCADE,
                         a integer CHECK (a > 0), UNIQUE (a));",
        "CREATE TABLE p (id integer);
         CREATE TABLE t (id integer, p_id integer, a integer);
         ALTER TABLE p ADD PRIMARY KEY (id);
         ALTER TABLE t ADD PRIMARY KEY (id);
         ALTER TABLE t ADD CHECK (a > 0);
         CREATE UNIQUE INDEX t_a_key ON t (a);
         ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE USING INDEX t_a_key;
         ALTER TABLE t ADD FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE;",
    );
}

#[test]
fn spellings_of_the_same_types_are_equal() {
    assert_same(
        "CREATE TABLE t (id serial, a int, b int8, c varchar(5), d timestamptz, e bool)",
        "CREATE SEQUENCE t_id_seq AS integer;
         CREATE TABLE t (id integer NOT NULL DEFAULT nextval('t_id_seq'), a integer,
                         b bigint, c character varying(5), d timestamp with time zone,
                         e boolean);
         ALTER SEQUENCE t_id_seq OWNED BY t.id;",
    );
}

#[test]
fn creation_order_does_not_matter() {
    assert_same(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE a (id integer PRIMARY KEY, m mood);
         CREATE TABLE b (id integer PRIMARY KEY, a_id integer REFERENCES a);
         CREATE INDEX b_a ON b (a_id);
         CREATE FUNCTION one() RETURNS integer LANGUAGE sql AS 'SELECT 1';
         CREATE VIEW v AS SELECT a.id FROM a JOIN b ON b.a_id = a.id;
         COMMENT ON TABLE a IS 'first';",
        "CREATE FUNCTION one() RETURNS integer LANGUAGE sql AS 'SELECT 1';
         CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE b (id integer PRIMARY KEY, a_id integer);
         CREATE INDEX b_a ON b (a_id);
         CREATE TABLE a (id integer PRIMARY KEY, m mood);
         COMMENT ON TABLE a IS 'first';
         ALTER TABLE b ADD FOREIGN KEY (a_id) REFERENCES a;
         CREATE VIEW v AS SELECT a.id FROM a JOIN b ON b.a_id = a.id;",
    );
}

#[test]
fn a_table_created_and_dropped_leaves_nothing() {
    assert_same(
        TABLE,
        &format!(
            "CREATE TABLE gone (id serial PRIMARY KEY, t_id bigint);
             CREATE INDEX gone_t ON gone (t_id);
             {TABLE};
             ALTER TABLE gone ADD FOREIGN KEY (t_id) REFERENCES t;
             DROP TABLE gone;"
        ),
    );
}

#[test]
fn grant_order_does_not_matter() {
    let reader = TestRole::create("reader");
    let writer = TestRole::create("writer");
    let (reader, writer) = (&reader.name, &writer.name);
    assert_same(
        &format!(
            "{TABLE};
             GRANT SELECT, INSERT ON t TO {writer};
             GRANT SELECT ON t TO {reader};"
        ),
        &format!(
            "{TABLE};
             GRANT SELECT ON t TO {reader};
             GRANT INSERT ON t TO {writer};
             GRANT SELECT ON t TO {writer};
             GRANT UPDATE ON t TO {reader};
             REVOKE UPDATE ON t FROM {reader};"
        ),
    );
}

#[test]
fn revoked_grants_are_the_defaults_again() {
    let role = TestRole::create("revoked");
    assert_same(
        TABLE,
        &format!(
            "{TABLE}; GRANT SELECT ON t TO {0}; REVOKE SELECT ON t FROM {0};",
            role.name
        ),
    );
}

#[test]
fn sequence_positions_and_rows_are_not_schema() {
    assert_same(
        "CREATE TABLE t (id serial PRIMARY KEY, a integer)",
        "CREATE TABLE t (id serial PRIMARY KEY, a integer);
         INSERT INTO t (a) SELECT generate_series(1, 10);
         TRUNCATE t;",
    );
}

#[test]
fn the_callers_session_settings_do_not_matter() {
    let sql = "CREATE SCHEMA auth;
               CREATE TABLE auth.users (id integer PRIMARY KEY);
               CREATE TABLE t (user_id integer REFERENCES auth.users,
                               at timestamptz DEFAULT '2026-02-04 12:00+00',
                               d date DEFAULT '2026-02-04', x float8 DEFAULT 0.1)";
    let plain = TestDatabase::schema_after(sql);
    let mut db = TestDatabase::create();
    db.client().batch_execute(sql).expect("setup");
    db.client()
        .batch_execute(
            "SET search_path = auth, public; SET DateStyle = 'SQL, DMY';
             SET TimeZone = 'America/New_York'; SET extra_float_digits = 3;
             SET quote_all_identifiers = on",
        )
        .expect("session settings");
    let odd = introspect(db.client()).expect("introspection");
    assert_eq!(plain.objects, odd.objects);
}

#[test]
fn the_sqlx_bookkeeping_table_is_left_out() {
    assert_same(
        "",
        "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL,
             installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL,
             checksum bytea NOT NULL, execution_time bigint NOT NULL)",
    );
}

#[test]
fn twenty_tables_take_a_handful_of_queries() {
    let mut sql = String::from(
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN RETURN NEW; END $$;",
    );
    for i in 0..20 {
        let parent = if i == 0 {
            "NULL".to_owned()
        } else {
            format!("t{}", i - 1)
        };
        let reference = if i == 0 {
            String::new()
        } else {
            format!("REFERENCES {parent} ON DELETE CASCADE")
        };
        sql.push_str(&format!(
            "CREATE TABLE t{i} (
                 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 ref text NOT NULL UNIQUE CHECK (ref ~ '^[a-z]+$'),
                 parent_id bigint {reference},
                 label text DEFAULT 'x', config jsonb NOT NULL DEFAULT '{{}}',
                 created timestamptz NOT NULL DEFAULT now());
             CREATE INDEX t{i}_parent ON t{i} (parent_id) WHERE parent_id IS NOT NULL;
             CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i}
                 FOR EACH ROW EXECUTE FUNCTION touch();
             COMMENT ON TABLE t{i} IS 'table {i}';"
        ));
    }
    let mut db = TestDatabase::create();
    db.client().batch_execute(&sql).expect("setup");
    let started = Instant::now();
    let schema = introspect(db.client()).expect("introspection");
    let elapsed = started.elapsed();
    println!(
        "introspected {} objects of 20 tables in {elapsed:?}",
        schema.objects.len()
    );
    assert_eq!(schema.column_order.len(), 20);
}

/// Indexes over every column option `pg_get_indexdef` prints, over a plain column and over
/// a function call, partial or not; and indexes that only it prints: several columns, an
/// operator class that is a default through binary coercion or for a domain, expressions
/// other than plain calls, storage parameters, uniqueness.
const INDEX_VARIETY: &str = r#"
CREATE SCHEMA other;
CREATE TYPE mood AS ENUM ('sad', 'glad');
CREATE DOMAIN short_text AS text;
CREATE FUNCTION as_short(text) RETURNS short_text IMMUTABLE LANGUAGE plpgsql
    AS 'BEGIN RETURN $1; END';
CREATE TABLE t (a int, b text, c varchar(10), d text COLLATE "C", e int[], f mood,
                g short_text, "Mixed Case" int, h jsonb, r int4range, ts timestamptz);
CREATE TABLE other.u (a int);
CREATE OPERATOR CLASS other.int4_copy_ops FOR TYPE int4 USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 btint4cmp(int4, int4);
CREATE INDEX t_a ON t (a);
CREATE INDEX t_a_desc ON t (a DESC);
CREATE INDEX t_a_desc_nulls_last ON t (a DESC NULLS LAST);
CREATE INDEX t_a_nulls_first ON t (a NULLS FIRST);
CREATE INDEX t_b_collate ON t (b COLLATE "C");
CREATE INDEX t_d_collate ON t (d COLLATE "default");
CREATE INDEX t_b_pattern ON t (b text_pattern_ops);
CREATE INDEX t_mixed ON t ("Mixed Case");
CREATE INDEX "T Quoted" ON t (a);
CREATE INDEX t_h ON t USING gin (h);
CREATE INDEX t_h_path ON t USING gin (h jsonb_path_ops);
CREATE INDEX t_a_hash ON t USING hash (a);
CREATE INDEX t_a_brin ON t USING brin (a);
CREATE INDEX t_a_other_ops ON t (a other.int4_copy_ops);
CREATE INDEX u_a ON other.u (a);
CREATE INDEX t_ab ON t (a, b DESC);
CREATE INDEX t_a_include ON t (a) INCLUDE (b);
CREATE INDEX t_c_varchar ON t (c);
CREATE INDEX t_e_array ON t USING gin (e);
CREATE INDEX t_f_enum ON t (f);
CREATE INDEX t_g_domain ON t (g);
CREATE INDEX t_r_range ON t USING gist (r);
CREATE UNIQUE INDEX t_a_unique ON t (a);
CREATE INDEX t_a_partial ON t (a) WHERE a > 0;
CREATE INDEX t_b_lower ON t (lower(b));
CREATE INDEX t_a_fillfactor ON t (a) WITH (fillfactor = 70);
CREATE INDEX t_b_lower_pattern ON t (lower(b) text_pattern_ops);
CREATE INDEX t_b_lower_collate ON t (lower(b) COLLATE "C");
CREATE INDEX t_b_lower_desc ON t (lower(b) DESC NULLS LAST);
CREATE INDEX t_b_lower_partial ON t (lower(b)) WHERE a > 0 AND b <> '';
CREATE INDEX t_c_upper ON t (upper(c));
CREATE INDEX t_d_lower ON t (lower(d));
CREATE INDEX t_h_gin ON t USING gin (jsonb_strip_nulls(h) jsonb_path_ops);
CREATE INDEX t_b_short ON t (as_short(b));
CREATE INDEX t_a_cast ON t ((a::text));
CREATE INDEX t_a_coalesce ON t (coalesce(a, 0));
CREATE INDEX t_ts_extract ON t (extract(year FROM ts AT TIME ZONE 'UTC'));
CREATE INDEX t_ts_zone ON t ((ts AT TIME ZONE 'UTC'));
CREATE INDEX t_b_lower_a ON t (lower(b), a);
CREATE UNIQUE INDEX t_b_lower_unique ON t (lower(b));
"#;

/// Sets up `setup` in a fresh database, runs `query` (name, namespace, our spelling or
/// NULL, the server's printing) and asserts that every spelled definition is the printed
/// one. The names of the user objects (not the system catalogs') that were spelled,
/// sorted.
fn spelled_as_printed(setup: &str, query: &str) -> Vec<String> {
    let mut db = TestDatabase::create();
    db.client().batch_execute(setup).expect("setting up");
    let query = Capabilities::of(server_version_num(db.client()))
        .sql(query)
        .expect("the query's catalog columns")
        .into_owned();
    let mut tx = db.client().transaction().expect("a transaction");
    tx.batch_execute(crate::schema::catalog::SETTINGS)
        .expect("the introspection settings");
    let mut spelled = Vec::new();
    for row in tx.query(&query, &[]).expect("spelling and printing") {
        let (name, namespace, ours, printed): (String, String, Option<String>, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if let Some(ours) = ours {
            assert_eq!(ours, printed, "{namespace}.{name}");
            if !["pg_catalog", "information_schema"].contains(&namespace.as_str()) {
                spelled.push(name);
            }
        }
    }
    spelled.sort();
    spelled
}

#[test]
fn spelled_index_definitions_are_what_pg_get_indexdef_prints() {
    let spelled = spelled_as_printed(INDEX_VARIETY, super::queries::SPELLED_AND_PRINTED_INDEXES);
    assert_eq!(
        spelled,
        [
            "T Quoted",
            "t_a",
            "t_a_brin",
            "t_a_desc",
            "t_a_desc_nulls_last",
            "t_a_hash",
            "t_a_nulls_first",
            "t_a_other_ops",
            "t_a_partial",
            "t_b_collate",
            "t_b_lower",
            "t_b_lower_collate",
            "t_b_lower_desc",
            "t_b_lower_partial",
            "t_b_lower_pattern",
            "t_b_pattern",
            "t_c_upper",
            "t_d_collate",
            "t_d_lower",
            "t_h",
            "t_h_gin",
            "t_h_path",
            "t_mixed",
            "u_a",
        ]
    );
}

/// Constraints of each shape that `pg_get_constraintdef` prints, over quoted and plain
/// column names: the primary keys and unique constraints of one column that it spells, and
/// those it does not (several columns, INCLUDE columns); checks of tables and domains,
/// inherited or not, validated or not; foreign keys.
const CONSTRAINT_VARIETY: &str = r#"
CREATE SCHEMA other;
CREATE DOMAIN other.positive AS int CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE TABLE t (a int CONSTRAINT t_pkey PRIMARY KEY, b text CONSTRAINT t_b_key UNIQUE,
                "Mixed Case" int CONSTRAINT "T Quoted" UNIQUE /* NULLS NOT DISTINCT */,
                c int, d int, e int CHECK (e > 0),
                CONSTRAINT t_c_deferrable UNIQUE (c) DEFERRABLE,
                CONSTRAINT t_d_deferred UNIQUE (d) DEFERRABLE INITIALLY DEFERRED,
                CONSTRAINT t_cd UNIQUE (c, d),
                CONSTRAINT t_c_include UNIQUE (c) INCLUDE (d),
                CONSTRAINT t_e_fillfactor UNIQUE (e) WITH (fillfactor = 70));
CREATE TABLE other.u (id int PRIMARY KEY, a int REFERENCES t (a),
                      b text CONSTRAINT u_b_check CHECK (b <> '' AND length(b) < 10),
                      c int CONSTRAINT u_c_check CHECK (c > 0) NO INHERIT);
ALTER TABLE other.u ADD CONSTRAINT u_id_check CHECK (id % 2 = 0) NOT VALID;
"#;

/// What PostgreSQL 18 adds to [`CONSTRAINT_VARIETY`]: a NOT ENFORCED check, and NOT NULL
/// constraints, which are not spelled (they are not constraint objects but column
/// properties).
const CONSTRAINT_VARIETY_18: &str = r#"
ALTER TABLE other.u ADD CONSTRAINT u_c_not_enforced CHECK (c < 100) NOT ENFORCED,
                    ADD CONSTRAINT u_b_not_null NOT NULL b NO INHERIT;
"#;

#[test]
fn spelled_constraint_definitions_are_what_pg_get_constraintdef_prints() {
    let major = scratch_major();
    let mut setup = CONSTRAINT_VARIETY.to_owned();
    if major >= 15 {
        setup = setup.replace("/* NULLS NOT DISTINCT */", "NULLS NOT DISTINCT");
    }
    if major >= 18 {
        setup.push_str(CONSTRAINT_VARIETY_18);
    }
    let spelled = spelled_as_printed(&setup, super::queries::SPELLED_AND_PRINTED_CONSTRAINTS);
    let mut expected = vec![
        "T Quoted",
        "positive_check",
        "t_b_key",
        "t_c_deferrable",
        "t_d_deferred",
        "t_e_check",
        "t_e_fillfactor",
        "t_pkey",
        "u_b_check",
        "u_c_check",
        "u_id_check",
        "u_pkey",
    ];
    if major >= 18 {
        expected.insert(10, "u_c_not_enforced");
    }
    assert_eq!(spelled, expected);
}

#[test]
fn column_order_comes_from_positions_whatever_order_the_rows_came_in() {
    use crate::schema::model::{ObjectKind, SchemaObject};
    let mut schema = Schema::default();
    schema.insert(SchemaObject::new(ObjectKind::Table, "t", None));
    schema.insert(SchemaObject::new(ObjectKind::Table, "u", None));
    schema.insert(SchemaObject::new(ObjectKind::View, "v", None));
    let column = |table: &str, position: i16, name: &str| (table.into(), position, name.into());
    super::record_column_order(
        &mut schema,
        vec![
            column("u", 2, "b"),
            column("t", 3, "c"),
            column("v", 1, "x"),
            column("t", 1, "a"),
            column("u", 1, "a"),
            column("t", 2, "b"),
        ],
    );
    assert_eq!(schema.column_order["t"], ["a", "b", "c"]);
    assert_eq!(schema.column_order["u"], ["a", "b"]);
    assert!(!schema.column_order.contains_key("v"));
}
