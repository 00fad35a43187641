"""Which column pairs SDMetrics 0.32's QualityReport scores in "Column Pair Trends", and how
each synthetic table does on them (docs/quality.md, "What SDMetrics' pair trends score").

    target/ctgan-venv/bin/python scripts/pair_trends.py TABLE TRAIN.csv [SYNTHETIC.csv ...]

The report averages only pairs whose real |Pearson r| > 0.5 (two numeric columns) or real
Cramér's V > 0.3 (any other pair). TABLE names the discrete columns (scripts/quality.py)."""
import os
import sys
import warnings

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality  # noqa: E402
from sdmetrics.reports.single_table import QualityReport  # noqa: E402


def details(train, synthetic):
    metadata = {"columns": {c: {"sdtype": "categorical" if c in quality.DISCRETE else "numerical"}
                            for c in train.columns}}
    report = QualityReport()
    report.generate(train, synthetic, metadata, verbose=False)
    d = report.get_details("Column Pair Trends")
    return d[d["Meets Threshold?"].astype("boolean").fillna(False)]


def main(table, train_path, *synthetic_paths):
    quality.DISCRETE, quality.TARGET, quality.POSITIVE = quality.TABLES[table]
    train = quality.load(train_path)
    scored = details(train, train)
    total = len(train.columns) * (len(train.columns) - 1) // 2
    print(f"{table}: {len(scored)} of {total} pairs scored")
    for path in synthetic_paths:
        d = details(train, quality.load(path))
        print(f"{path}: pair trends {d['Score'].mean():.3f}")
        for _, row in d.iterrows():
            real, syn = row["Real Correlation"], row["Synthetic Correlation"]
            what = (f"r {real:.2f} -> {syn:.2f}" if real == real
                    else f"V {row['Real Association']:.2f}")
            print(f"  {row['Column 1']:<24} {row['Column 2']:<24} {row['Score']:.3f}  {what}")


if __name__ == "__main__":
    main(*sys.argv[1:])
