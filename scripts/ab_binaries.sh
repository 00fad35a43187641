#!/usr/bin/env bash
# Two dpsynth binaries on one table, runs alternated (A, B, A, B, ...) so that the machine's
# load falls on both alike: scripts/quality.sh's figures per run, then each binary's mean.
# Single DP runs spread by about ±0.05, so a change is judged on several.
#
#   GENERIC=1 bash scripts/ab_binaries.sh BIN_A BIN_B REPEATS TABLE EPSILON EPOCHS BATCH [FLAGS]
#   e.g. GENERIC=1 bash scripts/ab_binaries.sh target/bin/dpsynth-old target/bin/dpsynth-new 3 \
#          credit 3 20 1000
# Logs: target/quality/TABLE/ab-*.log (one per run).
set -euo pipefail
cd "$(dirname "$0")/.."
A="${1:?give binary A}"; B="${2:?give binary B}"; REPEATS="${3:?give a number of repeats}"
shift 3
TABLE="${1:?give a table}"
OUT=target/quality/$TABLE
mkdir -p "$OUT"
STAMP=$(date +%H%M%S)
for r in $(seq 1 "$REPEATS"); do
  for side in A B; do
    BIN=$A; [ "$side" = B ] && BIN=$B
    LOG="$OUT/ab-$STAMP-$side-$r.log"
    DPSYNTH="$BIN" REP="ab$STAMP$side$r" bash scripts/quality.sh "$@" > "$LOG" 2>&1 || {
      echo "run $side $r failed: see $LOG" >&2; continue; }
    echo "$side ($BIN) run $r: $(grep -m1 '^quality' "$LOG") $(grep -m1 'ROC-AUC' "$LOG" | sed 's/.*ROC-AUC/AUC/')"
  done
done
for side in A B; do
  cat "$OUT"/ab-"$STAMP"-"$side"-*.log | awk -v side="$side" '
    /^quality/ { q += $2; s += $4; p += $7; n++ }
    /ROC-AUC/ { a += $NF; m++ }
    END { if (n) printf "%s mean of %d: quality %.3f  shapes %.3f  pair trends %.3f  AUC %.3f\n", side, n, q/n, s/n, p/n, (m ? a/m : 0) }'
done
