#!/usr/bin/env bash
# Single quality runs of a DP release spread by about ±0.05 (the noise is drawn afresh each
# run), so a change is judged on several. Runs scripts/quality.sh REPEATS times for each
# variant, two at a time, and prints each variant's mean and spread (sample std) of quality,
# column shapes, pair trends and HGB ROC-AUC.
#
#   bash scripts/repeat.sh TABLE EPSILON EPOCHS BATCH REPEATS "FLAGS A" "FLAGS B" ...
#   e.g. DPSYNTH=target/bin/dpsynth GENERIC=1 bash scripts/repeat.sh churn 3 20 1000 3 \
#          "" "--set privacy.correlation_weight=10"
# (an empty string is the variant without extra flags). Logs: target/quality/TABLE/repeat-*.log
set -euo pipefail
cd "$(dirname "$0")/.."
TABLE="${1:?give a table}"; EPS="${2:?give an epsilon}"; EPOCHS="${3:?give epochs}"
BATCH="${4:?give a batch size}"; REPEATS="${5:?give a number of repeats}"
shift 5
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
if [ -z "${DPSYNTH:-}" ]; then
  cargo build --quiet --bin dpsynth
  mkdir -p target/bin
  cp "$CARGO_TARGET_DIR/debug/dpsynth" target/bin/dpsynth-repeat
  export DPSYNTH=target/bin/dpsynth-repeat
fi
OUT=target/quality/$TABLE
mkdir -p "$OUT"
# The split first, once (quality.sh rewrites it identically; two runs must not race on it).
SPLIT_ONLY=1 bash scripts/quality.sh "$TABLE" "$EPS"
JOBS=()
v=0
for FLAGS in "$@"; do
  for r in $(seq 1 "$REPEATS"); do
    LOG="$OUT/repeat-v$v-r$r.log"
    # shellcheck disable=SC2086
    JOBS+=("REP=$r bash scripts/quality.sh $TABLE $EPS $EPOCHS $BATCH $FLAGS > $LOG 2>&1")
  done
  v=$((v + 1))
done
# SUMMARY_ONLY=1: summarise the logs of an earlier run without training again.
[ "${SUMMARY_ONLY:-0}" = 1 ] || printf '%s\n' "${JOBS[@]}" | xargs -P 2 -I{} bash -c '{}'
v=0
for FLAGS in "$@"; do
  # Only this call's repeats: a log left by an earlier call with more repeats is not read.
  for r in $(seq 1 "$REPEATS"); do cat "$OUT/repeat-v$v-r$r.log"; done | awk -v flags="${FLAGS:-(none)}" '
    BEGIN { n = 0 }
    /^quality / { q[n] = $2; s[n] = $4; p[n] = $7; fresh = 1 }
    /^HGB on holdout/ && fresh { a[n] = $NF; n++; fresh = 0 }
    function stats(x, k,   i, m, d) { m = 0; for (i = 0; i < k; i++) m += x[i]; m /= k;
      d = 0; for (i = 0; i < k; i++) d += (x[i] - m) ^ 2; d = (k > 1) ? sqrt(d / (k - 1)) : 0;
      return sprintf("%.3f ± %.3f", m, d) }
    END { printf "%-50s n=%d quality %s  shapes %s  pairs %s  AUC %s\n", flags, n,
      stats(q, n), stats(s, n), stats(p, n), stats(a, n) }'
  v=$((v + 1))
done
