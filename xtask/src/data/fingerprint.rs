//! A data fingerprint: SHA-256 over the canonical rows of every table.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::snapshot::DataSnapshot;
use crate::hex::hex;

/// Equal data gives equal fingerprints whatever the ids, timestamps and insertion order:
/// the snapshot holds neither generated nor clock values, and its tables and rows are
/// sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataFingerprint {
    pub sha256: String,
}

impl DataFingerprint {
    pub fn of(snapshot: &DataSnapshot) -> DataFingerprint {
        let mut hasher = Sha256::new();
        // Length-prefixed fields and counted lists, so that no two different snapshots
        // serialize alike.
        for (name, table) in &snapshot.tables {
            hash_text(&mut hasher, name);
            hasher.update(table.columns.len().to_le_bytes());
            for column in &table.columns {
                hash_text(&mut hasher, column);
            }
            hasher.update(table.rows.len().to_le_bytes());
            for value in table.rows.iter().flat_map(|row| &row.values) {
                match value {
                    Some(value) => hash_text(&mut hasher, value),
                    None => hasher.update([NULL_TAG]),
                }
            }
        }
        DataFingerprint {
            sha256: hex(&hasher.finalize()),
        }
    }
}

/// A NULL has a tag of its own, apart from any text, the empty string and `NULL` included.
const NULL_TAG: u8 = 0;
const TEXT_TAG: u8 = 1;

fn hash_text(hasher: &mut Sha256, field: &str) {
    hasher.update([TEXT_TAG]);
    hasher.update(field.len().to_le_bytes());
    hasher.update(field.as_bytes());
}

impl fmt::Display for DataFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.sha256)
    }
}
