//! `cargo xtask`: consolidates and verifies the Attune PostgreSQL migration history.

mod analysis;
mod bench;
mod cmd;
mod comparison;
mod config;
mod data;
mod generate;
mod hex;
mod input;
mod interrupt;
mod migrations;
mod pack;
mod pg;
mod report;
mod schema;
mod sorted;
mod sqlx_table;
mod tree;
mod ui;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};

/// Exit codes shared by every command.
pub mod exit {
    /// The two sides are equal, or the command did what it was asked.
    pub const OK: u8 = 0;
    /// The command ran and found differences (or refused to proceed because of them).
    pub const DIFFERENT: u8 = 1;
    /// The command could not run: bad input, no server, a failing migration.
    pub const ERROR: u8 = 2;
    /// Ended by Ctrl-C (SIGINT) or SIGTERM, once everything it started was cleaned up.
    pub const INTERRUPTED: u8 = 130;
    /// The reader of stdout went away (`xtask status | head -1`): 128 + SIGPIPE, as a
    /// process ended by that signal reports, without a message.
    pub const CLOSED_PIPE: u8 = 141;
}

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    about = "Consolidate the Attune migration history safely, and prove it stays equivalent",
    after_help = "Exit status: 0 equal or done, 1 differences found, 2 could not run, 130 \
        interrupted (Ctrl-C or SIGTERM)."
)]
struct Cli {
    /// Repository root holding migrations/ and migrations.old/ [default: this workspace]
    #[arg(long, global = true, value_name = "DIR", env = "XTASK_ROOT")]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Verify(cmd::verify::Verify),
    Consolidate(cmd::consolidate::Consolidate),
    Generate(cmd::generate::Generate),
    Rollback(cmd::rollback::Rollback),
    Status(cmd::status::Status),
    Analyze(cmd::analyze::Analyze),
    LoadPack(cmd::load_pack::LoadPack),
    Rebaseline(cmd::rebaseline::Rebaseline),
    Retire(cmd::retire::Retire),
    Bench(cmd::bench::Bench),
    Clean(cmd::clean::Clean),
    Completions(Completions),
    #[command(hide = true)]
    WatchCluster(cmd::clean::WatchCluster),
}

/// Print a completion script for a shell, e.g. `cargo xtask completions bash > ~/.local/share/bash-completion/completions/cargo-xtask`
#[derive(Debug, clap::Args)]
struct Completions {
    /// The shell the script is for
    shell: clap_complete::Shell,
}

impl Completions {
    fn run(&self) -> anyhow::Result<u8> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "cargo-xtask", &mut script);
        // Printed, not streamed, so that a closed pipe ends the run as for other commands.
        print!("{}", String::from_utf8(script)?);
        Ok(exit::OK)
    }
}

/// Parses the command line; a typo's suggestion names an argument as its help shows it,
/// never a hidden alias, which would then spread as if it were the documented name.
fn parse_cli() -> Cli {
    Cli::try_parse().unwrap_or_else(|mut err| {
        if err.kind() == ErrorKind::UnknownArgument {
            if let Some(ContextValue::String(suggested)) = err.get(ContextKind::SuggestedArg) {
                if let Some(documented) = documented_name(suggested) {
                    err.insert(ContextKind::SuggestedArg, ContextValue::String(documented));
                }
            }
        }
        err.exit()
    })
}

/// The documented `--long` name of the argument that `suggested` is a hidden alias of, in
/// the subcommand named on the command line.
fn documented_name(suggested: &str) -> Option<String> {
    let alias = suggested.strip_prefix("--")?;
    let cli = Cli::command();
    let command = std::env::args()
        .skip(1)
        .find_map(|word| cli.find_subcommand(&word).cloned())?;
    let arg = command.get_arguments().find(|arg| {
        arg.get_all_aliases()
            .is_some_and(|all| all.contains(&alias))
            && !arg
                .get_visible_aliases()
                .is_some_and(|visible| visible.contains(&alias))
    })?;
    Some(format!("--{}", arg.get_long()?))
}

fn main() -> ExitCode {
    let cli = parse_cli();
    let root = cli.root.unwrap_or_else(workspace_root);
    ui::quiet_about_closed_pipes();
    // A panic unwinds through the commands' guards (servers stop, scratch work goes)
    // before it is looked at here.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| match cli.command {
        Command::Analyze(analyze) => analyze.run(&root),
        Command::Bench(bench) => bench.run(&root),
        Command::Clean(clean) => clean.run(&root),
        Command::Completions(completions) => completions.run(),
        Command::WatchCluster(watch) => watch.run(),
        Command::Verify(verify) => verify.run(&root),
        Command::Consolidate(consolidate) => consolidate.run(&root),
        Command::Generate(generate) => generate.run(&root),
        Command::LoadPack(load_pack) => load_pack.run(&root),
        Command::Rebaseline(rebaseline) => rebaseline.run(&root),
        Command::Retire(retire) => retire.run(&root),
        Command::Rollback(rollback) => rollback.run(&root),
        Command::Status(status) => status.run(&root),
    }));
    // Interrupted, the run exits 130 from here once cleaned up, and prints no error.
    interrupt::yield_to_interruption();
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(err)) => {
            ui::print_failure(&err);
            ExitCode::from(exit::ERROR)
        }
        Err(panic) if ui::is_closed_pipe(panic.as_ref()) => ExitCode::from(exit::CLOSED_PIPE),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The directory holding the workspace's Cargo.toml, wherever cargo was started from.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), PathBuf::from)
}
