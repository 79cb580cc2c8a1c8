//! `svcaudit schedule`: read the draws, the team and the calendar, plan, check, write.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::ScheduleArgs;
use crate::error::{Error, Result};
use crate::io::team::{
    parse_kinds, read_calendar, read_kinds_file, read_outcomes, read_outlets, read_people,
    read_previous, read_sheet,
};
use crate::schedule::outcomes::{FollowUp, follow_up};
use crate::schedule::{self, Customer, Input, Rules};
use crate::seed::{Seed, sha256_hex};

pub fn run(a: ScheduleArgs, inv: &super::Invocation) -> Result<()> {
    let seed = Seed::parse(&a.seed)?;
    let from = date_arg("--from", &a.from)?;
    let to = date_arg("--to", &a.to)?;
    if to < from {
        return Err(Error::usage(format!("--to {to} is before --from {from}")));
    }
    if a.min_gap < 0 {
        return Err(Error::usage("--min-gap must be 0 or more days"));
    }
    if a.attempts == 0 {
        return Err(Error::usage("--attempts must be at least 1"));
    }
    let default_kinds = parse_kinds(&a.kinds).map_err(|k| {
        Error::usage(format!(
            "--kinds: unknown kind `{k}`; use mystery, call and review"
        ))
    })?;
    let stamp = date_arg(
        "--drawn-on",
        &crate::io::drawbook::drawn_on(a.drawn_on.as_deref())?,
    )?;
    if !a.force && a.out.join("plan.md").exists() {
        return Err(Error::usage(format!(
            "{}: a plan is already there; choose another --out or pass --force to replace it",
            a.out.display()
        )));
    }
    let outlet_sample = a.outlets.join("sample.csv");
    let mut outlets = read_outlets(&outlet_sample)?;
    if a.outcomes.is_some() {
        // The call loop re-plans calls only; the outlet tasks stand as first planned.
        outlets.clear();
    }
    if let Some(f) = &a.kinds_file {
        let per = read_kinds_file(f)?;
        for o in &mut outlets {
            o.kinds = per
                .get(&o.id)
                .cloned()
                .unwrap_or_else(|| default_kinds.clone());
        }
    } else {
        for o in &mut outlets {
            o.kinds = default_kinds.clone();
        }
    }
    let call_sheet = a.customers.as_ref().map(|d| d.join("call_sheet.csv"));
    let sheet = match &call_sheet {
        Some(p) => read_sheet(p)?,
        None => Vec::new(),
    };
    let follow = match &a.outcomes {
        Some(f) => {
            if call_sheet.is_none() {
                return Err(Error::usage(
                    "--outcomes needs --customers, the customer draw whose calls they record",
                ));
            }
            Some(follow_up(&sheet, &read_outcomes(f, &sheet)?, a.attempts))
        }
        None => None,
    };
    let customers: Vec<Customer> = match &follow {
        Some(f) => f.to_call.clone(),
        None => sheet
            .iter()
            .filter(|r| !r.reserve)
            .map(|r| r.customer.clone())
            .collect(),
    };
    let people = read_people(&a.people)?;
    let calendar = read_calendar(&a.calendar)?;
    let mut previous = BTreeSet::new();
    for p in &a.previous {
        previous.extend(read_previous(p)?);
    }
    let input = Input {
        outlets,
        customers,
        people,
        calendar,
        rules: Rules {
            from,
            to,
            min_gap: a.min_gap,
            attempts: a.attempts,
        },
        previous,
    };
    let mut plan = schedule::plan(&input, &seed);
    let broken = schedule::check::check(&input, &plan);
    if !broken.is_empty() {
        return Err(Error::data(format!(
            "internal error: the plan breaks its own rules (please report this):\n{}",
            broken.join("\n")
        )));
    }
    let q = schedule::quality(&input, &plan);
    let mut inputs: Vec<(String, PathBuf)> = vec![
        ("outlet sample".into(), outlet_sample.clone()),
        ("people".into(), a.people.clone()),
        ("calendar".into(), a.calendar.clone()),
    ];
    if let Some(c) = &call_sheet {
        inputs.push(("customer call sheet".into(), c.clone()));
    }
    for p in &a.previous {
        inputs.push(("earlier plan".into(), p.clone()));
    }
    if let Some(o) = &a.outcomes {
        inputs.push(("call outcomes".into(), o.clone()));
    }
    let mut header = format!(
        "Planned on {stamp} with svcaudit {}, seed `{}` (tie-breaks only: prn-v1, domain `schedule`). The same inputs and seed give the same plan.\n\nInputs:\n",
        env!("CARGO_PKG_VERSION"),
        seed.canonical()
    );
    for (what, p) in &inputs {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, "read the file", &e))?;
        header.push_str(&format!(
            "- {what}: `{}` (SHA-256 `{}`)\n",
            p.display(),
            sha256_hex(&bytes)
        ));
    }
    header.push_str(&format!("\nCommand: `{}`", inv.command_line()));
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    let extra = match &follow {
        Some(f) => {
            plan.unplanned.extend(f.unplanned.iter().cloned());
            files.push(("replacements.csv", replacements_csv(f)));
            follow_up_section(f)
        }
        None => {
            files.push(("visits.csv", schedule::render::visits_csv(&input, &plan)));
            files.push((
                "applicant_notice.csv",
                schedule::render::applicant_notice_csv(&input, &plan),
            ));
            String::new()
        }
    };
    let r = schedule::render::summary(&input, &plan, &q, &header, &extra);
    files.push(("calls.csv", schedule::render::calls_csv(&input, &plan)));
    files.push(("unplanned.csv", schedule::render::unplanned_csv(&plan)));
    files.push(("plan.md", r.into_bytes()));
    let cals = schedule::render::calendars(&input, &plan, stamp);
    let mut all: Vec<(String, Vec<u8>)> =
        files.into_iter().map(|(n, b)| (n.to_string(), b)).collect();
    for (person, text) in &cals {
        all.push((
            format!("calendars/{}.ics", safe_file_name(person)),
            text.clone().into_bytes(),
        ));
    }
    let action = if a.outcomes.is_some() {
        "schedule --outcomes"
    } else {
        "schedule"
    };
    crate::io::commit::with_lock(&a.out, |lock| {
        let line = crate::io::ledger::next_line(
            &a.out,
            crate::io::drawbook::draw_entry(action, &seed, &all),
        )?;
        crate::io::commit::commit(lock, &all, Some(line))?;
        // Calendars of people without a task in this plan must not linger from a former one.
        let keep: BTreeSet<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        if let Ok(rd) = std::fs::read_dir(a.out.join("calendars")) {
            for e in rd.flatten() {
                let name = format!("calendars/{}", e.file_name().to_string_lossy());
                if !keep.contains(name.as_str()) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    })?;
    let outlets_done =
        input.outlets.len() - plan.unplanned.iter().filter(|u| u.item == "outlet").count();
    crate::status!(
        "planned {} outlet tasks for {} of {} outlets and {} call attempts for {} customers, {} calendars, into {}",
        plan.tasks.len(),
        outlets_done,
        input.outlets.len(),
        plan.attempts.len(),
        input.customers.len()
            - plan
                .unplanned
                .iter()
                .filter(|u| u.item == "customer")
                .count(),
        cals.len(),
        a.out.display()
    );
    if !plan.unplanned.is_empty() {
        crate::status!(
            "warning: {} items could not be planned; unplanned.csv and plan.md say why",
            plan.unplanned.len()
        );
    }
    Ok(())
}

fn date_arg(flag: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::usage(format!("{flag} `{s}`: write the date as YYYY-MM-DD")))
}

/// A person id as a file name: characters that no file system minds.
fn safe_file_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// replacements.csv: every replacement, for the justification.
fn replacements_csv(f: &FollowUp) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record([
        "outlet_id",
        "replaced_unit_id",
        "reason",
        "reserve_unit_id",
        "reserve_call_order",
    ])
    .expect("memory");
    for r in &f.replacements {
        w.write_record([
            r.outlet_id.as_str(),
            r.replaced.as_str(),
            r.reason.as_str(),
            r.by.as_str(),
            &r.by_call_order.to_string(),
        ])
        .expect("memory");
    }
    w.into_inner().expect("memory")
}

fn follow_up_section(f: &FollowUp) -> String {
    let mut s = format!(
        "## 替换 Call outcomes and replacements\n\n{} customers completed; {} still to call; {} replaced from the reserves, strictly in reserve order (`replacements.csv`):\n\n",
        f.completed.len(),
        f.to_call.len(),
        f.replacements.len()
    );
    if !f.replacements.is_empty() {
        s.push_str(
            "| outlet | replaced | reason | reserve | its call order |\n|---|---|---|---|---:|\n",
        );
        for r in &f.replacements {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                r.outlet_id, r.replaced, r.reason, r.by, r.by_call_order
            ));
        }
    }
    s.push('\n');
    s
}
