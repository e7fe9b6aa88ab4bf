#!/usr/bin/env bash
# Configure and build one build type: tools/build.sh [Release|asan|Debug] -> build/ or build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
type="${1:-Release}"
dir=build
[ "$type" != "Release" ] && dir="build-$(echo "$type" | tr 'A-Z' 'a-z')"
# ccache (tools/setup.sh installs it) keyed relative to the checkout, so a fresh clone anywhere
# reuses what an earlier clone compiled; ACCELVP_NO_CCACHE=1 builds without it.
launcher=()
if [ -z "${ACCELVP_NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" >/dev/null
cmake --build "$dir" -- -j"$(nproc)"
