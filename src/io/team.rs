//! The fieldwork plan's inputs: the outlets and customers of the draws (their sample.csv and
//! call sheet), the team, the calendar, an earlier plan's visits, per-outlet kinds and the
//! call outcomes. Every error names `file:line:column`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;

use crate::error::{Error, Problems, Result};
use crate::io::frame::find_column;
use crate::io::read::read_table;
use crate::io::table::{RawTable, ReadOptions};
use crate::schedule::calendar::day_kind;
use crate::schedule::outcomes::{Outcome, SheetRow};
use crate::schedule::{Calendar, Customer, Kind, Outlet, Person, Role};

pub fn parse_kinds<S: AsRef<str>>(words: &[S]) -> std::result::Result<BTreeSet<Kind>, String> {
    let mut out = BTreeSet::new();
    for w in words {
        for k in w
            .as_ref()
            .split([';', '|', '/', '、', ' '])
            .filter(|k| !k.trim().is_empty())
        {
            out.insert(Kind::parse(k).ok_or_else(|| k.trim().to_string())?);
        }
    }
    Ok(out)
}

fn table(path: &Path) -> Result<RawTable> {
    read_table(path, &ReadOptions::default())
}

/// A required column, found by any of its names. (The schedule's files have no column
/// flags: the hint is to rename the column.)
fn column(t: &RawTable, aliases: &[&str], what: &str) -> Result<usize> {
    optional(t, aliases).ok_or_else(|| {
        Error::data(format!(
            "{}:1: no {what} column (looked for {}); the header has: {}\nhint: name the column {} in the file's first line",
            t.name(),
            aliases.join(", "),
            crate::io::limits::list_columns(&t.header),
            what
        ))
    })
}

/// `file:line:column` of a cell, for messages (`col` from 0).
fn at(t: &RawTable, line: u64, col: usize) -> String {
    format!("{}:{line}:{}", t.name(), col + 1)
}

fn optional(t: &RawTable, aliases: &[&str]) -> Option<usize> {
    find_column(t, None, aliases, "", "").ok().flatten()
}

/// The outlets to visit: the selected and certainty rows of an outlet draw's sample.csv.
pub fn read_outlets(path: &Path) -> Result<Vec<Outlet>> {
    let t = table(path)?;
    let id = column(&t, &["unit_id"], "unit_id")?;
    let role = column(&t, &["role"], "role")?;
    let name = optional(&t, &["网点名称", "outlet_name", "name", "名称"]);
    let city = optional(&t, &["城市", "city", "所在城市", "市"]);
    let cell = |r: &crate::io::table::RawRow, c: Option<usize>| {
        c.and_then(|c| r.cells.get(c)).cloned().unwrap_or_default()
    };
    Ok(t.rows
        .iter()
        .filter(|r| matches!(r.cells[role].as_str(), "selected" | "certainty"))
        .map(|r| Outlet {
            id: r.cells[id].clone(),
            name: cell(r, name),
            city: cell(r, city),
            kinds: BTreeSet::new(),
        })
        .collect())
}

/// The customers of a customer draw's call_sheet.csv, selected and reserves (reserves are
/// called only when the call loop replaces someone).
pub fn read_sheet(path: &Path) -> Result<Vec<SheetRow>> {
    let t = table(path)?;
    let c = |n: &str| column(&t, &[n], n);
    let (outlet, order, role, unit, name, phone) = (
        c("outlet_id")?,
        c("call_order")?,
        c("role")?,
        c("unit_id")?,
        c("name")?,
        c("phone")?,
    );
    let mut out = Vec::new();
    let mut problems = Problems::new();
    for r in t
        .rows
        .iter()
        .filter(|r| matches!(r.cells[role].as_str(), "selected" | "reserve"))
    {
        let Ok(k) = r.cells[order].parse::<u64>() else {
            problems.push(format!(
                "{}: call_order `{}` is not a number",
                at(&t, r.line, order),
                r.cells[order]
            ));
            continue;
        };
        out.push(SheetRow {
            customer: Customer {
                outlet_id: r.cells[outlet].clone(),
                unit_id: r.cells[unit].clone(),
                call_order: k,
                name: r.cells[name].clone(),
                phone: r.cells[phone].clone(),
                done: 0,
            },
            reserve: r.cells[role] == "reserve",
        });
    }
    problems.into_result("use the call_sheet.csv that `svcaudit sample customers` wrote")?;
    Ok(out)
}

/// Dates as `2026-12-01`, several separated by `;`, ranges as `2026-12-01..2026-12-05`.
fn parse_dates(s: &str) -> std::result::Result<BTreeSet<NaiveDate>, String> {
    let mut out = BTreeSet::new();
    for part in s
        .split([';', '|', '、', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let one = |x: &str| {
            crate::customers::fields::parse_date(x, false)
                .map(crate::customers::fields::date_of)
                .ok_or_else(|| x.to_string())
        };
        if let Some((a, b)) = part.split_once("..").or_else(|| part.split_once('~')) {
            let (a, b) = (one(a)?, one(b)?);
            if b < a {
                return Err(part.to_string());
            }
            out.extend(a.iter_days().take_while(|d| *d <= b));
        } else {
            out.insert(one(part)?);
        }
    }
    Ok(out)
}

/// The field team. Every problem is listed with its line and column.
pub fn read_people(path: &Path) -> Result<Vec<Person>> {
    let t = table(path)?;
    let id = column(&t, crate::io::vocab::PERSON_ID.names, "person id")?;
    let name = optional(&t, &["name", "姓名"]);
    let roles = column(&t, crate::io::vocab::ROLES.names, "roles")?;
    let city = optional(&t, &["city", "home_city", "城市", "常驻城市"]);
    let per_day = column(
        &t,
        &["per_day", "capacity", "每日上限", "每日任务数"],
        "per_day",
    )?;
    let unavailable = optional(&t, &["unavailable", "不可用日期", "请假"]);
    let knows = optional(&t, &["knows", "known_outlets", "回避网点", "熟识网点"]);
    let name_of = t.name();
    let mut problems = Problems::new();
    let mut out: Vec<Person> = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for r in &t.rows {
        let at = |c: usize| format!("{name_of}:{}:{}: column {}", r.line, c + 1, t.header[c]);
        let get = |c: Option<usize>| c.and_then(|c| r.cells.get(c)).cloned().unwrap_or_default();
        let pid = r.cells[id].clone();
        if pid.is_empty() {
            problems.push(format!("{}: empty person id", at(id)));
            continue;
        }
        if let Some(first) = seen.insert(pid.clone(), r.line) {
            problems.push(format!(
                "{}: person id `{pid}` again (first on line {first})",
                at(id)
            ));
            continue;
        }
        let mut rs = BTreeSet::new();
        for w in r.cells[roles]
            .split([';', '|', '/', '、', ' '])
            .filter(|w| !w.trim().is_empty())
        {
            match Role::parse(w) {
                Some(x) => {
                    rs.insert(x);
                }
                None => problems.push(format!(
                    "{}: unknown role `{}`; use auditor, shopper or interviewer (审核员, 暗访员, 访问员), separated by `;`",
                    at(roles),
                    w.trim()
                )),
            }
        }
        let cap = match r.cells[per_day].parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => {
                problems.push(format!(
                    "{}: `{}` is not a number of tasks per day (1 or more)",
                    at(per_day),
                    r.cells[per_day]
                ));
                continue;
            }
        };
        let off = match parse_dates(&get(unavailable)) {
            Ok(d) => d,
            Err(bad) => {
                problems.push(format!(
                    "{}: `{bad}` is not a date or a range such as 2026-12-01..2026-12-05",
                    at(unavailable.expect("column present when a value is"))
                ));
                continue;
            }
        };
        let known: BTreeSet<String> = get(knows)
            .split([';', '|', '、', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        out.push(Person {
            id: pid,
            name: get(name),
            roles: rs,
            city: get(city),
            per_day: cap,
            unavailable: off,
            knows: known,
        });
    }
    problems.into_result(
        "one row per person: person_id, name, roles (auditor; shopper; interviewer), city, per_day, unavailable, knows",
    )?;
    Ok(out)
}

/// The calendar file: one row per listed date, holiday or make-up working day.
pub fn read_calendar(path: &Path) -> Result<Calendar> {
    let t = table(path)?;
    let date = column(&t, &["date", "日期"], "date")?;
    let kind = column(&t, &["kind", "type", "类型", "安排"], "kind")?;
    let mut cal = Calendar::default();
    let mut problems = Problems::new();
    for r in &t.rows {
        let Some(d) = crate::customers::fields::parse_date(&r.cells[date], false)
            .map(crate::customers::fields::date_of)
        else {
            problems.push(format!(
                "{}: `{}` is not a date",
                at(&t, r.line, date),
                r.cells[date]
            ));
            continue;
        };
        match day_kind(&r.cells[kind]) {
            Some(true) => {
                cal.workdays.insert(d);
            }
            Some(false) => {
                cal.holidays.insert(d);
            }
            None => problems.push(format!(
                "{}: `{}`: write holiday (休) or workday (班, a make-up working day 调休)",
                at(&t, r.line, kind),
                r.cells[kind]
            )),
        }
    }
    problems.into_result(
        "list only the public holidays and the make-up working days; weekends are known",
    )?;
    Ok(cal)
}

/// Mystery visits of an earlier plan of the cycle (its visits.csv): (outlet, shopper).
pub fn read_previous(path: &Path) -> Result<BTreeSet<(String, String)>> {
    let t = table(path)?;
    let kind = column(&t, &["kind"], "kind")?;
    let outlet = column(&t, &["outlet_id"], "outlet_id")?;
    let person = column(&t, &["person_id"], "person_id")?;
    Ok(t.rows
        .iter()
        .filter(|r| r.cells[kind] == Kind::Mystery.as_str())
        .map(|r| (r.cells[outlet].clone(), r.cells[person].clone()))
        .collect())
}

/// Per-outlet kinds: outlet_id, kinds.
pub fn read_kinds_file(path: &Path) -> Result<BTreeMap<String, BTreeSet<Kind>>> {
    let t = table(path)?;
    let outlet = column(&t, crate::io::vocab::OUTLET_ID.names, "outlet_id")?;
    let kinds = column(&t, &["kinds", "kind", "类型"], "kinds")?;
    let mut out = BTreeMap::new();
    let mut problems = Problems::new();
    for r in &t.rows {
        match parse_kinds(&[r.cells[kinds].as_str()]) {
            Ok(k) => {
                out.insert(r.cells[outlet].clone(), k);
            }
            Err(bad) => problems.push(format!(
                "{}: unknown kind `{bad}`; use mystery, call and review",
                at(&t, r.line, kinds)
            )),
        }
    }
    problems.into_result("one row per outlet: outlet_id, kinds such as mystery;review")?;
    Ok(out)
}

/// The recorded call outcomes: unit_id, attempt (optional), outcome. A customer who was never
/// drawn, an unknown outcome or an attempt recorded twice is an error naming the line.
pub fn read_outcomes(path: &Path, sheet: &[SheetRow]) -> Result<BTreeMap<String, Vec<Outcome>>> {
    let t = table(path)?;
    let unit = column(&t, crate::io::vocab::RESULT_CUSTOMER.names, "unit_id")?;
    let outcome = column(&t, crate::io::vocab::OUTCOME.names, "outcome")?;
    let attempt = optional(&t, &["attempt", "次数", "第几次"]);
    let drawn: std::collections::HashSet<&str> =
        sheet.iter().map(|r| r.customer.unit_id.as_str()).collect();
    let mut problems = Problems::new();
    let mut rows: BTreeMap<String, Vec<(u32, u64, Outcome)>> = BTreeMap::new();
    for r in &t.rows {
        let id = &r.cells[unit];
        if !drawn.contains(id.as_str()) {
            problems.push(format!(
                "{}: customer `{id}` was never drawn (not in the call sheet)",
                at(&t, r.line, unit)
            ));
            continue;
        }
        let Some(o) = Outcome::parse(&r.cells[outcome]) else {
            problems.push(format!(
                "{}: unknown outcome `{}`; use completed, refused, wrong_number, unreachable, no_answer, busy or callback",
                at(&t, r.line, outcome),
                r.cells[outcome]
            ));
            continue;
        };
        let e = rows.entry(id.clone()).or_default();
        let n = match attempt.map(|c| r.cells[c].trim()) {
            Some(x) if !x.is_empty() => match x.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    problems.push(format!(
                        "{}: attempt `{x}` is not a number from 1",
                        at(&t, r.line, attempt.unwrap_or(0))
                    ));
                    continue;
                }
            },
            _ => e.len() as u32 + 1,
        };
        if let Some(prev) = e.iter().find(|(k, _, _)| *k == n) {
            problems.push(format!(
                "{}:{}: customer `{id}` attempt {n} again (first on line {})",
                t.name(),
                r.line,
                prev.1
            ));
            continue;
        }
        e.push((n, r.line, o));
    }
    problems.into_result("one row per call attempt: unit_id, attempt, outcome")?;
    Ok(rows
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k, v.into_iter().map(|x| x.2).collect())
        })
        .collect())
}
