//! Coverage stays honest: a draw whose for-cause outlets fill a stratum's allocation (so the
//! stratum's other outlets have π = 0) is refused with the smallest `--n` that avoids it,
//! `--allow-zero-coverage` keeps it and says so, manifests from before the rule still verify,
//! and a size raised by per-stratum minimums is announced on stderr.

use std::path::Path;

use crate::common::run_in;

/// 24 outlets in strata A (12), B (6), C (6); rule ⌈√24⌉ = 5 → 3, 1, 1; B01 for cause.
fn three_strata(dir: &Path) {
    let mut f = String::from("id,region\n");
    for (r, k) in [("A", 12), ("B", 6), ("C", 6)] {
        for i in 1..=k {
            f.push_str(&format!("{r}{i:02},{r}\n"));
        }
    }
    std::fs::write(dir.join("f.csv"), f).unwrap();
    std::fs::write(dir.join("inc.csv"), "id,原因\nB01,投诉多\n").unwrap();
}

fn draw(dir: &Path, out: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "sample",
        "outlets",
        "f.csv",
        "--seed",
        "7",
        "--strata",
        "region",
        "--include",
        "inc.csv",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

fn manifest(dir: &Path, out: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(out).join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn for_cause_filling_a_stratum_is_refused_with_the_smallest_n_that_avoids_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_strata(d);
    let (code, out, err) = draw(d, "out", &[]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "error: outlets chosen for cause (指定网点, --include) fill the allocation of 1 stratum, so 5 other eligible outlets would have no chance of selection (π = 0) and the estimates could not describe them:\n  \
         stratum B: N_h = 6, n_h = 1, chosen for cause c_h = 1: 5 outlets with π = 0\n\
         hint: raise the size to --n 6 --reason \"…\" (the smallest that leaves an outlet drawn at random in every stratum); or stratify more coarsely (fewer --strata values); or pass --allow-zero-coverage (in an audit file: allow_zero_coverage = true) to keep this design, and the 抽样说明 states which outlets had no chance\n"
    );
    assert!(!d.join("out").exists(), "nothing written");

    // The suggested size works: every stratum has an outlet drawn at random (π > 0 for all
    // its outlets not chosen for cause).
    let (code, _, err) = draw(d, "out", &["--n", "6", "--reason", "覆盖 B"]);
    assert_eq!(code, 0, "{err}");
    let m = manifest(d, "out");
    assert_eq!(m["parameters"]["allow_zero_coverage"], false);
    assert!(m.get("zero_coverage").is_none());
    let strata = m["strata"].as_array().unwrap();
    assert_eq!(strata.len(), 3);
    for s in strata {
        assert!(s["selected"].as_u64().unwrap() >= 1, "{s}");
    }
    let sample = std::fs::read_to_string(d.join("out/sample.csv")).unwrap();
    for l in sample.lines().skip(1) {
        let pi: f64 = l.split(',').nth(5).unwrap().parse().unwrap();
        assert!(pi > 0.0, "{l}");
    }
}

#[test]
fn the_opt_out_keeps_the_draw_and_states_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_strata(d);
    let (code, _, err) = draw(d, "out", &["--allow-zero-coverage"]);
    assert_eq!(code, 0, "{err}");
    let m = manifest(d, "out");
    assert_eq!(m["parameters"]["allow_zero_coverage"], true);
    assert_eq!(
        m["zero_coverage"],
        serde_json::json!([{"stratum": "B", "eligible": 6, "allocated": 1, "for_cause": 1, "no_chance": 5}])
    );
    let j = std::fs::read_to_string(d.join("out/justification.md")).unwrap();
    assert!(
        j.contains("下列 1 层的分配名额被指定网点占满，其余 5 个合格网点没有入样机会（π = 0）"),
        "{j}"
    );
    assert!(j.contains("| B | 6 | 1 | 1 | 5 |"), "{j}");
    let (code, _, err) = run_in(d, &["verify", "out"]);
    assert_eq!(code, 0, "{err}");
}

/// A manifest written before the rule has no `allow_zero_coverage`: its draw must replay as
/// it was made, not be refused.
#[test]
fn an_old_manifest_without_the_field_still_verifies() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    three_strata(d);
    let (code, _, err) = draw(d, "out", &["--allow-zero-coverage"]);
    assert_eq!(code, 0, "{err}");
    // Rewrite the manifest as the previous version wrote it, and its ledger line to match.
    let mpath = d.join("out/manifest.json");
    let mut m = manifest(d, "out");
    m["parameters"]
        .as_object_mut()
        .unwrap()
        .remove("allow_zero_coverage");
    m.as_object_mut().unwrap().remove("zero_coverage");
    let mut bytes = serde_json::to_vec_pretty(&m).unwrap();
    bytes.push(b'\n');
    std::fs::write(&mpath, &bytes).unwrap();
    let h = svcaudit::seed::sha256_hex(&bytes);
    let lpath = d.join("out/ledger.jsonl");
    let mut line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&lpath).unwrap().trim_end()).unwrap();
    line["manifest_sha256"] = h.clone().into();
    line["outputs"]["manifest.json"] = h.into();
    std::fs::write(&lpath, format!("{line}\n")).unwrap();
    let text = std::fs::read_to_string(&mpath).unwrap();
    assert!(!text.contains("allow_zero_coverage") && !text.contains("zero_coverage"));

    let (code, out, err) = run_in(d, &["verify", "out"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("verified: out — "), "{out}");

    // The same manifest saying the rule applied (false) cannot be replayed: the draw it
    // describes would have been refused.
    let text = text.replace(
        "\"visited\": []",
        "\"visited\": [],\n    \"allow_zero_coverage\": false",
    );
    std::fs::write(&mpath, text).unwrap();
    let (code, _, err) = run_in(d, &["verify", "out"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("fill the allocation of 1 stratum"), "{err}");
}

#[test]
fn a_size_raised_by_per_stratum_minimums_is_noted_on_stderr() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // 9 outlets in 4 strata: the rule's ⌈√9⌉ = 3, one per stratum makes 4.
    let f: String = std::iter::once("id,region\n".to_string())
        .chain((1..=9).map(|i| format!("{i},R{}\n", i % 4)))
        .collect();
    std::fs::write(d.join("f.csv"), f).unwrap();
    let args = [
        "sample", "outlets", "f.csv", "--seed", "1", "--strata", "region", "--out", "out",
    ];
    let (code, _, err) = run_in(d, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        "note: 4 strata with at least 1 outlet each raise the sample from 3 (rule ⌈√9⌉) to 4 (+1)\n\
         drew 4 outlets (0 certainty, 4 at random) and 0 reserves from 9 rows (0 closed, 0 excluded) into out\n"
    );
    let j = std::fs::read_to_string(d.join("out/justification.md")).unwrap();
    assert!(
        j.contains("- 分层增加样本量 Stratification raises the size: 4 strata with at least 1 outlet each raise the sample from 3 (rule ⌈√9⌉) to 4 (+1).\n"),
        "{j}"
    );
    let mut quiet = vec!["-q"];
    quiet.extend_from_slice(&args);
    quiet.push("--force");
    let (code, _, err) = run_in(d, &quiet);
    assert_eq!((code, err.as_str()), (0, ""));
}
