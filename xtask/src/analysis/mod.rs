//! The life of every object in a migration history, from a replay one migration at a
//! time: what was created and dropped again, added after its table, rewritten, inserted and
//! removed, spread over several files, with the file and line of each step, and a
//! suggested action for a consolidation.

mod findings;
mod locate;
mod markdown;
mod replay;
pub(crate) mod sql_text;
mod watch;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::migrations::MigrationChain;
use crate::pg::ServerOptions;
use crate::schema::model::ObjectId;
use crate::ui::Progress;

pub use replay::{file_name, ReplayTimings, Snapshots};

/// What the analysis of a history found, in the sections of a consolidation plan.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryAnalysis {
    /// The directory's name (not its path: the report must not depend on where it ran).
    pub directory: String,
    /// File names, in the order replayed.
    pub migrations: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub kind: SectionKind,
    pub title: &'static str,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    CreatedThenDropped,
    AddedAfterTable,
    Rewritten,
    DataRemoved,
    SpreadAdditions,
    Hazards,
}

impl SectionKind {
    pub const ALL: [SectionKind; 6] = [
        SectionKind::CreatedThenDropped,
        SectionKind::AddedAfterTable,
        SectionKind::Rewritten,
        SectionKind::DataRemoved,
        SectionKind::SpreadAdditions,
        SectionKind::Hazards,
    ];

    pub fn title(self) -> &'static str {
        match self {
            SectionKind::CreatedThenDropped => "Created, then dropped",
            SectionKind::AddedAfterTable => "Added after the table was created",
            SectionKind::Rewritten => "Rewritten several times",
            SectionKind::DataRemoved => "Data inserted by migrations",
            SectionKind::SpreadAdditions => "Additions of one kind spread over several migrations",
            SectionKind::Hazards => "History hazards",
        }
    }
}

/// One item of the plan: the objects concerned, each step with its file and line, and
/// what a consolidation should do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub title: String,
    /// The objects the finding is about, the main one first.
    pub objects: Vec<ObjectId>,
    /// In the order of the history.
    pub steps: Vec<Step>,
    pub notes: Vec<String>,
    pub action: String,
}

/// One thing a migration did.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub event: StepEvent,
    pub object: Option<ObjectId>,
    pub file: String,
    /// 1-based; absent when no statement of the file could be tied to the step.
    pub line: Option<usize>,
    /// A definition, a row count, a note's message.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepEvent {
    Created,
    /// Created again after it had been dropped.
    Recreated,
    /// Added to a table that an earlier statement created.
    Added,
    /// Its table was created here (context for an addition).
    TableCreated,
    /// Created by the migration that dropped the finding's objects: what replaced them.
    CreatedInstead,
    /// Created by the same migration as the finding's additions.
    CreatedAlongside,
    Rewritten,
    Dropped,
    Inserted,
    Removed,
    Hazard,
    Ignored,
    NoEffect,
}

impl StepEvent {
    pub fn label(self) -> &'static str {
        match self {
            StepEvent::Created => "created",
            StepEvent::Recreated => "created again",
            StepEvent::Added => "added",
            StepEvent::TableCreated => "created",
            StepEvent::CreatedInstead => "created in its place",
            StepEvent::CreatedAlongside => "created alongside",
            StepEvent::Rewritten => "rewritten",
            StepEvent::Dropped => "dropped",
            StepEvent::Inserted => "rows inserted",
            StepEvent::Removed => "rows removed",
            StepEvent::Hazard => "hazard",
            StepEvent::Ignored => "ignored",
            StepEvent::NoEffect => "no visible effect",
        }
    }
}

/// Replays `chain` on a scratch database and analyzes what each migration did.
pub fn analyze(
    options: &ServerOptions,
    chain: &MigrationChain,
    progress: &Progress,
    snapshots: Snapshots,
) -> anyhow::Result<(HistoryAnalysis, ReplayTimings)> {
    let replay = replay::replay(options, chain, progress, snapshots)?;
    progress.phase("analyzing");
    let analysis = findings::analyze(chain, &replay);
    Ok((analysis, replay.timings))
}

/// Where each object alive at the end of the history came from: the indexes (into the
/// chain) of the migrations that created it (its last creation) and changed it since, in
/// order; and for each table, the migrations that changed its row count.
pub struct Origins {
    pub objects: BTreeMap<ObjectId, Vec<usize>>,
    pub rows: BTreeMap<String, Vec<usize>>,
}

/// Replays `chain` one migration at a time, as [`analyze`] does, for [`Origins`].
pub fn origins(
    options: &ServerOptions,
    chain: &MigrationChain,
    progress: &Progress,
) -> anyhow::Result<Origins> {
    let replay = replay::replay(options, chain, progress, Snapshots::Incremental)?;
    let objects = replay
        .histories
        .values()
        .filter(|history| history.survives())
        .map(|history| {
            let since = history
                .events
                .iter()
                .rposition(|e| e.kind == replay::EventKind::Created)
                .unwrap_or(0);
            let mut touched: Vec<usize> = history.events[since..]
                .iter()
                .map(|e| e.migration)
                .collect();
            touched.dedup();
            (history.id.clone(), touched)
        })
        .collect();
    let mut rows: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, counts) in replay.row_counts.windows(2).enumerate() {
        for (table, count) in &counts[1] {
            if counts[0].get(table) != Some(count) {
                rows.entry(table.clone()).or_default().push(index);
            }
        }
    }
    Ok(Origins { objects, rows })
}

impl HistoryAnalysis {
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    pub fn findings(&self) -> usize {
        self.sections.iter().map(|s| s.findings.len()).sum()
    }
}

#[cfg(test)]
mod tests;
