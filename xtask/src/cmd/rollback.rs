//! `cargo xtask rollback`: puts the history back in `migrations/` and the consolidated set
//! in the staging directory, so that `consolidate` can run again.

use std::path::Path;

use clap::Args;

use super::TreeArgs;
use crate::exit;
use crate::tree::{self, BackupChanged};
use crate::ui;

/// Undo a consolidation: the history returns to migrations/, the consolidated set to staging
#[derive(Debug, Args)]
#[command(
    after_help = "Also undoes a consolidation that was cut off, and finishes a rollback \
    that was.\n\nExamples:\n  cargo xtask rollback\n  cargo xtask rollback --force"
)]
pub struct Rollback {
    #[command(flatten)]
    tree: TreeArgs,

    /// Restore migrations.old/ even if it differs from its MANIFEST.sum
    #[arg(long)]
    force: bool,
}

impl Rollback {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let tree = self.tree.tree(root);
        let writer = tree.lock_for_writing("rollback")?;
        match tree::rollback(&tree, &writer, self.force) {
            Ok(outcome) => {
                println!("{outcome}");
                Ok(exit::OK)
            }
            Err(err) if err.downcast_ref::<BackupChanged>().is_some() => {
                ui::print_error(&err);
                Ok(exit::DIFFERENT)
            }
            Err(err) => Err(err),
        }
    }
}
