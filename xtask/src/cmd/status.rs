//! `cargo xtask status`: which state the migration directories are in, manifests checked.

use std::path::Path;

use clap::Args;

use super::TreeArgs;
use crate::exit;
use crate::tree::{ManifestCheck, TreeState};

/// Say which state the tree is in (history only, staged, consolidated, mid-way)
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the tree is in a sound state, 1 when a manifest \
    check fails or an operation was cut off or the tree is inconsistent."
)]
pub struct Status {
    #[command(flatten)]
    tree: TreeArgs,
}

impl Status {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let status = self.tree.tree(root).status()?;
        print!("{status}");
        let sound = match &status.state {
            TreeState::HistoryOnly | TreeState::Staged => true,
            TreeState::Consolidated(checks) => {
                checks.backup == ManifestCheck::Intact && checks.migrations == ManifestCheck::Intact
            }
            TreeState::Interrupted(_) | TreeState::InProgress(_) | TreeState::Inconsistent(_) => {
                false
            }
        };
        Ok(if sound { exit::OK } else { exit::DIFFERENT })
    }
}
