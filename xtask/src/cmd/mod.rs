//! One module per command; each strings together the steps of the other modules.

pub mod load_pack;
pub mod verify;
