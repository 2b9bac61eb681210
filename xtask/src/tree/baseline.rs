//! Which files of `migrations/` are the consolidated set a record speaks for, and which
//! came after it: migrations added since the consolidation are new, not edits. And the
//! baseline record `retire` leaves in `migrations/` once the history is gone.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::durable;
use super::manifest::{Manifest, ManifestChange};
use super::ManifestCheck;
use crate::migrations::{Migration, MigrationChain};

/// `migrations/baseline.lock`: the consolidated set as it was when its history was
/// retired, and the schema it builds. Written by `retire`, read by `verify` and `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BaselineRecord {
    /// When the history was retired (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    pub tool_version: String,
    /// The server the fingerprint was taken on: printed definitions change between majors.
    pub postgres_version: String,
    /// The digest of the retired history's manifest (`MANIFEST.sum`), to check a copy
    /// restored from version control.
    pub history_digest: String,
    /// The schema the consolidated set builds on its own, later migrations aside.
    pub schema_fingerprint: String,
    /// The consolidated set's files.
    pub manifest: Manifest,
}

impl BaselineRecord {
    pub fn new(
        postgres_version: String,
        history_digest: String,
        schema_fingerprint: String,
        manifest: Manifest,
    ) -> BaselineRecord {
        BaselineRecord {
            // Whole seconds, as in the lock record.
            time: Utc::now().trunc_subsecs(0),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            postgres_version,
            history_digest,
            schema_fingerprint,
            manifest,
        }
    }

    /// Writes atomically (temp file, fsync, rename).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self).expect("a baseline record always serializes");
        let text = format!(
            "# Written by `cargo xtask retire`; read by `verify` and `status`.\n\
             # Do not edit: the manifest's digest is checked.\n{body}"
        );
        durable::write_atomically(path, text.as_bytes())
    }

    pub fn read(path: &Path) -> anyhow::Result<BaselineRecord> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline record {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "{}: not a valid baseline record; restore it from version control",
                path.display()
            )
        })
    }
}

/// `migrations/` split at the recorded set.
#[derive(Debug, Clone)]
pub struct Split {
    /// The recorded files, in the order they are applied.
    pub consolidated: MigrationChain,
    /// Migrations not in the record, in the order they are applied after it.
    pub new_since: Vec<Migration>,
}

/// Splits `chain` (the whole of `migrations/`) by the file names of `recorded`.
pub fn split(chain: &MigrationChain, recorded: &Manifest) -> Split {
    let (consolidated, new_since): (Vec<Migration>, Vec<Migration>) =
        chain.migrations.iter().cloned().partition(|migration| {
            let name = migration.path.file_name().and_then(|name| name.to_str());
            name.is_some_and(|name| recorded.files().contains_key(name))
        });
    Split {
        consolidated: MigrationChain {
            dir: chain.dir.clone(),
            migrations: consolidated,
            notes: chain.notes.clone(),
        },
        new_since,
    }
}

/// The highest version among the recorded `.sql` files; a migration is new since the
/// consolidation when its version is above it.
pub fn last_version(recorded: &Manifest) -> Option<i64> {
    recorded
        .files()
        .keys()
        .filter(|name| name.ends_with(".sql"))
        .filter_map(|name| name.split_once('_')?.0.parse().ok())
        .max()
}

/// Changes against the recorded manifest, sorted into what breaks the record and what
/// does not: a `.sql` file added with a version after the recorded set's last is a new
/// migration, and a file sqlx does not read (a README) cannot change any database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedChanges {
    pub breaking: Vec<ManifestChange>,
    pub new_migrations: Vec<String>,
    pub other_files: Vec<ManifestChange>,
}

pub fn sort_changes(recorded: &Manifest, changes: Vec<ManifestChange>) -> SortedChanges {
    let last = last_version(recorded);
    let mut sorted = SortedChanges::default();
    for change in changes {
        let name = change.file_name();
        let version = name
            .split_once('_')
            .and_then(|(version, _)| version.parse::<i64>().ok());
        if !name.ends_with(".sql") || name.contains('/') {
            sorted.other_files.push(change);
        } else if matches!(change, ManifestChange::Added(_))
            && version.is_some_and(|version| last.is_none_or(|last| version > last))
        {
            sorted.new_migrations.push(name.to_owned());
        } else {
            sorted.breaking.push(change);
        }
    }
    sorted
}

/// What `migrations/` gained since the record without breaking it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Since {
    pub new_migrations: Vec<String>,
    pub other_files: Vec<ManifestChange>,
}

/// `dir` against the recorded manifest: only the breaking changes fail the check.
pub fn check(dir: &Path, recorded: anyhow::Result<Manifest>) -> (ManifestCheck, Since) {
    let recorded = recorded.map_err(|err| format!("{err:#}"));
    let check = ManifestCheck::run(dir, || recorded.clone().map_err(anyhow::Error::msg));
    match (check, recorded) {
        (ManifestCheck::Changed(changes), Ok(recorded)) => {
            let sorted = sort_changes(&recorded, changes);
            let since = Since {
                new_migrations: sorted.new_migrations,
                other_files: sorted.other_files,
            };
            match sorted.breaking.is_empty() {
                true => (ManifestCheck::Intact, since),
                false => (ManifestCheck::Changed(sorted.breaking), since),
            }
        }
        (check, _) => (check, Since::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::ChainRole;

    fn manifest_of(files: &[&str]) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        for name in files {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        Manifest::of_dir(dir.path()).unwrap()
    }

    #[test]
    fn the_recorded_files_are_the_consolidated_set_and_the_rest_is_new() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["00001_a.sql", "00002_b.sql", "README.md"] {
            std::fs::write(dir.path().join(name), "SELECT 1;").unwrap();
        }
        let recorded = Manifest::of_dir(dir.path()).unwrap();
        std::fs::write(dir.path().join("20260301000000_c.sql"), "SELECT 2;").unwrap();
        let chain = MigrationChain::resolve(dir.path(), ChainRole::Consolidated).unwrap();
        let split = split(&chain, &recorded);
        let versions = |m: &[Migration]| m.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(&split.consolidated.migrations), [1, 2]);
        assert_eq!(versions(&split.new_since), [20260301000000]);
    }

    #[test]
    fn later_versions_are_new_and_earlier_ones_are_edits() {
        let recorded = manifest_of(&["00001_a.sql", "00002_b.sql", "README.md"]);
        let changes = vec![
            ManifestChange::Added("20260301000000_c.sql".into()),
            ManifestChange::Added("00000_early.sql".into()),
            ManifestChange::Edited("00002_b.sql".into()),
            ManifestChange::Removed("00001_a.sql".into()),
            ManifestChange::Edited("README.md".into()),
        ];
        let sorted = sort_changes(&recorded, changes);
        assert_eq!(sorted.new_migrations, ["20260301000000_c.sql"]);
        assert_eq!(
            sorted.breaking,
            [
                ManifestChange::Added("00000_early.sql".into()),
                ManifestChange::Edited("00002_b.sql".into()),
                ManifestChange::Removed("00001_a.sql".into()),
            ]
        );
        assert_eq!(
            sorted.other_files,
            [ManifestChange::Edited("README.md".into())]
        );
        assert_eq!(last_version(&recorded), Some(2));
    }
}
