//! End-to-end tests of `cargo xtask analyze`: the real binary, real PostgreSQL (a throwaway
//! cluster per run), on chains written for each kind of finding and on the repository's
//! own history.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn xtask() -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    // sqlx's DATABASE_URL, pointing nowhere, must not replace the throwaway cluster.
    cmd.env_remove("XTASK_DATABASE_URL")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none")
        .env("NO_COLOR", "1")
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache());
    cmd
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn test_initdb_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}

/// A migration directory in a temporary directory, with a root beside it.
struct History {
    dir: tempfile::TempDir,
}

impl History {
    fn new(files: &[(&str, &str)]) -> History {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        for (name, sql) in files {
            std::fs::write(dir.path().join("migrations").join(name), sql).unwrap();
        }
        History { dir }
    }

    fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    fn analyze(&self, extra: &[&str]) -> assert_cmd::assert::Assert {
        xtask()
            .arg("analyze")
            .arg("--root")
            .arg(self.dir.path())
            .arg("--quiet")
            .args(extra)
            .assert()
    }

    fn report(&self) -> Report {
        Report(json_report(self.analyze(&["--format", "json"])))
    }
}

fn json_report(assert: assert_cmd::assert::Assert) -> Value {
    let output = assert.get_output().clone();
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "no JSON report ({err})\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

struct Report(Value);

impl Report {
    fn section(&self, kind: &str) -> Vec<Value> {
        self.0["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == kind)
            .unwrap_or_else(|| panic!("no section {kind}"))["findings"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The finding of `section` about the object `kind name`.
    fn finding(&self, section: &str, kind: &str, name: &str) -> Finding {
        let findings = self.section(section);
        let found = findings
            .iter()
            .find(|f| {
                f["objects"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o["kind"] == kind && o["name"] == name)
            })
            .unwrap_or_else(|| {
                let titles: Vec<&str> = findings
                    .iter()
                    .map(|f| f["title"].as_str().unwrap())
                    .collect();
                panic!("no {section} finding about {kind} {name}; found: {titles:#?}")
            });
        Finding(found.clone())
    }
}

struct Finding(Value);

impl Finding {
    /// `(file, line)` of each step `event` of the object `name` (any object when `None`).
    fn steps(&self, event: &str, name: Option<&str>) -> Vec<(String, Option<u64>)> {
        self.0["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["event"] == event)
            .filter(|s| name.is_none_or(|n| s["object"]["name"] == n))
            .map(|s| (s["file"].as_str().unwrap().to_owned(), s["line"].as_u64()))
            .collect()
    }

    fn step(&self, event: &str, name: &str) -> (String, Option<u64>) {
        let steps = self.steps(event, Some(name));
        assert_eq!(
            steps.len(),
            1,
            "expected one {event} step of {name} in {:#}",
            self.0
        );
        steps.into_iter().next().unwrap()
    }

    fn has_object(&self, kind: &str, name: &str) -> bool {
        self.0["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["kind"] == kind && o["name"] == name)
    }

    fn action(&self) -> &str {
        self.0["action"].as_str().unwrap()
    }
}

fn at(file: &str, line: u64) -> (String, Option<u64>) {
    (file.to_owned(), Some(line))
}

// ------------------------------------------------------------------ small chains

const TYPES_AND_TABLES: &str = "\
CREATE TYPE kind_enum AS ENUM ('a', 'b');

CREATE TABLE item (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL,
    kind kind_enum NOT NULL,
    CONSTRAINT item_ref_format CHECK (ref ~ '^x')
);
CREATE INDEX idx_item_kind ON item(kind);
CREATE INDEX idx_item_ref ON item(ref);

CREATE TABLE scratch (
    id BIGSERIAL PRIMARY KEY,
    note TEXT
);
CREATE INDEX idx_scratch_note ON scratch(note);

-- Added in the same file, after the table: a consolidation folds it in.
ALTER TABLE item
    ADD COLUMN late BOOLEAN NOT NULL DEFAULT false;
";

const DROPS: &str = "\
ALTER TABLE item DROP CONSTRAINT item_ref_format;
DROP INDEX idx_item_kind;
ALTER TABLE item DROP COLUMN kind;
DROP TYPE kind_enum;

DROP TABLE scratch;
ALTER TABLE item ADD COLUMN notes JSONB;
";

#[test]
fn created_then_dropped_objects_are_grouped_with_their_files_and_lines() {
    let history = History::new(&[
        ("0001_initial.sql", TYPES_AND_TABLES),
        ("0002_drops.sql", DROPS),
    ]);
    let report = history.report();

    let ty = report.finding("created_then_dropped", "enum", "kind_enum");
    assert_eq!(ty.step("created", "kind_enum"), at("0001_initial.sql", 1));
    assert_eq!(ty.step("dropped", "kind_enum"), at("0002_drops.sql", 4));
    assert!(
        ty.has_object("column", "item.kind"),
        "the column of that type goes with it"
    );
    assert!(
        ty.has_object("index", "idx_item_kind"),
        "and the index on the column"
    );
    assert!(!ty.has_object("index", "idx_item_ref"));
    assert_eq!(ty.step("created", "item.kind"), at("0001_initial.sql", 6));
    assert_eq!(ty.step("dropped", "item.kind"), at("0002_drops.sql", 3));
    assert_eq!(ty.step("dropped", "idx_item_kind"), at("0002_drops.sql", 2));
    assert!(ty
        .action()
        .contains("remove the enum type, the column and the indexes"));

    let constraint = report.finding("created_then_dropped", "constraint", "item.item_ref_format");
    assert!(
        !constraint.has_object("enum", "kind_enum"),
        "not related to the type"
    );
    assert_eq!(
        constraint.step("created", "item.item_ref_format"),
        at("0001_initial.sql", 7)
    );
    assert_eq!(
        constraint.step("dropped", "item.item_ref_format"),
        at("0002_drops.sql", 1)
    );

    let table = report.finding("created_then_dropped", "table", "scratch");
    assert_eq!(table.step("created", "scratch"), at("0001_initial.sql", 12));
    assert_eq!(table.step("dropped", "scratch"), at("0002_drops.sql", 6));
    assert!(
        table.has_object("index", "idx_scratch_note"),
        "its objects go with it"
    );
    assert!(table.has_object("column", "scratch.note"));
}

#[test]
fn additions_after_the_table_name_both_places() {
    let history = History::new(&[
        ("0001_initial.sql", TYPES_AND_TABLES),
        ("0002_drops.sql", DROPS),
        (
            "0003_add.sql",
            "CREATE TYPE level_enum AS ENUM ('low', 'high');\n\
             ALTER TABLE item ADD COLUMN level level_enum,\n\
             \x20   ADD CONSTRAINT item_level_set CHECK (level IS NOT NULL);\n\
             CREATE INDEX idx_item_level ON item(level);\n",
        ),
    ]);
    let report = history.report();

    let same_file = report.finding("added_after_table", "column", "item.late");
    assert_eq!(
        same_file.step("added", "item.late"),
        at("0001_initial.sql", 20)
    );
    assert_eq!(
        same_file.step("table_created", "item"),
        at("0001_initial.sql", 3)
    );
    assert!(same_file.0["title"]
        .as_str()
        .unwrap()
        .contains("by an ALTER"));

    let later = report.finding("added_after_table", "column", "item.level");
    assert_eq!(later.step("added", "item.level"), at("0003_add.sql", 2));
    assert_eq!(
        later.step("added", "item.item_level_set"),
        at("0003_add.sql", 3)
    );
    assert_eq!(later.step("added", "idx_item_level"), at("0003_add.sql", 4));
    assert_eq!(
        later.step("created_alongside", "level_enum"),
        at("0003_add.sql", 1)
    );
    assert!(later
        .action()
        .contains("include the column in the initial CREATE TABLE"));

    let notes = report.finding("added_after_table", "column", "item.notes");
    assert_eq!(notes.step("added", "item.notes"), at("0002_drops.sql", 7));
    // Columns created inside the CREATE TABLE are not additions.
    let added: Vec<String> = report
        .section("added_after_table")
        .iter()
        .flat_map(|f| f["objects"].as_array().unwrap().clone())
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!added.contains(&"item.ref".to_owned()), "{added:?}");
}

#[test]
fn rewrites_of_functions_views_and_defaults_are_counted() {
    let history = History::new(&[
        (
            "0001_initial.sql",
            "CREATE TABLE t (id INT, status TEXT DEFAULT 'new');\n\
             CREATE FUNCTION f_one() RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
             CREATE FUNCTION f_two() RETURNS int LANGUAGE sql AS 'SELECT 2';\n\
             CREATE VIEW v AS SELECT id FROM t;\n",
        ),
        (
            "0002_rewrite.sql",
            "CREATE OR REPLACE FUNCTION f_one() RETURNS int LANGUAGE sql AS 'SELECT 10';\n\
             DROP FUNCTION f_two();\n\
             CREATE OR REPLACE VIEW v AS SELECT id, status FROM t;\n\
             ALTER TABLE t ALTER COLUMN status SET DEFAULT 'open';\n",
        ),
        (
            "0003_restore.sql",
            "\n-- f_two is back\nCREATE FUNCTION f_two() RETURNS int LANGUAGE sql AS 'SELECT 22';\n",
        ),
    ]);
    let report = history.report();

    let family = report.finding("rewritten", "function", "f_one()");
    assert!(
        family.has_object("function", "f_two()"),
        "changed by the same migration"
    );
    assert_eq!(family.step("created", "f_one()"), at("0001_initial.sql", 2));
    assert_eq!(
        family.step("rewritten", "f_one()"),
        at("0002_rewrite.sql", 1)
    );
    assert_eq!(family.step("dropped", "f_two()"), at("0002_rewrite.sql", 2));
    assert_eq!(
        family.step("recreated", "f_two()"),
        at("0003_restore.sql", 3)
    );
    assert!(family.0["title"]
        .as_str()
        .unwrap()
        .starts_with("functions:"));

    let view = report.finding("rewritten", "view", "v");
    assert_eq!(view.step("rewritten", "v"), at("0002_rewrite.sql", 3));
    assert!(view.0["title"].as_str().unwrap().contains("2 versions"));

    let default = report.finding("rewritten", "column", "t.status");
    assert_eq!(
        default.step("rewritten", "t.status"),
        at("0002_rewrite.sql", 4)
    );
}

#[test]
fn inserted_then_truncated_data_is_counted_with_its_statements() {
    let history = History::new(&[
        (
            "0001_table.sql",
            "CREATE TABLE runtime (ref TEXT);\nCREATE TABLE kept (x INT);\n",
        ),
        (
            "0002_insert.sql",
            "INSERT INTO runtime VALUES ('a');\n\nINSERT INTO runtime VALUES ('b'), ('c');\n\
             INSERT INTO kept VALUES (1);\n",
        ),
        ("0003_empty.sql", "-- gone\nTRUNCATE TABLE runtime;\n"),
    ]);
    let report = history.report();

    let data = report.finding("data_removed", "table", "runtime");
    assert_eq!(
        data.steps("inserted", Some("runtime")),
        vec![at("0002_insert.sql", 1), at("0002_insert.sql", 3)]
    );
    assert_eq!(data.step("removed", "runtime"), at("0003_empty.sql", 2));
    let removed = &data.0["steps"].as_array().unwrap().last().unwrap()["detail"];
    assert!(
        removed.as_str().unwrap().starts_with("3 → 0 rows"),
        "{removed}"
    );

    let kept = report.finding("data_removed", "table", "kept");
    assert!(kept.0["title"].as_str().unwrap().contains("still there"));
}

#[test]
fn notify_triggers_spread_over_files_are_gathered() {
    let notify = |name: &str, table: &str| {
        format!(
            "CREATE TABLE {table} (id INT);\n\
             CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
             BEGIN PERFORM pg_notify('{table}', NEW.id::text); RETURN NEW; END $$;\n\
             CREATE TRIGGER {table}_notify AFTER INSERT ON {table}\n\
             \x20   FOR EACH ROW EXECUTE FUNCTION {name}();\n"
        )
    };
    let history = History::new(&[
        ("0001_a.sql", &notify("notify_a", "a")),
        ("0002_b.sql", &notify("notify_b", "b")),
        (
            "0003_plain.sql",
            "CREATE TABLE c (id INT);\n\
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
             CREATE TRIGGER c_touch BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION touch();\n",
        ),
    ]);
    let report = history.report();
    let spread = report.finding("spread_additions", "trigger", "a.a_notify");
    assert_eq!(spread.step("created", "a.a_notify"), at("0001_a.sql", 4));
    assert_eq!(spread.step("created", "b.b_notify"), at("0002_b.sql", 4));
    assert!(
        !spread.has_object("trigger", "c.c_touch"),
        "does not notify"
    );
    assert!(spread.action().contains("one migration after the tables"));
}

#[test]
fn hazards_name_duplicate_versions_and_empty_migrations_but_not_a_readme() {
    let history = History::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\n"),
        ("0002_b.sql", "CREATE TABLE b (id INT);\n"),
        ("0002_c.sql", "CREATE TABLE c (id INT);\n"),
        ("0003_nothing.sql", "DROP TABLE IF EXISTS never_was;\n"),
        ("README.md", "not a migration\n"),
    ]);
    let report = history.report();
    let hazards = report.section("hazards");
    let events: Vec<(String, String)> = hazards
        .iter()
        .flat_map(|f| f["steps"].as_array().unwrap().clone())
        .map(|s| {
            (
                s["event"].as_str().unwrap().to_owned(),
                s["file"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        events.contains(&("hazard".into(), "0002_b.sql".into())),
        "{events:?}"
    );
    // sqlx ignores a README by design: no hazard.
    assert!(
        events.iter().all(|(_, file)| file != "README.md"),
        "{events:?}"
    );
    assert!(
        events.contains(&("no_effect".into(), "0003_nothing.sql".into())),
        "{events:?}"
    );
}

#[test]
fn check_accepts_a_current_report_and_rejects_a_stale_one() {
    let history = History::new(&[
        ("0001_a.sql", "CREATE TABLE a (id INT);\n"),
        ("0002_b.sql", "ALTER TABLE a ADD COLUMN b INT;\n"),
    ]);
    let report = history.dir.path().join("analysis.md");
    history
        .analyze(&["--output", report.to_str().unwrap()])
        .success();
    let markdown = std::fs::read_to_string(&report).unwrap();
    assert!(markdown.contains("## 2. Added after the table was created"));
    assert!(markdown.contains("`0002_b.sql:1` added column `a.b`"));
    assert!(
        !markdown.contains(history.dir.path().to_str().unwrap()),
        "no paths"
    );
    let current = history
        .analyze(&["--check", report.to_str().unwrap()])
        .code(0);
    // --quiet: the verdict, and no timings.
    assert_eq!(
        String::from_utf8_lossy(&current.get_output().stderr),
        "",
        "nothing on stderr"
    );

    std::fs::write(&report, markdown.replace("0002_b.sql:1", "0002_b.sql:9")).unwrap();
    let stale = history
        .analyze(&["--check", report.to_str().unwrap()])
        .code(1);
    let stderr = String::from_utf8_lossy(&stale.get_output().stderr).into_owned();
    assert!(stderr.contains("is not current"), "{stderr}");
    assert!(
        stderr.contains("-") && stderr.contains("0002_b.sql:9"),
        "a diff: {stderr}"
    );
}

#[test]
fn a_table_whose_name_holds_a_dot_is_analyzed() {
    let history = History::new(&[
        ("0001_a.sql", "CREATE TABLE \"a.b\" (id INT);\n"),
        ("0002_rows.sql", "INSERT INTO \"a.b\" VALUES (1);\n"),
        ("0003_b.sql", "ALTER TABLE \"a.b\" ADD COLUMN c INT;\n"),
    ]);
    let report = history.report();
    let added = report.section("added_after_table");
    assert_eq!(added.len(), 1, "{added:#?}");
    assert!(added[0].to_string().contains("0003_b.sql"), "{added:#?}");
    let data = report.section("data_removed");
    assert_eq!(data.len(), 1, "{data:#?}");
    assert!(data[0].to_string().contains("0002_rows.sql"), "{data:#?}");
}

#[test]
fn an_explicit_directory_wins_and_the_default_is_migrations_without_a_backup() {
    let history = History::new(&[("0001_a.sql", "CREATE TABLE a (id INT);\n")]);
    let default = json_report(history.analyze(&["--format", "json"]));
    assert_eq!(default["directory"], "migrations");
    let explicit =
        json_report(history.analyze(&[history.migrations().to_str().unwrap(), "--format", "json"]));
    assert_eq!(explicit["migrations"], default["migrations"]);
}

// ------------------------------------------------------------------ the repository's history

fn repository_history() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("migrations.old")
}

#[test]
fn the_repository_history_yields_every_item_of_the_plan() {
    let history = repository_history();
    let report = Report(json_report(
        xtask()
            .arg("analyze")
            .arg(&history)
            .args(["--format", "json", "--quiet"])
            .assert(),
    ));
    const INITIAL: &str = "20250101000001_initial_setup.sql";
    const CORE: &str = "20250101000002_core_tables.sql";
    const EXECUTION: &str = "20250101000004_execution_system.sql";
    const UNIFY: &str = "20260203000001_unify_runtimes.sql";
    const WEBHOOK: &str = "20260120000001_add_webhook_support.sql";
    const WEBHOOK_ADVANCED: &str = "20260120000002_webhook_advanced_features.sql";
    const WEBHOOK_CONFIG: &str = "20260127000001_consolidate_webhook_config.sql";

    // 1. The runtime type enum, with its column and indexes.
    let runtime_type = report.finding("created_then_dropped", "enum", "runtime_type_enum");
    assert_eq!(
        runtime_type.step("created", "runtime_type_enum"),
        at(INITIAL, 42)
    );
    assert_eq!(
        runtime_type.step("dropped", "runtime_type_enum"),
        at(UNIFY, 35)
    );
    assert!(runtime_type.has_object("column", "runtime.runtime_type"));
    for index in [
        "idx_runtime_type",
        "idx_runtime_pack_type",
        "idx_runtime_type_created",
        "idx_runtime_type_sensor",
    ] {
        assert!(runtime_type.has_object("index", index), "{index}");
        assert_eq!(runtime_type.step("dropped", index).0, UNIFY);
    }

    // 2. The runtime_ref_format constraint.
    let ref_format = report.finding(
        "created_then_dropped",
        "constraint",
        "runtime.runtime_ref_format",
    );
    assert_eq!(
        ref_format.step("created", "runtime.runtime_ref_format"),
        at(CORE, 84)
    );
    assert_eq!(
        ref_format.step("dropped", "runtime.runtime_ref_format"),
        at(UNIFY, 16)
    );

    // 3. The webhook columns: added, dropped for webhook_config; three remain.
    let webhook_columns =
        report.finding("created_then_dropped", "column", "trigger.webhook_secret");
    assert_eq!(
        webhook_columns.step("created", "trigger.webhook_secret").0,
        WEBHOOK
    );
    for column in [
        "webhook_hmac_enabled",
        "webhook_hmac_secret",
        "webhook_hmac_algorithm",
        "webhook_rate_limit_enabled",
        "webhook_rate_limit_requests",
        "webhook_rate_limit_window_seconds",
        "webhook_ip_whitelist_enabled",
        "webhook_ip_whitelist",
        "webhook_payload_size_limit_kb",
    ] {
        let name = format!("trigger.{column}");
        assert_eq!(
            webhook_columns.step("created", &name).0,
            WEBHOOK_ADVANCED,
            "{name}"
        );
        assert_eq!(
            webhook_columns.step("dropped", &name).0,
            WEBHOOK_CONFIG,
            "{name}"
        );
    }
    assert!(webhook_columns.has_object("index", "idx_trigger_webhook_enabled"));
    assert_eq!(
        webhook_columns.step("created_instead", "trigger.webhook_config"),
        at(WEBHOOK_CONFIG, 12)
    );
    for column in ["webhook_enabled", "webhook_key"] {
        let name = format!("trigger.{column}");
        let kept = report.finding("added_after_table", "column", &name);
        assert_eq!(kept.step("added", &name).0, WEBHOOK);
    }

    // 4. The runtime inserts, truncated later.
    let runtime_data = report.finding("data_removed", "table", "runtime");
    let inserts = runtime_data.steps("inserted", Some("runtime"));
    assert_eq!(inserts.len(), 4, "{inserts:?}");
    assert!(inserts
        .iter()
        .all(|(file, _)| file == "20260202000001_add_sensor_runtimes.sql"));
    assert_eq!(runtime_data.step("removed", "runtime"), at(UNIFY, 24));

    // 5. workflow_task_execution, replaced by execution.workflow_task.
    let task_table = report.finding("created_then_dropped", "table", "workflow_task_execution");
    assert_eq!(
        task_table.step("created", "workflow_task_execution"),
        at(EXECUTION, 329)
    );
    assert_eq!(
        task_table.step("dropped", "workflow_task_execution").0,
        "20260127212500_consolidate_workflow_task_execution.sql"
    );
    assert!(task_table.has_object("column", "workflow_task_execution.task_name"));

    // 6. The execution workflow columns, added by an ALTER in the same file.
    let workflow = report.finding("added_after_table", "column", "execution.is_workflow");
    for column in ["execution.is_workflow", "execution.workflow_def"] {
        let (file, line) = workflow.step("added", column);
        assert_eq!(file, EXECUTION);
        assert!((381..=383).contains(&line.unwrap()), "{column} at {line:?}");
    }
    assert_eq!(
        workflow.step("table_created", "execution"),
        at(EXECUTION, 59)
    );

    // 7. The is_adhoc flags.
    let adhoc = report.finding("added_after_table", "column", "action.is_adhoc");
    for column in ["action.is_adhoc", "sensor.is_adhoc", "rule.is_adhoc"] {
        assert_eq!(
            adhoc.step("added", column).0,
            "20260129140130_add_is_adhoc_flag.sql"
        );
    }

    // 8. event.rule, event.rule_ref and their foreign key.
    let event_rule = report.finding("added_after_table", "column", "event.rule");
    assert!(event_rule.has_object("column", "event.rule_ref"));
    assert_eq!(
        event_rule.step("added", "event.event_rule_fkey").0,
        "20260130000001_add_rule_to_event.sql"
    );

    // 9. worker_role, with its enum.
    let worker_role = report.finding("added_after_table", "column", "worker.worker_role");
    assert_eq!(
        worker_role.step("added", "worker.worker_role").0,
        "20260131000001_add_worker_role.sql"
    );
    assert!(worker_role.has_object("enum", "worker_role_enum"));

    // 10. The pack environments.
    let environments = report.finding("added_after_table", "column", "pack.installers");
    let file = "20260203000002_add_pack_environments.sql";
    assert_eq!(environments.step("added", "pack.installers").0, file);
    assert_eq!(
        environments
            .step("created_alongside", "pack_environment_status_enum")
            .0,
        file
    );
    assert_eq!(
        environments.step("created_alongside", "pack_environment").0,
        file
    );

    // 11. The notify triggers, over the four files the plan names.
    let notify = report.finding(
        "spread_additions",
        "trigger",
        "execution.execution_change_notify",
    );
    let files: Vec<String> = notify.0["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().to_owned())
        .collect();
    for file in [
        "20260119000001_add_execution_notify_trigger.sql",
        "20260129150000_add_event_notify_trigger.sql",
        "20260203000003_add_rule_trigger_to_execution_notify.sql",
        "20260204000001_add_enforcement_notify_trigger.sql",
    ] {
        assert!(files.iter().any(|f| f == file), "{file} not in {files:?}");
    }

    // 12. The webhook functions' rewrites, over the five files the plan names.
    let functions = report.finding(
        "rewritten",
        "function",
        "enable_trigger_webhook(bigint, jsonb)",
    );
    assert!(functions.0["title"]
        .as_str()
        .unwrap()
        .starts_with("webhook functions"));
    let touched: std::collections::BTreeSet<String> = functions.0["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().to_owned())
        .collect();
    let expected: std::collections::BTreeSet<String> = [
        WEBHOOK,
        WEBHOOK_ADVANCED,
        WEBHOOK_CONFIG,
        "20260129000001_fix_webhook_function_overload.sql",
        "20260204000001_restore_webhook_functions.sql",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(touched, expected);
    assert_eq!(
        functions
            .steps("created", None)
            .iter()
            .filter(|(f, _)| f == WEBHOOK)
            .count(),
        3
    );
    assert_eq!(
        functions
            .steps("created", None)
            .iter()
            .filter(|(f, _)| f == WEBHOOK_ADVANCED)
            .count(),
        7
    );

    // The duplicate version is a hazard.
    let hazards = report.section("hazards");
    assert!(hazards
        .iter()
        .any(|f| f["title"].as_str().unwrap().contains("20260204000001")));
}
