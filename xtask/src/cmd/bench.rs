//! `cargo xtask bench`: times verify beside psql, the manual pg_dump check and migra, on
//! synthetic histories of growing size and on the repository's own history.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::bench::report::{self, BenchReport, Machine};
use crate::bench::{self, BenchPlan, LARGE_SIZE};
use crate::exit;
use crate::ui::Progress;

/// Time verify against the alternatives, side by side, on this machine
#[derive(Debug, Args)]
#[command(after_help = "Build with --release for figures worth keeping:\n  \
    cargo run --release -p xtask -- bench --output bench.json\n  \
    cargo run --release -p xtask -- bench --sizes 50,250 --runs 3 --output bench.csv")]
pub struct Bench {
    /// History sizes, in migrations, of the synthetic cases (over sizes / 2.5 tables)
    #[arg(long, value_delimiter = ',', default_value = "50,250,2500")]
    sizes: Vec<usize>,

    /// Runs per case; each figure is the median
    #[arg(long, default_value_t = 5)]
    runs: usize,

    /// Runs at sizes of 1,000 migrations or more, where one run takes minutes
    #[arg(long, default_value_t = 3)]
    large_runs: usize,

    /// Seed of the synthetic histories
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Leave the repository's own history out
    #[arg(long)]
    no_repository: bool,

    /// The migra executable [default: `migra` on PATH]
    #[arg(long, value_name = "PATH")]
    migra: Option<PathBuf>,

    /// Keep the synthetic histories in DIR/synthetic-<size>/{history,consolidated}
    #[arg(long, value_name = "DIR")]
    histories: Option<PathBuf>,

    /// Also write the figures here: CSV if the name ends in .csv, else JSON
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

impl Bench {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        if cfg!(debug_assertions) {
            crate::ui::print_warning(
                "a debug build: our figures are slower than they should be; \
                 use `cargo run --release -p xtask -- bench`",
            );
        }
        let load_before = report::load_average();
        let plan = BenchPlan {
            sizes: self.sizes.clone(),
            seed: self.seed,
            runs: self.runs,
            large_runs: self.large_runs,
            repository: (!self.no_repository).then(|| root.to_owned()),
            migra: self.migra.clone(),
            histories: self.histories.clone(),
        };
        let progress = Progress::new(false);
        let results = bench::run(&plan, &progress)?;
        drop(progress);
        let postgres = results.baseline.server_version.clone();
        let report = BenchReport::new(
            Machine::describe(load_before),
            postgres,
            self.seed,
            &results,
        );
        print!("{}", report.render());
        if self.sizes.iter().any(|&size| size >= LARGE_SIZE) {
            println!(
                "(sizes of {LARGE_SIZE} migrations or more: {} runs)",
                self.large_runs
            );
        }
        if let Some(path) = &self.output {
            report.write(path)?;
            println!("written to {}", path.display());
        }
        Ok(exit::OK)
    }
}
