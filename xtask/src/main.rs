//! `cargo xtask`: consolidates and verifies the Attune PostgreSQL migration history.

mod analysis;
mod bench;
mod cmd;
mod comparison;
mod config;
mod data;
mod generate;
mod input;
mod migrations;
mod pack;
mod pg;
mod report;
mod schema;
mod sorted;
mod sqlx_table;
mod tree;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes shared by every command.
pub mod exit {
    /// The two sides are equal, or the command did what it was asked.
    pub const OK: u8 = 0;
    /// The command ran and found differences (or refused to proceed because of them).
    pub const DIFFERENT: u8 = 1;
    /// The command could not run: bad input, no server, a failing migration.
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    about = "Consolidate the Attune migration history safely, and prove it stays equivalent",
    after_help = "Exit status: 0 equal or done, 1 differences found, 2 could not run."
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
    Bench(cmd::bench::Bench),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = cli.root.unwrap_or_else(workspace_root);
    let result = match cli.command {
        Command::Analyze(analyze) => analyze.run(&root),
        Command::Bench(bench) => bench.run(&root),
        Command::Verify(verify) => verify.run(&root),
        Command::Consolidate(consolidate) => consolidate.run(&root),
        Command::Generate(generate) => generate.run(&root),
        Command::LoadPack(load_pack) => load_pack.run(&root),
        Command::Rebaseline(rebaseline) => rebaseline.run(&root),
        Command::Rollback(rollback) => rollback.run(&root),
        Command::Status(status) => status.run(&root),
    };
    pg::yield_to_interruption();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            ui::print_error(&err);
            ExitCode::from(exit::ERROR)
        }
    }
}

/// The directory holding the workspace's Cargo.toml, wherever cargo was started from.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), PathBuf::from)
}
