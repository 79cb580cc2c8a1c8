//! The customer draw: invariance to row order, encoding, block size and thread count;
//! golden outputs on the example data; flagged rows and errors with their lines; masking;
//! verify; and inclusion frequencies against the stated probabilities.

use std::collections::HashMap;
use std::path::Path;

use crate::common::{assert_golden, root, run_in, svcaudit};
use svcaudit::customers::draw_customers;
use svcaudit::io::table::ReadOptions;
use svcaudit::model::Role;
use svcaudit::seed::Seed;

/// A deterministic synthetic record list: `people` persons over `outlets` outlets, some served
/// several times and some at two outlets, with dates in 2025.
fn records(people: usize, outlets: usize, salt: u64) -> Vec<String> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ salt;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut rows = Vec::new();
    let mut id = 0;
    for p in 0..people {
        let phone = format!("139{:08}", p * 7919 % 100_000_000);
        let home = (next() % outlets as u64) as usize;
        let visits = 1 + (next() % 3 == 0) as usize + (next() % 7 == 0) as usize;
        for v in 0..visits {
            let outlet = if v > 0 && next() % 4 == 0 {
                (next() % outlets as u64) as usize
            } else {
                home
            };
            id += 1;
            let m = 1 + next() % 12;
            let d = 1 + next() % 28;
            rows.push(format!(
                "R{id:05},O{outlet:03},客户{p},{phone},2025-{m:02}-{d:02},维修,\"空调, 柜机\""
            ));
        }
    }
    rows
}

const HEADER: &str = "record_id,outlet_id,name,phone,service_date,service_type,product";

fn write(path: &Path, rows: &[String]) {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn draw(dir: &Path, file: &str, out: &str, extra: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let mut c = svcaudit();
    c.current_dir(dir).args([
        "sample",
        "customers",
        file,
        "--seed",
        "7",
        "--per-outlet",
        "3",
        "--reserve",
        "2",
        "--drawn-on",
        "2026-11-22",
        "--out",
        out,
    ]);
    c.args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(dir.join(out).join("sample.csv")).unwrap()
}

#[test]
fn the_draw_ignores_row_order_blocks_threads_and_encoding() {
    let t = tempfile::tempdir().unwrap();
    let rows = records(400, 12, 1);
    write(&t.path().join("a.csv"), &rows);
    let base = draw(t.path(), "a.csv", "a", &[], &[("SVCAUDIT_THREADS", "1")]);
    // Tiny blocks: the streaming reader cuts the file into hundreds of chunks.
    let small = draw(
        t.path(),
        "a.csv",
        "b",
        &["--stream-block", "300"],
        &[("SVCAUDIT_THREADS", "2")],
    );
    assert_eq!(base, small);
    // Read through read() rather than mapped, with a block smaller than a page.
    let read = draw(
        t.path(),
        "a.csv",
        "r",
        &["--no-mmap", "--stream-block", "700"],
        &[],
    );
    assert_eq!(base, read);
    // Blocks of 64 bytes, shorter than many records: the reader must widen them.
    for (name, no_mmap) in [("w1", false), ("w2", true)] {
        let mut args = vec!["--stream-block", "64"];
        if no_mmap {
            args.push("--no-mmap");
        }
        assert_eq!(base, draw(t.path(), "a.csv", name, &args, &[]));
    }
    // Reversed and rotated rows, CRLF, semicolons and stray spaces.
    let mut shuffled = rows.clone();
    shuffled.reverse();
    shuffled.rotate_left(77);
    let crlf: String = std::iter::once(HEADER.replace(',', ";"))
        .chain(shuffled.iter().map(|r| {
            r.replace("\"空调, 柜机\"", "\"空调, 柜机\" ")
                .replace(',', ";")
                .replace("空调; 柜机", "空调, 柜机")
        }))
        .map(|l| format!(" {l}\r\n"))
        .collect();
    std::fs::write(t.path().join("c.csv"), crlf).unwrap();
    let c = draw(t.path(), "c.csv", "c", &["--stream-block", "500"], &[]);
    assert_eq!(base, c);
    // The same records as GBK (read whole, not streamed).
    let text = std::fs::read_to_string(t.path().join("a.csv")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    std::fs::write(t.path().join("d.csv"), &gbk).unwrap();
    let d = draw(t.path(), "d.csv", "d", &[], &[]);
    assert_eq!(base, d);
    // UTF-16 with a BOM (Excel "Unicode text"), in tiny blocks: decoded into a UTF-8 copy
    // and streamed.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(t.path().join("u.csv"), &utf16).unwrap();
    let u = draw(t.path(), "u.csv", "u", &["--stream-block", "400"], &[]);
    assert_eq!(base, u);
    let frame = |dir: &str| -> serde_json::Value {
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(t.path().join(dir).join("manifest.json")).unwrap(),
        )
        .unwrap();
        m["frame"].clone()
    };
    // The manifest names the original's encoding and hashes the original's bytes.
    for (dir, file, enc) in [("d", "d.csv", "gb18030"), ("u", "u.csv", "UTF-16LE")] {
        let f = frame(dir);
        assert_eq!(f["encoding"], enc, "{f}");
        let bytes = std::fs::read(t.path().join(file)).unwrap();
        assert_eq!(f["sha256_bytes"], svcaudit::seed::sha256_hex(&bytes), "{f}");
        assert_eq!(f["sha256_canonical"], frame("a")["sha256_canonical"]);
    }
    // The canonical digest of the re-saved copies equals the original's.
    let canon = |dir: &str| {
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(t.path().join(dir).join("manifest.json")).unwrap(),
        )
        .unwrap();
        m["frame"]["sha256_canonical"].as_str().unwrap().to_string()
    };
    assert_eq!(canon("a"), canon("b"));
    assert_eq!(canon("a"), canon("d"));
    // Another seed gives another sample.
    let mut c = svcaudit();
    let o = c
        .current_dir(t.path())
        .args([
            "sample",
            "customers",
            "a.csv",
            "--seed",
            "8",
            "--per-outlet",
            "3",
            "--out",
            "e",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_ne!(base, std::fs::read(t.path().join("e/sample.csv")).unwrap());
}

#[test]
fn example_draw_golden_masked_and_verifiable() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path();
    let (code, _, err) = run_in(
        &root(),
        &[
            "sample",
            "outlets",
            "data/example/outlets.csv",
            "--seed",
            "20261122",
            "--strata",
            "省份",
            "--reserve",
            "2",
            "--drawn-on",
            "2026-11-22",
            "--out",
            out.join("o").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_in(
        &root(),
        &[
            "sample",
            "customers",
            "data/example/customers.csv",
            "--outlets",
            out.join("o").to_str().unwrap(),
            "--seed",
            "20261122",
            "--reserve",
            "3",
            "--response-rate",
            "0.6",
            "--since",
            "2025-01-01",
            "--drawn-on",
            "2026-11-22",
            "--drawn-by",
            "tester",
            "--out",
            out.join("c").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 rows were flagged"), "{err}");
    let c = out.join("c");
    let sample = std::fs::read_to_string(c.join("sample.csv")).unwrap();
    assert_golden("customers_sample.csv", &sample);
    assert_golden(
        "customers_flagged.csv",
        &std::fs::read_to_string(c.join("flagged.csv")).unwrap(),
    );
    // Personal data: full phones only in the call sheet.
    let call = std::fs::read_to_string(c.join("call_sheet.csv")).unwrap();
    let phone_re = |s: &str| {
        s.split(|ch: char| !ch.is_ascii_digit())
            .any(|w| w.len() == 11 && w.starts_with('1'))
    };
    assert!(phone_re(&call));
    for f in ["sample.csv", "manifest.json", "justification.md"] {
        let s = std::fs::read_to_string(c.join(f)).unwrap();
        assert!(!phone_re(&s), "{f} shows a full phone number");
    }
    assert!(sample.contains("****"));
    // Counts add up to the rows of the file.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.join("manifest.json")).unwrap()).unwrap();
    let k = &m["counts"];
    let sum: u64 = [
        "eligible",
        "outside_window",
        "type_not_included",
        "flagged_no_id",
        "flagged_no_outlet",
        "flagged_unknown_outlet",
        "flagged_bad_date",
        "flagged_no_phone",
    ]
    .iter()
    .map(|f| k[f].as_u64().unwrap())
    .sum();
    assert_eq!(k["rows"].as_u64().unwrap(), 6000);
    assert_eq!(sum, 6000);
    let p = &m["persons"];
    assert_eq!(
        p["persons"].as_u64().unwrap() + p["merged_rows"].as_u64().unwrap(),
        k["eligible"].as_u64().unwrap()
    );
    // The justification an auditor defends, with the paths of this run's folders replaced.
    let just = std::fs::read_to_string(c.join("justification.md")).unwrap();
    let just = just
        .replace(m["frame"]["path"].as_str().unwrap(), "<frame>")
        .replace(out.to_str().unwrap(), "<out>");
    assert_golden("customers_justification.md", &just);
    // Verify passes, then fails on an edited row.
    let (code, stdout, err) = run_in(&root(), &["verify", c.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{err}");
    let edited = sample.replacen(",selected,1,", ",selected,9,", 1);
    std::fs::write(c.join("sample.csv"), edited).unwrap();
    let (code, _, err) = run_in(&root(), &["verify", c.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("NOT verified"), "{err}");
}

#[test]
fn bad_rows_are_flagged_or_stop_the_draw_with_their_line() {
    let t = tempfile::tempdir().unwrap();
    let rows = [
        "R1,O1,甲,13900000001,2025-01-05,维修,x",
        "R2,O1,乙,13900000002,2025-13-01,维修,x",
        "R3,O2,丙,,2025-01-05,维修,x",
        "R4,O2,丁,13900000004,2024-12-31,维修,x",
    ];
    write(&t.path().join("a.csv"), &rows.map(String::from));
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "a.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--since",
            "2025-01-01",
            "--out",
            "o",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let flagged = std::fs::read_to_string(t.path().join("o/flagged.csv")).unwrap();
    assert_eq!(
        flagged,
        "line,column,column_name,reason,value\n3,5,service_date,service date not readable,2025-13-01\n4,4,phone,no usable phone number,\n"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("o/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["counts"]["outside_window"], 1);
    assert_eq!(m["counts"]["eligible"], 1);
    // A row with too many fields stops the draw and names the line; nothing is written.
    let mut bad = rows.map(String::from).to_vec();
    bad.push("R5,O2,戊,13900000005,2025-01-05,维修,x,extra".into());
    write(&t.path().join("b.csv"), &bad);
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "b.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            "p",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("b.csv:6: 8 fields, but the header has 7 columns"),
        "{err}"
    );
    assert!(!t.path().join("p").exists());
    // Undecodable bytes in a file forced to UTF-8 name the line.
    std::fs::write(t.path().join("c.csv"), b"record_id,outlet_id,phone,service_date\nR1,O1,13900000001,2025-01-01\nR2,O\xff\xfe1,13900000002,2025-01-01\n").unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "c.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--encoding",
            "utf-8",
            "--out",
            "q",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("c.csv:3: the file is not valid UTF-8 text"),
        "{err}"
    );
    // Without --encoding such a file is read as GB18030; bytes invalid there too name
    // their line (here the fourth, after valid GBK Chinese on the third).
    let mut g = encoding_rs::GBK
        .encode("record_id,outlet_id,phone,service_date\nR1,O1,13900000001,2025-01-01\nR2,广州,13900000002,2025-01-01\n")
        .0
        .into_owned();
    g.extend_from_slice(b"R3,O\x811,13900000003,2025-01-01\n");
    std::fs::write(t.path().join("g.csv"), &g).unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "g.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            "q",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("g.csv:4: the file is not valid gb18030 text"),
        "{err}"
    );
    assert!(!t.path().join("q").exists());
    // A header without records, or records none of which is eligible, stop the draw.
    std::fs::write(t.path().join("h.csv"), format!("{HEADER}\n")).unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "h.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            "s",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("h.csv: no service records after the header"),
        "{err}"
    );
    assert!(!t.path().join("s").exists());
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "a.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--since",
            "2030-01-01",
            "--out",
            "u",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("none of the 4 records is eligible (3 outside the date window"),
        "{err}"
    );
    assert!(!t.path().join("u").exists());
    // An unknown column name is a clear error.
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "a.csv",
            "--seed",
            "1",
            "--date-col",
            "日期x",
            "--out",
            "r",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("--date-col `日期x`: no such column"), "{err}");
    // No phone column: nobody to call, so no draw unless a person key is named.
    std::fs::write(
        t.path().join("nophone.csv"),
        "工单号,网点编号,客户姓名,服务日期\nR1,WD001,张三,2025-03-01\n",
    )
    .unwrap();
    let args = |out: &'static str| {
        [
            "sample",
            "customers",
            "nophone.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            out,
        ]
    };
    let (code, _, err) = run_in(t.path(), &args("np"));
    // A column the file lacks is a data error (exit 1), as a missing outlet column is.
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nophone.csv:1: no phone column"), "{err}");
    assert!(err.contains("--person-key"), "{err}");
    assert!(!t.path().join("np").exists());
    let mut keyed = args("np2").to_vec();
    keyed.extend(["--person-key", "客户姓名"]);
    let (code, _, err) = run_in(t.path(), &keyed);
    assert_eq!(code, 0, "{err}");
    // Service types asked for in a file without a service type column: refused, nothing
    // written.
    let mut typed = args("np3").to_vec();
    typed.extend(["--person-key", "客户姓名", "--service-types", "维修,安装"]);
    let (code, _, err) = run_in(t.path(), &typed);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("nophone.csv:1: --service-types needs a service type column"),
        "{err}"
    );
    assert!(err.contains("--type-col"), "{err}");
    assert!(!t.path().join("np3").exists());
}

/// Over many seeds, each person is drawn about as often as its stated inclusion
/// probability c/N (here with the outlet stage at probability 1).
#[test]
fn selection_frequencies_match_inclusion_probabilities() {
    let t = tempfile::tempdir().unwrap();
    let rows = records(60, 4, 2);
    let path = t.path().join("a.csv");
    write(&path, &rows);
    let params = crate::common::per_outlet_params(3, 0);
    let seeds = 600;
    let mut hits: HashMap<String, u32> = HashMap::new();
    let mut pi: HashMap<String, f64> = HashMap::new();
    let mut people_per_outlet: HashMap<String, u64> = HashMap::new();
    for s in 0..seeds {
        let seed = Seed::parse(&format!("{s}")).unwrap();
        let d = draw_customers(
            &path,
            &ReadOptions::default(),
            &seed,
            &params,
            None,
            &svcaudit::customers::Streaming {
                spill_in: t.path(),
                progress: &|_, _| {},
                cfg: svcaudit::customers::StreamConfig::new(2),
            },
        )
        .unwrap();
        for o in &d.outlets {
            people_per_outlet.insert(o.outlet_id.clone(), o.persons);
        }
        for r in d.rows.iter().filter(|r| r.role == Role::Selected) {
            let phone = r.cells[3].clone();
            *hits.entry(phone.clone()).or_default() += 1;
            pi.insert(phone, r.pi);
        }
    }
    let total: u64 = people_per_outlet.values().sum();
    assert_eq!(total, 60, "every person belongs to exactly one outlet");
    // Persons never drawn in 600 seeds would have π ≥ 3/N ≥ 0.1: impossible in practice.
    assert_eq!(hits.len(), 60);
    let mut worst = 0.0f64;
    for (phone, h) in &hits {
        let p = pi[phone];
        let f = *h as f64 / seeds as f64;
        let z = (f - p) / (p * (1.0 - p) / seeds as f64).sqrt();
        worst = worst.max(z.abs());
    }
    // 60 roughly independent z-scores: |z| > 4.5 has probability ~4e-4 in all.
    assert!(worst < 4.5, "largest |z| = {worst}");
}

#[test]
fn duplicated_record_ids_stop_the_draw_naming_every_line() {
    let t = tempfile::tempdir().unwrap();
    let mut rows = records(300, 9, 3);
    let n = rows.len();
    // Record R00010 (line 11) comes back in the middle and at the end; R00020 once.
    let again = |i: usize, rows: &[String]| rows[i].replacen(&format!("R{:05}", i + 1), "", 1);
    let r10 = format!("R00010{}", again(9, &rows));
    let r20 = format!("R00020{}", again(19, &rows));
    rows.insert(150, r10.clone());
    rows.push(r20);
    rows.push(r10);
    write(&t.path().join("a.csv"), &rows);
    let (l10, l20) = (
        format!("on lines 11, 152, {}", n + 4),
        format!("on lines 21, {}", n + 3),
    );
    let text = std::fs::read_to_string(t.path().join("a.csv")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    std::fs::write(t.path().join("g.csv"), &gbk).unwrap();
    // One chunk, many chunks (the order breaks in the middle of the file), and GBK (decoded
    // into a UTF-8 copy, then streamed).
    for (file, block) in [("a.csv", None), ("a.csv", Some("300")), ("g.csv", None)] {
        let mut c = svcaudit();
        c.current_dir(t.path()).args([
            "sample",
            "customers",
            file,
            "--seed",
            "1",
            "--per-outlet",
            "2",
            "--out",
            "o",
        ]);
        if let Some(b) = block {
            c.args(["--stream-block", b]);
        }
        let o = c.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{file} {block:?}: {err}");
        assert!(
            err.contains(&format!(
                "{file}:11:1: column record_id: record id `R00010` occurs 3 times, {l10}"
            )),
            "{file} {block:?}: {err}"
        );
        assert!(
            err.contains(&format!("record id `R00020` occurs 2 times, {l20}")),
            "{err}"
        );
        assert!(
            err.contains("every service record needs its own id"),
            "{err}"
        );
        assert!(
            !t.path().join("o").exists(),
            "no output folder is left behind"
        );
    }
    // Ids numbered without leading zeros rise shortest-first; a repeat is still found.
    let plain: Vec<String> = (1..=120)
        .map(|i| format!("{i},O1,甲,139{i:08},2025-01-05,维修,x"))
        .chain(std::iter::once(
            "7,O1,乙,13900000999,2025-01-06,维修,x".to_string(),
        ))
        .collect();
    write(&t.path().join("p.csv"), &plain);
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "p.csv",
            "--seed",
            "1",
            "--per-outlet",
            "2",
            "--out",
            "o",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("record id `7` occurs 2 times, on lines 8, 122"),
        "{err}"
    );
}

/// Draws `rows` (3 people per outlet) whole and in 64-byte blocks, and checks both draws: the drawn
/// (unit id, outlet) pairs and the manifest's (persons, merged rows, multi-outlet people).
fn check_people(rows: &[&str], units: &[(&str, &str)], persons: [u64; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = rows.iter().map(|s| s.to_string()).collect();
    write(&dir.path().join("r.csv"), &rows);
    for (out, args) in [("a", vec![]), ("b", vec!["--stream-block", "64"])] {
        let text = String::from_utf8(draw(dir.path(), "r.csv", out, &args, &[])).unwrap();
        let mut got: Vec<(&str, &str)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0], c[2])
            })
            .collect();
        got.sort();
        assert_eq!(got, units, "{text}");
        let m = std::fs::read_to_string(dir.path().join(out).join("manifest.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        let p = &v["persons"];
        let got = [&p["persons"], &p["merged_rows"], &p["multi_outlet"]].map(|x| x.as_u64());
        assert_eq!(got, persons.map(Some), "{m}");
    }
}

#[test]
fn a_phone_written_several_ways_is_one_person() {
    // One person under three spellings at three outlets; the latest service (O2) wins. Two
    // other people, one of them also written with separators. Blocks of 64 bytes put the
    // spellings in different chunks, read by different workers.
    check_people(
        &[
            "R1,O1,张三,13912345678,2025-03-01,维修,x",
            "R2,O2,张三,139-1234-5678,2025-04-01,维修,x",
            "R3,O3,张三,+86 139 1234 5678,2025-02-01,维修,x",
            "R4,O1,李四,13800000001,2025-03-05,维修,x",
            "R5,O3,王五,138 0000 0002,2025-03-06,维修,x",
            "R6,O3,王五,13800000002,2025-01-06,维修,x",
        ],
        &[("R2", "O2"), ("R4", "O1"), ("R5", "O3")],
        [3, 3, 1],
    );
}

#[test]
fn plain_and_quoted_spellings_of_the_same_records_draw_the_same() {
    // Plain lines are read by the scanner's fast path, quoted or padded ones by the general
    // one: the same cells must give the same sample and the same canonical frame.
    let t = tempfile::tempdir().unwrap();
    let rows: Vec<String> = records(500, 9, 3)
        .iter()
        .map(|r| r.replace("\"空调, 柜机\"", "空调柜机"))
        .collect();
    write(&t.path().join("plain.csv"), &rows);
    let mut quoted = String::new();
    for (i, line) in std::iter::once(HEADER.to_string())
        .chain(rows.iter().cloned())
        .enumerate()
    {
        let cells: Vec<String> = line
            .split(',')
            .enumerate()
            .map(|(k, c)| match (i + k) % 3 {
                0 => format!("\"{c}\""),
                1 => format!(" {c} "),
                _ => c.to_string(),
            })
            .collect();
        quoted.push_str(&cells.join(","));
        quoted.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
    }
    std::fs::write(t.path().join("quoted.csv"), quoted).unwrap();
    let canonical = |out: &str| -> String {
        let m = std::fs::read_to_string(t.path().join(out).join("manifest.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&m).unwrap();
        v["frame"]["sha256_canonical"].as_str().unwrap().to_string()
    };
    let plain = draw(t.path(), "plain.csv", "p", &[], &[]);
    for (out, args, env) in [
        ("q", vec![], vec![]),
        (
            "q64",
            vec!["--stream-block", "64"],
            vec![("SVCAUDIT_THREADS", "2")],
        ),
    ] {
        assert_eq!(
            plain,
            draw(t.path(), "quoted.csv", out, &args, &env),
            "{out}"
        );
        assert_eq!(canonical("p"), canonical(out));
    }
    let small = draw(t.path(), "plain.csv", "p64", &["--stream-block", "64"], &[]);
    assert_eq!(plain, small);
}

#[test]
fn compact_and_narrow_spill_records_of_one_person_meet() {
    // 11-digit phones spill in 16 bytes, other keys and far dates in 24: one person with
    // rows of both kinds is still one person, at the outlet of the latest service.
    check_people(
        &[
            "R1,O1,甲,13912345678,0300-01-01,维修,x",
            "R2,O2,甲,13912345678,2025-03-01,维修,x",
            "R3,O1,乙,13800000001,9000-05-05,维修,x",
            "R4,O3,丙,0755-12345678,2025-01-01,维修,x",
            "R5,O3,丁,13800000002,2025-02-02,维修,x",
            "R6,O2,丁,138 0000 0002,2024-02-02,维修,x",
        ],
        &[("R2", "O2"), ("R3", "O1"), ("R4", "O3"), ("R5", "O3")],
        [4, 2, 2],
    );
}

#[test]
fn long_records_are_read_back_whole() {
    // Records of about 3 KB and 12 KB: longer than the first read of a drawn record (512
    // bytes) and than its first widening, so they are read again until they end.
    let t = tempfile::tempdir().unwrap();
    let long = "长".repeat(1000);
    let longer = format!("\"{}\n{}\"", "备注".repeat(1000), "x".repeat(6000));
    let rows: Vec<String> = records(40, 2, 5)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let cut = r.find(",\"空调").unwrap();
            let product = if i % 2 == 0 { &long } else { &longer };
            format!("{},{product}", &r[..cut])
        })
        .collect();
    write(&t.path().join("l.csv"), &rows);
    draw(t.path(), "l.csv", "l", &[], &[]);
    for file in ["sample.csv", "call_sheet.csv"] {
        let mut r = csv::Reader::from_path(t.path().join("l").join(file)).unwrap();
        let col = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "product")
            .unwrap();
        let mut n = 0;
        for rec in r.records() {
            let p = rec.unwrap()[col].to_string();
            let want_long = long.clone();
            let want_longer = longer.trim_matches('"').to_string();
            assert!(
                p == want_long || p == want_longer,
                "{file}: {} bytes",
                p.len()
            );
            n += 1;
        }
        assert_eq!(n, 2 * (3 + 2), "{file}");
    }
}
