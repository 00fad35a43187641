#!/usr/bin/env bash
# Where a non-DP training epoch's CPU time goes: samples `dpsynth train` on Adult (CTGAN
# defaults, configs/adult.toml, --device cpu = burn-flex) with `perf record` and sums the
# self time of its symbols into groups (matrix products, elementwise kernels, random numbers,
# memory traffic and page faults, threads, other).
#
#   bash scripts/profile_train.sh [EPOCHS]      # default 2; needs `perf` (apt-get install linux-perf)
#
# The read and transformer fit are included but take about 0.3 s of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
cargo build --quiet --bin dpsynth
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DPSYNTH_FORCE_CPU=1 perf record -q -F 499 -o "$WORK/perf.data" \
  "$CARGO_TARGET_DIR/debug/dpsynth" train ../shared/datasets/adult.csv --config configs/adult.toml \
  --epochs "$EPOCHS" --device cpu --out "$WORK/m.dpsynth" --quiet 2> /dev/null
perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2> /dev/null \
  | python3 -c '
import re, sys
groups = [
    ("matrix products (gemm microkernels)", r"gemm"),
    ("random numbers (Tensor::random on the host: ChaCha, normal/uniform, log/exp)",
     r"Distribution|TensorData::random|chacha|StandardNormal|UniformFloat|__logf|__expf|rand_distr|rand::"),
    ("memory: copies, fills, malloc/free, page faults",
     r"memmove|memset|memcpy|malloc|free|_int_|unlink_chunk|copy_2d_tiled|clear_page|page_fault|mm_fault|anonymous_page|unmap_page|memcg|mas_walk|lru|folio|zap_"),
    ("elementwise kernels (burn-flex zip/unary/binary, macerator SIMD, closures)",
     r"burn_flex|macerator|FnOnce|from_iter|LocalKey"),
    ("threads and scheduling (kernel)", r"finish_task_switch|spin_unlock|__schedule|futex|syscall|softirq|native_write_msr"),
]
totals = {name: 0.0 for name, _ in groups}
other = 0.0
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+\[[.k]\]\s+(.*)", line)
    if not m:
        continue
    share, symbol = float(m.group(1)), m.group(2)
    for name, pattern in groups:
        if re.search(pattern, symbol):
            totals[name] += share
            break
    else:
        other += share
for name, _ in groups:
    print(f"{totals[name]:6.1f}%  {name}")
print(f"{other:6.1f}%  other")
'
