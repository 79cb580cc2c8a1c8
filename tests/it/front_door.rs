//! Applicant files as they really come: CRM exports with record and customer numbers, and
//! the one column vocabulary that every command uses (issue: one front door).

use std::path::Path;

use crate::common::{root, run_in};

/// A CRM export: 工单号 (one per record) and 客户编号 (one per customer, repeated on every
/// record of that customer), as a real CRM writes it.
const CRM: &str = "工单号,客户编号,网点编号,客户姓名,联系电话,服务日期
GD1,KH001,W1,张三,13800000001,2025-03-01
GD2,KH001,W1,张三,13800000001,2025-04-01
GD3,KH002,W1,李四,13800000002,2025-03-05
GD4,KH003,W2,王五,13800000003,2025-03-07
GD5,KH003,W2,王五,13800000003,2025-05-07
GD6,KH004,W2,赵六,13800000004,2025-03-09
";

/// Keeps the columns at `keep` (0-based) of every line of `csv`.
fn columns(csv: &str, keep: &[usize]) -> String {
    csv.lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let kept: Vec<&str> = keep.iter().map(|&i| cells[i]).collect();
            kept.join(",") + "\n"
        })
        .collect()
}

/// Draws one customer per outlet from `csv` with seed 1; returns (exit, sample.csv, stderr).
fn draw(dir: &Path, csv: &str) -> (i32, String, String) {
    std::fs::write(dir.join("r.csv"), csv).unwrap();
    let (code, _, err) = run_in(
        dir,
        &[
            "sample",
            "customers",
            "r.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--out",
            "out",
        ],
    );
    let sample = std::fs::read_to_string(dir.join("out/sample.csv")).unwrap_or_default();
    (code, sample, err)
}

/// `svcaudit verify DIR/out` exits 0.
#[track_caller]
fn assert_verifies(dir: &Path) {
    assert_verifies_dir(dir, "out");
}

/// The first `k` columns of every line after the header.
fn head_cells(sample: &str, k: usize) -> Vec<String> {
    sample
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(k).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn a_crm_export_with_record_and_customer_numbers_is_drawn_as_it_is() {
    let t = tempfile::tempdir().unwrap();
    let (code, sample, err) = draw(t.path(), CRM);
    assert_eq!(code, 0, "{err}");
    // KH001 has two records: one person, represented by the latest (GD2).
    assert_eq!(
        head_cells(&sample, 5),
        ["GD2,all,W1,selected,1", "GD6,all,W2,selected,1"]
    );
    assert_eq!(
        err,
        "drew 2 customers to contact and 0 reserves in 2 outlets from 6 records (4 people; 0 flagged, 0 outside the window or type) into out\n"
    );
    let m = std::fs::read_to_string(t.path().join("out/manifest.json")).unwrap();
    assert!(m.contains("\"customer_no\": \"客户编号\""), "{m}");
    assert!(m.contains("\"id\": \"工单号\""), "{m}");
    assert_verifies(t.path());
}

#[test]
fn without_a_record_id_a_drawn_person_is_named_by_outlet_and_rank() {
    let t = tempfile::tempdir().unwrap();
    let (code, sample, err) = draw(t.path(), &columns(CRM, &[1, 2, 3, 4, 5]));
    assert_eq!(code, 0, "{err}");
    // The same people as with the record ids (the phone is the person key either way).
    assert_eq!(
        head_cells(&sample, 5),
        ["W1-1,all,W1,selected,1", "W2-1,all,W2,selected,1"]
    );
    assert!(!sample.contains("13800000001"), "{sample}");
    assert_eq!(
        err,
        "drew 2 customers to contact and 0 reserves in 2 outlets from 6 records (4 people; 0 flagged, 0 outside the window or type) into out\n\
         note: The service records have no record id column (工单号): rows are named by their line (flagged.csv), and a drawn person's unit_id is `<outlet id>-<rank>`, never the phone number.\n"
    );
    let j = std::fs::read_to_string(t.path().join("out/justification.md")).unwrap();
    assert!(j.contains("服务记录无工单号列"), "{j}");
    assert_verifies(t.path());
}

#[test]
fn without_phones_the_customer_number_is_the_person_and_the_unit() {
    let t = tempfile::tempdir().unwrap();
    let (code, sample, err) = draw(t.path(), &columns(CRM, &[1, 2, 3, 5]));
    assert_eq!(code, 0, "{err}");
    let units = head_cells(&sample, 1);
    assert_eq!(units.len(), 2);
    // One unit per customer number, and the number is shown as it is (not masked).
    for u in &units {
        assert!(u.starts_with("KH00"), "{sample}");
        assert_eq!(sample.matches(u.as_str()).count(), 2, "{sample}");
    }
    assert!(
        err.contains("unit_id is their customer number (column `客户编号`)"),
        "{err}"
    );
    assert_verifies(t.path());
}

#[test]
fn neither_phone_nor_customer_number_is_refused_naming_both() {
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = draw(t.path(), &columns(CRM, &[0, 2, 5]));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: r.csv:1: no phone column and no customer number column; looked for phone, mobile, tel, telephone, 电话, 手机, 手机号, 手机号码, 联系电话, 客户电话 and customer_id, customer_no, customer_number, 客户编号, 顾客编号, 客户号, 客户代码, 会员编号, 用户编号\n\
         hint: name one with --phone-col or --customer-col, or give --person-key COLUMN\n"
    );
    assert!(!t.path().join("out").exists());
}

#[test]
fn a_header_naming_a_used_column_twice_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = draw(
        t.path(),
        "网点编号,联系电话,服务日期,网点编号\nW1,13800000001,2025-01-01,W2\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: r.csv:1:1: the header names column `网点编号` 2 times (columns 1, 4); svcaudit cannot tell which one to use\n\
         hint: rename the other columns in the export, or export only one of them\n"
    );
    std::fs::write(
        t.path().join("o.csv"),
        "网点编号,名称, 网点编号\nW1,a,W9\nW2,b,W8\n",
    )
    .unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &["sample", "outlets", "o.csv", "--seed", "1", "--out", "o"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: o.csv:1:1: the header names column `网点编号` 2 times (columns 1, 3); svcaudit cannot tell which one to use\n\
         hint: rename the other columns in the export, or export only one of them\n"
    );
}

/// A draw made before customer numbers stopped being record ids recorded `customer_id` as
/// its id column; `verify` replays the recorded columns and still verifies it.
#[test]
fn a_draw_whose_manifest_names_a_customer_number_as_record_id_still_verifies() {
    let t = tempfile::tempdir().unwrap();
    let csv = CRM.replacen("工单号", "customer_id", 1);
    std::fs::write(t.path().join("r.csv"), &csv).unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "customers",
            "r.csv",
            "--seed",
            "1",
            "--per-outlet",
            "1",
            "--id-col",
            "customer_id",
            "--out",
            "out",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // As the old version wrote it: the id found by name, not given.
    let path = t.path().join("out/manifest.json");
    let m = std::fs::read_to_string(&path).unwrap();
    let old = m.replace("\"id_col\": \"customer_id\"", "\"id_col\": null");
    assert_ne!(m, old);
    std::fs::write(&path, old).unwrap();
    let (code, _, err) = run_in(t.path(), &["verify", "out"]);
    // The edited manifest's hash is not the one in the ledger, and that is the only
    // difference: the sample, call sheet and flagged rows re-derive identically.
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(lines[0], "error: NOT verified: out");
    assert!(
        lines[1].starts_with("- manifest.json: no line of ledger.jsonl records it"),
        "{err}"
    );
}

/// Checks that the README's block between `<!-- NAME:begin … -->` and `<!-- NAME:end -->` is
/// `content`, or rewrites it under UPDATE_GOLDEN.
#[track_caller]
fn readme_block(name: &str, content: &str) {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let open = format!("<!-- {name}:begin");
    let begin = readme.find(&open).expect("begin marker");
    let begin = begin + readme[begin..].find("-->\n").unwrap() + 4;
    let end = readme
        .find(&format!("<!-- {name}:end -->"))
        .expect("end marker");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let new = format!("{}{}{}", &readme[..begin], content, &readme[end..]);
        std::fs::write(&path, new).unwrap();
        return;
    }
    assert_eq!(
        &readme[begin..end],
        content,
        "README's {name} block differs from the code; run UPDATE_GOLDEN=1 cargo test readme"
    );
}

/// The README's table of column names is the vocabulary's.
#[test]
fn readme_column_table_is_the_vocabulary() {
    readme_block("vocab", &svcaudit::io::vocab::markdown_table());
}

/// The README's table of encodings and limits is the readers'.
#[test]
fn readme_limits_table_is_the_readers() {
    readme_block("limits", &svcaudit::io::limits::readme_table());
}

/// Runs svcaudit in `dir`, asserting exit 0; returns stderr.
#[track_caller]
fn ok(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run_in(dir, args);
    assert_eq!(code, 0, "{out}{err}");
    err
}

#[test]
fn ids_written_in_full_width_are_the_same_outlet() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // One outlet twice in the list: refused, both lines named.
    std::fs::write(
        d.join("twice.csv"),
        "网点编号,名称\nFW0794,a\nFW0795,b\nＦＷ０７９４,c\n",
    )
    .unwrap();
    let (code, _, err) = run_in(
        d,
        &[
            "sample",
            "outlets",
            "twice.csv",
            "--seed",
            "1",
            "--out",
            "x",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: twice.csv:4:1: column 网点编号: id `ＦＷ０７９４` is `FW0794` (line 2) written differently (full width, a BOM or spaces)\n\
         hint: ids are compared after Unicode compatibility normalisation (NFKC): these rows are one outlet listed twice; remove one row or correct the id\n"
    );
    // An outlet named for cause in full width is the list's outlet.
    std::fs::write(
        d.join("o.csv"),
        "网点编号,名称\nFW0794,a\nFW0795,b\nFW0796,c\n",
    )
    .unwrap();
    std::fs::write(d.join("inc.csv"), "网点编号,原因\nＦＷ０７９４,投诉较多\n").unwrap();
    ok(
        d,
        &[
            "sample",
            "outlets",
            "o.csv",
            "--seed",
            "1",
            "--all",
            "--include",
            "inc.csv",
            "--out",
            "o",
        ],
    );
    let sample = std::fs::read_to_string(d.join("o/sample.csv")).unwrap();
    assert!(sample.contains("\nFW0794,all,certainty,1,"), "{sample}");
    let j = std::fs::read_to_string(d.join("o/justification.md")).unwrap();
    assert!(
        j.contains("| 编号比较 Id comparison | 编号经 Unicode 兼容规范化"),
        "{j}"
    );
    // Its customers, written with the full-width id, are its customers, and a line says so.
    std::fs::write(
        d.join("c.csv"),
        "工单号,网点编号,联系电话,服务日期\nG1,ＦＷ０７９４,13800000001,2025-01-01\nG2,FW0794,13800000002,2025-01-02\nG3,FW0799,13800000003,2025-01-02\n",
    )
    .unwrap();
    let err = ok(
        d,
        &[
            "sample",
            "customers",
            "c.csv",
            "--outlets",
            "o",
            "--seed",
            "1",
            "--per-outlet",
            "5",
            "--out",
            "out",
        ],
    );
    assert_eq!(
        err,
        "drew 2 customers to contact and 0 reserves in 3 outlets from 3 records (2 people; 1 flagged, 0 outside the window or type) into out\n\
         note: 1 records write their outlet id differently from the outlet list (full width, a BOM or spaces, e.g. ＦＷ０７９４ for FW0794) and were counted with that outlet\n\
         note: 1 rows were flagged and left out; see out/flagged.csv\n"
    );
    let sample = std::fs::read_to_string(d.join("out/sample.csv")).unwrap();
    assert_eq!(head_cells(&sample, 3), ["G1,all,FW0794", "G2,all,FW0794"]);
    let m = std::fs::read_to_string(d.join("out/manifest.json")).unwrap();
    assert!(m.contains("\"outlet_respelled\": 1"), "{m}");
    assert_verifies(d);
}

/// A drawn record with empty cells past the header (Excel writes trailing delimiters) is
/// written with the header's columns (was: a panic, "rendering the sample failed").
#[test]
fn a_drawn_record_with_trailing_empty_cells_is_written_whole() {
    let t = tempfile::tempdir().unwrap();
    let csv = "record_id,outlet_id,phone,service_date\nA1,W1,13800000001,2025-01-01,,\nA2,W1,13800000002,2025-01-02,\n";
    let (code, sample, err) = draw(t.path(), csv);
    assert_eq!(code, 0, "{err}");
    for line in sample.lines() {
        assert_eq!(line.split(',').count(), 12, "{sample}");
    }
    assert_verifies(t.path());
}

/// Lines ended by CR alone are read by the customer draw as by the outlet reader (the
/// streaming reader said "no service records after the header").
#[test]
fn cr_only_line_endings_are_read_by_every_reader() {
    let t = tempfile::tempdir().unwrap();
    let lf = "record_id,outlet_id,phone,service_date\nR1,W1,13800000001,2025-01-01\nR2,W1,13800000002,2025-01-02\nR3,W2,13800000003,2025-01-02\n";
    let (code, with_lf, err) = draw(t.path(), lf);
    assert_eq!(code, 0, "{err}");
    let t2 = tempfile::tempdir().unwrap();
    let (code, with_cr, err) = draw(t2.path(), &lf.replace('\n', "\r"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(with_lf, with_cr);
    assert_verifies(t2.path());
}

/// An earlier sample that lists one outlet in two spellings counts one visit (it counted two,
/// which changed the rotation's order and the stated π).
#[test]
fn an_outlet_listed_twice_in_one_earlier_sample_counts_once() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("list.csv"),
        "网点编号\nWD0001\nWD0002\nWD0003\nWD0004\n",
    )
    .unwrap();
    std::fs::write(d.join("v3.csv"), "网点编号\nWD0001\nＷＤ0001\nWD0002\n").unwrap();
    std::fs::write(d.join("v2.csv"), "网点编号\nWD0001\nWD0002\n").unwrap();
    let sample = |v: &str| {
        let out = format!("s_{v}");
        ok(
            d,
            &[
                "sample",
                "outlets",
                "list.csv",
                "--seed",
                "1",
                "--n",
                "3",
                "--reason",
                "test",
                "--visited",
                v,
                "--out",
                &out,
            ],
        );
        let s = std::fs::read_to_string(d.join(&out).join("sample.csv")).unwrap();
        s.lines()
            .map(|l| l.split(',').take(7).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    assert_eq!(sample("v3.csv"), sample("v2.csv"));
}

/// `A1, "甲,乙",广州`: a quote after white space opens a quoted cell for every reader (it was
/// four cells to the outlet and results readers and three to the customer draw).
#[test]
fn a_quote_after_a_space_opens_a_cell_in_every_reader() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("o.csv"),
        "outlet_id,name,city\nA1, \"甲,乙\",广州\nA2,b,深圳\n",
    )
    .unwrap();
    ok(
        d,
        &["sample", "outlets", "o.csv", "--seed", "1", "--out", "o"],
    );
    let s = std::fs::read_to_string(d.join("o/sample.csv")).unwrap();
    assert!(s.contains(",A1,\"甲,乙\",广州\n"), "{s}");
    assert_verifies_dir(d, "o");
    std::fs::write(
        d.join("c.csv"),
        "record_id,outlet_id,phone,service_date,note\nR1,A1,13800000001,2025-01-01, \"甲,乙\"\n",
    )
    .unwrap();
    ok(
        d,
        &["sample", "customers", "c.csv", "--seed", "1", "--out", "c"],
    );
    let s = std::fs::read_to_string(d.join("c/sample.csv")).unwrap();
    assert!(s.ends_with(",2025-01-01,\"甲,乙\"\n"), "{s}");
    std::fs::write(
        d.join("r.csv"),
        "response_id,outlet_id,question_code,answer\nR1, \"A,1\",Q1,4\n",
    )
    .unwrap();
    ok(d, &["score", "--responses", "r.csv", "--out", "s"]);
    let s = std::fs::read_to_string(d.join("s/rejected.csv")).unwrap();
    assert!(s.contains("r.csv,2,answer,R1,\"A,1\",Q1,4,"), "{s}");
}

/// `svcaudit verify DIR/name` exits 0.
#[track_caller]
fn assert_verifies_dir(dir: &Path, name: &str) {
    let (code, out, err) = run_in(dir, &["verify", name]);
    assert_eq!(code, 0, "{out}{err}");
}

/// A two-column list under a one-cell title is read from its real header (the title was
/// taken for a one-column header and every row refused).
#[test]
fn a_title_above_a_two_column_list_is_a_title() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("o.csv"),
        "2026年服务网点清单\n网点编号,网点名称\nW1,a\nW2,b\nW3,c\n",
    )
    .unwrap();
    let err = ok(
        d,
        &["sample", "outlets", "o.csv", "--seed", "1", "--out", "o"],
    );
    assert_eq!(
        err,
        "note: o.csv: line 1 above the header is a title, not data: \"2026年服务网点清单\"; the header is line 2\n\
         drew 2 outlets (0 certainty, 2 at random) and 0 reserves from 3 rows (0 closed, 0 excluded) into o\n"
    );
}
