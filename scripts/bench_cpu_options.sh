#!/usr/bin/env bash
# Side-by-side timings of CPU options on Adult, interleaved ROUNDS times in one run (run it on
# an idle machine):
#   - sampling 100,000 rows in-process on one core (taskset -c 0) against all cores;
#   - one training epoch (configs/adult.toml, flex) with glibc's default malloc against its
#     mmap and trim thresholds raised to 256 MiB (fewer page faults), and on one core.
#
#   bash scripts/bench_cpu_options.sh [ROUNDS]     # default 3
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
export DPSYNTH_FORCE_CPU=1
cargo build --quiet --bin dpsynth
DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ALL=$(seq -s, 0 $(( $(nproc) - 1 )))
TUNED=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456
"$DPSYNTH" train ../shared/datasets/adult.csv --config configs/adult.toml --epochs 1 \
  --device cpu --out "$WORK/m.dpsynth" --quiet
sample() { taskset -c "$1" "$DPSYNTH" sample "$WORK/m.dpsynth" -n 100000 -o "$WORK/s.csv" --seed 1 2>&1 \
  | sed -n 's/.*(generating \([0-9.]*\) s, \([0-9]*\) rows\/s.*/\1 s, \2 rows\/s/p'; }
epoch() { env ${2:+GLIBC_TUNABLES=$2} taskset -c "$1" "$DPSYNTH" train ../shared/datasets/adult.csv \
  --config configs/adult.toml --epochs 1 --device cpu --out "$WORK/e.dpsynth" 2>&1 \
  | sed -n 's/^epoch 1\/1 .*(\([0-9.]*\) s)$/\1 s/p'; }
for r in $(seq "$ROUNDS"); do
  echo "round $r: sample 100k, 1 core: $(sample 0)"
  echo "round $r: sample 100k, cores $ALL: $(sample "$ALL")"
  echo "round $r: epoch, cores $ALL, default malloc: $(epoch "$ALL" "")"
  echo "round $r: epoch, cores $ALL, raised malloc thresholds: $(epoch "$ALL" "$TUNED")"
  echo "round $r: epoch, 1 core, default malloc: $(epoch 0 "")"
done
