//! The scoring outputs: `scores.csv`, `outlets.csv`, `rejected.csv`, `summary.json` and the
//! readable `report.md` (Chinese terms beside English). Fixed column order and number
//! formats, so the same inputs give the same bytes.

use super::csv_writer as writer;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::scoring::design::{Design, Fieldwork};
use crate::scoring::estimate::Z95;
use crate::scoring::population::Population;
use crate::scoring::responses::Responses;
use crate::scoring::scheme::{Kind, Scheme, fmt_pts};
use crate::scoring::{Findings, Scores};

/// `v` with six decimals exactly as `format!("{v:.6}")` writes it (the exact binary value
/// rounded half to even); empty when not finite. `outlets.csv` has hundreds of thousands of
/// them, and the formatter's exact algorithm is slow, so the usual case goes through an
/// integer: `m = v·10⁶` is off the exact product by at most one unit in its last place, so
/// when `m` is farther than that from a tie, rounding `m` rounds the exact value the same way.
/// Ties, near-ties, large values and a negative value that rounds to zero (`-0.000000`) take
/// the formatter.
fn f6(v: f64) -> String {
    let mut b = Vec::with_capacity(24);
    f6_into(&mut b, v);
    String::from_utf8(b).expect("digits are ASCII")
}

/// [`f6`] appended to `out`.
fn f6_into(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        return;
    }
    let m = v * 1e6;
    if m.abs() < 4.0e15 {
        let frac = (m - m.trunc()).abs();
        let r = m.round();
        if (frac - 0.5).abs() > 4.0 * f64::EPSILON * m.abs().max(1.0)
            && !(r == 0.0 && v.is_sign_negative())
        {
            let r = r as i64;
            if r < 0 {
                out.push(b'-');
            }
            let a = r.unsigned_abs();
            uint_into(out, a / 1_000_000);
            out.push(b'.');
            let f = a % 1_000_000;
            let at = out.len();
            out.extend_from_slice(b"000000");
            let mut f = f;
            for k in (at..at + 6).rev() {
                out[k] = b'0' + (f % 10) as u8;
                f /= 10;
            }
            return;
        }
    }
    out.extend_from_slice(format!("{v:.6}").as_bytes());
}

/// The decimal digits of `n` appended to `out`.
fn uint_into(out: &mut Vec<u8>, mut n: u64) {
    let mut d = [0u8; 20];
    let mut k = d.len();
    loop {
        k -= 1;
        d[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&d[k..]);
}

fn finish(w: csv::Writer<Vec<u8>>) -> Vec<u8> {
    w.into_inner().expect("writing to memory")
}

/// `scores.csv`: every item, indicator, group, category and the total, for the whole base
/// and per stratum. Rates are percent of the applicable points earned; scores are points.
pub fn scores_csv(s: &Scores) -> Vec<u8> {
    let mut w = writer();
    w.write_record([
        "domain",
        "level",
        "id",
        "name",
        "source",
        "points",
        "applicable_points",
        "n",
        "rate",
        "rate_se",
        "rate_ci_low",
        "rate_ci_high",
        "score",
        "score_se",
        "score_ci_low",
        "score_ci_high",
    ])
    .expect("csv");
    for r in &s.rows {
        let mut rec = vec![
            r.domain.clone(),
            r.level.to_string(),
            r.id.clone(),
            r.name.clone(),
            r.source.clone(),
            fmt_pts(r.points),
            fmt_pts(r.applicable),
            r.n.to_string(),
        ];
        match (r.rate, r.score()) {
            (Some(rate), Some(sc)) => {
                let (lo, hi) = rate.ci();
                let (slo, shi) = sc.ci();
                for v in [rate.value, rate.se, lo, hi] {
                    rec.push(f6(v * 100.0));
                }
                for v in [sc.value, sc.se, slo, shi] {
                    rec.push(f6(v));
                }
            }
            _ => rec.extend(std::iter::repeat_n(String::new(), 8)),
        }
        w.write_record(&rec).expect("csv");
    }
    finish(w)
}

/// `outlets.csv`: per outlet, each item's answers, mean answer and rate (with the SE from the
/// outlet's own questionnaires), each indicator's rate and the fieldwork rate.
pub fn outlets_csv(sc: &Scores, s: &Scheme) -> Vec<u8> {
    let mut w = writer();
    w.write_record([
        "outlet_id",
        "stratum",
        "level",
        "id",
        "n",
        "mean_answer",
        "rate",
        "rate_se",
    ])
    .expect("csv");
    let mut out = finish(w);
    // Hundreds of thousands of rows: the text cells are quoted once (as the csv writer
    // would), the numbers written straight into the buffer.
    let mut q = Quoter::new();
    let codes: Vec<Vec<u8>> = s.items.iter().map(|i| q.cell(&i.code)).collect();
    let ids: Vec<Vec<u8>> = s.nodes.iter().map(|n| q.cell(&n.id)).collect();
    let names: Vec<(Vec<u8>, Vec<u8>)> = sc
        .outlets
        .iter()
        .zip(&sc.outlet_strata)
        .map(|(o, st)| (q.cell(o), q.cell(st)))
        .collect();
    let text = |psu: u32| {
        let (o, st) = &names[psu as usize];
        (o.as_slice(), st.as_slice())
    };
    // Items by (outlet, item), then the outlet's indicators and fieldwork rate.
    let mut items: Vec<&crate::scoring::OutletItem> = sc.outlet_items.iter().collect();
    items.sort_unstable_by_key(|o| (o.psu, o.item));
    let mut nodes = sc.outlet_nodes.iter().peekable();
    let mut items = items.into_iter().peekable();
    let num = |out: &mut Vec<u8>, v: Option<f64>| {
        out.push(b',');
        if let Some(v) = v {
            f6_into(out, v);
        }
    };
    loop {
        let next_psu = match (items.peek(), nodes.peek()) {
            (None, None) => break,
            (Some(i), Some(n)) => i.psu.min(n.psu),
            (Some(i), None) => i.psu,
            (None, Some(n)) => n.psu,
        };
        while let Some(o) = items.next_if(|o| o.psu == next_psu) {
            let (outlet, stratum) = text(o.psu);
            out.extend_from_slice(outlet);
            out.push(b',');
            out.extend_from_slice(stratum);
            out.extend_from_slice(b",item,");
            out.extend_from_slice(&codes[o.item as usize]);
            out.push(b',');
            uint_into(&mut out, u64::from(o.n));
            num(&mut out, Some(o.mean_answer));
            num(&mut out, Some(o.rate * 100.0));
            num(&mut out, o.se.map(|v| v * 100.0));
            out.push(b'\n');
        }
        while let Some(o) = nodes.next_if(|o| o.psu == next_psu) {
            let (level, id): (&[u8], &[u8]) = match o.node {
                Some(j) => (b"indicator", &ids[j as usize]),
                None => (b"fieldwork", b"fieldwork"),
            };
            let (outlet, stratum) = text(o.psu);
            out.extend_from_slice(outlet);
            out.push(b',');
            out.extend_from_slice(stratum);
            out.push(b',');
            out.extend_from_slice(level);
            out.push(b',');
            out.extend_from_slice(id);
            out.extend_from_slice(b",,");
            num(&mut out, o.rate.map(|v| v * 100.0));
            out.push(b',');
            out.push(b'\n');
        }
    }
    out
}

/// Cells as the csv writer writes them inside a row: quoted when they must be, an empty
/// cell empty.
struct Quoter(csv::Writer<Vec<u8>>, usize);

impl Quoter {
    fn new() -> Self {
        Quoter(writer(), 0)
    }

    fn cell(&mut self, v: &str) -> Vec<u8> {
        self.0.write_record([v, ""]).expect("csv");
        self.0.flush().expect("writing to memory");
        let b = self.0.get_ref();
        let cell = b[self.1..b.len() - 2].to_vec();
        self.1 = b.len();
        cell
    }
}

/// `rejected.csv`: every answer not scored, with where it was and why.
pub fn rejected_csv(r: &Responses) -> Vec<u8> {
    let mut w = writer();
    w.write_record([
        "file",
        "line",
        "column",
        "respondent",
        "outlet",
        "question",
        "answer",
        "reason",
    ])
    .expect("csv");
    let mut rows: Vec<_> = r.rejected.iter().collect();
    rows.sort_by(|a, b| (&a.file, a.line, &a.question).cmp(&(&b.file, b.line, &b.question)));
    for x in rows {
        w.write_record([
            x.file.as_str(),
            &x.line.to_string(),
            &x.column,
            &x.respondent,
            &x.outlet,
            &x.question,
            &x.answer,
            &x.reason,
        ])
        .expect("csv");
    }
    finish(w)
}

/// The counts that must add up: answers read = scored + N/A + control + rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub answers_read: u64,
    pub scored: u64,
    pub not_applicable: u64,
    pub control: u64,
    pub rejected: u64,
    pub not_shown: u64,
    pub questionnaires: u64,
    pub questionnaires_scored: u64,
}

pub fn counts(r: &Responses, s: &Scheme) -> Counts {
    let mut c = Counts {
        answers_read: r.inputs.iter().map(|i| i.answers).sum(),
        scored: 0,
        not_applicable: 0,
        control: 0,
        rejected: r.rejected.len() as u64,
        not_shown: r.inputs.iter().map(|i| i.not_shown).sum(),
        questionnaires: r.respondents.len() as u64,
        questionnaires_scored: 0,
    };
    let mut has = vec![false; r.respondents.len()];
    for i in 0..r.len() {
        has[r.resp[i] as usize] = true;
        if s.items[r.item[i] as usize].kind == Kind::Control {
            c.control += 1;
        } else if r.y[i].is_nan() {
            c.not_applicable += 1;
        } else {
            c.scored += 1;
        }
    }
    c.questionnaires_scored = has.iter().filter(|&&b| b).count() as u64;
    c
}

fn level_name(s: &Scheme, l: Option<usize>) -> String {
    match l {
        Some(k) => format!("{} ({})", s.levels[k].name, s.levels[k].en),
        None => "不通过 (fail)".into(),
    }
}

/// `summary.json`: the inputs with their hashes, the population the estimates describe, the
/// counts, the total and the level.
pub fn summary_json(
    s: &Scheme,
    sc: &Scores,
    r: &Responses,
    d: &Design,
    fw: &Fieldwork,
    f: Option<&Findings>,
    command: &str,
) -> Vec<u8> {
    let pop = crate::scoring::population::population(fw);
    let c = counts(r, s);
    let total = sc.total.as_ref().map(|t| {
        json!({
            "complete": t.complete,
            "normalised": t.normalised.value,
            "special_deductions": f.map_or(0, |f| f.special.len()),
            "deducted": t.deductions,
            "bonus": t.bonus,
            "total": t.value,
            "se": t.se,
            "ci95": [t.value - Z95 * t.se, t.value + Z95 * t.se],
            "failed_special": t.failed_special,
            "level": if t.complete { json!(level_name(s, t.level)) } else { json!(null) },
            "thresholds_in_ci": t.uncertain.iter().map(|&k| json!({"level": s.levels[k].name, "min": s.levels[k].min})).collect::<Vec<_>>(),
        })
    });
    let v = json!({
        "format": "svcaudit-scores/1",
        "tool_version": env!("CARGO_PKG_VERSION"),
        "scheme": {"name": s.name, "sha256": s.sha256, "scale": s.scale,
            "levels": s.levels.iter().map(|l| json!({"name": l.name, "en": l.en, "min": l.min})).collect::<Vec<_>>()},
        "inputs": r.inputs.iter().map(|i| json!({
            "path": i.name, "sha256": i.sha256, "layout": i.layout, "encoding": i.encoding,
            "rows": i.rows, "blank_rows": i.blank_rows, "answers": i.answers, "not_shown": i.not_shown,
            "unscored_columns": i.unscored_columns, "split_columns": i.split_columns,
        })).collect::<Vec<_>>(),
        "findings": f.map(|f| json!({"path": f.name, "sha256": f.sha256})),
        "outlet_draw": fw.outlets.as_ref().map(|o| json!({"dir": o.dir.display().to_string(), "sample_sha256": o.sample_sha256})),
        "customer_draw": fw.customers.as_ref().map(|o| json!({"dir": o.dir.display().to_string(), "sample_sha256": o.sample_sha256})),
        "plan": fw.plan.as_ref().map(|o| json!({"dir": o.dir.display().to_string(), "visits_sha256": o.visits_sha256, "date_slack_days": fw.date_slack})),
        "population": &pop,
        "counts": {
            "answers_read": c.answers_read, "scored": c.scored, "not_applicable": c.not_applicable,
            "control": c.control, "rejected": c.rejected, "not_shown": c.not_shown,
            "questionnaires": c.questionnaires, "questionnaires_scored": c.questionnaires_scored,
            "outlets": d.outlets.len(),
        },
        "total": total,
        "design_notes": d.notes,
        "command": command,
    });
    let mut out = serde_json::to_vec_pretty(&v).expect("json");
    out.push(b'\n');
    out
}

fn p2(v: f64) -> String {
    format!("{v:.2}")
}

/// `report.md`: the result first, then the indicators, strata, data and method.
pub fn report_md(
    s: &Scheme,
    sc: &Scores,
    r: &Responses,
    d: &Design,
    pop: &Population,
    f: Option<&Findings>,
    command: &str,
) -> String {
    let mut o = String::new();
    let c = counts(r, s);
    let _ = writeln!(o, "# 评分报告 Scoring report\n");
    let _ = writeln!(
        o,
        "Scheme 评分方案: {} ({}), scale {}; SHA-256 `{}`.\n",
        s.title,
        s.name,
        fmt_pts(s.scale),
        s.sha256
    );
    let _ = writeln!(o, "## 结论 Result\n");
    match &sc.total {
        None => {
            let _ = writeln!(o, "No item could be scored: nothing applies.\n");
        }
        Some(t) => {
            let (lo, hi) = (t.value - Z95 * t.se, t.value + Z95 * t.se);
            let _ = writeln!(
                o,
                "- Total 总分: **{}** of {} (95 % CI {} – {}, SE {})",
                p2(t.value),
                fmt_pts(s.scale),
                p2(lo),
                p2(hi),
                p2(t.se)
            );
            let _ = writeln!(
                o,
                "- Normalised score 归一化得分 {} − special deductions 特别扣分 {} + bonus 特别加分 {}",
                p2(t.normalised.value),
                fmt_pts(t.deductions),
                fmt_pts(t.bonus)
            );
            if !t.complete {
                let _ = writeln!(
                    o,
                    "- **No level 不评级**: the review findings were not given (--findings), so this total covers the fieldwork items only."
                );
            } else if t.failed_special {
                let _ = writeln!(
                    o,
                    "- **Level 等级: 不通过 (fail)**: {} special deductions 特别扣分项 (the scheme fails the audit at {}).",
                    f.map_or(0, |f| f.special.len()),
                    s.rules.fail_at_special
                );
            } else {
                let _ = writeln!(o, "- **Level 等级: {}**", level_name(s, t.level));
            }
            for &k in &t.uncertain {
                let l = &s.levels[k];
                let _ = writeln!(
                    o,
                    "- **Caution 注意**: the 95 % interval ({} – {}) contains the {} threshold {}: on this sample, the total may lie on either side of it. More fieldwork would settle it.",
                    p2(lo),
                    p2(hi),
                    l.name,
                    fmt_pts(l.min)
                );
            }
            let _ = writeln!(o);
        }
    }
    if let Some(f) = f
        && (!f.special.is_empty() || !f.bonus.is_empty())
    {
        let _ = writeln!(o, "Special items 特别项:\n");
        for (note, at) in &f.special {
            let _ = writeln!(o, "- 特别扣分 special deduction: {note} ({at})");
        }
        for (k, (note, at)) in f.bonus.iter().enumerate() {
            let counted = if k < s.rules.bonus_max as usize {
                ""
            } else {
                " (not counted: the bonus is capped)"
            };
            let _ = writeln!(o, "- 特别加分 bonus: {note} ({at}){counted}");
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "## 指标得分 Indicator scores\n");
    let _ = writeln!(
        o,
        "{}\n\nDesign-weighted. Score = rate × points; items that do not apply are removed (删减) and the rate is over the applicable points.\n",
        pop.statement
    );
    let _ = writeln!(
        o,
        "| level | id | name | points | score | 95 % CI | rate % | n |\n|---|---|---|---:|---:|---|---:|---:|"
    );
    for row in sc
        .rows
        .iter()
        .filter(|r| r.domain == "all" && r.level != "item")
    {
        match (row.rate, row.score()) {
            (Some(rate), Some(scr)) => {
                let (lo, hi) = scr.ci();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} – {} | {} | {} |",
                    row.level,
                    row.id,
                    row.name,
                    fmt_pts(row.points),
                    p2(scr.value),
                    p2(lo),
                    p2(hi),
                    p2(rate.value * 100.0),
                    row.n
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | 删减 n/a | | | {} |",
                    row.level,
                    row.id,
                    row.name,
                    fmt_pts(row.points),
                    row.n
                );
            }
        }
    }
    let _ = writeln!(o, "\n## 评分项 Items\n");
    let _ = writeln!(
        o,
        "| item | source | kind | points | rate % | SE | n | N/A |\n|---|---|---|---:|---:|---:|---:|---:|"
    );
    for (k, it) in s.items.iter().enumerate() {
        let row = sc
            .rows
            .iter()
            .find(|r| r.domain == "all" && r.level == "item" && r.id == it.code);
        let (rate, se) = match row.and_then(|r| r.rate) {
            Some(e) if it.kind != Kind::Control => (p2(e.value * 100.0), p2(e.se * 100.0)),
            _ if it.kind == Kind::Control => ("control 核实题".into(), String::new()),
            _ => ("删减 n/a".into(), String::new()),
        };
        let kind = match &it.kind {
            Kind::Scale { mapping, .. } => format!("scale, {}", mapping.as_str()),
            k => k.name().to_string(),
        };
        let _ = writeln!(
            o,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} |",
            it.code,
            it.source.as_str(),
            it.source.zh(),
            kind,
            fmt_pts(it.points),
            rate,
            se,
            sc.answered[k].0,
            sc.answered[k].1
        );
    }
    if !sc.strata.is_empty() {
        let _ = writeln!(o, "\n## 分层 By stratum\n");
        let _ = writeln!(o, "| stratum | total | 95 % CI | n |\n|---|---:|---|---:|");
        for row in sc
            .rows
            .iter()
            .filter(|r| r.domain != "all" && r.level == "total")
        {
            if let Some(scr) = row.score() {
                let (lo, hi) = scr.ci();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} – {} | {} |",
                    row.domain,
                    p2(scr.value),
                    p2(lo),
                    p2(hi),
                    row.n
                );
            }
        }
    }
    let _ = writeln!(o, "\n## 数据 Data\n");
    let _ = writeln!(
        o,
        "| file | layout | encoding | rows | answers | not shown | SHA-256 |\n|---|---|---|---:|---:|---:|---|"
    );
    for i in &r.inputs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | `{}` |",
            i.name, i.layout, i.encoding, i.rows, i.answers, i.not_shown, i.sha256
        );
    }
    let _ = writeln!(
        o,
        "\nAnswers read {} = scored {} + does not apply (N/A) {} + control {} + rejected {}. Questionnaires: {} read, {} scored, in {} outlets.\n",
        c.answers_read,
        c.scored,
        c.not_applicable,
        c.control,
        c.rejected,
        c.questionnaires,
        c.questionnaires_scored,
        d.outlets.len()
    );
    for i in &r.inputs {
        if !i.unscored_columns.is_empty() {
            let _ = writeln!(
                o,
                "- {}: columns not in the scheme, not scored: {}",
                i.name,
                i.unscored_columns.join(", ")
            );
        }
    }
    if !r.rejected.is_empty() {
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for x in &r.rejected {
            let key = x.reason.split(':').next().unwrap_or("").to_string();
            *reasons.entry(key).or_default() += 1;
        }
        let _ = writeln!(
            o,
            "\nRejected answers 拒收 (rejected.csv lists each with file and line):\n"
        );
        for (why, n) in &reasons {
            let _ = writeln!(o, "- {n} × {why}");
        }
    }
    let _ = writeln!(o, "\n## 方法 Method\n");
    let _ = writeln!(
        o,
        "- Design: stratified two-stage sample analysed as ultimate clusters (outlets); weights 1/π (暗访, calls) and (1/π_outlet)·(M/r) (interviews: respondents as a simple random sample of the outlet's customers)."
    );
    let _ = writeln!(
        o,
        "- Standard errors by Taylor linearisation with finite population correction per stratum; a stratum with one outlet uses R survey's \"adjust\" rule. Intervals: estimate ± 1.96 SE."
    );
    let _ = writeln!(
        o,
        "- Thresholds are compared with the unrounded total; values here are rounded for display only."
    );
    for n in &d.notes {
        let _ = writeln!(o, "- {n}");
    }
    let _ = writeln!(o, "\nReproduce 复现:\n\n```sh\n{command}\n```");
    o
}

#[cfg(test)]
mod tests {
    use super::f6;
    use proptest::prelude::*;

    #[test]
    fn six_decimals_as_the_formatter_writes_them() {
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            0.0078125,
            -0.0078125,
            1e-7,
            -1e-7,
            4e-7,
            -4e-7,
            5e-7,
            -5e-7,
            0.0000005,
            0.0000015,
            0.0000025,
            2.5,
            99.9999995,
            100.0,
            1e9,
            3.999e9,
            4.1e9,
            1e15,
            -1e15,
            1e20,
            1.0 / 3.0,
            2.0 / 3.0,
            86.475_000_5,
            1_234.567_890_5,
        ];
        for v in special {
            assert_eq!(f6(v), format!("{v:.6}"), "{v:e}");
        }
        // Exact ties of the sixth decimal: k/128 has at most seven decimals.
        for k in -5000i32..5000 {
            let v = f64::from(k) / 128.0;
            assert_eq!(f6(v), format!("{v:.6}"), "{v}");
        }
        assert_eq!(f6(f64::NAN), "");
        assert_eq!(f6(f64::INFINITY), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn any_double(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            let want = if v.is_finite() { format!("{v:.6}") } else { String::new() };
            prop_assert_eq!(f6(v), want);
        }

        #[test]
        fn usual_magnitudes(v in -1.0e6f64..1.0e6, scale in 0u32..12) {
            let v = v / 10f64.powi(scale as i32);
            prop_assert_eq!(f6(v), format!("{v:.6}"));
        }

        #[test]
        fn near_ties(k in -10_000_000_000i64..10_000_000_000, d in -4i64..=4) {
            // Around (k + ½)·10⁻⁶, a few units of the last place away.
            let v = (k as f64 + 0.5) / 1e6;
            let v = f64::from_bits((v.to_bits() as i64 + d) as u64);
            prop_assert_eq!(f6(v), format!("{v:.6}"));
        }
    }
}
