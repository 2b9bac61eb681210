//! The account that runs the server binaries: the current user, or, when that is root
//! (which `initdb` refuses), a dedicated system account that owns nothing else on the
//! host, created on first use and switched to with runuser or setpriv.
//!
//! Not `postgres`: that account owns the system's own cluster, its files and its home,
//! and a migration that runs `COPY … TO PROGRAM` on the scratch server acts as the
//! server's account.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{Cmd, Shell};

use super::binaries::find_program;
use super::initdb_cache::chown_tree;

/// The unprivileged account that runs the server when we are root.
const SERVER_ACCOUNT: &str = "xtask-pg";

/// Who runs the server binaries: ourselves, or (as root) the dedicated account, which
/// then also owns the cluster's directory.
#[derive(Debug, Clone)]
pub(super) enum ServerAccount {
    CurrentUser,
    Switched {
        uid: u32,
        gid: u32,
        switch: UserSwitch,
    },
}

#[derive(Debug, Clone)]
pub(super) enum UserSwitch {
    Runuser(PathBuf),
    Setpriv(PathBuf),
}

impl ServerAccount {
    pub(super) fn detect(sh: &Shell) -> anyhow::Result<ServerAccount> {
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
        if id("-u").is_none() {
            create_account(sh)?;
        }
        let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
            bail!("cannot find the account `{SERVER_ACCOUNT}` that was just created");
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

    pub(super) fn cmd<'a>(&self, sh: &'a Shell, program: &Path) -> Cmd<'a> {
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

    pub(super) fn name(&self) -> String {
        match self {
            ServerAccount::CurrentUser => format!("uid {}", current_uid()),
            ServerAccount::Switched { uid, gid, .. } => format!("{SERVER_ACCOUNT} {uid}:{gid}"),
        }
    }

    /// A cached data directory is ours when we are root: hand all of it over.
    pub(super) fn take_ownership_of_tree(&self, dir: &Path) -> anyhow::Result<()> {
        match self {
            ServerAccount::CurrentUser => Ok(()),
            ServerAccount::Switched { uid, gid, .. } => chown_tree(dir, *uid, *gid),
        }
    }

    pub(super) fn take_ownership(&self, dir: &Path) -> anyhow::Result<()> {
        if let ServerAccount::Switched { uid, gid, .. } = self {
            std::os::unix::fs::chown(dir, Some(*uid), Some(*gid))
                .with_context(|| format!("cannot hand {} to `{SERVER_ACCOUNT}`", dir.display()))?;
        }
        Ok(())
    }
}

/// Creates the server's account: a system account with a group of its own, no home and no
/// login shell. A concurrent run may create it first, which is as good.
fn create_account(sh: &Shell) -> anyhow::Result<()> {
    let Some(useradd) = find_program("useradd") else {
        bail!(
            "running as root, which initdb refuses, and there is no account `{SERVER_ACCOUNT}` \
             to run the server as, nor `useradd` to create it. Create a system account named \
             `{SERVER_ACCOUNT}` that owns nothing else, run as another user, or use \
             `--database-url URL`"
        );
    };
    let created = sh
        .cmd(useradd)
        .args(["--system", "--user-group", "--no-create-home"])
        .args(["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"])
        .args(["--comment", "scratch PostgreSQL servers of cargo xtask"])
        .arg(SERVER_ACCOUNT)
        .quiet()
        .ignore_status()
        .output()
        .context("cannot run useradd")?;
    let exists = xshell::cmd!(sh, "id -u {SERVER_ACCOUNT}")
        .quiet()
        .ignore_stderr()
        .ignore_stdout()
        .run()
        .is_ok();
    if !exists {
        bail!(
            "cannot create the account `{SERVER_ACCOUNT}` that runs the scratch server: {}",
            String::from_utf8_lossy(&created.stderr).trim()
        );
    }
    Ok(())
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
