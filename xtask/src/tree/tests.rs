//! The swap and rollback on temporary trees, including a run cut off by SIGKILL at every
//! failpoint: the operation runs in a child process (this test binary, re-executed to run
//! the same test, which then only runs the operation: `ran_as_child`) that kills itself at
//! the named point.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;
use walkdir::WalkDir;

use super::failpoint;
use super::journal::{failpoints, Operation, CONSOLIDATE_STEPS, ROLLBACK_STEPS};
use super::lock::tests::sample;
use super::swap::{recover, undo, RollbackOutcome};
use super::*;

const HISTORY: &[(&str, &str)] = &[
    (
        "20250101000001_initial.sql",
        "CREATE TABLE pack (id bigserial);\n",
    ),
    (
        "20250101000002_runtime.sql",
        "CREATE TABLE runtime (id bigserial);\n",
    ),
    (
        "20250101000003_pack_system.sql",
        "ALTER TABLE pack ADD system bool;\r\n",
    ),
    ("fixtures/core.csv", "core,1\n"),
];

const CONSOLIDATED: &[(&str, &str)] = &[
    (
        "20250101000000_baseline.sql",
        "CREATE TABLE pack (id bigserial, system bool);\n",
    ),
    (
        "20250101000001_runtime.sql",
        "CREATE TABLE runtime (id bigserial);\n",
    ),
];

/// Every file and directory under a root, by relative path; directories map to `None`.
type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

/// The writer lock's record is left out: a killed run leaves it, the next run removes it.
fn snapshot(root: &Path) -> Snapshot {
    WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .filter(|entry| {
            entry
                .as_ref()
                .map_or(true, |entry| entry.file_name() != WRITER_FILE)
        })
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.path().strip_prefix(root).unwrap();
            let name = name.to_str().unwrap().to_owned();
            let bytes = entry
                .file_type()
                .is_file()
                .then(|| fs::read(entry.path()).unwrap());
            (name, bytes)
        })
        .collect()
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (name, contents) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }
}

fn staged_tree() -> (TempDir, Tree) {
    let root = tempfile::tempdir().unwrap();
    let tree = Tree::new(root.path());
    write_files(&tree.migrations(), HISTORY);
    write_files(&tree.staging, CONSOLIDATED);
    (root, tree)
}

/// The record verification would make for the tree as it is; the same in every process.
fn verified_lock(tree: &Tree) -> LockRecord {
    sample(
        Manifest::of_dir(&tree.migrations()).unwrap(),
        Manifest::of_dir(&tree.staging).unwrap(),
    )
}

/// The writer lock a command takes before it changes the tree.
fn writer(tree: &Tree) -> WriterLock {
    tree.lock_for_writing("test").unwrap()
}

fn consolidated_tree() -> (TempDir, Tree) {
    let (root, tree) = staged_tree();
    consolidate_swap(&tree, &writer(&tree), &verified_lock(&tree), false).unwrap();
    (root, tree)
}

fn error_text(result: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", result.unwrap_err())
}

#[test]
fn consolidate_then_rollback_gives_back_the_identical_tree() {
    let (_root, tree) = staged_tree();
    let before = snapshot(&tree.root);

    consolidate_swap(&tree, &writer(&tree), &verified_lock(&tree), false).unwrap();
    let TreeState::Consolidated(checks) = tree.state().unwrap() else {
        panic!("not consolidated: {}", tree.state().unwrap());
    };
    assert_eq!(checks.backup, ManifestCheck::Intact);
    assert_eq!(checks.migrations, ManifestCheck::Intact);
    assert!(!tree.staging.exists());
    assert_eq!(
        LockRecord::read(&tree.lock_path()).unwrap(),
        verified_lock_of(&before)
    );

    assert_eq!(
        rollback(&tree, &writer(&tree), false).unwrap(),
        RollbackOutcome::RolledBack
    );
    assert_eq!(snapshot(&tree.root), before);
    assert_eq!(tree.state().unwrap(), TreeState::Staged);
    assert_eq!(
        rollback(&tree, &writer(&tree), false).unwrap(),
        RollbackOutcome::NothingToUndo
    );
    assert_eq!(snapshot(&tree.root), before);
}

fn verified_lock_of(snapshot: &Snapshot) -> LockRecord {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in snapshot {
        let path = dir.path().join(name);
        match bytes {
            Some(bytes) => fs::write(path, bytes).unwrap(),
            None => fs::create_dir(path).unwrap(),
        }
    }
    verified_lock(&Tree::new(dir.path()))
}

#[test]
fn rollback_then_consolidate_changes_nothing_but_the_lock_time() {
    let (_root, tree) = consolidated_tree();
    let consolidated = snapshot(&tree.root);

    rollback(&tree, &writer(&tree), false).unwrap();
    let later = LockRecord::new(
        "17.2".into(),
        verified_lock(&tree).history,
        verified_lock(&tree).consolidated,
    );
    consolidate_swap(&tree, &writer(&tree), &later, false).unwrap();
    let again = snapshot(&tree.root);

    let lock_name = format!("{MIGRATIONS_DIR}/{LOCK_FILE}");
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        consolidated.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &again {
        if *name != lock_name {
            assert_eq!(bytes, &consolidated[name], "{name}");
        }
    }
    let lines = |snapshot: &Snapshot| -> Vec<String> {
        let text = String::from_utf8(snapshot[&lock_name].clone().unwrap()).unwrap();
        text.lines()
            .filter(|line| !line.starts_with("time = ") && !line.starts_with("record-digest = "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(lines(&again), lines(&consolidated));
    assert_ne!(again[&lock_name], consolidated[&lock_name]);
}

#[test]
fn states_are_told_apart_and_say_what_to_do() {
    let root = tempfile::tempdir().unwrap();
    let tree = Tree::new(root.path());
    assert!(matches!(
        tree.state().unwrap(),
        TreeState::Inconsistent(Inconsistency::NoMigrations)
    ));
    write_files(&tree.migrations(), HISTORY);
    assert_eq!(tree.state().unwrap(), TreeState::HistoryOnly);
    assert!(tree
        .state()
        .unwrap()
        .to_string()
        .contains("then run `cargo xtask consolidate`"));
    write_files(&tree.staging, CONSOLIDATED);
    assert_eq!(tree.state().unwrap(), TreeState::Staged);

    write_files(&tree.backup(), HISTORY);
    Manifest::of_dir(&tree.backup())
        .unwrap()
        .write(&tree.manifest_path())
        .unwrap();
    let state = tree.state().unwrap();
    assert_eq!(
        state,
        TreeState::Inconsistent(Inconsistency::BackupWithoutLock)
    );
    assert!(state.to_string().contains("consolidate --force"), "{state}");

    let (_root, tree) = consolidated_tree();
    let status = tree.status().unwrap().to_string();
    assert!(
        status.contains("migrations.old/ matches its MANIFEST.sum"),
        "{status}"
    );
    assert!(
        status.contains("consolidated at 2026-02-04T10:00:00+00:00"),
        "{status}"
    );
    fs::write(
        tree.migrations().join("20250201000000_new.sql"),
        "SELECT 1;",
    )
    .unwrap();
    let status = tree.status().unwrap();
    let TreeState::Consolidated(checks) = &status.state else {
        panic!("{status}");
    };
    assert_eq!(checks.migrations, ManifestCheck::Intact, "{status}");
    let status = status.to_string();
    assert!(status.contains("1 new since the consolidation"), "{status}");
    assert!(status.contains("\n  20250201000000_new.sql"), "{status}");
}

#[test]
fn preflight_refuses_a_missing_or_empty_staging_set() {
    let (_root, tree) = staged_tree();
    let lock = verified_lock(&tree);

    fs::rename(&tree.staging, tree.root.join("elsewhere")).unwrap();
    let err = error_text(consolidate_swap(&tree, &writer(&tree), &lock, false));
    assert!(err.contains("no consolidated set is staged"), "{err}");

    fs::create_dir(&tree.staging).unwrap();
    let err = error_text(preflight_consolidate(&tree, false));
    assert!(err.contains("holds no files"), "{err}");
    assert_eq!(tree.state().unwrap(), TreeState::Staged);
}

#[test]
fn preflight_refuses_an_existing_backup_unless_forced_and_keeps_it() {
    let (_root, tree) = staged_tree();
    write_files(&tree.backup(), &[("earlier.sql", "SELECT 'earlier';")]);
    let earlier = snapshot(&tree.backup());

    let err = error_text(consolidate_swap(
        &tree,
        &writer(&tree),
        &verified_lock(&tree),
        false,
    ));
    assert!(err.contains("migrations.old already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");

    consolidate_swap(&tree, &writer(&tree), &verified_lock(&tree), true).unwrap();
    assert!(matches!(tree.state().unwrap(), TreeState::Consolidated(_)));
    let set_aside: Vec<_> = fs::read_dir(&tree.root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            name.starts_with("migrations.old.") && name != BACKUP_DIR
        })
        .collect();
    assert_eq!(set_aside.len(), 1, "{set_aside:?}");
    assert_eq!(snapshot(&set_aside[0]), earlier);
}

#[test]
fn consolidate_refuses_files_changed_since_verification() {
    let (_root, tree) = staged_tree();
    let lock = verified_lock(&tree);
    fs::write(
        tree.staging.join("20250101000001_runtime.sql"),
        "DROP TABLE pack;",
    )
    .unwrap();
    let before = snapshot(&tree.root);
    let err = error_text(consolidate_swap(&tree, &writer(&tree), &lock, false));
    assert!(err.contains("changed since it was verified"), "{err}");
    assert!(err.contains("edited: 20250101000001_runtime.sql"), "{err}");
    assert_eq!(snapshot(&tree.root), before);
}

#[test]
fn rollback_refuses_a_tampered_backup_naming_the_file_unless_forced() {
    let (_root, tree) = consolidated_tree();
    let tampered = tree.backup().join("20250101000002_runtime.sql");
    fs::write(&tampered, "CREATE TABLE runtime ();\n").unwrap();
    let before = snapshot(&tree.root);

    let err = rollback(&tree, &writer(&tree), false).unwrap_err();
    let changed = err
        .downcast_ref::<BackupChanged>()
        .expect("a BackupChanged error");
    assert_eq!(
        changed.changes,
        [ManifestChange::Edited("20250101000002_runtime.sql".into())]
    );
    assert!(err
        .to_string()
        .contains("edited: 20250101000002_runtime.sql"));
    assert!(err.to_string().contains("rollback --force"));
    assert_eq!(snapshot(&tree.root), before);

    assert_eq!(
        rollback(&tree, &writer(&tree), true).unwrap(),
        RollbackOutcome::RolledBack
    );
    assert_eq!(tree.state().unwrap(), TreeState::Staged);
    let restored = tree.migrations().join("20250101000002_runtime.sql");
    assert_eq!(
        fs::read_to_string(restored).unwrap(),
        "CREATE TABLE runtime ();\n"
    );
}

// Crash safety.

const CHILD_ROOT_VAR: &str = "XTASK_TEST_CHILD_ROOT";
const CHILD_STAGING_VAR: &str = "XTASK_TEST_CHILD_STAGING";
const CHILD_OPERATION_VAR: &str = "XTASK_TEST_CHILD_OPERATION";

/// In a child process that a test started (this test binary, running that one test again,
/// with the operation named in the environment): runs the operation and returns true, so
/// that the test returns at once. In a test run of its own: false.
fn ran_as_child() -> bool {
    let (Some(root), Some(staging), Ok(operation)) = (
        std::env::var_os(CHILD_ROOT_VAR),
        std::env::var_os(CHILD_STAGING_VAR),
        std::env::var(CHILD_OPERATION_VAR),
    ) else {
        return false;
    };
    let tree = Tree::with_staging(root, staging);
    match operation.as_str() {
        "consolidate" => {
            consolidate_swap(&tree, &writer(&tree), &verified_lock(&tree), false).unwrap()
        }
        "rollback" => drop(rollback(&tree, &writer(&tree), false).unwrap()),
        "undo-consolidate" => undo(&tree, &writer(&tree)).unwrap(),
        other => panic!("unknown operation {other}"),
    }
    true
}

/// The command that runs `operation` on `tree` in a child process (this test binary).
fn spawn_operation(tree: &Tree, operation: Operation) -> Command {
    // libtest names each test's thread after the test: the child runs the same one.
    let test = std::thread::current().name().unwrap().to_owned();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", &test, "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ROOT_VAR, &tree.root)
        .env(CHILD_STAGING_VAR, &tree.staging)
        .env(CHILD_OPERATION_VAR, operation.name());
    command
}

/// Runs `operation` on `tree` in a child process and checks that it died of SIGKILL at
/// `failpoint`.
fn kill_at(tree: &Tree, operation: Operation, failpoint: &str) {
    let output = spawn_operation(tree, operation)
        .env(failpoint::VAR, failpoint)
        .output()
        .unwrap();
    assert_eq!(
        output.status.signal(),
        Some(9),
        "{failpoint} was not reached: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Every file of the history and of the consolidated set exists, with its original bytes,
/// in one of the places the operations keep it.
fn assert_nothing_lost(tree: &Tree, failpoint: &str) {
    let places = |files: &[(&str, &str)], dirs: &[std::path::PathBuf]| {
        for (name, contents) in files {
            let kept = dirs.iter().any(|dir| {
                fs::read(dir.join(name)).is_ok_and(|bytes| bytes == contents.as_bytes())
            });
            assert!(
                kept,
                "{failpoint}: {name} lost; tree: {:#?}",
                snapshot(&tree.root).keys()
            );
        }
    };
    places(
        HISTORY,
        &[tree.migrations(), tree.backup(), tree.outgoing()],
    );
    places(CONSOLIDATED, &[tree.staging.clone(), tree.migrations()]);
}

fn interrupted_journal(tree: &Tree, failpoint: &str) -> Journal {
    match tree.state().unwrap() {
        TreeState::Interrupted(journal) => *journal,
        other => panic!("{failpoint}: not interrupted but {other:?}"),
    }
}

fn reference_consolidated() -> Snapshot {
    let (_root, tree) = consolidated_tree();
    snapshot(&tree.root)
}

#[test]
fn consolidate_cut_off_anywhere_can_be_finished() {
    if ran_as_child() {
        return;
    }
    let consolidated = reference_consolidated();
    for failpoint in failpoints(Operation::Consolidate, &CONSOLIDATE_STEPS) {
        let (_root, tree) = staged_tree();
        kill_at(&tree, Operation::Consolidate, &failpoint);
        assert_nothing_lost(&tree, &failpoint);
        let journal = interrupted_journal(&tree, &failpoint);
        assert_eq!(journal.operation, Operation::Consolidate);
        let advice = journal.to_string();
        assert!(
            advice.starts_with("consolidation interrupted")
                && advice.ends_with(
                    "run `cargo xtask consolidate` to finish it or `cargo xtask rollback` to \
                     undo it"
                ),
            "{failpoint}: {advice}"
        );
        assert_eq!(
            error_text(recover(&tree, &writer(&tree))),
            advice,
            "{failpoint}"
        );
        assert_eq!(error_text(preflight_consolidate(&tree, true)), advice);

        assert_eq!(
            finish(&tree, &writer(&tree)).unwrap(),
            Operation::Consolidate,
            "{failpoint}"
        );
        assert_eq!(snapshot(&tree.root), consolidated, "{failpoint}");
    }
}

#[test]
fn consolidate_cut_off_anywhere_can_be_undone() {
    if ran_as_child() {
        return;
    }
    for failpoint in failpoints(Operation::Consolidate, &CONSOLIDATE_STEPS) {
        let (_root, tree) = staged_tree();
        let before = snapshot(&tree.root);
        kill_at(&tree, Operation::Consolidate, &failpoint);
        assert_nothing_lost(&tree, &failpoint);

        assert_eq!(
            rollback(&tree, &writer(&tree), false).unwrap(),
            RollbackOutcome::UndidInterruptedConsolidation,
            "{failpoint}"
        );
        assert_eq!(tree.state().unwrap(), TreeState::Staged, "{failpoint}");
        assert_eq!(snapshot(&tree.root), before, "{failpoint}");
    }
}

#[test]
fn undo_cut_off_anywhere_can_be_finished() {
    if ran_as_child() {
        return;
    }
    // Cut the consolidation off as late as possible, so that the undo has every step to do.
    let undo_steps: Vec<_> = CONSOLIDATE_STEPS.iter().rev().copied().collect();
    for failpoint in failpoints(Operation::UndoConsolidate, &undo_steps) {
        let (_root, tree) = staged_tree();
        let before = snapshot(&tree.root);
        kill_at(
            &tree,
            Operation::Consolidate,
            "consolidate:before-record-step-5",
        );
        kill_at(&tree, Operation::UndoConsolidate, &failpoint);
        assert_nothing_lost(&tree, &failpoint);
        let journal = interrupted_journal(&tree, &failpoint);
        assert_eq!(journal.steps, undo_steps, "{failpoint}");
        assert!(
            journal
                .to_string()
                .ends_with("run `cargo xtask rollback` to finish undoing it"),
            "{failpoint}: {journal}"
        );
        assert!(error_text(finish(&tree, &writer(&tree))).contains("cannot be turned back"));
        assert!(error_text(preflight_consolidate(&tree, false)).contains("finish undoing it"));

        assert_eq!(
            recover(&tree, &writer(&tree)).unwrap(),
            Some(Operation::UndoConsolidate)
        );
        assert_eq!(tree.state().unwrap(), TreeState::Staged, "{failpoint}");
        assert_eq!(snapshot(&tree.root), before, "{failpoint}");
    }
}

#[test]
fn rollback_cut_off_anywhere_can_be_finished() {
    if ran_as_child() {
        return;
    }
    let (_root, staged) = staged_tree();
    let original = snapshot(&staged.root);
    for (index, failpoint) in failpoints(Operation::Rollback, &ROLLBACK_STEPS)
        .into_iter()
        .enumerate()
    {
        let (_root, tree) = consolidated_tree();
        kill_at(&tree, Operation::Rollback, &failpoint);
        assert_nothing_lost(&tree, &failpoint);
        let journal = interrupted_journal(&tree, &failpoint);
        assert_eq!(journal.operation, Operation::Rollback);
        assert!(
            journal.to_string().starts_with("rollback interrupted")
                && journal
                    .to_string()
                    .ends_with("run `cargo xtask rollback` to finish it"),
            "{failpoint}: {journal}"
        );
        assert!(
            error_text(undo(&tree, &writer(&tree))).contains("cannot be undone"),
            "{failpoint}"
        );

        // Both ways out: the recovery, and the command a person would type.
        if index % 2 == 0 {
            assert_eq!(
                recover(&tree, &writer(&tree)).unwrap(),
                Some(Operation::Rollback)
            );
        } else {
            assert_eq!(
                rollback(&tree, &writer(&tree), false).unwrap(),
                RollbackOutcome::FinishedInterruptedRollback
            );
        }
        assert_eq!(tree.state().unwrap(), TreeState::Staged, "{failpoint}");
        assert_eq!(snapshot(&tree.root), original, "{failpoint}");
    }
}

#[test]
fn recovery_uses_the_staging_directory_the_journal_names() {
    if ran_as_child() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let tree = Tree::with_staging(root.path(), "build/consolidated");
    write_files(&tree.migrations(), HISTORY);
    write_files(&tree.staging, CONSOLIDATED);
    let staged = snapshot(&tree.root);
    let configured_otherwise = Tree::new(root.path());

    kill_at(&tree, Operation::Consolidate, "consolidate:after-step-3");
    finish(&configured_otherwise, &writer(&tree)).unwrap();
    assert!(matches!(tree.state().unwrap(), TreeState::Consolidated(_)));

    kill_at(&tree, Operation::Rollback, "rollback:after-step-1");
    recover(&configured_otherwise, &writer(&tree)).unwrap();
    assert_eq!(snapshot(&tree.root), staged);
    assert!(!configured_otherwise.staging.exists());
}

// One writer, and what a second run sees.

#[test]
fn a_second_writer_is_refused_naming_the_first() {
    let (_root, tree) = staged_tree();
    let first = tree.lock_for_writing("consolidate").unwrap();
    let record = fs::read_to_string(tree.root.join(WRITER_FILE)).unwrap();
    assert!(
        record.contains(&format!("pid = {}", std::process::id())),
        "{record}"
    );
    let err = error_text(tree.lock_for_writing("rollback"));
    assert!(err.contains("another run is changing the tree"), "{err}");
    assert!(
        err.contains(&format!(
            "`cargo xtask consolidate`, process {}",
            std::process::id()
        )),
        "{err}"
    );
    drop(first);
    assert!(!tree.root.join(WRITER_FILE).exists());
    drop(tree.lock_for_writing("rollback").unwrap());
}

#[test]
fn a_journal_whose_writer_is_alive_is_in_progress_not_interrupted() {
    if ran_as_child() {
        return;
    }
    let (_root, tree) = staged_tree();
    let mut child = spawn_operation(&tree, Operation::Consolidate)
        .env(failpoint::VAR, "consolidate:after-step-3")
        .env(failpoint::SIGNAL_VAR, "STOP")
        .spawn()
        .unwrap();
    let pid = child.id();
    // The child stops itself at the failpoint; wait until it is stopped there.
    while !fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap()
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T'))
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let frozen = snapshot(&tree.root);
    match tree.state().unwrap() {
        TreeState::InProgress(holder) => assert_eq!(holder.pid, pid),
        other => panic!("not in progress but {other:?}"),
    }
    assert!(tree.state().unwrap().to_string().contains("under way"));
    let err = error_text(tree.lock_for_writing("rollback"));
    assert!(err.contains(&format!("process {pid}")), "{err}");
    assert_eq!(snapshot(&tree.root), frozen);

    Command::new("kill")
        .args(["-CONT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(matches!(tree.state().unwrap(), TreeState::Consolidated(_)));
    assert_nothing_lost(&tree, "after the writer went on");
}

#[test]
fn finishing_refuses_a_set_edited_since_verification() {
    if ran_as_child() {
        return;
    }
    for failpoint in ["consolidate:after-begin", "consolidate:after-step-2"] {
        let (_root, tree) = staged_tree();
        kill_at(&tree, Operation::Consolidate, failpoint);
        fs::write(
            tree.staging.join("20250101000001_runtime.sql"),
            "DROP TABLE pack;\n",
        )
        .unwrap();
        let before = snapshot(&tree.root);
        let err = error_text(finish(&tree, &writer(&tree)));
        assert!(
            err.contains("changed since it was verified"),
            "{failpoint}: {err}"
        );
        assert!(
            err.contains("edited: 20250101000001_runtime.sql"),
            "{failpoint}: {err}"
        );
        assert!(err.contains("cargo xtask rollback"), "{failpoint}: {err}");
        assert_eq!(snapshot(&tree.root), before, "{failpoint}");
    }

    let (_root, tree) = staged_tree();
    kill_at(&tree, Operation::Consolidate, "consolidate:after-step-4");
    let lock = tree.lock_path();
    let edited = fs::read_to_string(&lock).unwrap().replace("17.2", "18.0");
    fs::write(&lock, edited).unwrap();
    let err = error_text(finish(&tree, &writer(&tree)));
    assert!(
        err.contains("consolidation.lock is not the record"),
        "{err}"
    );
}

#[test]
fn a_staging_directory_that_is_migrations_under_another_name_is_refused() {
    let (_root, tree) = staged_tree();
    let root_name = tree.root.file_name().unwrap().to_str().unwrap();
    let lock = verified_lock(&tree);
    let before = snapshot(&tree.root);
    fs::create_dir(tree.migrations().join("inner")).unwrap();
    fs::write(tree.migrations().join("inner/a.sql"), "SELECT 1;").unwrap();
    let inside_before = snapshot(&tree.root);
    for staging in [
        format!("../{root_name}/migrations"),
        "migrations/inner".to_owned(),
        "migrations.old".to_owned(),
        ".".to_owned(),
        "..".to_owned(),
    ] {
        let other = Tree::with_staging(&tree.root, &staging);
        let err = error_text(consolidate_swap(&other, &writer(&tree), &lock, false));
        assert!(
            err.contains("choose a directory of its own"),
            "{staging}: {err}"
        );
        assert_eq!(snapshot(&tree.root), inside_before, "{staging}");
    }
    fs::remove_dir_all(tree.migrations().join("inner")).unwrap();
    assert_eq!(snapshot(&tree.root), before);

    std::os::unix::fs::symlink(&tree.staging, tree.root.join("link")).unwrap();
    let linked = Tree::with_staging(&tree.root, "link");
    let err = error_text(preflight_consolidate(&linked, false));
    assert!(err.contains("is a symbolic link"), "{err}");
}

#[test]
fn a_journal_naming_a_staging_directory_outside_the_root_is_refused() {
    for staging in ["/tmp/elsewhere", "../elsewhere", "migrations.new/../.."] {
        let (_root, tree) = consolidated_tree();
        let journal = Journal {
            operation: Operation::Rollback,
            steps: ROLLBACK_STEPS.to_vec(),
            completed: 0,
            staging: staging.into(),
            lock: None,
            baseline: None,
        };
        journal.write(&tree.root).unwrap();
        let before = snapshot(&tree.root);
        let state = tree.state().unwrap();
        assert!(
            matches!(
                state,
                TreeState::Inconsistent(Inconsistency::UnreadableJournal { .. })
            ),
            "{staging}: {state:?}"
        );
        assert!(
            state
                .to_string()
                .contains("is not a directory inside the root"),
            "{state}"
        );
        assert!(rollback(&tree, &writer(&tree), false).is_err());
        assert_eq!(snapshot(&tree.root), before, "{staging}");
    }
}

#[test]
fn an_empty_or_corrupt_journal_is_a_state_that_says_what_to_do() {
    for text in ["", "operation = \"consolidate\"\nsteps = [", "\u{0}\u{1}"] {
        let (_root, tree) = consolidated_tree();
        fs::write(tree.root.join(JOURNAL_FILE), text).unwrap();
        let state = tree.state().unwrap();
        let TreeState::Inconsistent(Inconsistency::UnreadableJournal { present, .. }) = &state
        else {
            panic!("{text:?}: {state:?}");
        };
        assert_eq!(present.len(), 2, "{present:?}");
        let advice = state.to_string();
        assert!(advice.contains(".xtask-journal cannot be read"), "{advice}");
        assert!(advice.contains("keep them all"), "{advice}");
        assert!(!advice.contains("remove"), "{advice}");
        assert!(error_text(rollback(&tree, &writer(&tree), false)).contains("cannot be read"));
    }
}

#[test]
fn a_leftover_is_called_removable_only_when_every_file_has_a_copy() {
    let (_root, tree) = staged_tree();
    write_files(&tree.outgoing(), HISTORY);
    let state = tree.state().unwrap();
    assert!(
        matches!(&state, TreeState::Inconsistent(Inconsistency::Leftover { only_here: Ok(files), .. }) if files.is_empty()),
        "{state:?}"
    );
    assert!(state.to_string().contains("can be removed"), "{state}");

    write_files(
        &tree.outgoing(),
        &[("20250101000009_only.sql", "SELECT 9;")],
    );
    let state = tree.state().unwrap();
    let advice = state.to_string();
    assert!(
        advice.contains("these files exist only there:\n  20250101000009_only.sql"),
        "{advice}"
    );
    assert!(!advice.contains("can be removed"), "{advice}");
    assert!(advice.contains("keep it"), "{advice}");
}

#[test]
fn a_history_edited_with_its_manifest_regenerated_is_named_from_the_lock_record() {
    let (_root, tree) = consolidated_tree();
    fs::write(
        tree.backup().join("20250101000002_runtime.sql"),
        "CREATE TABLE runtime ();\n",
    )
    .unwrap();
    Manifest::of_dir(&tree.backup())
        .unwrap()
        .write(&tree.manifest_path())
        .unwrap();
    let TreeState::Consolidated(checks) = tree.state().unwrap() else {
        panic!("{}", tree.state().unwrap());
    };
    assert_eq!(
        checks.backup,
        ManifestCheck::Changed(vec![ManifestChange::Edited(
            "20250101000002_runtime.sql".into()
        )])
    );
    assert!(rollback(&tree, &writer(&tree), false)
        .unwrap_err()
        .downcast_ref::<BackupChanged>()
        .is_some());

    // The files put back, the rewritten manifest is still named.
    fs::write(
        tree.backup().join("20250101000002_runtime.sql"),
        "CREATE TABLE runtime (id bigserial);\n",
    )
    .unwrap();
    let TreeState::Consolidated(checks) = tree.state().unwrap() else {
        panic!("{}", tree.state().unwrap());
    };
    let ManifestCheck::Unreadable(reason) = checks.backup else {
        panic!("{:?}", checks.backup);
    };
    assert!(
        reason.contains("MANIFEST.sum is not the manifest of the history recorded"),
        "{reason}"
    );
}

#[test]
fn states_that_need_a_person_are_named_with_what_to_do() {
    let (_root, tree) = consolidated_tree();
    fs::create_dir(&tree.staging).unwrap();
    let state = tree.state().unwrap();
    assert_eq!(
        state,
        TreeState::Inconsistent(Inconsistency::StagingBesideConsolidated)
    );
    assert!(state.to_string().contains("move it away"), "{state}");
    fs::remove_dir(&tree.staging).unwrap();

    fs::remove_file(tree.manifest_path()).unwrap();
    let state = tree.state().unwrap();
    assert_eq!(
        state,
        TreeState::Inconsistent(Inconsistency::BackupWithoutManifest)
    );
    assert!(
        state.to_string().contains("restore the manifest"),
        "{state}"
    );

    fs::rename(tree.backup(), tree.root.join("elsewhere")).unwrap();
    let state = tree.state().unwrap();
    assert_eq!(
        state,
        TreeState::Inconsistent(Inconsistency::LockWithoutBackup)
    );
    assert!(
        state.to_string().contains("rollback is impossible"),
        "{state}"
    );
    let before = snapshot(&tree.root);
    assert!(error_text(rollback(&tree, &writer(&tree), false)).contains("cannot roll back"));
    assert_eq!(snapshot(&tree.root), before);
}

#[test]
fn same_file_system_tells_devices_apart() {
    use std::os::unix::fs::MetadataExt;
    let (_root, tree) = staged_tree();
    super::swap::same_file_system(&tree.root, &tree.staging).unwrap();
    // /dev/shm is a tmpfs of its own wherever it exists; compare only where it differs.
    let shm = Path::new("/dev/shm");
    let elsewhere = shm.is_dir().then(|| tempfile::tempdir_in(shm).unwrap());
    if let Some(elsewhere) = elsewhere.filter(|dir| {
        fs::metadata(dir.path()).unwrap().dev() != fs::metadata(&tree.root).unwrap().dev()
    }) {
        let staging = elsewhere.path().join("consolidated");
        let err = error_text(super::swap::same_file_system(&tree.root, &staging));
        assert!(err.contains("on another file system"), "{err}");
    }
}
