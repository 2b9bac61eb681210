//! `migrations/consolidation.lock`: what was consolidated, when, by which tool, and the
//! evidence that both sides were equal. Written by `consolidate`, read by `status` and
//! `rollback`.

use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::durable;
use super::manifest::Manifest;
use crate::hex::hex;

/// The key of the digest over the record's other fields.
pub const DIGEST_KEY: &str = "record-digest";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockRecord {
    /// When the consolidated set was swapped in (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    pub tool_version: String,
    /// The server both sides were replayed on: printed definitions can change between majors.
    pub postgres_version: String,
    /// Digest of the pack's files (as a manifest digests them) that was loaded into both
    /// sides; the data fingerprints speak for that pack only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_digest: Option<String>,
    /// The original history, now in `migrations.old/`.
    pub history: SideRecord,
    /// The consolidated set, now in `migrations/`.
    pub consolidated: SideRecord,
}

/// One side of the comparison: its files and what they built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SideRecord {
    pub schema_fingerprint: String,
    pub data_fingerprint: String,
    pub manifest: Manifest,
}

impl LockRecord {
    /// A record made now by this build of the tool.
    pub fn new(postgres_version: String, history: SideRecord, consolidated: SideRecord) -> Self {
        LockRecord {
            // Whole seconds: the record is read by people, sub-second precision says nothing.
            time: Utc::now().trunc_subsecs(0),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            postgres_version,
            pack_digest: None,
            history,
            consolidated,
        }
    }

    /// The record's text: its fields, preceded by `record-digest`, the SHA-256 of the
    /// fields as written, so that an edit of any of them is named on reading.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a lock record always serializes");
        format!(
            "# Written by `cargo xtask consolidate`; read by `status` and `rollback`.\n\
             # Do not edit: the record's and the manifests' digests are checked.\n\
             {DIGEST_KEY} = \"{}\"\n{body}",
            hex(&Sha256::digest(body.as_bytes()))
        )
    }

    /// Writes atomically (temp file, fsync, rename).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        durable::write_atomically(path, self.to_toml().as_bytes())
    }

    pub fn read(path: &Path) -> anyhow::Result<LockRecord> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read lock record {}", path.display()))?;
        let invalid = || {
            format!(
                "{}: not a valid lock record; restore it from version control",
                path.display()
            )
        };
        let mut fields: toml::Table = toml::from_str(&text).with_context(invalid)?;
        let recorded = match fields.remove(DIGEST_KEY) {
            Some(toml::Value::String(digest)) => digest,
            _ => bail!("{}: `{DIGEST_KEY}` is missing", invalid()),
        };
        let record: LockRecord = toml::Value::Table(fields)
            .try_into()
            .with_context(invalid)?;
        let body = toml::to_string(&record).expect("a lock record always serializes");
        if hex(&Sha256::digest(body.as_bytes())) != recorded {
            bail!(
                "{}: the record was edited: its {DIGEST_KEY} does not match its fields; restore \
                 it from version control",
                path.display()
            );
        }
        Ok(record)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A record with a fixed time, so that two processes make byte-identical ones.
    pub fn sample(history: Manifest, consolidated: Manifest) -> LockRecord {
        let side = |manifest| SideRecord {
            schema_fingerprint: "a".repeat(64),
            data_fingerprint: "b".repeat(64),
            manifest,
        };
        LockRecord {
            time: "2026-02-04T10:00:00Z".parse().unwrap(),
            ..LockRecord::new("17.2".into(), side(history), side(consolidated))
        }
    }

    #[test]
    fn write_then_read_gives_the_same_record() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00001_init.sql"), "CREATE TABLE pack ();").unwrap();
        let manifest = Manifest::of_dir(dir.path()).unwrap();
        let record = sample(manifest.clone(), manifest);
        let path = dir.path().join(super::super::LOCK_FILE);
        record.write(&path).unwrap();
        assert_eq!(LockRecord::read(&path).unwrap(), record);

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&format!("tool-version = \"{}\"", env!("CARGO_PKG_VERSION"))));
        assert!(text.contains("[history.manifest.files]"), "{text}");
        assert!(text.contains("time = \"2026-02-04T10:00:00Z\""), "{text}");
    }

    #[test]
    fn an_edited_manifest_inside_the_record_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00001_init.sql"), "CREATE TABLE pack ();").unwrap();
        let manifest = Manifest::of_dir(dir.path()).unwrap();
        let path = dir.path().join("consolidation.lock");
        sample(manifest.clone(), manifest).write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("00001_init", "00002_init")).unwrap();
        let err = format!("{:#}", LockRecord::read(&path).unwrap_err());
        assert!(
            err.contains("consolidation.lock: not a valid lock record"),
            "{err}"
        );
        assert!(err.contains("the digest does not match"), "{err}");
    }

    #[test]
    fn an_edited_field_of_the_record_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00001_init.sql"), "CREATE TABLE pack ();").unwrap();
        let manifest = Manifest::of_dir(dir.path()).unwrap();
        let path = dir.path().join("consolidation.lock");
        let record = LockRecord {
            pack_digest: Some("c".repeat(64)),
            ..sample(manifest.clone(), manifest)
        };
        record.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for (from, to) in [
            ("postgres-version = \"17.2\"", "postgres-version = \"18.1\""),
            (&"a".repeat(64), &"d".repeat(64)),
            (&"b".repeat(64), &"d".repeat(64)),
            (&"c".repeat(64), &"d".repeat(64)),
            ("2026-02-04T10:00:00Z", "2026-02-05T10:00:00Z"),
        ] {
            assert!(text.contains(from), "{from}");
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
            let err = format!("{:#}", LockRecord::read(&path).unwrap_err());
            assert!(
                err.contains("consolidation.lock: the record was edited"),
                "{from}: {err}"
            );
        }
        let without = text
            .lines()
            .filter(|line| !line.starts_with(DIGEST_KEY))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, without).unwrap();
        let err = format!("{:#}", LockRecord::read(&path).unwrap_err());
        assert!(err.contains("`record-digest` is missing"), "{err}");
    }
}
