#!/usr/bin/env python3
"""Synthetic survey results for the example audit (data/example/audit.toml).

Run after `svcaudit plan data/example/audit.toml`; reads the draws and the plan under
reports/example-2026/ and writes data/example/results/{interviews,mystery,findings}.csv.
Everything is made up: answers come from a fixed-seed generator, names are never written.
About 60 % of the contacted customers answer (the response rate the draw assumed).
A few faults are planted so that rejected.csv has something to show: an interview of a
customer who was never drawn, a customer answering twice, a 暗访 made by someone the plan did
not assign, and an answer out of range.
"""
import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / "reports" / "example-2026"
OUT = Path(__file__).resolve().parent / "results"


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main():
    rnd = random.Random(20261122)
    OUT.mkdir(exist_ok=True)
    sample = [r for r in rows(AUDIT / "customers" / "sample.csv") if r["role"] == "selected"]
    scale = ["很满意", "满意", "基本满意", "不满意", "很不满意"]
    with open(OUT / "interviews.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["response_id", "customer_id", "outlet_id", "date", "by", "question_code", "answer"])
        k = 0
        first = None
        silent = []
        for r in sample:
            if rnd.random() > 0.6:
                silent.append(r)
                continue
            k += 1
            first = first or r
            good = rnd.random() < 0.85
            answers = [
                ("CS_CONTROL", "是"),
                ("CS_DELIVERY", scale[rnd.choice([0, 0, 1, 1, 2]) if good else rnd.choice([1, 2, 3])]),
                ("CS_REPAIR", scale[rnd.choice([0, 1, 1, 2]) if good else rnd.choice([2, 3, 4])]),
                ("CS_WARRANTY", "是" if rnd.random() < 0.93 else "否"),
                ("CS_OVERALL", str(rnd.choice([5, 5, 4, 4, 3]) if good else rnd.choice([3, 2]))),
                ("CS_FOLLOWUP", "是" if rnd.random() < 0.8 else "否"),
                ("CS_COMPLAINT", "未投诉" if rnd.random() < 0.8 else scale[rnd.choice([0, 1, 2, 3])]),
            ]
            for q, a in answers:
                w.writerow([f"IV{k:04d}", r["unit_id"], r["outlet_id"], "", "", q, a])
        # Planted: a customer never drawn, the first customer again, an answer out of range
        # (from a drawn customer who had not answered yet).
        w.writerow(["IV9001", "GD999999", first["outlet_id"], "", "", "CS_OVERALL", "5"])
        w.writerow(["IV9002", first["unit_id"], first["outlet_id"], "", "", "CS_OVERALL", "4"])
        late = silent[0]
        w.writerow(["IV9003", late["unit_id"], late["outlet_id"], "", "", "CS_CONTROL", "是"])
        w.writerow(["IV9003", late["unit_id"], late["outlet_id"], "", "", "CS_OVERALL", "9"])
    visits = rows(AUDIT / "plan" / "visits.csv")
    with open(OUT / "mystery.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["response_id", "outlet_id", "date", "by", "question_code", "answer"])
        n = 0
        for v in visits:
            if v["kind"] == "mystery_visit":
                items = [
                    ("MV_STAFF", "1" if rnd.random() < 0.9 else "0"),
                    ("MV_FACILITY", str(rnd.choice([4, 4, 4, 3, 3, 2]))),
                    ("MV_PROCESS", "1" if rnd.random() < 0.85 else "0"),
                    ("MV_INFO", "1" if rnd.random() < 0.8 else "N/A"),
                ]
            elif v["kind"] == "mystery_call":
                items = [
                    ("MC_GREETING", "1" if rnd.random() < 0.9 else "0"),
                    ("MC_ANSWER", str(rnd.choice([3, 3, 2, 2, 1]))),
                    ("MC_WAIT", "1" if rnd.random() < 0.75 else "0"),
                ]
            else:
                continue
            n += 1
            by = "S99" if n == 5 else v["person_id"]
            for q, a in items:
                w.writerow([f"MV{n:03d}", v["outlet_id"], v["date"], by, q, a])
    review = ["R511", "R512", "R513", "R514", "R515", "R516", "R517", "R521", "R522", "R523",
              "R524", "R525", "R526", "R531", "R532"]
    with open(OUT / "findings.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item", "result", "note"])
        for code in review:
            if code == "R516":
                w.writerow([code, "不符合", "改进记录不完整（示例）"])
            elif code == "R526":
                w.writerow([code, "不适用", "不涉及废弃商品回收（示例）"])
            else:
                w.writerow([code, "符合", ""])


if __name__ == "__main__":
    main()
