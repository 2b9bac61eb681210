//! Accepted differences: reviewed, intentional changes that a verification lets pass.
//!
//! ```toml
//! [[difference]]
//! object = "column trigger.webhook_secret"
//! change = "only in old"
//! reason = "Secrets moved into webhook_config; see the consolidation plan, item 3."
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::diff::Difference;
use crate::data::DataDifference;

/// A difference as reports name it: the thing that differs, and how.
pub trait Reported {
    /// `column trigger.webhook_secret`, `runtime core.python`.
    fn subject(&self) -> String;
    /// `only in old`, `default differs`.
    fn summary(&self) -> String;
}

impl Reported for Difference {
    fn subject(&self) -> String {
        self.object.to_string()
    }

    fn summary(&self) -> String {
        Difference::summary(self)
    }
}

impl Reported for DataDifference {
    fn subject(&self) -> String {
        match &self.row {
            Some(row) => format!("{} {row}", self.table),
            None => self.table.clone(),
        }
    }

    fn summary(&self) -> String {
        DataDifference::summary(self)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AcceptedDifference {
    /// The object as reports name it: `column trigger.webhook_secret`, or for rows the
    /// table and the row's natural key: `runtime core.python`.
    pub object: String,
    /// The change as reports word it: `only in old`, `default differs`,
    /// `column order differs`.
    pub change: String,
    /// Why the difference is intended; required so that every entry was thought about.
    pub reason: String,
}

impl AcceptedDifference {
    pub fn matches(&self, difference: &(impl Reported + ?Sized)) -> bool {
        self.object == difference.subject() && self.change == difference.summary()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedDifferences {
    #[serde(default, rename = "difference")]
    pub entries: Vec<AcceptedDifference>,
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl AcceptedDifferences {
    pub fn load(path: &Path) -> anyhow::Result<AcceptedDifferences> {
        let text = crate::input::read_to_string(path)
            .with_context(|| format!("cannot read accepted differences {}", path.display()))?;
        let mut accepted: AcceptedDifferences = toml::from_str(&text).with_context(|| {
            format!("{}: not a valid accepted-differences file", path.display())
        })?;
        for (i, entry) in accepted.entries.iter().enumerate() {
            if entry.reason.trim().is_empty() {
                bail!(
                    "{}: entry {} ({}: {}) has an empty reason; say why the difference is intended",
                    path.display(),
                    i + 1,
                    entry.object,
                    entry.change
                );
            }
        }
        accepted.path = Some(path.to_owned());
        Ok(accepted)
    }

    /// Splits schema and data differences into those still failing and those accepted;
    /// also returns the entries that matched nothing, which are errors: a stale entry would
    /// hide a future difference of the same name.
    pub fn apply<'a>(
        &'a self,
        schema: impl IntoIterator<Item = &'a Difference>,
        data: impl IntoIterator<Item = &'a DataDifference>,
    ) -> Applied<'a> {
        let mut used = vec![false; self.entries.len()];
        let mut accepted = Vec::new();
        let mut split = |difference: &'a dyn Reported| -> bool {
            match self.entries.iter().position(|e| e.matches(difference)) {
                Some(i) => {
                    used[i] = true;
                    accepted.push((difference.subject(), difference.summary(), &self.entries[i]));
                    false
                }
                None => true,
            }
        };
        let schema = schema.into_iter().filter(|d| split(*d)).collect();
        let data = data.into_iter().filter(|d| split(*d)).collect();
        let unmatched = self
            .entries
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(entry, _)| entry)
            .collect();
        Applied {
            schema,
            data,
            accepted,
            unmatched,
        }
    }
}

#[derive(Debug, Default)]
pub struct Applied<'a> {
    /// Schema differences no entry accepts.
    pub schema: Vec<&'a Difference>,
    /// Data differences no entry accepts.
    pub data: Vec<&'a DataDifference>,
    /// Subject and summary of each accepted difference, with the entry that accepted it.
    pub accepted: Vec<(String, String, &'a AcceptedDifference)>,
    pub unmatched: Vec<&'a AcceptedDifference>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::diff::{Change, Side};
    use crate::schema::model::{ObjectId, ObjectKind};

    fn only_in_old(name: &str) -> Difference {
        Difference {
            object: ObjectId {
                kind: ObjectKind::Column,
                name: name.into(),
            },
            table: Some("trigger".into()),
            change: Change::OnlyIn {
                side: Side::Old,
                dependents: vec![],
            },
        }
    }

    #[test]
    fn entries_accept_their_difference_and_stale_ones_are_reported() {
        let accepted: AcceptedDifferences = toml::from_str(
            r#"
            [[difference]]
            object = "column trigger.webhook_secret"
            change = "only in old"
            reason = "moved into webhook_config"

            [[difference]]
            object = "column trigger.gone"
            change = "only in old"
            reason = "stale"
            "#,
        )
        .unwrap();
        let diffs = [
            only_in_old("trigger.webhook_secret"),
            only_in_old("trigger.other"),
        ];
        let applied = accepted.apply(&diffs, []);
        assert_eq!(applied.accepted.len(), 1);
        assert_eq!(applied.schema.len(), 1);
        assert_eq!(applied.schema[0].object.name, "trigger.other");
        assert_eq!(applied.unmatched.len(), 1);
        assert_eq!(applied.unmatched[0].object, "column trigger.gone");
    }

    #[test]
    fn an_empty_reason_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accepted.toml");
        std::fs::write(
            &path,
            "[[difference]]\nobject = \"table x\"\nchange = \"only in new\"\nreason = \" \"\n",
        )
        .unwrap();
        let err = AcceptedDifferences::load(&path).unwrap_err().to_string();
        assert!(err.contains("empty reason"), "{err}");
    }
}
