//! A live database's `_sqlx_migrations`, as sqlx 0.8 keeps it: reading its rows, sqlx's
//! checksum and advisory lock, and the rewrite `rebaseline` makes (with the backup that
//! `rebaseline --undo` restores from).
//!
//! The facts come from sqlx's sources: the table's layout and the row sqlx inserts
//! (sqlx-postgres `migrate.rs`), the checksum (sqlx-core `migrate/migration.rs`, and in
//! 0.9 the `[migrate]` section of `sqlx.toml`), the lock id (`generate_lock_id`).

pub mod lock;
mod settings;

use std::fmt;

use anyhow::{bail, Context};
use postgres::NoTls;
use serde::Serialize;

use crate::hex::hex;
use crate::migrations::Migration;
use crate::pg::{describe_database_url, parse_database_url, postgres_error, quote_ident};
pub use lock::LockedTarget;
pub use settings::SqlxSettings;

/// Shows up in the target's `pg_stat_activity`, so that its owners know who connected.
const APPLICATION_NAME: &str = "xtask rebaseline";

/// One row of `_sqlx_migrations`, every column as sqlx wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedRow {
    pub version: i64,
    pub description: String,
    /// As the server prints it in UTC, so that two reads compare equal.
    pub installed_on: String,
    pub success: bool,
    #[serde(serialize_with = "as_hex")]
    pub checksum: Vec<u8>,
    /// Nanoseconds; -1 when sqlx did not get to time the migration.
    pub execution_time: i64,
}

fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(bytes))
}

/// A row as sqlx inserts it after running a migration, the columns it leaves to their
/// defaults aside (`installed_on`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRow {
    pub version: i64,
    pub description: String,
    #[serde(serialize_with = "as_hex")]
    pub checksum: Vec<u8>,
}

impl NewRow {
    pub fn of(migration: &Migration, settings: &SqlxSettings) -> NewRow {
        NewRow {
            version: migration.version,
            description: migration.description.clone(),
            checksum: settings.checksum(migration),
        }
    }
}

/// The migrations table of one database, located through the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationsTable {
    /// Schema-qualified and quoted, fit to paste into SQL.
    pub qualified: String,
    /// Where `rebaseline --apply` keeps the rows it replaced, beside the table.
    pub backup: String,
    /// As people read it: `public._sqlx_migrations`.
    pub display: String,
    /// The table's and the backup's names as the schema model names them, so that a
    /// comparison of the live schema can leave them out.
    pub relnames: [String; 2],
}

impl fmt::Display for MigrationsTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// The backup's name is the table's with this suffix.
const BACKUP_SUFFIX: &str = "_rebaseline_backup";

/// Connects to the database a user named; errors never show the URL's password.
pub fn connect(url: &str) -> anyhow::Result<postgres::Client> {
    let redacted = describe_database_url(url);
    let mut config = parse_database_url(url)?;
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    config
        .connect(NoTls)
        .map_err(postgres_error)
        .with_context(|| format!("cannot connect to the target {redacted}"))
}

/// Finds the migrations table named by the settings (`_sqlx_migrations` unless `sqlx.toml`
/// renames it) the way sqlx's own statements would resolve the name; `None` when the
/// database has none, i.e. sqlx never ran there.
pub fn locate(
    client: &mut impl postgres::GenericClient,
    settings: &SqlxSettings,
) -> anyhow::Result<Option<MigrationsTable>> {
    let row = client
        .query_opt(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n \
             ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
            &[&settings.table],
        )
        .with_context(|| format!("cannot look up the migrations table {}", settings.table))?;
    Ok(row.map(|row| {
        let (schema, name): (String, String) = (row.get(0), row.get(1));
        let backup_name = format!("{name}{BACKUP_SUFFIX}");
        let model_name = |relname: &str| match schema.as_str() {
            "public" => relname.to_owned(),
            _ => format!("{schema}.{relname}"),
        };
        MigrationsTable {
            qualified: format!("{}.{}", quote_ident(&schema), quote_ident(&name)),
            backup: format!("{}.{}", quote_ident(&schema), quote_ident(&backup_name)),
            display: format!("{schema}.{name}"),
            relnames: [model_name(&name), model_name(&backup_name)],
        }
    }))
}

/// Every row, by version.
pub fn read_rows(
    client: &mut impl postgres::GenericClient,
    table: &str,
) -> anyhow::Result<Vec<AppliedRow>> {
    let sql = format!(
        "SELECT version, description, \
         to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || 'Z', \
         success, checksum, execution_time FROM {table} ORDER BY version"
    );
    let rows = client
        .query(&sql, &[])
        .with_context(|| format!("cannot read {table}"))?;
    Ok(rows
        .iter()
        .map(|row| AppliedRow {
            version: row.get(0),
            description: row.get(1),
            installed_on: row.get(2),
            success: row.get(3),
            checksum: row.get(4),
            execution_time: row.get(5),
        })
        .collect())
}

/// Whether the backup of an earlier `rebaseline --apply` is there.
pub fn has_backup(
    client: &mut impl postgres::GenericClient,
    table: &MigrationsTable,
) -> anyhow::Result<bool> {
    let row = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table.backup])
        .context("cannot look up the rebaseline backup table")?;
    Ok(row.get(0))
}

/// Replaces `expected` (the rows the decision was made on) with `rows`, in one
/// transaction: the old rows go to the backup table first. Refuses if the table changed
/// since it was read or a backup is already there.
pub fn rewrite(
    target: &mut LockedTarget,
    table: &MigrationsTable,
    expected: &[AppliedRow],
    rows: &[NewRow],
) -> anyhow::Result<()> {
    let mut tx = target.client().transaction()?;
    if read_rows(&mut tx, &table.qualified)? != expected {
        bail!("{table} changed while it was being checked; run the command again");
    }
    if has_backup(&mut tx, table)? {
        bail!(
            "{} already exists: an earlier rebaseline was undone by hand or is half-undone; \
             compare it with {table}, then drop it",
            table.backup
        );
    }
    tx.batch_execute(&format!(
        "CREATE TABLE {} AS SELECT * FROM {};\n\
         COMMENT ON TABLE {0} IS 'The rows of {1} before cargo xtask rebaseline; \
         cargo xtask rebaseline --undo restores them';\n\
         DELETE FROM {1};",
        table.backup, table.qualified
    ))
    .with_context(|| format!("cannot back up {table}"))?;
    // sqlx's own statement (sqlx-postgres `execute_migration`): the time defaults to now(),
    // and -1 stands for a migration it did not get to time, as here where none ran.
    let insert = format!(
        "INSERT INTO {} (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, TRUE, $3, -1)",
        table.qualified
    );
    for row in rows {
        tx.execute(&insert, &[&row.version, &row.description, &row.checksum])
            .with_context(|| format!("cannot record version {} in {table}", row.version))?;
    }
    tx.commit()
        .with_context(|| format!("cannot commit the new rows of {table}"))
}

/// Puts back the rows kept by [`rewrite`] and drops the backup, in one transaction.
/// A row outside `consolidated`, or recorded at another time than the rewrite's, was
/// applied since; restoring the old rows would hide it, so that is refused.
pub fn restore(
    target: &mut LockedTarget,
    table: &MigrationsTable,
    consolidated: &[NewRow],
) -> anyhow::Result<usize> {
    let mut tx = target.client().transaction()?;
    if !has_backup(&mut tx, table)? {
        bail!(
            "{table} has no backup ({} does not exist): there is no rebaseline to undo",
            table.backup
        );
    }
    // The rewrite recorded every row in one transaction, so at one time, the earliest.
    let rows = read_rows(&mut tx, &table.qualified)?;
    let rewritten_at = rows.iter().map(|row| &row.installed_on).min();
    let since: Vec<String> = rows
        .iter()
        .filter(|row| {
            !consolidated.iter().any(|c| c.version == row.version)
                || Some(&row.installed_on) != rewritten_at
        })
        .map(|row| format!("{} ({})", row.version, row.description))
        .collect();
    if !since.is_empty() {
        bail!(
            "{table} holds versions applied after the rebaseline: {}; restoring the history's \
             rows would hide them. Revert those migrations first",
            since.join(", ")
        );
    }
    tx.batch_execute(&format!(
        "DELETE FROM {0};\nINSERT INTO {0} SELECT * FROM {1};\nDROP TABLE {1};",
        table.qualified, table.backup
    ))
    .with_context(|| format!("cannot restore {table} from {}", table.backup))?;
    let restored = read_rows(&mut tx, &table.qualified)?.len();
    tx.commit()
        .with_context(|| format!("cannot commit the restored rows of {table}"))?;
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_that_cannot_be_reached_is_named_without_its_password() {
        // Port 1: nothing listens there, so the connection is refused at once.
        let err = format!(
            "{:#}",
            connect("postgres://app:hunter2@127.0.0.1:1/attune")
                .err()
                .expect("nothing listens on port 1")
        );
        assert!(
            err.contains("cannot connect to the target postgres://127.0.0.1:1/attune"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
}
