"""Writes datasets/credit_data.csv as a spreadsheet export would: amounts with a dollar sign and
thousands separators ("$1,250", "$3,000.00"), missing amounts as "N/A". Its values are the
same, so a run on it should score as a run on credit_data does (scripts/quality.sh credit_fmt);
a reader that cannot read such cells as numbers makes them categories.
    python3 scripts/make_formatted_tables.py OUT.csv"""
import csv
import sys

src, out = "datasets/credit_data.csv", sys.argv[1]


def dollars(cell, places):
    if cell in ("", "NA"):
        return "N/A"
    x = float(cell)
    return f"${x:,.{places}f}"


with open(src, newline="") as f:
    rows = list(csv.reader(f))
header = rows[0]
places = {"Expenses": 0, "Income": 2, "Assets": 2, "Debt": 2, "Amount": 0, "Price": 0}
index = {name: header.index(name) for name in places}
tmp = out + ".tmp"
with open(tmp, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    for row in rows[1:]:
        for name, i in index.items():
            row[i] = dollars(row[i], places[name])
        w.writerow(row)
import os
os.replace(tmp, out)
