//! Comparing two data snapshots: a typed difference for each table, column or row that is
//! on one side only, and for each value that differs, named by table, natural key and column.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::snapshot::{render_key, CanonicalRow, DataSnapshot, TableData};
use crate::schema::diff::Side;
use crate::sorted::zip_by_key;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum DataChange {
    /// The table exists on one side only; its rows are not listed one by one.
    TableOnlyIn { side: Side, rows: usize },
    /// A compared column exists on one side only; the other columns are still compared.
    ColumnOnlyIn { side: Side, column: String },
    /// The two sides name the table's rows by different columns, so its rows cannot be
    /// paired; the schema comparison says why.
    NaturalKey { old: Vec<String>, new: Vec<String> },
    /// A row exists on one side only, with its compared values.
    RowOnlyIn {
        side: Side,
        values: BTreeMap<String, Option<String>>,
    },
    /// A value of a row present on both sides differs; `None` is NULL.
    Value {
        column: String,
        old: Option<String>,
        new: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataDifference {
    pub table: String,
    /// The row's natural key as rendered (`core.python`, `(core, 2)`); `None` when the
    /// difference is about the whole table.
    pub row: Option<String>,
    #[serde(flatten)]
    pub change: DataChange,
}

impl DataDifference {
    /// What changed, in the words an accepted-differences entry uses: `only in new`,
    /// `description differs`, `table only in old`.
    pub fn summary(&self) -> String {
        match &self.change {
            DataChange::TableOnlyIn { side, .. } => format!("table only in {side}"),
            DataChange::ColumnOnlyIn { side, column } => format!("column {column} only in {side}"),
            DataChange::NaturalKey { .. } => "natural key differs".to_owned(),
            DataChange::RowOnlyIn { side, .. } => format!("only in {side}"),
            DataChange::Value { column, .. } => format!("{column} differs"),
        }
    }
}

impl fmt::Display for DataDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.row {
            Some(row) => write!(f, "{} {row}: {}", self.table, self.summary()),
            None => write!(f, "{}: {}", self.table, self.summary()),
        }
    }
}

/// Every difference between the data of two databases, by table, then row, then column.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataDiff {
    pub differences: Vec<DataDifference>,
}

impl DataDiff {
    pub fn compare(old: &DataSnapshot, new: &DataSnapshot) -> DataDiff {
        let mut differences = Vec::new();
        for (name, in_old, in_new) in zip_by_key(&old.tables, &new.tables) {
            match (in_old, in_new) {
                (Some(o), Some(n)) => compare_table(name, o, n, &mut differences),
                // The schema comparison reports the table itself; here only rows matter.
                (Some(table), None) | (None, Some(table)) if !table.rows.is_empty() => {
                    let side = if in_old.is_some() {
                        Side::Old
                    } else {
                        Side::New
                    };
                    differences.push(DataDifference {
                        table: name.clone(),
                        row: None,
                        change: DataChange::TableOnlyIn {
                            side,
                            rows: table.rows.len(),
                        },
                    });
                }
                _ => {}
            }
        }
        DataDiff { differences }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.differences.is_empty()
    }
}

/// A row's values on the columns both sides compare; `None` is NULL.
type Values = Vec<Option<String>>;

fn compare_table(name: &str, old: &TableData, new: &TableData, out: &mut Vec<DataDifference>) {
    let table_difference = |change| DataDifference {
        table: name.to_owned(),
        row: None,
        change,
    };
    // A column on one side only is the schema comparison's to report; it is a data
    // difference only when the side that has it holds rows.
    for (side, here, there) in [(Side::Old, old, new), (Side::New, new, old)] {
        if here.rows.is_empty() {
            continue;
        }
        for column in here.columns.iter().filter(|c| !there.columns.contains(c)) {
            out.push(table_difference(DataChange::ColumnOnlyIn {
                side,
                column: column.clone(),
            }));
        }
    }
    let has_rows = !old.rows.is_empty() || !new.rows.is_empty();
    if has_rows && old.natural_key.columns != new.natural_key.columns {
        out.push(table_difference(DataChange::NaturalKey {
            old: old.natural_key.columns.clone(),
            new: new.natural_key.columns.clone(),
        }));
        return;
    }

    // Rows are compared on the columns both sides have, so that a column missing on one
    // side is reported once rather than on every row.
    let common: Vec<&String> = old
        .columns
        .iter()
        .filter(|c| new.columns.contains(c))
        .collect();
    let project = |table: &TableData, row: &CanonicalRow| -> Values {
        common
            .iter()
            .map(|&column| {
                let i = table.columns.iter().position(|c| c == column);
                i.and_then(|i| row.values[i].clone())
            })
            .collect()
    };
    // Several rows can share a key: a table keyed by all its columns may hold the same
    // row twice, and unique indexes let NULLs repeat.
    let mut by_key: BTreeMap<&[String], (Vec<Values>, Vec<Values>)> = BTreeMap::new();
    for row in &old.rows {
        by_key
            .entry(&row.key)
            .or_default()
            .0
            .push(project(old, row));
    }
    for row in &new.rows {
        by_key
            .entry(&row.key)
            .or_default()
            .1
            .push(project(new, row));
    }
    for (key, (old_rows, new_rows)) in by_key {
        let (old_rows, new_rows) = unmatched(old_rows, new_rows);
        let row_difference = |change| DataDifference {
            table: name.to_owned(),
            row: Some(render_key(key)),
            change,
        };
        if let ([o], [n]) = (old_rows.as_slice(), new_rows.as_slice()) {
            for ((column, a), b) in common.iter().zip(o).zip(n) {
                if a != b {
                    out.push(row_difference(DataChange::Value {
                        column: (*column).clone(),
                        old: a.clone(),
                        new: b.clone(),
                    }));
                }
            }
            continue;
        }
        for (side, rows) in [(Side::Old, old_rows), (Side::New, new_rows)] {
            for row in rows {
                let values = common.iter().map(|c| (*c).clone()).zip(row).collect();
                out.push(row_difference(DataChange::RowOnlyIn { side, values }));
            }
        }
    }
}

/// The rows of each side that the other side lacks, counting repeats: a multiset difference
/// both ways.
fn unmatched<T: Ord>(mut old: Vec<T>, mut new: Vec<T>) -> (Vec<T>, Vec<T>) {
    old.sort();
    new.sort();
    let (mut only_old, mut only_new) = (Vec::new(), Vec::new());
    let (mut old, mut new) = (old.into_iter().peekable(), new.into_iter().peekable());
    while let (Some(o), Some(n)) = (old.peek(), new.peek()) {
        match o.cmp(n) {
            Ordering::Less => only_old.extend(old.next()),
            Ordering::Greater => only_new.extend(new.next()),
            Ordering::Equal => {
                old.next();
                new.next();
            }
        }
    }
    only_old.extend(old);
    only_new.extend(new);
    (only_old, only_new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_counts_repeats() {
        let (old, new) = unmatched(vec![1, 1, 2, 3], vec![1, 3, 3, 4]);
        assert_eq!(old, vec![1, 2]);
        assert_eq!(new, vec![3, 4]);
    }
}
