//! Small side files: units chosen for cause or excluded (id and reason), earlier samples of
//! the cycle, and explicit allocation tables. Read with the same encoding detection as frames.

use std::collections::BTreeMap;
use std::path::Path;

use super::frame::{find_column, outlet_list_id_names};
use super::read::read_table;
use super::table::ReadOptions;
use super::vocab;
use crate::draw::{Listed, Visited};
use crate::error::{Problems, Result};

fn id_aliases() -> Vec<&'static str> {
    let mut v = vec!["unit_id"];
    v.extend(outlet_list_id_names());
    v
}

/// Reads a list of ids with a reason each (`--include`, `--exclude`). Every row needs both.
pub fn read_listed(path: &Path, flag: &str) -> Result<Vec<Listed>> {
    let t = read_table(path, &ReadOptions::default())?;
    let id = find_column(&t, None, &id_aliases(), flag, "the outlet id")?.expect("required");
    let reason = find_column(&t, None, vocab::REASON.names, flag, "the reason")?.expect("required");
    let name = t.name();
    let mut out = Vec::new();
    let mut problems = Problems::new();
    let mut seen = BTreeMap::new();
    for r in &t.rows {
        let (i, why) = (&r.cells[id], &r.cells[reason]);
        if i.is_empty() {
            problems.push(format!("{name}:{}:{}: empty id", r.line, id + 1));
        } else if why.is_empty() {
            problems.push(format!(
                "{name}:{}:{}: no reason for `{i}`; a reason is required",
                r.line,
                reason + 1
            ));
        } else if let Some(first) = seen.insert(i.clone(), r.line) {
            problems.push(format!(
                "{name}:{}: `{i}` is listed again (first on line {first})",
                r.line
            ));
        } else {
            out.push(Listed {
                id: i.clone(),
                reason: why.clone(),
            });
        }
    }
    problems.into_result(&format!(
        "{flag} takes a CSV with an id column and a reason column (原因)"
    ))?;
    Ok(out)
}

/// Reads an earlier sample: a sample.csv (only certainty and selected rows count as visited)
/// or any list with an id column.
pub fn read_visited(path: &Path) -> Result<Visited> {
    let t = read_table(path, &ReadOptions::default())?;
    let id = find_column(&t, None, &id_aliases(), "--visited", "the outlet id")?.expect("required");
    let role = find_column(&t, None, &["role"], "--visited", "")?;
    let mut ids: Vec<String> = t
        .rows
        .iter()
        .filter(|r| role.is_none_or(|c| r.cells[c] == "certainty" || r.cells[c] == "selected"))
        .map(|r| r.cells[id].clone())
        .filter(|s| !s.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    Ok(Visited {
        file: path.display().to_string(),
        sha256: t.sha256,
        ids,
    })
}

/// Reads an allocation table: stratum and n per row.
pub fn read_allocation(path: &Path) -> Result<BTreeMap<String, u64>> {
    let t = read_table(path, &ReadOptions::default())?;
    let st = find_column(
        &t,
        None,
        vocab::STRATUM.names,
        "--allocation",
        "the stratum",
    )?
    .expect("required");
    let n = find_column(
        &t,
        None,
        vocab::STRATUM_SIZE.names,
        "--allocation",
        "the size n",
    )?
    .expect("required");
    let name = t.name();
    let mut out = BTreeMap::new();
    let mut problems = Problems::new();
    for r in &t.rows {
        match r.cells[n].parse::<u64>() {
            Ok(v) => {
                if out.insert(r.cells[st].clone(), v).is_some() {
                    problems.push(format!(
                        "{name}:{}: stratum `{}` is listed again",
                        r.line, r.cells[st]
                    ));
                }
            }
            Err(_) => problems.push(format!(
                "{name}:{}:{}: `{}` is not a whole number",
                r.line,
                n + 1,
                r.cells[n]
            )),
        }
    }
    problems.into_result("the allocation table has a row per stratum: stratum,n")?;
    Ok(out)
}
