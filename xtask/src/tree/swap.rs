//! The journaled swap: puts the verified consolidated set in place of the history, and
//! takes it out again, without losing or corrupting a file at any instant.
//!
//! Each step is either one `rename` within the file system or idempotent, and the journal
//! is updated after each, so that a run cut off anywhere (power loss, `kill -9`) is
//! finished or undone by running the steps again from the journal. Nothing is deleted
//! unless an identical copy of it, checked by manifest, exists elsewhere.
//!
//! `consolidate_swap`, from `Staged`:
//! 1. copy `migrations/` to `migrations.old.partial/`, write `MANIFEST.sum` there, fsync,
//!    rename to `migrations.old/`;
//! 2. write the lock record into the staging directory;
//! 3. rename `migrations/` to `migrations.outgoing/`;
//! 4. rename the staging directory to `migrations/`;
//! 5. remove `migrations.outgoing/`, once every file in it matches `migrations.old/`.
//!
//! `rollback`, from `Consolidated`:
//! 1. rename `migrations/` to the staging directory;
//! 2. remove the lock record from it;
//! 3. rename `migrations.old/` to `migrations/`;
//! 4. remove `MANIFEST.sum` from it.
//!
//! `retire`, from `Consolidated` once verify passed:
//! 1. write the baseline record into `migrations/`;
//! 2. remove the lock record from `migrations/`;
//! 3. check `migrations.old/` against its manifest and the record, and rename it to
//!    `migrations.old.retiring/`;
//! 4. remove `migrations.old.retiring/`. Version control keeps the history; the baseline
//!    record holds its manifest's digest, to check a restored copy.
//!
//! An interrupted consolidation can be finished (`finish`) or undone (`undo`, which undoes
//! the steps newest first); an interrupted rollback or undo can only be finished.
//!
//! Failpoints (with the `failpoints` feature, `XTASK_FAILPOINT=<name>`, see `failpoint`),
//! `i` being the step's number in its operation's plan:
//! - `consolidate:after-begin`, `consolidate:during-step-1` (backup half copied),
//!   `consolidate:during-step-5` (history copy half removed), and for i in 1..=5
//!   `consolidate:before-record-step-<i>`, `consolidate:after-step-<i>`;
//! - `rollback:after-begin`, and for i in 1..=4 `rollback:before-record-step-<i>`,
//!   `rollback:after-step-<i>`;
//! - `undo-consolidate:after-begin`, and for each step of the undo plan (the steps in
//!   effect, newest first) `undo-consolidate:before-record-step-<i>`,
//!   `undo-consolidate:after-step-<i>`, plus `undo-consolidate:during-step-<i>` where it
//!   restores the history copy or removes the backup;
//! - `retire:after-begin`, `retire:during-step-4`, and for i in 1..=4
//!   `retire:before-record-step-<i>`, `retire:after-step-<i>`.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::baseline::BaselineRecord;
use super::durable;
use super::failpoint;
use super::journal::{Journal, Operation, Step, CONSOLIDATE_STEPS, RETIRE_STEPS, ROLLBACK_STEPS};
use super::lock::LockRecord;
use super::manifest::{list_changes, Manifest, ManifestChange};
use super::writer::WriterLock;
use super::{Inconsistency, ManifestCheck, Tree, TreeState, LOCK_FILE, MANIFEST_FILE};

/// Refuses, with the reason and what to do, when the tree cannot take a consolidated set
/// now. Reads only: the command runs it before the costly verification, and
/// `consolidate_swap` again right before swapping.
pub fn preflight_consolidate(tree: &Tree, force: bool) -> anyhow::Result<()> {
    if let Some(journal) = Journal::read(&tree.root)? {
        bail!("{journal}");
    }
    let migrations = tree.migrations();
    if !migrations.is_dir() {
        bail!(
            "there is no {} directory: nothing to consolidate",
            migrations.display()
        );
    }
    tree.staging_as_recorded()?;
    if tree.lock_path().exists() {
        bail!(
            "{} exists: migrations/ is already a consolidated set; run `cargo xtask rollback` \
             first to consolidate again",
            tree.lock_path().display()
        );
    }
    refuse_bookkeeping_files(&migrations)?;
    if !tree.staging.is_dir() {
        bail!(
            "no consolidated set is staged: {} does not exist; write the consolidated \
             migrations there, then run `cargo xtask consolidate` again",
            tree.staging.display()
        );
    }
    if Manifest::of_dir(&tree.staging)?.is_empty() {
        bail!(
            "the staging directory {} holds no files: write the consolidated migrations \
             there, then run `cargo xtask consolidate` again",
            tree.staging.display()
        );
    }
    refuse_bookkeeping_files(&tree.staging)?;
    if let state @ TreeState::Inconsistent(Inconsistency::Leftover { .. }) = tree.state()? {
        bail!("{state}");
    }
    if tree.backup().exists() && !force {
        bail!(
            "{} already exists (the backup of an earlier consolidation): move it away, or \
             run with --force to set it aside as migrations.old.<timestamp>/ (nothing is \
             deleted)",
            tree.backup().display()
        );
    }
    same_file_system(&tree.root, &tree.staging)
}

/// Swaps the verified consolidated set in: afterwards the tree is `Consolidated`. Call it
/// only once verification succeeded; `lock` records that verification, and its manifests
/// must still match the files, so that what is swapped in is what was verified.
pub fn consolidate_swap(
    tree: &Tree,
    _writer: &WriterLock,
    lock: &LockRecord,
    force: bool,
) -> anyhow::Result<()> {
    preflight_consolidate(tree, force)?;
    refuse_changes_since_verification(&tree.migrations(), &lock.history.manifest, VERIFY_AGAIN)?;
    refuse_changes_since_verification(&tree.staging, &lock.consolidated.manifest, VERIFY_AGAIN)?;
    if tree.backup().exists() {
        set_aside(&tree.backup())?;
    }
    let journal = Journal {
        operation: Operation::Consolidate,
        steps: CONSOLIDATE_STEPS.to_vec(),
        completed: 0,
        staging: tree.staging_as_recorded()?,
        lock: Some(lock.clone()),
        baseline: None,
    };
    begin(tree, journal)
}

/// Ends the consolidation period: afterwards the tree is `Retired`. Call it only once
/// verify passed on the tree as it is; `baseline` records what it proved. Both
/// directories must still match the lock record.
pub fn retire(tree: &Tree, _writer: &WriterLock, baseline: &BaselineRecord) -> anyhow::Result<()> {
    let TreeState::Consolidated(checks) = tree.state()? else {
        bail!("cannot retire: {}", tree.state()?);
    };
    if checks.backup != ManifestCheck::Intact || checks.migrations != ManifestCheck::Intact {
        bail!("cannot retire: {}", TreeState::Consolidated(checks));
    }
    let journal = Journal {
        operation: Operation::Retire,
        steps: RETIRE_STEPS.to_vec(),
        completed: 0,
        staging: tree.staging_as_recorded()?,
        lock: None,
        baseline: Some(baseline.clone()),
    };
    begin(tree, journal)
}

/// What `rollback` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackOutcome {
    /// The tree was not consolidated: nothing to undo.
    NothingToUndo,
    RolledBack,
    UndidInterruptedConsolidation,
    FinishedInterruptedRollback,
}

impl fmt::Display for RollbackOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RollbackOutcome::NothingToUndo => "nothing to undo: the tree is not consolidated",
            RollbackOutcome::RolledBack => {
                "rolled back: migrations/ holds the history again, the consolidated set is \
                 staged beside it"
            }
            RollbackOutcome::UndidInterruptedConsolidation => {
                "undid the interrupted consolidation: the tree is as it was before"
            }
            RollbackOutcome::FinishedInterruptedRollback => "finished the interrupted rollback",
        })
    }
}

/// `rollback` refuses because the backup is not the history that was consolidated.
/// A distinct type, so that the command can report it as a difference rather than a failure.
#[derive(Debug)]
pub struct BackupChanged {
    pub backup: PathBuf,
    pub changes: Vec<ManifestChange>,
}

impl std::error::Error for BackupChanged {}

impl fmt::Display for BackupChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} differs from its {MANIFEST_FILE}, so it is not the history that was \
             consolidated:{}\nrestore those files, or run `cargo xtask rollback --force` to \
             restore it as it is now",
            self.backup.display(),
            list_changes(&self.changes)
        )
    }
}

/// Undoes a consolidation: afterwards the tree is `Staged`, exactly as before the swap.
/// Also undoes an interrupted consolidation and finishes an interrupted rollback. Refuses
/// when `migrations.old/` differs from its manifest, unless `force`.
pub fn rollback(tree: &Tree, writer: &WriterLock, force: bool) -> anyhow::Result<RollbackOutcome> {
    match tree.state()? {
        TreeState::HistoryOnly | TreeState::Staged => Ok(RollbackOutcome::NothingToUndo),
        TreeState::Interrupted(journal) => match journal.operation {
            Operation::Rollback => {
                finish(tree, writer)?;
                Ok(RollbackOutcome::FinishedInterruptedRollback)
            }
            Operation::Consolidate | Operation::UndoConsolidate => {
                undo(tree, writer)?;
                Ok(RollbackOutcome::UndidInterruptedConsolidation)
            }
            Operation::Retire => bail!("cannot roll back: {journal}"),
        },
        TreeState::Retired(_) => bail!(
            "cannot roll back: the history is retired; restore migrations/ and \
             migrations.old/ from version control as they were before `cargo xtask retire`"
        ),
        state @ TreeState::InProgress(_) => bail!("cannot roll back: {state}"),
        TreeState::Inconsistent(inconsistency) => bail!("cannot roll back: {inconsistency}"),
        TreeState::Consolidated(checks) => {
            match checks.backup {
                ManifestCheck::Intact => {}
                _ if force => {}
                ManifestCheck::Changed(changes) => {
                    return Err(BackupChanged {
                        backup: tree.backup(),
                        changes,
                    }
                    .into())
                }
                ManifestCheck::Unreadable(reason) => bail!(
                    "cannot check {} against its {MANIFEST_FILE}: {reason}\nrun with --force \
                     to restore it as it is",
                    tree.backup().display()
                ),
            }
            let staging = tree.staging_as_recorded()?;
            same_file_system(&tree.root, &tree.staging)?;
            let journal = Journal {
                operation: Operation::Rollback,
                steps: ROLLBACK_STEPS.to_vec(),
                completed: 0,
                staging,
                lock: None,
                baseline: None,
            };
            begin(tree, journal)?;
            Ok(RollbackOutcome::RolledBack)
        }
    }
}

/// Runs an interrupted consolidation or rollback to its end; returns which it was. A
/// consolidation is finished only if both sets are still the files that were verified.
pub fn finish(tree: &Tree, _writer: &WriterLock) -> anyhow::Result<Operation> {
    let journal = interrupted(tree)?;
    if journal.operation == Operation::UndoConsolidate {
        bail!("{journal}; it cannot be turned back into a consolidation");
    }
    if journal.operation == Operation::Consolidate {
        refuse_sets_changed_since_verified(
            &Tree::with_staging(&tree.root, &journal.staging),
            &journal,
        )?;
    }
    let operation = journal.operation;
    run(tree, journal)?;
    Ok(operation)
}

/// Undoes an interrupted consolidation, newest step first, or goes on with an interrupted
/// undo: afterwards the tree is `Staged`, as before the consolidation began.
pub fn undo(tree: &Tree, _writer: &WriterLock) -> anyhow::Result<()> {
    let journal = interrupted(tree)?;
    match journal.operation {
        Operation::UndoConsolidate => run(tree, journal),
        Operation::Rollback | Operation::Retire => {
            bail!("{journal}; it cannot be undone half-way")
        }
        Operation::Consolidate => {
            // The step after the last completed one may have partly happened: undo it too.
            let in_effect = (journal.completed + 1).min(journal.steps.len());
            let undo = Journal {
                operation: Operation::UndoConsolidate,
                steps: journal.steps[..in_effect].iter().rev().copied().collect(),
                completed: 0,
                ..journal
            };
            begin(tree, undo)
        }
    }
}

#[cfg(test)]
/// After a crash: finishes an interrupted rollback or undo. An interrupted consolidation
/// needs a choice, `finish` or `undo`, and is refused with that advice. Returns the
/// operation it finished, if any.
pub fn recover(tree: &Tree, _writer: &WriterLock) -> anyhow::Result<Option<Operation>> {
    let Some(journal) = Journal::read(&tree.root)? else {
        return Ok(None);
    };
    let operation = journal.operation;
    match operation {
        Operation::Consolidate => bail!("{journal}"),
        Operation::Rollback | Operation::UndoConsolidate | Operation::Retire => run(tree, journal)?,
    }
    Ok(Some(operation))
}

fn interrupted(tree: &Tree) -> anyhow::Result<Journal> {
    Journal::read(&tree.root)?.with_context(|| {
        format!(
            "no operation was interrupted: there is no journal {}",
            Journal::path(&tree.root).display()
        )
    })
}

fn begin(tree: &Tree, journal: Journal) -> anyhow::Result<()> {
    journal.write(&tree.root)?;
    failpoint::hit(&failpoint::after_begin(journal.operation.name()));
    run(tree, journal)
}

/// Runs the remaining steps of the plan, recording each in the journal, then removes it.
fn run(tree: &Tree, mut journal: Journal) -> anyhow::Result<()> {
    // The journal's staging directory, whatever this run was configured with.
    let tree = Tree::with_staging(&tree.root, &journal.staging);
    let name = journal.operation.name();
    while journal.completed < journal.steps.len() {
        let number = journal.completed + 1;
        let step = journal.steps[journal.completed];
        let during = failpoint::during_step(name, number);
        let done = if journal.operation == Operation::UndoConsolidate {
            undo_step(&tree, &journal, step, &during)
        } else {
            do_step(&tree, &journal, step, &during)
        };
        done.with_context(|| {
            format!(
                "{name} stopped at step {number} of {} ({}); nothing was lost, and {}",
                journal.steps.len(),
                step.description(),
                journal
            )
        })?;
        failpoint::hit(&failpoint::before_record_step(name, number));
        journal.completed = number;
        journal.write(&tree.root)?;
        failpoint::hit(&failpoint::after_step(name, number));
    }
    Journal::remove(&tree.root)
}

fn do_step(tree: &Tree, journal: &Journal, step: Step, during: &str) -> anyhow::Result<()> {
    match step {
        Step::BackUpHistory => back_up_history(tree, recorded_history(journal)?, during),
        Step::WriteLock => {
            let lock = journal
                .lock
                .as_ref()
                .context("the journal holds no lock record")?;
            lock.write(&tree.staging.join(LOCK_FILE))
        }
        Step::MoveHistoryAside => durable::move_dir(&tree.migrations(), &tree.outgoing()),
        Step::MoveStagingIn => durable::move_dir(&tree.staging, &tree.migrations()),
        Step::RemoveHistoryCopy => {
            if !tree.outgoing().exists() {
                return Ok(());
            }
            let backup = verified_backup(tree)?;
            refuse_unless_copied(&tree.outgoing(), &backup, &tree.backup())?;
            durable::remove_dir(&tree.outgoing(), during)
        }
        Step::MoveConsolidatedOut => durable::move_dir(&tree.migrations(), &tree.staging),
        Step::RemoveLock => durable::remove_file(&tree.staging.join(LOCK_FILE)),
        Step::RestoreHistory => durable::move_dir(&tree.backup(), &tree.migrations()),
        Step::RemoveManifest => durable::remove_file(&tree.migrations().join(MANIFEST_FILE)),
        Step::WriteBaseline => recorded_baseline(journal)?.write(&tree.baseline_path()),
        Step::RemoveConsolidationLock => durable::remove_file(&tree.lock_path()),
        Step::MoveHistoryToRetired => {
            if !tree.backup().exists() {
                return Ok(());
            }
            let history = verified_backup(tree)?;
            let baseline = recorded_baseline(journal)?;
            if history.digest() != baseline.history_digest {
                bail!(
                    "{} is not the history that was verified (its digest is {}, the \
                     baseline record says {}): restore it from version control",
                    tree.backup().display(),
                    history.digest(),
                    baseline.history_digest
                );
            }
            durable::move_dir(&tree.backup(), &tree.retiring())
        }
        Step::RemoveRetiredHistory => durable::remove_dir(&tree.retiring(), during),
    }
}

/// Undoes a consolidation step, whether it was done, partly done or not done at all.
fn undo_step(tree: &Tree, journal: &Journal, step: Step, during: &str) -> anyhow::Result<()> {
    match step {
        Step::BackUpHistory => {
            durable::remove_dir(&tree.backup_partial(), during)?;
            if tree.backup().exists() {
                let history = Manifest::of_dir(&tree.migrations())?;
                refuse_unless_copied(&tree.backup(), &history, &tree.migrations())?;
                durable::remove_dir(&tree.backup(), during)?;
            }
            Ok(())
        }
        Step::WriteLock => {
            let lock = tree.staging.join(LOCK_FILE);
            durable::remove_file(&durable::temp_sibling(&lock))?;
            durable::remove_file(&lock)
        }
        Step::MoveHistoryAside => durable::move_dir(&tree.outgoing(), &tree.migrations()),
        Step::MoveStagingIn => durable::move_dir(&tree.migrations(), &tree.staging),
        Step::RemoveHistoryCopy => restore_history_copy(tree, recorded_history(journal)?, during),
        Step::MoveConsolidatedOut
        | Step::RemoveLock
        | Step::RestoreHistory
        | Step::RemoveManifest => bail!("a rollback step cannot be undone"),
        Step::WriteBaseline
        | Step::RemoveConsolidationLock
        | Step::MoveHistoryToRetired
        | Step::RemoveRetiredHistory => bail!("a retirement step cannot be undone"),
    }
}

/// Step 1 of a consolidation: a complete, fsynced copy of the history with its manifest
/// appears as `migrations.old/` in one rename, or not at all.
fn back_up_history(tree: &Tree, history: &Manifest, during: &str) -> anyhow::Result<()> {
    let backup = tree.backup();
    if backup.exists() {
        // Renamed into place before the journal recorded it: check it is whole.
        let backup_files = verified_backup(tree)?;
        return refuse_unexpected(&backup, history, &backup_files);
    }
    let partial = tree.backup_partial();
    durable::remove_dir(&partial, during)?;
    durable::copy_dir(&tree.migrations(), &partial, during)?;
    let copied = Manifest::of_dir(&partial)?;
    refuse_unexpected(&partial, history, &copied)?;
    copied.write(&partial.join(MANIFEST_FILE))?;
    durable::sync_dir(&partial)?;
    durable::rename(&partial, &backup)
}

/// Undo of step 5: makes `migrations.outgoing/` a whole copy of the history again, from
/// the backup, whatever part of it the removal had reached.
fn restore_history_copy(tree: &Tree, history: &Manifest, during: &str) -> anyhow::Result<()> {
    let outgoing = tree.outgoing();
    let backup_files = Manifest::of_dir(&tree.backup())?;
    if outgoing.exists() {
        let outgoing_files = Manifest::of_dir(&outgoing)?;
        if outgoing_files == backup_files {
            return Ok(());
        }
        refuse_unless_copied(&outgoing, &backup_files, &tree.backup())?;
        durable::remove_dir(&outgoing, during)?;
    }
    let partial = tree.outgoing_partial();
    durable::remove_dir(&partial, during)?;
    durable::copy_dir(&tree.backup(), &partial, during)?;
    durable::remove_file(&partial.join(MANIFEST_FILE))?;
    refuse_unexpected(&partial, history, &Manifest::of_dir(&partial)?)?;
    durable::rename(&partial, &outgoing)
}

/// The backup's files, after checking that they match its `MANIFEST.sum`.
fn verified_backup(tree: &Tree) -> anyhow::Result<Manifest> {
    let recorded = Manifest::read(&tree.manifest_path())?;
    let actual = Manifest::of_dir(&tree.backup())?;
    refuse_unexpected(&tree.backup(), &recorded, &actual)?;
    Ok(actual)
}

/// Refuses to remove `dir` unless each of its files has an identical copy in `copy`.
fn refuse_unless_copied(dir: &Path, copy: &Manifest, copy_dir: &Path) -> anyhow::Result<()> {
    let uncopied = Manifest::of_dir(dir)?.files_not_in(copy);
    if uncopied.is_empty() {
        return Ok(());
    }
    bail!(
        "{} was kept: these files have no identical copy in {} and would be lost:{}\n\
         compare the two directories, keep what matters, then run the command again",
        dir.display(),
        copy_dir.display(),
        uncopied
            .iter()
            .map(|name| format!("\n  {name}"))
            .collect::<String>()
    )
}

fn refuse_unexpected(dir: &Path, expected: &Manifest, actual: &Manifest) -> anyhow::Result<()> {
    let changes = Manifest::changes(expected, actual);
    if changes.is_empty() {
        return Ok(());
    }
    bail!(
        "{} is not the history that was verified:{}\nrestore those files, then run the \
         command again",
        dir.display(),
        list_changes(&changes)
    )
}

/// What to do when a set changed after it was verified, before the swap began.
const VERIFY_AGAIN: &str =
    "run `cargo xtask consolidate` again to verify the files as they are now";

/// What to do when it changed while a consolidation was cut off half-way.
const RESTORE_OR_UNDO: &str = "nothing was moved: put those files back as they were verified, \
     then run `cargo xtask consolidate` to finish, or run `cargo xtask rollback` to undo the \
     consolidation and verify the files as they are now";

fn refuse_changes_since_verification(
    dir: &Path,
    verified: &Manifest,
    advice: &str,
) -> anyhow::Result<()> {
    let changes = Manifest::changes(verified, &Manifest::of_dir(dir)?);
    if changes.is_empty() {
        return Ok(());
    }
    bail!(
        "{} changed since it was verified:{}\n{advice}",
        dir.display(),
        list_changes(&changes)
    )
}

/// Before an interrupted consolidation is finished: the consolidated set (staged until
/// step 4, in `migrations/` after it), the history while still in `migrations/`, and the
/// lock record once written must be what the journal says was verified.
fn refuse_sets_changed_since_verified(tree: &Tree, journal: &Journal) -> anyhow::Result<()> {
    let lock = journal
        .lock
        .as_ref()
        .context("the journal holds no lock record")?;
    let consolidated = if tree.staging.exists() {
        if tree.migrations().is_dir() {
            refuse_changes_since_verification(
                &tree.migrations(),
                &lock.history.manifest,
                RESTORE_OR_UNDO,
            )?;
        }
        tree.staging.clone()
    } else {
        tree.migrations()
    };
    refuse_changes_since_verification(&consolidated, &lock.consolidated.manifest, RESTORE_OR_UNDO)?;
    let written = consolidated.join(LOCK_FILE);
    match std::fs::read(&written) {
        Ok(bytes) if bytes != lock.to_toml().as_bytes() => bail!(
            "{} is not the record the journal holds: it was edited\n{RESTORE_OR_UNDO}",
            written.display()
        ),
        _ => Ok(()),
    }
}

fn refuse_bookkeeping_files(dir: &Path) -> anyhow::Result<()> {
    for name in [LOCK_FILE, MANIFEST_FILE] {
        let path = dir.join(name);
        if path.exists() {
            bail!(
                "{} exists, but the tool writes a file of that name itself: rename or remove it",
                path.display()
            );
        }
    }
    Ok(())
}

fn recorded_baseline(journal: &Journal) -> anyhow::Result<&BaselineRecord> {
    journal
        .baseline
        .as_ref()
        .context("the journal holds no baseline record")
}

fn recorded_history(journal: &Journal) -> anyhow::Result<&Manifest> {
    let lock = journal
        .lock
        .as_ref()
        .context("the journal holds no lock record")?;
    Ok(&lock.history.manifest)
}

/// Moves an earlier backup to `migrations.old.<UTC timestamp>/`: never deleted, only renamed.
fn set_aside(backup: &Path) -> anyhow::Result<()> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = backup.with_file_name(format!("migrations.old.{stamp}"));
    let mut attempt = 1;
    while aside.exists() {
        attempt += 1;
        aside = backup.with_file_name(format!("migrations.old.{stamp}-{attempt}"));
    }
    durable::rename(backup, &aside)
}

/// Renames are atomic only within one file system; check before anything moves.
pub(super) fn same_file_system(root: &Path, staging: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let device = |path: &Path| {
        std::fs::metadata(path)
            .map(|metadata| metadata.dev())
            .with_context(|| format!("cannot read {}", path.display()))
    };
    let staging_parent = staging.parent().unwrap_or(root);
    if device(root)? != device(staging_parent)? {
        bail!(
            "the staging directory {} is on another file system than {}: directories can only \
             be swapped atomically within one; choose a staging directory under the root",
            staging.display(),
            root.display()
        );
    }
    Ok(())
}
