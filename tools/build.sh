#!/usr/bin/env bash
# Configure and build one build type: tools/build.sh [Release|asan|Debug] -> build/ or build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
type="${1:-Release}"
dir=build
[ "$type" != "Release" ] && dir="build-$(echo "$type" | tr 'A-Z' 'a-z')"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$dir" -- -j"$(nproc)"
