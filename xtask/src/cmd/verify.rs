//! `cargo xtask verify`: proves that two migration directories build the same schema, or
//! shows precisely where they do not.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::comparison;
use crate::config::{self, Config};
use crate::exit;
use crate::migrations::{ChainRole, MigrationChain};
use crate::pg::ServerOptions;
use crate::report::{Format, Report};
use crate::schema::accepted::AcceptedDifferences;
use crate::ui::{self, Progress};

/// Compare the schema built by the history with the one built by the consolidated set
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    cargo xtask verify\n  \
    cargo xtask verify --old migrations.old --new migrations.new --format json\n  \
    cargo xtask verify --database-url postgres://postgres@localhost:5432/postgres")]
pub struct Verify {
    /// The original history [default: <root>/migrations.old]
    #[arg(long, value_name = "DIR")]
    old: Option<PathBuf>,

    /// The consolidated set [default: <root>/migrations]
    #[arg(long, value_name = "DIR")]
    new: Option<PathBuf>,

    #[command(flatten)]
    server: ServerArgs,

    /// Reviewed, intended differences [default: <root>/accepted-differences.toml, if present]
    #[arg(long, value_name = "FILE")]
    accepted: Option<PathBuf>,

    /// Fail when a table's columns are in another order (otherwise a note)
    #[arg(long)]
    strict_column_order: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// No progress on the terminal
    #[arg(long, short)]
    quiet: bool,
}

/// Where scratch databases come from; shared by every command that replays migrations.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Use this server instead of a throwaway cluster; scratch databases are created and
    /// dropped on it, the database named in the URL is never written to
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,

    /// SQL run once, as superuser, before any migration: roles and schemas the migrations
    /// assume [default: `prelude` in <root>/xtask.toml]
    #[arg(long, value_name = "FILE")]
    prelude: Option<PathBuf>,
}

impl ServerArgs {
    pub fn options(&self, config: &Config) -> ServerOptions {
        ServerOptions {
            database_url: self.database_url.clone(),
            prelude: self.prelude.clone().or_else(|| config.prelude.clone()),
        }
    }
}

impl Verify {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let result = self.compare(root);
        if let (Err(err), Format::Json) = (&result, self.format) {
            ui::print_error_json(err);
        }
        result
    }

    fn compare(&self, root: &Path) -> anyhow::Result<u8> {
        let config = Config::load(root)?;
        let old_dir = self
            .old
            .clone()
            .unwrap_or_else(|| root.join("migrations.old"));
        let new_dir = self.new.clone().unwrap_or_else(|| root.join("migrations"));
        let old = MigrationChain::resolve(&old_dir, ChainRole::History)?;
        let new = MigrationChain::resolve(&new_dir, ChainRole::Consolidated)?;
        let accepted = self.accepted_differences(root, &config)?;
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
        let comparison = comparison::compare(&self.server.options(&config), &old, &new, &progress)?;
        drop(progress);

        let report = Report::new(
            &comparison,
            (&old, &new),
            &accepted,
            self.strict_column_order,
        );
        report.print(self.format)?;
        Ok(if report.equal {
            exit::OK
        } else {
            exit::DIFFERENT
        })
    }

    fn accepted_differences(
        &self,
        root: &Path,
        config: &Config,
    ) -> anyhow::Result<AcceptedDifferences> {
        let explicit = self
            .accepted
            .clone()
            .or_else(|| config.accepted_differences.clone());
        match explicit {
            Some(path) => AcceptedDifferences::load(&path),
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
}
