//! svcaudit: the statistical and logistical heart of after-sales service certification audits
//! (售后服务认证, GB/T 27922-2011): seeded, reproducible samples of outlets and customers,
//! their justification (抽样说明) and verification, the fieldwork plan, and the scores.
//!
//! Layout: `prn` is the only door to randomness; `sampling` holds one method per file;
//! `sizing` the size rules and allocation; `draw` the outlet draw; `customers` the customer
//! draw; `io` every file access; `schedule` the fieldwork plan; `scoring` the estimates and
//! points; `report` the renderers (Markdown, CSV, HTML, xlsx); `audit` the audit file;
//! `cli`, `commands` and `ui` the thin command-line layer.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod customers;
pub mod draw;
pub mod error;
pub mod identity;
pub mod io;
pub mod model;
pub mod prn;
pub mod replay;
pub mod report;
pub mod sampling;
pub mod schedule;
pub mod scoring;
pub mod seed;
pub mod sizing;
pub mod ui;
