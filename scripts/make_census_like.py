"""Writes a table shaped like a census microdata extract (IPUMS' ACS person records) with
nothing but the standard library and a fixed seed: numeric codes where "not applicable" is a
far sentinel value beside the real amounts, as such extracts write them.

    python3 scripts/make_census_like.py OUT.csv [ROWS]   (default 20,000 rows)

Columns: AGE (0-95, a population pyramid), SEX and RACE (codes 1-2 and 1-6), STATEFIP (the 51
state FIPS codes, as integers with their gaps), EDUC (0-11; 0 "not applicable" under 3 years),
EMPSTAT (0 "not applicable" under 16, then 1 employed, 2 unemployed, 3 not in the labour
force), UHRSWORK (usual hours a week, 0 when not working), INCTOT (total personal income:
9999999 "not applicable" under 15, otherwise losses to about 1.5 million, zeros, a log-normal
body), INCWAGE (wage income: 999999 "not applicable" under 16, 0 without wages, top-coded at
the 99.5th percentile of wages) and the target, EMPSTAT itself (1: employed). About 19% of
rows carry INCTOT's 9999999 and 21% INCWAGE's 999999: a column whose mixture is fitted on
all its values at once gets the variance of those codes for its every mode. Nobody tuned
dpsynth for it (docs/quality.md, stop 66)."""
import csv
import math
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rng = random.Random(66)

STATES = [1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
          27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 44, 45, 46, 47, 48,
          49, 50, 51, 53, 54, 55, 56]
# Rough population weights: a few large states, a long tail.
STATE_W = [1.0 / (1 + i) ** 0.8 for i in range(len(STATES))]
rng.shuffle(STATE_W)


def age():
    # A pyramid: flat to 60, then thinning out to 95.
    while True:
        a = rng.randint(0, 95)
        if rng.random() < (1.0 if a < 60 else math.exp(-(a - 60) / 12)):
            return a


def educ(a):
    if a < 3:
        return 0
    if a < 18:
        return min(1 + (a - 3) * 6 // 15, 6)
    return rng.choices(range(2, 12), weights=[1, 2, 3, 4, 20, 12, 6, 18, 9, 5])[0]


rows = []
wages = []
for _ in range(n):
    a = age()
    sex = rng.choice([1, 2])
    race = rng.choices(range(1, 7), weights=[70, 13, 1, 6, 6, 4])[0]
    state = rng.choices(STATES, weights=STATE_W)[0]
    ed = educ(a)
    if a < 16:
        emp, hours = 0, 0
    else:
        p_work = 0.78 if a < 62 else max(0.05, 0.78 - (a - 62) * 0.06)
        p_work *= 0.9 if sex == 2 else 1.0
        p_work *= 0.75 + 0.04 * max(ed - 5, 0)
        r = rng.random()
        emp = 1 if r < p_work else (2 if r < p_work + 0.04 else 3)
        hours = max(1, min(99, round(rng.gauss(40 if sex == 1 else 36, 9)))) if emp == 1 else 0
    if a < 16:
        wage = 999999
    elif emp == 1:
        wage = int(round(math.exp(rng.gauss(9.4 + 0.09 * ed + 0.012 * hours, 0.75)), -1))
        wages.append(wage)
    else:
        wage = 0
    if a < 15:
        inc = 9999999
    else:
        other = 0.0
        if a >= 62 and rng.random() < 0.85:
            other += math.exp(rng.gauss(9.6, 0.5))
        if rng.random() < 0.08:
            other += math.exp(rng.gauss(8.0, 1.5)) * (1 if rng.random() < 0.8 else -1)
        base = wage if wage != 999999 else 0
        inc = int(round(base + other, -1))
    rows.append([a, sex, race, state, ed, emp, hours, inc, wage])

# Wages top-coded at their 99.5th percentile, as the public files do.
top = sorted(wages)[int(0.995 * len(wages))]
for r in rows:
    if r[8] != 999999 and r[8] > top:
        r[7] += top - r[8]
        r[8] = top

tmp = out + ".tmp"
with open(tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["AGE", "SEX", "RACE", "STATEFIP", "EDUC", "EMPSTAT", "UHRSWORK", "INCTOT",
                "INCWAGE"])
    w.writerows(rows)
os.replace(tmp, out)
