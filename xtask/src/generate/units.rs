//! Units: what is written, placed and ordered as one piece. A table's unit holds its
//! columns, its constraints other than foreign keys, its indexes and the sequences it
//! owns; a domain's holds its constraints; a view's its columns (and a materialized view's
//! indexes), an extension's the objects `CREATE EXTENSION` made. Every other object, foreign keys included, is a unit of its own, and so are
//! the rows the history left in each table.

use std::collections::BTreeMap;

use crate::schema::model::{ObjectId, ObjectKind, Schema, SchemaObject};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Object(ObjectId),
    /// The rows of a table, with the positions of the sequences it owns.
    Rows(String),
}

impl Unit {
    /// Orders units within a file when dependencies leave a choice: types before the
    /// functions and tables that use them, rows after the schema, triggers after the rows
    /// (so that inserting them fires nothing the history did not fire).
    pub fn rank(&self) -> u8 {
        match self {
            Unit::Rows(_) => 9,
            Unit::Object(id) => match id.kind {
                ObjectKind::Extension => 0,
                ObjectKind::Schema => 1,
                ObjectKind::Enum => 2,
                ObjectKind::Domain => 3,
                ObjectKind::CompositeType => 4,
                ObjectKind::Sequence => 5,
                ObjectKind::Function => 6,
                ObjectKind::Table => 7,
                ObjectKind::Constraint => 8,
                ObjectKind::View => 10,
                ObjectKind::MaterializedView => 11,
                ObjectKind::Trigger => 12,
                ObjectKind::Policy => 13,
                _ => 14,
            },
        }
    }

    /// The table a unit belongs to: a table's own name, a trigger's or a rows unit's table.
    pub fn table<'a>(&'a self, schema: &'a Schema) -> Option<&'a str> {
        match self {
            Unit::Rows(table) => Some(table),
            Unit::Object(id) => schema.objects.get(id).and_then(|o| o.table.as_deref()),
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Object(id) => write!(f, "{id}"),
            Unit::Rows(table) => write!(f, "rows of table {table}"),
        }
    }
}

/// Every object to write, by unit.
#[derive(Debug, Default)]
pub struct Units {
    /// The unit of each object written.
    pub of: BTreeMap<ObjectId, Unit>,
    /// Each unit's members other than its head, by name.
    members: BTreeMap<Unit, Vec<ObjectId>>,
    /// Every unit, heads and rows.
    pub all: Vec<Unit>,
}

impl Units {
    /// Groups the objects of `schema` that a new database (`baseline`) does not already
    /// have as they are; `tables_with_rows` get a rows unit each.
    pub fn build(schema: &Schema, baseline: &Schema, tables_with_rows: &[String]) -> Units {
        let mut units = Units::default();
        let relation = |name: &str| -> Option<ObjectId> {
            [
                ObjectKind::Table,
                ObjectKind::View,
                ObjectKind::MaterializedView,
            ]
            .into_iter()
            .map(|kind| ObjectId {
                kind,
                name: name.to_owned(),
            })
            .find(|id| schema.objects.contains_key(id))
        };
        let domains: Vec<&str> = schema
            .objects
            .keys()
            .filter(|id| id.kind == ObjectKind::Domain)
            .map(|id| id.name.as_str())
            .collect();
        for object in schema.objects.values() {
            if baseline.objects.get(&object.id) == Some(object) {
                continue;
            }
            let head = head_of(object, &relation, &domains);
            let unit = Unit::Object(head.clone().unwrap_or_else(|| object.id.clone()));
            if head.is_some() {
                units
                    .members
                    .entry(unit.clone())
                    .or_default()
                    .push(object.id.clone());
            }
            units.of.insert(object.id.clone(), unit);
        }
        let mut all: Vec<Unit> = units.of.values().cloned().collect();
        all.extend(tables_with_rows.iter().cloned().map(Unit::Rows));
        all.sort();
        all.dedup();
        units.all = all;
        units
    }

    pub fn members(&self, unit: &Unit) -> &[ObjectId] {
        self.members.get(unit).map_or(&[], Vec::as_slice)
    }
}

/// The unit head an object is written with, or `None` when it heads a unit itself.
fn head_of(
    object: &SchemaObject,
    relation: &impl Fn(&str) -> Option<ObjectId>,
    domains: &[&str],
) -> Option<ObjectId> {
    let table = object.table.as_deref();
    match object.id.kind {
        // CREATE EXTENSION makes them; the extension's name is the member's `sql.name`.
        ObjectKind::ExtensionMember => Some(ObjectId {
            kind: ObjectKind::Extension,
            name: object.sql.name.clone(),
        }),
        ObjectKind::Column | ObjectKind::Index => table.and_then(relation),
        ObjectKind::Constraint => {
            if object.properties.get("type").map(String::as_str) == Some("foreign key") {
                return None;
            }
            match table {
                Some(table) => relation(table),
                // A domain constraint is named `domain.constraint`: the longest domain that
                // prefixes it.
                None => domains
                    .iter()
                    .filter(|d| {
                        object
                            .id
                            .name
                            .strip_prefix(**d)
                            .is_some_and(|r| r.starts_with('.'))
                    })
                    .max_by_key(|d| d.len())
                    .map(|d| ObjectId {
                        kind: ObjectKind::Domain,
                        name: (*d).to_owned(),
                    }),
            }
        }
        ObjectKind::Sequence => {
            object.properties.get("owned_by")?;
            table.and_then(relation)
        }
        _ => None,
    }
}
