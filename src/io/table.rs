//! Reading a table from what applicants really send: CSV/TSV in UTF-8 (with or without BOM),
//! UTF-16 with BOM (Excel "Unicode text"), GBK/GB18030, or `.xlsx`.
//!
//! Invariant: every physical line (CSV) or sheet row (xlsx) after the header is either a
//! [`RawRow`] or counted in [`RawTable::blank_rows`]; a row with too many or too few fields is
//! an error naming its line, never dropped. Line numbers are what an editor or Excel shows,
//! the header being line 1 of a CSV.

use std::path::{Path, PathBuf};

use encoding_rs::Encoding;

use super::layout::{self, Adjusted, Merge, NotedRow};
use super::limits;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems, Result};

/// How to read a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadOptions {
    /// An encoding label (`utf-8`, `gbk`, `gb18030`, `utf-16le` …); `None` detects it.
    pub encoding: Option<String>,
    /// The xlsx sheet by name; `None` takes the first sheet.
    pub sheet: Option<String>,
    /// `--header-row`: the header's physical line (CSV) or sheet row (xlsx), 1-based;
    /// `None` finds it (see [`super::layout`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
    /// Where a quote opens a quoted cell; draws made before the rule existed recorded none
    /// and replay with [`QuoteRule::Rfc4180`].
    #[serde(
        default = "QuoteRule::before_rule",
        skip_serializing_if = "QuoteRule::is_before_rule"
    )]
    pub quotes: QuoteRule,
}

/// Where a quote opens a quoted cell: the one CSV grammar of every reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum QuoteRule {
    /// At the start of a cell, also after white space: `A1, "甲,乙",广州` is three cells, as
    /// a person reads it and as the streaming customer reader always read it.
    #[default]
    AfterSpace,
    /// Only as the cell's first character (RFC 4180): ` "甲,乙"` is text holding a
    /// delimiter. The rule of draws made before svcaudit had one grammar.
    Rfc4180,
}

impl QuoteRule {
    fn before_rule() -> QuoteRule {
        QuoteRule::Rfc4180
    }

    fn is_before_rule(&self) -> bool {
        *self == QuoteRule::Rfc4180
    }
}

/// Removes the white space between the start of a cell and a quote that opens it, so that an
/// RFC 4180 parser reads `A1, "甲,乙"` as [`QuoteRule::AfterSpace`] wants. Cells are trimmed
/// anyway, so nothing else changes; newlines stay, so lines keep their numbers. `None` when
/// no quote follows white space (the usual file: one `memchr` pass).
fn open_quotes_after_space(text: &str, delim: u8) -> Option<String> {
    let b = text.as_bytes();
    let any = memchr::memchr_iter(b'"', b).any(|i| i > 0 && matches!(b[i - 1], b' ' | b'\t'));
    if !any {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let (mut in_q, mut cell_start) = (false, 0usize);
    let mut at_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_q {
            if c == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    out.extend_from_slice(b"\"\"");
                    i += 2;
                    continue;
                }
                in_q = false;
            }
            out.push(c);
        } else if c == b'"' && at_start {
            // Drop the white space written since the cell started.
            out.truncate(cell_start);
            in_q = true;
            at_start = false;
            out.push(c);
        } else if c == delim || c == b'\n' || c == b'\r' {
            out.push(c);
            at_start = true;
            cell_start = out.len();
        } else {
            at_start &= c == b' ' || c == b'\t';
            out.push(c);
        }
        i += 1;
    }
    // Only ASCII bytes were removed, at character boundaries.
    Some(String::from_utf8(out).expect("UTF-8 in, UTF-8 out"))
}

/// The file format that was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

/// One data row with its physical line (CSV) or sheet row number (xlsx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A decoded table: trimmed header and rows, plus what is needed to describe the file.
#[derive(Debug, Clone)]
pub struct RawTable {
    pub path: PathBuf,
    pub format: Format,
    /// The encoding actually used (`UTF-8`, `GB18030`, `UTF-16LE` …); `xlsx` for workbooks.
    pub encoding: String,
    pub had_bom: bool,
    /// The delimiter of a CSV (`,`, `;`, tab or `|`).
    pub delimiter: Option<char>,
    pub sheet: Option<String>,
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
    /// Rows whose every cell is empty (e.g. `,,,,` or an empty sheet row), skipped and counted.
    pub blank_rows: u64,
    /// Completely empty lines, skipped and counted.
    pub empty_lines: u64,
    /// SHA-256 (hex) of the file's bytes.
    pub sha256: String,
    /// Title rows, totals rows and merged cells met while reading.
    pub adjusted: Adjusted,
}

impl RawTable {
    /// The file name as shown in messages.
    pub fn name(&self) -> String {
        display_name(&self.path)
    }

    /// The header's line for messages: 1 unless rows above it were a title.
    pub fn header_line(&self) -> u64 {
        self.adjusted.header_line.unwrap_or(1)
    }

    /// Prints what [`RawTable::adjusted`] records on stderr, one note a line.
    pub fn print_notes(&self) {
        let unit = match self.format {
            Format::Csv => "line",
            Format::Xlsx => "row",
        };
        for n in self.adjusted.notes(&self.name(), unit) {
            crate::status!("{n}");
        }
    }
}

/// The path as written in error messages.
pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// A whole file's bytes: mapped when it is a regular file, else read.
pub enum FileBytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m,
        }
    }
}

/// The bytes of the file at `path`. A regular file is mapped into memory, which spares
/// copying it out of the page cache (a tenth of reading a results file of 64 MB). A file
/// truncated by another program while it is mapped makes the process die with SIGBUS; the
/// files an audit reads are not being written while it runs.
pub fn file_bytes(path: &Path) -> Result<FileBytes> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, "read the file", &e))?;
    let len = f
        .metadata()
        .map(|m| (m.is_file(), m.len()))
        .unwrap_or((false, 0));
    if let (true, 1..) = len {
        // SAFETY: a read-only private mapping of a regular file; see the SIGBUS note above.
        if let Ok(m) = unsafe { memmap2::MmapOptions::new().populate().map(&f) } {
            return Ok(FileBytes::Mapped(m));
        }
    }
    let mut v = Vec::new();
    std::io::Read::read_to_end(&mut &f, &mut v)
        .map_err(|e| Error::io(path, "read the file", &e))?;
    Ok(FileBytes::Owned(v))
}

/// Reads CSV text (any encoding) into a table; `read::read_table_bytes` is the door.
pub fn read_csv(path: &Path, bytes: &[u8], opts: &ReadOptions, sha256: String) -> Result<RawTable> {
    if opts.sheet.is_some() {
        return Err(Error::usage(format!(
            "{}: --sheet applies to .xlsx workbooks, and this file is not one",
            display_name(path)
        )));
    }
    let (text, encoding, had_bom) = decode(path, bytes, opts.encoding.as_deref())?;
    parse_csv(path, &text, (encoding, had_bom), opts, sha256)
}

/// Decodes bytes to text: a BOM wins, then valid UTF-8, then GB18030 (a superset of GBK and
/// GB2312). A forced `label` is used as is. Undecodable bytes are an error naming the line.
pub fn decode(path: &Path, bytes: &[u8], label: Option<&str>) -> Result<(String, String, bool)> {
    let name = display_name(path);
    let forced = match label {
        None => None,
        Some(l) => Some(Encoding::for_label(l.trim().as_bytes()).ok_or_else(|| {
            Error::usage(format!(
                "--encoding: unknown encoding `{l}`; use utf-8, gbk, gb18030 or utf-16le"
            ))
        })?),
    };
    let (bom_enc, bom_len) = match Encoding::for_bom(bytes) {
        Some((e, n)) => (Some(e), n),
        None => (None, 0),
    };
    let enc = match (forced, bom_enc) {
        (Some(f), _) => f,
        (None, Some(b)) => b,
        (None, None) if let Some(u) = limits::sniff_utf16(bytes) => u,
        (None, None) => match std::str::from_utf8(bytes) {
            Ok(_) => encoding_rs::UTF_8,
            Err(e) => {
                // UTF-8 Chinese before the first invalid byte: the file mixes encodings
                // (rows pasted from a GBK file into a UTF-8 one); reading it all as GBK would
                // garble the first part.
                if limits::looks_utf8(&bytes[..e.valid_up_to()]) {
                    return Err(Error::data(format!(
                        "{name}:{}: not UTF-8, although the lines before it are: the file mixes encodings\nhint: open it in Excel and save it again as CSV UTF-8, or fix the rows from this line on",
                        crate::io::limits::line_of(bytes, e.valid_up_to())
                    )));
                }
                encoding_rs::GB18030
            }
        },
    };
    let body = if bom_enc == Some(enc) {
        &bytes[bom_len..]
    } else {
        bytes
    };
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    if had_errors {
        // Find the first line that does not decode, for the message.
        let bad_line = (1u64..)
            .zip(body.split(|&b| b == b'\n'))
            .find(|(_, chunk)| enc.decode_without_bom_handling(chunk).1)
            .map(|(line, _)| line);
        let at = bad_line.map(|l| format!(":{l}")).unwrap_or_default();
        return Err(Error::data(format!(
            "{name}{at}: the file is not valid {} text\nhint: save it as CSV UTF-8 (or pass --encoding with its real encoding, e.g. --encoding gbk)",
            enc.name()
        )));
    }
    Ok((text.into_owned(), enc.name().to_string(), bom_len > 0))
}

/// Refuses bytes no list should hold: a NUL byte (binary data, or UTF-16 read as something
/// else) and a quote that opens a cell and never closes (it would swallow every row after
/// it). `after_spaces`: whether a quote after white space opens a cell (the streaming
/// reader's rule).
pub fn check_hostile(name: &str, data: &[u8], delimiter: u8, after_spaces: bool) -> Result<()> {
    if let Some(at) = memchr::memchr(0, data) {
        return Err(Error::data(format!(
            "{name}:{}: a NUL byte: this is binary data, or text in another encoding (UTF-16?)\nhint: open the file in Excel and save it as CSV UTF-8",
            limits::line_of(data, at)
        )));
    }
    if let Some(at) = limits::unclosed_quote(data, delimiter, after_spaces) {
        return Err(Error::data(format!(
            "{name}:{}: a quote (\") opens a cell here and is never closed, so every row after it would be read as part of that cell\nhint: close the quote, or double it (\"\") if it belongs to the text",
            limits::line_of(data, at)
        )));
    }
    Ok(())
}

/// Picks the delimiter that occurs most often in the first line outside quotes
/// (candidates `,`, tab, `;`, `|`; comma on a tie or when none occurs).
pub fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 4];
    let cands = [b',', b'\t', b';', b'|'];
    let mut in_quotes = false;
    for b in first.bytes() {
        if b == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(i) = cands.iter().position(|&c| c == b) {
            counts[i] += 1;
        }
    }
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    cands[best]
}

fn parse_csv(
    path: &Path,
    text: &str,
    (encoding, had_bom): (String, bool),
    opts: &ReadOptions,
    sha256: String,
) -> Result<RawTable> {
    let name = display_name(path);
    let mut rows = RowCollector::new(&name, opts.header_row);
    let delim = for_each_csv_record(&name, text, opts.quotes, |line, record| {
        rows.push(
            line,
            record
                .iter()
                .map(|c| String::from_utf8_lossy(c).trim().to_string())
                .collect(),
        );
        Ok(())
    })?;
    let Some(c) = rows.finish(
        "every row must have as many fields as the header; quote cells that contain the delimiter",
    )?
    else {
        return Err(Error::data(format!(
            "{name}: the file is empty (no header row)\nhint: the first line must name the columns, e.g. 网点编号,网点名称,省份,城市"
        )));
    };
    // Completely empty lines, which the CSV parser skips without a record. (An empty line
    // inside a quoted multi-line cell is counted here too; such cells are rare in lists.)
    let total_lines = count_lines(text);
    let empty_lines = text
        .split('\n')
        .take(total_lines as usize)
        .filter(|l| l.trim_end_matches('\r').is_empty())
        .count() as u64;
    Ok(RawTable {
        path: path.to_path_buf(),
        format: Format::Csv,
        encoding,
        had_bom,
        delimiter: Some(delim as char),
        sheet: None,
        header: c.header,
        rows: c.rows,
        blank_rows: c.blank_rows,
        empty_lines,
        sha256,
        adjusted: c.adjusted,
    })
}

/// Parses CSV text record by record, after the hostile-input checks and with the reader's
/// limits, calling `f` with each record's physical line (the header is line 1). Returns the
/// delimiter it sniffed. Fields are the raw bytes of valid UTF-8 text (the delimiter and
/// quotes are ASCII), untrimmed.
pub fn for_each_csv_record(
    name: &str,
    text: &str,
    quotes: QuoteRule,
    mut f: impl FnMut(u64, &csv::ByteRecord) -> Result<()>,
) -> Result<u8> {
    let delim = sniff_delimiter(text);
    let opened = match quotes {
        QuoteRule::AfterSpace => open_quotes_after_space(text, delim),
        QuoteRule::Rfc4180 => None,
    };
    let text = opened.as_deref().unwrap_or(text);
    check_hostile(name, text.as_bytes(), delim, false)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    // Physical line of a byte offset, counted incrementally (records come in order); the csv
    // crate's own line counter skips empty lines. A record's position can point at empty
    // lines skipped before it; step over them.
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0usize, 1u64);
    let mut line_of = |byte: u64| {
        let mut b = (byte as usize).min(bytes.len());
        while b < bytes.len() && (bytes[b] == b'\n' || bytes[b] == b'\r') {
            b += 1;
        }
        if b >= at {
            line += memchr::memchr_iter(b'\n', &bytes[at..b]).count() as u64;
        } else {
            line = memchr::memchr_iter(b'\n', &bytes[..b]).count() as u64 + 1;
        }
        at = b;
        line
    };
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| line_of(p.byte())).unwrap_or(0);
                return Err(Error::data(format!(
                    "{name}:{line}: cannot parse CSV: {e}\nhint: check for an unbalanced quote (\") on or before this line"
                )));
            }
        }
        let line = record.position().map(|p| line_of(p.byte())).unwrap_or(0);
        if record.len() > limits::MAX_COLUMNS {
            return Err(Error::data(format!(
                "{name}:{line}: {} fields; svcaudit reads at most {} columns\nhint: export only the columns the audit needs",
                record.len(),
                limits::MAX_COLUMNS
            )));
        }
        if let Some(i) = record.iter().position(|c| c.len() > limits::MAX_FIELD) {
            return Err(Error::data(format!(
                "{name}:{line}:{}: a cell of {} bytes; svcaudit reads cells of at most 1 MiB\nhint: check for an unbalanced quote (\") before it, or remove the long text",
                i + 1,
                record[i].len()
            )));
        }
        f(line, &record)?;
    }
    Ok(delim)
}

/// For a reader that takes the first line as the header (the streaming customer reader):
/// the line of the header by the rule of [`super::layout`] when rows above it look like a
/// title, with the first title row's text; `None` when the first row is the header. `head`
/// is the file's first bytes decoded (it may end in the middle of a record).
pub fn title_above_header(head: &str) -> Option<(u64, u64, String)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(head))
        .from_reader(head.as_bytes());
    let bytes = head.as_bytes();
    let mut recs: Vec<(u64, Vec<String>)> = Vec::new();
    for r in rdr.byte_records().take(layout::SCAN_ROWS + 1) {
        let Ok(r) = r else { break };
        let cells: Vec<String> = r
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect();
        if layout::filled(&cells) == 0 {
            continue;
        }
        let mut at = r.position().map_or(0, |p| p.byte() as usize);
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        recs.push((limits::line_of(bytes, at), cells));
    }
    // The last record may be cut short by the end of `head`.
    if recs.len() > layout::SCAN_ROWS {
        recs.pop();
    }
    let rows: Vec<&[String]> = recs.iter().map(|r| &r.1[..]).collect();
    match layout::find_header(&rows) {
        0 => None,
        h => Some((
            recs[0].0,
            recs[h].0,
            layout::NotedRow::new(0, &recs[0].1).text,
        )),
    }
}

/// Physical lines in the text (a final line without newline counts).
fn count_lines(text: &str) -> u64 {
    let n = text.bytes().filter(|&b| b == b'\n').count() as u64;
    if text.ends_with('\n') || text.is_empty() {
        n
    } else {
        n + 1
    }
}

/// Collects rows as a reader meets them; at the end finds the header (the rules of
/// [`super::layout`]), fills merged cells, counts blank rows after the header, leaves out
/// trailing totals and footnote rows, and lists rows with the wrong number of fields as
/// problems.
pub struct RowCollector {
    name: String,
    header_row: Option<u64>,
    recs: Vec<(u64, Vec<String>)>,
    merges: Vec<Merge>,
    problems: Problems,
}

/// What a [`RowCollector`] found.
pub struct Collected {
    pub header: Vec<String>,
    pub rows: Vec<RawRow>,
    pub blank_rows: u64,
    pub adjusted: Adjusted,
}

impl RowCollector {
    /// A collector for the file `name`; `header_row` is `--header-row`.
    pub fn new(name: &str, header_row: Option<u64>) -> Self {
        RowCollector {
            name: name.to_string(),
            header_row,
            recs: Vec::new(),
            merges: Vec::new(),
            problems: Problems::new(),
        }
    }

    /// Records a problem found while reading (e.g. an unreadable cell).
    pub fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    /// The merge ranges of a sheet, filled in by [`RowCollector::finish`].
    pub fn merges(&mut self, merges: Vec<Merge>) {
        self.merges = merges;
    }

    /// Takes one row of trimmed cells found at `line` (lines in increasing order).
    pub fn push(&mut self, line: u64, cells: Vec<String>) {
        self.recs.push((line, cells));
    }

    /// The index in the rows of the header: the one on `--header-row`, else found.
    fn header_index(&self) -> Result<Option<usize>> {
        let nonblank: Vec<usize> = (0..self.recs.len())
            .filter(|&i| layout::filled(&self.recs[i].1) > 0)
            .collect();
        let Some(n) = self.header_row else {
            if nonblank.is_empty() {
                return Ok(None);
            }
            let rows: Vec<&[String]> = nonblank.iter().map(|&i| &self.recs[i].1[..]).collect();
            return Ok(Some(nonblank[layout::find_header(&rows)]));
        };
        match self.recs.iter().position(|r| r.0 == n) {
            Some(i) if layout::filled(&self.recs[i].1) > 0 => Ok(Some(i)),
            found => Err(Error::data(format!(
                "{}: --header-row {n}: {}\nhint: give the line (sheet row) that names the columns, as an editor or Excel numbers it",
                self.name,
                if found.is_some() {
                    "that row is empty".to_string()
                } else if self.recs.last().is_some_and(|r| r.0 < n) {
                    format!(
                        "the table ends on line {}",
                        self.recs.last().map_or(0, |r| r.0)
                    )
                } else {
                    "no row starts on that line".to_string()
                }
            ))),
        }
    }

    /// The header, rows, blank-row count and what was adjusted; `None` when there was no
    /// header; an error listing the problems (with `hint`) when there were any.
    pub fn finish(mut self, hint: &str) -> Result<Option<Collected>> {
        let Some(h) = self.header_index()? else {
            self.problems.into_result(hint)?;
            return Ok(None);
        };
        let header_line = self.recs[h].0;
        let mut adjusted = Adjusted {
            merged_ranges: layout::fill_merges(&mut self.recs, &self.merges, header_line)
                .map_err(|m| {
                    Error::data(format!(
                        "{}: {m}\nhint: the header must be one row: pass --header-row N with the row that names the columns",
                        self.name
                    ))
                })?,
            ..Adjusted::default()
        };
        let mut recs = std::mem::take(&mut self.recs).into_iter();
        for (line, cells) in recs.by_ref().take(h) {
            if layout::filled(&cells) > 0 {
                adjusted.title_rows.push(NotedRow::new(line, &cells));
            }
        }
        if !adjusted.title_rows.is_empty() {
            adjusted.header_line = Some(header_line);
        }
        let (_, mut cells) = recs.next().expect("the header row");
        // Trailing empty header cells beyond the last named column are not columns.
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        if cells.len() > limits::MAX_COLUMNS {
            self.problems.push(format!(
                "{}:{header_line}: a header of {} columns; svcaudit reads at most {}",
                self.name,
                cells.len(),
                limits::MAX_COLUMNS
            ));
        }
        let header = clean_header(cells);
        let data: Vec<(u64, Vec<String>)> = recs.collect();
        // Marker rows after the last other row are totals and footnotes.
        let end = data
            .iter()
            .rposition(|(_, c)| layout::filled(c) > 0 && !layout::is_marker_row(c))
            .map_or(0, |i| i + 1);
        let (mut rows, mut blank_rows) = (Vec::new(), 0);
        for (i, (line, cells)) in data.into_iter().enumerate() {
            if layout::filled(&cells) == 0 {
                blank_rows += 1;
            } else if i >= end {
                adjusted.skipped_rows.push(NotedRow::new(line, &cells));
            } else if let Some(cells) =
                fit_row(&self.name, line, &header, cells, &mut self.problems)
            {
                rows.push(RawRow { line, cells });
            }
        }
        self.problems.into_result(hint)?;
        Ok(Some(Collected {
            header,
            rows,
            blank_rows,
            adjusted,
        }))
    }
}

/// Trims header names and drops a BOM that survived (e.g. a BOM inside an xlsx cell).
pub fn clean_header(cells: Vec<String>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| c.trim_start_matches('\u{feff}').trim().to_string())
        .collect()
}

/// Checks a row's field count against the header. Missing trailing fields are an error;
/// extra trailing fields are accepted only when empty (Excel writes trailing delimiters).
pub fn fit_row(
    name: &str,
    line: u64,
    header: &[String],
    mut cells: Vec<String>,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let want = header.len();
    if cells.len() > want && cells[want..].iter().all(|c| c.is_empty()) {
        cells.truncate(want);
    }
    if cells.len() != want {
        problems.push(format!(
            "{name}:{line}: {} fields, but the header has {want} columns",
            cells.len()
        ));
        return None;
    }
    Some(cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    // The tests read through the door, as every command does.
    use crate::io::read::read_table_bytes;

    fn read(bytes: &[u8]) -> Result<RawTable> {
        read_table_bytes(Path::new("t.csv"), bytes, &ReadOptions::default())
    }

    #[test]
    fn utf8_bom_gbk_and_crlf_read_the_same() {
        let utf8 = "网点编号,网点名称\n1001, 广州天河 \n1002,深圳南山\n";
        let a = read(utf8.as_bytes()).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(utf8.as_bytes());
        let b = read(&bom).unwrap();
        let crlf = utf8.replace('\n', "\r\n");
        let (gbk, _, _) = encoding_rs::GBK.encode(&crlf);
        let c = read(&gbk).unwrap();
        assert_eq!(a.header, vec!["网点编号", "网点名称"]);
        assert_eq!(a.rows[0].cells, vec!["1001", "广州天河"]);
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.rows, c.rows);
        assert!(b.had_bom);
        assert_eq!(c.encoding, "gb18030");
    }

    #[test]
    fn utf16_with_bom_and_tabs_as_excel_unicode_text() {
        let text = "网点编号\t网点名称\r\n1001\t广州天河\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let t = read(&bytes).unwrap();
        assert_eq!(t.encoding, "UTF-16LE");
        assert_eq!(t.delimiter, Some('\t'));
        assert_eq!(t.rows[0].cells, vec!["1001", "广州天河"]);
    }

    #[test]
    fn line_numbers_are_physical_and_blank_rows_counted() {
        let t = read(b"id;name\n\n1;a\n;\n2;\"b\nc\"\n3;d\n").unwrap();
        assert_eq!(t.delimiter, Some(';'));
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 5, 7]);
        assert_eq!(t.blank_rows, 1);
        assert_eq!(t.empty_lines, 1);
    }

    #[test]
    fn wrong_field_counts_are_listed() {
        let e = read(b"id,name\n1,a,b\n2\n3,c,\n").unwrap_err();
        assert_eq!(
            e.message,
            "t.csv:2: 3 fields, but the header has 2 columns\nt.csv:3: 1 fields, but the header has 2 columns\nhint: every row must have as many fields as the header; quote cells that contain the delimiter"
        );
    }

    #[test]
    fn undecodable_bytes_name_the_line() {
        let e = read_table_bytes(
            Path::new("t.csv"),
            b"id\n1\n\xff\xff\n",
            &ReadOptions {
                encoding: Some("utf-8".into()),
                ..ReadOptions::default()
            },
        )
        .unwrap_err();
        assert!(
            e.message
                .starts_with("t.csv:3: the file is not valid UTF-8 text"),
            "{}",
            e.message
        );
    }
}
