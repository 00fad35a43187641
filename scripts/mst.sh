#!/usr/bin/env bash
# smartnoise MST (1.0.8) on the split of scripts/quality.sh, scored the same way:
#   bash scripts/mst.sh TABLE EPSILON      (TABLE: adult, credit, churn or attrition)
# Run scripts/quality.sh on the table first (it writes the split and the scoring venv).
set -euo pipefail
cd "$(dirname "$0")/.."
TABLE="${1:?give a table}"
EPS="${2:?give an epsilon}"
VENV=target/mst-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import snsynth" 2>/dev/null \
  || "$VENV/bin/pip" install --quiet smartnoise-synth==1.0.8 packaging
OUT=target/quality/$TABLE
"$VENV/bin/python" scripts/mst.py "$TABLE" "$EPS"
target/ctgan-venv/bin/python scripts/quality.py score "$TABLE" "$OUT/train.csv" \
  "$OUT/holdout.csv" "$OUT/mst-eps$EPS.csv"
