//! One module per command; each strings together the steps of the other modules.

pub mod analyze;
pub mod rollback;
pub mod status;
pub mod verify;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::tree::{self, Tree};

/// Where the consolidated set waits before it is swapped in, and after a rollback.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Staging directory of the consolidated set, relative to the root
    #[arg(long, value_name = "DIR", default_value = tree::DEFAULT_STAGING_DIR)]
    staging: PathBuf,
}

impl TreeArgs {
    pub fn tree(&self, root: &Path) -> Tree {
        Tree::with_staging(root, &self.staging)
    }
}
