//! A throwaway PostgreSQL cluster made with the system's own server binaries: a temporary
//! directory, a Unix socket only, no durability, stopped and removed when dropped.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use xshell::{Cmd, Shell};

use super::cleanup::CleanupGuard;
use super::initdb_cache::{chown_tree, InitdbCache};

/// Where Debian and Ubuntu install one `bin` directory per major version.
const DEBIAN_LIB_ROOT: &str = "/usr/lib/postgresql";

/// The socket file name holds the port; the socket directory is ours alone, so the
/// default port cannot clash with another server.
const PORT: u16 = 5432;

/// The superuser `initdb -U` creates.
pub(crate) const SUPERUSER: &str = "postgres";

/// The unprivileged account that runs the server when we are root.
const SERVER_ACCOUNT: &str = "postgres";

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

/// A directory holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBinaries {
    bindir: PathBuf,
}

impl ServerBinaries {
    const REQUIRED: [&'static str; 3] = ["initdb", "pg_ctl", "postgres"];

    /// The first complete set on PATH, then through `pg_config --bindir`, then under
    /// `/usr/lib/postgresql/<major>/bin`, newest major first.
    pub fn find() -> anyhow::Result<ServerBinaries> {
        let path_var = std::env::var_os("PATH");
        let candidates = candidate_bindirs(
            path_var.as_deref(),
            pg_config_bindir(),
            Path::new(DEBIAN_LIB_ROOT),
        );
        ServerBinaries::first_complete(candidates).context(
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on PATH, through \
             `pg_config --bindir`, or under /usr/lib/postgresql/*/bin.\n\
             Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu) or \
             `make setup`, or use an existing server with `--database-url URL` (or DATABASE_URL)",
        )
    }

    fn first_complete(candidates: impl IntoIterator<Item = PathBuf>) -> Option<ServerBinaries> {
        candidates
            .into_iter()
            .find(|dir| {
                Self::REQUIRED
                    .iter()
                    .all(|tool| is_executable(&dir.join(tool)))
            })
            .map(|bindir| ServerBinaries { bindir })
    }

    #[cfg(test)]
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// Directories to look in, in order of preference. A PATH entry such as
/// `/usr/local/bin/initdb` is often a symlink: its real directory is where `pg_ctl` finds
/// the matching `postgres`, so that is the one we use.
fn candidate_bindirs(
    path_var: Option<&OsStr>,
    pg_config_bindir: Option<PathBuf>,
    lib_root: &Path,
) -> Vec<PathBuf> {
    let on_path = path_var
        .into_iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("initdb"))
        .filter(|initdb| is_executable(initdb))
        .filter_map(|initdb| {
            fs::canonicalize(initdb)
                .ok()?
                .parent()
                .map(Path::to_path_buf)
        });
    let mut candidates: Vec<PathBuf> = on_path.chain(pg_config_bindir).collect();
    candidates.extend(versioned_bindirs_newest_first(lib_root));
    candidates
}

/// `<root>/<major>/bin` for every directory named like a version (`16`, `9.6`).
fn versioned_bindirs_newest_first(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version: Option<Vec<u32>> = name
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect();
            Some((version?, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    versioned.into_iter().map(|(_, bindir)| bindir).collect()
}

fn pg_config_bindir() -> Option<PathBuf> {
    let sh = Shell::new().ok()?;
    let bindir = xshell::cmd!(sh, "pg_config --bindir")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    Some(PathBuf::from(bindir.trim()))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

fn find_program(name: &str) -> Option<PathBuf> {
    // runuser and setpriv live in sbin, which a non-login root shell may not have on PATH.
    let fallback = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(fallback)
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
}

/// Who runs the server binaries. `initdb` refuses root, so root hands the work (and the
/// directory) to the unprivileged `postgres` account.
#[derive(Debug, Clone)]
enum ServerAccount {
    CurrentUser,
    Switched {
        uid: u32,
        gid: u32,
        switch: UserSwitch,
    },
}

#[derive(Debug, Clone)]
enum UserSwitch {
    Runuser(PathBuf),
    Setpriv(PathBuf),
}

impl ServerAccount {
    fn detect(sh: &Shell) -> anyhow::Result<ServerAccount> {
        if !running_as_root(sh)? {
            return Ok(ServerAccount::CurrentUser);
        }
        let id = |flag: &str| -> Option<u32> {
            let out = xshell::cmd!(sh, "id {flag} {SERVER_ACCOUNT}")
                .quiet()
                .ignore_stderr()
                .read();
            out.ok()?.trim().parse().ok()
        };
        let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
            bail!(
                "running as root, which initdb refuses, and there is no unprivileged user \
                 `{SERVER_ACCOUNT}` to run the server as. Create it (installing the postgresql \
                 package does), run as another user, or use `--database-url URL`"
            );
        };
        if uid == 0 {
            bail!("user `{SERVER_ACCOUNT}` has uid 0; initdb needs an unprivileged user");
        }
        let switch = if let Some(runuser) = find_program("runuser") {
            UserSwitch::Runuser(runuser)
        } else if let Some(setpriv) = find_program("setpriv") {
            UserSwitch::Setpriv(setpriv)
        } else {
            bail!(
                "running as root: need `runuser` or `setpriv` (util-linux) to run the server \
                 as `{SERVER_ACCOUNT}`"
            );
        };
        Ok(ServerAccount::Switched { uid, gid, switch })
    }

    fn cmd<'a>(&self, sh: &'a Shell, program: &Path) -> Cmd<'a> {
        let cmd = match self {
            ServerAccount::CurrentUser => return sh.cmd(program).quiet(),
            ServerAccount::Switched {
                switch: UserSwitch::Runuser(runuser),
                ..
            } => sh.cmd(runuser).args(["-u", SERVER_ACCOUNT, "--"]),
            ServerAccount::Switched {
                switch: UserSwitch::Setpriv(setpriv),
                ..
            } => sh.cmd(setpriv).args([
                "--reuid",
                SERVER_ACCOUNT,
                "--regid",
                SERVER_ACCOUNT,
                "--init-groups",
            ]),
        };
        cmd.arg(program).quiet()
    }

    fn name(&self) -> String {
        match self {
            ServerAccount::CurrentUser => format!("uid {}", current_uid()),
            ServerAccount::Switched { uid, gid, .. } => format!("{SERVER_ACCOUNT} {uid}:{gid}"),
        }
    }

    /// A cached data directory is ours when we are root: hand all of it over.
    fn take_ownership_of_tree(&self, dir: &Path) -> anyhow::Result<()> {
        match self {
            ServerAccount::CurrentUser => Ok(()),
            ServerAccount::Switched { uid, gid, .. } => chown_tree(dir, *uid, *gid),
        }
    }

    fn take_ownership(&self, dir: &Path) -> anyhow::Result<()> {
        if let ServerAccount::Switched { uid, gid, .. } = self {
            std::os::unix::fs::chown(dir, Some(*uid), Some(*gid))
                .with_context(|| format!("cannot hand {} to `{SERVER_ACCOUNT}`", dir.display()))?;
        }
        Ok(())
    }
}

fn current_uid() -> u32 {
    fs::metadata("/proc/self").map_or(u32::MAX, |meta| meta.uid())
}

fn running_as_root(sh: &Shell) -> anyhow::Result<bool> {
    // /proc/self belongs to the effective uid; `id -u` covers systems without /proc.
    if let Ok(meta) = fs::metadata("/proc/self") {
        return Ok(meta.uid() == 0);
    }
    let uid = xshell::cmd!(sh, "id -u")
        .quiet()
        .read()
        .context("cannot tell who we run as")?;
    Ok(uid.trim() == "0")
}

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
            self.binaries.bindir.display(),
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
        if let Err(fast) = self.stop("fast") {
            if let Err(immediate) = self.stop("immediate") {
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
    _cleanup: CleanupGuard,
}

impl ThrowawayCluster {
    pub(crate) fn start() -> anyhow::Result<ThrowawayCluster> {
        let binaries = ServerBinaries::find()?;
        let account = ServerAccount::detect(&Shell::new()?)?;
        let parent = scratch_parent_dir();
        let temp_dir = tempfile::Builder::new()
            .prefix("xtask-pg-")
            .tempdir_in(&parent)
            .with_context(|| {
                format!(
                    "cannot create a directory for the scratch cluster in {}",
                    parent.display()
                )
            })?;
        account.take_ownership(temp_dir.path())?;
        let control = ClusterControl {
            binaries,
            account,
            dir: temp_dir.path().to_path_buf(),
        };

        // Registered before initdb, so that Ctrl-C from here on also removes the directory.
        let cleanup_control = control.clone();
        let cleanup = CleanupGuard::register(move || {
            cleanup_control.stop_if_running();
            if let Err(err) = temp_dir.close() {
                eprintln!("warning: could not remove the scratch cluster directory: {err}");
            }
        });

        control.create_data_dir()?;
        Ok(ThrowawayCluster {
            dir: control.dir,
            _cleanup: cleanup,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_bindir(dir: &Path, tools: &[&str]) {
        fs::create_dir_all(dir).unwrap();
        for tool in tools {
            let path = dir.join(tool);
            fs::write(&path, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn versioned_bindirs_are_newest_major_first() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "10", "16", "15", "not-a-version"] {
            fake_bindir(
                &root.path().join(version).join("bin"),
                &ServerBinaries::REQUIRED,
            );
        }
        let order: Vec<PathBuf> = versioned_bindirs_newest_first(root.path());
        let expected: Vec<PathBuf> = ["16", "15", "10", "9.6"]
            .iter()
            .map(|v| root.path().join(v).join("bin"))
            .collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn path_comes_first_and_symlinks_resolve_to_the_real_bindir() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("lib");
        let real = lib.join("14").join("bin");
        fake_bindir(&real, &ServerBinaries::REQUIRED);
        fake_bindir(&lib.join("17").join("bin"), &ServerBinaries::REQUIRED);
        let local_bin = root.path().join("local-bin");
        fs::create_dir_all(&local_bin).unwrap();
        std::os::unix::fs::symlink(real.join("initdb"), local_bin.join("initdb")).unwrap();
        let pg_config = root.path().join("pg-config-bin");

        let path_var = std::env::join_paths([root.path().join("empty"), local_bin]).unwrap();
        let candidates = candidate_bindirs(Some(&path_var), Some(pg_config.clone()), &lib);

        let real = fs::canonicalize(real).unwrap();
        assert_eq!(
            candidates,
            vec![
                real.clone(),
                pg_config,
                lib.join("17").join("bin"),
                real.clone()
            ]
        );
        assert_eq!(
            ServerBinaries::first_complete(candidates).unwrap().bindir(),
            real
        );
    }

    #[test]
    fn incomplete_bindirs_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let partial = root.path().join("17").join("bin");
        fake_bindir(&partial, &["initdb", "pg_ctl"]);
        let complete = root.path().join("15").join("bin");
        fake_bindir(&complete, &ServerBinaries::REQUIRED);
        let candidates = candidate_bindirs(None, None, root.path());
        assert_eq!(
            ServerBinaries::first_complete(candidates).unwrap().bindir(),
            complete
        );
        assert_eq!(ServerBinaries::first_complete(Vec::new()), None);
    }
}
