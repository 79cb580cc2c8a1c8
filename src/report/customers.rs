//! The 抽样说明 of a customer draw: frame, eligibility, people, size with its arithmetic,
//! allocation, weights, personal data, and how to reproduce it. Bilingual, Chinese terms
//! beside the English. Personal data never appears here.

use std::fmt::Write;

use crate::customers::CustomerDraw;
use crate::io::manifest::{CustomerFrameInfo, CustomerManifest};
use crate::report::justification::md;

/// Most outlets listed one by one; beyond this the table is summarised.
const MAX_OUTLET_ROWS: usize = 400;

/// What names rows and drawn people when the records have no record id column: the
/// sentence in Chinese and in English.
pub fn no_record_id_sentence(f: &CustomerFrameInfo) -> (String, String) {
    let (zh, en) = match f.columns_used.get("customer_no") {
        Some(c) if f.columns_used.get("person_key") == Some(c) => (
            format!("其客户编号（列 `{}`）", md(c)),
            format!("their customer number (column `{}`)", md(c)),
        ),
        _ => (
            "“网点编号-序号”".to_string(),
            "`<outlet id>-<rank>`".to_string(),
        ),
    };
    (
        format!(
            "服务记录无工单号列：记录以行号标识（flagged.csv），抽中顾客的 unit_id 为{zh}，不使用电话号码。"
        ),
        format!(
            "The service records have no record id column (工单号): rows are named by their line (flagged.csv), and a drawn person's unit_id is {en}, never the phone number."
        ),
    )
}

pub fn render(m: &CustomerManifest, d: &CustomerDraw) -> String {
    let mut s = String::new();
    let p = &m.parameters;
    let c = &m.counts;
    let pc = &m.persons;
    let z = &m.size;
    let _ = writeln!(s, "# 顾客抽样说明 Customer sample justification\n");
    let _ = writeln!(
        s,
        "Drawn on {} by {} with svcaudit {} ({}), seed `{}` (SHA-256 commitment `{}`{}).\n",
        m.drawn_on,
        md(&m.drawn_by),
        m.tool_version,
        m.algorithm,
        md(&m.seed),
        m.seed_commitment,
        if m.commitment_checked {
            ", checked against the published commitment"
        } else {
            ""
        }
    );
    if !m.parameters.ids.is_exact() {
        let _ = writeln!(
            s,
            "编号比较 Id comparison: {}.",
            m.parameters.ids.describe()
        );
        let k = m.counts.outlet_respelled;
        if k > 0 {
            let _ = writeln!(
                s,
                "{k} 条记录的网点编号与网点清单写法不同（全角、BOM 或空格），按该网点计。 {k} records wrote their outlet id differently from the outlet list and were counted with that outlet."
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## 1. 抽样框 Frame\n");
    let f = &m.frame;
    let _ = writeln!(
        s,
        "- File: `{}` ({}{}), SHA-256 of the bytes `{}`; of the canonical records `{}`.",
        md(&f.path),
        match f.format {
            crate::io::table::Format::Csv => format!("CSV, {}", f.encoding),
            crate::io::table::Format::Xlsx => "xlsx".to_string(),
        },
        f.delimiter
            .as_ref()
            .map(|d| format!(", delimiter `{}`", if d == "\t" { "TAB" } else { d }))
            .unwrap_or_default(),
        f.sha256_bytes,
        f.sha256_canonical
    );
    let cols: Vec<String> = f
        .columns_used
        .iter()
        .map(|(k, v)| format!("{k} = `{}`", md(v)))
        .collect();
    let _ = writeln!(s, "- Columns used: {}.", cols.join(", "));
    match &p.outlets {
        Some(dir) => {
            let _ = writeln!(
                s,
                "- Stage 1 (网点): the outlet draw in `{}` (sample.csv SHA-256 `{}`): {} sampled outlets.",
                md(dir),
                p.outlet_sample_sha256.as_deref().unwrap_or("-"),
                m.outlets.len()
            );
        }
        None => {
            let _ = writeln!(
                s,
                "- Stage 1 (网点): none given; every outlet of the records is a stratum, taken with probability 1 ({} outlets).",
                m.outlets.len()
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## 2. 资格 Eligibility and what happened to every row\n"
    );
    let window = match (&p.since, &p.until) {
        (None, None) => "no date window".to_string(),
        (a, b) => format!(
            "service dates from {} to {}",
            a.as_deref().unwrap_or("the first"),
            b.as_deref().unwrap_or("the last")
        ),
    };
    let types = if p.service_types.is_empty() {
        "all service types".to_string()
    } else {
        format!("service types {}", md(&p.service_types.join(", ")))
    };
    let _ = writeln!(
        s,
        "Rules: {window}; {types}; a usable phone number (7–15 digits; +86/0086 removed before a mobile number).\n"
    );
    let _ = writeln!(s, "| rows 记录 | count |\n|---|---:|");
    for (label, v) in [
        ("records read 读取记录", c.rows),
        ("eligible 合格", c.eligible),
        ("outside the date window 不在时间窗口", c.outside_window),
        (
            "service type not included 服务类型不符",
            c.type_not_included,
        ),
        ("flagged: no usable phone 无有效电话", c.flagged_no_phone),
        (
            "flagged: unreadable service date 日期无法识别",
            c.flagged_bad_date,
        ),
        (
            "flagged: outlet not in the outlet list 网点不在清单",
            c.flagged_unknown_outlet,
        ),
        ("flagged: no outlet id 无网点编号", c.flagged_no_outlet),
        ("flagged: no record id 无记录编号", c.flagged_no_id),
    ] {
        let _ = writeln!(s, "| {label} | {v} |");
    }
    let _ = writeln!(
        s,
        "\nEvery row is counted once: {} = {} eligible + {} outside the window + {} other type + {} flagged. Blank lines skipped: {}. Flagged rows are listed with line and column in `flagged.csv`.\n",
        c.rows,
        c.eligible,
        c.outside_window,
        c.type_not_included,
        c.flagged(),
        c.blank_lines
    );
    let _ = writeln!(s, "## 3. 顾客 People\n");
    let _ = writeln!(
        s,
        "One person is one sampling unit, identified by {}. The {} eligible records belong to {} people ({} records were further services of a person already counted). {} people were served at more than one outlet in the window; each belongs to the outlet of their most recent service (ties: the smaller outlet id), and that record represents them. {} people belong to the sampled outlets, {} to other outlets.\n",
        if f.columns_used.get("person_key") == f.columns_used.get("phone") {
            "the digits of the phone number".to_string()
        } else {
            format!(
                "column `{}`",
                md(f.columns_used
                    .get("person_key")
                    .map(String::as_str)
                    .unwrap_or("?"))
            )
        },
        c.eligible,
        pc.persons,
        pc.merged_rows,
        pc.multi_outlet,
        pc.persons_sampled_outlets,
        pc.persons_other_outlets
    );
    if !f.columns_used.contains_key("id") {
        let (zh, en) = no_record_id_sentence(f);
        let _ = writeln!(s, "{zh} {en}\n");
    }
    let _ = writeln!(s, "## 4. 样本量 Sample size\n");
    match z.rule.as_str() {
        "per-outlet" => {
            let _ = writeln!(
                s,
                "{} interviews per sampled outlet (`--per-outlet`), all of an outlet's people where it has fewer.",
                p.per_outlet.unwrap_or(0)
            );
        }
        "fixed" => {
            let _ = writeln!(s, "{} interviews in all (`--n`).", p.n.unwrap_or(0));
        }
        _ => {
            if let Some(k) = &z.cochran {
                let _ = writeln!(
                    s,
                    "Cochran's formula with finite population correction (Cochran 1977, §4.4), confidence {} (z = {:.6}), margin e = {}, p = {}, N = {} people of the sampled outlets:\n\n\
                     - n₀ = z²·p(1−p)/e² = {:.4}\n\
                     - n = ⌈n₀ / (1 + (n₀ − 1)/N)⌉ = ⌈{:.4}⌉ = **{}**",
                    k.confidence, k.z, k.margin, k.p, k.population, k.n0, k.n_fpc, k.n
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\nInterviews wanted Σn = {}. Expected response rate {}: contacts c = ⌈n / {}⌉ per outlet (at most its people), Σc = {}; reserves 备选 {} per outlet, Σ = {}.",
        z.n, p.response_rate, p.response_rate, z.contacts, p.reserve, z.reserves
    );
    let _ = writeln!(
        s,
        "\nMargin of error the planned interviews achieve for a proportion (simple random sampling approximation, no design effect): e = z·√(p(1−p)/n)·√((N−n)/(N−1)) = {:.4} with n = {}, N = {}.\n",
        z.achieved_margin, z.n, z.population
    );
    if z.rule != "per-outlet" {
        let _ = writeln!(
            s,
            "Allocation across sampled outlets: {} by largest remainder, at least {} per outlet, never more than an outlet's people.\n",
            p.allocation, p.min_per_outlet
        );
    }
    let _ = writeln!(s, "## 5. 网点分配 Per outlet\n");
    let _ = writeln!(
        s,
        "| stratum 层 | outlet 网点 | π outlet | records | people N | also elsewhere | n | contacts c | reserves | π person = π_outlet·c/N |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for o in m.outlets.iter().take(MAX_OUTLET_ROWS) {
        let pi = if o.persons > 0 {
            o.pi_outlet * o.contacts as f64 / o.persons as f64
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&o.stratum),
            md(&o.outlet_id),
            o.pi_outlet,
            o.records,
            o.persons,
            o.persons_multi_outlet,
            o.n,
            o.contacts,
            o.reserves,
            pi
        );
    }
    if m.outlets.len() > MAX_OUTLET_ROWS {
        let _ = writeln!(
            s,
            "| … | {} more outlets, all in manifest.json | | | | | | | | |",
            m.outlets.len() - MAX_OUTLET_ROWS
        );
    }
    let empty = m.outlets.iter().filter(|o| o.persons == 0).count();
    if empty > 0 {
        let _ = writeln!(
            s,
            "\n{empty} sampled outlets have no eligible customer in the records; their customers cannot be interviewed."
        );
    }
    let _ = writeln!(s, "\n## 6. 方法 Method\n");
    let _ = writeln!(
        s,
        "Every person has a permanent lottery number u = PRN(seed, \"customer\", person key) from ChaCha20 (prn-v1, docs/ALGORITHM.md). In each sampled outlet the c people with the smallest u are contacted in that order and the next ones are the reserves, used strictly in order. This is a simple random sample without replacement inside the outlet, independent of row order, encoding and file format. The design weight of a person is 1/π = N/(c·π_outlet); with the outlet stage it estimates for the whole customer base. Draws of {} people over {} outlets.\n",
        d.rows.len(),
        m.outlets.len()
    );
    let _ = writeln!(s, "## 7. 个人信息 Personal data\n");
    let _ = writeln!(
        s,
        "Names and phone numbers appear in full only in `call_sheet.csv`, for the interviewers. `sample.csv`, `manifest.json` and this document mask them (138****5678, 张*). Keep the call sheet internal and delete it when fieldwork ends.\n"
    );
    let _ = writeln!(s, "## 8. 复现 Reproduce\n");
    let _ = writeln!(s, "```\n{}\nsvcaudit verify <this folder>\n```", m.command);
    s
}
