#!/usr/bin/env bash
# Measure the ISS speed: run the CPU-bound benchmark ELF in bare-metal mode and print
# its MIPS (instructions per host second of simulation). Build first (Release):
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
# Usage: benchmarks/iss/run_mips.sh [BUILD_DIR] [-p key=value ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
shift || true
elf="$build/benchmarks/iss/mips.elf"
[ -f "$elf" ] || { echo "run_mips.sh: $elf not found (is riscv64-unknown-elf-gcc installed? built?)" >&2; exit 2; }
stats="$(mktemp)"
trap 'rm -f "$stats"' EXIT
"$build/bin/accelvp" iss --elf "$elf" --stats "$stats" --quiet "$@"
python3 - "$stats" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
s = st["summary"]
print(f"instructions {s['instructions']}  sim_wall_s {s['sim_wall_s']:.3f}  wall_s {st['wall_s']:.3f}  "
      f"quantum_ns {st['config']['cpu.quantum_ns']}  MIPS {s['mips']:.1f}")
PY
