#!/usr/bin/env bash
# libFuzzer targets of the input parsers (docs/security.md), built with clang under
# ASan + UBSan into build-fuzz/ (tests/fuzz/CMakeLists.txt).
#   tools/fuzz.sh build                 configure and build every target
#   tools/fuzz.sh run [SECONDS] [T...]  build, then run each target (default all) for SECONDS
#                                       (default 10) from its committed corpus; exit 1 on a finding
#   tools/fuzz.sh check [SECONDS]       the ctest `fuzz`: like run, without building; exit 77
#                                       (skipped) when build-fuzz/ has not been built
#   tools/fuzz.sh list                  the targets
# A run writes new inputs to build-fuzz/corpus/<target>/ (never to the committed
# tests/fuzz/corpus/<target>/) and crash reproducers to build-fuzz/findings/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(fuzz_config fuzz_asm fuzz_disasm fuzz_memsim_trace fuzz_elf)
cmd="${1:-run}"
[ $# -gt 0 ] && shift

build() {
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ not found (tools/setup.sh installs clang and libclang-rt-14-dev)" >&2
    exit 2
  fi
  CC=clang CXX=clang++ cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE= \
    ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
  cmake --build build-fuzz -- -j"$(nproc)"
}

case "$cmd" in
  list) printf '%s\n' "${TARGETS[@]}" ;;
  build) build ;;
  run|check)
    secs="${1:-10}"
    [ $# -gt 0 ] && shift
    [ $# -gt 0 ] && TARGETS=("$@")
    if [ "$cmd" = run ]; then
      build >/dev/null
    else
      for t in "${TARGETS[@]}"; do
        [ -x "build-fuzz/bin/$t" ] || { echo "fuzz: build-fuzz/bin/$t not built (tools/fuzz.sh build): skipped"; exit 77; }
      done
    fi
    rc=0
    for t in "${TARGETS[@]}"; do
      mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
      log="build-fuzz/$t.$cmd.log"
      # -rss_limit_mb and -timeout turn memory blow-ups and hangs into findings too.
      if ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
         "build-fuzz/bin/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
           -print_final_stats=1 -artifact_prefix="build-fuzz/findings/$t/" \
           "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $t: ${execs:-?} executions in ${secs} s, no finding"
      else
        echo "fuzz: $t: FINDING (log: $log, reproducer in build-fuzz/findings/$t/)" >&2
        tail -40 "$log" >&2
        rc=1
      fi
    done
    exit $rc ;;
  *) echo "usage: tools/fuzz.sh build | run [SECONDS] [TARGET...] | check [SECONDS] | list" >&2; exit 2 ;;
esac
