//! `svcaudit sample customers`: resolve the arguments, draw, write the outputs.

use crate::report::csv_writer as writer;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::CustomerArgs;
use crate::customers::fields::{date_of, mask_name, mask_phone};
use crate::customers::scan::RowCounts;
use crate::customers::{
    CustomerDraw, CustomerParams, CustomerSize, OutletPlan, PersonCounts, StreamConfig,
    draw_customers, read_outlet_stage,
};
use crate::error::{Error, Result};
use crate::io::ledger;
use crate::io::output::relative_path;
use crate::io::table::{Format, ReadOptions};
use crate::prn::ALGORITHM;
use crate::report::customers as report;
use crate::seed::{Seed, sha256_hex};

/// The manifest of a customer draw (`kind` = `customers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerManifest {
    pub format: String,
    pub tool: String,
    pub tool_version: String,
    pub algorithm: String,
    pub kind: String,
    pub seed: String,
    pub seed_commitment: String,
    pub commitment_checked: bool,
    pub drawn_on: String,
    pub drawn_by: String,
    pub frame: CustomerFrameInfo,
    pub parameters: CustomerParams,
    pub size: CustomerSize,
    pub outlets: Vec<OutletPlan>,
    pub counts: RowCounts,
    pub persons: PersonCounts,
    pub outputs: BTreeMap<String, String>,
    /// The ledger that records this draw (absent in draws made before there was one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    pub command: String,
}

/// The service records as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFrameInfo {
    pub path: String,
    pub format: Format,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub sha256_bytes: String,
    /// SHA-256 of the canonical records: cells trimmed, UTF-8, comma-separated, LF, blank
    /// rows dropped, rows in file order (docs/ALGORITHM.md §4.6).
    pub sha256_canonical: String,
    pub columns: Vec<String>,
    /// Column used for: id, outlet, date, phone, person key, service type, name.
    pub columns_used: BTreeMap<String, String>,
    pub read: ReadOptions,
}

/// The three data outputs of a draw.
pub struct Rendered {
    pub sample: Vec<u8>,
    pub call_sheet: Vec<u8>,
    pub flagged: Vec<u8>,
}

/// How the draw runs here: `SVCAUDIT_THREADS` workers if set (the one setting read from the
/// environment; documented in the README, and tests use it to show that the sample does not
/// depend on it), else one per core, at most 8; `block` and `mmap` as the hidden test options
/// `--stream-block` and `--no-mmap` say.
pub fn stream_config(block: Option<usize>, no_mmap: bool) -> StreamConfig {
    let threads = std::env::var("SVCAUDIT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
    let mut cfg = StreamConfig::new(threads);
    if let Some(b) = block {
        cfg.block = b.max(64);
    }
    cfg.mmap = !no_mmap;
    cfg
}

/// Resolves the outlet stage and runs the draw: shared by `sample customers` and `verify`.
pub fn run_draw(
    frame: &Path,
    read: &ReadOptions,
    seed: &Seed,
    p: &CustomerParams,
    outlets_dir: Option<&Path>,
    spill_in: &Path,
    cfg: StreamConfig,
) -> Result<(CustomerDraw, Option<String>)> {
    let stage = match outlets_dir {
        Some(d) => Some(read_outlet_stage(d)?),
        None => None,
    };
    let bar = progress_bar();
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let d = draw_customers(
        frame,
        read,
        seed,
        p,
        stage.as_ref().map(|s| &s.0),
        &crate::customers::Streaming {
            spill_in,
            progress: &progress,
            cfg,
        },
    )?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((d, stage.map(|s| s.1)))
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if crate::ui::quiet() || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "reading records {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

pub fn customers(a: CustomerArgs, inv: &super::Invocation) -> Result<super::Done> {
    let seed = Seed::parse(&a.seed)?;
    if let Some(c) = &a.seed_commitment {
        seed.check_commitment(c)?;
    }
    let drawn_on = super::sample::drawn_on(a.drawn_on.as_deref())?;
    let drawn_by = super::sample::drawn_by(a.drawn_by.as_deref());
    super::sample::refuse_existing_draw(&a.out, a.force)?;
    let params = params_from_args(&a)?;
    crate::io::commit::with_lock(&a.out, |lock| {
        customers_locked(&a, inv, lock, seed, drawn_on, drawn_by, params)
    })
}

fn customers_locked(
    a: &CustomerArgs,
    inv: &super::Invocation,
    lock: &crate::io::commit::Lock,
    seed: Seed,
    drawn_on: String,
    drawn_by: String,
    params: CustomerParams,
) -> Result<super::Done> {
    let read = ReadOptions {
        encoding: a.encoding.clone(),
        sheet: a.sheet.clone(),
        header_row: a.header_row,
    };
    let (d, outlet_sha) = run_draw(
        &a.frame,
        &read,
        &seed,
        &params,
        a.outlets.as_deref(),
        &a.out,
        stream_config(a.stream_block, a.no_mmap),
    )?;
    let mut params = params;
    params.outlet_sample_sha256 = outlet_sha;
    let mut manifest = CustomerManifest {
        format: crate::io::manifest::FORMAT.into(),
        tool: "svcaudit".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        algorithm: ALGORITHM.into(),
        kind: "customers".into(),
        seed: seed.canonical().into(),
        seed_commitment: seed.commitment(),
        commitment_checked: a.seed_commitment.is_some(),
        drawn_on,
        drawn_by,
        frame: frame_info(&d, relative_path(&a.frame, &a.out), read),
        parameters: params,
        size: d.size.clone(),
        outlets: d.outlets.clone(),
        counts: d.scan.counts.clone(),
        persons: d.persons.clone(),
        outputs: BTreeMap::new(),
        ledger: Some(ledger::FILE.into()),
        command: inv.command_line(),
    };
    let earlier = ledger::history(&a.out)?;
    // The data files and the justification are independent: one core each.
    let (out, just) = std::thread::scope(|s| {
        let data = s.spawn(|| render(&d));
        let just = report::render(&manifest, &d);
        (data.join(), just)
    });
    let out = out.map_err(|_| Error::data("rendering the sample failed"))?;
    let just = format!("{just}\n{}", ledger::history_markdown(&earlier));
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("sample.csv".into(), out.sample),
        ("call_sheet.csv".into(), out.call_sheet),
        ("flagged.csv".into(), out.flagged),
        ("justification.md".into(), just.into_bytes()),
    ];
    for (name, bytes) in &files {
        manifest.outputs.insert(name.clone(), sha256_hex(bytes));
    }
    files.push(("manifest.json".into(), manifest.to_bytes()));
    let line = ledger::next_line(
        &a.out,
        super::sample::draw_entry("sample customers", &seed, &files),
    )?;
    lock.pause_between_steps(a.commit_pause_ms.unwrap_or(0));
    crate::io::commit::commit(lock, &files, Some(line))?;
    let c = &d.scan.counts;
    crate::status!(
        "drew {} customers to contact and {} reserves in {} outlets from {} records ({} people; {} flagged, {} outside the window or type) into {}",
        d.size.contacts,
        d.size.reserves,
        d.outlets.len(),
        c.rows,
        d.persons.persons,
        c.flagged(),
        c.outside_window + c.type_not_included,
        a.out.display()
    );
    if c.outlet_respelled > 0 {
        crate::status!(
            "note: {} records write their outlet id differently from the outlet list (full width, a BOM or spaces, e.g. ＦＷ０７９４ for FW0794) and were counted with that outlet",
            c.outlet_respelled
        );
    }
    if d.rules.cols.id.is_none() {
        crate::status!("note: {}", report::no_record_id_sentence(&manifest.frame).1);
    }
    if c.flagged() > 0 {
        crate::status!(
            "note: {} rows were flagged and left out; see {}",
            c.flagged(),
            a.out.join("flagged.csv").display()
        );
    }
    // Freeing the drawn rows one by one (hundreds of thousands of small strings in a
    // per-outlet draw, about 10 ms) is left to the caller (commands::Done). The spill folder
    // is in `d.scan` and is removed here as usual.
    Ok(super::Done::leaving(d.rows))
}

impl CustomerManifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }
}

/// The frame description for the manifest.
pub fn frame_info(d: &CustomerDraw, path: String, read: ReadOptions) -> CustomerFrameInfo {
    let s = &d.scan;
    let c = &d.rules.cols;
    let mut used = BTreeMap::new();
    let mut put = |k: &str, i: Option<usize>| {
        if let Some(i) = i {
            used.insert(k.to_string(), s.header[i].clone());
        }
    };
    put("id", c.id);
    put("customer_no", c.customer);
    put("outlet", Some(c.outlet));
    put("date", Some(c.date));
    put("phone", c.phone);
    put("person_key", Some(c.person));
    put("service_type", c.service_type);
    put("name", c.name);
    CustomerFrameInfo {
        path,
        format: s.format,
        encoding: s.encoding.clone(),
        delimiter: s.delimiter.map(|c| c.to_string()),
        sheet: s.sheet.clone(),
        sha256_bytes: s.sha256_bytes.clone(),
        sha256_canonical: s.sha256_canonical.clone(),
        columns: s.header.clone(),
        columns_used: used,
        read,
    }
}

/// sample.csv (masked), call_sheet.csv (full personal data) and flagged.csv.
pub fn render(d: &CustomerDraw) -> Rendered {
    std::thread::scope(|s| {
        // sample.csv on one core, the call sheet and the flagged rows on the other.
        let sample = s.spawn(|| render_sample(d));
        let (call_sheet, flagged) = render_call_sheet(d);
        Rendered {
            sample: sample.join().expect("rendering sample.csv"),
            call_sheet,
            flagged,
        }
    })
}

/// Writes one field of the record being written (to memory, which cannot fail).
fn field(w: &mut csv::Writer<Vec<u8>>, v: impl AsRef<[u8]>) {
    w.write_field(v).expect("memory");
}

/// Writes a formatted number as one field, through the reused buffer `buf`.
fn number(w: &mut csv::Writer<Vec<u8>>, buf: &mut String, v: std::fmt::Arguments) {
    use std::fmt::Write;
    buf.clear();
    buf.write_fmt(v).expect("memory");
    field(w, buf.as_bytes());
}

/// Ends the record whose fields [`field`] and [`number`] wrote.
fn end_record(w: &mut csv::Writer<Vec<u8>>) {
    w.write_record(None::<&[u8]>).expect("memory");
}

/// sample.csv: every drawn person, names and phones masked.
fn render_sample(d: &CustomerDraw) -> Vec<u8> {
    let c = &d.rules.cols;
    let header = &d.scan.header;
    let mut w = writer();
    let mut h: Vec<&str> = vec![
        "unit_id",
        "stratum",
        "outlet_id",
        "role",
        "rank",
        "prn",
        "inclusion_prob",
        "weight",
    ];
    h.extend(header.iter().map(String::as_str));
    w.write_record(&h).expect("memory");
    // Field by field, numbers through one buffer: no string is made per cell.
    let mut num = String::new();
    for r in &d.rows {
        field(&mut w, d.unit_id(r).as_bytes());
        field(&mut w, &r.stratum);
        field(&mut w, &r.outlet);
        field(&mut w, r.role.as_str());
        number(&mut w, &mut num, format_args!("{}", r.rank));
        number(&mut w, &mut num, format_args!("{}", r.person.prn.u()));
        number(&mut w, &mut num, format_args!("{}", r.pi));
        if r.pi > 0.0 {
            number(&mut w, &mut num, format_args!("{}", 1.0 / r.pi));
        } else {
            field(&mut w, "");
        }
        for (i, v) in r.cells.iter().enumerate() {
            // A person key other than the phone (an ID card number, say) is masked too; a
            // customer number is not personal data and stays readable.
            let key = i == c.person && Some(i) != c.id && Some(i) != c.customer;
            if Some(i) == c.phone || key {
                field(&mut w, mask_phone(v));
            } else if Some(i) == c.name {
                field(&mut w, mask_name(v));
            } else {
                field(&mut w, v);
            }
        }
        end_record(&mut w);
    }
    w.into_inner().expect("memory")
}

/// call_sheet.csv (full names and phones, in call order) and flagged.csv.
fn render_call_sheet(d: &CustomerDraw) -> (Vec<u8>, Vec<u8>) {
    let c = &d.rules.cols;
    let header = &d.scan.header;
    let mut w = writer();
    let skip: Vec<usize> = [c.id, Some(c.outlet), c.name, c.phone]
        .into_iter()
        .flatten()
        .collect();
    let mut h: Vec<String> = [
        "outlet_id",
        "call_order",
        "role",
        "unit_id",
        "name",
        "phone",
        "last_service",
        "outlets_served",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(
        header
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, s)| s.clone()),
    );
    w.write_record(&h).expect("memory");
    let mut rows: Vec<&crate::customers::CustomerRow> = d.rows.iter().collect();
    rows.sort_by(|a, b| (&a.outlet, a.rank).cmp(&(&b.outlet, b.rank)));
    let mut num = String::new();
    for r in rows {
        field(&mut w, &r.outlet);
        number(&mut w, &mut num, format_args!("{}", r.rank));
        field(&mut w, r.role.as_str());
        field(&mut w, d.unit_id(r).as_bytes());
        field(&mut w, c.name.map_or("", |i| r.cells[i].as_str()));
        field(&mut w, c.phone.map_or("", |i| r.cells[i].as_str()));
        number(&mut w, &mut num, format_args!("{}", date_of(r.person.date)));
        number(&mut w, &mut num, format_args!("{}", r.person.outlets_seen));
        for (i, v) in r.cells.iter().enumerate() {
            if !skip.contains(&i) {
                field(&mut w, v);
            }
        }
        end_record(&mut w);
    }
    let call_sheet = w.into_inner().expect("memory");

    let mut w = writer();
    w.write_record(["line", "column", "column_name", "reason", "value"])
        .expect("memory");
    for f in &d.scan.flags {
        w.write_record([
            f.line.to_string(),
            f.column.to_string(),
            header.get(f.column - 1).cloned().unwrap_or_default(),
            f.reason.to_string(),
            f.value.clone(),
        ])
        .expect("memory");
    }
    let flagged = w.into_inner().expect("memory");
    (call_sheet, flagged)
}

fn params_from_args(a: &CustomerArgs) -> Result<CustomerParams> {
    if !(a.response_rate > 0.0 && a.response_rate <= 1.0) {
        return Err(Error::usage(format!(
            "--response-rate {}: must be a fraction in (0, 1], e.g. 0.6 for 60 %",
            a.response_rate
        )));
    }
    let confidence = a.confidence.unwrap_or(0.95);
    if !(confidence > 0.5 && confidence < 1.0) {
        return Err(Error::usage(format!(
            "--confidence {confidence}: must be between 0.5 and 1, e.g. 0.95"
        )));
    }
    let margin = a.margin.unwrap_or(0.05);
    if !(margin > 0.0 && margin < 0.5) {
        return Err(Error::usage(format!(
            "--margin {margin}: must be between 0 and 0.5, e.g. 0.05 for ±5 %"
        )));
    }
    let p = a.p.unwrap_or(0.5);
    if !(p > 0.0 && p < 1.0) {
        return Err(Error::usage(format!("--p {p}: must be between 0 and 1")));
    }
    if a.per_outlet == Some(0) || a.n == Some(0) {
        return Err(Error::usage("the sample size must be at least 1"));
    }
    if a.allocation != "proportional" && a.allocation != "equal" {
        return Err(Error::usage(format!(
            "--allocation `{}`: customers are allocated proportional or equal",
            a.allocation
        )));
    }
    if a.per_outlet.is_some() && a.allocation != "proportional" {
        return Err(Error::usage(
            "--allocation applies to a total size (--n or Cochran), not to --per-outlet",
        ));
    }
    if let Some(d) = &a.outlets
        && !d.join("sample.csv").exists()
    {
        return Err(Error::usage(format!(
            "--outlets {}: no sample.csv there; name the folder of `svcaudit sample outlets`",
            d.display()
        )));
    }
    Ok(CustomerParams {
        outlets: a.outlets.as_ref().map(|d| relative_path(d, &a.out)),
        outlet_sample_sha256: None,
        per_outlet: a.per_outlet,
        n: a.n,
        confidence,
        margin,
        p,
        response_rate: a.response_rate,
        reserve: a.reserve,
        allocation: a.allocation.clone(),
        min_per_outlet: a.min_per_outlet,
        since: a.since.clone(),
        until: a.until.clone(),
        service_types: a
            .service_types
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        id_col: a.id_col.clone(),
        outlet_col: a.outlet_col.clone(),
        date_col: a.date_col.clone(),
        phone_col: a.phone_col.clone(),
        person_key: a.person_key.clone(),
        type_col: a.type_col.clone(),
        name_col: a.name_col.clone(),
        customer_col: a.customer_col.clone(),
        replay: false,
        ids: crate::identity::IdRule::CURRENT,
    })
}

/// The outlet draw folder a manifest points at, resolved against its own folder.
pub fn outlets_dir(dir: &Path, p: &CustomerParams) -> Option<PathBuf> {
    p.outlets.as_ref().map(|o| dir.join(o))
}
