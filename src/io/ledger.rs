//! The ledger (抽样记录): `ledger.jsonl` in an output folder, one JSON line per draw, verify
//! and plan made there, each holding the SHA-256 of the line before it. Removing, editing or
//! reordering a line breaks the chain, which `svcaudit verify` reports; the justification lists
//! the earlier draws, so that drawing again until a sample pleases ("seed shopping") shows.
//!
//! Invariant: line k (from 1) has `seq` k and `prev` = SHA-256 of line k−1's bytes (without
//! its newline); line 1 has `prev` of 64 zeros.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::seed::sha256_hex;

pub const FILE: &str = "ledger.jsonl";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    /// When, as the machine's clock said (RFC 3339, local time with offset).
    pub at: String,
    /// `sample outlets`, `sample customers`, `verify`, `schedule`, `schedule --outcomes`.
    pub action: String,
    /// For draws: the seed's SHA-256 commitment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_commitment: Option<String>,
    /// For draws: the SHA-256 of manifest.json (plans list their files in `outputs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
    /// Output file → SHA-256.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// For verify: `verified` or `NOT verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    pub tool_version: String,
    pub prev: String,
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The ledger's lines (empty when there is none) and every break in its chain.
pub fn read(dir: &Path) -> Result<(Vec<Entry>, Vec<String>)> {
    let p = path(dir);
    let text = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::io(&p, "read", &e)),
    };
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let text = String::from_utf8_lossy(&text);
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let n = i as u64 + 1;
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => {
                if e.seq != n {
                    problems.push(format!(
                        "{FILE}:{n}: sequence number {} where {n} belongs (a line was removed, added or moved)",
                        e.seq
                    ));
                }
                if e.prev != prev {
                    problems.push(format!(
                        "{FILE}:{n}: does not chain to the line before it (a line before it was edited, removed or moved)"
                    ));
                }
                entries.push(e);
            }
            Err(e) => problems.push(format!("{FILE}:{n}: not a ledger line: {e}")),
        }
        prev = sha256_hex(line.as_bytes());
    }
    Ok((entries, problems))
}

/// The next line to append to the ledger of `dir` (without its newline).
pub fn next_line(dir: &Path, mut e: Entry) -> Result<String> {
    let p = path(dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(Error::io(&p, "read", &err)),
    };
    let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
    e.seq = lines.len() as u64 + 1;
    e.prev = lines
        .last()
        .map(|l| sha256_hex(l.as_bytes()))
        .unwrap_or_else(|| GENESIS.to_string());
    Ok(serde_json::to_string(&e).expect("ledger entries serialise"))
}

/// Appends `line` and a newline, synced.
pub fn append(dir: &Path, line: &str) -> Result<()> {
    let p = path(dir);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(|e| Error::io(&p, "open", &e))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&p, "append to", &e))
}

/// Whether the ledger's last line is `line` (a commit that stopped after appending it).
pub fn ends_with(dir: &Path, line: &str) -> bool {
    std::fs::read_to_string(path(dir))
        .map(|t| t.split('\n').rfind(|l| !l.is_empty()) == Some(line))
        .unwrap_or(false)
}

/// An entry with the fields every action has.
pub fn entry(action: &str) -> Entry {
    Entry {
        seq: 0,
        at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        action: action.to_string(),
        seed_commitment: None,
        manifest_sha256: None,
        outputs: BTreeMap::new(),
        result: None,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        prev: String::new(),
    }
}

/// The draws recorded before now, for the justification: one line each.
pub fn history(dir: &Path) -> Result<Vec<Entry>> {
    Ok(read(dir)?
        .0
        .into_iter()
        .filter(|e| e.action.starts_with("sample"))
        .collect())
}

/// The justification's paragraph about the draws recorded in this folder before this one
/// (as [`history`] gives them).
pub fn history_markdown(earlier: &[Entry]) -> String {
    let mut s = format!(
        "## 抽样记录 Draw record\n\nThis draw is recorded in `{FILE}` of this folder, each line chained to the one before by its SHA-256 (`svcaudit verify` checks the chain). "
    );
    if earlier.is_empty() {
        s.push_str("It is the first draw recorded in this folder.\n");
        return s;
    }
    s.push_str(&format!(
        "It is draw {} in this folder; the earlier draws were:\n\n| line | at | what | seed commitment | manifest SHA-256 |\n|---:|---|---|---|---|\n",
        earlier.len() + 1
    ));
    for e in earlier {
        s.push_str(&format!(
            "| {} | {} | {} | `{}` | `{}` |\n",
            e.seq,
            e.at,
            e.action,
            e.seed_commitment.as_deref().unwrap_or(""),
            e.manifest_sha256.as_deref().unwrap_or("")
        ));
    }
    s
}
