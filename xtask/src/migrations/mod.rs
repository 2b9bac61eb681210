//! Reading a migrations directory by sqlx's rules, and replaying it.

use std::path::{Path, PathBuf};

/// Which set a directory holds; the rules for duplicate versions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainRole {
    /// The original history: duplicate versions are a warning, replayed in file-name order.
    History,
    /// The consolidated set: duplicate versions are an error, as sqlx would fail on them.
    Consolidated,
}

#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    pub description: String,
    pub path: PathBuf,
    pub sql: String,
    /// The file starts with `-- no-transaction`.
    pub no_transaction: bool,
}

/// Something a person should know about a directory that does not stop the run.
#[derive(Debug, Clone)]
pub struct ChainNote {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct MigrationChain {
    pub dir: PathBuf,
    /// In the order they are applied.
    pub migrations: Vec<Migration>,
    pub notes: Vec<ChainNote>,
}

impl MigrationChain {
    pub fn resolve(_dir: &Path, _role: ChainRole) -> anyhow::Result<MigrationChain> {
        todo!("migrations: resolve")
    }

    /// Applies every migration, each in its own transaction unless it says
    /// `-- no-transaction`. A failure names file:line:column with the SQL pointed at.
    pub fn apply(&self, _client: &mut postgres::Client) -> anyhow::Result<()> {
        todo!("migrations: apply")
    }
}
impl std::fmt::Display for ChainNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}
