//! Scratch PostgreSQL: a throwaway cluster of our own, or scratch databases on a server
//! named by URL. Everything created here is removed on every exit path.

mod cleanup;
mod cluster;
mod redact;

use std::path::PathBuf;

/// Where scratch databases come from.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// A server to use instead of a throwaway cluster (`--database-url` / `DATABASE_URL`).
    pub database_url: Option<String>,
    /// SQL run once, as superuser, in a template database that every scratch database is
    /// created from (roles, schemas owned by other systems).
    pub prelude: Option<PathBuf>,
}

/// A running server that hands out scratch databases.
pub struct ScratchServer {
    _private: (),
}

impl ScratchServer {
    pub fn start(_options: &ServerOptions) -> anyhow::Result<ScratchServer> {
        todo!("pg: start")
    }

    /// `server_version` as the server reports it, e.g. `15.19 (Debian 15.19-0+deb12u1)`.
    pub fn version(&self) -> &str {
        todo!("pg: version")
    }

    /// Creates a uniquely named database (from the prelude template, else `template0`);
    /// `label` goes into the name (`old`, `new`) to help a person reading server logs.
    pub fn create_database(&self, _label: &str) -> anyhow::Result<ScratchDatabase<'_>> {
        todo!("pg: create_database")
    }
}

/// A database that is dropped when this value is.
pub struct ScratchDatabase<'a> {
    _server: &'a ScratchServer,
}

impl ScratchDatabase<'_> {
    pub fn name(&self) -> &str {
        todo!("pg: name")
    }

    pub fn connect(&self) -> anyhow::Result<postgres::Client> {
        todo!("pg: connect")
    }
}
