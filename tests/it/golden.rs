//! Golden outputs: the example data drawn with every method. A change here changes drawn
//! samples; it must come with a new algorithm version, never silently.

use std::path::Path;

use crate::common::{assert_golden, example, run_in};

/// Copies the example inputs into `dir` so paths in the outputs are relative and stable.
fn stage(dir: &Path) {
    for f in [
        "outlets.csv",
        "include.csv",
        "exclude.csv",
        "visited_2025.csv",
    ] {
        std::fs::copy(example(f), dir.join(f)).unwrap();
    }
}

fn draw(dir: &Path, out: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "sample",
        "outlets",
        "outlets.csv",
        "--seed",
        "20261122",
        "--out",
        out,
        "--drawn-on",
        "2026-11-22",
        "--drawn-by",
        "golden",
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run_in(dir, &args);
    assert_eq!(code, 0, "{err}");
    std::fs::read_to_string(dir.join(out).join("sample.csv")).unwrap()
}

#[test]
fn golden_samples_for_every_method() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    stage(d);
    let cases: &[(&str, &[&str])] = &[
        ("srs", &["--reserve", "3"]),
        ("srs_strata", &["--strata", "类型", "--reserve", "1"]),
        (
            "srs_strata_equal",
            &[
                "--strata",
                "类型",
                "--allocation",
                "equal",
                "--n",
                "24",
                "--reason",
                "风险高 high risk",
            ],
        ),
        (
            "systematic",
            &[
                "--method",
                "systematic",
                "--sort-col",
                "城市",
                "--strata",
                "类型",
            ],
        ),
        (
            "pps",
            &[
                "--method",
                "pps",
                "--size-col",
                "年服务量",
                "--n",
                "40",
                "--reason",
                "大型网点多 many large outlets",
                "--reserve",
                "2",
            ],
        ),
        (
            "surveillance_rotation",
            &[
                "--stage",
                "surveillance",
                "--visited",
                "visited_2025.csv",
                "--reserve",
                "2",
            ],
        ),
        (
            "surveillance_all_30pct",
            &[
                "--stage",
                "surveillance",
                "--all",
                "--visited",
                "visited_2025.csv",
            ],
        ),
        (
            "for_cause",
            &[
                "--include",
                "include.csv",
                "--exclude",
                "exclude.csv",
                "--reserve",
                "2",
            ],
        ),
    ];
    for (name, extra) in cases {
        let s = draw(d, name, extra);
        assert_golden(&format!("sample_{name}.csv"), &s);
    }
}

#[test]
fn golden_manifest_and_justification() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    stage(d);
    draw(
        d,
        "out",
        &[
            "--strata",
            "省份",
            "--reserve",
            "2",
            "--include",
            "include.csv",
            "--exclude",
            "exclude.csv",
            // The for-cause outlets fill 广东's and 浙江's allocation: the golden files show
            // how the manifest and the 抽样说明 record a draw that keeps that design.
            "--allow-zero-coverage",
        ],
    );
    let m = std::fs::read_to_string(d.join("out/manifest.json")).unwrap();
    let m = m.replace(env!("CARGO_PKG_VERSION"), "VERSION");
    assert_golden("manifest_strata.json", &m);
    let j = std::fs::read_to_string(d.join("out/justification.md")).unwrap();
    assert_golden(
        "justification_strata.md",
        &j.replace(env!("CARGO_PKG_VERSION"), "VERSION"),
    );
}

#[test]
fn same_draw_twice_gives_identical_bytes_but_for_date_and_person() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    stage(d);
    let a = draw(d, "a", &["--strata", "省份"]);
    let (code, _, err) = run_in(
        d,
        &[
            "sample",
            "outlets",
            "outlets.csv",
            "--seed",
            "020261122",
            "--out",
            "b",
            "--strata",
            "省份",
            "--drawn-on",
            "2027-01-05",
            "--drawn-by",
            "other",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let b = std::fs::read_to_string(d.join("b/sample.csv")).unwrap();
    assert_eq!(a, b);
    let ma: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("a/manifest.json")).unwrap()).unwrap();
    let mb: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("b/manifest.json")).unwrap()).unwrap();
    for k in ["seed", "frame", "parameters", "size", "strata", "counts"] {
        assert_eq!(ma[k], mb[k], "{k}");
    }
    assert_ne!(ma["drawn_on"], mb["drawn_on"]);
}
