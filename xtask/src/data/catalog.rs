//! What the data comparison needs to know about each user table, read from the catalog in
//! four queries for the whole database: the tables and whether they are empty, their
//! columns and which of them only record when or in which order a row was made, their
//! unique keys, and their foreign keys.
//!
//! Keys are read from `pg_index.indkey` and `pg_constraint.conkey`/`confkey` rather than
//! parsed from printed definitions. Only a column's default and a trigger function's body
//! are matched as text, because whether they read the clock is not recorded anywhere else
//! (dependencies on built-in functions are not stored in `pg_depend`).

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use postgres::types::Oid;
use postgres::Transaction;

use super::snapshot::LeftOut;
use crate::schema::catalog::{display_name, user_relation};

/// The table `c` in the namespace `n` holds rows of ours: a user relation (see
/// [`user_relation`]) that is an ordinary or partitioned table (a partition's rows are
/// read through its parent).
macro_rules! user_table {
    ($n:literal, $c:literal) => {
        concat!(
            "(",
            $c,
            ".relkind IN ('r', 'p') AND NOT ",
            $c,
            ".relispartition AND ",
            user_relation!($c, $n),
            ")"
        )
    };
}

/// An expression that reads the clock, as PostgreSQL prints it (`now()`,
/// `CURRENT_TIMESTAMP`, `(now() + '1 day'::interval)`): an advanced regular expression,
/// matched case-insensitively.
const CLOCK_EXPRESSION: &str = r"\m(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\s*\(|\m(current_timestamp|current_date|current_time|localtimestamp|localtime)\M";

/// An expression that draws a random value (`gen_random_uuid()`,
/// `encode(gen_random_bytes(16), 'hex')`): such a value names a row as arbitrarily as a
/// sequence does.
const RANDOM_EXPRESSION: &str = r"\m(gen_random_uuid|uuid_generate_v1|uuid_generate_v1mc|uuid_generate_v4|gen_random_bytes|random)\s*\(";

/// Every live column of every user table, by table OID, with its number (keys name their
/// columns by number, and the caller puts each table's columns in that order: sorting here
/// copied every row's text once more) and why it is left out of the comparison (NULL:
/// compared). `$1` is [`RANDOM_EXPRESSION`], `$2`
/// [`CLOCK_EXPRESSION`]. A column counts as set from the clock by a trigger when an enabled
/// row-level BEFORE trigger's function assigns `NEW.<column>` from the clock, the way
/// `update_updated_column()` keeps `updated` current. The assignments are found once per
/// trigger with one fixed pattern and joined (DISTINCT: at most one match a column); a
/// pattern holding each column's name was compiled once per column, which was most of this
/// query's time. Bodies that contain none of the clock functions' names (compared without
/// word boundaries, so a superset) are not matched at all: the pattern cost ~20 µs a body,
/// and a body is lowered once for all six names, where `ILIKE ANY` lowered it for each.
/// Each default is printed once (`OFFSET 0` keeps the subquery from being folded into the
/// three tests that read it). Columns are looked up table by table through
/// `pg_attribute`'s index (`OFFSET 0` keeps the lateral subquery from being flattened into
/// a join): a hash join read all of `pg_attribute`, the system catalogs' columns and every
/// index's included, several times the rows wanted.
const COLUMNS: &str = concat!(
    "
WITH clock_assigned AS (
    SELECT DISTINCT t.tgrelid AS relid, lower(btrim(m[1], '\"')) AS column_name
    FROM pg_trigger t
    JOIN pg_proc p ON p.oid = t.tgfoid
    CROSS JOIN LATERAL regexp_matches(
        p.prosrc, '\\mnew\\s*\\.\\s*(\"[^\"]+\"|[\\w$]+)\\s*:?=\\s*(' || $2 || ')', 'gi') AS m
    WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgtype & 3 = 3
      AND lower(p.prosrc) LIKE ANY (ARRAY['%now%', '%timestamp%', '%timeofday%',
                                          '%current_date%', '%current_time%', '%localtime%'])
)
SELECT a.attrelid AS table_oid,
       a.attnum,
       a.attname::text AS column_name,
       quote_ident(a.attname) AS column_sql,
       a.attnotnull AS not_null,
       CASE WHEN a.attidentity <> '' THEN 'identity'
            WHEN a.attgenerated <> '' THEN 'generated_expression'
            WHEN d.expr ~* '^nextval\\(' THEN 'sequence'
            WHEN d.expr ~* $1 THEN 'random_default'
            WHEN d.expr ~* $2 THEN 'clock_default'
            WHEN ca.relid IS NOT NULL THEN 'clock_trigger'
       END AS left_out
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT * FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    OFFSET 0) a
LEFT JOIN (SELECT adrelid, adnum, pg_get_expr(adbin, adrelid) AS expr FROM pg_attrdef OFFSET 0) d
       ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN clock_assigned ca ON ca.relid = c.oid AND ca.column_name = lower(a.attname)
WHERE ",
    user_table!("n", "c")
);

/// Every user table, by OID, and whether it has no storage pages, and so no rows. Asking
/// for the size is a file-system lookup per table, far cheaper than parsing, planning and
/// running a `SELECT` on each of a thousand empty tables. Partitioned tables have no storage
/// of their own, so only ordinary tables can be known to be empty.
const TABLES: &str = concat!(
    "
SELECT c.oid,
       ",
    display_name!("n.nspname", "c.relname"),
    " AS table_name,
       format('%I.%I', n.nspname, c.relname) AS table_sql,
       c.relkind = 'r' AND pg_relation_size(c.oid) = 0 AS known_empty
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ",
    user_table!("n", "c")
);

/// Unique indexes over plain columns, whether a constraint made them or `CREATE UNIQUE
/// INDEX` did; partial and expression indexes do not name a row by its values alone, and
/// INCLUDE columns (after the first `indnkeyatts`) are not part of the key. Columns come as
/// numbers, named from [`COLUMNS`]: joining `pg_attribute` for each key column cost more
/// than the rest of the query. Indexes of tables that are not user tables are dropped by
/// the caller.
const UNIQUE_KEYS: &str = "
SELECT x.indrelid AS table_oid,
       i.relname::text AS key_name,
       x.indisprimary AS is_primary,
       x.indnkeyatts::int AS key_count,
       x.indkey::int2[] AS columns
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indisunique AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL";

/// Foreign keys with their columns as numbers, in order, named from [`COLUMNS`]. Copies of
/// a partitioned table's foreign key on its partitions (`conparentid <> 0`) are left out:
/// the parent's stands for them. Keys of tables that are not user tables, or to tables
/// that are not (a partition, say), are dropped by the caller.
const FOREIGN_KEYS: &str = "
SELECT k.conrelid AS table_oid,
       k.conname::text AS key_name,
       k.confrelid AS referenced_oid,
       k.conkey AS columns,
       k.confkey AS referenced_columns
FROM pg_constraint k
WHERE k.contype = 'f' AND k.conparentid = 0";

/// A user table as the data comparison sees it.
#[derive(Debug, Clone)]
pub(super) struct TableShape {
    /// As the schema model names it: `runtime`, `auth.users`.
    pub name: String,
    /// Quoted and qualified, to be pasted into a query.
    pub sql_name: String,
    /// In physical order.
    pub columns: Vec<ColumnShape>,
    pub unique_keys: Vec<UniqueKey>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The table has no storage pages, so there are no rows to read.
    pub known_empty: bool,
}

#[derive(Debug, Clone)]
pub(super) struct ColumnShape {
    pub name: String,
    /// Quoted, to be pasted into a query.
    pub sql_name: String,
    pub not_null: bool,
    pub left_out: Option<LeftOut>,
}

#[derive(Debug, Clone)]
pub(super) struct UniqueKey {
    /// The index's name, which is the constraint's when a constraint made it.
    pub name: String,
    pub is_primary: bool,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
}

impl TableShape {
    pub fn column(&self, name: &str) -> Option<&ColumnShape> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Reads the shape of every user table, by name.
pub(super) fn read_tables(
    tx: &mut Transaction<'_>,
) -> anyhow::Result<BTreeMap<String, TableShape>> {
    let mut tables: HashMap<Oid, CatalogTable> = HashMap::new();
    for row in &tx.query(TABLES, &[]).context("listing the user tables")? {
        let shape = TableShape {
            name: row.try_get("table_name")?,
            sql_name: row.try_get("table_sql")?,
            columns: Vec::new(),
            unique_keys: Vec::new(),
            foreign_keys: Vec::new(),
            known_empty: row.try_get("known_empty")?,
        };
        let table = CatalogTable {
            shape,
            columns: Vec::new(),
            column_names: HashMap::new(),
        };
        tables.insert(row.try_get("oid")?, table);
    }

    for row in &tx
        .query(COLUMNS, &[&RANDOM_EXPRESSION, &CLOCK_EXPRESSION])
        .context("listing the columns of the user tables")?
    {
        let left_out: Option<String> = row.try_get("left_out")?;
        let column = ColumnShape {
            name: row.try_get("column_name")?,
            sql_name: row.try_get("column_sql")?,
            not_null: row.try_get("not_null")?,
            left_out: left_out.as_deref().map(LeftOut::from_query).transpose()?,
        };
        if let Some(table) = tables.get_mut(&row.try_get("table_oid")?) {
            let number: i16 = row.try_get("attnum")?;
            table.column_names.insert(number, column.name.clone());
            table.columns.push((number, column));
        }
    }

    let mut unique_keys = Vec::new();
    for row in &tx
        .query(UNIQUE_KEYS, &[])
        .context("listing the unique keys of the user tables")?
    {
        let Some(table) = tables.get(&row.try_get("table_oid")?) else {
            continue;
        };
        let key_count: i32 = row.try_get("key_count")?;
        let numbers: Vec<i16> = row.try_get("columns")?;
        let key_count = usize::try_from(key_count).unwrap_or(0).min(numbers.len());
        let Some(columns) = table.names(&numbers[..key_count]) else {
            continue;
        };
        let key = UniqueKey {
            name: row.try_get("key_name")?,
            is_primary: row.try_get("is_primary")?,
            columns,
        };
        unique_keys.push((row.try_get::<_, Oid>("table_oid")?, key));
    }

    let mut foreign_keys = Vec::new();
    for row in &tx
        .query(FOREIGN_KEYS, &[])
        .context("listing the foreign keys of the user tables")?
    {
        let (Some(table), Some(referenced)) = (
            tables.get(&row.try_get("table_oid")?),
            tables.get(&row.try_get("referenced_oid")?),
        ) else {
            continue;
        };
        let (Some(columns), Some(referenced_columns)) = (
            table.names(&row.try_get::<_, Vec<i16>>("columns")?),
            referenced.names(&row.try_get::<_, Vec<i16>>("referenced_columns")?),
        ) else {
            continue;
        };
        let key = ForeignKey {
            name: row.try_get("key_name")?,
            columns,
            referenced_table: referenced.shape.name.clone(),
            referenced_columns,
        };
        foreign_keys.push((row.try_get::<_, Oid>("table_oid")?, key));
    }

    for (oid, key) in unique_keys {
        tables
            .entry(oid)
            .and_modify(|t| t.shape.unique_keys.push(key));
    }
    for (oid, key) in foreign_keys {
        tables
            .entry(oid)
            .and_modify(|t| t.shape.foreign_keys.push(key));
    }
    // The catalog returns keys in no particular order; the choices made from these lists
    // must not depend on the order the server happened to return them in.
    Ok(tables
        .into_values()
        .map(|mut table| {
            table.columns.sort_by_key(|(number, _)| *number);
            table.shape.columns = table.columns.into_iter().map(|(_, c)| c).collect();
            table.shape.unique_keys.sort_by(|a, b| a.name.cmp(&b.name));
            table.shape.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            (table.shape.name.clone(), table.shape)
        })
        .collect())
}

/// A table while its shape is read: its columns by number, in the order the server sent
/// them, and their names by number, for the keys.
struct CatalogTable {
    shape: TableShape,
    columns: Vec<(i16, ColumnShape)>,
    column_names: HashMap<i16, String>,
}

impl CatalogTable {
    /// The names of the columns numbered `numbers`, in that order; `None` when one is not a
    /// live column, which no key of ours can use.
    fn names(&self, numbers: &[i16]) -> Option<Vec<String>> {
        numbers
            .iter()
            .map(|number| self.column_names.get(number).cloned())
            .collect()
    }
}
