//! Reading a migrations directory by sqlx's rules, and replaying it.

mod apply;
mod resolve;

use std::fmt;
use std::path::{Path, PathBuf};

pub use apply::MigrationError;

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
    /// As sqlx records it in `_sqlx_migrations`: the file name after the version, without
    /// its suffix, with `_` replaced by spaces.
    pub description: String,
    pub path: PathBuf,
    pub sql: String,
    /// The file starts with `-- no-transaction`.
    pub no_transaction: bool,
    /// SHA-384 of the file's exact bytes, as sqlx stores it in `_sqlx_migrations.checksum`.
    pub checksum: Vec<u8>,
}

/// Something a person should know about a directory that does not stop the run.
#[derive(Debug, Clone)]
pub struct ChainNote {
    pub path: PathBuf,
    /// 1-based, when the note is about one line of the file.
    pub line: Option<usize>,
    pub message: String,
    /// Something that can go wrong (a duplicate version, a misplaced marker, CRLF), as
    /// opposed to a file that is merely ignored.
    pub is_hazard: bool,
}

impl fmt::Display for ChainNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MigrationChain {
    pub dir: PathBuf,
    /// In the order they are applied.
    pub migrations: Vec<Migration>,
    pub notes: Vec<ChainNote>,
}

impl MigrationChain {
    /// Reads `dir` as sqlx would. Every problem that would stop sqlx (or make its run
    /// depend on chance) is an error listing each offending file; the rest become notes.
    pub fn resolve(dir: &Path, role: ChainRole) -> anyhow::Result<MigrationChain> {
        resolve::resolve(dir, role)
    }

    /// Applies every migration, each in its own transaction unless it says
    /// `-- no-transaction`, stopping at the first failure. The error names
    /// file:line:column with the SQL pointed at, and downcasts to [`MigrationError`].
    pub fn apply(&self, client: &mut postgres::Client) -> anyhow::Result<()> {
        for migration in &self.migrations {
            migration.apply(client)?;
        }
        Ok(())
    }
}
