#!/usr/bin/env python3
"""Side-by-side benchmarks of the customer draw and of scoring against the peers users would pick.

One command:  python3 bench/run.py [--data DIR] [--runs 5] [--venv DIR]

It generates the synthetic 10M-row service records with ../shared/bench/gen_data.py (once;
kept in DIR, default bench/data, git-ignored), builds svcaudit in release mode, installs
polars, duckdb and pandas into a virtual environment (default bench/.venv) when missing, then
times, in one run and on the same file (in page cache):

  read     cat FILE > /dev/null (the floor)
  strat    5 customers per outlet, every outlet, seeded
  srs      2,000 customers, seeded (svcaudit: from the outlets of a seeded outlet draw,
           allocated proportionally; the peers: 2,000 rows of the whole file)
  agg      2,000,000 long-format survey answers: mean score and count per outlet and
           question (svcaudit: `score` with bench/scheme_bench.toml, which also computes the
           design-based estimates, standard errors and all outputs); the results are
           compared with DuckDB's, value by value

The input is read once, untimed, right before every run, so every run starts with it in the
page cache (on a shared machine its pages are reclaimed within seconds). Each command runs
--runs times, round-robin with the other tools of its task (run k of every
tool before run k+1 of any, in an order that rotates each round); the table reports the median wall time, the peak resident
memory of the process tree (from wait4), and ratios. It writes BENCHMARKS.md next to the
README. Standard library only.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "bench")


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall seconds, peak RSS in MB of the process tree)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, ru.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "bench", "data"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--venv", default=os.path.join(ROOT, "bench", ".venv"))
    ap.add_argument("--skip-pandas", action="store_true", help="pandas takes ~10 s a run")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--tasks", default="read,strat,srs,agg", help="comma-separated subset")
    a = ap.parse_args()

    os.makedirs(a.data, exist_ok=True)
    cust = os.path.join(a.data, "customers.csv")
    outl = os.path.join(a.data, "outlets.csv")
    resp = os.path.join(a.data, "responses.csv")
    if not (os.path.exists(cust) and os.path.exists(outl)):
        subprocess.check_call([sys.executable, os.path.join(SHARED, "gen_data.py"), "--out",
                               a.data, "--only", "outlets,customers"])
    if not os.path.exists(resp):
        subprocess.check_call([sys.executable, os.path.join(SHARED, "gen_data.py"), "--out",
                               a.data, "--only", "responses"])
    py = os.path.join(a.venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", a.venv])
    if subprocess.call([py, "-c", "import polars, duckdb, pandas"]) != 0:
        subprocess.check_call([py, "-m", "pip", "install", "-q", "polars", "duckdb", "pandas"])
    subprocess.check_call(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT)
    exe = os.path.join(ROOT, "target", "release", "svcaudit")
    tmp = tempfile.mkdtemp(prefix="svcaudit-bench-")
    odir = os.path.join(tmp, "outlets")
    subprocess.check_call([exe, "sample", "outlets", outl, "--seed", "42", "--out", odir],
                          stderr=subprocess.DEVNULL)
    peers = os.path.join(SHARED, "peers")
    out = lambda name: os.path.join(tmp, name)  # noqa: E731
    tasks = {
        "read": [("cat", ["cat", cust])],
        "strat": [
            ("svcaudit", [exe, "sample", "customers", cust, "--seed", "42", "--per-outlet", "5",
                          "--out", out("s1"), "--force"]),
            ("Python polars", [py, os.path.join(peers, "polars_sample.py"), "strat", cust, out("p1.csv"), "42"]),
            ("DuckDB", [py, os.path.join(peers, "duckdb_sample.py"), "strat", cust, out("d1.csv"), "42"]),
            ("pandas", [py, os.path.join(peers, "pandas_sample.py"), "strat", cust, out("a1.csv"), "42"]),
        ],
        "srs": [
            ("svcaudit", [exe, "sample", "customers", cust, "--outlets", odir, "--seed", "42",
                          "--n", "2000", "--out", out("s2"), "--force"]),
            ("Python polars", [py, os.path.join(peers, "polars_sample.py"), "srs", cust, out("p2.csv"), "42"]),
            ("DuckDB", [py, os.path.join(peers, "duckdb_sample.py"), "srs", cust, out("d2.csv"), "42"]),
            ("pandas", [py, os.path.join(peers, "pandas_sample.py"), "srs", cust, out("a2.csv"), "42"]),
        ],
        "agg": [
            ("svcaudit", [exe, "score", "--scheme", os.path.join(ROOT, "bench", "scheme_bench.toml"),
                          "--responses", resp, "--out", out("s3"), "--force"]),
            ("Python polars", [py, os.path.join(peers, "polars_agg.py"), resp, out("p3.csv")]),
            ("DuckDB", [py, os.path.join(peers, "duckdb_agg.py"), resp, out("d3.csv")]),
            ("pandas", [py, os.path.join(peers, "pandas_agg.py"), resp, out("a3.csv")]),
        ],
    }
    wanted = a.tasks.split(",")
    tasks = {k: v for k, v in tasks.items() if k in wanted or k == "read"}
    results = {}
    for task, cmds in tasks.items():
        cmds = [(n, c) for n, c in cmds if not (n == "pandas" and a.skip_pandas)]
        # Round-robin: run k of every tool before run k+1 of any, so that a machine whose
        # speed drifts from minute to minute (shared cores) slows every tool alike; the order
        # rotates each round, so no tool always follows the same one (pandas leaves gigabytes
        # to free behind it).
        walls = {n: [] for n, _ in cmds}
        mems = {n: [] for n, _ in cmds}
        for k in range(a.runs):
            for name, cmd in cmds[k % len(cmds):] + cmds[:k % len(cmds)]:
                # Pages of the input are dropped from the page cache within seconds here
                # (the host reclaims them): read it again, untimed, before every run.
                subprocess.call(["cat", resp if task == "agg" else cust],
                                stdout=subprocess.DEVNULL)
                w, m = run(cmd)
                walls[name].append(w)
                mems[name].append(m)
        for name, _ in cmds:
            results[(task, name)] = (statistics.median(walls[name]), max(mems[name]))
            print(f"{task:6} {name:14} {results[(task, name)][0]:7.2f} s "
                  f"{max(mems[name]):8.0f} MB", file=sys.stderr)
    agree = ""
    if ("agg", "DuckDB") in results:
        agree = compare_agg(out("s3"), out("d3.csv"))
        print(agree, file=sys.stderr)
    cat = results[("read", "cat")][0]
    size = os.path.getsize(cust)
    lines = [
        "# Benchmarks",
        "",
        f"Made by `python3 bench/run.py --runs {a.runs}` on {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, on the synthetic service records of `../shared/bench/gen_data.py` "
        f"({size / 1e6:.0f} MB, 10,000,000 rows, read into the page cache before every run). Median wall time of {a.runs} runs, "
        "peak resident memory of the process tree, all measured in one run; the tools of a task "
        "take turns run by run (in a rotating order), so drifts in the machine's speed touch them "
        "alike. "
        "The machine is shared: compare ratios, not absolute times.",
        "",
        "| task | tool | wall s | peak MB | × cat | svcaudit speed-up |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (task, name), (w, m) in results.items():
        ours = results.get((task, "svcaudit"), (w, 0))[0]
        lines.append(f"| {task} | {name} | {w:.2f} | {m:.0f} | {w / cat:.1f} | "
                     f"{'' if name in ('svcaudit', 'cat') else f'{w / ours:.2f}×'} |")
    lines += [
        "",
        "Tasks: `strat` = 5 customers per outlet for every outlet; `srs` = 2,000 customers "
        "(svcaudit: from the 70 outlets of a seeded outlet draw, allocated in proportion to their "
        "people; the peers: 2,000 rows of the whole file, which is less work).",
        "",
        "svcaudit does more than the peers in both tasks: it hashes the file (SHA-256 of the "
        "bytes and of the canonical records, for the manifest), merges service rows into people "
        "by phone number, gives each person to the outlet of their latest service (which needs "
        "every row of every person, so the eligible rows are spilled to a temporary folder by "
        "person hash and resolved partition by partition), counts every row's fate, and writes "
        "five outputs. Peak memory stays bounded by the sample, not by the file.",
        "",
        "Task `agg` = mean score and count per outlet and question over the 2,000,000 answers of "
        "`responses.csv` (64 MB); its `× cat` column is relative to reading the 650 MB service "
        "records, as the other rows. svcaudit runs the whole `score` command: it also hashes "
        "the file (SHA-256, for the summary), checks every answer against the scheme, estimates every item and indicator with its "
        "linearised standard error, and writes five outputs. " + agree,
        "",
    ]
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {a.out}", file=sys.stderr)


def compare_agg(ours_dir, duck_csv):
    """Checks svcaudit's per-outlet item means and counts against DuckDB's, value by value."""
    import csv
    duck = {}
    with open(duck_csv, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            duck[(r["outlet_id"], r["question_code"])] = (float(r["mean_score"]) if r["mean_score"] else None, int(r["n"]))
    ours = {}
    with open(os.path.join(ours_dir, "outlets.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["level"] == "item":
                ours[(r["outlet_id"], r["id"])] = (float(r["mean_answer"]), int(r["n"]))
    bad = 0
    for k, (m, n) in duck.items():
        if n == 0:
            continue
        o = ours.get(k)
        if o is None or o[1] != n or abs(o[0] - m) > 1e-6:
            bad += 1
    bad += sum(1 for k in ours if k not in duck)
    if bad:
        return f"Results DIFFER from DuckDB's in {bad} of {len(duck)} groups."
    return f"Results agree with DuckDB's in all {len(ours)} groups (mean to 1e-6, as svcaudit prints six decimals; count exactly)."


if __name__ == "__main__":
    main()
