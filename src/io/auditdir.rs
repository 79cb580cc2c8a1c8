//! Reads an audit's output folder (`reports/<id>/`) back for the HTML report and the
//! workbook: the outlet and customer draws, the plan and the scores, each when present.
//!
//! The report is a function of these files only, so it can be rebuilt at any time and shows
//! exactly what the folder holds. The files are svcaudit's own UTF-8 outputs; a missing or
//! damaged one is an error naming it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A CSV file: its header and rows, all as text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The index of the first of `names` present.
    pub fn col_any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.col(n))
    }

    /// Cell `c` of `row`, or "" when the column is missing.
    pub fn cell<'a>(&self, row: &'a [String], c: Option<usize>) -> &'a str {
        c.and_then(|c| row.get(c)).map_or("", String::as_str)
    }
}

/// A draw folder.
#[derive(Debug, Clone)]
pub struct Draw {
    pub sample: Table,
    pub manifest: serde_json::Value,
    pub justification: String,
}

/// A plan folder.
#[derive(Debug, Clone)]
pub struct Plan {
    pub visits: Table,
    pub calls: Table,
    pub unplanned: Table,
}

/// A scores folder.
#[derive(Debug, Clone)]
pub struct Scores {
    pub scores: Table,
    pub outlets: Table,
    pub rejected: Table,
    pub summary: serde_json::Value,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct AuditDir {
    pub dir: PathBuf,
    pub outlets: Option<Draw>,
    pub customers: Option<Draw>,
    pub plan: Option<Plan>,
    pub scores: Option<Scores>,
}

/// Reads a CSV output of svcaudit with the project's table reader.
pub fn read_table(path: &Path) -> Result<Table> {
    let t = crate::io::read::read_table(path, &crate::io::table::ReadOptions::default())?;
    Ok(Table {
        header: t.header,
        rows: t.rows.into_iter().map(|r| r.cells).collect(),
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    crate::io::manifest::read_json(path, "valid JSON")
}

fn read_draw(dir: &Path) -> Result<Option<Draw>> {
    if !dir.join("sample.csv").exists() {
        return Ok(None);
    }
    let j = dir.join("justification.md");
    Ok(Some(Draw {
        sample: read_table(&dir.join("sample.csv"))?,
        manifest: read_json(&dir.join("manifest.json"))?,
        justification: std::fs::read_to_string(&j).map_err(|e| Error::io(&j, "read", &e))?,
    }))
}

fn optional_table(path: &Path) -> Result<Table> {
    if path.exists() {
        read_table(path)
    } else {
        Ok(Table::default())
    }
}

/// Reads the audit folder `dir`.
pub fn load(dir: &Path) -> Result<AuditDir> {
    let plan_dir = dir.join("plan");
    let plan = if plan_dir.join("visits.csv").exists() {
        Some(Plan {
            visits: read_table(&plan_dir.join("visits.csv"))?,
            calls: optional_table(&plan_dir.join("calls.csv"))?,
            unplanned: optional_table(&plan_dir.join("unplanned.csv"))?,
        })
    } else {
        None
    };
    let sd = dir.join("scores");
    let scores = if sd.join("scores.csv").exists() {
        Some(Scores {
            scores: read_table(&sd.join("scores.csv"))?,
            outlets: optional_table(&sd.join("outlets.csv"))?,
            rejected: optional_table(&sd.join("rejected.csv"))?,
            summary: read_json(&sd.join("summary.json"))?,
        })
    } else {
        None
    };
    Ok(AuditDir {
        dir: dir.to_path_buf(),
        outlets: read_draw(&dir.join("outlets"))?,
        customers: read_draw(&dir.join("customers"))?,
        plan,
        scores,
    })
}
