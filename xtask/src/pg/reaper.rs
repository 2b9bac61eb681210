//! What ends a throwaway cluster when its run cannot: a watcher process that outlives a
//! `kill -9` of the run, and the removal, by any later run, of what a dead run left.
//!
//! The watcher is this binary again, started by the run with the read end of a pipe as its
//! standard input and in a process group of its own (a Ctrl-C to the run's group leaves it
//! alone). The run never writes to the pipe; when the run ends, however it ends, the kernel
//! closes the write end, the watcher reads end of file, and stops the server and removes
//! the directory if the run did not.

use std::fs;
use std::io::{self, PipeWriter};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::owner::Owner;

/// Every throwaway cluster's directory name starts so, then its owner's tag.
pub(crate) const CLUSTER_DIR_PREFIX: &str = "xtask-pg-";

/// The hidden subcommand that runs the watcher (`cmd::clean::WatchCluster`).
const WATCH_COMMAND: &str = "watch-cluster";

/// How long a server that is told to stop, or a directory still being written to by an
/// orphaned `initdb`, may take.
const PATIENCE: Duration = Duration::from_secs(60);
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A running watcher; dropping it (once the directory is gone) lets it end.
pub(crate) struct Watcher {
    handle: duct::Handle,
    pipe: Option<PipeWriter>,
}

impl Watcher {
    /// Starts a watcher for `dir`, unless this is a unit-test binary, which cannot be
    /// started as the watcher (its tests end their clusters themselves).
    pub(crate) fn start(dir: &Path) -> anyhow::Result<Option<Watcher>> {
        if cfg!(test) {
            return Ok(None);
        }
        let program = std::env::current_exe().context("cannot find this program")?;
        let (reader, writer) = io::pipe().context("cannot create a pipe for the watcher")?;
        let handle = duct::cmd(program, [WATCH_COMMAND.as_ref(), dir.as_os_str()])
            .stdin_file(reader)
            .stdout_null()
            .stderr_null()
            .unchecked()
            .before_spawn(|cmd| {
                cmd.process_group(0);
                Ok(())
            })
            .start()
            .context("cannot start the watcher of the scratch cluster")?;
        Ok(Some(Watcher {
            handle,
            pipe: Some(writer),
        }))
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // While an interruption's cleanup runs, the watcher must not start its own; the
        // end of the process closes the pipe.
        crate::interrupt::yield_to_interruption();
        // End of file tells the watcher the run is over; it finds nothing left to do.
        drop(self.pipe.take());
        let _ = self.handle.wait();
    }
}

/// The watcher's body: waits for the run to end, then ends what it left of `dir`.
pub fn watch(dir: &Path) -> anyhow::Result<()> {
    io::copy(&mut io::stdin().lock(), &mut io::sink())?;
    if dir.exists() {
        reap(dir)?;
    }
    Ok(())
}

/// Stops whatever the run left running in a cluster directory, then removes it. The server
/// gets an immediate shutdown (SIGQUIT), never SIGKILL, which would leave its shared memory
/// behind; the tools the run had started (`initdb`, `pg_ctl`, and the user switch that
/// runs them) get SIGKILL, so that none goes on writing into the directory or starts a
/// server once it is gone.
pub(crate) fn reap(dir: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let running = processes_in(dir);
        let removed = match fs::remove_dir_all(dir) {
            Ok(()) => true,
            Err(err) if err.kind() == io::ErrorKind::NotFound => true,
            Err(err) if Instant::now() > deadline => {
                return Err(err).with_context(|| format!("cannot remove {}", dir.display()))
            }
            Err(_) => false,
        };
        if removed && running.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("what runs in {} did not stop: {running:?}", dir.display());
        }
        for (pid, is_server) in running {
            // Only the postmaster is told; the server's other processes follow it.
            let signal = if is_server { "-QUIT" } else { "-KILL" };
            if !is_server || postmaster_pid(pid) {
                let _ = std::process::Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// The processes whose working directory is in `dir`, removed or not (the server's is its
/// data directory, the tools' the cluster directory), and whether each is a server process.
fn processes_in(dir: &Path) -> Vec<(u32, bool)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| {
                let cwd = cwd.to_string_lossy();
                Path::new(cwd.trim_end_matches(" (deleted)")).starts_with(dir)
            })
        })
        .map(|pid| (pid, command_name(pid).as_deref() == Some("postgres")))
        .collect()
}

fn command_name(pid: u32) -> Option<String> {
    Some(
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()?
            .trim()
            .to_owned(),
    )
}

/// Whether `pid` is a postmaster: a server process whose parent is not one.
fn postmaster_pid(pid: u32) -> bool {
    let parent = fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = &stat[stat.rfind(')')? + 1..];
            after_name.split_whitespace().nth(1)?.parse::<u32>().ok()
        });
    parent.is_some_and(|parent| command_name(parent).as_deref() != Some("postgres"))
}

/// Reaps every cluster directory in `parent` whose run has died; returns the directories
/// removed, and says which could not be.
pub(crate) fn reap_dead_clusters(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut reaped = Vec::new();
    for path in entries.filter_map(|entry| Some(entry.ok()?.path())) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let Some(owner) = Owner::parse(&name, CLUSTER_DIR_PREFIX) else {
            continue;
        };
        if owner.is_alive() {
            continue;
        }
        match reap(&path) {
            Ok(()) => reaped.push(path),
            Err(err) => eprintln!("warning: could not remove a dead run's cluster: {err:#}"),
        }
    }
    reaped
}
