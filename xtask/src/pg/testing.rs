//! Scratch databases for unit tests of other modules: one throwaway cluster shared by the
//! tests that run at the same time, stopped when the last of them lets go of it, so that
//! tests neither depend on a running server nor pay for a cluster each.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use super::{ScratchServer, ServerOptions};

/// A connection to a fresh database; keep the server alive as long as the connection.
pub fn scratch_client(label: &str) -> (postgres::Client, Arc<ScratchServer>) {
    let server = shared_server();
    let database = server
        .create_database(label)
        .expect("create a scratch database");
    let client = database.connect().expect("connect to the scratch database");
    // On our own cluster a database goes with the cluster; letting go of the handle here
    // leaves the database and its connection in place.
    drop(database);
    (client, server)
}

/// The URL of a fresh database on the shared cluster, for code that connects by URL
/// itself; keep the server alive as long as the URL is used.
pub fn scratch_url(label: &str) -> (String, Arc<ScratchServer>) {
    let server = shared_server();
    let database = server
        .create_database(label)
        .expect("create a scratch database");
    let url = database
        .libpq_url()
        .expect("the shared server is a throwaway cluster");
    drop(database);
    (url, server)
}

fn shared_server() -> Arc<ScratchServer> {
    static SHARED: Mutex<Weak<ScratchServer>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(
        ScratchServer::start(&ServerOptions::default()).expect("start a throwaway cluster"),
    );
    *shared = Arc::downgrade(&server);
    server
}
