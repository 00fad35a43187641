"""Write an SDMetrics QualityReport fixture (sdmetrics 0.32.0) for a real/synthetic CSV pair.

Produced tests/fixtures/sdmetrics_credit.json with:

    target/ctgan-venv/bin/python scripts/sdmetrics_reference.py \
        datasets/credit_data.csv tests/fixtures/credit_synthetic.csv tests/fixtures/sdmetrics_credit.json

Numeric columns get sdtype "numerical", text columns "categorical"; empty cells stay NaN.
The report is the (deprecated) sdmetrics.reports.single_table.QualityReport, whose Column Pair
Trends average counts only pairs with |Pearson r_real| > 0.5 (numerical-numerical) or real
Cramer's V > 0.3 (other pairs); the others score NaN (null here). "unthresholded" repeats the run
with both thresholds at 0, which scores every pair.
"""
import json
import sys
import warnings

import pandas as pd

warnings.simplefilter("ignore", FutureWarning)
from sdmetrics.reports.single_table import QualityReport  # noqa: E402


def num(x):
    return None if x is None or pd.isna(x) else float(x)


def run(real, synthetic, metadata, thresholds):
    report = QualityReport()
    if not thresholds:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate(real, synthetic, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    pairs = []
    for _, r in report.get_details("Column Pair Trends").iterrows():
        pairs.append({
            "column_1": r["Column 1"], "column_2": r["Column 2"], "metric": r["Metric"],
            "score": num(r["Score"]), "real_correlation": num(r["Real Correlation"]),
            "synthetic_correlation": num(r["Synthetic Correlation"]),
            "real_association": num(r["Real Association"]),
            "meets_threshold": None if pd.isna(r["Meets Threshold?"]) else bool(r["Meets Threshold?"]),
            "error": None if pd.isna(r.get("Error")) else r.get("Error"),
        })
    shapes = {r["Column"]: {"metric": r["Metric"], "score": num(r["Score"])}
              for _, r in report.get_details("Column Shapes").iterrows()}
    return {"overall": num(report.get_score()), "column_shapes": num(props["Column Shapes"]),
            "column_pair_trends": num(props["Column Pair Trends"]), "shapes": shapes,
            "pairs": pairs}


def main(real_path, synthetic_path, out_path):
    real, synthetic = pd.read_csv(real_path), pd.read_csv(synthetic_path)
    metadata = {"columns": {
        c: {"sdtype": "numerical" if pd.api.types.is_numeric_dtype(real[c]) else "categorical"}
        for c in real.columns}}
    result = run(real, synthetic, metadata, thresholds=True)
    result["unthresholded"] = run(real, synthetic, metadata, thresholds=False)
    result["command"] = ("target/ctgan-venv/bin/python scripts/sdmetrics_reference.py "
                         + " ".join(sys.argv[1:]))
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
