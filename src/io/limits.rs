//! What svcaudit refuses to read, and the checks that find it (README, "Limits"). Applicant
//! files are untrusted: a limit turns a file that would exhaust memory or hide rows into a
//! clear error with its line.

/// Columns in a table.
pub const MAX_COLUMNS: usize = 1000;
/// Bytes in one cell.
pub const MAX_FIELD: usize = 1 << 20;
/// Bytes in one record of a streamed file.
pub const MAX_RECORD: usize = 16 << 20;
/// Cells of an xlsx sheet: the filled ones, and the rectangle from the first to the last
/// (a workbook is read whole; 20 million is a full sheet of 1,048,576 rows × 19 columns).
pub const MAX_XLSX_CELLS: usize = 20_000_000;

/// The byte offset of a quote that opens a field and is never closed, following the CSV
/// rules the readers use: a quote opens a field only at its start (after white space too
/// when `after_spaces`, as the streaming reader allows); `""` inside is a quote.
pub fn unclosed_quote(data: &[u8], delimiter: u8, after_spaces: bool) -> Option<usize> {
    let mut at_start = true;
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if open.is_some() {
            if b == b'"' {
                if data.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                open = None;
                at_start = false;
            }
        } else if b == b'"' && at_start {
            open = Some(i);
        } else if b == delimiter || b == b'\n' {
            at_start = true;
        } else if !(after_spaces && at_start && (b == b' ' || b == b'\t' || b == b'\r')) {
            at_start = false;
        }
        i += 1;
    }
    open
}

/// Whether valid UTF-8 text shows that its file is UTF-8: at least 8 multi-byte characters
/// (a GBK file's first bytes look like UTF-8 by chance for a character or two, not eight).
pub fn looks_utf8(valid: &[u8]) -> bool {
    valid.iter().filter(|&&b| b >= 0xC2).count() >= 8
}

/// The 1-based line of byte `at`.
pub fn line_of(data: &[u8], at: usize) -> u64 {
    memchr::memchr_iter(b'\n', &data[..at.min(data.len())]).count() as u64 + 1
}

/// The header's cells, listed for a message: the first 30, then how many more.
pub fn list_columns(header: &[String]) -> String {
    if header.len() <= 30 {
        return header.join(", ");
    }
    format!(
        "{}, … ({} columns in all)",
        header[..30].join(", "),
        header.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_open_only_at_the_start_of_a_field() {
        assert_eq!(unclosed_quote(b"a,\"b\nc,d\n", b',', false), Some(2));
        assert_eq!(unclosed_quote(b"a,\"b\"\"c\"\nd\n", b',', false), None);
        // A quote inside an unquoted field is a character, as in 32" TV.
        assert_eq!(unclosed_quote(b"a,32\" TV\nb,c\n", b',', false), None);
        assert_eq!(unclosed_quote(b"a, \"x,y\"\n", b',', true), None);
        assert_eq!(unclosed_quote(b"a, \"x\n", b',', false), None);
        assert_eq!(unclosed_quote(b"a, \"x\n", b',', true), Some(3));
        assert_eq!(unclosed_quote(b"a;\"x;y\n", b';', false), Some(2));
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
    }
}
