//! `sqlx.toml` at the repository root: sqlx 0.9 reads its `[migrate]` section for the
//! table's name and the characters left out of checksums. Absent, sqlx 0.8's defaults hold.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha384};

use crate::migrations::Migration;

pub const FILE_NAME: &str = "sqlx.toml";
const DEFAULT_TABLE: &str = "_sqlx_migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlxSettings {
    /// As sqlx pastes it into its statements: may be schema-qualified and quoted.
    pub table: String,
    /// Dropped from a migration's text before it is hashed.
    pub ignored_chars: BTreeSet<char>,
}

impl Default for SqlxSettings {
    fn default() -> Self {
        SqlxSettings {
            table: DEFAULT_TABLE.to_owned(),
            ignored_chars: BTreeSet::new(),
        }
    }
}

/// Only what concerns `_sqlx_migrations`; sqlx's other settings are not ours to check.
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    migrate: Migrate,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Migrate {
    table_name: Option<String>,
    #[serde(default)]
    ignored_chars: BTreeSet<char>,
}

impl SqlxSettings {
    pub fn load(root: &Path) -> anyhow::Result<SqlxSettings> {
        let path = root.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SqlxSettings::default())
            }
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let file: File = toml::from_str(&text).with_context(|| {
            format!(
                "{}: invalid [migrate] settings (sqlx reads `table-name` as a string and \
                 `ignored-chars` as a list of one-character strings)",
                path.display()
            )
        })?;
        Ok(SqlxSettings {
            table: file
                .migrate
                .table_name
                .unwrap_or_else(|| DEFAULT_TABLE.to_owned()),
            ignored_chars: file.migrate.ignored_chars,
        })
    }

    /// The checksum sqlx records: SHA-384 of the text, without the ignored characters
    /// (sqlx-core `checksum_with`).
    pub fn checksum(&self, migration: &Migration) -> Vec<u8> {
        if self.ignored_chars.is_empty() {
            return migration.checksum.clone();
        }
        let mut digest = Sha384::new();
        for fragment in migration.sql.split(|c| self.ignored_chars.contains(&c)) {
            digest.update(fragment);
        }
        digest.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(sql: &str) -> Migration {
        Migration {
            version: 1,
            description: "init".into(),
            path: "1_init.sql".into(),
            sql: sql.into(),
            no_transaction: false,
            checksum: Sha384::digest(sql).to_vec(),
        }
    }

    #[test]
    fn without_a_file_the_defaults_of_sqlx_hold() {
        let dir = tempfile::tempdir().unwrap();
        let settings = SqlxSettings::load(dir.path()).unwrap();
        assert_eq!(settings, SqlxSettings::default());
        let m = migration("CREATE TABLE a ();\r\n");
        assert_eq!(settings.checksum(&m), m.checksum);
    }

    #[test]
    fn ignored_characters_leave_the_checksum_of_the_text_without_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[common]\ndatabase-url-var = \"APP_DB\"\n\n[migrate]\ntable-name = \
             \"app._migrations\"\nignored-chars = [\"\\r\"]\n",
        )
        .unwrap();
        let settings = SqlxSettings::load(dir.path()).unwrap();
        assert_eq!(settings.table, "app._migrations");
        let crlf = migration("CREATE TABLE a ();\r\nCREATE TABLE b ();\r\n");
        let lf = migration("CREATE TABLE a ();\nCREATE TABLE b ();\n");
        assert_ne!(crlf.checksum, lf.checksum);
        assert_eq!(settings.checksum(&crlf), lf.checksum);
    }

    #[test]
    fn a_malformed_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[migrate]\nignored-chars = \"\\r\"\n",
        )
        .unwrap();
        let err = format!("{:#}", SqlxSettings::load(dir.path()).unwrap_err());
        assert!(
            err.contains("sqlx.toml: invalid [migrate] settings"),
            "{err}"
        );
    }
}
