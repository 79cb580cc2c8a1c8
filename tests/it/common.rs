//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> PathBuf {
    root().join("data/example").join(name)
}

pub fn svcaudit() -> Command {
    let mut c = Command::cargo_bin("svcaudit").expect("binary built");
    c.env_remove("USER");
    c
}

/// Runs svcaudit with `args` in `dir`; returns (exit code, stdout, stderr).
pub fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = svcaudit()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Compares `actual` with the golden file, or rewrites it when UPDATE_GOLDEN is set.
pub fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(i, (a, b))| format!("line {}:\n  golden: {a}\n  actual: {b}", i + 1))
            .collect();
        panic!(
            "{name} differs from its golden file ({} vs {} lines)\n{}",
            expected.lines().count(),
            actual.lines().count(),
            diff.join("\n")
        );
    }
}

/// Customer draw parameters: `m` per outlet and `reserve` reserves, every other option at its
/// default (no window, no types, columns found by name).
pub fn per_outlet_params(m: u64, reserve: u64) -> svcaudit::customers::CustomerParams {
    svcaudit::customers::CustomerParams {
        outlets: None,
        outlet_sample_sha256: None,
        per_outlet: Some(m),
        n: None,
        confidence: 0.95,
        margin: 0.05,
        p: 0.5,
        response_rate: 1.0,
        reserve,
        allocation: "proportional".into(),
        min_per_outlet: 1,
        since: None,
        until: None,
        service_types: vec![],
        id_col: None,
        outlet_col: None,
        date_col: None,
        phone_col: None,
        person_key: None,
        type_col: None,
        name_col: None,
        customer_col: None,
        replay: false,
        ids: svcaudit::identity::IdRule::CURRENT,
    }
}
