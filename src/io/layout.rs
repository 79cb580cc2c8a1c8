//! A list as an ERP exports it: title rows above the header, merged cells, totals and
//! footnote rows below the data. The rules that find them, so that an applicant's file is
//! read as it came (every hand edit would change the evidence the 抽样说明 cites).
//!
//! - **Header row.** With `--header-row N` the header is the record on line (sheet row) N.
//!   Otherwise, among the first [`SCAN_ROWS`] non-blank rows, the header is the first row
//!   that has at least 3 non-empty cells, or at least half as many non-empty cells as the
//!   widest of those rows and at least 2 (1 for a one-column list); the rows above it (each
//!   with 1 or 2 non-empty cells) are a title.
//!   A file whose first row has 3 or more non-empty cells is thus read as before.
//! - **Totals and footnote rows.** A row is a marker row when its first non-empty cell is a
//!   marker: it starts with 合计, 总计, 小计 or `Total` (ASCII case-insensitive) followed by
//!   nothing, a digit or punctuation (so 合计维修站 or `Total Auto` are names, not markers),
//!   or starts with 注:, 备注:, 说明: (full-width colon too). Marker rows after the last other
//!   row are left out by the reader; a marker row between data rows is left out by the frame
//!   only when its id cell is empty or itself a marker, and is an error naming its line
//!   otherwise (it could be an outlet).
//! - **Merged cells** (xlsx): a merge range below the header is filled with its top-left
//!   value in every cell; one above the header (a title spanning columns) is left as it is;
//!   one reaching the header from above fills the header's cells (a two-row header read with
//!   `--header-row`); one spanning the header row and data rows is an error.
//!
//! Invariant: every row left out is listed in [`Adjusted`] with its line, so the caller can
//! report it on stderr and record it in the manifest.

use serde::{Deserialize, Serialize};

/// Non-blank rows looked at to find the header.
pub const SCAN_ROWS: usize = 30;

/// A row not read as data, with its line and its non-empty cells joined by spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotedRow {
    pub line: u64,
    pub text: String,
}

impl NotedRow {
    pub fn new(line: u64, cells: &[String]) -> NotedRow {
        let text: Vec<&str> = cells
            .iter()
            .map(|c| c.as_str())
            .filter(|c| !c.is_empty())
            .collect();
        NotedRow {
            line,
            text: text.join(" "),
        }
    }
}

/// What was done to read a file as exported; empty for a plain table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjusted {
    /// The header's line (sheet row) when rows above it were a title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_line: Option<u64>,
    /// Non-blank rows above the header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_rows: Vec<NotedRow>,
    /// Totals and footnote rows left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_rows: Vec<NotedRow>,
    /// xlsx merge ranges filled with their top-left value.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub merged_ranges: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Adjusted {
    pub fn is_empty(&self) -> bool {
        *self == Adjusted::default()
    }

    /// The notes for stderr, one a line, each starting with `note: {name}:`. `unit` is
    /// `line` (CSV) or `row` (xlsx).
    pub fn notes(&self, name: &str, unit: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let (Some(first), Some(last), Some(h)) = (
            self.title_rows.first(),
            self.title_rows.last(),
            self.header_line,
        ) {
            let what = if first.line == last.line {
                format!("{unit} {} above the header is", first.line)
            } else {
                format!("{unit}s {}-{} above the header are", first.line, last.line)
            };
            out.push(format!(
                "note: {name}: {what} a title, not data: \"{}\"; the header is {unit} {h}",
                clip(&first.text)
            ));
        }
        if self.merged_ranges > 0 {
            out.push(format!(
                "note: {name}: {} merged cell ranges filled with the value of their top-left cell",
                self.merged_ranges
            ));
        }
        for r in &self.skipped_rows {
            out.push(format!(
                "note: {name}:{}: a totals or footnote row, not an outlet; left out: \"{}\"",
                r.line,
                clip(&r.text)
            ));
        }
        out
    }
}

/// At most 60 characters of `s`, for a message.
fn clip(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// Non-empty cells of a row.
pub fn filled(cells: &[String]) -> usize {
    cells.iter().filter(|c| !c.is_empty()).count()
}

/// The index in `rows` (non-blank rows, in order) of the header by the rule of the module
/// docs.
pub fn find_header(rows: &[&[String]]) -> usize {
    let scan = &rows[..rows.len().min(SCAN_ROWS)];
    let widest = scan.iter().map(|r| filled(r)).max().unwrap_or(0);
    scan.iter()
        .position(|r| {
            let n = filled(r);
            // A one-cell title above a two-column list is a title, not a header.
            n >= 3 || (2 * n >= widest && n >= widest.min(2))
        })
        .unwrap_or(0)
}

const WORD_MARKERS: &[&str] = &["合计", "总计", "小计"];
const NOTE_MARKERS: &[&str] = &["注:", "注：", "备注:", "备注：", "说明:", "说明："];

/// Whether `cell` is a totals or footnote marker (module docs).
pub fn is_marker(cell: &str) -> bool {
    let cell = cell.trim();
    if NOTE_MARKERS.iter().any(|m| cell.starts_with(m)) {
        return true;
    }
    let rest = WORD_MARKERS
        .iter()
        .find_map(|m| cell.strip_prefix(m))
        .or_else(|| {
            cell.get(..5)
                .filter(|p| p.eq_ignore_ascii_case("total"))
                .map(|_| &cell[5..])
        });
    match rest {
        None => false,
        Some(r) => r
            .trim_start()
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphabetic()),
    }
}

/// Whether a row is a marker row: its first non-empty cell is a marker.
pub fn is_marker_row(cells: &[String]) -> bool {
    cells
        .iter()
        .find(|c| !c.is_empty())
        .is_some_and(|c| is_marker(c))
}

/// Whether a data row is a totals or footnote row that the frame leaves out: a marker row
/// whose id cell (column `id`) is empty or itself a marker.
pub fn is_idless_marker_row(cells: &[String], id: usize) -> bool {
    is_marker_row(cells) && cells.get(id).is_none_or(|c| c.is_empty() || is_marker(c))
}

/// A merge range in a table's terms: physical lines and 0-based column indexes, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub first_line: u64,
    pub last_line: u64,
    pub first_col: usize,
    pub last_col: usize,
    /// The range as Excel names it (`A5:A9`), for messages.
    pub name: String,
}

/// Fills the merge ranges into `recs` (every row of the table, blank ones too, in line
/// order) by the rule of the module docs, the header being on `header_line`. Returns how
/// many ranges were filled, or the message for a range that spans the header and data.
pub fn fill_merges(
    recs: &mut [(u64, Vec<String>)],
    merges: &[Merge],
    header_line: u64,
) -> Result<u64, String> {
    let at =
        |recs: &[(u64, Vec<String>)], line: u64| recs.binary_search_by_key(&line, |r| r.0).ok();
    let mut filled = 0;
    for m in merges {
        if m.last_line < header_line || m.first_line == header_line && m.last_line == header_line {
            continue;
        }
        if m.first_line <= header_line && m.last_line > header_line {
            return Err(format!(
                "the merged cell {} spans the header (row {header_line}) and data rows below it",
                m.name
            ));
        }
        let value = at(recs, m.first_line)
            .and_then(|i| recs[i].1.get(m.first_col).cloned())
            .unwrap_or_default();
        if value.is_empty() {
            continue;
        }
        let from = m.first_line.max(header_line);
        for line in from..=m.last_line {
            let Some(i) = at(recs, line) else { continue };
            let cells = &mut recs[i].1;
            for c in m.first_col..=m.last_col.min(cells.len().saturating_sub(1)) {
                if cells[c].is_empty() {
                    cells[c] = value.clone();
                }
            }
        }
        filled += 1;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &[&[&str]]) -> Vec<Vec<String>> {
        t.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    fn header_of(t: &[&[&str]]) -> usize {
        let r = rows(t);
        let refs: Vec<&[String]> = r.iter().map(|r| r.as_slice()).collect();
        find_header(&refs)
    }

    #[test]
    fn title_rows_above_a_wide_header() {
        let t: &[&[&str]] = &[
            &["2026年服务网点清单", "", "", ""],
            &["导出时间: 2026-01-05"],
            &["网点编号", "网点名称", "省份", "城市"],
            &["1001", "广州天河", "广东", "广州"],
        ];
        assert_eq!(header_of(t), 2);
        // Two cells in a title over five columns.
        let t: &[&[&str]] = &[
            &["清单", "2026"],
            &["a", "b", "c", "d", "e"],
            &["1", "2", "3", "4", "5"],
        ];
        assert_eq!(header_of(t), 1);
    }

    #[test]
    fn narrow_first_rows_of_a_table_are_not_a_title() {
        // A two-column list: its header has two cells, as wide as any row.
        let t: &[&[&str]] = &[&["id", "reason"], &["1", "closed"], &["2", ""]];
        assert_eq!(header_of(t), 0);
        // One column.
        assert_eq!(header_of(&[&["id"], &["1"], &["2"]]), 0);
        // A header of three or more cells is a header, whatever follows.
        let t: &[&[&str]] = &[&["a", "b", "c"], &["1", "2", "3", "4", "5", "6", "7"]];
        assert_eq!(header_of(t), 0);
        // A one-cell title above a two-column list.
        let t: &[&[&str]] = &[&["2026年网点清单"], &["网点编号", "网点名称"], &["W1", "a"]];
        assert_eq!(header_of(t), 1);
        // Two cells over a table of four: at least half as wide, so a header.
        let t: &[&[&str]] = &[&["id", "name", "", ""], &["1", "x", "y", "z"]];
        assert_eq!(header_of(t), 0);
    }

    #[test]
    fn markers_are_words_not_prefixes_of_names() {
        for m in [
            "合计",
            "合计：800个网点",
            "合计 800个网点",
            "合计800",
            "小计(广东)",
            "总计",
            "TOTAL",
            "Total:",
            "total 800",
            "注：数据来源于DMS",
            "注:",
            "备注：",
            "说明: 不含二级网点",
        ] {
            assert!(is_marker(m), "{m}");
        }
        for m in [
            "合计维修站",
            "小计汽修",
            "Total Auto Service",
            "Totally",
            "注意事项",
            "说明书",
            "1001",
            "",
            "广州合计",
        ] {
            assert!(!is_marker(m), "{m}");
        }
        assert!(is_marker_row(&rows(&[&["", "合计", "", "800"]])[0]));
        assert!(!is_marker_row(&rows(&[&["1001", "合计维修站"]])[0]));
    }
}
