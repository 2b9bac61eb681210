//! End-to-end tests of `cargo xtask verify`: the real binary, real PostgreSQL (a throwaway
//! cluster per run), migration directories written for each case.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A pair of migration directories in a temporary directory.
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    /// Both sides run `common` first, then their own SQL.
    fn new(common: &str, old: &str, new: &str) -> Pair {
        let pair = Pair::empty();
        pair.write("old", "0001_common.sql", common);
        pair.write("new", "0001_common.sql", common);
        pair.write("old", "0002_change.sql", old);
        pair.write("new", "0002_change.sql", new);
        pair
    }

    fn empty() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::create_dir(dir.path().join("new")).unwrap();
        Pair { dir }
    }

    fn write(&self, side: &str, name: &str, sql: &str) -> PathBuf {
        let path = self.dir.path().join(side).join(name);
        std::fs::write(&path, sql).unwrap();
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn verify(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        let mut cmd = xtask();
        cmd.arg("verify")
            .arg("--root")
            .arg(self.dir.path())
            .arg("--old")
            .arg(self.path("old"))
            .arg("--new")
            .arg(self.path("new"))
            .args(extra);
        cmd.assert()
    }

    /// Runs verify with JSON output and returns the exit code and the report.
    fn report(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["--format", "json", "--quiet"];
        args.extend_from_slice(extra);
        let output = self.verify(&args).get_output().clone();
        let code = output.status.code().unwrap();
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "no JSON report ({err}); exit {code}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (code, report)
    }
}

fn xtask() -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env_remove("XTASK_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache());
    cmd
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn test_initdb_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}

/// `kind name` of every failing difference in a report.
fn named(report: &Value) -> Vec<String> {
    report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["object"]["kind"].as_str().unwrap(),
                d["object"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts that the two sides differ, and that the difference names `expected`
/// (`kind name`, as in the JSON report) and nothing unrelated.
fn assert_reported(common: &str, old: &str, new: &str, expected: &str) {
    assert_reported_with(&Pair::new(common, old, new), &[], expected);
}

fn assert_reported_with(pair: &Pair, extra: &[&str], expected: &str) {
    let (code, report) = pair.report(extra);
    let names = named(&report);
    assert_eq!(
        code, 1,
        "expected a difference naming {expected}, got {names:?}"
    );
    assert!(
        !names.is_empty() && names.iter().all(|n| n == expected),
        "expected only {expected}, got {names:?}"
    );
    assert_eq!(report["equal"], Value::Bool(false));
}

fn assert_equal(old: &str, new: &str) {
    let (code, report) = Pair::new("", old, new).report(&[]);
    assert_eq!(code, 0, "expected equal, got {:?}", named(&report));
    assert_eq!(
        report["old"]["fingerprint"]["sha256"], report["new"]["fingerprint"]["sha256"],
        "equal schemas must have equal fingerprints"
    );
}

const TABLE: &str =
    "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL, label TEXT, n INTEGER);\n";

#[test]
fn a_default_is_compared() {
    assert_reported(
        TABLE,
        "ALTER TABLE pack ALTER COLUMN label SET DEFAULT 'a';",
        "ALTER TABLE pack ALTER COLUMN label SET DEFAULT 'b';",
        "column pack.label",
    );
}

#[test]
fn a_nullability_is_compared() {
    assert_reported(
        TABLE,
        "",
        "ALTER TABLE pack ALTER COLUMN label SET NOT NULL;",
        "column pack.label",
    );
}

#[test]
fn an_index_predicate_is_compared() {
    assert_reported(
        TABLE,
        "CREATE INDEX idx_pack_label ON pack (label) WHERE n > 0;",
        "CREATE INDEX idx_pack_label ON pack (label) WHERE n > 1;",
        "index idx_pack_label",
    );
}

#[test]
fn an_index_column_order_is_compared() {
    assert_reported(
        TABLE,
        "CREATE INDEX idx_pack_ref_label ON pack (ref, label);",
        "CREATE INDEX idx_pack_ref_label ON pack (label, ref);",
        "index idx_pack_ref_label",
    );
}

#[test]
fn an_enum_label_order_is_compared() {
    assert_reported(
        "",
        "CREATE TYPE status AS ENUM ('requested', 'running', 'done');",
        "CREATE TYPE status AS ENUM ('requested', 'done', 'running');",
        "enum status",
    );
}

#[test]
fn a_check_expression_is_compared() {
    assert_reported(
        TABLE,
        "ALTER TABLE pack ADD CONSTRAINT pack_n_check CHECK (n > 0);",
        "ALTER TABLE pack ADD CONSTRAINT pack_n_check CHECK (n >= 0);",
        "constraint pack.pack_n_check",
    );
}

#[test]
fn a_constraint_deferrability_is_compared() {
    assert_reported(
        TABLE,
        "ALTER TABLE pack ADD CONSTRAINT pack_ref_key UNIQUE (ref);",
        "ALTER TABLE pack ADD CONSTRAINT pack_ref_key UNIQUE (ref) DEFERRABLE INITIALLY DEFERRED;",
        "constraint pack.pack_ref_key",
    );
}

#[test]
fn a_foreign_key_action_is_compared() {
    let common = format!("{TABLE}CREATE TABLE action (id BIGSERIAL PRIMARY KEY, pack BIGINT);\n");
    assert_reported(
        &common,
        "ALTER TABLE action ADD CONSTRAINT action_pack_fkey FOREIGN KEY (pack) REFERENCES pack(id) ON DELETE CASCADE;",
        "ALTER TABLE action ADD CONSTRAINT action_pack_fkey FOREIGN KEY (pack) REFERENCES pack(id) ON DELETE SET NULL;",
        "constraint action.action_pack_fkey",
    );
}

#[test]
fn a_sequence_increment_is_compared() {
    assert_reported(
        "",
        "CREATE SEQUENCE ticket_seq INCREMENT BY 1;",
        "CREATE SEQUENCE ticket_seq INCREMENT BY 10;",
        "sequence ticket_seq",
    );
}

const FUNCTION: &str = "CREATE FUNCTION add_one(i integer) RETURNS integer LANGUAGE sql";

#[test]
fn a_function_body_is_compared() {
    assert_reported(
        "",
        &format!("{FUNCTION} AS $$ SELECT i + 1 $$;"),
        &format!("{FUNCTION} AS $$ SELECT i + 2 $$;"),
        "function add_one(integer)",
    );
}

#[test]
fn a_function_volatility_is_compared() {
    assert_reported(
        "",
        &format!("{FUNCTION} VOLATILE AS $$ SELECT i + 1 $$;"),
        &format!("{FUNCTION} IMMUTABLE AS $$ SELECT i + 1 $$;"),
        "function add_one(integer)",
    );
}

#[test]
fn a_function_set_option_is_compared() {
    assert_reported(
        "",
        &format!("{FUNCTION} AS $$ SELECT i + 1 $$;"),
        &format!("{FUNCTION} SET search_path = public AS $$ SELECT i + 1 $$;"),
        "function add_one(integer)",
    );
}

#[test]
fn a_trigger_timing_is_compared() {
    let common = format!(
        "{TABLE}CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
    );
    assert_reported(
        &common,
        "CREATE TRIGGER pack_touch BEFORE UPDATE ON pack FOR EACH ROW EXECUTE FUNCTION touch();",
        "CREATE TRIGGER pack_touch AFTER UPDATE ON pack FOR EACH ROW EXECUTE FUNCTION touch();",
        "trigger pack.pack_touch",
    );
}

#[test]
fn a_view_definition_is_compared() {
    assert_reported(
        TABLE,
        "CREATE VIEW pack_refs AS SELECT ref FROM pack WHERE n > 0;",
        "CREATE VIEW pack_refs AS SELECT ref FROM pack WHERE n > 1;",
        "view pack_refs",
    );
}

#[test]
fn a_policy_is_compared() {
    let common = format!("{TABLE}ALTER TABLE pack ENABLE ROW LEVEL SECURITY;\n");
    assert_reported(
        &common,
        "CREATE POLICY pack_visible ON pack USING (n > 0);",
        "CREATE POLICY pack_visible ON pack USING (n > 1);",
        "policy pack.pack_visible",
    );
}

#[test]
fn a_comment_is_compared() {
    assert_reported(
        TABLE,
        "COMMENT ON COLUMN pack.ref IS 'Unique reference';",
        "COMMENT ON COLUMN pack.ref IS 'Unique reference, pack.name';",
        "column pack.ref",
    );
}

#[test]
fn a_grant_is_compared_with_roles_from_the_prelude() {
    let pair = Pair::new(
        TABLE,
        "GRANT SELECT ON pack TO attune_reader;",
        "GRANT SELECT, UPDATE ON pack TO attune_reader;",
    );
    let prelude = pair.dir.path().join("prelude.sql");
    std::fs::write(&prelude, "CREATE ROLE attune_reader;").unwrap();
    assert_reported_with(
        &pair,
        &["--prelude", prelude.to_str().unwrap()],
        "table pack",
    );
}

/// Runs `pair` with a prelude that creates `roles`.
fn report_with_roles(pair: &Pair, roles: &[&str]) -> (i32, Value) {
    let prelude = pair.path("prelude.sql");
    let sql: String = roles
        .iter()
        .map(|r| format!("CREATE ROLE {r};\n"))
        .collect();
    std::fs::write(&prelude, sql).unwrap();
    pair.report(&["--prelude", prelude.to_str().unwrap()])
}

#[test]
fn an_owner_is_compared() {
    let common = format!("{FUNCTION} SECURITY DEFINER AS $$ SELECT i + 1 $$;\n{TABLE}");
    let pair = Pair::new(
        &common,
        "ALTER FUNCTION add_one(integer) OWNER TO app_owner;",
        "ALTER TABLE pack OWNER TO app_owner;",
    );
    let (code, report) = report_with_roles(&pair, &["app_owner"]);
    let mut names = named(&report);
    names.sort();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(names, ["function add_one(integer)", "table pack"]);
}

#[test]
fn an_owner_given_another_way_is_equal() {
    // Handed over at once, or made by its final owner through SET ROLE after a detour.
    let pair = Pair::new(
        "CREATE SCHEMA app;\nALTER SCHEMA app OWNER TO app_owner;\n",
        "CREATE TABLE app.t (id INTEGER);\nALTER TABLE app.t OWNER TO app_owner;",
        "SET ROLE app_owner;\nCREATE TABLE app.t (id INTEGER);\nRESET ROLE;\n\
         ALTER TABLE app.t OWNER TO CURRENT_USER;\nALTER TABLE app.t OWNER TO app_owner;",
    );
    let (code, report) = report_with_roles(&pair, &["app_owner"]);
    assert_eq!(code, 0, "{:?}", named(&report));
}

#[test]
fn foreign_keys_switched_off_are_reported_on_the_constraint() {
    let common = format!(
        "{TABLE}CREATE TABLE order_line (id BIGSERIAL PRIMARY KEY, pack BIGINT REFERENCES pack(id));\n"
    );
    assert_reported(
        &common,
        "",
        "ALTER TABLE order_line DISABLE TRIGGER ALL;",
        "constraint order_line.order_line_pack_fkey",
    );
}

#[test]
fn a_toast_parameter_is_compared() {
    assert_reported(
        TABLE,
        "ALTER TABLE pack SET (toast.autovacuum_enabled = false);",
        "",
        "table pack",
    );
}

#[test]
fn a_moving_aggregate_is_compared() {
    let sum = "CREATE AGGREGATE total(integer) (SFUNC = int4pl, STYPE = integer";
    assert_reported(
        "",
        &format!("{sum});"),
        &format!("{sum}, MSFUNC = int4pl, MINVFUNC = int4mi, MSTYPE = integer);"),
        "function total(integer)",
    );
}

#[test]
fn properties_written_another_way_are_equal() {
    assert_equal(
        "CREATE TABLE t (id INTEGER NOT NULL UNIQUE, b TEXT) WITH (toast.autovacuum_enabled = false);
CREATE INDEX t_lower_b ON t (lower(b));
ALTER INDEX t_lower_b ALTER COLUMN 1 SET STATISTICS 500;
ALTER TABLE t REPLICA IDENTITY USING INDEX t_id_key;
CREATE AGGREGATE total(n integer) (SFUNC = int4pl, STYPE = integer, PARALLEL = SAFE);",
        "CREATE AGGREGATE total(n integer) (STYPE = integer, PARALLEL = SAFE, SFUNC = int4pl);
CREATE TABLE t (id INTEGER, b TEXT);
ALTER TABLE t ALTER id SET NOT NULL, ADD UNIQUE (id), SET (toast.autovacuum_enabled = false),
    REPLICA IDENTITY USING INDEX t_id_key;
CREATE INDEX t_lower_b ON t (lower(b));
ALTER INDEX t_lower_b ALTER COLUMN 1 SET STATISTICS 500;",
    );
}

#[test]
fn a_prelude_set_in_xtask_toml_is_used() {
    let pair = Pair::new(
        TABLE,
        "GRANT SELECT ON pack TO attune_service;",
        "GRANT SELECT ON pack TO attune_service;",
    );
    std::fs::write(pair.path("prelude.sql"), "CREATE ROLE attune_service;").unwrap();
    std::fs::write(pair.path("xtask.toml"), "prelude = \"prelude.sql\"\n").unwrap();
    let (code, report) = pair.report(&[]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn an_extension_is_compared() {
    assert_reported("", "CREATE EXTENSION pgcrypto;", "", "extension pgcrypto");
}

#[test]
fn a_grant_on_an_extension_member_is_compared() {
    assert_reported(
        "CREATE EXTENSION pgcrypto;\n",
        "",
        "REVOKE EXECUTE ON FUNCTION digest(text, text) FROM PUBLIC;",
        "extension_member pgcrypto: function digest(text,text)",
    );
}

#[test]
fn an_object_added_to_an_extension_is_named() {
    let pair = Pair::new(
        "CREATE EXTENSION pgcrypto;\nCREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';\n",
        "",
        "ALTER EXTENSION pgcrypto ADD FUNCTION f();",
    );
    let (code, report) = pair.report(&[]);
    let mut names = named(&report);
    names.sort();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        names,
        ["extension_member pgcrypto: function f()", "function f()"]
    );
}

#[test]
fn a_column_added_then_dropped_leaves_no_trace() {
    assert_equal(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, gone TEXT, kept TEXT);\nALTER TABLE t DROP COLUMN gone;",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, kept TEXT);",
    );
}

#[test]
fn an_inline_and_an_altered_constraint_are_equal() {
    assert_equal(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CONSTRAINT t_n_check CHECK (n > 0));",
        "CREATE TABLE t (id INTEGER, n INTEGER);\nALTER TABLE t ADD PRIMARY KEY (id);\nALTER TABLE t ADD CONSTRAINT t_n_check CHECK (n > 0);",
    );
}

#[test]
fn int_and_integer_are_equal() {
    assert_equal(
        "CREATE TABLE t (n int, m int4);",
        "CREATE TABLE t (n integer, m integer);",
    );
}

#[test]
fn creation_order_does_not_matter() {
    assert_equal(
        "CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY, a INTEGER REFERENCES a(id));\nCREATE INDEX idx_b_a ON b (a);\nCREATE TYPE s AS ENUM ('x', 'y');",
        "CREATE TYPE s AS ENUM ('x', 'y');\nCREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE b (id INTEGER PRIMARY KEY, a INTEGER);\nCREATE INDEX idx_b_a ON b (a);\nALTER TABLE b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a) REFERENCES a(id);",
    );
}

#[test]
fn a_table_created_and_dropped_leaves_no_trace() {
    assert_equal(
        "CREATE TABLE t (id INTEGER);\nCREATE TABLE scratch (id SERIAL PRIMARY KEY, note TEXT);\nCREATE INDEX idx_scratch_note ON scratch (note);\nDROP TABLE scratch;",
        "CREATE TABLE t (id INTEGER);",
    );
}

/// A schema, a table, a column and an index whose names need quoting: a dot, a space,
/// upper case and a double quote.
const ODD_NAMES: &str = "CREATE SCHEMA \"Audit Log\";
CREATE TABLE \"Audit Log\".\"say \"\"hi\"\"\" (id INTEGER PRIMARY KEY, \"Col.x\" TEXT NOT NULL, \"A\" INTEGER, a INTEGER);
CREATE INDEX \"Idx 1\" ON \"Audit Log\".\"say \"\"hi\"\"\" (\"Col.x\");
INSERT INTO \"Audit Log\".\"say \"\"hi\"\"\" VALUES (1, 'x', 2, 3);
";

#[test]
fn names_are_quoted_as_postgresql_quotes_them() {
    // `"audit.thing"` is a table in `public`, `audit.thing` one in `audit`; `"A"` is not
    // `a`. Each side holds one table of such pairs; both hold both tables of other pairs.
    let pair = Pair::new(
        "CREATE SCHEMA audit;
CREATE TABLE \"audit.both\" (id INTEGER);
CREATE TABLE audit.both (id INTEGER);
CREATE TABLE \"B\" (id INTEGER);
CREATE TABLE b (id INTEGER);
",
        "CREATE TABLE audit.thing (id INTEGER);\nCREATE TABLE a (n INTEGER);",
        "CREATE TABLE \"audit.thing\" (id INTEGER);\nCREATE TABLE \"A\" (n INTEGER);",
    );
    let (code, report) = pair.report(&[]);
    let mut names = named(&report);
    names.sort();
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        names,
        [
            "table \"A\"",
            "table \"audit.thing\"",
            "table a",
            "table audit.thing"
        ]
    );
}

#[test]
fn odd_names_written_another_way_are_equal() {
    // Created under another name and renamed to the final one, keys and NOT NULL added
    // afterwards, the columns in another order.
    let renamed = "CREATE SCHEMA \"Audit Log\";
CREATE TABLE \"Audit Log\".tmp (a INTEGER, \"A\" INTEGER, \"Col.x\" TEXT, id INTEGER);
ALTER TABLE \"Audit Log\".tmp RENAME TO \"say \"\"hi\"\"\";
ALTER TABLE \"Audit Log\".\"say \"\"hi\"\"\" ADD PRIMARY KEY (id), ALTER COLUMN \"Col.x\" SET NOT NULL;
CREATE INDEX \"Idx 1\" ON \"Audit Log\".\"say \"\"hi\"\"\" (\"Col.x\");
INSERT INTO \"Audit Log\".\"say \"\"hi\"\"\" (id, \"Col.x\", \"A\", a) VALUES (1, 'x', 2, 3);
";
    assert_equal(ODD_NAMES, renamed);
}

#[test]
fn a_change_to_an_odd_name_is_named_quoted() {
    assert_reported(
        ODD_NAMES,
        "",
        "ALTER TABLE \"Audit Log\".\"say \"\"hi\"\"\" ALTER COLUMN \"Col.x\" SET DEFAULT 'y';",
        "column \"Audit Log\".\"say \"\"hi\"\"\".\"Col.x\"",
    );
}

#[test]
fn column_order_is_a_note_unless_strict() {
    let pair = Pair::new(
        "",
        "CREATE TABLE t (id INTEGER, a TEXT);\nALTER TABLE t ADD COLUMN b TEXT;",
        "CREATE TABLE t (id INTEGER, b TEXT, a TEXT);",
    );
    let (code, report) = pair.report(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["notes"][0]["change"], "column_order");
    let (code, report) = pair.report(&["--strict-column-order"]);
    assert_eq!(code, 1);
    assert_eq!(named(&report), ["table t"]);
}

#[test]
fn accepted_differences_pass_and_stale_entries_fail() {
    let pair = Pair::new(TABLE, "ALTER TABLE pack ADD COLUMN legacy TEXT;", "");
    let accepted = pair.path("accepted.toml");
    std::fs::write(
        &accepted,
        "[[difference]]\nobject = \"column pack.legacy\"\nchange = \"only in old\"\nreason = \"dropped on purpose\"\n",
    )
    .unwrap();
    let (code, report) = pair.report(&["--accepted", accepted.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["accepted"][0]["reason"], "dropped on purpose");

    std::fs::write(
        &accepted,
        "[[difference]]\nobject = \"column pack.other\"\nchange = \"only in old\"\nreason = \"stale\"\n",
    )
    .unwrap();
    let (code, report) = pair.report(&["--accepted", accepted.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        report["unmatched_accepted"][0]["object"],
        "column pack.other"
    );
}

#[test]
fn human_report_counts_in_words_and_names_a_table_once() {
    let pair = Pair::new(TABLE, "CREATE TABLE extra (id INTEGER);", "");
    let accepted = pair.path("accepted.toml");
    std::fs::write(
        &accepted,
        "[[difference]]\nobject = \"column pack.other\"\nchange = \"only in old\"\nreason = \"stale\"\n",
    )
    .unwrap();
    let output = pair
        .verify(&["--quiet", "--accepted", accepted.to_str().unwrap()])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(
        text.contains("different: 1 difference, 1 stale accepted entry"),
        "{text}"
    );
    assert!(text.contains("  table extra\n    only in old\n"), "{text}");
    assert!(!text.contains("table extra: "), "{text}");
}

#[test]
fn human_report_groups_differences_by_table_and_shows_both_values() {
    let pair = Pair::new(
        TABLE,
        "ALTER TABLE pack ALTER COLUMN label SET DEFAULT 'a';",
        "ALTER TABLE pack ALTER COLUMN label SET DEFAULT 'b';",
    );
    let output = pair
        .verify(&["--quiet"])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.contains("table pack"), "{text}");
    assert!(
        text.contains("column pack.label: default differs"),
        "{text}"
    );
    assert!(
        text.contains("old: 'a'::text") && text.contains("new: 'b'::text"),
        "{text}"
    );
    // Each side's schema fingerprint is printed, and a default that differs moves it.
    let fingerprints: std::collections::BTreeSet<&str> = text
        .match_indices("sha256:")
        .map(|(at, _)| &text[at + 7..(at + 7 + 64).min(text.len())])
        .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    assert!(fingerprints.len() >= 2, "{text}");
}

#[test]
fn a_failing_migration_names_file_line_and_column() {
    let pair = Pair::new(TABLE, "SELECT 1;\n\nSELECT id, nowhere FROM pack;\n", "");
    let assert = pair.verify(&["--quiet"]).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("0002_change.sql:3:12"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
}

#[test]
fn an_error_raised_while_executing_is_reported_at_its_line() {
    let pair = Pair::new(
        TABLE,
        "SELECT 1;\n-- the index was never made\nDROP INDEX idx_never_made;\n",
        "",
    );
    for (format, stream) in [("human", "stderr"), ("json", "stdout")] {
        let assert = pair.verify(&["--quiet", "--format", format]).code(2);
        let output = assert.get_output();
        let shown = String::from_utf8_lossy(match stream {
            "stderr" => &output.stderr,
            _ => &output.stdout,
        })
        .into_owned();
        assert!(shown.contains("0002_change.sql:3:1"), "{shown}");
        assert!(shown.contains("DROP INDEX idx_never_made"), "{shown}");
        if format == "json" {
            let report: Value = serde_json::from_str(&shown).unwrap();
            assert_eq!(report["migration"]["line"], 3, "{report:#}");
        }
    }
}

#[test]
fn a_missing_role_points_at_the_prelude() {
    let pair = Pair::new(TABLE, "GRANT SELECT ON pack TO nobody_here;", "");
    let assert = pair.verify(&["--quiet"]).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("--prelude"), "{stderr}");
}

#[test]
fn bad_directories_are_refused_before_any_server_starts() {
    let pair = Pair::empty();
    pair.write("old", "0001_a.sql", "SELECT 1;");
    pair.write("new", "x1_a.sql", "SELECT 1;");
    let stderr = pair.verify(&[]).code(2).get_output().stderr.clone();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("x1_a.sql"), "{stderr}");

    std::fs::remove_file(pair.path("new/x1_a.sql")).unwrap();
    let stderr = pair.verify(&[]).code(2).get_output().stderr.clone();
    let stderr = String::from_utf8_lossy(&stderr);
    let empty = format!("no migrations in `{}`", pair.path("new").display());
    assert!(stderr.contains(&empty), "{stderr}");

    pair.write("new", "0001_a.sql", "SELECT 1;");
    pair.write("new", "0001_b.sql", "SELECT 1;");
    let stderr = pair.verify(&[]).code(2).get_output().stderr.clone();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        stderr.contains("0001_a.sql") && stderr.contains("0001_b.sql"),
        "{stderr}"
    );

    std::fs::remove_file(pair.path("new/0001_b.sql")).unwrap();
    pair.write("new", "0002_b.up.sql", "SELECT 1;");
    pair.write("new", "0002_b.down.sql", "SELECT 1;");
    let stderr = pair.verify(&[]).code(2).get_output().stderr.clone();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("reversible"), "{stderr}");

    std::fs::remove_file(pair.path("new/0002_b.up.sql")).unwrap();
    std::fs::remove_file(pair.path("new/0002_b.down.sql")).unwrap();
    std::fs::write(pair.path("new/0002_b.sql"), b"SELECT 'caf\xe9';\n").unwrap();
    let stderr = pair.verify(&[]).code(2).get_output().stderr.clone();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        stderr.contains("0002_b.sql") && stderr.contains("UTF-8"),
        "{stderr}"
    );

    let missing = xtask()
        .args(["verify", "--old", "/nonexistent/old", "--new"])
        .arg(pair.path("new"))
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&missing.get_output().stderr).contains("/nonexistent/old"));
}

#[test]
fn history_hazards_are_warnings_that_name_the_file() {
    let pair = Pair::new("", "SELECT 1;\r\n", "SELECT 1;\n");
    pair.write(
        "old",
        "0003_late.sql",
        "SELECT 1;\n-- no-transaction\nSELECT 2;\n",
    );
    pair.write("old", "0003_late_twin.sql", "SELECT 3;\n");
    pair.write("old", "notes.txt", "not a migration");
    let assert = pair.verify(&["--quiet"]).code(0);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("0002_change.sql") && stderr.contains("CRLF"),
        "{stderr}"
    );
    assert!(
        stderr.contains("0003_late.sql:2") && stderr.contains("no-transaction"),
        "{stderr}"
    );
    assert!(stderr.contains("version 3 is shared by"), "{stderr}");
    assert!(stderr.contains("notes.txt: ignored"), "{stderr}");
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn the_repository_history_and_consolidated_set_build_the_same_schema() {
    let (code, report) = {
        let output = xtask()
            .args(["verify", "--format", "json", "--quiet", "--root"])
            .arg(repository_root())
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        (output.status.code().unwrap(), report)
    };
    assert_eq!(code, 0, "{:?}", named(&report));
    assert!(report["old"]["objects"]["table"].as_u64().unwrap() >= 15);
}

/// The repository's two sets copied to a temporary directory, the consolidated one with
/// `from` replaced by `to` in `file`.
fn repository_with_change(file: &str, from: &str, to: &str) -> Pair {
    let pair = Pair::empty();
    for (side, dir) in [("old", "migrations.old"), ("new", "migrations")] {
        for entry in std::fs::read_dir(repository_root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sql") {
                let name = path.file_name().unwrap().to_str().unwrap();
                let mut sql = std::fs::read_to_string(&path).unwrap();
                if side == "new" && name == file {
                    assert!(sql.contains(from), "{file} no longer contains {from:?}");
                    sql = sql.replacen(from, to, 1);
                }
                pair.write(side, name, &sql);
            }
        }
    }
    pair
}

#[test]
fn any_change_to_the_consolidated_set_is_reported_by_name() {
    let cases = [
        (
            "00003_pack_system.sql",
            "CREATE INDEX idx_pack_tags ON pack USING gin (tags);",
            "CREATE INDEX idx_pack_tags ON pack (tags);",
            "index idx_pack_tags",
        ),
        (
            "00003_pack_system.sql",
            "config jsonb DEFAULT '{}'::jsonb NOT NULL,",
            "config jsonb DEFAULT '[]'::jsonb NOT NULL,",
            "column pack.config",
        ),
        (
            "00003_pack_system.sql",
            "COMMENT ON COLUMN pack.label IS 'Human-readable pack name';",
            "COMMENT ON COLUMN pack.label IS 'Pack name';",
            "column pack.label",
        ),
        (
            "00005_execution_system.sql",
            "CONSTRAINT policy_threshold_positive CHECK (threshold > 0)",
            "CONSTRAINT policy_threshold_positive CHECK (threshold >= 0)",
            "constraint policy.policy_threshold_positive",
        ),
        (
            "00007_webhook_system.sql",
            "SET search_path TO 'public', 'pg_temp'\nAS $function$\nDECLARE\n    v_key VARCHAR(64);",
            "SET search_path TO 'public'\nAS $function$\nDECLARE\n    v_key VARCHAR(64);",
            "function enable_trigger_webhook(bigint, jsonb)",
        ),
    ];
    for (file, from, to, expected) in cases {
        let pair = repository_with_change(file, from, to);
        let (code, report) = pair.report(&[]);
        assert_eq!(code, 1, "{expected}: {:?}", named(&report));
        assert_eq!(named(&report), [expected]);
    }
}

/// Ended by SIGTERM in the middle of a replay, verify removes its throwaway cluster, exits
/// with 130 and says it was interrupted, not that the replay failed (the stopping server
/// closes the replay's connection, which the main thread would otherwise report), in
/// either output format: JSON output carries no false error either.
#[test]
fn an_interrupted_verify_leaves_no_cluster_and_reports_only_the_interruption() {
    for format in ["human", "json"] {
        let (scratch, output) = interrupted_verify(format);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
        assert!(!stdout.contains("error"), "{format}: {stdout}");
        let left: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

/// Runs verify with a history that sleeps, and sends it SIGTERM during the sleep.
fn interrupted_verify(format: &str) -> (tempfile::TempDir, std::process::Output) {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};

    let pair = Pair::new("SELECT 1;", "SELECT pg_sleep(30);", "SELECT 1;");
    let scratch = tempfile::tempdir().unwrap();
    // The cluster may run as the `postgres` account, which must reach it.
    std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("xtask"))
        .args(["verify", "--quiet", "--format", format, "--root"])
        .arg(pair.dir.path())
        .arg("--old")
        .arg(pair.path("old"))
        .arg("--new")
        .arg(pair.path("new"))
        .env("XTASK_SCRATCH_DIR", scratch.path())
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the replay: a server process runs a statement on this run's old database
    // (named after the run's process id), which is the history's sleep.
    let started = Instant::now();
    let busy_on_old = format!("xtask_{}_.*_old_.* SELECT", child.id());
    let sleeping = || {
        std::process::Command::new("pgrep")
            .args(["-f", &busy_on_old])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    while !sleeping() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the replay never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    (scratch, child.wait_with_output().unwrap())
}

#[test]
fn a_collation_redefined_under_its_name_is_compared() {
    // The column that uses the collation prints the same on both sides.
    assert_reported(
        "",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
         CREATE TABLE t (email text COLLATE ci UNIQUE);",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2');
         CREATE TABLE t (email text COLLATE ci UNIQUE);",
        "collation ci",
    );
}

#[test]
fn rules_and_publications_written_differently_are_equal() {
    assert_equal(
        "CREATE TABLE t (id integer PRIMARY KEY, a integer);
         CREATE RULE keep AS ON DELETE TO t DO INSTEAD NOTHING;
         CREATE PUBLICATION p FOR TABLE t;",
        "CREATE TABLE t (id integer PRIMARY KEY, a integer);
         CREATE PUBLICATION p0;
         ALTER PUBLICATION p0 ADD TABLE t;
         ALTER PUBLICATION p0 RENAME TO p;
         CREATE RULE k AS ON DELETE TO t DO INSTEAD NOTHING;
         ALTER RULE k ON t RENAME TO keep;",
    );
}

#[test]
fn secrets_in_server_and_user_mapping_options_are_never_printed() {
    let setup = |password: &str| {
        format!(
            "CREATE FOREIGN DATA WRAPPER w;
             CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'db.internal', password '{password}');
             CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (user 'app', password '{password}');"
        )
    };
    let pair = Pair::new("", &setup("hunter2-old"), &setup("hunter2-new"));
    let (code, report) = pair.report(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        named(&report),
        ["foreign_server s", "user_mapping for public server s"]
    );
    let human = pair.verify(&[]).code(1).get_output().clone();
    for output in [
        report.to_string(),
        String::from_utf8_lossy(&human.stdout).into_owned(),
        String::from_utf8_lossy(&human.stderr).into_owned(),
    ] {
        assert!(!output.contains("hunter2"), "a secret printed: {output}");
        assert!(
            !output.contains("db.internal"),
            "an option printed: {output}"
        );
    }
    assert!(String::from_utf8_lossy(&human.stdout).contains("user mapping for public server s"));
}
