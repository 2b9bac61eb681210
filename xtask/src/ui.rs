//! What a person sees: errors with their causes, progress on a terminal, styles that
//! honour `NO_COLOR` and non-terminal output (through `anstream`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// Whether the command's output is JSON: a failure is then printed as JSON on stdout, so
/// that a machine reading stdout learns why it got no report, and not also as text.
static ERRORS_AS_JSON: AtomicBool = AtomicBool::new(false);

/// Called by a command that prints JSON, before it can fail.
pub fn report_errors_as_json(json: bool) {
    ERRORS_AS_JSON.store(json, Ordering::Relaxed);
}

/// Prints the error a command failed with, once, in the form its output takes. Only
/// `main` calls it, once it knows the run was not interrupted: an interruption's own
/// consequences (a server gone mid-query) are no error to report.
pub fn print_failure(err: &anyhow::Error) {
    if ERRORS_AS_JSON.load(Ordering::Relaxed) {
        print_error_json(err);
    } else {
        print_error(err);
    }
}

/// Whether a panic is the standard library's refusal to print to a closed stdout, as when
/// `xtask status | head -1` stops reading: not a bug, and not worth a word.
pub fn is_closed_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    message.is_some_and(says_closed_pipe)
}

fn says_closed_pipe(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
}

/// Keeps the panic hook quiet about a closed stdout; other panics are reported as usual.
pub fn quiet_about_closed_pipes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_closed_pipe(info.payload()) {
            report(info);
        }
    }));
}

/// The `format_version` of every JSON document printed.
pub const JSON_FORMAT_VERSION: u32 = 1;

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
        "format_version": JSON_FORMAT_VERSION,
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

/// `1 migration`, `2 migrations`, `3 indexes`: the one pluralizer.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {}", plural(n, noun, &plural_noun(noun)))
}

/// `one` for one, else `many`: for words a suffix does not make (`it`, `them`).
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// The plural of a noun of this tool's vocabulary.
pub fn plural_noun(noun: &str) -> String {
    match noun {
        "index" => "indexes".to_owned(),
        // policy, entry: a consonant before the y.
        other
            if other.ends_with('y')
                && !other[..other.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']) =>
        {
            format!("{}ies", &other[..other.len() - 1])
        }
        other => format!("{other}s"),
    }
}

/// Seconds with two decimals: phases here take tens of milliseconds to seconds.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
