//! Checks any plan against the rules, independently of how it was made: the tests run it on
//! the planner's output for many inputs, and `svcaudit schedule` runs it before writing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use super::{Input, Kind, Plan, Role, Slot};

/// Every rule the plan breaks, one line each; empty when the plan keeps them all.
pub fn check(inp: &Input, plan: &Plan) -> Vec<String> {
    let mut bad = Vec::new();
    let people: HashMap<&str, &super::Person> =
        inp.people.iter().map(|p| (p.id.as_str(), p)).collect();
    let outlets: HashMap<&str, &super::Outlet> =
        inp.outlets.iter().map(|o| (o.id.as_str(), o)).collect();
    let in_window = |d: NaiveDate| d >= inp.rules.from && d <= inp.rules.to;
    let mut load: BTreeMap<(&str, NaiveDate), u32> = BTreeMap::new();
    let mut by_outlet: BTreeMap<&str, Vec<&super::Task>> = BTreeMap::new();
    let mut person_slots: BTreeSet<(&str, NaiveDate, Slot)> = BTreeSet::new();
    for t in &plan.tasks {
        let what = format!(
            "{} {} on {} by {}",
            t.kind.as_str(),
            t.outlet_id,
            t.date,
            t.person_id
        );
        let Some(p) = people.get(t.person_id.as_str()) else {
            bad.push(format!("{what}: no such person"));
            continue;
        };
        let Some(o) = outlets.get(t.outlet_id.as_str()) else {
            bad.push(format!("{what}: not a sampled outlet"));
            continue;
        };
        if !o.kinds.contains(&t.kind) {
            bad.push(format!("{what}: the outlet does not get this kind"));
        }
        if !p.roles.contains(&t.kind.role()) {
            bad.push(format!(
                "{what}: the person is not a {}",
                t.kind.role().as_str()
            ));
        }
        if p.knows.contains(&t.outlet_id) {
            bad.push(format!("{what}: the person knows this outlet"));
        }
        if p.unavailable.contains(&t.date) {
            bad.push(format!("{what}: the person is unavailable that day"));
        }
        if !in_window(t.date) {
            bad.push(format!("{what}: outside the window"));
        }
        if t.kind == Kind::Review && !inp.calendar.is_working_day(t.date) {
            bad.push(format!("{what}: a review on a day off"));
        }
        if t.slot == Slot::Evening {
            bad.push(format!(
                "{what}: visits are in the morning or the afternoon"
            ));
        }
        if !person_slots.insert((t.person_id.as_str(), t.date, t.slot)) {
            bad.push(format!("{what}: the person has another task in that slot"));
        }
        *load.entry((t.person_id.as_str(), t.date)).or_default() += 1;
        by_outlet.entry(t.outlet_id.as_str()).or_default().push(t);
    }
    for a in &plan.attempts {
        let what = format!(
            "call {} attempt {} on {} by {}",
            a.unit_id, a.attempt, a.date, a.person_id
        );
        let Some(p) = people.get(a.person_id.as_str()) else {
            bad.push(format!("{what}: no such person"));
            continue;
        };
        if !p.roles.contains(&Role::Interviewer) {
            bad.push(format!("{what}: the person is not an interviewer"));
        }
        if p.unavailable.contains(&a.date) {
            bad.push(format!("{what}: the person is unavailable that day"));
        }
        if !in_window(a.date) || !inp.calendar.is_working_day(a.date) {
            bad.push(format!("{what}: not a working day of the window"));
        }
        if person_slots.contains(&(a.person_id.as_str(), a.date, a.slot)) {
            bad.push(format!(
                "{what}: the person has an outlet task at that time"
            ));
        }
        *load.entry((a.person_id.as_str(), a.date)).or_default() += 1;
    }
    for ((p, d), n) in &load {
        let cap = people.get(p).map_or(0, |p| p.per_day);
        if *n > cap {
            bad.push(format!("{p} on {d}: {n} tasks, more than {cap} a day"));
        }
    }
    // Each outlet: all its kinds once, or listed as unplanned; order, gap and people.
    let unplanned: BTreeSet<(&str, &str)> = plan
        .unplanned
        .iter()
        .map(|u| (u.item, u.id.as_str()))
        .collect();
    let mut shoppers_at: BTreeSet<(String, String)> = inp.previous.clone();
    for o in &inp.outlets {
        let tasks = by_outlet.get(o.id.as_str()).cloned().unwrap_or_default();
        let kinds: Vec<Kind> = tasks.iter().map(|t| t.kind).collect();
        let want: Vec<Kind> = o.kinds.iter().copied().collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        if sorted != want && !(tasks.is_empty() && unplanned.contains(&("outlet", o.id.as_str()))) {
            bad.push(format!(
                "outlet {}: planned {:?}, wanted {:?}, and not listed as unplanned",
                o.id, sorted, want
            ));
        }
        let get = |k: Kind| tasks.iter().find(|t| t.kind == k);
        if let Some(r) = get(Kind::Review) {
            for k in [Kind::Mystery, Kind::Call] {
                if let Some(m) = get(k) {
                    if m.date >= r.date {
                        bad.push(format!(
                            "outlet {}: {} on {} is not before the review on {}",
                            o.id,
                            k.as_str(),
                            m.date,
                            r.date
                        ));
                    }
                    if m.person_id == r.person_id {
                        bad.push(format!(
                            "outlet {}: {} by the reviewing auditor {}",
                            o.id,
                            k.as_str(),
                            r.person_id
                        ));
                    }
                }
            }
            if let Some(m) = get(Kind::Mystery)
                && (r.date - m.date).num_days() < inp.rules.min_gap
            {
                bad.push(format!(
                    "outlet {}: {} days between the mystery visit and the review, fewer than {}",
                    o.id,
                    (r.date - m.date).num_days(),
                    inp.rules.min_gap
                ));
            }
        }
        if let Some(m) = get(Kind::Mystery)
            && !shoppers_at.insert((o.id.clone(), m.person_id.clone()))
        {
            bad.push(format!(
                "outlet {}: {} makes its mystery visit twice in the cycle",
                o.id, m.person_id
            ));
        }
    }
    // Customers: every one called `attempts` times on different days, at different times of
    // day while times are left, or listed as unplanned.
    let mut calls: BTreeMap<&str, Vec<&super::Attempt>> = BTreeMap::new();
    for a in &plan.attempts {
        calls.entry(a.unit_id.as_str()).or_default().push(a);
    }
    for c in &inp.customers {
        let v = calls.get(c.unit_id.as_str()).cloned().unwrap_or_default();
        let n = inp.rules.attempts.saturating_sub(c.done) as usize;
        if n == 0 {
            if !v.is_empty() {
                bad.push(format!(
                    "customer {}: called again after {} attempts",
                    c.unit_id, c.done
                ));
            }
            continue;
        }
        if v.is_empty() {
            if !unplanned.contains(&("customer", c.unit_id.as_str())) {
                bad.push(format!(
                    "customer {}: no calls and not listed as unplanned",
                    c.unit_id
                ));
            }
            continue;
        }
        if v.len() != n {
            bad.push(format!(
                "customer {}: {} attempts, wanted {n}",
                c.unit_id,
                v.len()
            ));
        }
        let days: BTreeSet<NaiveDate> = v.iter().map(|a| a.date).collect();
        if days.len() != v.len() {
            bad.push(format!("customer {}: two attempts on one day", c.unit_id));
        }
        let slots: BTreeSet<Slot> = v.iter().map(|a| a.slot).collect();
        if slots.len() < v.len().min(Slot::CALL.len()) {
            bad.push(format!(
                "customer {}: attempts at the same time of day",
                c.unit_id
            ));
        }
        let mut order: Vec<&&super::Attempt> = v.iter().collect();
        order.sort_by_key(|a| a.attempt);
        if order.windows(2).any(|w| w[0].date >= w[1].date) {
            bad.push(format!("customer {}: attempts out of order", c.unit_id));
        }
        let numbers: Vec<u32> = order.iter().map(|a| a.attempt).collect();
        let want: Vec<u32> = (c.done + 1..=inp.rules.attempts).collect();
        if numbers != want {
            bad.push(format!(
                "customer {}: attempts numbered {numbers:?}, wanted {want:?}",
                c.unit_id
            ));
        }
    }
    bad
}
