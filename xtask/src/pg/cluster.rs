//! A throwaway PostgreSQL cluster made with the system's own server binaries: a temporary
//! directory, a Unix socket only, no durability, stopped and removed when dropped.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use xshell::{Cmd, Shell};

use super::account::ServerAccount;
use super::binaries::{BinariesChoice, ServerBinaries};
use super::initdb_cache::{cache_root, remove_dead_leftovers, InitdbCache};
use super::owner::Owner;
use super::reaper::{reap_dead_clusters, Watcher, CLUSTER_DIR_PREFIX};
use crate::interrupt::{self, CleanupGuard};

/// The socket file name holds the port; the socket directory is ours alone, so the
/// default port cannot clash with another server.
const PORT: u16 = 5432;

/// The superuser `initdb -U` creates.
pub(crate) const SUPERUSER: &str = "postgres";

/// How long a stopping server may take, as `pg_ctl -w` allows by default, and how often
/// we look.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_POLL_INTERVAL: Duration = Duration::from_millis(2);

/// Trust on the Unix socket only; `--no-sync` since the cluster is thrown away.
const INITDB_OPTIONS: [&str; 8] = [
    "-A",
    "trust",
    "-U",
    SUPERUSER,
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
];

/// What a scratch cluster does not need: durability (`fsync=off` alone makes it fast), and
/// autovacuum, which has nothing to keep up in a cluster that lives for one run but, after
/// a long history's churn, woke up to vacuum the catalogs while they were being read and
/// took a core from the run. And what it does need: a lock table big enough for a
/// migration (or a consolidated set, or psql applying a whole chain in one transaction)
/// that creates a thousand tables, each of which holds several locks until commit; the
/// default (64 per connection) runs out.
const SETTINGS: &[(&str, &str)] = &[
    ("listen_addresses", ""),
    ("fsync", "off"),
    ("full_page_writes", "off"),
    ("synchronous_commit", "off"),
    ("max_locks_per_transaction", "1024"),
    ("autovacuum", "off"),
];

/// Runs a one-shot tool; on failure the error carries what it printed.
fn run_tool(cmd: Cmd<'_>, what: &str) -> anyhow::Result<()> {
    let shown = cmd.to_string();
    let output = cmd
        .ignore_status()
        .output()
        .with_context(|| format!("cannot run `{shown}`"))?;
    if output.status.success() {
        return Ok(());
    }
    let mut printed = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if printed.is_empty() {
        printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    }
    bail!("{what} failed ({}): `{shown}`\n{printed}", output.status)
}

/// What it takes to run `pg_ctl` on the cluster, kept apart so the cleanup can own a copy.
#[derive(Debug, Clone)]
struct ClusterControl {
    binaries: ServerBinaries,
    account: ServerAccount,
    dir: PathBuf,
    /// Held while files are put into the directory and the server starts, and by the
    /// cleanup before it stops the server and removes the directory: otherwise an
    /// interruption removes the directory while it is still being filled (and fails with
    /// "Directory not empty"), or looks for a server that is only about to start.
    work: Arc<Mutex<()>>,
}

impl ClusterControl {
    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn shell(&self) -> anyhow::Result<Shell> {
        let sh = Shell::new().context("cannot set up a shell to run the server binaries")?;
        // The server account may not be allowed into our working directory.
        sh.change_dir(&self.dir);
        Ok(sh)
    }

    /// A configured, running cluster: from a copy of the cached `initdb` output when there
    /// is a good one, else from `initdb` (which then fills the cache).
    fn create_data_dir(&self) -> anyhow::Result<()> {
        let _working = self.work.lock().unwrap_or_else(PoisonError::into_inner);
        let cache = self.initdb_cache();
        if let Some(cache) = &cache {
            if cache.copy_to(&self.data_dir()) {
                let started = self
                    .account
                    .take_ownership_of_tree(&self.data_dir())
                    .and_then(|()| self.configure())
                    .and_then(|()| self.start());
                if started.is_ok() {
                    return Ok(());
                }
                // A copy that does not start is never worth keeping; initdb decides.
                cache.forget();
                self.stop_if_running();
                fs::remove_dir_all(self.data_dir())
                    .with_context(|| format!("cannot remove {}", self.data_dir().display()))?;
            }
        }
        self.initdb()?;
        if let Some(cache) = &cache {
            let _ = cache.store(&self.data_dir());
        }
        self.configure()?;
        self.start()
    }

    /// Keyed by everything that decides what `initdb` writes: the binaries, their exact
    /// version, the options, and the account that will own the files.
    fn initdb_cache(&self) -> Option<InitdbCache> {
        let sh = self.shell().ok()?;
        let version = sh
            .cmd(self.binaries.tool("postgres"))
            .arg("--version")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()?;
        let key = format!(
            "bindir={}\nversion={}\ninitdb={}\naccount={}",
            self.binaries.bindir().display(),
            version.trim(),
            INITDB_OPTIONS.join(" "),
            self.account.name(),
        );
        InitdbCache::new(key)
    }

    /// A server tool run as the server account on this cluster's data directory.
    fn on_data_dir<'a>(&self, sh: &'a Shell, tool: &str) -> Cmd<'a> {
        self.account
            .cmd(sh, &self.binaries.tool(tool))
            .arg("-D")
            .arg(self.data_dir())
    }

    fn initdb(&self) -> anyhow::Result<()> {
        interrupt::bail_if_interrupted()?;
        let sh = self.shell()?;
        let cmd = self.on_data_dir(&sh, "initdb").args(INITDB_OPTIONS);
        run_tool(cmd, "initdb")
    }

    /// Settings go into `postgresql.conf` rather than `pg_ctl -o`, which pg_ctl passes
    /// through a shell and would need quoting.
    fn configure(&self) -> anyhow::Result<()> {
        let conf_path = self.data_dir().join("postgresql.conf");
        let socket_dir = self
            .dir
            .to_str()
            .context("temporary directory path is not UTF-8")?;
        let mut conf = String::from("\n# xtask scratch cluster\n");
        let per_cluster = [
            ("unix_socket_directories", socket_dir),
            ("port", &PORT.to_string()),
        ]
        .map(|(name, value)| (name, value.to_owned()));
        let settings = SETTINGS
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()));
        for (name, value) in settings.chain(per_cluster) {
            conf.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
        }
        fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut file| file.write_all(conf.as_bytes()))
            .with_context(|| format!("cannot write {}", conf_path.display()))
    }

    fn start(&self) -> anyhow::Result<()> {
        interrupt::bail_if_interrupted()?;
        let sh = self.shell()?;
        let cmd = self
            .on_data_dir(&sh, "pg_ctl")
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "start"]);
        run_tool(cmd, "pg_ctl start").with_context(|| {
            let log = fs::read_to_string(self.log_file()).unwrap_or_default();
            format!(
                "the scratch PostgreSQL server did not start; its log:\n{}",
                log.trim()
            )
        })
    }

    /// Signals the server and waits for it to remove `postmaster.pid`, which it does
    /// last, after releasing its shared memory. `pg_ctl -w` waits the same way but looks
    /// only every 100 ms, while a scratch server stops in a few.
    fn stop(&self, mode: &str) -> anyhow::Result<()> {
        let sh = self.shell()?;
        let cmd = self
            .on_data_dir(&sh, "pg_ctl")
            .args(["-m", mode, "-W", "stop"]);
        run_tool(cmd, "pg_ctl stop")?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        while self.is_running() {
            if Instant::now() > deadline {
                bail!(
                    "the scratch PostgreSQL server did not stop within {} s ({mode} mode)",
                    STOP_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(STOP_POLL_INTERVAL);
        }
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.data_dir().join("postmaster.pid").exists()
    }

    /// Stops the server if it runs; `immediate` if a fast stop fails, never SIGKILL,
    /// which would leave shared memory behind.
    fn stop_if_running(&self) {
        if !self.is_running() {
            return;
        }
        // A server sent the same signal as the run (Ctrl-C reaches the whole process
        // group) may stop on its own between the check and pg_ctl: that is no failure.
        if let Err(fast) = self.stop("fast") {
            if !self.is_running() {
                return;
            }
            if let Err(immediate) = self.stop("immediate") {
                if !self.is_running() {
                    return;
                }
                eprintln!(
                    "warning: could not stop the scratch PostgreSQL server in {}: {fast:#}; \
                     {immediate:#}",
                    self.dir.display()
                );
            }
        }
    }
}

/// Set to a directory to hold throwaway clusters there.
const SCRATCH_DIR_VAR: &str = "XTASK_SCRATCH_DIR";

/// A memory-backed directory that most Linux systems have.
const MEMORY_DIR: &str = "/dev/shm";

/// Below this much free room, the memory-backed directory is left alone: containers often
/// give it 64 MiB, and a cluster needs 40 MiB before the first migration.
const MEMORY_DIR_MIN_FREE_KIB: u64 = 1024 * 1024;

/// Removes what dead runs left: their clusters (stopping the servers) in `parent`, and
/// their unfinished initdb cache entries; returns what was removed.
fn remove_leftovers_in(parent: &Path) -> Vec<PathBuf> {
    let mut removed = reap_dead_clusters(parent);
    if let Some(cache) = cache_root() {
        removed.extend(remove_dead_leftovers(&cache));
    }
    removed
}

/// Removes what dead runs left in every place a cluster may have been put; returns what
/// was removed.
pub(crate) fn remove_leftovers() -> Vec<PathBuf> {
    let mut parents = vec![PathBuf::from(MEMORY_DIR), std::env::temp_dir()];
    parents.extend(std::env::var_os(SCRATCH_DIR_VAR).map(PathBuf::from));
    parents.dedup();
    parents
        .iter()
        .flat_map(|parent| remove_leftovers_in(parent))
        .collect()
}

/// Where throwaway clusters go: `$XTASK_SCRATCH_DIR`, else `/dev/shm` when it is a tmpfs
/// with room to spare, else the system's temporary directory. A cluster creates hundreds
/// of files to start and several per table; on tmpfs that is several times cheaper than
/// on a journaled disk, and nothing here needs to survive a reboot.
fn scratch_parent_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SCRATCH_DIR_VAR).filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir);
    }
    if memory_dir_has_room() {
        return PathBuf::from(MEMORY_DIR);
    }
    std::env::temp_dir()
}

fn memory_dir_has_room() -> bool {
    let is_tmpfs = fs::read_to_string("/proc/mounts").is_ok_and(|mounts| {
        mounts.lines().any(|line| {
            let mut fields = line.split_whitespace().skip(1);
            fields.next() == Some(MEMORY_DIR) && fields.next() == Some("tmpfs")
        })
    });
    if !is_tmpfs {
        return false;
    }
    // `df -P`: a header, then `filesystem blocks used available capacity mount` in KiB.
    let Ok(sh) = Shell::new() else {
        return false;
    };
    let free_kib = xshell::cmd!(sh, "df -Pk {MEMORY_DIR}")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()
        .and_then(|out| out.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok());
    free_kib.is_some_and(|free: u64| free >= MEMORY_DIR_MIN_FREE_KIB)
}

/// A running cluster in a temporary directory; stopped and removed when dropped.
pub(crate) struct ThrowawayCluster {
    dir: PathBuf,
    binaries: ServerBinaries,
    // Fields drop in this order: the cluster is stopped and removed, then its watcher
    // is told the run is over.
    _cleanup: CleanupGuard,
    _watcher: Option<Watcher>,
}

impl ThrowawayCluster {
    pub(crate) fn start(choice: Option<&BinariesChoice>) -> anyhow::Result<ThrowawayCluster> {
        let binaries = ServerBinaries::find(choice)?;
        let account = ServerAccount::detect(&Shell::new()?)?;
        let parent = scratch_parent_dir();
        remove_leftovers_in(&parent);
        // The directory and its cleanup come into being together, so that Ctrl-C from
        // here on also removes it.
        let (control, cleanup) = CleanupGuard::register_with(|| {
            let temp_dir = tempfile::Builder::new()
                .prefix(&format!("{CLUSTER_DIR_PREFIX}{}_", Owner::current().tag()))
                .tempdir_in(&parent)
                .with_context(|| {
                    format!(
                        "cannot create a directory for the scratch cluster in {}",
                        parent.display()
                    )
                })?;
            let control = ClusterControl {
                binaries,
                account,
                dir: temp_dir.path().to_path_buf(),
                work: Arc::default(),
            };
            let cleanup_control = control.clone();
            let cleanup = move || {
                let _idle = cleanup_control
                    .work
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                cleanup_control.stop_if_running();
                // The run's watcher may have removed it already.
                match temp_dir.close() {
                    Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                        eprintln!("warning: could not remove the scratch cluster directory: {err}");
                    }
                    _ => {}
                }
            };
            Ok((control, cleanup))
        })?;
        let mut cluster = ThrowawayCluster {
            dir: control.dir.clone(),
            binaries: control.binaries.clone(),
            _cleanup: cleanup,
            _watcher: None,
        };
        cluster._watcher = Watcher::start(&control.dir)?;
        control.account.take_ownership(&control.dir)?;
        control.create_data_dir()?;
        Ok(cluster)
    }

    /// Connection settings for `dbname` as superuser, through the Unix socket.
    pub(crate) fn config(&self, dbname: &str) -> postgres::Config {
        let mut config = postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(PORT)
            .user(SUPERUSER)
            .dbname(dbname);
        config
    }

    /// `postgresql:///<dbname>?host=<socket dir>&port=<port>&user=<superuser>`.
    pub(crate) fn libpq_url(&self, dbname: &str) -> String {
        format!(
            "postgresql:///{dbname}?host={}&port={PORT}&user={SUPERUSER}",
            self.dir.display()
        )
    }

    /// The server binaries it runs.
    pub(crate) fn binaries(&self) -> &ServerBinaries {
        &self.binaries
    }

    /// The temporary directory: data directory, socket and server log.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The postmaster's pid, from the first line of `postmaster.pid`.
    #[cfg(test)]
    pub(crate) fn postmaster_pid(&self) -> Option<u32> {
        let pid_file = fs::read_to_string(self.dir.join("data").join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }
}
