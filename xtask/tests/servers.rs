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
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache());
    cmd
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn test_initdb_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}

/// A directory the server account can reach, for scratch clusters or a prelude; in memory
/// where there is such a place, as the tool's own clusters are.
fn reachable_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let memory = Path::new("/dev/shm");
    let dir = if memory.is_dir() {
        tempfile::tempdir_in(memory).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
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

impl Host {
    /// The scratch databases of the run `pid` on the host.
    fn databases_of(&self, pid: u32) -> Vec<String> {
        let prefix = format!("xtask_{pid}_");
        let databases = self.globals().1;
        databases
            .into_iter()
            .filter(|name| name.starts_with(&prefix))
            .collect()
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

/// How a leak test ends a run.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// `kill -9`: nothing of the run can clean up; its watcher and the next run must.
    Kill,
    /// SIGTERM to the process alone, as `timeout`, `kill PID` and CI cancellation send.
    Terminate,
    /// SIGINT to the whole process group, as a terminal's Ctrl-C.
    InterruptGroup,
}

/// What runs leave on the machine and on a shared server, counted by the leak tests.
#[derive(Debug, Default, PartialEq)]
struct Leftovers {
    cluster_dirs: Vec<String>,
    servers: Vec<u32>,
    shared_memory: Vec<String>,
    databases: Vec<String>,
    cache_leftovers: Vec<String>,
}

/// A private place for scratch clusters and the initdb cache, and the servers seen there.
struct Machine {
    scratch: tempfile::TempDir,
    cache: tempfile::TempDir,
    postmasters: std::collections::BTreeSet<u32>,
}

impl Machine {
    fn new() -> Machine {
        Machine {
            scratch: reachable_tempdir(),
            cache: tempfile::tempdir().unwrap(),
            postmasters: Default::default(),
        }
    }

    fn xtask(&self) -> Command {
        let mut cmd = xtask();
        cmd.env("XTASK_SCRATCH_DIR", self.scratch.path())
            .env("XTASK_INITDB_CACHE_DIR", self.cache.path());
        cmd
    }

    fn verify(&self, pair: &Pair, extra: &[&str]) -> Command {
        let mut cmd = pair.verify(extra);
        cmd.env("XTASK_SCRATCH_DIR", self.scratch.path())
            .env("XTASK_INITDB_CACHE_DIR", self.cache.path());
        cmd
    }

    /// Notes the servers running in the scratch directory now, to look for their shared
    /// memory later.
    fn note_postmasters(&mut self) {
        for dir in names(self.scratch.path()) {
            let pid_file = self.scratch.path().join(dir).join("data/postmaster.pid");
            let pid = std::fs::read_to_string(pid_file)
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok());
            self.postmasters.extend(pid);
        }
    }

    fn leftovers(&self, host: Option<&Host>, run: u32) -> Leftovers {
        let servers = names(Path::new("/proc"))
            .iter()
            .filter_map(|pid| pid.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_link(format!("/proc/{pid}/cwd"))
                    .is_ok_and(|cwd| cwd.starts_with(self.scratch.path()))
            })
            .collect();
        // /proc/sysvipc/shm: key shmid perms size cpid lpid ...; the creator is the server.
        let shared_memory = std::fs::read_to_string("/proc/sysvipc/shm")
            .unwrap()
            .lines()
            .skip(1)
            .filter(|line| {
                let cpid = line.split_whitespace().nth(4).and_then(|p| p.parse().ok());
                cpid.is_some_and(|cpid: u32| self.postmasters.contains(&cpid))
            })
            .map(str::to_owned)
            .collect();
        let databases = host.map_or_else(Vec::new, |host| host.databases_of(run));
        let cache_leftovers = names(self.cache.path())
            .into_iter()
            .filter(|name| {
                let entry = self.cache.path().join(name);
                name.starts_with('.') || !entry.join("COMPLETE").is_file()
            })
            .collect();
        Leftovers {
            cluster_dirs: names(self.scratch.path()),
            servers,
            shared_memory,
            databases,
            cache_leftovers,
        }
    }
}

impl Machine {
    /// What is left once the dead run's watcher, which may still be stopping what the run
    /// had started, is done.
    fn settled(&self, host: &Host, run: u32) -> Leftovers {
        let started = Instant::now();
        loop {
            let left = self.leftovers(Some(host), run);
            if left == Leftovers::default() || started.elapsed() > Duration::from_secs(120) {
                return left;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

fn signal(ending: Ending, pid: u32) {
    let (signal, target) = match ending {
        Ending::Kill => ("-KILL", pid.to_string()),
        Ending::Terminate => ("-TERM", pid.to_string()),
        // The run leads its own process group (see `interrupted_runs_leave_nothing`).
        Ending::InterruptGroup => ("-INT", format!("-{pid}")),
    };
    let status = Command::new("kill")
        .args([signal, "--", &target])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {target}");
}

/// When a leak test ends a run.
#[derive(Debug, Clone, Copy)]
enum When {
    /// This long after it started: while it starts its clusters.
    After(Duration),
    /// Once one of its servers runs, or it has a database on the shared server.
    Working,
}

/// Runs a verify whose history sleeps, ends it as `ending` says at `when`, and
/// returns the run's pid once it has exited, with its exit code and error output.
fn end_a_run(
    machine: &mut Machine,
    pair: &Pair,
    shared: Option<&Host>,
    ending: Ending,
    when: When,
) -> (u32, Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let url = shared.map(Host::url);
    let prelude = pair.dir.path().join("prelude.sql");
    let mut extra = vec!["--prelude", prelude.to_str().unwrap()];
    if let Some(url) = &url {
        extra.extend(["--database-url", url]);
    }
    let mut verify = machine.verify(pair, &extra);
    verify
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let run = verify.spawn().unwrap();
    let started = Instant::now();
    let seen = machine.postmasters.len();
    match when {
        When::After(delay) => {
            while started.elapsed() < delay {
                machine.note_postmasters();
                std::thread::yield_now();
            }
        }
        When::Working => wait_for("the run's server or databases", || {
            machine.note_postmasters();
            let databases = shared.map_or(0, |host| host.databases_of(run.id()).len());
            (machine.postmasters.len() > seen || databases > 0).then_some(())
        }),
    }
    let pid = run.id();
    signal(ending, pid);
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (pid, output.status.code(), stderr)
}

/// Runs ended by `kill -9`, by SIGTERM to the process alone and by SIGINT to the group, at
/// instants from the cluster's start to the replay, on throwaway clusters and on a shared
/// server: once `clean` has run, no cluster directory, server, shared memory segment,
/// scratch database or unfinished cache entry is left. A run that handles the signal
/// exits 130, and leaves nothing even before `clean`.
#[test]
fn interrupted_runs_leave_nothing_once_clean_has_run() {
    let host = Host::start();
    let url = host.url();
    let pair = Pair::new("SELECT pg_sleep(60);", "SELECT 1;");
    // A prelude adds a template database, and a role, to what must go.
    let prelude = pair.dir.path().join("prelude.sql");
    // Roles a killed run created on a shared server stay (nothing tells them from anyone
    // else's), so the role is created only if missing.
    std::fs::write(
        &prelude,
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') \
         THEN CREATE ROLE authenticated NOLOGIN; END IF; END $$;",
    )
    .unwrap();
    let mut machine = Machine::new();
    // A first run fills the private initdb cache, so that later runs start in a moment.
    let filled = machine
        .verify(&Pair::new("SELECT 1;", "SELECT 1;"), &[])
        .output()
        .unwrap();
    assert!(filled.status.success(), "{filled:?}");
    let endings = [Ending::Kill, Ending::Terminate, Ending::InterruptGroup];
    let instants = [
        When::After(Duration::from_millis(50)),
        When::After(Duration::from_millis(400)),
        When::Working,
    ];
    for (i, (ending, when)) in endings
        .iter()
        .flat_map(|ending| instants.iter().map(move |when| (*ending, *when)))
        .enumerate()
    {
        let shared = i % 2 == 1;
        let on = shared.then_some(&host);
        let roles_before = host.globals().0;
        let (pid, code, stderr) = end_a_run(&mut machine, &pair, on, ending, when);
        let case = format!("{ending:?} at {when:?}, shared server {shared}: {stderr}");
        if !matches!(ending, Ending::Kill) {
            // Before the handler is installed, the default action ends the run.
            assert!(code == Some(130) || code.is_none(), "{case}");
            assert!(!stderr.contains("could not"), "{case}");
        }
        if code == Some(130) {
            let left = machine.leftovers(on, pid);
            let Leftovers {
                cluster_dirs,
                databases,
                ..
            } = &left;
            assert!(
                cluster_dirs.is_empty() && databases.is_empty(),
                "{case}\n{left:?}"
            );
        }
        let clean = machine
            .xtask()
            .args(["clean", "--database-url", &url])
            .output()
            .unwrap();
        assert!(clean.status.success(), "{case}\n{clean:?}");
        assert_eq!(machine.settled(&host, pid), Leftovers::default(), "{case}");
        if code == Some(130) {
            assert_eq!(host.globals().0, roles_before, "{case}");
        }
    }
}

/// `clean` lists what it removed: a dead run's cluster, and its database on a shared
/// server; a second `clean` finds nothing.
#[test]
fn clean_lists_what_it_removed() {
    let host = Host::start();
    let url = host.url();
    let pair = Pair::new("SELECT pg_sleep(60);", "SELECT 1;");
    let mut machine = Machine::new();
    // Killed once its replay runs on the shared server: only `clean` (or the next run)
    // can drop its databases.
    let mut run = machine.verify(&pair, &["--database-url", &url]);
    run.stdout(Stdio::null()).stderr(Stdio::null());
    let mut run = run.spawn().unwrap();
    let pid = run.id();
    wait_for("the run's databases", || {
        (host.databases_of(pid).len() == 2).then_some(())
    });
    machine.note_postmasters();
    signal(Ending::Kill, pid);
    run.wait().unwrap();

    let clean = machine
        .xtask()
        .args(["clean", "--database-url", &url])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&clean.stdout);
    assert!(clean.status.success(), "{clean:?}");
    let prefix = format!("xtask_{pid}_");
    assert_eq!(listed.matches(&prefix).count(), 2, "{listed}");
    assert!(listed.contains("removed database"), "{listed}");
    assert_eq!(machine.settled(&host, pid), Leftovers::default());

    let again = machine.xtask().arg("clean").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "nothing left behind\n"
    );
}
