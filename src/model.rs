//! The values that flow between the readers, the draw and the writers.

use serde::{Deserialize, Serialize};

use crate::prn::Prn;

/// The part a unit plays in a sample (CONTRACT.md: exactly these three words in sample.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Taken with probability 1: chosen for cause (`--include`), a census (`--all`), or a
    /// πps unit whose size alone makes its probability reach 1.
    Certainty,
    /// Drawn at random.
    Selected,
    /// A replacement, to be used strictly in rank order.
    Reserve,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Certainty => "certainty",
            Role::Selected => "selected",
            Role::Reserve => "reserve",
        }
    }
}

/// Why a unit has certainty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertaintyWhy {
    /// Chosen for cause with the auditor's written reason.
    ForCause(String),
    /// Every eligible unit is visited.
    Census,
    /// πps: its size makes n·x/X ≥ 1.
    LargeSize,
    /// Rotation: every unit of a less-visited group fits in the sample.
    WholeGroup,
}

/// One row of a drawn sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// Index of the frame row.
    pub row: usize,
    pub stratum: String,
    pub role: Role,
    /// Within the stratum, from 1, in draw order; reserves continue the count.
    pub rank: u64,
    pub prn: Prn,
    /// The unit's first-order inclusion probability under the design.
    pub pi: f64,
    /// Set for certainty units.
    pub why: Option<CertaintyWhy>,
}

impl SampleRow {
    /// The design weight 1/π, or `None` when π is 0 (a reserve the design could not select).
    pub fn weight(&self) -> Option<f64> {
        (self.pi > 0.0).then(|| 1.0 / self.pi)
    }
}
