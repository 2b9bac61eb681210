//! The benchmark's figures: medians per case, our ratio to each alternative, the targets,
//! printed as tables and written as JSON or CSV so that runs can be compared.

use std::fmt::Write as _;
use std::iter;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use super::{BenchResults, CaseResult, RunTimes};
use crate::comparison::Timings;

/// verify end to end, cluster start included, against psql applying both chains.
const FLOOR_TARGET: f64 = 1.3;
/// migra's time over our introspection (the catalogs; migra reads no rows) plus
/// comparison.
const MIGRA_TARGET: f64 = 10.0;
/// Largest size's cost per migration and per object above the fixed cost, over the
/// smallest's.
const LINEAR_TOLERANCE: f64 = 0.2;
/// analyze end to end over verify end to end, at the largest size.
const ANALYZE_TARGET: f64 = 3.0;
/// analyze's growth per migration is judged from this size on: below it, its fixed cost
/// is most of the work.
const ANALYZE_GROWTH_FROM: usize = 250;

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub machine: Machine,
    pub postgres: String,
    pub seed: u64,
    /// verify on one migration a side that creates nothing: the fixed cost of a run.
    pub baseline: CaseSummary,
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
    /// Our introspection plus comparison, the part migra does: reading both catalogs and
    /// comparing. Reading the rows ([`Timings::data`]) is left out, as migra reads none.
    pub ours_introspection_comparison: f64,
    /// verify's work per history migration and per object, in milliseconds.
    pub ms_per_migration: f64,
    pub ms_per_object: f64,
    /// verify's work above the baseline's (zero for the baseline itself), in seconds, and
    /// that per history migration and per object, in milliseconds.
    pub net_work: f64,
    pub net_ms_per_migration: f64,
    pub net_ms_per_object: f64,
    /// analyze of the history as a user runs it, its work without the cluster's start,
    /// and that work above the baseline's per history migration, in milliseconds.
    pub analyze: f64,
    pub analyze_work: f64,
    pub analyze_net_ms_per_migration: f64,
}

impl CaseSummary {
    /// The medians of one case; `fixed` is the baseline's work, in seconds.
    pub fn of(result: &CaseResult, fixed: f64, analyze_fixed: f64) -> CaseSummary {
        let runs = &result.runs;
        let median_of = |f: &dyn Fn(&RunTimes) -> Duration| median(runs.iter().map(f));
        let ours_work = work(result);
        let net_work = ours_work - fixed;
        let per_migration = |seconds: f64| 1000.0 * seconds / result.old_migrations as f64;
        let per_object = |seconds: f64| 1000.0 * seconds / result.objects.max(1) as f64;
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
                data: secs(median_of(&|r| r.ours.data)),
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
            ms_per_migration: per_migration(ours_work),
            ms_per_object: per_object(ours_work),
            net_work,
            net_ms_per_migration: per_migration(net_work),
            net_ms_per_object: per_object(net_work),
            analyze: median_of(&|r| r.analyze_wall),
            analyze_work: median_of(&|r| r.analyze_work),
            analyze_net_ms_per_migration: per_migration(
                median_of(&|r| r.analyze_work) - analyze_fixed,
            ),
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
        results: &BenchResults,
    ) -> BenchReport {
        let fixed = work(&results.baseline);
        let analyze_fixed = median(results.baseline.runs.iter().map(|r| r.analyze_work));
        let baseline = CaseSummary::of(&results.baseline, fixed, analyze_fixed);
        let cases: Vec<CaseSummary> = results
            .cases
            .iter()
            .map(|result| CaseSummary::of(result, fixed, analyze_fixed))
            .collect();
        let targets = targets(&baseline, &cases);
        BenchReport {
            machine,
            postgres,
            seed,
            baseline,
            cases,
            targets,
        }
    }

    /// The baseline, then the cases.
    fn rows(&self) -> impl Iterator<Item = &CaseSummary> {
        iter::once(&self.baseline).chain(&self.cases)
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
        for case in self.rows() {
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
             {:<16} {:>8} {:>8} {:>7} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} \
             {:>9} {:>10}",
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
            "data",
            "ms/migr",
            "ms/object",
            "net/migr",
            "net/object"
        );
        // The baseline's work is the fixed cost: spreading it over its one migration says
        // nothing.
        let per_unit_rows =
            iter::once((&self.baseline, false)).chain(self.cases.iter().map(|case| (case, true)));
        for (case, per_unit) in per_unit_rows {
            let phases = &case.ours_phases;
            let ms = |value: f64, decimals: usize| {
                if per_unit {
                    format!("{value:.decimals$}")
                } else {
                    "-".to_owned()
                }
            };
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>8} {:>7.2} {:>8} {:>7.2} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} \
                 {:>9} {:>10}",
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
                seconds(phases.data.as_secs_f64()),
                ms(case.ms_per_migration, 3),
                ms(case.ms_per_object, 4),
                ms(case.net_ms_per_migration, 3),
                ms(case.net_ms_per_object, 4)
            );
        }
        let _ = writeln!(
            out,
            "\nanalyze of the history beside verify, both with their cluster's start\n\n\
             {:<16} {:>8} {:>8} {:>9} {:>9} {:>9}",
            "case", "analyze", "verify", "an/verify", "an work", "net/migr"
        );
        for (case, per_unit) in
            iter::once((&self.baseline, false)).chain(self.cases.iter().map(|case| (case, true)))
        {
            let net = if per_unit {
                format!("{:.3}", case.analyze_net_ms_per_migration)
            } else {
                "-".to_owned()
            };
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>8} {:>9.2} {:>9} {:>9}",
                case.case,
                seconds(case.analyze),
                seconds(case.ours),
                case.analyze / case.ours,
                seconds(case.analyze_work),
                net
            );
        }
        if let Some(error) = self.rows().find_map(|case| case.migra_error.as_deref()) {
            let _ = writeln!(out, "\nmigra: {error}");
        }
        let _ = writeln!(
            out,
            "\ncost of verify (cluster start left out)\n  \
             fixed cost, measured on the baseline (one migration a side that creates \
             nothing): {}",
            seconds(self.baseline.ours_work)
        );
        for growth in growth(&self.cases) {
            let (small, large) = growth.raw;
            let _ = writeln!(
                out,
                "  raw cost per {} at {} over {}, fixed cost included: {large:.4} ms vs \
                 {small:.4} ms: {:.2}x",
                growth.unit,
                growth.largest.case,
                growth.smallest.case,
                large / small
            );
        }
        for line in marginal_costs(&self.cases) {
            let _ = writeln!(out, "  {line}");
        }
        if !self.targets.is_empty() {
            let _ = writeln!(out, "\ntargets");
        }
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
             cluster_stop,replay,pack,introspection,data,comparison,hashing,ms_per_migration,\
             ms_per_object,net_work,net_ms_per_migration,net_ms_per_object,analyze,analyze_work,\
             analyze_net_ms_per_migration,postgres,cpu,cores,load_before,load_after\n",
        );
        for c in self.rows() {
            let p = &c.ours_phases;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{:.4},{:.4},{:.4},{:.4},\
                 {:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.5},{:.4},{:.4},{:.5},{:.4},{:.4},{:.4},\
                 \"{}\",\"{}\",{},{},{}",
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
                p.data.as_secs_f64(),
                p.comparison.as_secs_f64(),
                p.hashing.as_secs_f64(),
                c.ms_per_migration,
                c.ms_per_object,
                c.net_work,
                c.net_ms_per_migration,
                c.net_ms_per_object,
                c.analyze,
                c.analyze_work,
                c.analyze_net_ms_per_migration,
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

fn targets(baseline: &CaseSummary, cases: &[CaseSummary]) -> Vec<Target> {
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
    let synthetic = synthetic(cases);
    if let Some(largest) = synthetic.last() {
        let ratio = largest.analyze / largest.ours;
        targets.push(Target {
            name: format!(
                "{}: analyze within {ANALYZE_TARGET}x of verify, cluster start included",
                largest.case
            ),
            figure: format!(
                "{ratio:.2}x ({} vs {})",
                seconds(largest.analyze),
                seconds(largest.ours)
            ),
            met: ratio <= ANALYZE_TARGET,
        });
    }
    if let [from, .., largest] = synthetic
        .iter()
        .filter(|c| c.old_migrations >= ANALYZE_GROWTH_FROM)
        .collect::<Vec<_>>()
        .as_slice()
    {
        let (small, large) = (
            from.analyze_net_ms_per_migration,
            largest.analyze_net_ms_per_migration,
        );
        let ratio = large / small;
        targets.push(Target {
            name: format!(
                "analyze: cost per migration above its fixed cost at {} within {:.0}% \
                 of {}",
                largest.case,
                LINEAR_TOLERANCE * 100.0,
                from.case
            ),
            figure: format!("{large:.4} ms vs {small:.4} ms: {ratio:.2}x"),
            met: (ratio - 1.0).abs() <= LINEAR_TOLERANCE,
        });
    }
    for growth in growth(cases) {
        let (small, large) = growth.net;
        let ratio = large / small;
        targets.push(Target {
            name: format!(
                "linear: cost per {} above the fixed cost ({} a run, measured on the \
                 baseline) at {} within {:.0}% of {}",
                growth.unit,
                seconds(baseline.ours_work),
                growth.largest.case,
                LINEAR_TOLERANCE * 100.0,
                growth.smallest.case
            ),
            figure: format!("{large:.4} ms vs {small:.4} ms: {ratio:.2}x"),
            met: (ratio - 1.0).abs() <= LINEAR_TOLERANCE,
        });
    }
    targets
}

/// verify's cost per unit at the smallest and at the largest synthetic size.
struct Growth<'a> {
    unit: &'static str,
    smallest: &'a CaseSummary,
    largest: &'a CaseSummary,
    /// Milliseconds per unit, smallest then largest, the fixed cost included.
    raw: (f64, f64),
    /// The same above the fixed cost.
    net: (f64, f64),
}

/// Per migration and per object, when there are two synthetic sizes or more.
fn growth(cases: &[CaseSummary]) -> Vec<Growth<'_>> {
    let &[smallest, .., largest] = synthetic(cases).as_slice() else {
        return Vec::new();
    };
    let pair = |per_unit: fn(&CaseSummary) -> f64| (per_unit(smallest), per_unit(largest));
    let growth = |unit, raw, net| Growth {
        unit,
        smallest,
        largest,
        raw: pair(raw),
        net: pair(net),
    };
    vec![
        growth(
            "migration",
            |c| c.ms_per_migration,
            |c| c.net_ms_per_migration,
        ),
        growth("object", |c| c.ms_per_object, |c| c.net_ms_per_object),
    ]
}

fn synthetic(cases: &[CaseSummary]) -> Vec<&CaseSummary> {
    cases.iter().filter(|c| c.case != "repository").collect()
}

/// What each migration beyond the previous size costs: growth a fixed cost cannot hide.
fn marginal_costs(cases: &[CaseSummary]) -> Vec<String> {
    synthetic(cases)
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

/// verify's work after its cluster started, median over the runs, in seconds.
fn work(result: &CaseResult) -> f64 {
    median(
        result
            .runs
            .iter()
            .map(|run| run.ours.total.saturating_sub(run.ours.server)),
    )
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

    /// A case whose every run spends `work_ms` after a 200 ms cluster start.
    fn case(name: &str, migrations: usize, objects: usize, work_ms: &[u64]) -> CaseResult {
        let run = |&work_ms: &u64| {
            let server = Duration::from_millis(200);
            let total = server + Duration::from_millis(work_ms);
            RunTimes {
                ours_wall: total + Duration::from_millis(100),
                ours: Timings {
                    server,
                    total,
                    ..Timings::default()
                },
                cluster_start: server,
                cluster_stop: Duration::from_millis(100),
                floor: Duration::from_millis(2 * work_ms),
                manual: Duration::from_millis(10 * work_ms),
                migra: None,
                analyze_wall: total * 2,
                analyze_work: Duration::from_millis(2 * work_ms),
            }
        };
        CaseResult {
            name: name.into(),
            old_migrations: migrations,
            new_migrations: 4,
            objects,
            runs: work_ms.iter().map(run).collect(),
            migra_error: None,
            server_version: "15.0".into(),
        }
    }

    /// A fixed 100 ms, then `per_migration_ms` for each migration of each size, with
    /// seven objects per migration.
    fn report(sizes: &[usize], per_migration_ms: &[f64]) -> BenchReport {
        let cases = sizes
            .iter()
            .zip(per_migration_ms)
            .map(|(&size, &ms)| {
                let work = 100 + (size as f64 * ms).round() as u64;
                case(&format!("synthetic {size}"), size, 7 * size, &[work])
            })
            .collect();
        let results = BenchResults {
            baseline: case("baseline", 1, 0, &[90, 100, 130]),
            cases,
        };
        let machine = Machine {
            cpu: "test".into(),
            cores: 2,
            load_before: "0.00".into(),
            load_after: "0.00".into(),
        };
        BenchReport::new(machine, "15.0".into(), 1, &results)
    }

    fn linear_targets(report: &BenchReport) -> Vec<&Target> {
        report
            .targets
            .iter()
            .filter(|target| target.name.starts_with("linear"))
            .collect()
    }

    #[test]
    fn net_cost_is_the_work_above_the_baseline_median() {
        let report = report(&[50], &[2.0]);
        assert!((report.baseline.ours_work - 0.1).abs() < 1e-9);
        assert_eq!(report.baseline.net_work, 0.0);
        let case = &report.cases[0];
        assert!((case.ours_work - 0.2).abs() < 1e-9);
        assert!((case.ms_per_migration - 4.0).abs() < 1e-9);
        assert!((case.ms_per_object - 200.0 / 350.0).abs() < 1e-9);
        assert!((case.net_work - 0.1).abs() < 1e-9);
        assert!((case.net_ms_per_migration - 2.0).abs() < 1e-9);
        assert!((case.net_ms_per_object - 100.0 / 350.0).abs() < 1e-9);
    }

    #[test]
    fn linearity_is_judged_above_the_fixed_cost_and_the_raw_ratio_still_shown() {
        // Raw, the largest costs 0.56x the smallest per migration; above the fixed cost, 1.1x.
        let report = report(&[50, 250, 2500], &[2.0, 2.1, 2.2]);
        let linear = linear_targets(&report);
        assert_eq!(linear.len(), 2);
        for target in &linear {
            assert!(target.met, "{target:?}");
            assert!(target.name.contains("above the fixed cost (0.10s a run"));
            assert!(target
                .name
                .contains("at synthetic 2500 within 20% of synthetic 50"));
            assert!(target.figure.ends_with(": 1.10x"), "{}", target.figure);
        }
        assert_eq!(linear[0].figure, "2.2000 ms vs 2.0000 ms: 1.10x");
        let rendered = report.render();
        assert!(rendered.contains("fixed cost, measured on the baseline"));
        assert!(rendered.contains(
            "raw cost per migration at synthetic 2500 over synthetic 50, fixed cost included: \
             2.2400 ms vs 4.0000 ms: 0.56x"
        ));
        assert!(rendered.contains("synthetic 50 -> synthetic 250: 2.125 ms per added migration"));
    }

    #[test]
    fn linearity_is_missed_beyond_the_tolerance_either_way() {
        for per_migration_ms in [[2.0, 2.5], [2.0, 1.5]] {
            let report = report(&[50, 2500], &per_migration_ms);
            let linear = linear_targets(&report);
            assert_eq!(linear.len(), 2);
            assert!(linear.iter().all(|target| !target.met), "{linear:?}");
        }
    }

    #[test]
    fn one_size_has_no_linearity_target() {
        let report = report(&[50], &[2.0]);
        assert!(linear_targets(&report).is_empty());
        // The analyze ratio to verify is its one target.
        assert_eq!(report.targets.len(), 1);
    }

    #[test]
    fn no_target_no_heading() {
        let mut report = report(&[50], &[2.0]);
        assert!(report.render().contains("\ntargets\n"));
        report.targets.clear();
        assert!(!report.render().contains("targets"));
    }

    #[test]
    fn analyze_is_judged_against_verify_and_its_growth_from_250_migrations() {
        // analyze works twice as long as verify; the baseline's analyze works 200 ms.
        let report = report(&[50, 250, 2500], &[2.0, 2.1, 2.2]);
        let analyze: Vec<&Target> = report
            .targets
            .iter()
            .filter(|target| target.name.contains("analyze"))
            .collect();
        assert_eq!(analyze.len(), 2, "{analyze:?}");
        assert!(analyze[0].met);
        assert!(
            analyze[0].figure.starts_with("1.97x"),
            "{}",
            analyze[0].figure
        );
        assert!(analyze[1]
            .name
            .ends_with("at synthetic 2500 within 20% of synthetic 250"));
        assert_eq!(analyze[1].figure, "4.4000 ms vs 4.2000 ms: 1.05x");
        assert!(analyze[1].met);
        assert!(report
            .render()
            .contains("analyze of the history beside verify"));
    }

    #[test]
    fn csv_has_the_baseline_row_and_the_net_columns() {
        let csv = report(&[50, 250], &[2.0, 2.0]).csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        let header: Vec<&str> = lines[0].split(',').collect();
        let column = |name: &str| header.iter().position(|&c| c == name).unwrap();
        let row = |line: &str, name: &str| line.split(',').nth(column(name)).unwrap().to_owned();
        assert_eq!(row(lines[1], "case"), "baseline");
        assert_eq!(row(lines[1], "ours_work"), "0.1000");
        assert_eq!(row(lines[1], "net_work"), "0.0000");
        assert_eq!(row(lines[2], "case"), "synthetic 50");
        assert_eq!(row(lines[2], "net_ms_per_migration"), "2.0000");
        assert_eq!(row(lines[3], "net_ms_per_object"), "0.28571");
    }
}
