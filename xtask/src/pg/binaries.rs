//! Finding PostgreSQL's server binaries: on PATH, through `pg_config`, or in Debian's
//! per-major directories.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::Shell;

/// Where Debian and Ubuntu install one `bin` directory per major version.
const DEBIAN_LIB_ROOT: &str = "/usr/lib/postgresql";

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

    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub(super) fn tool(&self, name: &str) -> PathBuf {
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

pub(super) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    // runuser and setpriv live in sbin, which a non-login root shell may not have on PATH.
    let fallback = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(fallback)
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
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
