//! The fieldwork plan (实地工作计划): who visits which sampled outlet on which day and at
//! what time (the announced on-site review 现场审核, the unannounced mystery visit 暗访 and
//! the mystery call to the outlet's service line 电话暗访), and who calls which sampled
//! customer when (顾客访问).
//!
//! [`plan`] is pure and deterministic: the same input gives the same plan, whatever the
//! machine. It is a greedy planner: outlets in the order of their lottery numbers (prn-v1,
//! domain `schedule`), each outlet's tasks chosen together so that the hard rules hold, and
//! among the choices that keep them the cheapest by [`cost`] (one city per person-day, even
//! load, visits spread over days off and working days and over times of day), ties broken by
//! lottery numbers. What cannot be placed is listed with the reason, never dropped.
//!
//! Hard rules (DOMAIN.md, "Fieldwork rules"; [`check::check`] verifies every one on any plan):
//! - a person works only in a role they have, on days they are available, within their
//!   tasks per day, never at an outlet they know personally;
//! - reviews and customer calls fall on working days (the calendar: weekends and holidays
//!   off, make-up days 调休 on); mystery visits and calls may fall on any day;
//! - the 暗访 (visit and call) of an outlet happen before its review, the mystery visit at
//!   least `min_gap` days before it, and neither by the outlet's reviewing auditor;
//! - no shopper makes the mystery visit of the same outlet twice in a cycle (earlier plans
//!   of the cycle are passed in);
//! - every customer gets `attempts` call attempts on different working days, at different
//!   times of day while there are times left.

pub mod calendar;
pub mod check;
pub mod outcomes;
pub mod render;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;

use crate::prn::{Domain, PrnGen};
use crate::seed::Seed;
pub use calendar::Calendar;

/// What is done at an outlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The unannounced visit by a shopper posing as a customer (暗访).
    Mystery,
    /// The unannounced call to the outlet's service line by a shopper (电话暗访).
    Call,
    /// The announced on-site review by an auditor (现场审核).
    Review,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Mystery, Kind::Call, Kind::Review];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mystery => "mystery_visit",
            Kind::Call => "mystery_call",
            Kind::Review => "review",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Kind::Mystery => "暗访",
            Kind::Call => "电话暗访",
            Kind::Review => "现场审核",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_lowercase().as_str() {
            "mystery" | "mystery_visit" | "暗访" => Some(Kind::Mystery),
            "call" | "mystery_call" | "电话暗访" => Some(Kind::Call),
            "review" | "现场审核" | "audit" => Some(Kind::Review),
            _ => None,
        }
    }

    /// The role that does it.
    pub fn role(self) -> Role {
        match self {
            Kind::Mystery | Kind::Call => Role::Shopper,
            Kind::Review => Role::Auditor,
        }
    }

    /// Whether someone goes to the outlet (and so to its city).
    pub fn on_site(self) -> bool {
        matches!(self, Kind::Mystery | Kind::Review)
    }
}

/// What a person can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Auditor,
    Shopper,
    Interviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Auditor => "auditor",
            Role::Shopper => "shopper",
            Role::Interviewer => "interviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_lowercase().as_str() {
            "auditor" | "审核员" | "审核" => Some(Role::Auditor),
            "shopper" | "mystery shopper" | "暗访员" | "暗访" => Some(Role::Shopper),
            "interviewer" | "访问员" | "访员" | "调查员" => Some(Role::Interviewer),
            _ => None,
        }
    }
}

/// A time of day. Visits take the morning or the afternoon; customer calls also the evening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
    Morning,
    Afternoon,
    Evening,
}

impl Slot {
    pub const VISIT: [Slot; 2] = [Slot::Morning, Slot::Afternoon];
    pub const CALL: [Slot; 3] = [Slot::Morning, Slot::Afternoon, Slot::Evening];

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Morning => "morning",
            Slot::Afternoon => "afternoon",
            Slot::Evening => "evening",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Slot::Morning => "上午",
            Slot::Afternoon => "下午",
            Slot::Evening => "晚上",
        }
    }

    /// Start and end, local time (hours, minutes). Evening calls end by 20:30.
    pub fn hours(self) -> ((u32, u32), (u32, u32)) {
        match self {
            Slot::Morning => ((9, 0), (12, 0)),
            Slot::Afternoon => ((14, 0), (17, 30)),
            Slot::Evening => ((18, 30), (20, 30)),
        }
    }

    pub fn window(self) -> String {
        let ((a, b), (c, d)) = self.hours();
        format!("{a:02}:{b:02}-{c:02}:{d:02}")
    }
}

/// A member of the field team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    pub city: String,
    /// Tasks (visits, mystery calls, customer call attempts) per day.
    pub per_day: u32,
    pub unavailable: BTreeSet<NaiveDate>,
    /// Outlets where the person knows staff: they never go there.
    pub knows: BTreeSet<String>,
}

/// A sampled outlet and what it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlet {
    pub id: String,
    pub name: String,
    pub city: String,
    pub kinds: BTreeSet<Kind>,
}

/// A sampled customer to interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub outlet_id: String,
    pub unit_id: String,
    pub call_order: u64,
    pub name: String,
    pub phone: String,
    /// Attempts already made (from recorded call outcomes); the plan adds the rest.
    pub done: u32,
}

/// The limits of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days between an outlet's mystery visit and its review, at least.
    pub min_gap: i64,
    /// Call attempts per customer.
    pub attempts: u32,
}

/// Everything the planner needs.
#[derive(Debug, Clone)]
pub struct Input {
    pub outlets: Vec<Outlet>,
    pub customers: Vec<Customer>,
    pub people: Vec<Person>,
    pub calendar: Calendar,
    pub rules: Rules,
    /// (outlet id, person id) of mystery visits already made in this cycle.
    pub previous: BTreeSet<(String, String)>,
}

/// One planned outlet task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub outlet_id: String,
    pub kind: Kind,
    pub date: NaiveDate,
    pub slot: Slot,
    pub person_id: String,
}

/// One planned call attempt to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub outlet_id: String,
    pub unit_id: String,
    pub call_order: u64,
    pub attempt: u32,
    pub date: NaiveDate,
    pub slot: Slot,
    pub person_id: String,
}

/// Something the planner could not place, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplanned {
    /// `outlet`, or `customer`.
    pub item: &'static str,
    pub id: String,
    /// The tasks that are missing (kinds, or `calls`).
    pub what: String,
    pub reason: String,
}

/// The plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Ordered by date, slot, person, outlet, kind.
    pub tasks: Vec<Task>,
    /// Ordered by date, slot, person, outlet, call order, attempt.
    pub attempts: Vec<Attempt>,
    pub unplanned: Vec<Unplanned>,
}

/// Bookings so far: what each person does on each day.
struct Book<'a> {
    inp: &'a Input,
    /// (person, date) → tasks booked.
    load: HashMap<(usize, NaiveDate), u32>,
    /// (person, date) → cities of the on-site tasks booked.
    cities: HashMap<(usize, NaiveDate), BTreeSet<String>>,
    /// Tasks per person in all.
    total: Vec<u32>,
    /// Mystery visits on days off / on working days, and per slot, so far.
    mystery_day_off: u32,
    mystery_working: u32,
    slot_use: HashMap<Slot, u32>,
    /// (outlet, shopper) mystery visits in this cycle, earlier plans included.
    visited: HashSet<(String, String)>,
    /// (person, date, slot) taken by an outlet task: nothing else fits in it.
    busy: HashSet<(usize, NaiveDate, Slot)>,
    /// (person, date, slot) with customer calls: no outlet task fits in it.
    calling: HashSet<(usize, NaiveDate, Slot)>,
    prn: PrnGen,
}

impl Book<'_> {
    fn free(&self, p: usize, d: NaiveDate) -> bool {
        let person = &self.inp.people[p];
        !person.unavailable.contains(&d)
            && self.load.get(&(p, d)).copied().unwrap_or(0) < person.per_day
    }

    fn book(&mut self, p: usize, d: NaiveDate, city: Option<&str>) {
        *self.load.entry((p, d)).or_default() += 1;
        self.total[p] += 1;
        if let Some(c) = city {
            self.cities.entry((p, d)).or_default().insert(c.to_string());
        }
    }

    fn booked(&self, p: usize, d: NaiveDate) -> u32 {
        self.load.get(&(p, d)).copied().unwrap_or(0)
    }

    /// The cost of giving person `p` an on-site task in `city` on `d`, or a remote one.
    fn cost(&self, p: usize, d: NaiveDate, city: Option<&str>) -> i64 {
        let mut c = 10 * self.total[p] as i64 + 3 * self.booked(p, d) as i64;
        if let Some(city) = city {
            // Travel: away from home costs a little; a second city the same day a lot.
            if self.inp.people[p].city != city {
                c += 20;
            }
            match self.cities.get(&(p, d)) {
                Some(set) if !set.contains(city) => c += 10_000,
                Some(_) => c -= 5,
                None => {}
            }
        }
        c
    }

    fn tie(&mut self, key: &str) -> u64 {
        self.prn.prn(key).m
    }
}

/// Candidate (cost, tie, person, date, slot).
type Cand = (i64, u64, usize, NaiveDate, Slot);

/// Plans the fieldwork. See the module documentation for the rules and the method.
pub fn plan(inp: &Input, seed: &Seed) -> Plan {
    let days: Vec<NaiveDate> = inp
        .rules
        .from
        .iter_days()
        .take_while(|d| *d <= inp.rules.to)
        .collect();
    let mut b = Book {
        inp,
        load: HashMap::new(),
        cities: HashMap::new(),
        total: vec![0; inp.people.len()],
        mystery_day_off: 0,
        mystery_working: 0,
        slot_use: HashMap::new(),
        visited: inp.previous.iter().cloned().collect(),
        busy: HashSet::new(),
        calling: HashSet::new(),
        prn: PrnGen::new(seed, Domain::Schedule),
    };
    let mut out = Plan::default();
    let mut order: Vec<(u64, usize)> = inp
        .outlets
        .iter()
        .enumerate()
        .map(|(i, o)| (b.tie(&format!("outlet|{}", o.id)), i))
        .collect();
    order.sort();
    for &(_, i) in &order {
        plan_outlet(&mut b, &days, &inp.outlets[i], &mut out);
    }
    plan_calls(&mut b, &days, &mut out);
    out.tasks.sort_by(|a, c| {
        (a.date, a.slot, &a.person_id, &a.outlet_id, a.kind).cmp(&(
            c.date,
            c.slot,
            &c.person_id,
            &c.outlet_id,
            c.kind,
        ))
    });
    out.attempts.sort_by(|a, c| {
        (
            a.date,
            a.slot,
            &a.person_id,
            &a.outlet_id,
            a.call_order,
            a.attempt,
        )
            .cmp(&(
                c.date,
                c.slot,
                &c.person_id,
                &c.outlet_id,
                c.call_order,
                c.attempt,
            ))
    });
    out
}

/// The people who may do `kind` at outlet `o` (role, not knowing it; for a mystery visit,
/// not there before in the cycle).
fn eligible(b: &Book, o: &Outlet, kind: Kind) -> Vec<usize> {
    b.inp
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.roles.contains(&kind.role()) && !p.knows.contains(&o.id))
        .filter(|(_, p)| {
            kind != Kind::Mystery || !b.visited.contains(&(o.id.clone(), p.id.clone()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Every free (person, day, slot) for `kind` at `o` on `days` accepted by `day_ok`, cheapest
/// first.
fn candidates(
    b: &mut Book,
    o: &Outlet,
    kind: Kind,
    people: &[usize],
    days: &[NaiveDate],
    day_ok: &dyn Fn(NaiveDate) -> bool,
) -> Vec<Cand> {
    let city = kind.on_site().then_some(o.city.as_str());
    let mut v = Vec::new();
    for &d in days {
        if !day_ok(d) || (kind == Kind::Review && !b.inp.calendar.is_working_day(d)) {
            continue;
        }
        for &p in people {
            if !b.free(p, d) {
                continue;
            }
            for slot in Slot::VISIT {
                if b.busy.contains(&(p, d, slot)) || b.calling.contains(&(p, d, slot)) {
                    continue;
                }
                let mut c = b.cost(p, d, city);
                if kind == Kind::Mystery {
                    // Spread mystery visits over days off and working days, and over times.
                    let off = b.inp.calendar.is_day_off(d);
                    let (same, other) = if off {
                        (b.mystery_day_off, b.mystery_working)
                    } else {
                        (b.mystery_working, b.mystery_day_off)
                    };
                    // Days off are about 2 in 7: aim for that share.
                    let share = if off { 2 } else { 5 };
                    c += 4 * (7 * same as i64 - share * (same + other) as i64).max(0) / 7;
                    c += 2 * b.slot_use.get(&slot).copied().unwrap_or(0) as i64;
                }
                let key = format!(
                    "{}|{}|{}|{}|{}",
                    kind.as_str(),
                    o.id,
                    b.inp.people[p].id,
                    d,
                    slot.as_str()
                );
                let t = b.tie(&key);
                v.push((c, t, p, d, slot));
            }
        }
    }
    v.sort();
    v
}

fn plan_outlet(b: &mut Book, days: &[NaiveDate], o: &Outlet, out: &mut Plan) {
    let want_m = o.kinds.contains(&Kind::Mystery);
    let want_c = o.kinds.contains(&Kind::Call);
    let want_r = o.kinds.contains(&Kind::Review);
    let shoppers_m = eligible(b, o, Kind::Mystery);
    let shoppers_c = eligible(b, o, Kind::Call);
    let auditors = eligible(b, o, Kind::Review);
    let gap = b.inp.rules.min_gap;
    // Reviews: every free auditor-day; mystery visits: every free shopper-day.
    let all_r = if want_r {
        candidates(b, o, Kind::Review, &auditors, days, &|_| true)
    } else {
        Vec::new()
    };
    let all_m = if want_m {
        candidates(b, o, Kind::Mystery, &shoppers_m, days, &|_| true)
    } else {
        Vec::new()
    };
    let all_c = if want_c {
        candidates(b, o, Kind::Call, &shoppers_c, days, &|_| true)
    } else {
        Vec::new()
    };
    // The cheapest consistent choice: for each mystery visit in cost order, the cheapest
    // review after it, then the cheapest call before the review by someone else.
    let pick = |m: Option<&Cand>| -> Option<(Option<Cand>, Option<Cand>, Option<Cand>)> {
        let r = if want_r {
            Some(*all_r.iter().find(|r| match m {
                Some(m) => r.3 >= m.3 + chrono::Duration::days(gap.max(1)) && r.2 != m.2,
                None => true,
            })?)
        } else {
            None
        };
        let c = if want_c {
            Some(*all_c.iter().find(|c| {
                let before_review = r.is_none_or(|r| c.3 < r.3 && c.2 != r.2);
                // The shopper of the visit may also call, on another day or within their
                // tasks per day, never in the same slot.
                let with_visit = m.is_none_or(|m| {
                    m.2 != c.2
                        || m.3 != c.3
                        || (m.4 != c.4 && b.booked(c.2, c.3) + 2 <= b.inp.people[c.2].per_day)
                });
                before_review && with_visit
            })?)
        } else {
            None
        };
        Some((m.copied(), r, c))
    };
    let chosen = if want_m {
        all_m.iter().find_map(|m| pick(Some(m)))
    } else {
        pick(None)
    };
    let Some((m, r, c)) = chosen else {
        let kinds: Vec<&str> = o.kinds.iter().map(|k| k.as_str()).collect();
        out.unplanned.push(Unplanned {
            item: "outlet",
            id: o.id.clone(),
            what: kinds.join(" "),
            reason: why_not(
                b,
                o,
                &shoppers_m,
                &shoppers_c,
                &auditors,
                &all_m,
                &all_c,
                &all_r,
            ),
        });
        return;
    };
    for (cand, kind) in [(m, Kind::Mystery), (c, Kind::Call), (r, Kind::Review)] {
        let Some((_, _, p, d, slot)) = cand else {
            continue;
        };
        b.book(p, d, kind.on_site().then_some(o.city.as_str()));
        b.busy.insert((p, d, slot));
        if kind == Kind::Mystery {
            if b.inp.calendar.is_day_off(d) {
                b.mystery_day_off += 1;
            } else {
                b.mystery_working += 1;
            }
            *b.slot_use.entry(slot).or_default() += 1;
            b.visited.insert((o.id.clone(), b.inp.people[p].id.clone()));
        }
        out.tasks.push(Task {
            outlet_id: o.id.clone(),
            kind,
            date: d,
            slot,
            person_id: b.inp.people[p].id.clone(),
        });
    }
}

/// Why an outlet's tasks could not be placed, as specifically as the inputs allow.
#[allow(clippy::too_many_arguments)]
fn why_not(
    b: &Book,
    o: &Outlet,
    shoppers_m: &[usize],
    shoppers_c: &[usize],
    auditors: &[usize],
    all_m: &[Cand],
    all_c: &[Cand],
    all_r: &[Cand],
) -> String {
    let has = |k: Kind| o.kinds.contains(&k);
    let role_count = |r: Role| b.inp.people.iter().filter(|p| p.roles.contains(&r)).count();
    if has(Kind::Review) && auditors.is_empty() {
        return if role_count(Role::Auditor) == 0 {
            "no one in the people file has the role auditor".into()
        } else {
            "every auditor knows this outlet personally".into()
        };
    }
    if has(Kind::Mystery) && shoppers_m.is_empty() {
        return if role_count(Role::Shopper) == 0 {
            "no one in the people file has the role shopper".into()
        } else {
            "every shopper knows this outlet or has made its mystery visit earlier in this cycle"
                .into()
        };
    }
    if has(Kind::Call) && shoppers_c.is_empty() {
        return "every shopper knows this outlet".into();
    }
    if has(Kind::Review) && all_r.is_empty() {
        return "no auditor who may review it is free on a working day of the window".into();
    }
    if has(Kind::Mystery) && all_m.is_empty() {
        return "no shopper who may visit it is free on a day of the window".into();
    }
    if has(Kind::Call) && all_c.is_empty() {
        return "no shopper who may call it is free on a day of the window".into();
    }
    format!(
        "no free mystery visit at least {} days before a free review by another person (and a mystery call before that review) fits in the window",
        b.inp.rules.min_gap
    )
}

/// Customer call attempts: each selected customer to the least-loaded interviewer who can
/// take all attempts on different working days, at rotating times of day.
fn plan_calls(b: &mut Book, days: &[NaiveDate], out: &mut Plan) {
    let working: Vec<NaiveDate> = days
        .iter()
        .copied()
        .filter(|d| b.inp.calendar.is_working_day(*d))
        .collect();
    let interviewers: Vec<usize> = b
        .inp
        .people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.roles.contains(&Role::Interviewer))
        .map(|(i, _)| i)
        .collect();
    let mut customers: Vec<&Customer> = b.inp.customers.iter().collect();
    customers.sort_by(|x, y| (&x.outlet_id, x.call_order).cmp(&(&y.outlet_id, y.call_order)));
    for cu in customers {
        let n = b.inp.rules.attempts.saturating_sub(cu.done) as usize;
        if n == 0 {
            continue;
        }
        let mut ranked: Vec<(u32, u64, usize)> = interviewers
            .iter()
            .map(|&p| {
                let key = format!("call|{}|{}", cu.unit_id, b.inp.people[p].id);
                (b.total[p], b.tie(&key), p)
            })
            .collect();
        ranked.sort();
        let mut placed = false;
        // Times of day rotate from a point that differs between customers; attempt numbers
        // continue after those already made, and so do the times.
        let first = (cu.call_order as usize + cu.unit_id.len()) % Slot::CALL.len();
        let slot_of = |k: usize| Slot::CALL[(first + k + cu.done as usize) % Slot::CALL.len()];
        for &(_, _, p) in &ranked {
            // Each attempt on a later working day than the one before, the person free that
            // day and without an outlet task at that time.
            let mut chosen: Vec<NaiveDate> = Vec::new();
            for d in working.iter().copied() {
                if chosen.len() == n {
                    break;
                }
                if b.free(p, d) && !b.busy.contains(&(p, d, slot_of(chosen.len()))) {
                    chosen.push(d);
                }
            }
            if chosen.len() < n {
                continue;
            }
            for (k, d) in chosen.into_iter().enumerate() {
                let slot = slot_of(k);
                let k = k + cu.done as usize;
                b.book(p, d, None);
                b.calling.insert((p, d, slot));
                out.attempts.push(Attempt {
                    outlet_id: cu.outlet_id.clone(),
                    unit_id: cu.unit_id.clone(),
                    call_order: cu.call_order,
                    attempt: k as u32 + 1,
                    date: d,
                    slot,
                    person_id: b.inp.people[p].id.clone(),
                });
            }
            placed = true;
            break;
        }
        if !placed {
            out.unplanned.push(Unplanned {
                item: "customer",
                id: cu.unit_id.clone(),
                what: "calls".into(),
                reason: if interviewers.is_empty() {
                    "no one in the people file has the role interviewer".into()
                } else {
                    format!("no interviewer has {n} free working days left in the window")
                },
            });
        }
    }
}

/// Plan quality, for the summary: distinct cities per person-day with on-site tasks, and
/// the spread of the load over people.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    pub person_days: usize,
    pub multi_city_days: usize,
    /// On-site tasks outside the person's home city, of all on-site tasks.
    pub away: usize,
    pub on_site: usize,
    pub mean_cities: f64,
    pub max_cities: usize,
    /// Per role: tasks of that role per person who has it (least, most, mean).
    pub load: BTreeMap<Role, (u32, u32, f64)>,
    pub mystery_day_off: usize,
    pub mystery_working: usize,
    pub by_slot: BTreeMap<Slot, usize>,
}

pub fn quality(inp: &Input, plan: &Plan) -> Quality {
    let city: HashMap<&str, &str> = inp
        .outlets
        .iter()
        .map(|o| (o.id.as_str(), o.city.as_str()))
        .collect();
    let mut days: BTreeMap<(&str, NaiveDate), BTreeSet<&str>> = BTreeMap::new();
    let home: HashMap<&str, &str> = inp
        .people
        .iter()
        .map(|p| (p.id.as_str(), p.city.as_str()))
        .collect();
    let mut load: BTreeMap<(Role, &str), u32> = BTreeMap::new();
    for p in &inp.people {
        for r in &p.roles {
            load.insert((*r, p.id.as_str()), 0);
        }
    }
    let mut q = Quality {
        person_days: 0,
        multi_city_days: 0,
        away: 0,
        on_site: 0,
        mean_cities: 0.0,
        max_cities: 0,
        load: BTreeMap::new(),
        mystery_day_off: 0,
        mystery_working: 0,
        by_slot: BTreeMap::new(),
    };
    for t in &plan.tasks {
        *load
            .entry((t.kind.role(), t.person_id.as_str()))
            .or_default() += 1;
        if t.kind.on_site() {
            let c = city.get(t.outlet_id.as_str()).copied().unwrap_or("");
            days.entry((t.person_id.as_str(), t.date))
                .or_default()
                .insert(c);
            q.on_site += 1;
            if home.get(t.person_id.as_str()).is_some_and(|h| *h != c) {
                q.away += 1;
            }
        }
        if t.kind == Kind::Mystery {
            if inp.calendar.is_day_off(t.date) {
                q.mystery_day_off += 1;
            } else {
                q.mystery_working += 1;
            }
            *q.by_slot.entry(t.slot).or_default() += 1;
        }
    }
    for a in &plan.attempts {
        *load
            .entry((Role::Interviewer, a.person_id.as_str()))
            .or_default() += 1;
    }
    q.person_days = days.len();
    q.multi_city_days = days.values().filter(|s| s.len() > 1).count();
    q.max_cities = days.values().map(BTreeSet::len).max().unwrap_or(0);
    q.mean_cities = if days.is_empty() {
        0.0
    } else {
        days.values().map(BTreeSet::len).sum::<usize>() as f64 / days.len() as f64
    };
    for role in [Role::Auditor, Role::Shopper, Role::Interviewer] {
        let v: Vec<u32> = load
            .iter()
            .filter(|((r, _), _)| *r == role)
            .map(|(_, n)| *n)
            .collect();
        if let (Some(lo), Some(hi)) = (v.iter().min(), v.iter().max()) {
            let mean = v.iter().sum::<u32>() as f64 / v.len() as f64;
            q.load.insert(role, (*lo, *hi, mean));
        }
    }
    q
}
