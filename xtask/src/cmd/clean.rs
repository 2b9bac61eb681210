//! `cargo xtask clean`: removes what interrupted runs left behind, and the hidden watcher
//! that ends a throwaway cluster when its run is killed.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::exit;
use crate::pg;

/// Remove what runs that died left behind: throwaway clusters (stopping their servers),
/// unfinished initdb cache entries and, with --database-url, scratch databases
///
/// Every run does this on its own before it starts a server; only what belongs to runs
/// that no longer run is touched.
#[derive(Debug, Args)]
pub struct Clean {
    /// Also drop this server's scratch databases left by runs of this machine that died
    #[arg(
        long,
        value_name = "URL",
        env = "XTASK_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
}

impl Clean {
    pub fn run(&self, _root: &Path) -> anyhow::Result<u8> {
        let removed = pg::remove_leftovers(self.database_url.as_deref())?;
        if removed.is_empty() {
            println!("nothing left behind");
        }
        for what in removed {
            println!("removed {what}");
        }
        Ok(exit::OK)
    }
}

/// Waits for the run whose pipe is its standard input to end, then stops the throwaway
/// cluster in DIR and removes it, if the run did not
#[derive(Debug, Args)]
pub struct WatchCluster {
    dir: PathBuf,
}

impl WatchCluster {
    pub fn run(&self) -> anyhow::Result<u8> {
        pg::watch_cluster(&self.dir)?;
        Ok(exit::OK)
    }
}
