//! From the replay's events to the plan's findings. Everything here reads the catalog's
//! snapshots and the migrations' text; nothing is inferred from file names.

use std::collections::{BTreeMap, BTreeSet};

use super::locate::locate;
use super::replay::{file_name, EventKind, ObjectEvent, ObjectHistory, Replay};
use super::sql_text::{Pattern, SqlText};
use super::{Finding, HistoryAnalysis, Section, SectionKind, Step, StepEvent};
use crate::migrations::MigrationChain;
use crate::schema::model::{ObjectId, ObjectKind};
use crate::ui;

/// The property that holds an object's definition: a change of it makes a new version.
const DEFINITION: &str = "definition";
const DEFAULT: &str = "default";

pub fn analyze(chain: &MigrationChain, replay: &Replay) -> HistoryAnalysis {
    let history = History {
        files: chain
            .migrations
            .iter()
            .map(|m| file_name(&m.path))
            .collect(),
        texts: chain
            .migrations
            .iter()
            .map(|m| SqlText::parse(&m.sql))
            .collect(),
        replay,
    };
    let families = function_families(replay);
    let in_families: BTreeSet<&ObjectId> = families.iter().flatten().collect();

    let mut findings: BTreeMap<SectionKindKey, Vec<Finding>> = BTreeMap::new();
    findings.insert(
        SectionKind::CreatedThenDropped.into(),
        history.created_then_dropped(&in_families),
    );
    findings.insert(
        SectionKind::AddedAfterTable.into(),
        history.added_after_table(),
    );
    let mut rewritten: Vec<Finding> = families
        .iter()
        .map(|f| history.function_family(f))
        .collect();
    rewritten.extend(history.rewritten_definitions());
    findings.insert(SectionKind::Rewritten.into(), rewritten);
    findings.insert(SectionKind::DataRemoved.into(), history.data());
    findings.insert(
        SectionKind::SpreadAdditions.into(),
        history.notify_triggers(),
    );
    findings.insert(SectionKind::Hazards.into(), history.hazards(chain));

    HistoryAnalysis {
        directory: file_name(&chain.dir),
        migrations: history.files.clone(),
        sections: SectionKind::ALL
            .iter()
            .map(|&kind| Section {
                kind,
                title: kind.title(),
                findings: findings.remove(&kind.into()).unwrap_or_default(),
            })
            .collect(),
    }
}

/// Orders sections in a map without making [`SectionKind`] `Ord` for everyone.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct SectionKindKey(usize);

impl From<SectionKind> for SectionKindKey {
    fn from(kind: SectionKind) -> Self {
        SectionKindKey(
            SectionKind::ALL
                .iter()
                .position(|&k| k == kind)
                .unwrap_or(0),
        )
    }
}

struct History<'a> {
    files: Vec<String>,
    texts: Vec<SqlText>,
    replay: &'a Replay,
}

impl History<'_> {
    fn histories(&self) -> impl Iterator<Item = &ObjectHistory> {
        self.replay.histories.values()
    }

    fn history(&self, id: &ObjectId) -> Option<&ObjectHistory> {
        self.replay.histories.get(id)
    }

    /// The line of the statement behind `event`; for an object created or dropped along
    /// with its table, that of the table's statement.
    fn line(&self, event: &ObjectEvent) -> Option<usize> {
        let text = &self.texts[event.migration];
        locate(text, &event.object, &event.kind)
            .map(|l| l.line)
            .or_else(|| {
                let with = self.history(event.with.as_ref()?)?;
                let same = with
                    .events
                    .iter()
                    .find(|e| e.migration == event.migration && e.kind == event.kind)?;
                locate(text, &same.object, &same.kind).map(|l| l.line)
            })
            .or_else(|| self.dropped_column_line(event))
    }

    /// An index or constraint dropped by `DROP COLUMN`: the line of the column it was on.
    fn dropped_column_line(&self, event: &ObjectEvent) -> Option<usize> {
        if event.kind != EventKind::Dropped {
            return None;
        }
        let definition = event.object.properties.get(DEFINITION)?;
        let table = event.object.table.as_deref()?;
        self.histories()
            .filter(|h| h.id.kind == ObjectKind::Column && h.table() == Some(table))
            .filter(|h| mentions_word(definition, column_name(h)))
            .flat_map(|h| h.events.iter())
            .filter(|e| e.migration == event.migration && e.kind == EventKind::Dropped)
            .find_map(|e| locate(&self.texts[e.migration], &e.object, &e.kind))
            .map(|l| l.line)
    }

    fn step(&self, event: &ObjectEvent, kind: StepEvent, detail: Option<String>) -> Step {
        Step {
            event: kind,
            object: Some(event.object.id.clone()),
            file: self.files[event.migration].clone(),
            line: self.line(event),
            detail,
        }
    }

    /// A created or dropped step for every creation and drop in `history`.
    fn life(&self, history: &ObjectHistory) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut dropped_before = false;
        for event in &history.events {
            match event.kind {
                EventKind::Created => {
                    let kind = if dropped_before {
                        StepEvent::Recreated
                    } else {
                        StepEvent::Created
                    };
                    steps.push(self.step(event, kind, describe(&event.object)));
                }
                EventKind::Dropped => {
                    dropped_before = true;
                    steps.push(self.step(event, StepEvent::Dropped, None));
                }
                EventKind::Changed { .. } => {}
            }
        }
        steps
    }

    /// Steps in the order of the history: by the file's place in the chain, then line.
    fn sorted(&self, mut steps: Vec<Step>) -> Vec<Step> {
        let position = |file: &str| self.files.iter().position(|f| f == file);
        steps.sort_by_key(|s| (position(&s.file), s.line));
        steps
    }

    // ---------------------------------------------------------------- created, dropped

    fn created_then_dropped(&self, in_families: &BTreeSet<&ObjectId>) -> Vec<Finding> {
        let gone: Vec<&ObjectHistory> = self
            .histories()
            .filter(|h| !h.survives() && h.last_creation().is_some())
            .filter(|h| !in_families.contains(&h.id))
            .collect();
        let drop_of = |h: &ObjectHistory| h.events.last().map_or(0, |e| e.migration);
        let mut grouped: BTreeSet<&ObjectId> = BTreeSet::new();
        let mut findings: Vec<(usize, Finding)> = Vec::new();

        // Relations, with everything that went with them.
        for relation in gone.iter().filter(|h| is_relation(h.id.kind)) {
            let dropped = drop_of(relation);
            let dependents: Vec<&ObjectHistory> = gone
                .iter()
                .copied()
                .filter(|h| {
                    h.events.last().is_some_and(|e| {
                        e.migration == dropped && e.with.as_ref() == Some(&relation.id)
                    })
                })
                .collect();
            grouped.insert(&relation.id);
            grouped.extend(dependents.iter().map(|h| &h.id));
            let instead = self.created_in(dropped, |id, _| {
                matches!(id.kind, ObjectKind::Table | ObjectKind::Column)
            });
            let mut steps = self.life(relation);
            steps.extend(instead.iter().cloned());
            let mut objects = vec![relation.id.clone()];
            objects.extend(dependents.iter().map(|h| h.id.clone()));
            let mut notes = Vec::new();
            if !dependents.is_empty() {
                notes.push(format!("Dropped with it: {}.", list_by_kind(&dependents)));
            }
            let action = if instead.is_empty() {
                format!(
                    "do not create the {} `{}` in the consolidated migrations",
                    relation.id.kind, relation.id.name
                )
            } else {
                format!(
                    "do not create the {} `{}`; create {} from the start instead",
                    relation.id.kind,
                    relation.id.name,
                    names(instead.iter().filter_map(|s| s.object.as_ref()))
                )
            };
            findings.push((
                first_creation(relation),
                Finding {
                    title: format!("{} `{}`", relation.id.kind, relation.id.name),
                    objects,
                    steps,
                    notes,
                    action,
                },
            ));
        }

        // Types, with the columns of that type dropped in the same migration and the
        // indexes and constraints on those columns.
        for ty in gone.iter().filter(|h| is_type(h.id.kind)) {
            let dropped = drop_of(ty);
            let columns: Vec<&ObjectHistory> = gone
                .iter()
                .copied()
                .filter(|h| h.id.kind == ObjectKind::Column && !grouped.contains(&h.id))
                .filter(|h| drop_of(h) == dropped)
                .filter(|h| {
                    h.events.last().is_some_and(|e| {
                        e.object
                            .properties
                            .get("type")
                            .map(|t| t.trim_end_matches("[]"))
                            == Some(ty.id.name.as_str())
                    })
                })
                .collect();
            let on_columns: Vec<&ObjectHistory> = gone
                .iter()
                .copied()
                .filter(|h| matches!(h.id.kind, ObjectKind::Index | ObjectKind::Constraint))
                .filter(|h| !grouped.contains(&h.id) && drop_of(h) == dropped)
                .filter(|h| {
                    columns.iter().any(|c| {
                        h.table() == c.table()
                            && h.events.last().is_some_and(|e| {
                                let definition = e.object.properties.get(DEFINITION);
                                let column = column_name(c);
                                definition.is_some_and(|d| mentions_word(d, column))
                            })
                    })
                })
                .collect();
            grouped.insert(&ty.id);
            grouped.extend(columns.iter().chain(&on_columns).map(|h| &h.id));
            let mut steps = self.life(ty);
            let mut objects = vec![ty.id.clone()];
            for member in columns.iter().chain(&on_columns) {
                steps.extend(self.life(member));
                objects.push(member.id.clone());
            }
            let mut title = format!("{} `{}`", type_label(ty.id.kind), ty.id.name);
            let mut withs = Vec::new();
            if !columns.is_empty() {
                withs.push(list_by_kind(&columns));
            }
            if !on_columns.is_empty() {
                withs.push(list_by_kind(&on_columns));
            }
            if !withs.is_empty() {
                title.push_str(&format!(", with {}", withs.join(" and ")));
            }
            let mut parts = vec![format!("the {} type", type_label(ty.id.kind))];
            if !columns.is_empty() {
                parts.push(ui::plural(columns.len(), "the column", "the columns").to_owned());
            }
            if on_columns.iter().any(|h| h.id.kind == ObjectKind::Index) {
                parts.push("the indexes".to_owned());
            }
            if on_columns
                .iter()
                .any(|h| h.id.kind == ObjectKind::Constraint)
            {
                parts.push("the constraints".to_owned());
            }
            findings.push((
                first_creation(ty),
                Finding {
                    title,
                    objects,
                    steps: self.sorted(steps),
                    notes: Vec::new(),
                    action: format!("remove {} from the initial creation", join_and(&parts)),
                },
            ));
        }

        // What is left on tables, by table and by the migration that dropped it.
        let mut by_table: BTreeMap<(String, usize), Vec<&ObjectHistory>> = BTreeMap::new();
        let mut free = Vec::new();
        for h in gone.iter().copied().filter(|h| !grouped.contains(&h.id)) {
            match h.table() {
                Some(table) => by_table
                    .entry((table.to_owned(), drop_of(h)))
                    .or_default()
                    .push(h),
                None => free.push(h),
            }
        }
        for ((table, dropped), members) in by_table {
            let instead = self.created_in(dropped, |id, object_table| {
                id.kind == ObjectKind::Column && object_table == Some(table.as_str())
            });
            let mut steps: Vec<Step> = members.iter().flat_map(|h| self.life(h)).collect();
            steps.extend(instead.iter().cloned());
            let only_constraints = members.iter().all(|h| h.id.kind == ObjectKind::Constraint);
            let mut action = if only_constraints {
                format!(
                    "create `{table}` without {} (or with its final definition, if one is \
                     still wanted)",
                    ui::plural(members.len(), "this constraint", "these constraints")
                )
            } else {
                format!(
                    "leave {} out of the creation of `{table}`",
                    ui::plural(members.len(), "it", "them")
                )
            };
            if !instead.is_empty() {
                action.push_str(&format!(
                    "; create the table with {} from the start",
                    names(instead.iter().filter_map(|s| s.object.as_ref()))
                ));
            }
            findings.push((
                members.iter().map(|h| first_creation(h)).min().unwrap_or(0),
                Finding {
                    title: format!("`{table}`: {}", list_by_kind(&members)),
                    objects: members.iter().map(|h| h.id.clone()).collect(),
                    steps: self.sorted(steps),
                    notes: Vec::new(),
                    action,
                },
            ));
        }
        for h in free {
            findings.push((
                first_creation(h),
                Finding {
                    title: format!("{} `{}`", h.id.kind, h.id.name),
                    objects: vec![h.id.clone()],
                    steps: self.life(h),
                    notes: Vec::new(),
                    action: format!(
                        "do not create the {} in the consolidated migrations",
                        h.id.kind
                    ),
                },
            ));
        }
        findings.sort_by(|a, b| (a.0, &a.1.title).cmp(&(b.0, &b.1.title)));
        findings.into_iter().map(|(_, f)| f).collect()
    }

    /// Steps for the objects migration `index` created on their own (not with a table),
    /// among those `wanted(id, table)` selects.
    fn created_in(
        &self,
        index: usize,
        wanted: impl Fn(&ObjectId, Option<&str>) -> bool,
    ) -> Vec<Step> {
        self.histories()
            .flat_map(|h| h.events.iter())
            .filter(|e| e.migration == index && e.kind == EventKind::Created && e.with.is_none())
            .filter(|e| wanted(&e.object.id, e.object.table.as_deref()))
            .map(|e| self.step(e, StepEvent::CreatedInstead, describe(&e.object)))
            .collect()
    }

    // ---------------------------------------------------------------- added later

    fn added_after_table(&self) -> Vec<Finding> {
        // (migration of the addition) -> (addition, its table's creation, same file)
        let mut by_migration: BTreeMap<usize, Vec<(&ObjectEvent, &ObjectEvent, bool)>> =
            BTreeMap::new();
        for h in self.histories().filter(|h| h.survives()) {
            if !matches!(
                h.id.kind,
                ObjectKind::Column | ObjectKind::Constraint | ObjectKind::Index
            ) {
                continue;
            }
            // Created with its table when both came in one migration: only an ALTER after
            // the CREATE TABLE makes it an addition then.
            let Some(created) = h.last_creation() else {
                continue;
            };
            let Some(table) = h.table() else { continue };
            let table_id = ObjectId {
                kind: ObjectKind::Table,
                name: table.to_owned(),
            };
            let Some(table_created) = self.history(&table_id).and_then(|t| t.last_creation())
            else {
                continue;
            };
            let later = created.with.is_none() && created.migration > table_created.migration;
            let same_file_alter = created.migration == table_created.migration
                && h.id.kind != ObjectKind::Index
                && locate(
                    &self.texts[created.migration],
                    &created.object,
                    &created.kind,
                )
                .is_some_and(|l| l.in_alter);
            if later || same_file_alter {
                by_migration.entry(created.migration).or_default().push((
                    created,
                    table_created,
                    !later,
                ));
            }
        }

        let mut findings = Vec::new();
        for (index, additions) in by_migration {
            let mut steps = Vec::new();
            let mut tables = BTreeMap::new();
            for (_, table_created, _) in &additions {
                tables.insert(&table_created.object.id.name, *table_created);
            }
            for table_created in tables.values() {
                steps.push(self.step(table_created, StepEvent::TableCreated, None));
            }
            for (created, _, _) in &additions {
                steps.push(self.step(created, StepEvent::Added, describe(&created.object)));
            }
            let mut steps = self.sorted(steps);
            let same_file = additions.iter().all(|(_, _, same)| *same);
            // The types and tables a later migration brings with its additions belong with
            // them; those of the migration that created the table are already in place.
            let alongside = if same_file {
                Vec::new()
            } else {
                self.created_in(index, |id, _| {
                    is_type(id.kind) || id.kind == ObjectKind::Table
                })
            };
            steps.extend(alongside.iter().cloned().map(|mut s| {
                s.event = StepEvent::CreatedAlongside;
                s
            }));

            let columns: Vec<&ObjectId> = additions
                .iter()
                .map(|(c, _, _)| &c.object.id)
                .filter(|id| id.kind == ObjectKind::Column)
                .collect();
            let others: Vec<&ObjectId> = additions
                .iter()
                .map(|(c, _, _)| &c.object.id)
                .filter(|id| id.kind != ObjectKind::Column)
                .collect();
            let subject = if columns.is_empty() {
                &others
            } else {
                &columns
            };
            let table_names: Vec<String> = tables.keys().map(|t| format!("`{t}`")).collect();
            let title = format!(
                "{} added {} {} {} created",
                names(subject.iter().copied()),
                if same_file {
                    "by an ALTER after"
                } else {
                    "after"
                },
                join_and(&table_names),
                if table_names.len() == 1 {
                    "was"
                } else {
                    "were"
                },
            );
            let mut action = if columns.is_empty() {
                format!("create {} with the table", names(others.iter().copied()))
            } else {
                let at = tables
                    .values()
                    .map(|t| {
                        let line = self.line(t).map_or(String::new(), |l| format!(":{l}"));
                        format!("`{}` ({}{line})", t.object.id.name, self.files[t.migration])
                    })
                    .collect::<Vec<_>>();
                let mut action = format!(
                    "include {} in the initial CREATE TABLE of {}",
                    ui::plural(columns.len(), "the column", "the columns"),
                    join_and(&at)
                );
                if !others.is_empty() {
                    action.push_str(&format!(", with {}", names(others.iter().copied())));
                }
                action
            };
            if !alongside.is_empty() {
                action.push_str(&format!(
                    "; create {} in the initial setup too",
                    names(alongside.iter().filter_map(|s| s.object.as_ref()))
                ));
            }
            let mut objects: Vec<ObjectId> = columns.iter().map(|&id| id.clone()).collect();
            objects.extend(others.iter().map(|&id| id.clone()));
            objects.extend(alongside.iter().filter_map(|s| s.object.clone()));
            findings.push(Finding {
                title,
                objects,
                steps,
                notes: Vec::new(),
                action,
            });
        }
        findings
    }

    // ---------------------------------------------------------------- rewritten

    /// Functions changed by the same migrations, with every step of each.
    fn function_family(&self, family: &[ObjectId]) -> Finding {
        let members: Vec<&ObjectHistory> =
            family.iter().filter_map(|id| self.history(id)).collect();
        let mut steps = Vec::new();
        let mut per_migration: BTreeMap<usize, BTreeMap<&'static str, usize>> = BTreeMap::new();
        for h in &members {
            let mut dropped_before = false;
            let mut versions = 0;
            for event in &h.events {
                let kind = match &event.kind {
                    EventKind::Created if dropped_before => StepEvent::Recreated,
                    EventKind::Created => StepEvent::Created,
                    EventKind::Dropped => StepEvent::Dropped,
                    EventKind::Changed { property, .. } if property == DEFINITION => {
                        StepEvent::Rewritten
                    }
                    EventKind::Changed { .. } => continue,
                };
                dropped_before |= kind == StepEvent::Dropped;
                if kind != StepEvent::Dropped {
                    versions += 1;
                }
                let detail = (kind != StepEvent::Dropped).then(|| format!("version {versions}"));
                *per_migration
                    .entry(event.migration)
                    .or_default()
                    .entry(kind.label())
                    .or_default() += 1;
                steps.push(self.step(event, kind, detail));
            }
        }
        let remaining: Vec<&ObjectId> = members
            .iter()
            .filter(|h| h.survives())
            .map(|h| &h.id)
            .collect();
        let notes = per_migration
            .iter()
            .map(|(&index, counts)| {
                let counts: Vec<String> = counts
                    .iter()
                    .map(|(label, n)| format!("{n} {label}"))
                    .collect();
                format!("`{}`: {}", self.files[index], counts.join(", "))
            })
            .collect();
        if let [only] = members.as_slice() {
            let versions = only.versions(DEFINITION).len();
            return Finding {
                title: format!("function `{}`: {versions} versions", only.id.name),
                objects: vec![only.id.clone()],
                steps: self.sorted(steps),
                notes,
                action: if only.survives() {
                    "create the final version once".to_owned()
                } else {
                    "do not create it in the consolidated migrations".to_owned()
                },
            };
        }
        let label = match common_word(family) {
            Some(word) => format!("{word} functions"),
            None => "functions".to_owned(),
        };
        Finding {
            title: format!(
                "{label}: {} functions created, rewritten or dropped over {} migrations",
                members.len(),
                per_migration.len()
            ),
            objects: family.to_vec(),
            steps: self.sorted(steps),
            notes,
            action: if remaining.is_empty() {
                format!("none of the {label} remain: do not create them")
            } else {
                format!(
                    "determine the final set of {label} and create them once: {}",
                    names(remaining.iter().copied())
                )
            },
        }
    }

    /// Triggers and views with several definitions, columns with several defaults.
    fn rewritten_definitions(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for h in self.histories() {
            let (property, what) = match h.id.kind {
                ObjectKind::Trigger | ObjectKind::View | ObjectKind::MaterializedView => {
                    (DEFINITION, "definition")
                }
                ObjectKind::Column => (DEFAULT, "default"),
                _ => continue,
            };
            let versions = h.versions(property);
            let changes = versions
                .iter()
                .filter(|e| e.kind != EventKind::Created)
                .count();
            if versions.len() < 2 || changes == 0 {
                continue;
            }
            let steps = versions
                .iter()
                .enumerate()
                .map(|(n, e)| {
                    let kind = if e.kind == EventKind::Created {
                        StepEvent::Created
                    } else {
                        StepEvent::Rewritten
                    };
                    let value = e
                        .object
                        .properties
                        .get(property)
                        .map_or("none", String::as_str);
                    let detail = format!("{what} {}: {}", n + 1, one_line(value));
                    self.step(e, kind, Some(detail))
                })
                .collect();
            findings.push(Finding {
                title: format!(
                    "{} `{}`: {} versions of its {what}",
                    h.id.kind,
                    h.id.name,
                    versions.len()
                ),
                objects: vec![h.id.clone()],
                steps,
                notes: Vec::new(),
                action: format!("create the {} with its final {what} once", h.id.kind),
            });
        }
        findings
    }

    // ---------------------------------------------------------------- data

    fn data(&self) -> Vec<Finding> {
        let counts = &self.replay.row_counts;
        let tables: BTreeSet<&String> = counts.iter().flat_map(|c| c.keys()).collect();
        let mut findings = Vec::new();
        for table in tables {
            let mut inserted: Vec<(usize, i64, i64)> = Vec::new();
            for index in 0..self.files.len() {
                let before = counts[index].get(table).copied();
                let Some(after) = counts[index + 1].get(table).copied() else {
                    inserted.clear();
                    continue;
                };
                if after > before.unwrap_or(0) {
                    inserted.push((index, before.unwrap_or(0), after));
                } else if before.is_some_and(|b| after < b) && !inserted.is_empty() {
                    findings.push(self.data_removed(
                        table,
                        &inserted,
                        index,
                        before.unwrap_or(0),
                        after,
                    ));
                    inserted.clear();
                }
            }
            if !inserted.is_empty() {
                findings.push(self.data_left(table, &inserted));
            }
        }
        findings
    }

    fn insert_steps(&self, table: &str, inserted: &[(usize, i64, i64)]) -> Vec<Step> {
        let mut steps = Vec::new();
        for &(index, before, after) in inserted {
            let detail = format!("{before} → {after} rows");
            let lines = self.texts[index].statements(&[
                Pattern::Word("insert"),
                Pattern::Word("into"),
                Pattern::Name(table),
            ]);
            let lines = if lines.is_empty() {
                vec![None]
            } else {
                lines.into_iter().map(Some).collect()
            };
            for (n, line) in lines.into_iter().enumerate() {
                steps.push(Step {
                    event: StepEvent::Inserted,
                    object: Some(table_id(table)),
                    file: self.files[index].clone(),
                    line,
                    detail: (n == 0).then(|| detail.clone()),
                });
            }
        }
        steps
    }

    fn data_removed(
        &self,
        table: &str,
        inserted: &[(usize, i64, i64)],
        index: usize,
        before: i64,
        after: i64,
    ) -> Finding {
        let text = &self.texts[index];
        let truncate = text.within(
            &[Pattern::Word("truncate"), Pattern::Optional(&["table"])],
            &[Pattern::Name(table)],
            Some(0),
        );
        let delete = text.statement(&[
            Pattern::Word("delete"),
            Pattern::Word("from"),
            Pattern::Optional(&["only"]),
            Pattern::Name(table),
        ]);
        let (line, how) = match (truncate, delete) {
            (Some(t), _) => (Some(t.line), "TRUNCATE"),
            (None, Some(d)) => (Some(d.line), "DELETE"),
            (None, None) => (None, "not by a statement naming the table (a cascade?)"),
        };
        let mut steps = self.insert_steps(table, inserted);
        steps.push(Step {
            event: StepEvent::Removed,
            object: Some(table_id(table)),
            file: self.files[index].clone(),
            line,
            detail: Some(format!("{before} → {after} rows, {how}")),
        });
        let rows: i64 = inserted.iter().map(|(_, b, a)| a - b).sum();
        let files: BTreeSet<&str> = inserted
            .iter()
            .map(|&(i, _, _)| self.files[i].as_str())
            .collect();
        let only_here = self.inserting_migrations(table).len() == files.len();
        let mut notes = Vec::new();
        if only_here {
            notes.push(format!("No other migration inserts rows into `{table}`."));
        }
        Finding {
            title: format!(
                "`{table}`: {rows} rows inserted by {}, removed by `{}`",
                join_and(&files.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>()),
                self.files[index]
            ),
            objects: vec![table_id(table)],
            steps,
            notes,
            action: "remove these INSERT statements from the migrations; load this data from the \
                     pack YAML instead"
                .to_owned(),
        }
    }

    fn data_left(&self, table: &str, inserted: &[(usize, i64, i64)]) -> Finding {
        let rows: i64 = inserted.iter().map(|(_, b, a)| a - b).sum();
        Finding {
            title: format!(
                "`{table}`: {rows} rows inserted by migrations are still there at the end"
            ),
            objects: vec![table_id(table)],
            steps: self.insert_steps(table, inserted),
            notes: Vec::new(),
            action: "if this is pack data, load it from the pack YAML instead of inserting it in \
                     a migration"
                .to_owned(),
        }
    }

    /// Migrations after which `table` held more rows than before.
    fn inserting_migrations(&self, table: &str) -> Vec<usize> {
        let counts = &self.replay.row_counts;
        (0..self.files.len())
            .filter(|&i| {
                let before = counts[i].get(table).copied().unwrap_or(0);
                counts[i + 1]
                    .get(table)
                    .is_some_and(|&after| after > before)
            })
            .collect()
    }

    // ---------------------------------------------------------------- spread

    /// Triggers whose function sends notifications, when they and their functions were
    /// created or rewritten by more than one migration.
    fn notify_triggers(&self) -> Vec<Finding> {
        let mut steps = Vec::new();
        let mut objects = Vec::new();
        let mut migrations = BTreeSet::new();
        let mut functions_seen = BTreeSet::new();
        for trigger in self
            .histories()
            .filter(|h| h.id.kind == ObjectKind::Trigger && h.survives())
        {
            let Some(created) = trigger.last_creation() else {
                continue;
            };
            let Some(function) = trigger
                .events
                .last()
                .and_then(|e| e.object.properties.get(DEFINITION))
                .and_then(|d| trigger_function(d))
                .and_then(|name| self.function_named(name))
            else {
                continue;
            };
            let notifies = function
                .events
                .last()
                .and_then(|e| e.object.properties.get(DEFINITION))
                .is_some_and(|d| sends_notifications(d));
            if !notifies {
                continue;
            }
            objects.push(trigger.id.clone());
            steps.push(self.step(created, StepEvent::Created, describe(&created.object)));
            migrations.insert(created.migration);
            if functions_seen.insert(&function.id) {
                objects.push(function.id.clone());
                for (n, version) in function.versions(DEFINITION).iter().enumerate() {
                    let kind = if n == 0 {
                        StepEvent::Created
                    } else {
                        StepEvent::Rewritten
                    };
                    steps.push(self.step(version, kind, Some(format!("version {}", n + 1))));
                    migrations.insert(version.migration);
                }
            }
        }
        if migrations.len() < 2 {
            return Vec::new();
        }
        let triggers = objects
            .iter()
            .filter(|id| id.kind == ObjectKind::Trigger)
            .count();
        vec![Finding {
            title: format!(
                "notify triggers: {triggers} triggers whose functions call pg_notify, created or \
                 changed by {} migrations",
                migrations.len()
            ),
            objects,
            steps: self.sorted(steps),
            notes: Vec::new(),
            action: "create all notify triggers, with the final version of their functions, in \
                     one migration after the tables"
                .to_owned(),
        }]
    }

    fn function_named(&self, name: &str) -> Option<&ObjectHistory> {
        let prefix = format!("{name}(");
        self.histories()
            .find(|h| h.id.kind == ObjectKind::Function && h.id.name.starts_with(&prefix))
    }

    // ---------------------------------------------------------------- hazards

    fn hazards(&self, chain: &MigrationChain) -> Vec<Finding> {
        let mut findings: Vec<Finding> = chain
            .notes
            .iter()
            // sqlx ignores other files (a README, the consolidation's records) by design.
            .filter(|note| note.is_hazard || note.path.extension().is_some_and(|ext| ext == "sql"))
            .map(|note| {
                let file = file_name(&note.path);
                let (event, action) = if note.is_hazard {
                    (
                        StepEvent::Hazard,
                        "fix it in the history, or make sure the consolidated set does not carry \
                         it over; until then this replay's order is not sqlx's guarantee",
                    )
                } else {
                    (
                        StepEvent::Ignored,
                        "remove the file, or rename it by sqlx's rules if it was meant to run",
                    )
                };
                Finding {
                    title: format!("`{file}`: {}", first_line(&note.message)),
                    objects: Vec::new(),
                    steps: vec![Step {
                        event,
                        object: None,
                        file,
                        line: note.line,
                        detail: None,
                    }],
                    notes: Vec::new(),
                    action: action.to_owned(),
                }
            })
            .collect();
        for &index in &self.replay.unchanged {
            findings.push(Finding {
                title: format!(
                    "`{}` changes nothing that the catalog or the row counts show",
                    self.files[index]
                ),
                objects: Vec::new(),
                steps: vec![Step {
                    event: StepEvent::NoEffect,
                    object: None,
                    file: self.files[index].clone(),
                    line: None,
                    detail: None,
                }],
                notes: Vec::new(),
                action: "check what it was for (an UPDATE, an IF EXISTS that found nothing); \
                         leave it out of the consolidated set if nothing"
                    .to_owned(),
            });
        }
        findings
    }
}

/// Groups the functions that have more than one event (created and rewritten, dropped or
/// re-created) by the migrations that touched them: two functions changed by one migration
/// belong to one family. Families of one function that was only created and dropped are
/// left to "created, then dropped".
fn function_families(replay: &Replay) -> Vec<Vec<ObjectId>> {
    let churned: Vec<&ObjectHistory> = replay
        .histories
        .values()
        .filter(|h| h.id.kind == ObjectKind::Function)
        .filter(|h| relevant_events(h).count() >= 2)
        .collect();
    let mut family_of: Vec<usize> = (0..churned.len()).collect();
    fn root(family_of: &mut [usize], mut i: usize) -> usize {
        while family_of[i] != i {
            family_of[i] = family_of[family_of[i]];
            i = family_of[i];
        }
        i
    }
    let mut by_migration: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, h) in churned.iter().enumerate() {
        for event in relevant_events(h) {
            match by_migration.get(&event.migration) {
                Some(&j) => {
                    let (a, b) = (root(&mut family_of, i), root(&mut family_of, j));
                    family_of[a] = b;
                }
                None => {
                    by_migration.insert(event.migration, i);
                }
            }
        }
    }
    let mut families: BTreeMap<usize, Vec<ObjectId>> = BTreeMap::new();
    for (i, h) in churned.iter().enumerate() {
        let r = root(&mut family_of, i);
        families.entry(r).or_default().push(h.id.clone());
    }
    let mut families: Vec<Vec<ObjectId>> = families
        .into_values()
        .filter(|family| {
            family.len() > 1 || replay.histories[&family[0]].versions(DEFINITION).len() > 1
        })
        .collect();
    // By the first migration that touched the family, so the report reads in order.
    families.sort_by_key(|family| {
        family
            .iter()
            .filter_map(|id| replay.histories[id].events.first())
            .map(|e| e.migration)
            .min()
    });
    families
}

fn relevant_events(h: &ObjectHistory) -> impl Iterator<Item = &ObjectEvent> {
    h.events.iter().filter(|e| match &e.kind {
        EventKind::Changed { property, .. } => property == DEFINITION,
        _ => true,
    })
}

/// A word (of three letters or more) in every function's name, if there is one.
fn common_word(family: &[ObjectId]) -> Option<String> {
    let words = |id: &ObjectId| -> BTreeSet<String> {
        let base = id.name.split('(').next().unwrap_or("");
        base.split('_')
            .filter(|w| w.len() >= 3)
            .map(str::to_owned)
            .collect()
    };
    let mut common = words(family.first()?);
    for id in &family[1..] {
        let theirs = words(id);
        common.retain(|w| theirs.contains(w));
    }
    // Several common words: the rarest in the rest of the names would be a guess; take
    // the longest, then the first alphabetically, to stay deterministic.
    common
        .into_iter()
        .max_by(|a, b| a.len().cmp(&b.len()).then(b.cmp(a)))
}

/// `... EXECUTE FUNCTION notify_execution_change()` → `notify_execution_change`.
fn trigger_function(definition: &str) -> Option<&str> {
    let rest = definition
        .split_once("EXECUTE FUNCTION ")
        .or_else(|| definition.split_once("EXECUTE PROCEDURE "))?
        .1;
    rest.split('(').next().map(str::trim)
}

fn sends_notifications(definition: &str) -> bool {
    let lower = definition.to_lowercase();
    lower.contains("pg_notify(") || lower.contains("notify ")
}

fn is_relation(kind: ObjectKind) -> bool {
    matches!(
        kind,
        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
    )
}

fn is_type(kind: ObjectKind) -> bool {
    matches!(
        kind,
        ObjectKind::Enum | ObjectKind::Domain | ObjectKind::CompositeType
    )
}

fn type_label(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Enum => "enum",
        ObjectKind::Domain => "domain",
        _ => "composite",
    }
}

fn table_id(table: &str) -> ObjectId {
    ObjectId {
        kind: ObjectKind::Table,
        name: table.to_owned(),
    }
}

fn first_creation(h: &ObjectHistory) -> usize {
    h.events.first().map_or(0, |e| e.migration)
}

fn column_name(h: &ObjectHistory) -> &str {
    let table = h.table().unwrap_or("");
    h.id.name
        .strip_prefix(table)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(&h.id.name)
}

/// `word` appears in `text` as a whole identifier.
fn mentions_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

/// What a person wants to see of an object next to its creation: a column's type, a
/// constraint's or an index's definition.
fn describe(object: &crate::schema::model::SchemaObject) -> Option<String> {
    let p = &object.properties;
    match object.id.kind {
        ObjectKind::Column => {
            let mut text = p.get("type")?.clone();
            if p.get("nullable").map(String::as_str) == Some("false") {
                text.push_str(" NOT NULL");
            }
            if let Some(default) = p.get(DEFAULT) {
                text.push_str(&format!(" DEFAULT {default}"));
            }
            Some(text)
        }
        ObjectKind::Constraint | ObjectKind::Index | ObjectKind::Trigger => {
            p.get(DEFINITION).map(|d| one_line(d))
        }
        ObjectKind::Enum => p.get("labels").cloned(),
        _ => None,
    }
}

fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 160;
    if joined.chars().count() > MAX {
        format!("{}…", joined.chars().take(MAX).collect::<String>())
    } else {
        joined
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// `2 columns (a, b), index c`: names grouped by kind, in the order given.
fn list_by_kind(histories: &[&ObjectHistory]) -> String {
    let mut by_kind: BTreeMap<ObjectKind, Vec<&str>> = BTreeMap::new();
    for h in histories {
        by_kind.entry(h.id.kind).or_default().push(&h.id.name);
    }
    let parts: Vec<String> = by_kind
        .into_iter()
        .map(|(kind, names)| {
            let label = kind.label();
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            if names.len() == 1 {
                format!("{label} {}", quoted[0])
            } else {
                format!(
                    "{} {} ({})",
                    names.len(),
                    ui::plural_noun(label),
                    quoted.join(", ")
                )
            }
        })
        .collect();
    join_and(&parts)
}

fn names<'a>(ids: impl Iterator<Item = &'a ObjectId>) -> String {
    let parts: Vec<String> = ids.map(|id| format!("{} `{}`", id.kind, id.name)).collect();
    join_and(&parts)
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_functions_are_read_from_the_definition() {
        let def = "CREATE TRIGGER t AFTER INSERT ON public.event FOR EACH ROW EXECUTE FUNCTION notify_event_created()";
        assert_eq!(trigger_function(def), Some("notify_event_created"));
    }

    #[test]
    fn common_words_name_a_family() {
        let id = |name: &str| ObjectId {
            kind: ObjectKind::Function,
            name: name.to_owned(),
        };
        let family = [
            id("enable_trigger_webhook(bigint)"),
            id("check_webhook_rate_limit(character varying)"),
        ];
        assert_eq!(common_word(&family).as_deref(), Some("webhook"));
        assert_eq!(common_word(&[id("a_b(int)"), id("c_d()")]), None);
    }

    #[test]
    fn words_are_whole_identifiers() {
        assert!(mentions_word(
            "CREATE INDEX i ON runtime USING btree (runtime_type)",
            "runtime_type"
        ));
        assert!(!mentions_word(
            "CREATE INDEX i ON runtime USING btree (runtime_type_x)",
            "runtime_type"
        ));
    }
}
