//! Statistical tests: over many seeds, every unit's selection frequency matches the inclusion
//! probability the draw states. The seeds are fixed, so the tests are deterministic; the
//! bounds are wide enough (|z| < 4.5 per unit, chi-square below its 0.9999 quantile) that a
//! correct sampler passes, and tight enough that a biased one (e.g. by position or id) fails.

use std::collections::HashMap;
use std::path::Path;

use svcaudit::draw::{OutletParams, draw_outlets};
use svcaudit::io::frame::{Frame, outlet_list_id_names};
use svcaudit::io::read::read_table_bytes;
use svcaudit::io::table::ReadOptions;
use svcaudit::model::Role;
use svcaudit::sampling::Method;
use svcaudit::seed::Seed;
use svcaudit::sizing::Stage;

const SEEDS: u64 = 2000;

fn frame(csv: &str) -> Frame {
    let t = read_table_bytes(Path::new("t.csv"), csv.as_bytes(), &ReadOptions::default()).unwrap();
    Frame::new(t, None, &outlet_list_id_names()).unwrap()
}

/// Runs the draw over SEEDS seeds; returns per id (times sampled, stated π).
fn frequencies(f: &Frame, p: &OutletParams) -> HashMap<String, (u64, f64)> {
    let mut out: HashMap<String, (u64, f64)> = HashMap::new();
    for s in 0..SEEDS {
        let seed = Seed::parse(&format!("stat-{s}")).unwrap();
        let d = draw_outlets(f, &seed, p).unwrap();
        for r in &d.rows {
            let e = out.entry(f.id(r.row).to_string()).or_insert((0, r.pi));
            // The stated π of a unit must not depend on the seed.
            assert!((e.1 - r.pi).abs() < 1e-12, "π of {} varies", f.id(r.row));
            if r.role != Role::Reserve {
                e.0 += 1;
            }
        }
    }
    out
}

/// Checks every unit: |z| < 4.5 and the chi-square statistic over units.
fn check(f: &Frame, freq: &HashMap<String, (u64, f64)>) {
    let n = SEEDS as f64;
    let mut chi2 = 0.0;
    let mut df = 0;
    for i in 0..f.len() {
        let id = f.id(i);
        let &(k, pi) = freq
            .get(id)
            .unwrap_or_else(|| panic!("unit {id} never appeared; use reserves to state its π"));
        if pi >= 1.0 {
            assert_eq!(k, SEEDS, "certainty unit {id} not always taken");
            continue;
        }
        let expect = n * pi;
        let sd = (n * pi * (1.0 - pi)).sqrt();
        let z = (k as f64 - expect) / sd;
        assert!(
            z.abs() < 4.5,
            "unit {id}: sampled {k} times, expected {expect:.1} (π = {pi}), z = {z:.2}"
        );
        chi2 += (k as f64 - expect).powi(2) / (n * pi * (1.0 - pi));
        df += 1;
    }
    // Upper 0.9999 quantile of chi-square(df) by Wilson–Hilferty.
    let d = df as f64;
    let q = d * (1.0 - 2.0 / (9.0 * d) + 3.719 * (2.0 / (9.0 * d)).sqrt()).powi(3);
    assert!(
        chi2 < q,
        "chi-square {chi2:.1} over {df} units exceeds {q:.1}"
    );
}

fn ids(n: usize) -> String {
    let mut s = String::from("id,region,size,city\n");
    for i in 0..n {
        let region = if i % 3 == 0 { "north" } else { "south" };
        let size = 1 + (i * 37) % 23;
        s.push_str(&format!("U{i:03},{region},{size},C{}\n", i % 5));
    }
    s
}

#[test]
fn srs_frequencies_match_n_over_n() {
    let f = frame(&ids(30));
    let mut p = OutletParams::new(Method::Srs, Stage::Initial);
    p.n = Some(8);
    p.reason = Some("test".into());
    p.reserve = 30;
    let freq = frequencies(&f, &p);
    assert!(
        freq.values()
            .all(|&(_, pi)| (pi - 8.0 / 30.0).abs() < 1e-15)
    );
    check(&f, &freq);
}

#[test]
fn stratified_frequencies_match_their_stratum_fractions() {
    let f = frame(&ids(30));
    let mut p = OutletParams::new(Method::Srs, Stage::Initial);
    p.strata = vec!["region".into()];
    p.n = Some(9);
    p.reason = Some("test".into());
    p.reserve = 30;
    let freq = frequencies(&f, &p);
    // north: 10 units, south: 20 → proportional 3 and 6.
    assert!((freq["U000"].1 - 0.3).abs() < 1e-15);
    assert!((freq["U001"].1 - 0.3).abs() < 1e-15);
    check(&f, &freq);
}

#[test]
fn pps_frequencies_match_size_proportional_probabilities() {
    let mut csv = ids(25);
    csv.push_str("BIG,south,400,C1\n");
    let f = frame(&csv);
    let mut p = OutletParams::new(Method::Pps, Stage::Initial);
    p.size_col = Some("size".into());
    p.n = Some(7);
    p.reason = Some("test".into());
    p.reserve = 30;
    let freq = frequencies(&f, &p);
    assert_eq!(freq["BIG"].1, 1.0, "the large unit is a certainty unit");
    let total: f64 = freq.values().map(|v| v.1).sum();
    assert!((total - 7.0).abs() < 1e-9, "Σπ = {total}");
    check(&f, &freq);
}

#[test]
fn systematic_frequencies_match_n_over_n() {
    let f = frame(&ids(23));
    let mut p = OutletParams::new(Method::Systematic, Stage::Initial);
    p.sort_col = Some("city".into());
    p.n = Some(6);
    p.reason = Some("test".into());
    p.reserve = 30;
    let freq = frequencies(&f, &p);
    check(&f, &freq);
}
