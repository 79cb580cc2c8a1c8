//! Renderers that turn results into documents people read.

pub mod customers;
pub mod justification;
pub mod scores;
