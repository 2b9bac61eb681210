//! Replaying a chain one migration at a time, with a snapshot of the catalog and of the
//! row counts after each, and recording what each migration did to every object.
//!
//! A snapshot re-reads only what the migration touched (see [`super::watch`]) and compares
//! that part as it was with the part as it is, so that a history costs its replay plus a
//! small amount per migration, whatever the size of the schema it builds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context;
use postgres::Statement;

use super::watch::{Observed, Touched, Watch};
use crate::migrations::MigrationChain;
use crate::pg::{ScratchServer, ServerOptions};
use crate::schema::diff::{Change, SchemaDiff, Side};
use crate::schema::introspect::scoped::{Part, ScopedReader};
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
    /// The migrations after which the whole catalog was read again, each with the reason.
    pub whole_reads: Vec<(String, &'static str)>,
}

/// How the catalog is read after each migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    /// Only what the migration touched (see [`super::watch`]), the whole catalog when the
    /// watch cannot say or cannot be installed.
    Incremental,
    /// The whole catalog and every table's rows after every migration: what an
    /// incremental replay must always agree with.
    #[cfg(test)]
    Whole,
    /// Incremental, and checked against a whole read after every migration.
    #[cfg(test)]
    Checked,
}

pub fn replay(
    options: &ServerOptions,
    chain: &MigrationChain,
    progress: &Progress,
    snapshots: Snapshots,
) -> anyhow::Result<Replay> {
    let mut timings = ReplayTimings::default();
    let started = Instant::now();
    progress.phase("starting PostgreSQL");
    let server = ScratchServer::start(options)?;
    let database = server.create_database("analyze")?;
    let mut client = database.connect()?;
    timings.server = started.elapsed();

    let snapshot_started = Instant::now();
    let mut watch = match snapshots {
        #[cfg(test)]
        Snapshots::Whole => None,
        _ => Watch::install(&mut client)?,
    };
    let reader = ScopedReader::prepare(&mut client)?;
    let counter = RowCounter::install(&mut client)?;
    let mut catalog = Catalog::default();
    catalog
        .read_whole(&mut client, &reader, watch.as_mut())
        .context("reading the catalog before the history")?;
    let mut row_counts = vec![counter.count(&mut client, &catalog, None)?];
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
        let observed = match watch.as_mut() {
            Some(watch) => watch.observe(&mut client, &migration.sql)?,
            None => Observed {
                touched: Touched::Everything("no event triggers"),
                rows_written: true,
            },
        };
        let previous_counts = row_counts.last().expect("the counts before the history");
        let (before, after, counts) = match observed.touched {
            Touched::Everything(reason) => {
                timings
                    .whole_reads
                    .push((file_name(&migration.path), reason));
                let before = catalog
                    .read_whole(&mut client, &reader, watch.as_mut())
                    .with_context(|| {
                        format!("reading the catalog after {}", migration.path.display())
                    })?;
                let counts = counter.count(&mut client, &catalog, None)?;
                (before, catalog.schema.clone(), counts)
            }
            Touched::Scopes(scopes) => {
                let scopes: Vec<u32> = scopes.into_iter().collect();
                let (before, after) = catalog
                    .read_part(&mut client, &reader, watch.as_mut(), &scopes)
                    .with_context(|| {
                        format!("reading the catalog after {}", migration.path.display())
                    })?;
                let counts = if observed.rows_written {
                    counter.count(&mut client, &catalog, None)?
                } else {
                    counter.count(&mut client, &catalog, Some((previous_counts, &before)))?
                };
                (before, after, counts)
            }
        };
        #[cfg(test)]
        if snapshots == Snapshots::Checked {
            catalog.check(&mut client, &counts, &counter, index)?;
        }
        timings.snapshots += snapshot_started.elapsed();

        let comparison_started = Instant::now();
        let diff = SchemaDiff::compare(&before, &after);
        let rows_changed = previous_counts != &counts;
        if diff.differences.iter().all(|d| d.is_column_order()) && !rows_changed {
            unchanged.push(index);
        }
        record(&mut histories, index, &diff, &before, &after);
        timings.comparison += comparison_started.elapsed();
        row_counts.push(counts);
    }
    Ok(Replay {
        histories,
        row_counts,
        unchanged,
        timings,
    })
}

/// The catalog as the replay has read it so far, with each object's scope.
#[derive(Default)]
struct Catalog {
    schema: Schema,
    scopes: HashMap<ObjectId, Option<u32>>,
    /// The objects of each scope; those of kinds read whole under `None`.
    members: HashMap<Option<u32>, BTreeSet<ObjectId>>,
}

impl Catalog {
    /// Reads the whole catalog; returns what it held before.
    fn read_whole(
        &mut self,
        client: &mut postgres::Client,
        reader: &ScopedReader,
        watch: Option<&mut Watch>,
    ) -> anyhow::Result<Schema> {
        let part = reader.read(client, None)?;
        if let Some(watch) = watch {
            watch.read_members(client, None)?;
        }
        let previous = std::mem::take(self);
        self.schema.server_version.clone_from(&part.server_version);
        self.insert(part);
        Ok(previous.schema)
    }

    /// Reads the objects within `scopes` (and those of kinds read whole) again; returns
    /// them as they were and as they are, each as a schema of its own.
    fn read_part(
        &mut self,
        client: &mut postgres::Client,
        reader: &ScopedReader,
        watch: Option<&mut Watch>,
        scopes: &[u32],
    ) -> anyhow::Result<(Schema, Schema)> {
        let mut before = Schema {
            server_version: self.schema.server_version.clone(),
            ..Schema::default()
        };
        let removed: Vec<ObjectId> = scopes
            .iter()
            .map(|&scope| Some(scope))
            .chain([None])
            .filter_map(|scope| self.members.remove(&scope))
            .flatten()
            .collect();
        for id in removed {
            self.scopes.remove(&id);
            if let Some(object) = self.schema.objects.remove(&id) {
                if id.kind == ObjectKind::Table {
                    if let Some(order) = self.schema.column_order.remove(&id.name) {
                        before.column_order.insert(id.name.clone(), order);
                    }
                }
                before.objects.insert(id, object);
            }
        }
        let mut after = Schema {
            server_version: self.schema.server_version.clone(),
            ..Schema::default()
        };
        if !scopes.is_empty() || reader.reads_kinds_whole() {
            let part = reader.read(client, Some(scopes))?;
            if let Some(watch) = watch {
                watch.read_members(client, Some(scopes))?;
            }
            for scoped in &part.objects {
                after
                    .objects
                    .insert(scoped.object.id.clone(), scoped.object.clone());
            }
            after.column_order.clone_from(&part.column_order);
            self.insert(part);
        }
        Ok((before, after))
    }

    fn insert(&mut self, part: Part) {
        for scoped in part.objects {
            let id = scoped.object.id.clone();
            self.members
                .entry(scoped.scope)
                .or_default()
                .insert(id.clone());
            self.scopes.insert(id.clone(), scoped.scope);
            self.schema.objects.insert(id, scoped.object);
        }
        self.schema.column_order.extend(part.column_order);
    }

    /// The tables, with their OIDs.
    fn tables(&self) -> impl Iterator<Item = (&ObjectId, u32)> {
        self.scopes
            .iter()
            .filter(|(id, _)| id.kind == ObjectKind::Table)
            .filter_map(|(id, scope)| scope.map(|oid| (id, oid)))
    }

    /// Holds the catalog read so far against a whole read, and the counts against a
    /// count of every table.
    #[cfg(test)]
    fn check(
        &self,
        client: &mut postgres::Client,
        counts: &BTreeMap<String, i64>,
        counter: &RowCounter,
        index: usize,
    ) -> anyhow::Result<()> {
        let whole = crate::schema::introspect::introspect(client)?;
        let diff = SchemaDiff::compare(&whole, &self.schema);
        anyhow::ensure!(
            diff.differences.is_empty() && whole.column_order == self.schema.column_order,
            "after migration {index}, the catalog read in parts differs from the whole: {:#?}",
            diff.differences
        );
        let all = counter.count(client, self, None)?;
        anyhow::ensure!(
            &all == counts,
            "after migration {index}, row counts {counts:?} should be {all:?}"
        );
        Ok(())
    }
}

/// Counting the rows of tables by OID, through a function in the session's temporary
/// schema, so that no name is ever taken apart or quoted here.
struct RowCounter {
    count: Statement,
}

impl RowCounter {
    fn install(client: &mut postgres::Client) -> anyhow::Result<RowCounter> {
        client
            .batch_execute(
                "CREATE FUNCTION pg_temp.xtask_count_rows(oid) RETURNS bigint
                 LANGUAGE plpgsql AS $$
                 DECLARE n bigint;
                 BEGIN
                     EXECUTE pg_catalog.format('SELECT count(*) FROM %s', $1::pg_catalog.regclass)
                         INTO n;
                     RETURN n;
                 END $$;",
            )
            .context("creating the row counting function")?;
        let count = client
            .prepare("SELECT o, pg_temp.xtask_count_rows(o) FROM unnest($1::oid[]) o")
            .context("preparing the row count")?;
        Ok(RowCounter { count })
    }

    /// The row count of every table of `catalog`. With `since` (the counts after the
    /// previous migration and the objects it read again), only the tables read again and
    /// those that held rows are counted; the others cannot have changed.
    fn count(
        &self,
        client: &mut postgres::Client,
        catalog: &Catalog,
        since: Option<(&BTreeMap<String, i64>, &Schema)>,
    ) -> anyhow::Result<BTreeMap<String, i64>> {
        let mut counts = BTreeMap::new();
        let mut oids = Vec::new();
        let mut names = HashMap::new();
        for (id, oid) in catalog.tables() {
            // An empty table that the migration did not touch is still empty when no row
            // was written; one that held rows may have been truncated.
            let still_empty = since.is_some_and(|(previous, before)| {
                previous.get(&id.name) == Some(&0) && !before.objects.contains_key(id)
            });
            if still_empty {
                counts.insert(id.name.clone(), 0);
                continue;
            }
            oids.push(oid);
            names.insert(oid, &id.name);
        }
        if !oids.is_empty() {
            let rows = client
                .query(&self.count, &[&oids])
                .context("counting the rows of every table")?;
            for row in rows {
                let oid: u32 = row.get(0);
                counts.insert(names[&oid].clone(), row.get(1));
            }
        }
        Ok(counts)
    }
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

pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
