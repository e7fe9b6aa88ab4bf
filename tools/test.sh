#!/usr/bin/env bash
# Quick start 2: set up, build and run the whole test suite, in the Release build and
# in the asan (ASan + UBSan) build. `tools/test.sh Release` runs one build type only.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
types=("$@")
[ ${#types[@]} -eq 0 ] && types=(Release asan)
for t in "${types[@]}"; do
  echo "=== build + test: $t ==="
  tools/build.sh "$t"
  # The parsers' fuzz targets (clang, ASan + UBSan; a few sources only), run by ctest `fuzz`.
  if [ "$t" = "Release" ]; then tools/fuzz.sh build; fi
  dir=build
  [ "$t" != "Release" ] && dir="build-$(echo "$t" | tr 'A-Z' 'a-z')"
  ASAN_OPTIONS="detect_stack_use_after_return=0" UBSAN_OPTIONS="print_stacktrace=1" \
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 300
done
