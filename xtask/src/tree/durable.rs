//! File-system steps that survive power loss and `kill -9`: each one is either atomic (a
//! `rename` within one file system, then an fsync of the directories involved) or
//! idempotent (safe to run again over whatever an interrupted run left behind).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use walkdir::WalkDir;

use super::failpoint;

/// Replaces `path` with `contents` so that a reader sees the old file or the new one,
/// never a torn one: a sibling temp file is written, fsynced, renamed over the target.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let temp = temp_sibling(path);
    let mut file =
        File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", temp.display()))?;
    drop(file);
    rename(&temp, path)
}

/// The temp file `write_atomically` uses for `path`; a crash may leave it behind.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Renames and makes the rename durable: both parent directories are fsynced.
pub fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::rename(from, to)
        .with_context(|| format!("cannot rename {} to {}", from.display(), to.display()))?;
    sync_parent(to)?;
    if from.parent() != to.parent() {
        sync_parent(from)?;
    }
    Ok(())
}

/// Moves directory `from` to `to`, idempotently: done already when only `to` exists.
pub fn move_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    match (from.exists(), to.exists()) {
        (true, false) => rename(from, to),
        (false, true) => Ok(()),
        (true, true) => bail!(
            "both {} and {} exist, so it is unclear which holds what; nothing was moved. \
             Either may hold the only copy of its files: keep both, and compare them with \
             version control before moving either out of the repository",
            from.display(),
            to.display()
        ),
        (false, false) => bail!(
            "neither {} nor {} exists: the directory was moved or removed by hand",
            from.display(),
            to.display()
        ),
    }
}

/// Removes a file if it is there, durably.
pub fn remove_file(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_parent(path),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Copies the directory `from` to `to` (which must not exist), fsyncing every file and
/// directory, so that once the caller renames `to` into place its content is on disk.
/// Symbolic links are refused: a copy of a link is not a backup of what it points to.
pub fn copy_dir(from: &Path, to: &Path, copying_failpoint: &str) -> anyhow::Result<()> {
    let mut copied_files = 0usize;
    for entry in WalkDir::new(from).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let relative = entry
            .path()
            .strip_prefix(from)
            .expect("walkdir stays under its root");
        let target = to.join(relative);
        let kind = entry.file_type();
        if kind.is_dir() {
            fs::create_dir(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    target.display()
                )
            })?;
            sync_file(&target)?;
            copied_files += 1;
            if copied_files == 1 {
                failpoint::hit(copying_failpoint);
            }
        } else {
            bail!(
                "{} is not a regular file or directory: replace it with a regular file",
                entry.path().display()
            );
        }
    }
    // Children before parents, so that each directory is synced after its entries exist.
    for entry in WalkDir::new(to).contents_first(true) {
        let entry = entry.with_context(|| format!("cannot read {}", to.display()))?;
        if entry.file_type().is_dir() {
            sync_dir(entry.path())?;
        }
    }
    Ok(())
}

/// Removes a directory tree if it is there; the callers check beforehand that every file
/// in it has an identical copy elsewhere. Running it again finishes an interrupted removal.
pub fn remove_dir(dir: &Path, removing_failpoint: &str) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut removed_files = 0usize;
    for entry in WalkDir::new(dir).contents_first(true) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type().is_dir() {
            fs::remove_dir(entry.path())
        } else {
            fs::remove_file(entry.path())
        }
        .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        removed_files += 1;
        if removed_files == 1 {
            failpoint::hit(removing_failpoint);
        }
    }
    sync_parent(dir)
}

pub fn sync_file(path: &Path) -> anyhow::Result<()> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot flush {} to disk", path.display()))
}

pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    // On Linux a directory opened read-only can be fsynced; that makes its entries durable.
    File::open(dir)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot flush directory {} to disk", dir.display()))
}

fn sync_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}
