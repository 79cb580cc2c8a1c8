//! Renderers that turn results into documents people read.

pub mod justification;
