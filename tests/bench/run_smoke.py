#!/usr/bin/env python3
"""The smoke suite's cycle gate, as ctest runs it: `tools/bench.py run smoke` into a temporary
directory, then `compare --no-speed` against benchmarks/baselines/smoke.json (simulated cycles
and time only: speed on a shared CI machine is too noisy to gate on).
Usage: run_smoke.py path/to/accelvp"""
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "tools", "bench.py")
BASELINE = os.path.join(ROOT, "benchmarks", "baselines", "smoke.json")


def main():
    accelvp = sys.argv[1]
    out = tempfile.mkdtemp(prefix="accelvp-bench-smoke-")
    try:
        # Cycles only: no calibration runs (bench:speed tests the speed gate).
        run = subprocess.run([sys.executable, BENCH, "run", "smoke", "-j", "2", "--no-calibration", "--out", out,
                              "--accelvp", accelvp])
        cmp = subprocess.run([sys.executable, BENCH, "compare", "--no-speed", "--baseline", BASELINE, out])
        ok = run.returncode == 0 and cmp.returncode == 0
        if not ok:
            print(f"bench smoke: run exit {run.returncode}, compare exit {cmp.returncode}; if the change of cycles "
                  f"is intended: tools/bench.py run smoke --out DIR && tools/bench.py update-baseline DIR "
                  f"--baseline benchmarks/baselines/smoke.json (docs/benchmarks.md)")
        print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
        return 0 if ok else 1
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
