"""How much of SDMetrics 0.32's "Column Pair Trends" a synthetic table loses to the report's
binning alone. The report discretizes each numeric column of each table over that table's own
[min, max] (np.histogram_bin_edges, 10 bins), so a pair of a numeric and a discrete column is
compared bin index by bin index even when the two tables' bins do not line up: one synthetic
value beyond the real maximum shifts every bin. Printed for each synthetic file: the report's
pair trends, and the same pairs scored with both tables binned on common edges
(sdmetrics.column_pairs.ContingencySimilarity, which bins on the real column's edges).

    target/ctgan-venv/bin/python scripts/pair_bins.py TABLE TRAIN.csv SYNTHETIC.csv...
"""
import os, sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, "scripts")
import quality
from sdmetrics.reports.single_table import QualityReport
from sdmetrics.column_pairs import ContingencySimilarity
table = sys.argv[1]
quality.DISCRETE, quality.TARGET, quality.POSITIVE = quality.TABLES[table]
train = quality.load(sys.argv[2])
meta = {"columns": {c: {"sdtype": "categorical" if c in quality.DISCRETE else "numerical"} for c in train.columns}}
for path in sys.argv[3:]:
    syn = quality.load(path)
    r = QualityReport(); r.generate(train, syn, meta, verbose=False)
    d = r.get_details("Column Pair Trends")
    d = d[d["Meets Threshold?"].astype("boolean").fillna(False)]
    aligned = []
    for _, row in d.iterrows():
        a, b = row["Column 1"], row["Column 2"]
        if row["Metric"] == "ContingencySimilarity":
            cont = [c for c in (a, b) if c not in quality.DISCRETE]
            s = ContingencySimilarity.compute(train[[a, b]], syn[[a, b]], continuous_column_names=cont) if cont else row["Score"]
        else:
            s = row["Score"]
        aligned.append(s)
    import numpy as np
    print(f"{os.path.basename(path)}: report {d['Score'].mean():.3f}  common bins {np.mean(aligned):.3f}  ({len(d)} pairs)")
