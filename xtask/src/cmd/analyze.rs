//! `cargo xtask analyze`: replays the history one migration at a time and writes what a
//! consolidation should fold, drop or move, as a Markdown plan (or JSON).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::ServerArgs;
use crate::analysis::{self, HistoryAnalysis, Snapshots};
use crate::config::Config;
use crate::exit;
use crate::migrations::{ChainRole, MigrationChain};
use crate::tree::{Tree, TreeState};
use crate::ui::{self, Progress};

/// Lines of the diff shown when `--check` finds the report out of date.
const CHECK_DIFF_LINES: usize = 40;

/// Trace the life of every object in the history: what to fold, drop or move
#[derive(Debug, Args)]
#[command(
    after_help = "Timings go to stderr (not with --quiet), never into the report, which is \
    deterministic.\n\n\
    Examples:\n  \
    cargo xtask analyze\n  \
    cargo xtask analyze migrations.old --output docs/history-analysis.md\n  \
    cargo xtask analyze --check docs/history-analysis.md\n  \
    cargo xtask analyze --format json"
)]
pub struct Analyze {
    /// The history to analyze [default: <root>/migrations.old, or <root>/migrations when
    /// there is no backup]
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(flatten)]
    server: ServerArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = AnalysisFormat::Markdown)]
    format: AnalysisFormat,

    /// Write the report to FILE instead of stdout
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    output: Option<PathBuf>,

    /// Regenerate the report and exit 1 if FILE differs from it
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,

    /// No progress and no timings: only the report (or --check's verdict)
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalysisFormat {
    Markdown,
    Json,
}

impl Analyze {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let json = self.format == AnalysisFormat::Json && self.output.is_none();
        ui::report_errors_as_json(json);
        self.analyze(root)
    }

    fn analyze(&self, root: &Path) -> anyhow::Result<u8> {
        let started = Instant::now();
        let config = Config::load(root)?;
        let tree = Tree::new(root);
        // A report of a retired history can no longer be regenerated, nor go stale.
        if let (Some(report), None, TreeState::Retired(_)) = (&self.check, &self.dir, tree.state()?)
        {
            println!(
                "the history is retired ({}): {} describes it as it was; nothing to check",
                tree.baseline_path().display(),
                report.display()
            );
            return Ok(exit::OK);
        }
        let dir = self.history_dir(root)?;
        let chain = MigrationChain::resolve(&dir, ChainRole::History)?;

        let progress = Progress::new(self.quiet);
        let (analysis, timings) = analysis::analyze(
            &self.server.options(&config),
            &chain,
            &progress,
            Snapshots::Incremental,
        )?;
        drop(progress);
        let report = self.render(&analysis)?;

        if !self.quiet {
            let migrations = chain.migrations.len();
            let overhead = timings.snapshots + timings.comparison;
            eprintln!(
                "analyzed {migrations} migrations, {} findings: replay {} + snapshots {} + \
                 comparison {} (overhead {:.1} ms per migration, {} read whole); server {}, \
                 total {}",
                analysis.findings(),
                ui::seconds(timings.apply),
                ui::seconds(timings.snapshots),
                ui::seconds(timings.comparison),
                overhead.as_secs_f64() * 1000.0 / migrations.max(1) as f64,
                timings.whole_reads.len(),
                ui::seconds(timings.server),
                ui::seconds(started.elapsed()),
            );
        }

        if let Some(expected) = &self.check {
            return check(expected, &report);
        }
        match &self.output {
            Some(path) => std::fs::write(path, &report)
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => anstream::stdout().lock().write_all(report.as_bytes())?,
        }
        Ok(exit::OK)
    }

    /// The directory given, else the backup of the history, else `migrations/` when the
    /// history was never consolidated.
    fn history_dir(&self, root: &Path) -> anyhow::Result<PathBuf> {
        let tree = Tree::new(root);
        super::refuse_if_interrupted(&tree)?;
        if let Some(dir) = &self.dir {
            return Ok(dir.clone());
        }
        let backup = tree.backup();
        Ok(if backup.is_dir() {
            backup
        } else {
            tree.migrations()
        })
    }

    fn render(&self, analysis: &HistoryAnalysis) -> anyhow::Result<String> {
        Ok(match self.format {
            AnalysisFormat::Markdown => analysis.to_markdown(),
            AnalysisFormat::Json => serde_json::to_string_pretty(analysis)? + "\n",
        })
    }
}

/// Compares the committed report with the one just generated.
fn check(path: &Path, report: &str) -> anyhow::Result<u8> {
    let committed = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            ui::print_error(&anyhow::anyhow!(
                "{} does not exist; generate it with `cargo xtask analyze --output {}`",
                path.display(),
                path.display()
            ));
            return Ok(exit::DIFFERENT);
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    if committed == report {
        println!("{} is current", path.display());
        return Ok(exit::OK);
    }
    ui::print_error(&anyhow::anyhow!(
        "{} is not current; regenerate it with `cargo xtask analyze --output {}`",
        path.display(),
        path.display()
    ));
    let diff = similar::TextDiff::from_lines(committed.as_str(), report);
    let unified = diff
        .unified_diff()
        .context_radius(1)
        .header("committed", "regenerated")
        .to_string();
    let mut lines = unified.lines();
    let mut stderr = anstream::stderr().lock();
    for line in lines.by_ref().take(CHECK_DIFF_LINES) {
        let _ = writeln!(stderr, "{line}");
    }
    let rest = lines.count();
    if rest > 0 {
        let _ = writeln!(stderr, "... {rest} more lines of diff");
    }
    Ok(exit::DIFFERENT)
}
