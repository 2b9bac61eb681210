//! Which files of `migrations/` are the consolidated set a record speaks for, and which
//! came after it: migrations added since the consolidation are new, not edits.

use super::manifest::Manifest;
use crate::migrations::{Migration, MigrationChain};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::ChainRole;

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
}
