#!/usr/bin/env python3
"""Times `svcaudit schedule` on a generated plan of the size the issue names.

One command:  python3 bench/schedule.py [--outlets 100] [--customers 3000] [--people 20] [--runs 5]

It writes a synthetic outlet draw (sample.csv), customer draw (call_sheet.csv), team and
calendar into a temporary folder, builds svcaudit in release mode, and prints the median wall
time of --runs plans over a 60-day window. Standard library only; synthetic data only.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CITIES = ["北京", "上海", "广州", "成都", "武汉", "西安", "杭州", "南京", "济南", "沈阳"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outlets", type=int, default=100)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    rnd = random.Random(7)
    d = tempfile.mkdtemp(prefix="svcaudit-schedule-bench-")
    os.makedirs(os.path.join(d, "o"))
    os.makedirs(os.path.join(d, "c"))
    with open(os.path.join(d, "o", "sample.csv"), "w", encoding="utf-8") as f:
        f.write("unit_id,stratum,role,rank,prn,inclusion_prob,weight,网点编号,网点名称,城市\n")
        for i in range(a.outlets):
            f.write(f"O{i:04},all,selected,{i + 1},0.5,0.1,10,O{i:04},网点{i},{rnd.choice(CITIES)}\n")
    with open(os.path.join(d, "c", "call_sheet.csv"), "w", encoding="utf-8") as f:
        f.write("outlet_id,call_order,role,unit_id,name,phone,last_service,outlets_served\n")
        per = max(1, a.customers // a.outlets)
        for i in range(a.customers):
            o = i // per % a.outlets
            f.write(f"O{o:04},{i % per + 1},selected,C{i:06},客户{i},139{i:08},2025-06-01,1\n")
    with open(os.path.join(d, "people.csv"), "w", encoding="utf-8") as f:
        f.write("person_id,name,roles,city,per_day,unavailable,knows\n")
        roles = ["auditor", "shopper", "interviewer"]
        for i in range(a.people):
            cap = 60 if roles[i % 3] == "interviewer" else 3
            f.write(f"P{i:02},人员{i},{roles[i % 3]},{rnd.choice(CITIES)},{cap},,O{rnd.randrange(a.outlets):04}\n")
    with open(os.path.join(d, "calendar.csv"), "w", encoding="utf-8") as f:
        f.write("date,kind\n2027-01-01,holiday\n")
    subprocess.check_call(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT)
    exe = os.path.join(ROOT, "target", "release", "svcaudit")
    cmd = [exe, "schedule", "--outlets", os.path.join(d, "o"), "--customers", os.path.join(d, "c"),
           "--people", os.path.join(d, "people.csv"), "--calendar", os.path.join(d, "calendar.csv"),
           "--from", "2026-12-01", "--to", "2027-01-29", "--seed", "1", "--drawn-on", "2026-11-22",
           "--force", "--out", os.path.join(d, "plan")]
    walls = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if p.returncode != 0:
            sys.exit(p.stderr)
    print(p.stderr.strip())
    print(f"{a.outlets} outlets, {a.customers} customers, {a.people} people: "
          f"median {statistics.median(walls):.3f} s over {a.runs} runs")


if __name__ == "__main__":
    main()
