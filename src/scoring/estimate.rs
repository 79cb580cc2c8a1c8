//! Design-based estimates and their standard errors. The answers are summed per item and
//! outlet, and the linearised values per estimand and outlet, in one fixed order (the same
//! bits on every machine and thread count); polars aggregates the cells into the domains.
//!
//! Every estimand is a linear combination of item ratio means plus a constant,
//! `θ = c + Σ_k a_k R_k`, where `R_k = Σ w_i y_ik / Σ w_i` over the questionnaires that
//! answered item k (those answering N/A are outside its domain). Items are `a = 1` on
//! themselves; an indicator, group, category or the total puts `a_k = points_k /
//! applicable points` on its fieldwork items and the auditor's review findings into `c`.
//!
//! Variance by Taylor linearisation (Woodruff 1971; Wolter 2007, §6.11; the same as R's
//! `survey::svymean`/`svyratio` with `svycontrast`): the linearised value of questionnaire
//! i is `z_i = Σ_k a_k w_i (y_ik − R_k) / Σ_j w_j`, summed per outlet (the cluster) to
//! `z_o`, and
//!
//! `v(θ) = Σ_h (1 − f_h) · n_h/(n_h − 1) · Σ_{o∈h} (z_o − z̄_h)²`,
//!
//! with `n_h` the outlets of stratum h in the design (domains keep every outlet, as
//! `survey`'s subsets do) and `f_h` its sampling fraction. A stratum with one outlet adds
//! `(1 − f_h) z_o²` (R's `options(survey.lonely.psu = "adjust")`).
//! The 95 % interval is `θ ± 1.959964 · SE` (normal, as `confint` on an `svystat`).
//!
//! Domains (the whole base, each stratum of the draw) are unions of outlets, so one pass over
//! the answers, summing them per item and outlet ([`cells`]), feeds every domain and estimand.

use std::collections::HashMap;

use polars::prelude::*;

use crate::error::{Error, Result};

/// z for a two-sided 95 % normal interval.
pub const Z95: f64 = 1.959_963_984_540_054;

fn pl(e: PolarsError) -> Error {
    Error::data(format!("aggregation failed (polars): {e}"))
}

/// Sums per (item, outlet) of the scored answers.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    pub item: Vec<u32>,
    pub psu: Vec<u32>,
    /// Σ w·y, Σ w, answers, Σ y, Σ y², Σ answer value.
    pub wy: Vec<f64>,
    pub ws: Vec<f64>,
    pub n: Vec<u32>,
    pub ys: Vec<f64>,
    pub yy: Vec<f64>,
    pub vs: Vec<f64>,
}

/// Cells (item × outlet) up to this many are summed in a dense table; beyond, in a hash map.
const DENSE_CELLS: usize = 1 << 22;

/// One cell's running sums.
#[derive(Clone, Copy, Default)]
struct Acc {
    wy: f64,
    ws: f64,
    ys: f64,
    yy: f64,
    vs: f64,
    n: u32,
}

impl Acc {
    #[inline]
    fn add(&mut self, w: f64, y: f64, v: f64) {
        self.wy += w * y;
        self.ws += w;
        self.ys += y;
        self.yy += y * y;
        self.vs += v;
        self.n += 1;
    }
}

/// Sums the scored answers `(item, psu, w, y, value)` per (item, outlet), in (item, outlet)
/// order. Every cell adds its answers in their order, one thread, so the sums are the same
/// on every machine (a parallel group-by would add them in an order that depends on the
/// threads). `y` must not be NaN (N/A and control answers are left out before).
pub fn cells(
    n_items: usize,
    n_psu: usize,
    answers: impl Iterator<Item = (u32, u32, f64, f64, f64)>,
) -> Cells {
    cells_in(DENSE_CELLS, n_items, n_psu, answers)
}

/// [`cells`] with a dense table up to `dense` cells.
fn cells_in(
    dense: usize,
    n_items: usize,
    n_psu: usize,
    answers: impl Iterator<Item = (u32, u32, f64, f64, f64)>,
) -> Cells {
    let mut out = Cells::default();
    let mut push = |key: u64, a: &Acc| {
        out.item.push((key >> 32) as u32);
        out.psu.push(key as u32);
        out.wy.push(a.wy);
        out.ws.push(a.ws);
        out.n.push(a.n);
        out.ys.push(a.ys);
        out.yy.push(a.yy);
        out.vs.push(a.vs);
    };
    if n_items.saturating_mul(n_psu) <= dense {
        let mut t = vec![Acc::default(); n_items * n_psu];
        for (item, psu, w, y, v) in answers {
            t[item as usize * n_psu + psu as usize].add(w, y, v);
        }
        for (k, a) in t.iter().enumerate().filter(|(_, a)| a.n > 0) {
            push(((k / n_psu) as u64) << 32 | (k % n_psu) as u64, a);
        }
    } else {
        let mut at: foldhash::HashMap<u64, usize> = foldhash::HashMap::default();
        let mut t: Vec<(u64, Acc)> = Vec::new();
        for (item, psu, w, y, v) in answers {
            let key = (u64::from(item) << 32) | u64::from(psu);
            let i = *at.entry(key).or_insert_with(|| {
                t.push((key, Acc::default()));
                t.len() - 1
            });
            t[i].1.add(w, y, v);
        }
        t.sort_unstable_by_key(|(k, _)| *k);
        for (k, a) in &t {
            push(*k, a);
        }
    }
    out
}

fn u32s(df: &DataFrame, name: &str) -> Result<Vec<u32>> {
    Ok(df
        .column(name)
        .and_then(|c| c.u32().cloned())
        .map_err(pl)?
        .into_no_null_iter()
        .collect())
}

fn f64s(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(df
        .column(name)
        .and_then(|c| c.f64().cloned())
        .map_err(pl)?
        .into_no_null_iter()
        .collect())
}

/// The clusters and strata of the design.
#[derive(Debug, Clone)]
pub struct Clusters {
    /// Per PSU: its stratum.
    pub stratum: Vec<u32>,
    /// Per stratum: the sampling fraction.
    pub fraction: Vec<f64>,
}

/// Per (domain, item): the ratio mean and its parts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemTotal {
    pub wy: f64,
    pub ws: f64,
    pub n: u64,
}

/// One estimand in one domain: `c + Σ a_k R_k`.
#[derive(Debug, Clone)]
pub struct Estimand {
    pub dom: u32,
    pub constant: f64,
    pub terms: Vec<(u32, f64)>,
}

/// An estimate with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub se: f64,
}

impl Estimate {
    pub fn ci(&self) -> (f64, f64) {
        (self.value - Z95 * self.se, self.value + Z95 * self.se)
    }
}

/// Item totals per domain. `domains[psu]` lists the domains the PSU belongs to.
pub fn item_totals(c: &Cells, domains: &[Vec<u32>]) -> Result<HashMap<(u32, u32), ItemTotal>> {
    let (mut dom, mut item, mut wy, mut ws, mut n) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..c.item.len() {
        for &d in &domains[c.psu[i] as usize] {
            dom.push(d);
            item.push(c.item[i]);
            wy.push(c.wy[i]);
            ws.push(c.ws[i]);
            n.push(c.n[i]);
        }
    }
    let h = dom.len();
    let df = DataFrame::new(
        h,
        vec![
            Column::new("dom".into(), dom),
            Column::new("item".into(), item),
            Column::new("wy".into(), wy),
            Column::new("ws".into(), ws),
            Column::new("n".into(), n),
        ],
    )
    .map_err(pl)?;
    let out = df
        .lazy()
        .group_by([col("dom"), col("item")])
        .agg([
            col("wy").sum(),
            col("ws").sum(),
            col("n").cast(DataType::UInt32).sum().alias("n"),
        ])
        .collect()
        .map_err(pl)?;
    let (d, it, a, b, k) = (
        u32s(&out, "dom")?,
        u32s(&out, "item")?,
        f64s(&out, "wy")?,
        f64s(&out, "ws")?,
        u32s(&out, "n")?,
    );
    Ok((0..d.len())
        .map(|i| {
            (
                (d[i], it[i]),
                ItemTotal {
                    wy: a[i],
                    ws: b[i],
                    n: u64::from(k[i]),
                },
            )
        })
        .collect())
}

/// Estimates and linearised standard errors of `estimands` (see the module docs).
pub fn estimate(
    c: &Cells,
    domains: &[Vec<u32>],
    clusters: &Clusters,
    totals: &HashMap<(u32, u32), ItemTotal>,
    estimands: &[Estimand],
) -> Result<Vec<Estimate>> {
    estimate_in(DENSE_CELLS, c, domains, clusters, totals, estimands)
}

/// [`estimate`] with a dense table up to `dense` (estimand, outlet) sums.
fn estimate_in(
    dense: usize,
    c: &Cells,
    domains: &[Vec<u32>],
    clusters: &Clusters,
    totals: &HashMap<(u32, u32), ItemTotal>,
    estimands: &[Estimand],
) -> Result<Vec<Estimate>> {
    // Which estimands use (dom, item), with their coefficient.
    let mut uses: HashMap<(u32, u32), Vec<(u32, f64)>> = HashMap::new();
    let mut values = Vec::with_capacity(estimands.len());
    for (e, est) in estimands.iter().enumerate() {
        let mut v = est.constant;
        for &(item, a) in &est.terms {
            let t = totals.get(&(est.dom, item)).copied().unwrap_or_default();
            if t.ws > 0.0 {
                v += a * t.wy / t.ws;
                uses.entry((est.dom, item)).or_default().push((e as u32, a));
            }
        }
        values.push(v);
    }
    // Linearised cluster totals z per (estimand, psu), added in cell order; then per
    // (estimand, stratum) Σz and Σz² over the PSUs in ascending order. A fixed order of
    // additions: the same bits on every machine and thread count.
    let n_psu = clusters.stratum.len();
    let n_str = clusters.fraction.len();
    let n_est = estimands.len();
    let dense = n_est.saturating_mul(n_psu) <= dense;
    let mut zd = vec![0.0f64; if dense { n_est * n_psu } else { 0 }];
    let mut zh: foldhash::HashMap<u64, f64> = foldhash::HashMap::default();
    for i in 0..c.item.len() {
        let psu = c.psu[i];
        for &d in &domains[psu as usize] {
            let Some(list) = uses.get(&(d, c.item[i])) else {
                continue;
            };
            let t = totals[&(d, c.item[i])];
            let r = t.wy / t.ws;
            let z = (c.wy[i] - r * c.ws[i]) / t.ws;
            for &(e, a) in list {
                if dense {
                    zd[e as usize * n_psu + psu as usize] += a * z;
                } else {
                    *zh.entry((u64::from(e) << 32) | u64::from(psu)).or_default() += a * z;
                }
            }
        }
    }
    let mut s1 = vec![0.0f64; n_est * n_str];
    let mut s2 = vec![0.0f64; n_est * n_str];
    let mut add = |e: usize, psu: usize, z: f64| {
        let k = e * n_str + clusters.stratum[psu] as usize;
        s1[k] += z;
        s2[k] += z * z;
    };
    if dense {
        for (k, &z) in zd.iter().enumerate() {
            add(k / n_psu.max(1), k % n_psu.max(1), z);
        }
    } else {
        let mut zs: Vec<(u64, f64)> = zh.into_iter().collect();
        zs.sort_unstable_by_key(|(k, _)| *k);
        for (k, z) in zs {
            add((k >> 32) as usize, (k as u32) as usize, z);
        }
    }
    // n_h: the PSUs of each stratum in the design.
    let mut nh = vec![0u64; clusters.fraction.len()];
    for &st in &clusters.stratum {
        nh[st as usize] += 1;
    }
    let mut var = vec![0.0f64; estimands.len()];
    for (k, (&s1, &s2)) in s1.iter().zip(&s2).enumerate() {
        let (e, st) = (k / n_str, k % n_str);
        let f = clusters.fraction[st];
        if 1.0 - f < 1e-7 {
            continue;
        }
        let n = nh[st] as f64;
        let v = if nh[st] > 1 {
            (1.0 - f) * n / (n - 1.0) * (s2 - s1 * s1 / n)
        } else {
            (1.0 - f) * s2
        };
        var[e] += v;
    }
    Ok(values
        .into_iter()
        .zip(var)
        .map(|(value, v)| Estimate {
            value,
            se: v.max(0.0).sqrt(),
        })
        .collect())
}

/// The standard error of an outlet's item mean from its own questionnaires, a simple random
/// sample of `population` (0 = unknown: no fpc) answered by `n` with `Σy`, `Σy²`:
/// `√((1 − n/N) · s²/n)`. `None` with fewer than two answers.
pub fn within_outlet_se(n: u32, ys: f64, yy: f64, population: u64) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let nf = f64::from(n);
    let s2 = ((yy - ys * ys / nf) / (nf - 1.0)).max(0.0);
    let f = if population > 0 {
        (nf / population as f64).min(1.0)
    } else {
        0.0
    };
    Some(((1.0 - f) * s2 / nf).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense table and the hash map give the same cells, bit for bit, in (item, outlet)
    /// order, and every answer is in exactly one cell.
    #[test]
    fn dense_and_hashed_cells_agree() {
        let mut x = 7u64;
        let mut next = || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            x >> 33
        };
        let answers: Vec<(u32, u32, f64, f64, f64)> = (0..5000)
            .map(|_| {
                let y = (next() % 5) as f64 / 4.0;
                (
                    (next() % 7) as u32,
                    (next() % 40) as u32,
                    1.0 + (next() % 100) as f64 / 7.0,
                    y,
                    y * 4.0 + 1.0,
                )
            })
            .collect();
        let dense = cells_in(usize::MAX, 7, 40, answers.iter().copied());
        let hashed = cells_in(0, 7, 40, answers.iter().copied());
        assert_eq!(format!("{dense:?}"), format!("{hashed:?}"));
        let keys: Vec<(u32, u32)> = dense
            .item
            .iter()
            .copied()
            .zip(dense.psu.iter().copied())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(dense.n.iter().sum::<u32>(), 5000);
        // One cell recomputed by hand.
        let (i, p) = keys[3];
        let mine: Vec<_> = answers.iter().filter(|a| a.0 == i && a.1 == p).collect();
        assert_eq!(dense.n[3] as usize, mine.len());
        assert_eq!(dense.wy[3], mine.iter().fold(0.0, |s, a| s + a.2 * a.3));

        // The variance sums: dense and hashed agree bit for bit too.
        let clusters = Clusters {
            stratum: (0..40).map(|p| p % 3).collect(),
            fraction: vec![0.1, 0.5, 0.0],
        };
        let domains: Vec<Vec<u32>> = (0..40).map(|p| vec![0, 1 + p % 3]).collect();
        let totals = item_totals(&dense, &domains).unwrap();
        let estimands: Vec<Estimand> = (0..4)
            .flat_map(|dom| {
                (0..7).map(move |k| Estimand {
                    dom,
                    constant: 0.0,
                    terms: vec![(k, 1.0), ((k + 1) % 7, 0.5)],
                })
            })
            .collect();
        let a = estimate_in(usize::MAX, &dense, &domains, &clusters, &totals, &estimands).unwrap();
        let b = estimate_in(0, &dense, &domains, &clusters, &totals, &estimands).unwrap();
        assert_eq!(a, b);
        assert!(a.iter().all(|e| e.se > 0.0 && e.value.is_finite()));
    }
}
