//! The scoring estimates against R's `survey` package (golden values computed once by
//! `tests/golden/survey/make_golden.R` on `data.csv`; these tests do not need R).
//!
//! Covered: item means over the whole base (svymean, na.rm) and per stratum (svyby), a
//! linear combination of item ratios (svyratio + svycontrast), a stratum with a single
//! outlet (lonely PSU "adjust"), a certainty stratum (f = 1), and the per-outlet standard
//! error of interviews as a simple random sample of the outlet's customers.

use std::collections::{BTreeMap, HashMap};

use svcaudit::scoring::estimate::{self, Clusters, Estimand};

use crate::common::root;

struct Data {
    outlet: Vec<String>,
    stratum: Vec<String>,
    f: Vec<f64>,
    w: Vec<f64>,
    m: Vec<u64>,
    source: Vec<String>,
    y: Vec<[Option<f64>; 3]>,
}

fn data() -> Data {
    let text = std::fs::read_to_string(root().join("tests/golden/survey/data.csv")).unwrap();
    let mut d = Data {
        outlet: vec![],
        stratum: vec![],
        f: vec![],
        w: vec![],
        m: vec![],
        source: vec![],
        y: vec![],
    };
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        d.outlet.push(c[1].into());
        d.stratum.push(c[2].into());
        d.f.push(c[3].parse().unwrap());
        d.w.push(c[4].parse().unwrap());
        d.m.push(c[5].parse().unwrap());
        d.source.push(c[6].into());
        let y = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
        d.y.push([y(c[7]), y(c[8]), y(c[9])]);
    }
    d
}

fn golden() -> BTreeMap<(String, String), (f64, f64)> {
    let text = std::fs::read_to_string(root().join("tests/golden/survey/golden.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                (c[0].trim().to_string(), c[1].trim().to_string()),
                (c[2].trim().parse().unwrap(), c[3].trim().parse().unwrap()),
            )
        })
        .collect()
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6,
        "{what}: svcaudit {got}, R survey {want}"
    );
}

#[test]
fn estimates_and_standard_errors_match_r_survey() {
    let d = data();
    let g = golden();
    // PSUs = outlets (sorted), strata in name order, domains 0 = all, 1.. = strata.
    let mut outlets: Vec<String> = d.outlet.clone();
    outlets.sort();
    outlets.dedup();
    let psu_of: HashMap<&str, u32> = outlets
        .iter()
        .enumerate()
        .map(|(i, o)| (o.as_str(), i as u32))
        .collect();
    let mut strata: Vec<String> = d.stratum.clone();
    strata.sort();
    strata.dedup();
    let st_of = |s: &str| strata.iter().position(|x| x == s).unwrap() as u32;
    let mut psu_stratum = vec![0u32; outlets.len()];
    let mut fraction = vec![0.0; strata.len()];
    for i in 0..d.outlet.len() {
        let p = psu_of[d.outlet[i].as_str()] as usize;
        psu_stratum[p] = st_of(&d.stratum[i]);
        fraction[psu_stratum[p] as usize] = d.f[i];
    }
    let (mut item, mut psu, mut w, mut y) = (vec![], vec![], vec![], vec![]);
    for i in 0..d.outlet.len() {
        for k in 0..3 {
            if let Some(v) = d.y[i][k] {
                item.push(k as u32);
                psu.push(psu_of[d.outlet[i].as_str()]);
                w.push(d.w[i]);
                y.push(v);
            }
        }
    }
    let cells = estimate::cells(
        3,
        outlets.len(),
        (0..item.len()).map(|i| (item[i], psu[i], w[i], y[i], y[i])),
    );
    let domains: Vec<Vec<u32>> = psu_stratum.iter().map(|&s| vec![0, s + 1]).collect();
    let totals = estimate::item_totals(&cells, &domains).unwrap();
    let clusters = Clusters {
        stratum: psu_stratum.clone(),
        fraction,
    };
    let mut ests = Vec::new();
    let mut names = Vec::new();
    for dom in 0..=strata.len() as u32 {
        let dn = if dom == 0 {
            "all".to_string()
        } else {
            strata[dom as usize - 1].clone()
        };
        for k in 0..3u32 {
            ests.push(Estimand {
                dom,
                constant: 0.0,
                terms: vec![(k, 1.0)],
            });
            names.push((dn.clone(), format!("y{}", k + 1)));
        }
    }
    ests.push(Estimand {
        dom: 0,
        constant: 0.0,
        terms: vec![(0, 0.5), (1, 0.3), (2, 0.2)],
    });
    names.push(("all".into(), "0.5*y1+0.3*y2+0.2*y3".into()));
    let out = estimate::estimate(&cells, &domains, &clusters, &totals, &ests).unwrap();
    let mut compared = 0;
    for (name, e) in names.iter().zip(&out) {
        let (value, se) = g[name];
        close(&format!("{name:?} estimate"), e.value, value);
        close(&format!("{name:?} SE"), e.se, se);
        compared += 1;
    }
    assert_eq!(compared, 16);
    // Per outlet: interviews' y1, SRS of M customers.
    let mut per: BTreeMap<&str, (u32, f64, f64, u64)> = BTreeMap::new();
    for i in 0..d.outlet.len() {
        if d.source[i] == "interview"
            && let Some(v) = d.y[i][0]
        {
            let e = per.entry(&d.outlet[i]).or_insert((0, 0.0, 0.0, d.m[i]));
            e.0 += 1;
            e.1 += v;
            e.2 += v * v;
        }
    }
    let mut outlets_compared = 0;
    for (o, (n, ys, yy, m)) in per {
        let Some(&(value, se)) = g.get(&(format!("outlet:{o}"), "y1".to_string())) else {
            continue;
        };
        close(&format!("{o} mean"), ys / f64::from(n), value);
        close(
            &format!("{o} SE"),
            estimate::within_outlet_se(n, ys, yy, m).unwrap(),
            se,
        );
        outlets_compared += 1;
    }
    assert_eq!(outlets_compared, 10);
}
