//! Hostile input, end to end: files that are not regular files are refused by name without
//! being read, before any server starts, and nothing of what they point to is printed.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// A repository whose history and consolidated set are one harmless migration each.
fn repository() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for side in ["old", "new"] {
        std::fs::create_dir(root.path().join(side)).unwrap();
        std::fs::write(root.path().join(side).join("0001_init.sql"), "SELECT 1;\n").unwrap();
    }
    root
}

/// Runs verify on `old/` and `new/` with an empty scratch directory, which must stay
/// empty: the refusal comes before any server starts. Returns stdout and stderr.
fn refused(root: &Path, extra: &[&str]) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("xtask")
        .unwrap()
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("XTASK_SCRATCH_DIR", scratch.path())
        .timeout(Duration::from_secs(120))
        .arg("verify")
        .arg("--root")
        .arg(root)
        .arg("--old")
        .arg(root.join("old"))
        .arg("--new")
        .arg(root.join("new"))
        .args(["--quiet", "--no-pack"])
        .args(extra)
        .output()
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert_eq!(
        std::fs::read_dir(scratch.path()).unwrap().count(),
        0,
        "a server started: {shown}"
    );
    shown
}

/// Lines of /etc/shadow (or of a stand-in where it is missing) that must never be printed.
fn secret_lines() -> Vec<String> {
    let text = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    text.lines()
        .filter(|line| line.len() > 8)
        .map(str::to_owned)
        .collect()
}

#[track_caller]
fn assert_nothing_leaked(shown: &str) {
    for line in secret_lines() {
        assert!(
            !shown.contains(&line),
            "leaked a line of /etc/shadow:\n{shown}"
        );
    }
}

#[test]
fn a_migration_linked_to_a_secret_file_is_refused_by_name_in_both_formats() {
    let root = repository();
    let link = root.path().join("new/00010_x.sql");
    std::os::unix::fs::symlink("/etc/shadow", &link).unwrap();
    for format in ["human", "json"] {
        let shown = refused(root.path(), &["--format", format]);
        assert!(shown.contains("00010_x.sql"), "{shown}");
        assert!(shown.contains("a symbolic link"), "{shown}");
        assert_nothing_leaked(&shown);
    }
}

#[test]
fn a_device_a_link_to_dev_zero_and_a_fifo_are_refused_without_reading() {
    let root = repository();
    std::os::unix::fs::symlink("/dev/zero", root.path().join("new/00010_zero.sql")).unwrap();
    let fifo = root.path().join("new/00010_fifo.sql");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let shown = refused(root.path(), &[]);
    assert!(
        shown.contains("00010_zero.sql: not a regular file but a symbolic link"),
        "{shown}"
    );
    assert!(
        shown.contains("00010_fifo.sql: not a regular file but a FIFO"),
        "{shown}"
    );

    // A device node itself, as root can make one: the same as /dev/zero.
    std::fs::remove_file(root.path().join("new/00010_zero.sql")).unwrap();
    std::fs::remove_file(&fifo).unwrap();
    let device = root.path().join("new/00011_device.sql");
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "5"])
        .status()
        .unwrap();
    if made.success() {
        let shown = refused(root.path(), &[]);
        assert!(
            shown.contains("00011_device.sql: not a regular file but a device"),
            "{shown}"
        );
    }
}

#[test]
fn a_prelude_accepted_differences_or_pack_file_linked_elsewhere_is_refused() {
    let root = repository();
    std::os::unix::fs::symlink("/etc/shadow", root.path().join("prelude.sql")).unwrap();
    std::fs::write(
        root.path().join("xtask.toml"),
        "prelude = \"prelude.sql\"\n",
    )
    .unwrap();
    let shown = refused(root.path(), &[]);
    assert!(shown.contains("cannot read prelude"), "{shown}");
    assert!(shown.contains("prelude.sql"), "{shown}");
    assert!(shown.contains("a symbolic link"), "{shown}");
    assert_nothing_leaked(&shown);

    std::fs::write(
        root.path().join("xtask.toml"),
        "accepted-differences = \"accepted.toml\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", root.path().join("accepted.toml")).unwrap();
    let shown = refused(root.path(), &[]);
    assert!(
        shown.contains("cannot read accepted differences"),
        "{shown}"
    );
    assert!(shown.contains("a symbolic link"), "{shown}");
    assert_nothing_leaked(&shown);

    std::fs::remove_file(root.path().join("xtask.toml")).unwrap();
    let pack = root.path().join("pack");
    std::fs::create_dir_all(pack.join("actions")).unwrap();
    std::os::unix::fs::symlink("/etc/shadow", pack.join("pack.yaml")).unwrap();
    let fifo = pack.join("actions/echo.yaml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("xtask")
        .unwrap()
        .env_remove("DATABASE_URL")
        .env("XTASK_SCRATCH_DIR", scratch.path())
        .timeout(Duration::from_secs(120))
        .arg("verify")
        .arg("--root")
        .arg(root.path())
        .arg("--old")
        .arg(root.path().join("old"))
        .arg("--new")
        .arg(root.path().join("new"))
        .arg("--pack")
        .arg(&pack)
        .output()
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(2), "{shown}");
    assert!(shown.contains("pack.yaml"), "{shown}");
    assert!(shown.contains("a symbolic link"), "{shown}");
    assert!(shown.contains("echo.yaml"), "{shown}");
    assert!(shown.contains("a FIFO"), "{shown}");
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    assert_nothing_leaked(&shown);
}

/// Every spelling a password was seen to leak through, plus a good URL to a closed port.
const PASSWORD_URLS: &[&str] = &[
    "postgresql+psycopg2://attune:s3cretPW@127.0.0.1:1/attune",
    "postgress://attune:s3cretPW@127.0.0.1:1/attune",
    " postgresql://attune:s3cretPW@127.0.0.1:1/attune",
    "\"postgresql://attune:s3cretPW@127.0.0.1:1/attune\"",
    "jdbc:postgresql://127.0.0.1:1/attune?user=attune&password=s3cretPW",
    "host=127.0.0.1 port=1 user=attune password=s3cretPW dbname=attune sslmode=bogus",
    "postgresql://127.0.0.1:1/attune?pass%77ord=s3cretPW&sslmode=bogus",
    "postgresql://attune:s3cretPW@127.0.0.1:1/attune",
];

#[test]
fn no_spelling_of_a_database_url_prints_its_password() {
    let root = repository();
    for url in PASSWORD_URLS {
        for (args, through_env) in [
            (&["verify", "--quiet", "--no-pack"][..], false),
            (
                &["verify", "--quiet", "--no-pack", "--format", "json"],
                true,
            ),
            (&["load-pack"], false),
        ] {
            let mut command = Command::cargo_bin("xtask").unwrap();
            command
                .env_remove("DATABASE_URL")
                .env_remove("XTASK_DATABASE_URL")
                .timeout(Duration::from_secs(120))
                .arg("--root")
                .arg(root.path())
                .args(args);
            if args[0] == "load-pack" {
                let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packs/core");
                command.arg("--pack").arg(core);
            }
            if args[0] == "verify" {
                command
                    .arg("--old")
                    .arg(root.path().join("old"))
                    .arg("--new")
                    .arg(root.path().join("new"));
            }
            match through_env {
                true => command.env("XTASK_DATABASE_URL", url),
                false => command.arg("--database-url").arg(url),
            };
            let output = command.output().unwrap();
            let shown = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(output.status.code(), Some(2), "{url} {args:?}: {shown}");
            assert!(!shown.contains("s3cret"), "{url} {args:?}: {shown}");
            assert!(shown.contains("127.0.0.1"), "{url} {args:?}: {shown}");
        }
    }
}
