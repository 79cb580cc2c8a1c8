//! The audit workbook (`reports/<id>/report.xlsx`), written with rust_xlsxwriter: one sheet
//! each for the sampled outlets, the reserves, the customer sample, the plan, the customer
//! calls, the scores and the rejected answers. Header row bold and frozen, widths set from the
//! content (capped), an autofilter on every sheet.
//!
//! Invariant: every cell that comes from input data is written as a string, so a value such
//! as `=HYPERLINK(...)` or `+1` stays text and is never a formula; only the numbers svcaudit
//! computed itself (ranks, probabilities, weights, scores) are written as numbers. The calls
//! sheet masks names and phones like every report (张*, 138****5678): the full call list is
//! `plan/calls.csv`, for the interviewers only.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use crate::error::{Error, Result};
use crate::io::auditdir::{AuditDir, Table};

/// svcaudit's own columns at the front of a sample.csv (unit_id … weight), after which come
/// the applicant's columns, whatever their names.
const OUTLET_SAMPLE_OWN: usize = 7;
/// The same for a customer sample (which adds outlet_id).
const CUSTOMER_SAMPLE_OWN: usize = 8;
/// Every column of the table is svcaudit's own.
const ALL_OWN: usize = usize::MAX;

/// Columns svcaudit computes, written as numbers when they parse as one; only among
/// svcaudit's own columns, so that an applicant's column called `line` or `n` holding `007`
/// stays the text `007`.
const NUMERIC: &[&str] = &[
    "rank",
    "prn",
    "inclusion_prob",
    "weight",
    "call_order",
    "attempt",
    "points",
    "applicable_points",
    "n",
    "rate",
    "rate_se",
    "rate_ci_low",
    "rate_ci_high",
    "score",
    "score_se",
    "score_ci_low",
    "score_ci_high",
    "mean_answer",
    "line",
];

/// The widest column, in characters.
const MAX_WIDTH: usize = 50;
/// Excel's limits: rows in a sheet (the header included) and characters in a cell.
const EXCEL_ROWS: usize = 1_048_576;
const EXCEL_CELL_CHARS: usize = 32_767;

fn xerr(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::data(format!("writing the workbook: {e}"))
}

/// Writes a sheet whose first `own` columns are svcaudit's (the rest come from input files).
fn sheet(
    wb: &mut Workbook,
    name: &str,
    t: &Table,
    own: usize,
    keep: impl Fn(&[String]) -> bool,
    mask: &[&str],
) -> Result<()> {
    sheet_capped(wb, name, t, own, keep, mask, EXCEL_ROWS)
}

/// A cell's text within Excel's limit; a longer one is cut and says so (the CSV beside the
/// workbook has it whole).
fn fit_cell(v: String) -> String {
    if v.chars().count() <= EXCEL_CELL_CHARS {
        return v;
    }
    let mark = " …[cut: the CSV file has the whole cell]";
    let keep = EXCEL_CELL_CHARS - mark.chars().count();
    let mut s: String = v.chars().take(keep).collect();
    s.push_str(mark);
    s
}

/// Writes a sheet of at most `max_rows` rows (header included); when the table has more, the
/// last row says how many more the CSV file holds.
fn sheet_capped(
    wb: &mut Workbook,
    name: &str,
    t: &Table,
    own: usize,
    keep: impl Fn(&[String]) -> bool,
    mask: &[&str],
    max_rows: usize,
) -> Result<()> {
    let bold = Format::new().set_bold();
    let ws: &mut Worksheet = wb.add_worksheet();
    ws.set_name(name).map_err(xerr)?;
    let numeric: Vec<bool> = t
        .header
        .iter()
        .enumerate()
        .map(|(c, h)| c < own && NUMERIC.contains(&h.as_str()))
        .collect();
    let masked: Vec<Option<&str>> = t
        .header
        .iter()
        .map(|h| mask.iter().copied().find(|m| *m == h.as_str()))
        .collect();
    let mut width: Vec<usize> = t.header.iter().map(|h| display_width(h)).collect();
    for (c, h) in t.header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, fit_cell(h.clone()), &bold)
            .map_err(xerr)?;
    }
    let mut row = 1u32;
    let kept: Vec<&Vec<String>> = t.rows.iter().filter(|r| keep(r)).collect();
    let room = max_rows.saturating_sub(1);
    let (shown, cut) = if kept.len() > room {
        (room.saturating_sub(1), kept.len() - room.saturating_sub(1))
    } else {
        (kept.len(), 0)
    };
    for r in kept.iter().take(shown) {
        for (c, v) in r.iter().enumerate() {
            let col = c as u16;
            let v = fit_cell(match masked.get(c).copied().flatten() {
                Some("phone") => crate::customers::fields::mask_phone(v),
                Some(_) => crate::customers::fields::mask_name(v),
                None => v.clone(),
            });
            if let Some(w) = width.get_mut(c) {
                *w = (*w).max(display_width(&v));
            }
            match (numeric.get(c), v.parse::<f64>()) {
                (Some(true), Ok(x)) if x.is_finite() => {
                    ws.write_number(row, col, x).map_err(xerr)?;
                }
                _ => {
                    ws.write_string(row, col, &v).map_err(xerr)?;
                }
            }
        }
        row += 1;
    }
    if cut > 0 {
        ws.write_string(
            row,
            0,
            format!(
                "… {cut} more rows: an Excel sheet holds {max_rows} rows; the CSV file has them all"
            ),
        )
        .map_err(xerr)?;
        row += 1;
    }
    for (c, w) in width.iter().enumerate() {
        ws.set_column_width(c as u16, (*w).clamp(4, MAX_WIDTH) as f64 + 1.0)
            .map_err(xerr)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    if !t.header.is_empty() {
        ws.autofilter(0, 0, row.saturating_sub(1), (t.header.len() - 1) as u16)
            .map_err(xerr)?;
    }
    Ok(())
}

/// Characters, with CJK counted twice (Excel's column width is in narrow characters).
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// Builds the workbook; sheets for parts the folder does not hold yet are left out.
pub fn build(d: &AuditDir) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    // The file's creation date is the draw's date, not the clock, so the same folder gives
    // the same bytes.
    let day = d
        .outlets
        .as_ref()
        .and_then(|o| o.manifest["drawn_on"].as_str())
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_default();
    use chrono::Datelike;
    let when = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)
        .map_err(xerr)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let role = |t: &Table| t.col("role");
    if let Some(o) = &d.outlets {
        let rc = role(&o.sample);
        let s = &o.sample;
        sheet(
            &mut wb,
            "sample 抽中网点",
            s,
            OUTLET_SAMPLE_OWN,
            |r| s.cell(r, rc) != "reserve",
            &[],
        )?;
        sheet(
            &mut wb,
            "reserves 备选",
            s,
            OUTLET_SAMPLE_OWN,
            |r| s.cell(r, rc) == "reserve",
            &[],
        )?;
    }
    if let Some(c) = &d.customers {
        sheet(
            &mut wb,
            "customers 顾客样本",
            &c.sample,
            CUSTOMER_SAMPLE_OWN,
            |_| true,
            &[],
        )?;
    }
    if let Some(p) = &d.plan {
        sheet(&mut wb, "plan 计划", &p.visits, ALL_OWN, |_| true, &[])?;
        sheet(
            &mut wb,
            "calls 顾客访问",
            &p.calls,
            ALL_OWN,
            |_| true,
            &["customer_name", "phone"],
        )?;
    }
    if let Some(s) = &d.scores {
        sheet(&mut wb, "scores 评分", &s.scores, ALL_OWN, |_| true, &[])?;
        sheet(
            &mut wb,
            "rejected 未计分",
            &s.rejected,
            ALL_OWN,
            |_| true,
            &[],
        )?;
    }
    if wb.worksheets().is_empty() {
        wb.add_worksheet()
            .set_name("empty")
            .map_err(xerr)?
            .write_string(0, 0, "nothing drawn yet")
            .map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn table(rows: usize, cell: &str) -> Table {
        Table {
            header: vec!["unit_id".into(), "name".into()],
            rows: (0..rows)
                .map(|i| vec![format!("WD{i:04}"), cell.to_string()])
                .collect(),
        }
    }

    fn read_back(bytes: Vec<u8>) -> calamine::Range<Data> {
        let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        wb.worksheet_range("t").unwrap()
    }

    #[test]
    fn rows_beyond_the_sheet_are_counted_not_lost_silently() {
        let mut wb = Workbook::new();
        sheet_capped(&mut wb, "t", &table(10, "x"), ALL_OWN, |_| true, &[], 5).unwrap();
        let r = read_back(wb.save_to_buffer().unwrap());
        assert_eq!(r.height(), 5);
        let last = r.rows().next_back().unwrap()[0].to_string();
        assert!(last.starts_with("… 7 more rows"), "{last}");
        assert_eq!(r.rows().nth(3).unwrap()[0].to_string(), "WD0002");
    }

    #[test]
    fn cells_longer_than_excel_allows_are_cut_and_say_so() {
        let long = "名".repeat(40_000);
        let mut wb = Workbook::new();
        sheet_capped(
            &mut wb,
            "t",
            &table(1, &long),
            ALL_OWN,
            |_| true,
            &[],
            EXCEL_ROWS,
        )
        .unwrap();
        let r = read_back(wb.save_to_buffer().unwrap());
        let v = r.rows().nth(1).unwrap()[1].to_string();
        assert_eq!(v.chars().count(), EXCEL_CELL_CHARS);
        assert!(v.ends_with("the CSV file has the whole cell]"));
    }

    /// An applicant's column named like one of svcaudit's numbers (`line`, `rank`, `n`)
    /// stays text: `007` is not the number 7 (issue: the workbook typed cells by name).
    #[test]
    fn applicant_columns_stay_text_whatever_their_name() {
        let t = Table {
            header: ["unit_id", "rank", "line", "n"].map(String::from).to_vec(),
            rows: vec![["WD1", "3", "007", "0012"].map(String::from).to_vec()],
        };
        let mut wb = Workbook::new();
        sheet_capped(&mut wb, "t", &t, 2, |_| true, &[], EXCEL_ROWS).unwrap();
        let r = read_back(wb.save_to_buffer().unwrap());
        let row = r.rows().nth(1).unwrap();
        assert_eq!(row[1], Data::Float(3.0));
        assert_eq!(row[2], Data::String("007".into()));
        assert_eq!(row[3], Data::String("0012".into()));
    }
}
