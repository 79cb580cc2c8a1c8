//! A sampling frame: a table whose rows are units with unique, non-empty ids.
//!
//! Invariant: a [`Frame`] exists only when every row has an id and no id occurs twice; the
//! errors otherwise name every offending line. Columns are found by the name the user gives
//! or by a list of common English and Chinese headers.

use std::borrow::Cow;
use std::collections::HashMap;

use super::layout::{self, Adjusted, NotedRow};
use super::table::{Format, RawTable};
use super::vocab;
use crate::error::{Error, Problems, Result};
use crate::identity::IdRule;

/// Header names recognised as an outlet list's id, in order of preference: the outlet-id
/// names, then the generic ones an outlet list may use (io::vocab).
pub fn outlet_list_id_names() -> Vec<&'static str> {
    let mut v = vocab::OUTLET_ID.names.to_vec();
    v.extend_from_slice(vocab::OUTLET_LIST_ID.names);
    v
}

/// Header names recognised as an outlet status column.
pub const STATUS_ALIASES: &[&str] = vocab::STATUS.names;

/// Status values that mean the outlet is closed (compared trimmed, ASCII case-insensitive).
pub const DEFAULT_CLOSED: &[&str] = &["closed", "停业", "关闭", "注销"];

/// A validated frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub table: RawTable,
    pub id_col: usize,
}

impl Frame {
    /// Builds a frame with its id column chosen by `id_col` or the aliases.
    pub fn new(mut table: RawTable, id_col: Option<&str>, aliases: &[&str]) -> Result<Frame> {
        let id = find_column(&table, id_col, aliases, "--id-col", "the unit id")?
            .expect("required column");
        vocab::check_named_once(&table.name(), &table.header, id)?;
        leave_out_marker_rows(&mut table, id)?;
        let frame = Frame { table, id_col: id };
        frame.check_ids()?;
        Ok(frame)
    }

    pub fn id(&self, row: usize) -> &str {
        &self.table.rows[row].cells[self.id_col]
    }

    pub fn len(&self) -> usize {
        self.table.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.rows.is_empty()
    }

    pub fn id_name(&self) -> &str {
        &self.table.header[self.id_col]
    }

    /// Row index by id.
    pub fn index(&self) -> HashMap<&str, usize> {
        (0..self.len()).map(|i| (self.id(i), i)).collect()
    }

    /// Row index by the ids' comparison keys under `rule` (crate::identity).
    pub fn index_by(&self, rule: IdRule) -> HashMap<Cow<'_, str>, usize> {
        (0..self.len()).map(|i| (rule.key(self.id(i)), i)).collect()
    }

    /// Refuses ids that are written differently but are one id under `rule` (`FW0794` and
    /// `ＦＷ０７９４`): one outlet listed twice. Names both lines and both spellings.
    pub fn check_same_ids(&self, rule: IdRule) -> Result<()> {
        let name = self.table.name();
        let (col, header) = (self.id_col + 1, self.id_name());
        let mut problems = Problems::new();
        let mut first: HashMap<Cow<'_, str>, usize> = HashMap::new();
        for i in 0..self.len() {
            if let Some(&j) = first.get(&rule.key(self.id(i))) {
                problems.push(format!(
                    "{name}:{}:{col}: column {header}: id `{}` is `{}` (line {}) written differently (full width, a BOM or spaces)",
                    self.table.rows[i].line,
                    self.id(i),
                    self.id(j),
                    self.table.rows[j].line
                ));
            } else {
                first.insert(rule.key(self.id(i)), i);
            }
        }
        problems.into_result(
            "ids are compared after Unicode compatibility normalisation (NFKC): these rows are one outlet listed twice; remove one row or correct the id",
        )
    }

    fn check_ids(&self) -> Result<()> {
        let name = self.table.name();
        let col = self.id_col + 1;
        let header = self.id_name();
        let mut problems = Problems::new();
        let mut seen: HashMap<&str, Vec<u64>> = HashMap::new();
        let mut order = Vec::new();
        for r in &self.table.rows {
            let id = r.cells[self.id_col].as_str();
            if id.is_empty() {
                problems.push(format!(
                    "{name}:{}:{col}: column {header}: empty id",
                    r.line
                ));
                continue;
            }
            let e = seen.entry(id).or_default();
            if e.is_empty() {
                order.push(id);
            }
            e.push(r.line);
        }
        for id in order {
            let lines = &seen[id];
            if lines.len() > 1 {
                let l: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                problems.push(format!(
                    "{name}:{}:{col}: column {header}: id `{id}` occurs {} times, on lines {}",
                    lines[0],
                    lines.len(),
                    l.join(", ")
                ));
            }
        }
        problems.into_result(
            "every unit needs its own id; remove duplicated rows or correct the ids, then run again",
        )
    }

    /// The canonical frame: header and rows, cells trimmed, rows sorted by id (bytewise),
    /// written as CSV with LF endings. Re-saving the list in another encoding, delimiter or
    /// as xlsx does not change it; changing any cell does.
    pub fn canonical_csv(&self) -> Vec<u8> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.id(a).as_bytes().cmp(self.id(b).as_bytes()));
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&self.table.header).expect("write to memory");
        for i in order {
            w.write_record(&self.table.rows[i].cells)
                .expect("write to memory");
        }
        w.into_inner().expect("flush to memory")
    }
}

/// Leaves out totals and footnote rows between data rows whose id cell is empty or itself
/// a marker, noting each on stderr; such a row with an id-like id is an error (it could be
/// an outlet). The rule is in [`super::layout`]; trailing ones the reader left out already.
fn leave_out_marker_rows(table: &mut RawTable, id: usize) -> Result<()> {
    let name = table.name();
    let mut problems = Problems::new();
    let mut left_out = Vec::new();
    table.rows.retain(|r| {
        if layout::is_idless_marker_row(&r.cells, id) {
            left_out.push(NotedRow::new(r.line, &r.cells));
            return false;
        }
        if !layout::is_marker_row(&r.cells) {
            return true;
        }
        let cell = &r.cells[id];
        problems.push(format!(
            "{name}:{}: a totals or footnote row (\"{}\") between data rows, but its id column {} holds `{cell}`: it could be an outlet",
            r.line,
            r.cells.iter().find(|c| !c.is_empty()).map_or("", |c| c.as_str()),
            table.header[id]
        ));
        true
    });
    problems.into_result(
        "svcaudit leaves out a totals row (合计, 小计, 注: …) only when it ends the list or has no id; ask for the list as exported without such rows, or name another id column with --id-col",
    )?;
    let note = Adjusted {
        skipped_rows: left_out,
        ..Adjusted::default()
    };
    let unit = if table.format == Format::Xlsx {
        "row"
    } else {
        "line"
    };
    for n in note.notes(&name, unit) {
        crate::status!("{n}");
    }
    table.adjusted.skipped_rows.extend(note.skipped_rows);
    table.adjusted.skipped_rows.sort_by_key(|r| r.line);
    Ok(())
}

/// Finds a column by the name the user gave (`flag`), or else by the first alias present.
///
/// A name that is not in the header is an error listing the header. Returns `Ok(None)` when
/// nothing was asked and no alias matched, unless the column is required (`what` is then
/// used in the message).
pub fn find_column(
    table: &RawTable,
    requested: Option<&str>,
    aliases: &[&str],
    flag: &str,
    what: &str,
) -> Result<Option<usize>> {
    let header = &table.header;
    if let Some(req) = requested {
        return match vocab::position(header, &[req]) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::data(format!(
                "{}:{}: {flag} `{req}`: no such column; the header has: {}",
                table.name(),
                table.header_line(),
                crate::io::limits::list_columns(header)
            ))),
        };
    }
    if let Some(i) = vocab::position(header, aliases) {
        return Ok(Some(i));
    }
    if what.is_empty() {
        return Ok(None);
    }
    Err(Error::data(format!(
        "{}:{}: no column for {what}; looked for {}; the header has: {}\nhint: name the column with {flag}",
        table.name(),
        table.header_line(),
        aliases.join(", "),
        crate::io::limits::list_columns(header)
    )))
}

/// Finds a column the user named (`--strata`, `--size-col` …); it must exist.
pub fn named_column(table: &RawTable, name: &str, flag: &str) -> Result<usize> {
    Ok(find_column(table, Some(name), &[], flag, "")?.expect("requested column"))
}
