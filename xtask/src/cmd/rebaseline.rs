//! `cargo xtask rebaseline --target URL`: moves a live database that ran the history onto
//! the consolidated set by rewriting its `_sqlx_migrations`, after proving that its schema
//! is the one the consolidated set builds. No DDL touches the target's own objects.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use postgres::IsolationLevel;
use serde::Serialize;

use super::{load_accepted, refuse_if_interrupted, ServerArgs};
use crate::config::Config;
use crate::exit;
use crate::migrations::{ChainRole, Migration, MigrationChain};
use crate::pg::{describe_database_url, ScratchServer};
use crate::report::{write_grouped, Format};
use crate::schema::diff::{Difference, SchemaDiff};
use crate::schema::introspect::introspect;
use crate::schema::model::Schema;
use crate::sqlx_table::{self, AppliedRow, LockedTarget, MigrationsTable, NewRow, SqlxSettings};
use crate::tree::{baseline, BaselineRecord, LockRecord, Tree, TreeState};
use crate::ui::{self, Progress};

/// Move a database migrated by the history onto the consolidated set, without DDL
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask rebaseline --target postgres://app@db.example/attune            # the plan\n  \
    cargo xtask rebaseline --target postgres://app@db.example/attune --apply    # do it\n  \
    cargo xtask rebaseline --target postgres://app@db.example/attune --undo     # undo it\n\n\
    Exit status: 0 rebaselined, already rebaselined, or ready to be (the plan is printed); \
    1 refused (behind, drifted or tampered); 2 could not run.")]
pub struct Rebaseline {
    /// The database to move (it is written to only with --apply or --undo)
    #[arg(long, value_name = "URL")]
    target: String,

    /// The original history [default: <root>/migrations.old]
    #[arg(long, value_name = "DIR")]
    old: Option<PathBuf>,

    /// The consolidated set [default: <root>/migrations]
    #[arg(long, value_name = "DIR")]
    new: Option<PathBuf>,

    /// Replace the history's rows with the consolidated set's, keeping them in a backup table
    #[arg(long, conflicts_with = "undo")]
    apply: bool,

    /// Restore the rows an earlier --apply replaced
    #[arg(long)]
    undo: bool,

    /// How long to wait for sqlx's migration lock while a migrator holds it
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    lock_timeout: u64,

    /// Reviewed, intended differences [default: <root>/accepted-differences.toml, if present]
    #[arg(long, value_name = "FILE")]
    accepted: Option<PathBuf>,

    /// Fail when a table's columns are in another order (otherwise a note)
    #[arg(long)]
    strict_column_order: bool,

    #[command(flatten)]
    server: ServerArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Where the target stands.
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// No migration was ever applied: the application's migrator runs the consolidated set.
    NothingApplied,
    /// Every version of the history applied, unaltered, and the schema is the consolidated
    /// set's: the rows can be swapped.
    EndOfHistory {
        remove: Vec<AppliedRow>,
        add: Vec<NewRow>,
        /// Column order and the like, which do not stand in the way.
        notes: Vec<Difference>,
    },
    /// Versions of the history not applied yet.
    Behind { missing: Vec<Version> },
    /// The rows say end of history, the schema says otherwise.
    Drifted { differences: Vec<Difference> },
    /// Rows that no file accounts for.
    Tampered { problems: Vec<String> },
    /// Already on the consolidated set; `pending` are versions sqlx will apply.
    Rebaselined { pending: Vec<Version> },
}

#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub version: i64,
    pub description: String,
}

impl Standing {
    fn exit_code(&self) -> u8 {
        match self {
            Standing::NothingApplied
            | Standing::EndOfHistory { .. }
            | Standing::Rebaselined { .. } => exit::OK,
            Standing::Behind { .. } | Standing::Drifted { .. } | Standing::Tampered { .. } => {
                exit::DIFFERENT
            }
        }
    }
}

/// What a run printed as JSON.
#[derive(Serialize)]
struct Outcome<'a> {
    target: String,
    database: &'a str,
    table: Option<&'a str>,
    #[serde(flatten)]
    standing: &'a Standing,
    /// With --apply: whether the rows were replaced.
    applied: bool,
}

/// Where the target stood, and whether --apply moved it.
struct Judged {
    standing: Standing,
    applied: bool,
    database: String,
    table: Option<MigrationsTable>,
}

struct Undone {
    database: String,
    table: MigrationsTable,
    restored: usize,
}

/// The three sets a live database is judged against.
pub struct Sets {
    pub history: Option<MigrationChain>,
    /// The consolidated set as recorded, without the migrations added after it.
    pub consolidated: MigrationChain,
    pub new_since: Vec<Migration>,
}

impl Sets {
    /// The tree's directories (or the ones given), with `migrations/` split at the record
    /// of the consolidation when there is one. `history` says whether it must be there.
    pub fn read(
        root: &Path,
        old: Option<&Path>,
        new: Option<&Path>,
        history: bool,
    ) -> anyhow::Result<Sets> {
        let tree = Tree::new(root);
        let recorded = match (old, new) {
            (None, None) => match refuse_if_interrupted(&tree)? {
                TreeState::Consolidated(_) => {
                    Some(LockRecord::read(&tree.lock_path())?.consolidated.manifest)
                }
                TreeState::Retired(_) => {
                    Some(BaselineRecord::read(&tree.baseline_path())?.manifest)
                }
                _ => None,
            },
            _ => None,
        };
        let new_dir = new.map_or_else(|| tree.migrations(), Path::to_path_buf);
        let chain = MigrationChain::resolve(&new_dir, ChainRole::Consolidated)?;
        let (consolidated, new_since) = match recorded {
            Some(manifest) => {
                let split = baseline::split(&chain, &manifest);
                (split.consolidated, split.new_since)
            }
            None => (chain, Vec::new()),
        };
        if history && old.is_none() && tree.baseline_path().exists() {
            bail!(
                "the history is retired ({}): rebaseline compares a database with it; pass \
                 --old with a copy of the history as it was before `cargo xtask retire` (git \
                 has it)",
                tree.baseline_path().display()
            );
        }
        let history = match history {
            true => {
                let old_dir = old.map_or_else(|| tree.backup(), Path::to_path_buf);
                Some(MigrationChain::resolve(&old_dir, ChainRole::History)?)
            }
            false => None,
        };
        Ok(Sets {
            history,
            consolidated,
            new_since,
        })
    }

    /// The rows sqlx records for the consolidated set.
    pub fn consolidated_rows(&self, settings: &SqlxSettings) -> Vec<NewRow> {
        rows_of(&self.consolidated.migrations, settings)
    }
}

fn rows_of(migrations: &[Migration], settings: &SqlxSettings) -> Vec<NewRow> {
    migrations.iter().map(|m| NewRow::of(m, settings)).collect()
}

impl Rebaseline {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let json = self.format == Format::Json;
        ui::report_errors_as_json(json);
        self.rebaseline(root)
    }

    fn rebaseline(&self, root: &Path) -> anyhow::Result<u8> {
        let target_shown = describe_database_url(&self.target);
        if self.undo {
            let undone = self.undo(root)?;
            match self.format {
                Format::Json => println!(
                    "{:#}",
                    serde_json::json!({
                        "target": target_shown,
                        "database": undone.database,
                        "table": undone.table.display,
                        "state": "undone",
                        "restored": undone.restored,
                    })
                ),
                Format::Human => println!(
                    "undone: {} holds its {} again, as before the rebaseline; {} is dropped",
                    undone.table,
                    ui::count(undone.restored, "row"),
                    undone.table.backup
                ),
            }
            return Ok(exit::OK);
        }
        let judged = self.judge(root)?;
        let outcome = Outcome {
            target: target_shown,
            database: &judged.database,
            table: judged.table.as_ref().map(|t| t.display.as_str()),
            standing: &judged.standing,
            applied: judged.applied,
        };
        match self.format {
            Format::Json => {
                serde_json::to_writer_pretty(anstream::stdout().lock(), &outcome)?;
                println!();
            }
            Format::Human => print_human(&outcome, judged.table.as_ref())?,
        }
        Ok(judged.standing.exit_code())
    }

    /// Takes the lock, says where the target stands and, with --apply, moves it.
    fn judge(&self, root: &Path) -> anyhow::Result<Judged> {
        let config = Config::load(root)?;
        let settings = SqlxSettings::load(root)?;
        let sets = Sets::read(root, self.old.as_deref(), self.new.as_deref(), true)?;
        let accepted = load_accepted(root, &config, self.accepted.as_deref())?;
        let mut target = self.lock_target()?;

        let (table, rows) = read_table(&mut target, &settings)?;
        let history = sets.history.as_ref().context("the history is needed")?;
        let consolidated = sets.consolidated_rows(&settings);
        let mut standing = classify_rows(
            &rows,
            &rows_of(&history.migrations, &settings),
            &consolidated,
            &rows_of(&sets.new_since, &settings),
        );
        if let Standing::EndOfHistory { .. } = standing {
            let live = read_live_schema(&mut target, table.as_ref())?;
            let replayed = self.replay(&config, &sets.consolidated)?;
            let diff = SchemaDiff::compare(&live, &replayed);
            let applied =
                accepted.apply(diff.failures(self.strict_column_order), std::iter::empty());
            standing = match applied.schema.is_empty() {
                true => Standing::EndOfHistory {
                    remove: rows.clone(),
                    add: consolidated.clone(),
                    notes: diff
                        .differences
                        .iter()
                        .filter(|d| d.is_column_order())
                        .cloned()
                        .collect(),
                },
                false => Standing::Drifted {
                    differences: applied.schema.into_iter().cloned().collect(),
                },
            };
        }

        let mut applied = false;
        if let (true, Standing::EndOfHistory { remove, add, .. }, Some(table)) =
            (self.apply, &standing, &table)
        {
            sqlx_table::rewrite(&mut target, table, remove, add)?;
            applied = true;
        }
        Ok(Judged {
            standing,
            applied,
            database: target.database().to_owned(),
            table,
        })
    }

    fn lock_target(&self) -> anyhow::Result<LockedTarget> {
        LockedTarget::acquire(
            sqlx_table::connect(&self.target)?,
            Duration::from_secs(self.lock_timeout),
            |message| ui::print_note(message),
        )
    }

    fn undo(&self, root: &Path) -> anyhow::Result<Undone> {
        let settings = SqlxSettings::load(root)?;
        let sets = Sets::read(root, self.old.as_deref(), self.new.as_deref(), false)?;
        let mut target = self.lock_target()?;
        let Some(table) = sqlx_table::locate(target.client(), &settings)? else {
            bail!(
                "{} has no {} table: there is no rebaseline to undo",
                describe_database_url(&self.target),
                settings.table
            );
        };
        let restored =
            sqlx_table::restore(&mut target, &table, &sets.consolidated_rows(&settings))?;
        Ok(Undone {
            database: target.database().to_owned(),
            table,
            restored,
        })
    }

    /// The consolidated set replayed on a scratch database, read through the model.
    fn replay(&self, config: &Config, consolidated: &MigrationChain) -> anyhow::Result<Schema> {
        let progress = Progress::new(self.format == Format::Json);
        progress.phase("starting PostgreSQL");
        let server = ScratchServer::start(&self.server.options(config))?;
        progress.phase(format!(
            "replaying {} migrations",
            consolidated.migrations.len()
        ));
        let database = server.create_database("rebaseline")?;
        let mut client = database.connect()?;
        consolidated
            .apply(&mut client)
            .with_context(|| format!("could not replay {}", consolidated.dir.display()))?;
        progress.phase("reading the catalogs");
        introspect(&mut client).context("reading the database built by the consolidated set")
    }
}

/// The migrations table and its rows, read in one read-only transaction.
fn read_table(
    target: &mut LockedTarget,
    settings: &SqlxSettings,
) -> anyhow::Result<(Option<MigrationsTable>, Vec<AppliedRow>)> {
    let mut tx = target
        .client()
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let table = sqlx_table::locate(&mut tx, settings)?;
    let rows = match &table {
        Some(table) => sqlx_table::read_rows(&mut tx, &table.qualified)?,
        None => Vec::new(),
    };
    tx.commit()?;
    Ok((table, rows))
}

/// The target's schema through the model, its migrations table (and backup) left out as
/// verify leaves them out of a replay.
fn read_live_schema(
    target: &mut LockedTarget,
    table: Option<&MigrationsTable>,
) -> anyhow::Result<Schema> {
    let mut schema = introspect(target.client()).context("reading the target's catalog")?;
    if let Some(table) = table {
        let ours = |name: &str| table.relnames.iter().any(|relname| relname == name);
        schema
            .objects
            .retain(|id, object| !(ours(&id.name) || object.table.as_deref().is_some_and(ours)));
        schema.column_order.retain(|name, _| !ours(name));
    }
    Ok(schema)
}

/// Judges the rows alone: everything but drift, which needs the schema.
pub fn classify_rows(
    rows: &[AppliedRow],
    history: &[NewRow],
    consolidated: &[NewRow],
    new_since: &[NewRow],
) -> Standing {
    if rows.is_empty() {
        return Standing::NothingApplied;
    }
    let later: Vec<&NewRow> = consolidated.iter().chain(new_since).collect();
    let failed = |row: &AppliedRow| {
        (!row.success).then(|| {
            format!(
                "version {} ({}) is recorded as failed (success = false); sqlx refuses to run \
                 until it is repaired by hand",
                row.version, row.description
            )
        })
    };
    let mismatch = |row: &AppliedRow, candidates: &[&NewRow], set: &str| {
        (!candidates.iter().any(|c| c.checksum == row.checksum)).then(|| {
            format!(
                "version {} ({}): the recorded checksum differs from the {set}'s file; the \
                 file was edited after it was applied, or the database ran another file",
                row.version, row.description
            )
        })
    };

    if rows
        .iter()
        .all(|row| later.iter().any(|r| r.version == row.version))
    {
        let problems: Vec<String> = rows
            .iter()
            .flat_map(|row| {
                let candidates = versions(&later, row.version);
                [failed(row), mismatch(row, &candidates, "consolidated set")]
            })
            .flatten()
            .collect();
        if !problems.is_empty() {
            return Standing::Tampered { problems };
        }
        return Standing::Rebaselined {
            pending: pending(rows, &later),
        };
    }

    let history: Vec<&NewRow> = history.iter().collect();
    let mut problems = Vec::new();
    for row in rows {
        problems.extend(failed(row));
        let candidates = versions(&history, row.version);
        if !candidates.is_empty() {
            problems.extend(mismatch(row, &candidates, "history"));
        } else if later.iter().any(|r| r.version == row.version) {
            problems.push(format!(
                "version {} ({}) belongs to the consolidated set, beside versions of the \
                 history: the table was edited by hand",
                row.version, row.description
            ));
        } else {
            problems.push(format!(
                "version {} ({}) is in neither the history nor the consolidated set",
                row.version, row.description
            ));
        }
    }
    if !problems.is_empty() {
        return Standing::Tampered { problems };
    }
    let missing = pending(rows, &history);
    if !missing.is_empty() {
        return Standing::Behind { missing };
    }
    Standing::EndOfHistory {
        remove: rows.to_vec(),
        add: consolidated.to_vec(),
        notes: Vec::new(),
    }
}

fn versions<'a>(set: &[&'a NewRow], version: i64) -> Vec<&'a NewRow> {
    set.iter()
        .copied()
        .filter(|r| r.version == version)
        .collect()
}

/// The versions of `set` that `rows` lack, once each.
fn pending(rows: &[AppliedRow], set: &[&NewRow]) -> Vec<Version> {
    let mut missing: Vec<Version> = Vec::new();
    for row in set {
        let applied = rows.iter().any(|r| r.version == row.version);
        if !applied && missing.last().is_none_or(|m| m.version != row.version) {
            missing.push(Version {
                version: row.version,
                description: row.description.clone(),
            });
        }
    }
    missing
}

fn print_human(outcome: &Outcome, table: Option<&MigrationsTable>) -> anyhow::Result<()> {
    use ui::{ERROR, GOOD, HEADING};
    let mut out = anstream::stdout().lock();
    let table_name = table.map_or_else(|| "no migrations table".to_owned(), |t| t.to_string());
    writeln!(
        out,
        "{HEADING}target{HEADING:#}  {}  (database {}, {table_name})",
        outcome.target, outcome.database
    )?;
    let list = |versions: &[Version]| {
        versions
            .iter()
            .map(|v| format!("\n  {} {}", v.version, v.description))
            .collect::<String>()
    };
    match outcome.standing {
        Standing::NothingApplied => writeln!(
            out,
            "{GOOD}nothing applied{GOOD:#}: no migration ever ran here; the application's \
             migrator applies the consolidated set, nothing to rebaseline"
        )?,
        Standing::EndOfHistory { remove, add, notes } => {
            let refs: Vec<&Difference> = notes.iter().collect();
            write_grouped(&mut out, "notes", &refs)?;
            writeln!(
                out,
                "{GOOD}at the end of the history{GOOD:#}: every version applied, checksums \
                 match, and the schema is the one the consolidated set builds"
            )?;
            writeln!(
                out,
                "\n{HEADING}rows to remove{HEADING:#} ({})",
                remove.len()
            )?;
            for row in remove {
                writeln!(out, "  {} {}", row.version, row.description)?;
            }
            writeln!(out, "{HEADING}rows to add{HEADING:#} ({})", add.len())?;
            for row in add {
                writeln!(out, "  {} {}", row.version, row.description)?;
            }
            let table = table.map_or(String::new(), |t| t.backup.clone());
            match outcome.applied {
                true => writeln!(
                    out,
                    "\n{GOOD}rebaselined{GOOD:#}: the old rows are kept in {table}; \
                     `cargo xtask rebaseline --undo --target ...` restores them"
                )?,
                false => writeln!(
                    out,
                    "\nnothing written: run again with --apply to replace the rows (the old \
                     ones are kept in {table})"
                )?,
            }
        }
        Standing::Behind { missing } => writeln!(
            out,
            "{ERROR}behind{ERROR:#}: {} of the history not applied:{}\nrun the application's \
             migrations (the history's) first, then rebaseline",
            ui::count(missing.len(), "version"),
            list(missing)
        )?,
        Standing::Drifted { differences } => {
            let refs: Vec<&Difference> = differences.iter().collect();
            writeln!(out, "old: the target; new: the consolidated set, replayed")?;
            write_grouped(&mut out, "differences", &refs)?;
            writeln!(
                out,
                "\n{ERROR}drifted{ERROR:#}: the rows say the history ran to its end, but the \
                 schema differs from the consolidated set's in {}; refused, nothing written",
                ui::count(differences.len(), "difference")
            )?
        }
        Standing::Tampered { problems } => {
            writeln!(out, "{ERROR}tampered{ERROR:#}: refused, nothing written")?;
            for problem in problems {
                writeln!(out, "  {problem}")?;
            }
        }
        Standing::Rebaselined { pending } if pending.is_empty() => writeln!(
            out,
            "{GOOD}already rebaselined{GOOD:#}: the rows are the consolidated set's; nothing \
             to do"
        )?,
        Standing::Rebaselined { pending } => writeln!(
            out,
            "{GOOD}already rebaselined{GOOD:#}: the rows are the consolidated set's; the \
             application's migrator will apply {}:{}",
            ui::count(pending.len(), "pending version"),
            list(pending)
        )?,
    }
    Ok(())
}

#[cfg(test)]
#[path = "rebaseline/tests.rs"]
mod tests;
