//! The benchmark's figures: medians per case, our ratio to each alternative, the targets,
//! printed as tables and written as JSON or CSV so that runs can be compared.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use super::{CaseResult, RunTimes};
use crate::comparison::Timings;

/// verify end to end, cluster start included, against psql applying both chains.
const FLOOR_TARGET: f64 = 1.3;
/// migra's time over our introspection plus comparison.
const MIGRA_TARGET: f64 = 10.0;
/// Largest size's cost per migration and per object over the smallest's.
const LINEAR_TOLERANCE: f64 = 0.2;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub machine: Machine,
    pub postgres: String,
    pub seed: u64,
    pub cases: Vec<CaseSummary>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    /// `/proc/loadavg`'s one-minute figure before and after: other work skews the figures.
    pub load_before: String,
    pub load_after: String,
}

impl Machine {
    pub fn describe(load_before: String) -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, name)| name.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            load_before,
            load_after: load_average(),
        }
    }
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|load| load.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Medians over the runs of one case, in seconds.
#[derive(Debug, Serialize)]
pub struct CaseSummary {
    pub case: String,
    pub old_migrations: usize,
    pub new_migrations: usize,
    pub objects: usize,
    pub runs: usize,
    /// verify as a user runs it: cluster started, used, stopped.
    pub ours: f64,
    /// verify's phases after the cluster started.
    pub ours_work: f64,
    pub ours_phases: Timings,
    pub cluster_start: f64,
    pub cluster_stop: f64,
    /// psql applying each chain in one session, one chain after the other, on a cluster
    /// started and stopped the same way.
    pub floor: f64,
    pub floor_work: f64,
    pub manual: f64,
    pub manual_work: f64,
    pub migra: Option<f64>,
    pub migra_error: Option<String>,
    /// Our introspection plus comparison, the part migra does.
    pub ours_introspection_comparison: f64,
    /// verify's work per history migration and per object, in milliseconds.
    pub ms_per_migration: f64,
    pub ms_per_object: f64,
}

impl CaseSummary {
    pub fn of(result: &CaseResult) -> CaseSummary {
        let runs = &result.runs;
        let median_of = |f: &dyn Fn(&RunTimes) -> Duration| median(runs.iter().map(f));
        let work = |run: &RunTimes| run.ours.total.saturating_sub(run.ours.server);
        let ours_work = median_of(&work);
        let floor_work = median_of(&|r| r.floor);
        let manual_work = median_of(&|r| r.manual);
        let around = |r: &RunTimes| r.cluster_start + r.cluster_stop;
        let migra: Vec<Duration> = runs.iter().filter_map(|r| r.migra).collect();
        CaseSummary {
            case: result.name.clone(),
            old_migrations: result.old_migrations,
            new_migrations: result.new_migrations,
            objects: result.objects,
            runs: runs.len(),
            ours: median_of(&|r| r.ours_wall),
            ours_work,
            ours_phases: Timings {
                server: secs(median_of(&|r| r.ours.server)),
                replay: secs(median_of(&|r| r.ours.replay)),
                pack: secs(median_of(&|r| r.ours.pack)),
                introspection: secs(median_of(&|r| r.ours.introspection)),
                comparison: secs(median_of(&|r| r.ours.comparison)),
                hashing: secs(median_of(&|r| r.ours.hashing)),
                total: secs(median_of(&|r| r.ours.total)),
            },
            cluster_start: median_of(&|r| r.cluster_start),
            cluster_stop: median_of(&|r| r.cluster_stop),
            floor: median_of(&|r| around(r) + r.floor),
            floor_work,
            manual: median_of(&|r| around(r) + r.manual),
            manual_work,
            migra: (!migra.is_empty()).then(|| median(migra.into_iter())),
            migra_error: result.migra_error.clone(),
            ours_introspection_comparison: median_of(&|r| r.ours.introspection + r.ours.comparison),
            ms_per_migration: 1000.0 * ours_work / result.old_migrations as f64,
            ms_per_object: 1000.0 * ours_work / result.objects.max(1) as f64,
        }
    }

    fn migra_ratio(&self) -> Option<f64> {
        Some(self.migra? / self.ours_introspection_comparison)
    }
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub name: String,
    pub figure: String,
    pub met: bool,
}

impl BenchReport {
    pub fn new(
        machine: Machine,
        postgres: String,
        seed: u64,
        results: &[CaseResult],
    ) -> BenchReport {
        let cases: Vec<CaseSummary> = results.iter().map(CaseSummary::of).collect();
        let targets = targets(&cases);
        BenchReport {
            machine,
            postgres,
            seed,
            cases,
            targets,
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "machine: {} ({} cores), load {} before, {} after; PostgreSQL {}",
            self.machine.cpu,
            self.machine.cores,
            self.machine.load_before,
            self.machine.load_after,
            self.postgres
        );
        let _ = writeln!(
            out,
            "medians; ours, floor and manual include starting and stopping a throwaway cluster\n"
        );
        let _ = writeln!(
            out,
            "{:<16} {:>11} {:>7} {:>4} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>9} {:>10}",
            "case",
            "migrations",
            "objects",
            "runs",
            "ours",
            "floor",
            "ours/fl",
            "manual",
            "ours/mn",
            "migra",
            "ours i+c",
            "migra/i+c"
        );
        for case in &self.cases {
            let migra = case.migra.map_or("-".into(), seconds);
            let migra_ratio = case
                .migra_ratio()
                .map_or("-".into(), |r| format!("{r:.1}x"));
            let _ = writeln!(
                out,
                "{:<16} {:>11} {:>7} {:>4} {:>8} {:>8} {:>7.2} {:>8} {:>7.2} {:>8} {:>9} {:>10}",
                case.case,
                format!("{}->{}", case.old_migrations, case.new_migrations),
                case.objects,
                case.runs,
                seconds(case.ours),
                seconds(case.floor),
                case.ours / case.floor,
                seconds(case.manual),
                case.ours / case.manual,
                migra,
                seconds(case.ours_introspection_comparison),
                migra_ratio
            );
        }
        let _ = writeln!(
            out,
            "\non a running server (cluster start and stop left out)\n\n\
             {:<16} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
            "case",
            "ours",
            "floor",
            "ours/fl",
            "manual",
            "ours/mn",
            "start",
            "replay",
            "pack",
            "intro",
            "ms/migr",
            "ms/object"
        );
        for case in &self.cases {
            let phases = &case.ours_phases;
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>8} {:>7.2} {:>8} {:>7.2} {:>8} {:>8} {:>8} {:>8} {:>9.3} {:>9.4}",
                case.case,
                seconds(case.ours_work),
                seconds(case.floor_work),
                case.ours_work / case.floor_work,
                seconds(case.manual_work),
                case.ours_work / case.manual_work,
                seconds(phases.server.as_secs_f64()),
                seconds(phases.replay.as_secs_f64()),
                seconds(phases.pack.as_secs_f64()),
                seconds(phases.introspection.as_secs_f64()),
                case.ms_per_migration,
                case.ms_per_object
            );
        }
        let errors: Vec<&str> = self
            .cases
            .iter()
            .filter_map(|case| case.migra_error.as_deref())
            .collect();
        if let Some(error) = errors.first() {
            let _ = writeln!(out, "\nmigra: {error}");
        }
        let marginal = marginal_costs(&self.cases);
        if !marginal.is_empty() {
            let _ = writeln!(out, "\nmarginal cost of verify (cluster start left out)");
            for line in marginal {
                let _ = writeln!(out, "  {line}");
            }
        }
        let _ = writeln!(out, "\ntargets");
        for target in &self.targets {
            let verdict = if target.met { "met" } else { "MISSED" };
            let _ = writeln!(out, "  {verdict:<6} {}: {}", target.name, target.figure);
        }
        out
    }

    /// JSON, or CSV (one line per case) when the file name ends in `.csv`.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = if path.extension().is_some_and(|ext| ext == "csv") {
            self.csv()
        } else {
            serde_json::to_string_pretty(self)? + "\n"
        };
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    fn csv(&self) -> String {
        let mut out = String::from(
            "case,old_migrations,new_migrations,objects,runs,ours,ours_work,floor,floor_work,\
             manual,manual_work,migra,ours_introspection_comparison,cluster_start,\
             cluster_stop,replay,pack,introspection,comparison,hashing,ms_per_migration,\
             ms_per_object,postgres,cpu,cores,load_before,load_after\n",
        );
        for c in &self.cases {
            let p = &c.ours_phases;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{:.4},{:.4},{:.4},{:.4},\
                 {:.4},{:.4},{:.4},{:.4},{:.4},{:.5},\"{}\",\"{}\",{},{},{}",
                c.case,
                c.old_migrations,
                c.new_migrations,
                c.objects,
                c.runs,
                c.ours,
                c.ours_work,
                c.floor,
                c.floor_work,
                c.manual,
                c.manual_work,
                c.migra.map_or(String::new(), |m| format!("{m:.4}")),
                c.ours_introspection_comparison,
                c.cluster_start,
                c.cluster_stop,
                p.replay.as_secs_f64(),
                p.pack.as_secs_f64(),
                p.introspection.as_secs_f64(),
                p.comparison.as_secs_f64(),
                p.hashing.as_secs_f64(),
                c.ms_per_migration,
                c.ms_per_object,
                self.postgres,
                self.machine.cpu,
                self.machine.cores,
                self.machine.load_before,
                self.machine.load_after
            );
        }
        out
    }
}

fn targets(cases: &[CaseSummary]) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(repo) = cases.iter().find(|c| c.case == "repository") {
        let ratio = repo.ours / repo.floor;
        targets.push(Target {
            name: format!(
                "repository: verify within {FLOOR_TARGET}x of the floor, cluster start included"
            ),
            figure: format!(
                "{ratio:.2}x ({} vs {})",
                seconds(repo.ours),
                seconds(repo.floor)
            ),
            met: ratio <= FLOOR_TARGET,
        });
    }
    for case in cases {
        if let Some(ratio) = case.migra_ratio() {
            targets.push(Target {
                name: format!(
                    "{}: introspection + comparison at least {MIGRA_TARGET}x faster than migra",
                    case.case
                ),
                figure: format!("{ratio:.1}x"),
                met: ratio >= MIGRA_TARGET,
            });
        }
    }
    let synthetic: Vec<&CaseSummary> = cases.iter().filter(|c| c.case != "repository").collect();
    if let (Some(smallest), Some(largest)) = (synthetic.first(), synthetic.last()) {
        if synthetic.len() > 1 {
            for (unit, small, large) in [
                (
                    "migration",
                    smallest.ms_per_migration,
                    largest.ms_per_migration,
                ),
                ("object", smallest.ms_per_object, largest.ms_per_object),
            ] {
                let ratio = large / small;
                targets.push(Target {
                    name: format!(
                        "linear: cost per {unit} at {} within {:.0}% of {}",
                        largest.case,
                        LINEAR_TOLERANCE * 100.0,
                        smallest.case
                    ),
                    figure: format!("{large:.4} ms vs {small:.4} ms: {ratio:.2}x"),
                    met: (ratio - 1.0).abs() <= LINEAR_TOLERANCE,
                });
            }
        }
    }
    targets
}

/// What each migration beyond the previous size costs: growth a fixed cost cannot hide.
fn marginal_costs(cases: &[CaseSummary]) -> Vec<String> {
    let synthetic: Vec<&CaseSummary> = cases.iter().filter(|c| c.case != "repository").collect();
    synthetic
        .windows(2)
        .map(|pair| {
            let (small, large) = (pair[0], pair[1]);
            let per_migration = 1000.0 * (large.ours_work - small.ours_work)
                / (large.old_migrations as f64 - small.old_migrations as f64);
            let per_object = 1000.0 * (large.ours_work - small.ours_work)
                / (large.objects as f64 - small.objects as f64);
            format!(
                "{} -> {}: {per_migration:.3} ms per added migration, {per_object:.4} ms per \
                 added object",
                small.case, large.case
            )
        })
        .collect()
}

/// The middle value (the mean of the two middle ones for an even count), in seconds.
fn median(values: impl Iterator<Item = Duration>) -> f64 {
    let mut values: Vec<f64> = values.map(|d| d.as_secs_f64()).collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.max(0.0))
}

fn seconds(value: f64) -> String {
    crate::ui::seconds(Duration::from_secs_f64(value.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_or_the_mean_of_the_two_middles() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(median(ms(&[30, 10, 20]).into_iter()), 0.02);
        assert!((median(ms(&[40, 10, 20, 30]).into_iter()) - 0.025).abs() < 1e-12);
        assert!(median(std::iter::empty()).is_nan());
    }
}
