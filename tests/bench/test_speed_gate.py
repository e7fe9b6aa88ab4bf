#!/usr/bin/env python3
"""The speed gate of tools/bench.py on the real accelvp (docs/benchmarks.md#speed):
a baseline from one run of a small suite, then
- a second run of the same build passes `compare` (speed included) on this shared machine;
- a run through a wrapper that runs the simulation of every GEMM case twice (a real 2x slowdown
  of that kind of work, as a slower tiler or engine model would be) fails `compare` on the GEMM
  case, with the timing DMA case of the same kind and the functional case still passing;
- the same slowdown applied to every case and calibration alike (a slower machine) passes.
Runs are as documented (-j 2; the baseline fastest of 3, the runs compared once); compare re-measures a case over the limit (3 pairs
of case and calibration, back to back) and fails it only if the re-measure is over the limit
too. When the spread of a run's calibration runs is past --max-noise (the load changed too much
to judge: reported, not failed), the test runs again (at most 3 attempts).
Usage: test_speed_gate.py path/to/accelvp"""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, failed, finish, test  # noqa: E402
from scripts import debian_python, run_main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCELVP = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "accelvp")
debian_python(("yaml", "python3-yaml"))
import bench as bench_tool  # noqa: E402

TMP = tempfile.mkdtemp(prefix="accelvp-speed-gate-")
SUITE = """suite: speedgate
description: "the speed gate's test: two timing cases and a functional one"
calibration:
  timing: {config: inference, mode: timing, overrides: {workload.bytes: 1GiB, workload.direction: h2d}, repeat: 2}
  functional: {config: inference, mode: functional, overrides: {workload.bytes: 16MiB, workload.direction: h2d}, repeat: 2}
cases:
  - name: gemm-4096-timing
    config: training
    mode: timing
    workload: gemm
    overrides: {workload.m: 4096, workload.n: 4096, workload.k: 4096}
  - name: dma-edge-512MiB-timing
    config: edge
    mode: timing
    overrides: {workload.bytes: 512MiB, workload.direction: h2d}
  - name: dma-inference-32MiB
    config: inference
    mode: functional
    overrides: {workload.bytes: 32MiB, workload.direction: h2d}
"""


def wrapper(name, condition):
    """An accelvp that runs the real one twice when the shell test `condition` holds on its arguments."""
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(f"""#!/bin/sh
# {name}: the simulation runs twice when [{condition}] (tests/bench/test_speed_gate.py)
case " $* " in
  {condition}) "{ACCELVP}" "$@" >/dev/null 2>&1 ;;
esac
exec "{ACCELVP}" "$@"
""")
    os.chmod(path, 0o755)
    return path


def bench(*args, expect=None):
    return run_main(bench_tool, *args, expect=expect)


def run(name, accelvp=ACCELVP, repeat=1):
    out = os.path.join(TMP, name)
    bench("run", os.path.join(TMP, "suite.yaml"), "-j", "2", "--out", out, "--accelvp", accelvp,
          "--repeat", str(repeat), expect=0)
    return out


def compare(out, expect=None):
    js = out + ".compare.json"
    p = bench("compare", "--baseline", os.path.join(TMP, "baseline.json"), out, "--json", js, expect=expect)
    with open(js) as f:
        return p, json.load(f)


def judged(doc):
    """Did compare judge every kind (not: reported only, the load changed too much)?"""
    return all(v["status"] == "checked" for v in doc["speed"].values())


with open(os.path.join(TMP, "suite.yaml"), "w") as f:
    f.write(SUITE)
# The baseline keeps each case's fastest of 3 runs, as docs/benchmarks.md advises: one run of a
# 0.25 s case on a loaded CI machine once came out 75 % slow, and a 2x slower build compared to
# that inflated baseline measured only +26 %.
bench("update-baseline", run("base", repeat=3), "--baseline", os.path.join(TMP, "baseline.json"), expect=0)


@test
def the_same_build_passes_on_a_shared_machine():
    for attempt in range(3):
        p, doc = compare(run(f"again{attempt}"))
        if judged(doc):
            break
    check(judged(doc), f"the load changed too much in 3 attempts: {doc['speed']}")
    check(p.returncode == 0 and doc["ok"], p.stdout)
    check("speed timing: 2 cases" in p.stdout and "speed functional: 1 cases" in p.stdout, p.stdout)


@test
def a_2x_slower_gemm_fails():
    slow = wrapper("accelvp-slow-gemm", '*" -w gemm "*')
    for attempt in range(3):
        p, doc = compare(run(f"slow{attempt}", slow))
        # Judged and caught: done. Judged but passed is a run the load blurred too (a CI run
        # beside fuzz campaigns re-measured 2x the work as +46 % with its calibration's spread
        # at 44 %): another attempt, as for an unjudged one.
        if judged(doc) and p.returncode == 1:
            break
    check(judged(doc), f"the load changed too much in 3 attempts: {doc['speed']}")
    check(p.returncode == 1 and doc["failures"] == ["gemm-4096-timing"], p.stdout)
    row = [r for r in doc["rows"] if r["case"] == "gemm-4096-timing" and r["metric"] == "rel_time"][0]
    slowdown = float(row["change"].split("%")[0])
    m = re.search(r"re-measured ([+-][0-9]+)%", row["verdict"])
    check(m and row["fail"], f"not re-measured: {row}")
    again = float(m.group(1))
    # twice the work: +100 %, give or take what a shared machine does to CPU time; the run's own
    # figure only has to make the case suspect (over half the limit), the re-measure decides
    check(30 < slowdown < 300 and 60 < again < 250, f"2x the work measured as {slowdown:+.0f}%, {again:+.0f}%: {row}")
    print(f"     {row['case']}: {row['change']}, {row['verdict']} (attempt {attempt + 1})")
    # cycles are the same: only the speed failed
    check(all(r["metric"] == "rel_time" for r in doc["rows"] if r["fail"]), p.stdout)


@test
def a_uniformly_slower_machine_passes():
    # every run twice, the calibrations too: what a machine at half the speed looks like
    slow = wrapper("accelvp-slow-all", '*" run "*|*" memsim "*')
    for attempt in range(3):
        p, doc = compare(run(f"slowall{attempt}", slow))
        if judged(doc):
            break
    check(judged(doc), f"the load changed too much in 3 attempts: {doc['speed']}")
    check(p.returncode == 0 and doc["ok"], p.stdout)
    check(all(v["cpu_s"] > 1.4 * v["baseline_cpu_s"] for v in doc["speed"].values()), str(doc["speed"]))


if not failed():
    shutil.rmtree(TMP, ignore_errors=True)
finish()
