//! Systematic sampling with a fractional interval and an exact integer random start.
//!
//! The G units are sorted by the user's sort column (numbers before text, ties by id).
//! With an integer start S uniform on {0, …, G−1} (S = ⌊u·G⌋ from the stratum's start
//! lottery number), the units at positions ⌊(S + i·G)/m⌋, i = 0 … m−1, are drawn. Unit j
//! occupies the interval [j·m, (j+1)·m) of a line of length G·m, and the points S + i·G hit it
//! for exactly m of the G values of S, so π = m/G exactly (Cochran 1977, §8.2; the
//! fractional-interval variant of Murthy 1967).

use super::{Candidate, GroupDraw, start_prn};
use crate::model::Role;
use crate::prn::Domain;
use crate::seed::Seed;

pub fn draw(seed: &Seed, stratum: &str, group: &[Candidate], m: usize) -> GroupDraw {
    let g = group.len();
    if g == 0 || m == 0 {
        return GroupDraw {
            picks: Vec::new(),
            pi_of: vec![0.0; g],
        };
    }
    let mut order: Vec<usize> = (0..g).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (group[a].sort.as_ref(), group[b].sort.as_ref());
        let by_key = match (ka, kb) {
            (Some(x), Some(y)) => x.cmp_total(y),
            _ => std::cmp::Ordering::Equal,
        };
        by_key.then_with(|| group[a].id.as_bytes().cmp(group[b].id.as_bytes()))
    });
    let s = start_prn(seed, Domain::SystematicStart, stratum).start(g as u64);
    let pi = m as f64 / g as f64;
    let picks = (0..m as u64)
        .map(|i| {
            let pos = ((s + i * g as u64) / m as u64) as usize;
            (order[pos], pi, Role::Selected)
        })
        .collect();
    GroupDraw {
        picks,
        pi_of: vec![pi; g],
    }
}
