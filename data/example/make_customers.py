#!/usr/bin/env python3
"""Generate the SYNTHETIC example service records (服务记录) for svcaudit.

No real people: surnames and given names are drawn from common characters,
phone numbers from mobile prefixes with random digits. Deterministic
(random.Random(20261123)); standard library only.

customers.csv: about 6,000 service rows over the outlets of outlets.csv, UTF-8
with BOM (as Excel saves "CSV UTF-8"), header
工单号,网点编号,客户姓名,联系电话,服务日期,服务类型,产品
Messy on purpose, as applicants' exports are: dates written four ways
(2025-03-01, 2025/3/1, 2025年3月1日, 20250301), phones with +86 or dashes,
repeat customers (about 8 % of people are served again, some at another
outlet), four rows with no usable phone, two with an unreadable date, one
with an outlet id that is not in the outlet list, and a blank line.
"""
import csv
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261123)

with open(os.path.join(HERE, "outlets.csv"), encoding="utf-8") as f:
    outlets = [r["网点编号"] for r in csv.DictReader(f) if r["网点编号"].strip()]
outlets.sort()
weights = [rng.choice([1, 2, 3, 5, 8]) for _ in outlets]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
PREFIX = ["138", "139", "137", "150", "151", "186", "188", "177", "159", "135"]
TYPES = ["维修", "安装", "保养", "咨询"]
PRODUCTS = ["空调", "冰箱", "洗衣机", "热水器", "燃气灶", "净水器"]


def fmt_date(y, m, d):
    k = rng.random()
    if k < 0.6:
        return f"{y}-{m:02d}-{d:02d}"
    if k < 0.8:
        return f"{y}/{m}/{d}"
    if k < 0.9:
        return f"{y}年{m}月{d}日"
    return f"{y}{m:02d}{d:02d}"


people = []
rows = []
n = 0
while len(rows) < 6000:
    if people and rng.random() < 0.08:
        name, phone, home = rng.choice(people)
        outlet = home if rng.random() < 0.7 else rng.choices(outlets, weights)[0]
    else:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        phone = rng.choice(PREFIX) + "%08d" % rng.randrange(10**8)
        outlet = rng.choices(outlets, weights)[0]
        people.append((name, phone, outlet))
    n += 1
    y = rng.choice([2025, 2026])
    m = rng.randint(1, 12 if y == 2025 else 10)
    d = rng.randint(1, 28)
    shown = phone
    k = rng.random()
    if k < 0.05:
        shown = "+86 " + phone
    elif k < 0.1:
        shown = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    rows.append([f"GD{n:06d}", outlet, name, shown, fmt_date(y, m, d),
                 rng.choice(TYPES), rng.choice(PRODUCTS)])

# Broken rows an applicant's export really has.
for i in (101, 202, 303, 404):
    rows[i][3] = rng.choice(["", "无", "n/a", "1380013"])
rows[505][4] = "2025-02-30"
rows[606][4] = "上月"
rows[707][1] = "WD9999"
rows.insert(3000, None)

with open(os.path.join(HERE, "customers.csv"), "w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["工单号", "网点编号", "客户姓名", "联系电话", "服务日期", "服务类型", "产品"])
    for r in rows:
        if r is None:
            f.write("\n")
        else:
            w.writerow(r)
print("customers.csv:", len(rows) - 1, "rows")
