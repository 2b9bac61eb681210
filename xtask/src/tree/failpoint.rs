//! Failpoints: named points of the journaled swap where a test run kills (or stops) itself,
//! to prove that a run cut off there loses nothing. Compiled in only for the unit tests and
//! with the `failpoints` feature (`make test` enables it); a plain build ignores them.
//!
//! The names, `<operation>` being `consolidate`, `rollback`, `undo-consolidate` or `retire`
//! and `<i>` a step's number (from 1) in the operation's plan: `<operation>:after-begin`,
//! then for each step `<operation>:during-step-<i>` (only a step that copies or removes a
//! directory, hit after its first file), `<operation>:before-record-step-<i>` (step done,
//! journal not yet updated) and `<operation>:after-step-<i>`.
//!
//! This file depends on nothing else of the crate: the end-to-end tests include it too, so
//! that they name the same points as the code they drive.

/// Set to a failpoint's name to have the process SIGKILL itself there.
#[cfg(any(test, feature = "failpoints"))]
pub const VAR: &str = "XTASK_FAILPOINT";
/// Set to `STOP` beside `XTASK_FAILPOINT` to have the process stop itself there instead,
/// until sent SIGCONT: a run frozen half-way, as a second run sees it.
#[cfg(any(test, feature = "failpoints"))]
pub const SIGNAL_VAR: &str = "XTASK_FAILPOINT_SIGNAL";

pub fn after_begin(operation: &str) -> String {
    format!("{operation}:after-begin")
}

pub fn during_step(operation: &str, number: usize) -> String {
    format!("{operation}:during-step-{number}")
}

pub fn before_record_step(operation: &str, number: usize) -> String {
    format!("{operation}:before-record-step-{number}")
}

pub fn after_step(operation: &str, number: usize) -> String {
    format!("{operation}:after-step-{number}")
}

/// Kills (or stops) the process when `XTASK_FAILPOINT` names this point.
pub fn hit(name: &str) {
    #[cfg(any(test, feature = "failpoints"))]
    if std::env::var_os(VAR).is_some_and(|wanted| wanted == name) {
        let pid = std::process::id().to_string();
        let stop = std::env::var_os(SIGNAL_VAR).is_some_and(|signal| signal == "STOP");
        let signal = if stop { "-STOP" } else { "-9" };
        let _ = std::process::Command::new("kill")
            .args([signal, &pid])
            .status();
        if stop {
            // Continued by SIGCONT: the run goes on from here.
            return;
        }
        // The signal is delivered before `kill` returns; should it have failed, stop anyway.
        std::process::abort();
    }
    #[cfg(not(any(test, feature = "failpoints")))]
    let _ = name;
}
