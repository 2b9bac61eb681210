//! `cargo xtask retire`: ends the consolidation period. Verifies one last time, then,
//! through the journaled swap, replaces the lock record and the history with a baseline
//! record that `verify` checks from then on.

use std::path::Path;

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;

use super::verify::Verify;
use super::CompareArgs;
use crate::config::Config;
use crate::exit;
use crate::migrations::{ChainRole, MigrationChain};
use crate::pg::{ScratchServer, ServerOptions};
use crate::report::Format;
use crate::schema::fingerprint::Fingerprint;
use crate::schema::introspect::introspect;
use crate::tree::baseline::{self, Split};
use crate::tree::{self, BaselineRecord, LockRecord, Manifest, Operation, Tree, TreeState};
use crate::ui::{self, Progress};

/// Retire the history: verify one last time, then keep only the consolidated set and a
/// baseline record
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 retired (or already), 1 verification failed and \
    nothing was changed, 2 could not run."
)]
pub struct Retire {
    #[command(flatten)]
    compare: CompareArgs,
}

impl Retire {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let json = self.compare.format == Format::Json;
        ui::report_errors_as_json(json);
        self.retire(root)
    }

    fn retire(self, root: &Path) -> anyhow::Result<u8> {
        let tree = Tree::new(root);
        let writer = tree.lock_for_writing("retire")?;
        let human = self.compare.format == Format::Human;
        match tree.state()? {
            TreeState::Interrupted(journal) if journal.operation == Operation::Retire => {
                tree::finish(&tree, &writer)?;
                println!(
                    "finished the interrupted retirement: {}",
                    tree.baseline_path().display()
                );
                return Ok(exit::OK);
            }
            TreeState::Retired(_) => {
                println!(
                    "already retired: {} holds the baseline record",
                    tree.migrations().display()
                );
                return Ok(exit::OK);
            }
            TreeState::Consolidated(_) => {}
            state => bail!("cannot retire: {state}"),
        }

        let config = Config::load(root)?;
        let options = self.compare.server_options(&config);
        let verify = Verify::of_tree(self.compare);
        if verify.verify(root)? != exit::OK {
            if human {
                println!("not retired: verify failed; the tree is left exactly as it was");
            }
            return Ok(exit::DIFFERENT);
        }

        let lock = LockRecord::read(&tree.lock_path())?;
        let chain = MigrationChain::resolve(&tree.migrations(), ChainRole::Consolidated)?;
        let split = baseline::split(&chain, &lock.consolidated.manifest);
        let fingerprint = replay_baseline(&options, &split, &Progress::new(!human))?;
        if same_major(&lock.postgres_version, &fingerprint.server_version)
            && fingerprint.sha256 != lock.consolidated.schema_fingerprint
        {
            bail!(
                "the consolidated set alone builds schema sha256:{}, the lock record says \
                 sha256:{}: not retired; find what changed with `cargo xtask verify`",
                fingerprint.sha256,
                lock.consolidated.schema_fingerprint
            );
        }
        let history = Manifest::read(&tree.manifest_path())?;
        let record = BaselineRecord::new(
            fingerprint.server_version,
            history.digest(),
            fingerprint.sha256,
            lock.consolidated.manifest,
        );
        tree::retire(&tree, &writer, &record)?;
        if human {
            println!(
                "retired: {} holds the consolidated set and {}; migrations.old/ is removed \
                 (version control keeps it; its manifest digest is {} in the record)",
                tree.migrations().display(),
                tree::BASELINE_FILE,
                record.history_digest
            );
        }
        Ok(exit::OK)
    }
}

/// What `verify` reports on a retired tree.
#[derive(Serialize)]
pub struct BaselineReport {
    pub equal: bool,
    pub baseline: String,
    pub consolidated_migrations: usize,
    pub new_migrations: Vec<String>,
    pub schema_fingerprint: String,
    pub server_version: String,
    /// What contradicts the baseline record.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// `verify` on a retired tree: the files against the baseline record, the consolidated
/// set replayed on its own and fingerprinted, then the later migrations on top.
pub fn verify_baseline(
    tree: &Tree,
    checks: &tree::RetiredChecks,
    options: &ServerOptions,
    format: Format,
) -> anyhow::Result<u8> {
    let record = BaselineRecord::read(&tree.baseline_path())?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    match &checks.migrations {
        tree::ManifestCheck::Intact => {}
        tree::ManifestCheck::Changed(changes) => problems.extend(
            changes
                .iter()
                .map(|change| format!("{}/: {change}", tree::MIGRATIONS_DIR)),
        ),
        tree::ManifestCheck::Unreadable(reason) => {
            problems.push(format!("{}/: {reason}", tree::MIGRATIONS_DIR))
        }
    }
    notes.extend(checks.since.other_files.iter().map(|change| {
        format!(
            "{}/: {change} (sqlx does not read it)",
            tree::MIGRATIONS_DIR
        )
    }));
    let chain = MigrationChain::resolve(&tree.migrations(), ChainRole::Consolidated)?;
    let split = baseline::split(&chain, &record.manifest);
    let fingerprint = replay_baseline(options, &split, &Progress::new(format == Format::Json))?;
    if !same_major(&record.postgres_version, &fingerprint.server_version) {
        notes.push(format!(
            "fingerprint not compared with the baseline record: it was taken on PostgreSQL \
             {}, this run used {}",
            record.postgres_version, fingerprint.server_version
        ));
    } else if fingerprint.sha256 != record.schema_fingerprint {
        problems.push(format!(
            "the consolidated set's schema fingerprint is sha256:{}; the baseline record says \
             sha256:{}",
            fingerprint.sha256, record.schema_fingerprint
        ));
    }
    let report = BaselineReport {
        equal: problems.is_empty(),
        baseline: tree.baseline_path().display().to_string(),
        consolidated_migrations: split.consolidated.migrations.len(),
        new_migrations: split
            .new_since
            .iter()
            .map(|m| m.path.display().to_string())
            .collect(),
        schema_fingerprint: fingerprint.sha256,
        server_version: fingerprint.server_version,
        problems,
        notes,
    };
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Human => {
            println!(
                "retired history: {} consolidated migrations checked against {}, {} new since",
                report.consolidated_migrations,
                report.baseline,
                report.new_migrations.len()
            );
            println!(
                "schema sha256:{} (PostgreSQL {})",
                report.schema_fingerprint, report.server_version
            );
            for note in &report.notes {
                println!("note: {note}");
            }
            for problem in &report.problems {
                println!("changed since the retirement: {problem}");
            }
            match report.equal {
                true => {
                    println!("equal: the consolidated set is unchanged and every migration replays")
                }
                false => println!("different: {} problems", report.problems.len()),
            }
        }
    }
    Ok(if report.equal {
        exit::OK
    } else {
        exit::DIFFERENT
    })
}

/// Replays the consolidated set on a scratch database and fingerprints it, then replays
/// the later migrations on top, so that each must still apply.
fn replay_baseline(
    options: &ServerOptions,
    split: &Split,
    progress: &Progress,
) -> anyhow::Result<Fingerprint> {
    progress.phase("starting PostgreSQL");
    let server = ScratchServer::start(options)?;
    let database = server.create_database("baseline")?;
    let mut client = database.connect()?;
    progress.phase(format!(
        "replaying {} migrations",
        split.consolidated.migrations.len()
    ));
    split
        .consolidated
        .apply(&mut client)
        .with_context(|| format!("could not replay {}", split.consolidated.dir.display()))?;
    progress.phase("reading the catalog");
    let schema =
        introspect(&mut client).context("reading the database built by the consolidated set")?;
    let fingerprint = Fingerprint::of(&schema);
    progress.phase(format!(
        "replaying {} new migrations",
        split.new_since.len()
    ));
    for migration in &split.new_since {
        migration.apply(&mut client)?;
    }
    Ok(fingerprint)
}

/// Whether two `server_version`s share a major version; fingerprints are comparable only then.
pub fn same_major(a: &str, b: &str) -> bool {
    let major = |version: &str| {
        version
            .split(['.', ' '])
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    major(a) == major(b)
}
