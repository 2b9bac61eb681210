//! `rebaseline` against sqlx's own migrator (0.8, as the application embeds it), on a
//! target database of a throwaway cluster: every state it reports, apply and undo, and
//! sqlx's advisory lock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{Connection, PgConnection};

use super::*;
use crate::pg::testing::scratch_url;
use crate::pg::ScratchServer;
use crate::sqlx_table::lock::lock_id;

/// A history sqlx can run: a table, a column added and one dropped, a function rewritten.
const HISTORY: [(&str, &str); 4] = [
    (
        "20250101000001_create_pack.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE);\n",
    ),
    (
        "20250101000002_pack_label.sql",
        "ALTER TABLE pack ADD COLUMN label TEXT;\nALTER TABLE pack ADD COLUMN legacy TEXT;\n",
    ),
    (
        "20250101000003_drop_legacy.sql",
        "ALTER TABLE pack DROP COLUMN legacy;\n\
         CREATE FUNCTION pack_count() RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint';\n",
    ),
    (
        "20250101000004_pack_count.sql",
        "CREATE OR REPLACE FUNCTION pack_count() RETURNS bigint LANGUAGE sql \
         AS 'SELECT count(*) FROM pack';\n",
    ),
];

/// The same schema in one file.
const CONSOLIDATED: [(&str, &str); 2] = [
    (
        "00001_pack.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE, label TEXT);\n",
    ),
    (
        "00002_pack_count.sql",
        "CREATE FUNCTION pack_count() RETURNS bigint LANGUAGE sql \
         AS 'SELECT count(*) FROM pack';\n",
    ),
];

const LATER: (&str, &str) = (
    "20260301000000_pack_tags.sql",
    "ALTER TABLE pack ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}';\n",
);

struct Fixture {
    root: tempfile::TempDir,
    target: String,
    /// Scratch databases for the consolidated set's replay, on the same cluster.
    scratch: String,
    _server: Arc<ScratchServer>,
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    rebaseline: Rebaseline,
}

impl Fixture {
    /// A target database and a root with the history in `old/` and the set in `new/`.
    fn new(label: &str) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        write_dir(&root.path().join("old"), &HISTORY);
        write_dir(&root.path().join("new"), &CONSOLIDATED);
        let (target, server) = scratch_url(label);
        let (scratch, _) = scratch_url("postgres");
        Fixture {
            root,
            target,
            scratch,
            _server: server,
        }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn command(&self, extra: &[&str]) -> Rebaseline {
        let old = self.dir("old");
        let new = self.dir("new");
        let mut args = vec![
            "rebaseline",
            "--target",
            &self.target,
            "--database-url",
            &self.scratch,
            "--old",
            old.to_str().unwrap(),
            "--new",
            new.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args).unwrap().rebaseline
    }

    fn judge(&self, extra: &[&str]) -> Judged {
        self.command(extra).judge(self.root.path()).unwrap()
    }

    /// Runs sqlx's migrator over `dir`, as the application does at start-up.
    fn migrate(&self, dir: &Path) -> Result<(), MigrateError> {
        runtime().block_on(async {
            let mut conn = PgConnection::connect(&self.target).await.unwrap();
            let migrator = Migrator::new(dir).await.unwrap();
            let result = migrator.run(&mut conn).await;
            conn.close().await.unwrap();
            result
        })
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.target, postgres::NoTls).unwrap()
    }

    /// Every row of every table, and every object of the public schema, as text.
    fn snapshot(&self) -> Vec<String> {
        let mut client = self.client();
        let mut lines = Vec::new();
        let tables: Vec<String> = client
            .query(
                "SELECT format('%I', relname) FROM pg_class WHERE relnamespace = \
                 'public'::regnamespace AND relkind = 'r' ORDER BY relname",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        for table in tables {
            for row in client
                .query(&format!("SELECT t::text FROM {table} t ORDER BY 1"), &[])
                .unwrap()
            {
                lines.push(format!("{table}: {}", row.get::<_, String>(0)));
            }
        }
        for row in client
            .query(
                "SELECT format('%s %s', relkind, relname) FROM pg_class WHERE relnamespace = \
                 'public'::regnamespace UNION ALL SELECT pg_get_functiondef(oid) FROM pg_proc \
                 WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
                &[],
            )
            .unwrap()
        {
            lines.push(row.get(0));
        }
        lines
    }

    fn versions(&self) -> Vec<i64> {
        self.client()
            .query("SELECT version FROM _sqlx_migrations ORDER BY version", &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }
}

fn write_dir(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).unwrap();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sqlx_accepts_the_rebaselined_database_and_undo_restores_every_row() {
    let fixture = Fixture::new("sqlx");
    fixture.migrate(&fixture.dir("old")).unwrap();
    let before = fixture.snapshot();

    // What the application meets after the swap, before a rebaseline.
    let err = fixture.migrate(&fixture.dir("new")).unwrap_err();
    assert!(
        matches!(err, MigrateError::VersionMissing(20250101000001)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("previously applied but is missing"),
        "{err}"
    );

    let plan = fixture.judge(&[]);
    let Standing::EndOfHistory { remove, add, .. } = &plan.standing else {
        panic!("{:?}", plan.standing);
    };
    assert_eq!(remove.len(), 4);
    assert_eq!(
        add.iter().map(|r| r.version).collect::<Vec<_>>(),
        [1, 2],
        "{add:?}"
    );
    assert!(!plan.applied);
    assert_eq!(fixture.snapshot(), before, "the plan wrote to the target");

    let code = fixture
        .command(&["--format", "json"])
        .run(fixture.root.path());
    assert_eq!(code.unwrap(), exit::OK);
    assert_eq!(fixture.snapshot(), before, "the plan wrote to the target");
    let applied = fixture.judge(&["--apply"]);
    assert!(applied.applied, "{:?}", applied.standing);
    assert_eq!(fixture.versions(), [1, 2]);

    // The migrator starts, applies nothing and changes nothing.
    let rebaselined = fixture.snapshot();
    fixture.migrate(&fixture.dir("new")).unwrap();
    assert_eq!(fixture.snapshot(), rebaselined);
    let again = fixture.judge(&["--apply"]);
    assert!(
        matches!(&again.standing, Standing::Rebaselined { pending } if pending.is_empty()),
        "{:?}",
        again.standing
    );
    assert!(!again.applied);
    assert_eq!(again.standing.exit_code(), exit::OK);

    // Undo puts back every row, byte for byte, and removes the backup.
    let undone = fixture
        .command(&["--undo"])
        .undo(fixture.root.path())
        .unwrap();
    assert_eq!(undone.restored, 4);
    assert_eq!(fixture.snapshot(), before);

    // Again, then a migration written after the consolidation runs normally.
    fixture.judge(&["--apply"]);
    write_dir(&fixture.dir("new"), &[LATER]);
    let pending = fixture.judge(&[]);
    assert!(
        matches!(&pending.standing, Standing::Rebaselined { pending } if pending.len() == 1),
        "{:?}",
        pending.standing
    );
    fixture.migrate(&fixture.dir("new")).unwrap();
    assert_eq!(fixture.versions(), [1, 2, 20260301000000]);
    let columns: i64 = fixture
        .client()
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'pack' \
             AND column_name = 'tags'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(columns, 1);

    // Undoing now would hide that migration from the history's rows: refused.
    let err = format!(
        "{:#}",
        fixture
            .command(&["--undo"])
            .undo(fixture.root.path())
            .err()
            .unwrap()
    );
    assert!(err.contains("20260301000000 (pack tags)"), "{err}");
}

#[test]
fn a_database_behind_the_history_is_refused_with_the_missing_versions() {
    let fixture = Fixture::new("behind");
    write_dir(&fixture.dir("partial"), &HISTORY[..2]);
    fixture.migrate(&fixture.dir("partial")).unwrap();
    let before = fixture.snapshot();
    let judged = fixture.judge(&["--apply"]);
    let Standing::Behind { missing } = &judged.standing else {
        panic!("{:?}", judged.standing);
    };
    let missing: Vec<i64> = missing.iter().map(|v| v.version).collect();
    assert_eq!(missing, [20250101000003, 20250101000004]);
    assert_eq!(judged.standing.exit_code(), exit::DIFFERENT);
    assert!(!judged.applied);
    assert_eq!(fixture.snapshot(), before);
}

#[test]
fn a_drifted_database_is_refused_with_every_difference() {
    let fixture = Fixture::new("drifted");
    fixture.migrate(&fixture.dir("old")).unwrap();
    fixture
        .client()
        .batch_execute(
            "ALTER TABLE pack ADD COLUMN hotfix INT; CREATE INDEX idx_pack_label ON pack (label)",
        )
        .unwrap();
    let before = fixture.snapshot();
    let code = fixture.command(&["--apply"]).run(fixture.root.path());
    assert_eq!(code.unwrap(), exit::DIFFERENT);
    let judged = fixture.judge(&["--apply"]);
    let Standing::Drifted { differences } = &judged.standing else {
        panic!("{:?}", judged.standing);
    };
    let named: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert!(
        named.contains(&"column pack.hotfix: only in old".to_owned()),
        "{named:?}"
    );
    assert!(
        named.iter().any(|d| d.contains("idx_pack_label")),
        "{named:?}"
    );
    assert_eq!(judged.standing.exit_code(), exit::DIFFERENT);
    assert_eq!(fixture.snapshot(), before);
}

#[test]
fn edited_unknown_and_failed_rows_are_refused_by_name() {
    let fixture = Fixture::new("tampered");
    fixture.migrate(&fixture.dir("old")).unwrap();
    fixture
        .client()
        .batch_execute(
            "UPDATE _sqlx_migrations SET checksum = '\\x00' WHERE version = 20250101000002;
             UPDATE _sqlx_migrations SET success = false WHERE version = 20250101000004;
             INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (20250505000000, 'hand made', true, '\\x01', 1);",
        )
        .unwrap();
    let before = fixture.snapshot();
    let judged = fixture.judge(&["--apply"]);
    let Standing::Tampered { problems } = &judged.standing else {
        panic!("{:?}", judged.standing);
    };
    let all = problems.join("\n");
    assert!(
        all.contains("version 20250101000002 (pack label): the recorded checksum differs"),
        "{all}"
    );
    assert!(
        all.contains("version 20250101000004 (pack count) is recorded as failed"),
        "{all}"
    );
    assert!(
        all.contains("version 20250505000000 (hand made) is in neither"),
        "{all}"
    );
    assert_eq!(problems.len(), 3, "{all}");
    assert_eq!(fixture.snapshot(), before);
}

#[test]
fn a_database_that_never_migrated_has_nothing_to_rebaseline() {
    let fixture = Fixture::new("empty");
    let judged = fixture.judge(&["--apply"]);
    assert!(
        matches!(judged.standing, Standing::NothingApplied),
        "{:?}",
        judged.standing
    );
    assert!(judged.table.is_none());
    assert!(fixture.snapshot().is_empty());
}

#[test]
fn a_held_migration_lock_makes_rebaseline_wait_then_refuse() {
    let fixture = Fixture::new("locked");
    fixture.migrate(&fixture.dir("old")).unwrap();
    let before = fixture.snapshot();
    let runtime = runtime();
    // The application's migrator, holding its lock as it does while it migrates.
    let mut app = runtime.block_on(async {
        let mut conn = PgConnection::connect(&fixture.target).await.unwrap();
        conn.lock().await.unwrap();
        conn
    });

    // sqlx's lock id is ours: the server shows the lock the application holds under it.
    let database: String = fixture
        .client()
        .query_one("SELECT current_database()", &[])
        .unwrap()
        .get(0);
    let id = lock_id(&database);
    let held: i64 = fixture
        .client()
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND (classid::bigint << 32) | objid::bigint = $1",
            &[&id],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 1);

    let err = format!(
        "{:#}",
        fixture
            .command(&["--apply", "--lock-timeout", "1"])
            .judge(fixture.root.path())
            .err()
            .unwrap()
    );
    assert!(err.contains("sqlx's migration lock"), "{err}");
    assert!(err.contains("still held by server process"), "{err}");
    assert_eq!(fixture.snapshot(), before);

    // A longer wait goes on once the migrator lets go, and only then writes.
    std::thread::scope(|scope| {
        let waiting = scope.spawn(|| fixture.judge(&["--apply", "--lock-timeout", "60"]));
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(
            fixture.snapshot(),
            before,
            "written while the lock was held"
        );
        runtime.block_on(async {
            app.unlock().await.unwrap();
        });
        let judged = waiting.join().unwrap();
        assert!(judged.applied, "{:?}", judged.standing);
    });
    assert_eq!(fixture.versions(), [1, 2]);
    runtime.block_on(app.close()).unwrap();
}

#[test]
fn row_classification_without_a_server() {
    let row = |version: i64, checksum: u8| AppliedRow {
        version,
        description: format!("m{version}"),
        installed_on: "2026-01-01 00:00:00.000000Z".into(),
        success: true,
        checksum: vec![checksum],
        execution_time: 1,
    };
    let new = |version: i64, checksum: u8| NewRow {
        version,
        description: format!("m{version}"),
        checksum: vec![checksum],
    };
    // The repository's history has two files of one version; either checksum is the one.
    let history = [new(10, 1), new(20, 2), new(20, 3)];
    let consolidated = [new(1, 9)];
    let judge = |rows: &[AppliedRow]| classify_rows(rows, &history, &consolidated, &[]);
    assert!(matches!(
        judge(&[row(10, 1), row(20, 3)]),
        Standing::EndOfHistory { .. }
    ));
    assert!(matches!(
        judge(&[row(10, 1)]),
        Standing::Behind { missing } if missing.len() == 1 && missing[0].version == 20
    ));
    assert!(matches!(
        judge(&[row(10, 1), row(1, 9)]),
        Standing::Tampered { problems } if problems[0].contains("belongs to the consolidated set")
    ));
    assert!(matches!(judge(&[row(1, 8)]), Standing::Tampered { .. }));
    assert!(matches!(judge(&[row(1, 9)]), Standing::Rebaselined { .. }));
}
