//! The rows the history left in its tables, as SQL literals in a deterministic order (the
//! natural key the data comparison names rows by, then every column), and the positions
//! of the sequences those tables own, so that later inserts do not collide.

use std::collections::BTreeMap;

use anyhow::Context;

use super::names::Names;
use crate::data::DataSnapshot;
use crate::schema::model::{ObjectKind, Schema};

/// Values print as the introspection prints constants: the same dates, times, floats and
/// bytea whatever the caller's session says.
const SETTINGS: &str = "\
    SET LOCAL search_path = public;
    SET LOCAL DateStyle = 'ISO, YMD';
    SET LOCAL IntervalStyle = 'postgres';
    SET LOCAL TimeZone = 'UTC';
    SET LOCAL extra_float_digits = 3;
    SET LOCAL bytea_output = 'hex';
    SET LOCAL lc_monetary = 'C';";

#[derive(Debug, Clone, Default)]
pub struct TableRows {
    /// The inserted columns, quoted: every column but generated ones, in table order.
    /// (Table, column and sequence names in the model are quoted already; the natural
    /// key's columns, from the data comparison, are not.)
    pub columns: Vec<String>,
    /// A column is `GENERATED ALWAYS AS IDENTITY`.
    pub overriding: bool,
    /// One `(...)` tuple of literals per row.
    pub values: Vec<String>,
    /// Sequences the table owns that were used: name, position, whether it was called.
    pub sequences: Vec<(String, i64, bool)>,
}

/// Reads the rows of every table that has any.
pub fn read(
    client: &mut postgres::Client,
    schema: &Schema,
    names: &Names,
) -> anyhow::Result<BTreeMap<String, TableRows>> {
    let snapshot = DataSnapshot::read(client).context("reading the rows the history left")?;
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .context("starting to read the rows")?;
    tx.batch_execute(SETTINGS)?;
    let mut tables = BTreeMap::new();
    for (table, data) in &snapshot.tables {
        if data.rows.is_empty() {
            continue;
        }
        let Some(order) = schema.column_order.get(table) else {
            continue;
        };
        let column = |c: &str| {
            schema.objects.get(&crate::schema::model::ObjectId {
                kind: ObjectKind::Column,
                name: format!("{table}.{c}"),
            })
        };
        let inserted: Vec<&String> = order
            .iter()
            .filter(|c| column(c).is_none_or(|c| !c.properties.contains_key("generated")))
            .collect();
        let overriding = inserted.iter().any(|c| {
            column(c)
                .and_then(|c| c.properties.get("identity"))
                .map(String::as_str)
                == Some("always")
        });
        let quoted: Vec<String> = inserted.iter().map(|c| (*c).clone()).collect();
        let mut sort: Vec<String> = data
            .natural_key
            .columns
            .iter()
            .map(|c| names.ident(c))
            .collect();
        sort.extend(quoted.iter().cloned());
        let sort: Vec<String> = sort.iter().map(|c| format!("{c}::text")).collect();
        let values_sql = format!(
            "SELECT '(' || array_to_string(ARRAY[{}], ', ') || ')' FROM {} ORDER BY {}",
            quoted
                .iter()
                .map(|c| format!("quote_nullable({c})"))
                .collect::<Vec<_>>()
                .join(", "),
            table,
            sort.join(", ")
        );
        let values = tx
            .query(&values_sql, &[])
            .with_context(|| format!("reading the rows of table {table}"))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut sequences = Vec::new();
        for sequence in schema
            .objects
            .values()
            .filter(|o| o.id.kind == ObjectKind::Sequence && o.table.as_deref() == Some(table))
        {
            let row = tx
                .query_one(
                    &format!("SELECT last_value, is_called FROM {}", sequence.id.name),
                    &[],
                )
                .with_context(|| format!("reading the position of {}", sequence.id))?;
            let (value, is_called): (i64, bool) = (row.get(0), row.get(1));
            let start: i64 = sequence
                .properties
                .get("start")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            if is_called || value != start {
                sequences.push((sequence.id.name.clone(), value, is_called));
            }
        }
        tables.insert(
            table.clone(),
            TableRows {
                columns: quoted,
                overriding,
                values,
                sequences,
            },
        );
    }
    tx.commit()?;
    Ok(tables)
}
