"""Tables of odd shapes for trying dpsynth as a new user would (docs/quality.md, "Odd tables").

    python3 scripts/make_odd_tables.py OUT_DIR

Writes, with a fixed seed and nothing but the standard library:
  odd.csv     3,000 rows: a unique id, hourly timestamps "2020-01-01 00:00", a constant text and
              a constant number, an all-missing column, True/False, amounts around -1e6 that
              cross zero, values near 1e-6 of both signs, a log-normal amount with sigma 3,
              zip codes, a 95%-missing number, a category with 30% missing, a percentage with
              one decimal, a 3% target, and "NaN"/"inf" cells in one column
  small.csv   the first 50 rows of odd.csv
  wide.csv    3,000 rows x 80 columns (60 numeric, 20 eight-value categories)
  semi.csv    1,200 rows, semicolon-separated, a quoted cell holding the delimiter, CRLF
  bom.tsv     1,200 rows, tab-separated, with a UTF-8 byte-order mark
"""
import csv
import datetime
import math
import os
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "odd_tables"
os.makedirs(out, exist_ok=True)
rng = random.Random(1)
n = 3000
start = datetime.datetime(2020, 1, 1)
zips = [f"{rng.randrange(100000):05d}" for _ in range(800)]
header = ["id", "when", "const", "constnum", "allnull", "flag", "neg", "tiny", "heavy",
          "zip", "mostlynull", "cat_with_null", "pct", "target", "with_nan"]
rows = []
for i in range(n):
    rows.append([
        f"ID{i:06d}",
        (start + datetime.timedelta(hours=i)).strftime("%Y-%m-%d %H:%M"),
        "same",
        7,
        "",
        rng.choice(["True", "False"]),
        round(rng.gauss(-1e6, 5e5), 2),
        rng.gauss(0, 1e-6),
        round(math.exp(rng.gauss(8, 3))),
        rng.choice(zips),
        round(rng.gauss(0, 1), 3) if rng.random() < 0.05 else "",
        "" if rng.random() < 0.3 else rng.choice("abcde"),
        round(rng.uniform(0, 100), 1),
        "y" if rng.random() < 0.03 else "n",
        {0: "NaN", 1: "inf"}.get(i % 97, round(rng.gauss(10, 2), 2)),
    ])


def write(name, header, rows, delimiter=",", lineterminator="\n", encoding="utf-8"):
    with open(os.path.join(out, name), "w", newline="", encoding=encoding) as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator=lineterminator)
        w.writerow(header)
        w.writerows(rows)


write("odd.csv", header, rows)
write("small.csv", header, rows[:50])
wide_header = [f"c{i}" for i in range(60)] + [f"k{i}" for i in range(20)]
wide = [[round(rng.gauss(i, 1), 3) for i in range(60)] + [rng.choice("pqrstuvw") for _ in range(20)]
        for _ in range(n)]
write("wide.csv", wide_header, wide)
cities = ["Paris", "New York; NY", "São Paulo", 'The "Hub"']
plain = [[rng.choice(cities), round(rng.gauss(50, 10), 2), rng.choice(["yes", "no"]),
          rng.randrange(6)] for _ in range(1200)]
write("semi.csv", ["city", "amount", "flag", "kids"], plain, delimiter=";", lineterminator="\r\n")
write("bom.tsv", ["city", "amount", "flag", "kids"], plain, delimiter="\t", encoding="utf-8-sig")
print(f"wrote odd.csv, small.csv, wide.csv, semi.csv, bom.tsv to {out}")
