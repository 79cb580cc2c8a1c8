//! Scoring through the command line: the points rules (proportional deduction, 删减, special
//! deductions, the bonus cap, each level threshold hit exactly), the importers (long, wide
//! LimeSurvey and KoboToolbox exports), the checks against the draws and the plan, and the
//! counts that must add up.

use std::path::Path;

use crate::common::{root, run_in};
use crate::schedule::{draw_example, schedule_example};

const SCHEME: &str = r#"
[scheme]
name = "t"
scale = 100

[[levels]]
name = "达标级"
min = 70
[[levels]]
name = "三星级"
min = 80
[[levels]]
name = "四星级"
min = 90
[[levels]]
name = "五星级"
min = 95

[[categories]]
id = "A"
points = 100
[[groups]]
id = "G"
parent = "A"
points = 100
[[indicators]]
id = "I1"
group = "G"
points = 50
[[indicators]]
id = "I2"
group = "G"
points = 50

[[items]]
code = "R1"
indicator = "I1"
source = "review"
kind = "conform"
points = 40
[[items]]
code = "R2"
indicator = "I1"
source = "review"
kind = "points"
max = 5
points = 10
[[items]]
code = "Q1"
indicator = "I2"
source = "interview"
kind = "conform"
points = 50
"#;

/// Ten interviews of Q1 with `bad` nonconforming answers, one N/A.
fn answers(dir: &Path, bad: usize) {
    let mut s = String::from("respondent,outlet,question,answer\n");
    for i in 0..10 {
        let a = if i < bad { "否" } else { "是" };
        s.push_str(&format!("C{i},O1,Q1,{a}\n"));
    }
    s.push_str("C10,O1,Q1,不适用\n");
    std::fs::write(dir.join("r.csv"), s).unwrap();
}

fn score(dir: &Path, findings: &str) -> (i32, serde_json::Value, String) {
    std::fs::write(dir.join("s.toml"), SCHEME).unwrap();
    std::fs::write(dir.join("f.csv"), findings).unwrap();
    let (code, _, err) = run_in(
        dir,
        &[
            "score",
            "--scheme",
            "s.toml",
            "--responses",
            "r.csv",
            "--findings",
            "f.csv",
            "--out",
            "out",
            "--force",
        ],
    );
    let summary = std::fs::read_to_string(dir.join("out/summary.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (code, summary, err)
}

fn total(v: &serde_json::Value) -> f64 {
    v["total"]["total"].as_f64().unwrap()
}

#[test]
fn proportional_deduction_and_exclusion() {
    let t = tempfile::tempdir().unwrap();
    answers(t.path(), 2);
    // Q1 earns 50 × (1 − 2/10) = 40; R1 40; R2 does not apply (删减): 80 of 90 applicable.
    let (code, v, err) = score(t.path(), "item,result\nR1,符合\nR2,N/A\n");
    assert_eq!(code, 0, "{err}");
    close(total(&v), 80.0 / 90.0 * 100.0);
    // One outlet: the between-outlet standard error cannot be estimated, and the output says so.
    assert!(
        v["design_notes"][0]
            .as_str()
            .unwrap()
            .starts_with("All questionnaires come from one outlet (O1)")
    );
    assert_eq!(v["total"]["level"], "三星级 ()");
    let scores = std::fs::read_to_string(t.path().join("out/scores.csv")).unwrap();
    let q1 = scores
        .lines()
        .find(|l| l.starts_with("all,item,Q1,"))
        .unwrap();
    assert!(q1.contains(",50,50,10,80.000000,"), "{q1}");
    let r2 = scores
        .lines()
        .find(|l| l.starts_with("all,item,R2,"))
        .unwrap();
    assert!(r2.ends_with(",10,0,0,,,,,,,,"), "{r2}");
    // Checklist points: 3 of 5 earns 6 of 10.
    let (_, v, _) = score(t.path(), "item,result\nR1,符合\nR2,3\n");
    close(total(&v), 40.0 + 40.0 + 6.0);
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn each_level_threshold_is_reached_exactly() {
    let t = tempfile::tempdir().unwrap();
    // R1 40 + R2 10 + Q1 50 × share conforming.
    for (bad, want_total, level) in [
        (0, 100.0, "五星级 ()"),
        (1, 95.0, "五星级 ()"),
        (2, 90.0, "四星级 ()"),
        (4, 80.0, "三星级 ()"),
        (6, 70.0, "达标级 ()"),
    ] {
        answers(t.path(), bad);
        let (code, v, err) = score(t.path(), "item,result\nR1,1\nR2,5\n");
        assert_eq!(code, 0, "{err}");
        close(total(&v), want_total);
        assert_eq!(v["total"]["level"], level, "{bad} nonconforming");
    }
    answers(t.path(), 7);
    let (_, v, _) = score(t.path(), "item,result\nR1,1\nR2,5\n");
    close(total(&v), 65.0);
    assert_eq!(v["total"]["level"], "不通过 (fail)");
}

#[test]
fn special_deductions_fail_at_five_and_the_bonus_is_capped() {
    let t = tempfile::tempdir().unwrap();
    answers(t.path(), 0);
    let four =
        "item,result,note\nR1,1,\nR2,5,\n特别扣分,,a\n特别扣分,,b\n特别扣分,,c\nspecial,,d\n";
    let (_, v, _) = score(t.path(), four);
    close(total(&v), 96.0);
    assert_eq!(v["total"]["level"], "五星级 ()");
    let five = format!("{four}特别扣分,,e\n");
    let (_, v, _) = score(t.path(), &five);
    close(total(&v), 95.0);
    assert_eq!(v["total"]["failed_special"], true);
    assert_eq!(v["total"]["level"], "不通过 (fail)");
    // Two bonuses count once; the total stays within the scale.
    answers(t.path(), 2);
    let (code, v, err) = score(
        t.path(),
        "item,result,note\nR1,1,\nR2,5,\n特别加分,,x\nbonus,,y\n",
    );
    assert_eq!(code, 0, "{err}");
    close(total(&v), 91.0);
    answers(t.path(), 0);
    let (_, v, _) = score(t.path(), "item,result,note\nR1,1,\nR2,5,\n特别加分,,x\n");
    close(total(&v), 100.0);
}

#[test]
fn findings_and_scheme_errors_name_the_line() {
    let t = tempfile::tempdir().unwrap();
    answers(t.path(), 0);
    let (code, _, err) = score(t.path(), "item,result\nR1,maybe\nQ1,1\nR9,1\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("f.csv:2:result: `maybe` is not a conform answer"),
        "{err}"
    );
    assert!(
        err.contains("f.csv:3:item: Q1 is a interview (顾客访问) item"),
        "{err}"
    );
    assert!(
        err.contains("f.csv:4:item: R9 is not an item of the scheme"),
        "{err}"
    );
    assert!(
        err.contains("no finding for the review items R1, R2"),
        "{err}"
    );
    std::fs::write(
        t.path().join("bad.toml"),
        SCHEME.replace("points = 50\n\n[[items]]", "points = 45\n\n[[items]]"),
    )
    .unwrap();
    let (code, _, err) = run_in(t.path(), &["scheme", "check", "bad.toml"]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.toml:"), "{err}");
    assert!(err.contains("add up to"), "{err}");
    let (code, out, _) = run_in(t.path(), &["scheme", "show", "gbt27922"]);
    assert_eq!(code, 0);
    assert!(out.contains("[[categories]]") && out.contains("5.3.2"));
}

#[test]
fn wide_exports_and_answer_level_rejections_add_up() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // LimeSurvey: BOM, id column, Q1[SQ001]-style columns, empty = not shown.
    let scheme = SCHEME.replace("code = \"Q1\"", "code = \"Q1_SQ001\"");
    std::fs::write(d.join("s.toml"), &scheme).unwrap();
    let mut lime = b"\xEF\xBB\xBF".to_vec();
    lime.extend_from_slice(
        "id,submitdate,lastpage,outlet_id,Q1[SQ001],Q9\n1,2026-12-01 10:00:00,3,O1,Y,x\n2,2026-12-01 11:00:00,3,O2,,x\n3,,3,O2,maybe,\n".as_bytes(),
    );
    std::fs::write(d.join("lime.csv"), lime).unwrap();
    // KoboToolbox: group/question columns and a split multiple choice.
    std::fs::write(
        d.join("kobo.csv"),
        "_uuid,start,grp/outlet_id,grp/Q1_SQ001,grp/Q1_SQ001/yes,grp/Q1_SQ001/no\nu1,x,O3,0,0,1\nu2,x,O3,n/a,0,0\n",
    )
    .unwrap();
    // Long: an unknown question, a duplicate answer, an answer out of range.
    std::fs::write(
        d.join("long.csv"),
        "respondent,outlet,question,answer\nL1,O4,Q1_SQ001,1\nL1,O4,Q1_SQ001,0\nL2,O4,QX,1\nL3,O4,Q1_SQ001,7\n",
    )
    .unwrap();
    std::fs::write(d.join("f.csv"), "item,result\nR1,1\nR2,5\n").unwrap();
    let (code, _, err) = run_in(
        d,
        &[
            "score",
            "--scheme",
            "s.toml",
            "--responses",
            "lime.csv",
            "kobo.csv",
            "long.csv",
            "--findings",
            "f.csv",
            "--out",
            "out",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap())
            .unwrap();
    let c = &v["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(n("answers_read"), 2 + 2 + 4);
    assert_eq!(
        n("answers_read"),
        n("scored") + n("not_applicable") + n("control") + n("rejected")
    );
    assert_eq!(
        (
            n("scored"),
            n("not_applicable"),
            n("rejected"),
            n("not_shown")
        ),
        (3, 1, 4, 1)
    );
    assert_eq!(v["inputs"][0]["layout"], "wide");
    assert_eq!(v["inputs"][0]["unscored_columns"][0], "Q9");
    assert_eq!(v["inputs"][1]["split_columns"].as_array().unwrap().len(), 2);
    let rej = std::fs::read_to_string(d.join("out/rejected.csv")).unwrap();
    for want in [
        "lime.csv,4,Q1[SQ001],3,O2,Q1_SQ001,maybe,\"`maybe` is not a conform answer",
        "long.csv,3,answer,L1,O4,Q1_SQ001,0,respondent answered Q1_SQ001 twice",
        "long.csv,4,answer,L2,O4,QX,1,question QX is not in the scheme",
        "long.csv,5,answer,L3,O4,Q1_SQ001,7,\"`7` is not a conform answer",
    ] {
        assert!(rej.contains(want), "{want}\n{rej}");
    }
}

/// The example audit end to end: draws, plan, synthetic results with planted faults.
#[test]
fn results_are_checked_against_the_draws_and_the_plan() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    draw_example(d);
    let (code, err) = schedule_example(d, &[]);
    assert_eq!(code, 0, "{err}");
    let read = |p: &str| std::fs::read_to_string(d.join(p)).unwrap();
    // Interviews: every selected customer answers; plus a customer never drawn and one
    // answering twice.
    let sample = read("c/sample.csv");
    let mut iv = String::from("response_id,customer_id,question_code,answer\n");
    let mut k = 0;
    let mut first = String::new();
    for l in sample.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        if c[3] != "selected" {
            continue;
        }
        k += 1;
        if first.is_empty() {
            first = c[0].to_string();
        }
        for (q, a) in [
            (
                "CS_OVERALL",
                ["很满意", "满意", "基本满意", "5", "4"][k % 5],
            ),
            ("CS_WARRANTY", if k % 7 == 0 { "否" } else { "是" }),
            ("CS_COMPLAINT", if k % 3 == 0 { "4" } else { "未投诉" }),
        ] {
            iv.push_str(&format!("I{k},{},{q},{a}\n", c[0]));
        }
    }
    iv.push_str("IX,GD999999,CS_OVERALL,5\n");
    iv.push_str(&format!("IY,{first},CS_OVERALL,5\n"));
    std::fs::write(d.join("interviews.csv"), iv).unwrap();
    // 暗访 and calls as planned, one by someone else and one far from its date.
    let visits = read("plan/visits.csv");
    let mut mv = String::from("response_id,outlet_id,date,by,question_code,answer\n");
    let mut n = 0;
    for l in visits.lines().skip(1) {
        let c: Vec<&str> = l.split(',').collect();
        let (date, kind, outlet, person) = (c[0], c[4], c[6], c[9]);
        let items: &[(&str, &str)] = match kind {
            "mystery_visit" => &[
                ("MV_STAFF", "1"),
                ("MV_FACILITY", "3"),
                ("MV_PROCESS", "1"),
                ("MV_INFO", "0"),
            ],
            "mystery_call" => &[("MC_GREETING", "1"), ("MC_ANSWER", "2"), ("MC_WAIT", "1")],
            _ => continue,
        };
        n += 1;
        let (date, person) = match n {
            1 => (date, "S99"),
            2 => ("2027-06-01", person),
            _ => (date, person),
        };
        for (q, a) in items {
            mv.push_str(&format!("V{n},{outlet},{date},{person},{q},{a}\n"));
        }
    }
    std::fs::write(d.join("mystery.csv"), mv).unwrap();
    let scheme =
        svcaudit::scoring::scheme::Scheme::parse("gbt27922", svcaudit::scoring::scheme::GBT27922)
            .unwrap();
    let mut f = String::from("item,result,note\n");
    for it in scheme
        .items
        .iter()
        .filter(|i| i.source == svcaudit::scoring::scheme::Source::Review)
    {
        f.push_str(&format!("{},符合,\n", it.code));
    }
    std::fs::write(d.join("findings.csv"), f).unwrap();
    let dir = |p: &str| d.join(p).to_str().unwrap().to_string();
    let args = [
        "score".to_string(),
        "--responses".into(),
        dir("interviews.csv"),
        dir("mystery.csv"),
        "--findings".into(),
        dir("findings.csv"),
        "--outlets".into(),
        dir("o"),
        "--customers".into(),
        dir("c"),
        "--plan".into(),
        dir("plan"),
        "--out".into(),
        dir("scores"),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run_in(&root(), &args);
    assert_eq!(code, 0, "{err}");
    let rej = read("scores/rejected.csv");
    assert!(rej.contains("IX,,CS_OVERALL,5,no outlet"), "{rej}");
    assert!(
        rej.contains("IY,")
            && rej.contains(&format!(
                "duplicate response: customer {first} already answered as respondent I1"
            )),
        "{rej}"
    );
    assert!(rej.contains("made by S99, but the plan assigns"), "{rej}");
    assert!(
        rej.contains("made on 2027-06-01, outside its planned window"),
        "{rej}"
    );
    let v: serde_json::Value = serde_json::from_str(&read("scores/summary.json")).unwrap();
    let c = &v["counts"];
    let g = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(
        g("answers_read"),
        g("scored") + g("not_applicable") + g("control") + g("rejected")
    );
    assert!(v["total"]["level"].is_string());
    let report = read("scores/report.md");
    assert!(
        report.contains("## 指标得分 Indicator scores") && report.contains("## 分层 By stratum")
    );
    // Same inputs, same bytes.
    let first_scores = read("scores/scores.csv");
    let mut again = args.clone();
    again.push("--force");
    let (code, _, err) = run_in(&root(), &again);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read("scores/scores.csv"), first_scores);
}
