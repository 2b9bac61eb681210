//! Unit tests for names and positions, and tests against real servers: a throwaway
//! cluster, and the same cluster reached through a URL.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::Instant;

use super::*;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn server_and_databases_can_be_shared_across_threads() {
    assert_send_sync::<ScratchServer>();
    assert_send_sync::<ScratchDatabase<'static>>();
}

#[test]
fn database_names_are_unique_valid_identifiers() {
    let names: Vec<String> = (0..100).map(|_| unique_database_name("old")).collect();
    assert_eq!(names.iter().collect::<HashSet<_>>().len(), names.len());
    for name in &names {
        assert_eq!(
            Owner::parse(name, DATABASE_PREFIX).as_ref(),
            Some(Owner::current()),
            "{name}"
        );
        assert!(name.contains("_old_"), "{name}");
    }
    let long = unique_database_name("Some Label-with spaces and much too long to fit in a name");
    assert!(long.len() <= MAX_IDENTIFIER_LEN, "{long}");
    assert!(long.contains("_some_label_with"), "{long}");
    assert!(long
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
}

fn postmaster_pid(server: &ScratchServer) -> u32 {
    server
        .cluster
        .as_ref()
        .unwrap()
        .postmaster_pid()
        .expect("postmaster.pid")
}

/// The session id, field 6 of `/proc/<pid>/stat` (after the parenthesised command name).
fn session_id(pid: &str) -> String {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(3).unwrap().to_owned()
}

/// pg_ctl's stop returns once the pid file is gone, a moment before the process is: waits
/// for the process to go, as long as a loaded machine may need.
fn exits_soon(pid: &str) -> bool {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let gone = match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'),
            Err(_) => true,
        };
        if gone || Instant::now() > deadline {
            return gone;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn scratch_database_names(client: &mut postgres::Client) -> HashSet<String> {
    client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'xtask\\_%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn write_prelude(dir: &Path, sql: &str) -> PathBuf {
    let path = dir.join("prelude.sql");
    fs::write(&path, sql).unwrap();
    path
}

const SUPABASE_LIKE_PRELUDE: &str = "\
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END $$;
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
GRANT USAGE ON SCHEMA auth TO authenticated;
";

fn sees_prelude(database: &ScratchDatabase<'_>) -> bool {
    let mut client = database.connect().unwrap();
    let row = client
        .query_one(
            "SELECT to_regclass('auth.users') IS NOT NULL, \
                    EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated')",
            &[],
        )
        .unwrap();
    row.get::<_, bool>(0) && row.get::<_, bool>(1)
}

#[test]
fn throwaway_cluster_serves_two_databases_at_once_and_leaves_nothing_behind() {
    let started = Instant::now();
    let server = ScratchServer::start(&ServerOptions::default()).unwrap();
    println!("throwaway cluster started in {:.2?}", started.elapsed());
    assert!(server.major_version() >= 10, "{}", server.version());
    assert!(server
        .version()
        .starts_with(&server.major_version().to_string()));

    let dir = server.cluster.as_ref().unwrap().dir().to_path_buf();
    let pid = postmaster_pid(&server).to_string();
    // pg_ctl puts the postmaster in its own session, out of reach of a terminal's Ctrl-C.
    assert_ne!(session_id(&pid), session_id("self"));

    let old = server.create_database("old").unwrap();
    let new = server.create_database("new").unwrap();
    assert_ne!(old.name(), new.name());
    std::thread::scope(|scope| {
        let sides = [&old, &new].map(|database| {
            scope.spawn(move || {
                let mut client = database.connect().unwrap();
                client
                    .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1);")
                    .unwrap();
                let row = client
                    .query_one(
                        "SELECT current_database(), count(*), current_setting('fsync'), \
                                current_setting('autovacuum') FROM t",
                        &[],
                    )
                    .unwrap();
                (
                    row.get::<_, String>(0),
                    row.get::<_, i64>(1),
                    row.get::<_, String>(2),
                    row.get::<_, String>(3),
                )
            })
        });
        let [old_side, new_side] = sides.map(|side| side.join().unwrap());
        // Durability and autovacuum off, as a cluster that lives for one run needs.
        let off = || "off".to_owned();
        assert_eq!(old_side, (old.name().to_owned(), 1, off(), off()));
        assert_eq!(new_side, (new.name().to_owned(), 1, off(), off()));
    });

    drop((old, new));
    drop(server);
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert!(exits_soon(&pid), "postmaster {pid} still runs");
}

#[test]
fn prelude_runs_once_and_every_database_sees_it() {
    let files = tempfile::tempdir().unwrap();
    let prelude = write_prelude(files.path(), SUPABASE_LIKE_PRELUDE);
    let server = ScratchServer::start(&ServerOptions {
        prelude: Some(prelude),
        ..Default::default()
    })
    .unwrap();
    let old = server.create_database("old").unwrap();
    let new = server.create_database("new").unwrap();
    assert!(sees_prelude(&old));
    assert!(sees_prelude(&new));
}

#[test]
fn prelude_failure_names_the_file_and_line() {
    let files = tempfile::tempdir().unwrap();
    let prelude = write_prelude(
        files.path(),
        "CREATE SCHEMA auth;\n\nCREATE TABLE auth.users (id uuidd);\n",
    );
    let err = ScratchServer::start(&ServerOptions {
        prelude: Some(prelude.clone()),
        ..Default::default()
    })
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!("{}:3:29", prelude.display())),
        "{message}"
    );
    assert!(
        message.contains("type \"uuidd\" does not exist"),
        "{message}"
    );
    assert!(
        message.contains("CREATE TABLE auth.users (id uuidd);"),
        "{message}"
    );
}

#[test]
fn url_server_gets_scratch_databases_that_are_dropped_and_never_shows_the_password() {
    let host = ScratchServer::start(&ServerOptions::default()).unwrap();
    let socket_dir = host.cluster.as_ref().unwrap().dir().display().to_string();
    // Trust authentication ignores the password, which lets us check it is never shown.
    let url = format!("postgresql:///postgres?host={socket_dir}&user=postgres&password=hunter2");
    let files = tempfile::tempdir().unwrap();
    let prelude = write_prelude(files.path(), SUPABASE_LIKE_PRELUDE);
    let mut observer = host.connect_to("postgres").unwrap();
    let tables_in_url_database =
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace";
    let tables_before: i64 = observer
        .query_one(tables_in_url_database, &[])
        .unwrap()
        .get(0);

    let options = ServerOptions {
        database_url: Some(url),
        prelude: Some(prelude),
        ..Default::default()
    };
    assert!(!format!("{options:?}").contains("hunter2"), "{options:?}");
    let server = ScratchServer::start(&options).unwrap();
    assert!(server.cluster.is_none());
    assert_eq!(server.version(), host.version());
    for shown in [server.description().to_owned(), format!("{server:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    let old = server.create_database("old").unwrap();
    let new = server.create_database("new").unwrap();
    std::thread::scope(|scope| {
        let old = scope.spawn(|| sees_prelude(&old));
        let new = scope.spawn(|| sees_prelude(&new));
        assert!(old.join().unwrap() && new.join().unwrap());
    });
    let template = server.template.as_ref().unwrap().name.clone();
    let expected: HashSet<String> = [old.name(), new.name(), &template]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(scratch_database_names(&mut observer), expected);

    // Dropped even while someone is still connected.
    let old_name = old.name().to_owned();
    let _lingering = old.connect().unwrap();
    drop(old);
    assert!(!scratch_database_names(&mut observer).contains(&old_name));
    drop(new);
    drop(server);
    assert_eq!(scratch_database_names(&mut observer), HashSet::new());
    let tables_after: i64 = observer
        .query_one(tables_in_url_database, &[])
        .unwrap()
        .get(0);
    assert_eq!(
        tables_after, tables_before,
        "the URL's own database was written to"
    );
}

/// A migration's `COPY … PROGRAM` runs as the server's account: as root, a system account
/// of its own, in no other group, rather than `postgres`, which owns the system's cluster.
#[test]
fn as_root_the_server_runs_as_an_account_that_owns_nothing_else() {
    use std::os::unix::fs::MetadataExt;
    let server = ScratchServer::start(&ServerOptions::default()).unwrap();
    let database = server.create_database("account").unwrap();
    let mut client = database.connect().unwrap();
    client
        .batch_execute(
            "CREATE TABLE whoami (n serial, line text);
             COPY whoami (line) FROM PROGRAM 'id -un; id -Gn; getent passwd $(id -un)'",
        )
        .unwrap();
    let lines: Vec<String> = client
        .query("SELECT line FROM whoami ORDER BY n", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let we_are_root = fs::metadata("/proc/self").unwrap().uid() == 0;
    if we_are_root {
        assert_eq!(lines[..2], ["xtask-pg", "xtask-pg"], "{lines:?}");
        assert!(
            lines[2].ends_with(":/nonexistent:/usr/sbin/nologin"),
            "{lines:?}"
        );
    } else {
        let sh = xshell::Shell::new().unwrap();
        let me = xshell::cmd!(sh, "id -un").read().unwrap();
        assert_eq!(lines[0], me);
    }
}
