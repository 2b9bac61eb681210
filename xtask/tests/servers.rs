//! End-to-end tests of the scratch servers, driving the real binary: each side replays in
//! a cluster of its own and the roles its migrations create are compared; on a shared
//! server (`--database-url`) the sides take turns and the server is left as found.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn xtask() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("xtask"));
    cmd.env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("XTASK_INITDB_CACHE_DIR", initdb_cache_dir());
    cmd
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn initdb_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}

/// A directory the server account can reach, for scratch clusters or migrations.
fn reachable_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Two migration directories, `old` and `new`, of one file each.
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    fn new(old: &str, new: &str) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        for (side, sql) in [("old", old), ("new", new)] {
            std::fs::create_dir(dir.path().join(side)).unwrap();
            std::fs::write(dir.path().join(side).join("0001_roles.sql"), sql).unwrap();
        }
        Pair { dir }
    }

    fn verify(&self, extra: &[&str]) -> Command {
        let mut cmd = xtask();
        cmd.arg("verify")
            .arg("--root")
            .arg(self.dir.path())
            .arg("--old")
            .arg(self.dir.path().join("old"))
            .arg("--new")
            .arg(self.dir.path().join("new"))
            .args(["--no-pack", "--format", "json", "--quiet"])
            .args(extra);
        cmd
    }

    /// The exit code and the `kind name: what` of every difference.
    fn report(&self, extra: &[&str]) -> (i32, Vec<String>, Value) {
        let output = self.verify(extra).output().unwrap();
        let code = output.status.code().unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "exit {code}, no report; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let named = report["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let what = match d["change"].as_str().unwrap() {
                    "only_in" => format!("only in {}", d["side"].as_str().unwrap()),
                    _ => format!("{} differs", d["property"].as_str().unwrap()),
                };
                format!(
                    "{} {}: {what}",
                    d["object"]["kind"].as_str().unwrap(),
                    d["object"]["name"].as_str().unwrap()
                )
            })
            .collect();
        (code, named, report)
    }
}

const ROLES: &str = "
CREATE ROLE app_owner NOLOGIN;
CREATE ROLE app_reader LOGIN CONNECTION LIMIT 5 IN ROLE app_owner;
ALTER ROLE app_reader SET statement_timeout = '5s';
CREATE TABLE t (id int);
GRANT SELECT ON t TO app_reader;
";

/// The same roles, each created only if it is missing, in another order.
const ROLES_IF_MISSING: &str = "
CREATE TABLE t (id int);
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_owner') THEN
    CREATE ROLE app_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN
    CREATE ROLE app_reader LOGIN CONNECTION LIMIT 5;
  END IF;
END $$;
GRANT app_owner TO app_reader;
ALTER ROLE app_reader SET statement_timeout = '5s';
GRANT SELECT ON t TO app_reader;
";

#[test]
fn roles_created_alike_on_both_sides_are_equal() {
    let (code, named, report) = Pair::new(ROLES, ROLES).report(&[]);
    assert_eq!((code, named), (0, Vec::<String>::new()));
    assert_eq!(report["old"]["objects"]["role"], 2, "{report}");
}

/// Each side has a cluster of its own, so the pattern that creates a role only if it is
/// missing can neither race with the other side nor find the other side's role.
#[test]
fn roles_created_if_missing_pass_twenty_runs_in_a_row() {
    let pair = Pair::new(ROLES_IF_MISSING, ROLES);
    for run in 1..=20 {
        let (code, named, _) = pair.report(&[]);
        assert_eq!((code, named), (0, Vec::new()), "run {run}");
    }
}

#[test]
fn a_role_created_on_one_side_only_is_named() {
    let new = format!("{ROLES}\nCREATE ROLE \"Auditor\" NOLOGIN;");
    let (code, named, _) = Pair::new(ROLES, &new).report(&[]);
    assert_eq!(
        (code, named),
        (1, vec![r#"role "Auditor": only in new"#.to_owned()])
    );
}

#[test]
fn different_attributes_memberships_and_settings_are_named() {
    let new = "
CREATE ROLE app_owner NOLOGIN CREATEDB;
CREATE ROLE app_reader LOGIN CONNECTION LIMIT 5;
ALTER ROLE app_reader SET statement_timeout = '10s';
CREATE TABLE t (id int);
GRANT SELECT ON t TO app_reader;
";
    let (code, named, _) = Pair::new(ROLES, new).report(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        named,
        [
            "role app_owner: createdb differs",
            "role app_reader: member_of differs",
            "role app_reader: settings differs",
        ]
    );
}

/// A throwaway cluster for `--database-url` tests, which must never use a server of the
/// machine: a verify run of our own holds its cluster open in a long replay.
struct Host {
    run: Child,
    socket_dir: PathBuf,
    _scratch: tempfile::TempDir,
    _migrations: Pair,
}

impl Host {
    fn start() -> Host {
        let migrations = Pair::new("SELECT pg_sleep(3600);", "SELECT pg_sleep(3600);");
        let scratch = reachable_tempdir();
        let run = migrations
            .verify(&[])
            .env("XTASK_SCRATCH_DIR", scratch.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Once its replay runs, the host's own databases stay as they are.
        let replaying = |dir: &Path| {
            let mut client = connect(dir, "postgres")?;
            let row = client
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3600)%' \
                     AND pid <> pg_backend_pid()",
                    &[],
                )
                .ok()?;
            (row.get::<_, i64>(0) > 0).then_some(())
        };
        let socket_dir = wait_for("the host cluster to run its replay", || {
            std::fs::read_dir(scratch.path())
                .ok()?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|dir| replaying(dir).is_some())
        });
        Host {
            run,
            socket_dir,
            _scratch: scratch,
            _migrations: migrations,
        }
    }

    fn url(&self) -> String {
        format!(
            "postgresql:///postgres?host={}&user=postgres",
            self.socket_dir.display()
        )
    }

    fn client(&self) -> postgres::Client {
        connect(&self.socket_dir, "postgres").expect("connect to the host cluster")
    }

    /// Names of the host's roles and databases, to compare before and after a run.
    fn globals(&self) -> (Vec<String>, Vec<String>) {
        let mut client = self.client();
        let mut names = |sql: &str| -> Vec<String> {
            let rows = client.query(sql, &[]).unwrap();
            rows.iter().map(|row| row.get(0)).collect()
        };
        (
            names("SELECT rolname::text FROM pg_roles ORDER BY 1"),
            names("SELECT datname::text FROM pg_database ORDER BY 1"),
        )
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let pid = self.run.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.run.wait();
    }
}

fn connect(socket_dir: &Path, dbname: &str) -> Option<postgres::Client> {
    postgres::Config::new()
        .host_path(socket_dir)
        .user("postgres")
        .dbname(dbname)
        .connect(postgres::NoTls)
        .ok()
}

/// Polls `condition` until it holds; the deadline is only there to end a broken test.
fn wait_for<T>(what: &str, mut condition: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = condition() {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited two minutes for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// On one server the sides take turns when they create roles, their roles are compared,
/// and every role and database the runs created is gone afterwards.
#[test]
fn a_shared_server_compares_roles_one_side_after_the_other_and_drops_them() {
    let host = Host::start();
    let before = host.globals();
    let url = host.url();
    let prelude_dir = reachable_tempdir();
    let prelude = prelude_dir.path().join("prelude.sql");
    std::fs::write(&prelude, "CREATE ROLE authenticated NOLOGIN;").unwrap();
    let prelude = prelude.to_str().unwrap();
    let shared = ["--database-url", &url, "--prelude", prelude];

    let equal = Pair::new(ROLES_IF_MISSING, ROLES).report(&shared);
    assert_eq!((equal.0, equal.1), (0, Vec::new()), "{}", equal.2);
    let limitations = equal.2["limitations"].to_string();
    assert!(limitations.contains("already existed"), "{limitations}");

    let new = format!("{ROLES}\nCREATE ROLE auditor; GRANT authenticated TO app_owner;");
    let (code, named, _) = Pair::new(ROLES, &new).report(&shared);
    assert_eq!(code, 1);
    assert_eq!(
        named,
        [
            "role app_owner: member_of differs",
            "role auditor: only in new"
        ]
    );
    assert_eq!(host.globals(), before, "the shared server was left changed");
}
