//! Reading packs (the core pack, and small broken ones written for each case) and loading
//! them into fresh databases that have the consolidated schema.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Pack, PackProblems};
use crate::migrations::{ChainRole, MigrationChain};
use crate::pg::testing::scratch_client;
use crate::pg::ScratchServer;

const TABLES: [&str; 5] = ["pack", "runtime", "trigger", "action", "sensor"];

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn core_pack_dir() -> PathBuf {
    repository_root().join("packs").join("core")
}

/// A fresh database with the repository's consolidated schema.
fn database_with_schema() -> (postgres::Client, Arc<ScratchServer>) {
    let (mut client, server) = scratch_client("pack");
    MigrationChain::resolve(
        &repository_root().join("migrations"),
        ChainRole::Consolidated,
    )
    .unwrap()
    .apply(&mut client)
    .unwrap();
    (client, server)
}

/// Every row of the pack tables, every column included (`id`, `created`, `updated`).
fn table_contents(client: &mut postgres::Client) -> Vec<String> {
    let mut contents = Vec::new();
    for table in TABLES {
        let rows = client
            .query(
                &format!("SELECT to_jsonb(t)::text FROM {table} t ORDER BY ref"),
                &[],
            )
            .unwrap();
        contents.extend(
            rows.iter()
                .map(|row| format!("{table} {}", row.get::<_, String>(0))),
        );
    }
    contents
}

fn row_count(client: &mut postgres::Client, table: &str) -> u64 {
    let count: i64 = client
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    count.try_into().unwrap()
}

fn yaml_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .count()
        .try_into()
        .unwrap()
}

#[test]
fn the_core_pack_reads_and_loads_once() {
    let dir = core_pack_dir();
    let pack = Pack::read(&dir).unwrap();
    let (mut client, _server) = database_with_schema();

    let summary = pack.load(&mut client).unwrap();

    let expected_rows = [
        ("pack", 1),
        ("runtime", yaml_files(&dir.join("runtimes"))),
        ("trigger", yaml_files(&dir.join("triggers"))),
        ("action", yaml_files(&dir.join("actions"))),
        ("sensor", yaml_files(&dir.join("sensors"))),
    ];
    for (table, files) in expected_rows {
        assert!(files > 0, "the core pack has {table} files");
        assert_eq!(row_count(&mut client, table), files, "{table} rows");
        let loaded = summary.table(table).unwrap();
        assert_eq!(
            (loaded.inserted, loaded.updated, loaded.unchanged),
            (files, 0, 0),
            "{table} in {summary}"
        );
    }

    let runtime_refs: Vec<String> = client
        .query("SELECT ref FROM runtime ORDER BY ref", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for reference in &runtime_refs {
        let (pack, name) = reference.split_once('.').unwrap();
        assert_eq!(pack, "core", "{reference}");
        assert!(!name.is_empty() && !name.contains('.'), "{reference}");
    }
    assert!(runtime_refs.contains(&"core.python".to_owned()));

    // Foreign keys point at the rows named by ref.
    let dangling: i64 = client
        .query_one(
            "SELECT count(*) FROM sensor s \
             LEFT JOIN runtime r ON r.id = s.runtime AND r.ref = s.runtime_ref \
             LEFT JOIN trigger t ON t.id = s.trigger AND t.ref = s.trigger_ref \
             WHERE r.id IS NULL OR t.id IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dangling, 0);
    let echo_runtime: String = client
        .query_one(
            "SELECT r.ref FROM action a JOIN runtime r ON r.id = a.runtime WHERE a.ref = 'core.echo'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(echo_runtime, "core.shell");
}

#[test]
fn loading_the_core_pack_twice_changes_nothing() {
    let pack = Pack::read(&core_pack_dir()).unwrap();
    let (mut client, _server) = database_with_schema();
    pack.load(&mut client).unwrap();
    let before = table_contents(&mut client);

    let summary = pack.load(&mut client).unwrap();

    assert!(!summary.changed(), "{summary}");
    for table in &summary.tables {
        assert_eq!(table.inserted + table.updated, 0, "{summary}");
        assert!(table.unchanged > 0, "{summary}");
    }
    assert_eq!(table_contents(&mut client), before);
}

#[test]
fn a_changed_file_updates_its_row_and_a_removed_field_goes_back_to_the_default() {
    let pack = TestPack::valid();
    let (mut client, _server) = database_with_schema();
    pack.read().load(&mut client).unwrap();
    let updated_before = |client: &mut postgres::Client, table: &str| -> String {
        client
            .query_one(&format!("SELECT updated::text FROM {table}"), &[])
            .unwrap()
            .get(0)
    };
    let runtime_updated = updated_before(&mut client, "runtime");

    // A transaction's now() is its start time: the update must come from a later one.
    let later = |client: &mut postgres::Client| -> bool {
        let row = client
            .query_one("SELECT now() > $1::text::timestamptz", &[&runtime_updated])
            .unwrap();
        row.get(0)
    };
    while !later(&mut client) {
        std::thread::yield_now();
    }
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run it again\nruntime: demo.shell\nentrypoint: actions/run.sh\n",
    );
    let action_updated = updated_before(&mut client, "action");
    let summary = pack.read().load(&mut client).unwrap();

    let action = summary.table("action").unwrap();
    assert_eq!((action.inserted, action.updated), (0, 1), "{summary}");
    assert_eq!(summary.table("runtime").unwrap().unchanged, 1);
    let row = client
        .query_one("SELECT label, timeout_seconds FROM action", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Run it again");
    assert_eq!(row.get::<_, i32>(1), 300, "the column default");
    assert_ne!(updated_before(&mut client, "action"), action_updated);
    assert_eq!(updated_before(&mut client, "runtime"), runtime_updated);
}

#[test]
fn json_and_text_array_fields_are_stored_as_given() {
    let pack = Pack::read(&core_pack_dir()).unwrap();
    let (mut client, _server) = database_with_schema();
    pack.load(&mut client).unwrap();

    let row = client
        .query_one(
            "SELECT tags, config->>'http_user_agent', installers::text, is_standard FROM pack",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, Vec<String>>(0), ["core", "builtin"]);
    assert_eq!(row.get::<_, String>(1), "attune-core/1.0");
    assert_eq!(
        row.get::<_, String>(2),
        "[]",
        "installers left to its default"
    );
    assert!(row.get::<_, bool>(3));
    let required: String = client
        .query_one(
            "SELECT param_schema->'required'->>0 FROM action WHERE ref = 'core.echo'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(required, "message");
}

/// A small valid pack in a temporary directory, which each case then breaks.
struct TestPack {
    dir: tempfile::TempDir,
}

impl TestPack {
    fn valid() -> TestPack {
        let pack = TestPack {
            dir: tempfile::tempdir().unwrap(),
        };
        pack.write("pack.yaml", "ref: demo\nlabel: Demo\nversion: 0.1.0\n");
        pack.write("runtimes/shell.yaml", "ref: demo.shell\nname: Shell\n");
        pack.write("triggers/tick.yaml", "ref: demo.tick\nlabel: Tick\n");
        pack.write(
            "actions/run.yaml",
            "ref: demo.run\nlabel: Run\nruntime: demo.shell\nentrypoint: actions/run.sh\ntimeout_seconds: 5\n",
        );
        pack.write("actions/run.sh", "#!/bin/sh\n");
        pack.write(
            "sensors/watch.yaml",
            "ref: demo.watch\nlabel: Watch\ndescription: Watches\nruntime: demo.shell\ntrigger: demo.tick\nentrypoint: actions/run.sh\n",
        );
        pack
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn path(&self, relative: &str) -> String {
        self.dir.path().join(relative).display().to_string()
    }

    fn read(&self) -> Pack {
        Pack::read(self.dir.path()).unwrap()
    }

    /// The problems `Pack::read` reports, one string each (`file:line:column: message`).
    fn problems(&self) -> Vec<String> {
        let err = Pack::read(self.dir.path()).unwrap_err();
        let problems = err
            .downcast_ref::<PackProblems>()
            .unwrap_or_else(|| panic!("not a PackProblems: {err:#}"));
        assert_eq!(
            err.to_string().lines().count(),
            problems.problems.len() + 1,
            "one line per problem:\n{err}"
        );
        problems.problems.iter().map(ToString::to_string).collect()
    }

    /// The one problem reported.
    fn problem(&self) -> String {
        let problems = self.problems();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        problems.into_iter().next().unwrap()
    }
}

#[test]
fn a_small_valid_pack_reads_and_loads() {
    let pack = TestPack::valid().read();
    assert_eq!(pack.actions[0].path, Path::new("actions/run.yaml"));
    let (mut client, _server) = database_with_schema();
    let summary = pack.load(&mut client).unwrap();
    for table in TABLES {
        assert_eq!(summary.table(table).unwrap().inserted, 1, "{summary}");
    }
}

#[test]
fn malformed_yaml_is_reported_at_its_line_and_column() {
    let pack = TestPack::valid();
    pack.write(
        "triggers/tick.yaml",
        "ref: demo.tick\nlabel: Tick\n  enabled: true\n",
    );
    let problem = pack.problem();
    assert!(
        problem.starts_with(&format!("{}:", pack.path("triggers/tick.yaml"))),
        "{problem}"
    );
    let position: Vec<&str> = problem.split(':').skip(1).take(2).collect();
    assert!(
        position.iter().all(|n| n.parse::<u32>().is_ok()),
        "{problem}"
    );
}

#[test]
fn yaml_errors_speak_of_the_file_not_the_parser() {
    let deep = format!(
        "ref: demo.tick\nlabel: {}1{}\n",
        "[".repeat(80),
        "]".repeat(80)
    );
    let cases = [
        (
            "ref: demo.tick\nlabel: Tick\n---\nref: demo.tock\nlabel: Tock\n",
            ":4:1: the file holds more than one YAML document",
        ),
        (
            "ref: demo.tick\nlabel: Tick\nlabel: Tock\n",
            ":3:1: `label` is given twice in the same mapping",
        ),
        (deep.as_str(), ":2:"),
    ];
    for (yaml, expected) in cases {
        let pack = TestPack::valid();
        pack.write("triggers/tick.yaml", yaml);
        let problem = pack.problem();
        let file = pack.path("triggers/tick.yaml");
        assert!(
            problem.starts_with(&format!("{file}{expected}")),
            "{problem}"
        );
        for internal in ["from_str", "Policy", "budget", "Depth {", "Options"] {
            assert!(!problem.contains(internal), "{internal}: {problem}");
        }
    }
}

#[test]
fn an_unknown_field_is_named_with_its_place() {
    let pack = TestPack::valid();
    pack.write(
        "runtimes/shell.yaml",
        "ref: demo.shell\nname: Shell\ndescripton: typo\n",
    );
    let problem = pack.problem();
    assert!(
        problem.starts_with(&format!(
            "{}:3:1: unknown field `descripton`",
            pack.path("runtimes/shell.yaml")
        )),
        "{problem}"
    );
    assert!(
        problem.contains("description"),
        "lists the known fields: {problem}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_reported_where_it_is() {
    let pack = TestPack::valid();
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run\nruntime: demo.shell\nentrypoint: actions/run.sh\ntimeout_seconds: soon\n",
    );
    let problem = pack.problem();
    assert!(
        problem.starts_with(&format!("{}:5:18: ", pack.path("actions/run.yaml"))),
        "{problem}"
    );

    pack.write(
        "pack.yaml",
        "ref: demo\nlabel: Demo\nversion: 0.1.0\ntags: {a: b}\n",
    );
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run\nentrypoint: actions/run.sh\nenabled: yes\n",
    );
    let problems = pack.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[1].starts_with(&format!("{}:4:", pack.path("pack.yaml"))),
        "{problems:#?}"
    );
    assert!(
        problems[0].starts_with(&format!("{}:4:10: ", pack.path("actions/run.yaml"))),
        "only true and false are booleans: {problems:#?}"
    );
}

#[test]
fn a_missing_required_field_is_named() {
    let pack = TestPack::valid();
    pack.write("sensors/watch.yaml", "ref: demo.watch\nlabel: Watch\ndescription: Watches\nruntime: demo.shell\nentrypoint: actions/run.sh\n");
    let problem = pack.problem();
    assert!(
        problem.starts_with(&pack.path("sensors/watch.yaml")),
        "{problem}"
    );
    assert!(problem.contains("missing field `trigger`"), "{problem}");
}

#[test]
fn an_action_whose_runtime_no_file_defines_names_both() {
    let pack = TestPack::valid();
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run\nruntime: demo.python\nentrypoint: actions/run.sh\n",
    );
    assert_eq!(
        pack.problem(),
        format!(
            "{}:3:10: action demo.run names runtime demo.python, which no file in runtimes/ defines; add it or fix the ref",
            pack.path("actions/run.yaml")
        )
    );
}

#[test]
fn a_sensor_with_an_unknown_trigger_or_runtime_names_them() {
    let pack = TestPack::valid();
    pack.write(
        "sensors/watch.yaml",
        "ref: demo.watch\nlabel: Watch\ndescription: Watches\nruntime: demo.perl\ntrigger: demo.tock\nentrypoint: actions/run.sh\n",
    );
    let problems = pack.problems();
    let file = pack.path("sensors/watch.yaml");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!(
            "{file}:4:10: sensor demo.watch names runtime demo.perl"
        )),
        "{problems:#?}"
    );
    assert!(problems[1].starts_with(&format!("{file}:5:10: sensor demo.watch names trigger demo.tock, which no file in triggers/ defines")), "{problems:#?}");
}

#[test]
fn a_duplicate_ref_names_both_files() {
    let pack = TestPack::valid();
    pack.write(
        "triggers/tick_again.yaml",
        "label: Tick again\nref: demo.tick\n",
    );
    assert_eq!(
        pack.problem(),
        format!(
            "{}:2:6: duplicate trigger ref demo.tick, already defined at {}:1:6; give one of them another ref",
            pack.path("triggers/tick_again.yaml"),
            pack.path("triggers/tick.yaml")
        )
    );
}

#[test]
fn a_ref_must_be_lowercase_and_of_this_pack() {
    let pack = TestPack::valid();
    pack.write("triggers/tick.yaml", "ref: other.tick\nlabel: Tick\n");
    pack.write("runtimes/shell.yaml", "ref: demo.Shell\nname: Shell\n");
    pack.write("runtimes/bash.yaml", "ref: bash\nname: Bash\n");
    let problems = pack.problems();
    assert_eq!(
        problems,
        [
            format!("{}:3:10: action demo.run names runtime demo.shell, which no file in runtimes/ defines; add it or fix the ref", pack.path("actions/run.yaml")),
            format!("{}:1:6: runtime ref \"bash\" must have the form <pack>.<name>, e.g. demo.bash", pack.path("runtimes/bash.yaml")),
            format!("{}:1:6: runtime ref \"demo.Shell\" must be lowercase: demo.shell", pack.path("runtimes/shell.yaml")),
            // The action and sensor name demo.shell, which is now spelt otherwise.
            format!("{}:4:10: sensor demo.watch names runtime demo.shell, which no file in runtimes/ defines; add it or fix the ref", pack.path("sensors/watch.yaml")),
            format!("{}:5:10: sensor demo.watch names trigger demo.tick, which no file in triggers/ defines; add it or fix the ref", pack.path("sensors/watch.yaml")),
            format!("{}:1:6: trigger ref other.tick must start with this pack's ref: demo.tick", pack.path("triggers/tick.yaml")),
        ]
    );
}

#[test]
fn an_entrypoint_must_be_a_file_in_the_pack_unless_built_in() {
    let pack = TestPack::valid();
    std::fs::remove_file(pack.dir.path().join("actions/run.sh")).unwrap();
    pack.write("sensors/watch.yaml", "ref: demo.watch\nlabel: Watch\ndescription: Watches\nruntime: demo.shell\ntrigger: demo.tick\nentrypoint: ../outside.sh\n");
    let problems = pack.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with(&format!(
            "{}:4:13: entrypoint actions/run.sh of action demo.run is not a file in the pack",
            pack.path("actions/run.yaml")
        )),
        "{problems:#?}"
    );
    assert!(problems[1].contains("entrypoint \"../outside.sh\" of sensor demo.watch must be a path inside the pack directory"), "{problems:#?}");

    // Built-ins of the core runtimes name no file.
    let core = Pack::read(&core_pack_dir()).unwrap();
    let noop = core
        .actions
        .iter()
        .find(|action| action.definition.reference.value == "core.noop")
        .unwrap();
    assert!(!core.dir.join(&noop.definition.entrypoint.value).exists());
}

#[test]
fn a_yml_file_is_reported_not_skipped() {
    let pack = TestPack::valid();
    pack.write("actions/other.yml", "ref: demo.other\n");
    assert_eq!(
        pack.problem(),
        format!(
            "{}: not read: pack files end in .yaml; rename it to other.yaml",
            pack.path("actions/other.yml")
        )
    );
}

#[test]
fn anchors_tags_and_several_documents_are_refused() {
    let pack = TestPack::valid();
    pack.write(
        "triggers/tick.yaml",
        "ref: demo.tick\nlabel: &name Tick\ndescription: *name\n",
    );
    pack.write(
        "runtimes/shell.yaml",
        "ref: !custom demo.shell\nname: Shell\n",
    );
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run\nentrypoint: actions/run.sh\n---\nref: demo.again\n",
    );
    let problems = pack.problems();
    let files: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            pack.path("actions/run.yaml"),
            pack.path("runtimes/shell.yaml"),
            pack.path("triggers/tick.yaml"),
        ],
        "{problems:#?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let pack = TestPack::valid();
    pack.write("pack.yaml", "ref: Demo\nlabel: Demo\nversion: one\n");
    // The sensor names this runtime: not reported again as unknown.
    pack.write("runtimes/shell.yaml", "ref: demo.shell\n");
    pack.write(
        "actions/run.yaml",
        "ref: demo.run\nlabel: Run\nentrypoint: actions/run.sh\ntimeout_seconds: 0\n",
    );
    let problems = pack.problems();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    let text = problems.join("\n");
    for expected in [
        "pack ref \"Demo\" must be lowercase letters",
        "version \"one\" is not a semantic version",
        "missing field `name`",
        "timeout_seconds of action demo.run must be positive",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
}

#[test]
fn a_missing_pack_directory_says_which() {
    let err = Pack::read(Path::new("/nonexistent/pack")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/pack does not exist"),
        "{err}"
    );
}
