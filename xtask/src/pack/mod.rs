//! Packs: the YAML files of a pack directory (see packs/README.md), read into typed
//! definitions, checked as a whole, and loaded into the `pack`, `runtime`, `trigger`,
//! `action` and `sensor` tables as the pack installation system does.

mod load;
mod model;
mod read;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_saphyr::Location;

pub use load::LoadSummary;
pub use model::{Action, Definition, PackManifest, Runtime, Sensor, Trigger};

/// A pack as its files define it, every reference checked.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The directory read; the paths of the files are relative to it.
    pub dir: PathBuf,
    pub manifest: PackFile<PackManifest>,
    pub runtimes: Vec<PackFile<Runtime>>,
    pub triggers: Vec<PackFile<Trigger>>,
    pub actions: Vec<PackFile<Action>>,
    pub sensors: Vec<PackFile<Sensor>>,
}

/// One file of a pack and what it defines.
#[derive(Debug, Clone)]
pub struct PackFile<T> {
    /// Relative to the pack directory, e.g. `actions/echo.yaml`.
    pub path: PathBuf,
    pub definition: T,
}

/// Everything wrong with a pack's files, found in one pass so that one run shows it all.
#[derive(Debug)]
pub struct PackProblems {
    pub dir: PathBuf,
    pub problems: Vec<Problem>,
}

/// One thing wrong, where it is: `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// Line and column (1-based) when the problem is at a place in the file.
    pub position: Option<(u64, u64)>,
    pub message: String,
}

impl Problem {
    fn in_file(file: &Path, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_owned(),
            position: None,
            message: message.into(),
        }
    }

    fn at(file: &Path, location: Location, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_owned(),
            position: position(location),
            message: message.into(),
        }
    }

    /// `file:line:column`, or the file alone when there is no position.
    pub fn location(&self) -> String {
        display_location(&self.file, self.position)
    }
}

fn position(location: Location) -> Option<(u64, u64)> {
    (location != Location::UNKNOWN).then(|| (location.line(), location.column()))
}

fn display_location(file: &Path, position: Option<(u64, u64)>) -> String {
    match position {
        Some((line, column)) => format!("{}:{line}:{column}", file.display()),
        None => file.display().to_string(),
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

impl fmt::Display for PackProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pack {} has {}:",
            self.dir.display(),
            crate::ui::count(self.problems.len(), "problem")
        )?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PackProblems {}
