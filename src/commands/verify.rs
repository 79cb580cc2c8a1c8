//! `svcaudit verify DIR`: re-derive a sample from its manifest and frame, compare every row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::io::manifest::{Manifest, read_json};
use crate::io::table::ReadOptions;
use crate::prn::ALGORITHM;
use crate::replay::read_and_draw;
use crate::seed::{Seed, sha256_hex};

pub fn run(a: VerifyArgs) -> Result<()> {
    if let Some(steps) = audit_steps(&a.dir) {
        return verify_audit(&a, &steps);
    }
    // Under the folder's lock: a draw cannot change it half-way through, and a draw that a
    // crash stopped after it committed is finished first.
    let lock = if a.dir.is_dir() {
        Some(crate::io::commit::lock(&a.dir)?)
    } else {
        None
    };
    let manifest_path = a.dir.join("manifest.json");
    if !manifest_path.exists() && a.dir.join("plan.md").exists() {
        return verify_plan(&a.dir, lock.as_ref());
    }
    if manifest_kind(&manifest_path)? == "customers" {
        return verify_customers(&a, &manifest_path, lock.as_ref());
    }
    let m = Manifest::load(&manifest_path)?;
    if m.algorithm != ALGORITHM {
        return Err(Error::data(format!(
            "{}: algorithm `{}` is not known to this svcaudit (it knows {ALGORITHM})",
            manifest_path.display(),
            m.algorithm
        )));
    }
    let mut diffs: Vec<String> = Vec::new();
    let seed = check_seed(&m.seed, &m.seed_commitment, &mut diffs)?;
    let (frame_path, read) = locate_frame(&a, &m.frame.path, &m.frame.read, "the frame is")?;
    let d = read_and_draw(&frame_path, &read, &seed, &m.parameters)?;
    let mut notes = Vec::new();
    if d.canonical_sha256 != m.frame.sha256_canonical {
        diffs.push(format!(
            "{}: the frame's content changed (canonical SHA-256 {} , recorded {})",
            frame_path.display(),
            d.canonical_sha256,
            m.frame.sha256_canonical
        ));
    } else if d.frame.table.sha256 != m.frame.sha256_bytes {
        notes.push(format!(
            "the frame file's bytes differ from the recorded ones (re-saved as {}?), its content is identical",
            d.frame.table.encoding
        ));
    }
    // Blank lines and totals rows are not units: a copy re-saved as xlsx may drop them and
    // still verify.
    let mut recorded = m.counts.clone();
    recorded.blank_rows = d.draw.counts.blank_rows;
    recorded.skipped_rows = d.draw.counts.skipped_rows;
    if d.draw.counts != recorded {
        diffs.push(format!(
            "counts differ: re-derived {:?}, recorded {:?}",
            d.draw.counts, m.counts
        ));
    }
    let sample_path = a.dir.join("sample.csv");
    match std::fs::read(&sample_path) {
        Err(e) => diffs.push(format!("{}: cannot read: {e}", sample_path.display())),
        Ok(bytes) => {
            if bytes != d.sample_csv {
                diffs.extend(row_diffs(&bytes, &d.sample_csv));
                if diffs.is_empty() {
                    diffs.push("sample.csv: bytes differ from the re-derived sample".into());
                }
            }
            check_recorded(&m.outputs, "sample.csv", &bytes, &mut diffs);
        }
    }
    check_justification(&a.dir, &m.outputs, &mut diffs);
    check_ledger(
        &a.dir,
        m.ledger.as_deref(),
        &manifest_path,
        &mut diffs,
        &mut notes,
    )?;
    record(lock.as_ref(), &diffs)?;
    let c = &d.draw.counts;
    conclude(
        &a.dir,
        diffs,
        notes,
        format!(
            "{} sampled outlets and {} reserves re-derived identically from {} (seed {}, {})",
            c.certainty + c.selected,
            c.reserve,
            frame_path.display(),
            m.seed,
            m.algorithm
        ),
    )
}

/// The step folders of an audit folder (`reports/<id>/`, written by `svcaudit plan`), when
/// `dir` is one: it holds no draw or plan itself, but step folders that do.
fn audit_steps(dir: &Path) -> Option<Vec<PathBuf>> {
    if dir.join("manifest.json").exists() || dir.join("plan.md").exists() {
        return None;
    }
    let steps: Vec<PathBuf> = ["outlets", "customers", "plan"]
        .iter()
        .map(|s| dir.join(s))
        .filter(|d| d.join("manifest.json").exists() || d.join("plan.md").exists())
        .collect();
    (!steps.is_empty()).then_some(steps)
}

/// Verifies every step of an audit folder; fails when any step fails, naming each.
fn verify_audit(a: &VerifyArgs, steps: &[PathBuf]) -> Result<()> {
    if a.frame.is_some() {
        return Err(Error::usage(format!(
            "{} is an audit folder with {} steps; --frame applies to one draw: verify {} instead",
            a.dir.display(),
            steps.len(),
            steps[0].display()
        )));
    }
    let mut failed = Vec::new();
    for d in steps {
        let r = run(VerifyArgs {
            dir: d.clone(),
            frame: None,
        });
        if let Err(e) = r {
            eprintln!("error: {}", e.message);
            failed.push(d.display().to_string());
        }
    }
    if failed.is_empty() {
        crate::status!(
            "audit folder {}: all {} steps verified",
            a.dir.display(),
            steps.len()
        );
        Ok(())
    } else {
        Err(Error::data(format!(
            "audit folder {}: {} of {} steps failed to verify: {}",
            a.dir.display(),
            failed.len(),
            steps.len(),
            failed.join(", ")
        )))
    }
}

/// Checks the seed against its published commitment (a mismatch is a difference, not an
/// error: the rest is still worth comparing).
fn check_seed(seed: &str, commitment: &str, diffs: &mut Vec<String>) -> Result<Seed> {
    let parsed = Seed::parse(seed)?;
    if parsed.commitment() != commitment {
        diffs.push(format!(
            "manifest.json: the seed `{seed}` does not match the recorded commitment {commitment}"
        ));
    }
    Ok(parsed)
}

/// The frame to re-read: `--frame`, else the manifest's path relative to the draw folder.
/// `what` names it with its verb for the error ("the frame is").
fn locate_frame(
    a: &VerifyArgs,
    recorded: &str,
    read: &ReadOptions,
    what: &str,
) -> Result<(PathBuf, ReadOptions)> {
    let (path, read) = match &a.frame {
        Some(p) => (p.clone(), ReadOptions::default()),
        None => (a.dir.join(recorded), read.clone()),
    };
    if !path.exists() {
        return Err(Error::data(format!(
            "{}: {what} not there (manifest.json says `{recorded}`)\nhint: point at a copy with --frame PATH",
            path.display(),
        )));
    }
    Ok((path, read))
}

/// Notes an output whose bytes do not hash to what the manifest recorded.
fn check_recorded(
    outputs: &BTreeMap<String, String>,
    name: &str,
    bytes: &[u8],
    diffs: &mut Vec<String>,
) {
    if outputs.get(name) != Some(&sha256_hex(bytes)) {
        diffs.push(format!(
            "{name}: its SHA-256 is not the one recorded in manifest.json"
        ));
    }
}

/// The justification is not re-derived (its wording may improve between versions); it must
/// be the one the draw wrote.
fn check_justification(dir: &Path, outputs: &BTreeMap<String, String>, diffs: &mut Vec<String>) {
    let path = dir.join("justification.md");
    match std::fs::read(&path) {
        Ok(bytes) => {
            if outputs.get("justification.md") != Some(&sha256_hex(&bytes)) {
                diffs.push(
                    "justification.md: edited after the draw (SHA-256 differs from manifest.json)"
                        .into(),
                );
            }
        }
        Err(e) => diffs.push(format!("{}: cannot read: {e}", path.display())),
    }
}

/// Checks the ledger's chain and that it records this manifest.
fn check_ledger(
    dir: &Path,
    named: Option<&str>,
    manifest_path: &Path,
    diffs: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let (entries, problems) = crate::io::ledger::read(dir)?;
    diffs.extend(problems);
    let Some(file) = named else {
        notes.push("drawn before svcaudit kept a ledger: no ledger to check".into());
        return Ok(());
    };
    if entries.is_empty() {
        diffs.push(format!(
            "{file}: missing or empty, but the manifest says the draw was recorded there"
        ));
        return Ok(());
    }
    let bytes = std::fs::read(manifest_path).map_err(|e| Error::io(manifest_path, "read", &e))?;
    let h = sha256_hex(&bytes);
    match entries
        .iter()
        .find(|e| e.action.starts_with("sample") && e.manifest_sha256.as_deref() == Some(&h))
    {
        None => diffs.push(format!(
            "manifest.json: no line of {file} records it (SHA-256 {h}): the draw was changed or replaced outside svcaudit"
        )),
        Some(e) => {
            let draws = entries.iter().filter(|e| e.action.starts_with("sample")).count();
            notes.push(format!(
                "{file}: {} lines, chain intact; {draws} draws recorded in this folder, this one on line {}",
                entries.len(),
                e.seq
            ));
        }
    }
    Ok(())
}

/// A plan folder (`svcaudit schedule`): the ledger's chain, and every file of the last plan
/// recorded in it unchanged since. (A plan is re-made, not re-derived: its inputs include
/// the team's own files.)
fn verify_plan(dir: &Path, lock: Option<&crate::io::commit::Lock>) -> Result<()> {
    let (entries, problems) = crate::io::ledger::read(dir)?;
    let mut diffs: Vec<String> = problems;
    let mut notes = Vec::new();
    let plan = entries
        .iter()
        .rev()
        .find(|e| e.action.starts_with("schedule"));
    match plan {
        None => diffs.push(format!(
            "{}: no plan is recorded in it",
            crate::io::ledger::FILE
        )),
        Some(e) => {
            for (name, want) in &e.outputs {
                let p = dir.join(name);
                match std::fs::read(&p) {
                    Ok(b) if &sha256_hex(&b) == want => {}
                    Ok(_) => diffs.push(format!("{name}: changed since the plan was made")),
                    Err(err) => diffs.push(format!("{name}: cannot read: {err}")),
                }
            }
            notes.push(format!(
                "{}: {} lines, chain intact; the plan of line {} ({})",
                crate::io::ledger::FILE,
                entries.len(),
                e.seq,
                e.at
            ));
        }
    }
    record(lock, &diffs)?;
    let n = plan.map_or(0, |e| e.outputs.len());
    conclude(
        dir,
        diffs,
        notes,
        format!("{n} files of the plan unchanged since it was made"),
    )
}

/// Appends this verification and its result to the ledger.
fn record(lock: Option<&crate::io::commit::Lock>, diffs: &[String]) -> Result<()> {
    let Some(l) = lock else { return Ok(()) };
    let mut e = crate::io::ledger::entry("verify");
    e.result = Some(
        if diffs.is_empty() {
            "verified"
        } else {
            "NOT verified"
        }
        .into(),
    );
    let line = crate::io::ledger::next_line(l.dir(), e)?;
    crate::io::commit::commit(l, &[], Some(line))
}

/// Prints "verified" with `what` and the notes, or fails listing every difference.
fn conclude(dir: &Path, diffs: Vec<String>, notes: Vec<String>, what: String) -> Result<()> {
    if !diffs.is_empty() {
        return Err(Error::data(format!(
            "NOT verified: {}\n{}",
            dir.display(),
            diffs
                .iter()
                .map(|d| format!("- {d}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    crate::outln!("verified: {} — {what}", dir.display());
    for n in notes {
        crate::outln!("note: {n}");
    }
    Ok(())
}

/// sample.csv rows by unit id: (line, cells).
type RowsById = BTreeMap<String, (u64, Vec<String>)>;

/// Differences between the sample.csv on disk and the re-derived one, by unit id.
fn row_diffs(found: &[u8], expected: &[u8]) -> Vec<String> {
    let parse = |b: &[u8]| -> (Vec<String>, RowsById) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(b);
        let header: Vec<String> = r
            .headers()
            .map(|h| h.iter().map(String::from).collect())
            .unwrap_or_default();
        let mut rows = BTreeMap::new();
        for rec in r.records().flatten() {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let cells: Vec<String> = rec.iter().map(String::from).collect();
            if let Some(id) = cells.first() {
                rows.insert(id.clone(), (line, cells));
            }
        }
        (header, rows)
    };
    let (fh, f) = parse(found);
    let (eh, e) = parse(expected);
    let mut out = Vec::new();
    if fh != eh {
        out.push(format!(
            "sample.csv:1: header differs: found {}, expected {}",
            fh.join(","),
            eh.join(",")
        ));
    }
    for (id, (_, cells)) in &e {
        match f.get(id) {
            None => out.push(format!(
                "sample.csv: unit `{id}` is missing (expected role {})",
                cells.get(2).map(String::as_str).unwrap_or("?")
            )),
            Some((line, fc)) => {
                for (i, (a, b)) in fc.iter().zip(cells).enumerate() {
                    if a != b {
                        let col = eh.get(i).map(String::as_str).unwrap_or("?");
                        out.push(format!("sample.csv:{line}: unit `{id}`: column {col}: found `{a}`, expected `{b}`"));
                    }
                }
                if fc.len() != cells.len() {
                    out.push(format!(
                        "sample.csv:{line}: unit `{id}`: {} fields, expected {}",
                        fc.len(),
                        cells.len()
                    ));
                }
            }
        }
    }
    for (id, (line, _)) in &f {
        if !e.contains_key(id) {
            out.push(format!(
                "sample.csv:{line}: unit `{id}` is not in the re-derived sample"
            ));
        }
    }
    if out.is_empty() && found != expected {
        out.push("sample.csv: rows are in a different order than drawn".into());
    }
    out
}

/// The `kind` of a manifest, read before its full shape.
fn manifest_kind(path: &std::path::Path) -> Result<String> {
    let v: serde_json::Value = read_json(path, "a svcaudit manifest")?;
    Ok(v.get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("outlets")
        .to_string())
}

fn verify_customers(
    a: &VerifyArgs,
    manifest_path: &std::path::Path,
    lock: Option<&crate::io::commit::Lock>,
) -> Result<()> {
    use crate::io::manifest::CustomerManifest;
    use crate::replay::{outlets_dir, run_draw, stream_config};
    use crate::report::customer_files::render;
    let m: CustomerManifest = read_json(manifest_path, "a svcaudit customer manifest")?;
    if m.algorithm != ALGORITHM || m.format != crate::io::manifest::FORMAT {
        return Err(Error::data(format!(
            "{}: algorithm `{}` / format `{}` is not known to this svcaudit",
            manifest_path.display(),
            m.algorithm,
            m.format
        )));
    }
    let mut diffs: Vec<String> = Vec::new();
    let seed = check_seed(&m.seed, &m.seed_commitment, &mut diffs)?;
    let (frame_path, read) =
        locate_frame(a, &m.frame.path, &m.frame.read, "the service records are")?;
    let odir = outlets_dir(&a.dir, &m.parameters);
    let params = m.parameters.pinned(&m.frame.columns_used);
    let (d, outlet_sha) = run_draw(
        &frame_path,
        &read,
        &seed,
        &params,
        odir.as_deref(),
        &a.dir,
        stream_config(None, false),
    )?;
    if outlet_sha != m.parameters.outlet_sample_sha256 {
        diffs.push("the outlet draw's sample.csv (stage 1) changed since the customer draw".into());
    }
    let mut notes = Vec::new();
    if d.scan.sha256_canonical != m.frame.sha256_canonical {
        diffs.push(format!(
            "{}: the records' content changed (canonical SHA-256 {}, recorded {})",
            frame_path.display(),
            d.scan.sha256_canonical,
            m.frame.sha256_canonical
        ));
    } else if d.scan.sha256_bytes != m.frame.sha256_bytes {
        notes.push(format!(
            "the records file's bytes differ from the recorded ones (re-saved as {}?), its content is identical",
            d.scan.encoding
        ));
    }
    let mut recorded = m.counts.clone();
    recorded.blank_lines = d.scan.counts.blank_lines;
    if d.scan.counts != recorded || d.persons != m.persons {
        diffs.push(format!(
            "counts differ: re-derived {:?} {:?}, recorded {:?} {:?}",
            d.scan.counts, d.persons, m.counts, m.persons
        ));
    }
    let out = render(&d);
    for (name, expected) in [
        ("sample.csv", &out.sample),
        ("call_sheet.csv", &out.call_sheet),
        ("flagged.csv", &out.flagged),
    ] {
        let path = a.dir.join(name);
        match std::fs::read(&path) {
            Err(e) => diffs.push(format!("{}: cannot read: {e}", path.display())),
            Ok(found) => {
                if &found != expected {
                    if name == "sample.csv" {
                        diffs.extend(row_diffs(&found, expected));
                    }
                    diffs.push(format!("{name}: differs from the re-derived one"));
                }
                check_recorded(&m.outputs, name, &found, &mut diffs);
            }
        }
    }
    check_justification(&a.dir, &m.outputs, &mut diffs);
    check_ledger(
        &a.dir,
        m.ledger.as_deref(),
        manifest_path,
        &mut diffs,
        &mut notes,
    )?;
    record(lock, &diffs)?;
    conclude(
        &a.dir,
        diffs,
        notes,
        format!(
            "{} customers to contact and {} reserves re-derived identically from {} (seed {}, {})",
            d.size.contacts,
            d.size.reserves,
            frame_path.display(),
            m.seed,
            m.algorithm
        ),
    )
}
