//! The migration directories on disk: the history, its backup, the staged consolidated
//! set; their manifests, the lock record, and the journaled swap between them.
//!
//! ```text
//! <root>/migrations/                      what a fresh database runs
//! <root>/migrations/consolidation.lock    present once consolidated (lock::LockRecord)
//! <root>/migrations.old/                  the history, kept after consolidation
//! <root>/migrations.old/MANIFEST.sum      its manifest (manifest::Manifest)
//! <root>/migrations.new/                  the staged consolidated set (configurable)
//! <root>/packs/core/                      the pack loaded into both sides by default
//! <root>/.xtask-journal                   only while a swap is under way or interrupted
//! <root>/.xtask-writer                    only while a run holds the writer lock (writer)
//! ```
//!
//! Only filesystem work here; no database.

pub mod baseline;
mod durable;
mod failpoint;
pub mod journal;
pub mod lock;
pub mod manifest;
pub mod swap;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;

pub use baseline::BaselineRecord;
pub use journal::{Journal, Operation};
pub use lock::{LockRecord, SideRecord};
pub use manifest::{Manifest, ManifestChange};
pub use swap::{consolidate_swap, finish, preflight_consolidate, retire, rollback, BackupChanged};
pub use writer::{Holder, WriterLock};

use manifest::list_changes;

pub const MIGRATIONS_DIR: &str = "migrations";
pub const BACKUP_DIR: &str = "migrations.old";
pub const DEFAULT_STAGING_DIR: &str = "migrations.new";
/// The pack loaded into both sides unless another is named: the repository's core pack.
const DEFAULT_PACK_DIR: &str = "packs/core";
/// In `migrations.old/`: the manifest of the history it holds.
pub const MANIFEST_FILE: &str = "MANIFEST.sum";
/// In `migrations/`: the record of the consolidation that put the set there.
pub const LOCK_FILE: &str = "consolidation.lock";
/// In `migrations/`: the record `retire` leaves once the history is gone.
pub const BASELINE_FILE: &str = "baseline.lock";
/// At the root, only while an operation is under way or after one was cut off.
pub const JOURNAL_FILE: &str = ".xtask-journal";
/// At the root, while a run that may change the tree holds the writer lock.
pub const WRITER_FILE: &str = ".xtask-writer";
/// The backup while it is being copied; renamed to `migrations.old/` once whole.
const BACKUP_PARTIAL_DIR: &str = "migrations.old.partial";
/// The history between leaving `migrations/` and being removed (its copy is the backup).
const OUTGOING_DIR: &str = "migrations.outgoing";
/// The history's copy being restored from the backup while a consolidation is undone.
const OUTGOING_PARTIAL_DIR: &str = "migrations.outgoing.partial";
/// The history between being checked for the last time and being removed by `retire`.
const RETIRING_DIR: &str = "migrations.old.retiring";

/// Where the migration directories of one repository are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub root: PathBuf,
    /// The staged consolidated set; must be on the same file system as the root.
    pub staging: PathBuf,
}

impl Tree {
    /// The tree at `root`, staging in `migrations.new/`.
    pub fn new(root: impl Into<PathBuf>) -> Tree {
        let root = root.into();
        Tree {
            staging: root.join(DEFAULT_STAGING_DIR),
            root,
        }
    }

    /// The tree at `root`, staging in `staging` (relative to `root` unless absolute).
    pub fn with_staging(root: impl Into<PathBuf>, staging: impl AsRef<Path>) -> Tree {
        let root = root.into();
        Tree {
            staging: root.join(staging),
            root,
        }
    }

    pub fn migrations(&self) -> PathBuf {
        self.root.join(MIGRATIONS_DIR)
    }

    pub fn backup(&self) -> PathBuf {
        self.root.join(BACKUP_DIR)
    }

    /// The pack a comparison loads when none is named (it may not exist).
    pub fn default_pack(&self) -> PathBuf {
        self.root.join(DEFAULT_PACK_DIR)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.migrations().join(LOCK_FILE)
    }

    pub fn baseline_path(&self) -> PathBuf {
        self.migrations().join(BASELINE_FILE)
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.backup().join(MANIFEST_FILE)
    }

    /// The staging directory as a journal records it: its path inside the root, plain
    /// names only, so that the journal stays valid if the repository is moved. Refuses,
    /// before anything moves, a staging directory that is not a directory of its own inside
    /// the root: compared by canonical path, `../repo/migrations` is `migrations/`, and a
    /// directory inside `migrations/` would move with it.
    fn staging_as_recorded(&self) -> anyhow::Result<PathBuf> {
        let refuse = |why: &str| {
            anyhow::anyhow!(
                "the staging directory {} {why}: choose a directory of its own inside the \
                 root, such as {DEFAULT_STAGING_DIR}/",
                self.staging.display()
            )
        };
        let root = canonical(&self.root)?;
        if std::fs::symlink_metadata(&self.staging).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refuse(
                "is a symbolic link, which a rename would move instead of the set",
            ));
        }
        let staging = canonical(&self.staging)?;
        let relative = staging
            .strip_prefix(&root)
            .ok()
            .filter(|relative| !relative.as_os_str().is_empty())
            .ok_or_else(|| refuse(&format!("is not inside the root {}", root.display())))?;
        let reserved = [
            self.migrations(),
            self.backup(),
            self.backup_partial(),
            self.outgoing(),
            self.outgoing_partial(),
        ];
        for dir in reserved {
            let dir = canonical(&dir)?;
            if staging.starts_with(&dir) || dir.starts_with(&staging) {
                return Err(refuse(&format!(
                    "is {}, or holds it, or lies inside it",
                    dir.display()
                )));
            }
        }
        Ok(relative.to_path_buf())
    }

    fn backup_partial(&self) -> PathBuf {
        self.root.join(BACKUP_PARTIAL_DIR)
    }

    fn outgoing(&self) -> PathBuf {
        self.root.join(OUTGOING_DIR)
    }

    fn outgoing_partial(&self) -> PathBuf {
        self.root.join(OUTGOING_PARTIAL_DIR)
    }

    /// The directories of the tree that exist, by name, for advice about a broken journal.
    fn present_dirs(&self) -> Vec<String> {
        let mut dirs = vec![self.migrations(), self.backup(), self.staging.clone()];
        dirs.extend(self.leftovers());
        dirs.iter()
            .filter(|dir| dir.is_dir())
            .map(|dir| format!("{}/", dir.display()))
            .collect()
    }

    /// Files of `dir` that have no identical copy in `migrations/`, `migrations.old/` or the
    /// staging directory: what would be lost with it. A directory that cannot be read
    /// counts as holding only copies.
    fn files_only_in(&self, dir: &Path) -> Result<Vec<String>, String> {
        let files = Manifest::of_dir(dir).map_err(|err| format!("{err:#}"))?;
        let mut only_here: Vec<String> = files.files().keys().cloned().collect();
        for other in [self.migrations(), self.backup(), self.staging.clone()] {
            if let Ok(copy) = Manifest::of_dir(&other) {
                let kept = files.files_not_in(&copy);
                only_here.retain(|name| kept.contains(name));
            }
        }
        Ok(only_here)
    }

    /// Working directories of the swap that exist although no journal says why.
    fn retiring(&self) -> PathBuf {
        self.root.join(RETIRING_DIR)
    }

    fn leftovers(&self) -> Vec<PathBuf> {
        [
            self.backup_partial(),
            self.outgoing(),
            self.outgoing_partial(),
            self.retiring(),
        ]
        .into_iter()
        .filter(|dir| dir.exists())
        .collect()
    }

    /// Takes the tree's writer lock for the whole run of `command`, or refuses naming the
    /// run that holds it. Every change to the tree needs it.
    pub fn lock_for_writing(&self, command: &str) -> anyhow::Result<WriterLock> {
        WriterLock::acquire(&self.root, command)
    }

    /// Which of the known states the directories are in. Errors only when the directories
    /// cannot be listed; a journal or manifest that cannot be read is reported in the state.
    pub fn state(&self) -> anyhow::Result<TreeState> {
        match Journal::read(&self.root) {
            Ok(Some(journal)) => {
                return Ok(match writer::live_holder(&self.root) {
                    Some(holder) => TreeState::InProgress(holder),
                    None => TreeState::Interrupted(Box::new(journal)),
                })
            }
            Ok(None) => {}
            Err(err) => {
                return Ok(TreeState::Inconsistent(Inconsistency::UnreadableJournal {
                    reason: format!("{err:#}"),
                    present: self.present_dirs(),
                }))
            }
        }
        if let Some(leftover) = self.leftovers().into_iter().next() {
            let only_here = self.files_only_in(&leftover);
            return Ok(TreeState::Inconsistent(Inconsistency::Leftover {
                dir: leftover,
                only_here,
            }));
        }
        let has_migrations = self.migrations().is_dir();
        let has_staging = self.staging.exists();
        let has_backup = self.backup().exists();
        let has_lock = self.lock_path().exists();
        let has_manifest = self.manifest_path().exists();
        let has_baseline = self.baseline_path().exists();
        let inconsistency = match () {
            () if !has_migrations => Inconsistency::NoMigrations,
            () if has_baseline && (has_lock || has_backup) => Inconsistency::BaselineBesideHistory,
            () if has_baseline => {
                let recorded = BaselineRecord::read(&self.baseline_path()).map(|b| b.manifest);
                let (migrations, since) = baseline::check(&self.migrations(), recorded);
                return Ok(TreeState::Retired(RetiredChecks { migrations, since }));
            }
            () if has_backup && !has_manifest => Inconsistency::BackupWithoutManifest,
            () if has_backup && !has_lock => Inconsistency::BackupWithoutLock,
            () if has_lock && !has_backup => Inconsistency::LockWithoutBackup,
            () if has_lock && has_staging => Inconsistency::StagingBesideConsolidated,
            () if has_lock => {
                let recorded = LockRecord::read(&self.lock_path()).map(|l| l.consolidated.manifest);
                let (migrations, since) = baseline::check(&self.migrations(), recorded);
                return Ok(TreeState::Consolidated(ConsolidatedChecks {
                    backup: self.check_backup(),
                    migrations,
                    since,
                }));
            }
            () if has_staging => return Ok(TreeState::Staged),
            () => return Ok(TreeState::HistoryOnly),
        };
        Ok(TreeState::Inconsistent(inconsistency))
    }

    /// `migrations.old/` against the history the lock record says was consolidated, and
    /// its `MANIFEST.sum` against that record too: a history edited and its manifest
    /// regenerated matches the manifest, not the record.
    fn check_backup(&self) -> ManifestCheck {
        let recorded = || Ok(LockRecord::read(&self.lock_path())?.history.manifest);
        let check = ManifestCheck::run(&self.backup(), recorded);
        if check != ManifestCheck::Intact {
            return check;
        }
        let matches = recorded()
            .and_then(|recorded: Manifest| Ok(Manifest::read(&self.manifest_path())? == recorded));
        match matches {
            Ok(true) => ManifestCheck::Intact,
            Ok(false) => ManifestCheck::Unreadable(format!(
                "its {MANIFEST_FILE} is not the manifest of the history recorded in \
                 migrations/{LOCK_FILE}: it was rewritten; restore it from version control"
            )),
            Err(err) => ManifestCheck::Unreadable(format!("{err:#}")),
        }
    }

    /// What `cargo xtask status` prints: the state, its checks, and the lock record.
    pub fn status(&self) -> anyhow::Result<TreeStatus> {
        let state = self.state()?;
        let lock = match state {
            TreeState::Consolidated(_) => LockRecord::read(&self.lock_path()).ok(),
            _ => None,
        };
        Ok(TreeStatus {
            tree: self.clone(),
            state,
            lock,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeState {
    /// `migrations/` holds the history; nothing is staged or backed up.
    HistoryOnly,
    /// A consolidated set waits in the staging directory beside the history.
    Staged,
    /// `migrations/` holds the consolidated set and its lock, `migrations.old/` the history.
    Consolidated(ConsolidatedChecks),
    /// The history is retired: `migrations/` holds the consolidated set and its baseline
    /// record, and there is no `migrations.old/`.
    Retired(RetiredChecks),
    /// A journal exists: an operation was cut off. Boxed: it carries the whole lock record.
    Interrupted(Box<Journal>),
    /// A journal exists and the run that writes it is alive: an operation is under way.
    InProgress(Holder),
    /// None of the above; nothing is done until a person looks.
    Inconsistent(Inconsistency),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsolidatedChecks {
    /// `migrations.old/` against its `MANIFEST.sum`.
    pub backup: ManifestCheck,
    /// `migrations/` against the consolidated manifest in `consolidation.lock`, migrations
    /// added after it and files sqlx does not read aside.
    pub migrations: ManifestCheck,
    pub since: baseline::Since,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredChecks {
    /// `migrations/` against the manifest in `baseline.lock`, later migrations aside.
    pub migrations: ManifestCheck,
    pub since: baseline::Since,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestCheck {
    Intact,
    Changed(Vec<ManifestChange>),
    /// The manifest or the directory could not be read; the reason, with its causes.
    Unreadable(String),
}

impl ManifestCheck {
    fn run(dir: &Path, expected: impl FnOnce() -> anyhow::Result<Manifest>) -> ManifestCheck {
        let compared = expected()
            .and_then(|expected| Ok(Manifest::changes(&expected, &Manifest::of_dir(dir)?)));
        match compared {
            Ok(changes) if changes.is_empty() => ManifestCheck::Intact,
            Ok(changes) => ManifestCheck::Changed(changes),
            Err(err) => ManifestCheck::Unreadable(format!("{err:#}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    NoMigrations,
    BackupWithoutManifest,
    BackupWithoutLock,
    LockWithoutBackup,
    StagingBesideConsolidated,
    /// A baseline record beside the lock record or the history, with no journal.
    BaselineBesideHistory,
    /// A working directory of the swap, with no journal to say what it holds, and the
    /// files in it that have no copy elsewhere (or why they could not be listed).
    Leftover {
        dir: PathBuf,
        only_here: Result<Vec<String>, String>,
    },
    /// `.xtask-journal` exists but cannot be read: why, and the directories present.
    UnreadableJournal {
        reason: String,
        present: Vec<String>,
    },
}

/// `path` with every symbolic link and `..` resolved; for a path that does not exist yet,
/// its parent's canonical path and its name.
fn canonical(path: &Path) -> anyhow::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(resolved) => Ok(resolved),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(err).with_context(|| format!("cannot resolve {}", path.display()));
            };
            let parent = match parent.as_os_str().is_empty() {
                true => Path::new("."),
                false => parent,
            };
            Ok(canonical(parent)?.join(name))
        }
        Err(err) => Err(err).with_context(|| format!("cannot resolve {}", path.display())),
    }
}

/// Each state says what it is and what to do next.
impl fmt::Display for TreeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeState::HistoryOnly => write!(
                f,
                "migrations/ holds the history and nothing is staged: write the consolidated \
                 set to the staging directory, then run `cargo xtask consolidate`"
            ),
            TreeState::Staged => write!(
                f,
                "a consolidated set is staged beside the history: run `cargo xtask \
                 consolidate` to verify it and swap it in"
            ),
            TreeState::Consolidated(checks) => {
                write!(
                    f,
                    "consolidated: migrations/ holds the consolidated set, migrations.old/ the \
                     history"
                )?;
                match &checks.backup {
                    ManifestCheck::Intact => write!(
                        f,
                        "\nmigrations.old/ matches its {MANIFEST_FILE} and the history \
                         recorded in {LOCK_FILE}: `cargo xtask rollback` can undo the \
                         consolidation"
                    )?,
                    ManifestCheck::Changed(changes) => write!(
                        f,
                        "\nmigrations.old/ differs from its {MANIFEST_FILE}:{}\nrestore those \
                         files before `cargo xtask rollback`, or pass --force to roll back to \
                         them as they are",
                        list_changes(changes)
                    )?,
                    ManifestCheck::Unreadable(reason) => {
                        write!(f, "\nmigrations.old/ cannot be checked: {reason}")?
                    }
                }
                match &checks.migrations {
                    ManifestCheck::Intact => {
                        write!(f, "\nmigrations/ matches the set recorded in {LOCK_FILE}")?;
                        write_since(f, &checks.since)
                    }
                    ManifestCheck::Changed(changes) => write!(
                        f,
                        "\nmigrations/ changed since the consolidation recorded in \
                         {LOCK_FILE}:{}\na consolidated migration edited, removed or added \
                         before its last version is not seen by databases that already ran \
                         the set; restore it, and add changes as new migrations",
                        list_changes(changes)
                    ),
                    ManifestCheck::Unreadable(reason) => {
                        write!(f, "\nmigrations/ cannot be checked: {reason}")
                    }
                }
            }
            TreeState::Retired(checks) => {
                write!(
                    f,
                    "retired: migrations/ holds the consolidated set and its {BASELINE_FILE}; \
                     the history is no longer kept (version control has it)"
                )?;
                match &checks.migrations {
                    ManifestCheck::Intact => {
                        write!(
                            f,
                            "\nmigrations/ matches the set recorded in {BASELINE_FILE}"
                        )?;
                        write_since(f, &checks.since)
                    }
                    ManifestCheck::Changed(changes) => write!(
                        f,
                        "\nmigrations/ changed since the history was retired:{}\ndatabases \
                         that ran the set do not see an edited or removed migration; restore \
                         it, and add changes as new migrations",
                        list_changes(changes)
                    ),
                    ManifestCheck::Unreadable(reason) => {
                        write!(f, "\nmigrations/ cannot be checked: {reason}")
                    }
                }
            }
            TreeState::Interrupted(journal) => write!(f, "{journal}"),
            TreeState::InProgress(holder) => write!(
                f,
                "an operation is under way: {holder}; wait for it to end, then run `cargo \
                 xtask status` again"
            ),
            TreeState::Inconsistent(inconsistency) => write!(f, "{inconsistency}"),
        }
    }
}

/// Migrations added after the consolidated set, and other files that changed.
fn write_since(f: &mut fmt::Formatter<'_>, since: &baseline::Since) -> fmt::Result {
    if !since.new_migrations.is_empty() {
        write!(
            f,
            "\n{} new since the consolidation (verify replays them on top of both sides):",
            since.new_migrations.len()
        )?;
        for name in &since.new_migrations {
            write!(f, "\n  {name}")?;
        }
    }
    if !since.other_files.is_empty() {
        write!(
            f,
            "\nfiles sqlx does not read changed since:{}",
            list_changes(&since.other_files)
        )?;
    }
    Ok(())
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inconsistency::NoMigrations => write!(
                f,
                "there is no migrations/ directory: restore it from version control"
            ),
            Inconsistency::BackupWithoutManifest => write!(
                f,
                "migrations.old/ has no {MANIFEST_FILE}, so it cannot be checked: restore the \
                 manifest from version control"
            ),
            Inconsistency::BackupWithoutLock => write!(
                f,
                "migrations.old/ exists but migrations/ has no {LOCK_FILE}: a backup from an \
                 earlier consolidation, or migrations/ was replaced by hand; move migrations.old/ \
                 away, or let `cargo xtask consolidate --force` set it aside"
            ),
            Inconsistency::LockWithoutBackup => write!(
                f,
                "migrations/ holds {LOCK_FILE} but there is no migrations.old/: rollback is \
                 impossible; restore migrations.old/ from version control, or run `cargo \
                 xtask retire` with it in place once the history is no longer needed"
            ),
            Inconsistency::BaselineBesideHistory => write!(
                f,
                "migrations/ holds {BASELINE_FILE} beside {LOCK_FILE} or migrations.old/, and \
                 no journal says a retirement is under way: restore the tree from version \
                 control (before or after the retirement)"
            ),
            Inconsistency::StagingBesideConsolidated => write!(
                f,
                "consolidated, yet the staging directory exists: move it away before `cargo \
                 xtask rollback`, which moves the consolidated set there"
            ),
            Inconsistency::Leftover { dir, only_here } => {
                write!(
                    f,
                    "{} is left over from an interrupted operation whose journal is gone",
                    dir.display()
                )?;
                match only_here {
                    Ok(files) if files.is_empty() => write!(
                        f,
                        ": each of its files has an identical copy in migrations/, \
                         migrations.old/ or the staging directory, so it can be removed"
                    ),
                    Ok(files) => write!(
                        f,
                        "; these files exist only there:{}\nkeep it: move it out of the \
                         repository, and put those files back where they belong",
                        files
                            .iter()
                            .map(|name| format!("\n  {name}"))
                            .collect::<String>()
                    ),
                    Err(reason) => write!(
                        f,
                        "; its files cannot be listed ({reason}), so it may hold their only \
                         copy: keep it, and move it out of the repository once you have looked"
                    ),
                }
            }
            Inconsistency::UnreadableJournal { reason, present } => write!(
                f,
                "{JOURNAL_FILE} cannot be read: {reason}\nit records an operation that was \
                 under way, and without it the tool can neither finish nor undo it. Present: \
                 {}. Each may hold the only copy of its files: keep them all, restore the \
                 journal if a copy exists (then run `cargo xtask status`), or else compare the \
                 directories with version control, put migrations/ (and migrations.old/ with \
                 its {MANIFEST_FILE}) back as they should be, and move {JOURNAL_FILE} out of \
                 the repository",
                if present.is_empty() {
                    "no migration directory".to_owned()
                } else {
                    present.join(", ")
                }
            ),
        }
    }
}

/// The state with the paths it concerns and, once consolidated, the lock record.
#[derive(Debug, Clone)]
pub struct TreeStatus {
    pub tree: Tree,
    pub state: TreeState,
    pub lock: Option<LockRecord>,
}

impl fmt::Display for TreeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "root:    {}", self.tree.root.display())?;
        writeln!(f, "staging: {}", self.tree.staging.display())?;
        writeln!(f, "{}", self.state)?;
        if let Some(lock) = &self.lock {
            writeln!(
                f,
                "consolidated at {} by xtask {} on PostgreSQL {}",
                lock.time.to_rfc3339(),
                lock.tool_version,
                lock.postgres_version
            )?;
            for (side, record) in [
                ("history", &lock.history),
                ("consolidated", &lock.consolidated),
            ] {
                writeln!(
                    f,
                    "{side}: {} files, digest {}, schema {}, data {}",
                    record.manifest.files().len(),
                    record.manifest.digest(),
                    record.schema_fingerprint,
                    record.data_fingerprint
                )?;
            }
        }
        Ok(())
    }
}
