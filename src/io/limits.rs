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

/// The README's table of encodings, line endings and limits (tests/it/front_door.rs checks
/// that the README holds exactly this).
pub fn readme_table() -> String {
    let thousands = |n: usize| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let rows = [
        (
            "encodings",
            "UTF-8; UTF-8 with BOM; UTF-16 LE or BE with a BOM, or without one (recognised by its zero bytes); GBK/GB18030 when the bytes are not UTF-8; `--encoding` overrides. A file that mixes UTF-8 and GBK rows is refused at its first GBK line.".to_string(),
        ),
        (
            "line endings",
            "LF, CRLF and CR alone, in every reader".to_string(),
        ),
        (
            "delimiters",
            "`,` `;` tab `\\|`, sniffed from the first line".to_string(),
        ),
        ("columns", format!("at most {}", thousands(MAX_COLUMNS))),
        (
            "one cell",
            format!("at most {} MiB, in CSV and xlsx alike", MAX_FIELD >> 20),
        ),
        (
            "one record of a streamed file",
            format!("at most {} MiB", MAX_RECORD >> 20),
        ),
        (
            "an xlsx sheet",
            format!(
                "at most {} cells, filled and in the rectangle from the first to the last",
                thousands(MAX_XLSX_CELLS)
            ),
        ),
        (
            "refused outright",
            "a NUL byte outside UTF-16 (binary data), a quote that never closes".to_string(),
        ),
    ];
    let mut t = String::from("| what | rule |\n|---|---|\n");
    for (what, rule) in rows {
        t.push_str(&format!("| {what} | {rule} |\n"));
    }
    t
}

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

/// UTF-16 without a BOM, recognised by its zero bytes: text files hold no NUL byte, while
/// UTF-16 writes one beside every ASCII character (the delimiter, the newline, digits). Little
/// endian when the zeros are at odd offsets only and a newline `0A 00` starts at an even
/// offset; big endian the other way round. Looks at the first 64 KiB.
pub fn sniff_utf16(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(1 << 16) & !1];
    let pairs = head.len() / 2;
    let (mut even, mut odd) = (0usize, 0usize);
    let (mut lf_le, mut lf_be) = (false, false);
    for p in head.chunks_exact(2) {
        even += usize::from(p[0] == 0);
        odd += usize::from(p[1] == 0);
        lf_le |= p == [b'\n', 0];
        lf_be |= p == [0, b'\n'];
    }
    let enough = |zeros: usize| pairs >= 2 && zeros >= 2.max(pairs / 50);
    if even == 0 && enough(odd) && lf_le {
        Some(encoding_rs::UTF_16LE)
    } else if odd == 0 && enough(even) && lf_be {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
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
    fn utf16_without_bom_is_recognised_by_its_zeros() {
        let text = "网点编号,网点名称\nWD1,广州天河\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(sniff_utf16(&le), Some(encoding_rs::UTF_16LE));
        assert_eq!(sniff_utf16(&be), Some(encoding_rs::UTF_16BE));
        assert_eq!(sniff_utf16(text.as_bytes()), None);
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(sniff_utf16(&gbk), None);
        // A binary file with scattered zeros is not UTF-16.
        assert_eq!(sniff_utf16(b"\0\x01\0\x02\x03\0\n\0"), None);
    }

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
