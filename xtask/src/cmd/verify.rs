//! `cargo xtask verify`: proves that two migration directories build the same database, or
//! shows precisely where they do not. On a consolidated tree it also checks both
//! directories and both sides' fingerprints against the lock record.

use std::path::{Path, PathBuf};

use clap::Args;

use super::retire::{same_major, verify_baseline};
use super::{refuse_if_interrupted, CompareArgs};
use crate::comparison::Comparison;
use crate::config::Config;
use crate::exit;
use crate::migrations::{ChainRole, MigrationChain};
use crate::pack::Pack;
use crate::report::{Format, Recorded, Report};
use crate::tree::{
    baseline, ConsolidatedChecks, LockRecord, ManifestCheck, Tree, TreeState, BACKUP_DIR,
    MIGRATIONS_DIR,
};
use crate::ui;

/// Compare the database built by the history with the one built by the consolidated set
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
    compare: CompareArgs,
}

impl Verify {
    /// Verify of the tree's own directories, as `cargo xtask verify` with these options.
    pub fn of_tree(compare: CompareArgs) -> Verify {
        Verify {
            old: None,
            new: None,
            compare,
        }
    }

    pub fn run(self, root: &Path) -> anyhow::Result<u8> {
        let json = self.compare.format == Format::Json;
        ui::report_errors_as_json(json);
        self.verify(root)
    }

    pub fn verify(&self, root: &Path) -> anyhow::Result<u8> {
        let config = Config::load(root)?;
        let tree = Tree::new(root);
        // The lock record speaks for the tree's own directories only.
        let recorded = if self.old.is_none() && self.new.is_none() {
            match refuse_if_interrupted(&tree)? {
                TreeState::Consolidated(checks) => {
                    Some((LockRecord::read(&tree.lock_path())?, checks))
                }
                TreeState::Retired(checks) => {
                    let options = self.compare.server_options(&config);
                    return verify_baseline(&tree, &checks, &options, self.compare.format);
                }
                _ => None,
            }
        } else {
            None
        };
        let old_dir = self.old.clone().unwrap_or_else(|| tree.backup());
        let new_dir = self.new.clone().unwrap_or_else(|| tree.migrations());
        let mut old = MigrationChain::resolve(&old_dir, ChainRole::History)?;
        let new = MigrationChain::resolve(&new_dir, ChainRole::Consolidated)?;
        // Migrations added after the consolidated set run on top of both sides.
        if let Some((lock, _)) = &recorded {
            let split = baseline::split(&new, &lock.consolidated.manifest);
            old.migrations.extend(split.new_since);
        }
        let (pack, accepted) = self.compare.prepare(root, &config)?;

        let comparison = self.compare.compare(&config, &old, &new, pack.as_ref())?;
        let pack_digest = pack.as_ref().map(Pack::digest).transpose()?;
        let recorded = recorded
            .map(|(lock, checks)| since_consolidation(&lock, &checks, &comparison, pack_digest))
            .unwrap_or_default();
        let report = Report::new(
            &comparison,
            (&old, &new),
            &accepted,
            self.compare.strict_column_order,
            recorded,
        );
        report.print(self.compare.format)?;
        Ok(if report.equal {
            exit::OK
        } else {
            exit::DIFFERENT
        })
    }
}

/// What no longer matches the record of the consolidation: files edited, added, removed or
/// renamed since, and fingerprints that moved. Fingerprints taken on another PostgreSQL
/// major version are not comparable (printed definitions differ between majors), nor are
/// data fingerprints taken with another pack; those are notes.
fn since_consolidation(
    lock: &LockRecord,
    checks: &ConsolidatedChecks,
    comparison: &Comparison,
    pack_digest: Option<String>,
) -> Recorded {
    let mut recorded = Recorded::default();
    for (dir, check) in [
        (BACKUP_DIR, &checks.backup),
        (MIGRATIONS_DIR, &checks.migrations),
    ] {
        match check {
            ManifestCheck::Intact => {}
            ManifestCheck::Changed(changes) => recorded
                .problems
                .extend(changes.iter().map(|change| format!("{dir}/: {change}"))),
            ManifestCheck::Unreadable(reason) => {
                recorded.problems.push(format!("{dir}/: {reason}"))
            }
        }
    }
    recorded.notes.extend(
        checks
            .since
            .other_files
            .iter()
            .map(|change| format!("{MIGRATIONS_DIR}/: {change} (sqlx does not read it)")),
    );
    if !checks.since.new_migrations.is_empty() {
        recorded.notes.push(format!(
            "fingerprints not compared with the lock record: {} migrations were added since \
             the consolidation and replayed on top of both sides ({})",
            checks.since.new_migrations.len(),
            checks.since.new_migrations.join(", ")
        ));
        return recorded;
    }
    let now = &comparison.old.fingerprint.server_version;
    if !same_major(&lock.postgres_version, now) {
        recorded.notes.push(format!(
            "fingerprints not compared with the lock record: it was made on PostgreSQL {}, this \
             run used {now}",
            lock.postgres_version
        ));
        return recorded;
    }
    let same_pack = lock.pack_digest == pack_digest;
    if !same_pack {
        recorded.notes.push(
            "data fingerprints not compared with the lock record: the pack loaded now is not \
             the one loaded at consolidation"
                .to_owned(),
        );
    }
    let sides = [
        ("history", &lock.history, &comparison.old),
        ("consolidated set", &lock.consolidated, &comparison.new),
    ];
    for (name, side, built) in sides {
        let mut pairs = vec![(
            "schema",
            &side.schema_fingerprint,
            &built.fingerprint.sha256,
        )];
        if same_pack {
            pairs.push((
                "data",
                &side.data_fingerprint,
                &built.data_fingerprint.sha256,
            ));
        }
        for (what, then, now) in pairs {
            if then != now {
                recorded.problems.push(format!(
                    "the {name}'s {what} fingerprint is sha256:{now}; the lock record says \
                     sha256:{then}"
                ));
            }
        }
    }
    recorded
}
