//! The customer draw (顾客访问抽样): people to interview, per sampled outlet, from the
//! applicant's service records.
//!
//! Design (docs/ALGORITHM.md §4): a two-stage sample. Stage 1 is the outlet draw named by
//! `--outlets` (or every outlet of the records, with probability 1). Stage 2 takes, inside
//! each sampled outlet, the people with the smallest lottery numbers, which is a simple
//! random sample without replacement of that outlet's people. One person is one unit: rows
//! are merged by the person key (phone digits by default) and a person belongs to the outlet
//! of their most recent service in the window. A person's inclusion probability is
//! `π_outlet · c/N`, with `c` the contacts drawn and `N` the people of the outlet.
//!
//! The work is [`scan`] (one streaming pass over the records, spilled by person) and
//! [`resolve`] (people, owners, smallest numbers); this module sizes the sample and builds
//! the rows.

pub mod fields;
mod ids;
mod parts;
pub mod record;
pub mod resolve;
pub mod scan;
pub mod size;
mod specials;
mod transcode;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::identity::IdRule;
use crate::io::frame::find_column;
use crate::io::table::{RawTable, ReadOptions};
use crate::io::vocab;
use crate::model::Role;
use crate::prn::{Domain, PrnBatch};
use crate::seed::Seed;
use crate::sizing::{Allocation, allocate};
use resolve::Person;
pub use scan::StreamConfig;
use scan::{Columns, Rules, Scan, Source};
use size::Cochran;

/// Everything that decides a customer draw, stored in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerParams {
    /// The outlet draw folder, relative to the output folder; `None`: every outlet.
    pub outlets: Option<String>,
    /// SHA-256 of the outlet draw's sample.csv, to notice a changed first stage.
    pub outlet_sample_sha256: Option<String>,
    pub per_outlet: Option<u64>,
    pub n: Option<u64>,
    pub confidence: f64,
    pub margin: f64,
    pub p: f64,
    pub response_rate: f64,
    pub reserve: u64,
    /// `proportional` or `equal` (across sampled outlets, for a total size).
    pub allocation: String,
    pub min_per_outlet: u64,
    pub since: Option<String>,
    pub until: Option<String>,
    pub service_types: Vec<String>,
    pub id_col: Option<String>,
    pub outlet_col: Option<String>,
    pub date_col: Option<String>,
    pub phone_col: Option<String>,
    pub person_key: Option<String>,
    pub type_col: Option<String>,
    pub name_col: Option<String>,
    /// The customer number column (客户编号), when named with `--customer-col`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_col: Option<String>,
    /// Set by `verify` only: the columns are exactly those named (an absent `id_col` means
    /// the draw had no record id column), so a replay never re-guesses a column.
    #[serde(skip)]
    pub replay: bool,
    /// How the records' outlet ids are compared with the outlet list's; absent in draws made
    /// before the rule existed, which replay byte for byte.
    #[serde(default, skip_serializing_if = "IdRule::is_exact")]
    pub ids: IdRule,
}

impl CustomerParams {
    /// The parameters for replaying a draw whose manifest recorded `used` (role → header
    /// name, as `frame_info` writes it): every column as recorded, none guessed again, so a
    /// change to the column vocabulary never changes what `verify` re-derives.
    pub fn pinned(&self, used: &std::collections::BTreeMap<String, String>) -> CustomerParams {
        let mut p = self.clone();
        let get = |k: &str| used.get(k).cloned();
        p.id_col = p.id_col.or_else(|| get("id"));
        p.outlet_col = p.outlet_col.or_else(|| get("outlet"));
        p.date_col = p.date_col.or_else(|| get("date"));
        p.phone_col = p.phone_col.or_else(|| get("phone"));
        p.type_col = p.type_col.or_else(|| get("service_type"));
        p.name_col = p.name_col.or_else(|| get("name"));
        p.customer_col = p.customer_col.or_else(|| get("customer_no"));
        if p.person_key.is_none() && get("person_key") != get("phone") {
            p.person_key = get("person_key");
        }
        p.replay = true;
        p
    }
}

/// The first stage as read from an outlet draw folder.
#[derive(Debug, Clone, Default)]
pub struct OutletStage {
    /// Sampled outlet id → (stratum, inclusion probability).
    pub sampled: HashMap<String, (String, f64)>,
    /// Every outlet id of the outlet list (certainty, selected, reserve, or not drawn).
    pub all: HashSet<String>,
}

/// One sampled outlet's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutletPlan {
    pub outlet_id: String,
    pub stratum: String,
    /// Inclusion probability of the outlet (stage 1).
    pub pi_outlet: f64,
    /// Eligible service records.
    pub records: u64,
    /// People who belong to the outlet (N).
    pub persons: u64,
    /// Of those, people also served at another outlet.
    pub persons_multi_outlet: u64,
    /// Interviews wanted (n), before inflation for response.
    pub n: u64,
    /// People to contact: `⌈n / response rate⌉`, at most N.
    pub contacts: u64,
    pub reserves: u64,
}

/// The size and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSize {
    /// `per-outlet`, `fixed` or `cochran`.
    pub rule: String,
    pub cochran: Option<Cochran>,
    /// People of the sampled outlets (N).
    pub population: u64,
    /// Interviews wanted in all (Σ n).
    pub n: u64,
    pub contacts: u64,
    pub reserves: u64,
    /// The margin of error Σ n achieves (simple random sampling approximation).
    pub achieved_margin: f64,
    pub z: f64,
}

/// What happened to people. `persons = persons_sampled_outlets + persons_other_outlets`,
/// and `eligible rows = persons + merged_rows`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonCounts {
    pub persons: u64,
    /// Eligible rows that were further services of a person already counted.
    pub merged_rows: u64,
    pub multi_outlet: u64,
    pub persons_sampled_outlets: u64,
    pub persons_other_outlets: u64,
}

/// A drawn person with the cells of their representing record.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub outlet: String,
    pub stratum: String,
    pub role: Role,
    pub rank: u64,
    pub pi: f64,
    pub person: Person,
    pub cells: Vec<String>,
}

/// A whole customer draw.
pub struct CustomerDraw {
    pub scan: Scan,
    pub rules: Rules,
    pub outlets: Vec<OutletPlan>,
    pub size: CustomerSize,
    pub persons: PersonCounts,
    pub rows: Vec<CustomerRow>,
}

impl CustomerDraw {
    /// The `unit_id` of a drawn person: the record id of the row that represents them; without
    /// a record id column, their customer number when that is the person key, else
    /// `<outlet id>-<rank>`. Never the phone number, and independent of the rows' order.
    pub fn unit_id<'a>(&self, r: &'a CustomerRow) -> std::borrow::Cow<'a, str> {
        let c = &self.rules.cols;
        match c.id {
            Some(i) => r.cells[i].as_str().into(),
            None if c.customer == Some(c.person) => r.cells[c.person].as_str().into(),
            None => format!("{}-{}", r.outlet, r.rank).into(),
        }
    }
}

/// The rules for a header, from the parameters.
pub fn rules_for(t: &RawTable, p: &CustomerParams, stage: Option<&OutletStage>) -> Result<Rules> {
    let req = |c: Option<&str>, aliases: &[&str], flag: &str, what: &str| -> Result<usize> {
        Ok(find_column(t, c, aliases, flag, what)?.expect("required column"))
    };
    let opt = |c: Option<&str>, role: &vocab::ColumnRole, flag: &str| -> Result<Option<usize>> {
        if p.replay && c.is_none() {
            return Ok(None);
        }
        find_column(t, c, role.names, flag, "")
    };
    let id = opt(p.id_col.as_deref(), &vocab::RECORD_ID, "--id-col")?;
    let customer = opt(
        p.customer_col.as_deref(),
        &vocab::CUSTOMER_NO,
        "--customer-col",
    )?;
    let outlet = req(
        p.outlet_col.as_deref(),
        vocab::OUTLET_ID.names,
        "--outlet-col",
        "the outlet id",
    )?;
    let date = req(
        p.date_col.as_deref(),
        vocab::SERVICE_DATE.names,
        "--date-col",
        "the service date",
    )?;
    let phone = opt(p.phone_col.as_deref(), &vocab::PHONE, "--phone-col")?;
    let name = opt(p.name_col.as_deref(), &vocab::NAME, "--name-col")?;
    let service_type = opt(p.type_col.as_deref(), &vocab::SERVICE_TYPE, "--type-col")?;
    let person = match (&p.person_key, phone, customer) {
        (Some(k), _, _) => req(Some(k), &[], "--person-key", "")?,
        (None, Some(phone), _) => phone,
        // No phone: the customer number identifies the person (CONTRACT.md, Customers).
        (None, None, Some(customer)) => customer,
        // Record ids are not people.
        (None, None, None) => {
            // The file lacks a column, as when the outlet column is missing: a data error
            // (exit 1), not a usage error.
            return Err(Error::data(format!(
                "{}:1: no phone column and no customer number column; looked for {} and {}\nhint: name one with --phone-col or --customer-col, or give --person-key COLUMN",
                t.name(),
                vocab::PHONE.names.join(", "),
                vocab::CUSTOMER_NO.names.join(", ")
            )));
        }
    };
    for i in [id, Some(outlet), Some(date), phone, customer, Some(person)]
        .into_iter()
        .flatten()
    {
        vocab::check_named_once(&t.name(), &t.header, i)?;
    }
    if !p.service_types.is_empty() && service_type.is_none() {
        return Err(Error::data(format!(
            "{}:1: --service-types needs a service type column; looked for {}\nhint: name it with --type-col",
            t.name(),
            vocab::SERVICE_TYPE.names.join(", ")
        )));
    }
    let day = |s: &Option<String>, flag: &str| -> Result<Option<i32>> {
        match s {
            None => Ok(None),
            Some(s) => fields::parse_date(s, false).map(Some).ok_or_else(|| {
                Error::usage(format!("{flag} `{s}`: not a date; write e.g. 2025-03-01"))
            }),
        }
    };
    Ok(Rules {
        cols: Columns {
            id,
            outlet,
            date,
            phone,
            person,
            customer,
            service_type,
            name,
        },
        width: t.header.len(),
        since: day(&p.since, "--since")?,
        until: day(&p.until, "--until")?,
        types: (!p.service_types.is_empty()).then(|| p.service_types.iter().cloned().collect()),
        outlets: stage.map(|s| list_spellings(&s.all, p.ids)),
        ids: p.ids,
        excel_serial: false,
    })
}

/// `⌈n / r⌉`, robust to the float representation of r.
pub fn inflate(n: u64, r: f64) -> u64 {
    if r >= 1.0 {
        return n;
    }
    let x = n as f64 / r;
    (x - 1e-9).ceil().max(0.0) as u64
}

/// The outlet list's ids by their comparison key, each to the list's spelling. Should two
/// spellings share a key (only in an outlet draw made before the id rule, which refuses such
/// lists now), the bytewise smallest names the outlet, whatever the set's order.
fn list_spellings(all: &HashSet<String>, ids: IdRule) -> std::collections::HashMap<String, String> {
    let mut sorted: Vec<&String> = all.iter().collect();
    sorted.sort();
    let mut map = std::collections::HashMap::new();
    for id in sorted {
        map.entry(ids.key(id).into_owned())
            .or_insert_with(|| id.clone());
    }
    map
}

/// Where and how a draw streams: none of it reaches the sample.
pub struct Streaming<'a> {
    /// The folder that holds the temporary spill folder (the output folder).
    pub spill_in: &'a Path,
    /// Called with (bytes done, bytes in all) as pass 1 goes.
    pub progress: &'a dyn Fn(u64, u64),
    pub cfg: StreamConfig,
}

/// Draws customers: pass 1, pass 2, size, allocation, rows.
pub fn draw_customers(
    path: &Path,
    read: &ReadOptions,
    seed: &Seed,
    p: &CustomerParams,
    stage: Option<&OutletStage>,
    how: &Streaming,
) -> Result<CustomerDraw> {
    let chooser = |t: &RawTable| rules_for(t, p, stage);
    let cfg = how.cfg;
    let mut scan = scan::scan(path, read, &chooser, how.spill_in, how.progress, cfg)?;
    // The header is known now; rebuild the rules for the record (cheap).
    let header_table = RawTable {
        path: path.to_path_buf(),
        format: scan.format,
        encoding: scan.encoding.clone(),
        had_bom: scan.had_bom,
        delimiter: scan.delimiter,
        sheet: scan.sheet.clone(),
        header: scan.header.clone(),
        rows: Vec::new(),
        blank_rows: 0,
        empty_lines: 0,
        sha256: String::new(),
        adjusted: Default::default(),
    };
    let rules = rules_for(&header_table, p, stage)?;
    debug_assert!(scan.counts.adds_up());
    let k = &scan.counts;
    if k.rows == 0 {
        return Err(Error::data(format!(
            "{}: no service records after the header\nhint: export the records with one row per service order",
            path.display()
        )));
    }
    if k.eligible == 0 {
        return Err(Error::data(format!(
            "{}: none of the {} records is eligible ({} outside the date window, {} of other service types, {} flagged for a missing phone, date, outlet or id)\nhint: check --since/--until, --service-types and the column names",
            path.display(),
            k.rows,
            k.outside_window,
            k.type_not_included,
            k.flagged()
        )));
    }

    let n_out = scan.outlets.len();
    let wanted: Vec<bool> = scan
        .outlets
        .iter()
        .map(|o| stage.is_none_or(|s| s.sampled.contains_key(o)))
        .collect();
    let r = p.response_rate;
    let cap_n = match (p.per_outlet, p.n) {
        (Some(m), _) => inflate(m, r),
        (None, Some(n)) => inflate(n.max(p.min_per_outlet), r),
        (None, None) => {
            let c = size::cochran(p.confidence, p.margin, p.p, u64::MAX >> 11);
            inflate((c.n0.ceil() as u64).max(p.min_per_outlet), r)
        }
    } + p.reserve;
    let caps: Vec<u64> = wanted.iter().map(|&w| if w { cap_n } else { 0 }).collect();
    let batch = PrnBatch::new(seed, Domain::Customer);
    let res = resolve::resolve(&scan.spill, n_out, &wanted, &caps, &batch, cfg.threads)?;
    scan.spill.release();

    // Stage 1 outlets that have people, in outlet id order.
    let sampled: Vec<usize> = (0..n_out).filter(|&g| wanted[g]).collect();
    let population: u64 = sampled.iter().map(|&g| res.owned[g]).sum();
    let z = size::z_for(p.confidence);
    let (rule, cochran, ns): (&str, Option<Cochran>, Vec<u64>) = match (p.per_outlet, p.n) {
        (Some(m), _) => (
            "per-outlet",
            None,
            sampled.iter().map(|&g| m.min(res.owned[g])).collect(),
        ),
        (None, n) => {
            let (rule, c, total) = match n {
                Some(n) => ("fixed", None, n.min(population)),
                None => {
                    let c = size::cochran(p.confidence, p.margin, p.p, population);
                    let n = c.n;
                    ("cochran", Some(c), n)
                }
            };
            let sizes: Vec<(String, u64)> = sampled
                .iter()
                .map(|&g| (scan.outlets[g].clone(), res.owned[g]))
                .collect();
            let alloc = match p.allocation.as_str() {
                "equal" => Allocation::Equal,
                _ => Allocation::Proportional,
            };
            (rule, c, allocate(&sizes, total, &alloc, p.min_per_outlet)?)
        }
    };
    let mut outlets = Vec::new();
    let mut rows = Vec::new();
    for (k, &g) in sampled.iter().enumerate() {
        let id = &scan.outlets[g];
        let (stratum, pi_o) = match stage {
            Some(s) => s.sampled[id].clone(),
            None => ("all".to_string(), 1.0),
        };
        let big_n = res.owned[g];
        let n = ns[k];
        let contacts = inflate(n, r).min(big_n);
        let reserves = p.reserve.min(big_n - contacts);
        let pi = if big_n == 0 {
            0.0
        } else {
            pi_o * contacts as f64 / big_n as f64
        };
        for (i, person) in res.candidates[g]
            .iter()
            .take((contacts + reserves) as usize)
            .enumerate()
        {
            rows.push(CustomerRow {
                outlet: id.clone(),
                stratum: stratum.clone(),
                role: if (i as u64) < contacts {
                    Role::Selected
                } else {
                    Role::Reserve
                },
                rank: i as u64 + 1,
                pi,
                person: person.clone(),
                cells: Vec::new(),
            });
        }
        outlets.push(OutletPlan {
            outlet_id: id.clone(),
            stratum,
            pi_outlet: pi_o,
            records: scan.outlet_rows[g],
            persons: big_n,
            persons_multi_outlet: res.owned_multi[g],
            n,
            contacts,
            reserves,
        });
    }
    // Sampled outlets without any eligible customer still appear, with N = 0.
    if let Some(s) = stage {
        let have: HashSet<&str> = outlets.iter().map(|o| o.outlet_id.as_str()).collect();
        let mut missing: Vec<(&String, &(String, f64))> = s
            .sampled
            .iter()
            .filter(|(id, _)| !have.contains(id.as_str()))
            .collect();
        missing.sort_by(|a, b| a.0.cmp(b.0));
        for (id, (stratum, pi_o)) in missing {
            outlets.push(OutletPlan {
                outlet_id: id.clone(),
                stratum: stratum.clone(),
                pi_outlet: *pi_o,
                records: 0,
                persons: 0,
                persons_multi_outlet: 0,
                n: 0,
                contacts: 0,
                reserves: 0,
            });
        }
    }
    outlets.sort_by(|a, b| (&a.stratum, &a.outlet_id).cmp(&(&b.stratum, &b.outlet_id)));
    rows.sort_by(|a, b| (&a.stratum, &a.outlet, a.rank).cmp(&(&b.stratum, &b.outlet, b.rank)));
    fetch_cells(&scan.source, scan.header.len(), &mut rows, cfg.threads)?;

    let n_total: u64 = outlets.iter().map(|o| o.n).sum();
    let persons_sampled = population;
    let persons = PersonCounts {
        persons: res.persons,
        merged_rows: scan.counts.eligible - res.persons,
        multi_outlet: res.multi_outlet,
        persons_sampled_outlets: persons_sampled,
        persons_other_outlets: res.persons - persons_sampled,
    };
    let size = CustomerSize {
        rule: rule.to_string(),
        cochran,
        population,
        n: n_total,
        contacts: outlets.iter().map(|o| o.contacts).sum(),
        reserves: outlets.iter().map(|o| o.reserves).sum(),
        achieved_margin: size::achieved_margin(z, p.p, n_total, population),
        z,
    };
    Ok(CustomerDraw {
        scan,
        rules,
        outlets,
        size,
        persons,
        rows,
    })
}

/// The trimmed cells of the record at the start of `data`: split on the delimiter when the
/// line has no quote (the usual case), else by the quote-aware splitter.
fn record_cells(data: &[u8], delimiter: u8) -> Vec<String> {
    let line = match memchr::memchr(b'\n', data) {
        Some(n) => &data[..n],
        None => data,
    };
    if memchr::memchr(b'"', line).is_some() {
        return scan::split_record(data, delimiter).0;
    }
    line.split(|&b| b == delimiter)
        .map(|c| String::from_utf8_lossy(c).trim().to_string())
        .collect()
}

/// A drawn row's index and the cells of its representing record.
type Fetched = (usize, Vec<String>);

/// Reads the whole record that starts at byte `off` into `buf`: one positioned read in the
/// usual case.
fn read_record_at(f: &std::fs::File, path: &Path, off: u64, buf: &mut Vec<u8>) -> Result<()> {
    // Most records are far shorter (a page-cache copy of a few cache lines); longer ones
    // widen below.
    let mut want = 256usize;
    loop {
        buf.resize(want, 0);
        let mut got = 0;
        while got < want {
            let n = parts::read_at(f, &mut buf[got..], off + got as u64)
                .map_err(|e| Error::io(path, "read the file", &e))?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        if got < want || scan::record_complete(buf) {
            return Ok(());
        }
        want *= 4;
    }
}

/// Reads the representing records of the drawn people back from the frame.
fn fetch_cells(
    source: &Source,
    width: usize,
    rows: &mut [CustomerRow],
    threads: usize,
) -> Result<()> {
    match source {
        Source::Table(t) => {
            for r in rows.iter_mut() {
                r.cells = t.rows[r.person.offset as usize].cells.clone();
            }
        }
        Source::Csv { path, delimiter } => {
            // Reads, not a mapping: a mapping would count every touched page of the file as
            // the process's memory. Both cores share the reads.
            let offsets: Vec<(usize, u64)> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i, r.person.offset))
                .collect();
            let per = offsets.len().div_ceil(threads).max(1);
            let found: Vec<Result<Vec<Fetched>>> = std::thread::scope(|s| {
                let hands: Vec<_> = offsets
                    .chunks(per)
                    .map(|part| {
                        s.spawn(move || -> Result<Vec<Fetched>> {
                            let f = std::fs::File::open(path)
                                .map_err(|e| Error::io(path, "open the file", &e))?;
                            let mut sorted = part.to_vec();
                            sorted.sort_by_key(|p| p.1);
                            let mut buf = Vec::new();
                            sorted
                                .into_iter()
                                .map(|(i, off)| {
                                    read_record_at(&f, path, off, &mut buf)?;
                                    Ok((i, record_cells(&buf, *delimiter)))
                                })
                                .collect()
                        })
                    })
                    .collect();
                hands
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(Error::data("reading records failed")))
                    })
                    .collect()
            });
            for part in found {
                for (i, mut cells) in part? {
                    // Trailing empty cells past the header (`…,2025-01-01,,`, as Excel writes
                    // them) were accepted by pass 1; they are not columns.
                    cells.truncate(width);
                    rows[i].cells = cells;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two spellings of one outlet in an old outlet list: the smallest names it, whatever
    /// order the set holds them in (the map was built in the set's order).
    #[test]
    fn list_spellings_are_chosen_the_same_way_every_time() {
        for order in [["ＦＷ０７９４", "FW0794"], ["FW0794", "ＦＷ０７９４"]] {
            let all: HashSet<String> = order.iter().map(|s| s.to_string()).collect();
            let map = list_spellings(&all, IdRule::Nfkc);
            assert_eq!(map.len(), 1);
            assert_eq!(map["FW0794"], "FW0794");
        }
    }
}
