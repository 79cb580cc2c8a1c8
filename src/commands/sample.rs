//! `svcaudit sample outlets`: resolve the arguments, draw, write the three outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::OutletArgs;
use crate::draw::{Draw, OutletParams, draw_outlets};
use crate::error::{Error, Result};
use crate::io::frame::{DEFAULT_CLOSED, Frame, OUTLET_ID_ALIASES};
use crate::io::ledger;
use crate::io::lists;
use crate::io::manifest::{FORMAT, FrameInfo, Manifest};
use crate::io::output::{relative_path, sample_csv};
use crate::io::table::{ReadOptions, read_table};
use crate::prn::ALGORITHM;
use crate::report::justification;
use crate::seed::{Seed, sha256_hex};
use crate::sizing::Allocation;

/// A frame read and drawn: what both `sample` and `verify` produce.
pub struct Drawn {
    pub frame: Frame,
    pub draw: Draw,
    pub sample_csv: Vec<u8>,
    pub canonical_sha256: String,
}

/// Reads the frame and draws; the whole pure part of a draw after argument resolution.
pub fn read_and_draw(
    path: &Path,
    read: &ReadOptions,
    seed: &Seed,
    p: &OutletParams,
) -> Result<Drawn> {
    let table = read_table(path, read)?;
    let frame = Frame::new(table, p.id_col.as_deref(), OUTLET_ID_ALIASES)?;
    let draw = draw_outlets(&frame, seed, p)?;
    let sample_csv = sample_csv(&frame, &draw);
    let canonical_sha256 = sha256_hex(&frame.canonical_csv());
    Ok(Drawn {
        frame,
        draw,
        sample_csv,
        canonical_sha256,
    })
}

pub fn outlets(a: OutletArgs) -> Result<()> {
    let seed = Seed::parse(&a.seed)?;
    if let Some(c) = &a.seed_commitment {
        seed.check_commitment(c)?;
    }
    let drawn_on = drawn_on(a.drawn_on.as_deref())?;
    let drawn_by = drawn_by(a.drawn_by.as_deref());

    refuse_existing_draw(&a.out, a.force)?;
    let params = params_from_args(&a)?;
    crate::io::commit::with_lock(&a.out, |lock| {
        outlets_locked(&a, lock, seed, drawn_on, drawn_by, params)
    })
}

fn outlets_locked(
    a: &OutletArgs,
    lock: &crate::io::commit::Lock,
    seed: Seed,
    drawn_on: String,
    drawn_by: String,
    params: OutletParams,
) -> Result<()> {
    let read = ReadOptions {
        encoding: a.encoding.clone(),
        sheet: a.sheet.clone(),
    };
    let d = read_and_draw(&a.frame, &read, &seed, &params)?;
    let t = &d.frame.table;
    let mut manifest = Manifest {
        format: FORMAT.into(),
        tool: "svcaudit".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        algorithm: ALGORITHM.into(),
        kind: "outlets".into(),
        seed: seed.canonical().into(),
        seed_commitment: seed.commitment(),
        commitment_checked: a.seed_commitment.is_some(),
        drawn_on,
        drawn_by,
        frame: FrameInfo {
            path: relative_path(&a.frame, &a.out),
            format: t.format,
            encoding: t.encoding.clone(),
            delimiter: t.delimiter.map(|c| c.to_string()),
            sheet: t.sheet.clone(),
            sha256_bytes: t.sha256.clone(),
            sha256_canonical: d.canonical_sha256.clone(),
            columns: t.header.clone(),
            id_column: d.frame.id_name().to_string(),
            rows: t.rows.len() as u64,
            read,
        },
        parameters: params,
        size: d.draw.size.clone(),
        strata: d.draw.strata.clone(),
        counts: d.draw.counts.clone(),
        zero_coverage: d.draw.zero_coverage.clone(),
        outputs: BTreeMap::new(),
        ledger: Some(ledger::FILE.into()),
        command: crate::ui::command_line(),
    };
    let mut just = justification::render(&manifest, &d.frame, &d.draw);
    just.push_str(&format!(
        "\n{}",
        ledger::history_markdown(&ledger::history(&a.out)?)
    ));
    manifest
        .outputs
        .insert("sample.csv".into(), sha256_hex(&d.sample_csv));
    manifest
        .outputs
        .insert("justification.md".into(), sha256_hex(just.as_bytes()));
    let files = vec![
        ("sample.csv".to_string(), d.sample_csv.clone()),
        ("justification.md".to_string(), just.into_bytes()),
        ("manifest.json".to_string(), manifest.to_bytes()),
    ];
    let line = ledger::next_line(&a.out, draw_entry("sample outlets", &seed, &files))?;
    crate::io::commit::commit(lock, &files, Some(line))?;

    if let Some(note) = justification::strata_raise(&manifest.parameters, &d.draw) {
        crate::status!("note: {note}");
    }
    let c = &d.draw.counts;
    crate::status!(
        "drew {} outlets ({} certainty, {} at random) and {} reserves from {} rows ({} closed, {} excluded) into {}",
        c.certainty + c.selected,
        c.certainty,
        c.selected,
        c.reserve,
        c.input_rows,
        c.excluded_closed,
        c.excluded_listed,
        a.out.display()
    );
    Ok(())
}

fn params_from_args(a: &OutletArgs) -> Result<OutletParams> {
    let mut p = OutletParams::new(a.method, a.stage);
    p.n = a.n;
    p.reason = a.reason.clone();
    p.all = a.all;
    p.strata = a
        .strata
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    p.allocation = match a.allocation.as_str() {
        "proportional" => Allocation::Proportional,
        "equal" => Allocation::Equal,
        file => {
            if p.strata.is_empty() {
                return Err(Error::usage("--allocation FILE needs --strata"));
            }
            Allocation::Table(lists::read_allocation(Path::new(file))?)
        }
    };
    p.min_per_stratum = a.min_per_stratum;
    p.size_col = a.size_col.clone();
    p.sort_col = a.sort_col.clone();
    p.reserve = a.reserve;
    p.allow_zero_coverage = Some(a.allow_zero_coverage);
    p.id_col = a.id_col.clone();
    p.status_col = a.status_col.clone();
    p.closed_values = if a.closed_values.is_empty() {
        DEFAULT_CLOSED.iter().map(|s| s.to_string()).collect()
    } else {
        a.closed_values
            .iter()
            .map(|s| s.trim().to_string())
            .collect()
    };
    if let Some(f) = &a.include {
        p.include = lists::read_listed(f, "--include")?;
    }
    if let Some(f) = &a.exclude {
        p.exclude = lists::read_listed(f, "--exclude")?;
    }
    p.visited = a
        .visited
        .iter()
        .map(|f: &PathBuf| lists::read_visited(f))
        .collect::<Result<_>>()?;
    Ok(p)
}

/// The ledger entry of a draw: the seed's commitment and every output's SHA-256.
pub fn draw_entry(action: &str, seed: &Seed, files: &[(String, Vec<u8>)]) -> ledger::Entry {
    let mut e = ledger::entry(action);
    e.seed_commitment = Some(seed.commitment());
    for (name, bytes) in files {
        let h = sha256_hex(bytes);
        if name == "manifest.json" {
            e.manifest_sha256 = Some(h.clone());
        }
        e.outputs.insert(name.clone(), h);
    }
    e
}

/// `--drawn-on` checked as YYYY-MM-DD, or today.
pub fn drawn_on(given: Option<&str>) -> Result<String> {
    Ok(match given {
        Some(d) => chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| Error::usage(format!("--drawn-on `{d}`: write the date as YYYY-MM-DD")))?
            .format("%Y-%m-%d")
            .to_string(),
        None => chrono::Local::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
    })
}

/// `--drawn-by`, or `$USER`, or `unknown`.
pub fn drawn_by(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Refuses to overwrite a draw in `out` unless `--force`.
pub fn refuse_existing_draw(out: &Path, force: bool) -> Result<()> {
    if !force && (out.join("manifest.json").exists() || out.join("sample.csv").exists()) {
        return Err(Error::usage(format!(
            "{}: a draw is already there; choose another --out or pass --force to replace it",
            out.display()
        )));
    }
    Ok(())
}
