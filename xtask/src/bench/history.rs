//! Synthetic migration histories for the benchmark: a seeded, deterministic generator of a
//! history with churn (columns added then dropped, functions replaced, tables created then
//! dropped) and of a consolidated set that writes the same final schema directly.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Context;

/// History migrations per table: 2,500 migrations over 1,000 tables, 50 over 20.
const MIGRATIONS_PER_TABLE: f64 = 2.5;

/// Extra columns a table gets besides `id`, `name` and `parent_id`.
const EXTRA_COLUMN_TYPES: [&str; 6] = [
    "integer",
    "text",
    "numeric(12,2)",
    "boolean NOT NULL DEFAULT false",
    "jsonb NOT NULL DEFAULT '{}'::jsonb",
    "timestamptz",
];

/// SplitMix64: small, fast and good enough to vary a schema; no dependency for it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// One table of the final schema, and the churn its history goes through.
#[derive(Debug, Clone)]
struct TablePlan {
    name: String,
    /// Column types of `c1..cN`; the first half is in the CREATE TABLE, the rest added later.
    extra_columns: Vec<&'static str>,
    parent: Option<usize>,
    /// Added by the history, dropped again later.
    has_legacy_column: bool,
    /// A side table the history creates and later drops.
    has_scratch_table: bool,
    /// The trigger function is replaced by a second version.
    replaces_function: bool,
    has_label_function: bool,
}

impl TablePlan {
    fn initial_column_count(&self) -> usize {
        self.extra_columns.len().div_ceil(2)
    }

    fn column(&self, index: usize) -> String {
        format!("c{} {}", index + 1, self.extra_columns[index])
    }
}

/// A migration history and its consolidated equivalent, as (file name, SQL) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticHistory {
    pub tables: usize,
    pub history: Vec<(String, String)>,
    pub consolidated: Vec<(String, String)>,
}

impl SyntheticHistory {
    /// Exactly `migrations` history files over `migrations / 2.5` tables (at least 4).
    pub fn generate(migrations: usize, seed: u64) -> SyntheticHistory {
        let table_count = ((migrations as f64 / MIGRATIONS_PER_TABLE).round() as usize).max(4);
        let mut rng = SplitMix64(seed);
        let plans: Vec<TablePlan> = (0..table_count)
            .map(|i| TablePlan {
                name: format!("t_{i:04}"),
                extra_columns: (0..2 + rng.below(4))
                    .map(|c| match c {
                        // c1 carries the check constraint and the indexes.
                        0 => EXTRA_COLUMN_TYPES[0],
                        _ => EXTRA_COLUMN_TYPES[rng.below(EXTRA_COLUMN_TYPES.len())],
                    })
                    .collect(),
                parent: (i > 0 && !rng.one_in(3)).then(|| rng.below(i)),
                has_legacy_column: rng.one_in(2),
                has_scratch_table: rng.one_in(4),
                replaces_function: !rng.one_in(3),
                has_label_function: rng.one_in(2),
            })
            .collect();
        SyntheticHistory {
            tables: table_count,
            history: history(&plans, migrations),
            consolidated: consolidated(&plans),
        }
    }

    /// The baseline: one migration a side that creates nothing, so that `verify` does only
    /// the work every run pays whatever the history (two databases, connections, the catalog
    /// queries planned and run on empty catalogs).
    pub fn baseline() -> SyntheticHistory {
        let nothing = vec![("00001_nothing.sql".to_owned(), "SELECT 1;\n".to_owned())];
        SyntheticHistory {
            tables: 0,
            history: nothing.clone(),
            consolidated: nothing,
        }
    }

    /// Writes `history/` and `consolidated/` under `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        for (subdir, files) in [
            ("history", &self.history),
            ("consolidated", &self.consolidated),
        ] {
            let subdir = dir.join(subdir);
            fs::create_dir_all(&subdir)
                .with_context(|| format!("cannot create {}", subdir.display()))?;
            for (name, sql) in files {
                let path = subdir.join(name);
                fs::write(&path, sql)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// One step of a table's history, in the order the steps must run for that table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Create,
    AddColumns,
    Constrain,
    AddFunction,
    AddExtras,
    Churn,
}

const STEPS: [Step; 6] = [
    Step::Create,
    Step::AddColumns,
    Step::Constrain,
    Step::AddFunction,
    Step::AddExtras,
    Step::Churn,
];

/// The history: every table's steps, spread so that a table's later steps come well after
/// its creation, interleaved with other tables' early steps, then cut into `migrations`
/// files of as equal a number of steps as possible.
fn history(plans: &[TablePlan], migrations: usize) -> Vec<(String, String)> {
    let spread = (plans.len() / 3).max(1);
    let mut steps: Vec<(usize, Step, usize, String)> = Vec::new();
    for (index, plan) in plans.iter().enumerate() {
        for (rank, step) in STEPS.into_iter().enumerate() {
            let sql = step_sql(plans, index, step);
            if !sql.is_empty() {
                steps.push((index + rank * spread, step, index, sql));
            }
        }
        debug_assert!(!plan.extra_columns.is_empty());
    }
    steps.sort_by_key(|a| (a.0, a.1, a.2));
    let migrations = migrations.clamp(1, steps.len());
    (0..migrations)
        .map(|m| {
            let chunk = &steps[m * steps.len() / migrations..(m + 1) * steps.len() / migrations];
            let (_, first_step, first_table, _) = &chunk[0];
            let name = format!(
                "{:05}_{}_{}.sql",
                m + 1,
                format!("{first_step:?}").to_lowercase(),
                plans[*first_table].name
            );
            let sql: String = chunk.iter().map(|(_, _, _, sql)| sql.as_str()).collect();
            (name, sql)
        })
        .collect()
}

fn step_sql(plans: &[TablePlan], index: usize, step: Step) -> String {
    let plan = &plans[index];
    let t = &plan.name;
    let mut sql = String::new();
    match step {
        Step::Create => {
            let columns: Vec<String> = (0..plan.initial_column_count())
                .map(|c| format!("    {},\n", plan.column(c)))
                .collect();
            let _ = writeln!(
                sql,
                "CREATE TABLE {t} (\n    id bigint GENERATED ALWAYS AS IDENTITY,\n    \
                 name text NOT NULL,\n{}    CONSTRAINT {t}_pkey PRIMARY KEY (id),\n    \
                 CONSTRAINT {t}_name_key UNIQUE (name)\n);",
                columns.concat()
            );
        }
        Step::AddColumns => {
            if plan.has_legacy_column {
                let _ = writeln!(sql, "ALTER TABLE {t} ADD COLUMN legacy_note text;");
            }
            for c in plan.initial_column_count()..plan.extra_columns.len() {
                let _ = writeln!(sql, "ALTER TABLE {t} ADD COLUMN {};", plan.column(c));
            }
        }
        Step::Constrain => {
            if let Some(parent) = plan.parent {
                let _ = writeln!(sql, "ALTER TABLE {t} ADD COLUMN parent_id bigint;");
                let _ = writeln!(sql, "{}", foreign_key(plan, &plans[parent].name));
                let _ = writeln!(sql, "{}", parent_index(t));
            }
            let _ = writeln!(sql, "{}", check_constraint(t));
            let _ = writeln!(sql, "{}", c1_index(t));
        }
        Step::AddFunction => {
            let _ = writeln!(sql, "{}", touch_function(t, 1, "CREATE"));
            let _ = writeln!(sql, "{}", touch_trigger(t));
            if plan.has_scratch_table {
                let _ = writeln!(
                    sql,
                    "CREATE TABLE scratch_{t} (id bigint PRIMARY KEY, payload jsonb);\n\
                     CREATE INDEX scratch_{t}_payload_idx ON scratch_{t} USING gin (payload);"
                );
            }
        }
        Step::AddExtras => {
            if plan.has_label_function {
                let _ = writeln!(sql, "{}", label_function(t));
            }
            let _ = writeln!(sql, "{}", partial_index(t));
        }
        Step::Churn => {
            if plan.replaces_function {
                let _ = writeln!(sql, "{}", touch_function(t, 2, "CREATE OR REPLACE"));
            }
            if plan.has_legacy_column {
                let _ = writeln!(sql, "ALTER TABLE {t} DROP COLUMN legacy_note;");
            }
            if plan.has_scratch_table {
                let _ = writeln!(sql, "DROP TABLE scratch_{t};");
            }
        }
    }
    sql
}

/// The final schema, written directly: tables, then indexes, functions and triggers.
fn consolidated(plans: &[TablePlan]) -> Vec<(String, String)> {
    let (mut tables, mut indexes, mut functions, mut triggers) =
        (String::new(), String::new(), String::new(), String::new());
    for plan in plans {
        let t = &plan.name;
        let mut columns: Vec<String> = vec![
            "id bigint GENERATED ALWAYS AS IDENTITY".into(),
            "name text NOT NULL".into(),
        ];
        columns.extend((0..plan.extra_columns.len()).map(|c| plan.column(c)));
        let mut constraints = vec![
            format!("CONSTRAINT {t}_pkey PRIMARY KEY (id)"),
            format!("CONSTRAINT {t}_name_key UNIQUE (name)"),
            format!("CONSTRAINT {t}_c1_check CHECK (c1 >= 0)"),
        ];
        if let Some(parent) = plan.parent {
            columns.push("parent_id bigint".into());
            constraints.push(format!(
                "CONSTRAINT {t}_parent_fkey FOREIGN KEY (parent_id) REFERENCES {}(id) \
                 ON DELETE CASCADE",
                plans[parent].name
            ));
            let _ = writeln!(indexes, "{}", parent_index(t));
        }
        let body: Vec<String> = columns.into_iter().chain(constraints).collect();
        let _ = writeln!(
            tables,
            "CREATE TABLE {t} (\n    {}\n);",
            body.join(",\n    ")
        );
        let _ = writeln!(indexes, "{}\n{}", c1_index(t), partial_index(t));
        let version = if plan.replaces_function { 2 } else { 1 };
        let _ = writeln!(functions, "{}", touch_function(t, version, "CREATE"));
        if plan.has_label_function {
            let _ = writeln!(functions, "{}", label_function(t));
        }
        let _ = writeln!(triggers, "{}", touch_trigger(t));
    }
    vec![
        ("00001_tables.sql".into(), tables),
        ("00002_indexes.sql".into(), indexes),
        ("00003_functions.sql".into(), functions),
        ("00004_triggers.sql".into(), triggers),
    ]
}

fn foreign_key(plan: &TablePlan, parent: &str) -> String {
    format!(
        "ALTER TABLE {t} ADD CONSTRAINT {t}_parent_fkey FOREIGN KEY (parent_id) \
         REFERENCES {parent}(id) ON DELETE CASCADE;",
        t = plan.name
    )
}

fn check_constraint(t: &str) -> String {
    format!("ALTER TABLE {t} ADD CONSTRAINT {t}_c1_check CHECK (c1 >= 0);")
}

fn parent_index(t: &str) -> String {
    format!("CREATE INDEX {t}_parent_idx ON {t} (parent_id);")
}

fn c1_index(t: &str) -> String {
    format!("CREATE INDEX {t}_c1_idx ON {t} (c1);")
}

fn partial_index(t: &str) -> String {
    format!("CREATE INDEX {t}_named_idx ON {t} (lower(name)) WHERE c1 > 0;")
}

/// Version 1 trims the name; version 2 (the replacement) also lowercases it and fills c1.
fn touch_function(t: &str, version: u8, create: &str) -> String {
    let body = match version {
        1 => "    NEW.name := btrim(NEW.name);\n".to_owned(),
        _ => "    NEW.name := lower(btrim(NEW.name));\n    \
              IF NEW.c1 IS NULL THEN\n        NEW.c1 := 0;\n    END IF;\n"
            .to_owned(),
    };
    format!(
        "{create} FUNCTION {t}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n{body}    RETURN NEW;\nEND;\n$$;"
    )
}

fn touch_trigger(t: &str) -> String {
    format!(
        "CREATE TRIGGER {t}_touch BEFORE INSERT OR UPDATE ON {t} \
         FOR EACH ROW EXECUTE FUNCTION {t}_touch();"
    )
}

fn label_function(t: &str) -> String {
    format!(
        "CREATE FUNCTION {t}_label(row_id bigint) RETURNS text LANGUAGE sql STABLE AS $$\n    \
         SELECT name FROM {t} WHERE id = row_id\n$$;"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison;
    use crate::migrations::{ChainRole, MigrationChain};
    use crate::pg::ServerOptions;
    use crate::ui::Progress;

    #[test]
    fn the_same_seed_gives_the_same_files_and_another_seed_other_ones() {
        let first = SyntheticHistory::generate(50, 7);
        assert_eq!(first, SyntheticHistory::generate(50, 7));
        assert_ne!(first.history, SyntheticHistory::generate(50, 8).history);
    }

    #[test]
    fn sizes_are_as_asked_with_every_kind_of_churn() {
        for migrations in [10, 50, 250, 2500] {
            let generated = SyntheticHistory::generate(migrations, 1);
            assert_eq!(generated.history.len(), migrations);
            assert_eq!(
                generated.tables,
                ((migrations as f64 / MIGRATIONS_PER_TABLE).round() as usize).max(4)
            );
        }
        let sql: String = SyntheticHistory::generate(250, 1)
            .history
            .into_iter()
            .map(|(_, sql)| sql)
            .collect();
        for churn in [
            "DROP COLUMN legacy_note",
            "CREATE OR REPLACE FUNCTION",
            "DROP TABLE scratch_",
            "CREATE TRIGGER",
            "FOREIGN KEY",
        ] {
            assert!(sql.contains(churn), "no `{churn}` in the history");
        }
    }

    /// Verifies the generated pair on scratch databases of the shared test cluster.
    fn verify(generated: &SyntheticHistory, name: &str) -> comparison::Comparison {
        let dir = tempfile::tempdir().unwrap();
        generated.write(dir.path()).unwrap();
        let old = MigrationChain::resolve(&dir.path().join("history"), ChainRole::History).unwrap();
        let new =
            MigrationChain::resolve(&dir.path().join("consolidated"), ChainRole::Consolidated)
                .unwrap();
        let (url, _server) = crate::pg::testing::scratch_url(name);
        let options = ServerOptions {
            database_url: Some(url),
            prelude: None,
            ..ServerOptions::default()
        };
        let result = comparison::compare(&options, &old, &new, None, &Progress::new(true)).unwrap();
        let failures: Vec<String> = result.diff.failures(true).map(|d| d.summary()).collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(result.data_diff.is_empty());
        result
    }

    #[test]
    fn history_and_consolidated_set_build_the_same_schema() {
        let generated = SyntheticHistory::generate(25, 3);
        let result = verify(&generated, "bench_equivalence");
        assert!(result.new.schema.objects.len() > generated.tables * 5);
    }

    #[test]
    fn the_baseline_verifies_equal_with_one_migration_a_side() {
        let baseline = SyntheticHistory::baseline();
        assert_eq!(
            (baseline.history.len(), baseline.consolidated.len()),
            (1, 1)
        );
        verify(&baseline, "bench_baseline");
    }
}
