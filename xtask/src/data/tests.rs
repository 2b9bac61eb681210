//! Snapshots and comparisons of real databases on a throwaway cluster.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::snapshot::LeftOut;
use super::*;
use crate::migrations::{ChainRole, MigrationChain};
use crate::pg::testing::scratch_client;
use crate::pg::ScratchServer;
use crate::schema::diff::Side;

/// Tables with every kind of column the comparison treats apart: ids from a sequence, an
/// identity and a random default; timestamps from `now()`, `CURRENT_TIMESTAMP`,
/// `clock_timestamp()` and a trigger; foreign keys to generated ids, in a natural key too;
/// a composite key; a self reference; a table without any unique key.
const TABLES: &str = "
CREATE TABLE pack (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE runtime (
    id BIGSERIAL PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    pack BIGINT REFERENCES pack(id) ON DELETE CASCADE,
    description TEXT,
    created TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE action (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    runtime BIGINT REFERENCES runtime(id) ON DELETE SET NULL,
    timeout INTEGER,
    created TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE pack_runtime (
    pack BIGINT NOT NULL REFERENCES pack(id) ON DELETE CASCADE,
    runtime BIGINT NOT NULL REFERENCES runtime(id) ON DELETE CASCADE,
    position INTEGER,
    UNIQUE (pack, runtime)
);
CREATE TABLE setting (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (scope, name)
);
CREATE TABLE tag (label TEXT, note TEXT);
CREATE TABLE node (
    id SERIAL PRIMARY KEY,
    parent INTEGER REFERENCES node(id),
    name TEXT NOT NULL,
    UNIQUE (parent, name)
);
CREATE TABLE audit (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    what TEXT NOT NULL UNIQUE,
    touched TIMESTAMPTZ
);
CREATE TABLE audit_note (audit UUID REFERENCES audit(id), note TEXT);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.touched := clock_timestamp();
    RETURN NEW;
END $$;
CREATE TRIGGER audit_touch BEFORE INSERT OR UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION touch();
";

/// What the history did to the runtime table: rows inserted, then truncated, so that every
/// sequence and identity behind them has moved on.
const INSERTED_THEN_TRUNCATED: &str = "
INSERT INTO pack (ref, label) VALUES ('old', 'Old');
INSERT INTO runtime (ref, description) SELECT 'core.action.' || g, 'old' FROM generate_series(1, 7) g;
INSERT INTO action (ref) VALUES ('old.a'), ('old.b');
INSERT INTO node (name) VALUES ('old');
INSERT INTO audit (what) VALUES ('old');
TRUNCATE pack, runtime, action, node, audit CASCADE;
SELECT pg_sleep(0.01);
";

/// The same rows on both sides, inserted in different transactions so that the clock
/// columns differ; foreign keys are looked up by ref, as a pack loader does.
const ROWS: &str = "
INSERT INTO pack (ref, label) VALUES ('core', 'Core'), ('extra', 'Extra');
INSERT INTO runtime (ref, pack, description)
SELECT v.ref, p.id, v.description
FROM pack p, (VALUES ('core.python', 'Python 3'), ('core.shell', 'Shell'), ('core.native', NULL))
     AS v(ref, description)
WHERE p.ref = 'core';
INSERT INTO action (ref, runtime, timeout) VALUES
    ('core.echo', (SELECT id FROM runtime WHERE ref = 'core.python'), 30),
    ('core.sleep', (SELECT id FROM runtime WHERE ref = 'core.shell'), NULL);
INSERT INTO pack_runtime (pack, runtime, position)
SELECT p.id, r.id, row_number() OVER (ORDER BY r.ref)
FROM pack p JOIN runtime r ON r.pack = p.id;
INSERT INTO setting (scope, name, value) VALUES ('core', 'timeout', '300'), ('core', 'agent', 'attune');
INSERT INTO tag (label, note) VALUES ('builtin', 'x'), ('builtin', 'x'), ('core', NULL);
INSERT INTO node (name) VALUES ('root');
INSERT INTO node (parent, name) SELECT id, 'child' FROM node WHERE name = 'root';
INSERT INTO audit (what) VALUES ('loaded');
INSERT INTO audit_note (audit, note) SELECT id, 'first load' FROM audit;
";

fn database(label: &str, sql: &[&str]) -> (postgres::Client, Arc<ScratchServer>) {
    let (mut client, server) = scratch_client(label);
    for batch in sql {
        client.batch_execute(batch).expect("set up the test data");
    }
    (client, server)
}

fn snapshot(label: &str, sql: &[&str]) -> DataSnapshot {
    let (mut client, _server) = database(label, sql);
    DataSnapshot::read(&mut client).expect("read the data")
}

/// The difference between the common rows, changed on the old side by `old` and on the
/// new side by `new`; the old side also went through the insert-and-truncate.
fn compare(old: &str, new: &str) -> (DataDiff, DataSnapshot, DataSnapshot) {
    let old = snapshot("data_old", &[TABLES, INSERTED_THEN_TRUNCATED, ROWS, old]);
    let new = snapshot("data_new", &[TABLES, ROWS, new]);
    (DataDiff::compare(&old, &new), old, new)
}

fn descriptions(diff: &DataDiff) -> Vec<String> {
    diff.differences.iter().map(ToString::to_string).collect()
}

fn one_difference(diff: &DataDiff) -> &DataDifference {
    assert_eq!(diff.differences.len(), 1, "{:#?}", diff.differences);
    &diff.differences[0]
}

#[test]
fn ids_timestamps_and_insertion_order_do_not_count() {
    let (mut old_client, _old_server) =
        database("data_shifted", &[TABLES, INSERTED_THEN_TRUNCATED, ROWS]);
    let (mut new_client, _new_server) = database("data_fresh", &[TABLES, ROWS]);
    let id_of_python = |client: &mut postgres::Client| -> i64 {
        client
            .query_one("SELECT id FROM runtime WHERE ref = 'core.python'", &[])
            .unwrap()
            .get(0)
    };
    assert_ne!(id_of_python(&mut old_client), id_of_python(&mut new_client));

    let old = DataSnapshot::read(&mut old_client).unwrap();
    let new = DataSnapshot::read(&mut new_client).unwrap();
    let diff = DataDiff::compare(&old, &new);
    assert!(diff.is_empty(), "{:#?}", diff.differences);
    assert_eq!(DataFingerprint::of(&old), DataFingerprint::of(&new));
    assert!(DataFingerprint::of(&old).to_string().starts_with("sha256:"));
}

#[test]
fn generated_and_clock_columns_are_left_out_and_references_resolved() {
    let data = snapshot("data_shape", &[TABLES, ROWS]);
    let left_out = |table: &str| -> Vec<(&str, LeftOut)> {
        data.tables[table]
            .left_out
            .iter()
            .map(|(column, why)| (column.as_str(), *why))
            .collect()
    };
    assert_eq!(
        left_out("pack"),
        [
            ("created", LeftOut::ClockDefault),
            ("id", LeftOut::Sequence),
            ("updated", LeftOut::ClockDefault)
        ]
    );
    assert_eq!(
        left_out("action"),
        [
            ("created", LeftOut::ClockDefault),
            ("id", LeftOut::Identity)
        ]
    );
    assert_eq!(
        left_out("audit"),
        [
            ("id", LeftOut::RandomDefault),
            ("touched", LeftOut::ClockTrigger)
        ]
    );

    let runtime = &data.tables["runtime"];
    assert_eq!(runtime.columns, ["description", "pack", "ref"]);
    assert_eq!(
        runtime.natural_key.constraint.as_deref(),
        Some("runtime_ref_key")
    );
    assert_eq!(runtime.natural_key.columns, ["ref"]);
    assert_eq!(runtime.references["pack"], "pack");

    let action = &data.tables["action"];
    let echo = action.rows.iter().find(|r| r.key == ["core.echo"]).unwrap();
    assert_eq!(
        echo.values,
        [
            Some("core.echo".into()),
            Some("runtime(core.python)".into()),
            Some("30".into())
        ]
    );

    // A natural key made of foreign keys, and one that refers to its own table.
    let pack_runtime = &data.tables["pack_runtime"];
    assert_eq!(
        pack_runtime.rows[0].key,
        ["pack(core)", "runtime(core.native)"]
    );
    let node = &data.tables["node"];
    let keys: Vec<&[String]> = node.rows.iter().map(|r| r.key.as_slice()).collect();
    assert_eq!(
        keys,
        [&["NULL", "root"][..], &["node(NULL, root)", "child"][..]]
    );
    let note = &data.tables["audit_note"];
    assert_eq!(note.natural_key.constraint, None);
    assert_eq!(note.rows[0].key, ["audit(loaded)", "first load"]);

    let counts: Vec<(&str, usize)> = data.counts();
    assert!(counts.contains(&("runtime", 3)) && counts.contains(&("tag", 3)));
}

#[test]
fn a_changed_value_is_named_by_table_natural_key_and_column() {
    let (diff, old, new) = compare(
        "",
        "UPDATE runtime SET description = 'Python 3.12' WHERE ref = 'core.python'",
    );
    let difference = one_difference(&diff);
    assert_eq!(
        difference.to_string(),
        "runtime core.python: description differs"
    );
    assert_eq!(
        difference.change,
        DataChange::Value {
            column: "description".into(),
            old: Some("Python 3".into()),
            new: Some("Python 3.12".into()),
        }
    );
    assert_ne!(DataFingerprint::of(&old), DataFingerprint::of(&new));
}

#[test]
fn missing_and_extra_rows_are_reported_with_their_side() {
    let (diff, ..) = compare(
        "DELETE FROM action WHERE ref = 'core.sleep'",
        "INSERT INTO pack (ref, label) VALUES ('more', 'More');
         DELETE FROM setting WHERE name = 'agent'",
    );
    assert_eq!(
        descriptions(&diff),
        [
            "action core.sleep: only in new",
            "pack more: only in new",
            "setting (core, agent): only in old",
        ]
    );
    let DataChange::RowOnlyIn { side, values } = &diff.differences[0].change else {
        panic!("expected a row on one side: {:?}", diff.differences[0]);
    };
    assert_eq!(*side, Side::New);
    assert_eq!(values["runtime"].as_deref(), Some("runtime(core.shell)"));
    assert_eq!(values["timeout"], None);
}

#[test]
fn a_foreign_key_to_another_row_shows_both_natural_keys() {
    let (diff, ..) = compare(
        "",
        "UPDATE action SET runtime = (SELECT id FROM runtime WHERE ref = 'core.shell')
         WHERE ref = 'core.echo'",
    );
    let difference = one_difference(&diff);
    assert_eq!(difference.to_string(), "action core.echo: runtime differs");
    assert_eq!(
        difference.change,
        DataChange::Value {
            column: "runtime".into(),
            old: Some("runtime(core.python)".into()),
            new: Some("runtime(core.shell)".into()),
        }
    );
}

#[test]
fn a_table_without_unique_key_is_keyed_by_all_its_columns_repeats_counted() {
    let (diff, old, _) = compare(
        "",
        "UPDATE tag SET note = 'y' WHERE label = 'core';
         DELETE FROM tag WHERE ctid = (SELECT min(ctid) FROM tag WHERE label = 'builtin')",
    );
    assert_eq!(old.tables["tag"].natural_key.constraint, None);
    assert_eq!(old.tables["tag"].natural_key.columns, ["label", "note"]);
    assert_eq!(
        descriptions(&diff),
        [
            "tag (builtin, x): only in old",
            "tag (core, NULL): only in old",
            "tag (core, y): only in new",
        ]
    );
}

#[test]
fn a_table_without_columns_is_compared_by_its_number_of_rows() {
    let (diff, old, _) = compare(
        "CREATE TABLE marker (); INSERT INTO marker DEFAULT VALUES; INSERT INTO marker DEFAULT VALUES",
        "CREATE TABLE marker (); INSERT INTO marker DEFAULT VALUES",
    );
    assert!(old.tables["marker"].columns.is_empty());
    assert_eq!(old.tables["marker"].rows.len(), 2);
    assert_eq!(descriptions(&diff), ["marker (): only in old"]);
}

#[test]
fn a_composite_natural_key_names_the_row() {
    let (diff, ..) = compare(
        "",
        "UPDATE setting SET value = '600' WHERE name = 'timeout';
         UPDATE pack_runtime SET position = 9
         WHERE runtime = (SELECT id FROM runtime WHERE ref = 'core.shell')",
    );
    assert_eq!(
        descriptions(&diff),
        [
            "pack_runtime (pack(core), runtime(core.shell)): position differs",
            "setting (core, timeout): value differs",
        ]
    );
}

#[test]
fn null_differs_from_the_empty_string_and_from_the_word_null() {
    let (diff, old, new) = compare(
        "INSERT INTO tag (label, note) VALUES ('NULL', 'n')",
        "UPDATE runtime SET description = '' WHERE ref = 'core.native';
         INSERT INTO tag (label, note) VALUES (NULL, 'n')",
    );
    assert_eq!(
        descriptions(&diff),
        [
            "runtime core.native: description differs",
            "tag (\"NULL\", n): only in old",
            "tag (NULL, n): only in new",
        ]
    );
    assert_eq!(
        diff.differences[0].change,
        DataChange::Value {
            column: "description".into(),
            old: None,
            new: Some(String::new()),
        }
    );
    assert_ne!(DataFingerprint::of(&old), DataFingerprint::of(&new));
}

#[test]
fn a_table_on_one_side_is_one_difference() {
    let (diff, ..) = compare(
        "",
        "CREATE TABLE extra (x INTEGER); INSERT INTO extra VALUES (1), (2)",
    );
    let difference = one_difference(&diff);
    assert_eq!(difference.to_string(), "extra: table only in new");
    assert_eq!(
        difference.change,
        DataChange::TableOnlyIn {
            side: Side::New,
            rows: 2
        }
    );
}

#[test]
fn a_cycle_of_references_through_natural_keys_ends() {
    let data = snapshot(
        "data_cycle",
        &[
            TABLES,
            "INSERT INTO node (name) VALUES ('a'), ('b');
             UPDATE node SET parent = (SELECT id FROM node n WHERE n.name <> node.name)",
        ],
    );
    let keys: Vec<String> = data.tables["node"]
        .rows
        .iter()
        .map(|r| r.key.join(", "))
        .collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().any(|k| k.contains("<cycle>")), "{keys:?}");
}

/// A core-pack-sized load (one pack, five runtimes, three triggers, four actions, two
/// sensors), written against the columns both migration sets have.
const CORE_PACK_ROWS: &str = "
INSERT INTO pack (ref, label, description, version, is_standard, tags)
VALUES ('core', 'Core', 'Built-in runtimes', '1.0.0', true, '{core,builtin}');
INSERT INTO runtime (ref, pack, pack_ref, name, description, distributions)
SELECT 'core.' || v.name, p.id, 'core', v.label, v.label || ' runtime', v.distributions::jsonb
FROM pack p, (VALUES
    ('python', 'Python', '{\"verification\": {\"commands\": [\"python3 --version\"]}}'),
    ('shell', 'Shell', '{}'),
    ('native', 'Native', '{}'),
    ('nodejs', 'Node.js', '{\"verification\": {\"commands\": [\"node --version\"]}}'),
    ('sensor_builtin', 'Builtin', '{}')) AS v(name, label, distributions)
WHERE p.ref = 'core';
INSERT INTO trigger (ref, pack, pack_ref, label, param_schema)
SELECT 'core.' || v.name, p.id, 'core', v.label, '{\"type\": \"object\"}'
FROM pack p, (VALUES ('crontimer', 'Cron timer'), ('intervaltimer', 'Interval timer'),
                     ('webhook', 'Webhook')) AS v(name, label)
WHERE p.ref = 'core';
INSERT INTO action (ref, pack, pack_ref, label, entrypoint, runtime, timeout_seconds)
SELECT 'core.' || v.name, p.id, 'core', v.name, v.entrypoint,
       (SELECT id FROM runtime WHERE ref = v.runtime), 60
FROM pack p, (VALUES ('echo', 'echo.sh', 'core.shell'), ('sleep', 'sleep.sh', 'core.shell'),
                     ('noop', 'noop', 'core.native'),
                     ('http_request', 'http_request.py', 'core.python'))
     AS v(name, entrypoint, runtime)
WHERE p.ref = 'core';
INSERT INTO sensor (ref, pack, pack_ref, label, description, entrypoint,
                    runtime, runtime_ref, trigger, trigger_ref)
SELECT 'core.' || v.name, p.id, 'core', v.name, v.name || ' sensor', v.name,
       r.id, r.ref, t.id, t.ref
FROM pack p
CROSS JOIN (VALUES ('interval_timer_sensor', 'core.intervaltimer'),
                   ('cron_timer_sensor', 'core.crontimer')) AS v(name, trigger)
JOIN runtime r ON r.ref = 'core.sensor_builtin'
JOIN trigger t ON t.ref = v.trigger
WHERE p.ref = 'core';
";

#[test]
fn the_history_and_the_consolidated_set_hold_the_same_pack() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let migrated = |dir: &str, role: ChainRole| {
        let (mut client, server) = scratch_client(&format!("data_{role:?}").to_lowercase());
        MigrationChain::resolve(&root.join(dir), role)
            .unwrap()
            .apply(&mut client)
            .unwrap();
        client
            .batch_execute(CORE_PACK_ROWS)
            .expect("load the core pack rows");
        (client, server)
    };
    let ((mut old, _old_server), (mut new, _new_server)) = std::thread::scope(|s| {
        let old = s.spawn(|| migrated("migrations.old", ChainRole::History));
        let new = migrated("migrations", ChainRole::Consolidated);
        (old.join().unwrap(), new)
    });

    // The trap this comparison exists for: the history's runtime sequence has moved on.
    let python_id = "SELECT id FROM runtime WHERE ref = 'core.python'";
    let old_id: i64 = old.query_one(python_id, &[]).unwrap().get(0);
    let new_id: i64 = new.query_one(python_id, &[]).unwrap().get(0);
    assert_ne!(old_id, new_id);

    let started = Instant::now();
    let new_data = DataSnapshot::read(&mut new).unwrap();
    eprintln!(
        "snapshot of the core pack on the consolidated set: {:?}",
        started.elapsed()
    );
    let old_data = DataSnapshot::read(&mut old).unwrap();

    let diff = DataDiff::compare(&old_data, &new_data);
    assert!(diff.is_empty(), "{:#?}", diff.differences);
    assert_eq!(
        DataFingerprint::of(&old_data),
        DataFingerprint::of(&new_data)
    );
    let counts = new_data.counts();
    for (table, rows) in [
        ("pack", 1),
        ("runtime", 5),
        ("trigger", 3),
        ("action", 4),
        ("sensor", 2),
    ] {
        assert!(counts.contains(&(table, rows)), "{table}: {counts:?}");
    }
    assert!(!new_data.tables.contains_key("_sqlx_migrations"));
    let sensor = &new_data.tables["sensor"];
    assert_eq!(sensor.references["runtime"], "runtime");
    assert_eq!(sensor.references["trigger"], "trigger");
}
