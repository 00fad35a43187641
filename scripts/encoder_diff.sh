#!/usr/bin/env bash
# Which columns a change to DP preprocessing touches: trains each table for one seeded DP epoch
# (configs/dp-discover.toml at epsilon 3, `--seed 3`) with two binaries, then prints, per
# table, whether the two released files are byte for byte the same and the `inspect` column
# lines that differ. A seeded run is marked not for release; this only compares encoders.
# A file that differs with no line shown differs in a mixture's weights (or the noise stream
# shifted); train both end to end to see what that does.
#
#   bash scripts/encoder_diff.sh BINARY_A BINARY_B TABLE.csv ...
set -uo pipefail
cd "$(dirname "$0")/.."
A="$(realpath "${1:?give binary A}")"
B="$(realpath "${2:?give binary B}")"
shift 2
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for table in "$@"; do
  csv="$(realpath "$table")"
  name=$(basename "$(dirname "$table")")-$(basename "$table" .csv)
  for side in A B; do
    mkdir -p "$OUT/$side"
    bin=$A
    [ "$side" = B ] && bin=$B
    # The same relative output path on both sides: the file's header records it.
    (cd "$OUT/$side" && "$bin" train "$csv" --config "$OLDPWD/configs/dp-discover.toml" \
      --epsilon 3 --set train.epochs=1 --set privacy.warm_start_epochs=1 --seed 3 \
      --out m.dpsynth --quiet > /dev/null 2>&1) || echo "$name: training with $side failed"
    "$bin" inspect "$OUT/$side/m.dpsynth" 2>/dev/null \
      | grep -E "^    [^ ].*(Continuous|Discrete)" > "$OUT/$side/columns.txt"
  done
  if cmp -s "$OUT/A/m.dpsynth" "$OUT/B/m.dpsynth"; then
    echo "$name: same file"
  else
    echo "$name: files differ; column lines:"
    diff "$OUT/A/columns.txt" "$OUT/B/columns.txt" | grep "^[<>]"
  fi
done
