"""smartnoise MST on the same 80/20 split as scripts/quality.sh, for a side-by-side figure:

    target/mst-venv/bin/python scripts/mst.py TABLE EPSILON [mst|aim]

(scripts/mst.sh makes the venv and scores the result with scripts/quality.py.) MST gets 10% of
epsilon for its preprocessor (continuous bounds), as ../shared/design/quality-bars.md did, and
delta 1e-6 where the API takes it. MST reads each categorical column's set of values from the
raw rows (dpsynth must discover them under DP): say so beside any comparison. Continuous
columns with missing values are not handled by MST: their nulls are filled with the column's
median before fitting (stated in the output), which favours MST slightly."""
import sys
import time

import pandas as pd

sys.path.insert(0, "scripts")
from quality import TABLES  # noqa: E402

table, eps = sys.argv[1], float(sys.argv[2])
method = sys.argv[3] if len(sys.argv) > 3 else "mst"
discrete, target, _ = TABLES[table]
out = f"target/quality/{table}"
train = pd.read_csv(f"{out}/train.csv", na_values=["", "NA"], keep_default_na=False,
                    dtype={c: str for c in discrete})
continuous = [c for c in train.columns if c not in discrete]
# Dates (movies' "Jun 12 1998") are given to MST as days since 1970, as quality.py scores them.
for c in continuous:
    if train[c].dtype == object:
        days = pd.to_datetime(train[c], errors="coerce", format="mixed")
        train[c] = (days - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        print(f"MST: {c} given as days since 1970")
for c in discrete:
    train[c] = train[c].astype(str)
filled = [c for c in continuous if train[c].isna().any()]
for c in filled:
    train[c] = train[c].fillna(train[c].median())
if filled:
    print(f"MST: nulls filled with the median in {', '.join(filled)}")

from snsynth import Synthesizer  # noqa: E402

start = time.time()
synth = Synthesizer.create(method, epsilon=eps, delta=1e-6)
synth.fit(train, categorical_columns=discrete, continuous_columns=continuous,
          preprocessor_eps=0.1 * eps)
rows = synth.sample(len(train))
print(f"{method.upper()} epsilon {eps} on {table}: fit {time.time() - start:.0f} s")
rows.to_csv(f"{out}/{method}-eps{eps:g}.csv", index=False)
