//! The report of a comparison, for people (one-screen summary, then the differences grouped
//! by table) and for machines (JSON with the same content).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::comparison::{Built, Comparison, Timings};
use crate::data::{DataChange, DataDifference, DataFingerprint};
use crate::hex::hex;
use crate::migrations::MigrationChain;
use crate::schema::accepted::{AcceptedDifference, AcceptedDifferences};
use crate::schema::diff::{Change, Difference};
use crate::schema::fingerprint::Fingerprint;
use crate::schema::model::ObjectKind;
use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Serialize)]
pub struct Report<'a> {
    /// Raised when a key changes meaning or goes away, so CI scripts can check it.
    pub format_version: u32,
    /// consolidate only: whether the consolidated set was swapped into place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swapped: Option<bool>,
    /// True when nothing fails: no difference left once notes and accepted ones are set
    /// aside, no stale accepted entry, and nothing contradicting the lock record.
    pub equal: bool,
    pub old: SideReport<'a>,
    pub new: SideReport<'a>,
    pub differences: Vec<&'a Difference>,
    /// Rows that differ after the pack load, ids and clock values aside.
    pub data_differences: Vec<&'a DataDifference>,
    pub notes: Vec<&'a Difference>,
    /// Checks against the record of the consolidation.
    pub recorded: Recorded,
    pub accepted: Vec<Accepted<'a>>,
    /// Accepted-differences entries that matched nothing: stale, and an error.
    pub unmatched_accepted: Vec<&'a AcceptedDifference>,
    /// Where the scratch databases ran.
    pub server: &'a str,
    /// Comparisons the server could not make.
    pub limitations: &'a [String],
    pub timings: &'a Timings,
}

/// What a run found against the lock record of a consolidation.
#[derive(Debug, Default, Serialize)]
pub struct Recorded {
    /// What contradicts it: files changed since, fingerprints that moved. Each fails.
    pub problems: Vec<String>,
    /// What could not be checked, and why.
    pub notes: Vec<String>,
}

#[derive(Serialize)]
pub struct SideReport<'a> {
    pub dir: &'a Path,
    /// In the order replayed, with what sqlx would record for each.
    pub migrations: Vec<AppliedMigration<'a>>,
    pub fingerprint: &'a Fingerprint,
    pub data_fingerprint: &'a DataFingerprint,
    pub objects: BTreeMap<ObjectKind, usize>,
    /// Rows in all tables after the pack load.
    pub rows: usize,
    pub warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct AppliedMigration<'a> {
    pub version: i64,
    pub description: &'a str,
    pub file: &'a Path,
    /// SHA-384 of the file, hex: sqlx's `_sqlx_migrations.checksum`.
    pub checksum: String,
}

#[derive(Serialize)]
pub struct Accepted<'a> {
    pub object: String,
    pub change: String,
    pub reason: &'a str,
}

impl<'a> Report<'a> {
    pub fn new(
        comparison: &'a Comparison,
        chains: (&'a MigrationChain, &'a MigrationChain),
        accepted: &'a AcceptedDifferences,
        strict_column_order: bool,
        recorded: Recorded,
    ) -> Report<'a> {
        let verdict = comparison.verdict(accepted, strict_column_order);
        let equal = verdict.equal() && recorded.problems.is_empty();
        let applied = verdict.0;
        let notes = comparison
            .diff
            .differences
            .iter()
            .filter(|d| !strict_column_order && d.is_column_order())
            .collect();
        Report {
            format_version: ui::JSON_FORMAT_VERSION,
            swapped: None,
            equal,
            old: SideReport::new(chains.0, &comparison.old),
            new: SideReport::new(chains.1, &comparison.new),
            differences: applied.schema,
            data_differences: applied.data,
            notes,
            recorded,
            accepted: applied
                .accepted
                .into_iter()
                .map(|(object, change, entry)| Accepted {
                    object,
                    change,
                    reason: &entry.reason,
                })
                .collect(),
            unmatched_accepted: applied.unmatched,
            server: &comparison.server,
            limitations: &comparison.limitations,
            timings: &comparison.timings,
        }
    }

    pub fn print(&self, format: Format) -> std::io::Result<()> {
        let mut out = anstream::stdout().lock();
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut out, self)?;
                writeln!(out)
            }
            Format::Human => self.write_human(&mut out),
        }
    }

    fn write_human(&self, out: &mut impl Write) -> std::io::Result<()> {
        use ui::{ERROR, GOOD, HEADING};
        for (label, side) in [("old", &self.old), ("new", &self.new)] {
            writeln!(
                out,
                "{HEADING}{label}{HEADING:#}  {}  {}, {}",
                side.dir.display(),
                ui::count(side.migrations.len(), "migration"),
                ui::count(side.rows, "row")
            )?;
            writeln!(out, "     schema {}", side.fingerprint)?;
            writeln!(out, "     data   {}", side.data_fingerprint)?;
        }
        writeln!(
            out,
            "PostgreSQL {}, {}",
            self.old.fingerprint.server_version, self.server
        )?;
        for limitation in self.limitations {
            writeln!(out, "  not compared on a shared server: {limitation}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "{HEADING}{:<18} {:>6} {:>6}{HEADING:#}",
            "objects", "old", "new"
        )?;
        for kind in ObjectKind::ALL {
            let (o, n) = (self.old.objects[&kind], self.new.objects[&kind]);
            if o + n > 0 {
                writeln!(out, "{:<18} {o:>6} {n:>6}", kind.label())?;
            }
        }
        let phases: Vec<String> = self
            .timings
            .phases()
            .iter()
            .map(|(name, d)| format!("{name} {}", ui::seconds(*d)))
            .collect();
        writeln!(
            out,
            "time  {}  total {}",
            phases.join("  "),
            ui::seconds(self.timings.total)
        )?;

        write_grouped(out, "differences", &self.differences)?;
        if !self.data_differences.is_empty() {
            writeln!(out, "\n{HEADING}data differences{HEADING:#}")?;
            for difference in &self.data_differences {
                writeln!(out, "    {difference}")?;
                write_data_change(out, &difference.change)?;
            }
        }
        write_grouped(out, "notes", &self.notes)?;
        if !self.recorded.problems.is_empty() {
            writeln!(out, "\n{HEADING}changed since the consolidation{HEADING:#}")?;
            for problem in &self.recorded.problems {
                writeln!(out, "  {problem}")?;
            }
        }
        for note in &self.recorded.notes {
            writeln!(out, "\nnote: {note}")?;
        }
        if !self.accepted.is_empty() {
            writeln!(out, "\n{HEADING}accepted{HEADING:#}")?;
            for accepted in &self.accepted {
                writeln!(
                    out,
                    "  {}: {}  ({})",
                    accepted.object, accepted.change, accepted.reason
                )?;
            }
        }
        if !self.unmatched_accepted.is_empty() {
            writeln!(
                out,
                "\n{HEADING}accepted differences that match nothing{HEADING:#} (remove them)"
            )?;
            for entry in &self.unmatched_accepted {
                writeln!(out, "  {}: {}", entry.object, entry.change)?;
            }
        }

        writeln!(out)?;
        let mut extras = Vec::new();
        if !self.notes.is_empty() {
            extras.push(ui::count(self.notes.len(), "note"));
        }
        if !self.accepted.is_empty() {
            extras.push(format!("{} accepted", self.accepted.len()));
        }
        let extras = if extras.is_empty() {
            String::new()
        } else {
            format!(" ({})", extras.join(", "))
        };
        if self.equal {
            writeln!(
                out,
                "{GOOD}equal{GOOD:#}: both sets build the same schema and data{extras}"
            )
        } else {
            let mut problems = vec![ui::count(
                self.differences.len() + self.data_differences.len(),
                "difference",
            )];
            if !self.recorded.problems.is_empty() {
                problems.push(format!(
                    "{} since the consolidation",
                    ui::count(self.recorded.problems.len(), "change")
                ));
            }
            if !self.unmatched_accepted.is_empty() {
                problems.push(ui::count(
                    self.unmatched_accepted.len(),
                    "stale accepted entry",
                ));
            }
            writeln!(
                out,
                "{ERROR}different{ERROR:#}: {}{extras}",
                problems.join(", ")
            )
        }
    }
}

impl<'a> SideReport<'a> {
    fn new(chain: &'a MigrationChain, built: &'a Built) -> Self {
        SideReport {
            dir: &chain.dir,
            migrations: chain
                .migrations
                .iter()
                .map(|m| AppliedMigration {
                    version: m.version,
                    description: &m.description,
                    file: &m.path,
                    checksum: hex(&m.checksum),
                })
                .collect(),
            fingerprint: &built.fingerprint,
            data_fingerprint: &built.data_fingerprint,
            objects: built.schema.counts().into_iter().collect(),
            rows: built.data.counts().iter().map(|(_, n)| n).sum(),
            warnings: chain.notes.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Writes differences under a heading per table, free-standing objects last.
pub fn write_grouped(
    out: &mut impl Write,
    heading: &str,
    differences: &[&Difference],
) -> std::io::Result<()> {
    use ui::HEADING;
    if differences.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{HEADING}{heading}{HEADING:#}")?;
    let mut groups: BTreeMap<Option<&str>, Vec<&Difference>> = BTreeMap::new();
    for d in differences {
        groups.entry(d.table.as_deref()).or_default().push(d);
    }
    let (tables, free): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(t, _)| t.is_some());
    for (table, items) in tables.into_iter().chain(free) {
        let group = match table {
            Some(table) => format!("table {table}"),
            None => "other objects".to_owned(),
        };
        writeln!(out, "  {HEADING}{group}{HEADING:#}")?;
        for d in items {
            // The table's own difference: the heading already names it.
            if d.object.to_string() == group {
                writeln!(out, "    {}", d.summary())?;
            } else {
                writeln!(out, "    {d}")?;
            }
            write_change(out, &d.change)?;
        }
    }
    Ok(())
}

fn write_change(out: &mut impl Write, change: &Change) -> std::io::Result<()> {
    match change {
        Change::OnlyIn { dependents, .. } if !dependents.is_empty() => {
            let names: Vec<String> = dependents.iter().map(ToString::to_string).collect();
            writeln!(out, "      with {}", names.join(", "))
        }
        Change::OnlyIn { .. } => Ok(()),
        Change::Property { old, new, .. } => {
            let absent = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".into());
            write_values(out, &absent(old), &absent(new))
        }
        Change::ColumnOrder { old, new } => write_values(out, &old.join(", "), &new.join(", ")),
    }
}

fn write_data_change(out: &mut impl Write, change: &DataChange) -> std::io::Result<()> {
    let value = |value: &Option<String>| value.clone().unwrap_or_else(|| "NULL".into());
    match change {
        DataChange::Value { old, new, .. } => write_values(out, &value(old), &value(new)),
        DataChange::RowOnlyIn { values, .. } => {
            let values: Vec<String> = values
                .iter()
                .map(|(column, v)| format!("{column} = {}", value(v)))
                .collect();
            writeln!(out, "      {}", values.join(", "))
        }
        DataChange::NaturalKey { old, new } => write_values(out, &old.join(", "), &new.join(", ")),
        DataChange::TableOnlyIn { .. } | DataChange::ColumnOnlyIn { .. } => Ok(()),
    }
}

/// Both sides of a value: one line each, or for multi-line values (function bodies) the
/// lines that differ.
fn write_values(out: &mut impl Write, old: &str, new: &str) -> std::io::Result<()> {
    use ui::{NEW, OLD};
    if old.contains('\n') || new.contains('\n') {
        let diff = similar::TextDiff::from_lines(old, new);
        for change in diff.iter_all_changes() {
            let line = change.value().trim_end_matches('\n');
            match change.tag() {
                similar::ChangeTag::Delete => writeln!(out, "      {OLD}- {line}{OLD:#}")?,
                similar::ChangeTag::Insert => writeln!(out, "      {NEW}+ {line}{NEW:#}")?,
                similar::ChangeTag::Equal => {}
            }
        }
        Ok(())
    } else {
        writeln!(out, "      {OLD}old: {old}{OLD:#}")?;
        writeln!(out, "      {NEW}new: {new}{NEW:#}")
    }
}
