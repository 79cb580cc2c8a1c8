//! prn-v1 against the golden vectors written by the independent Python reference
//! (docs/prn_reference.py). If this fails, a dependency or our code changed the lottery
//! numbers: that is a new algorithm version, never a fix to prn-v1.

use svcaudit::prn::{Domain, PrnGen};
use svcaudit::seed::Seed;

use crate::common::root;

fn domain(s: &str) -> Domain {
    match s {
        "outlet" => Domain::Outlet,
        "customer" => Domain::Customer,
        "systematic-start" => Domain::SystematicStart,
        "pps-start" => Domain::PpsStart,
        other => panic!("unknown domain {other}"),
    }
}

#[test]
fn rust_matches_the_reference_vectors() {
    let mut r = csv::Reader::from_path(root().join("tests/golden/prn_v1.csv")).unwrap();
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let (seed, dom, id, x_hex, u) = (&rec[0], &rec[1], &rec[2], &rec[3], &rec[4]);
        let x = u64::from_str_radix(x_hex, 16).unwrap();
        let p = PrnGen::new(&Seed::parse(seed).unwrap(), domain(dom)).prn(id);
        assert_eq!(p.m, x >> 12, "m for seed {seed} domain {dom} id {id}");
        assert_eq!(p.u(), u.parse::<f64>().unwrap(), "u for {seed}/{dom}/{id}");
        n += 1;
    }
    assert_eq!(n, 200);
}

#[test]
fn worked_example_of_the_algorithm_document() {
    // docs/ALGORITHM.md: seed 42, domain outlet, id WD0001.
    let s = Seed::parse("42").unwrap();
    assert_eq!(
        svcaudit::seed::hex(&svcaudit::prn::key(&s, Domain::Outlet)),
        "40ac821cba932f2b908488e95e435dabafda8fcc7e345d7a4d8eecd9ca8ee33c"
    );
    let p = PrnGen::new(&s, Domain::Outlet).prn("WD0001");
    assert_eq!(p.m, 0x36fcb69811ad9fe3u64 >> 12);
    assert_eq!(p.u(), 0.2147935982954351);
}

#[test]
fn trimming_keeps_unit_separator_characters() {
    // Rust's trim() strips Unicode White_Space only; U+001F is kept (docs/ALGORITHM.md).
    let s = Seed::parse("42").unwrap();
    let mut g = PrnGen::new(&s, Domain::Outlet);
    assert_ne!(g.prn("A1\u{1f}"), g.prn("A1"));
    assert_eq!(g.prn("\u{3000}A1 "), g.prn("A1"));
}
