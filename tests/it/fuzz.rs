//! Property-based fuzzing of every reader and parser (issue 7): inputs mutated from the
//! corpus, the example data and generated files, fed in-process; the property is that each
//! reader returns a value or an error and never panics, and that what it accepts keeps its
//! invariants (every row accounted for).
//!
//! `cargo test` runs each target for `FUZZ_SECONDS` (default 2) as a smoke run; the long runs
//! of the closing notes are `FUZZ_SECONDS=600 cargo test --release --test it fuzz::
//! -- --nocapture --test-threads 2`. A failure prints the target, the iteration and the input
//! (as hex), and writes the input to `fuzz/artifacts/<target>-<iteration>.bin`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use svcaudit::customers::draw_customers;
use svcaudit::io::read::read_table_bytes;
use svcaudit::io::table::ReadOptions;
use svcaudit::seed::Seed;

use crate::common::root;

/// xorshift64*: deterministic, so an iteration number reproduces its input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that make CSV readers take their rarer paths.
const SPICE: &[&[u8]] = &[
    b",",
    b";",
    b"\t",
    b"|",
    b"\"",
    b"\"\"",
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b" ",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xE4\xB8\xAD",
    b"\xC4\xE3",
    b"\xC2\xA0",
    b"\xE3\x80\x80",
    b"\xFF",
    b"\x80",
    b"2025-02-30",
    b"2025/3/1",
    b"2025\xE5\xB9\xB43\xE6\x9C\x881\xE6\x97\xA5",
    b"45717",
    b"+86 138-0013-8000",
    b"=1+1",
    b"-",
    b"0",
    b"99999999999999999999",
    b"NaN",
    b"PK\x03\x04",
];

/// Mutates `input` a few times: flips, spice, deletions, duplications, truncation.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = SPICE[rng.below(SPICE.len())];
                v.splice(at..at, s.iter().copied());
            }
            2 if !v.is_empty() => {
                let end = (at + 1 + rng.below(40)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 if !v.is_empty() => {
                let from = rng.below(v.len());
                let end = (from + 1 + rng.below(200)).min(v.len());
                let piece: Vec<u8> = v[from..end].to_vec();
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            _ => {
                let s = SPICE[rng.below(SPICE.len())];
                v.extend_from_slice(s);
            }
        }
    }
    v
}

fn seconds() -> u64 {
    std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
}

/// Runs `f` on mutated seeds for the configured time; a panic fails the test with the input.
fn fuzz(target: &str, seeds: &[Vec<u8>], mut f: impl FnMut(&[u8])) {
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    let mut n = 0u64;
    while Instant::now() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed);
        if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
            let dir = root().join("fuzz/artifacts");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{target}-{n}.bin")), &input);
            let hex: String = input
                .iter()
                .take(2000)
                .map(|b| format!("{b:02x}"))
                .collect();
            panic!("fuzz target {target}: panic on iteration {n}; input (hex): {hex}");
        }
        n += 1;
    }
    eprintln!("fuzz {target}: {n} inputs in {} s, no panic", seconds());
}

fn corpus() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for dir in ["tests/corpus", "data/example"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && std::fs::metadata(&p).unwrap().len() < 200_000 {
                v.push(std::fs::read(&p).unwrap());
            }
        }
    }
    v.push(b"record_id,outlet_id,name,phone,service_date,service_type,product\nR1,O1,\xE5\xBC\xA0\xE4\xB8\x89,13800138000,2025-03-01,\xE7\xBB\xB4\xE4\xBF\xAE,x\nR2,O2,\"a,b\",+86 139 0000 0001,2025/3/2,\xE5\xAE\x89\xE8\xA3\x85,\"y\"\"z\"\n".to_vec());
    v
}

#[test]
fn fuzz_table_reader() {
    fuzz("table", &corpus(), |b| {
        let opts = ReadOptions::default();
        if let Ok(t) = read_table_bytes(Path::new("f.csv"), b, &opts) {
            // Every row has the header's width (the reader pads or refuses).
            for r in &t.rows {
                assert_eq!(r.cells.len(), t.header.len(), "line {}", r.line);
            }
        }
    });
}

#[test]
fn fuzz_xlsx_reader() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["网点编号", "网点名称", "城市", "员工数"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for r in 1..20u32 {
        ws.write_string(r, 0, format!("WD{r}")).unwrap();
        ws.write_string(r, 1, format!("网点{r}")).unwrap();
        ws.write_number(r, 3, r as f64 * 1.5).unwrap();
    }
    let good = wb.save_to_buffer().unwrap();
    fuzz("xlsx", &[good], |b| {
        let _ = read_table_bytes(Path::new("f.xlsx"), b, &ReadOptions::default());
    });
}

#[test]
fn fuzz_customer_reader() {
    let t = tempfile::tempdir().unwrap();
    let params = crate::common::per_outlet_params(2, 1);
    let seed = Seed::parse("1").unwrap();
    let mut seeds = corpus();
    let example = std::fs::read(root().join("data/example/customers.csv")).unwrap();
    seeds.push(example[..example.len().min(20_000)].to_vec());
    let path = t.path().join("r.csv");
    fuzz("customers", &seeds, |b| {
        std::fs::write(&path, b).unwrap();
        if let Ok(d) = draw_customers(
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
        ) {
            // Every row accounted for.
            assert!(d.scan.counts.adds_up(), "{:?}", d.scan.counts);
        }
    });
}

#[test]
fn fuzz_team_calendar_and_outcome_readers() {
    use svcaudit::io::team::{read_calendar, read_outcomes, read_people, read_sheet};
    let t = tempfile::tempdir().unwrap();
    let mut seeds = corpus();
    for f in ["people.csv", "calendar.csv"] {
        seeds.push(std::fs::read(root().join("data/example").join(f)).unwrap());
    }
    seeds.push(b"outlet_id,call_order,role,unit_id,name,phone\nO1,1,selected,R1,a,139\nO1,2,reserve,R2,b,138\n".to_vec());
    seeds.push(
        b"unit_id,attempt,outcome\nR1,1,no_answer\nR1,2,\xE5\xAE\x8C\xE6\x88\x90\nR2,,refused\n"
            .to_vec(),
    );
    let path = t.path().join("f.csv");
    fuzz("schedule-inputs", &seeds, |b| {
        std::fs::write(&path, b).unwrap();
        let _ = read_people(&path);
        let _ = read_calendar(&path);
        if let Ok(sheet) = read_sheet(&path) {
            let _ = read_outcomes(&path, &sheet);
        }
    });
}

#[test]
fn fuzz_field_parsers() {
    use svcaudit::customers::fields::{mask_name, mask_phone, parse_date, phone_digits};
    fuzz("fields", &corpus(), |b| {
        let s = String::from_utf8_lossy(b);
        for part in s.split([',', '\n']).take(200) {
            let _ = parse_date(part, true);
            let _ = parse_date(part, false);
            if let Some(d) = phone_digits(part) {
                assert!((7..=15).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit()));
            }
            let _ = mask_phone(part);
            let _ = mask_name(part);
        }
    });
}

#[test]
fn fuzz_ledger_and_manifest_readers() {
    // A reviewer's folder may hold crafted files: the ledger and manifest readers must give
    // an error or a value, never a panic.
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = crate::common::run_in(
        t.path(),
        &[
            "sample",
            "outlets",
            root().join("data/example/outlets.csv").to_str().unwrap(),
            "--seed",
            "1",
            "--out",
            "d",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let d = t.path().join("d");
    let seeds = vec![
        std::fs::read(d.join("ledger.jsonl")).unwrap(),
        std::fs::read(d.join("manifest.json")).unwrap(),
    ];
    let scratch = t.path().join("s");
    std::fs::create_dir_all(&scratch).unwrap();
    fuzz("ledger-manifest", &seeds, |b| {
        std::fs::write(scratch.join("ledger.jsonl"), b).unwrap();
        let _ = svcaudit::io::ledger::read(&scratch);
        std::fs::write(scratch.join("manifest.json"), b).unwrap();
        let _ = svcaudit::io::manifest::Manifest::load(&scratch.join("manifest.json"));
        let _ = svcaudit::io::manifest::read_json::<svcaudit::io::manifest::CustomerManifest>(
            &scratch.join("manifest.json"),
            "a manifest",
        );
    });
}

#[test]
fn fuzz_xlsx_cells() {
    // Structured: valid workbooks whose cells are random strings, numbers, dates, formulas
    // and blanks (the byte mutations above mostly stop at the zip layer). Whatever the cells,
    // the reader returns rows of the header's width or an error.
    let cells: Vec<Vec<u8>> = corpus();
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut n = 0u64;
    while Instant::now() < deadline {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let (rows, cols) = (1 + rng.below(30) as u32, 1 + rng.below(12) as u16);
        for r in 0..rows {
            for c in 0..cols {
                let pick = rng.below(8);
                let text = {
                    let seed = &cells[rng.below(cells.len())];
                    let m = mutate(&mut rng, &seed[..seed.len().min(64)]);
                    String::from_utf8_lossy(&m)
                        .chars()
                        .filter(|ch| !ch.is_control())
                        .take(200)
                        .collect::<String>()
                };
                let written = match pick {
                    0 => ws
                        .write_number(r, c, (rng.next() as i64 as f64) / 1e3)
                        .map(|_| ()),
                    1 => ws
                        .write_number(r, c, 40000.0 + rng.below(20000) as f64)
                        .map(|_| ()),
                    2 => ws
                        .write_formula(
                            r,
                            c,
                            rust_xlsxwriter::Formula::new("=1+1").set_result(text.clone()),
                        )
                        .map(|_| ()),
                    3 => Ok(()),
                    4 => ws.write_boolean(r, c, rng.below(2) == 0).map(|_| ()),
                    _ => ws.write_string(r, c, &text).map(|_| ()),
                };
                let _ = written;
            }
        }
        // Now and then a stray cell anywhere in the sheet's 1,048,576 × 16,384 grid (one at
        // XFD1048576 used to abort the process on a 512 GB allocation).
        if rng.below(8) == 0 {
            let (r, c) = (rng.below(1 << 20) as u32, rng.below(1 << 14) as u16);
            let _ = ws.write_string(r, c, "x");
        }
        let Ok(bytes) = wb.save_to_buffer() else {
            continue;
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(t) = read_table_bytes(Path::new("f.xlsx"), &bytes, &ReadOptions::default()) {
                for row in &t.rows {
                    assert_eq!(row.cells.len(), t.header.len(), "line {}", row.line);
                }
            }
        }));
        if r.is_err() {
            let dir = root().join("fuzz/artifacts");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("xlsx-cells-{n}.xlsx")), &bytes);
            panic!(
                "fuzz target xlsx-cells: panic on iteration {n}; workbook saved under fuzz/artifacts"
            );
        }
        n += 1;
    }
    eprintln!(
        "fuzz xlsx-cells: {n} workbooks in {} s, no panic",
        seconds()
    );
}

#[test]
fn fuzz_scheme_parser() {
    let mut seeds = vec![svcaudit::scoring::scheme::GBT27922.as_bytes().to_vec()];
    for f in ["scheme_cycle.toml", "scheme_unknown_item.toml"] {
        seeds.push(std::fs::read(root().join("tests/corpus").join(f)).unwrap());
    }
    seeds.push(std::fs::read(root().join("bench/scheme_bench.toml")).unwrap());
    fuzz("scheme", &seeds, |b| {
        let text = String::from_utf8_lossy(b);
        if let Ok(s) = svcaudit::scoring::scheme::Scheme::parse("f.toml", &text) {
            // A scheme that parses adds up and has no dangling item.
            let items: f64 = s.items.iter().map(|i| i.points).sum();
            assert!(
                (items - s.scale).abs() < 1e-6,
                "items {items} scale {}",
                s.scale
            );
            for it in &s.items {
                assert!(it.indicator < s.nodes.len());
            }
        }
    });
}

#[test]
fn fuzz_result_importer_and_findings() {
    use svcaudit::scoring::responses::Importer;
    let scheme =
        svcaudit::scoring::scheme::Scheme::parse("gbt27922", svcaudit::scoring::scheme::GBT27922)
            .unwrap();
    let seeds: Vec<Vec<u8>> = vec![
        b"respondent,outlet,question,answer\nR1,O1,CS_OVERALL,5\nR1,O1,CS_WARRANTY,\xe6\x98\xaf\nR2,O2,CS_COMPLAINT,\xe6\x9c\xaa\xe6\x8a\x95\xe8\xaf\x89\nR2,O2,MV_STAFF,1\nR3,,QX,9\n".to_vec(),
        b"\xEF\xBB\xBFid,submitdate,outlet_id,CS_OVERALL,MV_FACILITY,Q9\n1,2026-12-01,O1,4,3,x\n2,,O1,,,\n3,,O2,n/a,7,y\n".to_vec(),
        b"_uuid,grp/outlet_id,grp/CS_OVERALL,grp/CS_OVERALL/a,grp/MC_ANSWER\nu1,O1,\xe5\xbe\x88\xe6\xbb\xa1\xe6\x84\x8f,1,2\nu1,O1,3,0,1\n".to_vec(),
    ];
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("r.csv");
    fuzz("results", &seeds, |b| {
        std::fs::write(&path, b).unwrap();
        let mut imp = Importer::new(&scheme);
        if imp.read(&path, &ReadOptions::default()).is_ok() {
            let r = imp.finish();
            // Every answer cell read is accepted or rejected, never lost.
            let read: u64 = r.inputs.iter().map(|i| i.answers).sum();
            assert_eq!(read, (r.len() + r.rejected.len()) as u64);
        }
        // The same bytes as a findings table.
        let text = String::from_utf8_lossy(b);
        let rows: Vec<(u64, String, String, String)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let mut c = l.split(',');
                let mut next = || c.next().unwrap_or("").to_string();
                (i as u64 + 1, next(), next(), next())
            })
            .collect();
        let _ = svcaudit::scoring::findings_from_rows(&scheme, "f.csv", &rows, "result", "item");
    });
}

/// The audit file: parsing, key and path checks, and the steps' command lines, as `plan`
/// and `score` do them before running anything.
#[test]
fn fuzz_audit_file() {
    let mut seeds = vec![
        svcaudit::audit::TEMPLATE.as_bytes().to_vec(),
        std::fs::read(root().join("data/example/audit.toml")).unwrap(),
    ];
    for f in ["audit_parent_paths.toml", "audit_bad_id.toml"] {
        seeds.push(std::fs::read(root().join("tests/corpus").join(f)).unwrap());
    }
    let opts = svcaudit::cli::AuditOpts {
        reports: "reports".into(),
        lang: None,
        allow_outside: false,
    };
    let file = root().join("data/example/audit.toml");
    let base = root().join("data/example");
    fuzz("audit", &seeds, |b| {
        let text = String::from_utf8_lossy(b);
        if let Ok(a) = svcaudit::audit::parse("a.toml", &text) {
            assert!(svcaudit::audit::check_id(&a.id).is_ok(), "{:?}", a.id);
            for s in &a.sections {
                for o in &s.options {
                    assert!(!o.key.is_empty() && !o.key.starts_with('-'), "{o:?}");
                }
            }
        }
        // Never a panic, whatever the file says.
        let _ = svcaudit::commands::audit::check_text(&file, &text, &opts);
        // Every path the resolver accepts lies in the audit file's folder.
        for line in text.lines() {
            let v = line.trim().trim_matches('"');
            if let Ok(p) = svcaudit::commands::audit::resolve_in(&base, v, false) {
                assert!(
                    lexically_inside(Path::new(&p), &base),
                    "{v:?} resolved to {p}, outside {}",
                    base.display()
                );
            }
        }
        // The path check against a second, stack-based implementation.
        let p = text.lines().next().unwrap_or("");
        if !svcaudit::commands::audit::escapes(Path::new(p)) {
            assert!(
                lexically_inside(&Path::new("/b/a").join(p), Path::new("/b/a")),
                "{p:?}"
            );
        }
    });
}

/// `p` after resolving `.` and `..` by a stack stays below `base`.
fn lexically_inside(p: &Path, base: &Path) -> bool {
    use std::path::Component;
    let mut stack: Vec<std::ffi::OsString> = Vec::new();
    let mut absolute = false;
    for c in p.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => {
                stack.clear();
                absolute = true;
            }
            Component::CurDir => {}
            Component::ParentDir => {
                stack.pop();
            }
            Component::Normal(x) => stack.push(x.to_os_string()),
        }
    }
    let mut q = if absolute {
        std::path::PathBuf::from("/")
    } else {
        std::path::PathBuf::new()
    };
    q.extend(stack);
    let mut b = std::path::PathBuf::new();
    for c in base.components() {
        match c {
            Component::ParentDir => {
                b.pop();
            }
            Component::CurDir => {}
            other => b.push(other),
        }
    }
    q.starts_with(&b)
}
