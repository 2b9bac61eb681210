//! `cargo xtask consolidate`: backs up the history, proves the staged consolidated set
//! builds the same database, and only then swaps it into `migrations/`.

use std::path::Path;

use anyhow::bail;
use clap::Args;

use super::{CompareArgs, TreeArgs};
use crate::config::Config;
use crate::exit;
use crate::migrations::{ChainRole, MigrationChain};
use crate::pack::Pack;
use crate::report::{Format, Recorded, Report};
use crate::tree::{self, LockRecord, Manifest, Operation, SideRecord, TreeState};
use crate::ui;

/// Verify the staged consolidated set against the history, then swap it in
#[derive(Debug, Args)]
#[command(
    long_about = "Verify the staged consolidated set against the history, then swap it in.\n\n\
        migrations/ holds the history and the staging directory (default migrations.new/) the \
        consolidated set. Both are replayed on scratch databases, the core pack is loaded into \
        both, and schemas and data are compared. Only if they are equal is migrations/ backed up \
        to migrations.old/ (with MANIFEST.sum) and replaced by the consolidated set, with a lock \
        record (consolidation.lock). The swap is journaled: if it is cut off, run consolidate \
        again to finish it or rollback to undo it. If verification fails, nothing is touched.",
    after_help = "Examples:\n  \
        cargo xtask consolidate --dry-run\n  \
        cargo xtask consolidate\n  \
        cargo xtask consolidate --staging consolidated --force"
)]
pub struct Consolidate {
    #[command(flatten)]
    tree: TreeArgs,

    /// An existing migrations.old/ is moved aside to migrations.old.<time>/ (never deleted)
    #[arg(long)]
    force: bool,

    /// Do everything but touch the tree
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    compare: CompareArgs,
}

impl Consolidate {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let json = self.compare.format == Format::Json;
        ui::report_errors_as_json(json);
        self.consolidate(root)
    }

    fn consolidate(&self, root: &Path) -> anyhow::Result<u8> {
        let tree = self.tree.tree(root);
        // Held to the end, verification included: no other run may change what is verified.
        let writer = match self.dry_run {
            true => None,
            false => Some(tree.lock_for_writing("consolidate")?),
        };
        let state = tree.state()?;
        if let TreeState::InProgress(_) = state {
            bail!("{state}");
        }
        if let TreeState::Interrupted(journal) = state {
            if journal.operation != Operation::Consolidate {
                bail!("{journal}");
            }
            if self.dry_run {
                println!("{journal}; a run without --dry-run finishes it");
                return Ok(exit::OK);
            }
            // Verification succeeded before the swap began; the journal holds its record.
            tree::finish(&tree, writer.as_ref().expect("taken unless a dry run"))?;
            println!(
                "finished the interrupted consolidation: {}",
                tree.migrations().display()
            );
            return Ok(exit::OK);
        }
        tree::preflight_consolidate(&tree, self.force)?;

        let config = Config::load(root)?;
        let history = MigrationChain::resolve(&tree.migrations(), ChainRole::History)?;
        let consolidated = MigrationChain::resolve(&tree.staging, ChainRole::Consolidated)?;
        let (pack, accepted) = self.compare.prepare(root, &config)?;
        // Taken before the replay: the swap refuses if a file changes in between.
        let manifests = (
            Manifest::of_dir(&tree.migrations())?,
            Manifest::of_dir(&tree.staging)?,
        );

        let comparison = self
            .compare
            .compare(&config, &history, &consolidated, pack.as_ref())?;
        let mut report = Report::new(
            &comparison,
            (&history, &consolidated),
            &accepted,
            self.compare.strict_column_order,
            Recorded::default(),
        );
        // Human output comes before the swap, so the verdict shows even if the swap fails;
        // JSON waits for the swap, to say whether it happened.
        let human = self.compare.format == Format::Human;
        if human {
            report.print(Format::Human)?;
        }
        if !report.equal {
            if human {
                println!("not consolidated: the tree is left exactly as it was");
            } else {
                report.swapped = Some(false);
                report.print(Format::Json)?;
            }
            return Ok(exit::DIFFERENT);
        }
        if self.dry_run {
            if human {
                println!("dry run: verification passed; nothing was changed");
            } else {
                report.swapped = Some(false);
                report.print(Format::Json)?;
            }
            return Ok(exit::OK);
        }

        let pack_digest = pack.as_ref().map(Pack::digest).transpose()?;
        let lock = LockRecord {
            pack_digest,
            ..LockRecord::new(
                comparison.old.fingerprint.server_version.clone(),
                SideRecord {
                    schema_fingerprint: comparison.old.fingerprint.sha256.clone(),
                    data_fingerprint: comparison.old.data_fingerprint.sha256.clone(),
                    manifest: manifests.0,
                },
                SideRecord {
                    schema_fingerprint: comparison.new.fingerprint.sha256.clone(),
                    data_fingerprint: comparison.new.data_fingerprint.sha256.clone(),
                    manifest: manifests.1,
                },
            )
        };
        let writer = writer.as_ref().expect("taken unless a dry run");
        tree::consolidate_swap(&tree, writer, &lock, self.force)?;
        if !human {
            report.swapped = Some(true);
            report.print(Format::Json)?;
        } else {
            println!(
                "consolidated: {} holds the consolidated set, {} the history; \
                 `cargo xtask rollback` undoes it",
                tree.migrations().display(),
                tree.backup().display()
            );
        }
        Ok(exit::OK)
    }
}
