//! `cargo xtask load-pack`: loads a pack's YAML into a database, as the pack installation
//! system does.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use postgres::NoTls;

use crate::exit;
use crate::pack::{LoadSummary, Pack};
use crate::pg::{describe_database_url, parse_database_url};
use crate::tree::Tree;

/// Load a pack (default: the core pack) into a database; this WRITES to that database
#[derive(Debug, Args)]
#[command(
    long_about = "Load a pack (default: the core pack) into a database.\n\n\
        Unlike verify, this writes into the database named by --database-url: the pack's \
        rows are inserted, or updated by ref, in one transaction. Loading the same pack \
        again changes nothing. The database must already have the schema (run the \
        migrations first). The pack's files are checked before anything is written; every \
        problem is reported as file:line:column.",
    after_help = "Examples:\n  \
        cargo xtask load-pack --database-url postgres://postgres@localhost:5432/attune\n  \
        DATABASE_URL=postgres://postgres@localhost/attune cargo xtask load-pack --pack packs/core"
)]
pub struct LoadPack {
    /// The database to load into (it is written to)
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,

    /// The pack's directory, holding pack.yaml [default: <root>/packs/core]
    #[arg(long, value_name = "DIR")]
    pack: Option<PathBuf>,
}

impl LoadPack {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let dir = self.pack.unwrap_or_else(|| Tree::new(root).default_pack());
        let pack = Pack::read(&dir)?;

        let redacted = describe_database_url(&self.database_url);
        let config = parse_database_url(&self.database_url)?;
        let mut client = config
            .connect(NoTls)
            .with_context(|| format!("cannot connect to {redacted}"))?;
        let summary = pack
            .load(&mut client)
            .with_context(|| format!("cannot load pack {} into {redacted}", dir.display()))?;

        let pack_ref = &pack.manifest.definition.reference.value;
        println!(
            "loaded pack {pack_ref} from {} into {redacted}",
            dir.display()
        );
        print_summary(&summary);
        Ok(exit::OK)
    }
}

fn print_summary(summary: &LoadSummary) {
    print!("{summary}");
    if !summary.changed() {
        println!("nothing changed: the database already held this pack");
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use postgres::NoTls;

    use super::LoadPack;
    use crate::exit;
    use crate::migrations::{ChainRole, MigrationChain};
    use crate::pack::PackProblems;
    use crate::pg::testing::scratch_url;

    fn repository_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn loads_the_core_pack_into_the_database_of_the_url_and_again_without_change() {
        let root = repository_root();
        let (url, _server) = scratch_url("load_pack");
        let mut client: postgres::Client = url
            .parse::<postgres::Config>()
            .unwrap()
            .connect(NoTls)
            .unwrap();
        MigrationChain::resolve(&root.join("migrations"), ChainRole::Consolidated)
            .unwrap()
            .apply(&mut client)
            .unwrap();
        let snapshot = |client: &mut postgres::Client| -> Vec<String> {
            client
                .query(
                    "SELECT ref || ' ' || updated::text FROM action \
                     UNION ALL SELECT ref || ' ' || updated::text FROM sensor ORDER BY 1",
                    &[],
                )
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect()
        };

        let load = || LoadPack {
            database_url: url.clone(),
            pack: None,
        };
        assert_eq!(load().run(&root).unwrap(), exit::OK);
        let after_first = snapshot(&mut client);
        assert!(after_first.iter().any(|row| row.starts_with("core.echo ")));
        assert_eq!(load().run(&root).unwrap(), exit::OK);
        assert_eq!(snapshot(&mut client), after_first);
    }

    #[test]
    fn an_empty_database_is_told_to_run_the_migrations_first() {
        let root = repository_root();
        let (url, _server) = scratch_url("load_pack_empty");
        let err = LoadPack {
            database_url: url,
            pack: None,
        }
        .run(&root)
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("the schema is missing (no table pack, no table runtime")
                && message.contains("run the migrations first"),
            "{message}"
        );
    }

    #[test]
    fn a_broken_pack_writes_nothing() {
        let root = repository_root();
        let (url, _server) = scratch_url("load_pack_broken");
        let pack = tempfile::tempdir().unwrap();
        std::fs::write(pack.path().join("pack.yaml"), "ref: demo\nlabel: Demo\n").unwrap();

        let err = LoadPack {
            database_url: url,
            pack: Some(pack.path().to_owned()),
        }
        .run(&root)
        .unwrap_err();

        let problems = err.downcast_ref::<PackProblems>().unwrap();
        assert_eq!(problems.problems[0].message, "missing field `version`");
    }
}
