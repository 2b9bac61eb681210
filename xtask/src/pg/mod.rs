//! Scratch PostgreSQL: a throwaway cluster of our own, or scratch databases on a server
//! named by URL. Everything created here is removed on every exit path, Ctrl-C included.

mod account;
mod binaries;
mod capabilities;
mod cluster;
mod initdb_cache;
pub(crate) mod owner;
mod reaper;
mod redact;
#[cfg(test)]
pub mod testing;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use postgres::NoTls;

use crate::interrupt::CleanupGuard;
use crate::migrations::MigrationError;
pub use binaries::{BinariesChoice, CHOICE_VAR};
pub use capabilities::Capabilities;
use cluster::ThrowawayCluster;
use owner::Owner;
pub use reaper::watch as watch_cluster;
pub use redact::{describe_database_url, parse_database_url};

/// PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1).
const MAX_IDENTIFIER_LEN: usize = 63;

/// Shows up in `pg_stat_activity` and server logs, so a person knows who connected.
const APPLICATION_NAME: &str = "xtask";

/// Where scratch databases come from.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// A server to use instead of a throwaway cluster (`--database-url` / `XTASK_DATABASE_URL`).
    pub database_url: Option<String>,
    /// SQL run once, as superuser, in a template database that every scratch database is
    /// created from (roles, schemas owned by other systems).
    ///
    /// Roles are global to a server: on a server named by URL, the roles that the prelude
    /// (or a migration) creates are dropped again at the end of the run.
    pub prelude: Option<PathBuf>,
    /// How long one statement may run on a scratch database before PostgreSQL cancels it,
    /// so that a migration that never ends cannot hang the run; `None` for no limit.
    pub statement_timeout: Option<Duration>,
    /// The server binaries of the throwaway cluster (ignored with `database_url`); `None`
    /// leaves the choice to `XTASK_PG`, else to the order of discovery.
    pub binaries: Option<BinariesChoice>,
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let database_url = self.database_url.as_deref().map(describe_database_url);
        f.debug_struct("ServerOptions")
            .field("database_url", &database_url)
            .field("prelude", &self.prelude)
            .field("statement_timeout", &self.statement_timeout)
            .field("binaries", &self.binaries)
            .finish()
    }
}

/// A running server that hands out scratch databases.
///
/// On a throwaway cluster the databases go with the cluster; on a server named by URL
/// each database (and the prelude template) is dropped on its own. The database named in
/// the URL is only ever used to create and drop databases.
pub struct ScratchServer {
    // Fields drop in this order: the admin connection closes, then the template is
    // dropped, then the cluster (if ours) stops.
    /// Shared with the cleanups that drop databases, which take it first: a Ctrl-C while
    /// `CREATE DATABASE` runs on it then drops the database once it exists, rather than
    /// before, which would leave it behind.
    admin: Arc<Mutex<postgres::Client>>,
    template: Option<TemplateDatabase>,
    /// On a server named by URL, drops the roles the run created, after the databases.
    _roles_cleanup: Option<CleanupGuard>,
    /// The roles there were once the prelude had run: those of `initdb`, of the prelude
    /// and, on a server named by URL, of whoever else uses it.
    existing_roles: BTreeSet<String>,
    admin_config: postgres::Config,
    description: String,
    version: String,
    major_version: u32,
    cluster: Option<ThrowawayCluster>,
}

/// The database the prelude ran in, copied by every scratch database.
struct TemplateDatabase {
    name: String,
    _cleanup: Option<CleanupGuard>,
}

impl ScratchServer {
    pub fn start(options: &ServerOptions) -> anyhow::Result<ScratchServer> {
        let (cluster, mut admin_config, description) = match &options.database_url {
            Some(url) => {
                let (config, description) = url_config(url)?;
                (None, config, description)
            }
            None => {
                let cluster = ThrowawayCluster::start(options.binaries.as_ref())?;
                let config = cluster.config("postgres");
                let description = format!(
                    "scratch cluster in {} (server binaries in {})",
                    cluster.dir().display(),
                    cluster.binaries().bindir().display()
                );
                (Some(cluster), config, description)
            }
        };
        if admin_config.get_application_name().is_none() {
            admin_config.application_name(APPLICATION_NAME);
        }
        // Every later connection (replays, catalog reads, the prelude) is made from this.
        if let Some(timeout) = options.statement_timeout {
            let options = format!(
                "{} -c statement_timeout={}",
                admin_config.get_options().unwrap_or_default(),
                timeout.as_millis()
            );
            admin_config.options(options.trim_start());
        }
        let mut admin = connect(&admin_config, &description)?;
        let version = show_setting(&mut admin, "server_version")?;
        let major_version = major_version(&mut admin)?;
        capabilities::ensure_supported(major_version, &format!("{description}, {version}"))?;

        if cluster.is_none() {
            drop_leftover_databases(&mut admin, major_version)?;
        }
        let roles_cleanup = cluster.is_none().then(|| {
            let roles_before = role_names(&mut admin);
            let admin_config = admin_config.clone();
            CleanupGuard::register(move || {
                let dropped = roles_before.and_then(|keep| drop_roles_except(&admin_config, &keep));
                if let Err(err) = dropped {
                    eprintln!("warning: could not drop the roles this run created: {err:#}");
                }
            })
        });
        let mut server = ScratchServer {
            admin: Arc::new(Mutex::new(admin)),
            template: None,
            _roles_cleanup: roles_cleanup,
            existing_roles: BTreeSet::new(),
            admin_config,
            description,
            version,
            major_version,
            cluster,
        };
        if let Some(prelude) = &options.prelude {
            server.template = Some(server.create_template(prelude)?);
        }
        server.existing_roles =
            role_names(&mut server.admin.lock().unwrap_or_else(PoisonError::into_inner))?;
        Ok(server)
    }

    /// The roles that were there before any migration ran (see [`ServerOptions::prelude`]).
    pub fn existing_roles(&self) -> &BTreeSet<String> {
        &self.existing_roles
    }

    /// Drops every role that was not there before the migrations ran, so that the next
    /// side replays on the server as the first one found it; returns their names.
    pub fn drop_created_roles(&self) -> anyhow::Result<Vec<String>> {
        drop_roles_except(&self.admin_config, &self.existing_roles)
            .with_context(|| format!("cannot drop the roles created on the {}", self.description))
    }

    /// `server_version` as the server reports it, e.g. `15.19 (Debian 15.19-0+deb12u1)`.
    pub fn version(&self) -> &str {
        &self.version
    }

    #[cfg(test)]
    /// The major version (`15`), which decides what the catalogs hold.
    pub fn major_version(&self) -> u32 {
        self.major_version
    }

    /// Which server this is, fit to print: the cluster's directory, or the URL without
    /// its password.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Creates a uniquely named database (from the prelude template, else `template0`);
    /// `label` goes into the name (`old`, `new`) to help a person reading server logs.
    pub fn create_database(&self, label: &str) -> anyhow::Result<ScratchDatabase<'_>> {
        let name = unique_database_name(label);
        let template = self
            .template
            .as_ref()
            .map_or("template0", |t| t.name.as_str());
        let cleanup = self.create_database_from(&name, template)?;
        Ok(ScratchDatabase {
            server: self,
            name,
            _cleanup: cleanup,
        })
    }

    /// Creates `name`; on a URL server, also arranges for it to be dropped.
    fn create_database_from(
        &self,
        name: &str,
        template: &str,
    ) -> anyhow::Result<Option<CleanupGuard>> {
        // Registered before creating: a Ctrl-C in between must not leave the database.
        let cleanup = self.cluster.is_none().then(|| {
            let (admin, admin_config) = (Arc::clone(&self.admin), self.admin_config.clone());
            let (name, major_version) = (name.to_owned(), self.major_version);
            CleanupGuard::register(move || {
                let _creation_done = admin.lock().unwrap_or_else(PoisonError::into_inner);
                if let Err(err) = drop_database(&admin_config, &name, major_version) {
                    eprintln!("warning: could not drop scratch database {name}: {err:#}");
                }
            })
        });
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(name),
            quote_ident(template)
        );
        self.admin
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .batch_execute(&sql)
            .map_err(postgres_error)
            .with_context(|| {
                format!(
                    "cannot create scratch database {name} on the {}",
                    self.description
                )
            })?;
        Ok(cleanup)
    }

    fn create_template(&self, prelude: &Path) -> anyhow::Result<TemplateDatabase> {
        let sql = crate::input::read_to_string(prelude)
            .with_context(|| format!("cannot read prelude {}", prelude.display()))?;
        let name = unique_database_name("template");
        let cleanup = self.create_database_from(&name, "template0")?;
        let template = TemplateDatabase {
            name,
            _cleanup: cleanup,
        };

        let mut client = self.connect_to(&template.name)?;
        client
            .batch_execute(&sql)
            .map_err(|err| prelude_error(prelude, &sql, err))?;
        // CREATE DATABASE ... TEMPLATE refuses a template anyone is connected to.
        client
            .close()
            .map_err(postgres_error)
            .context("cannot close the prelude connection")?;
        Ok(template)
    }

    fn connect_to(&self, dbname: &str) -> anyhow::Result<postgres::Client> {
        self.admin_config
            .clone()
            .dbname(dbname)
            .connect(NoTls)
            .map_err(postgres_error)
            .with_context(|| {
                format!(
                    "cannot connect to database {dbname} on the {}",
                    self.description
                )
            })
    }
}

impl fmt::Debug for ScratchServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScratchServer")
            .field("description", &self.description)
            .field("version", &self.version)
            .field("template", &self.template.as_ref().map(|t| &t.name))
            .finish_non_exhaustive()
    }
}

/// A database that is dropped when this value is (on a throwaway cluster, it goes with
/// the cluster instead).
pub struct ScratchDatabase<'a> {
    server: &'a ScratchServer,
    name: String,
    _cleanup: Option<CleanupGuard>,
}

impl ScratchDatabase<'_> {
    #[cfg(test)]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A libpq connection URI for programs of our own choosing (psql, pg_dump), through
    /// the throwaway cluster's socket; `None` on a server named by URL, whose password we
    /// do not hand on.
    pub fn libpq_url(&self) -> Option<String> {
        self.server
            .cluster
            .as_ref()
            .map(|cluster| cluster.libpq_url(&self.name))
    }

    /// A new connection as the server's user; callable from any thread.
    pub fn connect(&self) -> anyhow::Result<postgres::Client> {
        self.server.connect_to(&self.name)
    }
}

impl fmt::Debug for ScratchDatabase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScratchDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The connection settings of a URL, and the server's description without the password.
fn url_config(url: &str) -> anyhow::Result<(postgres::Config, String)> {
    let config = parse_database_url(url)?;
    Ok((config, format!("server at {}", describe_database_url(url))))
}

fn connect(config: &postgres::Config, description: &str) -> anyhow::Result<postgres::Client> {
    config
        .connect(NoTls)
        .map_err(postgres_error)
        .with_context(|| format!("cannot connect to the {description}"))
}

/// The major version (`15`), which decides what the catalogs hold.
fn major_version(client: &mut postgres::Client) -> anyhow::Result<u32> {
    let version_num = show_setting(client, "server_version_num")?;
    Ok(version_num
        .parse::<u32>()
        .with_context(|| format!("unexpected server_version_num {version_num:?}"))?
        / 10_000)
}

fn show_setting(client: &mut postgres::Client, setting: &str) -> anyhow::Result<String> {
    let row = client
        .query_one(&format!("SHOW {setting}"), &[])
        .map_err(postgres_error)
        .with_context(|| format!("cannot read {setting}"))?;
    Ok(row.get(0))
}

/// Removes what runs that died left behind: throwaway clusters (their servers stopped),
/// unfinished initdb cache entries and, given a server URL, scratch databases there of
/// runs on this machine. Returns what was removed, fit to print.
pub fn remove_leftovers(database_url: Option<&str>) -> anyhow::Result<Vec<String>> {
    let mut removed: Vec<String> = cluster::remove_leftovers()
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    if let Some(url) = database_url {
        let (config, description) = url_config(url)?;
        let mut client = connect(&config, &description)?;
        let major_version = major_version(&mut client)?;
        let dropped = drop_leftover_databases(&mut client, major_version)?;
        removed.extend(
            dropped
                .into_iter()
                .map(|name| format!("database {name} on the {description}")),
        );
    }
    Ok(removed)
}

/// Drops the scratch databases of runs on this machine that have died; returns their
/// names. Those of another machine sharing the server are left alone: this one cannot
/// tell whether their runs are alive.
fn drop_leftover_databases(
    client: &mut postgres::Client,
    major_version: u32,
) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE 'xtask\\_%'",
            &[],
        )
        .map_err(postgres_error)
        .context("cannot list the scratch databases")?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let dead = Owner::parse(&name, DATABASE_PREFIX)
            .is_some_and(|owner| owner.is_on_this_boot() && !owner.is_alive());
        if dead {
            drop_database_with(client, &name, major_version)
                .with_context(|| format!("cannot drop {name}, left by a run that died"))?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

fn role_names(client: &mut postgres::Client) -> anyhow::Result<BTreeSet<String>> {
    let rows = client
        .query("SELECT rolname::text FROM pg_roles", &[])
        .map_err(postgres_error)
        .context("cannot list the roles")?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Drops every role not in `keep`, through a fresh connection; returns their names.
fn drop_roles_except(
    admin_config: &postgres::Config,
    keep: &BTreeSet<String>,
) -> anyhow::Result<Vec<String>> {
    let mut client = admin_config.connect(NoTls).map_err(postgres_error)?;
    let created: Vec<String> = role_names(&mut client)?.difference(keep).cloned().collect();
    for role in &created {
        client
            .batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(role)))
            .map_err(postgres_error)
            .with_context(|| format!("cannot drop role {role}"))?;
    }
    Ok(created)
}

/// Through a fresh connection, since the one that created it may be in use or gone.
fn drop_database(
    admin_config: &postgres::Config,
    name: &str,
    major_version: u32,
) -> anyhow::Result<()> {
    let mut client = admin_config.connect(NoTls).map_err(postgres_error)?;
    drop_database_with(&mut client, name, major_version)
}

fn drop_database_with(
    client: &mut postgres::Client,
    name: &str,
    major_version: u32,
) -> anyhow::Result<()> {
    let quoted = quote_ident(name);
    if major_version >= 13 {
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    } else {
        client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .and_then(|_| client.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted}")))
    }
    .map_err(postgres_error)
}

/// Every scratch database's name starts so, then its owner's tag ([`Owner::tag`]).
const DATABASE_PREFIX: &str = "xtask_";

/// `xtask_<owner tag>_<label>_<n>`: unique within this process by `n`, across processes
/// and runs by the owner's tag, which also lets a later run tell a leftover of a dead run
/// (see [`drop_leftover_databases`]).
fn unique_database_name(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let prefix = format!("{DATABASE_PREFIX}{}_", Owner::current().tag());
    let suffix = format!("_{n}");
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(MAX_IDENTIFIER_LEN.saturating_sub(prefix.len() + suffix.len()))
        .collect();
    format!("{prefix}{label}{suffix}")
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A server error as its own text (severity, message, detail, hint); the driver's error
/// would print that text twice in a cause chain.
pub(crate) fn postgres_error(err: postgres::Error) -> anyhow::Error {
    match err.as_db_error() {
        Some(db) => anyhow::anyhow!("{db}"),
        None => anyhow::Error::new(err),
    }
}

/// A prelude failure reads like a migration's: file, line and column, the SQL pointed at.
fn prelude_error(prelude: &Path, sql: &str, err: postgres::Error) -> anyhow::Error {
    anyhow::Error::new(MigrationError::in_file(prelude, sql, false, &err))
        .context(format!("the prelude {} failed", prelude.display()))
}

#[cfg(test)]
mod tests;
