//! `xtask.toml` at the repository root: settings a team shares instead of repeating flags.
//!
//! ```toml
//! prelude = "prelude.sql"                              # roles and schemas the migrations assume
//! accepted-differences = "accepted-differences.toml"   # reviewed, intended differences
//! statement-timeout = 600                              # seconds a statement may run; 0: no limit
//! pg = 16                      # the scratch cluster's PostgreSQL major, or a bin directory
//!
//! [[generate.file]]                                    # how generate groups its files
//! name = "initial_setup"
//! kinds = ["extension", "enum"]
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::pg::BinariesChoice;

pub const FILE_NAME: &str = "xtask.toml";

/// Seconds one statement may run when nothing says otherwise: far more than any migration
/// of a real history needs, far less than forever.
pub const DEFAULT_STATEMENT_TIMEOUT: u64 = 600;

/// Where `verify` looks for accepted differences when nothing says otherwise.
pub const DEFAULT_ACCEPTED: &str = "accepted-differences.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub prelude: Option<PathBuf>,
    pub accepted_differences: Option<PathBuf>,
    /// Seconds one statement may run on a scratch database; 0 for no limit.
    pub statement_timeout: Option<u64>,
    pub pg: Option<BinariesChoice>,
    /// The plan `generate` groups its files by (see [`crate::generate::plan`]).
    pub generate: Option<crate::generate::plan::Plan>,
}

impl Config {
    /// Reads `xtask.toml` from `root`; paths in it are made relative to `root`.
    pub fn load(root: &Path) -> anyhow::Result<Config> {
        let path = root.join(FILE_NAME);
        let text = match crate::input::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut config: Config = toml::from_str(&text)
            .with_context(|| format!("{}: invalid settings", path.display()))?;
        config.prelude = config.prelude.map(|p| root.join(p));
        config.accepted_differences = config.accepted_differences.map(|p| root.join(p));
        config.pg = config.pg.map(|choice| choice.relative_to(root));
        if let Some(plan) = &config.generate {
            plan.check()
                .with_context(|| format!("{}: invalid [generate] plan", path.display()))?;
        }
        Ok(config)
    }
}
