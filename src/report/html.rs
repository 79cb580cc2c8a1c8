//! The audit's HTML report (`reports/<id>/report.html`): one self-contained file (inline CSS
//! and SVG, no script, no network), readable on screen and in print, Chinese by default.
//!
//! It shows what the audit folder holds (`io::auditdir`): the sample justification with its
//! strata tables, the fieldwork plan as a per-person calendar with the load, the scores with
//! a bar chart per indicator (95 % whiskers, level thresholds marked) and the level, the
//! reproduction commands, and the full justifications as an appendix.
//!
//! Invariant: every value that comes from a file goes through [`esc`] (or plotters' and
//! pulldown-cmark's own escaping, with raw HTML in Markdown turned into text), so a cell such
//! as `<script>` shows as text. Personal data never appears: customers are counted, not named.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::io::auditdir::{AuditDir, Draw, Plan, Scores};
use crate::report::chart;

/// What the report says about the audit besides the folder's files.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub applicant: String,
    pub audit_file: String,
    /// Shell lines that reproduce the audit, in order.
    pub commands: Vec<String>,
    /// Chinese (true) or English labels.
    pub zh: bool,
}

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f3b63;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.4em}.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.level{display:inline-block;border:2px solid #1f3b63;border-radius:6px;padding:.4em .9em;font-size:1.25em;margin:.5em 0}
.warn{background:#fff3cd;border:1px solid #e0b252;padding:.4em .8em;border-radius:4px}
.cal td,.cal th{font-size:.72em;padding:1px 3px;text-align:center}.cal th{white-space:nowrap}.cal .we{background:#f4f4f4}h5{margin:.8em 0 .2em}
.cal td.p{text-align:left}.scroll{overflow-x:auto}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85em}
nav ol{columns:2}.muted{color:#777}svg{max-width:100%;height:auto}
@media print{body{max-width:none;margin:0;font-size:10pt}section>h2{page-break-before:always}section>h2.first{page-break-before:avoid}.cal td,.cal th{font-size:6.5pt}tr{page-break-inside:avoid}.scroll{overflow:visible}nav{display:none}a{color:inherit;text-decoration:none}}
@page{size:A4 landscape;margin:12mm}
"#;

struct W {
    o: String,
    zh: bool,
}

impl W {
    /// The label in the report's language.
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.zh { zh } else { en }
    }
    fn h(&mut self, s: &str) {
        self.o.push_str(s);
    }
    /// Opens a section with its numbered heading (the first does not start a printed page).
    fn section(&mut self, id: &str, num: &str, zh: &str, en: &str) {
        let class = if id == "sample" {
            " class=\"first\""
        } else {
            ""
        };
        let head = format!("{num} {}", self.t(zh, en));
        let _ = writeln!(
            self.o,
            "<section id=\"{id}\"><h2{class}>{}</h2>",
            esc(head.trim())
        );
    }
    /// Column headings in the report's language.
    fn heads(&self, names: &[(&str, &str)]) -> Vec<String> {
        names
            .iter()
            .map(|(z, e)| self.t(z, e).to_string())
            .collect()
    }
    /// A greyed note.
    fn muted(&mut self, zh: &str, en: &str) {
        let s = esc(self.t(zh, en));
        let _ = write!(self.o, "<p class=\"muted\">{s}</p>");
    }
    fn table(&mut self, id: &str, head: &[String], rows: &[Vec<Cell>]) {
        let _ = write!(self.o, "<table id=\"{}\"><thead><tr>", esc(id));
        for h in head {
            let _ = write!(self.o, "<th>{}</th>", esc(h));
        }
        self.o.push_str("</tr></thead><tbody>");
        for r in rows {
            self.o.push_str("<tr>");
            for c in r {
                match c {
                    Cell::T(s) => {
                        let _ = write!(self.o, "<td>{}</td>", esc(s));
                    }
                    Cell::N(s) => {
                        let _ = write!(self.o, "<td class=\"n\">{}</td>", esc(s));
                    }
                }
            }
            self.o.push_str("</tr>");
        }
        self.o.push_str("</tbody></table>\n");
    }
}

/// A table cell: text, or a number aligned right.
enum Cell {
    T(String),
    N(String),
}

fn t(s: impl Into<String>) -> Cell {
    Cell::T(s.into())
}

fn n(s: impl ToString) -> Cell {
    Cell::N(s.to_string())
}

/// A number with `digits` decimals; text that is not a number stays as it is.
fn fixed(s: &str, digits: usize) -> String {
    s.parse::<f64>()
        .map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|_| s.to_string())
}

fn jstr(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Renders the report.
pub fn render(m: &Meta, d: &AuditDir) -> String {
    let mut w = W {
        o: String::new(),
        zh: m.zh,
    };
    let title = format!(
        "{} — {}",
        w.t(
            "售后服务认证 审核报告",
            "After-sales service certification audit"
        ),
        m.applicant
    );
    let _ = writeln!(
        w.o,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>",
        if m.zh { "zh-CN" } else { "en" },
        esc(&title)
    );
    let _ = writeln!(
        w.o,
        "<header><h1>{}</h1><p class=\"sub\">{} <b>{}</b> · {} <code>{}</code> · GB/T 27922-2011</p>",
        esc(w.t(
            "售后服务认证 审核报告",
            "After-sales service certification audit"
        )),
        esc(w.t("申请方", "Applicant")),
        esc(&m.applicant),
        esc(w.t("审核编号", "Audit")),
        esc(&m.id)
    );
    level_box(&mut w, d.scores.as_ref());
    w.h("</header>\n<nav><ol>");
    for (id, zh, en) in [
        ("sample", "抽样说明", "Sample justification"),
        ("plan", "实地工作计划", "Fieldwork plan"),
        ("scores", "评分与等级", "Scores and level"),
        ("reproduce", "复现命令", "Reproduction"),
        (
            "appendix",
            "附录：完整抽样说明",
            "Appendix: full justifications",
        ),
    ] {
        let _ = write!(w.o, "<li><a href=\"#{id}\">{}</a></li>", w.t(zh, en));
    }
    w.h("</ol></nav>\n");

    w.section("sample", "1", "抽样说明", "Sample justification");
    match &d.outlets {
        Some(o) => outlets(&mut w, o),
        None => w.muted("尚无网点抽样。", "No outlet draw yet."),
    }
    if let Some(c) = &d.customers {
        customers(&mut w, c);
    }
    w.h("</section>\n");
    w.section("plan", "2", "实地工作计划", "Fieldwork plan");
    match &d.plan {
        Some(p) => plan(&mut w, p),
        None => w.muted("尚无计划。", "No plan yet."),
    }
    w.h("</section>\n");
    w.section("scores", "3", "评分与等级", "Scores and level");
    match &d.scores {
        Some(s) => scores(&mut w, s),
        None => w.muted(
            "尚未评分：实地工作完成后运行 svcaudit score。",
            "Not scored yet: run svcaudit score after the fieldwork.",
        ),
    }
    w.h("</section>\n");
    w.section("reproduce", "4", "复现命令", "Reproduction");
    let _ = write!(
        w.o,
        "<p>{} <code>{}</code></p><pre>",
        esc(w.t(
            "在同一文件夹中重新运行以下命令可得到逐字节相同的结果；verify 核对样本与记录链。审核文件：",
            "Run from the same folder, these commands give byte-identical outputs; verify checks each sample and its ledger. Audit file:",
        )),
        esc(&m.audit_file)
    );
    for c in &m.commands {
        w.o.push_str(&esc(c));
        w.o.push('\n');
    }
    w.h("</pre></section>\n");

    w.section(
        "appendix",
        "",
        "附录：完整抽样说明",
        "Appendix: full justifications",
    );
    for (dr, zh, en) in [
        (&d.outlets, "网点抽样", "Outlet draw"),
        (&d.customers, "顾客抽样", "Customer draw"),
    ] {
        if let Some(dr) = dr {
            let _ = write!(w.o, "<h3>{}</h3>\n<div class=\"md\">", w.t(zh, en));
            w.o.push_str(&markdown(&dr.justification));
            w.h("</div>\n");
        }
    }
    w.h("</section>\n</body></html>\n");
    w.o
}

fn level_box(w: &mut W, s: Option<&Scores>) {
    let Some(s) = s else {
        let _ = write!(
            w.o,
            "<div class=\"level\" id=\"level\">{}</div>",
            esc(w.t("等级：尚未评分", "Level: not scored yet"))
        );
        return;
    };
    let tot = &s.summary["total"];
    if tot.is_null() {
        let _ = write!(
            w.o,
            "<div class=\"level\" id=\"level\">{}</div>",
            esc(w.t("等级：无可评分的结果", "Level: nothing could be scored"))
        );
        return;
    }
    let v = tot["total"].as_f64().unwrap_or(f64::NAN);
    let se = tot["se"].as_f64().unwrap_or(f64::NAN);
    let level = match &tot["level"] {
        serde_json::Value::Null => w
            .t(
                "未定（无审核发现文件，只评了实地项目）",
                "none (no findings file: only fieldwork items scored)",
            )
            .to_string(),
        l => jstr(l),
    };
    let _ = write!(
        w.o,
        "<div class=\"level\" id=\"level\">{}: <b>{}</b> · {} {:.2} ± {:.2} (95 % CI {:.2}–{:.2})</div>",
        esc(w.t("等级", "Level")),
        esc(&level),
        esc(w.t("总分", "total")),
        v,
        crate::scoring::estimate::Z95 * se,
        tot["ci95"][0].as_f64().unwrap_or(f64::NAN),
        tot["ci95"][1].as_f64().unwrap_or(f64::NAN),
    );
    if let Some(th) = tot["thresholds_in_ci"].as_array().filter(|a| !a.is_empty()) {
        let names: Vec<String> = th
            .iter()
            .map(|x| format!("{} ({})", jstr(&x["level"]), jstr(&x["min"])))
            .collect();
        let _ = write!(
            w.o,
            "<p class=\"warn\" id=\"uncertain\">{} {}</p>",
            esc(w.t(
                "注意：总分的 95 % 置信区间包含等级线，抽样误差可能改变等级：",
                "Caution: the 95 % interval of the total contains a level threshold, so sampling error could change the level:",
            )),
            esc(&names.join(", "))
        );
    }
}

fn outlets(w: &mut W, o: &Draw) {
    let m = &o.manifest;
    let _ = write!(w.o, "<h3>{}</h3><ul>", w.t("网点抽样", "Outlet draw"));
    let items = [
        (
            w.t("名单（相对于本报告）", "Frame (relative to this report)"),
            report_relative(&jstr(&m["frame"]["path"])),
        ),
        (
            w.t("名单 SHA-256", "Frame SHA-256"),
            jstr(&m["frame"]["sha256_bytes"]),
        ),
        (
            w.t("种子承诺", "Seed commitment"),
            jstr(&m["seed_commitment"]),
        ),
        (w.t("算法", "Algorithm"), jstr(&m["algorithm"])),
        (w.t("抽样人", "Drawn by"), jstr(&m["drawn_by"])),
        (w.t("抽样日期", "Drawn on"), jstr(&m["drawn_on"])),
    ];
    for (k, v) in items {
        let _ = write!(w.o, "<li>{}: <code>{}</code></li>", esc(k), esc(&v));
    }
    w.h("</ul>");
    counts_table(w, "outlet-counts", &m["counts"]);
    if let Some(strata) = m["strata"].as_array() {
        let _ = write!(w.o, "<h4>{}</h4>", w.t("分层", "Strata"));
        let head = w.heads(&[
            ("层", "stratum"),
            ("名单行数", "rows"),
            ("合格网点", "eligible"),
            ("分配", "allocated"),
            ("必选", "certainty"),
            ("抽中", "selected"),
            ("备选", "reserves"),
            ("抽样比", "fraction"),
        ]);
        let rows: Vec<Vec<Cell>> = strata
            .iter()
            .map(|s| {
                let el = s["eligible"].as_f64().unwrap_or(0.0);
                let taken =
                    s["selected"].as_f64().unwrap_or(0.0) + s["certainty"].as_f64().unwrap_or(0.0);
                vec![
                    t(jstr(&s["name"])),
                    n(jstr(&s["rows"])),
                    n(jstr(&s["eligible"])),
                    n(jstr(&s["allocated"])),
                    n(jstr(&s["certainty"])),
                    n(jstr(&s["selected"])),
                    n(jstr(&s["reserve"])),
                    n(if el > 0.0 {
                        format!("{:.3}", taken / el)
                    } else {
                        "–".into()
                    }),
                ]
            })
            .collect();
        w.table("strata", &head, &rows);
    }
    let s = &o.sample;
    let name = s.col_any(&["网点名称", "outlet_name", "name", "名称"]);
    let city = s.col_any(&["城市", "city", "市"]);
    let (cs, cr, ck, cu, cp) = (
        s.col("stratum"),
        s.col("role"),
        s.col("rank"),
        s.col("unit_id"),
        s.col("inclusion_prob"),
    );
    for (id, want_reserve, zh, en) in [
        ("sampled-outlets", false, "抽中网点", "Sampled outlets"),
        (
            "reserve-outlets",
            true,
            "备选网点（按顺序替补）",
            "Reserves (used strictly in order)",
        ),
    ] {
        let _ = write!(w.o, "<h4>{}</h4>", w.t(zh, en));
        let head = w.heads(&[
            ("层", "stratum"),
            ("角色", "role"),
            ("序号", "rank"),
            ("网点编号", "outlet id"),
            ("网点名称", "name"),
            ("城市", "city"),
            ("入样概率", "inclusion prob."),
        ]);
        let rows: Vec<Vec<Cell>> = s
            .rows
            .iter()
            .filter(|r| (s.cell(r, cr) == "reserve") == want_reserve)
            .map(|r| {
                vec![
                    t(s.cell(r, cs)),
                    t(role_label(w.zh, s.cell(r, cr))),
                    n(s.cell(r, ck)),
                    t(s.cell(r, cu)),
                    t(s.cell(r, name)),
                    t(s.cell(r, city)),
                    n(fixed(s.cell(r, cp), 4)),
                ]
            })
            .collect();
        w.table(id, &head, &rows);
    }
}

/// A path the manifest of `<audit>/outlets/` records relative to itself, made relative to
/// the report one folder up.
fn report_relative(p: &str) -> String {
    if std::path::Path::new(p).is_absolute() {
        return p.to_string();
    }
    p.strip_prefix("../")
        .map(str::to_string)
        .unwrap_or_else(|| format!("outlets/{p}"))
}

fn role_label(zh: bool, r: &str) -> String {
    if !zh {
        return r.to_string();
    }
    match r {
        "certainty" => "必选 certainty",
        "selected" => "抽中 selected",
        "reserve" => "备选 reserve",
        other => other,
    }
    .to_string()
}

/// The draws' counts in the order a reader follows them (rows read, then what happened to
/// them), with their Chinese labels.
const COUNTS: &[(&str, &str)] = &[
    ("input_rows", "输入行"),
    ("rows", "记录行"),
    ("blank_rows", "空行"),
    ("blank_lines", "空行"),
    ("excluded_closed", "排除：停业"),
    ("excluded_listed", "排除：清单"),
    ("outside_window", "不在时间窗内"),
    ("type_not_included", "服务类型不符"),
    ("flagged_no_id", "标记：无编号"),
    ("flagged_no_outlet", "标记：无网点"),
    ("flagged_unknown_outlet", "标记：网点不在名单"),
    ("flagged_bad_date", "标记：日期无法识别"),
    ("flagged_no_phone", "标记：无可用电话"),
    ("eligible", "合格记录"),
    ("certainty", "必选"),
    ("selected", "抽中"),
    ("reserve", "备选"),
    ("not_selected", "未抽中"),
];

/// A manifest's `counts` as a table, in [`COUNTS`] order (others after, by name).
fn counts_table(w: &mut W, id: &str, counts: &serde_json::Value) {
    let Some(c) = counts.as_object() else { return };
    let rank = |k: &str| {
        COUNTS
            .iter()
            .position(|(n, _)| *n == k)
            .unwrap_or(COUNTS.len())
    };
    let mut keys: Vec<&String> = c.keys().collect();
    keys.sort_by_key(|k| (rank(k), (*k).clone()));
    let head = vec![
        w.t("项目", "count").to_string(),
        w.t("数量", "n").to_string(),
    ];
    let rows: Vec<Vec<Cell>> = keys
        .into_iter()
        .map(|k| {
            let label = match COUNTS.iter().find(|(n, _)| n == k) {
                Some((_, z)) if w.zh => format!("{z} ({k})"),
                _ => k.clone(),
            };
            vec![t(label), n(jstr(&c[k]))]
        })
        .collect();
    w.table(id, &head, &rows);
}

fn customers(w: &mut W, c: &Draw) {
    let m = &c.manifest;
    let _ = write!(w.o, "<h3>{}</h3>", w.t("顾客抽样", "Customer draw"));
    let sz = &m["size"];
    let _ = write!(
        w.o,
        "<p>{}: <b>{}</b> · {}: <b>{}</b> · {}: <b>{}</b> · {}: <b>{}</b> · {}: <b>{}</b></p>",
        esc(w.t("顾客总体", "people in the sampled outlets")),
        esc(&jstr(&sz["population"])),
        esc(w.t("样本量", "sample size")),
        esc(&jstr(&sz["n"])),
        esc(w.t(
            "联系人数（按应答率放大）",
            "contacts (inflated by the response rate)"
        )),
        esc(&jstr(&sz["contacts"])),
        esc(w.t("备选", "reserves")),
        esc(&jstr(&sz["reserves"])),
        esc(w.t("达到的误差限", "achieved margin of error")),
        esc(&sz["achieved_margin"]
            .as_f64()
            .map(|v| format!("±{:.1} %", 100.0 * v))
            .unwrap_or_default()),
    );
    counts_table(w, "customer-counts", &m["counts"]);
    if let Some(os) = m["outlets"].as_array() {
        let head = w.heads(&[
            ("网点编号", "outlet id"),
            ("层", "stratum"),
            ("网点入样概率", "outlet incl. prob."),
            ("服务记录", "records"),
            ("顾客人数", "people"),
            ("样本量", "n"),
            ("联系人数", "contacts"),
            ("备选", "reserves"),
        ]);
        let rows: Vec<Vec<Cell>> = os
            .iter()
            .map(|o| {
                vec![
                    t(jstr(&o["outlet_id"])),
                    t(jstr(&o["stratum"])),
                    n(o["pi_outlet"]
                        .as_f64()
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_default()),
                    n(jstr(&o["records"])),
                    n(jstr(&o["persons"])),
                    n(jstr(&o["n"])),
                    n(jstr(&o["contacts"])),
                    n(jstr(&o["reserves"])),
                ]
            })
            .collect();
        w.table("customer-outlets", &head, &rows);
    }
}

fn plan(w: &mut W, p: &Plan) {
    let v = &p.visits;
    let c = &p.calls;
    let (vd, vk, vo, vp, vn) = (
        v.col("date"),
        v.col("kind"),
        v.col("outlet_id"),
        v.col("person_id"),
        v.col("person_name"),
    );
    let (cd, ci, cn) = (
        c.col("date"),
        c.col("interviewer_id"),
        c.col("interviewer_name"),
    );
    // person -> name; (person, date) -> tasks
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut cells: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut load: BTreeMap<String, [u32; 4]> = BTreeMap::new();
    let mut dates = BTreeSet::new();
    for r in &v.rows {
        let (date, kind, person) = (v.cell(r, vd), v.cell(r, vk), v.cell(r, vp));
        names.insert(person.to_string(), v.cell(r, vn).to_string());
        dates.insert(date.to_string());
        let (k, glyph) = match kind {
            "mystery_visit" => (0, w.t("暗", "MV")),
            "mystery_call" => (1, w.t("电", "MC")),
            _ => (2, w.t("审", "R")),
        };
        load.entry(person.to_string()).or_default()[k] += 1;
        cells
            .entry((person.to_string(), date.to_string()))
            .or_default()
            .push(format!("{glyph}{}", v.cell(r, vo)));
    }
    let mut calls: BTreeMap<(String, String), u32> = BTreeMap::new();
    for r in &c.rows {
        let (date, person) = (c.cell(r, cd), c.cell(r, ci));
        names.insert(person.to_string(), c.cell(r, cn).to_string());
        dates.insert(date.to_string());
        load.entry(person.to_string()).or_default()[3] += 1;
        *calls
            .entry((person.to_string(), date.to_string()))
            .or_default() += 1;
    }
    let _ = write!(
        w.o,
        "<p>{}</p>",
        esc(w.t(
            "每人每天的任务：暗＝暗访（网点编号），电＝电话暗访，审＝现场审核，数字＝顾客访问电话次数。灰色为周末。",
            "Tasks per person and day: MV = mystery visit 暗访 (outlet id), MC = mystery call 电话暗访, R = on-site review 现场审核, a number = customer call attempts. Weekends are grey.",
        ))
    );
    let dates: Vec<String> = dates.into_iter().collect();
    let weekend = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| {
                use chrono::Datelike;
                d.weekday().number_from_monday() >= 6
            })
            .unwrap_or(false)
    };
    // Half-month tables (at most 16 days), so that a printed page holds one.
    let half = |d: &str| {
        (
            d.get(..7).unwrap_or(d).to_string(),
            d.get(8..10).unwrap_or("") > "15",
        )
    };
    let mut chunks: Vec<Vec<&String>> = Vec::new();
    for d in &dates {
        match chunks.last_mut() {
            Some(c) if half(c[0]) == half(d) => c.push(d),
            _ => chunks.push(vec![d]),
        }
    }
    for (k, chunk) in chunks.iter().enumerate() {
        let id = if k == 0 {
            "calendar".to_string()
        } else {
            format!("calendar-{}", k + 1)
        };
        let _ = write!(
            w.o,
            "<h5>{} – {}</h5><div class=\"scroll\"><table class=\"cal\" id=\"{id}\"><thead><tr><th></th>",
            esc(chunk[0]),
            esc(chunk[chunk.len() - 1])
        );
        for d in chunk {
            let _ = write!(
                w.o,
                "<th{}>{}</th>",
                if weekend(d) { " class=\"we\"" } else { "" },
                esc(d.get(5..).unwrap_or(d))
            );
        }
        w.h("</tr></thead><tbody>");
        for (p, name) in &names {
            let _ = write!(w.o, "<tr><td class=\"p\">{} {}</td>", esc(p), esc(name));
            for d in chunk {
                let key = (p.clone(), (*d).clone());
                let mut parts = cells.get(&key).cloned().unwrap_or_default();
                if let Some(k) = calls.get(&key) {
                    parts.push(k.to_string());
                }
                let _ = write!(
                    w.o,
                    "<td{}>{}</td>",
                    if weekend(d) { " class=\"we\"" } else { "" },
                    esc(&parts.join(" "))
                );
            }
            w.h("</tr>");
        }
        w.h("</tbody></table></div>\n");
    }
    let _ = write!(w.o, "<h4>{}</h4>", w.t("工作量", "Load"));
    let head = w.heads(&[
        ("人员", "person"),
        ("姓名", "name"),
        ("暗访", "mystery visits"),
        ("电话暗访", "mystery calls"),
        ("现场审核", "reviews"),
        ("顾客访问电话", "customer calls"),
        ("工作天数", "days"),
    ]);
    let rows: Vec<Vec<Cell>> = load
        .iter()
        .map(|(p, l)| {
            let days = dates
                .iter()
                .filter(|d| {
                    let k = (p.clone(), (*d).clone());
                    cells.contains_key(&k) || calls.contains_key(&k)
                })
                .count();
            vec![
                t(p.clone()),
                t(names.get(p).cloned().unwrap_or_default()),
                n(l[0]),
                n(l[1]),
                n(l[2]),
                n(l[3]),
                n(days),
            ]
        })
        .collect();
    w.table("load", &head, &rows);
    let u = &p.unplanned;
    let msg = if u.rows.is_empty() {
        w.t("所有任务均已安排。", "Everything was planned.")
            .to_string()
    } else {
        format!(
            "{} {}",
            u.rows.len(),
            w.t(
                "项未能安排，原因见下表（unplanned.csv）：",
                "items could not be planned; the reasons (unplanned.csv):"
            )
        )
    };
    let _ = write!(w.o, "<p id=\"unplanned\">{}</p>", esc(&msg));
    if !u.rows.is_empty() {
        let rows: Vec<Vec<Cell>> = u
            .rows
            .iter()
            .map(|r| r.iter().map(|c| t(c.clone())).collect())
            .collect();
        w.table("unplanned-items", &u.header, &rows);
    }
}

fn scores(w: &mut W, s: &Scores) {
    let sc = &s.scores;
    let col = |k: &str| sc.col(k);
    let (cd, cl, ci, cnm, cpts, capp, cn, crate_, clo, chi, cscore, cse, cslo, cshi) = (
        col("domain"),
        col("level"),
        col("id"),
        col("name"),
        col("points"),
        col("applicable_points"),
        col("n"),
        col("rate"),
        col("rate_ci_low"),
        col("rate_ci_high"),
        col("score"),
        col("score_se"),
        col("score_ci_low"),
        col("score_ci_high"),
    );
    let all: Vec<&Vec<String>> = sc.rows.iter().filter(|r| sc.cell(r, cd) == "all").collect();
    let num = |r: &Vec<String>, c| sc.cell(r, c).parse::<f64>().unwrap_or(f64::NAN);
    let scale = s.summary["scheme"]["scale"].as_f64().unwrap_or(100.0);
    let thresholds: Vec<chart::Threshold> = s.summary["scheme"]["levels"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    let min = l["min"].as_f64().unwrap_or(0.0);
                    chart::Threshold {
                        label: format!(
                            "{} {}",
                            if w.zh {
                                jstr(&l["name"])
                            } else {
                                jstr(&l["en"])
                            },
                            min
                        ),
                        at: 100.0 * min / scale,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let mut bars = Vec::new();
    for r in &all {
        let level = sc.cell(r, cl);
        if level != "indicator" && level != "total" {
            continue;
        }
        let label = if level == "total" {
            w.t("总分 total", "total").to_string()
        } else {
            let name = sc.cell(r, cnm);
            let short: String = name.chars().take(10).collect();
            format!("{} {short}", sc.cell(r, ci))
        };
        let (v, lo, hi) = if level == "total" {
            // The total's rate: its score over the scale.
            (
                100.0 * num(r, cscore) / scale,
                100.0 * num(r, cslo) / scale,
                100.0 * num(r, cshi) / scale,
            )
        } else {
            (num(r, crate_), num(r, clo), num(r, chi))
        };
        if v.is_nan() {
            continue;
        }
        // The total heads the chart.
        let at = if level == "total" { 0 } else { bars.len() };
        bars.insert(
            at,
            chart::Bar {
                label,
                value: v,
                low: if lo.is_nan() { v } else { lo },
                high: if hi.is_nan() { v } else { hi },
                strong: level == "total",
            },
        );
    }
    let _ = write!(
        w.o,
        "<p>{}</p><figure id=\"indicator-chart\">",
        esc(w.t(
            "每个指标的得分率（得分占分值的百分比）及其 95 % 置信区间；红色虚线为各等级的分数线（占满分的百分比）。",
            "Each indicator's rate (its score as a percentage of its points) with its 95 % confidence interval; the red dashed lines are the level thresholds as a percentage of the scale.",
        ))
    );
    w.o.push_str(&chart::bars(
        w.t("指标得分率 (%)", "Indicator rates (%)"),
        &bars,
        &thresholds,
    ));
    w.h("</figure>\n");
    let _ = write!(
        w.o,
        "<h4>{}</h4>",
        w.t(
            "指标得分（全部网点与顾客）",
            "Indicator scores (whole base)"
        )
    );
    let head = w.heads(&[
        ("层级", "level"),
        ("编号", "id"),
        ("名称", "name"),
        ("分值", "points"),
        ("适用分值", "applicable"),
        ("样本数", "n"),
        ("得分", "score"),
        ("标准误", "SE"),
        ("95 % 置信区间", "95 % CI"),
        ("得分率 %", "rate %"),
    ]);
    let rows: Vec<Vec<Cell>> = all
        .iter()
        .filter(|r| sc.cell(r, cl) != "item")
        .map(|r| {
            vec![
                t(sc.cell(r, cl)),
                t(sc.cell(r, ci)),
                t(sc.cell(r, cnm)),
                n(sc.cell(r, cpts)),
                n(sc.cell(r, capp)),
                n(sc.cell(r, cn)),
                n(fixed(sc.cell(r, cscore), 2)),
                n(fixed(sc.cell(r, cse), 2)),
                n(format!(
                    "{}–{}",
                    fixed(sc.cell(r, cslo), 2),
                    fixed(sc.cell(r, cshi), 2)
                )),
                n(fixed(sc.cell(r, crate_), 2)),
            ]
        })
        .collect();
    w.table("indicator-scores", &head, &rows);
    if let Some(c) = s.summary["counts"].as_object() {
        let _ = write!(w.o, "<h4>{}</h4>", w.t("数据", "Data"));
        let rows: Vec<Vec<Cell>> = c
            .iter()
            .map(|(k, v)| vec![t(k.clone()), n(jstr(v))])
            .collect();
        let head = vec![
            w.t("项目", "count").to_string(),
            w.t("数量", "n").to_string(),
        ];
        w.table("score-counts", &head, &rows);
    }
    if let Some(notes) = s.summary["design_notes"]
        .as_array()
        .filter(|a| !a.is_empty())
    {
        w.h("<ul class=\"warn\">");
        for x in notes {
            let _ = write!(w.o, "<li>{}</li>", esc(&jstr(x)));
        }
        w.h("</ul>");
    }
    let rj = &s.rejected;
    let _ = write!(
        w.o,
        "<h4>{} ({})</h4>",
        w.t(
            "未计分的答案（rejected.csv）",
            "Answers not scored (rejected.csv)"
        ),
        rj.rows.len()
    );
    const SHOWN: usize = 200;
    let rows: Vec<Vec<Cell>> = rj
        .rows
        .iter()
        .take(SHOWN)
        .map(|r| r.iter().map(|c| t(c.clone())).collect())
        .collect();
    w.table("rejected", &rj.header, &rows);
    if rj.rows.len() > SHOWN {
        let _ = write!(
            w.o,
            "<p class=\"muted\">{} {}</p>",
            rj.rows.len() - SHOWN,
            esc(w.t("行未列出，见 rejected.csv。", "more rows in rejected.csv."))
        );
    }
}

/// Markdown to HTML, with any raw HTML in it shown as text and no link or image: the report
/// stays inert and loads nothing, whatever a value from an input file holds (justification::md
/// escapes such values; this is the second fence).
fn markdown(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES).filter_map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        // The link's or image's text stays, as text.
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        let e = esc("<script>alert('x') & \"y\"</script>");
        assert_eq!(
            e,
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn raw_html_in_markdown_becomes_text() {
        let h = markdown(
            "| a |\n|---|\n| <script>alert(1)</script> |\n\n<img src=x onerror=alert(1)>\n",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(h.contains("<table>"), "{h}");
    }
}
