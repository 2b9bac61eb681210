//! A pristine `initdb`'d data directory kept per set of server binaries, copied for each
//! throwaway cluster: `initdb` costs more than half a second, a copy a tenth of that.
//!
//! An entry is `<cache>/initdb-<key hash>/` holding `data/` and `MANIFEST`: the full key
//! (bindir, `postgres --version`, initdb options) and every file's relative path and size.
//! An entry is used only if its key matches and its files match the manifest; anything
//! else is a miss, and the caller runs `initdb` as if there were no cache. Entries are
//! built in a temporary directory and renamed into place, so a reader never sees half an
//! entry and two creators racing both succeed.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

/// Set to `off` (or `0`) to run `initdb` for every cluster.
pub(crate) const DISABLE_VAR: &str = "XTASK_INITDB_CACHE";

const MANIFEST: &str = "MANIFEST";
const DATA: &str = "data";

/// Where entries for one key live, once the key is known.
#[derive(Debug, Clone)]
pub(crate) struct InitdbCache {
    entry: PathBuf,
    key: String,
}

impl InitdbCache {
    /// `None` when the cache is disabled or there is no place for it.
    pub(crate) fn new(key: String) -> Option<InitdbCache> {
        if matches!(
            std::env::var(DISABLE_VAR).as_deref(),
            Ok("off" | "0" | "false")
        ) {
            return None;
        }
        let hash = Sha256::digest(key.as_bytes());
        let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        Some(InitdbCache {
            entry: cache_root()?.join(format!("initdb-{hex}")),
            key,
        })
    }

    /// Copies the cached data directory to `target` (which must not exist) and returns
    /// true; false when there is no usable entry, in which case `target` does not exist.
    pub(crate) fn copy_to(&self, target: &Path) -> bool {
        let Ok(manifest) = fs::read_to_string(self.entry.join(MANIFEST)) else {
            return false;
        };
        let copied = self.check_and_copy(&manifest, target);
        if copied.is_err() {
            let _ = fs::remove_dir_all(target);
        }
        copied.is_ok()
    }

    fn check_and_copy(&self, manifest: &str, target: &Path) -> anyhow::Result<()> {
        let Some((key, files)) = manifest.split_once("\n\n") else {
            bail!("malformed manifest");
        };
        if key != self.key {
            bail!("the entry belongs to another key");
        }
        let source = self.entry.join(DATA);
        if !source.join("PG_VERSION").is_file() {
            bail!("the entry holds no PG_VERSION");
        }
        if describe_files(&source)? != files {
            bail!("the entry's files do not match its manifest");
        }
        copy_tree(&source, target)
    }

    /// Keeps a copy of `data_dir`, fresh from `initdb`. Failing to is not an error for
    /// the caller: the next cluster runs `initdb` again.
    pub(crate) fn store(&self, data_dir: &Path) -> anyhow::Result<()> {
        if self.entry.exists() {
            return Ok(());
        }
        let parent = self.entry.parent().context("cache entry has no parent")?;
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let building = tempfile::Builder::new()
            .prefix(".building-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
        copy_tree(data_dir, &building.path().join(DATA))?;
        let manifest = format!(
            "{}\n\n{}",
            self.key,
            describe_files(&building.path().join(DATA))?
        );
        fs::write(building.path().join(MANIFEST), manifest)?;
        match fs::rename(building.path(), &self.entry) {
            Ok(()) => {
                // Renamed away: nothing left for the guard to remove.
                let _ = building.keep();
                Ok(())
            }
            // Another process stored the same entry first; ours goes with the guard.
            Err(_) if self.entry.join(MANIFEST).exists() => Ok(()),
            Err(err) => Err(err).with_context(|| format!("cannot create {}", self.entry.display())),
        }
    }

    /// Removes an entry that produced a cluster that would not start.
    pub(crate) fn forget(&self) {
        let _ = fs::remove_dir_all(&self.entry);
    }
}

/// `$XTASK_INITDB_CACHE_DIR`, else `$XDG_CACHE_HOME/attune-xtask`, else
/// `~/.cache/attune-xtask`, else the system's temporary directory.
pub(crate) fn cache_root() -> Option<PathBuf> {
    let non_empty = |var: &str| std::env::var_os(var).filter(|value| !value.is_empty());
    if let Some(dir) = non_empty("XTASK_INITDB_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    Some(base.join("attune-xtask"))
}

/// Every file under `dir`, with its size, one a line in a fixed order.
fn describe_files(dir: &Path) -> anyhow::Result<String> {
    let mut listing = String::new();
    for entry in WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        if entry.file_type().is_file() {
            let relative = entry.path().strip_prefix(dir)?;
            let size = entry.metadata()?.len();
            let _ = writeln!(listing, "{size} {}", relative.display());
        }
    }
    Ok(listing)
}

/// Copies directories (mode 0700, as PostgreSQL requires of its data directory) and
/// regular files with their permissions; `target` must not exist.
fn copy_tree(source: &Path, target: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    for entry in WalkDir::new(source) {
        let entry = entry?;
        let destination = target.join(entry.path().strip_prefix(source)?);
        let file_type = entry.file_type();
        let copied = if file_type.is_dir() {
            fs::DirBuilder::new().mode(0o700).create(&destination)
        } else if file_type.is_file() {
            fs::copy(entry.path(), &destination).map(drop)
        } else {
            Err(io::Error::other("not a regular file or directory"))
        };
        copied.with_context(|| {
            format!(
                "cannot copy {} to {}",
                entry.path().display(),
                destination.display()
            )
        })?;
    }
    Ok(())
}

/// Hands every file and directory under `dir` to `uid:gid`.
pub(crate) fn chown_tree(dir: &Path, uid: u32, gid: u32) -> anyhow::Result<()> {
    for entry in WalkDir::new(dir) {
        let entry = entry?;
        std::os::unix::fs::chown(entry.path(), Some(uid), Some(gid))
            .with_context(|| format!("cannot change the owner of {}", entry.path().display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_in(root: &Path, key: &str) -> InitdbCache {
        InitdbCache {
            entry: root.join("initdb-test"),
            key: key.to_owned(),
        }
    }

    fn fake_data_dir(dir: &Path) {
        fs::create_dir_all(dir.join("base/1")).unwrap();
        fs::write(dir.join("PG_VERSION"), "15\n").unwrap();
        fs::write(dir.join("base/1/1259"), vec![7u8; 8192]).unwrap();
    }

    #[test]
    fn a_stored_entry_is_copied_back_whole() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let cache = cache_in(root.path(), "bindir=/x\nversion=15");
        cache.store(&source).unwrap();

        let target = root.path().join("copy");
        assert!(cache.copy_to(&target));
        assert_eq!(
            describe_files(&target).unwrap(),
            describe_files(&source).unwrap()
        );
    }

    #[test]
    fn another_key_or_a_damaged_entry_is_a_miss() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        cache_in(root.path(), "version=15").store(&source).unwrap();

        let target = root.path().join("copy");
        assert!(!cache_in(root.path(), "version=16").copy_to(&target));
        assert!(!target.exists());

        let cached_file = root.path().join("initdb-test/data/base/1/1259");
        fs::write(&cached_file, b"truncated").unwrap();
        assert!(!cache_in(root.path(), "version=15").copy_to(&target));
        assert!(!target.exists(), "a failed copy leaves nothing behind");
    }

    #[test]
    fn storing_over_an_existing_entry_keeps_it() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let cache = cache_in(root.path(), "version=15");
        cache.store(&source).unwrap();
        cache.store(&source).unwrap();
        let leftovers: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".building-"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
