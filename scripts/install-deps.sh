#!/usr/bin/env bash
# Installs the Debian packages the tests need, when any is missing (as root, or through sudo):
#   mesa-vulkan-drivers libvulkan1  Mesa's software Vulkan driver: the wgpu backend runs
#                                   (slowly) without a GPU
#   chromium                        headless Chromium renders the HTML report in its test
#   libopenblas0-pthread            the host engine loads OpenBLAS at run time (tests compare
#                                   it with the gemm crate's products)
# Nothing happens when all are installed, so it is cheap to run before every test run.
set -euo pipefail
PACKAGES=(mesa-vulkan-drivers libvulkan1 chromium libopenblas0-pthread)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing the test dependencies: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "error: the tests need the Debian packages ${missing[*]}; run this script as root (or install sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
