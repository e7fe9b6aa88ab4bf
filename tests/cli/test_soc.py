#!/usr/bin/env python3
"""The SoC composition from the command line (docs/edge.md): `accelvp run -c edge-soc` with and
without the NPU's DMA engine (bit-exact, the DMA mode faster, the bytes each mode moves), the
config errors (dma.engines, workloads, presets), `accelvp config -c edge-soc`, determinism,
and GDB attached to the application CPU (when gdb-multiarch is installed).
Usage: test_soc.py ACCELVP [APP_ELF]"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import gdb_session  # noqa: E402

accelvp = sys.argv[1]
app = sys.argv[2] if len(sys.argv) > 2 else None
TMP = tempfile.mkdtemp(prefix="accelvp-soc-")
passed, failed = 0, 0
env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")

# The network's data: im2col 18432 + conv weights 1152 + FC weights 10240 in, 40 bytes out.
MOVED = 18432 + 1152 + 10240 + 40


def run(*args, rc=0):
    r = subprocess.run([accelvp, *args], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == rc, f"{' '.join(args)}: exit {r.returncode}, want {rc}\n{r.stdout}\n{r.stderr}"
    return r


def summary(*args):
    return json.loads(run("run", "-c", "edge-soc", "--json", *args).stdout)


def test(f):
    global passed, failed
    try:
        f()
        passed += 1
        print(f"ok   {f.__name__}")
    except Exception as e:  # noqa: BLE001
        failed += 1
        print(f"FAIL {f.__name__}: {e}")
    return f


@test
def both_modes_bit_exact_and_dma_faster():
    d = summary()
    n = summary("-p", "dma.engines=0")
    for s, dma in ((d, True), (n, False)):
        sm = s["summary"]
        assert s["workload"]["verified"] is True and sm["status"] == "pass", sm
        assert sm["dma"] is dma and sm["mismatches"] == 0 and sm["error_tests"] == 4, sm
        assert sm["npu_jobs"] == 14 and sm["irqs"] == 10, sm  # 4 error jobs, 5 jobs, a list of 5
        assert sm["bus_bytes"] == 2 * MOVED + 320, sm             # two inferences, a 5-entry list
        assert "0 mismatches" in s["console"], s["console"]
    assert d["summary"]["dma_bytes"] == 2 * MOVED and d["summary"]["window_bytes"] == 0
    assert d["summary"]["fetch_bytes"] == 320  # the list, from DRAM
    assert d["summary"]["copy_instructions"] == 0
    assert n["summary"]["window_bytes"] == 2 * MOVED + 320 and n["summary"]["dma_bytes"] == 0
    # One load and one store per word at least, and every word pays the window's 20 + 2 ns.
    assert n["summary"]["copy_instructions"] >= 2 * MOVED // 4, n["summary"]
    assert n["summary"]["npu_phase_ns"] >= 22 * MOVED / 4, n["summary"]
    # With its DMA the NPU phase is over 10x shorter than with the CPU copying.
    assert d["summary"]["npu_phase_ns"] * 10 < n["summary"]["npu_phase_ns"], (d["summary"], n["summary"])
    assert d["summary"]["checksum"] == n["summary"]["checksum"]


@test
def report_table_and_determinism():
    a = run("run", "-c", "edge-soc").stdout
    assert "app PASS" in a and "verified: yes, bit-exact" in a, a
    assert re.search(r"^  bus_bytes\s+60048$", a, re.M), a
    st1, st2 = os.path.join(TMP, "a.json"), os.path.join(TMP, "b.json")
    run("run", "-c", "edge-soc", "-q", "-p", "dma.engines=0", "--stats", st1)
    run("run", "-c", "edge-soc", "-q", "-p", "dma.engines=0", "--stats", st2)
    s1, s2 = (json.load(open(p)) for p in (st1, st2))
    for s in (s1, s2):
        s.pop("wall_s")
        s.pop("host")
    assert s1 == s2, "two runs differ"


@test
def config_errors_name_the_key():
    r = run("run", "-c", "inference", "-p", "dma.engines=0", rc=2)
    assert "dma.engines = '0'" in r.stderr and "[1, 16]" in r.stderr, r.stderr
    r = run("run", "-c", "edge-soc", "-p", "dma.engines=2", rc=2)
    assert "dma.engines = '2'" in r.stderr and "[0, 1]" in r.stderr, r.stderr
    r = run("run", "-c", "edge-soc", "-w", "gemm", rc=2)
    assert "workload 'gemm' does not run on an SoC composition" in r.stderr, r.stderr
    r = run("run", "-c", "edge", "-w", "soc-app", rc=2)
    assert "workload soc-app runs on an SoC composition" in r.stderr, r.stderr
    r = run("run", "-c", "edge-soc", "-p", "compute.clusters=2", rc=2)
    assert "compute.clusters = 2" in r.stderr and "valid: 1" in r.stderr, r.stderr
    r = run("run", "-c", "edge-soc", "--mode", "timing", rc=2)
    assert "sim.mode = timing" in r.stderr, r.stderr
    r = run("run", "-c", "edge-soc", "-p", "soc.app=/nonexistent.elf", rc=2)
    assert "/nonexistent.elf" in r.stderr, r.stderr
    # The PCIe platform's other programs refuse an SoC preset by name.
    trace = os.path.join(TMP, "t.trace")
    with open(trace, "w") as f:
        f.write("0 R 0x0 64\n")
    r = run("memsim", "-c", "edge-soc", "--trace", trace, rc=2)
    assert "-c edge-soc is an SoC composition (system.kind = soc)" in r.stderr, r.stderr
    out = run("config", "-c", "edge-soc", "--dump").stdout
    assert "kind: \"soc\"" in out and "engines: 1  #" in out, out


@test
def app_failure_is_exit_1():
    # An application that never exits: the time limit ends it as a hang, exit 1.
    r = run("run", "-c", "edge-soc", "-p", "sim.max_time_ms=0.5", rc=1)
    assert "did not exit within sim.max_time_ms" in r.stderr, r.stderr


@test
def gdb_attaches_to_the_application_cpu():
    if not app or not shutil.which("gdb-multiarch"):
        print("     (skipped: no gdb-multiarch or application ELF)")
        return
    out, rc, rest, err = gdb_session(
        [accelvp, "run", "-c", "edge-soc", "--gdb", "0"],
        ["break reference", "continue", "print jobs_ok", "delete", "continue"], app, env=env)
    assert "Breakpoint 1, reference" in out, out
    assert re.search(r"\$1 = 5\b", out), out  # the five layers ran before the reference
    assert "exited normally" in out, out
    assert rc == 0, f"accelvp exit {rc}: {err}"
    assert "app PASS" in rest, rest

shutil.rmtree(TMP, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
