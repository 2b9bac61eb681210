//! The kinds of this module against a real server: each is read and named, each property
//! that changes behaviour is reported on the object's name, and equivalent rewrites of the
//! same objects (another order, another spelling, dropped and created again, renamed to
//! their final name) compare equal.

use super::{present_kinds, KINDS};
use crate::pg::Capabilities;
use crate::pg::{ScratchServer, ServerOptions};
use crate::schema::diff::SchemaDiff;
use crate::schema::introspect::introspect;
use crate::schema::introspect::tests::{differences, scratch_major, TestDatabase, TestRole};
use crate::schema::model::ObjectKind;

/// Setup shared by both sides, the statements of one side, of the other, and what the
/// comparison must report (`{me}` stands for the user the tests connect as).
type Change = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// Two setups that must compare equal.
type Same = (&'static str, &'static str);

/// The user the scratch databases are made by, who owns what the tests create.
fn me() -> String {
    let mut db = TestDatabase::create();
    db.client()
        .query_one("SELECT current_user::text", &[])
        .expect("current_user")
        .get(0)
}

/// Runs every change and every equivalence, and fails once with all that went wrong.
#[track_caller]
fn check(changes: &[Change], same: &[Same]) {
    let me = me();
    let mut failures = Vec::new();
    for (common, a, b, expected) in changes {
        let left = TestDatabase::schema_after(&format!("{common};\n{a}"));
        let right = TestDatabase::schema_after(&format!("{common};\n{b}"));
        let expected: Vec<String> = expected.iter().map(|e| e.replace("{me}", &me)).collect();
        let found = differences(&left, &right);
        if found != expected {
            failures.push(format!(
                "{common}\n  {a}\n  {b}\nexpected {expected:#?}\nfound {found:#?}"
            ));
        }
    }
    for (a, b) in same {
        let found = differences(
            &TestDatabase::schema_after(a),
            &TestDatabase::schema_after(b),
        );
        if !found.is_empty() {
            failures.push(format!("{a}\n  and\n{b}\nmust be equal, found {found:#?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// One object of every kind this module reads, but parameter grants (cluster-wide, they
/// would show in every other test's databases on the shared cluster; see
/// [`grants_on_parameters`]).
const EVERY_KIND: &str = r#"
CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text);
CREATE VIEW v AS SELECT id, a FROM t;
CREATE RULE t_no_delete AS ON DELETE TO t DO INSTEAD NOTHING;
CREATE RULE v_insert AS ON INSERT TO v DO INSTEAD INSERT INTO t (id, a) VALUES (NEW.id, NEW.a);
CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER log_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION on_ddl();
CREATE FUNCTION time_diff(a time, b time) RETURNS float8 IMMUTABLE LANGUAGE sql
    AS 'SELECT extract(epoch FROM a - b)';
CREATE TYPE timerange AS RANGE (subtype = time, subtype_diff = time_diff);
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
CREATE SCHEMA auth;
ALTER DEFAULT PRIVILEGES IN SCHEMA auth GRANT USAGE ON SEQUENCES TO PUBLIC;
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION auth.posix_c (locale = 'C');
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE FUNCTION mood_of(text) RETURNS mood IMMUTABLE LANGUAGE sql AS 'SELECT $1::mood';
CREATE CAST (text AS mood) WITH FUNCTION mood_of(text) AS ASSIGNMENT;
CREATE FUNCTION ci_eq(text, text) RETURNS boolean IMMUTABLE LANGUAGE sql
    AS 'SELECT lower($1) = lower($2)';
CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq, COMMUTATOR = ===,
                     RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR CLASS int4_copy_ops FOR TYPE int4 USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 btint4cmp(int4, int4);
CREATE OPERATOR FAMILY auth.empty_ops USING hash;
CREATE TEXT SEARCH DICTIONARY simple_nostop (TEMPLATE = pg_catalog.simple, STOPWORDS = english);
CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default);
ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR asciiword, word WITH simple_nostop, simple;
CREATE TEXT SEARCH TEMPLATE my_simple (INIT = dsimple_init, LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH PARSER my_parser (START = prsd_start, GETTOKEN = prsd_nexttoken,
    END = prsd_end, LEXTYPES = prsd_lextype, HEADLINE = prsd_headline);
CREATE STATISTICS t_ab (ndistinct, dependencies) ON a, b FROM t;
ALTER STATISTICS t_ab SET STATISTICS 500;
CREATE PUBLICATION pub_all FOR ALL TABLES;
CREATE PUBLICATION pub_t FOR TABLE t (id, a) WHERE (a > 0) WITH (publish = 'insert, update');
CREATE SUBSCRIPTION sub CONNECTION 'host=localhost dbname=nowhere password=hunter2'
    PUBLICATION pub_t WITH (connect = false);
CREATE FOREIGN DATA WRAPPER w OPTIONS (debug 'true');
CREATE SERVER files FOREIGN DATA WRAPPER w OPTIONS (host 'remote', password 'sekrit');
CREATE USER MAPPING FOR PUBLIC SERVER files OPTIONS (user 'bob', password 'hunter2');
CREATE FUNCTION my_conv(integer, integer, cstring, internal, integer, boolean) RETURNS integer
    AS '$libdir/utf8_and_iso8859_1', 'utf8_to_iso8859_1' LANGUAGE c STRICT;
CREATE CONVERSION my_conv FOR 'UTF8' TO 'LATIN1' FROM my_conv;
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE FUNCTION plsample_call_handler() RETURNS language_handler
    AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
CREATE LANGUAGE plsample HANDLER plsample_call_handler;
SELECT lo_create(424242);
COMMENT ON LARGE OBJECT 424242 IS 'a blob';
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I SET work_mem = %L', current_database(), '8MB');
END $$;
"#;

/// [`EVERY_KIND`] as the scratch server's major can make it: publications have column lists
/// and row filters from PostgreSQL 15 on.
fn every_kind() -> String {
    match scratch_major() {
        15.. => EVERY_KIND.to_owned(),
        _ => EVERY_KIND.replace("FOR TABLE t (id, a) WHERE (a > 0)", "FOR TABLE t"),
    }
}

#[test]
fn every_kind_is_read_and_named() {
    let me = me();
    let major = scratch_major();
    let schema = TestDatabase::schema_after(&every_kind());
    let property = |id: &str, key: &str| {
        let object = schema.objects.values().find(|o| o.id.to_string() == id);
        let object = object.unwrap_or_else(|| panic!("{id} missing: {schema:#?}"));
        object.properties.get(key).cloned().unwrap_or_default()
    };
    for (id, key, value) in [
        ("rule t.t_no_delete", "enabled", "enabled"),
        ("rule v.v_insert", "enabled", "enabled"),
        ("event trigger log_ddl", "tags", "ALTER TABLE, CREATE TABLE"),
        ("event trigger log_ddl", "function", "on_ddl()"),
        ("range type timerange", "subtype", "time without time zone"),
        ("range type timerange", "multirange", "timemultirange"),
        (
            "range type timerange",
            "subtype_diff",
            "time_diff(time without time zone, time without time zone)",
        ),
        (
            &format!("default privileges on tables for role {me}"),
            "acl",
            // MAINTAIN (`m`) is a table privilege from PostgreSQL 17 on.
            &match major {
                17.. => format!("{{=r/{me},{me}=arwdDxtm/{me}}}"),
                _ => format!("{{=r/{me},{me}=arwdDxt/{me}}}"),
            },
        ),
        (
            &format!("default privileges on sequences for role {me} in schema auth"),
            "acl",
            &format!("{{=U/{me}}}"),
        ),
        ("collation ci", "deterministic", "false"),
        // Before PostgreSQL 15, an ICU collation's locale is its lc_collate.
        (
            "collation ci",
            if major >= 15 { "locale" } else { "lc_collate" },
            "und-u-ks-level2",
        ),
        ("collation auth.posix_c", "lc_collate", "C"),
        ("cast (text AS mood)", "context", "assignment"),
        ("operator ===(text, text)", "commutator", "===(text, text)"),
        ("operator ===(text, text)", "function", "ci_eq(text, text)"),
        (
            "operator class int4_copy_ops USING btree",
            "family",
            "int4_copy_ops",
        ),
        (
            "operator family int4_copy_ops USING btree",
            "functions",
            "FUNCTION 1 (integer, integer) pg_catalog.btint4cmp(integer, integer)",
        ),
        ("operator family auth.empty_ops USING hash", "operators", ""),
        (
            "text search configuration plain",
            "mappings",
            "asciiword: simple_nostop, pg_catalog.simple; word: simple_nostop, pg_catalog.simple",
        ),
        (
            "text search dictionary simple_nostop",
            "options",
            "stopwords = 'english'",
        ),
        (
            "text search parser my_parser",
            "start",
            "pg_catalog.prsd_start(internal, integer)",
        ),
        (
            "text search template my_simple",
            "init",
            "pg_catalog.dsimple_init(internal)",
        ),
        ("statistics t_ab", "statistics", "500"),
        ("publication pub_all", "all_tables", "true"),
        (
            "publication pub_t",
            "tables",
            if major >= 15 {
                "t (a, id) WHERE (a > 0)"
            } else {
                "t"
            },
        ),
        ("publication pub_t", "publish", "insert, update"),
        ("subscription sub", "publications", "pub_t"),
        ("foreign data wrapper w", "options", "debug=true"),
        ("server files", "wrapper", "w"),
        ("conversion my_conv", "destination", "LATIN1"),
        ("access method heap2", "type", "table"),
        ("language plsample", "handler", "plsample_call_handler()"),
        ("large object 424242", "comment", "a blob"),
        ("database (current)", "settings", "work_mem=8MB"),
    ] {
        assert_eq!(property(id, key), value, "{id}: {key}");
    }
    for id in [
        "subscription sub",
        "server files",
        "user mapping for public server files",
    ] {
        let options = property(id, "options") + &property(id, "connection");
        assert!(options.contains("=<redacted sha256:"), "{id}: {options}");
    }
    assert_no_secret(&format!("{schema:?}"));
}

/// The secrets of [`EVERY_KIND`] and of the tests below appear nowhere in `text`.
#[track_caller]
fn assert_no_secret(text: &str) {
    for secret in ["hunter2", "sekrit", "bob", "remote"] {
        assert!(!text.contains(secret), "{secret} printed in {text}");
    }
}

/// The kinds whose presence test says the database has some, on the scratch server.
fn present(setup: &str) -> Vec<ObjectKind> {
    let mut db = TestDatabase::create();
    db.client().batch_execute(setup).expect("setup");
    let mut tx = db.client().transaction().expect("a transaction");
    let kinds = present_kinds(&mut tx, Capabilities::of(scratch_major() * 10_000))
        .expect("the presence query");
    kinds.into_iter().map(|(kind, _)| kind).collect()
}

#[test]
fn only_the_kinds_a_database_has_are_read() {
    assert_eq!(present(""), []);
    assert_eq!(present("CREATE TABLE t (a integer)"), []);
    let every = present(&every_kind());
    let expected: Vec<ObjectKind> = KINDS
        .iter()
        .map(|k| k.kind)
        .filter(|&kind| kind != ObjectKind::Parameter)
        .collect();
    assert_eq!(every, expected);
}

#[test]
fn rules_and_event_triggers() {
    const T: &str = "CREATE TABLE t (id integer, a integer);
                     CREATE VIEW v AS SELECT id, a FROM t";
    const F: &str = "CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql
                         AS $$ BEGIN END $$;
                     CREATE FUNCTION g() RETURNS event_trigger LANGUAGE plpgsql
                         AS $$ BEGIN END $$";
    check(
        &[
            (
                T,
                "CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING",
                "CREATE RULE r AS ON DELETE TO t DO ALSO NOTHING",
                &["rule t.r: definition"],
            ),
            (
                T,
                "CREATE RULE r AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (NEW.id, NEW.a)",
                "CREATE RULE r AS ON INSERT TO v DO INSTEAD INSERT INTO t VALUES (NEW.id, 0)",
                &["rule v.r: definition"],
            ),
            (
                T,
                "CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING",
                "",
                &["- rule t.r"],
            ),
            (
                "CREATE TABLE t (id integer); CREATE RULE r AS ON DELETE TO t DO INSTEAD NOTHING",
                "ALTER TABLE t DISABLE RULE r",
                "COMMENT ON RULE r ON t IS 'keep rows'",
                &["rule t.r: comment", "rule t.r: enabled"],
            ),
            (
                F,
                "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f()",
                "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION g()",
                &["event trigger e: event", "event trigger e: function"],
            ),
            (
                F,
                "CREATE EVENT TRIGGER e ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
                     EXECUTE FUNCTION f()",
                "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION f();
                 ALTER EVENT TRIGGER e DISABLE",
                &["event trigger e: enabled", "event trigger e: tags"],
            ),
            (
                F,
                "CREATE EVENT TRIGGER e ON sql_drop EXECUTE FUNCTION f()",
                "",
                &["- event trigger e"],
            ),
        ],
        &[
            (
                "CREATE TABLE t (id integer, a integer);
                 CREATE RULE r AS ON UPDATE TO t DO INSTEAD NOTHING",
                "CREATE TABLE t (id integer);
                 CREATE RULE r0 AS ON UPDATE TO t DO ALSO NOTHING;
                 DROP RULE r0 ON t;
                 CREATE RULE r1 AS ON UPDATE TO t DO INSTEAD NOTHING;
                 ALTER RULE r1 ON t RENAME TO r;
                 ALTER TABLE t ADD COLUMN a integer",
            ),
            (
                "CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
                 CREATE EVENT TRIGGER e ON ddl_command_end
                     WHEN TAG IN ('CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION f()",
                "CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
                 CREATE EVENT TRIGGER e0 ON ddl_command_end
                     WHEN TAG IN ('drop table', 'create table') EXECUTE PROCEDURE f();
                 ALTER EVENT TRIGGER e0 DISABLE;
                 ALTER EVENT TRIGGER e0 ENABLE;
                 ALTER EVENT TRIGGER e0 RENAME TO e",
            ),
        ],
    );
}

#[test]
fn range_types() {
    const DIFF: &str = "CREATE FUNCTION time_diff(a time, b time) RETURNS float8 IMMUTABLE
                            LANGUAGE sql AS 'SELECT extract(epoch FROM a - b)'";
    check(
        &[
            (
                "",
                "CREATE TYPE r AS RANGE (subtype = text)",
                "CREATE TYPE r AS RANGE (subtype = text, subtype_opclass = text_pattern_ops)",
                &["range type r: subtype_opclass"],
            ),
            (
                "",
                "CREATE TYPE r AS RANGE (subtype = text)",
                "CREATE TYPE r AS RANGE (subtype = text, collation = \"C\")",
                &["range type r: collation"],
            ),
            (
                DIFF,
                "CREATE TYPE r AS RANGE (subtype = time, subtype_diff = time_diff)",
                "CREATE TYPE r AS RANGE (subtype = time)",
                &["range type r: subtype_diff"],
            ),
            (
                // A canonical function must take the range type before it exists: a shell
                // type, and an internal function declared over it.
                "CREATE TYPE r;
                 CREATE FUNCTION r_canonical(r) RETURNS r LANGUAGE internal IMMUTABLE STRICT
                     AS 'int4range_canonical'",
                "CREATE TYPE r AS RANGE (subtype = int4, canonical = r_canonical)",
                "CREATE TYPE r AS RANGE (subtype = int4)",
                &["range type r: canonical"],
            ),
            (
                "",
                "CREATE TYPE r AS RANGE (subtype = int4, multirange_type_name = r_many)",
                "CREATE TYPE r AS RANGE (subtype = int4)",
                &[
                    "+ cast (r AS r_multirange)",
                    "+ function r_multirange()",
                    "+ function r_multirange(r)",
                    "+ function r_multirange(r[])",
                    "- cast (r AS r_many)",
                    "- function r_many()",
                    "- function r_many(r)",
                    "- function r_many(r[])",
                    "range type r: multirange",
                ],
            ),
            (
                "",
                "CREATE TYPE r AS RANGE (subtype = int4); COMMENT ON TYPE r IS 'slots'",
                "CREATE TYPE r AS RANGE (subtype = int4); REVOKE USAGE ON TYPE r FROM PUBLIC",
                &["range type r: acl", "range type r: comment"],
            ),
        ],
        &[
            (
                // Not renamed: the constructor functions keep the name they were made with.
                "CREATE TYPE r AS RANGE (subtype = int4)",
                "CREATE TYPE r AS RANGE (subtype = integer, subtype_opclass = int4_ops,
                                         multirange_type_name = r_multirange)",
            ),
            (
                "CREATE TYPE r AS RANGE (subtype = text, collation = \"C\")",
                "CREATE TYPE r AS RANGE (subtype = int4); DROP TYPE r;
                 CREATE TYPE r AS RANGE (subtype = pg_catalog.text, collation = pg_catalog.\"C\")",
            ),
        ],
    );
}

#[test]
fn default_privileges() {
    check(
        &[
            (
                "",
                "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC",
                "ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO PUBLIC",
                &["default privileges on tables for role {me}: acl"],
            ),
            (
                "CREATE SCHEMA auth",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA auth GRANT USAGE ON SEQUENCES TO PUBLIC",
                "",
                &["- default privileges on sequences for role {me} in schema auth"],
            ),
            (
                "",
                "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
                "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON TYPES FROM PUBLIC",
                &[
                    "+ default privileges on types for role {me}",
                    "- default privileges on functions for role {me}",
                ],
            ),
        ],
        &[
            (
                "ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT ON TABLES TO PUBLIC",
                "ALTER DEFAULT PRIVILEGES GRANT INSERT ON TABLES TO PUBLIC;
                 ALTER DEFAULT PRIVILEGES GRANT SELECT, UPDATE ON TABLES TO PUBLIC;
                 ALTER DEFAULT PRIVILEGES REVOKE UPDATE ON TABLES FROM PUBLIC",
            ),
            (
                "",
                "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
                 ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM PUBLIC",
            ),
        ],
    );
}

#[test]
fn collations() {
    const CI: &str =
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)";
    check(
        &[
            (
                "",
                CI,
                "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2')",
                &["collation ci: deterministic"],
            ),
            (
                "",
                CI,
                "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level1',
                                      deterministic = false)",
                // Before PostgreSQL 15, an ICU collation's locale is its lc_collate and
                // lc_ctype.
                if scratch_major() >= 15 {
                    &["collation ci: locale"]
                } else {
                    &["collation ci: lc_collate", "collation ci: lc_ctype"]
                },
            ),
            (
                "",
                "CREATE COLLATION c (locale = 'C')",
                "CREATE COLLATION c (lc_collate = 'C', lc_ctype = 'POSIX')",
                &["collation c: lc_ctype"],
            ),
            (
                "",
                "CREATE COLLATION c (locale = 'C')",
                "CREATE COLLATION c (provider = icu, locale = 'und')",
                if scratch_major() >= 15 {
                    &[
                        "collation c: encoding",
                        "collation c: lc_collate",
                        "collation c: lc_ctype",
                        "collation c: locale",
                        "collation c: provider",
                        "collation c: version",
                    ]
                } else {
                    &[
                        "collation c: encoding",
                        "collation c: lc_collate",
                        "collation c: lc_ctype",
                        "collation c: provider",
                        "collation c: version",
                    ]
                },
            ),
            (
                CI,
                // What a library upgrade leaves behind, short of an upgrade.
                "UPDATE pg_collation SET collversion = '0.1' WHERE collname = 'ci'",
                "",
                &["collation ci: version"],
            ),
            (
                CI,
                "COMMENT ON COLLATION ci IS 'case-blind'",
                "",
                &["collation ci: comment"],
            ),
        ],
        &[
            (
                CI,
                "CREATE COLLATION other (provider = icu, locale = 'und-u-ks-level2',
                                         deterministic = false);
                 CREATE COLLATION ci FROM other;
                 DROP COLLATION other",
            ),
            (
                CI,
                "CREATE COLLATION \"CI\" (provider = 'icu', locale = 'und-u-ks-level2',
                                          deterministic = 'false');
                 ALTER COLLATION \"CI\" RENAME TO ci",
            ),
        ],
    );
}

#[test]
fn casts_and_operators() {
    const MOOD: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok');
        CREATE FUNCTION mood_of(text) RETURNS mood IMMUTABLE LANGUAGE sql AS 'SELECT $1::mood';
        CREATE FUNCTION mood_lower(text) RETURNS mood IMMUTABLE LANGUAGE sql
            AS 'SELECT lower($1)::mood'";
    const EQ: &str = "CREATE FUNCTION ci_eq(text, text) RETURNS boolean IMMUTABLE LANGUAGE sql
            AS 'SELECT lower($1) = lower($2)';
        CREATE FUNCTION ci_eq2(text, text) RETURNS boolean IMMUTABLE LANGUAGE sql
            AS 'SELECT upper($1) = upper($2)'";
    check(
        &[
            (
                MOOD,
                "CREATE CAST (text AS mood) WITH FUNCTION mood_of(text) AS ASSIGNMENT",
                "CREATE CAST (text AS mood) WITH FUNCTION mood_of(text) AS IMPLICIT",
                &["cast (text AS mood): context"],
            ),
            (
                MOOD,
                "CREATE CAST (text AS mood) WITH FUNCTION mood_of(text)",
                "CREATE CAST (text AS mood) WITH FUNCTION mood_lower(text)",
                &["cast (text AS mood): function"],
            ),
            (
                MOOD,
                "CREATE CAST (text AS mood) WITH FUNCTION mood_of(text)",
                "CREATE CAST (text AS mood) WITH INOUT",
                &[
                    "cast (text AS mood): function",
                    "cast (text AS mood): method",
                ],
            ),
            (
                MOOD,
                "CREATE CAST (mood AS text) WITH INOUT",
                "",
                &["- cast (mood AS text)"],
            ),
            (
                EQ,
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq)",
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq2)",
                &["operator ===(text, text): function"],
            ),
            (
                EQ,
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      COMMUTATOR = ===, HASHES, MERGES)",
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq)",
                &[
                    "operator ===(text, text): commutator",
                    "operator ===(text, text): hashes",
                    "operator ===(text, text): merges",
                ],
            ),
            (
                EQ,
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      RESTRICT = eqsel, JOIN = eqjoinsel)",
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      RESTRICT = scalarltsel, JOIN = scalarltjoinsel)",
                &[
                    "operator ===(text, text): join",
                    "operator ===(text, text): restrict",
                ],
            ),
            (
                EQ,
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      NEGATOR = !==)",
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq)",
                &[
                    "- operator !==(text, text)",
                    "operator ===(text, text): negator",
                ],
            ),
            (
                EQ,
                "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq)",
                "CREATE OPERATOR === (RIGHTARG = text, FUNCTION = lower)",
                &["+ operator ===(NONE, text)", "- operator ===(text, text)"],
            ),
        ],
        &[
            (
                "CREATE TYPE mood AS ENUM ('sad', 'ok');
                 CREATE FUNCTION mood_of(text) RETURNS mood IMMUTABLE LANGUAGE sql
                     AS 'SELECT $1::mood';
                 CREATE CAST (text AS mood) WITH FUNCTION mood_of(text) AS ASSIGNMENT",
                "CREATE TYPE mood AS ENUM ('sad', 'ok');
                 CREATE FUNCTION mood_of(text) RETURNS mood IMMUTABLE LANGUAGE sql
                     AS 'SELECT $1::mood';
                 CREATE CAST (pg_catalog.text AS public.mood) WITH INOUT;
                 DROP CAST (text AS mood);
                 CREATE CAST (text AS mood) WITH FUNCTION public.mood_of(pg_catalog.text)
                     AS ASSIGNMENT",
            ),
            (
                "CREATE FUNCTION ci_eq(text, text) RETURNS boolean IMMUTABLE LANGUAGE sql
                     AS 'SELECT lower($1) = lower($2)';
                 CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      COMMUTATOR = ===, NEGATOR = !==);
                 CREATE OPERATOR !== (LEFTARG = text, RIGHTARG = text, FUNCTION = ci_eq,
                                      NEGATOR = ===)",
                "CREATE FUNCTION ci_eq(text, text) RETURNS boolean IMMUTABLE LANGUAGE sql
                     AS 'SELECT lower($1) = lower($2)';
                 CREATE OPERATOR public.!== (PROCEDURE = public.ci_eq,
                                             LEFTARG = pg_catalog.text, RIGHTARG = text);
                 CREATE OPERATOR === (RIGHTARG = text, LEFTARG = text, PROCEDURE = ci_eq,
                                      NEGATOR = OPERATOR(public.!==), COMMUTATOR = ===)",
            ),
        ],
    );
}

#[test]
fn operator_classes_and_families() {
    check(
        &[
            (
                "CREATE OPERATOR FAMILY f USING hash",
                "ALTER OPERATOR FAMILY f USING hash ADD OPERATOR 1 = (int4, int4),
                     FUNCTION 1 hashint4(int4)",
                "ALTER OPERATOR FAMILY f USING hash ADD OPERATOR 1 = (int4, int4)",
                &["operator family f USING hash: functions"],
            ),
            (
                "CREATE OPERATOR FAMILY f USING btree",
                "ALTER OPERATOR FAMILY f USING btree ADD OPERATOR 1 < (int4, int4)",
                "ALTER OPERATOR FAMILY f USING btree ADD OPERATOR 1 <= (int4, int4)",
                &["operator family f USING btree: operators"],
            ),
            (
                "CREATE OPERATOR FAMILY f USING btree; CREATE OPERATOR FAMILY g USING btree",
                "CREATE OPERATOR CLASS c FOR TYPE int4 USING btree FAMILY f AS OPERATOR 3 =",
                "CREATE OPERATOR CLASS c FOR TYPE int4 USING btree FAMILY g AS OPERATOR 3 =",
                &[
                    "operator class c USING btree: family",
                    "operator family f USING btree: operators",
                    "operator family g USING btree: operators",
                ],
            ),
            (
                "CREATE TYPE mood AS ENUM ('sad', 'ok')",
                "CREATE OPERATOR CLASS c DEFAULT FOR TYPE mood USING btree AS
                     OPERATOR 1 < (anyenum, anyenum), FUNCTION 1 enum_cmp(anyenum, anyenum)",
                "CREATE OPERATOR CLASS c FOR TYPE mood USING btree AS
                     OPERATOR 1 < (anyenum, anyenum), FUNCTION 1 enum_cmp(anyenum, anyenum)",
                &["operator class c USING btree: default"],
            ),
        ],
        &[
            (
                // The members in another order, the class made under another name.
                "CREATE OPERATOR CLASS c FOR TYPE int4 USING btree AS
                     OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
                     FUNCTION 1 btint4cmp(int4, int4)",
                "CREATE OPERATOR FAMILY c USING btree;
                 CREATE OPERATOR CLASS c0 FOR TYPE integer USING btree FAMILY c AS
                     FUNCTION 1 btint4cmp(integer, integer), OPERATOR 5 >, OPERATOR 4 >=,
                     OPERATOR 3 =, OPERATOR 2 <=, OPERATOR 1 <;
                 ALTER OPERATOR CLASS c0 USING btree RENAME TO c",
            ),
            (
                "CREATE OPERATOR FAMILY f USING hash;
                  ALTER OPERATOR FAMILY f USING hash ADD OPERATOR 1 = (int4, int4),
                      FUNCTION 1 hashint4(int4)",
                "CREATE OPERATOR FAMILY f USING hash;
                  ALTER OPERATOR FAMILY f USING hash ADD FUNCTION 1 hashint4(int4);
                  ALTER OPERATOR FAMILY f USING hash ADD OPERATOR 1 = (int4, int4)",
            ),
        ],
    );
}

#[test]
fn text_search() {
    const PLAIN: &str = "CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default)";
    check(
        &[
            (
                PLAIN,
                "ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR asciiword WITH simple",
                "ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR asciiword
                     WITH english_stem",
                &["text search configuration plain: mappings"],
            ),
            (
                PLAIN,
                "ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR word
                     WITH simple, english_stem",
                "ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR word
                     WITH english_stem, simple",
                &["text search configuration plain: mappings"],
            ),
            (
                "CREATE TEXT SEARCH PARSER p (START = prsd_start, GETTOKEN = prsd_nexttoken,
                     END = prsd_end, LEXTYPES = prsd_lextype)",
                "CREATE TEXT SEARCH CONFIGURATION c (PARSER = default)",
                "CREATE TEXT SEARCH CONFIGURATION c (PARSER = p)",
                &["text search configuration c: parser"],
            ),
            (
                "",
                "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple, STOPWORDS = english)",
                "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = snowball, LANGUAGE = english)",
                &[
                    "text search dictionary d: options",
                    "text search dictionary d: template",
                ],
            ),
            (
                "",
                "CREATE TEXT SEARCH PARSER p (START = prsd_start, GETTOKEN = prsd_nexttoken,
                     END = prsd_end, LEXTYPES = prsd_lextype, HEADLINE = prsd_headline)",
                "CREATE TEXT SEARCH PARSER p (START = prsd_start, GETTOKEN = prsd_nexttoken,
                     END = prsd_end, LEXTYPES = prsd_lextype)",
                &["text search parser p: headline"],
            ),
            (
                "",
                "CREATE TEXT SEARCH TEMPLATE t (INIT = dsimple_init, LEXIZE = dsimple_lexize)",
                "CREATE TEXT SEARCH TEMPLATE t (LEXIZE = dsimple_lexize)",
                &["text search template t: init"],
            ),
        ],
        &[
            (
                "CREATE TEXT SEARCH CONFIGURATION plain (PARSER = default);
                 ALTER TEXT SEARCH CONFIGURATION plain ADD MAPPING FOR word, asciiword
                     WITH simple",
                "CREATE TEXT SEARCH CONFIGURATION plain0 (PARSER = pg_catalog.\"default\");
                 ALTER TEXT SEARCH CONFIGURATION plain0 ADD MAPPING FOR asciiword WITH simple;
                 ALTER TEXT SEARCH CONFIGURATION plain0 ADD MAPPING FOR word WITH english_stem;
                 ALTER TEXT SEARCH CONFIGURATION plain0 ALTER MAPPING FOR word WITH simple;
                 ALTER TEXT SEARCH CONFIGURATION plain0 RENAME TO plain",
            ),
            (
                "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple, STOPWORDS = english)",
                "CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple);
                 ALTER TEXT SEARCH DICTIONARY d (STOPWORDS = english)",
            ),
        ],
    );
}

#[test]
fn statistics_objects() {
    const T: &str = "CREATE TABLE t (id integer, a integer, b text)";
    check(
        &[
            (
                T,
                "CREATE STATISTICS s (ndistinct) ON a, b FROM t",
                "CREATE STATISTICS s (dependencies) ON a, b FROM t",
                &["statistics s: definition"],
            ),
            (
                T,
                "CREATE STATISTICS s ON a, b FROM t",
                "CREATE STATISTICS s ON a, id FROM t",
                &["statistics s: definition"],
            ),
            (
                T,
                "CREATE STATISTICS s ON (a + 1), b FROM t",
                "CREATE STATISTICS s ON (a + 2), b FROM t",
                &["statistics s: definition"],
            ),
            (
                T,
                "CREATE STATISTICS s ON a, b FROM t; ALTER STATISTICS s SET STATISTICS 500",
                "CREATE STATISTICS s ON a, b FROM t",
                &["statistics s: statistics"],
            ),
        ],
        &[(
            "CREATE TABLE t (id integer, a integer, b text);
             CREATE STATISTICS s (ndistinct, dependencies) ON a, b FROM t",
            "CREATE TABLE t (id integer, a integer, b text);
             CREATE STATISTICS s0 (dependencies, ndistinct) ON b, a FROM t;
             ALTER STATISTICS s0 SET STATISTICS 10;
             ALTER STATISTICS s0 SET STATISTICS -1;
             ALTER STATISTICS s0 RENAME TO s",
        )],
    );
}

/// Column lists, row filters and schemas are PostgreSQL 15's; before it, only the rest.
#[test]
fn publications() {
    const T: &str = "CREATE TABLE t (id integer PRIMARY KEY, a integer);
                     CREATE TABLE u (id integer PRIMARY KEY);
                     CREATE SCHEMA auth";
    let mut changes: Vec<Change> = vec![
        (
            T,
            "CREATE PUBLICATION p FOR TABLE t",
            "CREATE PUBLICATION p FOR TABLE t, u",
            &["publication p: tables"],
        ),
        (
            T,
            "CREATE PUBLICATION p FOR TABLE t WITH (publish = 'insert')",
            "CREATE PUBLICATION p FOR TABLE t WITH (publish_via_partition_root = true)",
            &["publication p: publish", "publication p: via_root"],
        ),
        (
            T,
            "CREATE PUBLICATION pub_all FOR ALL TABLES",
            "",
            &["- publication pub_all"],
        ),
    ];
    let mut same: Vec<Same> = Vec::new();
    if scratch_major() >= 15 {
        changes.extend([
            (
                T,
                "CREATE PUBLICATION p FOR TABLE t (id, a)",
                "CREATE PUBLICATION p FOR TABLE t (id)",
                &["publication p: tables"][..],
            ),
            (
                T,
                "CREATE PUBLICATION p FOR TABLE t WHERE (a > 0)",
                "CREATE PUBLICATION p FOR TABLE t WHERE (a > 1)",
                &["publication p: tables"],
            ),
            (
                T,
                "CREATE PUBLICATION p FOR ALL TABLES",
                "CREATE PUBLICATION p FOR TABLES IN SCHEMA auth",
                &["publication p: all_tables", "publication p: schemas"],
            ),
        ]);
        same.push((
            "CREATE TABLE t (id integer PRIMARY KEY, a integer);
             CREATE TABLE u (id integer PRIMARY KEY);
             CREATE PUBLICATION p FOR TABLE t (a, id) WHERE (a > 0), u
                 WITH (publish = 'update, insert')",
            "CREATE TABLE u (id integer PRIMARY KEY);
             CREATE TABLE t (id integer PRIMARY KEY, a integer);
             CREATE PUBLICATION p0 WITH (publish = 'insert, update');
             ALTER PUBLICATION p0 ADD TABLE u;
             ALTER PUBLICATION p0 ADD TABLE t (id, a) WHERE (a > 0);
             ALTER PUBLICATION p0 RENAME TO p",
        ));
    }
    check(&changes, &same);
}

/// A subscription that a migration can create: not connected, so no publisher is needed.
fn subscription(connection: &str, rest: &str) -> String {
    format!("CREATE SUBSCRIPTION s CONNECTION '{connection}' {rest}")
}

#[test]
fn subscriptions() {
    const OFF: &str = "WITH (connect = false)";
    let changes: Vec<(String, String, &[&str])> = vec![
        (
            subscription("dbname=a", &format!("PUBLICATION p {OFF}")),
            subscription("dbname=a", &format!("PUBLICATION q {OFF}")),
            &["subscription s: publications"],
        ),
        (
            subscription("dbname=a password=hunter2", &format!("PUBLICATION p {OFF}")),
            subscription("dbname=a password=sekrit", &format!("PUBLICATION p {OFF}")),
            &["subscription s: connection"],
        ),
        (
            subscription(
                "dbname=a",
                "PUBLICATION p WITH (connect = false, binary = true, streaming = true)",
            ),
            subscription(
                "dbname=a",
                "PUBLICATION p WITH (connect = false, slot_name = other)",
            ),
            &[
                "subscription s: binary",
                "subscription s: slot_name",
                "subscription s: streaming",
            ],
        ),
    ];
    for (a, b, expected) in &changes {
        let (left, right) = (TestDatabase::schema_after(a), TestDatabase::schema_after(b));
        assert_eq!(differences(&left, &right), *expected, "{a}\n{b}");
        assert_no_secret(&format!("{left:?}{right:?}"));
        let diff = SchemaDiff::compare(&left, &right);
        assert_no_secret(&serde_json::to_string(&diff).expect("json"));
    }
    let (left, right) = (
        TestDatabase::schema_after(&subscription(
            "dbname=a",
            &format!("PUBLICATION p, q {OFF}"),
        )),
        TestDatabase::schema_after(&format!(
            "{}; ALTER SUBSCRIPTION s0 SET (slot_name = NONE); DROP SUBSCRIPTION s0; {};
             ALTER SUBSCRIPTION s RENAME TO s0; ALTER SUBSCRIPTION s0 SET (slot_name = NONE);
             ALTER SUBSCRIPTION s0 RENAME TO s; ALTER SUBSCRIPTION s SET (slot_name = s)",
            subscription("dbname=a", &format!("PUBLICATION p {OFF}")).replace(" s ", " s0 "),
            subscription("dbname=a", &format!("PUBLICATION q, p {OFF}")),
        )),
    );
    assert_eq!(differences(&left, &right), Vec::<String>::new());
}

#[test]
fn foreign_data_wrappers_servers_and_user_mappings() {
    const W: &str = "CREATE FOREIGN DATA WRAPPER w; CREATE FOREIGN DATA WRAPPER w2";
    const S: &str = "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w";
    let changes: &[Change] = &[
        (
            "",
            "CREATE FOREIGN DATA WRAPPER w OPTIONS (debug 'true')",
            "CREATE FOREIGN DATA WRAPPER w VALIDATOR postgresql_fdw_validator",
            &[
                "foreign data wrapper w: options",
                "foreign data wrapper w: validator",
            ],
        ),
        (
            "CREATE FOREIGN DATA WRAPPER w",
            "GRANT USAGE ON FOREIGN DATA WRAPPER w TO PUBLIC",
            "COMMENT ON FOREIGN DATA WRAPPER w IS 'files'",
            &[
                "foreign data wrapper w: acl",
                "foreign data wrapper w: comment",
            ],
        ),
        (
            W,
            "CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'remote', password 'hunter2')",
            "CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'remote', password 'sekrit')",
            &["server s: options"],
        ),
        (
            W,
            "CREATE SERVER s TYPE 'files' VERSION '1' FOREIGN DATA WRAPPER w",
            "CREATE SERVER s FOREIGN DATA WRAPPER w2",
            &["server s: type", "server s: version", "server s: wrapper"],
        ),
        (
            S,
            "GRANT USAGE ON FOREIGN SERVER s TO PUBLIC",
            "",
            &["server s: acl"],
        ),
        (
            S,
            "CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'bob', password 'hunter2')",
            "CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'bob', password 'sekrit')",
            &["user mapping for public server s: options"],
        ),
        (
            S,
            "CREATE USER MAPPING FOR CURRENT_USER SERVER s",
            "",
            &["- user mapping for {me} server s"],
        ),
    ];
    check(
        changes,
        &[(
            "CREATE FOREIGN DATA WRAPPER w OPTIONS (a '1', b '2');
             CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'remote', password 'hunter2');
             CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'bob', password 'hunter2')",
            "CREATE FOREIGN DATA WRAPPER w0 OPTIONS (b '2');
             ALTER FOREIGN DATA WRAPPER w0 OPTIONS (ADD a '1');
             ALTER FOREIGN DATA WRAPPER w0 RENAME TO w;
             CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (password 'x');
             CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (password 'hunter2', user 'bob');
             ALTER SERVER s OPTIONS (SET password 'hunter2', ADD host 'remote')",
        )],
    );
    // Neither the model nor the comparison's JSON holds a secret.
    for (common, a, b, _) in changes {
        let left = TestDatabase::schema_after(&format!("{common};\n{a}"));
        let right = TestDatabase::schema_after(&format!("{common};\n{b}"));
        assert_no_secret(&format!("{left:?}{right:?}"));
        let diff = SchemaDiff::compare(&left, &right);
        assert_no_secret(&serde_json::to_string(&diff).expect("json"));
    }
}

#[test]
fn conversions_access_methods_and_languages() {
    const CONV: &str = "CREATE FUNCTION my_conv(integer, integer, cstring, internal, integer,
                                                 boolean) RETURNS integer
                            AS '$libdir/utf8_and_iso8859_1', 'utf8_to_iso8859_1' LANGUAGE c STRICT";
    const HANDLER: &str = "CREATE FUNCTION sample_handler() RETURNS language_handler
                               AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c";
    check(
        &[
            (
                CONV,
                "CREATE DEFAULT CONVERSION my_conv FOR 'UTF8' TO 'LATIN1' FROM my_conv",
                "CREATE CONVERSION my_conv FOR 'UTF8' TO 'LATIN1' FROM my_conv",
                &["conversion my_conv: default"],
            ),
            (
                CONV,
                "CREATE CONVERSION c FOR 'UTF8' TO 'LATIN1' FROM my_conv",
                "",
                &["- conversion c"],
            ),
            (
                "",
                "CREATE ACCESS METHOD am TYPE INDEX HANDLER bthandler",
                "CREATE ACCESS METHOD am TYPE INDEX HANDLER hashhandler",
                &["access method am: handler"],
            ),
            (
                HANDLER,
                "CREATE TRUSTED LANGUAGE sample HANDLER sample_handler",
                "CREATE LANGUAGE sample HANDLER sample_handler",
                &["language sample: trusted"],
            ),
            (
                "",
                "CREATE FUNCTION sample_handler() RETURNS language_handler
                     AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
                 CREATE TRUSTED LANGUAGE sample HANDLER sample_handler;
                 REVOKE USAGE ON LANGUAGE sample FROM PUBLIC",
                "CREATE FUNCTION sample_handler() RETURNS language_handler
                     AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
                 CREATE TRUSTED LANGUAGE sample HANDLER sample_handler;
                 COMMENT ON LANGUAGE sample IS 'a sample'",
                &["language sample: acl", "language sample: comment"],
            ),
        ],
        &[
            (
                "CREATE ACCESS METHOD am TYPE INDEX HANDLER bthandler",
                "CREATE ACCESS METHOD am TYPE INDEX HANDLER hashhandler;
                 DROP ACCESS METHOD am;
                 CREATE ACCESS METHOD am TYPE INDEX HANDLER pg_catalog.bthandler",
            ),
            (
                "CREATE FUNCTION sample_handler() RETURNS language_handler
                     AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
                 CREATE LANGUAGE sample HANDLER sample_handler",
                "CREATE FUNCTION sample_handler() RETURNS language_handler
                     AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE c;
                 CREATE TRUSTED LANGUAGE sample0 HANDLER sample_handler;
                 DROP LANGUAGE sample0;
                 CREATE PROCEDURAL LANGUAGE sample0 HANDLER sample_handler;
                 ALTER LANGUAGE sample0 RENAME TO sample",
            ),
        ],
    );
}

#[test]
fn large_objects() {
    let role = TestRole::create("large_objects");
    let owner = format!("ALTER LARGE OBJECT 4242 OWNER TO {}", role.name);
    let a = format!("SELECT lo_create(4242); {owner}; GRANT SELECT ON LARGE OBJECT 4242 TO PUBLIC");
    let b = "SELECT lo_create(4242); COMMENT ON LARGE OBJECT 4242 IS 'logo'";
    let (left, right) = (
        TestDatabase::schema_after(&a),
        TestDatabase::schema_after(b),
    );
    assert_eq!(
        differences(&left, &right),
        [
            "large object 4242: acl",
            "large object 4242: comment",
            "large object 4242: owner"
        ]
    );
    assert_eq!(
        differences(
            &TestDatabase::schema_after("SELECT lo_create(4242)"),
            &TestDatabase::schema_after(
                "SELECT lo_create(4243); SELECT lo_unlink(4243); SELECT lo_create(4242);
                 SELECT lo_put(4242, 0, 'rows are data'::bytea)"
            ),
        ),
        Vec::<String>::new()
    );
}

/// Runs `statement`, in which `{db}` stands for the database's quoted name.
fn on_database(statement: &str) -> String {
    format!(
        "DO $$ BEGIN EXECUTE replace({}, '{{db}}', quote_ident(current_database())); END $$",
        quote_literal(statement)
    )
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[test]
fn database_settings_and_grants() {
    let role = TestRole::create("database_settings");
    let set = |value: &str| on_database(&format!("ALTER DATABASE {{db}} SET work_mem = '{value}'"));
    let role_set = on_database(&format!(
        "ALTER ROLE {} IN DATABASE {{db}} SET work_mem = '1MB'",
        role.name
    ));
    let cases: Vec<(String, String, Vec<String>)> = vec![
        (
            set("8MB"),
            set("16MB"),
            vec!["database (current): settings".to_owned()],
        ),
        (
            format!("{}; {role_set}", set("8MB")),
            set("8MB"),
            vec!["database (current): role_settings".to_owned()],
        ),
        (
            format!(
                "{}; {}",
                set("8MB"),
                on_database("REVOKE CONNECT ON DATABASE {db} FROM PUBLIC")
            ),
            format!(
                "{}; {}",
                set("8MB"),
                on_database("COMMENT ON DATABASE {db} IS 'the app'")
            ),
            vec![
                "database (current): acl".to_owned(),
                "database (current): comment".to_owned(),
            ],
        ),
        (
            set("8MB"),
            String::new(),
            vec!["- database (current)".to_owned()],
        ),
    ];
    for (a, b, expected) in &cases {
        let found = differences(
            &TestDatabase::schema_after(a),
            &TestDatabase::schema_after(b),
        );
        assert_eq!(&found, expected, "{a}\n{b}");
    }
    let both = format!(
        "{}; {}",
        set("8MB"),
        on_database("ALTER DATABASE {db} SET statement_timeout = '5s'")
    );
    // Values are compared as written: `8MB` and `8192kB` are different settings.
    let reordered = format!(
        "{}; {}; {}; {}",
        on_database("ALTER DATABASE {db} SET statement_timeout = '5s'"),
        set("1MB"),
        set("8MB"),
        on_database("GRANT CONNECT ON DATABASE {db} TO PUBLIC")
    );
    assert_eq!(
        differences(
            &TestDatabase::schema_after(&both),
            &TestDatabase::schema_after(&reordered)
        ),
        Vec::<String>::new()
    );
    // A setting made and reset again leaves nothing.
    let reset = format!(
        "{}; {}",
        set("8MB"),
        on_database("ALTER DATABASE {db} RESET work_mem")
    );
    assert!(TestDatabase::schema_after(&reset)
        .objects
        .keys()
        .all(|id| id.kind != ObjectKind::Database));
}

/// Parameter grants belong to the cluster: this test has a cluster of its own.
#[test]
fn grants_on_parameters() {
    if scratch_major() < 15 {
        return; // GRANT ... ON PARAMETER is PostgreSQL 15's.
    }
    let server = ScratchServer::start(&ServerOptions::default()).expect("a throwaway cluster");
    let read = |sql: &str| {
        let database = server.create_database("parameters").expect("a database");
        let mut client = database.connect().expect("connecting");
        client.batch_execute(sql).expect("setup");
        let schema = introspect(&mut client).expect("introspection");
        client
            .batch_execute("REVOKE ALL ON PARAMETER work_mem, statement_timeout FROM PUBLIC")
            .expect("revoking");
        schema
    };
    let granted = read("GRANT SET ON PARAMETER work_mem TO PUBLIC");
    let other = read("GRANT ALTER SYSTEM ON PARAMETER work_mem TO PUBLIC");
    let none = read(
        "GRANT SET ON PARAMETER statement_timeout TO PUBLIC;
                     REVOKE SET ON PARAMETER statement_timeout FROM PUBLIC",
    );
    assert_eq!(differences(&granted, &other), ["parameter work_mem: acl"]);
    assert_eq!(differences(&granted, &none), ["- parameter work_mem"]);
}

#[test]
fn foreign_tables() {
    const S: &str = "CREATE FOREIGN DATA WRAPPER w;
                     CREATE SERVER s FOREIGN DATA WRAPPER w;
                     CREATE SERVER s2 FOREIGN DATA WRAPPER w";
    check(
        &[
            (
                S,
                "CREATE FOREIGN TABLE ft (x integer) SERVER s OPTIONS (filename '/a')",
                "CREATE FOREIGN TABLE ft (x integer) SERVER s2 OPTIONS (filename '/b')",
                &["table ft: fdw_options", "table ft: server"],
            ),
            (
                S,
                "CREATE FOREIGN TABLE ft (x integer OPTIONS (column_name 'X')) SERVER s",
                "CREATE FOREIGN TABLE ft (x integer) SERVER s",
                &["column ft.x: fdw_options"],
            ),
        ],
        &[(
            "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;
             CREATE FOREIGN TABLE ft (x integer OPTIONS (a '1', b '2')) SERVER s
                 OPTIONS (filename '/a', format 'csv')",
            "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;
             CREATE FOREIGN TABLE ft0 (x integer OPTIONS (b '2')) SERVER s
                 OPTIONS (format 'csv');
             ALTER FOREIGN TABLE ft0 ALTER COLUMN x OPTIONS (ADD a '1');
             ALTER FOREIGN TABLE ft0 OPTIONS (ADD filename '/a');
             ALTER FOREIGN TABLE ft0 RENAME TO ft",
        )],
    );
}

#[test]
fn names_are_quoted_as_postgresql_quotes_them() {
    let schema = TestDatabase::schema_after(
        r#"CREATE SCHEMA "My Schema";
           CREATE TABLE "T" (a integer);
           CREATE RULE "No Delete" AS ON DELETE TO "T" DO INSTEAD NOTHING;
           CREATE COLLATION "ci.x" (locale = 'C');
           CREATE PUBLICATION "Pub All" FOR TABLE "T";
           CREATE TEXT SEARCH CONFIGURATION "My Schema".cfg (PARSER = default);
           CREATE FUNCTION "My Schema".eq(text, text) RETURNS boolean LANGUAGE sql
               AS 'SELECT $1 = $2';
           CREATE OPERATOR "My Schema".=== (LEFTARG = text, RIGHTARG = text,
                                            FUNCTION = "My Schema".eq);
           CREATE OPERATOR CLASS "My Schema"."Int Ops" FOR TYPE int4 USING btree AS
               OPERATOR 1 <;
           CREATE STATISTICS "S.1" ON a, (a + 1) FROM "T";
           ALTER DEFAULT PRIVILEGES IN SCHEMA "My Schema" GRANT SELECT ON TABLES TO PUBLIC"#,
    );
    let names: Vec<String> = schema.objects.keys().map(ToString::to_string).collect();
    for expected in [
        r#"rule "T"."No Delete""#,
        r#"collation "ci.x""#,
        r#"publication "Pub All""#,
        r#"text search configuration "My Schema".cfg"#,
        r#"operator "My Schema".===(text, text)"#,
        r#"operator class "My Schema"."Int Ops" USING btree"#,
        r#"operator family "My Schema"."Int Ops" USING btree"#,
        r#"statistics "S.1""#,
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing: {names:#?}"
        );
    }
    let me = me();
    assert!(
        names.contains(&format!(
            r#"default privileges on tables for role {me} in schema "My Schema""#
        )),
        "{names:#?}"
    );
    let publication = schema
        .objects
        .values()
        .find(|o| o.id.name == r#""Pub All""#);
    assert_eq!(
        publication
            .and_then(|o| o.properties.get("tables"))
            .map(String::as_str),
        Some(r#""T""#)
    );
}
