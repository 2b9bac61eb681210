//! Finding PostgreSQL's server binaries: on PATH, through `pg_config`, in Debian's
//! per-major directories, or among those `.ci/install-pg` installed; and choosing one
//! major, or one directory, among them.

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context};
use serde::{Deserialize, Deserializer};
use xshell::Shell;

use super::capabilities::{ensure_supported, OLDEST_SUPPORTED_MAJOR};

/// Where Debian and Ubuntu install one `bin` directory per major version.
const DEBIAN_LIB_ROOT: &str = "/usr/lib/postgresql";

/// Where `.ci/install-pg MAJOR` (`make pg-install`) puts `<major>/bin`, under the checkout
/// this tool is built from.
const INSTALL_DIR: &str = ".pg";

/// Chooses the binaries when neither `--pg` nor `xtask.toml` does; what the tests honour,
/// so that `XTASK_PG=17 cargo test` runs the whole suite on PostgreSQL 17.
pub const CHOICE_VAR: &str = "XTASK_PG";

/// Which server binaries run the throwaway cluster: the first found of a major, or the
/// ones in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinariesChoice {
    Major(u32),
    Dir(PathBuf),
}

impl BinariesChoice {
    /// A directory relative to `root` (as `xtask.toml` gives it) made absolute.
    pub fn relative_to(self, root: &Path) -> BinariesChoice {
        match self {
            BinariesChoice::Dir(dir) => BinariesChoice::Dir(root.join(dir)),
            major => major,
        }
    }
}

/// A number is a major, anything else a directory.
impl FromStr for BinariesChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err("expected a PostgreSQL major (such as 17) or a directory".to_owned());
        }
        Ok(match text.parse() {
            Ok(major) => BinariesChoice::Major(major),
            Err(_) => BinariesChoice::Dir(PathBuf::from(text)),
        })
    }
}

/// `pg = 17` or `pg = "/usr/lib/postgresql/16/bin"` in `xtask.toml`.
impl<'de> Deserialize<'de> for BinariesChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Setting {
            Major(u32),
            Text(String),
        }
        match Setting::deserialize(deserializer)? {
            Setting::Major(major) => Ok(BinariesChoice::Major(major)),
            Setting::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl fmt::Display for BinariesChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinariesChoice::Major(major) => write!(f, "PostgreSQL {major}"),
            BinariesChoice::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// A directory holding `initdb`, `pg_ctl` and `postgres`, and the version they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerBinaries {
    bindir: PathBuf,
    /// As `postgres --version` prints it: `15.19`, `18.4`.
    version: String,
    major: u32,
}

impl ServerBinaries {
    const REQUIRED: [&'static str; 3] = ["initdb", "pg_ctl", "postgres"];

    /// The binaries `choice` names, else those `XTASK_PG` names, else the first complete
    /// set on PATH, through `pg_config --bindir`, under `/usr/lib/postgresql/<major>/bin`
    /// (newest major first), or under `.pg/<major>/bin` (newest first). A major older
    /// than the oldest supported is refused here, before any work.
    pub fn find(choice: Option<&BinariesChoice>) -> anyhow::Result<ServerBinaries> {
        let from_env = match std::env::var(CHOICE_VAR) {
            Ok(text) => Some(
                text.parse::<BinariesChoice>()
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("{CHOICE_VAR}={text}"))?,
            ),
            Err(_) => None,
        };
        let path_var = std::env::var_os("PATH");
        let candidates = candidate_bindirs(
            path_var.as_deref(),
            pg_config_bindir(),
            Path::new(DEBIAN_LIB_ROOT),
            &install_root(),
        );
        ServerBinaries::choose(choice.or(from_env.as_ref()), candidates)
    }

    fn choose(
        choice: Option<&BinariesChoice>,
        candidates: Vec<PathBuf>,
    ) -> anyhow::Result<ServerBinaries> {
        let binaries = match choice {
            Some(BinariesChoice::Dir(dir)) => {
                let missing: Vec<&str> = Self::REQUIRED
                    .into_iter()
                    .filter(|tool| !is_executable(&dir.join(tool)))
                    .collect();
                if !missing.is_empty() {
                    bail!(
                        "{} holds no PostgreSQL server binaries: {} missing",
                        dir.display(),
                        missing.join(", ")
                    );
                }
                ServerBinaries::at(dir.clone())?
            }
            Some(BinariesChoice::Major(major)) => {
                ensure_supported(*major, &format!("--pg {major}"))?;
                let installed = installed(&candidates);
                match installed.iter().find(|found| found.major == *major) {
                    Some(found) => found.clone(),
                    None => bail!(
                        "no PostgreSQL {major} server binaries found (installed: {}).\n\
                         Install them with `make pg-install MAJOR={major}`, or name their \
                         directory: --pg DIR",
                        list(&installed)
                    ),
                }
            }
            None => match Self::first_complete(candidates.iter().cloned()) {
                Some(bindir) => ServerBinaries::at(bindir)?,
                None => bail!(
                    "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found on PATH, \
                     through `pg_config --bindir`, under /usr/lib/postgresql/*/bin or under \
                     {}/*/bin.\n\
                     Install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu), \
                     `make setup` or `make pg-install MAJOR=17`, or use an existing server with \
                     `--database-url URL` (or XTASK_DATABASE_URL)",
                    install_root().display()
                ),
            },
        };
        if let Err(refusal) = ensure_supported(binaries.major, &binaries.to_string()) {
            let others: Vec<ServerBinaries> = installed(&candidates)
                .into_iter()
                .filter(|found| found.major >= OLDEST_SUPPORTED_MAJOR)
                .collect();
            if others.is_empty() {
                return Err(refusal);
            }
            bail!(
                "{refusal}\npick supported ones with --pg MAJOR (installed: {})",
                list(&others)
            );
        }
        Ok(binaries)
    }

    fn first_complete(candidates: impl IntoIterator<Item = PathBuf>) -> Option<PathBuf> {
        candidates.into_iter().find(|dir| {
            Self::REQUIRED
                .iter()
                .all(|tool| is_executable(&dir.join(tool)))
        })
    }

    /// The binaries in `bindir`, with the version `postgres --version` prints.
    fn at(bindir: PathBuf) -> anyhow::Result<ServerBinaries> {
        // The real directory: the account that runs the server may not be allowed through
        // the path that links to it (a checkout under /root linking into a shared store).
        let bindir = fs::canonicalize(&bindir).unwrap_or(bindir);
        let postgres = bindir.join("postgres");
        let sh = Shell::new().context("cannot set up a shell to run the server binaries")?;
        let printed = sh
            .cmd(&postgres)
            .arg("--version")
            .quiet()
            .ignore_stderr()
            .read()
            .with_context(|| format!("cannot run `{} --version`", postgres.display()))?;
        // `postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)`, `... 18beta1`.
        let version = printed
            .split_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_owned();
        let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
        let major = digits.parse().with_context(|| {
            format!(
                "`{} --version` printed {printed:?}, not a PostgreSQL version",
                postgres.display()
            )
        })?;
        Ok(ServerBinaries {
            bindir,
            version,
            major,
        })
    }

    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub(super) fn tool(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// `PostgreSQL 15.19 in /usr/lib/postgresql/15/bin`.
impl fmt::Display for ServerBinaries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PostgreSQL {} in {}",
            self.version,
            self.bindir.display()
        )
    }
}

/// Every complete set among `candidates`, each directory once, in their order.
fn installed(candidates: &[PathBuf]) -> Vec<ServerBinaries> {
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for dir in candidates {
        let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        if let Some(binaries) = ServerBinaries::first_complete([dir.clone()])
            .and_then(|dir| ServerBinaries::at(dir).ok())
        {
            found.push(binaries);
        }
    }
    found
}

/// `15 in /usr/lib/postgresql/15/bin, 17 in ...`, by major.
fn list(binaries: &[ServerBinaries]) -> String {
    let mut sorted: Vec<&ServerBinaries> = binaries.iter().collect();
    sorted.sort_by_key(|b| b.major);
    match sorted.is_empty() {
        true => "none".to_owned(),
        false => sorted
            .into_iter()
            .map(|b| format!("{} in {}", b.major, b.bindir.display()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `.pg` at the root of the checkout this tool is built from, wherever it runs.
fn install_root() -> PathBuf {
    crate::workspace_root().join(INSTALL_DIR)
}

/// Directories to look in, in order of preference. A PATH entry such as
/// `/usr/local/bin/initdb` is often a symlink: its real directory is where `pg_ctl` finds
/// the matching `postgres`, so that is the one we use.
fn candidate_bindirs(
    path_var: Option<&OsStr>,
    pg_config_bindir: Option<PathBuf>,
    lib_root: &Path,
    install_root: &Path,
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
    candidates.extend(versioned_bindirs_newest_first(install_root));
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

    /// A bin directory whose `postgres --version` prints `version` (in the words of
    /// Debian's build when `version` has a space).
    fn fake_bindir(dir: &Path, tools: &[&str], version: &str) {
        fs::create_dir_all(dir).unwrap();
        for tool in tools {
            let path = dir.join(tool);
            fs::write(
                &path,
                format!("#!/bin/sh\necho '{tool} (PostgreSQL) {version}'\n"),
            )
            .unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn message(err: anyhow::Error) -> String {
        format!("{err:#}")
    }

    #[test]
    fn versioned_bindirs_are_newest_major_first() {
        let root = tempfile::tempdir().unwrap();
        for version in ["9.6", "10", "16", "15", "not-a-version"] {
            fake_bindir(
                &root.path().join(version).join("bin"),
                &ServerBinaries::REQUIRED,
                "16.0",
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
        fake_bindir(&real, &ServerBinaries::REQUIRED, "14.23");
        fake_bindir(
            &lib.join("17").join("bin"),
            &ServerBinaries::REQUIRED,
            "17.10",
        );
        let local_bin = root.path().join("local-bin");
        fs::create_dir_all(&local_bin).unwrap();
        std::os::unix::fs::symlink(real.join("initdb"), local_bin.join("initdb")).unwrap();
        let pg_config = root.path().join("pg-config-bin");
        let installed = root.path().join("installed");
        fake_bindir(
            &installed.join("18").join("bin"),
            &ServerBinaries::REQUIRED,
            "18.4",
        );

        let path_var = std::env::join_paths([root.path().join("empty"), local_bin]).unwrap();
        let candidates =
            candidate_bindirs(Some(&path_var), Some(pg_config.clone()), &lib, &installed);

        let real = fs::canonicalize(real).unwrap();
        assert_eq!(
            candidates,
            vec![
                real.clone(),
                pg_config,
                lib.join("17").join("bin"),
                real.clone(),
                installed.join("18").join("bin"),
            ]
        );
        let chosen = ServerBinaries::choose(None, candidates).unwrap();
        assert_eq!(chosen.bindir(), real);
        assert_eq!(
            chosen.to_string(),
            format!("PostgreSQL 14.23 in {}", real.display())
        );
    }

    #[test]
    fn incomplete_bindirs_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        let partial = root.path().join("17").join("bin");
        fake_bindir(&partial, &["initdb", "pg_ctl"], "17.10");
        let complete = root.path().join("15").join("bin");
        fake_bindir(&complete, &ServerBinaries::REQUIRED, "15.19");
        let candidates = candidate_bindirs(None, None, root.path(), &root.path().join("none"));
        assert_eq!(
            ServerBinaries::choose(None, candidates).unwrap().bindir(),
            complete
        );
        let err = message(ServerBinaries::choose(None, Vec::new()).unwrap_err());
        assert!(err.starts_with("no PostgreSQL server binaries"), "{err}");
    }

    #[test]
    fn a_major_is_chosen_among_those_installed() {
        let root = tempfile::tempdir().unwrap();
        let dir = |major: &str| root.path().join(major).join("bin");
        fake_bindir(
            &dir("15"),
            &ServerBinaries::REQUIRED,
            "15.19 (Debian 15.19-0+deb12u1)",
        );
        fake_bindir(&dir("17"), &ServerBinaries::REQUIRED, "17.10");
        fake_bindir(&dir("18"), &ServerBinaries::REQUIRED, "18beta1");
        // Listed twice, as PATH and a versioned directory often name the same one.
        let candidates = vec![dir("15"), dir("17"), dir("15"), dir("18")];

        let chosen =
            |major| ServerBinaries::choose(Some(&BinariesChoice::Major(major)), candidates.clone());
        assert_eq!(chosen(17).unwrap().bindir(), dir("17"));
        let debian = chosen(15).unwrap();
        assert_eq!((debian.major, debian.version.as_str()), (15, "15.19"));
        assert_eq!(chosen(18).unwrap().version, "18beta1");

        let err = message(chosen(16).unwrap_err());
        let listed = format!(
            "installed: 15 in {}, 17 in {}, 18 in {}",
            dir("15").display(),
            dir("17").display(),
            dir("18").display()
        );
        let too_old = message(chosen(13).unwrap_err());
        assert_eq!(
            too_old,
            "PostgreSQL 13 is not supported (end of life); use 14 or newer\n(found: --pg 13)"
        );
        assert!(
            err.starts_with("no PostgreSQL 16 server binaries found"),
            "{err}"
        );
        assert!(err.contains(&listed), "{err}");
        assert!(err.contains("make pg-install MAJOR=16"), "{err}");
    }

    #[test]
    fn a_directory_is_taken_as_it_is_or_refused() {
        let root = tempfile::tempdir().unwrap();
        let complete = root.path().join("complete");
        fake_bindir(&complete, &ServerBinaries::REQUIRED, "16.14");
        let partial = root.path().join("partial");
        fake_bindir(&partial, &["pg_ctl"], "16.14");

        let choose = |dir: &Path| {
            ServerBinaries::choose(Some(&BinariesChoice::Dir(dir.to_path_buf())), Vec::new())
        };
        assert_eq!(choose(&complete).unwrap().major, 16);
        let err = message(choose(&partial).unwrap_err());
        assert_eq!(
            err,
            format!(
                "{} holds no PostgreSQL server binaries: initdb, postgres missing",
                partial.display()
            )
        );
    }

    #[test]
    fn thirteen_is_refused_before_any_work_naming_the_binaries_found() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("13").join("bin");
        fake_bindir(&old, &ServerBinaries::REQUIRED, "13.23");
        let newer = root.path().join("16").join("bin");
        fake_bindir(&newer, &ServerBinaries::REQUIRED, "16.14");

        let err =
            message(ServerBinaries::choose(None, vec![old.clone(), newer.clone()]).unwrap_err());
        assert_eq!(
            err,
            format!(
                "PostgreSQL 13 is not supported (end of life); use 14 or newer\n\
                 (found: PostgreSQL 13.23 in {})\n\
                 pick supported ones with --pg MAJOR (installed: 16 in {})",
                old.display(),
                newer.display()
            )
        );
        let err = message(
            ServerBinaries::choose(Some(&BinariesChoice::Dir(old.clone())), Vec::new())
                .unwrap_err(),
        );
        assert!(
            err.starts_with("PostgreSQL 13 is not supported (end of life); use 14 or newer"),
            "{err}"
        );
    }

    #[test]
    fn a_choice_is_a_major_or_a_directory() {
        assert_eq!("17".parse(), Ok(BinariesChoice::Major(17)));
        assert_eq!(
            "/usr/lib/postgresql/16/bin".parse(),
            Ok(BinariesChoice::Dir(PathBuf::from(
                "/usr/lib/postgresql/16/bin"
            )))
        );
        assert!("".parse::<BinariesChoice>().is_err());
        assert_eq!(
            BinariesChoice::Dir("pg/bin".into()).relative_to(Path::new("/repo")),
            BinariesChoice::Dir("/repo/pg/bin".into())
        );
        #[derive(Deserialize)]
        struct Settings {
            pg: BinariesChoice,
        }
        let read = |text: &str| toml::from_str::<Settings>(text).map(|s| s.pg);
        assert_eq!(read("pg = 18").unwrap(), BinariesChoice::Major(18));
        assert_eq!(read("pg = \"14\"").unwrap(), BinariesChoice::Major(14));
        assert_eq!(
            read("pg = \"bin\"").unwrap(),
            BinariesChoice::Dir("bin".into())
        );
    }
}
