#!/usr/bin/env bash
# libFuzzer targets of the input parsers and of the device (docs/security.md), built with
# clang under ASan + UBSan into build-fuzz/ (tests/fuzz/CMakeLists.txt).
#   tools/fuzz.sh build                 configure and build every target
#   tools/fuzz.sh run [SECONDS] [T...]  build, then run each target (default all) for SECONDS
#                                       (default 10) from its committed corpus; exit 1 on a finding
#   tools/fuzz.sh check [SECONDS]       the ctest `fuzz`: like run, without building, each target
#                                       for its own short budget (check_budget below, 40 s in all)
#                                       unless SECONDS is given, with a fixed seed (-seed=1);
#                                       exit 77 (skipped) when
#                                       build-fuzz/ has not been built
#   tools/fuzz.sh campaign EXECS [-j N] [--max-time S] [--results FILE] [T...]
#                                       the long campaign (docs/security.md): each target (default
#                                       all) runs until it has executed EXECS inputs (libFuzzer
#                                       -runs), on N cores (N processes sharing the corpus, each
#                                       running EXECS/N; default 1), at nice 19, without building;
#                                       with --max-time, each target stops after S seconds if it
#                                       has not reached EXECS by then (what it executed is
#                                       recorded); appends one line per target to FILE (default
#                                       tests/fuzz/campaign-results.txt):
#                                       target executions wall_s findings date commit
#   tools/fuzz.sh campaign-total [--results FILE]
#                                       per target, the executions and runs of the lines of FILE
#                                       since its last run with a finding, added up: a campaign
#                                       may be accumulated over several runs, each with no
#                                       finding (each line one run that ended; a run killed
#                                       before its end records nothing); a line
#                                       "TARGET 0 0 restart DATE COMMIT # why" starts a
#                                       target's count again (its code changed)
#   tools/fuzz.sh list                  the targets
# A run writes new inputs to build-fuzz/corpus/<target>/ (never to the committed
# tests/fuzz/corpus/<target>/) and crash reproducers to build-fuzz/findings/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(fuzz_config fuzz_asm fuzz_disasm fuzz_memsim_trace fuzz_elf fuzz_cmdbuf fuzz_qemu_bridge)
cmd="${1:-run}"
[ $# -gt 0 ] && shift

# The longest input each target is given: what its input surface holds in practice (the
# presets are 1.3 KiB; the largest seed ELF, the stripped firmware, is 19 KiB), not
# libFuzzer's 64 KiB ceiling, which made every target spend its time on inputs nobody writes.
# The disassembler reads packet after packet with no state between them (the largest
# fixed-size packet, VEC, is 64 bytes): 1 KiB holds 16 of them, NOPs of up to 128 words and every
# tail case. Its work grows with the input (two text round trips): at 4 KiB a long campaign
# slowed to 210 inputs a second.
max_len() {
  case "$1" in
    fuzz_config) echo 8192 ;;
    fuzz_elf) echo 32768 ;;
    fuzz_disasm) echo 1024 ;;
    *) echo 4096 ;;
  esac
}
# Seconds per target in `check` (the ctest `fuzz`, <= 70 s in all with start-up).
# 40 s of fuzzing; the test took 77 s with 50 s of budgets on the loaded 2-core machine
# (start-up, the corpora of earlier runs, SystemC elaboration).
check_budget() {
  case "$1" in
    fuzz_cmdbuf) echo 10 ;;
    fuzz_config) echo 7 ;;
    fuzz_qemu_bridge) echo 6 ;;
    fuzz_elf) echo 5 ;;
    *) echo 4 ;;
  esac
}

build() {
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ not found (tools/setup.sh installs clang and libclang-rt-14-dev)" >&2
    exit 2
  fi
  # ccache as in tools/build.sh (keyed relative to the checkout; ACCELVP_NO_CCACHE=1: without).
  local launcher=()
  if [ -z "${ACCELVP_NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
    export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang CXX=clang++ cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE= "${launcher[@]}" >/dev/null
  cmake --build build-fuzz -- -j"$(nproc)"
}

# libFuzzer flags shared by every mode. -rss_limit_mb and -timeout turn memory blow-ups and
# hangs into findings too. A 16 MiB ASan quarantine instead of 256 MiB: freed memory is reused
# sooner, so the targets stop page-faulting fresh memory on every input (2x faster); one
# input allocates far less than 16 MiB, so a use after free within an input is still caught.
asan_options() {
  local leaks=1
  # The SystemC targets: no leak check at exit either (see flags below): a buffer that only a
  # suspended SystemC thread's stack points to looks leaked to LeakSanitizer, which cannot see
  # those stacks, so where the time budget stopped the simulation decided the verdict (a
  # 248-byte "leak" without a stack in one `check` run of fuzz_qemu_bridge, none in the next five).
  case "$1" in fuzz_cmdbuf|fuzz_qemu_bridge) leaks=0 ;; esac
  echo "detect_leaks=$leaks:allocator_may_return_null=1:quarantine_size_mb=16"
}
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
# The two targets that run the SystemC model (fuzz_cmdbuf, fuzz_qemu_bridge) without
# libFuzzer's leak check: the model keeps a bounded history per job (the driver's last 65 536
# fences, its error records), so almost every input allocates more than it frees and
# libFuzzer would scan the whole heap for leaks after each (a third of the time); nor can
# LeakSanitizer see SystemC's coroutine stacks. Leaks of the model are the asan test suite's
# (every test process ends with a leak check).
flags() {
  case "$1" in fuzz_cmdbuf|fuzz_qemu_bridge) echo -n "-detect_leaks=0 " ;; esac
  echo -rss_limit_mb=2048 -timeout="${unit_timeout:-10}" -max_len="$(max_len "$1")" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/findings/$1/"
}

need_built() {
  for t in "$@"; do
    [ -x "build-fuzz/bin/$t" ] || { echo "fuzz: build-fuzz/bin/$t not built (tools/fuzz.sh build): skipped"; exit 77; }
  done
}

case "$cmd" in
  list) printf '%s\n' "${TARGETS[@]}" ;;
  build) build ;;
  run|check)
    secs=""
    if [ $# -gt 0 ]; then secs="$1"; shift; fi
    [ "$cmd" = run ] && secs="${secs:-10}"
    [ $# -gt 0 ] && TARGETS=("$@")
    if [ "$cmd" = run ]; then build >/dev/null; else need_built "${TARGETS[@]}"; fi
    rc=0
    for t in "${TARGETS[@]}"; do
      s="${secs:-$(check_budget "$t")}"
      mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
      log="build-fuzz/$t.$cmd.log"
      # check: a fixed seed, so the ctest explores the same inputs for the same code (a
      # finding there is a change's doing; exploring is the campaigns' job).
      seed=()
      [ "$cmd" = check ] && seed=(-seed=1)
      export ASAN_OPTIONS; ASAN_OPTIONS="$(asan_options "$t")"
      # shellcheck disable=SC2046
      if "build-fuzz/bin/$t" -max_total_time="$s" "${seed[@]}" $(flags "$t") \
           "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $t: ${execs:-?} executions in ${s} s, no finding"
      else
        echo "fuzz: $t: FINDING (log: $log, reproducer in build-fuzz/findings/$t/)" >&2
        tail -40 "$log" >&2
        rc=1
      fi
    done
    exit $rc ;;
  campaign)
    execs="${1:-}"
    [[ "$execs" =~ ^[0-9]+$ ]] && [ "$execs" -gt 0 ] ||
      { echo "usage: tools/fuzz.sh campaign EXECS [-j N] [--max-time S] [--results FILE] [TARGET...]" >&2; exit 2; }
    shift
    jobs=1
    maxtime=0
    results=tests/fuzz/campaign-results.txt
    sel=()
    while [ $# -gt 0 ]; do
      case "$1" in
        -j) jobs="${2:-}"; shift 2 ;;
        -j*) jobs="${1#-j}"; shift ;;
        --results) results="${2:-}"; shift 2 ;;
        --max-time) maxtime="${2:-}"; shift 2 ;;
        *) sel+=("$1"); shift ;;
      esac
    done
    [[ "$jobs" =~ ^[0-9]+$ ]] && [ "$jobs" -ge 1 ] || { echo "fuzz: -j: expected a number of cores >= 1" >&2; exit 2; }
    [[ "$maxtime" =~ ^[0-9]+$ ]] || { echo "fuzz: --max-time: expected a number of seconds" >&2; exit 2; }
    [ ${#sel[@]} -gt 0 ] && TARGETS=("${sel[@]}")
    for t in "${TARGETS[@]}"; do
      printf '%s\n' fuzz_config fuzz_asm fuzz_disasm fuzz_memsim_trace fuzz_elf fuzz_cmdbuf fuzz_qemu_bridge |
        grep -qx "$t" || { echo "fuzz: unknown target '$t' (tools/fuzz.sh list)" >&2; exit 2; }
    done
    need_built "${TARGETS[@]}"
    commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    [ -f "$results" ] || echo "# target executions wall_s findings date commit  (tools/fuzz.sh campaign)" >"$results"
    rc=0
    per=$(( (execs + jobs - 1) / jobs ))
    # nice alone does not yield to other work when the kernel groups processes by session
    # (sched_autogroup, on in Debian's kernels): a campaign started from its own session
    # competes as a group of its own. Lower the group's weight too (best effort).
    if [ -w "/proc/$$/autogroup" ]; then echo 19 >"/proc/$$/autogroup" 2>/dev/null || true; fi
    # libFuzzer's -timeout is wall-clock time: at nice 19 on a loaded machine a process gets
    # a hundredth of a core, and an ELF input that takes 0.1 s of CPU (within the loader's
    # limits) reached 10 s. 60 s still catches a hang.
    unit_timeout=60
    for t in "${TARGETS[@]}"; do
      mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
      before=$(find "build-fuzz/findings/$t" -maxdepth 1 -type f \( -name "crash-*" -o -name "timeout-*" -o -name "oom-*" -o -name "leak-*" \) | wc -l)
      start=$(date +%s)
      export ASAN_OPTIONS; ASAN_OPTIONS="$(asan_options "$t")"
      pids=()
      for w in $(seq 1 "$jobs"); do
        # N processes on one corpus directory; -reload picks up what the others found.
        # shellcheck disable=SC2046
        nice -n 19 "build-fuzz/bin/$t" -runs="$per" -max_total_time="$maxtime" -seed="$w" -reload=1 $(flags "$t") \
          "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"build-fuzz/$t.campaign.$w.log" 2>&1 &
        pids+=($!)
      done
      failed=0
      for p in "${pids[@]}"; do wait "$p" || failed=1; done
      wall=$(( $(date +%s) - start ))
      total=0
      for w in $(seq 1 "$jobs"); do
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$t.campaign.$w.log")
        total=$(( total + ${n:-0} ))
      done
      found=$(( $(find "build-fuzz/findings/$t" -maxdepth 1 -type f \( -name "crash-*" -o -name "timeout-*" -o -name "oom-*" -o -name "leak-*" \) | wc -l) - before ))
      [ "$failed" = 1 ] && [ "$found" = 0 ] && found=1  # a worker died without a reproducer
      line="$t $total $wall $found $(date -u +%Y-%m-%dT%H:%MZ) $commit"
      echo "$line" >>"$results"
      echo "fuzz: campaign: $line"
      [ "$found" = 0 ] || { echo "fuzz: $t: FINDING (logs: build-fuzz/$t.campaign.*.log, reproducers in build-fuzz/findings/$t/)" >&2; rc=1; }
    done
    exit $rc ;;
  campaign-total)
    results=tests/fuzz/campaign-results.txt
    if [ "${1:-}" = --results ]; then results="${2:-}"; fi
    [ -f "$results" ] || { echo "fuzz: no campaign results in $results" >&2; exit 2; }
    # Lines: target executions wall_s findings date commit [# comment]; '#' lines are comments.
    # A run with a finding restarts its target's count: the campaign is what ran since (on
    # the fixed model) with no finding. "findings" counts all of them, "last" is the date of
    # the latest.
    # A line whose findings column is "restart" starts its target's count again without a
    # finding: the code under test changed enough that the runs before it no longer count.
    awk '!/^#/ && NF >= 4 { t = $1; seen[t] = 1
           if ($4 == "restart") { n[t] = 0; w[t] = 0; r[t] = 0 }
           else if ($4 > 0) { f[t] += $4; last[t] = $5; n[t] = 0; w[t] = 0; r[t] = 0 }
           else { n[t] += $2; w[t] += $3; r[t]++ } }
         END { printf "%-18s %12s %5s %8s %9s %s\n", "target", "executions", "runs", "wall_s", "findings", "last_finding"
               for (t in seen) printf "%-18s %12d %5d %8d %9d %s\n", t, n[t], r[t], w[t], f[t], (t in last) ? last[t] : "-" }' \
      "$results" | { read -r h; echo "$h"; sort; } ;;
  *) echo "usage: tools/fuzz.sh build | run [SECONDS] [TARGET...] | check [SECONDS] | campaign EXECS [-j N] [--max-time S] [--results FILE] [TARGET...] | campaign-total [--results FILE] | list" >&2; exit 2 ;;
esac
