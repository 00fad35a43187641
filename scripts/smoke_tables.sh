#!/usr/bin/env bash
# Trains each given CSV for one epoch (one warm-start epoch) with configs/dp-discover.toml at
# epsilon 3, samples 500 rows, and checks what came back: one line per table, "ok" or the error,
# then scripts/outside_range.py's summary. A check that nothing refuses or panics on tables
# nobody tuned for, not a quality figure.
#   DPSYNTH=path/to/binary bash scripts/smoke_tables.sh OUT_DIR TABLE.csv ...
#   (PYTHON=path/to/python with pandas and scipy; default target/ctgan-venv/bin/python)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:?give an output folder}"
shift
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
if [ -z "${DPSYNTH:-}" ]; then
  cargo build --quiet --bin dpsynth || exit 1
  DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
fi
PYTHON="${PYTHON:-target/ctgan-venv/bin/python}"
mkdir -p "$OUT"
ok=0
failed=0
for table in "$@"; do
  name=$(basename "$(dirname "$table")")-$(basename "$table" .csv)
  if ! err=$("$DPSYNTH" train "$table" --config configs/dp-discover.toml --epsilon 3 \
    --set train.epochs=1 --set privacy.warm_start_epochs=1 --out "$OUT/$name.dpsynth" --quiet 2>&1); then
    echo "$name: train refused: $(echo "$err" | grep -m1 -iE 'error|panick')"
    failed=$((failed + 1))
    continue
  fi
  if ! err=$("$DPSYNTH" sample "$OUT/$name.dpsynth" -n 500 -o "$OUT/$name.csv" --quiet 2>&1); then
    echo "$name: sampling FAILED: $(echo "$err" | grep -m1 -iE 'error|panick')"
    failed=$((failed + 1))
    continue
  fi
  ok=$((ok + 1))
  echo "$name: ok; $("$PYTHON" scripts/outside_range.py "$table" "$OUT/$name.csv" 2>/dev/null | tail -1 | sed 's|^[^:]*: ||')"
done
echo "$ok ok, $failed failed"
