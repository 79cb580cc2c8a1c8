//! `svcaudit init`, `svcaudit plan AUDIT.toml` and `svcaudit score AUDIT.toml`: one audit
//! file turned into the single-step commands it stands for, run in order, then the report.
//!
//! Each section of the file becomes the argument list of its command and goes through the
//! same clap definitions as a typed command, so defaults, checks and help stay in one place.
//! Before anything runs, every key is checked against its command's options and every path
//! is resolved relative to the audit file; a path that leads outside the file's folder (`..`,
//! an absolute path, a symbolic link out) is refused unless `--allow-outside` is given,
//! because audit files travel between people and must not read or write elsewhere.

use std::path::{Component, Path, PathBuf};

use clap::{CommandFactory, Parser};

use crate::audit::{self, Audit, Opt, OptValue, Section};
use crate::cli::{AuditOpts, Cli, InitArgs, PlanArgs};
use crate::error::{Error, Result};

/// The largest audit file read (it is a hand-written declaration).
const MAX_AUDIT_BYTES: u64 = 1 << 20;

/// `svcaudit init`: writes the commented template.
pub fn init(a: InitArgs) -> Result<()> {
    if a.path.exists() && !a.force {
        return Err(Error::usage(format!(
            "{} already exists; choose another path or pass --force to replace it",
            a.path.display()
        )));
    }
    crate::io::output::write_atomic(&a.path, audit::TEMPLATE.as_bytes())?;
    crate::status!(
        "wrote {}: fill in the applicant's files and the seed, then run `svcaudit plan {}`",
        a.path.display(),
        a.path.display()
    );
    Ok(())
}

/// An audit file with where it lives and where its outputs go.
pub struct Loaded {
    /// The file as the user named it.
    pub path: PathBuf,
    /// Its folder: every path in the file is relative to it.
    pub base: PathBuf,
    pub audit: Audit,
    /// `reports/<id>/`.
    pub dir: PathBuf,
    pub lang: String,
    allow_outside: bool,
}

/// Reads and parses an audit file.
pub fn load(path: &Path, opts: &AuditOpts) -> Result<Loaded> {
    let meta = std::fs::metadata(path).map_err(|e| {
        let mut err = Error::io(path, "read the audit file", &e);
        if e.kind() == std::io::ErrorKind::NotFound {
            err.message
                .push_str("\nhint: `svcaudit init` writes a commented audit.toml to start from");
        }
        err
    })?;
    if meta.len() > MAX_AUDIT_BYTES {
        return Err(Error::data(format!(
            "{}: {} bytes; an audit file is at most 1 MiB",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, "read the audit file", &e))?;
    let name = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = crate::io::limits::line_of(&bytes, e.valid_up_to());
        Error::data(format!(
            "{name}:{line}: not UTF-8 text; save the audit file as UTF-8"
        ))
    })?;
    from_text(path, text, opts)
}

/// Parses an audit file's text; `path` says where it lives (paths are relative to it).
pub fn from_text(path: &Path, text: &str, opts: &AuditOpts) -> Result<Loaded> {
    let name = path.display().to_string();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let audit = audit::parse(&name, text)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = opts.reports.join(&audit.id);
    let lang = opts
        .lang
        .clone()
        .or_else(|| audit.lang.clone())
        .unwrap_or_else(|| "zh".into());
    Ok(Loaded {
        path: path.to_path_buf(),
        base,
        audit,
        dir,
        lang,
        allow_outside: opts.allow_outside,
    })
}

/// A step: its section, the subcommand words, and the output folder's name under the audit's.
struct Step {
    section: &'static str,
    words: &'static [&'static str],
    out: &'static str,
    label: &'static str,
}

const STEPS: [Step; 4] = [
    Step {
        section: "outlets",
        words: &["sample", "outlets"],
        out: "outlets",
        label: "outlet draw (网点抽样)",
    },
    Step {
        section: "customers",
        words: &["sample", "customers"],
        out: "customers",
        label: "customer draw (顾客抽样)",
    },
    Step {
        section: "schedule",
        words: &["schedule"],
        out: "plan",
        label: "fieldwork plan (实地工作计划)",
    },
    Step {
        section: "score",
        words: &["score"],
        out: "scores",
        label: "scoring (评分)",
    },
];

fn step(section: &str) -> &'static Step {
    STEPS
        .iter()
        .find(|s| s.section == section)
        .expect("a known section")
}

/// Options the audit wires itself: the folders of the earlier steps and the output.
fn wired(l: &Loaded, st: &Step) -> Vec<(&'static str, PathBuf)> {
    let has = |s: &str| l.audit.section(s).is_some();
    let mut w = Vec::new();
    match st.section {
        "customers" => w.push(("outlets", l.dir.join("outlets"))),
        "schedule" => {
            w.push(("outlets", l.dir.join("outlets")));
            if has("customers") {
                w.push(("customers", l.dir.join("customers")));
            }
        }
        "score" => {
            for (k, sub, file) in [
                ("outlets", "outlets", "sample.csv"),
                ("customers", "customers", "sample.csv"),
                ("plan", "plan", "visits.csv"),
            ] {
                if l.dir.join(sub).join(file).exists() {
                    w.push((k, l.dir.join(sub)));
                }
            }
        }
        _ => {}
    }
    w.push(("out", l.dir.join(st.out)));
    w
}

/// The argument list (without `svcaudit`) of one section's command.
///
/// Errors: every key that is not an option of the command, set by the audit itself, a flag
/// given a value or an option given `true`, and every path that leaves the audit's folder,
/// each with the file and line.
fn argv(l: &Loaded, section: &Section, force: bool) -> Result<Vec<String>> {
    let st = step(section.name);
    let mut cmd = Cli::command();
    for w in st.words {
        cmd = cmd
            .find_subcommand(w)
            .expect("the audit's steps are subcommands")
            .clone();
    }
    let file = l.path.display().to_string();
    let wired = wired(l, st);
    let mut problems = Vec::new();
    let mut args: Vec<String> = st.words.iter().map(|w| w.to_string()).collect();
    let mut positional = Vec::new();
    let mut set = std::collections::BTreeSet::new();
    for o in &section.options {
        let here = format!("{file}:{}: [{}] {}", o.line, section.name, o.key);
        if wired.iter().any(|(k, _)| *k == o.key) || matches!(o.key.as_str(), "force" | "audit") {
            problems.push(format!(
                "{here}: set by svcaudit itself under {}; remove this key",
                l.dir.display()
            ));
            continue;
        }
        let arg = cmd.get_arguments().find(|a| {
            a.get_long() == Some(o.key.as_str())
                || (a.is_positional() && a.get_id().as_str() == o.key)
        });
        let Some(arg) = arg else {
            let known: Vec<String> = cmd
                .get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| {
                    if a.is_positional() {
                        Some(a.get_id().to_string())
                    } else {
                        a.get_long().map(str::to_string)
                    }
                })
                .filter(|k| {
                    !wired.iter().any(|(w, _)| w == k)
                        && !matches!(k.as_str(), "force" | "audit" | "help" | "version" | "quiet")
                })
                .collect();
            problems.push(format!(
                "{here}: not an option of `svcaudit {}`; its keys are: {}",
                st.words.join(" "),
                known.join(", ")
            ));
            continue;
        };
        set.insert(o.key.clone());
        let takes = arg.get_action().takes_values();
        let names: Vec<String> = arg
            .get_value_names()
            .unwrap_or_default()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let is_path = arg.is_positional()
            || names
                .iter()
                .any(|n| n.contains("FILE") || n.contains("DIR"));
        match (&o.value, takes) {
            (OptValue::Flag(true), false) => args.push(format!("--{}", o.key)),
            (OptValue::Flag(false), false) => {}
            (OptValue::Flag(_), true) => problems.push(format!(
                "{here}: takes a value ({}), not true/false",
                names.join(" ")
            )),
            (OptValue::Values(_), false) => problems.push(format!(
                "{here}: is a switch; write `{} = true` or remove it",
                o.key.replace('-', "_")
            )),
            (OptValue::Values(vs), true) => {
                for v in vs {
                    let v = if is_path && !is_keyword(&o.key, v) {
                        match resolve(l, v) {
                            Ok(p) => p,
                            Err(why) => {
                                problems.push(format!("{here} = {v:?}: {why}"));
                                continue;
                            }
                        }
                    } else {
                        v.clone()
                    };
                    if arg.is_positional() {
                        positional.push(v);
                    } else {
                        args.push(format!("--{}", o.key));
                        args.push(v);
                    }
                }
            }
        }
    }
    args.extend(positional);
    let has_long = |k: &str| cmd.get_arguments().any(|a| a.get_long() == Some(k));
    if has_long("seed") && !set.contains("seed") {
        match &l.audit.seed {
            Some(s) => {
                args.push("--seed".into());
                args.push(s.clone());
            }
            None => problems.push(format!(
                "{file}: [{}] needs a seed: set `seed` in [audit] (or in [{}])",
                section.name, section.name
            )),
        }
    }
    for o in &l.audit.shared {
        if has_long(&o.key)
            && !set.contains(&o.key)
            && let OptValue::Values(vs) = &o.value
        {
            for v in vs {
                args.push(format!("--{}", o.key));
                args.push(v.clone());
            }
        }
    }
    for (k, p) in wired {
        args.push(format!("--{k}"));
        args.push(p.display().to_string());
    }
    if force && has_long("force") {
        args.push("--force".into());
    }
    if problems.is_empty() {
        Ok(args)
    } else {
        Err(Error::data(format!(
            "{}\nhint: a section's keys are the long options of its command (`svcaudit {} --help`); paths are relative to the audit file",
            problems.join("\n"),
            st.words.join(" ")
        )))
    }
}

/// Values of path options that are keywords, not files.
fn is_keyword(key: &str, v: &str) -> bool {
    match key {
        "allocation" => matches!(v, "proportional" | "equal"),
        "scheme" => crate::scoring::scheme::builtin(v).is_some(),
        _ => false,
    }
}

/// True when the relative path `p` climbs above its starting folder (`a/../../b`).
pub fn escapes(p: &Path) -> bool {
    let mut depth: i64 = 0;
    for c in p.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => return true,
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
    }
    false
}

/// Resolves a path of the audit file against the file's folder.
fn resolve(l: &Loaded, v: &str) -> std::result::Result<String, String> {
    resolve_in(&l.base, v, l.allow_outside)
}

/// Resolves `v`, a path written in an audit file whose folder is `base`, refusing one that
/// leads outside `base` (`..` above it, an absolute path, or an existing file reached
/// through a symbolic link out) unless `allow_outside`.
pub fn resolve_in(
    base: &Path,
    v: &str,
    allow_outside: bool,
) -> std::result::Result<String, String> {
    let p = Path::new(v);
    if v.is_empty() {
        return Err("an empty path".into());
    }
    if v.contains('\0') {
        return Err("a path with a NUL byte".into());
    }
    let outside = "leads outside the audit file's folder; keep the audit's files beside audit.toml or below it, or pass --allow-outside if this is intended";
    if !allow_outside && (p.is_absolute() || escapes(p)) {
        return Err(outside.into());
    }
    let full = if p.is_absolute() || base.as_os_str().is_empty() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    if !allow_outside
        && let (Ok(f), Ok(b)) = (
            full.canonicalize(),
            if base.as_os_str().is_empty() {
                Path::new(".").canonicalize()
            } else {
                base.canonicalize()
            },
        )
        && !f.starts_with(&b)
    {
        return Err(format!("is a link that {outside}"));
    }
    Ok(full.display().to_string())
}

/// Parses a step's arguments with the real command line.
fn parse_step(l: &Loaded, section: &str, args: &[String]) -> Result<Cli> {
    let mut full = vec!["svcaudit".to_string()];
    full.extend(args.iter().cloned());
    if crate::ui::quiet() {
        full.push("--quiet".into());
    }
    Cli::try_parse_from(&full).map_err(|e| clap_error(l, section, &e))
}

/// Runs a parsed step, recording the equivalent single-step command in its manifest.
fn run_step(cli: Cli, args: Vec<String>) -> Result<()> {
    // Unlike `main`, plan goes on: what the step leaves is freed here.
    super::run(cli, &super::Invocation { args }).map(drop)
}

/// A clap error on a step's arguments, named by the audit file's line when the option is
/// known.
fn clap_error(l: &Loaded, section: &str, e: &clap::Error) -> Error {
    let text = e.to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    let arg = e
        .get(clap::error::ContextKind::InvalidArg)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let key = arg
        .trim_start_matches("--")
        .split([' ', '='])
        .next()
        .unwrap_or("")
        .to_string();
    let line = l
        .audit
        .section(section)
        .and_then(|s| s.options.iter().find(|o| o.key == key))
        .or_else(|| l.audit.shared.iter().find(|o: &&Opt| o.key == key))
        .map(|o| format!(":{}", o.line))
        .unwrap_or_default();
    Error::data(format!(
        "{}{line}: [{section}] {first}\nhint: see `svcaudit {} --help`",
        l.path.display(),
        step(section).words.join(" ")
    ))
}

/// A planned step: what it is, its parsed command line and its arguments.
type Planned = (&'static Step, Cli, Vec<String>);

/// Every step of `plan` (all sections but `[score]`) as a parsed command line, so that a
/// mistake anywhere in the file is reported, all at once, before anything is drawn.
fn plan_steps(l: &Loaded, force: bool) -> Result<Vec<Planned>> {
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    for st in STEPS.iter().filter(|s| s.section != "score") {
        if let Some(sec) = l.audit.section(st.section) {
            match argv(l, sec, force).and_then(|v| Ok((parse_step(l, st.section, &v)?, v))) {
                Ok((cli, v)) => steps.push((st, cli, v)),
                Err(e) => problems.push(e.message),
            }
        }
    }
    if problems.is_empty() {
        Ok(steps)
    } else {
        Err(Error::data(problems.join("\n")))
    }
}

/// Checks an audit file's text as `plan` and `score` would before running anything, and
/// returns each step's argument list (for tests and fuzzing; it runs nothing).
pub fn check_text(path: &Path, text: &str, opts: &AuditOpts) -> Result<Vec<Vec<String>>> {
    let l = from_text(path, text, opts)?;
    let mut out: Vec<Vec<String>> = plan_steps(&l, false)?.into_iter().map(|p| p.2).collect();
    if let Some(sec) = l.audit.section("score") {
        let v = argv(&l, sec, false)?;
        parse_step(&l, "score", &v)?;
        out.push(v);
    }
    Ok(out)
}

/// `svcaudit plan AUDIT.toml`.
pub fn plan(a: PlanArgs) -> Result<()> {
    let l = load(&a.audit, &a.opts)?;
    if l.audit.section("outlets").is_none() {
        return Err(Error::data(format!(
            "{}: no [outlets] section; the plan starts with the outlet draw (see `svcaudit init`)",
            l.path.display()
        )));
    }
    let steps = plan_steps(&l, a.force)?;
    // What this run creates is undone when a later step fails, so that a failed plan leaves
    // the folders as they were and the corrected command starts afresh.
    let before = Before {
        reports: l.dir.parent().is_some_and(Path::exists),
        dir: l.dir.exists(),
    };
    let mut made: Vec<(&Step, bool)> = Vec::new();
    let n = steps.len() + 1;
    for (i, (st, cli, args)) in steps.into_iter().enumerate() {
        crate::status!("[{}/{n}] {}", i + 1, st.label);
        let fresh = !l.dir.join(st.out).exists();
        if let Err(e) = run_step(cli, args) {
            return Err(undo(&l, &before, &made, e));
        }
        made.push((st, fresh));
    }
    report_step(&l, n).map_err(|e| undo(&l, &before, &made, e))
}

/// Which folders existed before `plan` ran.
struct Before {
    reports: bool,
    dir: bool,
}

/// After a failed step: removes the step folders this run created (and the audit folder and
/// the reports folder when it created them), and says so in the error. Steps redone with
/// `--force` over earlier outputs are complete and stay; the error names them.
fn undo(l: &Loaded, before: &Before, made: &[(&Step, bool)], mut e: Error) -> Error {
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for (st, fresh) in made {
        let dir = l.dir.join(st.out);
        if *fresh {
            let _ = std::fs::remove_dir_all(&dir);
            removed.push(st.label);
        } else {
            kept.push(dir.display().to_string());
        }
    }
    if !before.dir {
        let _ = std::fs::remove_dir_all(&l.dir);
        if !before.reports
            && let Some(parent) = l.dir.parent()
        {
            // Only when empty: other audits may have arrived meanwhile.
            let _ = std::fs::remove_dir(parent);
        }
    }
    if !removed.is_empty() {
        e.message.push_str(&format!(
            "\nnothing of this plan was kept: the {} made before the error {} removed again; correct the input and run the same command",
            removed.join(" and the "),
            if removed.len() == 1 { "was" } else { "were" }
        ));
    }
    if !kept.is_empty() {
        e.message.push_str(&format!(
            "\nredone before the error and complete (each in its ledger): {}",
            kept.join(", ")
        ));
    }
    e
}

/// `svcaudit score AUDIT.toml`.
pub fn score(path: &Path, opts: &AuditOpts, force: bool) -> Result<()> {
    let l = load(path, opts)?;
    let Some(sec) = l.audit.section("score") else {
        return Err(Error::data(format!(
            "{}: no [score] section; add one with `responses` (see `svcaudit init`)",
            l.path.display()
        )));
    };
    let args = argv(&l, sec, force)?;
    let cli = parse_step(&l, "score", &args)?;
    if !l.dir.join("outlets").join("sample.csv").exists() {
        return Err(Error::data(format!(
            "{}: no outlet draw there; run `svcaudit plan {}` first",
            l.dir.display(),
            l.path.display()
        )));
    }
    crate::status!("[1/2] {}", step("score").label);
    run_step(cli, args)?;
    report_step(&l, 2)
}

/// The last of `n` steps: the report, and where it is.
fn report_step(l: &Loaded, n: usize) -> Result<()> {
    crate::status!("[{n}/{n}] report (报告)");
    write_report(l)?;
    crate::status!(
        "audit {}: {} and {}",
        l.audit.id,
        l.dir.join("report.html").display(),
        l.dir.join("report.xlsx").display()
    );
    Ok(())
}

/// The commands that reproduce the audit: the audit-level ones, then each step's
/// single-step equivalent and the verify commands.
fn reproduction(l: &Loaded) -> Vec<String> {
    let p = l.path.display().to_string();
    let mut lines = vec![
        crate::ui::shell_line(&["plan".into(), p.clone()]),
        crate::ui::shell_line(&["score".into(), p]),
    ];
    for st in &STEPS {
        if let Some(sec) = l.audit.section(st.section)
            && let Ok(args) = argv(l, sec, false)
        {
            lines.push(crate::ui::shell_line(&args));
        }
    }
    for d in ["outlets", "customers", "plan"] {
        let dir = l.dir.join(d);
        if dir.join("ledger.jsonl").exists() {
            lines.push(crate::ui::shell_line(&[
                "verify".into(),
                dir.display().to_string(),
            ]));
        }
    }
    lines
}

/// Writes `report.html` and `report.xlsx` into the audit's folder, both or neither.
fn write_report(l: &Loaded) -> Result<()> {
    let view = crate::io::auditdir::load(&l.dir)?;
    let meta = crate::report::html::Meta {
        id: l.audit.id.clone(),
        applicant: l.audit.applicant.clone(),
        audit_file: l.path.display().to_string(),
        commands: reproduction(l),
        zh: l.lang == "zh",
    };
    let html = crate::report::html::render(&meta, &view);
    let xlsx = crate::report::workbook::build(&view)?;
    let files = vec![
        ("report.html".to_string(), html.into_bytes()),
        ("report.xlsx".to_string(), xlsx),
    ];
    crate::io::commit::with_lock(&l.dir, |lock| crate::io::commit::commit(lock, &files, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_climb_out_are_caught() {
        for p in ["../a", "a/../../b", "/etc/passwd", "./../x"] {
            assert!(escapes(Path::new(p)), "{p}");
        }
        for p in ["a", "a/b", "a/../b", "./a", "results/x.csv"] {
            assert!(!escapes(Path::new(p)), "{p}");
        }
    }
}
