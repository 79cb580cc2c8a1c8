//! Checking the questionnaires against the drawn samples and the plan, and the survey design
//! they imply: for every accepted questionnaire its outlet (the cluster, or PSU), its stratum,
//! its weight and its stratum's sampling fraction.
//!
//! The design is the stratified two-stage one of the draws, analysed as an "ultimate cluster"
//! design (outlets are the clusters; Wolter, *Introduction to Variance Estimation*, 2nd ed.,
//! §1.6; Lumley, *Complex Surveys*, §3.2; R `survey::svydesign(ids = ~outlet, strata =
//! ~stratum, weights = ~w, fpc = ~f)`):
//! - 暗访 visits and mystery calls: `w = 1/π_o`, the outlet's inclusion probability;
//! - interviews: `w = (1/π_o) · (M_o / r_o)`, where `M_o` is the outlet's customers in the
//!   customer draw's frame and `r_o` the accepted interviews there: the respondents are
//!   treated as a simple random sample of the outlet's customers (response-homogeneity
//!   groups = outlets, Särndal, Swensson & Wretman 1992, §15.6.2), which is how replacements
//!   from the reserve list are meant to work;
//! - the sampling fraction of a stratum is the outlets' inclusion probability (equal within
//!   a stratum for srs and systematic draws); certainty outlets (π = 1) form their own stratum
//!   with fraction 1 and add no variance; pps draws use fraction 0 (with-replacement
//!   approximation), and the report says so.
//!
//! Without an outlet draw, every outlet counts as a cluster of one stratum without fpc and
//! weight 1; without a customer draw, interviews weigh 1/π_o. The report says which.
//!
//! Invariant: a rejected questionnaire moves all its answers to `rejected`, with one reason.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::responses::{Rejected, Responses};
use super::scheme::Source;

/// One outlet of an outlet draw.
#[derive(Debug, Clone)]
pub struct OutletUnit {
    pub stratum: String,
    /// selected, certainty or reserve.
    pub role: String,
    pub pi: f64,
}

#[derive(Debug, Clone)]
pub struct OutletDraw {
    pub dir: PathBuf,
    pub sample_sha256: String,
    pub method: String,
    pub units: HashMap<String, OutletUnit>,
    /// Eligible outlets of the list (the manifest's x) and those excluded (closed or listed).
    pub eligible: u64,
    pub excluded: u64,
    /// Strata left with π = 0 outlets under `--allow-zero-coverage`.
    pub zero_coverage: Vec<crate::draw::ZeroCoverage>,
}

#[derive(Debug, Clone)]
pub struct CustomerUnit {
    pub outlet: String,
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct CustomerDraw {
    pub dir: PathBuf,
    pub sample_sha256: String,
    pub units: HashMap<String, CustomerUnit>,
    /// Customers (persons) per outlet in the frame: the second stage's population.
    pub persons: HashMap<String, u64>,
    /// The service window of the customer frame (`--since`, `--until`), when given.
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlannedVisit {
    pub outlet: String,
    pub source: Source,
    pub person_id: String,
    pub person_name: String,
    /// Days since 1970-01-01.
    pub date: i32,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub dir: PathBuf,
    pub visits_sha256: String,
    pub visits: Vec<PlannedVisit>,
}

/// What the checks compare against.
#[derive(Debug, Default)]
pub struct Fieldwork {
    pub outlets: Option<OutletDraw>,
    pub customers: Option<CustomerDraw>,
    pub plan: Option<Plan>,
    /// Days a visit may lie before or after its planned date.
    pub date_slack: i64,
}

/// The design of the accepted questionnaires.
#[derive(Debug, Clone, Default)]
pub struct Design {
    /// Per respondent (index as in [`Responses::respondents`]); `u32::MAX` when rejected.
    pub psu: Vec<u32>,
    pub weight: Vec<f64>,
    /// PSU names (outlet ids), sorted; index = PSU number.
    pub outlets: Vec<String>,
    /// Per PSU: its stratum index.
    pub psu_stratum: Vec<u32>,
    /// Stratum names and sampling fractions.
    pub strata: Vec<String>,
    pub fraction: Vec<f64>,
    /// Per PSU: the outlet's stratum as the draw names it (certainty outlets keep their own).
    pub psu_draw_stratum: Vec<String>,
    /// Per PSU: accepted interviews and the outlet's customer population (0 = unknown).
    pub psu_interviews: Vec<u64>,
    pub psu_population: Vec<u64>,
    /// Notes on the design for the report (English).
    pub notes: Vec<String>,
}

fn reject_all(r: &mut Responses, drop: &[Option<String>], codes: &[String]) {
    if drop.iter().all(Option::is_none) {
        return;
    }
    let keep: Vec<bool> = r.resp.iter().map(|&p| drop[p as usize].is_none()).collect();
    for (i, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
        let p = r.resp[i] as usize;
        let why = drop[p].as_ref().expect("dropped respondent has a reason");
        r.rejected.push(Rejected {
            file: r.inputs[r.file[i] as usize].name.clone(),
            line: r.line[i],
            column: String::new(),
            respondent: r.respondents[p].id.clone(),
            outlet: r.respondents[p].outlet.clone(),
            question: codes[r.item[i] as usize].clone(),
            answer: if r.value[i].is_nan() {
                "N/A".into()
            } else {
                super::scheme::fmt_pts(r.value[i])
            },
            reason: why.clone(),
        });
    }
    r.retain_answers(&keep);
}

/// Checks every questionnaire, rejects the ones that fail (all their answers, with the
/// reason), and returns the design of the rest. `codes` gives item codes for the rejected
/// rows. Pure: no files.
pub fn check(r: &mut Responses, fw: &Fieldwork, codes: &[String]) -> Design {
    let n = r.respondents.len();
    let mut drop: Vec<Option<String>> = vec![None; n];
    let mut has_answer = vec![false; n];
    for &p in &r.resp {
        has_answer[p as usize] = true;
    }
    let mut customer_seen: HashMap<String, usize> = HashMap::new();
    let mut visit_seen: HashMap<(String, Source), usize> = HashMap::new();
    let mut planned: HashMap<(&str, Source), Vec<&PlannedVisit>> = HashMap::new();
    if let Some(plan) = &fw.plan {
        for v in &plan.visits {
            planned.entry((&v.outlet, v.source)).or_default().push(v);
        }
    }
    for i in 0..n {
        if !has_answer[i] {
            continue;
        }
        let src = r.respondents[i].source.unwrap_or(Source::Interview);
        // The outlet of an interview may come from the customer draw.
        if src == Source::Interview
            && r.respondents[i].outlet.is_empty()
            && let Some(c) = &fw.customers
            && let Some(u) = c.units.get(&r.respondents[i].customer)
        {
            r.respondents[i].outlet = u.outlet.clone();
        }
        let p = &r.respondents[i];
        let why = check_one(p, src, fw, &planned, &customer_seen, &visit_seen, r);
        match why {
            Some(w) => drop[i] = Some(w),
            None => {
                if src == Source::Interview && fw.customers.is_some() {
                    customer_seen.insert(p.customer.clone(), i);
                }
                if src != Source::Interview && fw.plan.is_some() {
                    visit_seen.insert((p.outlet.clone(), src), i);
                }
            }
        }
    }
    reject_all(r, &drop, codes);
    design(r, fw, &drop)
}

fn check_one(
    p: &super::responses::Respondent,
    src: Source,
    fw: &Fieldwork,
    planned: &HashMap<(&str, Source), Vec<&PlannedVisit>>,
    customer_seen: &HashMap<String, usize>,
    visit_seen: &HashMap<(String, Source), usize>,
    r: &Responses,
) -> Option<String> {
    let at = |j: usize| {
        let q = &r.respondents[j];
        format!("{}:{}", r.inputs[q.file as usize].name, q.line)
    };
    if p.outlet.is_empty() {
        return Some(
            "no outlet: the questionnaire names no outlet (and no drawn customer to take it from)"
                .into(),
        );
    }
    if let Some(od) = &fw.outlets {
        match od.units.get(&p.outlet) {
            None => {
                return Some(format!(
                    "outlet {} was never drawn: it is not in the outlet sample",
                    p.outlet
                ));
            }
            Some(u) if u.role == "reserve" => {
                return Some(format!(
                    "outlet {} is a reserve (备选), not in the sample; if it replaced a sampled outlet, redraw or record the replacement first",
                    p.outlet
                ));
            }
            Some(_) => {}
        }
    }
    if src == Source::Interview
        && let Some(cd) = &fw.customers
    {
        if p.customer.is_empty() {
            return Some("no customer id: an interview must name the drawn customer".into());
        }
        match cd.units.get(&p.customer) {
            None => {
                return Some(format!(
                    "customer {} was never drawn: not in the customer sample",
                    p.customer
                ));
            }
            Some(u) if u.outlet != p.outlet => {
                return Some(format!(
                    "customer {} was drawn for outlet {}, not {}",
                    p.customer, u.outlet, p.outlet
                ));
            }
            Some(_) => {}
        }
        if let Some(&j) = customer_seen.get(&p.customer) {
            return Some(format!(
                "duplicate response: customer {} already answered as respondent {} ({})",
                p.customer,
                r.respondents[j].id,
                at(j)
            ));
        }
    }
    if src != Source::Interview && fw.plan.is_some() {
        let what = src.zh();
        let Some(list) = planned.get(&(p.outlet.as_str(), src)) else {
            return Some(format!(
                "no {} ({what}) of outlet {} is in the plan",
                src.as_str(),
                p.outlet
            ));
        };
        if let Some(&j) = visit_seen.get(&(p.outlet.clone(), src)) {
            return Some(format!(
                "duplicate response: the {what} of outlet {} was already reported as respondent {} ({})",
                p.outlet,
                r.respondents[j].id,
                at(j)
            ));
        }
        if !p.by.is_empty()
            && !list
                .iter()
                .any(|v| v.person_id == p.by || v.person_name == p.by)
        {
            let who: Vec<String> = list
                .iter()
                .map(|v| format!("{} ({})", v.person_id, v.person_name))
                .collect();
            return Some(format!(
                "made by {}, but the plan assigns {}",
                p.by,
                who.join(", ")
            ));
        }
        if !p.date.is_empty() {
            let Some(d) = crate::customers::fields::parse_date(&p.date, false) else {
                return Some(format!("date `{}` is not a date (e.g. 2026-12-01)", p.date));
            };
            if !list
                .iter()
                .any(|v| (i64::from(d) - i64::from(v.date)).abs() <= fw.date_slack)
            {
                let days: Vec<String> = list
                    .iter()
                    .map(|v| crate::customers::fields::date_of(v.date).to_string())
                    .collect();
                return Some(format!(
                    "made on {}, outside its planned window ({} ± {} days)",
                    crate::customers::fields::date_of(d),
                    days.join(", "),
                    fw.date_slack
                ));
            }
        }
    }
    None
}

fn design(r: &Responses, fw: &Fieldwork, drop: &[Option<String>]) -> Design {
    let n = r.respondents.len();
    let mut has_answer = vec![false; n];
    for &p in &r.resp {
        has_answer[p as usize] = true;
    }
    // PSUs: outlets with an accepted questionnaire, sorted by id.
    let mut outlets: Vec<String> = (0..n)
        .filter(|&i| has_answer[i] && drop[i].is_none())
        .map(|i| r.respondents[i].outlet.clone())
        .collect();
    outlets.sort();
    outlets.dedup();
    let psu_of: HashMap<&str, u32> = outlets
        .iter()
        .enumerate()
        .map(|(k, o)| (o.as_str(), k as u32))
        .collect();
    let mut d = Design {
        outlets: outlets.clone(),
        ..Design::default()
    };
    // Strata and fractions.
    let mut strata: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut psu_stratum_name = Vec::with_capacity(outlets.len());
    for o in &outlets {
        let (name, draw_name, pi) = match &fw.outlets {
            None => ("all".to_string(), String::new(), 1.0),
            Some(od) => {
                let u = &od.units[o];
                if u.role == "certainty" || u.pi >= 1.0 {
                    ("(certainty 必选)".to_string(), u.stratum.clone(), 1.0)
                } else {
                    (u.stratum.clone(), u.stratum.clone(), u.pi)
                }
            }
        };
        strata.entry(name.clone()).or_default().push(pi);
        psu_stratum_name.push(name);
        d.psu_draw_stratum.push(draw_name);
    }
    let pps = fw.outlets.as_ref().is_some_and(|o| o.method == "pps");
    let names: Vec<String> = strata.keys().cloned().collect();
    for (name, pis) in &strata {
        let f = if fw.outlets.is_none() {
            0.0
        } else if name.starts_with("(certainty") {
            1.0
        } else if pps || pis.iter().any(|p| (p - pis[0]).abs() > 1e-12) {
            0.0
        } else {
            pis[0]
        };
        d.fraction.push(f);
    }
    d.strata = names.clone();
    let s_index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k as u32))
        .collect();
    d.psu_stratum = psu_stratum_name
        .iter()
        .map(|s| s_index[s.as_str()])
        .collect();
    // Interviews per PSU.
    let mut interviews = vec![0u64; outlets.len()];
    for i in 0..n {
        if has_answer[i] && drop[i].is_none() && r.respondents[i].source == Some(Source::Interview)
        {
            interviews[psu_of[r.respondents[i].outlet.as_str()] as usize] += 1;
        }
    }
    d.psu_population = outlets
        .iter()
        .map(|o| {
            fw.customers
                .as_ref()
                .and_then(|c| c.persons.get(o).copied())
                .unwrap_or(0)
        })
        .collect();
    d.psu_interviews = interviews.clone();
    d.psu = vec![u32::MAX; n];
    d.weight = vec![0.0; n];
    for i in 0..n {
        if !has_answer[i] || drop[i].is_some() {
            continue;
        }
        let p = &r.respondents[i];
        let k = psu_of[p.outlet.as_str()];
        let pi = match &fw.outlets {
            None => 1.0,
            Some(od) => od.units[&p.outlet].pi,
        };
        let mut w = 1.0 / pi;
        if p.source == Some(Source::Interview) {
            let m = d.psu_population[k as usize];
            if m > 0 {
                w *= m as f64 / interviews[k as usize] as f64;
            }
        }
        d.psu[i] = k;
        d.weight[i] = w;
    }
    if d.outlets.len() == 1 {
        d.notes.push(format!("All questionnaires come from one outlet ({}): the standard errors over the whole base, which come from the differences between outlets, cannot be estimated and show as 0.", d.outlets[0]));
    }
    if fw.outlets.is_none() {
        d.notes.push("No outlet draw was given (--outlets): every outlet weighs 1 and the standard errors treat the outlets as clusters drawn with replacement from one stratum.".into());
    }
    if pps {
        d.notes.push("The outlets were drawn with probability proportional to size: standard errors use the with-replacement approximation (no finite population correction).".into());
    }
    if fw.customers.is_none()
        && r.respondents
            .iter()
            .any(|p| p.source == Some(Source::Interview))
    {
        d.notes.push("No customer draw was given (--customers): interviews are not checked against the drawn customers and weigh 1/π of their outlet.".into());
    }
    if fw.plan.is_none()
        && r.respondents
            .iter()
            .any(|p| matches!(p.source, Some(Source::MysteryVisit | Source::MysteryCall)))
    {
        d.notes.push("No plan was given (--plan): 暗访 visits and calls are not checked against the planned dates and people.".into());
    }
    d
}
