//! One module per command; each strings together the steps of the other modules.

pub mod analyze;
pub mod bench;
pub mod clean;
pub mod consolidate;
pub mod generate;
pub mod load_pack;
pub mod rebaseline;
pub mod retire;
pub mod rollback;
pub mod status;
pub mod verify;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;

use crate::comparison::{self, Comparison};
use crate::config::{self, Config};
use crate::migrations::MigrationChain;
use crate::pack::Pack;
use crate::pg::{self, BinariesChoice, ServerOptions};
use crate::report::Format;
use crate::schema::accepted::AcceptedDifferences;
use crate::tree::{self, Tree, TreeState};
use crate::ui::{self, Progress};

/// Where the consolidated set waits before it is swapped in, and after a rollback.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Staging directory of the consolidated set, relative to the root
    #[arg(
        long,
        alias = "from",
        value_name = "DIR",
        default_value = tree::DEFAULT_STAGING_DIR
    )]
    staging: PathBuf,
}

impl TreeArgs {
    pub fn tree(&self, root: &Path) -> Tree {
        Tree::with_staging(root, &self.staging)
    }
}

/// Where scratch databases come from; shared by every command that replays migrations.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Use this server instead of a throwaway cluster; scratch databases are created and
    /// dropped on it, the database named in the URL is never written to. Read from
    /// XTASK_DATABASE_URL, not sqlx's DATABASE_URL, which names a database of the
    /// application's
    #[arg(
        long,
        value_name = "URL",
        env = "XTASK_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// SQL run once, as superuser, before any migration: roles and schemas the migrations
    /// assume [default: `prelude` in <root>/xtask.toml]
    #[arg(long, value_name = "FILE")]
    prelude: Option<PathBuf>,

    /// Seconds one statement may run before it is cancelled and the run fails naming it;
    /// 0 for no limit [default: `statement-timeout` in <root>/xtask.toml, else 600]
    #[arg(long, value_name = "SECONDS")]
    statement_timeout: Option<u64>,

    /// The throwaway cluster's server binaries: the first found of a major (`17`), or a
    /// directory holding initdb, pg_ctl and postgres [default: `pg` in <root>/xtask.toml,
    /// else the first found on PATH, through pg_config, in /usr/lib/postgresql/*/bin or
    /// in .pg/*/bin (`make pg-install`)]
    #[arg(long, value_name = "MAJOR|DIR", env = pg::CHOICE_VAR)]
    pg: Option<BinariesChoice>,
}

impl ServerArgs {
    pub fn options(&self, config: &Config) -> ServerOptions {
        let timeout = self
            .statement_timeout
            .or(config.statement_timeout)
            .unwrap_or(config::DEFAULT_STATEMENT_TIMEOUT);
        ServerOptions {
            database_url: self.database_url.clone(),
            prelude: self.prelude.clone().or_else(|| config.prelude.clone()),
            statement_timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            binaries: self.pg.clone().or_else(|| config.pg.clone()),
        }
    }
}

/// How two chains are built and compared; shared by `verify` and `consolidate`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    server: ServerArgs,

    /// The pack loaded into both sides before their data is compared
    /// [default: <root>/packs/core, if present]
    #[arg(long, value_name = "DIR", conflicts_with = "no_pack")]
    pack: Option<PathBuf>,

    /// Compare the schemas and whatever data the migrations leave, without loading a pack
    #[arg(long)]
    no_pack: bool,

    /// Reviewed, intended differences [default: <root>/accepted-differences.toml, if present]
    #[arg(long, value_name = "FILE")]
    accepted: Option<PathBuf>,

    /// Fail when a table's columns are in another order (otherwise a note)
    #[arg(long)]
    pub strict_column_order: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// No progress on the terminal
    #[arg(long, short)]
    quiet: bool,
}

impl CompareArgs {
    /// Everything that can be checked before a server starts: the pack's files, the
    /// accepted differences, and that the prelude is a regular file.
    pub fn prepare(
        &self,
        root: &Path,
        config: &Config,
    ) -> anyhow::Result<(Option<Pack>, AcceptedDifferences)> {
        if let Some(prelude) = &self.server.options(config).prelude {
            crate::input::check_regular(prelude)
                .with_context(|| format!("cannot read prelude {}", prelude.display()))?;
        }
        let pack = default_pack(root, self.pack.as_deref(), self.no_pack)?;
        let accepted = load_accepted(root, config, self.accepted.as_deref())?;
        Ok((pack, accepted))
    }

    pub fn server_options(&self, config: &Config) -> ServerOptions {
        self.server.options(config)
    }

    pub fn compare(
        &self,
        config: &Config,
        old: &MigrationChain,
        new: &MigrationChain,
        pack: Option<&Pack>,
    ) -> anyhow::Result<Comparison> {
        if self.format == Format::Human {
            for note in old.notes.iter().chain(&new.notes) {
                if note.is_hazard {
                    ui::print_warning(note);
                } else {
                    ui::print_note(note);
                }
            }
        }
        let progress = Progress::new(self.quiet);
        comparison::compare(&self.server.options(config), old, new, pack, &progress)
    }
}

/// The accepted differences: the file given, else the one `xtask.toml` names, else the
/// default file if present.
pub fn load_accepted(
    root: &Path,
    config: &Config,
    given: Option<&Path>,
) -> anyhow::Result<AcceptedDifferences> {
    match given.or(config.accepted_differences.as_deref()) {
        Some(path) => AcceptedDifferences::load(path),
        None => {
            let default = root.join(config::DEFAULT_ACCEPTED);
            if default.exists() {
                AcceptedDifferences::load(&default)
            } else {
                Ok(AcceptedDifferences::default())
            }
        }
    }
}

/// The pack loaded into both sides: `pack` when given, none with `no_pack`, else
/// `<root>/packs/core` when it exists.
pub fn default_pack(
    root: &Path,
    pack: Option<&Path>,
    no_pack: bool,
) -> anyhow::Result<Option<Pack>> {
    match (pack, no_pack) {
        (_, true) => Ok(None),
        (Some(dir), false) => Pack::read(dir).map(Some),
        (None, false) => {
            let default = Tree::new(root).default_pack();
            match default.exists() {
                true => Pack::read(&default).map(Some),
                false => Ok(None),
            }
        }
    }
}

/// Every command starts here: an operation that was cut off must be finished or undone,
/// and one under way must end, before anything else reads the directories.
pub fn refuse_if_interrupted(tree: &Tree) -> anyhow::Result<TreeState> {
    let state = tree.state()?;
    if let TreeState::Interrupted(_) | TreeState::InProgress(_) = state {
        bail!("{state}");
    }
    Ok(state)
}
