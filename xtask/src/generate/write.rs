//! Staging: the set is written into a directory beside `--into`, proven there, and only
//! then renamed into place, so `--into` holds a whole proven set or what it held before.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::GeneratedSet;

/// `--into` may be written: it does not exist, or it is an empty directory, or `force`.
pub fn check_into(into: &Path, force: bool) -> anyhow::Result<()> {
    match std::fs::read_dir(into) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                bail!(
                    "{} exists and is not empty: move it away, or pass --force to replace it \
                     once the generated set is proven",
                    into.display()
                );
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) if into.exists() && !into.is_dir() => {
            Err(err).with_context(|| format!("{} exists and is not a directory", into.display()))
        }
        Err(err) => Err(err).with_context(|| format!("cannot read {}", into.display())),
    }
}

/// The directory beside `into` that a run writes into first.
fn staging_dir(into: &Path) -> PathBuf {
    let name = into
        .file_name()
        .map_or_else(|| "migrations.new".into(), |n| n.to_string_lossy());
    into.with_file_name(format!(".{name}.generating-{}", std::process::id()))
}

/// A set written beside its destination, removed again unless it is published.
pub struct Staged {
    pub dir: PathBuf,
    published: bool,
}

impl Staged {
    pub fn write(into: &Path, set: &GeneratedSet) -> anyhow::Result<Staged> {
        let dir = staging_dir(into);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove the stale {}", dir.display()))?;
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let staged = Staged {
            dir,
            published: false,
        };
        for (name, text) in &set.files {
            let path = staged.dir.join(name);
            std::fs::write(&path, text)
                .and_then(|()| std::fs::File::open(&path)?.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(staged)
    }

    /// Puts the proven set at `into`. A non-empty `into` (only with `--force`) is moved
    /// aside until the new one is in place; what it held besides migrations (a README, say)
    /// is carried over, as sqlx ignores it.
    pub fn publish(mut self, into: &Path) -> anyhow::Result<()> {
        if into.is_dir() {
            for entry in std::fs::read_dir(into)
                .with_context(|| format!("cannot read {}", into.display()))?
            {
                let entry = entry?;
                let name = entry.file_name();
                let is_sql = name.to_string_lossy().ends_with(".sql");
                if !is_sql && entry.file_type()?.is_file() {
                    let to = self.dir.join(&name);
                    std::fs::copy(entry.path(), &to).with_context(|| {
                        format!("cannot copy {} to {}", entry.path().display(), to.display())
                    })?;
                }
            }
        }
        let aside = into.with_file_name(format!(
            ".{}.replaced-{}",
            into.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let existed = into.exists();
        if existed {
            std::fs::rename(into, &aside).with_context(|| {
                format!(
                    "cannot move {} aside to {}",
                    into.display(),
                    aside.display()
                )
            })?;
        }
        if let Err(err) = std::fs::rename(&self.dir, into) {
            if existed {
                // Put back what was there; the staged set stays for inspection.
                let _ = std::fs::rename(&aside, into);
            }
            return Err(err).with_context(|| {
                format!("cannot rename {} to {}", self.dir.display(), into.display())
            });
        }
        self.published = true;
        if existed {
            std::fs::remove_dir_all(&aside)
                .with_context(|| format!("cannot remove {}", aside.display()))?;
        }
        if let Some(parent) = into.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::File::open(parent)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot sync {}", parent.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
