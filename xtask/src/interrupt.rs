//! A process-wide registry of cleanups (stop a cluster, drop a database) that run either
//! when their guard is dropped or, on Ctrl-C (SIGINT, and SIGTERM or SIGHUP alike), from
//! the signal handler before we exit; and what the rest of the process does meanwhile.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError, RwLock};

/// Exit code of a process ended by SIGINT, as shells report it.
const INTERRUPTED_EXIT_CODE: i32 = crate::exit::INTERRUPTED as i32;

type Cleanup = Box<dyn FnOnce() + Send>;

struct Registry {
    next_id: u64,
    pending: BTreeMap<u64, Cleanup>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 0,
    pending: BTreeMap::new(),
});

/// Held for reading while a guard runs its cleanup, so that the Ctrl-C handler (which
/// takes it for writing) does not exit the process halfway through that cleanup.
static RUNNING: RwLock<()> = RwLock::new(());

static INSTALL_HANDLER: Once = Once::new();

/// Set once the Ctrl-C handler has started cleaning up; it ends the process itself.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Runs its cleanup once: when dropped, or from the Ctrl-C handler, whichever comes first.
pub(crate) struct CleanupGuard {
    id: u64,
}

impl CleanupGuard {
    /// Once an interruption is being handled, parks the caller instead: the handler has
    /// taken the cleanups it runs, and whatever the caller was about to create would be
    /// left behind.
    pub(crate) fn register(cleanup: impl FnOnce() + Send + 'static) -> CleanupGuard {
        let ((), guard) = CleanupGuard::register_with(|| Ok(((), cleanup)))
            .unwrap_or_else(|never: anyhow::Error| unreachable!("{never}"));
        guard
    }

    /// Runs `create`, which makes something and returns it with its cleanup, and registers
    /// that cleanup, as one step for the Ctrl-C handler: it runs either before `create`
    /// (which then does not run) or after the cleanup is registered, never in between,
    /// which would leave what `create` made behind. `create` must be quick.
    pub(crate) fn register_with<T, C: FnOnce() + Send + 'static>(
        create: impl FnOnce() -> anyhow::Result<(T, C)>,
    ) -> anyhow::Result<(T, CleanupGuard)> {
        install_interrupt_handler();
        let mut registry = loop {
            let registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
            if !interrupted() {
                break registry;
            }
            drop(registry);
            yield_to_interruption();
        };
        let (created, cleanup) = create()?;
        let id = registry.next_id;
        registry.next_id += 1;
        registry.pending.insert(id, Box::new(cleanup));
        Ok((created, CleanupGuard { id }))
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        let _running = RUNNING.read().unwrap_or_else(PoisonError::into_inner);
        let cleanup = REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending
            .remove(&self.id);
        if let Some(cleanup) = cleanup {
            cleanup();
        }
    }
}

fn install_interrupt_handler() {
    INSTALL_HANDLER.call_once(|| {
        // Without the handler a Ctrl-C would leave clusters and databases behind; say so
        // rather than fail, since everything else still works.
        if let Err(err) = ctrlc::set_handler(run_all_and_exit) {
            eprintln!(
                "warning: cannot clean up scratch PostgreSQL on Ctrl-C ({err}); \
                 an interrupted run may leave it behind"
            );
        }
    });
}

fn run_all_and_exit() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let pending = std::mem::take(
        &mut REGISTRY
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending,
    );
    if !pending.is_empty() {
        eprintln!("interrupted: removing scratch PostgreSQL databases and clusters");
    }
    // Newest first: databases before the template they came from, before the cluster.
    for (_, cleanup) in pending.into_iter().rev() {
        cleanup();
    }
    drop(RUNNING.write().unwrap_or_else(PoisonError::into_inner));
    std::process::exit(INTERRUPTED_EXIT_CODE);
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Fails once an interruption is being handled: work that fills a scratch directory
/// checks it between steps, so that the cleanup waiting for that work does not wait long.
pub(crate) fn bail_if_interrupted() -> anyhow::Result<()> {
    if interrupted() {
        anyhow::bail!("interrupted");
    }
    Ok(())
}

/// Once an interruption is being handled, parks the calling thread for good: the handler
/// ends the process when its cleanup is done. The main thread calls it before it reports
/// its outcome, so that it neither exits while a cluster is still being removed (leaving
/// the rest behind) nor reports the errors the interruption itself caused (a connection
/// the stopping server closed).
pub fn yield_to_interruption() {
    while interrupted() {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn cleanup_runs_once_on_drop_and_is_deregistered() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let guard = CleanupGuard::register(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let id = guard.id;
        drop(guard);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(!REGISTRY.lock().unwrap().pending.contains_key(&id));
    }
}
