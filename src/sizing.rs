//! Sample sizes: the square-root rule for outlets and the allocation of a total over strata.
//!
//! Everything here is integer-exact: no floating point decides a size.
//!
//! References: IAF MD 1 (sampling of multiple sites, applied by analogy to service outlets;
//! initial ⌈√x⌉, surveillance ⌈0.6√x⌉, recertification ⌈0.8√x⌉); W. G. Cochran,
//! *Sampling Techniques*, 3rd ed. (1977), §5.5 (proportional allocation); largest-remainder
//! (Hamilton) integerisation.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The audit stage, which fixes the square-root rule's factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Initial certification audit: ⌈√x⌉.
    Initial,
    /// Yearly surveillance audit: ⌈0.6·√x⌉.
    Surveillance,
    /// Recertification audit in year 3: ⌈0.8·√x⌉.
    Recertification,
}

impl Stage {
    /// The factor num/den in front of √x.
    pub fn factor(self) -> (u64, u64) {
        match self {
            Stage::Initial => (1, 1),
            Stage::Surveillance => (3, 5),
            Stage::Recertification => (4, 5),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Initial => "initial",
            Stage::Surveillance => "surveillance",
            Stage::Recertification => "recertification",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Stage::Initial => "初次认证",
            Stage::Surveillance => "监督审核",
            Stage::Recertification => "再认证",
        }
    }

    /// The formula as text, e.g. `⌈0.6·√26⌉`.
    pub fn formula(self, x: u64) -> String {
        match self {
            Stage::Initial => format!("⌈√{x}⌉"),
            Stage::Surveillance => format!("⌈0.6·√{x}⌉"),
            Stage::Recertification => format!("⌈0.8·√{x}⌉"),
        }
    }
}

/// The smallest y ≥ 0 with `(den·y)² ≥ num²·x`, i.e. `⌈(num/den)·√x⌉`, without floating point.
pub fn ceil_scaled_sqrt(x: u64, num: u64, den: u64) -> u64 {
    let target = (num as u128) * (num as u128) * (x as u128);
    let ok = |y: u64| {
        let d = den as u128 * y as u128;
        d * d >= target
    };
    // Start from the float estimate and correct it exactly.
    let mut y = ((num as f64 / den as f64) * (x as f64).sqrt()).ceil() as u64;
    while y > 0 && ok(y - 1) {
        y -= 1;
    }
    while !ok(y) {
        y += 1;
    }
    y
}

/// The rule's minimum number of outlets to visit for a frame of `x` outlets (HQ not counted),
/// clamped to `[1, x]`; 0 only when `x` is 0.
pub fn outlet_rule(stage: Stage, x: u64) -> u64 {
    if x == 0 {
        return 0;
    }
    let (num, den) = stage.factor();
    ceil_scaled_sqrt(x, num, den).clamp(1, x)
}

/// `⌈30 %·x⌉`: the outlets per surveillance year where sampling is not appropriate.
pub fn thirty_percent(x: u64) -> u64 {
    (3 * x).div_ceil(10)
}

/// How a total is spread over strata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "table")]
pub enum Allocation {
    /// `n·N_h/N`, integerised by largest remainder.
    Proportional,
    /// `n/H` for each of the H strata, integerised by largest remainder.
    Equal,
    /// An explicit table of stratum → n.
    Table(BTreeMap<String, u64>),
}

impl Allocation {
    pub fn name(&self) -> &'static str {
        match self {
            Allocation::Proportional => "proportional",
            Allocation::Equal => "equal",
            Allocation::Table(_) => "table",
        }
    }
}

/// Spreads `n` over strata of sizes `sizes` (name → N_h, in name order).
///
/// Returns n_h per stratum, in the same order. Guarantees `min(min_per, N_h) ≤ n_h ≤ N_h`.
/// The total is `n` unless the minimums force more (then it is the sum of the minimums) or the
/// strata hold fewer than `n` units (then it is their sum). Quotas are exact rationals
/// `q_h = n·N_h/N` (or `n/H`); each stratum first gets `max(⌊q_h⌋, minimum)` capped at N_h,
/// then single units go to the largest remainders `q_h − n_h` (ties: larger N_h, then
/// name order) until the total is reached, or are taken back from the smallest remainders
/// above the minimum when the minimums overshoot. A capped stratum's excess thereby goes to
/// the others.
pub fn allocate(
    sizes: &[(String, u64)],
    n: u64,
    allocation: &Allocation,
    min_per: u64,
) -> Result<Vec<u64>> {
    if let Allocation::Table(table) = allocation {
        let mut out = Vec::with_capacity(sizes.len());
        let mut problems = Vec::new();
        for (name, size) in sizes {
            match table.get(name) {
                None => problems.push(format!(
                    "allocation table: no row for stratum `{name}` (N = {size})"
                )),
                Some(&k) if k > *size => problems.push(format!(
                    "allocation table: stratum `{name}` asks for {k} but has only {size} eligible units"
                )),
                Some(&k) => out.push(k),
            }
        }
        for name in table.keys() {
            if !sizes.iter().any(|(s, _)| s == name) {
                problems.push(format!(
                    "allocation table: stratum `{name}` is not in the frame"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Error::data(format!(
                "{}\nhint: the table needs one row per stratum, named exactly as in the frame",
                problems.join("\n")
            )));
        }
        return Ok(out);
    }
    let total_units: u64 = sizes.iter().map(|(_, s)| s).sum();
    let h = sizes.len() as u64;
    if h == 0 {
        return Ok(Vec::new());
    }
    let n = n.min(total_units);
    // Quota q_h = num_h / den, kept as exact integers.
    let (nums, den): (Vec<u128>, u128) = match allocation {
        Allocation::Proportional => (
            sizes.iter().map(|(_, s)| n as u128 * *s as u128).collect(),
            total_units.max(1) as u128,
        ),
        Allocation::Equal => (vec![n as u128; sizes.len()], h as u128),
        Allocation::Table(_) => unreachable!(),
    };
    let floor: Vec<u64> = nums.iter().map(|q| (q / den) as u64).collect();
    let mins: Vec<u64> = sizes.iter().map(|(_, s)| min_per.min(*s)).collect();
    let mut out: Vec<u64> = (0..sizes.len())
        .map(|i| floor[i].max(mins[i]).min(sizes[i].1))
        .collect();
    // remainder_i = q_i − n_i = (num_i − n_i·den)/den; compare numerators.
    let rem = |i: usize, out: &[u64]| nums[i] as i128 - (out[i] as u128 * den) as i128;
    let order = |a: usize, b: usize, out: &[u64]| -> Ordering {
        rem(b, out)
            .cmp(&rem(a, out))
            .then(sizes[b].1.cmp(&sizes[a].1))
            .then(sizes[a].0.cmp(&sizes[b].0))
    };
    let target = n.max(mins.iter().sum());
    let mut sum: u64 = out.iter().sum();
    while sum < target {
        let best = (0..sizes.len())
            .filter(|&i| out[i] < sizes[i].1)
            .min_by(|&a, &b| order(a, b, &out));
        match best {
            Some(i) => {
                out[i] += 1;
                sum += 1;
            }
            None => break,
        }
    }
    while sum > target {
        // Take back from the stratum furthest above its quota (smallest remainder).
        let worst = (0..sizes.len())
            .filter(|&i| out[i] > mins[i])
            .max_by(|&a, &b| order(a, b, &out));
        match worst {
            Some(i) => {
                out[i] -= 1;
                sum -= 1;
            }
            None => break,
        }
    }
    Ok(out)
}

/// The strata whose units chosen for cause fill their allocation while other eligible units
/// remain: `m_h = min(max(n_h − c_h, 0), N_h − c_h)` is 0 there, so those other units would
/// have inclusion probability 0. `split[h]` is `(c_h, N_h − c_h)`, `alloc[h]` is n_h; the
/// result holds the indices h, in order. Strata without for-cause units are not counted: a
/// zero allocation there is the user's own table or `--min-per-stratum 0`.
pub fn filled_by_for_cause(split: &[(u64, u64)], alloc: &[u64]) -> Vec<usize> {
    split
        .iter()
        .zip(alloc)
        .enumerate()
        .filter(|&(_, (&(c, others), &n))| c > 0 && others > 0 && n <= c)
        .map(|(h, _)| h)
        .collect()
}

/// The smallest `n` above `from` whose allocation ([`allocate`], same arguments) leaves no
/// stratum filled by its for-cause units ([`filled_by_for_cause`]); `for_cause[h]` is c_h.
///
/// Largest-remainder allocation is not monotone in n (the Alabama paradox), so this is a
/// search upward one n at a time rather than a bisection; it stops at the number of units,
/// where every stratum gets all of its units and the condition must hold. `None` for an
/// explicit table, which no `--n` changes.
pub fn smallest_covering_n(
    sizes: &[(String, u64)],
    for_cause: &[u64],
    from: u64,
    allocation: &Allocation,
    min_per: u64,
) -> Result<Option<u64>> {
    if matches!(allocation, Allocation::Table(_)) {
        return Ok(None);
    }
    let split: Vec<(u64, u64)> = sizes
        .iter()
        .zip(for_cause)
        .map(|((_, size), &c)| (c, size.saturating_sub(c)))
        .collect();
    let total: u64 = sizes.iter().map(|(_, s)| s).sum();
    for n in from.saturating_add(1)..=total {
        let alloc = allocate(sizes, n, allocation, min_per)?;
        if filled_by_for_cause(&split, &alloc).is_empty() {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_rule_table_from_the_domain_brief() {
        // x: (initial, surveillance, recertification)
        let table = [
            (1, (1, 1, 1)),
            (2, (2, 1, 2)),
            (5, (3, 2, 2)),
            (26, (6, 4, 5)),
            (100, (10, 6, 8)),
            (1000, (32, 19, 26)),
        ];
        for (x, (i, s, r)) in table {
            assert_eq!(outlet_rule(Stage::Initial, x), i, "initial x={x}");
            assert_eq!(outlet_rule(Stage::Surveillance, x), s, "surveillance x={x}");
            assert_eq!(outlet_rule(Stage::Recertification, x), r, "recert x={x}");
        }
        assert_eq!(outlet_rule(Stage::Initial, 0), 0);
    }

    #[test]
    fn exact_at_perfect_squares_and_large_x() {
        // 0.6·√25 = 3 exactly: no float rounding may push it to 4.
        assert_eq!(outlet_rule(Stage::Surveillance, 25), 3);
        assert_eq!(outlet_rule(Stage::Recertification, 25), 4);
        assert_eq!(outlet_rule(Stage::Initial, 10_000), 100);
        assert_eq!(outlet_rule(Stage::Initial, 10_001), 101);
        let x = 4_000_000_000_000_000_000u64;
        let y = ceil_scaled_sqrt(x, 1, 1);
        assert!((y as u128).pow(2) >= x as u128 && ((y - 1) as u128).pow(2) < x as u128);
    }

    #[test]
    fn thirty_percent_rounds_up() {
        assert_eq!(thirty_percent(10), 3);
        assert_eq!(thirty_percent(11), 4);
        assert_eq!(thirty_percent(1), 1);
    }

    fn s(v: &[(&str, u64)]) -> Vec<(String, u64)> {
        v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
    }

    #[test]
    fn proportional_largest_remainder() {
        // quotas 10·{50,30,20}/100 = 5,3,2 exactly
        let a = allocate(
            &s(&[("a", 50), ("b", 30), ("c", 20)]),
            10,
            &Allocation::Proportional,
            0,
        );
        assert_eq!(a.unwrap(), vec![5, 3, 2]);
        // quotas 7·{5,3,2}/10 = 3.5, 2.1, 1.4 → floors 3,2,1 (6) → +1 to a (remainder .5)
        let a = allocate(
            &s(&[("a", 5), ("b", 3), ("c", 2)]),
            7,
            &Allocation::Proportional,
            0,
        );
        assert_eq!(a.unwrap(), vec![4, 2, 1]);
    }

    #[test]
    fn minimum_and_cap() {
        // quotas 6·{97,2,1}/100 = 5.82, .12, .06; min 1 → 1,1,1 then 5.82 → total 6: a=4
        let a = allocate(
            &s(&[("a", 97), ("b", 2), ("c", 1)]),
            6,
            &Allocation::Proportional,
            1,
        );
        assert_eq!(a.unwrap(), vec![4, 1, 1]);
        // equal 9 over sizes 1, 10, 10: cap a at 1, excess to the others
        let a = allocate(
            &s(&[("a", 1), ("b", 10), ("c", 10)]),
            9,
            &Allocation::Equal,
            1,
        );
        assert_eq!(a.unwrap(), vec![1, 4, 4]);
        // minimums above n raise the total
        let a = allocate(
            &s(&[("a", 5), ("b", 5), ("c", 5)]),
            2,
            &Allocation::Proportional,
            1,
        );
        assert_eq!(a.unwrap(), vec![1, 1, 1]);
    }

    #[test]
    fn the_covering_search_finds_the_first_size_that_leaves_a_random_unit() {
        // a: 20 units, 2 for cause; b, c: 5 each. n = 3 → 1,1,1: a is filled by its 2.
        let sizes = s(&[("a", 20), ("b", 5), ("c", 5)]);
        let fc = [2, 0, 0];
        let split = [(2, 18), (0, 5), (0, 5)];
        let alloc = allocate(&sizes, 3, &Allocation::Proportional, 1).unwrap();
        assert_eq!(filled_by_for_cause(&split, &alloc), vec![0]);
        // n = 4 → quotas 2.67, .67, .67: a gets 2 (still filled); n = 5 → a gets 3.
        let n = smallest_covering_n(&sizes, &fc, 3, &Allocation::Proportional, 1).unwrap();
        assert_eq!(n, Some(5));
        let t = Allocation::Table(BTreeMap::new());
        assert_eq!(smallest_covering_n(&sizes, &fc, 3, &t, 1).unwrap(), None);
        // A stratum made only of for-cause units has nobody left out.
        assert!(filled_by_for_cause(&[(2, 0)], &[2]).is_empty());
    }

    #[test]
    fn table_checks_every_stratum() {
        let t: BTreeMap<String, u64> = [("a".to_string(), 2), ("x".to_string(), 1)].into();
        let e = allocate(&s(&[("a", 5), ("b", 5)]), 3, &Allocation::Table(t), 0).unwrap_err();
        assert_eq!(
            e.message,
            "allocation table: no row for stratum `b` (N = 5)\nallocation table: stratum `x` is not in the frame\nhint: the table needs one row per stratum, named exactly as in the frame"
        );
    }
}
