//! Replaying two migration chains on two scratch databases and comparing what they built.
//! `verify` and `consolidate` share it.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::migrations::MigrationChain;
use crate::pg::{ScratchServer, ServerOptions};
use crate::schema::diff::SchemaDiff;
use crate::schema::fingerprint::Fingerprint;
use crate::schema::introspect::introspect;
use crate::schema::model::Schema;
use crate::ui::Progress;

/// What one chain built.
pub struct Built {
    pub schema: Schema,
    pub fingerprint: Fingerprint,
}

pub struct Comparison {
    pub old: Built,
    pub new: Built,
    pub diff: SchemaDiff,
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
    pub introspection: Duration,
    #[serde(with = "secs")]
    pub comparison: Duration,
    #[serde(with = "secs")]
    pub total: Duration,
}

impl Timings {
    pub fn phases(&self) -> [(&'static str, Duration); 4] {
        [
            ("server", self.server),
            ("replay", self.replay),
            ("introspection", self.introspection),
            ("comparison", self.comparison),
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

pub fn compare(
    options: &ServerOptions,
    old: &MigrationChain,
    new: &MigrationChain,
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
    let replay_started = Instant::now();
    let (old_db, new_db) = (
        server.create_database("old")?,
        server.create_database("new")?,
    );
    let (old_client, new_client) = std::thread::scope(|scope| {
        let old_side = scope.spawn(|| replay(&old_db, old));
        let new_side = scope.spawn(|| replay(&new_db, new));
        (join(old_side), join(new_side))
    });
    let (mut old_client, mut new_client) = (old_client?, new_client?);
    let replay_time = replay_started.elapsed();

    progress.phase("reading the catalogs");
    let introspection_started = Instant::now();
    let (old_schema, new_schema) = std::thread::scope(|scope| {
        let old_side = scope.spawn(|| introspect(&mut old_client));
        let new_side = scope.spawn(|| introspect(&mut new_client));
        (join(old_side), join(new_side))
    });
    let old_schema =
        old_schema.with_context(|| format!("reading the schema built by {}", old.dir.display()))?;
    let new_schema =
        new_schema.with_context(|| format!("reading the schema built by {}", new.dir.display()))?;
    let introspection_time = introspection_started.elapsed();

    progress.phase("comparing");
    let comparison_started = Instant::now();
    let diff = SchemaDiff::compare(&old_schema, &new_schema);
    let old_built = Built {
        fingerprint: Fingerprint::of(&old_schema),
        schema: old_schema,
    };
    let new_built = Built {
        fingerprint: Fingerprint::of(&new_schema),
        schema: new_schema,
    };
    let comparison_time = comparison_started.elapsed();

    Ok(Comparison {
        old: old_built,
        new: new_built,
        diff,
        server: server.description().to_owned(),
        timings: Timings {
            server: server_time,
            replay: replay_time,
            introspection: introspection_time,
            comparison: comparison_time,
            total: started.elapsed(),
        },
    })
}

fn replay(
    database: &crate::pg::ScratchDatabase<'_>,
    chain: &MigrationChain,
) -> anyhow::Result<postgres::Client> {
    let mut client = database.connect()?;
    chain
        .apply(&mut client)
        .with_context(|| format!("could not replay {}", chain.dir.display()))?;
    Ok(client)
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
