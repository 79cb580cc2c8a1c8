//! `svcaudit scheme` and `svcaudit score`: load the scheme, the results, the draws and the
//! plan; check, score, write.

use std::path::Path;

use crate::cli::{SchemeCommand, ScoreArgs};
use crate::error::{Error, Result};
use crate::io::read::read_table;
use crate::io::table::ReadOptions;
use crate::report::scores as render;
use crate::scoring::design::{self, Fieldwork};
use crate::scoring::population::population;
use crate::scoring::responses::Importer;
use crate::scoring::scheme::{self, Scheme};
use crate::scoring::{self, Findings};

pub fn scheme(c: SchemeCommand) -> Result<()> {
    match c {
        SchemeCommand::Show { name } => match scheme::builtin(&name) {
            Some(text) => {
                crate::out!("{text}");
                Ok(())
            }
            None => Err(Error::usage(format!(
                "no built-in scheme `{name}`; built-in: {}",
                scheme::BUILTIN.join(", ")
            ))),
        },
        SchemeCommand::Check { file } => {
            let s = load_scheme(&file.display().to_string())?;
            for l in scheme::tree_lines(&s) {
                crate::outln!("{l}");
            }
            eprintln!(
                "{}: valid: {} indicators, {} items, scale {}, {} levels",
                file.display(),
                s.indicators().count(),
                s.items.len(),
                scheme::fmt_pts(s.scale),
                s.levels.len()
            );
            Ok(())
        }
    }
}

/// A built-in scheme by name, or a scheme file.
pub fn load_scheme(arg: &str) -> Result<Scheme> {
    if let Some(text) = scheme::builtin(arg) {
        return Scheme::parse(arg, text);
    }
    let p = Path::new(arg);
    if !p.exists() {
        return Err(Error::usage(format!(
            "--scheme {arg}: neither a built-in scheme ({}) nor a file",
            scheme::BUILTIN.join(", ")
        )));
    }
    let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, "read the scheme", &e))?;
    Scheme::parse(&p.display().to_string(), &text)
}

fn read_findings(s: &Scheme, path: &Path) -> Result<Findings> {
    let t = read_table(path, &ReadOptions::default())?;
    let find = |aliases: &[&str]| crate::scoring::responses::find(&t.header, aliases);
    let item = find(crate::io::vocab::FINDING_ITEM.names);
    let result = find(crate::io::vocab::FINDING_RESULT.names);
    let note = find(&["note", "notes", "备注", "说明", "描述"]);
    let (Some(item), Some(result)) = (item, result) else {
        return Err(Error::data(format!(
            "{}:1: the findings file needs the columns item and result; the header has: {}\nhint: item, result, note (评分项, 结果, 备注)",
            t.name(),
            crate::io::limits::list_columns(&t.header)
        )));
    };
    let rows: Vec<(u64, String, String, String)> = t
        .rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.cells[item].clone(),
                r.cells[result].clone(),
                note.map(|n| r.cells[n].clone()).unwrap_or_default(),
            )
        })
        .collect();
    let mut f =
        scoring::findings_from_rows(s, &t.name(), &rows, &t.header[result], &t.header[item])?;
    f.sha256 = t.sha256.clone();
    Ok(f)
}

pub fn run(a: ScoreArgs, inv: &super::Invocation) -> Result<super::Done> {
    let out = a
        .out
        .clone()
        .ok_or_else(|| Error::usage("--out DIR is required without an audit file"))?;
    let s = load_scheme(&a.scheme)?;
    if a.date_slack < 0 {
        return Err(Error::usage("--date-slack must be 0 or more days"));
    }
    if !a.force && out.join("scores.csv").exists() {
        return Err(Error::usage(format!(
            "{}: scores are already there; choose another --out or pass --force to replace them",
            out.display()
        )));
    }
    let fw = Fieldwork {
        outlets: a
            .outlets
            .as_deref()
            .map(crate::io::draws::outlet_draw)
            .transpose()?,
        customers: a
            .customers
            .as_deref()
            .map(crate::io::draws::customer_draw)
            .transpose()?,
        plan: a.plan.as_deref().map(crate::io::draws::plan).transpose()?,
        date_slack: a.date_slack,
    };
    let findings = a
        .findings
        .as_deref()
        .map(|p| read_findings(&s, p))
        .transpose()?;
    let opts = ReadOptions {
        encoding: a.encoding.clone(),
        ..ReadOptions::default()
    };
    let mut imp = Importer::new(&s);
    for p in &a.responses {
        imp.read(p, &opts)?;
    }
    let mut responses = imp.finish();
    let codes: Vec<String> = s.items.iter().map(|i| i.code.clone()).collect();
    let d = design::check(&mut responses, &fw, &codes);
    let scores = scoring::score(&s, &responses, &d, findings.as_ref())?;
    let command = inv.command_line();
    let pop = population(&fw);
    // outlets.csv is the long one: it is written beside the others.
    let files: Vec<(String, Vec<u8>)> = std::thread::scope(|sc| {
        let outlets = sc.spawn(|| render::outlets_csv(&scores, &s));
        let scores_csv = render::scores_csv(&scores);
        let rejected = render::rejected_csv(&responses);
        let summary = render::summary_json(
            &s,
            &scores,
            &responses,
            &d,
            &fw,
            findings.as_ref(),
            &command,
        );
        let report = render::report_md(
            &s,
            &scores,
            &responses,
            &d,
            &pop,
            findings.as_ref(),
            &command,
        );
        vec![
            ("scores.csv".into(), scores_csv),
            (
                "outlets.csv".into(),
                outlets.join().expect("rendering does not panic"),
            ),
            ("rejected.csv".into(), rejected),
            ("summary.json".into(), summary),
            ("report.md".into(), report.into_bytes()),
        ]
    });
    crate::io::commit::with_lock(&out, |lock| crate::io::commit::commit(lock, &files, None))?;
    let c = render::counts(&responses, &s);
    match &scores.total {
        Some(t) => {
            let level = if !t.complete {
                "no level: findings not given".to_string()
            } else {
                match t.level {
                    Some(k) => s.levels[k].name.clone(),
                    None => "不通过 fail".into(),
                }
            };
            crate::status!(
                "scored {} from {} ({} rejected); total {:.2} ± {:.2} (95 % CI), {level}; into {}",
                plural(c.scored, "answer"),
                plural(c.questionnaires_scored, "questionnaire"),
                plural(c.rejected, "answer"),
                t.value,
                crate::scoring::estimate::Z95 * t.se,
                out.display()
            );
            if !t.uncertain.is_empty() {
                crate::status!(
                    "warning: the 95 % interval of the total contains a level threshold; report.md says which"
                );
            }
        }
        None => crate::status!(
            "nothing could be scored ({} rejected); see {}",
            plural(c.rejected, "answer"),
            out.join("rejected.csv").display()
        ),
    }
    // Freeing millions of answers takes 20 ms; a thread of its own does it, and when the
    // process ends first the system reclaims the memory at once.
    Ok(super::Done::leaving((responses, scores, d, files)))
}

/// `1 answer`, `2 answers`.
fn plural(n: impl Into<u64>, word: &str) -> String {
    let n = n.into();
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}
