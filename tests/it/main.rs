//! The integration tests: one binary driving the real program and the library.
//!
//! Golden files live in `tests/golden/`; refresh them with `UPDATE_GOLDEN=1 cargo test` and
//! review the diff.

mod audit;
mod cli_errors;
mod common;
mod corpus;
mod coverage;
mod customers;
mod erp;
mod front_door;
mod fuzz;
mod golden;
mod invariance;
mod prn_vectors;
mod props;
mod reference;
mod schedule;
mod scoring;
mod stats;
mod survey_r;
mod trust;
mod verify;
