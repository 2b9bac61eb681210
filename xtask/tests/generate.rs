//! End-to-end tests of `cargo xtask generate`: the real binary on histories written for each
//! case, against real PostgreSQL (throwaway clusters). Every generated set is proven by
//! `generate` itself; the tests also replay it again through `verify --strict-column-order`
//! and read the SQL it wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn xtask() -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("XTASK_INITDB_CACHE_DIR", test_initdb_cache());
    cmd
}

/// The tests' own initdb cache, so that they leave the user's alone.
fn test_initdb_cache() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("initdb-cache")
}

/// A repository root in a temporary directory with a history in `history/`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(history: &[(&str, &str)]) -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, sql) in history {
            repo.write(&format!("history/{name}"), sql);
        }
        repo
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn generate(&self, into: &str, extra: &[&str]) -> Output {
        xtask()
            .arg("generate")
            .arg("--root")
            .arg(self.dir.path())
            .arg("--from")
            .arg(self.path("history"))
            .arg("--into")
            .arg(into)
            .arg("--quiet")
            .args(extra)
            .output()
            .unwrap()
    }

    /// Generates into `into`, expecting success, and returns the files written.
    fn generated(&self, into: &str, extra: &[&str]) -> BTreeMap<String, String> {
        let output = self.generate(into, extra);
        assert_eq!(
            output.status.code(),
            Some(0),
            "generate failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let files = read_dir(&self.path(into));
        self.assert_verified(into);
        files
    }

    /// `verify --strict-column-order` of the history against the set: equal.
    fn assert_verified(&self, into: &str) {
        let output = xtask()
            .arg("verify")
            .arg("--root")
            .arg(self.dir.path())
            .arg("--old")
            .arg(self.path("history"))
            .arg("--new")
            .arg(self.path(into))
            .args(["--strict-column-order", "--quiet", "--no-pack"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "verify of the generated set failed:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

fn all_sql(files: &BTreeMap<String, String>) -> String {
    files.values().cloned().collect::<Vec<_>>().join("\n")
}

#[test]
fn every_kind_of_object_round_trips_in_strict_column_order() {
    let repo = Repo::new(&[
        (
            "20240101000001_types.sql",
            "CREATE EXTENSION IF NOT EXISTS pgcrypto;
             CREATE SCHEMA auth;
             COMMENT ON SCHEMA auth IS 'identities';
             CREATE TYPE mood AS ENUM ('sad', 'ok');
             ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok';
             CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL
                 CONSTRAINT positive_check CHECK (VALUE > 0);
             CREATE TYPE pair AS (left_side text COLLATE \"C\", right_side positive);
             CREATE SEQUENCE ticket START 100 INCREMENT 5 CACHE 10;
             COMMENT ON TYPE mood IS 'how it went';",
        ),
        (
            "20240101000002_tables.sql",
            "CREATE TABLE auth.account (
                 id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
                 email text NOT NULL,
                 \"Display Name\" text COLLATE \"C\",
                 score positive,
                 shout text GENERATED ALWAYS AS (upper(email)) STORED,
                 CONSTRAINT account_email_key UNIQUE (email) DEFERRABLE INITIALLY DEFERRED
             ) WITH (fillfactor = 80);
             CREATE UNLOGGED TABLE scratch (n serial, note varchar(20));
             ALTER TABLE scratch ALTER COLUMN note SET STORAGE EXTERNAL;
             ALTER TABLE scratch ALTER COLUMN note SET STATISTICS 500;
             CREATE TABLE booking (
                 id BIGSERIAL PRIMARY KEY,
                 account bigint NOT NULL REFERENCES auth.account(id) ON DELETE CASCADE,
                 during tstzrange NOT NULL,
                 feeling mood DEFAULT 'ok',
                 EXCLUDE USING gist (during WITH &&)
             );
             CREATE INDEX booking_feeling ON booking (feeling) WHERE feeling <> 'sad';
             CREATE INDEX booking_next ON booking USING hash ((account + 1));
             COMMENT ON INDEX booking_feeling IS 'not sad';
             COMMENT ON COLUMN booking.during IS 'when';
             COMMENT ON CONSTRAINT booking_account_fkey ON booking IS 'who';
             ALTER TABLE booking ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own ON booking FOR SELECT USING (account > 0);
             CREATE POLICY strict ON booking AS RESTRICTIVE FOR UPDATE
                 USING (true) WITH CHECK (feeling IS NOT NULL);",
        ),
        (
            "20240101000003_code.sql",
            "CREATE FUNCTION total(a integer, b integer) RETURNS integer
                 LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN NEW.feeling := 'ok'; RETURN NEW; END $$;
             CREATE PROCEDURE reset_scratch() LANGUAGE sql AS 'DELETE FROM scratch';
             CREATE TRIGGER booking_touch BEFORE INSERT ON booking
                 FOR EACH ROW WHEN (NEW.feeling IS NULL) EXECUTE FUNCTION touch();
             ALTER TABLE booking DISABLE TRIGGER booking_touch;
             CREATE VIEW happy AS SELECT id, account FROM booking WHERE feeling = 'happy';
             CREATE VIEW happy_accounts AS SELECT DISTINCT account FROM happy;
             COMMENT ON VIEW happy IS 'the good ones';
             CREATE MATERIALIZED VIEW counts AS
                 SELECT account, count(*) AS n FROM booking GROUP BY account WITH NO DATA;
             CREATE UNIQUE INDEX counts_account ON counts (account);
             COMMENT ON FUNCTION total(integer, integer) IS 'adds';
             CREATE RULE scratch_quiet AS ON DELETE TO scratch DO INSTEAD NOTHING;
             CREATE STATISTICS booking_stats (dependencies) ON account, feeling FROM booking;
             ALTER TABLE scratch OWNER TO reporting;
             ALTER VIEW happy OWNER TO reporting;",
        ),
    ]);
    // A role the migrations assume, as a prelude provides it.
    repo.write("prelude.sql", "CREATE ROLE reporting;");
    repo.write("xtask.toml", "prelude = \"prelude.sql\"\n");
    let files = repo.generated("out", &[]);
    let sql = all_sql(&files);
    for expected in [
        "CREATE TYPE mood AS ENUM (\n    'sad',\n    'happy',\n    'ok'\n);",
        "CREATE SCHEMA auth;",
        "\"Display Name\" text COLLATE \"C\"",
        "id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10)",
        "id BIGSERIAL PRIMARY KEY,",
        "account bigint NOT NULL REFERENCES auth.account(id) ON DELETE CASCADE",
        "CREATE UNLOGGED TABLE scratch (\n    n ",
        "CREATE INDEX booking_feeling ON booking (feeling) WHERE",
        "ALTER TABLE booking ENABLE ROW LEVEL SECURITY;",
        "ALTER TABLE booking DISABLE TRIGGER booking_touch;",
        "CREATE SEQUENCE ticket INCREMENT BY 5 START WITH 100 CACHE 10;",
        "WITH NO DATA;",
        "ALTER TABLE scratch OWNER TO reporting;",
        "ALTER VIEW happy OWNER TO reporting;",
        "CREATE RULE scratch_quiet AS\n    ON DELETE TO scratch DO INSTEAD NOTHING;",
        "CREATE STATISTICS booking_stats (dependencies) ON account, feeling FROM booking;",
    ] {
        assert!(sql.contains(expected), "missing {expected:?} in:\n{sql}");
    }
    // From PostgreSQL 15 a serial column of an unlogged table has an unlogged sequence,
    // which generate recognises as the column's own; before, the sequence is a logged one
    // like any other, and generate writes it out beside the table.
    assert!(
        sql.contains("CREATE UNLOGGED TABLE scratch (\n    n SERIAL,")
            || sql.contains("CREATE SEQUENCE scratch_n_seq AS integer;"),
        "scratch.n is neither a serial nor an explicit sequence in:\n{sql}"
    );
    for noise in ["\nSET ", "\n\\", "public.", "pg_catalog."] {
        assert!(!sql.contains(noise), "{noise:?} in:\n{sql}");
    }
    // Without a plan, the files are named after the migrations that created the objects.
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["00001_types.sql", "00002_tables.sql", "00003_code.sql"]
    );
    assert!(files["00002_tables.sql"].contains("-- From the history: 20240101000002_tables.sql"));
}

#[test]
fn privileges_are_granted_and_revoked_so_that_the_replay_has_the_same_acls() {
    let repo = Repo::new(&[
        (
            "20240101000001_objects.sql",
            "CREATE TABLE ledger (id bigint PRIMARY KEY, amount numeric);
             CREATE SEQUENCE receipt;
             CREATE FUNCTION balance() RETURNS numeric LANGUAGE sql
                 AS 'SELECT sum(amount) FROM ledger';
             CREATE FUNCTION secret() RETURNS int LANGUAGE sql AS 'SELECT 1';
             CREATE SCHEMA vault;
             CREATE TABLE handed_over (id int);
             ALTER TABLE handed_over OWNER TO auditor;",
        ),
        (
            "20240101000002_grants.sql",
            "GRANT SELECT, INSERT ON ledger TO reporting;
             GRANT UPDATE ON ledger TO reporting WITH GRANT OPTION;
             REVOKE ALL ON ledger FROM CURRENT_USER;
             GRANT USAGE ON SEQUENCE receipt TO reporting;
             REVOKE EXECUTE ON FUNCTION balance() FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION balance() TO reporting;
             REVOKE EXECUTE ON FUNCTION secret() FROM PUBLIC;
             GRANT USAGE ON SCHEMA vault TO PUBLIC;
             GRANT SELECT ON handed_over TO reporting;",
        ),
    ]);
    repo.write("prelude.sql", "CREATE ROLE reporting; CREATE ROLE auditor;");
    repo.write("xtask.toml", "prelude = \"prelude.sql\"\n");
    let sql = all_sql(&repo.generated("out", &[]));
    for expected in [
        "REVOKE ALL ON TABLE ledger FROM CURRENT_USER;",
        "GRANT INSERT, SELECT ON TABLE ledger TO reporting;",
        "GRANT UPDATE ON TABLE ledger TO reporting WITH GRANT OPTION;",
        "GRANT USAGE ON SEQUENCE receipt TO reporting;",
        "REVOKE ALL ON FUNCTION balance() FROM PUBLIC;",
        "GRANT EXECUTE ON FUNCTION balance() TO reporting;",
        "REVOKE ALL ON FUNCTION secret() FROM PUBLIC;",
        "GRANT USAGE ON SCHEMA vault TO PUBLIC;",
        "GRANT SELECT ON TABLE handed_over TO reporting;",
    ] {
        assert!(sql.contains(expected), "missing {expected:?} in:\n{sql}");
    }
    repo.assert_verified("out");
}

#[test]
fn seed_rows_with_foreign_keys_between_them_are_written_as_inserts_with_setval() {
    let repo = Repo::new(&[
        (
            "20240101000001_roles.sql",
            "CREATE TABLE role (id SERIAL PRIMARY KEY, name text NOT NULL UNIQUE);
             CREATE TABLE permission (
                 id BIGSERIAL PRIMARY KEY,
                 role integer NOT NULL REFERENCES role(id),
                 parent bigint REFERENCES permission(id),
                 action text NOT NULL,
                 UNIQUE (role, action)
             );
             INSERT INTO role (name) VALUES ('admin'), ('viewer'), ('temp');
             DELETE FROM role WHERE name = 'temp';
             INSERT INTO permission (role, action) VALUES (1, 'write'), (2, 'read');
             INSERT INTO permission (role, parent, action) VALUES (1, 1, 'it''s \\ odd');",
        ),
        (
            "20240101000002_more.sql",
            "ALTER TABLE role ADD COLUMN note text;
             UPDATE role SET note = NULL WHERE name = 'admin';
             INSERT INTO role (name, note) VALUES ('auditor', 'added later');",
        ),
    ]);
    let files = repo.generated("out", &[]);
    let sql = all_sql(&files);
    assert!(
        sql.contains("INSERT INTO role (id, name, note) VALUES"),
        "{sql}"
    );
    assert!(sql.contains("SELECT setval('role_id_seq', 4);"), "{sql}");
    assert!(
        sql.contains("SELECT setval('permission_id_seq', 3);"),
        "{sql}"
    );
    let role_rows = sql.find("INSERT INTO role").unwrap();
    let permission_rows = sql.find("INSERT INTO permission").unwrap();
    assert!(
        role_rows < permission_rows,
        "rows before the rows they reference:\n{sql}"
    );
}

#[test]
fn a_foreign_key_cycle_across_files_is_closed_by_a_later_alter() {
    let repo = Repo::new(&[
        (
            "20240101000001_team.sql",
            "CREATE TABLE team (id BIGSERIAL PRIMARY KEY, name text);",
        ),
        (
            "20240101000002_person.sql",
            "CREATE TABLE person (id BIGSERIAL PRIMARY KEY, team bigint REFERENCES team(id));
             ALTER TABLE team ADD COLUMN lead bigint REFERENCES person(id);",
        ),
    ]);
    let files = repo.generated("out", &[]);
    let team = &files["00001_team.sql"];
    let person = &files["00002_person.sql"];
    assert!(team.contains("    lead bigint\n);"), "{team}");
    assert!(
        person.contains("team bigint REFERENCES team(id)"),
        "{person}"
    );
    assert!(
        person.contains(
            "ALTER TABLE team ADD CONSTRAINT team_lead_fkey FOREIGN KEY (lead) REFERENCES person(id);"
        ),
        "{person}"
    );
}

#[test]
fn renamed_tables_re_added_columns_and_rewritten_functions_are_written_as_they_ended() {
    let repo = Repo::new(&[
        (
            "20240101000001_start.sql",
            "CREATE TABLE job (id BIGSERIAL PRIMARY KEY, state text, payload json);
             CREATE FUNCTION job_count() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint';",
        ),
        (
            "20240101000002_rename.sql",
            "ALTER TABLE job RENAME TO task;
             ALTER TABLE task DROP COLUMN state;
             CREATE OR REPLACE FUNCTION job_count() RETURNS bigint LANGUAGE sql
                 AS 'SELECT count(*) FROM task';",
        ),
        (
            "20240101000003_again.sql",
            "ALTER TABLE task ADD COLUMN state text NOT NULL DEFAULT 'new';
             CREATE OR REPLACE FUNCTION job_count() RETURNS bigint LANGUAGE sql
                 AS 'SELECT count(*) FROM task WHERE state = ''new''';",
        ),
    ]);
    let files = repo.generated("out", &[]);
    let sql = all_sql(&files);
    // The serial's sequence kept its old name: written out, not as BIGSERIAL.
    assert!(sql.contains("CREATE SEQUENCE job_id_seq;"), "{sql}");
    assert!(
        sql.contains("    payload json,\n    state text DEFAULT 'new'::text NOT NULL,\n"),
        "{sql}"
    );
    assert_eq!(sql.matches("FUNCTION job_count()").count(), 1, "{sql}");
    assert!(sql.contains("WHERE state = 'new'"), "{sql}");
    // The function reads the table, so it comes after it.
    assert!(sql.find("CREATE TABLE task") < sql.find("FUNCTION job_count"));
}

#[test]
fn the_plan_groups_by_tables_kinds_and_calls_and_names_what_did_not_match() {
    let history = [(
        "20240101000001_all.sql",
        "CREATE TYPE state AS ENUM ('new', 'done');
             CREATE TABLE pack (id BIGSERIAL PRIMARY KEY, ref text);
             CREATE TABLE pack_file (id BIGSERIAL PRIMARY KEY, pack bigint REFERENCES pack(id));
             CREATE TABLE event (id BIGSERIAL PRIMARY KEY, state state);
             CREATE FUNCTION notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_notify('event', NEW.id::text); RETURN NEW; END $$;
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RETURN NEW; END $$;
             CREATE TRIGGER event_notify AFTER INSERT ON event
                 FOR EACH ROW EXECUTE FUNCTION notify_event();
             CREATE TRIGGER event_touch BEFORE UPDATE ON event
                 FOR EACH ROW EXECUTE FUNCTION touch();",
    )];
    let repo = Repo::new(&history);
    repo.write(
        "plan.toml",
        "[[generate.file]]
         name = \"base\"
         kinds = [\"enum\", \"function\"]

         [[generate.file]]
         name = \"packs\"
         version = \"00020\"
         tables = [\"pack*\"]

         [[generate.file]]
         name = \"events\"
         rest = true

         [[generate.file]]
         name = \"notify\"
         calling = [\"pg_notify\"]
         ",
    );
    let plan = repo.path("plan.toml");
    let files = repo.generated("out", &["--plan", plan.to_str().unwrap()]);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [
            "00001_base.sql",
            "00003_events.sql",
            "00004_notify.sql",
            "00020_packs.sql"
        ]
    );
    assert!(files["00001_base.sql"].contains("FUNCTION touch()"));
    assert!(files["00020_packs.sql"].contains("CREATE TABLE pack_file"));
    assert!(files["00003_events.sql"].contains("CREATE TRIGGER event_touch"));
    assert!(files["00004_notify.sql"].contains("FUNCTION notify_event()"));
    assert!(files["00004_notify.sql"].contains("CREATE TRIGGER event_notify"));

    // The same plan from xtask.toml's [generate] section, and byte-identical output.
    let config = std::fs::read_to_string(&plan).unwrap();
    repo.write("xtask.toml", &config);
    let again = repo.generated("again", &[]);
    assert_eq!(files, again, "two runs must write the same bytes");

    repo.write(
        "bad.toml",
        "[[generate.file]]
         name = \"base\"
         tables = [\"pack\", \"nothing_*\"]
         objects = [\"view gone\"]",
    );
    let output = repo.generate("bad", &["--plan", repo.path("bad.toml").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "00001_base.sql tables: nothing_*",
        "00001_base.sql objects: view gone",
        "objects no rule places",
        "table event",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!repo.path("bad").exists());
}

#[test]
fn what_generate_cannot_write_is_refused_by_name_and_into_is_untouched() {
    let repo = Repo::new(&[(
        "20240101000001_all.sql",
        "CREATE TABLE open_data (id int);
         GRANT SELECT (id) ON open_data TO PUBLIC;
         CREATE AGGREGATE concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
         CREATE TEXT SEARCH CONFIGURATION plain (COPY = simple);",
    )]);
    repo.write("out/keep.txt", "mine");
    let output = repo.generate("out", &["--force"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("column open_data.id: generate cannot write its privileges"),
        "{stderr}"
    );
    assert!(
        stderr.contains("function concat_all(text): generate cannot write an aggregate"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "text search configuration plain: generate cannot write a text search configuration"
        ),
        "{stderr}"
    );
    assert_eq!(read_dir(&repo.path("out")).len(), 1);

    // Without --force, a non-empty --into is refused before anything runs.
    let output = repo.generate("out", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("exists and is not empty"));
    assert_eq!(
        std::fs::read_to_string(repo.path("out/keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_published_history_it_was_not_written_against_is_consolidated() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/underway");
    let repo = Repo::new(&[]);
    for entry in std::fs::read_dir(fixture.join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        repo.write(
            &format!("history/{name}"),
            &std::fs::read_to_string(&path).unwrap(),
        );
    }
    // sqlx's migrator creates its table before the first migration, which copies it.
    repo.write(
        "prelude.sql",
        &std::fs::read_to_string(fixture.join("prelude.sql")).unwrap(),
    );
    repo.write("xtask.toml", "prelude = \"prelude.sql\"\n");
    let files = repo.generated("out", &["--no-pack"]);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["00001_0.sql", "00002_1.sql", "00003_2.sql"]
    );
    let sql = all_sql(&files);
    // Columns dropped in a later migration are gone; the composite type that replaced
    // them is created before the table that needs it.
    assert!(!sql.contains("retry_count"), "{sql}");
    assert!(
        sql.find("CREATE TYPE underway.task_retry_policy")
            < sql.find("CREATE TABLE underway.task ("),
        "{sql}"
    );
    assert!(
        sql.contains("EXECUTE FUNCTION underway.task_change_notify()"),
        "{sql}"
    );
}
