#!/usr/bin/env bash
# Trains and samples every table of scripts/make_odd_tables.py, with DP (configs/dp-discover.toml,
# one epoch, one warm-start epoch) and without, and prints one line per run: whether it
# trained, whether sampling worked, and the first sampled row. A run that fails prints its error.
#   bash scripts/odd_tables.sh [OUT_DIR]        (DPSYNTH=path/to/binary to skip the build)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-target/odd_tables}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
if [ -z "${DPSYNTH:-}" ]; then
  cargo build --quiet --bin dpsynth || exit 1
  DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
fi
python3 scripts/make_odd_tables.py "$OUT" >/dev/null || exit 1
for table in odd small wide semi bom; do
  file=$(ls "$OUT"/$table.* | head -1)
  for mode in dp plain; do
    if [ $mode = dp ]; then
      flags=(--config configs/dp-discover.toml --epsilon 3 --set privacy.warm_start_epochs=1)
    else
      flags=()
    fi
    model="$OUT/$table-$mode.dpsynth"
    start=$(date +%s)
    if ! err=$("$DPSYNTH" train "$file" "${flags[@]}" --set train.epochs=1 --out "$model" --quiet 2>&1); then
      echo "$table $mode: train refused: $(echo "$err" | grep error | head -1)"
      continue
    fi
    if ! "$DPSYNTH" sample "$model" -n 1000 -o "$OUT/$table-$mode.csv" --quiet 2>/dev/null; then
      echo "$table $mode: trained, sampling FAILED"
      continue
    fi
    echo "$table $mode: ok in $(( $(date +%s) - start )) s; first row: $(sed -n 2p "$OUT/$table-$mode.csv" | cut -c1-150)"
  done
done
