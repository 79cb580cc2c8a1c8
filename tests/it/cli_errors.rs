//! Bad input gets a clear error naming the file, line and column, the whole message is
//! asserted, and nothing is written.

use std::path::Path;

use crate::common::{example, run_in};

fn fail(dir: &Path, frame_text: &[u8], extra: &[&str]) -> (i32, String) {
    std::fs::write(dir.join("f.csv"), frame_text).unwrap();
    let mut args = vec!["sample", "outlets", "f.csv", "--seed", "1", "--out", "out"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_in(dir, &args);
    assert_eq!(out, "");
    assert!(!dir.join("out").exists(), "nothing may be written on error");
    (code, err)
}

#[test]
fn duplicate_and_empty_ids_name_every_line() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(
        t.path(),
        "网点编号,网点名称\nA1,甲\nA2,乙\n,丙\nA1,丁\nA3,戊\nA1,己\n".as_bytes(),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:4:1: column 网点编号: empty id\n\
         f.csv:2:1: column 网点编号: id `A1` occurs 3 times, on lines 2, 5, 7\n\
         hint: every unit needs its own id; remove duplicated rows or correct the ids, then run again\n"
    );
}

#[test]
fn missing_id_column_lists_the_header() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(t.path(), "名称,省份\n甲,广东\n".as_bytes(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:1: no column for the unit id; looked for outlet_id, 网点编号, 网点代码, 网点编码, 网点id, 门店编号, 门店代码, 服务网点编号, outlet_code, outlet, id, 编号, 代码, code; the header has: 名称, 省份\nhint: name the column with --id-col\n"
    );
    let (code, err) = fail(
        t.path(),
        "id,省份\n1,广东\n".as_bytes(),
        &["--strata", "城市"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:1: --strata `城市`: no such column; the header has: id, 省份\n"
    );
}

#[test]
fn wrong_field_counts_and_bad_quotes() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(t.path(), b"id,name\n1,a\n2,b,c\n3\n", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:3: 3 fields, but the header has 2 columns\nf.csv:4: 1 fields, but the header has 2 columns\nhint: every row must have as many fields as the header; quote cells that contain the delimiter\n"
    );
}

#[test]
fn empty_file_and_wrong_encoding() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(t.path(), b"", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv: the file is empty (no header row)\nhint: the first line must name the columns, e.g. 网点编号,网点名称,省份,城市\n"
    );
    let (gbk, _, _) = encoding_rs::GBK.encode("网点编号,名称\n1,广州\n");
    let (code, err) = fail(t.path(), &gbk, &["--encoding", "utf-8"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:1: the file is not valid UTF-8 text\nhint: save it as CSV UTF-8 (or pass --encoding with its real encoding, e.g. --encoding gbk)\n"
    );
    let (code, err) = fail(t.path(), &gbk, &["--encoding", "klingon"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --encoding: unknown encoding `klingon`; use utf-8, gbk, gb18030 or utf-16le\n"
    );
}

#[test]
fn pps_sizes_must_be_positive() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(
        t.path(),
        b"id,size\n1,10\n2,0\n3,\n4,-5\n5,abc\n",
        &["--method", "pps", "--size-col", "size"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: f.csv:3:2: column size: `0` is zero; a unit of size 0 could never be drawn\n\
         f.csv:4:2: column size: the size is empty\n\
         f.csv:5:2: column size: `-5` is not a positive number\n\
         f.csv:6:2: column size: `abc` is not a positive number\n\
         hint: every eligible outlet needs a stratum value and, for pps, a positive size; fix the cells or exclude the outlets with --exclude\n"
    );
}

#[test]
fn size_may_be_raised_with_a_reason_never_lowered() {
    let t = tempfile::tempdir().unwrap();
    let frame: String = std::iter::once("id\n".to_string())
        .chain((1..=26).map(|i| format!("{i}\n")))
        .collect();
    let (code, err) = fail(t.path(), frame.as_bytes(), &["--n", "5"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --n 5 is below the rule's minimum 6 (⌈√26⌉ for 26 eligible outlets); the rule may be raised, never lowered\n"
    );
    let (code, err) = fail(t.path(), frame.as_bytes(), &["--n", "8"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --n 8 raises the rule's 6 (⌈√26⌉); say why with --reason \"…\" (it goes into the 抽样说明)\n"
    );
}

#[test]
fn a_quarter_of_the_sample_must_be_random() {
    let t = tempfile::tempdir().unwrap();
    let frame: String = std::iter::once("id\n".to_string())
        .chain((1..=9).map(|i| format!("{i}\n")))
        .collect();
    std::fs::write(
        t.path().join("inc.csv"),
        "id,原因\n1,投诉\n2,投诉\n3,投诉\n",
    )
    .unwrap();
    let (code, err) = fail(t.path(), frame.as_bytes(), &["--include", "inc.csv"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: only 0 of the 3 sampled outlets would be drawn at random; at least 25 % must be random (IAF MD 1)\nhint: raise the size with --n 4 --reason \"…\", or choose fewer outlets for cause\n"
    );
}

/// `sample outlets o.csv --seed 1 --out out` plus `extra`.
fn draw_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sample", "outlets", "o.csv", "--seed", "1", "--out", "out"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn include_must_name_open_outlets_of_the_frame() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("inc.csv"),
        "网点编号,原因\nWD9999,投诉多\nWD0229,投诉多\nWD0001,\n",
    )
    .unwrap();
    std::fs::copy(example("outlets.csv"), t.path().join("o.csv")).unwrap();
    let (code, _, err) = run_in(t.path(), &draw_args(&["--include", "inc.csv"]));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: inc.csv:4:2: no reason for `WD0001`; a reason is required\nhint: --include takes a CSV with an id column and a reason column (原因)\n"
    );
    std::fs::write(
        t.path().join("inc.csv"),
        "网点编号,原因\nWD9999,投诉多\nWD0229,投诉多\n",
    )
    .unwrap();
    let (code, _, err) = run_in(t.path(), &draw_args(&["--include", "inc.csv"]));
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: --include: outlet `WD9999` is not in o.csv\n--include: outlet `WD0229` (o.csv:10) is excluded: closed (状态=停业)\nhint: an outlet chosen for cause must be an open outlet of the frame\n"
    );
}

#[test]
fn refuses_to_overwrite_a_draw_and_checks_the_commitment() {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(example("outlets.csv"), t.path().join("o.csv")).unwrap();
    let args = ["sample", "outlets", "o.csv", "--seed", "7", "--out", "out"];
    assert_eq!(run_in(t.path(), &args).0, 0);
    let (code, _, err) = run_in(t.path(), &args);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: out: a draw is already there; choose another --out or pass --force to replace it\n"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(run_in(t.path(), &forced).0, 0);

    let commitment = "7902699be42c8a8e46fbbb4501726517e86b22c56a189f7625a6da49081b2451"; // sha256("7")
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "outlets",
            "o.csv",
            "--seed",
            "8",
            "--out",
            "o2",
            "--seed-commitment",
            commitment,
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: the seed does not match the published commitment\n  commitment given: {commitment}\n  SHA-256 of seed:  2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3\nhint: use the seed that was committed to; a draw with another seed is not the announced draw\n"
        )
    );
    let (code, _, _) = run_in(
        t.path(),
        &[
            "sample",
            "outlets",
            "o.csv",
            "--seed",
            "7",
            "--out",
            "o3",
            "--seed-commitment",
            commitment,
        ],
    );
    assert_eq!(code, 0);
}

#[test]
fn usage_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample", "outlets", "x.csv", "--seed", "1", "--out", "o", "--method", "cluster",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid value 'cluster' for '--method <METHOD>'"),
        "{err}"
    );
    let (code, _, err) = run_in(t.path(), &["sample", "outlets", "x.csv", "--out", "o"]);
    assert_eq!(code, 2);
    assert!(err.contains("--seed <SEED>"), "{err}");
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "outlets",
            "missing.csv",
            "--seed",
            "1",
            "--out",
            "o",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: missing.csv: cannot read the file: No such file or directory (os error 2)\n"
    );
}

#[test]
fn a_broken_workbook_is_an_error_not_a_panic() {
    let t = tempfile::tempdir().unwrap();
    let (code, err) = fail(t.path(), b"PK\x03\x04this is not a zip archive", &[]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: f.csv: not a readable .xlsx workbook: "),
        "{err}"
    );
    assert!(
        err.ends_with(
            "\nhint: open it in Excel and save it again as .xlsx, or export it as CSV UTF-8\n"
        ),
        "{err}"
    );
}

#[test]
fn seed_prints_a_fresh_seed_and_its_commitment() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, _) = run_in(t.path(), &["seed"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let seed = lines[0].strip_prefix("seed: ").unwrap();
    let commitment = lines[1].strip_prefix("commitment (SHA-256): ").unwrap();
    assert!(
        seed.len() >= 20 && seed.bytes().all(|b| b.is_ascii_digit()),
        "{seed}"
    );
    assert_eq!(commitment, svcaudit::seed::sha256_hex(seed.as_bytes()));
    let (_, out2, _) = run_in(t.path(), &["seed"]);
    assert_ne!(out, out2, "two fresh seeds must differ");
}

#[test]
fn pps_size_certainty_units_count_as_random_design() {
    // Regression: units taken for their size are part of the random design, not chosen for
    // cause, so a pps draw without --include is never refused by the 25 % rule.
    let t = tempfile::tempdir().unwrap();
    let mut frame = String::from("id,size\n");
    for i in 0..12 {
        frame.push_str(&format!("U{i},{}\n", if i < 4 { 1000 } else { 1 }));
    }
    std::fs::write(t.path().join("o.csv"), frame).unwrap();
    let args = draw_args(&[
        "--method",
        "pps",
        "--size-col",
        "size",
        "--n",
        "5",
        "--reason",
        "test",
    ]);
    let (code, _, err) = run_in(t.path(), &args);
    assert_eq!(code, 0, "{err}");
    let s = std::fs::read_to_string(t.path().join("out/sample.csv")).unwrap();
    assert_eq!(s.matches(",certainty,").count(), 4, "{s}");
}

/// `svcaudit scheme show gbt27922 | head` must end quietly: the reader closed the pipe, which
/// asks for no more output; it is not an error (was: a panic with exit 101 and a backtrace).
#[test]
fn a_closed_stdout_pipe_ends_quietly_with_exit_0() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("svcaudit"))
        .args(["scheme", "show", "gbt27922"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // Close the reading end before svcaudit writes: its first write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
