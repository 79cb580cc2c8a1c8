//! The draw within one stratum, shared by outlet and customer samples.
//!
//! A stratum's units are split into certainty units chosen for cause and a pool for the
//! random part. The pool is ordered by the *ordering key* (times already visited in this
//! certificate cycle, then lottery number, then id). Whole groups of less-visited units that
//! fit are taken entirely (rotation, DESIGN.md); the method draws the rest from the first
//! group that does not fit; later groups have inclusion probability 0. Reserves are the next
//! units in the ordering key that were not drawn, to be used strictly in order.
//!
//! Every method states exact first-order inclusion probabilities:
//! - [`srs`]: sequential simple random sampling: the m smallest lottery numbers of a group
//!   of G units, π = m/G (exact SRS without replacement; Ohlsson 1998, "Sequential Poisson
//!   sampling", J. Official Statistics 14(2); Sunter 1977).
//! - [`systematic`]: fractional-interval systematic sampling over the user's sort order with
//!   an integer random start, π = m/G exactly.
//! - [`pps`]: systematic πps over the group arranged in lottery-number order, certainty
//!   units peeled off first, π = m'·x/X exactly in integer arithmetic (Madow 1949; Särndal,
//!   Swensson & Wretman, *Model Assisted Survey Sampling*, 1992, §3.6).

pub mod pps;
pub mod srs;
pub mod systematic;

use serde::{Deserialize, Serialize};

use crate::model::{CertaintyWhy, Role, SampleRow};
use crate::prn::{Domain, Prn, PrnGen};
use crate::seed::Seed;

/// The selection method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Simple random sampling without replacement (the smallest lottery numbers).
    Srs,
    /// Systematic sampling over a sort column, random start, fractional interval.
    Systematic,
    /// Probability proportional to size (systematic πps, certainty units peeled off).
    Pps,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Srs => "srs",
            Method::Systematic => "systematic",
            Method::Pps => "pps",
        }
    }
}

/// A sort value for systematic sampling: numbers before text, numbers by value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Num(f64),
    Text(String),
}

impl SortKey {
    pub fn parse(s: &str) -> SortKey {
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => SortKey::Num(v),
            _ => SortKey::Text(s.trim().to_string()),
        }
    }

    fn cmp_total(&self, other: &SortKey) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (self, other) {
            (SortKey::Num(a), SortKey::Num(b)) => a.total_cmp(b),
            (SortKey::Num(_), SortKey::Text(_)) => Less,
            (SortKey::Text(_), SortKey::Num(_)) => Greater,
            (SortKey::Text(a), SortKey::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

/// A unit taking part in a stratum's draw.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Frame row index.
    pub row: usize,
    pub id: String,
    pub prn: Prn,
    /// Times visited earlier in the certificate cycle.
    pub visits: u32,
    /// πps size, scaled to an integer (see [`pps::parse_size`]).
    pub size: Option<u128>,
    /// Systematic sort value.
    pub sort: Option<SortKey>,
    /// The written reason when chosen for cause.
    pub for_cause: Option<String>,
}

impl Candidate {
    fn prn_order(&self, other: &Candidate) -> std::cmp::Ordering {
        self.prn
            .cmp(&other.prn)
            .then_with(|| self.id.as_bytes().cmp(other.id.as_bytes()))
    }

    fn key_order(&self, other: &Candidate) -> std::cmp::Ordering {
        self.visits
            .cmp(&other.visits)
            .then_with(|| self.prn_order(other))
    }
}

/// What the method draws from one group: indices into the group in draw order, with π, and
/// the indices that became certainty units (πps).
pub struct GroupDraw {
    pub picks: Vec<(usize, f64, Role)>,
    /// π of a unit of the group that was not picked, by index (for reserves).
    pub pi_of: Vec<f64>,
}

/// The inputs of one stratum's draw.
pub struct StratumDraw<'a> {
    pub name: &'a str,
    pub method: Method,
    /// Units chosen for cause.
    pub certain: Vec<Candidate>,
    /// Units for the random part.
    pub pool: Vec<Candidate>,
    /// Size of the random part (capped at the pool size).
    pub m: u64,
    pub reserve: u64,
    /// Take every unit (census).
    pub census: bool,
}

/// Draws one stratum. Returns the rows in rank order (certainty, drawn, reserves).
pub fn draw_stratum(seed: &Seed, d: StratumDraw<'_>) -> Vec<(Candidate, SampleRow)> {
    let StratumDraw {
        name,
        method,
        mut certain,
        mut pool,
        m,
        reserve,
        census,
    } = d;
    let row = |c: &Candidate, role, pi, why| SampleRow {
        row: c.row,
        stratum: name.to_string(),
        role,
        rank: 0,
        prn: c.prn,
        pi,
        why,
    };
    let mut out: Vec<(Candidate, SampleRow)> = Vec::new();
    certain.sort_by(|a, b| a.prn_order(b));
    for c in certain {
        let why = CertaintyWhy::ForCause(c.for_cause.clone().unwrap_or_default());
        let r = row(&c, Role::Certainty, 1.0, Some(why));
        out.push((c, r));
    }
    pool.sort_by(|a, b| a.key_order(b));
    if census {
        for c in pool {
            let r = row(&c, Role::Certainty, 1.0, Some(CertaintyWhy::Census));
            out.push((c, r));
        }
        return number(out);
    }
    let mut remaining = m.min(pool.len() as u64) as usize;
    let mut taken = vec![false; pool.len()];
    let mut pi_all = vec![0.0f64; pool.len()];
    let mut start = 0;
    while start < pool.len() && remaining > 0 {
        let v = pool[start].visits;
        let end = start + pool[start..].iter().take_while(|c| c.visits == v).count();
        if end - start <= remaining {
            // Rotation: the whole less-visited group fits, so every unit in it is taken.
            for i in start..end {
                taken[i] = true;
                pi_all[i] = 1.0;
                let r = row(
                    &pool[i],
                    Role::Selected,
                    1.0,
                    Some(CertaintyWhy::WholeGroup),
                );
                out.push((pool[i].clone(), r));
            }
            remaining -= end - start;
            start = end;
            continue;
        }
        // The boundary group: the method draws `remaining` units from it.
        let group = &pool[start..end];
        let gd = match method {
            Method::Srs => srs::draw(group, remaining),
            Method::Systematic => systematic::draw(seed, name, group, remaining),
            Method::Pps => pps::draw(seed, name, group, remaining),
        };
        for (i, p) in gd.pi_of.iter().enumerate() {
            pi_all[start + i] = *p;
        }
        for (i, pi, role) in gd.picks {
            taken[start + i] = true;
            let c = &pool[start + i];
            let why = (role == Role::Certainty).then_some(CertaintyWhy::LargeSize);
            let r = row(c, role, pi, why);
            out.push((c.clone(), r));
        }
        break;
    }
    let mut left = reserve as usize;
    for (i, c) in pool.iter().enumerate() {
        if left == 0 {
            break;
        }
        if !taken[i] {
            let r = row(c, Role::Reserve, pi_all[i], None);
            out.push((c.clone(), r));
            left -= 1;
        }
    }
    number(out)
}

fn number(mut out: Vec<(Candidate, SampleRow)>) -> Vec<(Candidate, SampleRow)> {
    for (i, (_, r)) in out.iter_mut().enumerate() {
        r.rank = i as u64 + 1;
    }
    out
}

/// The lottery number of a stratum's random start (systematic and πps).
pub fn start_prn(seed: &Seed, domain: Domain, stratum: &str) -> Prn {
    PrnGen::new(seed, domain).prn(stratum)
}
