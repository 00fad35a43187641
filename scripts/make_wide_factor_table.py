"""A wide table driven by one hidden factor, for trying DP on 150 columns (docs/quality.md,
stop 45): 3,000 rows; x0..x99 numbers (column j: z x (j % 5 + 1) + 2 e + j, z and e standard
normal, three decimals), k0..k39 categories of 2 to 7 letters drawn independently, f0..f9
yes/no flags whose "yes" share rises from 10% to 15% where z > 1. Seeded; standard library.

    python3 scripts/make_wide_factor_table.py OUT.csv
"""
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "wide150.csv"
r = random.Random(3)
header = [f"x{j}" for j in range(100)] + [f"k{j}" for j in range(40)] + [f"f{j}" for j in range(10)]
with open(out, "w") as f:
    f.write(",".join(header) + "\n")
    for _ in range(3000):
        z = r.gauss(0, 1)
        row = [f"{round(z * (j % 5 + 1) + r.gauss(0, 1) * 2 + j, 3)}" for j in range(100)]
        row += [r.choice("abcdefgh"[: (j % 6) + 2]) for j in range(40)]
        row += ["yes" if r.random() < 0.1 + 0.05 * (z > 1) else "no" for _ in range(10)]
        f.write(",".join(row) + "\n")
