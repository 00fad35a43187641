#!/usr/bin/env bash
# smartnoise MST (1.0.8) on the split of scripts/quality.sh, scored the same way:
#   bash scripts/mst.sh TABLE EPSILON [aim]   (TABLE: a table scripts/quality.py knows)
# With "aim", smartnoise AIM instead (much slower: an hour on Adult).
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
METHOD="${3:-mst}"
"$VENV/bin/python" scripts/mst.py "$TABLE" "$EPS" "$METHOD"
target/ctgan-venv/bin/python scripts/quality.py score "$TABLE" "$OUT/train.csv" \
  "$OUT/holdout.csv" "$OUT/$METHOD-eps$EPS.csv"
