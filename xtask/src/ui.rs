//! What a person sees: errors with their causes, progress on a terminal, styles that
//! honour `NO_COLOR` and non-terminal output (through `anstream`).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressStyle};

use crate::migrations::MigrationError;

pub const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
pub const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub const GOOD: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const HEADING: Style = Style::new().bold();
pub const OLD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
pub const NEW: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

/// Prints an error once, at the top, with its whole cause chain: a cause may span several
/// lines (a migration failure shows the SQL it points at).
pub fn print_error(err: &anyhow::Error) {
    let mut out = anstream::stderr();
    let _ = writeln!(out, "{ERROR}error{ERROR:#}: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(out, "  {HEADING}caused by{HEADING:#}: {cause}");
    }
}

/// Passes a command's result through; when the caller asked for JSON on stdout, an error
/// is also printed there as JSON, so that a machine reading stdout learns why it got no
/// report.
pub fn json_on_error(json: bool, result: anyhow::Result<u8>) -> anyhow::Result<u8> {
    if let (true, Err(err)) = (json, &result) {
        print_error_json(err);
    }
    result
}

/// An error as JSON: a failing migration comes with its file, line and column as fields.
fn print_error_json(err: &anyhow::Error) {
    let migration = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<MigrationError>())
        .map(|failure| {
            serde_json::json!({
                "file": failure.path,
                "line": failure.position.map(|p| p.line),
                "column": failure.position.map(|p| p.column),
                "code": failure.code,
                "message": failure.message,
                "detail": failure.detail,
                "hint": failure.hint,
                "help": failure.help,
            })
        });
    let report = serde_json::json!({
        "error": err.to_string(),
        "causes": err.chain().skip(1).map(ToString::to_string).collect::<Vec<_>>(),
        "migration": migration,
    });
    let _ = writeln!(anstream::stdout(), "{report:#}");
}

pub fn print_warning(message: impl std::fmt::Display) {
    let _ = writeln!(anstream::stderr(), "{WARNING}warning{WARNING:#}: {message}");
}

pub fn print_note(message: impl std::fmt::Display) {
    let _ = writeln!(anstream::stderr(), "{HEADING}note{HEADING:#}: {message}");
}

/// A spinner naming the current phase; hidden when stderr is not a terminal or when asked
/// to be quiet, so logs and pipes get no control characters.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .expect("static template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        };
        Progress { bar }
    }

    pub fn phase(&self, message: impl Into<std::borrow::Cow<'static, str>>) {
        self.bar.set_message(message);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// `1 migration`, `2 migrations`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Seconds with two decimals: phases here take tens of milliseconds to seconds.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
