//! A directory's manifest, in the manner of `atlas.sum`: the SHA-256 of every file plus
//! one digest over all names and hashes in order, so that any edit, addition, removal or
//! rename shows, and a glance at the digest tells two directories apart.
//!
//! The text form, one entry a line, sorted by name:
//!
//! ```text
//! digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  00001_init.sql
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::{durable, BASELINE_FILE, LOCK_FILE, MANIFEST_FILE};
use crate::hex::hex;

/// File name (relative, `/`-separated) to the SHA-256 of its bytes, in hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ManifestRecord", try_from = "ManifestRecord")]
pub struct Manifest {
    files: BTreeMap<String, String>,
}

impl Manifest {
    /// Hashes every regular file under `dir`. The tool's bookkeeping files at the top of
    /// the directory (`MANIFEST.sum`, `consolidation.lock`, `baseline.lock`) are left out: they describe the
    /// directory rather than belong to it.
    pub fn of_dir(dir: &Path) -> anyhow::Result<Manifest> {
        let mut files = BTreeMap::new();
        for entry in WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = entry.path();
            let kind = entry.file_type();
            if kind.is_dir() {
                continue;
            }
            if kind.is_symlink() {
                bail!(
                    "{} is a symbolic link: migrations must be regular files, so replace \
                     it with a copy of the file it points to",
                    path.display()
                );
            }
            if !kind.is_file() {
                bail!("{} is not a regular file: remove it", path.display());
            }
            let name = relative_name(dir, path)?;
            if [MANIFEST_FILE, LOCK_FILE, BASELINE_FILE].contains(&name.as_str()) {
                continue;
            }
            let hash = crate::input::hash::<Sha256>(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            files.insert(name, hex(&hash));
        }
        Ok(Manifest { files })
    }

    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// SHA-256 over the entry lines, so it covers every name, every content and the order.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.entry_lines().as_bytes()))
    }

    /// The names of the files of `self` that `other` lacks or holds with other content.
    pub fn files_not_in(&self, other: &Manifest) -> Vec<String> {
        self.files
            .iter()
            .filter(|(name, hash)| other.files.get(*name) != Some(*hash))
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn to_text(&self) -> String {
        format!("digest {}\n{}", self.digest(), self.entry_lines())
    }

    /// Parses the text form; errors name `origin` and the line.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Manifest> {
        let at = |line: usize| format!("{}:{line}", origin.display());
        let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
        let Some((_, first)) = lines.next() else {
            bail!("{}: empty manifest, expected `digest <sha256>`", at(1));
        };
        let recorded_digest = first
            .strip_prefix("digest ")
            .filter(|digest| is_sha256(digest))
            .with_context(|| format!("{}: expected `digest <sha256>`, found `{first}`", at(1)))?;
        let mut files = BTreeMap::new();
        for (number, line) in lines {
            let (hash, name) = line
                .split_once("  ")
                .filter(|(hash, name)| is_sha256(hash) && !name.is_empty())
                .with_context(|| {
                    format!(
                        "{}: expected `<sha256>  <file name>`, found `{line}`",
                        at(number)
                    )
                })?;
            if files.insert(name.to_owned(), hash.to_owned()).is_some() {
                bail!("{}: `{name}` is listed twice", at(number));
            }
        }
        let manifest = Manifest { files };
        if manifest.digest() != recorded_digest {
            bail!(
                "{}: the digest does not match the entries listed: the manifest was edited; \
                 restore it from version control or a copy",
                at(1)
            );
        }
        Ok(manifest)
    }

    /// Writes the text form atomically (temp file, fsync, rename).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        durable::write_atomically(path, self.to_text().as_bytes())
    }

    pub fn read(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        Manifest::parse(&text, path)
    }

    /// What turns `expected` into `actual`, sorted by file name. A file removed under one
    /// name and added under another with the same content is reported as a rename.
    pub fn changes(expected: &Manifest, actual: &Manifest) -> Vec<ManifestChange> {
        let mut changes = Vec::new();
        let mut removed = Vec::new();
        for (name, hash) in &expected.files {
            match actual.files.get(name) {
                Some(actual_hash) if actual_hash == hash => {}
                Some(_) => changes.push(ManifestChange::Edited(name.clone())),
                None => removed.push((name, hash)),
            }
        }
        let mut added: Vec<(&String, &String)> = actual
            .files
            .iter()
            .filter(|(name, _)| !expected.files.contains_key(*name))
            .collect();
        for (from, hash) in removed {
            match added.iter().position(|(_, added_hash)| *added_hash == hash) {
                Some(index) => {
                    let (to, _) = added.remove(index);
                    changes.push(ManifestChange::Renamed {
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
                None => changes.push(ManifestChange::Removed(from.clone())),
            }
        }
        changes.extend(
            added
                .into_iter()
                .map(|(name, _)| ManifestChange::Added(name.clone())),
        );
        changes.sort_by(|a, b| a.file_name().cmp(b.file_name()));
        changes
    }

    fn entry_lines(&self) -> String {
        self.files
            .iter()
            .map(|(name, hash)| format!("{hash}  {name}\n"))
            .collect()
    }
}

/// One difference between an expected manifest and a directory's actual content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestChange {
    Added(String),
    Removed(String),
    Edited(String),
    Renamed { from: String, to: String },
}

impl ManifestChange {
    /// The name the change is sorted by: for a rename, the name it had.
    pub fn file_name(&self) -> &str {
        match self {
            ManifestChange::Added(name)
            | ManifestChange::Removed(name)
            | ManifestChange::Edited(name) => name,
            ManifestChange::Renamed { from, .. } => from,
        }
    }
}

impl fmt::Display for ManifestChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestChange::Added(name) => write!(f, "added: {name}"),
            ManifestChange::Removed(name) => write!(f, "removed: {name}"),
            ManifestChange::Edited(name) => write!(f, "edited: {name}"),
            ManifestChange::Renamed { from, to } => write!(f, "renamed: {from} -> {to}"),
        }
    }
}

/// Several changes on one line each, for error messages and status.
pub fn list_changes(changes: &[ManifestChange]) -> String {
    changes
        .iter()
        .map(|change| format!("\n  {change}"))
        .collect()
}

/// How a manifest is kept inside a TOML record: the digest beside the entries, checked
/// on reading so that a hand edit of either shows.
#[derive(Serialize, Deserialize)]
struct ManifestRecord {
    digest: String,
    files: BTreeMap<String, String>,
}

impl From<Manifest> for ManifestRecord {
    fn from(manifest: Manifest) -> ManifestRecord {
        ManifestRecord {
            digest: manifest.digest(),
            files: manifest.files,
        }
    }
}

impl TryFrom<ManifestRecord> for Manifest {
    type Error = String;

    fn try_from(record: ManifestRecord) -> Result<Manifest, String> {
        if let Some((name, _)) = record.files.iter().find(|(_, hash)| !is_sha256(hash)) {
            return Err(format!("`{name}`: not a SHA-256 in hex"));
        }
        let manifest = Manifest {
            files: record.files,
        };
        if manifest.digest() != record.digest {
            return Err("the digest does not match the files listed: the record was edited".into());
        }
        Ok(manifest)
    }
}

fn relative_name(dir: &Path, path: &Path) -> anyhow::Result<String> {
    let relative = path
        .strip_prefix(dir)
        .expect("walkdir stays under its root");
    let mut parts = Vec::new();
    for part in relative.components() {
        let part = part.as_os_str().to_str().with_context(|| {
            format!(
                "{}: the file name is not UTF-8: rename the file",
                path.display()
            )
        })?;
        parts.push(part);
    }
    let name = parts.join("/");
    if name.contains(['\n', '\r']) {
        bail!(
            "{}: the file name holds a line break: rename the file",
            path.display()
        );
    }
    Ok(name)
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
        }
        dir
    }

    const HISTORY: &[(&str, &str)] = &[
        ("00001_init.sql", "CREATE TABLE pack ();"),
        ("00002_runtime.sql", "CREATE TABLE runtime ();"),
        ("00003_pack_system.sql", "ALTER TABLE pack ADD system bool;"),
    ];

    fn changes_after(edit: impl FnOnce(&Path)) -> Vec<String> {
        let dir = dir_with(HISTORY);
        let before = Manifest::of_dir(dir.path()).unwrap();
        edit(dir.path());
        let after = Manifest::of_dir(dir.path()).unwrap();
        assert_ne!(before.digest(), after.digest());
        Manifest::changes(&before, &after)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn detects_an_edit() {
        let changes = changes_after(|dir| {
            fs::write(dir.join("00003_pack_system.sql"), "ALTER TABLE pack;").unwrap()
        });
        assert_eq!(changes, ["edited: 00003_pack_system.sql"]);
    }

    #[test]
    fn detects_an_addition_in_a_subdirectory() {
        let changes =
            changes_after(|dir| fs::write(dir.join("00009_late.sql"), "SELECT 1;").unwrap());
        assert_eq!(changes, ["added: 00009_late.sql"]);
        let changes = changes_after(|dir| {
            fs::create_dir(dir.join("sub")).unwrap();
            fs::write(dir.join("sub/x.sql"), "").unwrap();
        });
        assert_eq!(changes, ["added: sub/x.sql"]);
    }

    #[test]
    fn detects_a_removal() {
        let changes = changes_after(|dir| fs::remove_file(dir.join("00001_init.sql")).unwrap());
        assert_eq!(changes, ["removed: 00001_init.sql"]);
    }

    #[test]
    fn detects_a_rename() {
        let changes = changes_after(|dir| {
            fs::rename(dir.join("00002_runtime.sql"), dir.join("00004_runtime.sql")).unwrap()
        });
        assert_eq!(changes, ["renamed: 00002_runtime.sql -> 00004_runtime.sql"]);
    }

    #[test]
    fn changes_are_sorted_by_file_name() {
        let changes = changes_after(|dir| {
            fs::write(dir.join("00000_first.sql"), "new").unwrap();
            fs::write(dir.join("00003_pack_system.sql"), "changed").unwrap();
            fs::remove_file(dir.join("00001_init.sql")).unwrap();
        });
        assert_eq!(
            changes,
            [
                "added: 00000_first.sql",
                "removed: 00001_init.sql",
                "edited: 00003_pack_system.sql"
            ]
        );
    }

    #[test]
    fn digest_is_stable_and_independent_of_where_the_directory_is() {
        let first = Manifest::of_dir(dir_with(HISTORY).path()).unwrap();
        let second = Manifest::of_dir(dir_with(HISTORY).path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.digest(), second.digest());
        // Pinned, as the digest is in files people commit: it is `sha256sum` of the entry lines.
        let single = Manifest::of_dir(dir_with(&[("a.sql", "")]).path()).unwrap();
        assert_eq!(
            single.to_text(),
            "digest 0b0e4cc8b7380b30c0cab5a87c30209b13743d4937cf8af3557abab6b4e3cd2a\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.sql\n"
        );
    }

    #[test]
    fn leaves_out_the_bookkeeping_files() {
        let dir = dir_with(HISTORY);
        let before = Manifest::of_dir(dir.path()).unwrap();
        fs::write(dir.path().join(MANIFEST_FILE), "digest ...").unwrap();
        fs::write(dir.path().join(LOCK_FILE), "time = 1").unwrap();
        assert_eq!(Manifest::of_dir(dir.path()).unwrap(), before);
    }

    #[test]
    fn refuses_symbolic_links_naming_them() {
        let dir = dir_with(HISTORY);
        std::os::unix::fs::symlink("00001_init.sql", dir.path().join("00005_link.sql")).unwrap();
        let err = Manifest::of_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("00005_link.sql is a symbolic link"), "{err}");
    }

    #[test]
    fn write_then_read_gives_the_same_manifest() {
        let dir = dir_with(HISTORY);
        let manifest = Manifest::of_dir(dir.path()).unwrap();
        let path = dir.path().join(MANIFEST_FILE);
        manifest.write(&path).unwrap();
        assert_eq!(Manifest::read(&path).unwrap(), manifest);
        assert_eq!(fs::read_to_string(&path).unwrap(), manifest.to_text());
    }

    #[test]
    fn parse_errors_name_the_file_and_line() {
        let origin = Path::new("migrations.old/MANIFEST.sum");
        let manifest = Manifest::of_dir(dir_with(HISTORY).path()).unwrap();
        let text = manifest.to_text();

        let err = Manifest::parse("", origin).unwrap_err().to_string();
        assert!(
            err.starts_with("migrations.old/MANIFEST.sum:1: empty manifest"),
            "{err}"
        );

        let broken = text.replacen("  00002", " 00002", 1);
        let err = Manifest::parse(&broken, origin).unwrap_err().to_string();
        assert!(
            err.starts_with("migrations.old/MANIFEST.sum:3: expected"),
            "{err}"
        );

        let edited = text.replace("00003_pack_system", "00004_pack_system");
        let err = Manifest::parse(&edited, origin).unwrap_err().to_string();
        assert!(err.starts_with("migrations.old/MANIFEST.sum:1: the digest does not match"));

        let doubled = format!("{text}{}", text.lines().nth(1).unwrap());
        let err = Manifest::parse(&doubled, origin).unwrap_err().to_string();
        assert!(
            err.contains(":5: `00001_init.sql` is listed twice"),
            "{err}"
        );
    }

    #[test]
    fn files_not_in_tells_whether_a_copy_holds_everything() {
        let full = Manifest::of_dir(dir_with(HISTORY).path()).unwrap();
        let part = Manifest::of_dir(dir_with(&HISTORY[..2]).path()).unwrap();
        assert!(part.files_not_in(&full).is_empty());
        assert_eq!(full.files_not_in(&part), ["00003_pack_system.sql"]);
    }
}
