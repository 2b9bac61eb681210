//! The analysis read in parts agrees with the analysis read whole: after every migration of
//! the repository's history, of generated ones and of one that does what event triggers do
//! not report, the catalog read in parts is the whole catalog (checked by
//! [`Snapshots::Checked`]), and the reports are byte for byte the same.

use std::path::Path;

use super::*;
use crate::bench::history::SyntheticHistory;
use crate::migrations::{ChainRole, MigrationChain};

/// Analyzes `dir` in parts (checked after every migration) and whole; both reports, as
/// Markdown and as JSON, must be the same. Returns the incremental replay's timings. Each
/// runs on a throwaway cluster of its own, as users run it: roles are the cluster's, and
/// another test's would be seen.
fn agree(dir: &Path) -> ReplayTimings {
    let chain = MigrationChain::resolve(dir, ChainRole::History).unwrap();
    let options = ServerOptions::default();
    let progress = Progress::new(true);
    let (parts, timings) = analyze(&options, &chain, &progress, Snapshots::Checked).unwrap();
    let (whole, _) = analyze(&options, &chain, &progress, Snapshots::Whole).unwrap();
    assert_eq!(parts.to_markdown(), whole.to_markdown());
    assert_eq!(
        serde_json::to_string_pretty(&parts).unwrap(),
        serde_json::to_string_pretty(&whole).unwrap()
    );
    timings
}

#[test]
fn the_repository_history_reads_the_same_in_parts() {
    let history = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations.old");
    let timings = agree(&history);
    assert_eq!(timings.whole_reads, []);
}

#[test]
fn generated_histories_read_the_same_in_parts_without_a_whole_read() {
    for (migrations, seed) in [(40, 11), (90, 5)] {
        let dir = tempfile::tempdir().unwrap();
        SyntheticHistory::generate(migrations, seed)
            .write(dir.path())
            .unwrap();
        let timings = agree(&dir.path().join("history"));
        assert_eq!(timings.whole_reads, []);
    }
}

#[test]
fn what_event_triggers_miss_or_see_without_an_object_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "1_start.sql",
            "CREATE SCHEMA audit;
             CREATE TYPE mood AS ENUM ('calm');
             CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);
             CREATE TABLE \"a.b\" (id int PRIMARY KEY, m mood DEFAULT 'calm', p positive);
             CREATE TABLE audit.log (id serial PRIMARY KEY, ab int REFERENCES \"a.b\"(id), note text);
             CREATE INDEX log_note ON audit.log (note);
             CREATE VIEW recent AS SELECT id, note FROM audit.log;
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
             CREATE TRIGGER touch BEFORE INSERT ON audit.log FOR EACH ROW EXECUTE FUNCTION touch();",
        ),
        ("2_rows.sql", "INSERT INTO \"a.b\" VALUES (1, 'calm', 1), (2, 'calm', 2);"),
        ("3_rename_column.sql", "ALTER TABLE audit.log RENAME COLUMN note TO remark;"),
        ("4_rename_table.sql", "ALTER TABLE \"a.b\" RENAME TO \"c.d\";"),
        ("5_rename_schema.sql", "ALTER SCHEMA audit RENAME TO journal;"),
        ("6_enum.sql", "ALTER TYPE mood ADD VALUE 'busy'; ALTER TYPE mood RENAME VALUE 'calm' TO 'still';"),
        ("7_domain.sql", "ALTER DOMAIN positive DROP CONSTRAINT positive_check;"),
        ("8_grant.sql", "GRANT SELECT ON journal.log TO PUBLIC;"),
        ("9_comment.sql", "COMMENT ON COLUMN journal.log.remark IS 'why';"),
        ("10_cluster.sql", "CLUSTER journal.log USING log_note;"),
        ("11_truncate.sql", "TRUNCATE \"c.d\" CASCADE;"),
        ("12_drop_members.sql", "DROP INDEX journal.log_note; DROP TRIGGER touch ON journal.log;"),
        ("13_function.sql", "ALTER FUNCTION touch() RENAME TO touched;"),
        ("14_rows_again.sql", "INSERT INTO \"c.d\" VALUES (3, 'busy', 3); DELETE FROM \"c.d\";"),
        ("15_role.sql", "DO $$ BEGIN CREATE ROLE xtask_analyze_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;"),
        ("16_drop.sql", "DROP VIEW recent; DROP TABLE journal.log; DROP SCHEMA journal;"),
        ("17_nothing.sql", "SELECT 1;"),
    ];
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    let timings = agree(dir.path());
    // GRANT, CLUSTER and the role are read whole; nothing else is.
    let whole: Vec<&str> = timings
        .whole_reads
        .iter()
        .map(|(file, _)| file.as_str())
        .collect();
    assert_eq!(whole, ["8_grant.sql", "10_cluster.sql", "15_role.sql"]);
}
