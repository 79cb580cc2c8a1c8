//! Property tests over random frames: sizes, no duplicates, ranks, Σπ = n, and accounting.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use proptest::prelude::*;
use svcaudit::draw::{Listed, OutletParams, draw_outlets};
use svcaudit::io::frame::{Frame, outlet_list_id_names};
use svcaudit::io::read::read_table_bytes;
use svcaudit::io::table::ReadOptions;
use svcaudit::model::Role;
use svcaudit::sampling::Method;
use svcaudit::seed::Seed;
use svcaudit::sizing::{self, Stage};

fn frame(units: &[(u8, u32)]) -> Frame {
    let mut s = String::from("id,stratum,size,sort\n");
    for (i, (st, size)) in units.iter().enumerate() {
        s.push_str(&format!("id{i},S{st},{size},{}\n", size % 7));
    }
    let t = read_table_bytes(Path::new("p.csv"), s.as_bytes(), &ReadOptions::default()).unwrap();
    Frame::new(t, None, &outlet_list_id_names()).unwrap()
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Srs),
        Just(Method::Systematic),
        Just(Method::Pps)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn draws_keep_their_invariants(
        units in prop::collection::vec((0u8..4, 1u32..500), 1..80),
        stratified in any::<bool>(),
        method in method(),
        extra in 0u64..10,
        seed in 0u64..1_000_000,
    ) {
        let f = frame(&units);
        let x = units.len() as u64;
        let mut p = OutletParams::new(method, Stage::Initial);
        p.size_col = Some("size".into());
        p.sort_col = Some("sort".into());
        if stratified {
            p.strata = vec!["stratum".into()];
        }
        let rule = sizing::outlet_rule(Stage::Initial, x);
        let n = (rule + extra).min(x);
        if n > rule {
            p.n = Some(n);
            p.reason = Some("prop".into());
        }
        p.reserve = x; // every unit not drawn becomes a reserve, so every π is stated
        let seed = Seed::parse(&seed.to_string()).unwrap();
        let d = draw_outlets(&f, &seed, &p).unwrap();

        prop_assert!(d.counts.adds_up());
        prop_assert_eq!(d.counts.not_selected, 0);
        let ids: Vec<&str> = d.rows.iter().map(|r| f.id(r.row)).collect();
        let unique: HashSet<&&str> = ids.iter().collect();
        prop_assert_eq!(unique.len(), ids.len(), "a unit appears twice");
        prop_assert_eq!(ids.len() as u64, x);

        let mut by: BTreeMap<&str, Vec<_>> = BTreeMap::new();
        for r in &d.rows {
            by.entry(r.stratum.as_str()).or_default().push(r);
        }
        let mut sampled_total = 0;
        for st in &d.strata {
            let rows = &by[st.name.as_str()];
            let ranks: Vec<u64> = rows.iter().map(|r| r.rank).collect();
            prop_assert_eq!(ranks, (1..=rows.len() as u64).collect::<Vec<_>>());
            let sampled = rows.iter().filter(|r| r.role != Role::Reserve).count() as u64;
            prop_assert_eq!(sampled, st.allocated);
            prop_assert!(st.allocated <= st.eligible);
            let sum_pi: f64 = rows.iter().map(|r| r.pi).sum();
            prop_assert!((sum_pi - st.allocated as f64).abs() < 1e-9, "Σπ {} ≠ n_h {}", sum_pi, st.allocated);
            // Reserves come after every sampled unit.
            let first_reserve = rows.iter().position(|r| r.role == Role::Reserve).unwrap_or(rows.len());
            prop_assert!(rows[first_reserve..].iter().all(|r| r.role == Role::Reserve));
            sampled_total += sampled;
        }
        let min_total = if stratified { d.strata.len() as u64 } else { 0 };
        prop_assert_eq!(sampled_total, n.max(min_total));
    }

    #[test]
    fn allocation_respects_minimum_cap_and_total(
        sizes in prop::collection::vec(0u64..50, 1..8),
        n in 0u64..120,
        min_per in 0u64..4,
        equal in any::<bool>(),
    ) {
        let strata: Vec<(String, u64)> = sizes.iter().enumerate().map(|(i, s)| (format!("s{i}"), *s)).collect();
        let alloc = if equal { sizing::Allocation::Equal } else { sizing::Allocation::Proportional };
        let a = sizing::allocate(&strata, n, &alloc, min_per).unwrap();
        let total: u64 = sizes.iter().sum();
        let mins: u64 = sizes.iter().map(|s| min_per.min(*s)).sum();
        for (k, (_, s)) in a.iter().zip(&strata) {
            prop_assert!(*k <= *s);
            prop_assert!(*k >= min_per.min(*s));
        }
        prop_assert_eq!(a.iter().sum::<u64>(), n.min(total).max(mins));
    }

    /// The `--n` a refused draw suggests is the smallest size from which no stratum is left
    /// filled by its for-cause units: every size from the rule's up to it fails, it holds,
    /// and the draw at that size is not refused for coverage.
    #[test]
    fn the_suggested_n_is_the_smallest_that_covers_every_stratum(
        strata in prop::collection::vec((1u64..30, 0u64..4), 1..6),
        equal in any::<bool>(),
        seed in 0u64..1_000_000,
    ) {
        let sizes: Vec<(String, u64)> = strata.iter().enumerate().map(|(h, (n, _))| (format!("S{h}"), *n)).collect();
        let fc: Vec<u64> = strata.iter().map(|(n, c)| (*c).min(*n)).collect();
        let split: Vec<(u64, u64)> = sizes.iter().zip(&fc).map(|((_, n), c)| (*c, n - c)).collect();
        let x: u64 = sizes.iter().map(|(_, n)| n).sum();
        let rule = sizing::outlet_rule(Stage::Initial, x);
        let alloc = if equal { sizing::Allocation::Equal } else { sizing::Allocation::Proportional };
        let filled = |n: u64| {
            let a = sizing::allocate(&sizes, n, &alloc, 1).unwrap();
            !sizing::filled_by_for_cause(&split, &a).is_empty()
        };
        let suggested = sizing::smallest_covering_n(&sizes, &fc, rule, &alloc, 1).unwrap();
        if !filled(rule) {
            return Ok(());
        }
        let n = suggested.expect("at n = x every stratum has all its units");
        prop_assert!(n > rule && n <= x);
        prop_assert!(!filled(n));
        for k in rule..n {
            prop_assert!(filled(k), "n = {} already covers", k);
        }

        // The draw names it, and drawing that size is not refused for coverage.
        let mut text = String::from("id,stratum\n");
        let mut p = OutletParams::new(Method::Srs, Stage::Initial);
        p.strata = vec!["stratum".into()];
        p.allocation = alloc.clone();
        for (h, (size, c)) in sizes.iter().map(|(_, s)| *s).zip(&fc).enumerate() {
            for i in 0..size {
                text.push_str(&format!("S{h}U{i},S{h}\n"));
                if i < *c {
                    p.include.push(Listed { id: format!("S{h}U{i}"), reason: "r".into() });
                }
            }
        }
        let t = read_table_bytes(Path::new("p.csv"), text.as_bytes(), &ReadOptions::default()).unwrap();
        let f = Frame::new(t, None, &outlet_list_id_names()).unwrap();
        let seed = Seed::parse(&seed.to_string()).unwrap();
        let coverage = |e: &svcaudit::error::Error| e.message.contains("fill the allocation");
        // Refused: for coverage with this n, or first by the 25 % rule.
        let e = draw_outlets(&f, &seed, &p).unwrap_err();
        prop_assert!(!coverage(&e) || e.message.contains(&format!("--n {n} ")), "{}", e.message);
        p.n = Some(n);
        p.reason = Some("cover".into());
        if let Err(e) = draw_outlets(&f, &seed, &p) {
            prop_assert!(!coverage(&e), "{}", e.message);
        }
    }

    #[test]
    fn size_rule_is_the_smallest_integer_at_or_above(x in 1u64..10_000_000) {
        for stage in [Stage::Initial, Stage::Surveillance, Stage::Recertification] {
            let (num, den) = stage.factor();
            let y = sizing::outlet_rule(stage, x);
            let ok = |y: u64| ((den * y) as u128).pow(2) >= (num as u128).pow(2) * x as u128;
            prop_assert!(ok(y));
            prop_assert!(y == 1 || !ok(y - 1));
        }
    }
}

/// One cell as exports write it: plain text, or quoted text (delimiters, newlines and doubled
/// quotes inside), either with white space around it.
fn csv_cell() -> impl Strategy<Value = (String, String)> {
    let plain = "[a-z0-9甲乙 ]{0,6}".prop_map(|t| (t.clone(), t.trim().to_string()));
    let quoted = ("[ \t]{0,2}", "[a-z甲乙, \n\"]{0,8}", "[ ]{0,2}").prop_map(|(pre, t, post)| {
        (
            format!("{pre}\"{}\"{post}", t.replace('"', "\"\"")),
            t.trim().to_string(),
        )
    });
    prop_oneof![plain, quoted]
}

proptest! {
    /// The general reader (io::table, the rule of new draws) and the streaming customer
    /// reader's splitter read the same cells from any record written this way, a quote after
    /// white space included (`A1, "甲,乙",广州` is three cells to both).
    #[test]
    fn the_general_reader_and_the_streaming_splitter_agree(
        cells in proptest::collection::vec(csv_cell(), 2..6)
    ) {
        let line: Vec<&str> = cells.iter().map(|c| c.0.as_str()).collect();
        let line = format!("{}\n", line.join(","));
        let want: Vec<String> = cells.iter().map(|c| c.1.clone()).collect();
        let (streamed, used) = svcaudit::customers::scan::split_record(line.as_bytes(), b',');
        prop_assert_eq!(used, line.len());
        prop_assert_eq!(&streamed, &want);
        // The general reader sniffs the delimiter from the first line: give it a header.
        let header = vec!["h"; cells.len()].join(",");
        let text = format!("{header}\n{line}");
        let mut read = Vec::new();
        svcaudit::io::table::for_each_csv_record(
            "t.csv",
            &text,
            svcaudit::io::table::QuoteRule::AfterSpace,
            |_, r| {
                read.push(
                    r.iter()
                        .map(|c| String::from_utf8_lossy(c).trim().to_string())
                        .collect::<Vec<_>>(),
                );
                Ok(())
            },
        )
        .unwrap();
        prop_assert_eq!(read.len(), 2);
        prop_assert_eq!(&read[1], &want);
    }
}
