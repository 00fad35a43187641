"""Writes a table shaped like the card-fraud benchmark (Kaggle's creditcard.csv, the CTGAN
paper's "credit") with nothing but the standard library and a fixed seed: a tall table of
floats with a rare target.

    python3 scripts/make_fraud_like.py OUT.csv [ROWS]   (default 100,000 rows)

Columns: Time (seconds from the first transaction over two days, with the daily cycle of
card use), V1-V28 (principal components: uncorrelated with each other, centred, their spread
falling from 1.9 to 0.3, heavy-tailed, written with six places), Amount (skewed, in cents,
0.00 in 0.6% of rows, up to about 25,000) and Class (1 for fraud in 0.2% of rows; fraud moves
ten of the components and the amount). Nobody tuned dpsynth for it: it stands in for the real
table, which no package registry bundles."""
import csv
import math
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
rng = random.Random(17)

SPREAD = [1.9 - 1.6 * j / 27 for j in range(28)]
# Components fraud moves, and by how many of their spreads.
FRAUD_SHIFT = {0: -2.5, 2: -3.5, 3: 2.0, 6: -3.0, 9: -3.0, 10: 2.0, 11: -3.5, 13: -4.0,
               15: -2.5, 16: -4.0}


def day_time():
    # Two days; few transactions between 1 and 7 in the morning.
    while True:
        t = rng.uniform(0, 172800)
        hour = (t / 3600) % 24
        if rng.random() < (0.15 if 1 <= hour < 7 else 1.0):
            return round(t)


header = ["Time"] + [f"V{j + 1}" for j in range(28)] + ["Amount", "Class"]
rows = []
for _ in range(n):
    fraud = rng.random() < 0.002
    v = []
    for j in range(28):
        # A Student-t-like draw (a normal over a gamma's root) keeps heavy tails.
        x = rng.gauss(0, 1) / math.sqrt(rng.gammavariate(3, 1 / 3))
        if j == 0:
            x = -abs(x) * 1.3 + 0.6 if rng.random() < 0.3 else x
        x *= SPREAD[j] / 1.2
        if fraud and j in FRAUD_SHIFT:
            x += FRAUD_SHIFT[j] * SPREAD[j] * rng.uniform(0.5, 1.5)
        v.append(round(x, 6))
    if rng.random() < 0.006:
        amount = 0.0
    else:
        amount = min(25691.16, round(math.exp(rng.gauss(3.1, 1.6 if not fraud else 2.0)), 2))
    # The amount leans on two components, as the real table's does.
    v[1] = round(v[1] - 0.25 * (math.log1p(amount) - 3.1), 6)
    v[6] = round(v[6] + 0.15 * (math.log1p(amount) - 3.1), 6)
    rows.append([day_time()] + v + [f"{amount:.2f}", int(fraud)])
rows.sort(key=lambda r: r[0])

tmp = out + ".tmp"
with open(tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(rows)
os.replace(tmp, out)
