#!/usr/bin/env bash
# Train every table listed in a manifest, one run folder each.
#
#   scripts/train_many.sh MANIFEST RUNS_DIR          # a plain loop on one machine
#   sbatch --array=1-N scripts/train_many.sh MANIFEST RUNS_DIR   # Slurm: task K trains line K
#
# MANIFEST is tab-separated, one table per line, '#' starts a comment:
#   name <TAB> table <TAB> config <TAB> extra train flags (optional, space-separated)
# e.g.
#   credit	datasets/credit_data.csv	configs/credit.toml	--epochs 100
#   adult-eps3	../shared/datasets/adult.csv	configs/adult-dp.toml	--epsilon 3 --max-time 8h
#
# Each entry trains in RUNS_DIR/<name>. A run folder that already exists is resumed (after a
# crash, a pre-empted job or a reboot) unless it has finished, so re-submitting the same array
# is safe. Paths in the manifest are relative to the directory the script is started from.
# The binary is $DPSYNTH if set, else `dpsynth` on PATH, else this checkout's build.
set -uo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 MANIFEST RUNS_DIR (under Slurm, SLURM_ARRAY_TASK_ID picks one line)" >&2
    exit 2
fi
manifest=$1
runs=$2
if [[ ! -r $manifest ]]; then
    echo "error: cannot read the manifest $manifest" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${DPSYNTH:-} ]]; then
    bin=$DPSYNTH
elif command -v dpsynth >/dev/null; then
    bin=dpsynth
else
    bin="cargo run --quiet --manifest-path $here/Cargo.toml --bin dpsynth --"
fi

# The manifest's entries, without comments and blank lines.
mapfile -t entries < <(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$manifest")
if [[ ${#entries[@]} -eq 0 ]]; then
    echo "error: $manifest lists no tables" >&2
    exit 2
fi

if [[ -n ${SLURM_ARRAY_TASK_ID:-} ]]; then
    k=$SLURM_ARRAY_TASK_ID
    if (( k < 1 || k > ${#entries[@]} )); then
        echo "error: SLURM_ARRAY_TASK_ID=$k but $manifest lists ${#entries[@]} tables (use --array=1-${#entries[@]})" >&2
        exit 2
    fi
    selected=("${entries[k-1]}")
else
    selected=("${entries[@]}")
fi

mkdir -p "$runs"
failed=0
for entry in "${selected[@]}"; do
    IFS=$'\t' read -r name table config extra <<<"$entry"
    if [[ -z ${name:-} || -z ${table:-} || -z ${config:-} ]]; then
        echo "error: $manifest: '$entry' needs name, table and config separated by tabs" >&2
        failed=1
        continue
    fi
    folder=$runs/$name
    if [[ -f $folder/status.json ]]; then
        if grep -q '"state": "finished"' "$folder/status.json"; then
            echo "$name: already finished in $folder; skipping"
            continue
        fi
        # Flags about time and checkpoints carry over to the resumed run; the rest are fixed by
        # the run folder's own config.
        resume_flags=()
        read -r -a words <<<"${extra:-}"
        for ((i = 0; i < ${#words[@]}; i++)); do
            case ${words[i]} in
                --max-time|--checkpoint-every|--checkpoint-every-epochs|--keep-checkpoints)
                    resume_flags+=("${words[i]}" "${words[i+1]:-}"); i=$((i + 1)) ;;
                --quiet|-q) resume_flags+=("${words[i]}") ;;
            esac
        done
        echo "$name: resuming $folder"
        # shellcheck disable=SC2086
        $bin train --resume "$folder" "${resume_flags[@]}" || { echo "$name: failed" >&2; failed=1; }
    else
        echo "$name: training $table with $config in $folder"
        # shellcheck disable=SC2086
        $bin train --config "$config" "$table" --run "$folder" ${extra:-} || { echo "$name: failed" >&2; failed=1; }
    fi
done
exit $failed
