//! `verify` passes on an untouched draw and fails, naming the difference, on each tampering.

use std::path::Path;

use crate::common::{example, run_in};

fn setup() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(example("outlets.csv"), t.path().join("o.csv")).unwrap();
    let (code, _, err) = run_in(
        t.path(),
        &[
            "sample",
            "outlets",
            "o.csv",
            "--seed",
            "99",
            "--strata",
            "类型",
            "--reserve",
            "1",
            "--out",
            "d",
        ],
    );
    assert_eq!(code, 0, "{err}");
    t
}

fn verify(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify", "d"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn untouched_draw_verifies() {
    let t = setup();
    let (code, out, err) = verify(t.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("verified: d — "), "{out}");
}

#[test]
fn an_edited_sample_row_fails() {
    let t = setup();
    let p = t.path().join("d/sample.csv");
    let s = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = s.lines().map(String::from).collect();
    let id = lines[1].split(',').next().unwrap().to_string();
    lines[1] = lines[1].replacen(",selected,", ",reserve,", 1);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let (code, _, err) = verify(t.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: NOT verified: d\n- sample.csv:2: unit `{id}`: column role: found `reserve`, expected `selected`\n- sample.csv: its SHA-256 is not the one recorded in manifest.json\n"
        )
    );
}

#[test]
fn a_changed_frame_fails() {
    let t = setup();
    let p = t.path().join("o.csv");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("营业", "停业", 3);
    std::fs::write(&p, s).unwrap();
    let (code, _, err) = verify(t.path(), &[]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: NOT verified: d\n- "), "{err}");
    assert!(err.contains("the frame's content changed"), "{err}");
    assert!(err.contains("counts differ"), "{err}");
}

#[test]
fn a_different_seed_fails() {
    let t = setup();
    let p = t.path().join("d/manifest.json");
    let s = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"seed\": \"99\"", "\"seed\": \"98\"");
    std::fs::write(&p, s).unwrap();
    let (code, _, err) = verify(t.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("- manifest.json: the seed `98` does not match the recorded commitment"),
        "{err}"
    );
    assert!(err.contains("is not in the re-derived sample"), "{err}");
}

#[test]
fn a_re_saved_copy_verifies_with_a_note() {
    let t = setup();
    let (code, out, err) = verify(
        t.path(),
        &["--frame", example("outlets.xlsx").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("note: the frame file's bytes differ"), "{out}");
    let (code, _, err) = verify(
        t.path(),
        &["--frame", example("outlets_gbk.csv").to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_edited_justification_fails() {
    let t = setup();
    let p = t.path().join("d/justification.md");
    let s = std::fs::read_to_string(&p).unwrap() + "\n附注\n";
    std::fs::write(&p, s).unwrap();
    let (code, _, err) = verify(t.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: NOT verified: d\n- justification.md: edited after the draw (SHA-256 differs from manifest.json)\n"
    );
}
