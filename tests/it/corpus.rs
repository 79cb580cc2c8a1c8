//! Hostile and broken input (tests/corpus/README.md): every file gets a clear error naming
//! the file (and the line where there is one), never a panic, never a silent loss.

use std::path::Path;

use crate::common::{root, run_in};

fn outlets(dir: &Path, file: &str) -> (i32, String) {
    let (code, _, err) = run_in(
        dir,
        &[
            "sample", "outlets", file, "--seed", "1", "--out", "o", "--force",
        ],
    );
    (code, err)
}

fn customers(dir: &Path, file: &str) -> (i32, String) {
    let (code, _, err) = run_in(
        dir,
        &[
            "sample",
            "customers",
            file,
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            "c",
            "--force",
        ],
    );
    (code, err)
}

#[test]
fn the_corpus_gets_clear_errors() {
    let dir = root().join("tests/corpus");
    let t = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&dir).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().to_string();
        std::fs::copy(dir.join(&name), t.path().join(&name)).unwrap();
    }
    let cases: &[(&str, &str)] = &[
        ("empty.csv", "empty.csv: the file is empty (no header row)"),
        (
            "only_blank_lines.csv",
            "only_blank_lines.csv: the file is empty",
        ),
        (
            "header_only.csv",
            "header_only.csv: no eligible outlets (0 rows",
        ),
        (
            "unbalanced_quote.csv",
            "unbalanced_quote.csv:2: a quote (\") opens a cell here and is never closed",
        ),
        (
            "mixed_encoding.csv",
            "mixed_encoding.csv:3: not UTF-8, although the lines before it are",
        ),
        ("nul.csv", "nul.csv:2: a NUL byte"),
        ("junk.bin", "junk.bin:1: the file is not valid gb18030 text"),
        ("bad.xlsx", "bad.xlsx: not a readable .xlsx workbook"),
        (
            "xlsx_overflow_ref.xlsx",
            "xlsx_overflow_ref.xlsx: not a readable .xlsx workbook",
        ),
        (
            "xlsx_far_cell.xlsx",
            "xlsx_far_cell.xlsx: sheet `Sheet1`: its cells span 16384 columns (A..XFD); svcaudit reads at most 1000. The farthest cell is XFD1048576",
        ),
        (
            "xlsx_far_row.xlsx",
            "xlsx_far_row.xlsx: sheet `Sheet1`: its cells span rows 1 to 1048576 and 1000 columns, more than 20000000 cells",
        ),
    ];
    for (file, want) in cases {
        let (code, err) = outlets(t.path(), file);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains(want), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
    // Read correctly: CRLF, a quoted comma and doubled quotes.
    let (code, err) = outlets(t.path(), "crlf_quotes_ok.csv");
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(t.path().join("o/sample.csv")).unwrap();
    assert!(
        s.contains("\"广州, 天河店\"") && s.contains("\"深圳\"\"南山\"\"店\""),
        "{s}"
    );
    // UTF-16 without a BOM is recognised by its zero bytes, by both readers (it was a NUL-byte
    // error to one and a garbled GB18030 header to the other).
    let (code, err) = outlets(t.path(), "utf16_no_bom.csv");
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(t.path().join("o/sample.csv")).unwrap();
    assert!(
        s.starts_with(
            "unit_id,stratum,role,rank,prn,inclusion_prob,weight,网点编号,网点名称\nWD1,"
        ),
        "{s}"
    );
    let (code, err) = customers(t.path(), "utf16_no_bom.csv");
    assert_eq!(code, 1);
    assert!(
        err.contains("the header has: 网点编号, 网点名称\n"),
        "{err}"
    );
    // The customer reader on the files it shares with the outlet reader.
    for (file, want) in [
        ("empty.csv", "the file is empty"),
        ("mixed_encoding.csv", "mixed_encoding.csv:3: not UTF-8"),
        ("junk.bin", "junk.bin:1:"),
        ("bad.xlsx", "not a readable .xlsx workbook"),
    ] {
        let (code, err) = customers(t.path(), file);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains(want), "{file}: {err}");
    }
}

#[test]
fn limits_on_columns_cells_and_records_give_clear_errors() {
    let t = tempfile::tempdir().unwrap();
    // Ten thousand columns.
    let header: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    std::fs::write(
        t.path().join("wide.csv"),
        format!("{}\n{}\n", header.join(","), header.join(",")),
    )
    .unwrap();
    let (code, err) = outlets(t.path(), "wide.csv");
    assert_eq!(code, 1);
    assert!(
        err.contains("wide.csv:1: 10000 fields; svcaudit reads at most 1000 columns"),
        "{err}"
    );
    assert!(
        err.len() < 2000,
        "the message lists every column: {} bytes",
        err.len()
    );
    let (code, err) = customers(t.path(), "wide.csv");
    assert_eq!(code, 1);
    assert!(err.contains("a header of 10000 columns"), "{err}");
    // A 100 MB single line.
    let mut long = String::from("网点编号,网点名称\nWD1,");
    long.push_str(&"x".repeat(100 << 20));
    long.push('\n');
    std::fs::write(t.path().join("long.csv"), &long).unwrap();
    let (code, err) = outlets(t.path(), "long.csv");
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "long.csv:2:2: a cell of 104857600 bytes; svcaudit reads cells of at most 1 MiB"
        ),
        "{err}"
    );
    drop(long);
    // The streamed reader: a 20 MB record, a 2 MB cell, a NUL byte, an unclosed quote; and a
    // 40 MB record with more rows after it, longer than a record may be.
    let head = "record_id,outlet_id,phone,service_date\nR1,O1,13900000001,2025-01-01\n";
    let cases = [
        (
            "record.csv",
            format!("{head}R2,O1,{},2025-01-01\n", "9".repeat(20 << 20)),
            "record.csv:3:3: a cell of 20971520 bytes",
        ),
        (
            "cell.csv",
            format!("{head}R2,{},13900000002,2025-01-01\n", "O".repeat(2 << 20)),
            "cell.csv:3:2: a cell of 2097152 bytes",
        ),
        (
            "nul.csv",
            format!("{head}R2,O1,139\u{0}00000002,2025-01-01\n"),
            "nul.csv:3: a NUL byte",
        ),
        (
            "quote.csv",
            format!("{head}R2,\"O1,13900000002,2025-01-01\nR3,O1,13900000003,2025-01-01\n"),
            "quote.csv:3: a quote (\") opens a cell here and is never closed",
        ),
    ];
    let huge = format!(
        "{head}R2,O1,{},2025-01-01\n{}",
        "9".repeat(40 << 20),
        "R3,O1,13900000003,2025-01-01\n".repeat(1 << 20)
    );
    std::fs::write(t.path().join("huge.csv"), huge).unwrap();
    let (code, err) = customers(t.path(), "huge.csv");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("huge.csv:3: a record longer than 16 MiB starts here"),
        "{err}"
    );
    for (file, text, want) in cases {
        std::fs::write(t.path().join(file), text).unwrap();
        let (code, err) = customers(t.path(), file);
        assert_eq!(code, 1, "{file}: {err}");
        assert!(err.contains(want), "{file}: {err}");
    }
}

#[test]
fn xlsx_formula_cells_are_read_as_shown() {
    let t = tempfile::tempdir().unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["网点编号", "网点名称", "员工数"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..=3u32 {
        ws.write_string(r, 0, format!("WD{r}")).unwrap();
        ws.write_string(r, 1, format!("网点{r}")).unwrap();
        ws.write_formula(
            r,
            2,
            rust_xlsxwriter::Formula::new(format!("={r}*2")).set_result((r * 2).to_string()),
        )
        .unwrap();
    }
    wb.save(t.path().join("f.xlsx")).unwrap();
    let (code, err) = outlets(t.path(), "f.xlsx");
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(t.path().join("o/sample.csv")).unwrap();
    let rows: Vec<&str> = s.lines().skip(1).collect();
    assert!(!rows.is_empty());
    for row in rows {
        let c: Vec<&str> = row.split(',').collect();
        let r: u32 = c[7].trim_start_matches("WD").parse().unwrap();
        assert_eq!(c[9], (r * 2).to_string(), "{row}");
    }
}

#[test]
fn broken_schemes_get_errors_with_lines() {
    let dir = root().join("tests/corpus");
    let (code, _, err) = crate::common::run_in(&dir, &["scheme", "check", "scheme_cycle.toml"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "scheme_cycle.toml:27: the groups form a cycle: H (line 27) → K (line 32) → H (line 27)"
        ),
        "{err}"
    );
    let (code, _, err) =
        crate::common::run_in(&dir, &["scheme", "check", "scheme_unknown_item.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("scheme_unknown_item.toml:"), "{err}");
    assert!(err.contains("unknown field `weight`"), "{err}");
    // Without the unknown key, the undefined indicator is named with its line.
    let text = std::fs::read_to_string(dir.join("scheme_unknown_item.toml"))
        .unwrap()
        .replace("weight = 2\n", "");
    let e = svcaudit::scoring::scheme::Scheme::parse("s.toml", &text).unwrap_err();
    assert!(
        e.message
            .contains("item Q1: its indicator I9 is not defined"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("indicator I2: nothing belongs to it"),
        "{}",
        e.message
    );
}

#[test]
fn audit_files_cannot_reach_outside_their_folder() {
    let t = tempfile::tempdir().unwrap();
    let reports = t.path().join("reports");
    let reports = reports.to_str().unwrap();
    let (code, _, err) = crate::common::run_in(
        &root(),
        &[
            "plan",
            "tests/corpus/audit_parent_paths.toml",
            "--reports",
            reports,
        ],
    );
    assert_eq!(code, 1, "{err}");
    for (line, key, value) in [
        (7, "outlets] frame", "../../../../etc/passwd"),
        (8, "outlets] include", "/etc/shadow"),
        (9, "outlets] visited", "sub/../../x.csv"),
    ] {
        assert!(
            err.contains(&format!(
                "tests/corpus/audit_parent_paths.toml:{line}: [{key} = {value:?}: leads outside the audit file's folder"
            )),
            "{line}: {err}"
        );
    }
    assert!(!err.contains("\"ok.csv\""), "{err}");
    // score checks its own section the same way, before anything else.
    let (code, _, err) = crate::common::run_in(
        &root(),
        &[
            "score",
            "tests/corpus/audit_parent_paths.toml",
            "--reports",
            reports,
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "audit_parent_paths.toml:12: [score] responses = \"../results.csv\": leads outside"
        ),
        "{err}"
    );
    assert!(!t.path().join("reports").exists(), "nothing written");
    let (code, _, err) = crate::common::run_in(
        &root(),
        &[
            "plan",
            "tests/corpus/audit_bad_id.toml",
            "--reports",
            reports,
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("tests/corpus/audit_bad_id.toml:3: [audit] id \"../../../tmp/pwned\""),
        "{err}"
    );
    assert!(!t.path().join("reports").exists() && !t.path().join("tmp").exists());
}
