#!/usr/bin/env python3
"""The Python module from the build tree (docs/python.md): import, run() gives the CLI's stats
(deterministic part), errors are exceptions with the CLI's messages and exit codes, params(),
presets(), workloads(), sweep(), and several runs in one process (a worker process per run).

Usage: test_python.py path/to/accelvp BUILD_DIR/python
"""
import json
import os
import subprocess
import sys
import tempfile

ACCELVP, PYDIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, PYDIR)
sys.path.insert(1, os.path.join(ROOT, "tools"))
for k in ("ACCELVP_DATA_DIR", "ACCELVP_CONFIG_DIR", "ACCELVP_FIRMWARE"):
    os.environ.pop(k, None)
import accelvp  # noqa: E402
from accelvp_tools.runner import deterministic_part  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def cli(*args):
    return subprocess.run([ACCELVP, *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))


def cli_stats(*args):
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "s.json")
        p = cli("run", "-q", "--stats", f, *args)
        assert p.returncode == 0, p.stderr
        with open(f) as fh:
            return json.load(fh)


def test_import_from_build_tree():
    check(accelvp._core.__file__.startswith(os.path.join(PYDIR, "accelvp")),
          f"accelvp._core is the build tree's ({accelvp._core.__file__})")
    build = os.path.dirname(PYDIR)
    check(os.path.realpath(accelvp.data_dir()) == os.path.realpath(os.path.join(build, "share", "accelvp")),
          f"data_dir() is the build tree's share/accelvp ({accelvp.data_dir()})")
    p = cli("--version")
    check(p.stdout.strip() == "accelvp " + accelvp.__version__, f"__version__ {accelvp.__version__} is the CLI's")


def test_same_stats_as_cli():
    cases = [("training", "dma-copy", {"workload.bytes": "1MiB"}, None,
              ["-c", "training", "-w", "dma-copy", "-p", "workload.bytes=1MiB"]),
             ("inference", "gemm", {"workload.m": 256, "workload.n": 256, "workload.k": 256}, "timing",
              ["-c", "inference", "-w", "gemm", "-p", "workload.m=256", "-p", "workload.n=256", "-p", "workload.k=256",
               "--mode", "timing"])]
    for config, workload, overrides, mode, args in cases:
        py = accelvp.run(config=config, workload=workload, overrides=overrides, mode=mode)
        ref = cli_stats(*args)
        same = deterministic_part(py) == deterministic_part(ref)
        check(same and py["summary"]["cycles"] == ref["summary"]["cycles"] > 0,
              f"run({config}, {workload}): the CLI's stats, {py['summary']['cycles']} cycles")
        check(set(py) == set(ref), "the same top-level keys as the CLI's --stats")


def test_errors():
    for kwargs, args in (({"config": "nosuch"}, ["-c", "nosuch"]),
                         ({"overrides": {"pcie.lanez": 4}}, ["-p", "pcie.lanez=4"]),
                         ({"workload": "nosuch"}, ["-w", "nosuch"]),
                         ({"overrides": {"workload.timeout_ms": 0.01}}, ["-p", "workload.timeout_ms=0.01"])):
        p = cli("run", "-q", *args)
        msg = p.stderr.strip().splitlines()[-1]
        assert msg.startswith("accelvp: "), p.stderr
        try:
            accelvp.run(**kwargs)
            check(False, f"run({kwargs}) raises")
        except accelvp.Error as e:
            want = accelvp.ConfigError if p.returncode == 2 else accelvp.RunError
            check(type(e) is want and e.exit_code == p.returncode and str(e) == msg[len("accelvp: "):],
                  f"run({kwargs}): {type(e).__name__} exit {e.exit_code} '{e}' (CLI: exit {p.returncode} '{msg}')")
            if p.returncode == 1:
                check(isinstance(e.stats, dict) and e.stats["workload"]["verified"] is not True,
                      "a failed run's exception carries its stats")
    try:
        accelvp.params("nosuch")
        check(False, "params('nosuch') raises")
    except accelvp.ConfigError as e:
        check(e.exit_code == 2 and "nosuch" in str(e), f"params('nosuch'): ConfigError '{e}'")


def test_schema_and_lists():
    p = accelvp.params()
    lanes = p.get("pcie.lanes", {})
    check(lanes.get("type") == "int" and lanes.get("min") == 1 and lanes.get("max") == 16 and lanes.get("default") == "16"
          and isinstance(lanes["min"], int) and lanes.get("unit") == "lanes",
          f"params()['pcie.lanes'] = {lanes}")
    check("workload.m" not in p and "workload.m" in accelvp.params("gemm"), "params('gemm') adds the workload's keys")
    out = cli("config", "-w", "gemm", "--help-params").stdout
    keys = [ln.split()[0] for ln in out.splitlines() if ln and not ln.startswith(" ")]
    check(sorted(keys) == sorted(accelvp.params("gemm")), f"params('gemm') has the CLI's {len(keys)} keys")
    check(sorted(accelvp.presets()) == ["edge", "edge-soc", "inference", "training"], f"presets() {sorted(accelvp.presets())}")
    check({"dma-copy", "gemm"} <= set(accelvp.workloads()), "workloads() lists dma-copy and gemm")


def test_sweep():
    r = accelvp.sweep(config="inference", workload="dma-copy", mode="timing",
                      grid={"workload.bytes": ["4KiB", "64KiB"], "pcie.lanes": [4, 99]}, jobs=2)
    check([x["point"] for x in r] == [{"workload.bytes": b, "pcie.lanes": n} for b in ("4KiB", "64KiB") for n in (4, 99)],
          "sweep(): one result per grid point, in grid order")
    ok = [x for x in r if x["point"]["pcie.lanes"] == 4]
    check(all(x["exit_code"] == 0 for x in ok) and [x["stats"]["summary"]["bytes"] for x in ok] == [4096, 65536],
          "sweep(): the good points ran with their values")
    bad = [x for x in r if x["point"]["pcie.lanes"] == 99]
    check(all(x["exit_code"] == 2 and "pcie.lanes" in x["error"] for x in bad),
          f"sweep(): a bad point is exit 2 naming the key ({bad[0]['error']})")


test_import_from_build_tree()
test_same_stats_as_cli()
test_errors()
test_schema_and_lists()
test_sweep()
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all passed")
