//! Lists as an ERP exports them, drawn without hand edits: title rows above the header,
//! merged cells, totals and footnote rows, a notes sheet, numbers and dates stored as such.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};
use svcaudit::io::read::read_table_bytes;
use svcaudit::io::table::ReadOptions;

use crate::common::{root, run_in};

const HEADER: [&str; 6] = ["网点编号", "网点名称", "省份", "城市", "员工数", "开业日期"];

/// 24 outlets: 3 provinces of 8, 2 cities of 4 each; (id, name, province, city, staff,
/// opening date as an Excel serial and as shown).
fn outlets() -> Vec<(String, String, &'static str, &'static str, u32, f64, String)> {
    let places = [
        ("广东", ["广州", "深圳"]),
        ("江苏", ["南京", "苏州"]),
        ("四川", ["成都", "绵阳"]),
    ];
    let mut v = Vec::new();
    for (p, (prov, cities)) in places.iter().enumerate() {
        for i in 0..8 {
            let k = p * 8 + i;
            let city = cities[i / 4];
            // 2019-03-01 is serial 43525; one outlet opened every 37 days.
            let serial = 43525.0 + 37.0 * k as f64;
            let date = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()
                + chrono::Days::new(serial as u64);
            v.push((
                format!("S{:04}", 1001 + k),
                format!("{city}服务站{}", i + 1),
                *prov,
                city,
                8 + (k as u32 * 7) % 30,
                serial,
                date.format("%Y-%m-%d").to_string(),
            ));
        }
    }
    v
}

/// The ERP workbook: two title rows (the first merged across the table), the header on row
/// 3, 省份 and 城市 merged over their rows, a totals row and a footnote; the notes sheet 说明
/// first or second.
fn erp_workbook(path: &Path, notes_first: bool) {
    let mut wb = Workbook::new();
    let notes = |wb: &mut Workbook| {
        let ws = wb.add_worksheet().set_name("说明").unwrap();
        ws.write_string(0, 0, "本工作簿由DMS导出").unwrap();
        ws.write_string(1, 0, "网点清单见第二个工作表").unwrap();
    };
    if notes_first {
        notes(&mut wb);
    }
    let ws = wb.add_worksheet().set_name("网点清单").unwrap();
    let plain = Format::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.merge_range(0, 0, 0, 5, "2026年服务网点清单", &plain)
        .unwrap();
    ws.write_string(1, 0, "导出时间: 2026-01-05 09:30").unwrap();
    for (j, h) in HEADER.iter().enumerate() {
        ws.write_string(2, j as u16, *h).unwrap();
    }
    let rows = outlets();
    for (i, o) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string(r, 0, &o.0).unwrap();
        ws.write_string(r, 1, &o.1).unwrap();
        if i % 8 == 0 {
            ws.merge_range(r, 2, r + 7, 2, o.2, &plain).unwrap();
        }
        if i % 4 == 0 {
            ws.merge_range(r, 3, r + 3, 3, o.3, &plain).unwrap();
        }
        ws.write_number(r, 4, o.4).unwrap();
        ws.write_number_with_format(r, 5, o.5, &date).unwrap();
    }
    let end = 3 + rows.len() as u32;
    ws.write_string(end, 0, "合计").unwrap();
    ws.write_string(end, 1, "24个网点").unwrap();
    let staff: u32 = rows.iter().map(|o| o.4).sum();
    ws.write_number(end, 4, staff).unwrap();
    ws.write_string(end + 1, 0, "注：数据来源于DMS，截至2025年12月31日")
        .unwrap();
    if !notes_first {
        notes(&mut wb);
    }
    wb.save(path).unwrap();
}

/// The same outlets as a plain CSV (what a hand-edited copy would be).
fn plain_csv(path: &Path) {
    let mut s = HEADER.join(",") + "\n";
    for o in outlets() {
        s += &format!("{},{},{},{},{},{}\n", o.0, o.1, o.2, o.3, o.4, o.6);
    }
    std::fs::write(path, s).unwrap();
}

/// The ERP layout as a GBK CSV: a title line (with Excel's trailing commas), an export line
/// without them, the header, the data, a totals line and a footnote.
fn erp_csv_gbk(path: &Path) {
    let mut s = "2026年服务网点清单,,,,,\r\n导出时间: 2026-01-05 09:30\r\n".to_string();
    s += &(HEADER.join(",") + "\r\n");
    for o in outlets() {
        s += &format!("{},{},{},{},{},{}\r\n", o.0, o.1, o.2, o.3, o.4, o.6);
    }
    let staff: u32 = outlets().iter().map(|o| o.4).sum();
    s += &format!("合计,24个网点,,,{staff},\r\n注：数据来源于DMS\r\n");
    let (gbk, _, bad) = encoding_rs::GBK.encode(&s);
    assert!(!bad);
    std::fs::write(path, gbk).unwrap();
}

fn draw(dir: &Path, frame: &str, out: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "sample",
        "outlets",
        frame,
        "--seed",
        "20260105",
        "--out",
        out,
        "--strata",
        "省份",
        "--drawn-on",
        "2026-01-05",
        "--drawn-by",
        "tester",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn erp_workbook_is_drawn_as_exported_and_equals_the_plain_list() {
    let d = tempfile::tempdir().unwrap();
    erp_workbook(&d.path().join("outlets.xlsx"), false);
    plain_csv(&d.path().join("plain.csv"));
    let (code, _, err) = draw(d.path(), "plain.csv", "plain", &[]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = draw(d.path(), "outlets.xlsx", "erp", &[]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert_eq!(
        err,
        "note: outlets.xlsx: rows 1-2 above the header are a title, not data: \"2026年服务网点清单\"; the header is row 3\n\
         note: outlets.xlsx: 9 merged cell ranges filled with the value of their top-left cell\n\
         note: outlets.xlsx:28: a totals or footnote row, not an outlet; left out: \"合计 24个网点 534\"\n\
         note: outlets.xlsx:29: a totals or footnote row, not an outlet; left out: \"注：数据来源于DMS，截至2025年12月31日\"\n\
         drew 5 outlets (0 certainty, 5 at random) and 0 reserves from 24 rows (0 closed, 0 excluded) into erp\n"
    );
    let read = |p: &str| std::fs::read(d.path().join(p)).unwrap();
    assert_eq!(read("erp/sample.csv"), read("plain/sample.csv"));
    let (m, p) = (
        manifest(&d.path().join("erp")),
        manifest(&d.path().join("plain")),
    );
    assert_eq!(
        m["frame"]["sha256_canonical"],
        p["frame"]["sha256_canonical"]
    );
    assert_eq!(m["counts"]["skipped_rows"], 2);
    assert_eq!(m["counts"]["input_rows"], 24);
    assert_eq!(m["frame"]["adjusted"]["header_line"], 3);
    assert_eq!(m["frame"]["adjusted"]["merged_ranges"], 9);
    assert_eq!(m["frame"]["adjusted"]["skipped_rows"][0]["line"], 28);
    // A plain list's manifest carries none of it.
    assert!(p["frame"].get("adjusted").is_none());
    assert!(p["counts"].get("skipped_rows").is_none());
    assert!(p["frame"]["read"].get("header_row").is_none());
    let just = String::from_utf8(read("erp/justification.md")).unwrap();
    assert!(
        just.contains("按导出原样读取，未手工修改 Read as exported, without hand edits: 表头在第 3 行，第 1–2 行为标题（非数据）the header is on line 3, lines 1–2 above it are a title, not data; 9 处合并单元格按其左上角的值填充 9 merged cell ranges filled with their top-left value; 合计/注释行未计入（第 28, 29 行）totals and footnote rows left out (lines 28, 29)."),
        "{just}"
    );
    // The draw verifies from its manifest.
    let (code, _, err) = run_in(d.path(), &["verify", "erp"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_notes_sheet_first_asks_for_the_sheet_by_name() {
    let d = tempfile::tempdir().unwrap();
    erp_workbook(&d.path().join("outlets.xlsx"), true);
    let (code, _, err) = draw(d.path(), "outlets.xlsx", "erp", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: outlets.xlsx: the first sheet `说明` holds no table (no row with two filled cells), and sheet `网点清单` does; the workbook has: 说明, 网点清单\nhint: pass --sheet 网点清单\n"
    );
    let (code, _, err) = draw(d.path(), "outlets.xlsx", "erp", &["--sheet", "网点清单"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn erp_csv_in_gbk_is_drawn_as_exported() {
    let d = tempfile::tempdir().unwrap();
    erp_csv_gbk(&d.path().join("outlets.csv"));
    plain_csv(&d.path().join("plain.csv"));
    let (code, _, err) = draw(d.path(), "plain.csv", "plain", &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = draw(d.path(), "outlets.csv", "erp", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        "note: outlets.csv: lines 1-2 above the header are a title, not data: \"2026年服务网点清单\"; the header is line 3\n\
         note: outlets.csv:28: a totals or footnote row, not an outlet; left out: \"合计 24个网点 534\"\n\
         note: outlets.csv:29: a totals or footnote row, not an outlet; left out: \"注：数据来源于DMS\"\n\
         drew 5 outlets (0 certainty, 5 at random) and 0 reserves from 24 rows (0 closed, 0 excluded) into erp\n"
    );
    let read = |p: &str| std::fs::read(d.path().join(p)).unwrap();
    assert_eq!(read("erp/sample.csv"), read("plain/sample.csv"));
    // --header-row says the same explicitly, and is recorded.
    let (code, _, err) = draw(d.path(), "outlets.csv", "explicit", &["--header-row", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read("explicit/sample.csv"), read("plain/sample.csv"));
    assert_eq!(
        manifest(&d.path().join("explicit"))["frame"]["read"]["header_row"],
        3
    );
    let (code, _, err) = run_in(d.path(), &["verify", "explicit"]);
    assert_eq!(code, 0, "{err}");
}

fn read(text: &str) -> svcaudit::error::Result<svcaudit::io::table::RawTable> {
    read_table_bytes(Path::new("t.csv"), text.as_bytes(), &ReadOptions::default())
}

fn ids(t: &svcaudit::io::table::RawTable) -> Vec<&str> {
    t.rows.iter().map(|r| r.cells[0].as_str()).collect()
}

#[test]
fn header_row_option_and_its_errors() {
    let text = "清单\nid,name,city\n1,a,x\n2,b,y\n";
    let with = |n| {
        read_table_bytes(
            Path::new("t.csv"),
            text.as_bytes(),
            &ReadOptions {
                header_row: Some(n),
                ..ReadOptions::default()
            },
        )
    };
    let t = with(2).unwrap();
    assert_eq!(t.header, ["id", "name", "city"]);
    assert_eq!(t.adjusted.title_rows.len(), 1);
    // Row 3 named as the header: the rows above are a title, whatever they hold.
    let t = with(3).unwrap();
    assert_eq!(t.header, ["1", "a", "x"]);
    assert_eq!(t.adjusted.title_rows.len(), 2);
    assert_eq!(
        with(9).unwrap_err().message,
        "t.csv: --header-row 9: the table ends on line 4\nhint: give the line (sheet row) that names the columns, as an editor or Excel numbers it"
    );
    let t = read_table_bytes(
        Path::new("t.csv"),
        b"id,name\n\n1,a\n",
        &ReadOptions {
            header_row: Some(2),
            ..ReadOptions::default()
        },
    );
    assert!(
        t.unwrap_err()
            .message
            .starts_with("t.csv: --header-row 2: no row starts on that line"),
    );
}

#[test]
fn totals_rows_only_at_the_end_or_without_an_id() {
    // Trailing totals and footnotes go; 合计维修站 is an outlet wherever it is.
    let t = read("网点编号,网点名称\n1,合计维修站\n2,b\n3,合计维修站二\n小计,3\n注：完\n").unwrap();
    assert_eq!(ids(&t), ["1", "2", "3"]);
    let lines: Vec<u64> = t.adjusted.skipped_rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5, 6]);
    // A name column first: an outlet named so is not a marker row.
    let t = read("网点名称,网点编号\n合计维修站,1\n").unwrap();
    assert_eq!(t.rows.len(), 1);
    assert!(t.adjusted.is_empty());
    // A subtotal between data rows, without an id: left out by the frame, with its line.
    let t = read("省份,网点编号,网点名称\n广东,1,a\n小计,,1\n江苏,2,b\n合计,,2\n").unwrap();
    assert_eq!(t.rows.len(), 3);
    let f = svcaudit::io::frame::Frame::new(t, None, &svcaudit::io::frame::outlet_list_id_names())
        .unwrap();
    assert_eq!(f.len(), 2);
    let lines: Vec<u64> = f
        .table
        .adjusted
        .skipped_rows
        .iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, [3, 5]);
    // Between data rows with an id: it could be an outlet, so an error naming the line.
    let t = read("省份,网点编号\n广东,1\n合计：8,2\n江苏,3\n").unwrap();
    let e = svcaudit::io::frame::Frame::new(t, None, &svcaudit::io::frame::outlet_list_id_names())
        .unwrap_err();
    assert_eq!(
        e.message,
        "t.csv:3: a totals or footnote row (\"合计：8\") between data rows, but its id column 网点编号 holds `2`: it could be an outlet\nhint: svcaudit leaves out a totals row (合计, 小计, 注: …) only when it ends the list or has no id; ask for the list as exported without such rows, or name another id column with --id-col"
    );
}

#[test]
fn a_plain_table_reads_as_before() {
    // Narrow first rows are a header when no row is more than twice as wide.
    let t = read("id,reason\n1,closed\n2,moved\n").unwrap();
    assert_eq!(t.header, ["id", "reason"]);
    assert!(t.adjusted.is_empty());
    let t = read("id\n1\n2\n").unwrap();
    assert_eq!(ids(&t), ["1", "2"]);
}

#[test]
fn customer_csv_with_a_title_asks_for_header_row() {
    let d = tempfile::tempdir().unwrap();
    let recs = root().join("data/example/customers.csv");
    let body = std::fs::read_to_string(&recs).unwrap();
    std::fs::write(d.path().join("recs.csv"), format!("2025年服务记录\n{body}")).unwrap();
    let args = [
        "sample",
        "customers",
        "recs.csv",
        "--seed",
        "7",
        "--out",
        "c",
        "--drawn-on",
        "2026-01-05",
    ];
    let (code, _, err) = run_in(d.path(), &args);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: recs.csv:1: \"2025年服务记录\" looks like a title above the header, which seems to be on line 2\nhint: pass --header-row 2 if that line names the columns (the file is then read whole rather than streamed)\n"
    );
    let mut with = args.to_vec();
    with.extend(["--header-row", "2"]);
    let (code, _, err) = run_in(d.path(), &with);
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("note: recs.csv: line 1 above the header is a title, not data: \"2025年服务记录\"; the header is line 2\n"), "{err}");
}

/// The real dealer lists of `../shared/realfiles` (see its SOURCES.md), drawn as they are:
/// what each does is pinned, the refusals with their whole message.
#[test]
fn real_dealer_lists_are_drawn_or_refused_as_pinned() {
    let real = root().join("../shared/realfiles");
    if !real.is_dir() {
        eprintln!("skipped: {} is absent", real.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "list_byd.csv",
            "id",
            "drew 23 outlets (0 certainty, 23 at random) and 0 reserves from 517 rows (0 closed, 0 excluded) into o\n",
        ),
        (
            "list_faw_toyota.csv",
            "id",
            "drew 29 outlets (0 certainty, 29 at random) and 0 reserves from 833 rows (0 closed, 0 excluded) into o\n",
        ),
        (
            "list_faw_vw.csv",
            "vd_id",
            "drew 31 outlets (0 certainty, 31 at random) and 0 reserves from 923 rows (0 closed, 0 excluded) into o\n",
        ),
        (
            "list_svw.csv",
            "code",
            "drew 37 outlets (0 certainty, 37 at random) and 0 reserves from 1330 rows (0 closed, 0 excluded) into o\n",
        ),
        (
            "list_ford_20200403.xlsx",
            "编号",
            "drew 35 outlets (0 certainty, 35 at random) and 0 reserves from 1175 rows (0 closed, 0 excluded) into o\n",
        ),
    ];
    for (file, id, want) in cases {
        let frame = real.join(file).display().to_string();
        let args = [
            "sample", "outlets", &frame, "--seed", "1", "--out", "o", "--force",
        ];
        let (code, _, err) = run_in(d.path(), &[&args[..], &["--id-col", id]].concat());
        assert_eq!((code, err.as_str()), (0, want), "{file}");
    }
    let refused = |file: &str, id: &str| {
        let frame = format!("../shared/realfiles/{file}");
        let args = [
            "sample", "outlets", &frame, "--seed", "1", "--id-col", id, "--out",
        ];
        let out = d.path().join("refused").display().to_string();
        run_in(&root(), &[&args[..], &[out.as_str()]].concat())
    };
    // The dealer code is empty on one row of the FAW-VW list: refused, naming it.
    let (code, _, err) = refused("list_faw_vw.csv", "vd_dealerCode");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: ../shared/realfiles/list_faw_vw.csv:48:9: column vd_dealerCode: empty id\nhint: every unit needs its own id; remove duplicated rows or correct the ids, then run again\n"
    );
    // The Buick list has rows short of the header's 20 fields.
    let (code, _, err) = refused("list_buick.csv", "dealerCode");
    assert_eq!(code, 1);
    crate::common::assert_golden("realfiles_buick_refused.txt", &err);
}

/// CRC-32 (IEEE) of `data`, for the zip below.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A zip of stored (uncompressed) files: enough for a workbook whose cell is longer than
/// Excel (and rust_xlsxwriter) would write, as a crafted file can hold.
fn stored_zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let offset = out.len() as u32;
        let (crc, len) = (crc32(data), data.len() as u32);
        let fields = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            for v in [20u16, 0, 0, 0, 0] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, len, len] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                for v in [0u16, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes());
                }
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(fields(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(fields(0x0201_4b50, true));
    }
    let (at, size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, files.len() as u16, files.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in [size, at] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[test]
fn an_xlsx_cell_over_1_mib_is_refused_naming_sheet_and_cell() {
    let cell = |r: &str, v: &str| format!("<c r=\"{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>");
    let long = "x".repeat((1 << 20) + 1);
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">{}{}</row><row r=\"2\">{}{}</row><row r=\"7\">{}{}</row></sheetData></worksheet>",
        cell("A1", "网点编号"),
        cell("B1", "网点名称"),
        cell("A2", "1"),
        cell("B2", "a"),
        cell("A7", "2"),
        cell("B7", &long)
    );
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let files = [
        ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>".to_string()),
        ("_rels/.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>")),
        ("xl/workbook.xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"{rel}\"><sheets><sheet name=\"网点\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>")),
        ("xl/_rels/workbook.xml.rels", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"{rel}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>")),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let files: Vec<(&str, Vec<u8>)> = files
        .into_iter()
        .map(|(n, s)| (n, s.into_bytes()))
        .collect();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("big.xlsx"), stored_zip(&files)).unwrap();
    let (code, _, err) = run_in(
        d.path(),
        &["sample", "outlets", "big.xlsx", "--seed", "1", "--out", "o"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: big.xlsx:7:2: cell B7 of sheet `网点` holds 1048577 bytes; svcaudit reads cells of at most 1 MiB\nhint: remove the long text from the cell\n"
    );
    assert!(!d.path().join("o").exists());
}
