//! The journal: a small TOML file at the repository root that exists exactly while a
//! swap or rollback is under way. It names the operation, its planned steps and how many
//! are done, so that a run cut off at any instant can be finished or undone.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::baseline::BaselineRecord;
use super::durable;
#[cfg(test)]
use super::failpoint;
use super::lock::LockRecord;
use super::JOURNAL_FILE;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    Consolidate,
    Rollback,
    /// Undoes an interrupted consolidation, newest step first.
    UndoConsolidate,
    /// Ends the consolidation period: the baseline record replaces the lock record and
    /// the history. Only ever finished, since it starts once everything is verified.
    Retire,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Consolidate => "consolidate",
            Operation::Rollback => "rollback",
            Operation::UndoConsolidate => "undo-consolidate",
            Operation::Retire => "retire",
        }
    }
}

/// One atomic or idempotent step; see `swap` for what each does and undoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    BackUpHistory,
    WriteLock,
    MoveHistoryAside,
    MoveStagingIn,
    RemoveHistoryCopy,
    MoveConsolidatedOut,
    RemoveLock,
    RestoreHistory,
    RemoveManifest,
    WriteBaseline,
    RemoveConsolidationLock,
    MoveHistoryToRetired,
    RemoveRetiredHistory,
}

pub const CONSOLIDATE_STEPS: [Step; 5] = [
    Step::BackUpHistory,
    Step::WriteLock,
    Step::MoveHistoryAside,
    Step::MoveStagingIn,
    Step::RemoveHistoryCopy,
];

pub const ROLLBACK_STEPS: [Step; 4] = [
    Step::MoveConsolidatedOut,
    Step::RemoveLock,
    Step::RestoreHistory,
    Step::RemoveManifest,
];

pub const RETIRE_STEPS: [Step; 4] = [
    Step::WriteBaseline,
    Step::RemoveConsolidationLock,
    Step::MoveHistoryToRetired,
    Step::RemoveRetiredHistory,
];

impl Step {
    pub fn description(self) -> &'static str {
        match self {
            Step::BackUpHistory => "copy the history to migrations.old/ with its manifest",
            Step::WriteLock => "write the lock record into the staged set",
            Step::MoveHistoryAside => "move the history out of migrations/",
            Step::MoveStagingIn => "move the staged set into migrations/",
            Step::RemoveHistoryCopy => "remove the history's second copy",
            Step::MoveConsolidatedOut => "move the consolidated set back to staging",
            Step::RemoveLock => "remove the lock record from the staged set",
            Step::RestoreHistory => "move migrations.old/ back to migrations/",
            Step::RemoveManifest => "remove MANIFEST.sum from the restored history",
            Step::WriteBaseline => "write the baseline record into migrations/",
            Step::RemoveConsolidationLock => "remove the lock record from migrations/",
            Step::MoveHistoryToRetired => "move migrations.old/ aside, once checked",
            Step::RemoveRetiredHistory => "remove the history set aside",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Journal {
    pub operation: Operation,
    /// The plan, in the order it runs; for an undo, the steps being undone.
    pub steps: Vec<Step>,
    /// How many steps of the plan are done; the next one may be partly done.
    pub completed: usize,
    /// The staging directory the operation uses, relative to the root (plain names only),
    /// whatever a later run is configured with.
    pub staging: PathBuf,
    /// The record a consolidation writes, kept here so it can be finished without
    /// verifying again.
    pub lock: Option<LockRecord>,
    /// The record a retirement writes, kept here so it can be finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineRecord>,
}

impl Journal {
    pub fn path(root: &Path) -> PathBuf {
        root.join(JOURNAL_FILE)
    }

    /// Records the journal durably: a crash leaves the previous version or this one.
    pub fn write(&self, root: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self).expect("a journal always serializes");
        let text = format!(
            "# An xtask operation is under way or was interrupted; do not edit or remove.\n\
             # `cargo xtask status` says how to finish or undo it.\n{body}"
        );
        durable::write_atomically(&Journal::path(root), text.as_bytes())
    }

    /// The journal of an interrupted operation, if there is one.
    pub fn read(root: &Path) -> anyhow::Result<Option<Journal>> {
        let path = Journal::path(root);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let journal: Journal = toml::from_str(&text)
            .with_context(|| format!("{}: not a valid journal", path.display()))?;
        journal
            .check_plan()
            .with_context(|| format!("{}: not a journal xtask writes", path.display()))?;
        Ok(Some(journal))
    }

    pub fn remove(root: &Path) -> anyhow::Result<()> {
        durable::remove_file(&Journal::path(root))
    }

    fn check_plan(&self) -> anyhow::Result<()> {
        let plan_is_known = match self.operation {
            Operation::Consolidate => self.steps == CONSOLIDATE_STEPS,
            Operation::Rollback => self.steps == ROLLBACK_STEPS,
            Operation::Retire => self.steps == RETIRE_STEPS,
            Operation::UndoConsolidate => {
                let undone: Vec<Step> = self.steps.iter().rev().copied().collect();
                !undone.is_empty() && CONSOLIDATE_STEPS.starts_with(&undone)
            }
        };
        if !plan_is_known {
            bail!(
                "unknown plan {:?} for {}",
                self.steps,
                self.operation.name()
            );
        }
        if self.completed > self.steps.len() {
            bail!("{} steps completed of {}", self.completed, self.steps.len());
        }
        let plain_names = self
            .staging
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)));
        if !plain_names || self.staging.as_os_str().is_empty() {
            bail!(
                "its staging directory {} is not a directory inside the root",
                self.staging.display()
            );
        }
        match self.operation {
            Operation::Consolidate | Operation::UndoConsolidate if self.lock.is_none() => {
                bail!("a consolidation journal without its lock record")
            }
            Operation::Retire if self.baseline.is_none() => {
                bail!("a retirement journal without its baseline record")
            }
            _ => {}
        }
        Ok(())
    }

    fn progress(&self) -> String {
        match self.completed {
            0 => "before its first step".to_owned(),
            done => format!(
                "after step {done} of {} ({})",
                self.steps.len(),
                self.steps[done - 1].description()
            ),
        }
    }
}

/// What happened and what to do about it.
impl fmt::Display for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let progress = self.progress();
        match self.operation {
            Operation::Consolidate => write!(
                f,
                "consolidation interrupted {progress}: run `cargo xtask consolidate` to \
                 finish it or `cargo xtask rollback` to undo it"
            ),
            Operation::Rollback => write!(
                f,
                "rollback interrupted {progress}: run `cargo xtask rollback` to finish it"
            ),
            Operation::UndoConsolidate => write!(
                f,
                "undoing an interrupted consolidation was itself interrupted {progress}: run \
                 `cargo xtask rollback` to finish undoing it"
            ),
            Operation::Retire => write!(
                f,
                "retiring the history was interrupted {progress}: run `cargo xtask retire` \
                 to finish it (everything was verified before it began)"
            ),
        }
    }
}

#[cfg(test)]
/// Every failpoint an operation can reach with this plan, in the order they are reached
/// (see `failpoint` for the names).
pub fn failpoints(operation: Operation, steps: &[Step]) -> Vec<String> {
    let name = operation.name();
    let mut names = vec![failpoint::after_begin(name)];
    for (index, step) in steps.iter().enumerate() {
        let number = index + 1;
        if works_file_by_file(operation, *step) {
            names.push(failpoint::during_step(name, number));
        }
        names.push(failpoint::before_record_step(name, number));
        names.push(failpoint::after_step(name, number));
    }
    names
}

#[cfg(test)]
/// Whether the step copies or removes a directory file by file, and so can be cut off
/// half-way rather than only before or after.
fn works_file_by_file(operation: Operation, step: Step) -> bool {
    matches!(
        (operation, step),
        (
            Operation::Consolidate | Operation::UndoConsolidate,
            Step::BackUpHistory | Step::RemoveHistoryCopy
        ) | (Operation::Retire, Step::RemoveRetiredHistory)
    )
}
