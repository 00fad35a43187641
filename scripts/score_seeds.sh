#!/usr/bin/env bash
# Sampling noise out of a comparison of trained files: each model sampled with --seed 1..S
# (as many rows as the table's training split), scored by scripts/quality.py, and the mean
# quality / shapes / pair trends / ROC-AUC printed per model. Tall tables' scores move with the
# sample (HGB's early stopping, SDMetrics' pair trends: docs/quality.md, stop 60), so compare
# their means.
#   bash scripts/score_seeds.sh TABLE SEEDS MODEL.dpsynth...
#   e.g. bash scripts/score_seeds.sh fraud 3 target/quality/fraud/*.dpsynth
#   DPSYNTH=PATH: the binary that samples (default: the debug build)
set -uo pipefail
cd "$(dirname "$0")/.."
TABLE="${1:?give a table}"
SEEDS="${2:?give a number of sampling seeds}"
shift 2
PYTHON="${PYTHON:-target/ctgan-venv/bin/python}"
BIN="${DPSYNTH:-${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}/debug/dpsynth}"
DIR=target/quality/$TABLE
N=$(( $(wc -l < "$DIR/train.csv") - 1 ))
OUT=$(mktemp -d)
for model in "$@"; do
  for seed in $(seq 1 "$SEEDS"); do
    "$BIN" sample "$model" -n "$N" -o "$OUT/s.csv" --seed "$seed" --quiet || {
      echo "$model: sampling failed"; continue; }
    "$PYTHON" scripts/quality.py score "$TABLE" "$DIR/train.csv" "$DIR/holdout.csv" \
      "$OUT/s.csv" 2>/dev/null > "$OUT/score.txt"
    echo "$(grep -m1 '^quality' "$OUT/score.txt") $(grep -m1 'ROC-AUC' "$OUT/score.txt")"
  done | awk -v m="$model" '
    /^quality/ { q += $2; s += $4; p += $7; a += $NF; n++ }
    END { if (n) printf "%s: quality %.3f shapes %.3f pair trends %.3f AUC %.3f (mean of %d samples)\n", m, q/n, s/n, p/n, a/n, n }'
done
rm -rf "$OUT"
