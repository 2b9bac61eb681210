//! One writer per tree: a run that may change the directories holds an OS lock
//! (`flock` through `File::lock`) on `.xtask-writer` at the root for its whole length, and
//! records in it who it is (pid, the process's start time, the command). A second writer
//! is refused with the holder named; a reader that finds a journal asks the record whether
//! its writer is still alive before calling the operation interrupted.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::WRITER_FILE;
use crate::pg::owner::Owner;

/// The lock, held until dropped; the swap functions take it as proof that this run is
/// the tree's only writer.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    path: PathBuf,
}

/// The run holding the lock, as its record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// The process with its start time and the machine's boot ([`Owner::tag`]): names one
    /// process even once the pid is reused.
    owner: String,
    /// When the run took the lock (RFC 3339, UTC).
    pub since: String,
    pub command: String,
}

impl WriterLock {
    /// Takes the lock for `command`, or refuses naming the run that holds it.
    pub fn acquire(root: &Path, command: &str) -> anyhow::Result<WriterLock> {
        let path = root.join(WRITER_FILE);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot open the writer lock {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let holder = read_holder(&path);
                    bail!(
                        "another run is changing the tree at {}: {}; wait for it to end, then \
                         run `cargo xtask status`",
                        root.display(),
                        holder.map_or_else(
                            || "its record is not written yet".to_owned(),
                            |holder| holder.to_string()
                        )
                    );
                }
                Err(TryLockError::Error(err)) => {
                    return Err(err).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            // The previous holder removes the file before it unlocks: a lock taken on a file
            // no longer at the path guards nothing, so open the path again.
            let same = std::fs::metadata(&path).ok().zip(file.metadata().ok());
            if !same.is_some_and(|(at_path, locked)| {
                at_path.ino() == locked.ino() && at_path.dev() == locked.dev()
            }) {
                continue;
            }
            let mut lock = WriterLock { file, path };
            lock.record(command)?;
            return Ok(lock);
        }
    }

    fn record(&mut self, command: &str) -> anyhow::Result<()> {
        let holder = Holder {
            pid: std::process::id(),
            owner: Owner::current().tag(),
            since: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            command: command.to_owned(),
        };
        let text = format!(
            "pid = {}\nowner = \"{}\"\nsince = \"{}\"\ncommand = \"{}\"\n",
            holder.pid, holder.owner, holder.since, holder.command
        );
        self.file
            .set_len(0)
            .and_then(|()| self.file.write_all(text.as_bytes()))
            .and_then(|()| self.file.sync_all())
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

impl Drop for WriterLock {
    /// Removes the file while still holding the lock, so that no file is left between runs
    /// and a waiting run notices it locked a removed file.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The run that holds the tree's writer lock, if it is another process and alive.
pub fn live_holder(root: &Path) -> Option<Holder> {
    let holder = read_holder(&root.join(WRITER_FILE))?;
    let owner = Owner::parse(&holder.owner, "")?;
    (owner != *Owner::current() && owner.is_alive()).then_some(holder)
}

fn read_holder(path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(" = ")?;
            (name == key).then(|| value.trim_matches('"').to_owned())
        })
    };
    Some(Holder {
        pid: field("pid")?.parse().ok()?,
        owner: field("owner")?,
        since: field("since")?,
        command: field("command")?,
    })
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`cargo xtask {}`, process {}, running since {}",
            self.command, self.pid, self.since
        )
    }
}
