//! Replaying two migration chains on two scratch databases, loading the core pack into
//! both, and comparing what they built: schema and data. `verify` and `consolidate` share it.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::data::{DataDiff, DataFingerprint, DataSnapshot};
use crate::migrations::MigrationChain;
use crate::pack::Pack;
use crate::pg::{ScratchDatabase, ScratchServer, ServerOptions};
use crate::schema::diff::{SchemaDiff, Side};
use crate::schema::fingerprint::Fingerprint;
use crate::schema::introspect::introspect;
use crate::schema::model::Schema;
use crate::schema::roles::read_roles;
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
    /// Comparisons the server could not make (a server named by URL is shared).
    pub limitations: Vec<String>,
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
    /// Each building phase of the slower side, for sides built at the same time.
    fn slower(&self, other: &Timings) -> Timings {
        self.combine(other, Duration::max)
    }

    /// Both sides' building phases added up, for sides built one after the other.
    fn sum(&self, other: &Timings) -> Timings {
        self.combine(other, |a, b| a + b)
    }

    fn combine(&self, other: &Timings, f: fn(Duration, Duration) -> Duration) -> Timings {
        Timings {
            replay: f(self.replay, other.replay),
            pack: f(self.pack, other.pack),
            introspection: f(self.introspection, other.introspection),
            data: f(self.data, other.data),
            ..Timings::default()
        }
    }

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
///
/// On throwaway clusters each side has a cluster of its own, so that roles (global to a
/// cluster) are neither shared nor raced for, and the roles each side's migrations create
/// are compared. On a server named by URL both sides share it: they replay one after the
/// other when either touches roles, and the roles of the first are dropped before the
/// second starts.
pub fn compare(
    options: &ServerOptions,
    old: &MigrationChain,
    new: &MigrationChain,
    pack: Option<&Pack>,
    progress: &Progress,
) -> anyhow::Result<Comparison> {
    let started = Instant::now();
    progress.phase("starting PostgreSQL");
    let servers = Servers::start(options, old, new)?;
    let server_time = started.elapsed();

    progress.phase(format!(
        "replaying {} and {} migrations",
        old.migrations.len(),
        new.migrations.len()
    ));
    let (old_side, new_side, timings) = match &servers {
        Servers {
            old: server,
            new: None,
            one_after_the_other: true,
        } => {
            let old_side = build(server, Side::Old, old, pack, true, progress)?;
            server.drop_created_roles()?;
            let new_side = build(server, Side::New, new, pack, true, progress)?;
            let timings = old_side.timings.sum(&new_side.timings);
            (old_side, new_side, timings)
        }
        Servers {
            old: old_server,
            new: new_server,
            ..
        } => {
            // Roles are compared unless both sides share one server at the same time.
            let own_cluster = new_server.is_some();
            let new_server = new_server.as_ref().unwrap_or(old_server);
            let (old_side, new_side) = both(
                || build(old_server, Side::Old, old, pack, own_cluster, progress),
                || build(new_server, Side::New, new, pack, own_cluster, progress),
            );
            let (old_side, new_side) = (old_side?, new_side?);
            let timings = old_side.timings.slower(&new_side.timings);
            (old_side, new_side, timings)
        }
    };

    progress.phase("comparing");
    let phase = Instant::now();
    let diff = SchemaDiff::compare(&old_side.schema, &new_side.schema);
    let data_diff = DataDiff::compare(&old_side.data, &new_side.data);
    let comparison_time = phase.elapsed();

    let phase = Instant::now();
    let old_built = Built::new(old_side.schema, old_side.data);
    let new_built = Built::new(new_side.schema, new_side.data);
    let hashing_time = phase.elapsed();

    Ok(Comparison {
        old: old_built,
        new: new_built,
        diff,
        data_diff,
        server: servers.description(),
        limitations: servers.limitations(),
        timings: Timings {
            server: server_time,
            comparison: comparison_time,
            hashing: hashing_time,
            total: started.elapsed(),
            ..timings
        },
    })
}

/// Where the two sides are built.
struct Servers {
    /// The old side's cluster; on a server named by URL, the server both sides share.
    old: ScratchServer,
    /// The new side's own cluster; `None` on a shared server.
    new: Option<ScratchServer>,
    /// On a shared server: a migration touches roles, so the sides take turns.
    one_after_the_other: bool,
}

impl Servers {
    fn start(
        options: &ServerOptions,
        old: &MigrationChain,
        new: &MigrationChain,
    ) -> anyhow::Result<Servers> {
        if options.database_url.is_some() {
            return Ok(Servers {
                old: ScratchServer::start(options)?,
                new: None,
                one_after_the_other: touches_roles(old) || touches_roles(new),
            });
        }
        let (old_server, new_server) = both(
            || ScratchServer::start(options),
            || ScratchServer::start(options),
        );
        Ok(Servers {
            old: old_server?,
            new: Some(new_server?),
            one_after_the_other: false,
        })
    }

    fn description(&self) -> String {
        match &self.new {
            Some(new) => format!(
                "{} (old), {} (new)",
                self.old.description(),
                new.description()
            ),
            None => self.old.description().to_owned(),
        }
    }

    /// What a shared server cannot compare, for the report.
    fn limitations(&self) -> Vec<String> {
        if self.new.is_some() {
            return Vec::new();
        }
        let mut limitations = vec![
            "roles that already existed on the shared server are not compared, and a \
             migration that creates a role only if it is missing creates nothing there"
                .to_owned(),
        ];
        if !self.one_after_the_other {
            limitations.push(
                "no migration creates, alters or drops a role, so both sides replayed at \
                 once and roles were not compared"
                    .to_owned(),
            );
        }
        limitations
    }
}

/// Whether a migration's text creates, alters or drops a role (`ROLE`, `USER` or `GROUP`):
/// on a shared server, such a side must have the server's roles to itself.
fn touches_roles(chain: &MigrationChain) -> bool {
    chain.migrations.iter().any(|migration| {
        let words: Vec<String> = migration
            .sql
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|word| !word.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        words.windows(2).any(|pair| {
            matches!(pair[0].as_str(), "create" | "alter" | "drop")
                && matches!(pair[1].as_str(), "role" | "user" | "group")
        })
    })
}

/// What one side built, and how long each step took.
struct SideBuild {
    schema: Schema,
    data: DataSnapshot,
    timings: Timings,
}

/// Replays `chain` in a new database on `server`, loads the pack, and reads back the
/// schema (with the roles the side created, if `with_roles`: not when both sides share
/// the server at once) and the data. On a shared server the database is gone when this
/// returns.
fn build(
    server: &ScratchServer,
    side: Side,
    chain: &MigrationChain,
    pack: Option<&Pack>,
    with_roles: bool,
    progress: &Progress,
) -> anyhow::Result<SideBuild> {
    let mut timings = Timings::default();
    let database = server.create_database(&side.to_string())?;
    let phase = Instant::now();
    let mut client = replay(&database, chain)?;
    timings.replay = phase.elapsed();

    let phase = Instant::now();
    if let Some(pack) = pack {
        progress.phase(format!("{side}: loading pack {}", pack.dir.display()));
        load(pack, &mut client, chain)?;
    }
    timings.pack = phase.elapsed();

    progress.phase(format!("{side}: reading the catalog"));
    let phase = Instant::now();
    let mut schema = introspect(&mut client).with_context(|| reading(chain))?;
    if with_roles {
        let roles =
            read_roles(&mut client, server.existing_roles()).with_context(|| reading(chain))?;
        schema
            .objects
            .extend(roles.into_iter().map(|role| (role.id.clone(), role)));
    }
    timings.introspection = phase.elapsed();

    progress.phase(format!("{side}: reading the rows"));
    let phase = Instant::now();
    let data = DataSnapshot::read(&mut client).with_context(|| reading(chain))?;
    timings.data = phase.elapsed();
    Ok(SideBuild {
        schema,
        data,
        timings,
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
