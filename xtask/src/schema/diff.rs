//! Comparing two schema models: a typed difference for each object that is missing on one
//! side or differs, and a note for each table whose columns are in another order.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use super::model::{ObjectId, ObjectKind, Schema, SchemaObject};
use crate::sorted::zip_by_key;

/// One of the two databases being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Old,
    New,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Old => "old",
            Side::New => "new",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The object exists on one side only. Objects of a table that is itself missing are
    /// folded into the table's difference rather than reported one by one.
    OnlyIn {
        side: Side,
        dependents: Vec<ObjectId>,
    },
    /// A property differs; `None` means the property is absent on that side.
    Property {
        property: String,
        old: Option<String>,
        new: Option<String>,
    },
    /// The same columns in another physical order.
    ColumnOrder { old: Vec<String>, new: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: ObjectId,
    /// The table the object belongs to, for grouping.
    pub table: Option<String>,
    #[serde(flatten)]
    pub change: Change,
}

impl Difference {
    /// Column order alone does not make two schemas different unless asked for.
    pub fn is_column_order(&self) -> bool {
        matches!(self.change, Change::ColumnOrder { .. })
    }

    /// What changed, in the words an accepted-differences entry uses: `only in old`,
    /// `default differs`, `column order differs`.
    pub fn summary(&self) -> String {
        match &self.change {
            Change::OnlyIn { side, .. } => format!("only in {side}"),
            Change::Property { property, .. } => format!("{property} differs"),
            Change::ColumnOrder { .. } => "column order differs".to_owned(),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.summary())
    }
}

/// Properties that say more about another one (`(refining, refined)`), compared only where
/// that one is equal, so that one change is one difference: a column made NOT NULL on
/// PostgreSQL 18 also gains the name of its NOT NULL constraint.
const REFINEMENTS: [(&str, &str); 1] = [("not_null_constraint", "nullable")];

/// Every difference between two schemas, in a stable order: by table, then by object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SchemaDiff {
    pub differences: Vec<Difference>,
}

impl SchemaDiff {
    pub fn compare(old: &Schema, new: &Schema) -> SchemaDiff {
        let mut differences = Vec::new();
        let missing_parents = |side: Side| -> BTreeSet<Parent> {
            let (here, there) = match side {
                Side::Old => (old, new),
                Side::New => (new, old),
            };
            here.objects
                .keys()
                .filter(|id| !there.objects.contains_key(id))
                .filter_map(Parent::of_id)
                .collect()
        };
        let only_in_old = missing_parents(Side::Old);
        let only_in_new = missing_parents(Side::New);

        for (id, in_old, in_new) in zip_by_key(&old.objects, &new.objects) {
            match (in_old, in_new) {
                (Some(o), Some(n)) => {
                    for (key, a, b) in zip_by_key(&o.properties, &n.properties) {
                        let implied = REFINEMENTS.iter().any(|(refining, refined)| {
                            key == refining
                                && o.properties.get(*refined) != n.properties.get(*refined)
                        });
                        if a != b && !implied {
                            differences.push(Difference {
                                object: id.clone(),
                                table: o.table.clone(),
                                change: Change::Property {
                                    property: key.clone(),
                                    old: a.cloned(),
                                    new: b.cloned(),
                                },
                            });
                        }
                    }
                }
                (Some(object), None) | (None, Some(object)) => {
                    let (side, missing) = if in_old.is_some() {
                        (Side::Old, &only_in_old)
                    } else {
                        (Side::New, &only_in_new)
                    };
                    let folded = Parent::of(object).is_some_and(|p| missing.contains(&p));
                    if !folded {
                        differences.push(Difference {
                            object: id.clone(),
                            table: object.table.clone(),
                            change: Change::OnlyIn {
                                side,
                                dependents: Vec::new(),
                            },
                        });
                    }
                }
                (None, None) => unreachable!("each key comes from one of the two maps"),
            }
        }
        fold_dependents(&mut differences, old, new);

        for (table, old_columns) in &old.column_order {
            let Some(new_columns) = new.column_order.get(table) else {
                continue;
            };
            // Only tables have a column order of their own (see `Schema::column_order`).
            if old_columns != new_columns && same_set(old_columns, new_columns) {
                differences.push(Difference {
                    object: ObjectId {
                        kind: ObjectKind::Table,
                        name: table.clone(),
                    },
                    table: Some(table.clone()),
                    change: Change::ColumnOrder {
                        old: old_columns.clone(),
                        new: new_columns.clone(),
                    },
                });
            }
        }

        differences.sort_by(|a, b| (&a.table, &a.object).cmp(&(&b.table, &b.object)));
        SchemaDiff { differences }
    }

    /// The differences that make the schemas unequal, given whether column order counts.
    pub fn failures(&self, strict_column_order: bool) -> impl Iterator<Item = &Difference> {
        self.differences
            .iter()
            .filter(move |d| strict_column_order || !d.is_column_order())
    }
}

/// An object whose absence on one side takes other objects with it: a table, view or
/// materialized view (by display name) takes what belongs to it (`SchemaObject::table`),
/// an extension its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Parent<'a> {
    Relation(&'a str),
    Extension(&'a str),
}

impl<'a> Parent<'a> {
    /// The object as a parent, if it is one.
    fn of_id(id: &'a ObjectId) -> Option<Parent<'a>> {
        match id.kind {
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView => {
                Some(Parent::Relation(&id.name))
            }
            ObjectKind::Extension => Some(Parent::Extension(&id.name)),
            _ => None,
        }
    }

    /// What the object belongs to, if it goes with it.
    fn of(object: &'a SchemaObject) -> Option<Parent<'a>> {
        match object.id.kind {
            ObjectKind::ExtensionMember => Some(Parent::Extension(&object.sql.name)),
            _ if Parent::of_id(&object.id).is_some() => None,
            _ => object.table.as_deref().map(Parent::Relation),
        }
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<&String> = a.iter().collect();
    let b: BTreeSet<&String> = b.iter().collect();
    a == b
}

/// Lists under each missing table or extension the objects that went with it.
fn fold_dependents(differences: &mut [Difference], old: &Schema, new: &Schema) {
    for difference in differences.iter_mut() {
        let Change::OnlyIn { side, dependents } = &mut difference.change else {
            continue;
        };
        let Some(parent) = Parent::of_id(&difference.object) else {
            continue;
        };
        let schema = match side {
            Side::Old => old,
            Side::New => new,
        };
        dependents.extend(
            schema
                .objects
                .values()
                .filter(|o| Parent::of(o) == Some(parent))
                .map(|o| o.id.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(
        kind: ObjectKind,
        name: &str,
        table: Option<&str>,
        props: &[(&str, &str)],
    ) -> SchemaObject {
        let mut o = SchemaObject::new(kind, name, table.map(str::to_owned));
        for (k, v) in props {
            o.set(k, Some(*v));
        }
        o
    }

    fn schema(objects: Vec<SchemaObject>) -> Schema {
        let mut s = Schema::default();
        for o in objects {
            s.insert(o);
        }
        s
    }

    #[test]
    fn equal_schemas_have_no_difference() {
        let a = schema(vec![object(ObjectKind::Table, "pack", Some("pack"), &[])]);
        assert!(SchemaDiff::compare(&a, &a.clone()).differences.is_empty());
    }

    #[test]
    fn a_changed_property_names_object_and_both_values() {
        let a = schema(vec![object(
            ObjectKind::Column,
            "pack.label",
            Some("pack"),
            &[("type", "text"), ("default", "'x'::text")],
        )]);
        let b = schema(vec![object(
            ObjectKind::Column,
            "pack.label",
            Some("pack"),
            &[("type", "text")],
        )]);
        let diff = SchemaDiff::compare(&a, &b);
        assert_eq!(diff.differences.len(), 1);
        let d = &diff.differences[0];
        assert_eq!(d.to_string(), "column pack.label: default differs");
        assert_eq!(
            d.change,
            Change::Property {
                property: "default".into(),
                old: Some("'x'::text".into()),
                new: None
            }
        );
    }

    #[test]
    fn objects_of_a_missing_table_fold_into_it() {
        let a = schema(vec![
            object(ObjectKind::Table, "wte", Some("wte"), &[]),
            object(ObjectKind::Column, "wte.id", Some("wte"), &[]),
            object(ObjectKind::Index, "idx_wte", Some("wte"), &[]),
        ]);
        let diff = SchemaDiff::compare(&a, &Schema::default());
        assert_eq!(diff.differences.len(), 1);
        let Change::OnlyIn { side, dependents } = &diff.differences[0].change else {
            panic!("expected only-in, got {:?}", diff.differences[0]);
        };
        assert_eq!(*side, Side::Old);
        assert_eq!(dependents.len(), 2);
    }

    #[test]
    fn column_order_is_a_note_unless_strict() {
        let mut a = schema(vec![object(ObjectKind::Table, "t", Some("t"), &[])]);
        let mut b = a.clone();
        a.column_order
            .insert("t".into(), vec!["id".into(), "x".into()]);
        b.column_order
            .insert("t".into(), vec!["x".into(), "id".into()]);
        let diff = SchemaDiff::compare(&a, &b);
        assert_eq!(diff.differences.len(), 1);
        assert!(diff.differences[0].is_column_order());
        assert_eq!(diff.failures(false).count(), 0);
        assert_eq!(diff.failures(true).count(), 1);
    }
}
