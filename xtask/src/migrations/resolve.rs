//! sqlx's rules for turning a directory into an ordered list of migrations.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use anyhow::{bail, Context};
use sha2::{Digest, Sha384};

use crate::tree;

use super::{ChainNote, ChainRole, Migration, MigrationChain};

const NO_TRANSACTION: &str = "-- no-transaction";
const NAMING_RULE: &str = "sqlx reads files named `<version>_<description>.sql`, \
                           the version being an integer";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Simple,
    Up,
    Down,
}

impl FileKind {
    fn of(file_name: &str) -> FileKind {
        if file_name.ends_with(".up.sql") {
            FileKind::Up
        } else if file_name.ends_with(".down.sql") {
            FileKind::Down
        } else {
            FileKind::Simple
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            FileKind::Simple => ".sql",
            FileKind::Up => ".up.sql",
            FileKind::Down => ".down.sql",
        }
    }
}

struct MigrationFile {
    kind: FileKind,
    file_name: String,
    migration: Migration,
}

/// Problems that stop the resolution, gathered so that one run reports all of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, path: &Path, message: impl std::fmt::Display) {
        self.0.push(format!("{}: {message}", path.display()));
    }
}

pub(super) fn resolve(dir: &Path, role: ChainRole) -> anyhow::Result<MigrationChain> {
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => bail!(
            "`{}` is not a directory; pass the directory that holds the migration files",
            dir.display()
        ),
        Err(err) if err.kind() == io::ErrorKind::NotFound => bail!(
            "migrations directory `{}` does not exist; check the path (relative paths start \
             at the current directory)",
            dir.display()
        ),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read `{}`", dir.display()));
        }
    }

    let mut names = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        names.push(entry.file_name());
    }
    names.sort();

    let mut notes = Vec::new();
    let mut problems = Problems::default();
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if path.is_dir() {
            notes.push(ignored(
                &path,
                "ignored: a directory (sqlx reads only the files directly in the migrations \
                 directory)",
            ));
            continue;
        }
        let Some(file_name) = name.to_str() else {
            if name.to_string_lossy().ends_with(".sql") {
                problems.add(&path, "the file name is not valid UTF-8; rename it");
            } else {
                notes.push(ignored(&path, "ignored: not a `.sql` file"));
            }
            continue;
        };
        // The consolidation's own records belong beside the migrations; they are no news.
        if [tree::MANIFEST_FILE, tree::LOCK_FILE, tree::BASELINE_FILE].contains(&file_name) {
            continue;
        }
        if !file_name.ends_with(".sql") {
            notes.push(ignored(&path, "ignored: not a `.sql` file"));
            continue;
        }
        if let Some(file) = read_migration_file(&path, file_name, &mut problems)? {
            files.push(file);
        }
    }

    check_kinds(&files, &mut problems);
    let mut migrations: Vec<MigrationFile> = files
        .into_iter()
        .filter(|file| file.kind != FileKind::Down)
        .collect();
    // File name breaks ties between equal versions, so the order never depends on the
    // directory listing.
    migrations.sort_by(|a, b| {
        (a.migration.version, &a.file_name).cmp(&(b.migration.version, &b.file_name))
    });
    check_duplicate_versions(&migrations, role, &mut notes, &mut problems);

    if !problems.0.is_empty() {
        bail!(
            "cannot read the migrations in `{}`:\n  {}",
            dir.display(),
            problems.0.join("\n  ")
        );
    }
    if migrations.is_empty() {
        let ignored = if notes.is_empty() {
            String::new()
        } else {
            format!(
                " (it holds only ignored entries: {})",
                ignored_names(&notes)
            )
        };
        bail!(
            "no migrations in `{}`{ignored}; {NAMING_RULE}: check the path",
            dir.display()
        );
    }

    for file in &migrations {
        notes.extend(content_notes(&file.migration));
    }
    Ok(MigrationChain {
        dir: dir.to_path_buf(),
        migrations: migrations.into_iter().map(|file| file.migration).collect(),
        notes,
    })
}

fn note(path: &Path, message: impl Into<String>) -> ChainNote {
    ChainNote {
        path: path.to_path_buf(),
        line: None,
        message: message.into(),
        is_hazard: true,
    }
}

/// A file sqlx does not read; worth listing, not worth a warning.
fn ignored(path: &Path, message: &str) -> ChainNote {
    ChainNote {
        is_hazard: false,
        ..note(path, message)
    }
}

fn ignored_names(notes: &[ChainNote]) -> String {
    let names: Vec<String> = notes
        .iter()
        .filter_map(|note| note.path.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    names.join(", ")
}

/// Parses the name and reads the content of one `.sql` file. Problems with the file are
/// recorded and yield `None`; only an I/O failure is returned as an error.
fn read_migration_file(
    path: &Path,
    file_name: &str,
    problems: &mut Problems,
) -> anyhow::Result<Option<MigrationFile>> {
    let kind = FileKind::of(file_name);
    let Some((version, rest)) = file_name.split_once('_') else {
        problems.add(
            path,
            format!(
                "the file name has no `_`; {NAMING_RULE}: rename it (e.g. \
                 `20260101000000_{file_name}`)"
            ),
        );
        return Ok(None);
    };
    let Ok(version) = version.parse::<i64>() else {
        problems.add(
            path,
            format!(
                "version `{version}` is not an integer; {NAMING_RULE} (e.g. \
                 `20260101000000_create_packs.sql`): rename the file"
            ),
        );
        return Ok(None);
    };
    let description = rest
        .strip_suffix(kind.suffix())
        .unwrap_or(rest)
        .replace('_', " ");

    let bytes = match crate::input::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::InvalidInput => {
            problems.add(path, err);
            return Ok(None);
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let checksum = Sha384::digest(&bytes).to_vec();
    let sql = match String::from_utf8(bytes) {
        Ok(sql) => sql,
        Err(err) => {
            let bytes = err.as_bytes();
            let offset = err.utf8_error().valid_up_to();
            let valid = String::from_utf8_lossy(&bytes[..offset]);
            let line = 1 + valid.matches('\n').count();
            let column = 1 + valid
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count();
            problems.add(
                path,
                format!(
                    "not valid UTF-8 at byte offset {offset} (line {line}, column {column}); \
                     PostgreSQL reads the migration as UTF-8: re-save the file as UTF-8"
                ),
            );
            return Ok(None);
        }
    };
    Ok(Some(MigrationFile {
        kind,
        file_name: file_name.to_owned(),
        migration: Migration {
            version,
            description,
            path: path.to_path_buf(),
            no_transaction: sql.starts_with(NO_TRANSACTION),
            sql,
            checksum,
        },
    }))
}

/// sqlx refuses a directory mixing simple and reversible migrations, and a reversible
/// migration needs both halves.
fn check_kinds(files: &[MigrationFile], problems: &mut Problems) {
    let simple = files.iter().find(|file| file.kind == FileKind::Simple);
    let reversible = files.iter().find(|file| file.kind != FileKind::Simple);
    if let (Some(simple), Some(reversible)) = (simple, reversible) {
        problems.add(
            &reversible.migration.path,
            format!(
                "reversible migrations (`.up.sql`/`.down.sql`) are mixed with simple ones \
                 such as `{}`; sqlx refuses a directory that mixes them: make them all one kind",
                simple.migration.path.display()
            ),
        );
        return;
    }

    #[derive(Default)]
    struct Halves<'a> {
        up: Option<&'a Path>,
        down: Option<&'a Path>,
    }
    let mut pairs: BTreeMap<&str, Halves> = BTreeMap::new();
    for file in files.iter().filter(|file| file.kind != FileKind::Simple) {
        let base = file.file_name.strip_suffix(file.kind.suffix());
        let halves = pairs.entry(base.unwrap_or_default()).or_default();
        match file.kind {
            FileKind::Up => halves.up = Some(&file.migration.path),
            _ => halves.down = Some(&file.migration.path),
        }
    }
    for halves in pairs.into_values() {
        match (halves.up, halves.down) {
            (Some(up), None) => problems.add(
                up,
                "has no matching `.down.sql`; a reversible migration needs both: add it, or \
                 rename this file to a simple `.sql` migration",
            ),
            (None, Some(down)) => problems.add(
                down,
                "has no matching `.up.sql`, so there is nothing to replay: add it, or remove \
                 this file",
            ),
            _ => {}
        }
    }
}

/// sqlx only notices a duplicate version when `_sqlx_migrations`' primary key rejects it.
fn check_duplicate_versions(
    sorted: &[MigrationFile],
    role: ChainRole,
    notes: &mut Vec<ChainNote>,
    problems: &mut Problems,
) {
    for group in sorted.chunk_by(|a, b| a.migration.version == b.migration.version) {
        let [first, rest @ ..] = group else { continue };
        if rest.is_empty() {
            continue;
        }
        let version = first.migration.version;
        let paths: Vec<String> = group
            .iter()
            .map(|file| format!("`{}`", file.file_name))
            .collect();
        match role {
            ChainRole::History => notes.push(note(
                &first.migration.path,
                format!(
                    "version {version} is shared by {}; sqlx would fail on the \
                     `_sqlx_migrations` primary key, so they are replayed in file-name order: {}",
                    paths.join(" and "),
                    paths.join(", then ")
                ),
            )),
            ChainRole::Consolidated => problems.add(
                &first.migration.path,
                format!(
                    "version {version} is shared by {}; sqlx records each version once (the \
                     `_sqlx_migrations` primary key) and would fail on the second: give one \
                     of them a new version",
                    paths.join(" and ")
                ),
            ),
        }
    }
}

/// What in a file's content changes sqlx's behaviour without the author likely meaning it.
fn content_notes(migration: &Migration) -> Vec<ChainNote> {
    let mut notes = Vec::new();
    for (index, line) in migration.sql.split('\n').enumerate() {
        let honoured = index == 0 && migration.no_transaction;
        let text = line.trim_start_matches('\u{feff}').trim();
        let is_marker = text
            .strip_prefix("--")
            .is_some_and(|comment| comment.trim_start().starts_with("no-transaction"));
        if is_marker && !honoured {
            notes.push(ChainNote {
                path: migration.path.clone(),
                line: Some(index + 1),
                is_hazard: true,
                message: format!(
                    "`{}` has no effect here, so the file runs in a transaction; sqlx honours \
                     `{NO_TRANSACTION}` only as the file's very first bytes: move it there",
                    text
                ),
            });
        }
    }
    let crlf_lines = migration.sql.matches("\r\n").count();
    if crlf_lines > 0 {
        notes.push(note(
            &migration.path,
            format!(
                "{crlf_lines} lines end in CRLF; sqlx's checksum is SHA-384 of the exact bytes, \
                 so a checkout with LF endings gets another checksum and an already-migrated \
                 database reports a mismatch: convert to LF (and pin it in `.gitattributes`)"
            ),
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn dir_with(files: &[(&str, &[u8])]) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn resolve_err(dir: &Path, role: ChainRole) -> String {
        format!("{:#}", resolve(dir, role).unwrap_err())
    }

    fn file_names(chain: &MigrationChain) -> Vec<String> {
        chain
            .migrations
            .iter()
            .map(|m| m.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn orders_by_version_and_ignores_other_entries() {
        let dir = dir_with(&[
            ("10_third.sql", b"SELECT 3;"),
            ("2_second_one.sql", b"SELECT 2;"),
            ("1_first.sql", b"SELECT 1;"),
            ("README.md", b"# notes"),
            ("migrations.lock", b""),
        ]);
        fs::create_dir(dir.path().join("archive")).unwrap();

        let chain = resolve(dir.path(), ChainRole::Consolidated).unwrap();

        assert_eq!(
            file_names(&chain),
            ["1_first.sql", "2_second_one.sql", "10_third.sql"]
        );
        let versions: Vec<i64> = chain.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2, 10]);
        assert_eq!(chain.migrations[1].description, "second one");
        let notes: Vec<String> = chain.notes.iter().map(ToString::to_string).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].ends_with("README.md: ignored: not a `.sql` file"));
        assert!(notes[1].contains("archive: ignored: a directory"));
        assert!(notes[2].ends_with("migrations.lock: ignored: not a `.sql` file"));
    }

    #[test]
    fn the_consolidation_records_pass_without_a_note() {
        let dir = dir_with(&[
            ("1_first.sql", b"SELECT 1;"),
            ("MANIFEST.sum", b"digest 00"),
            ("consolidation.lock", b""),
        ]);
        let chain = resolve(dir.path(), ChainRole::History).unwrap();
        assert_eq!(file_names(&chain), ["1_first.sql"]);
        assert!(chain.notes.is_empty(), "{:?}", chain.notes);
    }

    #[test]
    fn checksum_is_sha384_of_the_exact_bytes() {
        let dir = dir_with(&[("1_a.sql", b"SELECT 1;\n")]);
        let chain = resolve(dir.path(), ChainRole::Consolidated).unwrap();
        assert_eq!(
            chain.migrations[0].checksum,
            Sha384::digest(b"SELECT 1;\n").to_vec()
        );
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = resolve_err(&missing, ChainRole::History);
        assert!(
            err.contains("nope` does not exist; check the path"),
            "{err}"
        );
    }

    #[test]
    fn empty_directory_is_an_error() {
        let dir = dir_with(&[("README.md", b"")]);
        let err = resolve_err(dir.path(), ChainRole::History);
        assert!(err.contains("no migrations in"), "{err}");
        assert!(err.contains("only ignored entries: README.md"), "{err}");
    }

    #[test]
    fn bad_names_are_errors_naming_each_file() {
        let dir = dir_with(&[
            ("1_ok.sql", b""),
            ("v2_create.sql", b""),
            ("nounderscore.sql", b""),
        ]);
        let err = resolve_err(dir.path(), ChainRole::History);
        assert!(
            err.contains("v2_create.sql: version `v2` is not an integer"),
            "{err}"
        );
        assert!(
            err.contains("nounderscore.sql: the file name has no `_`"),
            "{err}"
        );
        assert!(err.contains("rename"), "{err}");
    }

    #[test]
    fn non_utf8_content_names_byte_and_line() {
        let dir = dir_with(&[("1_latin1.sql", b"SELECT 1;\nSELECT 'caf\xe9';\n")]);
        let err = resolve_err(dir.path(), ChainRole::History);
        assert!(
            err.contains("1_latin1.sql: not valid UTF-8 at byte offset 21 (line 2, column 12)"),
            "{err}"
        );
    }

    #[test]
    fn reversible_pairs_replay_the_up_file() {
        let dir = dir_with(&[
            ("1_users.up.sql", b"CREATE TABLE users ();"),
            ("1_users.down.sql", b"DROP TABLE users;"),
            ("2_packs.up.sql", b"CREATE TABLE packs ();"),
            ("2_packs.down.sql", b"DROP TABLE packs;"),
        ]);
        let chain = resolve(dir.path(), ChainRole::Consolidated).unwrap();
        assert_eq!(file_names(&chain), ["1_users.up.sql", "2_packs.up.sql"]);
        assert_eq!(chain.migrations[0].description, "users");
    }

    #[test]
    fn half_a_reversible_pair_is_an_error() {
        let dir = dir_with(&[("1_users.up.sql", b""), ("2_packs.down.sql", b"")]);
        let err = resolve_err(dir.path(), ChainRole::History);
        assert!(
            err.contains("1_users.up.sql: has no matching `.down.sql`"),
            "{err}"
        );
        assert!(
            err.contains("2_packs.down.sql: has no matching `.up.sql`"),
            "{err}"
        );
    }

    #[test]
    fn mixing_reversible_and_simple_is_an_error() {
        let dir = dir_with(&[
            ("1_users.up.sql", b""),
            ("1_users.down.sql", b""),
            ("2_packs.sql", b""),
        ]);
        let err = resolve_err(dir.path(), ChainRole::History);
        assert!(err.contains("are mixed with simple ones"), "{err}");
        assert!(err.contains("2_packs.sql"), "{err}");
    }

    const DUPLICATES: &[(&str, &[u8])] = &[
        ("20260204000001_restore_webhook_functions.sql", b"SELECT 2;"),
        (
            "20260204000001_add_enforcement_notify_trigger.sql",
            b"SELECT 1;",
        ),
        ("20260101000000_initial.sql", b"SELECT 0;"),
    ];

    #[test]
    fn duplicate_versions_in_history_are_noted_and_kept_in_file_name_order() {
        let dir = dir_with(DUPLICATES);
        let chain = resolve(dir.path(), ChainRole::History).unwrap();
        assert_eq!(
            file_names(&chain),
            [
                "20260101000000_initial.sql",
                "20260204000001_add_enforcement_notify_trigger.sql",
                "20260204000001_restore_webhook_functions.sql",
            ]
        );
        assert_eq!(chain.notes.len(), 1);
        let note = chain.notes[0].to_string();
        assert!(
            note.contains("version 20260204000001 is shared by"),
            "{note}"
        );
        assert!(
            note.contains(
                "file-name order: `20260204000001_add_enforcement_notify_trigger.sql`, \
                 then `20260204000001_restore_webhook_functions.sql`"
            ),
            "{note}"
        );
    }

    #[test]
    fn duplicate_versions_in_consolidated_set_are_an_error() {
        let dir = dir_with(DUPLICATES);
        let err = resolve_err(dir.path(), ChainRole::Consolidated);
        assert!(err.contains("version 20260204000001 is shared by"), "{err}");
        assert!(
            err.contains("20260204000001_add_enforcement_notify_trigger.sql` and `"),
            "{err}"
        );
        assert!(
            err.contains("20260204000001_restore_webhook_functions.sql`"),
            "{err}"
        );
    }

    #[test]
    fn no_transaction_is_honoured_only_as_the_first_bytes() {
        let dir = dir_with(&[
            ("1_first.sql", b"-- no-transaction\nVACUUM;\n"),
            ("2_blank.sql", b"\n-- no-transaction\nVACUUM;\n"),
            ("3_bom.sql", b"\xef\xbb\xbf-- no-transaction\nVACUUM;\n"),
            (
                "4_after.sql",
                b"-- creates things\n-- no-transaction\nVACUUM;\n",
            ),
        ]);
        let chain = resolve(dir.path(), ChainRole::Consolidated).unwrap();
        let flags: Vec<bool> = chain.migrations.iter().map(|m| m.no_transaction).collect();
        assert_eq!(flags, [true, false, false, false]);
        let notes: Vec<String> = chain.notes.iter().map(ToString::to_string).collect();
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("2_blank.sql:2: `-- no-transaction` has no effect"));
        assert!(notes[1].contains("3_bom.sql:1: `-- no-transaction` has no effect"));
        assert!(notes[2].contains("4_after.sql:2: `-- no-transaction` has no effect"));
        assert!(notes[2].contains("move it there"));
    }

    #[test]
    fn crlf_line_endings_are_noted() {
        let dir = dir_with(&[("1_windows.sql", b"SELECT 1;\r\nSELECT 2;\r\n")]);
        let chain = resolve(dir.path(), ChainRole::Consolidated).unwrap();
        assert_eq!(chain.notes.len(), 1);
        let note = chain.notes[0].to_string();
        assert!(
            note.contains("1_windows.sql: 2 lines end in CRLF"),
            "{note}"
        );
        assert!(note.contains("checksum"), "{note}");
    }
}
