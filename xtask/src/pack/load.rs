//! Loading a pack into a database in one transaction: an upsert by `ref` per row, in the
//! order that lets each row find the rows it refers to (pack, runtimes, triggers,
//! actions, sensors). A row whose values are already there is left untouched, so loading
//! twice changes nothing, not even `updated`.

use std::collections::HashMap;
use std::fmt;

use anyhow::Context;
use postgres::types::{Json, ToSql};
use postgres::GenericClient;
use serde_json::Value;

use super::{Definition, Pack, PackFile};

/// What a load did to each table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// In load order.
    pub tables: Vec<TableSummary>,
}

/// What a load did to one table's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: &'static str,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl LoadSummary {
    #[cfg(test)]
    pub fn table(&self, table: &str) -> Option<&TableSummary> {
        self.tables.iter().find(|summary| summary.table == table)
    }

    /// Whether any row was inserted or updated.
    pub fn changed(&self) -> bool {
        self.tables
            .iter()
            .any(|summary| summary.inserted + summary.updated > 0)
    }

    fn record(&mut self, table: &'static str, outcome: Outcome) {
        let index = match self
            .tables
            .iter()
            .position(|summary| summary.table == table)
        {
            Some(index) => index,
            None => {
                self.tables.push(TableSummary {
                    table,
                    inserted: 0,
                    updated: 0,
                    unchanged: 0,
                });
                self.tables.len() - 1
            }
        };
        let summary = &mut self.tables[index];
        match outcome {
            Outcome::Inserted => summary.inserted += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Unchanged => summary.unchanged += 1,
        }
    }
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>8} {:>8} {:>9}",
            "table", "inserted", "updated", "unchanged"
        )?;
        for summary in &self.tables {
            writeln!(
                f,
                "{:<10} {:>8} {:>8} {:>9}",
                summary.table, summary.inserted, summary.updated, summary.unchanged
            )?;
        }
        Ok(())
    }
}

enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

/// The tables a pack's rows go to.
const PACK_TABLES: [&str; 5] = ["pack", "runtime", "trigger", "action", "sensor"];

impl Pack {
    /// Inserts or updates every row the pack defines, in one transaction: all of it is
    /// loaded, or nothing is. Rows of the tables that the pack no longer defines are kept.
    pub fn load(&self, client: &mut postgres::Client) -> anyhow::Result<LoadSummary> {
        let mut transaction = client.transaction().context("cannot start a transaction")?;
        let missing: Vec<String> = transaction
            .query(
                "SELECT t FROM unnest($1::text[]) t WHERE to_regclass(quote_ident(t)) IS NULL",
                &[&PACK_TABLES.to_vec()],
            )
            .context("cannot look for the pack's tables")?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "the schema is missing (no table {}): run the migrations first",
                missing.join(", no table ")
            );
        }
        let mut summary = LoadSummary::default();
        let manifest = &self.manifest;
        let pack = &manifest.definition;
        let pack_ref = pack.reference.value.as_str();

        let outcome = RowUpsert::new("pack", pack_ref)
            .column("label", Some(&pack.label))
            .column("description", pack.description.as_ref())
            .column("version", Some(&pack.version.value))
            .json("conf_schema", pack.conf_schema.as_ref())
            .json("config", pack.config.as_ref())
            .json("meta", pack.meta.as_ref())
            .column("tags", pack.tags.as_ref())
            .column("runtime_deps", pack.runtime_deps.as_ref())
            .json("installers", pack.installers.as_ref())
            .column("is_standard", pack.is_standard.as_ref())
            .execute(&mut transaction)
            .with_context(|| self.failed_at(manifest))?;
        summary.record("pack", outcome);
        let pack_ids = ids_by_ref(&mut transaction, "pack", &[pack_ref])?;
        let pack_id = resolve(&pack_ids, "pack", pack_ref)?;

        for file in &self.runtimes {
            let runtime = &file.definition;
            let outcome = RowUpsert::new("runtime", &runtime.reference.value)
                .column("pack", Some(&pack_id))
                .column("pack_ref", Some(&pack_ref))
                .column("name", Some(&runtime.name))
                .column("description", runtime.description.as_ref())
                .json("distributions", runtime.distributions.as_ref())
                .json("installation", runtime.installation.as_ref())
                .execute(&mut transaction)
                .with_context(|| self.failed_at(file))?;
            summary.record("runtime", outcome);
        }
        let runtime_ids = ids_of(&mut transaction, &self.runtimes)?;

        for file in &self.triggers {
            let trigger = &file.definition;
            let outcome = RowUpsert::new("trigger", &trigger.reference.value)
                .column("pack", Some(&pack_id))
                .column("pack_ref", Some(&pack_ref))
                .column("label", Some(&trigger.label))
                .column("description", trigger.description.as_ref())
                .column("enabled", trigger.enabled.as_ref())
                .json("param_schema", trigger.param_schema.as_ref())
                .json("out_schema", trigger.out_schema.as_ref())
                .column("webhook_enabled", trigger.webhook_enabled.as_ref())
                .json("webhook_config", trigger.webhook_config.as_ref())
                .execute(&mut transaction)
                .with_context(|| self.failed_at(file))?;
            summary.record("trigger", outcome);
        }
        let trigger_ids = ids_of(&mut transaction, &self.triggers)?;

        for file in &self.actions {
            let action = &file.definition;
            let runtime_id = action
                .runtime
                .as_ref()
                .map(|runtime| resolve(&runtime_ids, "runtime", &runtime.value))
                .transpose()?;
            let outcome = RowUpsert::new("action", &action.reference.value)
                .column("pack", Some(&pack_id))
                .column("pack_ref", Some(&pack_ref))
                .column("label", Some(&action.label))
                .column("description", action.description.as_ref())
                .column("entrypoint", Some(&action.entrypoint.value))
                .column("runtime", runtime_id.as_ref())
                .json("param_schema", action.param_schema.as_ref())
                .json("out_schema", action.out_schema.as_ref())
                .column(
                    "timeout_seconds",
                    action
                        .timeout_seconds
                        .as_ref()
                        .map(|timeout| &timeout.value),
                )
                .column("enabled", action.enabled.as_ref())
                .column("is_adhoc", Some(&false))
                .execute(&mut transaction)
                .with_context(|| self.failed_at(file))?;
            summary.record("action", outcome);
        }

        for file in &self.sensors {
            let sensor = &file.definition;
            let runtime_id = resolve(&runtime_ids, "runtime", &sensor.runtime.value)?;
            let trigger_id = resolve(&trigger_ids, "trigger", &sensor.trigger.value)?;
            let outcome = RowUpsert::new("sensor", &sensor.reference.value)
                .column("pack", Some(&pack_id))
                .column("pack_ref", Some(&pack_ref))
                .column("label", Some(&sensor.label))
                .column("description", Some(&sensor.description))
                .column("entrypoint", Some(&sensor.entrypoint.value))
                .column("runtime", Some(&runtime_id))
                .column("runtime_ref", Some(&sensor.runtime.value))
                .column("trigger", Some(&trigger_id))
                .column("trigger_ref", Some(&sensor.trigger.value))
                .column("enabled", sensor.enabled.as_ref())
                .json("param_schema", sensor.param_schema.as_ref())
                .json("config", sensor.config.as_ref())
                .column(
                    "poll_interval_seconds",
                    sensor
                        .poll_interval_seconds
                        .as_ref()
                        .map(|interval| &interval.value),
                )
                .column("is_adhoc", Some(&false))
                .execute(&mut transaction)
                .with_context(|| self.failed_at(file))?;
            summary.record("sensor", outcome);
        }

        transaction
            .commit()
            .context("cannot commit the pack's rows")?;
        Ok(summary)
    }

    fn failed_at<T>(&self, file: &PackFile<T>) -> String {
        format!("cannot load {}", self.dir.join(&file.path).display())
    }
}

/// One `INSERT ... ON CONFLICT (ref) DO UPDATE` for one row, values as parameters.
///
/// Every column the pack decides is listed, given or not; a column whose field is left
/// out is not inserted, so the database fills its default (or NULL), and the update
/// takes that default too, from `EXCLUDED`: removing a field from a file resets the
/// column. The update happens only when some column differs, which keeps `updated` (set
/// by a trigger on every UPDATE) still when nothing changed.
struct RowUpsert<'a> {
    table: &'static str,
    /// Every column set from the pack, `ref` excepted.
    columns: Vec<&'static str>,
    /// The columns given a value in this row, `ref` first, with their values.
    given: Vec<(&'static str, Box<dyn ToSql + Sync + 'a>)>,
}

impl<'a> RowUpsert<'a> {
    fn new(table: &'static str, reference: &'a str) -> RowUpsert<'a> {
        RowUpsert {
            table,
            columns: Vec::new(),
            given: vec![("ref", Box::new(reference))],
        }
    }

    fn column<T: ToSql + Sync + 'a>(mut self, column: &'static str, value: Option<T>) -> Self {
        self.columns.push(column);
        if let Some(value) = value {
            self.given.push((column, Box::new(value)));
        }
        self
    }

    fn json(self, column: &'static str, value: Option<&'a Value>) -> Self {
        self.column(column, value.map(Json))
    }

    /// The statement names only the table's own columns; every value is a parameter.
    fn execute(self, client: &mut impl GenericClient) -> anyhow::Result<Outcome> {
        let table = self.table;
        let given_columns: Vec<&str> = self.given.iter().map(|(column, _)| *column).collect();
        let placeholders: Vec<String> = (1..=self.given.len()).map(|n| format!("${n}")).collect();
        let assignments: Vec<String> = self
            .columns
            .iter()
            .map(|column| format!("{column} = EXCLUDED.{column}"))
            .collect();
        let current: Vec<String> = self
            .columns
            .iter()
            .map(|column| format!("{table}.{column}"))
            .collect();
        let excluded: Vec<String> = self
            .columns
            .iter()
            .map(|column| format!("EXCLUDED.{column}"))
            .collect();
        // xmax is 0 in a row version that no transaction has updated or deleted: the row
        // was just inserted, not updated.
        let statement = format!(
            "INSERT INTO {table} ({}) VALUES ({}) \
             ON CONFLICT (ref) DO UPDATE SET {} \
             WHERE ({}) IS DISTINCT FROM ({}) \
             RETURNING (xmax = 0) AS inserted",
            given_columns.join(", "),
            placeholders.join(", "),
            assignments.join(", "),
            current.join(", "),
            excluded.join(", "),
        );
        let parameters: Vec<&(dyn ToSql + Sync)> =
            self.given.iter().map(|(_, value)| value.as_ref()).collect();
        let row = client.query_opt(&statement, &parameters)?;
        Ok(match row {
            None => Outcome::Unchanged,
            Some(row) if row.get::<_, bool>("inserted") => Outcome::Inserted,
            Some(_) => Outcome::Updated,
        })
    }
}

fn ids_of<T: Definition>(
    client: &mut impl GenericClient,
    files: &[PackFile<T>],
) -> anyhow::Result<HashMap<String, i64>> {
    let refs: Vec<&str> = files
        .iter()
        .map(|file| file.definition.reference().value.as_str())
        .collect();
    ids_by_ref(client, T::TABLE, &refs)
}

/// The ids of the rows with these refs, as the transaction sees them.
fn ids_by_ref(
    client: &mut impl GenericClient,
    table: &'static str,
    refs: &[&str],
) -> anyhow::Result<HashMap<String, i64>> {
    let rows = client
        .query(
            &format!("SELECT ref, id FROM {table} WHERE ref = ANY($1)"),
            &[&refs],
        )
        .with_context(|| format!("cannot look up {table} ids"))?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// A row upserted earlier in the transaction; a reference [`Pack::read`] checked, so
/// missing only for a `Pack` built by hand.
fn resolve(ids: &HashMap<String, i64>, table: &str, reference: &str) -> anyhow::Result<i64> {
    ids.get(reference)
        .copied()
        .with_context(|| format!("{table} {reference} is not defined by the pack"))
}
