//! How the binary ends: exit codes, errors printed once in the output's own format, and
//! quiet when its reader goes away.

use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;

fn xtask() -> Command {
    let mut cmd = Command::cargo_bin("xtask").unwrap();
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("migrations")).unwrap();
    // The reading end is closed before the run starts: its first write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("xtask"))
        .arg("--root")
        .arg(root.path())
        .arg("status")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_failure_under_json_is_one_json_error_on_stdout_and_nothing_on_stderr() {
    let root = tempfile::tempdir().unwrap();
    for side in ["old", "new"] {
        std::fs::create_dir(root.path().join(side)).unwrap();
    }
    std::fs::write(root.path().join("old/0001_a.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(
        root.path().join("new/0001_a.sql"),
        "SELECT 1;\nSELECT nope FROM nowhere;\n",
    )
    .unwrap();
    let output = xtask()
        .arg("--root")
        .arg(root.path())
        .arg("verify")
        .arg("--old")
        .arg(root.path().join("old"))
        .arg("--new")
        .arg(root.path().join("new"))
        .args(["--no-pack", "--quiet", "--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("error"), "printed twice: {stderr}");
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    let object = error.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["causes", "error", "format_version", "migration"]
    );
    assert_eq!(error["format_version"], 1);
    assert!(
        error["error"].as_str().unwrap().contains("replay"),
        "{error:#}"
    );
    assert!(error["causes"].is_array(), "{error:#}");
    let migration = &error["migration"];
    assert!(migration["file"]
        .as_str()
        .unwrap()
        .ends_with("new/0001_a.sql"));
    assert_eq!(migration["line"], 2);
    assert_eq!(migration["column"], 18);
    assert_eq!(migration["code"], "42P01");
    assert_eq!(migration["message"], "relation \"nowhere\" does not exist");
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _cargo__xtask"),
        ("zsh", "#compdef cargo-xtask"),
        ("fish", "complete -c cargo-xtask"),
    ] {
        let output = xtask().args(["completions", shell]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("consolidate"), "{shell}: {script}");
    }
}

#[test]
fn a_typo_is_pointed_at_the_documented_flag_not_a_hidden_alias() {
    let output = xtask()
        .args(["consolidate", "--fro", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'--staging'"), "{stderr}");
    assert!(!stderr.contains("--from"), "{stderr}");
    // Where --from is the documented name, it stays the suggestion.
    let output = xtask().args(["generate", "--fro", "x"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'--from'"), "{stderr}");
}

#[test]
fn help_documents_every_exit_status() {
    let output = xtask().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for status in [
        "0 equal or done",
        "1 differences found",
        "2 could not run",
        "130",
    ] {
        assert!(help.contains(status), "{status}: {help}");
    }
}

#[test]
fn a_statement_that_never_ends_is_cancelled_and_named() {
    let root = tempfile::tempdir().unwrap();
    for side in ["old", "new"] {
        std::fs::create_dir(root.path().join(side)).unwrap();
        std::fs::write(root.path().join(side).join("0001_a.sql"), "SELECT 1;\n").unwrap();
    }
    std::fs::write(
        root.path().join("old/0002_hang.sql"),
        "SELECT 1;\n\nSELECT pg_sleep(600);\n",
    )
    .unwrap();
    std::fs::write(root.path().join("new/0002_hang.sql"), "SELECT 1;\n").unwrap();
    // Once by flag, once by xtask.toml.
    for (flag, settings) in [
        (&["--statement-timeout", "1"][..], ""),
        (&[], "statement-timeout = 1\n"),
    ] {
        std::fs::write(root.path().join("xtask.toml"), settings).unwrap();
        let started = std::time::Instant::now();
        let output = xtask()
            .arg("--root")
            .arg(root.path())
            .arg("verify")
            .arg("--old")
            .arg(root.path().join("old"))
            .arg("--new")
            .arg(root.path().join("new"))
            .args(["--no-pack", "--quiet"])
            .args(flag)
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("0002_hang.sql:3:1"), "{stderr}");
        assert!(stderr.contains("statement timeout"), "{stderr}");
        assert!(stderr.contains("--statement-timeout"), "{stderr}");
        assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
    }
}
