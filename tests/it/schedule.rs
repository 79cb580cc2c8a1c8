//! The fieldwork plan: a checker that validates any plan, run on the planner's output for
//! many generated inputs; infeasible inputs; the checker catching broken plans; the command
//! on the example data (same bytes twice, a notice that reveals nothing of the 暗访,
//! calendars that an independent parser reads); the call loop.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use svcaudit::schedule::check::check;
use svcaudit::schedule::{
    Calendar, Customer, Input, Kind, Outlet, Person, Plan, Role, Rules, plan,
};
use svcaudit::seed::Seed;

use crate::common::{root, run_in};

/// A small deterministic generator (xorshift) for test inputs.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const CITIES: [&str; 6] = ["北京", "上海", "广州", "成都", "武汉", "西安"];

fn input(seed: u64, outlets: usize, people: usize, customers: usize, days: i64) -> Input {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15 ^ (seed + 1));
    let from = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() + Duration::days(g.below(30) as i64);
    let to = from + Duration::days(days - 1);
    let outlets: Vec<Outlet> = (0..outlets)
        .map(|i| {
            let mut kinds: BTreeSet<Kind> = BTreeSet::new();
            for k in Kind::ALL {
                if g.below(5) != 0 {
                    kinds.insert(k);
                }
            }
            if kinds.is_empty() {
                kinds.insert(Kind::Review);
            }
            Outlet {
                id: format!("O{i:03}"),
                name: format!("网点{i}"),
                city: CITIES[g.below(CITIES.len() as u64) as usize].to_string(),
                kinds,
            }
        })
        .collect();
    let people: Vec<Person> = (0..people)
        .map(|i| {
            let mut roles = BTreeSet::new();
            roles.insert([Role::Auditor, Role::Shopper, Role::Interviewer][i % 3]);
            if g.below(4) == 0 {
                roles
                    .insert([Role::Auditor, Role::Shopper, Role::Interviewer][g.below(3) as usize]);
            }
            let unavailable = (0..g.below(4))
                .map(|_| from + Duration::days(g.below(days as u64) as i64))
                .collect();
            let knows = (0..g.below(3))
                .map(|_| format!("O{:03}", g.below(outlets.len() as u64)))
                .collect();
            Person {
                id: format!("P{i:02}"),
                name: format!("人员{i}"),
                roles,
                city: CITIES[g.below(6) as usize].to_string(),
                per_day: 1 + g.below(3) as u32 + if i % 3 == 2 { 20 } else { 0 },
                unavailable,
                knows,
            }
        })
        .collect();
    let customers = (0..customers)
        .map(|i| Customer {
            outlet_id: format!("O{:03}", g.below(outlets.len() as u64)),
            unit_id: format!("C{i:05}"),
            call_order: 1 + (i % 7) as u64,
            name: format!("客户{i}"),
            phone: format!("139{i:08}"),
            done: 0,
        })
        .collect();
    let mut calendar = Calendar::default();
    for _ in 0..g.below(4) {
        calendar
            .holidays
            .insert(from + Duration::days(g.below(days as u64) as i64));
    }
    for _ in 0..g.below(2) {
        calendar
            .workdays
            .insert(from + Duration::days(g.below(days as u64) as i64));
    }
    let previous = (0..g.below(3))
        .map(|_| {
            (
                format!("O{:03}", g.below(outlets.len() as u64)),
                format!("P{:02}", g.below(people.len() as u64)),
            )
        })
        .collect();
    Input {
        outlets,
        customers,
        people,
        calendar,
        rules: Rules {
            from,
            to,
            min_gap: g.below(5) as i64,
            attempts: 1 + g.below(4) as u32,
        },
        previous,
    }
}

#[test]
fn plans_keep_every_rule_on_generated_inputs() {
    let mut planned = 0;
    let mut listed = 0;
    for s in 0..60u64 {
        let sizes = [
            (1, 3, 0, 7),
            (8, 6, 40, 20),
            (30, 12, 300, 45),
            (100, 20, 600, 60),
        ];
        let (o, p, c, d) = sizes[(s % 4) as usize];
        let inp = input(s, o, p, c, d);
        let seed = Seed::parse(&s.to_string()).unwrap();
        let a = plan(&inp, &seed);
        let broken = check(&inp, &a);
        assert!(broken.is_empty(), "seed {s}: {broken:#?}");
        // Deterministic: the same input and seed give the same plan.
        assert_eq!(a, plan(&inp, &seed), "seed {s}");
        planned += a.tasks.len();
        listed += a.unplanned.len();
        for u in &a.unplanned {
            assert!(!u.reason.is_empty());
        }
    }
    // The generator makes both feasible and infeasible outlets.
    assert!(planned > 1000 && listed > 0, "{planned} {listed}");
}

fn team(roles: &[(&str, &[Role], &[&str])]) -> Vec<Person> {
    roles
        .iter()
        .map(|(id, r, knows)| Person {
            id: id.to_string(),
            name: id.to_string(),
            roles: r.iter().copied().collect(),
            city: "北京".into(),
            per_day: 2,
            unavailable: BTreeSet::new(),
            knows: knows.iter().map(|s| s.to_string()).collect(),
        })
        .collect()
}

fn one_outlet(people: Vec<Person>, days: i64, gap: i64) -> Input {
    let from = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(); // a Monday
    Input {
        outlets: vec![Outlet {
            id: "O1".into(),
            name: "网点".into(),
            city: "北京".into(),
            kinds: Kind::ALL.into_iter().collect(),
        }],
        customers: vec![],
        people,
        calendar: Calendar::default(),
        rules: Rules {
            from,
            to: from + Duration::days(days - 1),
            min_gap: gap,
            attempts: 3,
        },
        previous: BTreeSet::new(),
    }
}

#[test]
fn infeasible_inputs_end_in_a_list_of_what_and_why() {
    let seed = Seed::parse("1").unwrap();
    let reason = |inp: &Input| {
        let p = plan(inp, &seed);
        assert!(check(inp, &p).is_empty());
        assert!(p.tasks.is_empty());
        assert_eq!(p.unplanned.len(), 1);
        p.unplanned[0].reason.clone()
    };
    let no_shopper = one_outlet(team(&[("A", &[Role::Auditor], &[])]), 14, 3);
    assert_eq!(
        reason(&no_shopper),
        "no one in the people file has the role shopper"
    );
    let all_know = one_outlet(
        team(&[
            ("A", &[Role::Auditor], &[]),
            ("S", &[Role::Shopper], &["O1"]),
        ]),
        14,
        3,
    );
    assert!(reason(&all_know).starts_with("every shopper knows this outlet"));
    let auditor_knows = one_outlet(
        team(&[
            ("A", &[Role::Auditor], &["O1"]),
            ("S", &[Role::Shopper], &[]),
        ]),
        14,
        3,
    );
    assert_eq!(
        reason(&auditor_knows),
        "every auditor knows this outlet personally"
    );
    // Two days cannot hold a mystery visit three days before the review.
    let short = one_outlet(
        team(&[("A", &[Role::Auditor], &[]), ("S", &[Role::Shopper], &[])]),
        2,
        3,
    );
    assert!(
        reason(&short).contains("at least 3 days before"),
        "{}",
        reason(&short)
    );
    // The only shopper is also the only auditor: the review needs someone else.
    let alone = one_outlet(team(&[("X", &[Role::Auditor, Role::Shopper], &[])]), 14, 3);
    assert!(reason(&alone).contains("by another person"));
    // Earlier plans of the cycle: the only shopper already made this outlet's visit.
    let mut again = one_outlet(
        team(&[("A", &[Role::Auditor], &[]), ("S", &[Role::Shopper], &[])]),
        14,
        3,
    );
    again.previous.insert(("O1".into(), "S".into()));
    assert!(reason(&again).contains("earlier in this cycle"));
}

#[test]
fn the_checker_catches_broken_plans() {
    let inp = one_outlet(
        team(&[
            ("A", &[Role::Auditor], &[]),
            ("S", &[Role::Shopper], &[]),
            ("T", &[Role::Shopper], &[]),
        ]),
        21,
        3,
    );
    let seed = Seed::parse("5").unwrap();
    let good = plan(&inp, &seed);
    assert!(check(&inp, &good).is_empty());
    assert_eq!(good.tasks.len(), 3);
    let broken = |f: &dyn Fn(&mut Plan)| {
        let mut p = good.clone();
        f(&mut p);
        check(&inp, &p)
    };
    let idx = |p: &Plan, k: Kind| p.tasks.iter().position(|t| t.kind == k).unwrap();
    let late = broken(&|p| {
        let r = idx(p, Kind::Review);
        let m = idx(p, Kind::Mystery);
        p.tasks[m].date = p.tasks[r].date;
    });
    assert!(
        late.iter().any(|e| e.contains("is not before the review")),
        "{late:?}"
    );
    let same = broken(&|p| {
        let m = idx(p, Kind::Mystery);
        p.tasks[m].person_id = "A".into();
    });
    assert!(
        same.iter().any(|e| e.contains("is not a shopper")),
        "{same:?}"
    );
    let weekend = broken(&|p| {
        let r = idx(p, Kind::Review);
        p.tasks[r].date = NaiveDate::from_ymd_opt(2026, 12, 12).unwrap(); // Saturday
    });
    assert!(
        weekend.iter().any(|e| e.contains("a review on a day off")),
        "{weekend:?}"
    );
    let dropped = broken(&|p| {
        p.tasks.retain(|t| t.kind != Kind::Call);
    });
    assert!(
        dropped
            .iter()
            .any(|e| e.contains("not listed as unplanned")),
        "{dropped:?}"
    );
    let crowded = broken(&|p| {
        let m = p.tasks[idx(p, Kind::Mystery)].clone();
        for slot in [
            svcaudit::schedule::Slot::Morning,
            svcaudit::schedule::Slot::Afternoon,
        ] {
            let mut t = m.clone();
            t.slot = slot;
            t.outlet_id = "O1".into();
            p.tasks.push(t);
        }
    });
    assert!(
        crowded.iter().any(|e| e.contains("more than 2 a day")),
        "{crowded:?}"
    );
}

pub fn schedule_example(out: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "schedule",
        "--outlets",
        "",
        "--customers",
        "",
        "--people",
        "data/example/people.csv",
        "--calendar",
        "data/example/calendar.csv",
        "--from",
        "2026-12-01",
        "--to",
        "2027-01-29",
        "--seed",
        "20261122",
        "--drawn-on",
        "2026-11-22",
        "--force",
        "--out",
    ];
    let o = out.join("o").to_str().unwrap().to_string();
    let c = out.join("c").to_str().unwrap().to_string();
    args[2] = &o;
    args[4] = &c;
    let dir = out
        .join(extra.first().copied().unwrap_or("plan"))
        .to_str()
        .unwrap()
        .to_string();
    args.push(&dir);
    args.extend(extra.iter().skip(1));
    let (code, _, err) = run_in(&root(), &args);
    (code, err)
}

pub fn draw_example(out: &std::path::Path) {
    for args in [
        vec![
            "sample",
            "outlets",
            "data/example/outlets.csv",
            "--seed",
            "20261122",
            "--strata",
            "省份",
            "--reserve",
            "2",
            "--out",
        ],
        vec![
            "sample",
            "customers",
            "data/example/customers.csv",
            "--outlets",
            "",
            "--seed",
            "20261122",
            "--reserve",
            "3",
            "--response-rate",
            "0.6",
            "--since",
            "2025-01-01",
            "--out",
        ],
    ] {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if a[1] == "customers" {
            a[4] = out.join("o").to_str().unwrap().to_string();
            a.push(out.join("c").to_str().unwrap().to_string());
        } else {
            a.push(out.join("o").to_str().unwrap().to_string());
        }
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let (code, _, err) = run_in(&root(), &a);
        assert_eq!(code, 0, "{err}");
    }
}

fn files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in walk(dir) {
        // The ledger records when each run happened; the lock file is empty.
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        if name == "ledger.jsonl" || name.starts_with('.') {
            continue;
        }
        m.insert(
            e.strip_prefix(dir).unwrap().to_string_lossy().to_string(),
            std::fs::read(&e).unwrap(),
        );
    }
    m
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn example_plan_is_reproducible_discreet_and_opens_as_calendars() {
    let t = tempfile::tempdir().unwrap();
    draw_example(t.path());
    let (code, err) = schedule_example(t.path(), &["p1"]);
    assert_eq!(code, 0, "{err}");
    let (code, err) = schedule_example(t.path(), &["p2"]);
    assert_eq!(code, 0, "{err}");
    let a = files(&t.path().join("p1"));
    let mut b = files(&t.path().join("p2"));
    // plan.md names its own output folder in the command line; everything else is identical.
    let strip = |m: &mut BTreeMap<String, Vec<u8>>, from: &str| {
        let dir = t.path().join(from);
        let s = String::from_utf8(m["plan.md"].clone())
            .unwrap()
            .replace(dir.to_str().unwrap(), "OUT");
        m.insert("plan.md".into(), s.into_bytes());
    };
    let mut a = a;
    strip(&mut a, "p1");
    strip(&mut b, "p2");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between two runs");
    }
    let text = |name: &str| String::from_utf8(a[name].clone()).unwrap();
    let visits = text("visits.csv");
    let notice = text("applicant_notice.csv");
    // The notice: the reviews only, nothing of the 暗访 (no kind, no shopper, no date that
    // is only a 暗访 date).
    let reviews: Vec<&str> = visits.lines().filter(|l| l.contains(",review,")).collect();
    assert_eq!(notice.lines().count(), reviews.len() + 1);
    assert!(!notice.contains("暗访") && !notice.contains("mystery"));
    let people = std::fs::read_to_string(root().join("data/example/people.csv")).unwrap();
    for l in people.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f[2].contains("shopper") && !f[2].contains("auditor") {
            assert!(!notice.contains(f[1]), "shopper {} in the notice", f[1]);
        }
    }
    let review_dates: BTreeSet<&str> = reviews.iter().map(|l| &l[..10]).collect();
    for l in visits.lines().filter(|l| l.contains(",mystery_")) {
        if !review_dates.contains(&l[..10]) {
            assert!(!notice.contains(&l[..10]), "a 暗访 date in the notice: {l}");
        }
    }
    // Every calendar parses with an independent RFC 5545 parser and holds that person's
    // visits (each on-site or mystery task is one event).
    let mut events = 0;
    for (name, bytes) in &a {
        if !name.ends_with(".ics") {
            continue;
        }
        let parser = ical::IcalParser::new(std::io::BufReader::new(&bytes[..]));
        let cals: Vec<_> = parser
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cals.len(), 1, "{name}");
        for ev in &cals[0].events {
            let prop = |n: &str| {
                ev.properties
                    .iter()
                    .find(|p| p.name == n)
                    .and_then(|p| p.value.clone())
            };
            assert!(prop("UID").is_some() && prop("DTSTAMP").is_some(), "{name}");
            let (s, e) = (prop("DTSTART").unwrap(), prop("DTEND").unwrap());
            assert!(s.ends_with('Z') && e > s, "{name}: {s} {e}");
            if !prop("SUMMARY").unwrap().contains("customer calls") {
                events += 1;
            }
        }
        // No customer data in calendars.
        assert!(!String::from_utf8_lossy(bytes).contains("139"), "{name}");
    }
    assert_eq!(events, visits.lines().count() - 1);
    // A second plan in the same cycle: no shopper returns for the same outlet's mystery visit.
    let prev = t.path().join("p1/visits.csv");
    let (code, err) = schedule_example(t.path(), &["p3", "--previous", prev.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pairs = |f: &str| -> BTreeSet<(String, String)> {
        std::fs::read_to_string(f)
            .unwrap()
            .lines()
            .filter(|l| l.contains(",mystery_visit,"))
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[6].to_string(), c[9].to_string())
            })
            .collect()
    };
    let first = pairs(prev.to_str().unwrap());
    let second = pairs(t.path().join("p3/visits.csv").to_str().unwrap());
    assert!(
        !second.is_empty() && first.is_disjoint(&second),
        "{first:?} {second:?}"
    );
    // verify on a plan folder: the ledger's chain and every file of the recorded plan.
    let p3 = t.path().join("p3");
    let (code, out, err) = run_in(&root(), &["verify", p3.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let v = std::fs::read_to_string(p3.join("visits.csv")).unwrap();
    std::fs::write(
        p3.join("visits.csv"),
        v.replacen(",morning,", ",afternoon,", 1),
    )
    .unwrap();
    let (code, _, err) = run_in(&root(), &["verify", p3.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("visits.csv: changed since the plan was made"),
        "{err}"
    );
}

#[test]
fn call_outcomes_replan_and_replace_in_reserve_order() {
    let t = tempfile::tempdir().unwrap();
    draw_example(t.path());
    let (code, err) = schedule_example(t.path(), &["p1"]);
    assert_eq!(code, 0, "{err}");
    let sheet = std::fs::read_to_string(t.path().join("c/call_sheet.csv")).unwrap();
    // The first outlet's first two selected customers: one refuses, one never answers.
    let rows: Vec<Vec<&str>> = sheet
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let outlet = rows[0][0];
    let selected: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[0] == outlet && r[2] == "selected")
        .collect();
    let reserves: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[0] == outlet && r[2] == "reserve")
        .collect();
    let (a, b) = (selected[0][3], selected[1][3]);
    let outcomes = format!(
        "unit_id,attempt,outcome\n{a},1,拒访\n{b},1,no_answer\n{b},2,busy\n{b},3,无人接听\n"
    );
    std::fs::write(t.path().join("out.csv"), &outcomes).unwrap();
    let f = t.path().join("out.csv");
    let (code, err) = schedule_example(t.path(), &["p2", "--outcomes", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let reps = std::fs::read_to_string(t.path().join("p2/replacements.csv")).unwrap();
    assert_eq!(
        reps,
        format!(
            "outlet_id,replaced_unit_id,reason,reserve_unit_id,reserve_call_order\n{outlet},{a},refused,{},{}\n{outlet},{b},no answer after 3 attempts,{},{}\n",
            reserves[0][3], reserves[0][1], reserves[1][3], reserves[1][1]
        )
    );
    let calls = std::fs::read_to_string(t.path().join("p2/calls.csv")).unwrap();
    assert!(!calls.contains(&format!(",{a},")) && !calls.contains(&format!(",{b},")));
    assert!(calls.contains(&format!(",{},1,", reserves[0][3])));
    // A customer who was never drawn, or an unknown outcome, names the line.
    std::fs::write(
        &f,
        format!("unit_id,outcome\n{a},completed\nX999,completed\n{b},maybe\n"),
    )
    .unwrap();
    let (code, err) = schedule_example(t.path(), &["p3", "--outcomes", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("out.csv:3:1: customer `X999` was never drawn"),
        "{err}"
    );
    assert!(
        err.contains("out.csv:4:2: unknown outcome `maybe`"),
        "{err}"
    );
}

#[test]
fn bad_team_and_calendar_rows_name_their_line_and_column() {
    let t = tempfile::tempdir().unwrap();
    draw_example(t.path());
    let people = "person_id,name,roles,city,per_day,unavailable,knows\nA1,甲,auditor,北京,2,,\nS1,乙,shoper,上海,2,,\nS2,丙,shopper,上海,two,,\nS3,丁,shopper,上海,2,2026-13-01,\nA1,戊,auditor,北京,2,,\n";
    std::fs::write(t.path().join("people.csv"), people).unwrap();
    std::fs::write(
        t.path().join("cal.csv"),
        "date,kind\n2027-01-01,holiday\n2027-01-02,party\n",
    )
    .unwrap();
    let o = t.path().join("o");
    let run = |people: &str, cal: &str| {
        run_in(
            t.path(),
            &[
                "schedule",
                "--outlets",
                o.to_str().unwrap(),
                "--people",
                people,
                "--calendar",
                cal,
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-31",
                "--seed",
                "1",
                "--out",
                "plan",
            ],
        )
    };
    let (code, _, err) = run("people.csv", "data-missing.csv");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("people.csv:3:3: column roles: unknown role `shoper`"),
        "{err}"
    );
    assert!(
        err.contains("people.csv:4:5: column per_day: `two` is not a number"),
        "{err}"
    );
    assert!(
        err.contains("people.csv:5:6: column unavailable: `2026-13-01` is not a date"),
        "{err}"
    );
    assert!(
        err.contains("people.csv:6:1: column person_id: person id `A1` again (first on line 2)"),
        "{err}"
    );
    // A missing column names what was looked for, and the hint fits a file without flags.
    std::fs::write(
        t.path().join("nocol.csv"),
        "person_id,name,city\nA1,甲,北京\n",
    )
    .unwrap();
    let (code, _, err) = run("nocol.csv", "cal.csv");
    assert_eq!(code, 1);
    assert!(
        err.contains("nocol.csv:1: no roles column (looked for roles, role, 角色)")
            && err.contains("hint: name the column roles in the file's first line"),
        "{err}"
    );
    let good = "person_id,name,roles,city,per_day\nA1,甲,auditor,北京,2\n";
    std::fs::write(t.path().join("people.csv"), good).unwrap();
    let (code, _, err) = run("people.csv", "cal.csv");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cal.csv:3:2: `party`: write holiday (休) or workday (班"),
        "{err}"
    );
    assert!(!t.path().join("plan").exists());
    // A team without shoppers is not an error: every outlet is listed as not planned, with why.
    std::fs::write(t.path().join("cal.csv"), "date,kind\n2027-01-01,holiday\n").unwrap();
    let (code, _, err) = run("people.csv", "cal.csv");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: 31 items could not be planned"),
        "{err}"
    );
    let unplanned = std::fs::read_to_string(t.path().join("plan/unplanned.csv")).unwrap();
    assert_eq!(unplanned.lines().count(), 32);
    assert!(unplanned.contains("no one in the people file has the role shopper"));
}
