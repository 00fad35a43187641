#!/usr/bin/env bash
# Paired check of `dpsynth sample --calibrate on|off` on trained files: each model sampled twice
# with --seed 1, without and with the calibration, so that both samples come from the same
# generator. Prints scripts/outside_range.py's summary (mean KS over numeric columns) for each;
# with TABLE (adult, credit, churn, attrition, ...: a scripts/quality.sh table whose split is
# in target/quality/TABLE) also scripts/quality.py's scores.
#   bash scripts/calibrate_ab.sh REAL.csv MODEL.dpsynth... [-- TABLE]
#   e.g. bash scripts/calibrate_ab.sh target/quality/credit/train.csv \
#          target/quality/credit/*.dpsynth -- credit
#   (DPSYNTH=binary, PYTHON=python with pandas, scipy and sdmetrics; N rows: the real table's)
set -uo pipefail
cd "$(dirname "$0")/.."
REAL="${1:?give the real table}"
shift
MODELS=()
TABLE=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then TABLE="${2:-}"; break; fi
  MODELS+=("$1"); shift
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
if [ -z "${DPSYNTH:-}" ]; then
  cargo build --quiet --bin dpsynth || exit 1
  DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
fi
PYTHON="${PYTHON:-target/ctgan-venv/bin/python}"
N=$(( $(wc -l < "$REAL") - 1 ))
OUT=$(mktemp -d)
for model in "${MODELS[@]}"; do
  for mode in plain calibrated; do
    flag="--calibrate off"; [ "$mode" = calibrated ] && flag="--calibrate on"
    "$DPSYNTH" sample "$model" -n "$N" -o "$OUT/$mode.csv" --seed 1 --quiet $flag || {
      echo "$model: sampling failed ($mode)"; continue; }
    line="$(basename "$model") $mode: $("$PYTHON" scripts/outside_range.py "$REAL" "$OUT/$mode.csv" | tail -1 | sed 's|^[^:]*: ||' | cut -d';' -f1-4)"
    if [ -n "$TABLE" ]; then
      scores=$("$PYTHON" scripts/quality.py score "$TABLE" "target/quality/$TABLE/train.csv" \
        "target/quality/$TABLE/holdout.csv" "$OUT/$mode.csv" 2>/dev/null)
      line="$line; $(echo "$scores" | grep -m1 '^quality') $(echo "$scores" | grep -m1 'ROC-AUC' | sed 's/.*ROC-AUC/AUC/')"
    fi
    echo "$line"
  done
done
rm -rf "$OUT"
