//! The benchmark behind `cargo xtask bench`: `verify` beside the alternatives, and
//! `analyze` beside `verify`, on synthetic histories of growing size and on the
//! repository's own history, every tool on the same kind of throwaway cluster.

pub mod history;
pub mod report;
mod tools;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::analysis::{self, Snapshots};
use crate::comparison::{self, Timings};
use crate::migrations::{ChainRole, MigrationChain};
use crate::pack::Pack;
use crate::pg::{ScratchDatabase, ScratchServer, ServerOptions};
use crate::schema::accepted::AcceptedDifferences;
use crate::tree::Tree;
use crate::ui::Progress;
use history::SyntheticHistory;
use tools::Tools;

/// What to measure.
pub struct BenchPlan {
    /// History sizes (migrations) of the synthetic cases.
    pub sizes: Vec<usize>,
    pub seed: u64,
    pub runs: usize,
    /// Runs at sizes of `LARGE_SIZE` migrations or more, where one run takes minutes.
    pub large_runs: usize,
    /// The repository whose own history is measured too, if any.
    pub repository: Option<PathBuf>,
    pub migra: Option<PathBuf>,
    /// Where the synthetic histories are written and kept [default: a temporary directory].
    pub histories: Option<PathBuf>,
}

/// From this many migrations on, a size gets `large_runs` runs.
pub const LARGE_SIZE: usize = 1000;

/// Two chains to verify, and what they build.
pub struct Case {
    pub name: String,
    pub old: MigrationChain,
    pub new: MigrationChain,
    pub pack: Option<Pack>,
    /// A synthetic case must come out equal: that is the generator's proof.
    pub must_be_equal: bool,
}

/// One run of every tool on one case.
#[derive(Debug, Clone)]
pub struct RunTimes {
    /// `verify` as a user runs it: its own cluster started, used and stopped.
    pub ours_wall: Duration,
    pub ours: Timings,
    pub cluster_start: Duration,
    pub cluster_stop: Duration,
    /// Two databases created and both chains applied by psql, one after the other.
    pub floor: Duration,
    /// Two databases created, psql per file for both chains, both dumped, text diff.
    pub manual: Duration,
    /// migra on the floor's two databases.
    pub migra: Option<Duration>,
    /// `analyze` of the history as a user runs it, and the same without starting its
    /// cluster.
    pub analyze_wall: Duration,
    pub analyze_work: Duration,
}

/// Everything measured on one case.
pub struct CaseResult {
    pub name: String,
    pub old_migrations: usize,
    pub new_migrations: usize,
    /// Schema objects the consolidated side has (tables, columns, constraints, ...).
    pub objects: usize,
    pub runs: Vec<RunTimes>,
    /// Why migra has no figures, when it has none.
    pub migra_error: Option<String>,
    /// `server_version` of the cluster every tool ran on.
    pub server_version: String,
}

/// Everything measured: the baseline, whose work every case pays too, and the cases.
pub struct BenchResults {
    pub baseline: CaseResult,
    pub cases: Vec<CaseResult>,
}

pub fn run(plan: &BenchPlan, progress: &Progress) -> anyhow::Result<BenchResults> {
    let mut tools = Tools::find(plan.migra.as_deref())?;
    let work_dir = tempfile::Builder::new()
        .prefix("xtask-bench-")
        .tempdir()
        .context("cannot create a directory for the benchmark's files")?;
    let histories = plan.histories.as_deref().unwrap_or(work_dir.path());
    let dir = histories.join("baseline");
    let case = synthetic_case("baseline", &SyntheticHistory::baseline(), &dir)?;
    let baseline = measure(&case, plan.runs, &mut tools, &dir, progress)?;
    let mut results = Vec::new();
    if let Some(root) = &plan.repository {
        let tree = Tree::new(root);
        crate::cmd::refuse_if_interrupted(&tree)?;
        let case = Case {
            name: "repository".into(),
            old: MigrationChain::resolve(&tree.backup(), ChainRole::History)?,
            new: MigrationChain::resolve(&tree.migrations(), ChainRole::Consolidated)?,
            pack: match tree.default_pack() {
                dir if dir.exists() => Some(Pack::read(&dir)?),
                _ => None,
            },
            must_be_equal: false,
        };
        results.push(measure(
            &case,
            plan.runs,
            &mut tools,
            work_dir.path(),
            progress,
        )?);
    }
    for &size in &plan.sizes {
        progress.phase(format!("generating a history of {size} migrations"));
        let dir = histories.join(format!("synthetic-{size}"));
        let history = SyntheticHistory::generate(size, plan.seed);
        let case = synthetic_case(&format!("synthetic {size}"), &history, &dir)?;
        let runs = if size >= LARGE_SIZE {
            plan.large_runs
        } else {
            plan.runs
        };
        results.push(measure(&case, runs, &mut tools, &dir, progress)?);
    }
    Ok(BenchResults {
        baseline,
        cases: results,
    })
}

/// Writes the history and its consolidated set under `dir`, and reads them back as a case
/// that must come out equal.
fn synthetic_case(name: &str, history: &SyntheticHistory, dir: &Path) -> anyhow::Result<Case> {
    history.write(dir)?;
    Ok(Case {
        name: name.to_owned(),
        old: MigrationChain::resolve(&dir.join("history"), ChainRole::History)?,
        new: MigrationChain::resolve(&dir.join("consolidated"), ChainRole::Consolidated)?,
        pack: None,
        must_be_equal: true,
    })
}

fn measure(
    case: &Case,
    runs: usize,
    tools: &mut Tools,
    dir: &Path,
    progress: &Progress,
) -> anyhow::Result<CaseResult> {
    let concatenated = (dir.join("old.sql"), dir.join("new.sql"));
    tools::concatenate(&case.old, &concatenated.0)?;
    tools::concatenate(&case.new, &concatenated.1)?;
    let mut result = CaseResult {
        name: case.name.clone(),
        old_migrations: case.old.migrations.len(),
        new_migrations: case.new.migrations.len(),
        objects: 0,
        runs: Vec::new(),
        migra_error: tools.migra.as_ref().err().cloned(),
        server_version: String::new(),
    };
    for run in 1..=runs.max(1) {
        progress.phase(format!("{}: run {run} of {runs}: verify", case.name));
        let quiet = Progress::new(true);
        let started = Instant::now();
        let compared = comparison::compare(
            &ServerOptions::default(),
            &case.old,
            &case.new,
            case.pack.as_ref(),
            &quiet,
        )
        .with_context(|| format!("verify failed on {}", case.name))?;
        let ours_wall = started.elapsed();
        let none_accepted = AcceptedDifferences::default();
        let verdict = compared.verdict(&none_accepted, false);
        if case.must_be_equal && !verdict.equal() {
            bail!(
                "the generated history and consolidated set of {} differ, so the generator \
                 is wrong:\n  {}",
                case.name,
                verdict.failures().join("\n  ")
            );
        }
        result.objects = compared.new.schema.objects.len();

        progress.phase(format!("{}: run {run} of {runs}: analyze", case.name));
        let started = Instant::now();
        let (_, analyzed) = analysis::analyze(
            &ServerOptions::default(),
            &case.old,
            &quiet,
            Snapshots::Incremental,
        )
        .with_context(|| format!("analyze failed on {}", case.name))?;
        let analyze_wall = started.elapsed();
        let analyze_work = analyze_wall.saturating_sub(analyzed.server);

        progress.phase(format!("{}: run {run} of {runs}: the others", case.name));
        let started = Instant::now();
        let server = ScratchServer::start(&ServerOptions::default())?;
        let cluster_start = started.elapsed();
        result.server_version = server.version().to_owned();
        let times = alternatives(case, tools, &server, &concatenated, dir)?;
        if let Err(err) = &times.migra {
            result.migra_error = Some(format!("{err:#}"));
            // A migra that failed once fails the same way on the next run; do not wait.
            tools.migra = Err(format!("{err:#}"));
        }
        let started = Instant::now();
        drop(server);
        let cluster_stop = started.elapsed();
        result.runs.push(RunTimes {
            ours_wall,
            ours: compared.timings,
            cluster_start,
            cluster_stop,
            floor: times.floor,
            manual: times.manual,
            migra: times.migra.as_ref().ok().copied(),
            analyze_wall,
            analyze_work,
        });
    }
    Ok(result)
}

struct AlternativeTimes {
    floor: Duration,
    manual: Duration,
    migra: anyhow::Result<Duration>,
}

fn alternatives(
    case: &Case,
    tools: &Tools,
    server: &ScratchServer,
    concatenated: &(PathBuf, PathBuf),
    dir: &Path,
) -> anyhow::Result<AlternativeTimes> {
    let started = Instant::now();
    let (old_db, new_db) = (
        server.create_database("old")?,
        server.create_database("new")?,
    );
    let (old_url, new_url) = (url(&old_db)?, url(&new_db)?);
    tools
        .apply_in_one_session(&old_url, &concatenated.0)
        .with_context(|| format!("psql could not apply {}", case.old.dir.display()))?;
    tools
        .apply_in_one_session(&new_url, &concatenated.1)
        .with_context(|| format!("psql could not apply {}", case.new.dir.display()))?;
    let floor = started.elapsed();

    let migra = match &tools.migra {
        Ok(_) => {
            let started = Instant::now();
            tools
                .migra(&old_url, &new_url)
                .map(|()| started.elapsed())
                .context("migra failed")
        }
        Err(reason) => Err(anyhow::anyhow!("{reason}")),
    };

    let started = Instant::now();
    let (old_db, new_db) = (
        server.create_database("old")?,
        server.create_database("new")?,
    );
    let (old_url, new_url) = (url(&old_db)?, url(&new_db)?);
    tools.apply_file_by_file(&old_url, &case.old)?;
    tools.apply_file_by_file(&new_url, &case.new)?;
    let dumps = (dir.join("old.dump.sql"), dir.join("new.dump.sql"));
    tools.dump_schema(&old_url, &dumps.0)?;
    tools.dump_schema(&new_url, &dumps.1)?;
    tools.text_diff(&dumps.0, &dumps.1)?;
    let manual = started.elapsed();
    Ok(AlternativeTimes {
        floor,
        manual,
        migra,
    })
}

fn url(database: &ScratchDatabase<'_>) -> anyhow::Result<String> {
    database
        .libpq_url()
        .context("the benchmark needs a throwaway cluster of its own")
}
