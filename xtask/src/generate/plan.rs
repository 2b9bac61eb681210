//! Grouping: which file each unit goes into. A plan file (`--plan FILE`, or the
//! `[generate]` section of `xtask.toml`) names the files in order and what each holds;
//! without one, each unit goes into a file named after the history migration that created
//! it, which keeps the authors' own grouping and drops the files that only changed things.
//!
//! ```toml
//! [[generate.file]]
//! name = "initial_setup"                  # 00001_initial_setup.sql
//! description = "Extensions, types and shared functions"
//! kinds = ["extension", "enum", "function"]
//!
//! [[generate.file]]
//! name = "notify_triggers"
//! version = "00008"                        # instead of the position in the plan
//! calling = ["pg_notify"]                  # functions that call it, and their triggers
//! objects = ["function notify_*"]          # a kind and a name pattern
//!
//! [[generate.file]]
//! name = "pack_system"
//! tables = ["pack", "runtime*"]            # tables with everything that belongs to them
//! rest = true                              # whatever no other rule places
//! ```
//!
//! The most specific rule wins: `objects`, then `calling`, then `tables`, then `kinds`,
//! then `rest`; between files, the first. Rows go with their table, or into a file whose
//! `kinds` has `"rows"`. A pattern that matches nothing is an error, as is a unit no rule
//! places: a plan that silently stopped matching would scatter the set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::units::Unit;
use crate::schema::model::{ObjectKind, Schema};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub file: Vec<PlanFile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub objects: Vec<String>,
    #[serde(default)]
    pub calling: Vec<String>,
    #[serde(default)]
    pub rest: bool,
}

/// A plan file holding only the `[generate]` section's content, or `xtask.toml` itself.
#[derive(Deserialize)]
struct PlanDocument {
    generate: Option<Plan>,
    #[serde(flatten)]
    _other: toml::Table,
}

impl Plan {
    /// Reads a plan from a TOML file with a `[generate]` section, or whose top level is
    /// the section's content.
    pub fn read(path: &Path) -> anyhow::Result<Plan> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the plan {}", path.display()))?;
        let document: PlanDocument = toml::from_str(&text)
            .with_context(|| format!("{}: not a valid plan", path.display()))?;
        let plan = match document.generate {
            Some(plan) => plan,
            None => toml::from_str(&text)
                .with_context(|| format!("{}: not a valid plan", path.display()))?,
        };
        plan.check()
            .with_context(|| format!("{}: not a valid plan", path.display()))?;
        Ok(plan)
    }

    pub fn check(&self) -> anyhow::Result<()> {
        if self.file.is_empty() {
            bail!("the plan names no file ([[generate.file]] with a name)");
        }
        let mut names = BTreeSet::new();
        for (index, file) in self.file.iter().enumerate() {
            let file_name = self.file_name(index);
            if !names.insert(file_name.clone()) {
                bail!("two files of the plan are named {file_name}");
            }
            if file.name.is_empty()
                || !file
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                bail!(
                    "file {} of the plan: the name {:?} must be letters, digits, _ and -",
                    index + 1,
                    file.name
                );
            }
            if let Some(version) = &file.version {
                if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit()) {
                    bail!("file {}: the version {version:?} must be digits", file.name);
                }
            }
            for kind in &file.kinds {
                if kind != "rows" && !ObjectKind::ALL.iter().any(|k| k.label() == kind) {
                    bail!(
                        "file {}: unknown kind {kind:?}; the kinds are {}, and rows",
                        file.name,
                        ObjectKind::ALL.map(|k| k.label()).join(", ")
                    );
                }
            }
            for pattern in &file.objects {
                let kind = pattern.split_once(' ').map(|(k, _)| k);
                let known = kind.is_some_and(|k| {
                    ObjectKind::ALL
                        .iter()
                        .any(|x| x.label().replace(' ', "_") == k)
                });
                if !known {
                    bail!(
                        "file {}: the object pattern {pattern:?} must be a kind and a name \
                         (`function notify_*`, `materialized_view stats`)",
                        file.name
                    );
                }
            }
        }
        Ok(())
    }

    /// `00001_initial_setup.sql`: the version given, or the position in the plan.
    pub fn file_name(&self, index: usize) -> String {
        let file = &self.file[index];
        let version = file
            .version
            .clone()
            .unwrap_or_else(|| format!("{:05}", index + 1));
        format!("{version}_{}.sql", file.name)
    }

    /// The file of every unit, or an error listing the patterns that matched nothing and
    /// the units no rule placed.
    pub fn assign(&self, units: &[Unit], schema: &Schema) -> anyhow::Result<BTreeMap<Unit, usize>> {
        let mut matched: BTreeSet<(usize, &str, &str)> = BTreeSet::new();
        let mut files = BTreeMap::new();
        let mut unplaced = Vec::new();
        let rows_file = self
            .file
            .iter()
            .position(|f| f.kinds.iter().any(|k| k == "rows"));
        let notifying = calling_functions(self, schema);
        for unit in units {
            let placed = match unit {
                Unit::Rows(_) if rows_file.is_some() => rows_file,
                _ => self.place(unit, schema, &notifying, &mut matched),
            };
            match placed {
                Some(file) => {
                    files.insert(unit.clone(), file);
                }
                None => unplaced.push(unit.to_string()),
            }
        }
        // Rows without a rows file, and foreign keys, go with their table.
        for unit in units {
            if files.contains_key(unit) {
                continue;
            }
            let table = unit.table(schema).map(|t| {
                Unit::Object(crate::schema::model::ObjectId {
                    kind: ObjectKind::Table,
                    name: t.to_owned(),
                })
            });
            if let Some(file) = table.and_then(|t| files.get(&t).copied()) {
                files.insert(unit.clone(), file);
                unplaced.retain(|u| *u != unit.to_string());
            }
        }
        let mut unmatched = Vec::new();
        for (index, file) in self.file.iter().enumerate() {
            let patterns = [
                ("tables", &file.tables),
                ("objects", &file.objects),
                ("calling", &file.calling),
                ("kinds", &file.kinds),
            ];
            for (rule, list) in patterns {
                for pattern in list {
                    if pattern != "rows" && !matched.contains(&(index, rule, pattern.as_str())) {
                        unmatched.push(format!("{} {rule}: {pattern}", self.file_name(index)));
                    }
                }
            }
        }
        if !unmatched.is_empty() || !unplaced.is_empty() {
            let mut message = String::from("the plan does not fit this history");
            if !unmatched.is_empty() {
                message += &format!(
                    "\n  patterns that matched nothing:\n    {}",
                    unmatched.join("\n    ")
                );
            }
            if !unplaced.is_empty() {
                message += &format!(
                    "\n  objects no rule places (add a rule, or `rest = true` to one file):\n    {}",
                    unplaced.join("\n    ")
                );
            }
            bail!(message);
        }
        Ok(files)
    }

    /// The file the most specific rule gives, recording which patterns matched.
    fn place<'p>(
        &'p self,
        unit: &Unit,
        schema: &Schema,
        notifying: &BTreeMap<usize, BTreeSet<String>>,
        matched: &mut BTreeSet<(usize, &'static str, &'p str)>,
    ) -> Option<usize> {
        // Rows follow their table unless a file takes them; where a foreign key goes is
        // decided by the order of its two tables.
        let Unit::Object(id) = unit else {
            return None;
        };
        if id.kind == ObjectKind::Constraint {
            return None;
        }
        let object = schema.objects.get(id)?;
        let kind_word = id.kind.label().replace(' ', "_");
        let mut best: Option<(u8, usize)> = None;
        let mut consider = |rank: u8, index: usize| {
            if best.is_none_or(|(r, i)| (rank, index) < (r, i)) {
                best = Some((rank, index));
            }
        };
        let table = object.table.as_deref();
        for (index, file) in self.file.iter().enumerate() {
            for pattern in &file.objects {
                if let Some((kind, name)) = pattern.split_once(' ') {
                    if kind == kind_word && glob(name, &id.name) {
                        matched.insert((index, "objects", pattern));
                        consider(0, index);
                    }
                }
            }
            if let Some(functions) = notifying.get(&index) {
                let hit = match id.kind {
                    ObjectKind::Function => functions.contains(&id.name),
                    ObjectKind::Trigger => object
                        .properties
                        .get("definition")
                        .is_some_and(|d| functions.iter().any(|f| executes(d, f))),
                    _ => false,
                };
                if hit {
                    for pattern in &file.calling {
                        matched.insert((index, "calling", pattern));
                    }
                    consider(1, index);
                }
            }
            if let Some(table) = table {
                for pattern in &file.tables {
                    if glob(pattern, table) {
                        matched.insert((index, "tables", pattern));
                        consider(2, index);
                    }
                }
            }
            for kind in &file.kinds {
                if *kind == id.kind.label() {
                    matched.insert((index, "kinds", kind));
                    consider(3, index);
                }
            }
            if file.rest {
                consider(4, index);
            }
        }
        best.map(|(_, index)| index)
    }
}

/// For each file with `calling` rules: the functions whose definition calls one of them.
fn calling_functions(plan: &Plan, schema: &Schema) -> BTreeMap<usize, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (index, file) in plan.file.iter().enumerate() {
        if file.calling.is_empty() {
            continue;
        }
        let functions = schema
            .objects
            .values()
            .filter(|o| o.id.kind == ObjectKind::Function)
            .filter(|o| {
                o.properties
                    .get("definition")
                    .is_some_and(|d| file.calling.iter().any(|called| calls(d, called)))
            })
            .map(|o| o.id.name.clone())
            .collect();
        out.insert(index, functions);
    }
    out
}

/// The text calls `function` (its name followed by an opening parenthesis).
fn calls(text: &str, function: &str) -> bool {
    text.match_indices(function).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + function.len()..].trim_start().starts_with('(');
        after && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// A trigger definition executes the function named `function` (`name(args)` in the
/// model): `EXECUTE FUNCTION name(`.
fn executes(definition: &str, function: &str) -> bool {
    let name = function.split('(').next().unwrap_or(function);
    definition.contains(&format!("EXECUTE FUNCTION {name}("))
}

/// `*` matches any run of characters, everything else itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob("runtime*", "runtime"));
        assert!(glob("runtime*", "runtime_version"));
        assert!(glob("*_history", "execution_history"));
        assert!(glob("a*b*c", "a-b-b-c"));
        assert!(!glob("pack", "pack_environment"));
        assert!(!glob("*_history", "history_x"));
    }

    #[test]
    fn calls_are_found_as_calls_only() {
        assert!(calls("PERFORM pg_notify('x', y);", "pg_notify"));
        assert!(calls("PERFORM pg_notify ('x', y);", "pg_notify"));
        assert!(!calls("PERFORM my_pg_notify('x');", "pg_notify"));
        assert!(!calls("-- pg_notify is not used", "pg_notify"));
    }

    #[test]
    fn a_plan_with_an_unknown_kind_is_refused() {
        let plan: Plan = toml::from_str("[[file]]\nname = \"a\"\nkinds = [\"tabel\"]\n").unwrap();
        let err = plan.check().unwrap_err().to_string();
        assert!(err.contains("unknown kind \"tabel\""), "{err}");
        assert_eq!(
            Plan {
                file: vec![PlanFile {
                    name: "x".into(),
                    version: Some("20".into()),
                    ..PlanFile::default()
                }]
            }
            .file_name(0),
            "20_x.sql"
        );
    }
}
