//! From survey results to indicator scores, their uncertainty and the level (clause 6 of
//! GB/T 27922-2011, as DOMAIN.md states the rules).
//!
//! Flow: [`scheme`] (validated scheme) → [`responses`] (import, answer-level checks) →
//! [`design`] (checks against the draws and plan; weights, clusters, strata) →
//! [`estimate`] (polars aggregation, linearised standard errors) → [`score`] here (points,
//! 删减, special deductions, bonus, level).
//!
//! Points rules:
//! - an item checked on a sample earns `points × R`, R the design-weighted share
//!   conforming (or mean mapped score): `points × (1 − nonconforming / sampled)` when the
//!   sample is self-weighting;
//! - an item that does not apply (no applicable answer, or N/A in the findings) is removed
//!   (删减): a node's rate is earned / applicable points, and its score is that rate times
//!   its points;
//! - the total is `scale × earned / applicable`, minus `special_deduction` per 特别扣分项,
//!   plus `bonus` per 特别加分项 up to `bonus_max`, within 0..=scale; `fail_at_special` or
//!   more special deductions fail the audit;
//! - the level is the highest whose threshold the unrounded total reaches.

pub mod design;
pub mod estimate;
mod import;
mod plain;
pub mod population;
pub mod responses;
pub mod scheme;

use std::collections::HashMap;

use design::Design;
use estimate::{Clusters, Estimand, Estimate};
use responses::Responses;
use scheme::{Kind, NodeLevel, Scheme, Source};

use crate::error::Result;

/// The auditor's findings: review items, special deductions and bonuses.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Per review item code: earned share in [0, 1], or `None` for N/A (删减).
    pub items: HashMap<String, Option<f64>>,
    /// 特别扣分项 and 特别加分项: (note, where it was written).
    pub special: Vec<(String, String)>,
    pub bonus: Vec<(String, String)>,
    pub sha256: String,
    pub name: String,
}

/// One row of `scores.csv`: an item or node in a domain.
#[derive(Debug, Clone)]
pub struct ScoreRow {
    /// `all`, or a stratum of the draw.
    pub domain: String,
    pub level: &'static str,
    pub id: String,
    pub name: String,
    pub source: String,
    pub points: f64,
    /// Points that apply here (after 删减).
    pub applicable: f64,
    /// Scored answers behind it (fieldwork items only).
    pub n: u64,
    /// Share of the applicable points earned, in [0, 1], with its SE; `None` when nothing
    /// applies.
    pub rate: Option<Estimate>,
}

impl ScoreRow {
    /// The node's score in points: rate × points.
    pub fn score(&self) -> Option<Estimate> {
        self.rate.map(|r| Estimate {
            value: r.value * self.points,
            se: r.se * self.points,
        })
    }
}

/// One outlet's result on one item.
#[derive(Debug, Clone)]
pub struct OutletItem {
    /// The outlet, as an index of [`Scores::outlets`].
    pub psu: u32,
    pub item: u32,
    pub n: u32,
    pub mean_answer: f64,
    pub rate: f64,
    pub se: Option<f64>,
}

/// One outlet's scores on indicators and its fieldwork total.
#[derive(Debug, Clone)]
pub struct OutletNode {
    /// The outlet, as an index of [`Scores::outlets`].
    pub psu: u32,
    /// The indicator (an index of [`Scheme::nodes`]); `None` for the fieldwork total.
    pub node: Option<u32>,
    pub rate: Option<f64>,
}

/// The result.
#[derive(Debug, Clone)]
pub struct Scores {
    pub rows: Vec<ScoreRow>,
    /// Per outlet (PSU): its id and its stratum as the draw names it.
    pub outlets: Vec<String>,
    pub outlet_strata: Vec<String>,
    pub outlet_items: Vec<OutletItem>,
    pub outlet_nodes: Vec<OutletNode>,
    /// Answers per item: scored, N/A.
    pub answered: Vec<(u64, u64)>,
    pub total: Option<Total>,
    /// Strata names of the domains, in order.
    pub strata: Vec<String>,
}

/// The total and the level.
#[derive(Debug, Clone)]
pub struct Total {
    /// The normalised total before special deductions and bonus.
    pub normalised: Estimate,
    pub deductions: f64,
    pub bonus: f64,
    /// The total (normalised − deductions + bonus, within 0..=scale).
    pub value: f64,
    pub se: f64,
    pub failed_special: bool,
    /// The level reached, `None` = fail.
    pub level: Option<usize>,
    /// Levels whose threshold lies inside the 95 % interval of the total.
    pub uncertain: Vec<usize>,
    /// Whether the review findings were given (without them the total is fieldwork only).
    pub complete: bool,
}

/// Scores the accepted answers.
pub fn score(s: &Scheme, r: &Responses, d: &Design, findings: Option<&Findings>) -> Result<Scores> {
    // Answers per item.
    let mut answered = vec![(0u64, 0u64); s.items.len()];
    for i in 0..r.len() {
        let a = &mut answered[r.item[i] as usize];
        if r.y[i].is_nan() {
            a.1 += 1;
        } else {
            a.0 += 1;
        }
    }
    // Scored answers (not N/A, not control) with their design.
    let cells = estimate::cells(
        s.items.len(),
        d.outlets.len(),
        (0..r.len()).filter(|&i| !r.y[i].is_nan()).map(|i| {
            let p = r.resp[i] as usize;
            (r.item[i], d.psu[p], d.weight[p], r.y[i], r.value[i])
        }),
    );
    // Domains: 0 = all, 1.. = the draw's strata (certainty outlets in their own stratum).
    let mut strata: Vec<String> = d
        .psu_draw_stratum
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    strata.sort();
    strata.dedup();
    let s_idx: HashMap<&str, u32> = strata
        .iter()
        .enumerate()
        .map(|(k, n)| (n.as_str(), k as u32 + 1))
        .collect();
    let domains: Vec<Vec<u32>> = d
        .psu_draw_stratum
        .iter()
        .map(|st| match s_idx.get(st.as_str()) {
            Some(&k) => vec![0, k],
            None => vec![0],
        })
        .collect();
    let totals = estimate::item_totals(&cells, &domains)?;
    let clusters = Clusters {
        stratum: d.psu_stratum.clone(),
        fraction: d.fraction.clone(),
    };

    // Review findings as constants.
    let review = |code: &str| -> Option<Option<f64>> {
        findings.map(|f| f.items.get(code).copied().flatten())
    };
    let complete = findings.is_some();

    // Estimands: per domain, every item, every node, the total.
    let n_dom = strata.len() as u32 + 1;
    let mut estimands: Vec<Estimand> = Vec::new();
    let mut meta: Vec<ScoreRow> = Vec::new();
    // Node membership: item → all its ancestors.
    let lineage: Vec<Vec<usize>> = s.items.iter().map(|it| s.lineage(it.indicator)).collect();
    for dom in 0..n_dom {
        let dom_name = if dom == 0 {
            "all".to_string()
        } else {
            strata[dom as usize - 1].clone()
        };
        let total_of = |k: usize| totals.get(&(dom, k as u32)).copied().unwrap_or_default();
        // Applicable points and review earned, per node and overall.
        let mut app = vec![0.0f64; s.nodes.len()];
        let mut earned_const = vec![0.0f64; s.nodes.len()];
        let (mut app_all, mut const_all) = (0.0, 0.0);
        let mut applies = vec![false; s.items.len()];
        for (k, it) in s.items.iter().enumerate() {
            if it.kind == Kind::Control {
                continue;
            }
            let (ok, c) = if it.source == Source::Review {
                match review(&it.code) {
                    Some(Some(share)) => (true, share * it.points),
                    _ => (false, 0.0),
                }
            } else {
                (total_of(k).ws > 0.0, 0.0)
            };
            applies[k] = ok;
            if ok {
                for &nd in &lineage[k] {
                    app[nd] += it.points;
                    earned_const[nd] += c;
                }
                app_all += it.points;
                const_all += c;
            }
        }
        for (k, it) in s.items.iter().enumerate() {
            let t = total_of(k);
            let (rate, terms, constant) = if it.source == Source::Review {
                match review(&it.code) {
                    Some(Some(share)) => (true, vec![], share),
                    _ => (false, vec![], 0.0),
                }
            } else {
                (t.ws > 0.0, vec![(k as u32, 1.0)], 0.0)
            };
            meta.push(ScoreRow {
                domain: dom_name.clone(),
                level: "item",
                id: it.code.clone(),
                name: it.text.clone(),
                source: it.source.as_str().to_string(),
                points: it.points,
                applicable: if applies[k] { it.points } else { 0.0 },
                n: t.n,
                rate: rate.then_some(Estimate {
                    value: f64::NAN,
                    se: 0.0,
                }),
            });
            estimands.push(Estimand {
                dom,
                constant,
                terms,
            });
        }
        for (j, node) in s.nodes.iter().enumerate() {
            let terms: Vec<(u32, f64)> = if app[j] > 0.0 {
                s.items
                    .iter()
                    .enumerate()
                    .filter(|(k, it)| {
                        applies[*k] && it.source != Source::Review && lineage[*k].contains(&j)
                    })
                    .map(|(k, it)| (k as u32, it.points / app[j]))
                    .collect()
            } else {
                vec![]
            };
            let n = s
                .items
                .iter()
                .enumerate()
                .filter(|(k, _)| lineage[*k].contains(&j))
                .map(|(k, _)| total_of(k).n)
                .sum();
            meta.push(ScoreRow {
                domain: dom_name.clone(),
                level: node.level.as_str(),
                id: node.id.clone(),
                name: node.name.clone(),
                source: String::new(),
                points: node.points,
                applicable: app[j],
                n,
                rate: (app[j] > 0.0).then_some(Estimate {
                    value: f64::NAN,
                    se: 0.0,
                }),
            });
            estimands.push(Estimand {
                dom,
                constant: if app[j] > 0.0 {
                    earned_const[j] / app[j]
                } else {
                    0.0
                },
                terms,
            });
        }
        let terms: Vec<(u32, f64)> = if app_all > 0.0 {
            s.items
                .iter()
                .enumerate()
                .filter(|(k, it)| applies[*k] && it.source != Source::Review)
                .map(|(k, it)| (k as u32, it.points / app_all))
                .collect()
        } else {
            vec![]
        };
        meta.push(ScoreRow {
            domain: dom_name.clone(),
            level: "total",
            id: "total".into(),
            name: if complete {
                "总分 total".into()
            } else {
                "总分 total (fieldwork items only 仅现场调查项)".into()
            },
            source: String::new(),
            points: s.scale,
            applicable: app_all,
            n: (0..s.items.len()).map(|k| total_of(k).n).sum(),
            rate: (app_all > 0.0).then_some(Estimate {
                value: f64::NAN,
                se: 0.0,
            }),
        });
        estimands.push(Estimand {
            dom,
            constant: if app_all > 0.0 {
                const_all / app_all
            } else {
                0.0
            },
            terms,
        });
    }
    let est = estimate::estimate(&cells, &domains, &clusters, &totals, &estimands)?;
    for (row, e) in meta.iter_mut().zip(&est) {
        if row.rate.is_some() {
            row.rate = Some(*e);
        }
    }

    // Per outlet: item means with their within-outlet SE, and node rates.
    let mut outlet_items = Vec::new();
    for i in 0..cells.item.len() {
        let psu = cells.psu[i] as usize;
        outlet_items.push(OutletItem {
            psu: psu as u32,
            item: cells.item[i],
            n: cells.n[i],
            mean_answer: cells.vs[i] / f64::from(cells.n[i]),
            rate: cells.wy[i] / cells.ws[i],
            se: estimate::within_outlet_se(
                cells.n[i],
                cells.ys[i],
                cells.yy[i],
                if s.items[cells.item[i] as usize].source == Source::Interview {
                    d.psu_population[psu]
                } else {
                    1
                },
            ),
        });
    }
    // Per outlet: each indicator's rate and the fieldwork rate, the rated items weighted by
    // their points, added in item order. The cells come by (item, outlet); group them by
    // outlet, keeping the item order.
    let indicators: Vec<usize> = (0..s.nodes.len())
        .filter(|&j| s.nodes[j].level == NodeLevel::Indicator)
        .collect();
    let indicator_of: Vec<Vec<usize>> = lineage
        .iter()
        .map(|l| {
            (0..indicators.len())
                .filter(|&x| l.contains(&indicators[x]))
                .collect()
        })
        .collect();
    let mut first = vec![0usize; d.outlets.len() + 1];
    for &p in &cells.psu {
        first[p as usize + 1] += 1;
    }
    for p in 0..d.outlets.len() {
        first[p + 1] += first[p];
    }
    let mut by_outlet = vec![0u32; cells.psu.len()];
    let mut fill = first.clone();
    for (i, &p) in cells.psu.iter().enumerate() {
        by_outlet[fill[p as usize]] = i as u32;
        fill[p as usize] += 1;
    }
    let mut outlet_nodes = Vec::with_capacity(d.outlets.len() * (indicators.len() + 1));
    let mut sums = vec![(0.0f64, 0.0f64); indicators.len() + 1];
    for psu in 0..d.outlets.len() {
        sums.fill((0.0, 0.0));
        for &c in &by_outlet[first[psu]..first[psu + 1]] {
            let (c, k) = (c as usize, cells.item[c as usize] as usize);
            let it = &s.items[k];
            if it.kind == Kind::Control || it.source == Source::Review || cells.ws[c] <= 0.0 {
                continue;
            }
            let rate = cells.wy[c] / cells.ws[c];
            for &slot in indicator_of[k].iter().chain([&indicators.len()]) {
                sums[slot].0 += rate * it.points;
                sums[slot].1 += it.points;
            }
        }
        let ids = indicators.iter().map(|&j| Some(j as u32)).chain([None]);
        for (node, &(num, den)) in ids.zip(&sums) {
            outlet_nodes.push(OutletNode {
                psu: psu as u32,
                node,
                rate: (den > 0.0).then(|| num / den),
            });
        }
    }

    // The total, the special items and the level.
    let total = meta
        .iter()
        .position(|m| m.domain == "all" && m.level == "total")
        .and_then(|i| meta[i].rate)
        .map(|rate| {
            let normalised = Estimate {
                value: rate.value * s.scale,
                se: rate.se * s.scale,
            };
            let n_special = findings.map_or(0, |f| f.special.len());
            let n_bonus = findings
                .map_or(0, |f| f.bonus.len())
                .min(s.rules.bonus_max as usize);
            let deductions = n_special as f64 * s.rules.special_deduction;
            let bonus = n_bonus as f64 * s.rules.bonus;
            let value = (normalised.value - deductions + bonus).clamp(0.0, s.scale);
            let failed_special = n_special >= s.rules.fail_at_special as usize;
            let level = if failed_special || !complete {
                None
            } else {
                // Floating-point noise (1e-9) is not a miss: 0.9 × 100 must reach 90.
                s.levels.iter().rposition(|l| value >= l.min - 1e-9)
            };
            let (lo, hi) = (
                value - estimate::Z95 * normalised.se,
                value + estimate::Z95 * normalised.se,
            );
            let uncertain = s
                .levels
                .iter()
                .enumerate()
                .filter(|(_, l)| lo < l.min && l.min <= hi)
                .map(|(k, _)| k)
                .collect();
            Total {
                normalised,
                deductions,
                bonus,
                value,
                se: normalised.se,
                failed_special,
                level,
                uncertain,
                complete,
            }
        });
    Ok(Scores {
        rows: meta,
        outlets: d.outlets.clone(),
        outlet_strata: d.psu_draw_stratum.clone(),
        outlet_items,
        outlet_nodes,
        answered,
        total,
        strata,
    })
}

/// Parses the findings rows: `(line, item, result, note)`. Errors name the line and column.
pub fn findings_from_rows(
    s: &Scheme,
    name: &str,
    rows: &[(u64, String, String, String)],
    result_col: &str,
    item_col: &str,
) -> Result<Findings> {
    let mut f = Findings {
        name: name.to_string(),
        ..Findings::default()
    };
    let mut problems = crate::error::Problems::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, item, result, note) in rows {
        let low = item.to_lowercase();
        let whr = format!("{name}:{line}");
        let special = ["特别扣分", "特别扣分项", "special", "special_deduction"];
        let bonus = ["特别加分", "特别加分项", "bonus"];
        let list = if special.contains(&low.as_str()) {
            Some(&mut f.special)
        } else if bonus.contains(&low.as_str()) {
            Some(&mut f.bonus)
        } else {
            None
        };
        if let Some(list) = list {
            let text = if note.is_empty() { result } else { note };
            list.push((text.clone(), whr));
            continue;
        }
        let Some(&k) = s.by_code.get(item.as_str()) else {
            problems.push(format!("{whr}:{item_col}: {item} is not an item of the scheme; use a review item's code, 特别扣分 or 特别加分"));
            continue;
        };
        let spec = &s.items[k];
        if spec.source != Source::Review {
            problems.push(format!(
                "{whr}:{item_col}: {item} is a {} ({}) item, scored from the survey results, not from the findings",
                spec.source.as_str(),
                spec.source.zh()
            ));
            continue;
        }
        if let Some(first) = seen.insert(item.clone(), *line) {
            problems.push(format!(
                "{whr}:{item_col}: {item} already has a finding on line {first}"
            ));
            continue;
        }
        match responses::score_answer(spec, result) {
            Ok(v) => {
                f.items.insert(item.clone(), v.map(|(_, y)| y));
            }
            Err(why) => problems.push(format!("{whr}:{result_col}: {why}")),
        }
    }
    let missing: Vec<&str> = s
        .items
        .iter()
        .filter(|it| it.source == Source::Review && !f.items.contains_key(&it.code))
        .map(|it| it.code.as_str())
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{name}: no finding for the review item{} {}; give each one a row (符合/不符合/N/A or its points)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ));
    }
    problems.into_result("the findings file has the columns item, result, note; one row per review item, plus a row 特别扣分 or 特别加分 for each special deduction or bonus")?;
    Ok(f)
}
