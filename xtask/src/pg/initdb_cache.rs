//! A pristine `initdb`'d data directory kept per set of server binaries, copied for each
//! throwaway cluster: `initdb` costs more than half a second, a copy a tenth of that.
//!
//! An entry is `<cache>/initdb-<key hash>/` holding `data/` and `COMPLETE`, written last:
//! the full key (bindir, `postgres --version`, initdb options, server account), the number
//! of files and a digest of their names and sizes. An entry is used only if its key matches
//! and its files match the marker; anything else is a miss, the caller runs `initdb` as if
//! there were no cache, and the bad entry is replaced by the next store. Entries are built
//! in a `.building-<owner>` directory and renamed into place, so a reader never sees half
//! an entry and two creators racing both succeed; removed entries are renamed aside first,
//! so they never look half removed. Directories left by a run that died are removed by
//! the next store, and the cache keeps only the most recently used [`MAX_ENTRIES`].

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::owner::Owner;
use crate::hex::hex;

/// Set to `off` (or `0`) to run `initdb` for every cluster.
pub(crate) const DISABLE_VAR: &str = "XTASK_INITDB_CACHE";

/// Entries kept: one per set of server binaries and account in use, with room for a few
/// PostgreSQL versions side by side; each holds about 40 MB.
pub(crate) const MAX_ENTRIES: usize = 4;

const COMPLETE: &str = "COMPLETE";
const DATA: &str = "data";
const ENTRY_PREFIX: &str = "initdb-";
const BUILDING_PREFIX: &str = ".building-";
const REMOVING_PREFIX: &str = ".removing-";

/// Where entries for one key live, once the key is known.
#[derive(Debug, Clone)]
pub(crate) struct InitdbCache {
    entry: PathBuf,
    key: String,
}

/// A finished copy of a data directory, not yet in place (see [`InitdbCache::publish`]).
pub(crate) struct Building {
    dir: tempfile::TempDir,
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
        Some(InitdbCache {
            entry: cache_root()?.join(format!("{ENTRY_PREFIX}{}", hex(&hash[..8]))),
            key,
        })
    }

    /// Copies the cached data directory to `target` (which must not exist) and returns
    /// true; false when there is no usable entry, in which case `target` does not exist.
    pub(crate) fn copy_to(&self, target: &Path) -> bool {
        let copied = self
            .check()
            .and_then(|()| copy_tree(&self.entry.join(DATA), target));
        if copied.is_err() {
            let _ = fs::remove_dir_all(target);
            return false;
        }
        // The marker's time says when the entry was last used, for eviction.
        let _ = fs::File::options()
            .append(true)
            .open(self.entry.join(COMPLETE))
            .and_then(|marker| marker.set_modified(SystemTime::now()));
        true
    }

    /// Whether the entry is complete: its marker's key is ours and its files are the ones
    /// the marker counted.
    fn check(&self) -> anyhow::Result<()> {
        let marker = fs::read_to_string(self.entry.join(COMPLETE)).context("no marker")?;
        let Some((key, summary)) = marker.split_once("\n\n") else {
            bail!("malformed marker");
        };
        if key != self.key {
            bail!("the entry belongs to another key");
        }
        let source = self.entry.join(DATA);
        if !source.join("PG_VERSION").is_file() {
            bail!("the entry holds no PG_VERSION");
        }
        if summarize(&describe_files(&source)?) != summary {
            bail!("the entry's files do not match its marker");
        }
        Ok(())
    }

    /// Keeps a copy of `data_dir`, fresh from `initdb`, unless a good entry is already
    /// there. Failing to is not an error for the caller: the next cluster runs `initdb`.
    pub(crate) fn store(&self, data_dir: &Path) -> anyhow::Result<()> {
        let parent = self.entry.parent().context("cache entry has no parent")?;
        remove_dead_leftovers(parent);
        if self.check().is_ok() {
            return Ok(());
        }
        let building = self.build(data_dir)?;
        self.publish(building)?;
        evict(parent, MAX_ENTRIES);
        Ok(())
    }

    /// Copies `data_dir` beside the entry and writes the marker last.
    pub(crate) fn build(&self, data_dir: &Path) -> anyhow::Result<Building> {
        let parent = self.entry.parent().context("cache entry has no parent")?;
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{BUILDING_PREFIX}{}_", Owner::current().tag()))
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
        copy_tree(data_dir, &dir.path().join(DATA))?;
        let summary = summarize(&describe_files(&dir.path().join(DATA))?);
        fs::write(
            dir.path().join(COMPLETE),
            format!("{}\n\n{summary}", self.key),
        )?;
        Ok(Building { dir })
    }

    /// Renames a built entry into place, over a bad entry if there is one; when another
    /// run put a good one there first, ours is removed and theirs kept.
    pub(crate) fn publish(&self, building: Building) -> anyhow::Result<()> {
        if self.entry.exists() && self.check().is_err() {
            set_aside(&self.entry);
        }
        match fs::rename(building.dir.path(), &self.entry) {
            Ok(()) => {
                // Renamed away: nothing left for the guard to remove.
                let _ = building.dir.keep();
                Ok(())
            }
            // Another process stored the same entry first; ours goes with the guard.
            Err(_) if self.check().is_ok() => Ok(()),
            Err(err) => Err(err).with_context(|| format!("cannot create {}", self.entry.display())),
        }
    }

    /// Removes an entry that produced a cluster that would not start.
    pub(crate) fn forget(&self) {
        set_aside(&self.entry);
    }
}

/// `$XTASK_INITDB_CACHE_DIR`, else `$XDG_CACHE_HOME/attune-xtask`, else
/// `~/.cache/attune-xtask`, else the system's temporary directory. Unit tests keep a cache
/// of their own in the temporary directory, out of the user's.
pub(crate) fn cache_root() -> Option<PathBuf> {
    let non_empty = |var: &str| std::env::var_os(var).filter(|value| !value.is_empty());
    if let Some(dir) = non_empty("XTASK_INITDB_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if cfg!(test) {
        return Some(std::env::temp_dir().join("xtask-unit-tests-initdb-cache"));
    }
    let base = non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    Some(base.join("attune-xtask"))
}

/// Removes the `.building-*` and `.removing-*` directories whose run has died; returns
/// them.
pub(crate) fn remove_dead_leftovers(root: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for path in children(root) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let owner = [BUILDING_PREFIX, REMOVING_PREFIX]
            .iter()
            .find_map(|prefix| Owner::parse(&name, prefix));
        if owner.is_some_and(|owner| !owner.is_alive()) && fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Keeps the `keep` entries used last (by their marker's time) and removes the others.
fn evict(root: &Path, keep: usize) {
    let mut entries: Vec<(SystemTime, PathBuf)> = children(root)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(ENTRY_PREFIX))
        })
        .map(|path| {
            let used = fs::metadata(path.join(COMPLETE))
                .and_then(|meta| meta.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            (used, path)
        })
        .collect();
    entries.sort_unstable_by_key(|(used, _)| std::cmp::Reverse(*used));
    for (_, path) in entries.into_iter().skip(keep) {
        set_aside(&path);
    }
}

fn children(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default()
}

/// Renames `path` to a `.removing-<owner>` name, at once, then removes it: a reader never
/// finds it half removed, and an interruption leaves a leftover the next run removes.
fn set_aside(path: &Path) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let Some(parent) = path.parent() else {
        return;
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let aside = parent.join(format!("{REMOVING_PREFIX}{}_{n}", Owner::current().tag()));
    if fs::rename(path, &aside).is_ok() {
        let _ = fs::remove_dir_all(&aside);
    }
}

/// What the marker says of the files: their count and a digest of their names and sizes.
fn summarize(listing: &str) -> String {
    format!(
        "files={}\ndigest={}\n",
        listing.lines().count(),
        hex(&Sha256::digest(listing.as_bytes()))
    )
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
        crate::interrupt::bail_if_interrupted()?;
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

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = children(dir)
            .iter()
            .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
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

    /// An entry cut short (its marker or some of its files gone, as an interrupted removal
    /// used to leave it) is a miss, and the next store replaces it.
    #[test]
    fn an_incomplete_entry_is_rebuilt() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let cache = cache_in(root.path(), "version=15");
        let target = root.path().join("copy");
        for damage in ["initdb-test/COMPLETE", "initdb-test/data/base"] {
            cache.store(&source).unwrap();
            let damaged = root.path().join(damage);
            if damaged.is_dir() {
                fs::remove_dir_all(damaged).unwrap();
            } else {
                fs::remove_file(damaged).unwrap();
            }
            assert!(!cache.copy_to(&target), "{damage}");
            cache.store(&source).unwrap();
            assert!(cache.copy_to(&target), "{damage}");
            fs::remove_dir_all(&target).unwrap();
        }
        assert_eq!(names_in(root.path()), ["initdb", "initdb-test"]);
    }

    /// Two runs build the same entry at once, and both publish it: the second finds the
    /// first's in place, keeps it, and leaves nothing of its own.
    #[test]
    fn two_runs_racing_to_store_both_succeed_and_leave_one_entry() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let cache = cache_in(root.path(), "version=15");
        let first = cache.build(&source).unwrap();
        let second = cache.build(&source).unwrap();
        assert_eq!(
            names_in(root.path()).len(),
            3,
            "both built beside the entry"
        );
        std::thread::scope(|scope| {
            let publishing = [first, second].map(|b| scope.spawn(|| cache.publish(b)));
            for published in publishing {
                published.join().unwrap().unwrap();
            }
        });
        assert_eq!(names_in(root.path()), ["initdb", "initdb-test"]);
        assert!(cache.copy_to(&root.path().join("copy")));
    }

    /// A run killed while it stored (or removed) an entry leaves a directory named after
    /// it, which the next store removes; a live run's is left alone.
    #[test]
    fn leftovers_of_dead_runs_go_with_the_next_store() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let ended = std::process::Command::new("true")
            .spawn()
            .and_then(|mut child| child.wait().map(|_| child.id()))
            .unwrap();
        let me = Owner::current().tag();
        let dead = me.replacen(&std::process::id().to_string(), &ended.to_string(), 1);
        for name in [
            format!(".building-{dead}_a"),
            format!(".removing-{dead}_0"),
            format!(".building-{me}_live"),
        ] {
            fake_data_dir(&root.path().join(name));
        }
        cache_in(root.path(), "version=15").store(&source).unwrap();
        assert_eq!(
            names_in(root.path()),
            [
                format!(".building-{me}_live"),
                "initdb".into(),
                "initdb-test".into()
            ]
        );
    }

    #[test]
    fn the_cache_keeps_the_entries_used_last() {
        let root = tempfile::tempdir().unwrap();
        let source = root.path().join("initdb");
        fake_data_dir(&source);
        let caches: Vec<InitdbCache> = (0..MAX_ENTRIES + 2)
            .map(|i| InitdbCache {
                entry: root.path().join(format!("initdb-{i}")),
                key: format!("version={i}"),
            })
            .collect();
        // Times set by hand: the first entry is used again after every store.
        let used = |cache: &InitdbCache, secs: u64| {
            fs::File::options()
                .append(true)
                .open(cache.entry.join(COMPLETE))
                .unwrap()
                .set_modified(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .unwrap();
        };
        for (i, cache) in caches.iter().enumerate() {
            cache.store(&source).unwrap();
            used(cache, i as u64 + 1);
            used(&caches[0], 1000);
        }
        let entries: Vec<String> = names_in(root.path())
            .into_iter()
            .filter(|name| name.starts_with(ENTRY_PREFIX))
            .collect();
        assert_eq!(entries.len(), MAX_ENTRIES, "{entries:?}");
        assert!(entries.contains(&"initdb-0".to_owned()), "{entries:?}");
        assert!(entries.contains(&format!("initdb-{}", MAX_ENTRIES + 1)));
    }
}
