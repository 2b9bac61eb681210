//! `cargo xtask status`: which state the migration directories are in, manifests checked.

use std::path::Path;

use clap::Args;

use super::rebaseline::{classify_rows, Sets, Standing};
use super::TreeArgs;
use crate::exit;
use crate::hex::hex;
use crate::pg::describe_database_url;
use crate::sqlx_table::{self, NewRow, SqlxSettings};
use crate::tree::{ManifestCheck, Tree, TreeState};

/// Say which state the tree is in (history only, staged, consolidated, mid-way)
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when the tree is in a sound state, 1 when a manifest \
    check fails or an operation was cut off or the tree is inconsistent."
)]
pub struct Status {
    #[command(flatten)]
    tree: TreeArgs,

    /// Also show a live database's applied migrations against the history and the
    /// consolidated set, as `sqlx migrate info` would in the consolidation's terms (read
    /// only; exit 1 if a row matches no file)
    #[arg(long, value_name = "URL")]
    target: Option<String>,
}

impl Status {
    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let status = self.tree.tree(root).status()?;
        print!("{status}");
        let sound = match &status.state {
            TreeState::HistoryOnly | TreeState::Staged => true,
            TreeState::Retired(checks) => checks.migrations == ManifestCheck::Intact,
            TreeState::Consolidated(checks) => {
                checks.backup == ManifestCheck::Intact && checks.migrations == ManifestCheck::Intact
            }
            TreeState::Interrupted(_) | TreeState::InProgress(_) | TreeState::Inconsistent(_) => {
                false
            }
        };
        let target_sound = match &self.target {
            Some(url) => {
                let (text, sound) = describe_target(root, url)?;
                print!("\n{text}");
                sound
            }
            None => true,
        };
        Ok(if sound && target_sound {
            exit::OK
        } else {
            exit::DIFFERENT
        })
    }
}

/// Prints every version the target applied or sqlx would apply, which set it belongs to,
/// and whether its checksum matches; false when a row matches no file.
fn describe_target(root: &Path, url: &str) -> anyhow::Result<(String, bool)> {
    use std::fmt::Write;
    let mut out = String::new();
    let settings = SqlxSettings::load(root)?;
    let has_history = Tree::new(root).backup().is_dir();
    let sets = Sets::read(root, None, None, has_history)?;
    let mut client = sqlx_table::connect(url)?;
    let mut tx = client.build_transaction().read_only(true).start()?;
    let table = sqlx_table::locate(&mut tx, &settings)?;
    let rows = match &table {
        Some(table) => sqlx_table::read_rows(&mut tx, &table.qualified)?,
        None => Vec::new(),
    };
    tx.commit()?;

    let rows_of = |migrations: &[crate::migrations::Migration]| -> Vec<NewRow> {
        migrations
            .iter()
            .map(|m| NewRow::of(m, &settings))
            .collect()
    };
    let history = sets
        .history
        .as_ref()
        .map(|h| rows_of(&h.migrations))
        .unwrap_or_default();
    let consolidated = sets.consolidated_rows(&settings);
    let new_since = rows_of(&sets.new_since);
    let sets_named = [
        ("history", &history),
        ("consolidated set", &consolidated),
        ("new since consolidation", &new_since),
    ];

    let table_name = table.map_or_else(|| format!("no {} table", settings.table), |t| t.display);
    writeln!(out, "target: {} ({table_name})", describe_database_url(url))?;
    let mut versions: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.version, r.description.clone()))
        .chain(
            sets_named
                .iter()
                .flat_map(|(_, set)| set.iter().map(|r| (r.version, r.description.clone()))),
        )
        .collect();
    versions.sort();
    versions.dedup_by_key(|(version, _)| *version);
    for (version, description) in versions {
        let row = rows.iter().find(|r| r.version == version);
        let owners: Vec<(&str, &NewRow)> = sets_named
            .iter()
            .flat_map(|(name, set)| set.iter().map(move |r| (*name, r)))
            .filter(|(_, r)| r.version == version)
            .collect();
        let belongs = match owners.first() {
            Some((name, _)) => *name,
            None => "neither set",
        };
        let state = match row {
            None => "pending".to_owned(),
            Some(row) if !row.success => "applied, FAILED".to_owned(),
            Some(row) if owners.iter().any(|(_, r)| r.checksum == row.checksum) => {
                format!("applied {}", row.installed_on)
            }
            Some(row) if owners.is_empty() => format!("applied {}", row.installed_on),
            Some(row) => {
                let recorded = hex(&row.checksum);
                format!(
                    "applied, CHECKSUM DIFFERS (recorded {})",
                    recorded.get(..16).unwrap_or(&recorded)
                )
            }
        };
        writeln!(
            out,
            "  {version:>14}  {description:<40} {belongs:<24} {state}"
        )?;
    }
    let standing = classify_rows(&rows, &history, &consolidated, &new_since);
    let summary = match &standing {
        Standing::NothingApplied => "nothing applied".to_owned(),
        Standing::EndOfHistory { .. } => {
            "at the end of the history: `cargo xtask rebaseline --target URL` checks its \
             schema and moves it onto the consolidated set"
                .to_owned()
        }
        Standing::Behind { missing } => format!(
            "behind the history by {} versions: run the application's migrations first",
            missing.len()
        ),
        Standing::Tampered { problems } => {
            format!("rows no file accounts for:\n  {}", problems.join("\n  "))
        }
        Standing::Rebaselined { pending } => {
            format!("on the consolidated set, {} pending", pending.len())
        }
        Standing::Drifted { differences } => {
            format!("drifted: {} schema differences", differences.len())
        }
    };
    writeln!(out, "{summary}")?;
    Ok((out, !matches!(standing, Standing::Tampered { .. })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::testing::scratch_url;

    #[test]
    fn the_target_s_versions_are_named_by_set_with_checksums_checked() {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, sql: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, sql).unwrap();
        };
        write(
            "migrations.old/20250101000001_create_pack.sql",
            "CREATE TABLE pack ();\n",
        );
        write(
            "migrations.old/20250101000002_pack_label.sql",
            "ALTER TABLE pack ADD label TEXT;\n",
        );
        write(
            "migrations/00001_pack.sql",
            "CREATE TABLE pack (label TEXT);\n",
        );
        let (url, _server) = scratch_url("status");
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .batch_execute(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT \
                 NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN \
                 NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
                 INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (20250101000001, 'create pack', true, \
                 sha384(convert_to('CREATE TABLE pack ();' || chr(10), 'UTF8')), 1),
                 (20250101000002, 'pack label', true, '\\x00', 1);",
            )
            .unwrap();
        let (text, sound) = describe_target(root.path(), &url).unwrap();
        assert!(!sound, "{text}");
        let line = |version: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(version))
                .unwrap_or_else(|| panic!("no line for {version}:\n{text}"))
                .to_owned()
        };
        assert!(line("20250101000001").contains("history"), "{text}");
        assert!(line("20250101000001").contains("applied 20"), "{text}");
        assert!(
            line("20250101000002").contains("CHECKSUM DIFFERS"),
            "{text}"
        );
        assert!(line("1 ").contains("consolidated set"), "{text}");
        assert!(line("1 ").contains("pending"), "{text}");
        assert!(
            text.contains("checksum differs from the history's file"),
            "{text}"
        );
    }
}
