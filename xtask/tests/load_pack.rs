//! `cargo xtask load-pack` through the real binary, for what needs no database: the help,
//! and a broken pack reported (before any connection is made) with exit status 2.
//! Loading into a real database is tested in `cmd::load_pack`, which can reach the
//! scratch cluster of the unit tests.

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

#[test]
fn the_help_says_that_it_writes_to_the_database() {
    let output = xtask().args(["load-pack", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("writes into the database named by --database-url"),
        "{help}"
    );
    assert!(
        help.contains("cargo xtask load-pack --database-url"),
        "{help}"
    );
}

#[test]
fn a_broken_pack_is_reported_file_by_file_with_exit_status_2() {
    let pack = tempfile::tempdir().unwrap();
    std::fs::write(
        pack.path().join("pack.yaml"),
        "ref: demo\nlabel: Demo\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::create_dir(pack.path().join("actions")).unwrap();
    std::fs::write(
        pack.path().join("actions/run.yaml"),
        "ref: demo.run\nlabel: Run\nruntime: demo.shell\nentrypoint: run.sh\nlable: typo\n",
    )
    .unwrap();
    std::fs::write(
        pack.path().join("actions/stop.yaml"),
        "ref: demo.stop\nlabel: Stop\nruntime: demo.shell\nentrypoint: stop.sh\n",
    )
    .unwrap();

    let output = xtask()
        .args([
            "load-pack",
            "--database-url",
            "postgresql:///never_used?host=/nonexistent",
        ])
        .arg("--pack")
        .arg(pack.path())
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let run = pack.path().join("actions/run.yaml").display().to_string();
    let stop = pack.path().join("actions/stop.yaml").display().to_string();
    assert!(
        stderr.contains(&format!("{run}:5:1: unknown field `lable`")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{stop}:3:10: action demo.stop names runtime demo.shell"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{stop}:4:13: entrypoint stop.sh of action demo.stop is not a file in the pack"
        )),
        "{stderr}"
    );
}

#[test]
fn the_database_url_is_required() {
    let output = xtask().arg("load-pack").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--database-url"), "{stderr}");
}
