//! `svcaudit sample customers`: resolve the arguments, draw, write the outputs.

use std::collections::BTreeMap;

use crate::cli::CustomerArgs;
use crate::customers::CustomerParams;
use crate::error::{Error, Result};
use crate::io::drawbook;
use crate::io::ledger;
use crate::io::manifest::{CustomerManifest, DrawHead, frame_info};
use crate::io::output::relative_path;
use crate::io::table::ReadOptions;
use crate::replay::{run_draw, stream_config};
use crate::report::customer_files::render;
use crate::report::customers as report;
use crate::seed::{Seed, sha256_hex};

pub fn customers(a: CustomerArgs, inv: &super::Invocation) -> Result<super::Done> {
    let seed = Seed::parse(&a.seed)?;
    if let Some(c) = &a.seed_commitment {
        seed.check_commitment(c)?;
    }
    let drawn_on = drawbook::drawn_on(a.drawn_on.as_deref())?;
    let drawn_by = drawbook::drawn_by(a.drawn_by.as_deref());
    drawbook::refuse_existing_draw(&a.out, a.force)?;
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
        quotes: crate::io::table::QuoteRule::AfterSpace,
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
        head: DrawHead::new(
            "customers",
            &seed,
            a.seed_commitment.is_some(),
            drawn_on,
            drawn_by,
        ),
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
        drawbook::draw_entry("sample customers", &seed, &files),
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
