//! The only part of the crate that touches files: readers, writers and the manifest.

pub mod auditdir;
pub mod commit;
pub mod drawbook;
pub mod draws;
pub mod frame;
pub mod layout;
pub mod ledger;
pub mod limits;
pub mod lists;
pub mod manifest;
pub mod output;
pub mod read;
pub mod table;
pub mod team;
pub mod vocab;
pub mod xlsx;
