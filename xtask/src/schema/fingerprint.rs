//! A schema fingerprint: SHA-256 over a canonical serialization of the model.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::model::Schema;
use crate::hex::hex;

/// Equal schemas give equal fingerprints whatever order their objects were created in:
/// the model is keyed and sorted, and holds nothing that depends on creation order.
/// Column order is left out, as the comparison treats it as a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    pub sha256: String,
    /// The server the schema was read from: printed definitions can change between majors.
    pub server_version: String,
}

impl Fingerprint {
    pub fn of(schema: &Schema) -> Fingerprint {
        let mut hasher = Sha256::new();
        for object in schema.objects.values() {
            // Length-prefixed fields, so that no two different models serialize alike.
            let fields = [
                object.id.kind.label(),
                &object.id.name,
                object.table.as_deref().unwrap_or(""),
            ]
            .into_iter()
            .chain(
                object
                    .properties
                    .iter()
                    .flat_map(|(k, v)| [k.as_str(), v.as_str()]),
            );
            hasher.update(object.properties.len().to_le_bytes());
            for field in fields {
                hasher.update(field.len().to_le_bytes());
                hasher.update(field.as_bytes());
            }
        }
        Fingerprint {
            sha256: hex(&hasher.finalize()),
            server_version: schema.server_version.clone(),
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{ObjectKind, SchemaObject};

    fn column(name: &str, ty: &str) -> SchemaObject {
        let mut o = SchemaObject::new(ObjectKind::Column, name, Some("t".into()));
        o.set("type", Some(ty));
        o
    }

    #[test]
    fn insertion_order_and_column_order_do_not_matter() {
        let mut a = Schema::default();
        a.insert(column("t.a", "text"));
        a.insert(column("t.b", "integer"));
        a.column_order
            .insert("t".into(), vec!["a".into(), "b".into()]);
        let mut b = Schema::default();
        b.insert(column("t.b", "integer"));
        b.insert(column("t.a", "text"));
        b.column_order
            .insert("t".into(), vec!["b".into(), "a".into()]);
        assert_eq!(Fingerprint::of(&a), Fingerprint::of(&b));
    }

    #[test]
    fn any_property_change_changes_it() {
        let mut a = Schema::default();
        a.insert(column("t.a", "text"));
        let mut b = Schema::default();
        b.insert(column("t.a", "varchar"));
        assert_ne!(Fingerprint::of(&a), Fingerprint::of(&b));
        // Moving text between fields must not collide.
        let mut c = Schema::default();
        c.insert(column("t.at", "ext"));
        assert_ne!(Fingerprint::of(&a), Fingerprint::of(&c));
    }
}
