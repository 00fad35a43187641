"""Per released continuous edge of a DP file (`dp::copula`): the normal-score correlation of
the real rows, the released one, and that of each synthetic table, with Pearson's r beside it
(docs/quality.md, stop 54).

    target/ctgan-venv/bin/python scripts/released_correlations.py DPSYNTH FILE TRAIN.csv SYNTH.csv

DPSYNTH is the binary whose `inspect --json` reads FILE."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata


def normal_scores(x):
    x = pd.to_numeric(x, errors="coerce")
    present = x.notna().to_numpy()
    z = np.full(len(x), np.nan)
    z[present] = norm.ppf(rankdata(x[present]) / (present.sum() + 1))
    return z


def correlations(table, a, b):
    za, zb = normal_scores(table[a]), normal_scores(table[b])
    both = ~np.isnan(za) & ~np.isnan(zb)
    xa = pd.to_numeric(table[a], errors="coerce").to_numpy()[both]
    xb = pd.to_numeric(table[b], errors="coerce").to_numpy()[both]
    return np.corrcoef(za[both], zb[both])[0, 1], np.corrcoef(xa, xb)[0, 1]


def main(binary, model, train_path, *synthetic_paths):
    header = json.loads(subprocess.run([binary, "inspect", "--json", model],
                                       capture_output=True, text=True, check=True).stdout)
    names = [c["name"] for c in header["transformer"]["schema"]["columns"]]
    train = pd.read_csv(train_path)
    synthetic = [pd.read_csv(p) for p in synthetic_paths]
    for (a, b), rho in (header.get("pairs") or {}).get("copula", []):
        a, b = names[a], names[b]
        line = f"{a:<28} {b:<28} released {rho:.3f}  real ns {correlations(train, a, b)[0]:.3f}"
        for s in synthetic:
            z, r = correlations(s, a, b)
            line += f"  synthetic ns {z:.3f} r {r:.3f}"
        print(line)


if __name__ == "__main__":
    main(*sys.argv[1:])
