//! Which run made a scratch directory or database: its process id and start time, and the
//! machine's boot, written into the name, so that any later run can tell the leftovers of
//! a dead run from the work of a live one, even once the process id has been reused.

use std::fs;
use std::sync::OnceLock;

/// A process, identified across pid reuse by when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pid: u32,
    /// Field 22 of `/proc/<pid>/stat`: clock ticks from boot to the process's start.
    start: u64,
    /// The first hex digits of the kernel's boot id: a server named by URL may be shared
    /// by several machines, whose processes this one cannot see.
    boot: String,
}

impl Owner {
    /// This process.
    pub(crate) fn current() -> &'static Owner {
        static CURRENT: OnceLock<Owner> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let pid = std::process::id();
            Owner {
                pid,
                start: start_time(pid).unwrap_or(0),
                boot: boot_id(),
            }
        })
    }

    /// `<pid>_<start>_<boot>`, fit for a file or database name.
    pub(crate) fn tag(&self) -> String {
        format!("{}_{}_{}", self.pid, self.start, self.boot)
    }

    /// The owner of a name that starts with `prefix` and then [`Owner::tag`]; `None` if
    /// the name is not one of ours.
    pub(crate) fn parse(name: &str, prefix: &str) -> Option<Owner> {
        let mut parts = name.strip_prefix(prefix)?.splitn(4, '_');
        let pid = parts.next()?.parse().ok()?;
        let start = parts.next()?.parse().ok()?;
        let boot = parts.next()?;
        let is_hex = !boot.is_empty() && boot.bytes().all(|b| b.is_ascii_hexdigit());
        is_hex.then(|| Owner {
            pid,
            start,
            boot: boot.to_owned(),
        })
    }

    /// Whether the process still runs: a process with that pid exists and started then,
    /// since this machine last booted.
    pub(crate) fn is_alive(&self) -> bool {
        self.is_on_this_boot() && start_time(self.pid) == Some(self.start)
    }

    /// Whether the owner ran on this machine since it last booted: only then can this
    /// process tell whether it still runs.
    pub(crate) fn is_on_this_boot(&self) -> bool {
        self.boot == Owner::current().boot
    }
}

/// Eight hex digits of `/proc/sys/kernel/random/boot_id`, new at every boot.
fn boot_id() -> String {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let digits: String = id.chars().filter(char::is_ascii_hexdigit).take(8).collect();
    if digits.is_empty() {
        "0".to_owned()
    } else {
        digits
    }
}

/// Field 22 of `/proc/<pid>/stat`, counted after the command name, which is in
/// parentheses and may itself hold spaces and parentheses.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields 3 onwards follow the name; the start time is field 22.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_its_tag_reads_back() {
        let me = Owner::current();
        assert!(me.start > 0);
        assert!(me.is_alive());
        let name = format!("xtask-pg-{}_rest", me.tag());
        assert_eq!(Owner::parse(&name, "xtask-pg-").as_ref(), Some(me));
        assert_eq!(Owner::parse("xtask-pg-abc", "xtask-pg-"), None);
        assert_eq!(Owner::parse("xtask-pg-1_2_xyz", "xtask-pg-"), None);
        assert_eq!(Owner::parse("other-1_2_ab", "xtask-pg-"), None);
    }

    #[test]
    fn a_process_that_started_at_another_time_is_dead() {
        let me = Owner::current();
        let impostor = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert!(!impostor.is_alive());
        let elsewhere = Owner {
            boot: "ffffffff0".to_owned(),
            ..me.clone()
        };
        assert!(!elsewhere.is_on_this_boot() && !elsewhere.is_alive());
        let ended = std::process::Command::new("true")
            .spawn()
            .and_then(|mut child| child.wait().map(|_| child.id()))
            .unwrap();
        let ended = Owner {
            pid: ended,
            ..me.clone()
        };
        assert!(!ended.is_alive());
    }
}
