"""How far a synthetic table's numbers stray from the real table's range, column by column.

For each column that is numeric in the real table (every non-missing cell parses as a number):
the share of synthetic values below the real minimum or above the real maximum, the largest
synthetic value against the real maximum, the reach (how far the synthetic values go beyond the
real range, as a share of that range), and the Kolmogorov-Smirnov distance of the two columns
(1 - SDMetrics' KSComplement). Prints one line per column with any value outside, then the
means of the share outside, the reach and the KS distance over all numeric columns, and the
values lost: in a numeric column of at most 40 distinct values, a value holding at least 2% of
the real rows that the synthetic table holds in less than a fifth of that share (a rating's 6
sampled as 5). Last, the values off their lattice: in a numeric column whose non-zero real
values all lie on a lattice coarser than their decimal places (amounts in hundreds, years in
halves: 10,000 down to 0.00005, ones and fives; 99% of them), the share of non-zero synthetic
values that do not. And the real rows out of reach: the share of real values below the smallest
or above the largest synthetic value (a tail the release cut off), listed where above 2%.
Values are matched at 6 significant digits and ranges within a millionth (a table written
from single floats, 5.0000001, against the same values written with their places).

    python3 scripts/outside_range.py REAL.csv SYNTHETIC.csv [--all]

(`--all` prints every numeric column.) Needs pandas and scipy (target/ctgan-venv has them).
"""

import sys

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

MISSING = {"", "NA", "NaN", "nan", "null", "NULL"}


def numbers(column: pd.Series) -> pd.Series:
    present = column[~column.isin(MISSING)]
    return pd.to_numeric(present, errors="coerce")


CHAIN = [1e4, 5e3, 1e3, 500, 100, 50, 10, 5, 1, 0.5, 0.1, 0.05, 0.01, 5e-3, 1e-3, 5e-4, 1e-4, 5e-5]


def on(values: pd.Series, step: float) -> np.ndarray:
    q = values / step
    return np.abs(q - np.round(q)) <= 1e-6 + 1e-12 * np.abs(q)


def lattice(values: pd.Series):
    """The coarsest lattice of CHAIN holding 99% of the non-zero values, when it is coarser
    than the values' decimal places (not 1, 0.1, 0.01, ...)."""
    nonzero = values[values != 0]
    if len(nonzero) < 10:
        return None
    for step in CHAIN:
        if on(nonzero, step).mean() >= 0.99:
            power_of_ten = abs(np.log10(step) - round(np.log10(step))) < 1e-9
            return None if step <= 1 and power_of_ten else step
    return None


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    show_all = "--all" in sys.argv
    real = pd.read_csv(args[0], dtype=str, keep_default_na=False)
    synth = pd.read_csv(args[1], dtype=str, keep_default_na=False)
    shares, distances, reaches, lost, off, unreached = [], [], [], [], [], []
    for name in real.columns:
        r = numbers(real[name])
        if len(r) == 0 or r.isna().any() or name not in synth.columns:
            continue
        s = numbers(synth[name]).dropna()
        if len(s) == 0:
            continue
        lo, hi = r.min(), r.max()
        share = float(((s < lo) | (s > hi)).mean())
        distance = float(ks_2samp(r, s).statistic)
        reach = max(s.max() - hi, lo - s.min(), 0.0) / ((hi - lo) or 1.0)
        reaches.append(reach)
        # Within a millionth of the range: a table written from single floats (Ecdat's
        # Catsup: 5.0000001) against the same values written with their decimal places.
        tol = 1e-6 * max(abs(lo), abs(hi), 1.0)
        cut = float(((r < s.min() - tol) | (r > s.max() + tol)).mean())
        if cut > 0.02:
            unreached.append(f"{name or '(unnamed)'} {100 * cut:.1f}%")
        if r.nunique() <= 40:
            # Values compared at 6 significant digits (5.0000001 is 5.0).
            real_share = r.map(lambda v: float(f"{v:.6g}")).value_counts(normalize=True)
            synth_share = s.map(lambda v: float(f"{v:.6g}")).value_counts(normalize=True)
            for value, part in real_share.items():
                if part >= 0.02 and synth_share.get(value, 0.0) < 0.2 * part:
                    lost.append(f"{name or '(unnamed)'}={value:g} ({100 * part:.1f}%)")
        step = lattice(r)
        if step is not None:
            nonzero = s[s != 0]
            off.append(f"{name or '(unnamed)'} {step:g}: {100 * (1 - on(nonzero, step).mean()):.0f}%")
        shares.append(share)
        distances.append(distance)
        if share > 0 or show_all:
            print(
                f"  {name or '(unnamed)'}: {100 * share:.1f}% outside [{lo:g}, {hi:g}]; "
                f"synthetic [{s.min():g}, {s.max():g}]; reach {reach:.2f}; KS {distance:.3f}"
            )
    if shares:
        print(
            f"{args[1]}: {len(shares)} numeric columns, mean {100 * np.mean(shares):.2f}% "
            f"outside the real range, mean reach {np.mean(reaches):.3f} (worst "
            f"{max(reaches):.2f}), mean KS {np.mean(distances):.3f}, {len(lost)} values lost"
            + (f": {', '.join(lost)}" if lost else "")
            + (f"; off lattice: {', '.join(off)}" if off else "")
            + (f"; real rows out of reach: {', '.join(unreached)}" if unreached else "")
        )


if __name__ == "__main__":
    main()
