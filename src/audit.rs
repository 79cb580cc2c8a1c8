//! The audit file (审核文件, `audit.toml`): one declaration of an audit, from which
//! `svcaudit plan` runs the outlet draw, the customer draw and the fieldwork plan, and
//! `svcaudit score` the scoring.
//!
//! The file mirrors the command line. `[audit]` names the audit and holds what every step
//! shares (seed, stage, who draws and when); `[outlets]`, `[customers]`, `[schedule]` and
//! `[score]` hold the long options of `sample outlets`, `sample customers`, `schedule` and
//! `score` (written `per_outlet` or `per-outlet`), so those commands' help documents every
//! key, and a file can be turned back into the commands it stands for.
//!
//! This module parses and checks the text only; it touches no file. Which keys name files,
//! whether those stay inside the audit's folder, and whether a key is an option of its
//! command is decided by `commands::audit`, against the clap definitions.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

/// The audit file's template, written by `svcaudit init`.
pub const TEMPLATE: &str = include_str!("audit_template.toml");

/// The longest audit id accepted; it names a folder.
pub const MAX_ID_CHARS: usize = 64;

/// A parsed audit file.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Names the output folder `reports/<id>/`: letters, digits, `-`, `_`, `.`.
    pub id: String,
    /// The applicant (申请方), shown on the report.
    pub applicant: String,
    /// The seed every step uses unless its section sets `seed`.
    pub seed: Option<String>,
    /// Shared options passed to every step that has them, with their lines:
    /// `seed-commitment`, `stage`, `drawn-by`, `drawn-on`.
    pub shared: Vec<Opt>,
    /// `zh` or `en`: the report's language unless `--lang` says otherwise.
    pub lang: Option<String>,
    /// The step sections in file order of steps: outlets, customers, schedule, score.
    pub sections: Vec<Section>,
}

/// One step's section.
#[derive(Debug, Clone)]
pub struct Section {
    /// `outlets`, `customers`, `schedule` or `score`.
    pub name: &'static str,
    /// The line of the section's first key (or of its header when empty).
    pub line: u64,
    pub options: Vec<Opt>,
}

/// One key of a section, as a long option: `key` is hyphenated (`per-outlet`).
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub key: String,
    pub line: u64,
    pub value: OptValue,
}

/// What a key's value becomes on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    /// `true`: the flag alone; `false`: left out.
    Flag(bool),
    /// One value, or several (an array), each after its own `--key`.
    Values(Vec<String>),
}

impl Audit {
    /// The section named `name`, if the file has it.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAudit {
    audit: Spanned<Head>,
    outlets: Option<Spanned<RawSection>>,
    customers: Option<Spanned<RawSection>>,
    schedule: Option<Spanned<RawSection>>,
    score: Option<Spanned<RawSection>>,
}

type RawSection = BTreeMap<String, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    id: Spanned<String>,
    #[serde(default)]
    applicant: String,
    seed: Option<Spanned<toml::Value>>,
    seed_commitment: Option<Spanned<String>>,
    stage: Option<Spanned<String>>,
    drawn_by: Option<Spanned<String>>,
    drawn_on: Option<Spanned<toml::Value>>,
    lang: Option<Spanned<String>>,
}

fn line_at(text: &str, at: usize) -> u64 {
    crate::io::limits::line_of(text.as_bytes(), at.min(text.len()))
}

/// Parses an audit file; `name` is the file's name as the user gave it, for messages.
///
/// Errors (all at once, each naming `name:line`): TOML syntax, an unknown section or
/// `[audit]` key, a missing `[audit] id`, an id that could not name a folder, a language
/// other than zh/en, and a value that cannot be an option (a table, a nested array, an
/// empty key).
pub fn parse(name: &str, text: &str) -> Result<Audit> {
    let hint = "hint: `svcaudit init` writes a commented audit.toml to start from";
    let file: FileAudit = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(":{}", line_at(text, s.start)))
            .unwrap_or_default();
        Error::data(format!("{name}{at}: {}\n{hint}", e.message().trim_end()))
    })?;
    let mut problems = Vec::new();
    let head = file.audit.into_inner();
    let id_line = line_at(text, head.id.span().start);
    let id = head.id.into_inner();
    if let Err(why) = check_id(&id) {
        problems.push(format!("{name}:{id_line}: [audit] id {id:?}: {why}"));
    }
    let mut shared = Vec::new();
    let mut seed = None;
    if let Some(s) = head.seed {
        let line = line_at(text, s.span().start);
        match scalar(s.get_ref()) {
            Some(v) if !v.is_empty() => seed = Some(v),
            _ => problems.push(format!(
                "{name}:{line}: [audit] seed must be a number or a phrase"
            )),
        }
    }
    let mut push_shared = |key: &str, v: Option<(String, u64)>| {
        if let Some((value, line)) = v {
            shared.push(Opt {
                key: key.to_string(),
                line,
                value: OptValue::Values(vec![value]),
            });
        }
    };
    let sp = |s: Option<Spanned<String>>| {
        s.map(|s| {
            let l = line_at(text, s.span().start);
            (s.into_inner(), l)
        })
    };
    push_shared("seed-commitment", sp(head.seed_commitment));
    push_shared("stage", sp(head.stage));
    push_shared("drawn-by", sp(head.drawn_by));
    let drawn_on = head.drawn_on.and_then(|d| {
        let l = line_at(text, d.span().start);
        match scalar(d.get_ref()) {
            Some(v) => Some((v, l)),
            None => {
                problems.push(format!(
                    "{name}:{l}: [audit] drawn_on must be a date (YYYY-MM-DD)"
                ));
                None
            }
        }
    });
    push_shared("drawn-on", drawn_on);
    let lang = sp(head.lang).map(|(l, line)| {
        if l != "zh" && l != "en" {
            problems.push(format!(
                "{name}:{line}: [audit] lang {l:?}: the report's language is \"zh\" (中文) or \"en\""
            ));
        }
        l
    });
    let mut sections = Vec::new();
    for (sname, raw) in [
        ("outlets", file.outlets),
        ("customers", file.customers),
        ("schedule", file.schedule),
        ("score", file.score),
    ] {
        let Some(raw) = raw else { continue };
        let line = line_at(text, raw.span().start);
        let mut options = Vec::new();
        for (k, v) in raw.into_inner() {
            let vline = line_at(text, v.span().start);
            let key = k.replace('_', "-");
            if key.is_empty() || key.starts_with('-') {
                problems.push(format!(
                    "{name}:{vline}: [{sname}] key {k:?} is not an option"
                ));
                continue;
            }
            let value = match v.into_inner() {
                toml::Value::Boolean(b) => OptValue::Flag(b),
                toml::Value::Array(a) => {
                    let vals: Vec<Option<String>> = a.iter().map(scalar).collect();
                    if vals.iter().any(Option::is_none) {
                        problems.push(format!(
                            "{name}:{vline}: [{sname}] {k}: a list holds only text, numbers or dates"
                        ));
                        continue;
                    }
                    OptValue::Values(vals.into_iter().flatten().collect())
                }
                other => match scalar(&other) {
                    Some(s) => OptValue::Values(vec![s]),
                    None => {
                        problems.push(format!(
                            "{name}:{vline}: [{sname}] {k}: a table is not an option value; write `{k} = \"…\"`"
                        ));
                        continue;
                    }
                },
            };
            options.push(Opt {
                key,
                line: vline,
                value,
            });
        }
        options.sort_by_key(|o| o.line);
        sections.push(Section {
            name: sname,
            line,
            options,
        });
    }
    if !problems.is_empty() {
        return Err(Error::data(format!("{}\n{hint}", problems.join("\n"))));
    }
    Ok(Audit {
        id,
        applicant: head.applicant,
        seed,
        shared,
        lang,
        sections,
    })
}

/// A text, number, boolean-free scalar as the command line would spell it.
fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

/// Checks that an audit id can name a folder under `reports/` and nothing else: no path
/// separators, no `..`, no leading dot, no control characters, at most [`MAX_ID_CHARS`].
pub fn check_id(id: &str) -> std::result::Result<(), String> {
    let rule = "an audit id names the folder reports/<id>/; use letters, digits, '-', '_' and '.' (not first)";
    if id.is_empty() {
        return Err(format!("is empty; {rule}"));
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(format!("is longer than {MAX_ID_CHARS} characters"));
    }
    if id.starts_with('.') {
        return Err(format!("starts with '.'; {rule}"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("holds {c:?}; {rule}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses() {
        let a = parse("audit.toml", TEMPLATE).unwrap();
        assert!(a.section("outlets").is_some());
    }

    #[test]
    fn options_keep_their_lines_and_kinds() {
        let t = "[audit]\nid = \"a-1\"\nseed = 42\n\n[outlets]\nframe = \"o.csv\"\nstrata = [\"省份\", \"城市\"]\nreserve = 2\nall = false\nper_outlet = 1.5\n";
        let a = parse("a.toml", t).unwrap();
        assert_eq!(a.seed.as_deref(), Some("42"));
        let o = &a.section("outlets").unwrap().options;
        assert_eq!(o[0].key, "frame");
        assert_eq!(o[0].line, 6);
        assert_eq!(
            o[1].value,
            OptValue::Values(vec!["省份".into(), "城市".into()])
        );
        assert_eq!(o[3].value, OptValue::Flag(false));
        assert_eq!(o[4].key, "per-outlet");
        assert_eq!(o[4].value, OptValue::Values(vec!["1.5".into()]));
    }

    #[test]
    fn bad_files_name_every_line() {
        let t = "[audit]\nid = \"../x\"\nlang = \"fr\"\n[outlets]\nx = { a = 1 }\n";
        let e = parse("a.toml", t).unwrap_err().message;
        assert!(e.contains("a.toml:2: [audit] id \"../x\""), "{e}");
        assert!(e.contains("a.toml:3: [audit] lang"), "{e}");
        assert!(e.contains("a.toml:5: [outlets] x: a table"), "{e}");
        let e = parse("a.toml", "[audit]\nid = \"x\"\n[outlet]\n")
            .unwrap_err()
            .message;
        assert!(e.starts_with("a.toml:3:"), "{e}");
        let e = parse("a.toml", "[outlets]\n").unwrap_err().message;
        assert!(e.contains("audit"), "{e}");
    }

    #[test]
    fn ids_that_are_not_folder_names_are_refused() {
        for bad in ["", ".", "..", "a/b", "a\\b", ".hidden", "a b", "x\u{0}"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        for good in ["example", "2026-SA-001", "示例电器.2026", "a_b"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
    }
}
