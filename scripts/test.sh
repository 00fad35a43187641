#!/usr/bin/env bash
# README's test command: installs the system packages the tests need (scripts/install-deps.sh,
# only when one is missing), then runs every test with the one shared build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dpsynth-target}"
cargo test --all-targets
cargo test --doc
