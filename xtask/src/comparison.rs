//! Replaying two migration chains on two scratch databases, loading the core pack into
//! both, and comparing what they built: schema and data. `verify` and `consolidate` share it.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::data::{DataDiff, DataFingerprint, DataSnapshot};
use crate::migrations::MigrationChain;
use crate::pack::Pack;
use crate::pg::{ScratchDatabase, ScratchServer, ServerOptions};
use crate::schema::diff::SchemaDiff;
use crate::schema::fingerprint::Fingerprint;
use crate::schema::introspect::introspect;
use crate::schema::model::Schema;
use crate::ui::Progress;

/// What one chain built.
pub struct Built {
    pub schema: Schema,
    pub fingerprint: Fingerprint,
    pub data: DataSnapshot,
    pub data_fingerprint: DataFingerprint,
}

pub struct Comparison {
    pub old: Built,
    pub new: Built,
    pub diff: SchemaDiff,
    pub data_diff: DataDiff,
    /// Where the scratch databases ran, for the report.
    pub server: String,
    pub timings: Timings,
}

/// Wall time of each phase; the two sides run concurrently, so a phase costs the slower
/// side, not the sum.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    #[serde(with = "secs")]
    pub server: Duration,
    #[serde(with = "secs")]
    pub replay: Duration,
    #[serde(with = "secs")]
    pub pack: Duration,
    /// Reading both catalogs into schema models.
    #[serde(with = "secs")]
    pub introspection: Duration,
    /// Reading both sides' rows, with what the data comparison needs of the catalog.
    #[serde(with = "secs")]
    pub data: Duration,
    #[serde(with = "secs")]
    pub comparison: Duration,
    #[serde(with = "secs")]
    pub hashing: Duration,
    #[serde(with = "secs")]
    pub total: Duration,
}

impl Timings {
    pub fn phases(&self) -> [(&'static str, Duration); 7] {
        [
            ("server", self.server),
            ("replay", self.replay),
            ("pack", self.pack),
            ("introspection", self.introspection),
            ("data", self.data),
            ("comparison", self.comparison),
            ("hashing", self.hashing),
        ]
    }
}

mod secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Builds both sides and compares them. `pack`, when given, is loaded into both after
/// their migrations, as an installation would.
pub fn compare(
    options: &ServerOptions,
    old: &MigrationChain,
    new: &MigrationChain,
    pack: Option<&Pack>,
    progress: &Progress,
) -> anyhow::Result<Comparison> {
    let started = Instant::now();
    progress.phase("starting PostgreSQL");
    let server = ScratchServer::start(options)?;
    let server_time = started.elapsed();

    progress.phase(format!(
        "replaying {} and {} migrations",
        old.migrations.len(),
        new.migrations.len()
    ));
    let phase = Instant::now();
    let (old_db, new_db) = (
        server.create_database("old")?,
        server.create_database("new")?,
    );
    let (old_client, new_client) = both(|| replay(&old_db, old), || replay(&new_db, new));
    let (mut old_client, mut new_client) = (old_client?, new_client?);
    let replay_time = phase.elapsed();

    let phase = Instant::now();
    if let Some(pack) = pack {
        progress.phase(format!("loading pack {}", pack.dir.display()));
        let (old_loaded, new_loaded) = both(
            || load(pack, &mut old_client, old),
            || load(pack, &mut new_client, new),
        );
        old_loaded?;
        new_loaded?;
    }
    let pack_time = phase.elapsed();

    let mut clients = [&mut old_client, &mut new_client];
    progress.phase("reading the catalogs");
    let (old_schema, new_schema, introspection_time) =
        read_both(&mut clients, [old, new], read_schema)?;
    progress.phase("reading the rows");
    let (old_data, new_data, data_time) = read_both(&mut clients, [old, new], read_data)?;

    progress.phase("comparing");
    let phase = Instant::now();
    let diff = SchemaDiff::compare(&old_schema, &new_schema);
    let data_diff = DataDiff::compare(&old_data, &new_data);
    let comparison_time = phase.elapsed();

    let phase = Instant::now();
    let old_built = Built::new(old_schema, old_data);
    let new_built = Built::new(new_schema, new_data);
    let hashing_time = phase.elapsed();

    Ok(Comparison {
        old: old_built,
        new: new_built,
        diff,
        data_diff,
        server: server.description().to_owned(),
        timings: Timings {
            server: server_time,
            replay: replay_time,
            pack: pack_time,
            introspection: introspection_time,
            data: data_time,
            comparison: comparison_time,
            hashing: hashing_time,
            total: started.elapsed(),
        },
    })
}

impl Built {
    fn new(schema: Schema, data: DataSnapshot) -> Built {
        Built {
            fingerprint: Fingerprint::of(&schema),
            data_fingerprint: DataFingerprint::of(&data),
            schema,
            data,
        }
    }
}

fn replay(
    database: &ScratchDatabase<'_>,
    chain: &MigrationChain,
) -> anyhow::Result<postgres::Client> {
    let mut client = database.connect()?;
    chain
        .apply(&mut client)
        .with_context(|| format!("could not replay {}", chain.dir.display()))?;
    Ok(client)
}

fn load(pack: &Pack, client: &mut postgres::Client, chain: &MigrationChain) -> anyhow::Result<()> {
    pack.load(client).map(drop).with_context(|| {
        format!(
            "could not load pack {} into the database built by {}",
            pack.dir.display(),
            chain.dir.display()
        )
    })
}

/// Reads both sides at once with `read`: the two results, and the wall time it took.
fn read_both<T: Send>(
    [old_client, new_client]: &mut [&mut postgres::Client; 2],
    [old, new]: [&MigrationChain; 2],
    read: fn(&mut postgres::Client, &MigrationChain) -> anyhow::Result<T>,
) -> anyhow::Result<(T, T, Duration)> {
    let started = Instant::now();
    let (old_read, new_read) = both(|| read(old_client, old), || read(new_client, new));
    Ok((old_read?, new_read?, started.elapsed()))
}

fn read_schema(client: &mut postgres::Client, chain: &MigrationChain) -> anyhow::Result<Schema> {
    introspect(client).with_context(|| reading(chain))
}

fn read_data(
    client: &mut postgres::Client,
    chain: &MigrationChain,
) -> anyhow::Result<DataSnapshot> {
    DataSnapshot::read(client).with_context(|| reading(chain))
}

fn reading(chain: &MigrationChain) -> String {
    format!("reading the database built by {}", chain.dir.display())
}

/// Runs the two sides' work on two threads; the server does the work, so the wall time is
/// the slower side's.
fn both<A: Send, B: Send>(
    old: impl FnOnce() -> A + Send,
    new: impl FnOnce() -> B + Send,
) -> (A, B) {
    std::thread::scope(|scope| {
        let old = scope.spawn(old);
        let new = scope.spawn(new);
        (join(old), join(new))
    })
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
