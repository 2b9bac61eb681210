//! End-to-end tests of `consolidate`, `rollback` and `status`: the real binary on a
//! temporary repository, against real PostgreSQL (a throwaway cluster per run), with
//! `kill -9` at every step of the journaled swap.

// Without the `failpoints` feature the binary ignores XTASK_FAILPOINT, so the tests that kill
// it mid-swap are left out, and with them some helpers.
#![cfg_attr(not(feature = "failpoints"), allow(dead_code, unused_imports))]

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use sha2::Digest;

/// The failpoints' names, from the code that honours them.
#[allow(dead_code)]
#[path = "../src/tree/failpoint.rs"]
mod failpoint;

/// The files of a tree and their bytes, by path relative to its root.
type Snapshot = BTreeMap<PathBuf, Vec<u8>>;

struct Repository {
    dir: tempfile::TempDir,
}

const HISTORY: [(&str, &str); 3] = [
    (
        "20250101000001_initial.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE);\n",
    ),
    (
        "20250101000002_label.sql",
        "ALTER TABLE pack ADD COLUMN label TEXT;\nALTER TABLE pack ADD COLUMN legacy TEXT;\n",
    ),
    (
        "20250101000003_drop_legacy.sql",
        "ALTER TABLE pack DROP COLUMN legacy;\n",
    ),
];

const CONSOLIDATED: [(&str, &str); 1] = [(
    "00001_initial.sql",
    "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE, label TEXT);\n",
)];

impl Repository {
    /// A small history in `migrations/` and its consolidated set staged in `migrations.new/`.
    fn staged() -> Repository {
        let repository = Repository {
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, sql) in HISTORY {
            repository.write(&format!("migrations/{name}"), sql);
        }
        for (name, sql) in CONSOLIDATED {
            repository.write(&format!("migrations.new/{name}"), sql);
        }
        repository
    }

    /// The repository's own history and consolidated set, staged, with the core pack.
    fn copy_of_this_repository() -> Repository {
        let repository = Repository {
            dir: tempfile::tempdir().unwrap(),
        };
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        for (from, to) in [
            ("migrations.old", "migrations"),
            ("migrations", "migrations.new"),
            ("packs", "packs"),
        ] {
            for entry in walkdir::WalkDir::new(source.join(from)) {
                let entry = entry.unwrap();
                let relative = entry.path().strip_prefix(source.join(from)).unwrap();
                let name = relative
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                // The bookkeeping of an earlier consolidation is not part of the sets.
                if entry.file_type().is_file()
                    && name != "MANIFEST.sum"
                    && name != "consolidation.lock"
                {
                    let bytes = std::fs::read(entry.path()).unwrap();
                    repository.write_bytes(&Path::new(to).join(relative), &bytes);
                }
            }
        }
        repository
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, text: &str) {
        self.write_bytes(Path::new(relative), text.as_bytes());
    }

    fn write_bytes(&self, relative: &Path, bytes: &[u8]) {
        let path = self.root().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn snapshot(&self) -> Snapshot {
        walkdir::WalkDir::new(self.root())
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let relative = e.path().strip_prefix(self.root()).unwrap().to_owned();
                (relative, std::fs::read(e.path()).unwrap())
            })
            .collect()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None)
    }

    fn run_with(&self, args: &[&str], failpoint: Option<&str>) -> Output {
        let mut cmd = Command::cargo_bin("xtask").unwrap();
        cmd.env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache())
            .arg("--root")
            .arg(self.root())
            .args(args);
        match failpoint {
            Some(name) => cmd.env(failpoint::VAR, name),
            None => cmd.env_remove(failpoint::VAR),
        };
        cmd.output().unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// A snapshot with the lock record's time line, and the digest that covers it, left out:
/// the only bytes two consolidations of the same tree may differ in.
fn without_lock_time(snapshot: &Snapshot) -> Snapshot {
    let mut snapshot = snapshot.clone();
    for record in ["migrations/consolidation.lock", "migrations/baseline.lock"] {
        let Some(bytes) = snapshot.get_mut(Path::new(record)) else {
            continue;
        };
        let kept: Vec<&str> = std::str::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("time = ") && !l.starts_with("record-digest = "))
            .collect();
        *bytes = kept.join("\n").into_bytes();
    }
    snapshot
}

#[test]
fn rollback_then_consolidate_returns_the_repository_to_where_it_was() {
    let repository = Repository::copy_of_this_repository();
    let staged = repository.snapshot();

    assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);
    let consolidated = repository.snapshot();
    assert!(consolidated.contains_key(Path::new("migrations.old/MANIFEST.sum")));
    assert!(consolidated.contains_key(Path::new("migrations/consolidation.lock")));
    assert!(!consolidated.keys().any(|p| p.starts_with("migrations.new")));
    for (name, bytes) in &staged {
        if let Ok(rest) = name.strip_prefix("migrations") {
            assert_eq!(
                consolidated.get(&Path::new("migrations.old").join(rest)),
                Some(bytes),
                "{name:?}"
            );
        }
    }

    let status = repository.run(&["status"]);
    assert_exit(&status, 0);
    assert!(text(&status).contains("consolidated"), "{}", text(&status));
    assert_exit(&repository.run(&["verify", "--quiet"]), 0);

    assert_exit(&repository.run(&["rollback"]), 0);
    assert_eq!(
        repository.snapshot(),
        staged,
        "rollback must restore the staged tree byte for byte"
    );
    assert_exit(&repository.run(&["rollback"]), 0);
    assert_eq!(
        repository.snapshot(),
        staged,
        "a second rollback changes nothing"
    );

    assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);
    assert_eq!(
        without_lock_time(&repository.snapshot()),
        without_lock_time(&consolidated)
    );
}

#[test]
fn drift_in_the_staged_set_makes_consolidate_refuse_and_touch_nothing() {
    let repository = Repository::staged();
    repository.write(
        "migrations.new/00001_initial.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE, label TEXT DEFAULT 'x');\n",
    );
    let before = repository.snapshot();
    let output = repository.run(&["consolidate", "--quiet"]);
    assert_exit(&output, 1);
    assert!(
        text(&output).contains("column pack.label: default differs"),
        "{}",
        text(&output)
    );
    assert!(
        text(&output).contains("left exactly as it was"),
        "{}",
        text(&output)
    );
    assert_eq!(repository.snapshot(), before);
}

#[test]
fn dry_run_verifies_but_touches_nothing() {
    let repository = Repository::staged();
    let before = repository.snapshot();
    let output = repository.run(&["consolidate", "--dry-run", "--quiet"]);
    assert_exit(&output, 0);
    assert!(text(&output).contains("dry run"), "{}", text(&output));
    assert_eq!(repository.snapshot(), before);
}

#[test]
fn consolidate_json_says_whether_the_swap_happened() {
    let repository = Repository::staged();
    for (args, swapped) in [
        (
            &["consolidate", "--dry-run", "--format", "json", "--quiet"][..],
            false,
        ),
        (&["consolidate", "--format", "json", "--quiet"][..], true),
    ] {
        let output = repository.run(args);
        assert_exit(&output, 0);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["format_version"], 1, "{report}");
        assert_eq!(report["swapped"], swapped, "{args:?}");
        assert_eq!(report["equal"], true);
    }
    assert!(repository
        .root()
        .join("migrations/consolidation.lock")
        .exists());
}

#[test]
fn consolidate_refuses_without_a_staged_set_or_beside_an_existing_backup() {
    let repository = Repository::staged();
    std::fs::rename(
        repository.root().join("migrations.new"),
        repository.root().join("elsewhere"),
    )
    .unwrap();
    let output = repository.run(&["consolidate"]);
    assert_exit(&output, 2);
    assert!(
        text(&output).contains("migrations.new"),
        "{}",
        text(&output)
    );

    let output = repository.run(&["consolidate", "--staging", "elsewhere", "--quiet"]);
    assert_exit(&output, 0);
    assert_exit(&repository.run(&["rollback", "--staging", "elsewhere"]), 0);
    repository.write("migrations.old/keep.sql", "SELECT 1;\n");
    let before = repository.snapshot();
    let output = repository.run(&["consolidate", "--staging", "elsewhere"]);
    assert_exit(&output, 2);
    assert!(
        text(&output).contains("migrations.old"),
        "{}",
        text(&output)
    );
    assert_eq!(repository.snapshot(), before);

    assert_exit(
        &repository.run(&[
            "consolidate",
            "--staging",
            "elsewhere",
            "--force",
            "--quiet",
        ]),
        0,
    );
    let kept: Vec<_> = repository
        .snapshot()
        .into_keys()
        .filter(|p| p.to_string_lossy().starts_with("migrations.old.") && p.ends_with("keep.sql"))
        .collect();
    assert_eq!(kept.len(), 1, "--force must keep the earlier backup aside");
}

#[test]
fn a_tampered_backup_makes_rollback_refuse_and_verify_names_changed_files() {
    let repository = Repository::staged();
    assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);

    repository.write("migrations/00001_initial.sql", "-- edited\nCREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE, label TEXT);\n");
    let output = repository.run(&["verify", "--quiet"]);
    assert_exit(&output, 1);
    assert!(
        text(&output).contains("migrations/: edited: 00001_initial.sql"),
        "{}",
        text(&output)
    );
    for (name, sql) in CONSOLIDATED {
        repository.write(&format!("migrations/{name}"), sql);
    }
    assert_exit(&repository.run(&["verify", "--quiet"]), 0);

    repository.write(
        "migrations.old/20250101000003_drop_legacy.sql",
        "SELECT 1;\n",
    );
    let before = repository.snapshot();
    let output = repository.run(&["rollback"]);
    assert_exit(&output, 1);
    assert!(
        text(&output).contains("20250101000003_drop_legacy.sql"),
        "{}",
        text(&output)
    );
    assert_eq!(repository.snapshot(), before);
    let status = repository.run(&["status"]);
    assert_exit(&status, 1);

    assert_exit(&repository.run(&["rollback", "--force"]), 0);
    assert_eq!(
        std::fs::read_to_string(
            repository
                .root()
                .join("migrations/20250101000003_drop_legacy.sql")
        )
        .unwrap(),
        "SELECT 1;\n"
    );
}

#[test]
fn a_history_edited_with_its_manifest_regenerated_is_caught_by_the_lock_record() {
    let repository = Repository::staged();
    assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);
    repository.write(
        "migrations.old/20250101000003_drop_legacy.sql",
        "SELECT 1;\n",
    );
    let files: String = HISTORY
        .iter()
        .map(|(name, _)| {
            let bytes = std::fs::read(repository.root().join("migrations.old").join(name)).unwrap();
            let hash = sha2::Sha256::digest(&bytes);
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}  {name}\n")
        })
        .collect();
    let digest: String = sha2::Sha256::digest(files.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    repository.write(
        "migrations.old/MANIFEST.sum",
        &format!("digest {digest}\n{files}"),
    );

    let status = repository.run(&["status"]);
    assert_exit(&status, 1);
    assert!(
        text(&status).contains("edited: 20250101000003_drop_legacy.sql"),
        "{}",
        text(&status)
    );
    let verify = repository.run(&["verify", "--quiet"]);
    assert_exit(&verify, 1);
    assert!(
        text(&verify).contains("migrations.old/: edited: 20250101000003_drop_legacy.sql"),
        "{}",
        text(&verify)
    );
    let before = repository.snapshot();
    assert_exit(&repository.run(&["rollback"]), 1);
    assert_eq!(repository.snapshot(), before);

    let lock = repository.root().join("migrations/consolidation.lock");
    let record = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(
        &lock,
        record.replacen("tool-version = \"", "tool-version = \"9", 1),
    )
    .unwrap();
    let status = repository.run(&["status"]);
    assert_exit(&status, 1);
    assert!(
        text(&status).contains("consolidation.lock: the record was edited"),
        "{}",
        text(&status)
    );
}

fn consolidate_failpoints() -> Vec<String> {
    let mut names = vec![
        failpoint::after_begin("consolidate"),
        failpoint::during_step("consolidate", 1),
        failpoint::during_step("consolidate", 5),
    ];
    for step in 1..=5 {
        names.push(failpoint::before_record_step("consolidate", step));
        names.push(failpoint::after_step("consolidate", step));
    }
    names
}

#[track_caller]
fn assert_killed(output: &Output, failpoint: &str) {
    assert_eq!(
        output.status.signal(),
        Some(9),
        "{failpoint} was not reached: {}",
        text(output)
    );
}

/// After a kill, every command but the ones that recover refuses and says what to do.
#[track_caller]
fn assert_interrupted(repository: &Repository, failpoint: &str) {
    let status = repository.run(&["status"]);
    assert_exit(&status, 1);
    assert!(
        text(&status).contains("interrupted"),
        "{failpoint}: {}",
        text(&status)
    );
    let verify = repository.run(&["verify", "--quiet"]);
    assert_exit(&verify, 2);
    assert!(
        text(&verify).contains("rollback"),
        "{failpoint}: {}",
        text(&verify)
    );
}

#[test]
#[cfg(feature = "failpoints")]
fn a_consolidation_killed_at_any_step_is_finished_by_consolidate_or_undone_by_rollback() {
    let reference = Repository::staged();
    let staged = reference.snapshot();
    assert_exit(&reference.run(&["consolidate", "--quiet"]), 0);
    let consolidated = without_lock_time(&reference.snapshot());

    for (i, failpoint) in consolidate_failpoints().iter().enumerate() {
        let repository = Repository::staged();
        let output = repository.run_with(&["consolidate", "--quiet"], Some(failpoint));
        assert_killed(&output, failpoint);
        assert_interrupted(&repository, failpoint);
        // Alternate between the two ways out.
        if i % 2 == 0 {
            assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);
            assert_eq!(
                without_lock_time(&repository.snapshot()),
                consolidated,
                "{failpoint}"
            );
        } else {
            assert_exit(&repository.run(&["rollback"]), 0);
            assert_eq!(repository.snapshot(), staged, "{failpoint}");
        }
    }
}

#[test]
#[cfg(feature = "failpoints")]
fn a_rollback_killed_at_any_step_is_finished_by_rollback() {
    let repository = Repository::staged();
    let staged = repository.snapshot();
    assert_exit(&repository.run(&["consolidate", "--quiet"]), 0);
    let consolidated = repository.snapshot();

    let mut failpoints = vec![failpoint::after_begin("rollback")];
    for step in 1..=4 {
        failpoints.push(failpoint::before_record_step("rollback", step));
        failpoints.push(failpoint::after_step("rollback", step));
    }
    for failpoint in &failpoints {
        let output = repository.run_with(&["rollback"], Some(failpoint));
        assert_killed(&output, failpoint);
        assert_interrupted(&repository, failpoint);
        assert_exit(&repository.run(&["rollback"]), 0);
        assert_eq!(repository.snapshot(), staged, "{failpoint}");

        // Back to consolidated for the next failpoint, by restoring the exact files.
        for entry in std::fs::read_dir(repository.root()).unwrap() {
            std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
        }
        for (name, bytes) in &consolidated {
            repository.write_bytes(name, bytes);
        }
    }
}

#[test]
fn a_broken_pack_is_refused_before_any_server_starts() {
    let repository = Repository::staged();
    repository.write(
        "packs/core/pack.yaml",
        "ref: core\nlabel: Core\nversion: 1.0.0\n",
    );
    repository.write(
        "packs/core/actions/echo.yaml",
        "ref: core.echo\nlabel: Echo\nentrypoint: echo.sh\nruntime: core.python\n",
    );
    repository.write("packs/core/actions/echo.sh", "echo\n");
    let output = repository.run(&["consolidate"]);
    assert_exit(&output, 2);
    let shown = text(&output);
    assert!(shown.contains("actions/echo.yaml:4:10"), "{shown}");
    assert!(shown.contains("core.python"), "{shown}");
    assert!(!repository.root().join("migrations.old").exists());
}

/// Whether the process is stopped (state `T` in `/proc/<pid>/stat`).
fn is_stopped(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('T'))
    })
}

#[test]
#[cfg(feature = "failpoints")]
fn a_second_writer_is_refused_while_the_first_is_frozen_mid_swap() {
    let reference = Repository::staged();
    assert_exit(&reference.run(&["consolidate", "--quiet"]), 0);
    let consolidated = without_lock_time(&reference.snapshot());

    let repository = Repository::staged();
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("xtask"))
        .env_remove("DATABASE_URL")
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache())
        .env(failpoint::VAR, failpoint::after_step("consolidate", 3))
        .env(failpoint::SIGNAL_VAR, "STOP")
        .arg("--root")
        .arg(repository.root())
        .args(["consolidate", "--quiet"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id();
    // It verifies first, then stops itself between two steps of the swap.
    while !is_stopped(pid) {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended before the failpoint"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let frozen = repository.snapshot();

    for command in [&["consolidate", "--quiet"][..], &["rollback"]] {
        let output = repository.run(command);
        assert_exit(&output, 2);
        let shown = text(&output);
        assert!(
            shown.contains("another run is changing the tree"),
            "{shown}"
        );
        assert!(shown.contains(&format!("process {pid}")), "{shown}");
    }
    let status = repository.run(&["status"]);
    assert_exit(&status, 1);
    assert!(text(&status).contains("under way"), "{}", text(&status));
    assert!(!text(&status).contains("interrupted"), "{}", text(&status));
    let verify = repository.run(&["verify", "--quiet"]);
    assert_exit(&verify, 2);
    assert!(text(&verify).contains("under way"), "{}", text(&verify));
    assert_eq!(repository.snapshot(), frozen);

    std::process::Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(first.wait().unwrap().success());
    assert_exit(&repository.run(&["status"]), 0);
    assert_eq!(without_lock_time(&repository.snapshot()), consolidated);
}

#[test]
fn migrations_added_after_the_consolidation_are_new_and_replayed_on_both_sides() {
    let repository = Repository::staged();
    assert_exit(&repository.run(&["consolidate"]), 0);
    repository.write(
        "migrations/20260301000000_pack_tags.sql",
        "ALTER TABLE pack ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}';\n",
    );
    repository.write("migrations/README.md", "How to add a migration.\n");

    let status = repository.run(&["status"]);
    assert_exit(&status, 0);
    let shown = text(&status);
    assert!(shown.contains("1 new since the consolidation"), "{shown}");
    assert!(shown.contains("20260301000000_pack_tags.sql"), "{shown}");
    assert!(
        shown.contains("files sqlx does not read changed"),
        "{shown}"
    );

    let verify = repository.run(&["verify", "--format", "json"]);
    assert_exit(&verify, 0);
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    let versions = |side: &str| -> Vec<i64> {
        report[side]["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["version"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(versions("old").last(), Some(&20260301000000));
    assert_eq!(versions("new"), [1, 20260301000000]);
    let notes = report["recorded"]["notes"].to_string();
    assert!(notes.contains("replayed on top of both sides"), "{notes}");

    // Editing a consolidated file, or adding one before its last version, is refused.
    repository.write(
        "migrations/00001_initial.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE, label TEXT);\n\n",
    );
    repository.write("migrations/00000_early.sql", "SELECT 1;\n");
    let verify = repository.run(&["verify"]);
    assert_exit(&verify, 1);
    let shown = text(&verify);
    assert!(
        shown.contains("migrations/: edited: 00001_initial.sql"),
        "{shown}"
    );
    assert!(shown.contains("00000_early.sql"), "{shown}");
    assert_exit(&repository.run(&["status"]), 1);
}

impl Repository {
    fn from_snapshot(snapshot: &Snapshot) -> Repository {
        let repository = Repository {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, bytes) in snapshot {
            repository.write_bytes(path, bytes);
        }
        repository
    }
}

#[test]
fn the_lifecycle_runs_to_a_retired_history_and_stays_green() {
    let repository = Repository::staged();
    assert_exit(&repository.run(&["consolidate"]), 0);
    repository.write(
        "migrations/20260301000000_pack_tags.sql",
        "ALTER TABLE pack ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}';\n",
    );
    assert_exit(&repository.run(&["verify"]), 0);
    assert_exit(&repository.run(&["status"]), 0);

    let retire = repository.run(&["retire"]);
    assert_exit(&retire, 0);
    assert!(text(&retire).contains("retired: "), "{}", text(&retire));
    let root = repository.root();
    assert!(!root.join("migrations.old").exists());
    assert!(!root.join("migrations/consolidation.lock").exists());
    let record = std::fs::read_to_string(root.join("migrations/baseline.lock")).unwrap();
    assert!(record.contains("00001_initial.sql"), "{record}");
    assert!(!record.contains("20260301000000_pack_tags.sql"), "{record}");

    // What CI runs, on the retired tree.
    let status = repository.run(&["status"]);
    assert_exit(&status, 0);
    assert!(text(&status).contains("retired: "), "{}", text(&status));
    assert!(text(&status).contains("1 new since"), "{}", text(&status));
    let verify = repository.run(&["verify"]);
    assert_exit(&verify, 0);
    assert!(text(&verify).contains("1 new since"), "{}", text(&verify));
    let analyze = repository.run(&["analyze", "--check", "docs/history-analysis.md"]);
    assert_exit(&analyze, 0);
    assert!(
        text(&analyze).contains("the history is retired"),
        "{}",
        text(&analyze)
    );
    assert_exit(&repository.run(&["retire"]), 0);
    let target = "postgres://app:hunter2@127.0.0.1:1/attune";
    let rebaseline = repository.run(&["rebaseline", "--target", target]);
    assert_exit(&rebaseline, 2);
    assert!(
        text(&rebaseline).contains("the history is retired"),
        "{}",
        text(&rebaseline)
    );
    assert!(
        !text(&rebaseline).contains("hunter2"),
        "{}",
        text(&rebaseline)
    );

    // Another migration: still green; an edit of the consolidated set: named.
    repository.write(
        "migrations/20260401000000_pack_note.sql",
        "ALTER TABLE pack ADD COLUMN note TEXT;\n",
    );
    assert_exit(&repository.run(&["verify"]), 0);
    assert_exit(&repository.run(&["status"]), 0);
    repository.write(
        "migrations/00001_initial.sql",
        "CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref TEXT NOT NULL UNIQUE);\n",
    );
    let verify = repository.run(&["verify"]);
    assert_exit(&verify, 1);
    assert!(
        text(&verify).contains("edited: 00001_initial.sql"),
        "{}",
        text(&verify)
    );
    assert!(
        text(&verify).contains("schema fingerprint"),
        "{}",
        text(&verify)
    );
    assert_exit(&repository.run(&["status"]), 1);
}

fn retire_failpoints() -> Vec<String> {
    let mut names = vec![
        failpoint::after_begin("retire"),
        failpoint::during_step("retire", 4),
    ];
    for step in 1..=4 {
        names.push(failpoint::before_record_step("retire", step));
        names.push(failpoint::after_step("retire", step));
    }
    names
}

#[test]
#[cfg(feature = "failpoints")]
fn a_retirement_killed_at_any_step_is_finished_by_retire() {
    let reference = Repository::staged();
    assert_exit(&reference.run(&["consolidate"]), 0);
    let consolidated = reference.snapshot();
    assert_exit(&reference.run(&["retire"]), 0);
    let retired = without_lock_time(&reference.snapshot());
    for failpoint in retire_failpoints() {
        let repository = Repository::from_snapshot(&consolidated);
        assert_killed(
            &repository.run_with(&["retire"], Some(&failpoint)),
            &failpoint,
        );
        let status = repository.run(&["status"]);
        assert_exit(&status, 1);
        assert!(
            text(&status).contains("retiring the history was interrupted"),
            "{failpoint}: {}",
            text(&status)
        );
        assert_exit(&repository.run(&["rollback"]), 2);
        let finished = repository.run(&["retire"]);
        assert_exit(&finished, 0);
        assert!(
            text(&finished).contains("finished the interrupted retirement"),
            "{failpoint}: {}",
            text(&finished)
        );
        assert_eq!(
            without_lock_time(&repository.snapshot()),
            retired,
            "{failpoint}"
        );
    }
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn test_initdb_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}
