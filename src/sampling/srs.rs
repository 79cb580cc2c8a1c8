//! Simple random sampling without replacement by permanent random numbers.
//!
//! The m units with the smallest lottery numbers of a group of G units. Since the lottery
//! numbers are independent and identically distributed, every m-subset is equally likely:
//! this is exact SRS, π = m/G for every unit (Sunter 1977; Ohlsson 1998).

use super::{Candidate, GroupDraw};
use crate::model::Role;

/// `group` is already in (lottery number, id) order.
pub fn draw(group: &[Candidate], m: usize) -> GroupDraw {
    let g = group.len();
    let pi = if g == 0 { 0.0 } else { m as f64 / g as f64 };
    GroupDraw {
        picks: (0..m.min(g)).map(|i| (i, pi, Role::Selected)).collect(),
        pi_of: vec![pi; g],
    }
}
