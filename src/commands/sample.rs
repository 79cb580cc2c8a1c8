//! `svcaudit sample outlets`: resolve the arguments, draw, write the three outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::OutletArgs;
use crate::draw::OutletParams;
use crate::error::{Error, Result};
use crate::io::drawbook::{draw_entry, drawn_by, drawn_on, refuse_existing_draw};
use crate::io::frame::DEFAULT_CLOSED;
use crate::io::ledger;
use crate::io::lists;
use crate::io::manifest::{DrawHead, FileHead, FrameInfo, Manifest};
use crate::io::output::relative_path;
use crate::io::table::ReadOptions;
use crate::replay::read_and_draw;
use crate::report::justification;
use crate::seed::{Seed, sha256_hex};
use crate::sizing::Allocation;

pub fn outlets(a: OutletArgs, inv: &super::Invocation) -> Result<()> {
    let seed = Seed::parse(&a.seed)?;
    if let Some(c) = &a.seed_commitment {
        seed.check_commitment(c)?;
    }
    let drawn_on = drawn_on(a.drawn_on.as_deref())?;
    let drawn_by = drawn_by(a.drawn_by.as_deref());

    refuse_existing_draw(&a.out, a.force)?;
    let params = params_from_args(&a)?;
    crate::io::commit::with_lock(&a.out, |lock| {
        outlets_locked(&a, inv, lock, seed, drawn_on, drawn_by, params)
    })
}

fn outlets_locked(
    a: &OutletArgs,
    inv: &super::Invocation,
    lock: &crate::io::commit::Lock,
    seed: Seed,
    drawn_on: String,
    drawn_by: String,
    params: OutletParams,
) -> Result<()> {
    let read = ReadOptions {
        encoding: a.encoding.clone(),
        sheet: a.sheet.clone(),
        header_row: a.header_row,
        quotes: crate::io::table::QuoteRule::AfterSpace,
    };
    let d = read_and_draw(&a.frame, &read, &seed, &params)?;
    let t = &d.frame.table;
    let mut manifest = Manifest {
        head: DrawHead::new(
            "outlets",
            &seed,
            a.seed_commitment.is_some(),
            drawn_on,
            drawn_by,
        ),
        frame: FrameInfo {
            file: FileHead {
                path: relative_path(&a.frame, &a.out),
                format: t.format,
                encoding: t.encoding.clone(),
                delimiter: t.delimiter.map(|c| c.to_string()),
                sheet: t.sheet.clone(),
                sha256_bytes: t.sha256.clone(),
                sha256_canonical: d.canonical_sha256.clone(),
                columns: t.header.clone(),
            },
            id_column: d.frame.id_name().to_string(),
            rows: t.rows.len() as u64,
            read,
            adjusted: t.adjusted.clone(),
        },
        parameters: params,
        size: d.draw.size.clone(),
        strata: d.draw.strata.clone(),
        counts: d.draw.counts.clone(),
        zero_coverage: d.draw.zero_coverage.clone(),
        outputs: BTreeMap::new(),
        ledger: Some(ledger::FILE.into()),
        command: inv.command_line(),
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
