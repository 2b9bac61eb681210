//! sqlx's migration lock: a session-level advisory lock whose id is derived from the
//! database's name (sqlx-postgres `generate_lock_id`). Holding it, no migrator built with
//! sqlx can read or write `_sqlx_migrations` until we let go.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::pg::postgres_error;

/// How often a busy lock is tried again.
const POLL: Duration = Duration::from_millis(200);

/// A connection to the target holding sqlx's migration lock; it lets go when dropped
/// (and the server does when the connection ends, whatever happens to us).
pub struct LockedTarget {
    client: postgres::Client,
    id: i64,
    database: String,
}

impl LockedTarget {
    /// Takes the lock, waiting up to `timeout` while someone else holds it; `waiting` is
    /// told once who that is.
    pub fn acquire(
        mut client: postgres::Client,
        timeout: Duration,
        waiting: impl FnOnce(&str),
    ) -> anyhow::Result<LockedTarget> {
        let database: String = client
            .query_one("SELECT current_database()", &[])
            .map_err(postgres_error)?
            .get(0);
        let id = lock_id(&database);
        let started = Instant::now();
        let mut waiting = Some(waiting);
        loop {
            let taken: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&id])
                .map_err(postgres_error)
                .context("cannot take sqlx's migration lock")?
                .get(0);
            if taken {
                return Ok(LockedTarget {
                    client,
                    id,
                    database,
                });
            }
            let holder = holder(&mut client, id)?;
            if started.elapsed() >= timeout {
                bail!(
                    "sqlx's migration lock on database {database} (pg_advisory_lock({id})) is \
                     still held by {holder} after {}s: a migrator is running; let it finish, \
                     or pass a longer --lock-timeout",
                    timeout.as_secs()
                );
            }
            if let Some(waiting) = waiting.take() {
                waiting(&format!(
                    "waiting for sqlx's migration lock on database {database} (held by \
                     {holder}), at most {}s",
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }

    pub fn database(&self) -> &str {
        &self.database
    }
}

impl Drop for LockedTarget {
    fn drop(&mut self) {
        // Closing the connection releases the lock anyway; this only makes it prompt.
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&self.id]);
    }
}

/// Which session holds the advisory lock `id`: pid and application name, as far as the
/// server tells us.
fn holder(client: &mut postgres::Client, id: i64) -> anyhow::Result<String> {
    // A bigint advisory lock shows its high half as classid, its low half as objid.
    let (high, low) = (id >> 32, id & 0xffff_ffff);
    let row = client
        .query_opt(
            "SELECT l.pid, coalesce(a.application_name, '') FROM pg_locks l \
             LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid::bigint = $1 AND l.objid::bigint = $2",
            &[&high, &low],
        )
        .map_err(postgres_error)
        .context("cannot see who holds sqlx's migration lock")?;
    Ok(match row {
        Some(row) => {
            let (pid, application): (i32, String) = (row.get(0), row.get(1));
            match application.is_empty() {
                true => format!("server process {pid}"),
                false => format!("server process {pid} ({application})"),
            }
        }
        None => "another session".to_owned(),
    })
}

/// sqlx's `generate_lock_id`: `0x3d32ad9e * crc32(database name)` in i64 arithmetic (the
/// product stays below 2^62, so it never wraps).
pub fn lock_id(database: &str) -> i64 {
    0x3d32ad9e * i64::from(crc32_iso_hdlc(database.as_bytes()))
}

/// CRC-32/ISO-HDLC (the zlib and Ethernet CRC), bit by bit: a name is a few bytes.
fn crc32_iso_hdlc(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value_of_the_catalogue() {
        // The standard check input of CRC catalogues, and the empty input.
        assert_eq!(crc32_iso_hdlc(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32_iso_hdlc(b""), 0);
    }

    #[test]
    fn the_lock_id_is_positive_and_does_not_wrap() {
        assert_eq!(lock_id("123456789"), 0x3d32ad9e * 0xcbf4_3926_i64);
        assert!(lock_id("attune") > 0);
    }
}
