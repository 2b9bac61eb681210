//! Reading the catalog into a [`Schema`]: one query per object kind for the whole database.
//!
//! All queries run in one read-only repeatable-read transaction, so they see one snapshot,
//! under fixed settings (see [`queries::SETTINGS`]) so that two databases print their
//! definitions the same way whatever the caller's session looks like.

mod queries;
#[cfg(test)]
mod tests;

use anyhow::Context;
use postgres::{IsolationLevel, Row};

use super::model::{ObjectId, ObjectKind, Schema, SchemaObject};

/// The query that lists each kind of object.
const QUERIES: [(ObjectKind, &str); 15] = [
    (ObjectKind::Extension, queries::EXTENSIONS),
    (ObjectKind::Schema, queries::SCHEMAS),
    (ObjectKind::Enum, queries::ENUMS),
    (ObjectKind::Domain, queries::DOMAINS),
    (ObjectKind::CompositeType, queries::COMPOSITE_TYPES),
    (ObjectKind::Sequence, queries::SEQUENCES),
    (ObjectKind::Table, queries::TABLES),
    (ObjectKind::Column, queries::COLUMNS),
    (ObjectKind::Constraint, queries::CONSTRAINTS),
    (ObjectKind::Index, queries::INDEXES),
    (ObjectKind::View, queries::VIEWS),
    (ObjectKind::MaterializedView, queries::MATERIALIZED_VIEWS),
    (ObjectKind::Function, queries::FUNCTIONS),
    (ObjectKind::Trigger, queries::TRIGGERS),
    (ObjectKind::Policy, queries::POLICIES),
];

/// Reads every object of the connected database into a [`Schema`].
pub fn introspect(client: &mut postgres::Client) -> anyhow::Result<Schema> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .context("starting the introspection transaction")?;
    tx.batch_execute(queries::SETTINGS)
        .context("fixing the session settings for introspection")?;

    let mut schema = Schema {
        server_version: tx
            .query_one("SHOW server_version", &[])
            .context("reading server_version")?
            .get(0),
        ..Schema::default()
    };
    let mut columns = Vec::new();
    for (kind, sql) in QUERIES {
        let rows = tx
            .query(sql, &[])
            .with_context(|| format!("listing the {kind} objects"))?;
        for row in &rows {
            let object =
                object_from_row(kind, row).with_context(|| format!("reading a {kind} row"))?;
            if let (ObjectKind::Column, Some(table)) = (kind, &object.table) {
                let column = object.id.name[table.len() + 1..].to_owned();
                columns.push((table.clone(), column));
            }
            if let Some(earlier) = schema.objects.get(&object.id) {
                anyhow::bail!("two objects are named {}: {earlier:?}", earlier.id);
            }
            schema.insert(object);
        }
    }
    tx.commit()?;
    record_column_order(&mut schema, columns);
    Ok(schema)
}

/// Maps one row of a kind's query to an object: `name` and `table` name it, every other
/// column is a property of the same name, and NULL ones are left out.
fn object_from_row(kind: ObjectKind, row: &Row) -> anyhow::Result<SchemaObject> {
    let mut object = SchemaObject::new(kind, String::new(), None);
    for (i, column) in row.columns().iter().enumerate() {
        let value: Option<String> = row
            .try_get(i)
            .with_context(|| format!("column {} must be text", column.name()))?;
        match column.name() {
            "name" => object.id.name = value.context("an object without a name")?,
            "table" => object.table = value,
            property => {
                object.set(property, value);
            }
        }
    }
    Ok(object)
}

/// Fills [`Schema::column_order`] for tables (not views, whose column order is part of
/// their definition) from `(table, column)` pairs in the order the column query returned
/// them, which is by table OID and position. Only the order within each table matters:
/// the pairs are filed by table name, so neither the order of the tables nor their being
/// grouped together is relied on.
fn record_column_order(schema: &mut Schema, columns: Vec<(String, String)>) {
    for (table, column) in columns {
        let table_id = ObjectId {
            kind: ObjectKind::Table,
            name: table.clone(),
        };
        if schema.objects.contains_key(&table_id) {
            schema.column_order.entry(table).or_default().push(column);
        }
    }
}
