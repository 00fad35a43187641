#!/usr/bin/env bash
# The privacy audit bench (docs/privacy-audit.md): `dpsynth audit` on the bundled credit table
# with the shipped configs, at epsilon 1 and 8, without DP, and at epsilon 1 with the noise or
# the clipping switched off (audit-only switches) to show that the audit can fail.
#
#   bash scripts/audit.sh [EPOCHS_DP] [EPOCHS_PLAIN]
#
# Each run trains once (OS-seeded noise, as a release would) and prints the claimed epsilon
# and the 95% lower bounds of the white-box observer (gradient canaries on the critic's noisy
# sums) and of the black-box observer (canary rows, distance to the closest sampled row).
# JSON reports go to target/audit/. A DP run whose bound passes its claim exits the table
# with FAIL in the verdict column.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS_DP="${1:-20}"
EPOCHS_PLAIN="${2:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
export DPSYNTH_FORCE_CPU=1
cargo build --quiet --bin dpsynth
DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
OUT=target/audit
mkdir -p "$OUT"
run() {
  local name="$1"; shift
  local start=$SECONDS
  "$DPSYNTH" audit datasets/credit_data.csv --quiet --json "$OUT/$name.json" "$@" > "$OUT/$name.txt"
  local secs=$(( SECONDS - start ))
  python3 - "$OUT/$name.json" "$name" "$secs" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
w = r["white_box"]["epsilon_lower_bound"] if r["white_box"] else None
b = r["black_box"]["epsilon_lower_bound"] if r["black_box"] else None
claim = r["claimed_epsilon"]
best = max(x for x in (w, b, 0.0) if x is not None)
verdict = "no claim" if claim is None else ("FAIL" if best > claim else "pass")
fmt = lambda x: "-" if x is None else f"{x:.3f}"
print(f"{sys.argv[2]:<22} {fmt(claim):>7} {fmt(r['spent_epsilon']):>7} {fmt(w):>9} {fmt(b):>9} {r['epochs']:>6} {sys.argv[3]:>5}s  {verdict}")
PY
}
printf '%-22s %7s %7s %9s %9s %6s %6s  %s\n' run claim spent white-box black-box epochs time verdict
run dp-eps1 --config configs/credit-dp.toml --epochs "$EPOCHS_DP"
run dp-eps8 --config configs/credit-dp.toml --epochs "$EPOCHS_DP" --epsilon 8
run no-dp --config configs/credit.toml --epochs "$EPOCHS_PLAIN"
run dp-eps1-no-noise --config configs/credit-dp.toml --epochs "$EPOCHS_DP" --no-noise
run dp-eps1-no-clipping --config configs/credit-dp.toml --epochs "$EPOCHS_DP" --no-clipping
