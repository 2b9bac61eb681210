//! `generate`: a consolidated set written from the history's final state. The history is
//! replayed, read through the same model verify compares, grouped into files ([`plan`]),
//! ordered by the catalog's dependencies ([`order`]) and written as SQL ([`sql`]); the
//! command then proves the set equal before it is staged ([`write`]).

mod names;
mod order;
pub mod plan;
mod rows;
mod sql;
#[cfg(test)]
mod tests;
mod units;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;

use crate::analysis;
use crate::migrations::MigrationChain;
use crate::pg::{ScratchServer, ServerOptions};
use crate::schema::introspect::introspect;
use crate::schema::model::{ObjectKind, Schema};
use crate::ui::Progress;
use names::Names;
use order::Edge;
use plan::Plan;
use units::{Unit, Units};

/// The files written, in order: name and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedSet {
    pub files: Vec<(String, String)>,
    /// Rows written per table, for the reviewer who may rather move them to a pack.
    pub rows: BTreeMap<String, usize>,
    /// Units placed in an earlier file than their own because something there needs them.
    pub moved: Vec<String>,
}

/// What generation produced: a set, or the objects it cannot write, each named.
pub enum Generation {
    Set(GeneratedSet),
    Refused(Vec<String>),
}

/// What the history built, read back.
struct FinalState {
    schema: Schema,
    baseline: Schema,
    names: Names,
    rows: BTreeMap<String, rows::TableRows>,
    default_versions: BTreeMap<String, String>,
    units: Units,
    edges: Vec<Edge>,
}

/// Replays `history` and writes it as a consolidated set grouped by `plan` (or, without
/// one, by the migration that created each object).
pub fn generate(
    options: &ServerOptions,
    history: &MigrationChain,
    plan: Option<&Plan>,
    progress: &Progress,
) -> anyhow::Result<Generation> {
    let origins = analysis::origins(options, history, progress)?;
    let state = read_final_state(options, history, progress)?;
    progress.phase("writing the consolidated set");
    write_set(&state, &origins, history, plan)
}

fn read_final_state(
    options: &ServerOptions,
    history: &MigrationChain,
    progress: &Progress,
) -> anyhow::Result<FinalState> {
    progress.phase("starting PostgreSQL");
    let server = ScratchServer::start(options)?;
    let baseline = {
        let database = server.create_database("baseline")?;
        let mut client = database.connect()?;
        introspect(&mut client).context("reading a new database's catalog")?
    };
    let database = server.create_database("history")?;
    let mut client = database.connect()?;
    progress.phase(format!("replaying {} migrations", history.migrations.len()));
    history
        .apply(&mut client)
        .with_context(|| format!("could not replay {}", history.dir.display()))?;
    progress.phase("reading the final state");
    let schema = introspect(&mut client).context("reading the history's final state")?;
    let names = Names::read(&mut client)?;
    let rows = rows::read(&mut client, &schema, &names)?;
    let default_versions = client
        .query(
            "SELECT name::text, default_version FROM pg_available_extensions \
             WHERE default_version IS NOT NULL",
            &[],
        )
        .context("reading the extensions' default versions")?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let tables_with_rows: Vec<String> = rows.keys().cloned().collect();
    let units = Units::build(&schema, &baseline, &tables_with_rows);
    let edges = order::dependencies(&mut client, &schema, &units)?;
    Ok(FinalState {
        schema,
        baseline,
        names,
        rows,
        default_versions,
        units,
        edges,
    })
}

fn write_set(
    state: &FinalState,
    origins: &analysis::Origins,
    history: &MigrationChain,
    plan: Option<&Plan>,
) -> anyhow::Result<Generation> {
    let schema = &state.schema;
    // Where the history created each unit, and every migration that touched its objects.
    let mut origin: BTreeMap<Unit, usize> = BTreeMap::new();
    let mut touched: BTreeMap<Unit, BTreeSet<usize>> = BTreeMap::new();
    for (id, unit) in &state.units.of {
        if let Some(migrations) = origins.objects.get(id) {
            if unit == &Unit::Object(id.clone()) {
                if let Some(first) = migrations.first() {
                    origin.insert(unit.clone(), *first);
                }
            }
            touched
                .entry(unit.clone())
                .or_default()
                .extend(migrations.iter().copied());
        }
    }
    for unit in &state.units.all {
        if let Unit::Rows(table) = unit {
            let migrations = origins.rows.get(table).cloned().unwrap_or_default();
            if let Some(first) = migrations.first() {
                origin.insert(unit.clone(), *first);
            }
            touched.entry(unit.clone()).or_default().extend(migrations);
        }
    }

    let placed: Vec<Unit> = state.units.all.to_vec();
    let (mut files, file_names, descriptions) = match plan {
        Some(plan) => (
            plan.assign(&placed, schema)?,
            (0..plan.file.len()).map(|i| plan.file_name(i)).collect(),
            plan.file.iter().map(|f| f.description.clone()).collect(),
        ),
        None => by_history(&placed, &origin, schema, history),
    };
    let moved = match plan {
        None => order::pull_forward(&mut files, &state.edges),
        Some(_) => {
            let misplaced = order::find_misplaced(&files, &state.edges);
            if let Some(first) = misplaced.first() {
                anyhow::bail!(
                    "the plan puts {} in {}, but {} in {} needs it: place it in that file or \
                     an earlier one",
                    first.to,
                    file_names[first.to_file],
                    first.from,
                    file_names[first.from_file]
                );
            }
            Vec::new()
        }
    };

    // Each file's units in dependency order; foreign keys are placed afterwards.
    let is_foreign_key =
        |u: &Unit| matches!(u, Unit::Object(id) if id.kind == ObjectKind::Constraint);
    let mut sequence: Vec<Vec<Unit>> = Vec::new();
    for (index, file_name) in file_names.iter().enumerate() {
        let units: Vec<Unit> = files
            .iter()
            .filter(|(u, f)| **f == index && !is_foreign_key(u))
            .map(|(u, _)| u.clone())
            .collect();
        let sorted = order::sort_file(&units, &state.edges, &origin).map_err(|cycle| {
            anyhow::anyhow!(
                "{file_name}: these objects depend on each other in a cycle: {}",
                cycle
                    .iter()
                    .map(Unit::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        sequence.push(sorted);
    }
    let position: BTreeMap<&Unit, (usize, usize)> = sequence
        .iter()
        .enumerate()
        .flat_map(|(f, units)| units.iter().enumerate().map(move |(i, u)| (u, (f, i))))
        .collect();
    let mut inline = BTreeSet::new();
    let mut after: BTreeMap<Unit, Vec<Unit>> = BTreeMap::new();
    for unit in files.keys().filter(|u| is_foreign_key(u)) {
        let Unit::Object(id) = unit else { continue };
        let object = &schema.objects[id];
        let table = object.table.clone().unwrap_or_default();
        let target = order::references(object).unwrap_or_else(|| table.clone());
        let table_unit = state.units.of.get(&table_id(&table)).cloned();
        let target_unit = state.units.of.get(&table_id(&target)).cloned();
        let at = |u: &Option<Unit>| u.as_ref().and_then(|u| position.get(u).copied());
        let (here, there) = (at(&table_unit), at(&target_unit));
        if table == target || there.is_none() || (there < here && here.is_some()) {
            inline.insert(id.clone());
            continue;
        }
        // After the target, and after its rows, so that the rows already there are valid.
        let rows = Some(Unit::Rows(target.clone()));
        let anchor = [target_unit, rows, table_unit]
            .into_iter()
            .filter(|u| at(u).is_some())
            .max_by_key(|u| at(u))
            .flatten();
        if let Some(anchor) = anchor {
            after.entry(anchor).or_default().push(unit.clone());
        }
    }

    let writer = sql::Writer {
        schema,
        names: &state.names,
        units: &state.units,
        inline_foreign_keys: &inline,
        default_versions: &state.default_versions,
        baseline: &state.baseline,
        rows: &state.rows,
    };
    let mut refused = Vec::new();
    let mut written = Vec::new();
    for (index, units) in sequence.iter().enumerate() {
        let mut blocks = Vec::new();
        let mut from = BTreeSet::new();
        let mut held: Vec<&Unit> = Vec::new();
        for unit in units {
            let mut pieces = vec![unit];
            pieces.extend(after.get(unit).into_iter().flatten());
            for piece in pieces {
                from.extend(touched.get(piece).into_iter().flatten().copied());
                held.push(piece);
                match writer.unit(piece) {
                    Ok(text) if !text.is_empty() => blocks.push(text),
                    Ok(_) => {}
                    Err(reasons) => refused.extend(reasons),
                }
            }
        }
        if blocks.is_empty() {
            continue;
        }
        let file_name = match plan {
            Some(_) => file_names[index].clone(),
            None => format!("{:05}_{}.sql", written.len() + 1, file_names[index]),
        };
        let header = header(
            &file_name,
            descriptions[index].as_deref(),
            &held,
            &from,
            history,
            &state.rows,
        );
        written.push((file_name, format!("{header}\n{}\n", blocks.join("\n\n"))));
    }
    if !refused.is_empty() {
        refused.sort();
        refused.dedup();
        return Ok(Generation::Refused(refused));
    }
    Ok(Generation::Set(GeneratedSet {
        files: written,
        rows: state
            .rows
            .iter()
            .map(|(t, r)| (t.clone(), r.values.len()))
            .filter(|(_, n)| *n > 0)
            .collect(),
        moved: moved
            .iter()
            .map(|m| {
                format!(
                    "{} moved from {} to {}: {} needs it",
                    m.to, file_names[m.to_file], file_names[m.from_file], m.from
                )
            })
            .collect(),
    }))
}

fn table_id(name: &str) -> crate::schema::model::ObjectId {
    crate::schema::model::ObjectId {
        kind: ObjectKind::Table,
        name: name.to_owned(),
    }
}

/// Without a plan: one file per history migration that created something that is still
/// there, named by that migration's description; the files written are numbered from
/// 00001 (a history may repeat a version; a consolidated set must not).
fn by_history(
    units: &[Unit],
    origin: &BTreeMap<Unit, usize>,
    schema: &Schema,
    history: &MigrationChain,
) -> (BTreeMap<Unit, usize>, Vec<String>, Vec<Option<String>>) {
    // Objects the history did not create (a prelude's) and rows go with their table, or
    // first.
    let mut migration_of: BTreeMap<Unit, usize> = BTreeMap::new();
    for unit in units {
        let own = match unit {
            Unit::Rows(_) => None,
            Unit::Object(id) if id.kind == ObjectKind::Constraint => None,
            Unit::Object(_) => origin.get(unit).copied(),
        };
        let table = unit
            .table(schema)
            .and_then(|t| origin.get(&Unit::Object(table_id(t))).copied());
        migration_of.insert(unit.clone(), own.or(table).unwrap_or(0));
    }
    let used: BTreeSet<usize> = migration_of.values().copied().collect();
    let index_of: BTreeMap<usize, usize> = used.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let names = used
        .iter()
        .map(|m| history.migrations[*m].description.replace(' ', "_"))
        .collect();
    let files = migration_of
        .into_iter()
        .map(|(u, m)| (u, index_of[&m]))
        .collect();
    let descriptions = vec![None; used.len()];
    (files, names, descriptions)
}

/// The comment at the top of a file: what it holds and which history files its objects
/// came from.
fn header(
    file_name: &str,
    description: Option<&str>,
    units: &[&Unit],
    from: &BTreeSet<usize>,
    history: &MigrationChain,
    rows: &BTreeMap<String, rows::TableRows>,
) -> String {
    let mut lines = vec![format!("-- {}", file_name.trim_end_matches(".sql"))];
    if let Some(description) = description {
        lines.push("--".to_owned());
        lines.extend(wrap(description, "-- ", ""));
    }
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kinds_in_order: Vec<String> = Vec::new();
    for unit in units {
        let (kind, name) = match unit {
            Unit::Rows(table) => {
                let n = rows.get(table).map_or(0, |r| r.values.len());
                if n == 0 {
                    continue;
                }
                ("rows".to_owned(), format!("{table} ({n})"))
            }
            Unit::Object(id) => (plural(id.kind), id.name.clone()),
        };
        if !kinds_in_order.contains(&kind) {
            kinds_in_order.push(kind.clone());
        }
        held.entry(kind).or_default().push(name);
    }
    lines.push("--".to_owned());
    for kind in kinds_in_order {
        let text = format!("{kind}: {}.", held[&kind].join(", "));
        let text = capitalize(&text);
        lines.extend(wrap(&text, "-- ", "    "));
    }
    if !from.is_empty() {
        let files: Vec<String> = from
            .iter()
            .map(|m| analysis::file_name(&history.migrations[*m].path))
            .collect();
        lines.push("--".to_owned());
        lines.extend(wrap(
            &format!("From the history: {}.", files.join(", ")),
            "-- ",
            "    ",
        ));
    }
    lines.join("\n") + "\n"
}

fn plural(kind: ObjectKind) -> String {
    match kind.label() {
        "index" => "indexes".to_owned(),
        "policy" => "policies".to_owned(),
        "statistics" => "statistics".to_owned(),
        "constraint" => "foreign keys added later".to_owned(),
        label => format!("{label}s"),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Words of `text` in lines of at most 90 characters, each after `prefix`, the
/// continuation lines after `indent` too.
fn wrap(text: &str, prefix: &str, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let lead = match lines.is_empty() {
            true => prefix.len(),
            false => prefix.len() + indent.len(),
        };
        if !line.is_empty() && lead + line.len() + 1 + word.len() > 90 {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{prefix}{l}"),
            _ => format!("{prefix}{indent}{l}"),
        })
        .collect()
}
