//! The plan's files: visits.csv, calls.csv, applicant_notice.csv, unplanned.csv, the summary
//! and one iCalendar file per person (RFC 5545). Deterministic bytes.

use crate::report::csv_writer as writer;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::{Input, Kind, Plan, Quality, Slot};

pub fn weekday_zh(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// Outlets by id.
fn outlet_map(inp: &Input) -> HashMap<&str, &super::Outlet> {
    inp.outlets.iter().map(|o| (o.id.as_str(), o)).collect()
}

/// People's names by id.
fn name_map(inp: &Input) -> HashMap<&str, &str> {
    inp.people
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect()
}

/// visits.csv: every outlet task, for the field team (internal: it shows the 暗访).
pub fn visits_csv(inp: &Input, plan: &Plan) -> Vec<u8> {
    let outlets = outlet_map(inp);
    let names = name_map(inp);
    let mut w = writer();
    w.write_record([
        "date",
        "weekday",
        "slot",
        "time",
        "kind",
        "kind_zh",
        "outlet_id",
        "outlet_name",
        "city",
        "person_id",
        "person_name",
        "announce_from",
    ])
    .expect("memory");
    let last_secret = last_mystery(plan);
    for t in &plan.tasks {
        let o = outlets.get(t.outlet_id.as_str());
        let announce = match (t.kind, last_secret.get(t.outlet_id.as_str())) {
            (Kind::Review, Some(d)) => (*d + Duration::days(1)).to_string(),
            _ => String::new(),
        };
        w.write_record([
            t.date.to_string(),
            weekday_zh(t.date).to_string(),
            t.slot.as_str().to_string(),
            t.slot.window(),
            t.kind.as_str().to_string(),
            t.kind.zh().to_string(),
            t.outlet_id.clone(),
            o.map(|o| o.name.clone()).unwrap_or_default(),
            o.map(|o| o.city.clone()).unwrap_or_default(),
            t.person_id.clone(),
            names.get(t.person_id.as_str()).unwrap_or(&"").to_string(),
            announce,
        ])
        .expect("memory");
    }
    w.into_inner().expect("memory")
}

/// Per outlet, the date of its last 暗访 task (visit or call): its review may be announced
/// from the day after.
pub fn last_mystery(plan: &Plan) -> HashMap<&str, NaiveDate> {
    let mut m: HashMap<&str, NaiveDate> = HashMap::new();
    for t in plan.tasks.iter().filter(|t| t.kind != Kind::Review) {
        let e = m.entry(t.outlet_id.as_str()).or_insert(t.date);
        *e = (*e).max(t.date);
    }
    m
}

/// calls.csv: every customer call attempt with the customer's name and full phone, for the
/// interviewers only (like the call sheet).
pub fn calls_csv(inp: &Input, plan: &Plan) -> Vec<u8> {
    let names = name_map(inp);
    let customers: HashMap<&str, &super::Customer> = inp
        .customers
        .iter()
        .map(|c| (c.unit_id.as_str(), c))
        .collect();
    let mut w = writer();
    w.write_record([
        "date",
        "weekday",
        "slot",
        "time",
        "interviewer_id",
        "interviewer_name",
        "outlet_id",
        "call_order",
        "unit_id",
        "attempt",
        "customer_name",
        "phone",
    ])
    .expect("memory");
    for a in &plan.attempts {
        let c = customers.get(a.unit_id.as_str());
        w.write_record([
            a.date.to_string(),
            weekday_zh(a.date).to_string(),
            a.slot.as_str().to_string(),
            a.slot.window(),
            a.person_id.clone(),
            names.get(a.person_id.as_str()).unwrap_or(&"").to_string(),
            a.outlet_id.clone(),
            a.call_order.to_string(),
            a.unit_id.clone(),
            a.attempt.to_string(),
            c.map(|c| c.name.clone()).unwrap_or_default(),
            c.map(|c| c.phone.clone()).unwrap_or_default(),
        ])
        .expect("memory");
    }
    w.into_inner().expect("memory")
}

/// applicant_notice.csv: the announced reviews only. Nothing in it depends on the 暗访: not
/// which outlets get one, nor when, nor who makes it.
pub fn applicant_notice_csv(inp: &Input, plan: &Plan) -> Vec<u8> {
    let outlets = outlet_map(inp);
    let names = name_map(inp);
    let mut w = writer();
    w.write_record([
        "date",
        "weekday",
        "time",
        "outlet_id",
        "outlet_name",
        "city",
        "visit",
        "auditor",
    ])
    .expect("memory");
    let mut reviews: Vec<&super::Task> = plan
        .tasks
        .iter()
        .filter(|t| t.kind == Kind::Review)
        .collect();
    reviews.sort_by(|a, b| (a.date, a.slot, &a.outlet_id).cmp(&(b.date, b.slot, &b.outlet_id)));
    for t in reviews {
        let o = outlets.get(t.outlet_id.as_str());
        w.write_record([
            t.date.to_string(),
            weekday_zh(t.date).to_string(),
            t.slot.window(),
            t.outlet_id.clone(),
            o.map(|o| o.name.clone()).unwrap_or_default(),
            o.map(|o| o.city.clone()).unwrap_or_default(),
            "现场审核 announced on-site review".to_string(),
            names.get(t.person_id.as_str()).unwrap_or(&"").to_string(),
        ])
        .expect("memory");
    }
    w.into_inner().expect("memory")
}

/// unplanned.csv: what could not be placed and why.
pub fn unplanned_csv(plan: &Plan) -> Vec<u8> {
    let mut w = writer();
    w.write_record(["item", "id", "missing", "reason"])
        .expect("memory");
    for u in &plan.unplanned {
        w.write_record([u.item, u.id.as_str(), u.what.as_str(), u.reason.as_str()])
            .expect("memory");
    }
    w.into_inner().expect("memory")
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn ics_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            '\r' => {}
            c => o.push(c),
        }
    }
    o
}

/// Appends one content line, folded at 75 octets without splitting a character (§3.1).
fn ics_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// A Beijing-time (UTC+8, no daylight saving) date and time as UTC, `YYYYMMDDTHHMMSSZ`.
fn utc(d: NaiveDate, (h, m): (u32, u32)) -> String {
    let t = d.and_hms_opt(h, m, 0).expect("valid time") - Duration::hours(8);
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A calendar entry: date, time of day, UID stem, summary, location, description.
type Event = (NaiveDate, Slot, String, String, String, String);

/// One calendar per person who has tasks: their visits and mystery calls, and their blocks of
/// customer calls (how many, not who: calendars travel to phones and clouds, so no customer
/// names or numbers). `stamp` is the plan's date, for DTSTAMP.
pub fn calendars(inp: &Input, plan: &Plan, stamp: NaiveDate) -> BTreeMap<String, String> {
    let outlets = outlet_map(inp);
    let mut events: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for t in &plan.tasks {
        let o = outlets.get(t.outlet_id.as_str());
        let name = o.map(|o| o.name.as_str()).unwrap_or("");
        let city = o.map(|o| o.city.as_str()).unwrap_or("");
        events.entry(t.person_id.as_str()).or_default().push((
            t.date,
            t.slot,
            format!(
                "{}-{}-{}",
                t.kind.as_str(),
                t.outlet_id,
                t.date.format("%Y%m%d")
            ),
            format!("{} {} {}", t.kind.zh(), t.outlet_id, name),
            format!("{city} {name}"),
            format!(
                "{} ({}) at outlet {}; see visits.csv.",
                t.kind.zh(),
                t.kind.as_str(),
                t.outlet_id
            ),
        ));
    }
    let mut blocks: BTreeMap<(&str, NaiveDate, Slot), u32> = BTreeMap::new();
    for a in &plan.attempts {
        *blocks
            .entry((a.person_id.as_str(), a.date, a.slot))
            .or_default() += 1;
    }
    for ((p, d, s), n) in blocks {
        events.entry(p).or_default().push((
            d,
            s,
            format!("calls-{}-{}", d.format("%Y%m%d"), s.as_str()),
            format!("顾客访问 customer calls ({n})"),
            String::new(),
            format!("{n} customer call attempts; names and numbers are in calls.csv."),
        ));
    }
    let mut out = BTreeMap::new();
    for (p, mut ev) in events {
        ev.sort();
        let mut s = String::new();
        for l in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//svcaudit//fieldwork plan//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
        ] {
            ics_line(&mut s, l);
        }
        for (d, slot, uid, summary, location, description) in ev {
            let (start, end) = slot.hours();
            ics_line(&mut s, "BEGIN:VEVENT");
            ics_line(
                &mut s,
                &format!(
                    "UID:{uid}-{}@svcaudit",
                    ics_text(p).replace(['\\', ';', ','], "-")
                ),
            );
            ics_line(&mut s, &format!("DTSTAMP:{}", utc(stamp, (8, 0))));
            ics_line(&mut s, &format!("DTSTART:{}", utc(d, start)));
            ics_line(&mut s, &format!("DTEND:{}", utc(d, end)));
            ics_line(&mut s, &format!("SUMMARY:{}", ics_text(&summary)));
            if !location.is_empty() {
                ics_line(&mut s, &format!("LOCATION:{}", ics_text(&location)));
            }
            ics_line(&mut s, &format!("DESCRIPTION:{}", ics_text(&description)));
            ics_line(&mut s, "END:VEVENT");
        }
        ics_line(&mut s, "END:VCALENDAR");
        out.insert(p.to_string(), s);
    }
    out
}

/// The plan summary (plan.md): what was planned, its quality, and what was not.
pub fn summary(inp: &Input, plan: &Plan, q: &Quality, header: &str, extra: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# 实地工作计划 Fieldwork plan\n\n{header}\n");
    let r = &inp.rules;
    let working = r
        .from
        .iter_days()
        .take_while(|d| *d <= r.to)
        .filter(|d| inp.calendar.is_working_day(*d))
        .count();
    let _ = writeln!(
        s,
        "Window {} to {} ({} days, {working} working days by the calendar). Rules: reviews and customer calls on working days; 暗访 (mystery visit and call) before the review, the visit at least {} days before; no one at an outlet they know; the reviewing auditor is not the shopper; no shopper makes the same outlet's mystery visit twice in the cycle ({} earlier visits passed in); {} call attempts per customer on different working days at different times of day.\n",
        r.from,
        r.to,
        (r.to - r.from).num_days() + 1,
        r.min_gap,
        inp.previous.len(),
        r.attempts
    );
    let count = |k: Kind| plan.tasks.iter().filter(|t| t.kind == k).count();
    let want = |k: Kind| inp.outlets.iter().filter(|o| o.kinds.contains(&k)).count();
    let _ = writeln!(
        s,
        "## 1. 计划 Planned\n\n| task | planned | wanted |\n|---|---:|---:|"
    );
    for k in Kind::ALL {
        let _ = writeln!(
            s,
            "| {} {} | {} | {} |",
            k.zh(),
            k.as_str(),
            count(k),
            want(k)
        );
    }
    let called: std::collections::BTreeSet<&str> =
        plan.attempts.iter().map(|a| a.unit_id.as_str()).collect();
    let _ = writeln!(
        s,
        "| 顾客访问 customers called | {} ({} attempts) | {} |\n",
        called.len(),
        plan.attempts.len(),
        inp.customers.len()
    );
    let _ = writeln!(
        s,
        "## 2. 质量 Quality\n\n- Travel: {} person-days with visits; {} of them in more than one city (mean {:.2} cities a day, most {}); {} of {} visits outside the person's home city.\n- Load per person: {}.\n- Mystery visits: {} on days off, {} on working days; by time of day: {}.\n",
        q.person_days,
        q.multi_city_days,
        q.mean_cities,
        q.max_cities,
        q.away,
        q.on_site,
        q.load
            .iter()
            .map(|(r, (lo, hi, mean))| format!(
                "{} tasks from {lo} to {hi} (mean {mean:.1})",
                r.as_str()
            ))
            .collect::<Vec<_>>()
            .join("; "),
        q.mystery_day_off,
        q.mystery_working,
        q.by_slot
            .iter()
            .map(|(k, v)| format!("{} {v}", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(s, "## 3. 未能安排 Not planned\n");
    if plan.unplanned.is_empty() {
        let _ = writeln!(s, "Everything was planned.\n");
    } else {
        let _ = writeln!(s, "| item | id | missing | reason |\n|---|---|---|---|");
        for u in &plan.unplanned {
            let _ = writeln!(s, "| {} | {} | {} | {} |", u.item, u.id, u.what, u.reason);
        }
        let _ = writeln!(s);
    }
    s.push_str(extra);
    if !extra.is_empty() {
        let _ = writeln!(
            s,
            "## 4. 文件 Files\n\n- `calls.csv`: the next call attempts, with names and full phone numbers (interviewers only).\n- `replacements.csv`: every replacement, for the justification.\n- `calendars/<person>.ics`: one calendar per interviewer (no customer data).\n- `unplanned.csv`: what could not be planned and why."
        );
        return s;
    }
    let _ = writeln!(
        s,
        "## 4. 文件 Files\n\n- `visits.csv`: every outlet task (internal: it shows the 暗访).\n- `calls.csv`: every customer call attempt with names and full phone numbers (interviewers only).\n- `calendars/<person>.ics`: one calendar per person (no customer data).\n- `applicant_notice.csv`: the announced reviews only, to send to the applicant; it reveals nothing about 暗访. Announce a review only after its outlet's 暗访: `visits.csv` gives the first day for each (`announce_from`); the whole notice may go out from {}.\n- `unplanned.csv`: what could not be planned and why.",
        last_mystery(plan)
            .values()
            .max()
            .map(|d| (*d + Duration::days(1)).to_string())
            .unwrap_or_else(|| "any day".into())
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_lines_fold_at_75_octets_between_characters() {
        let mut s = String::new();
        ics_line(&mut s, &format!("SUMMARY:{}", "暗访".repeat(30)));
        for l in s.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l}");
        }
        assert_eq!(
            s.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "暗访".repeat(30))
        );
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(
            utc(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), (9, 0)),
            "20261201T010000Z"
        );
    }
}
