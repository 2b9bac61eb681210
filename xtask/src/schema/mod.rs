//! The schema model, its introspection from the catalog, comparison and fingerprint.

pub mod accepted;
pub mod catalog;
pub mod diff;
pub mod fingerprint;
pub mod introspect;
pub mod model;
pub mod roles;
