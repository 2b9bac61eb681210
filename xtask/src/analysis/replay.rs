//! Replaying a chain one migration at a time, with a snapshot of the catalog and of the
//! row counts after each, and recording what each migration did to every object.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::migrations::MigrationChain;
use crate::pg::{ScratchServer, ServerOptions};
use crate::schema::diff::{Change, SchemaDiff, Side};
use crate::schema::introspect::introspect;
use crate::schema::model::{ObjectId, ObjectKind, Schema, SchemaObject};
use crate::ui::Progress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Dropped,
    /// A property changed; `None` means absent.
    Changed {
        property: String,
        old: Option<String>,
        new: Option<String>,
    },
}

/// What one migration did to one object.
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    /// Index of the migration in the chain.
    pub migration: usize,
    pub kind: EventKind,
    /// The relation the object was created or dropped together with.
    pub with: Option<ObjectId>,
    /// The object as it was right after a creation or change, right before a drop.
    pub object: SchemaObject,
}

/// Every event of one object, in the order of the chain.
#[derive(Debug, Clone)]
pub struct ObjectHistory {
    pub id: ObjectId,
    pub events: Vec<ObjectEvent>,
}

impl ObjectHistory {
    /// The object still exists after the last migration.
    pub fn survives(&self) -> bool {
        !matches!(
            self.events.last().map(|e| &e.kind),
            Some(EventKind::Dropped)
        )
    }

    pub fn last_creation(&self) -> Option<&ObjectEvent> {
        self.events
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::Created)
    }

    /// Creations and changes of `property`: each is one version of the object.
    pub fn versions(&self, property: &str) -> Vec<&ObjectEvent> {
        self.events
            .iter()
            .filter(|e| match &e.kind {
                EventKind::Created => true,
                EventKind::Changed { property: p, .. } => p == property,
                EventKind::Dropped => false,
            })
            .collect()
    }

    pub fn table(&self) -> Option<&str> {
        self.events.last().and_then(|e| e.object.table.as_deref())
    }
}

/// What the replay saw.
pub struct Replay {
    pub histories: BTreeMap<ObjectId, ObjectHistory>,
    /// Row counts of every table before the first migration (index 0) and after each.
    pub row_counts: Vec<BTreeMap<String, i64>>,
    /// Migrations after which neither the catalog nor any row count had changed.
    pub unchanged: Vec<usize>,
    pub timings: ReplayTimings,
}

/// Where the time went: applying the migrations is what a plain replay costs; the
/// snapshots and comparisons are the analysis' overhead.
#[derive(Debug, Clone, Default)]
pub struct ReplayTimings {
    pub server: Duration,
    pub apply: Duration,
    pub snapshots: Duration,
    pub comparison: Duration,
}

pub fn replay(
    options: &ServerOptions,
    chain: &MigrationChain,
    progress: &Progress,
) -> anyhow::Result<Replay> {
    let mut timings = ReplayTimings::default();
    let started = Instant::now();
    progress.phase("starting PostgreSQL");
    let server = ScratchServer::start(options)?;
    let database = server.create_database("analyze")?;
    let mut client = database.connect()?;
    timings.server = started.elapsed();

    let snapshot_started = Instant::now();
    let mut previous = introspect(&mut client).context("reading the catalog before the history")?;
    let mut row_counts = vec![count_rows(&mut client, &previous)?];
    timings.snapshots += snapshot_started.elapsed();

    let mut histories = BTreeMap::new();
    let mut unchanged = Vec::new();
    for (index, migration) in chain.migrations.iter().enumerate() {
        progress.phase(format!(
            "replaying {} ({}/{})",
            file_name(&migration.path),
            index + 1,
            chain.migrations.len()
        ));
        let apply_started = Instant::now();
        migration.apply(&mut client)?;
        timings.apply += apply_started.elapsed();

        let snapshot_started = Instant::now();
        let current = introspect(&mut client)
            .with_context(|| format!("reading the catalog after {}", migration.path.display()))?;
        let counts = count_rows(&mut client, &current)?;
        timings.snapshots += snapshot_started.elapsed();

        let comparison_started = Instant::now();
        let diff = SchemaDiff::compare(&previous, &current);
        let rows_changed = row_counts.last() != Some(&counts);
        if diff.differences.iter().all(|d| d.is_column_order()) && !rows_changed {
            unchanged.push(index);
        }
        record(&mut histories, index, &diff, &previous, &current);
        timings.comparison += comparison_started.elapsed();
        previous = current;
        row_counts.push(counts);
    }
    Ok(Replay {
        histories,
        row_counts,
        unchanged,
        timings,
    })
}

/// Turns the differences between the snapshots before and after migration `index` into
/// events; objects folded into a created or dropped relation get an event of their own.
fn record(
    histories: &mut BTreeMap<ObjectId, ObjectHistory>,
    index: usize,
    diff: &SchemaDiff,
    before: &Schema,
    after: &Schema,
) {
    let mut push =
        |id: &ObjectId, kind: EventKind, with: Option<ObjectId>, object: &SchemaObject| {
            histories
                .entry(id.clone())
                .or_insert_with(|| ObjectHistory {
                    id: id.clone(),
                    events: Vec::new(),
                })
                .events
                .push(ObjectEvent {
                    migration: index,
                    kind,
                    with,
                    object: object.clone(),
                });
        };
    for difference in &diff.differences {
        match &difference.change {
            Change::OnlyIn { side, dependents } => {
                let (schema, kind) = match side {
                    Side::New => (after, EventKind::Created),
                    Side::Old => (before, EventKind::Dropped),
                };
                let Some(object) = schema.objects.get(&difference.object) else {
                    continue;
                };
                push(&difference.object, kind.clone(), None, object);
                for dependent in dependents {
                    if let Some(object) = schema.objects.get(dependent) {
                        push(
                            dependent,
                            kind.clone(),
                            Some(difference.object.clone()),
                            object,
                        );
                    }
                }
            }
            Change::Property { property, old, new } => {
                if let Some(object) = after.objects.get(&difference.object) {
                    let kind = EventKind::Changed {
                        property: property.clone(),
                        old: old.clone(),
                        new: new.clone(),
                    };
                    push(&difference.object, kind, None, object);
                }
            }
            Change::ColumnOrder { .. } => {}
        }
    }
}

/// Row counts of every table, in one query.
fn count_rows(
    client: &mut postgres::Client,
    schema: &Schema,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let selects: Vec<String> = schema
        .objects
        .values()
        .filter(|object| object.id.kind == ObjectKind::Table)
        .map(|object| {
            format!(
                "SELECT {}::text, count(*) FROM {}",
                quote_literal(&object.id.name),
                object.sql.qualified()
            )
        })
        .collect();
    if selects.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = client
        .query(&selects.join(" UNION ALL "), &[])
        .context("counting the rows of every table")?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
