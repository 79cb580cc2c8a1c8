//! Probability proportional to size: systematic πps over units in lottery-number order.
//!
//! Sizes are decimal numbers scaled to integers (up to 6 decimals), so all arithmetic is
//! exact. With m draws from units of sizes x_i summing to X, a unit with m·x_i ≥ X is a
//! certainty unit (π = 1); it is taken out, m and X are reduced, and this repeats until no
//! unit reaches 1. The rest are arranged by lottery number; cumulated sizes Cᵢ are scaled by
//! m, and with an integer start A = ⌊u·X⌋ from the stratum's start lottery number, unit i is
//! drawn when a point A + t·X (t = 0 … m−1) falls in [m·Cᵢ₋₁, m·Cᵢ). Its interval has length
//! m·xᵢ < X, so exactly m·xᵢ of the X start values hit it: π = m·xᵢ/X exactly (Madow 1949;
//! Särndal, Swensson & Wretman 1992, §3.6.2). Arranging by lottery number makes the joint
//! inclusion probabilities positive for most pairs, unlike a fixed list order.

use super::{Candidate, GroupDraw, start_prn};
use crate::model::Role;
use crate::prn::Domain;
use crate::seed::Seed;

/// Decimal places kept from a size.
pub const SIZE_DECIMALS: u32 = 6;

/// Parses a positive size such as `120`, `12.5` or `3e2` into an integer scaled by 10⁶.
/// Zero, negative, missing or unreadable sizes are errors (every unit must have a chance).
pub fn parse_size(text: &str) -> Result<u128, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the size is empty".into());
    }
    let (int, frac) = match t.split_once('.') {
        Some((a, b)) => (a, b),
        None => (t, ""),
    };
    let ok = !int.is_empty() || !frac.is_empty();
    if !ok || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("`{t}` is not a positive number"));
    }
    if frac.len() > SIZE_DECIMALS as usize
        && frac[SIZE_DECIMALS as usize..].bytes().any(|b| b != b'0')
    {
        return Err(format!("`{t}` has more than {SIZE_DECIMALS} decimals"));
    }
    if int.len() > 18 {
        return Err(format!("`{t}` is too large"));
    }
    let int_v: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| format!("`{t}` is too large"))?
    };
    let mut frac_s: String = frac.chars().take(SIZE_DECIMALS as usize).collect();
    while frac_s.len() < SIZE_DECIMALS as usize {
        frac_s.push('0');
    }
    let frac_v: u128 = frac_s.parse().unwrap_or(0);
    let v = int_v * 10u128.pow(SIZE_DECIMALS) + frac_v;
    if v == 0 {
        return Err(format!(
            "`{t}` is zero; a unit of size 0 could never be drawn"
        ));
    }
    Ok(v)
}

/// `group` is in (lottery number, id) order.
pub fn draw(seed: &Seed, stratum: &str, group: &[Candidate], m: usize) -> GroupDraw {
    let g = group.len();
    let size = |i: usize| {
        group[i]
            .size
            .expect("πps sizes are checked before the draw")
    };
    let mut pi_of = vec![0.0f64; g];
    let mut certain = vec![false; g];
    let mut m_left = m.min(g) as u128;
    let mut x_left: u128 = (0..g).map(size).sum();
    let mut picks = Vec::new();
    // Peel certainty units until none reaches π = 1.
    loop {
        if m_left == 0 {
            break;
        }
        let big: Vec<usize> = (0..g)
            .filter(|&i| !certain[i] && m_left * size(i) >= x_left)
            .collect();
        if big.is_empty() {
            break;
        }
        for i in big {
            if m_left == 0 {
                break;
            }
            certain[i] = true;
            pi_of[i] = 1.0;
            picks.push((i, 1.0, Role::Certainty));
            m_left -= 1;
            x_left -= size(i);
        }
    }
    if m_left > 0 && x_left > 0 {
        let a = start_prn(seed, Domain::PpsStart, stratum).start_u128(x_left);
        let mut t: u128 = 0;
        let mut cum: u128 = 0;
        for i in 0..g {
            if certain[i] {
                continue;
            }
            let x = size(i);
            let pi = (m_left * x) as f64 / x_left as f64;
            pi_of[i] = pi;
            cum += x;
            let hi = m_left * cum;
            if t < m_left && a + t * x_left < hi {
                picks.push((i, pi, Role::Selected));
                t += 1;
            }
        }
    }
    GroupDraw { picks, pi_of }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_exact_decimals() {
        assert_eq!(parse_size("120"), Ok(120_000_000));
        assert_eq!(parse_size("12.5"), Ok(12_500_000));
        assert_eq!(parse_size(".5"), Ok(500_000));
        assert_eq!(parse_size("1.0000000"), Ok(1_000_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-3").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("1,200").is_err());
        assert!(parse_size("1.0000001").is_err());
    }
}
