#!/usr/bin/env bash
# Paired check of two binaries' sampling on the same trained files: each model sampled by
# both with --seed 1 (default --calibrate), as many rows as the table's training split, and
# scored by scripts/quality.py. Differences come from sampling alone (same generator).
#   bash scripts/sample_ab.sh BIN_A BIN_B TABLE MODEL.dpsynth...
#   e.g. bash scripts/sample_ab.sh target/bin/old target/bin/new churn target/quality/churn/*.dpsynth
#   (TABLE: a scripts/quality.sh table whose split is in target/quality/TABLE)
set -uo pipefail
cd "$(dirname "$0")/.."
A="${1:?give binary A}"
B="${2:?give binary B}"
TABLE="${3:?give a table}"
shift 3
PYTHON="${PYTHON:-target/ctgan-venv/bin/python}"
DIR=target/quality/$TABLE
N=$(( $(wc -l < "$DIR/train.csv") - 1 ))
OUT=$(mktemp -d)
for model in "$@"; do
  for side in A B; do
    bin=$A; [ $side = B ] && bin=$B
    "$bin" sample "$model" -n "$N" -o "$OUT/$side.csv" --seed 1 --quiet || {
      echo "$model: sampling failed ($side)"; continue; }
    scores=$("$PYTHON" scripts/quality.py score "$TABLE" "$DIR/train.csv" "$DIR/holdout.csv" \
      "$OUT/$side.csv" 2>/dev/null)
    echo "$(basename "$model") $side: $(echo "$scores" | grep -m1 '^quality') $(echo "$scores" | grep -m1 'ROC-AUC' | sed 's/.*ROC-AUC/AUC/')"
  done
done
rm -rf "$OUT"
