//! Reading `.xlsx` workbooks with calamine, cells as Excel shows them.
//!
//! An integer-valued number is `1001`, not `1001.0`; other numbers get at most 15
//! significant digits, as Excel displays them; dates are ISO dates (`2025-03-01`, with the
//! time when it is not midnight). Row numbers are the sheet's own row numbers.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use super::layout::Merge;
use super::limits::{MAX_COLUMNS, MAX_FIELD, MAX_XLSX_CELLS};
use super::table::{Format, RawTable, ReadOptions, RowCollector, display_name};
use crate::error::{Error, Result};

pub fn read_xlsx(
    path: &Path,
    bytes: &[u8],
    opts: &ReadOptions,
    sha256: String,
) -> Result<RawTable> {
    let name = display_name(path);
    // calamine can panic on crafted workbooks (e.g. an arithmetic overflow on a cell
    // reference with many letters, found by the xlsx fuzz target): such a file is unreadable,
    // not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_xlsx_inner(path, bytes, opts, sha256)
    }))
    .unwrap_or_else(|_| {
        Err(Error::data(format!(
            "{name}: not a readable .xlsx workbook: its structure is damaged\nhint: open it in Excel and save it again as .xlsx, or export it as CSV UTF-8"
        )))
    })
}

fn read_xlsx_inner(
    path: &Path,
    bytes: &[u8],
    opts: &ReadOptions,
    sha256: String,
) -> Result<RawTable> {
    let name = display_name(path);
    let mut wb = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        Error::data(format!(
            "{name}: not a readable .xlsx workbook: {e}\nhint: open it in Excel and save it again as .xlsx, or export it as CSV UTF-8"
        ))
    })?;
    let sheets = wb.sheet_names();
    let sheet = match &opts.sheet {
        Some(s) => {
            if !sheets.iter().any(|n| n == s) {
                return Err(Error::data(format!(
                    "{name}: no sheet named `{s}`; the workbook has: {}",
                    sheets.join(", ")
                )));
            }
            s.clone()
        }
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| Error::data(format!("{name}: the workbook has no sheets")))?,
    };
    let cells = sheet_cells(&mut wb, &name, &sheet)?;
    if opts.sheet.is_none() && !is_table(&cells) {
        refuse_notes_sheet(&mut wb, &name, &sheet, &sheets)?;
    }
    let merges = match wb.merge_cells_by_sheet_name(&sheet) {
        Ok(m) => m,
        Err(calamine::XlsxError::WorksheetNotFound(_)) => Vec::new(),
        Err(e) => {
            return Err(Error::data(format!(
                "{name}: cannot read sheet `{sheet}`: {e}"
            )));
        }
    };
    let mut rows = RowCollector::new(&name, opts.header_row);
    if !cells.is_empty() {
        lay_out(&name, &sheet, cells, &merges, &mut rows)?;
    }
    let Some(c) = rows
        .finish("fix these cells in the workbook (an error value such as #N/A cannot be read)")?
    else {
        return Err(Error::data(format!(
            "{name}: sheet `{sheet}` is empty (no header row)"
        )));
    };
    Ok(RawTable {
        path: path.to_path_buf(),
        format: Format::Xlsx,
        encoding: "xlsx".into(),
        had_bom: false,
        delimiter: None,
        sheet: Some(sheet),
        header: c.header,
        rows: c.rows,
        blank_rows: c.blank_rows,
        empty_lines: 0,
        sha256,
        adjusted: c.adjusted,
    })
}

type Cells = Vec<(u32, u32, Data)>;

/// The filled cells of a sheet as (row, column, value), in the order the sheet stores them.
///
/// The cells are streamed rather than read through calamine's `worksheet_range`, which
/// allocates the whole rectangle from the first to the last used cell: one stray cell at
/// XFD1048576 in a 1 KB file asked for 512 GB and aborted the process. A cell longer than
/// [`MAX_FIELD`] is refused as the CSV reader refuses it (calamine has already read the
/// shared strings, which hold it, but nothing larger is built from it).
fn sheet_cells(wb: &mut Xlsx<Cursor<&[u8]>>, name: &str, sheet: &str) -> Result<Cells> {
    let unreadable =
        |e: calamine::XlsxError| Error::data(format!("{name}: cannot read sheet `{sheet}`: {e}"));
    let mut cells: Cells = Vec::new();
    let mut reader = match wb.worksheet_cells_reader(sheet) {
        Ok(r) => r,
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(cells),
        Err(e) => return Err(unreadable(e)),
    };
    while let Some(c) = reader.next_cell().map_err(unreadable)? {
        let len = match c.get_value() {
            calamine::DataRef::Empty => continue,
            calamine::DataRef::SharedString(s) => s.len(),
            calamine::DataRef::String(s)
            | calamine::DataRef::DateTimeIso(s)
            | calamine::DataRef::DurationIso(s) => s.len(),
            _ => 0,
        };
        let (r, col) = c.get_position();
        if len > MAX_FIELD {
            return Err(Error::data(format!(
                "{name}:{}:{}: cell {}{} of sheet `{sheet}` holds {len} bytes; svcaudit reads cells of at most 1 MiB\nhint: remove the long text from the cell",
                r as u64 + 1,
                col as u64 + 1,
                column_letters(col as usize),
                r as u64 + 1
            )));
        }
        if cells.len() >= MAX_XLSX_CELLS {
            return Err(Error::data(format!(
                "{name}: sheet `{sheet}` has more than {MAX_XLSX_CELLS} filled cells; svcaudit reads at most that many from a workbook\nhint: export the sheet as CSV UTF-8, which is streamed"
            )));
        }
        cells.push((r, col, Data::from(c.get_value().clone())));
    }
    Ok(cells)
}

/// Whether some row has two filled cells or more: a sheet without one holds text (notes,
/// 说明), not a table.
fn is_table(cells: &Cells) -> bool {
    let mut rows = std::collections::HashSet::new();
    cells.iter().any(|c| !rows.insert(c.0))
}

/// Without `--sheet`, a first sheet holding no table while a later sheet holds one is an
/// error naming the sheets.
fn refuse_notes_sheet(
    wb: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    first: &str,
    sheets: &[String],
) -> Result<()> {
    let table = sheets[1..]
        .iter()
        .find(|s| sheet_cells(wb, name, s).is_ok_and(|c| is_table(&c)));
    match table {
        None => Ok(()),
        Some(t) => Err(Error::data(format!(
            "{name}: the first sheet `{first}` holds no table (no row with two filled cells), and sheet `{t}` does; the workbook has: {}\nhint: pass --sheet {t}",
            sheets.join(", ")
        ))),
    }
}

/// Lays the cells out as rows, the rectangle of the filled cells (row numbers are the
/// sheet's), and hands them and the merge ranges to `rows`.
fn lay_out(
    name: &str,
    sheet: &str,
    mut cells: Cells,
    merges: &[calamine::Dimensions],
    rows: &mut RowCollector,
) -> Result<()> {
    cells.sort_by_key(|c| (c.0, c.1));
    let (row0, row_end) = (cells[0].0, cells[cells.len() - 1].0);
    let col0 = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let col_end = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let width = (col_end - col0) as usize + 1;
    let height = (row_end - row0) as usize + 1;
    if width > MAX_COLUMNS {
        let far = cells
            .iter()
            .max_by_key(|c| c.1)
            .map_or((0, 0), |c| (c.0, c.1));
        return Err(Error::data(format!(
            "{name}: sheet `{sheet}`: its cells span {width} columns ({}..{}); svcaudit reads at most {MAX_COLUMNS}. The farthest cell is {}{}\nhint: delete stray cells far to the right of the table, or export the sheet as CSV UTF-8",
            column_letters(col0 as usize),
            column_letters(col_end as usize),
            column_letters(far.1 as usize),
            far.0 as u64 + 1
        )));
    }
    if width.saturating_mul(height) > MAX_XLSX_CELLS {
        return Err(Error::data(format!(
            "{name}: sheet `{sheet}`: its cells span rows {} to {} and {width} columns, more than {MAX_XLSX_CELLS} cells; svcaudit reads at most that many from a workbook\nhint: delete stray cells far below the table, or export the sheet as CSV UTF-8",
            row0 as u64 + 1,
            row_end as u64 + 1
        )));
    }
    rows.merges(
        merges
            .iter()
            .filter(|d| d.start.1 >= col0 && d.start.1 <= col_end)
            .map(|d| Merge {
                first_line: d.start.0 as u64 + 1,
                last_line: d.end.0 as u64 + 1,
                first_col: (d.start.1 - col0) as usize,
                last_col: (d.end.1 - col0) as usize,
                name: format!(
                    "{}{}:{}{}",
                    column_letters(d.start.1 as usize),
                    d.start.0 as u64 + 1,
                    column_letters(d.end.1 as usize),
                    d.end.0 as u64 + 1
                ),
            })
            .collect(),
    );
    let mut next = cells.into_iter().peekable();
    for r in row0..=row_end {
        let line = r as u64 + 1;
        let mut row = vec![Data::Empty; width];
        while let Some((_, c, v)) = next.next_if(|c| c.0 == r) {
            row[(c - col0) as usize] = v;
        }
        let mut texts = Vec::with_capacity(width);
        for (j, cell) in row.iter().enumerate() {
            match cell_text(cell) {
                Ok(t) => texts.push(t),
                Err(what) => {
                    rows.problem(format!(
                        "{name}:{line}:{}: cell {}{line} holds {what}",
                        col0 as usize + j + 1,
                        column_letters(col0 as usize + j)
                    ));
                    texts.push(String::new());
                }
            }
        }
        rows.push(line, texts);
    }
    Ok(())
}

/// A cell as Excel shows it, or what is wrong with it.
fn cell_text(cell: &Data) -> std::result::Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => excel_number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => {
            if dt.is_duration() {
                excel_number(dt.as_f64())
            } else {
                let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
                if (h, mi, s) == (0, 0, 0) {
                    format!("{y:04}-{mo:02}-{d:02}")
                } else {
                    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                }
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("the error value {e}")),
    })
}

/// A number as Excel displays it in a General cell: integers without a decimal point,
/// others rounded to 15 significant digits without trailing zeros.
pub fn excel_number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let s = format!("{:.14e}", f);
    let (mant, exp) = s.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(digits);
    }
    out
}

/// `0 → A`, `25 → Z`, `26 → AA`.
pub fn column_letters(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_excel_shows_them() {
        assert_eq!(excel_number(1001.0), "1001");
        assert_eq!(excel_number(12.5), "12.5");
        assert_eq!(excel_number(0.1 + 0.2), "0.3");
        assert_eq!(excel_number(-0.000125), "-0.000125");
        assert_eq!(excel_number(1.5e16), "15000000000000000");
    }

    #[test]
    fn column_names() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }
}
