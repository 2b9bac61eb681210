//! The rows of every user table, compared without false alarms.
//!
//! Some values only record when or in which order a row was made: ids from a sequence or
//! an identity, random keys, timestamps from the clock. A history that inserted rows and
//! truncated them again has advanced its sequences, so the same pack loaded afterwards
//! gets other ids than on the consolidated set, and so do the foreign keys holding them.
//! A [`DataSnapshot`] therefore leaves such columns out, names each row by a natural key,
//! and replaces each foreign key to a generated id with the natural key of the row it
//! points at; [`DataDiff`] and [`DataFingerprint`] work on what remains.
//!
//! A table's natural key is its primary key or a unique index over plain columns, none of
//! them left out; the primary key first, then keys whose columns are all NOT NULL, then
//! the first by name. A table without one is keyed by all its compared columns, and the
//! same row may then appear more than once: rows are compared as multisets.

mod catalog;
mod diff;
mod fingerprint;
mod snapshot;
#[cfg(test)]
mod tests;

pub use diff::{DataChange, DataDiff, DataDifference};
pub use fingerprint::DataFingerprint;
pub use snapshot::DataSnapshot;
