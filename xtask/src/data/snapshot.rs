//! Reading every user table's rows into canonical form: generated and clock columns left
//! out, each row named by a natural key, foreign keys to generated ids replaced by the
//! natural key of the row they point at.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Context;
use postgres::{IsolationLevel, SimpleQueryMessage};
use serde::{Serialize, Serializer};

use super::catalog::{self, TableShape};

/// Why a column is left out of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOut {
    /// `GENERATED ... AS IDENTITY`.
    Identity,
    /// A default drawn from a sequence (`serial`, `nextval(...)`).
    Sequence,
    /// A random default (`gen_random_uuid()`).
    RandomDefault,
    /// `GENERATED ALWAYS AS (...) STORED`: computed from the row, so it could only differ
    /// where the columns it is computed from (or the schema) already do.
    GeneratedExpression,
    /// A default that reads the clock (`now()`, `CURRENT_TIMESTAMP`).
    ClockDefault,
    /// Set from the clock by a BEFORE trigger, as an updated-at trigger does.
    ClockTrigger,
}

impl LeftOut {
    /// The value stands for the row rather than saying something about it, so a foreign
    /// key to it is replaced by the natural key of the row.
    pub fn names_the_row(self) -> bool {
        matches!(
            self,
            LeftOut::Identity | LeftOut::Sequence | LeftOut::RandomDefault
        )
    }

    pub(super) fn from_query(word: &str) -> anyhow::Result<LeftOut> {
        Ok(match word {
            "identity" => LeftOut::Identity,
            "sequence" => LeftOut::Sequence,
            "random_default" => LeftOut::RandomDefault,
            "generated_expression" => LeftOut::GeneratedExpression,
            "clock_default" => LeftOut::ClockDefault,
            "clock_trigger" => LeftOut::ClockTrigger,
            other => anyhow::bail!("unknown reason to leave a column out: {other}"),
        })
    }
}

/// The columns that name a row of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NaturalKey {
    /// The primary key or unique index chosen, or `None` when no key is free of left-out
    /// columns and all compared columns name the row.
    pub constraint: Option<String>,
    pub columns: Vec<String>,
}

/// One row in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CanonicalRow {
    /// The natural key's fields as rendered (see [`render_field`]), so that a NULL and the
    /// string `NULL` stay apart.
    pub key: Vec<String>,
    /// One per compared column, in the order of [`TableData::columns`]; `None` is NULL.
    pub values: Vec<Option<String>>,
}

/// The rows of one table and how they were made comparable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableData {
    /// The compared columns, by name: column order legitimately changes in a consolidation.
    pub columns: Vec<String>,
    pub natural_key: NaturalKey,
    /// Columns left out of the comparison, and why.
    pub left_out: BTreeMap<String, LeftOut>,
    /// Foreign key columns holding the natural key of the row they point at instead of its
    /// generated id, with the table pointed at.
    pub references: BTreeMap<String, String>,
    /// Sorted by key, then values. Reported by number only: the rows themselves would make
    /// a report as large as the database.
    #[serde(rename = "row_count", serialize_with = "serialize_len")]
    pub rows: Vec<CanonicalRow>,
}

/// The data of every user table of one database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataSnapshot {
    pub tables: BTreeMap<String, TableData>,
}

impl DataSnapshot {
    /// Reads every user table of the connected database, in one read-only snapshot.
    pub fn read(client: &mut postgres::Client) -> anyhow::Result<DataSnapshot> {
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .context("starting the data snapshot transaction")?;
        // Values print under the introspection's settings, so the same on both sides
        // whatever the caller's session looks like.
        tx.batch_execute(crate::schema::catalog::SETTINGS)
            .context("fixing the session settings for reading data")?;
        let shapes: Vec<TableShape> = catalog::read_tables(&mut tx)?.into_values().collect();
        let raw_tables = RawTable::read_all(&mut tx, shapes)?;
        tx.commit()?;
        Ok(canonicalize(&raw_tables))
    }

    /// Number of rows of each table, by table name.
    pub fn counts(&self) -> Vec<(&str, usize)> {
        self.tables
            .iter()
            .map(|(name, table)| (name.as_str(), table.rows.len()))
            .collect()
    }
}

fn serialize_len<S: Serializer>(rows: &[CanonicalRow], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(rows.len() as u64)
}

/// A natural key as a person reads it: a single field bare (`core.python`), several in
/// parentheses (`(core, core.python)`).
pub(super) fn render_key(fields: &[String]) -> String {
    match fields {
        [single] => single.clone(),
        fields => format!("({})", fields.join(", ")),
    }
}

/// A field of a natural key as text that cannot be mistaken for another: NULL bare, text
/// quoted (`"..."`, inner quotes doubled) when it could pass for NULL, a list separator or
/// a reference (`runtime(core.python)`, which is composed by [`Resolver`] and never quoted).
pub(super) fn render_field(value: Option<&str>) -> String {
    let Some(text) = value else {
        return "NULL".to_owned();
    };
    let ambiguous = text.is_empty()
        || text.eq_ignore_ascii_case("null")
        || text.trim() != text
        || text.contains(['(', ')', ',', '"']);
    if ambiguous {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A table's rows as read: every column that is not set from the clock, as text.
struct RawTable {
    shape: TableShape,
    /// The columns read, in physical order.
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl RawTable {
    /// Every table's rows in one round trip: one `SELECT` per table, sent together as a
    /// simple-protocol batch, whose values arrive as text. A query per table cost a round
    /// trip (two, prepared) per table, which dominated reading a thousand empty tables.
    /// Tables without storage pages ([`TableShape::known_empty`]) are not queried at all.
    fn read_all(
        tx: &mut postgres::Transaction<'_>,
        shapes: Vec<TableShape>,
    ) -> anyhow::Result<Vec<RawTable>> {
        let mut batch = String::new();
        // Indexes into `tables` of the tables queried, in the order their SELECTs are sent.
        let mut queried = Vec::new();
        let mut tables: Vec<RawTable> = shapes
            .into_iter()
            .enumerate()
            .map(|(index, shape)| {
                let read: Vec<_> = shape
                    .columns
                    .iter()
                    .filter(|c| {
                        !matches!(
                            c.left_out,
                            Some(LeftOut::ClockDefault | LeftOut::ClockTrigger)
                        )
                    })
                    .collect();
                // Every type has a text form; `::text` asks the server for it, under SETTINGS.
                let select_list: Vec<String> = read
                    .iter()
                    .map(|c| format!("{}::text", c.sql_name))
                    .collect();
                if !shape.known_empty {
                    queried.push(index);
                    batch.push_str(&format!(
                        "SELECT {} FROM {};\n",
                        select_list.join(", "),
                        shape.sql_name
                    ));
                }
                RawTable {
                    columns: read.iter().map(|c| c.name.clone()).collect(),
                    shape,
                    rows: Vec::new(),
                }
            })
            .collect();
        if queried.is_empty() {
            return Ok(tables);
        }
        let messages = tx
            .simple_query(&batch)
            .context("reading the rows of the user tables")?;
        // Each statement's rows end with its CommandComplete, in the order sent.
        let mut current = 0;
        for message in messages {
            match message {
                SimpleQueryMessage::Row(row) => {
                    let index = *queried.get(current).context("more results than tables")?;
                    let table = &mut tables[index];
                    table.rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_owned))
                            .collect(),
                    );
                }
                SimpleQueryMessage::CommandComplete(_) => current += 1,
                _ => {}
            }
        }
        anyhow::ensure!(
            current == queried.len(),
            "read {current} tables' rows, expected {}",
            queried.len()
        );
        Ok(tables)
    }

    fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// How one table's raw rows become canonical ones, in indexes into its raw columns.
struct TablePlan {
    /// Compared columns by name, with their raw index.
    compared: Vec<(String, usize)>,
    natural_key: NaturalKey,
    key_indexes: Vec<usize>,
    /// For a raw column replaced by a reference: which one.
    references: HashMap<usize, Reference>,
}

/// A foreign key to a generated id, resolved through the referenced table's rows.
#[derive(Clone)]
struct Reference {
    /// Index of the referenced table in the list of raw tables.
    table: usize,
    /// The raw indexes of the foreign key's columns here and there, in order.
    columns: Vec<usize>,
    referenced_columns: Vec<usize>,
}

fn plan(tables: &[RawTable], by_name: &HashMap<&str, usize>, table: &RawTable) -> TablePlan {
    let shape = &table.shape;
    let mut compared: Vec<(String, usize)> = shape
        .columns
        .iter()
        .filter(|c| c.left_out.is_none())
        .filter_map(|c| Some((c.name.clone(), table.column_index(&c.name)?)))
        .collect();
    compared.sort();

    let is_compared = |column: &str| compared.iter().any(|(name, _)| name == column);
    let is_nullable = |column: &str| shape.column(column).is_none_or(|c| !c.not_null);
    // A primary key first, then keys that cannot hold NULL (which unique indexes let
    // repeat), then by name for determinism.
    let chosen = shape
        .unique_keys
        .iter()
        .filter(|key| key.columns.iter().all(|c| is_compared(c)))
        .min_by_key(|key| {
            (
                !key.is_primary,
                key.columns.iter().any(|c| is_nullable(c)),
                key.name.as_str(),
            )
        });
    let natural_key = match chosen {
        Some(key) => NaturalKey {
            constraint: Some(key.name.clone()),
            columns: key.columns.clone(),
        },
        None => NaturalKey {
            constraint: None,
            columns: compared.iter().map(|(name, _)| name.clone()).collect(),
        },
    };
    let key_indexes = natural_key
        .columns
        .iter()
        .filter_map(|c| table.column_index(c))
        .collect();

    let mut references = HashMap::new();
    for foreign_key in &shape.foreign_keys {
        let Some(&target) = by_name.get(foreign_key.referenced_table.as_str()) else {
            continue;
        };
        let referenced = &tables[target];
        let to_generated_id = foreign_key.referenced_columns.iter().any(|c| {
            referenced
                .shape
                .column(c)
                .and_then(|c| c.left_out)
                .is_some_and(LeftOut::names_the_row)
        });
        let columns: Option<Vec<usize>> = foreign_key
            .columns
            .iter()
            .map(|c| table.column_index(c))
            .collect();
        let referenced_columns: Option<Vec<usize>> = foreign_key
            .referenced_columns
            .iter()
            .map(|c| referenced.column_index(c))
            .collect();
        let (true, Some(columns), Some(referenced_columns)) =
            (to_generated_id, columns, referenced_columns)
        else {
            continue;
        };
        let reference = Reference {
            table: target,
            columns: columns.clone(),
            referenced_columns,
        };
        // Keys are sorted by name: a column in two such foreign keys takes the first.
        for column in columns {
            references
                .entry(column)
                .or_insert_with(|| reference.clone());
        }
    }
    TablePlan {
        compared,
        natural_key,
        key_indexes,
        references,
    }
}

/// Builds the canonical form of every table.
fn canonicalize(tables: &[RawTable]) -> DataSnapshot {
    let by_name: HashMap<&str, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.shape.name.as_str(), i))
        .collect();
    let plans: Vec<TablePlan> = tables.iter().map(|t| plan(tables, &by_name, t)).collect();
    let mut resolver = Resolver::new(tables, &plans);

    let mut snapshot = DataSnapshot::default();
    for (t, table) in tables.iter().enumerate() {
        let plan = &plans[t];
        let mut rows: Vec<CanonicalRow> = (0..table.rows.len())
            .map(|r| CanonicalRow {
                key: resolver.natural_key(t, r),
                values: plan
                    .compared
                    .iter()
                    .map(|&(_, column)| resolver.value(t, r, column))
                    .collect(),
            })
            .collect();
        rows.sort();
        let name_of = |column: usize| table.columns[column].clone();
        snapshot.tables.insert(
            table.shape.name.clone(),
            TableData {
                columns: plan.compared.iter().map(|(name, _)| name.clone()).collect(),
                natural_key: plan.natural_key.clone(),
                left_out: table
                    .shape
                    .columns
                    .iter()
                    .filter_map(|c| Some((c.name.clone(), c.left_out?)))
                    .collect(),
                references: plan
                    .references
                    .iter()
                    .map(|(&column, reference)| {
                        (name_of(column), tables[reference.table].shape.name.clone())
                    })
                    .collect(),
                rows,
            },
        );
    }
    snapshot
}

/// For each (table, referenced columns): the row holding each combination of values.
type Lookups<'a> = HashMap<(usize, Vec<usize>), HashMap<Vec<Option<&'a str>>, usize>>;

/// Resolves natural keys and references row by row, remembering each row's key, since
/// every row that points at a runtime needs the runtime's.
struct Resolver<'a> {
    tables: &'a [RawTable],
    plans: &'a [TablePlan],
    lookups: Lookups<'a>,
    keys: HashMap<(usize, usize), Vec<String>>,
    /// Rows whose key is being resolved: a reference back to one of them is a cycle.
    resolving: HashSet<(usize, usize)>,
}

impl<'a> Resolver<'a> {
    fn new(tables: &'a [RawTable], plans: &'a [TablePlan]) -> Resolver<'a> {
        let mut lookups = Lookups::new();
        for reference in plans.iter().flat_map(|p| p.references.values()) {
            let target = &tables[reference.table];
            lookups
                .entry((reference.table, reference.referenced_columns.clone()))
                .or_insert_with(|| {
                    target
                        .rows
                        .iter()
                        .enumerate()
                        .map(|(r, row)| {
                            let values = reference
                                .referenced_columns
                                .iter()
                                .map(|&c| row[c].as_deref())
                                .collect();
                            (values, r)
                        })
                        .collect()
                });
        }
        Resolver {
            tables,
            plans,
            lookups,
            keys: HashMap::new(),
            resolving: HashSet::new(),
        }
    }

    /// The canonical value of a raw column: its text, or the reference it stands for.
    fn value(&mut self, table: usize, row: usize, column: usize) -> Option<String> {
        match self.plans[table].references.get(&column) {
            Some(reference) => self.reference(table, row, reference),
            None => self.tables[table].rows[row][column].clone(),
        }
    }

    /// The natural key of a row, as rendered fields.
    fn natural_key(&mut self, table: usize, row: usize) -> Vec<String> {
        if let Some(key) = self.keys.get(&(table, row)) {
            return key.clone();
        }
        self.resolving.insert((table, row));
        let plans = self.plans;
        let key: Vec<String> = plans[table]
            .key_indexes
            .iter()
            .map(|&column| {
                let value = self.value(table, row, column);
                if plans[table].references.contains_key(&column) {
                    value.unwrap_or_else(|| render_field(None))
                } else {
                    render_field(value.as_deref())
                }
            })
            .collect();
        self.resolving.remove(&(table, row));
        self.keys.insert((table, row), key.clone());
        key
    }

    /// `runtime(core.python)` for the row a foreign key points at; NULL when the foreign key
    /// is NULL. Where the natural key cannot be had (no such row, or a cycle of references
    /// through natural keys), the raw values are kept, marked, so that they still compare.
    fn reference(&mut self, table: usize, row: usize, reference: &Reference) -> Option<String> {
        let tables = self.tables;
        let values: Vec<Option<&str>> = reference
            .columns
            .iter()
            .map(|&c| tables[table].rows[row][c].as_deref())
            .collect();
        if values.iter().all(Option::is_none) {
            return None;
        }
        let target_name = &tables[reference.table].shape.name;
        let unresolved = |why: &str| {
            let raw: Vec<String> = values.iter().map(|v| render_field(*v)).collect();
            Some(format!("{target_name}({why} {})", raw.join(", ")))
        };
        let found = self
            .lookups
            .get(&(reference.table, reference.referenced_columns.clone()))
            .and_then(|rows| rows.get(&values))
            .copied();
        let Some(target_row) = found else {
            return unresolved("<no row>");
        };
        if self.resolving.contains(&(reference.table, target_row)) {
            return unresolved("<cycle>");
        }
        let key = self.natural_key(reference.table, target_row);
        Some(format!("{target_name}({})", key.join(", ")))
    }
}
