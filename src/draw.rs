//! The outlet draw, pure: a validated frame and resolved parameters in, a sample out.
//!
//! Invariant: every frame row ends in exactly one of certainty, selected, reserve, not
//! selected or excluded (closed, or listed with a reason), and [`Counts`] adds up to the
//! rows read. Nothing here reads files, the clock or the environment, so `verify` can replay
//! a draw from its manifest and get the identical sample.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems, Result};
use crate::identity::IdRule;
use crate::io::frame::{DEFAULT_CLOSED, Frame, STATUS_ALIASES, find_column, named_column};
use crate::model::{Role, SampleRow};
use crate::prn::{Domain, PrnGen};
use crate::sampling::{self, Candidate, Method, SortKey, StratumDraw, pps};
use crate::seed::Seed;
use crate::sizing::{self, Allocation, Stage};

/// A unit listed with a reason (`--include`, `--exclude`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub id: String,
    pub reason: String,
}

/// An earlier sample of this certificate cycle (`--visited`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visited {
    pub file: String,
    pub sha256: String,
    pub ids: Vec<String>,
}

/// Everything that decides an outlet draw besides the seed and the frame. Stored in the
/// manifest, so a draw can be replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutletParams {
    pub method: Method,
    pub stage: Stage,
    /// `--n`: the size asked for, at least the rule's minimum.
    pub n: Option<u64>,
    pub reason: Option<String>,
    pub all: bool,
    pub strata: Vec<String>,
    pub allocation: Allocation,
    pub min_per_stratum: Option<u64>,
    pub size_col: Option<String>,
    pub sort_col: Option<String>,
    pub reserve: u64,
    pub id_col: Option<String>,
    pub status_col: Option<String>,
    pub closed_values: Vec<String>,
    pub include: Vec<Listed>,
    pub exclude: Vec<Listed>,
    pub visited: Vec<Visited>,
    /// `--allow-zero-coverage`: draw even when units chosen for cause fill a stratum's
    /// allocation, leaving its other outlets with π = 0. `None` in manifests written before
    /// the rule existed: those draws were made without the check, so a replay allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_zero_coverage: Option<bool>,
    /// How ids are compared across the list and the side files; absent in draws made before
    /// the rule existed, which replay byte for byte.
    #[serde(default, skip_serializing_if = "IdRule::is_exact")]
    pub ids: IdRule,
}

impl OutletParams {
    /// Defaults matching the command line's.
    pub fn new(method: Method, stage: Stage) -> Self {
        OutletParams {
            method,
            stage,
            n: None,
            reason: None,
            all: false,
            strata: Vec::new(),
            allocation: Allocation::Proportional,
            min_per_stratum: None,
            size_col: None,
            sort_col: None,
            reserve: 0,
            id_col: None,
            status_col: None,
            closed_values: DEFAULT_CLOSED.iter().map(|s| s.to_string()).collect(),
            include: Vec::new(),
            exclude: Vec::new(),
            visited: Vec::new(),
            allow_zero_coverage: Some(false),
            ids: IdRule::CURRENT,
        }
    }
}

/// How the size was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeInfo {
    /// Eligible outlets in the frame (x).
    pub x: u64,
    pub rule: String,
    /// The rule's formula with x, e.g. `⌈√26⌉`.
    pub formula: String,
    pub rule_n: u64,
    /// The size asked for (rule or `--n`), before per-stratum minimums and for-cause units.
    pub requested_n: u64,
    pub reason: Option<String>,
    /// The size of the sample as drawn (certainty + selected).
    pub n: u64,
    pub certainty: u64,
    /// Units drawn by the random design (all but those chosen for cause); ≥ 25 % of n.
    pub random: u64,
}

/// One stratum's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumInfo {
    pub name: String,
    /// Frame rows in the stratum.
    pub rows: u64,
    /// Eligible units (N_h).
    pub eligible: u64,
    /// Allocated size n_h (before for-cause units that exceed it).
    pub allocated: u64,
    pub certainty: u64,
    pub selected: u64,
    pub reserve: u64,
}

/// A stratum whose units chosen for cause fill its allocation, so that its other eligible
/// outlets had no chance of selection (π = 0): allowed only by `--allow-zero-coverage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroCoverage {
    pub stratum: String,
    /// Eligible units N_h.
    pub eligible: u64,
    /// Allocated size n_h.
    pub allocated: u64,
    /// Units chosen for cause c_h.
    pub for_cause: u64,
    /// Eligible units with π = 0: N_h − c_h.
    pub no_chance: u64,
}

/// Where every input row went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Data rows read (blank rows not included).
    pub input_rows: u64,
    pub certainty: u64,
    pub selected: u64,
    pub reserve: u64,
    pub not_selected: u64,
    pub excluded_closed: u64,
    pub excluded_listed: u64,
    /// Empty lines and rows whose every cell was empty, skipped (not in `input_rows`).
    pub blank_rows: u64,
    /// Totals and footnote rows (合计, 注: …) left out (not in `input_rows`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    /// The accounting identity every draw keeps.
    pub fn adds_up(&self) -> bool {
        self.certainty
            + self.selected
            + self.reserve
            + self.not_selected
            + self.excluded_closed
            + self.excluded_listed
            == self.input_rows
    }
}

/// An excluded frame row and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    pub id: String,
    pub line: u64,
    pub reason: String,
}

/// A drawn sample with everything the outputs need.
#[derive(Debug, Clone)]
pub struct Draw {
    /// Rows ordered by stratum name, then rank.
    pub rows: Vec<SampleRow>,
    pub strata: Vec<StratumInfo>,
    pub size: SizeInfo,
    pub counts: Counts,
    pub exclusions: Vec<Exclusion>,
    /// Status values seen and how often (for the justification), when there is a status column.
    pub status_values: BTreeMap<String, u64>,
    pub status_col: Option<String>,
    /// Units visited in earlier samples of the cycle that are in the frame: id → times.
    pub visits_in_frame: u64,
    pub visited_not_in_frame: Vec<String>,
    pub min_per_stratum: u64,
    /// Strata left with π = 0 outlets under `--allow-zero-coverage` (empty otherwise).
    pub zero_coverage: Vec<ZeroCoverage>,
}

impl Draw {
    /// Σ n_h: the size asked for, or more when per-stratum minimums (or an explicit
    /// allocation table) ask for more; units chosen for cause beyond n_h not included.
    pub fn allocated_total(&self) -> u64 {
        self.strata.iter().map(|s| s.allocated).sum()
    }
}

/// The stratum name of unstratified draws.
pub const ALL: &str = "all";

/// Draws outlets. Errors name the frame lines concerned.
pub fn draw_outlets(frame: &Frame, seed: &Seed, p: &OutletParams) -> Result<Draw> {
    let t = &frame.table;
    let name = t.name();
    let strata_cols: Vec<usize> = p
        .strata
        .iter()
        .map(|c| named_column(t, c, "--strata"))
        .collect::<Result<_>>()?;
    let status_col = find_column(
        t,
        p.status_col.as_deref(),
        STATUS_ALIASES,
        "--status-col",
        "",
    )?;
    let size_col = match (&p.size_col, p.method) {
        (Some(c), _) => Some(named_column(t, c, "--size-col")?),
        (None, Method::Pps) => {
            return Err(Error::usage(
                "--method pps needs --size-col COL (the outlet size, e.g. annual service orders)",
            ));
        }
        (None, _) => None,
    };
    let sort_col = match (&p.sort_col, p.method) {
        (Some(c), _) => Some(named_column(t, c, "--sort-col")?),
        (None, Method::Systematic) => {
            return Err(Error::usage(
                "--method systematic needs --sort-col COL (the order to step through, e.g. 城市)",
            ));
        }
        (None, _) => None,
    };
    let index = frame.index_by(p.ids);

    let mut counts = Counts {
        input_rows: frame.len() as u64,
        blank_rows: t.blank_rows + t.empty_lines,
        skipped_rows: t.adjusted.skipped_rows.len() as u64,
        ..Counts::default()
    };
    let (excluded, for_cause, status_values) =
        eligibility(frame, p, status_col, &index, &mut counts)?;

    let (visits, visited_not_in_frame) = earlier_visits(p, &index);

    // Candidates by stratum; strata keys and sizes checked for eligible rows.
    let by_stratum = candidates(
        frame,
        seed,
        &Columns {
            strata: &strata_cols,
            size: size_col,
            sort: sort_col,
        },
        &excluded,
        &visits,
        &for_cause,
    )?;

    // Size.
    let x: u64 = by_stratum
        .values()
        .map(|(c, pool, _)| (c.len() + pool.len()) as u64)
        .sum();
    if x == 0 {
        return Err(Error::data(format!(
            "{name}: no eligible outlets ({} rows, {} closed, {} excluded)",
            counts.input_rows, counts.excluded_closed, counts.excluded_listed
        )));
    }
    let census = p.all && p.stage != Stage::Surveillance;
    let (rule, formula, rule_n, requested_n) = rule_size(p, x)?;
    let min_per = p
        .min_per_stratum
        .unwrap_or(if strata_cols.is_empty() { 0 } else { 1 });
    let sizes: Vec<(String, u64)> = by_stratum
        .iter()
        .map(|(k, (c, pool, _))| (k.clone(), (c.len() + pool.len()) as u64))
        .collect();
    let alloc = if census {
        sizes.iter().map(|(_, s)| *s).collect()
    } else {
        sizing::allocate(&sizes, requested_n, &p.allocation, min_per)?
    };
    let for_cause_h: Vec<u64> = by_stratum
        .values()
        .map(|(c, _, _)| c.len() as u64)
        .collect();
    // Checked after the 25 % rule below: a stratum filled by for-cause units is a finer
    // fault than a sample with too few random units, and the latter's hint comes first.
    let coverage = if census {
        Ok(Vec::new())
    } else {
        check_coverage(&sizes, &for_cause_h, &alloc, requested_n, min_per, p)
    };

    // Draw each stratum.
    let (rows, strata) = draw_strata(seed, p, by_stratum, alloc, census);
    for s in &strata {
        counts.certainty += s.certainty;
        counts.selected += s.selected;
        counts.reserve += s.reserve;
    }
    counts.not_selected = counts.input_rows
        - counts.certainty
        - counts.selected
        - counts.reserve
        - counts.excluded_closed
        - counts.excluded_listed;
    debug_assert!(counts.adds_up());

    // IAF MD 1's 25 % is about units chosen for cause: πps units taken for their size and
    // whole rotation groups are part of the random design, not the auditor's choice.
    let for_cause_n = for_cause.len() as u64;
    let n = counts.certainty + counts.selected;
    let random = n - for_cause_n;
    if !census && 4 * random < n {
        let need = (4 * for_cause_n).div_ceil(3);
        return Err(Error::usage(format!(
            "only {random} of the {n} sampled outlets would be drawn at random; at least 25 % must be random (IAF MD 1)\nhint: raise the size with --n {need} --reason \"…\", or choose fewer outlets for cause"
        )));
    }

    let zero_coverage = coverage?;

    let exclusions = t
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            excluded[i].as_ref().map(|why| Exclusion {
                id: frame.id(i).to_string(),
                line: r.line,
                reason: why.clone(),
            })
        })
        .collect();
    Ok(Draw {
        rows,
        strata,
        size: SizeInfo {
            x,
            rule,
            formula,
            rule_n,
            requested_n,
            reason: p.reason.clone().filter(|r| !r.trim().is_empty()),
            n,
            certainty: counts.certainty,
            random,
        },
        counts,
        exclusions,
        status_values,
        status_col: status_col.map(|c| t.header[c].clone()),
        visits_in_frame: visits.len() as u64,
        visited_not_in_frame,
        min_per_stratum: min_per,
        zero_coverage,
    })
}

/// Draws every stratum with its allocated size; returns the sample rows in output order
/// (stratum, then rank) and each stratum's figures.
#[allow(clippy::type_complexity)]
fn draw_strata(
    seed: &Seed,
    p: &OutletParams,
    by_stratum: BTreeMap<String, (Vec<Candidate>, Vec<Candidate>, u64)>,
    alloc: Vec<u64>,
    census: bool,
) -> (Vec<SampleRow>, Vec<StratumInfo>) {
    let mut rows = Vec::new();
    let mut strata = Vec::new();
    for ((key, (certain, pool, nrows)), n_h) in by_stratum.into_iter().zip(alloc) {
        let c_h = certain.len() as u64;
        let m = n_h.saturating_sub(c_h).min(pool.len() as u64);
        let eligible = c_h + pool.len() as u64;
        let drawn = sampling::draw_stratum(
            seed,
            StratumDraw {
                name: &key,
                method: p.method,
                certain,
                pool,
                m,
                reserve: p.reserve,
                census,
            },
        );
        let mut info = StratumInfo {
            name: key.clone(),
            rows: nrows,
            eligible,
            allocated: n_h,
            certainty: 0,
            selected: 0,
            reserve: 0,
        };
        for (_, r) in drawn {
            match r.role {
                Role::Certainty => info.certainty += 1,
                Role::Selected => info.selected += 1,
                Role::Reserve => info.reserve += 1,
            }
            rows.push(r);
        }
        strata.push(info);
    }
    (rows, strata)
}

/// The columns the draw reads besides the id: strata, pps size, systematic sort.
struct Columns<'a> {
    strata: &'a [usize],
    size: Option<usize>,
    sort: Option<usize>,
}

/// Per stratum (bytewise order): its for-cause candidates, its other candidates (the pool),
/// and its rows including excluded ones. Refuses empty stratum values and unreadable sizes
/// of eligible rows.
#[allow(clippy::type_complexity)]
fn candidates(
    frame: &Frame,
    seed: &Seed,
    cols: &Columns,
    excluded: &[Option<String>],
    visits: &HashMap<usize, u32>,
    for_cause: &HashMap<usize, String>,
) -> Result<BTreeMap<String, (Vec<Candidate>, Vec<Candidate>, u64)>> {
    let (t, name) = (&frame.table, frame.table.name());
    let (strata_cols, size_col, sort_col) = (cols.strata, cols.size, cols.sort);
    let mut prngen = PrnGen::new(seed, Domain::Outlet);
    let mut by_stratum: BTreeMap<String, (Vec<Candidate>, Vec<Candidate>, u64)> = BTreeMap::new();
    let mut problems = Problems::new();
    for (i, r) in t.rows.iter().enumerate() {
        let key = if strata_cols.is_empty() {
            ALL.to_string()
        } else {
            let parts: Vec<&str> = strata_cols.iter().map(|&c| r.cells[c].as_str()).collect();
            for (&c, v) in strata_cols.iter().zip(&parts) {
                if v.is_empty() && excluded[i].is_none() {
                    problems.push(format!(
                        "{name}:{}:{}: column {}: empty stratum value",
                        r.line,
                        c + 1,
                        t.header[c]
                    ));
                }
            }
            parts.join("/")
        };
        let entry = by_stratum.entry(key).or_default();
        entry.2 += 1;
        if excluded[i].is_some() {
            continue;
        }
        let size = match size_col {
            None => None,
            Some(c) => match pps::parse_size(&r.cells[c]) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(format!(
                        "{name}:{}:{}: column {}: {e}",
                        r.line,
                        c + 1,
                        t.header[c]
                    ));
                    None
                }
            },
        };
        let cand = Candidate {
            row: i,
            id: frame.id(i).to_string(),
            prn: prngen.prn(frame.id(i)),
            visits: visits.get(&i).copied().unwrap_or(0),
            size,
            sort: sort_col.map(|c| SortKey::parse(&r.cells[c])),
            for_cause: for_cause.get(&i).cloned(),
        };
        if cand.for_cause.is_some() {
            entry.0.push(cand);
        } else {
            entry.1.push(cand);
        }
    }
    problems.into_result(
        "every eligible outlet needs a stratum value and, for pps, a positive size; fix the cells or exclude the outlets with --exclude",
    )?;
    Ok(by_stratum)
}

/// Which rows are excluded (closed status, `--exclude`) and with what reason, which are
/// chosen for cause (`--include`), and the status column's values; refuses ids the frame
/// does not hold and for-cause outlets that are excluded.
#[allow(clippy::type_complexity)]
fn eligibility(
    frame: &Frame,
    p: &OutletParams,
    status_col: Option<usize>,
    index: &HashMap<std::borrow::Cow<'_, str>, usize>,
    counts: &mut Counts,
) -> Result<(
    Vec<Option<String>>,
    HashMap<usize, String>,
    BTreeMap<String, u64>,
)> {
    let t = &frame.table;
    let name = t.name();
    let closed: HashSet<String> = p
        .closed_values
        .iter()
        .map(|v| v.trim().to_lowercase())
        .collect();
    let mut excluded: Vec<Option<String>> = vec![None; frame.len()];
    let mut status_values = BTreeMap::new();
    if let Some(sc) = status_col {
        for (i, r) in t.rows.iter().enumerate() {
            let v = &r.cells[sc];
            *status_values.entry(v.clone()).or_insert(0) += 1;
            if closed.contains(&v.to_lowercase()) {
                excluded[i] = Some(format!("closed ({}={v})", t.header[sc]));
                counts.excluded_closed += 1;
            }
        }
    }
    let mut problems = Problems::new();
    let mut for_cause: HashMap<usize, String> = HashMap::new();
    for l in &p.exclude {
        match index.get(&p.ids.key(&l.id)) {
            None => problems.push(format!("--exclude: outlet `{}` is not in {name}", l.id)),
            Some(&i) => {
                if excluded[i].is_none() {
                    excluded[i] = Some(l.reason.clone());
                    counts.excluded_listed += 1;
                }
            }
        }
    }
    for l in &p.include {
        match index.get(&p.ids.key(&l.id)) {
            None => problems.push(format!("--include: outlet `{}` is not in {name}", l.id)),
            Some(&i) => {
                if let Some(why) = &excluded[i] {
                    problems.push(format!(
                        "--include: outlet `{}` ({name}:{}) is excluded: {why}",
                        l.id, t.rows[i].line
                    ));
                } else {
                    for_cause.insert(i, l.reason.clone());
                }
            }
        }
    }
    problems.into_result("an outlet chosen for cause must be an open outlet of the frame")?;
    Ok((excluded, for_cause, status_values))
}

/// How often each frame row was visited in the earlier samples (`--visited`), each sample
/// counting an outlet once, and the listed ids the frame does not hold (sorted, distinct).
fn earlier_visits(
    p: &OutletParams,
    index: &HashMap<std::borrow::Cow<'_, str>, usize>,
) -> (HashMap<usize, u32>, Vec<String>) {
    let mut visits: HashMap<usize, u32> = HashMap::new();
    let mut visited_not_in_frame = Vec::new();
    for v in &p.visited {
        // An outlet counts once per earlier sample, however many spellings of its id the
        // file lists (`WD0001` and `ＷＤ0001` are one outlet under the id rule).
        let mut seen = std::collections::HashSet::new();
        for id in &v.ids {
            match index.get(&p.ids.key(id)) {
                Some(&i) if seen.insert(i) => *visits.entry(i).or_insert(0) += 1,
                Some(_) => {}
                None => visited_not_in_frame.push(id.clone()),
            }
        }
    }
    visited_not_in_frame.sort();
    visited_not_in_frame.dedup();
    (visits, visited_not_in_frame)
}

/// The size rule for `x` eligible outlets and the size asked for: (rule, formula, the rule's
/// n, the requested n). `--n` may raise the rule's n with a reason, never lower it.
fn rule_size(p: &OutletParams, x: u64) -> Result<(String, String, u64, u64)> {
    let census = p.all && p.stage != Stage::Surveillance;
    let (rule, formula, rule_n) = if p.all && p.stage == Stage::Surveillance {
        (
            "all outlets, 30 % per surveillance year".to_string(),
            format!("⌈30 %·{x}⌉"),
            sizing::thirty_percent(x),
        )
    } else if census {
        ("all outlets (census)".to_string(), format!("{x}"), x)
    } else {
        (
            format!("IAF MD 1 square-root rule, {} stage", p.stage.as_str()),
            p.stage.formula(x),
            sizing::outlet_rule(p.stage, x),
        )
    };
    let requested_n = match p.n {
        None => rule_n,
        Some(n) if n < rule_n => {
            return Err(Error::usage(format!(
                "--n {n} is below the rule's minimum {rule_n} ({formula} for {x} eligible outlets); the rule may be raised, never lowered"
            )));
        }
        Some(n) if n > x => {
            return Err(Error::usage(format!(
                "--n {n} is more than the {x} eligible outlets; use --all to visit every outlet"
            )));
        }
        Some(n) if n > rule_n && p.reason.as_deref().unwrap_or("").trim().is_empty() => {
            return Err(Error::usage(format!(
                "--n {n} raises the rule's {rule_n} ({formula}); say why with --reason \"…\" (it goes into the 抽样说明)"
            )));
        }
        Some(n) => n,
    };
    Ok((rule, formula, rule_n, requested_n))
}

/// Refuses a draw in which units chosen for cause fill a stratum's allocation and leave its
/// other eligible outlets with π = 0, unless `--allow-zero-coverage` (or a manifest from
/// before the rule) allows it; then returns those strata, for the 抽样说明. The hint gives
/// the smallest `--n` that leaves a random unit in every such stratum.
fn check_coverage(
    sizes: &[(String, u64)],
    for_cause: &[u64],
    alloc: &[u64],
    requested_n: u64,
    min_per: u64,
    p: &OutletParams,
) -> Result<Vec<ZeroCoverage>> {
    let split: Vec<(u64, u64)> = sizes
        .iter()
        .zip(for_cause)
        .map(|((_, size), &c)| (c, size - c))
        .collect();
    let filled: Vec<ZeroCoverage> = sizing::filled_by_for_cause(&split, alloc)
        .into_iter()
        .map(|h| ZeroCoverage {
            stratum: sizes[h].0.clone(),
            eligible: sizes[h].1,
            allocated: alloc[h],
            for_cause: for_cause[h],
            no_chance: split[h].1,
        })
        .collect();
    if filled.is_empty() || p.allow_zero_coverage.unwrap_or(true) {
        return Ok(filled);
    }
    let lines: Vec<String> = filled
        .iter()
        .map(|z| {
            format!(
                "  stratum {}: N_h = {}, n_h = {}, chosen for cause c_h = {}: {} outlets with π = 0",
                z.stratum, z.eligible, z.allocated, z.for_cause, z.no_chance
            )
        })
        .collect();
    let no_chance: u64 = filled.iter().map(|z| z.no_chance).sum();
    let fix = match sizing::smallest_covering_n(
        sizes,
        for_cause,
        requested_n,
        &p.allocation,
        min_per,
    )? {
        Some(n) if p.all => format!(
            "draw --n {n} --reason \"…\" instead of --all (the smallest size that leaves an outlet drawn at random in every stratum)"
        ),
        Some(n) => format!(
            "raise the size to --n {n} --reason \"…\" (the smallest that leaves an outlet drawn at random in every stratum)"
        ),
        None => "give these strata more than their for-cause outlets in the allocation table"
            .to_string(),
    };
    Err(Error::data(format!(
        "outlets chosen for cause (指定网点, --include) fill the allocation of {} {}, so {no_chance} other eligible outlets would have no chance of selection (π = 0) and the estimates could not describe them:\n{}\nhint: {fix}; or stratify more coarsely (fewer --strata values); or pass --allow-zero-coverage (in an audit file: allow_zero_coverage = true) to keep this design, and the 抽样说明 states which outlets had no chance",
        filled.len(),
        if filled.len() == 1 {
            "stratum"
        } else {
            "strata"
        },
        lines.join("\n")
    )))
}
