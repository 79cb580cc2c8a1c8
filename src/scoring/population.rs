//! Which population the estimates describe: the eligible outlets of the list (less the
//! excluded ones, and less those the outlet draw left without a chance of selection under
//! `--allow-zero-coverage`) and their customers with a service in the customer draw's window.
//!
//! Invariant: every outlet counted in the list's eligible total that had π = 0 because
//! for-cause outlets filled its stratum is named (by stratum) here, so a score is never
//! labelled as describing outlets it could not reach.

use serde::Serialize;

use super::design::Fieldwork;

/// Outlets of one stratum that had no chance of selection (π = 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCovered {
    pub stratum: String,
    pub outlets: u64,
}

/// The population statement of `summary.json` and `report.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Population {
    /// Eligible outlets of the list (x), when the outlet draw was given.
    pub eligible_outlets: Option<u64>,
    /// Outlets of the list left out: closed, or listed with a reason.
    pub excluded_outlets: u64,
    /// Outlets the estimates describe: eligible, less those not covered.
    pub described_outlets: Option<u64>,
    /// Strata whose other outlets had no chance of selection (`--allow-zero-coverage`).
    pub not_covered: Vec<NotCovered>,
    /// The customer draw's service window (`--since`, `--until`), when it was given.
    pub customers_since: Option<String>,
    pub customers_until: Option<String>,
    /// One sentence in Chinese, then one in English.
    pub statement: String,
}

/// The population the fieldwork's draws describe.
pub fn population(fw: &Fieldwork) -> Population {
    let Some(o) = &fw.outlets else {
        return Population {
            eligible_outlets: None,
            excluded_outlets: 0,
            described_outlets: None,
            not_covered: Vec::new(),
            customers_since: None,
            customers_until: None,
            statement: "总体未知：未给出网点抽样（--outlets），估计只描述所评分的问卷。 Population unknown: no outlet draw was given (--outlets), so the estimates describe only the questionnaires scored.".into(),
        };
    };
    let not_covered: Vec<NotCovered> = o
        .zero_coverage
        .iter()
        .map(|z| NotCovered {
            stratum: z.stratum.clone(),
            outlets: z.no_chance,
        })
        .collect();
    let lost: u64 = not_covered.iter().map(|n| n.outlets).sum();
    let described = o.eligible.saturating_sub(lost);
    let (since, until) = fw
        .customers
        .as_ref()
        .map_or((None, None), |c| (c.since.clone(), c.until.clone()));
    let mut zh = format!(
        "总体：名单中 {} 个合格网点（不含 {} 个停业或排除的网点）",
        described, o.excluded
    );
    let mut en = format!(
        "Population: the {} eligible outlets of the list (not counting {} closed or excluded)",
        described, o.excluded
    );
    if fw.customers.is_some() {
        let (window_zh, window_en) = match (&since, &until) {
            (None, None) => (String::new(), String::new()),
            (Some(s), None) => (format!(" {s} 起"), format!(" since {s}")),
            (None, Some(u)) => (format!(" {u} 前"), format!(" until {u}")),
            (Some(s), Some(u)) => (format!("在 {s} 至 {u} 期间"), format!(" from {s} to {u}")),
        };
        zh.push_str(&format!("，及其{window_zh}有服务记录的顾客"));
        en.push_str(&format!("; and their customers with a service{window_en}"));
    }
    if lost > 0 {
        let list: Vec<String> = not_covered
            .iter()
            .map(|n| format!("{} {}", n.stratum, n.outlets))
            .collect();
        zh.push_str(&format!(
            "；另有 {lost} 个合格网点没有入样机会（{}），不在总体之内",
            list.join("、")
        ));
        en.push_str(&format!(
            "; {lost} other eligible outlets had no chance of selection (--allow-zero-coverage; by stratum: {}) and are not described",
            list.join(", ")
        ));
    }
    Population {
        eligible_outlets: Some(o.eligible),
        excluded_outlets: o.excluded,
        described_outlets: Some(described),
        not_covered,
        customers_since: since,
        customers_until: until,
        statement: format!("{zh}。 {en}."),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::draw::ZeroCoverage;
    use crate::scoring::design::{CustomerDraw, OutletDraw};

    fn fieldwork(zero: Vec<ZeroCoverage>, customers: bool) -> Fieldwork {
        Fieldwork {
            outlets: Some(OutletDraw {
                dir: "o".into(),
                sample_sha256: String::new(),
                method: "srs".into(),
                units: HashMap::new(),
                eligible: 309,
                excluded: 11,
                zero_coverage: zero,
            }),
            customers: customers.then(|| CustomerDraw {
                dir: "c".into(),
                sample_sha256: String::new(),
                units: HashMap::new(),
                persons: HashMap::new(),
                since: Some("2025-01-01".into()),
                until: Some("2026-10-31".into()),
            }),
            plan: None,
            date_slack: 0,
        }
    }

    #[test]
    fn the_statement_names_the_outlets_without_a_chance() {
        let z = |s: &str, n| ZeroCoverage {
            stratum: s.into(),
            eligible: n + 1,
            allocated: 1,
            for_cause: 1,
            no_chance: n,
        };
        let p = population(&fieldwork(vec![z("广东", 43), z("浙江", 31)], true));
        assert_eq!(p.described_outlets, Some(235));
        assert_eq!(
            p.statement,
            "总体：名单中 235 个合格网点（不含 11 个停业或排除的网点），及其在 2025-01-01 至 2026-10-31 期间有服务记录的顾客；另有 74 个合格网点没有入样机会（广东 43、浙江 31），不在总体之内。 \
             Population: the 235 eligible outlets of the list (not counting 11 closed or excluded); and their customers with a service from 2025-01-01 to 2026-10-31; 74 other eligible outlets had no chance of selection (--allow-zero-coverage; by stratum: 广东 43, 浙江 31) and are not described."
        );
        let p = population(&fieldwork(Vec::new(), false));
        assert_eq!(
            p.statement,
            "总体：名单中 309 个合格网点（不含 11 个停业或排除的网点）。 Population: the 309 eligible outlets of the list (not counting 11 closed or excluded)."
        );
        let none = Fieldwork {
            outlets: None,
            ..fieldwork(Vec::new(), false)
        };
        assert_eq!(population(&none).eligible_outlets, None);
    }
}
