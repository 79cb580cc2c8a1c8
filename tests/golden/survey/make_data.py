#!/usr/bin/env python3
"""Writes data.csv, the synthetic test data for the R survey golden values (make_golden.R).

One row per questionnaire of a stratified two-stage design: outlets (clusters) in four strata
with sampling fractions f, one stratum with a single sampled outlet (lonely PSU), a certainty
stratum (f = 1), interviews (weight (1/pi)*(M/r)) and 暗访 visits (weight 1/pi) in the same
outlets, three items in [0, 1] with N/A (empty). Python stdlib only; seeded, same bytes.
"""
import random

rng = random.Random(20261123)
strata = [("A", 4, 0.2), ("B", 3, 0.5), ("C", 1, 0.25), ("Z", 2, 1.0)]
rows = []
rid = 0
for st, n_out, f in strata:
    for k in range(n_out):
        outlet = f"{st}{k + 1:02d}"
        m = rng.randint(20, 60)  # customers of the outlet
        r = rng.randint(3, 8)  # interviews
        q = rng.gauss(0, 0.15)
        for src, count in (("interview", r), ("visit", 1)):
            for _ in range(count):
                rid += 1
                w = (1 / f) * (m / r) if src == "interview" else 1 / f
                ys = []
                for item, p_na in ((1, 0.1), (2, 0.3), (3, 0.0)):
                    if rng.random() < p_na:
                        ys.append("")
                    elif item == 3:
                        ys.append(str(int(rng.random() < 0.8 + q)))
                    else:
                        ys.append("%.1f" % min(1.0, max(0.0, rng.choice([0, 0.3, 0.6, 0.8, 1.0]) + q)))
                rows.append([f"R{rid:03d}", outlet, st, repr(f), repr(w), str(m), src] + ys)
with open("data.csv", "w", newline="") as fh:
    fh.write("resp,outlet,stratum,f,w,M,source,y1,y2,y3\n")
    for r in rows:
        fh.write(",".join(r) + "\n")
