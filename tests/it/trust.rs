//! Trust (issue 7): the ledger's chain, verify failing on tampering, the folder lock, and a
//! draw killed at random points that never leaves a mix of old and new outputs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{root, run_in};

fn draw(dir: &Path, out: &str, seed: &str) -> (i32, String) {
    let frame = root().join("data/example/outlets.csv");
    let (code, _, err) = run_in(
        dir,
        &[
            "sample",
            "outlets",
            frame.to_str().unwrap(),
            "--seed",
            seed,
            "--strata",
            "省份",
            "--out",
            out,
            "--force",
        ],
    );
    (code, err)
}

fn verify(dir: &Path, out: &str) -> (i32, String) {
    let (code, o, e) = run_in(dir, &["verify", out]);
    (code, format!("{o}{e}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn the_ledger_chains_every_draw_and_verify_catches_tampering() {
    let t = tempfile::tempdir().unwrap();
    assert_eq!(draw(t.path(), "d", "1").0, 0);
    assert_eq!(draw(t.path(), "d", "2").0, 0);
    // The second draw's justification names the first (seed shopping shows).
    let just = std::fs::read_to_string(t.path().join("d/justification.md")).unwrap();
    let first_commitment = svcaudit::seed::Seed::parse("1").unwrap().commitment();
    assert!(just.contains("It is draw 2 in this folder"), "{just}");
    assert!(just.contains(&first_commitment));
    let (code, out) = verify(t.path(), "d");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 draws recorded in this folder, this one on line 2"),
        "{out}"
    );
    let ledger = std::fs::read_to_string(t.path().join("d/ledger.jsonl")).unwrap();
    let lines: Vec<&str> = ledger.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[2].contains("\"action\":\"verify\"") && lines[2].contains("\"result\":\"verified\"")
    );

    let tamper = |name: &str, f: &dyn Fn(&Path)| -> String {
        let d = t.path().join(name);
        copy_dir(&t.path().join("d"), &d);
        f(&d);
        let (code, out) = verify(t.path(), name);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.contains("NOT verified"), "{name}: {out}");
        out
    };
    let removed = tamper("removed", &|d| {
        std::fs::write(
            d.join("ledger.jsonl"),
            format!("{}\n{}\n", lines[1], lines[2]),
        )
        .unwrap();
    });
    assert!(
        removed.contains("ledger.jsonl:1: sequence number 2 where 1 belongs"),
        "{removed}"
    );
    let reordered = tamper("reordered", &|d| {
        std::fs::write(
            d.join("ledger.jsonl"),
            format!("{}\n{}\n{}\n", lines[1], lines[0], lines[2]),
        )
        .unwrap();
    });
    assert!(
        reordered.contains("does not chain to the line before it"),
        "{reordered}"
    );
    let emptied = tamper("emptied", &|d| {
        std::fs::remove_file(d.join("ledger.jsonl")).unwrap();
    });
    assert!(
        emptied.contains("ledger.jsonl: missing or empty"),
        "{emptied}"
    );
    let edited = tamper("edited", &|d| {
        let s = std::fs::read_to_string(d.join("sample.csv")).unwrap();
        std::fs::write(
            d.join("sample.csv"),
            s.replacen(",selected,1,", ",selected,7,", 1),
        )
        .unwrap();
    });
    assert!(edited.contains("sample.csv"), "{edited}");
    let reseeded = tamper("reseeded", &|d| {
        let s = std::fs::read_to_string(d.join("manifest.json")).unwrap();
        std::fs::write(
            d.join("manifest.json"),
            s.replacen("\"seed\": \"2\"", "\"seed\": \"3\"", 1),
        )
        .unwrap();
    });
    assert!(
        reseeded.contains("does not match the recorded commitment"),
        "{reseeded}"
    );
    assert!(
        reseeded.contains("no line of ledger.jsonl records it"),
        "{reseeded}"
    );
    // A changed frame file: a copy of the list with one outlet renamed.
    let frame = std::fs::read_to_string(root().join("data/example/outlets.csv")).unwrap();
    std::fs::write(
        t.path().join("frame.csv"),
        frame.replacen("太原", "大原", 1),
    )
    .unwrap();
    let (code, _, err) = run_in(t.path(), &["verify", "d", "--frame", "frame.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("the frame's content changed"), "{err}");
}

#[test]
fn a_second_run_in_a_locked_folder_is_refused() {
    let t = tempfile::tempdir().unwrap();
    assert_eq!(draw(t.path(), "d", "1").0, 0);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(t.path().join("d/.svcaudit.lock"))
        .unwrap();
    f.lock().unwrap();
    let (code, err) = draw(t.path(), "d", "2");
    assert_eq!(code, 1);
    assert!(
        err.contains("another svcaudit run is working in this folder"),
        "{err}"
    );
    drop(f);
    assert_eq!(draw(t.path(), "d", "2").0, 0);
}

/// A deterministic xorshift for the kill times.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn a_draw_killed_at_random_points_leaves_old_or_new_outputs_and_the_ledger_intact() {
    let t = tempfile::tempdir().unwrap();
    // Service records large enough that a debug build takes a while to draw them.
    let mut s = String::from("record_id,outlet_id,name,phone,service_date,service_type,product\n");
    for i in 0..60_000u64 {
        s.push_str(&format!(
            "R{i:07},O{:03},客户{i},139{:08},2025-{:02}-{:02},维修,空调\n",
            i % 97,
            (i * 7919) % 100_000_000,
            1 + i % 12,
            1 + i % 28
        ));
    }
    std::fs::write(t.path().join("r.csv"), s).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("svcaudit");
    let cmd = |seed: u64| {
        let mut c = Command::new(&exe);
        c.current_dir(t.path())
            .args([
                "sample",
                "customers",
                "r.csv",
                "--per-outlet",
                "3",
                "--out",
                "d",
                "--force",
            ])
            .arg("--seed")
            .arg(seed.to_string())
            .args(["--commit-pause-ms", "40"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let t0 = Instant::now();
    assert!(cmd(1).status().unwrap().success());
    let full = t0.elapsed().as_millis() as u64 + 1;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut killed = 0;
    let mut in_commit = 0;
    for round in 0..10u64 {
        let mut child = cmd(100 + round).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(next(&mut x) % full));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        if t.path().join("d/.svcaudit-commit.json").exists() {
            in_commit += 1;
        }
        // Whatever the moment, the folder verifies: the old draw, or the new one finished
        // from its journal; and the ledger's chain is intact.
        let (code, out) = verify(t.path(), "d");
        assert_eq!(code, 0, "round {round}: {out}");
        let left: Vec<String> = std::fs::read_dir(t.path().join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| {
                n.contains(".tmp-") || n.starts_with(".svcaudit-spill") || n.contains("commit")
            })
            .collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
    assert!(killed >= 3, "only {killed} runs were killed");
    eprintln!("{killed} of 10 runs killed, {in_commit} of them after their commit point");
}
