"""Writes the public tables of stop 42's sweep as CSV: every dataset bundled with statsmodels
(0.15) and vega_datasets (0.9, local ones) of at least 200 rows, and scikit-learn's diabetes,
breast_cancer, wine and digits. Nothing is downloaded at run time; the packages come from pip.
    target/ctgan-venv/bin/pip install statsmodels vega_datasets
    target/ctgan-venv/bin/python scripts/export_public_tables.py OUT_DIR
then e.g. `bash scripts/range_sweep.sh OUT OUT_DIR/*.csv` (docs/quality.md, stop 42)."""
import importlib, pkgutil, os, sys, warnings
warnings.filterwarnings("ignore")
import statsmodels.datasets as smd
out = sys.argv[1] if len(sys.argv) > 1 else "target/public-tables"
os.makedirs(out, exist_ok=True)
n = 0
for m in pkgutil.iter_modules(smd.__path__):
    if m.name in ("utils", "tests", "template_data"): continue
    try:
        mod = importlib.import_module("statsmodels.datasets." + m.name)
        df = mod.load_pandas().data
        if len(df) >= 200:
            df.to_csv(f"{out}/sm-{m.name}.csv", index=False); n += 1
            print("sm", m.name, df.shape, int(df.isna().sum().sum()))
    except Exception as e:
        print("skip", m.name, e)
from vega_datasets import local_data
for name in local_data.list_datasets():
    try:
        df = local_data(name)
        if len(df) >= 200 and df.shape[1] >= 2:
            df.to_csv(f"{out}/vega-{name}.csv", index=False); n += 1
            print("vega", name, df.shape, int(df.isna().sum().sum()))
    except Exception as e:
        print("skip vega", name, e)
import sklearn.datasets as skd
for f in ["load_diabetes","load_breast_cancer","load_wine","load_digits"]:
    b = getattr(skd, f)(as_frame=True)
    df = b.frame
    if len(df) >= 170:
        df.to_csv(f"{out}/sk-{f[5:]}.csv", index=False); n += 1; print("sk", f, df.shape)
print(n)
