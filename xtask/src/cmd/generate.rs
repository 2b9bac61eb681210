//! `cargo xtask generate`: writes the consolidated set from the history, proves it equal
//! (schema, data, strict column order, the pack loaded into both), and only then stages
//! it.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{default_pack, ServerArgs};
use crate::comparison;
use crate::config::Config;
use crate::exit;
use crate::generate::plan::Plan;
use crate::generate::write::{check_into, Staged};
use crate::generate::{self, Generation};
use crate::migrations::{ChainRole, MigrationChain};
use crate::report::{Format, Recorded, Report};
use crate::schema::accepted::AcceptedDifferences;
use crate::tree::{self, Tree};
use crate::ui::{self, Progress};

/// Write the consolidated set from the history, proven equal before it is staged
#[derive(Debug, Args)]
#[command(
    long_about = "Write the consolidated set from the history, proven equal before it is \
        staged.\n\n\
        The history is replayed on a scratch database and its final state read through the \
        model verify compares. The set is written as SQL (one file per group of the plan, \
        or per history migration that created the objects), replayed, and compared with \
        the history: schema, data, strict column order, the pack loaded into both. Only \
        when they are equal does the set appear in --into (written beside it, then \
        renamed). Objects generate cannot write are refused by name, with exit 1.",
    after_help = "Examples:\n  \
        cargo xtask generate\n  \
        cargo xtask generate --from migrations.old --into migrations.new --force\n  \
        cargo xtask generate --plan plan.toml --into /tmp/set"
)]
pub struct Generate {
    /// The history [default: <root>/migrations.old if it exists, else <root>/migrations]
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,

    /// Where the proven set is staged; refused when it exists and is not empty
    #[arg(long, value_name = "DIR", default_value = tree::DEFAULT_STAGING_DIR)]
    into: PathBuf,

    /// Replace the migrations of a non-empty --into once the new set is proven (its other
    /// files are kept)
    #[arg(long)]
    force: bool,

    /// Grouping of objects into files [default: [generate] in <root>/xtask.toml, else one
    /// file per history migration that created something]
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,

    #[command(flatten)]
    server: ServerArgs,

    /// The pack loaded into both sides for the proof [default: <root>/packs/core, if present]
    #[arg(long, value_name = "DIR", conflicts_with = "no_pack")]
    pack: Option<PathBuf>,

    /// Prove without loading a pack
    #[arg(long)]
    no_pack: bool,

    /// No progress on the terminal
    #[arg(long, short)]
    quiet: bool,
}

impl Generate {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let config = Config::load(root)?;
        let tree = Tree::new(root);
        super::refuse_if_interrupted(&tree)?;
        let into = root.join(&self.into);
        check_into(&into, self.force)?;
        let from = self
            .from
            .clone()
            .unwrap_or_else(|| match tree.backup().exists() {
                true => tree.backup(),
                false => tree.migrations(),
            });
        let history = MigrationChain::resolve(&from, ChainRole::History)?;
        let plan = match (&self.plan, &config.generate) {
            (Some(path), _) => Some(Plan::read(path)?),
            (None, Some(plan)) => Some(plan.clone()),
            (None, None) => None,
        };
        let pack = default_pack(root, self.pack.as_deref(), self.no_pack)?;
        let options = self.server.options(&config);
        let progress = Progress::new(self.quiet);

        let set = match generate::generate(&options, &history, plan.as_ref(), &progress)? {
            Generation::Set(set) => set,
            Generation::Refused(reasons) => {
                drop(progress);
                eprintln!(
                    "generate cannot re-create everything the history built; nothing was \
                     written:"
                );
                for reason in &reasons {
                    eprintln!("  {reason}");
                }
                return Ok(exit::DIFFERENT);
            }
        };
        let staged = Staged::write(&into, &set)?;
        let generated = MigrationChain::resolve(&staged.dir, ChainRole::Consolidated)?;
        let comparison =
            comparison::compare(&options, &history, &generated, pack.as_ref(), &progress)?;
        drop(progress);
        let accepted = AcceptedDifferences::default();
        let report = Report::new(
            &comparison,
            (&history, &generated),
            &accepted,
            true,
            Recorded::default(),
        );
        if !report.equal {
            report.print(Format::Human)?;
            println!(
                "not written: the generated set does not build the history's database; {} is \
                 untouched",
                into.display()
            );
            return Ok(exit::DIFFERENT);
        }
        staged.publish(&into)?;
        println!(
            "generated {} into {}: equal to {} in schema, data and column order{}",
            ui::count(set.files.len(), "file"),
            into.display(),
            from.display(),
            match &pack {
                Some(pack) => format!(", with {} loaded into both", pack.dir.display()),
                None => String::new(),
            }
        );
        for (name, _) in &set.files {
            println!("  {name}");
        }
        if !set.rows.is_empty() {
            println!("rows the history left, written as INSERTs (a pack may suit them better):");
            for (table, n) in &set.rows {
                println!("  {table}: {}", ui::count(*n, "row"));
            }
        }
        for note in &set.moved {
            ui::print_note(note);
        }
        Ok(exit::OK)
    }
}
