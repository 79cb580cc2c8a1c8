//! The bookkeeping every draw shares: when and by whom it was drawn, its ledger entry, and
//! the refusal to draw over an earlier draw without `--force`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::ledger;
use crate::seed::{Seed, sha256_hex};

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
