//! Reading the catalog into a [`Schema`]: one query per object kind for the whole database.
//!
//! All queries run in one read-only repeatable-read transaction, so they see one snapshot,
//! under fixed settings (see [`SETTINGS`]) so that two databases print their
//! definitions the same way whatever the caller's session looks like.

#[macro_use]
mod queries;
mod kinds;
pub mod scoped;
#[cfg(test)]
mod tests;

use anyhow::Context;
use postgres::{IsolationLevel, Row};

use super::catalog::SETTINGS;
use super::model::{ObjectId, ObjectKind, Schema, SchemaObject};
use crate::pg::Capabilities;

/// The query that lists each kind of object.
const QUERIES: [(ObjectKind, &str); 16] = [
    (ObjectKind::Extension, queries::EXTENSIONS),
    (ObjectKind::ExtensionMember, queries::EXTENSION_MEMBERS),
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
    tx.batch_execute(SETTINGS)
        .context("fixing the session settings for introspection")?;

    let versions = tx
        .query_one(
            "SELECT current_setting('server_version'), \
                    current_setting('server_version_num')::int",
            &[],
        )
        .context("reading server_version")?;
    let capabilities = Capabilities::of(versions.get::<_, i32>(1).unsigned_abs());
    let mut schema = Schema {
        server_version: versions.get(0),
        ..Schema::default()
    };
    let mut objects = Vec::new();
    let mut columns = Vec::new();
    for (kind, sql) in QUERIES {
        let rows = tx
            .query(&*capabilities.sql(sql)?, &[])
            .with_context(|| format!("listing the {kind} objects"))?;
        for row in &rows {
            objects.push(read_row(kind, row, &mut columns)?);
        }
    }
    kinds::read(&mut tx, capabilities, &mut objects)?;
    tx.commit()?;
    // Sorted first, the map is built in one pass rather than by a search per object.
    objects.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    if let Some(pair) = objects.windows(2).find(|pair| pair[0].id == pair[1].id) {
        anyhow::bail!("two objects are named {}: {:?}", pair[0].id, pair[0]);
    }
    schema.objects = objects.into_iter().map(|o| (o.id.clone(), o)).collect();
    record_column_order(&mut schema, columns);
    Ok(schema)
}

/// One row of a kind's query as an object; a column's position goes to `columns` as
/// `(table, position, column)`, for [`record_column_order`].
fn read_row(
    kind: ObjectKind,
    row: &Row,
    columns: &mut Vec<(String, i16, String)>,
) -> anyhow::Result<SchemaObject> {
    let object = object_from_row(kind, row).with_context(|| format!("reading a {kind} row"))?;
    if let (ObjectKind::Column, Some(table), Some(column)) =
        (kind, &object.table, &object.sql.member)
    {
        let position: i16 = row
            .try_get(POSITION)
            .context("reading the position of a column")?;
        columns.push((table.clone(), position, column.clone()));
    }
    Ok(object)
}

/// The column query's column that orders a table's columns (see [`queries::COLUMNS`]).
const POSITION: &str = "position";

/// Maps one row of a kind's query to an object: the `sql_*` columns (or `name`) and
/// `table` name it, every other column but [`POSITION`] is a property of the same name,
/// and NULL ones are left out (see [`queries`] for the columns).
pub(super) fn object_from_row(kind: ObjectKind, row: &Row) -> anyhow::Result<SchemaObject> {
    let mut object = SchemaObject::new(kind, String::new(), None);
    let mut display = None;
    for (i, column) in row.columns().iter().enumerate() {
        if column.name() == POSITION {
            continue;
        }
        let value: Option<String> = row
            .try_get(i)
            .with_context(|| format!("column {} must be text", column.name()))?;
        match column.name() {
            "name" => display = value,
            "sql_schema" => object.sql.schema = value,
            "sql_name" => object.sql.name = value.unwrap_or_default(),
            "sql_member" => object.sql.member = value,
            "sql_arguments" => object.sql.arguments = value,
            "table" => object.table = value,
            property => {
                object.set(property, value);
            }
        }
    }
    match display {
        Some(display) => {
            if object.sql.name.is_empty() {
                object.sql.name.clone_from(&display);
            }
            object.id.name = display;
        }
        None => object.id.name = object.sql.display(),
    }
    anyhow::ensure!(!object.id.name.is_empty(), "an object without a name");
    Ok(object)
}

/// Fills [`Schema::column_order`] for tables (not views, whose column order is part of
/// their definition) from `(table, position, column)` triples in any order.
fn record_column_order(schema: &mut Schema, mut columns: Vec<(String, i16, String)>) {
    columns.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut columns = columns.into_iter().peekable();
    while let Some((table, _, first)) = columns.next() {
        let mut names = vec![first];
        while let Some((_, _, name)) = columns.next_if(|(next, _, _)| *next == table) {
            names.push(name);
        }
        let table_id = ObjectId {
            kind: ObjectKind::Table,
            name: table,
        };
        if schema.objects.contains_key(&table_id) {
            schema.column_order.insert(table_id.name, names);
        }
    }
}
