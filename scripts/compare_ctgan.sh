#!/usr/bin/env bash
# Times SDV's ctgan 0.12.1 and dpsynth side by side on ../shared/datasets/adult.csv with the same
# hyper-parameters (CTGAN defaults: batch 500, pac 10, 256x256 networks), in one run on this
# machine, and prints both and their ratios: seconds per epoch, and sampling 100,000 rows
# in-process (ctgan's sample() against dpsynth's generation time, which `dpsynth sample`
# prints), plus dpsynth's whole-process time with the CSV written. dpsynth runs twice: on
# `--device cpu` (the host engine, src/model/host) and on `--device flex` (burn-flex).
#
#   bash scripts/compare_ctgan.sh [EPOCHS] [THREADS]     # defaults: 3 epochs, 1 torch thread
#
# ctgan is installed with pip into a venv under target/ (about 3 GB with torch).
#
# PEER=1 runs a single-threaded CPU-bound job (a Python busy loop) beside both for the whole
# comparison, as when several overnight runs share a node (issue 22 part 4).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-3}"
THREADS="${2:-1}"
ADULT=../shared/datasets/adult.csv
VENV=target/ctgan-venv
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "ctgan==0.12.1"
fi
cargo build --quiet --bin dpsynth
DPSYNTH="$CARGO_TARGET_DIR/debug/dpsynth"
WORK=$(mktemp -d)
PEER_PID=
trap 'rm -rf "$WORK"; [ -n "$PEER_PID" ] && kill "$PEER_PID" 2>/dev/null || true' EXIT
if [ "${PEER:-0}" = 1 ]; then
  python3 -c "while True: pass" &
  PEER_PID=$!
  echo "== with a single-threaded busy peer (pid $PEER_PID) on $(nproc) cores"
fi

echo "== SDV ctgan 0.12.1, $EPOCHS epochs, $THREADS torch thread(s)"
"$VENV/bin/python" - "$ADULT" "$EPOCHS" "$THREADS" > "$WORK/ctgan.txt" <<'PY'
import sys, time, pandas as pd, torch
from ctgan import CTGAN
path, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
df = pd.read_csv(path)
discrete = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country", "income"]
m = CTGAN(epochs=1, batch_size=500, pac=10, verbose=False, enable_gpu=False)
t = time.time(); m.fit(df, discrete)  # first epoch includes the transformer fit
first = time.time() - t
t = time.time(); m._transformer.fit(df, discrete); fit = time.time() - t
m2 = CTGAN(epochs=epochs, batch_size=500, pac=10, verbose=False, enable_gpu=False)
t = time.time(); m2.fit(df, discrete); total = time.time() - t
t = time.time(); m2.sample(100000); sample = time.time() - t
print(f"transformer_fit_s {fit:.3f}")
print(f"epoch_s {(total - fit) / epochs:.3f}")
print(f"sample_100k_s {sample:.3f}")
PY
cat "$WORK/ctgan.txt"

dpsynth_run() {  # $1: device; prints epoch_s, sample_100k_s lines and sets epoch_s/sample_s
  local dev=$1
  /usr/bin/time -f "peak_rss_mib %M" -o "$WORK/time.txt" \
    "$DPSYNTH" train "$ADULT" --config configs/adult.toml --epochs "$EPOCHS" --device "$dev" \
    --out "$WORK/adult.dpsynth" --metrics "$WORK/metrics.jsonl" 2> "$WORK/train.log"
  fit_s=$(sed -n 's/.*encoded the table in \([0-9.]*\) s.*/\1/p' "$WORK/train.log")
  echo "transformer_fit_and_encode_s $fit_s"
  awk '{printf "peak_rss_mib %.0f\n", $2 / 1024}' "$WORK/time.txt"
  epoch_s=$(python3 -c "import json,sys; r=[json.loads(l) for l in open('$WORK/metrics.jsonl')]; print(f\"{sum(x['seconds'] for x in r)/len(r):.3f}\")")
  local start end process_s
  start=$(date +%s.%N)
  "$DPSYNTH" sample "$WORK/adult.dpsynth" -n 100000 -o "$WORK/s.csv" --seed 1 --device "$dev" 2> "$WORK/sample.log"
  end=$(date +%s.%N)
  process_s=$(python3 -c "print(f'{$end - $start:.3f}')")
  # In-process generation time (what ctgan's sample() measures), from sample's summary line.
  sample_s=$(sed -n 's/.*(generating \([0-9.]*\) s.*/\1/p' "$WORK/sample.log")
  echo "epoch_s $epoch_s"
  echo "sample_100k_s $sample_s (in-process; whole process with the CSV written: $process_s s)"
}

echo "== dpsynth ($EPOCHS epochs, --device flex: burn-flex)"
dpsynth_run flex
flex_epoch=$epoch_s
flex_sample=$sample_s
echo "== dpsynth ($EPOCHS epochs, --device cpu: the host engine)"
dpsynth_run cpu

c_epoch=$(awk '/epoch_s/{print $2}' "$WORK/ctgan.txt")
c_sample=$(awk '/sample_100k_s/{print $2}' "$WORK/ctgan.txt")
c_fit=$(awk '/transformer_fit_s/{print $2}' "$WORK/ctgan.txt")
echo "== ratios (ctgan / dpsynth; above 1 means dpsynth is faster)"
python3 -c "print(f'host engine: epoch {$c_epoch / $epoch_s:.2f}x   sampling 100k rows {$c_sample / $sample_s:.2f}x   transformer fit {$c_fit / $fit_s:.1f}x')"
python3 -c "print(f'burn-flex:   epoch {$c_epoch / $flex_epoch:.2f}x   sampling 100k rows {$c_sample / $flex_sample:.2f}x')"
