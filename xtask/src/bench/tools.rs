//! The alternatives the benchmark times beside `verify`: psql applying a chain in one
//! session (the floor), the usual manual check (psql per file, `pg_dump --schema-only` of
//! both databases, a text diff), and migra.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use xshell::{Cmd, Shell};

use crate::migrations::MigrationChain;

/// The client programs, found once.
pub struct Tools {
    sh: Shell,
    psql: PathBuf,
    pg_dump: PathBuf,
    diff: PathBuf,
    /// Why migra cannot be timed, when it cannot.
    pub migra: Result<PathBuf, String>,
}

impl Tools {
    /// psql, pg_dump and diff are required; migra is optional.
    pub fn find(migra: Option<&Path>) -> anyhow::Result<Tools> {
        let required = |name: &str| {
            find_on_path(name).with_context(|| {
                format!(
                    "`{name}` is not on PATH; the benchmark times it beside verify \
                     (Debian/Ubuntu: `apt-get install postgresql-client diffutils`)"
                )
            })
        };
        let migra = match migra {
            Some(path) if path.is_file() => Ok(path.to_owned()),
            Some(path) => Err(format!("{} does not exist", path.display())),
            None => find_on_path("migra").ok_or_else(|| {
                "not installed (`pip install migra \"psycopg[binary]\" psycopg2-binary`, \
                 or pass --migra PATH)"
                    .to_owned()
            }),
        };
        Ok(Tools {
            sh: Shell::new()?,
            psql: required("psql")?,
            pg_dump: required("pg_dump")?,
            diff: required("diff")?,
            migra,
        })
    }

    /// The floor: the whole chain, concatenated, in one psql session and one transaction.
    pub fn apply_in_one_session(&self, url: &str, concatenated: &Path) -> anyhow::Result<()> {
        run(self.psql_file(url, concatenated), &[0])
    }

    /// What a person checking by hand runs: psql once per file, each in a transaction, as
    /// sqlx would.
    pub fn apply_file_by_file(&self, url: &str, chain: &MigrationChain) -> anyhow::Result<()> {
        for migration in &chain.migrations {
            run(self.psql_file(url, &migration.path), &[0])?;
        }
        Ok(())
    }

    pub fn dump_schema(&self, url: &str, output: &Path) -> anyhow::Result<()> {
        let cmd = self
            .sh
            .cmd(&self.pg_dump)
            .args(["--schema-only", "--no-owner", "-f"])
            .arg(output)
            .args(["-d", url]);
        run(cmd, &[0])
    }

    /// `diff -u`; differing files (status 1) are a result, not a failure.
    pub fn text_diff(&self, old: &Path, new: &Path) -> anyhow::Result<()> {
        run(self.sh.cmd(&self.diff).arg("-u").arg(old).arg(new), &[0, 1])
    }

    /// `migra --unsafe old new`; status 2 means it found differences, which is a result.
    pub fn migra(&self, old_url: &str, new_url: &str) -> anyhow::Result<()> {
        let Ok(migra) = &self.migra else {
            bail!("migra is not available");
        };
        run(
            self.sh.cmd(migra).arg("--unsafe").arg(old_url).arg(new_url),
            &[0, 2],
        )
    }

    fn psql_file(&self, url: &str, file: &Path) -> Cmd<'_> {
        self.sh
            .cmd(&self.psql)
            .args(["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(file)
            .args(["-d", url])
    }
}

/// Writes the chain's files, in the order they are applied, into one file for `psql -1`.
pub fn concatenate(chain: &MigrationChain, output: &Path) -> anyhow::Result<()> {
    let mut sql = String::new();
    for migration in &chain.migrations {
        sql.push_str(&migration.sql);
        sql.push('\n');
    }
    fs::write(output, sql).with_context(|| format!("cannot write {}", output.display()))
}

/// Runs a command with its output discarded; any status not in `ok` fails with the tail of
/// what it printed on stderr.
fn run(cmd: Cmd<'_>, ok: &[i32]) -> anyhow::Result<()> {
    let shown = cmd.to_string();
    let output = cmd
        .quiet()
        .ignore_status()
        .ignore_stdout()
        .output()
        .with_context(|| format!("cannot run `{shown}`"))?;
    match output.status.code() {
        Some(code) if ok.contains(&code) => Ok(()),
        _ => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!("`{shown}` failed ({}):\n{}", output.status, tail.join("\n"))
        }
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
