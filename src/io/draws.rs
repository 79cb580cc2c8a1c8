//! Reading earlier svcaudit outputs back for scoring: the outlet draw (`sample.csv`), the
//! customer draw (`sample.csv` and the per-outlet population in `manifest.json`) and the
//! fieldwork plan (`visits.csv`). These are files svcaudit wrote, so a missing column is an
//! error that names the folder, not a guess.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::read::read_table;
use crate::io::table::{RawTable, ReadOptions};
use crate::scoring::design::{
    CustomerDraw, CustomerUnit, OutletDraw, OutletUnit, Plan, PlannedVisit,
};
use crate::scoring::scheme::Source;

fn table(path: &Path) -> Result<RawTable> {
    read_table(path, &ReadOptions::default())
}

fn col(t: &RawTable, name: &str, dir: &Path) -> Result<usize> {
    t.header.iter().position(|h| h == name).ok_or_else(|| {
        Error::data(format!(
            "{}:1: no column {name}; is {} an svcaudit output folder of the right kind?",
            t.name(),
            dir.display()
        ))
    })
}

fn number(t: &RawTable, line: u64, c: usize, v: &str) -> Result<f64> {
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| {
            Error::data(format!(
                "{}:{line}:{}: `{v}` is not a number",
                t.name(),
                t.header[c]
            ))
        })
}

fn manifest(dir: &Path) -> Result<serde_json::Value> {
    let p = dir.join("manifest.json");
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, "read the manifest", &e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::data(format!("{}:{}: not valid JSON: {e}", p.display(), e.line())))
}

/// Reads an outlet draw folder.
pub fn outlet_draw(dir: &Path) -> Result<OutletDraw> {
    let m = manifest(dir)?;
    if m["kind"].as_str() == Some("customers") {
        return Err(Error::usage(format!(
            "--outlets {}: this is a customer draw; give the outlet draw's folder",
            dir.display()
        )));
    }
    let path = dir.join("sample.csv");
    let t = table(&path)?;
    let (id, stratum, role, pi) = (
        col(&t, "unit_id", dir)?,
        col(&t, "stratum", dir)?,
        col(&t, "role", dir)?,
        col(&t, "inclusion_prob", dir)?,
    );
    let mut units = HashMap::new();
    for r in &t.rows {
        let p = number(&t, r.line, pi, &r.cells[pi])?;
        units.insert(
            r.cells[id].clone(),
            OutletUnit {
                stratum: r.cells[stratum].clone(),
                role: r.cells[role].clone(),
                pi: p,
            },
        );
    }
    Ok(OutletDraw {
        dir: dir.to_path_buf(),
        sample_sha256: t.sha256.clone(),
        method: m["parameters"]["method"]
            .as_str()
            .unwrap_or("srs")
            .to_string(),
        units,
        eligible: manifest_u64(&m, &["size", "x"], dir)?,
        excluded: manifest_u64(&m, &["counts", "excluded_closed"], dir)?
            + manifest_u64(&m, &["counts", "excluded_listed"], dir)?,
        // Absent in draws that covered every stratum and in those made before the rule.
        zero_coverage: match m.get("zero_coverage") {
            None => Vec::new(),
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                Error::data(format!(
                    "{}: zero_coverage: {e}",
                    dir.join("manifest.json").display()
                ))
            })?,
        },
    })
}

/// A count the outlet draw's manifest must hold, at `path` (e.g. `size`, `x`).
fn manifest_u64(m: &serde_json::Value, path: &[&str], dir: &Path) -> Result<u64> {
    path.iter().fold(m, |v, k| &v[k]).as_u64().ok_or_else(|| {
        Error::data(format!(
            "{}: no {}; is {} an svcaudit outlet draw?",
            dir.join("manifest.json").display(),
            path.join("."),
            dir.display()
        ))
    })
}

/// Reads a customer draw folder.
pub fn customer_draw(dir: &Path) -> Result<CustomerDraw> {
    let m = manifest(dir)?;
    if m["kind"].as_str() != Some("customers") {
        return Err(Error::usage(format!(
            "--customers {}: this is not a customer draw; give the folder `svcaudit sample customers` wrote",
            dir.display()
        )));
    }
    let path = dir.join("sample.csv");
    let t = table(&path)?;
    let (id, outlet, role) = (
        col(&t, "unit_id", dir)?,
        col(&t, "outlet_id", dir)?,
        col(&t, "role", dir)?,
    );
    let mut units = HashMap::new();
    for r in &t.rows {
        units.insert(
            r.cells[id].clone(),
            CustomerUnit {
                outlet: r.cells[outlet].clone(),
                role: r.cells[role].clone(),
            },
        );
    }
    let mut persons = HashMap::new();
    for o in m["outlets"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if let (Some(id), Some(n)) = (o["outlet_id"].as_str(), o["persons"].as_u64()) {
            persons.insert(id.to_string(), n);
        }
    }
    Ok(CustomerDraw {
        dir: dir.to_path_buf(),
        sample_sha256: t.sha256.clone(),
        units,
        persons,
        since: m["parameters"]["since"].as_str().map(str::to_string),
        until: m["parameters"]["until"].as_str().map(str::to_string),
    })
}

/// Reads a plan folder's `visits.csv`.
pub fn plan(dir: &Path) -> Result<Plan> {
    let path: PathBuf = dir.join("visits.csv");
    let t = table(&path)?;
    let (date, kind, outlet, pid, pname) = (
        col(&t, "date", dir)?,
        col(&t, "kind", dir)?,
        col(&t, "outlet_id", dir)?,
        col(&t, "person_id", dir)?,
        col(&t, "person_name", dir)?,
    );
    let mut visits = Vec::new();
    for r in &t.rows {
        let source = match r.cells[kind].as_str() {
            "mystery_visit" => Source::MysteryVisit,
            "mystery_call" => Source::MysteryCall,
            _ => continue, // announced reviews are not survey questionnaires
        };
        let d = crate::customers::fields::parse_date(&r.cells[date], false).ok_or_else(|| {
            Error::data(format!(
                "{}:{}:date: `{}` is not a date",
                t.name(),
                r.line,
                r.cells[date]
            ))
        })?;
        visits.push(PlannedVisit {
            outlet: r.cells[outlet].clone(),
            source,
            person_id: r.cells[pid].clone(),
            person_name: r.cells[pname].clone(),
            date: d,
        });
    }
    Ok(Plan {
        dir: dir.to_path_buf(),
        visits_sha256: t.sha256.clone(),
        visits,
    })
}
