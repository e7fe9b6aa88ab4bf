#!/usr/bin/env python3
"""Unit tests of tools/bench.py: suite parsing errors, `run` (against a fake accelvp that
writes stats files, so these tests need no simulator), the CSV, `compare` on synthetic
results (cycle changes, tolerances, speed regressions) and `update-baseline`.
Usage: test_bench.py"""
import copy
import csv
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, failed, finish, test  # noqa: E402
from scripts import FAKE_ACCELVP_ARGS, debian_python, fake_program, run_main, run_script  # noqa: E402

debian_python(("yaml", "python3-yaml"))
import bench as bench_tool  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "tools", "bench.py")
TMP = tempfile.mkdtemp(prefix="accelvp-bench-test-")

# A stand-in for accelvp: `run` writes a stats file whose numbers follow from the arguments.
# -c fail: the workload fails (exit 1, stats with error); -c bad: config error (exit 2, empty
# stats file, as accelvp leaves it); -p workload.bytes=N gives cycles N // 100.
FAKE = FAKE_ACCELVP_ARGS + r'''assert a[0] == "run", a
cfg = opts["-c"]
stats = opts["--stats"]
open(stats, "a").close()
if cfg == "bad":
    sys.stderr.write("accelvp: config error: unknown key 'x'\n"); sys.exit(2)
n = int(params.get("workload.bytes", "1000"))
doc = {"schema_version": 1, "config": {"chip.freq_mhz": 1000, "sim.mode": opts["--mode"]},
       "workload": {"name": opts["-w"], "params": {}, "verified": True if opts["--mode"] == "functional" else None},
       "simulated_ns": n / 100 + 50.0, "wall_s": 0.5,
       "summary": {"bytes": n, "cycles": n // 100, "device_ns": float(n // 100), "bandwidth_gbps": 100.0,
                   "direction": params.get("workload.direction", "h2d"), "simulated_ns": n / 100 + 50.0}}
if cfg == "fail":
    doc["error"] = "submitting the copy: Invalid argument"
    doc["workload"]["verified"] = None
json.dump(doc, open(stats, "w"))
sys.exit(1 if cfg == "fail" else 0)
'''


def bench(*args, expect=None):
    """bench.py's main() in this process (bench_cli() runs it as a program)."""
    return run_main(bench_tool, *args, expect=expect)


def bench_cli(*args, expect=None):
    return run_script(BENCH, *args, expect=expect)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def fake_accelvp():
    return fake_program(TMP, "fake-accelvp", FAKE)


def suite_error(text, *expected):
    """A suite file with this text must be refused with exit 2 and a message holding `expected`."""
    path = write("s.yaml", text)
    for cmd in (["list", path], ["run", path, "--accelvp", fake_accelvp(), "--out", os.path.join(TMP, "o")]):
        p = bench(*cmd, expect=2)
        for e in expected:
            check(e in p.stderr, f"bench.py {cmd[0]}: message lacks {e!r}: {p.stderr!r}")
        check(p.stderr.startswith("bench: suite "), f"message does not name the suite: {p.stderr!r}")


CASE = "    config: inference\n    overrides: {workload.bytes: 4MiB}\n"


@test
def committed_suites_parse():
    out = bench("list", expect=0).stdout
    check("smoke" in out and "full" in out, out)
    for s in ("smoke", "full"):
        out = bench("list", s, expect=0).stdout
        check("-c inference" in out and "workload.bytes=" in out, out)
    smoke = bench("list", "smoke", expect=0).stdout
    for p in ("edge", "inference", "training"):
        for d in ("h2d", "d2d", "d2h"):
            for m in ("functional", "timing"):
                check(any(f"-c {p} " in l and f"--mode {m}" in l and f"workload.direction={d}" in l
                          for l in smoke.splitlines()), f"smoke lacks {p} {d} {m}")
    check("mem.model=dram" in smoke, "smoke lacks a DRAM-model case")


@test
def unknown_case_key_names_case_and_key():
    suite_error("cases:\n  - name: a\n" + CASE + "  - name: b\n    confg: edge\n    config: edge\n",
                "case 'b'", "unknown key 'confg'", "valid keys:")


@test
def missing_field_names_case_and_key():
    suite_error("cases:\n  - name: a\n    mode: timing\n", "case 'a'", "missing required key 'config'")
    suite_error("cases:\n  - name: a\n" + CASE + "  - config: edge\n", "case #2", "missing required key 'name'")


@test
def top_level_errors():
    suite_error("suite: x\ncases:\n  - name: a\n" + CASE + "cases2: []\n", "unknown top-level key 'cases2'")
    suite_error("suite: x\n", "missing required key 'cases'")
    suite_error("cases: [\n", "not valid YAML")
    suite_error("defaults: {tolerence: 3}\ncases:\n  - name: a\n" + CASE, "defaults", "unknown key 'tolerence'")
    suite_error("calibration: {config: inference, repeats: 2}\ncases:\n  - name: a\n" + CASE,
                "calibration", "unknown key 'repeats'")

    # Nesting deeper than PyYAML's recursion: a usage error, not a RecursionError traceback.
    suite_error("cases: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply")
    suite_error("cases:\n" + "".join("  " * i + "- \n" for i in range(2000)), "nested too deeply")


@test
def bad_values_name_case_and_key():
    suite_error("cases:\n  - name: a\n" + CASE + "    mode: fast\n", "case 'a'", "mode 'fast'")
    suite_error("cases:\n  - name: a\n" + CASE + "    tolerance: -3\n", "case 'a'", "'tolerance'")
    suite_error("cases:\n  - name: a\n" + CASE + "    tolerance: lots\n", "case 'a'", "'tolerance'")
    suite_error("cases:\n  - name: a\n    config: edge\n    overrides: [workload.bytes]\n", "case 'a'", "key=value")
    suite_error("cases:\n  - name: a\n    config: edge\n    overrides: {workload.bytes: [1, 2]}\n",
                "case 'a'", "'workload.bytes' must be a scalar")
    suite_error("cases:\n  - name: a\n" + CASE + "  - name: a\n" + CASE, "duplicate case name 'a'")
    suite_error("cases:\n  - name: a b\n" + CASE, "name 'a b'")
    suite_error("cases:\n  - name: a\n    config: edge\n    workload: iss\n", "case 'a'", "workload 'iss' needs 'elf'")
    suite_error("cases:\n  - name: a\n" + CASE + "    elf: x.elf\n", "case 'a'", "'elf' is only for workload 'iss'")
    suite_error("cases:\n  - name: a\n    config: edge\n    workload: memsim\n", "case 'a'",
                "workload 'memsim' needs 'mem_trace'")
    suite_error("cases:\n  - name: a\n    config: edge\n    workload: memsim\n"
                "    mem_trace: {pattern: sequential, requests: 0}\n", "case 'a'", "mem_trace.requests")
    suite_error("cases:\n  - name: a\n    config: edge\n    workload: memsim\n"
                "    mem_trace: {pattern: sequential, requests: 5, span: 1}\n", "case 'a'", "unknown key 'span'")
    suite_error("cases:\n  - name: a\n" + CASE + "    mem_trace: {pattern: random, requests: 5}\n", "case 'a'",
                "'mem_trace' is only for workload 'memsim'")


@test
def iss_cases_run_the_elf_from_the_build_directory():
    from accelvp_tools import runner
    c = {"workload": "iss", "elf": "benchmarks/iss/mips.elf", "overrides": ["cpu.quantum_ns=100"]}
    cmd = runner.case_command("/b/bin/accelvp", c, "S")
    check(cmd == ["/b/bin/accelvp", "iss", "--quiet", "--stats", "S", "--elf", "/b/benchmarks/iss/mips.elf",
                  "-p", "cpu.quantum_ns=100"], str(cmd))
    # The simulator's speed in an ISS summary is not part of what must repeat.
    a = {"summary": {"cycles": 5, "mips": 100.0, "sim_wall_s": 1.0}, "wall_s": 1.0}
    b = {"summary": {"cycles": 5, "mips": 120.0, "sim_wall_s": 0.8}, "wall_s": 0.9}
    check(runner.deterministic_part(a) == runner.deterministic_part(b), "mips counted as deterministic")


@test
def memsim_cases_generate_their_trace_and_run_memsim():
    from accelvp_tools import runner
    c = {"workload": "memsim", "config": "training", "overrides": ["mem.dram.refresh=none"],
         "mem_trace": {"pattern": "sequential", "requests": 1000, "write_ratio": 0}}
    cmd = runner.case_command("/b/bin/accelvp", c, "S", None, "T")
    check(cmd == ["/b/bin/accelvp", "memsim", "--quiet", "--stats", "S", "-c", "training", "--trace", "T",
                  "-p", "mem.dram.refresh=none"], str(cmd))
    path = os.path.join(TMP, "gen.trace")
    check(runner.make_mem_trace(c, path) is None, "gen_mem_trace.py failed")
    with open(path) as f:
        lines = f.read().splitlines()
    check(len(lines) == 1000 and lines[1].split()[1] == "READ", lines[:2])
    # The memsim speed is not part of what must repeat.
    a = {"summary": {"cycles": 5, "requests_per_wall_s": 1e7}, "wall_s": 1.0}
    b = {"summary": {"cycles": 5, "requests_per_wall_s": 2e7}, "wall_s": 0.5}
    check(runner.deterministic_part(a) == runner.deterministic_part(b), "requests_per_wall_s counted as deterministic")


@test
def unknown_suite_name_is_exit_2():
    p = bench_cli("run", "nosuch-suite", expect=2)
    check("no suite named 'nosuch-suite'" in p.stderr and "smoke" in p.stderr, p.stderr)


FAKE_SUITE = """suite: fake
description: three cases for the tests
defaults: {workload: dma-copy}
calibration:
  config: inference
  mode: timing
  overrides: {workload.bytes: 400000}
  repeat: 2
cases:
  - name: small
    config: edge
    overrides: {workload.bytes: 1000, workload.direction: d2d}
  - name: big-timing
    config: training
    mode: timing
    tolerance: 5
    overrides: [workload.bytes=200000]
  - name: pct
    config: inference
    tolerance: "1%"
    overrides: {workload.bytes: 100000, sim.trace: true}
"""


def fake_run(name, suite_text=FAKE_SUITE, expect=0, *extra):
    out = os.path.join(TMP, name)
    p = bench("run", write(name + ".yaml", suite_text), "--accelvp", fake_accelvp(), "-j", "2", "--out", out,
              *extra, expect=expect)
    return out, p


@test
def run_writes_json_per_case_csv_and_results():
    out, p = fake_run("r1")
    for n in ("small", "big-timing", "pct", "calibration"):
        check(os.path.isfile(os.path.join(out, "cases", n + ".json")), f"no cases/{n}.json")
    check("[1/3]" in p.stderr and "[3/3]" in p.stderr and "calibration" in p.stderr, p.stderr)
    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    check([c["name"] for c in res["cases"]] == ["small", "big-timing", "pct"], "cases out of suite order")
    c = res["cases"][2]
    check(c["overrides"] == ["workload.bytes=100000", "sim.trace=true"], c["overrides"])
    check(c["summary"]["cycles"] == 1000 and c["tolerance"] == "1%" and c["exit_code"] == 0, str(c))
    check(res["calibration"]["wall_s_runs"] == [0.5, 0.5], str(res["calibration"]))
    # speed = simulated ns per wall second, relative to the calibration's
    check(abs(c["rel_speed"] - (1050.0 / 0.5) / (4050.0 / 0.5)) < 1e-12, str(c["rel_speed"]))
    check(res["failed"] == [], str(res["failed"]))


@test
def csv_has_the_expected_columns():
    out, _ = fake_run("r2")
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.reader(f))
    expected = ["case", "config", "workload", "mode", "seed", "overrides", "status", "verified", "wall_s",
                "speed", "rel_speed", "cycles", "simulated_ns", "device_ns", "bandwidth_gbps", "bytes",
                "direction"]
    check(rows[0] == expected, f"CSV header {rows[0]}")
    check(len(rows) == 4, f"{len(rows)} rows")
    small = dict(zip(rows[0], rows[1]))
    check(small["case"] == "small" and small["cycles"] == "10" and small["status"] == "ok"
          and small["verified"] == "true" and small["direction"] == "d2d" and small["mode"] == "functional",
          str(small))
    check(dict(zip(rows[0], rows[2]))["verified"] == "", "timing case must have no verification")


@test
def failing_cases_make_run_exit_1():
    text = FAKE_SUITE + "  - name: broken\n    config: fail\n  - name: badcfg\n    config: bad\n"
    out, p = fake_run("r3", text, 1)
    check("FAIL broken" in p.stderr and "Invalid argument" in p.stderr, p.stderr)
    check("FAIL badcfg" in p.stderr and "config error" in p.stderr, p.stderr)
    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    check(res["failed"] == ["broken", "badcfg"], str(res["failed"]))
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    check([r["status"] for r in rows] == ["ok", "ok", "ok", "failed", "failed"], str(rows))
    # a failed run cannot become a baseline
    p = bench("update-baseline", out, "--baseline", os.path.join(TMP, "nope.json"), expect=1)
    check("broken" in p.stderr and not os.path.exists(os.path.join(TMP, "nope.json")), p.stderr)


# ---- compare on synthetic results ---------------------------------------------------------

def synthetic():
    """A results document of two cases, with a calibration."""
    case = lambda name, cycles, wall, rel: {
        "name": name, "config": "inference", "workload": "dma-copy", "mode": "functional", "seed": 1,
        "overrides": [f"workload.bytes={cycles * 100}"], "tolerance": 0, "exit_code": 0, "error": None,
        "verified": True, "wall_s": wall, "simulated_ns": cycles * 1.4 + 40000.0, "freq_mhz": 1400,
        "summary": {"cycles": cycles, "device_ns": cycles / 1.4, "bandwidth_gbps": 14.0, "bytes": cycles * 100,
                    "direction": "h2d", "simulated_ns": cycles * 1.4 + 40000.0},
        "speed": (cycles * 1.4 + 40000.0) / wall, "rel_speed": rel, "stats": f"cases/{name}.json"}
    return {"schema": "accelvp-bench-results/1", "suite": "syn", "started": "2024-01-01T00:00:00+00:00",
            "wall_s": 3.0, "jobs": 2, "repeat": 1,
            "calibration": {"name": "calibration", "config": "inference", "workload": "dma-copy", "mode": "timing",
                            "seed": 1, "overrides": ["workload.bytes=4GiB", "workload.direction=h2d"],
                            "exit_code": 0, "error": None, "verified": None, "wall_s": 0.35,
                            "simulated_ns": 3.0e8, "speed": 3.0e8 / 0.35},
            "cases": [case("a", 6571218, 0.5, 0.1), case("b", 412321, 0.3, 0.2)], "failed": []}


def save_results(name, doc):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(doc, f)
    return d


def baseline_of(doc, name):
    d = save_results(name + "-base", doc)
    path = os.path.join(TMP, name + "-baseline.json")
    bench("update-baseline", d, "--baseline", path, expect=0)
    return path


@test
def compare_identical_passes():
    doc = synthetic()
    base = baseline_of(doc, "same")
    p = bench("compare", "--baseline", base, save_results("same-res", doc), expect=0)
    check("OK: 2 cases checked" in p.stdout and "2 cases compared" in p.stdout, p.stdout)
    with open(base) as f:
        b = json.load(f)
    check(b["schema"] == "accelvp-bench-baseline/1" and len(b["cases"]) == 2
          and b["cases"][0]["summary"]["cycles"] == 6571218, "baseline content")


@test
def compare_detects_a_changed_cycle_count():
    doc = synthetic()
    base = baseline_of(doc, "cyc")
    cur = copy.deepcopy(doc)
    cur["cases"][1]["summary"]["cycles"] += 1
    p = bench("compare", "--baseline", base, save_results("cyc-res", cur), expect=1)
    line = [l for l in p.stdout.splitlines() if l.startswith("b ") and " cycles " in l]
    check(line and "412321" in line[0] and "412322" in line[0] and "+1" in line[0]
          and "FAIL: worse, beyond tolerance 0" in line[0], p.stdout)
    check("FAIL: 1 case(s): b" in p.stdout, p.stdout)
    # fewer cycles is a change too: the simulator is deterministic
    cur["cases"][1]["summary"]["cycles"] -= 2
    p = bench("compare", "--baseline", base, save_results("cyc-res2", cur), expect=1)
    check("FAIL: better, beyond tolerance 0" in p.stdout, p.stdout)
    # simulated_ns alone also gates
    cur = copy.deepcopy(doc)
    cur["cases"][0]["simulated_ns"] += 10.0
    cur["cases"][0]["summary"]["simulated_ns"] += 10.0
    p = bench("compare", "--baseline", base, save_results("cyc-res3", cur), expect=1)
    check(any(l.startswith("a ") and "simulated_ns" in l and "FAIL" in l for l in p.stdout.splitlines()), p.stdout)


@test
def compare_reports_other_changes_without_failing():
    doc = synthetic()
    base = baseline_of(doc, "info")
    cur = copy.deepcopy(doc)
    cur["cases"][0]["summary"]["bandwidth_gbps"] = 15.0
    p = bench("compare", "--baseline", base, save_results("info-res", cur), expect=0)
    check(any("bandwidth_gbps" in l and "better" in l for l in p.stdout.splitlines()), p.stdout)


@test
def per_case_tolerance():
    doc = synthetic()
    doc["cases"][0]["tolerance"] = 5
    doc["cases"][1]["tolerance"] = "0.01%"
    base = baseline_of(doc, "tol")
    cur = copy.deepcopy(doc)
    cur["cases"][0]["summary"]["cycles"] += 5
    cur["cases"][0]["simulated_ns"] += 5 / 1.4   # 5 cycles at 1400 MHz
    cur["cases"][0]["summary"]["simulated_ns"] = cur["cases"][0]["simulated_ns"]
    cur["cases"][1]["summary"]["cycles"] += 41   # 0.0099 % of 412321
    p = bench("compare", "--baseline", base, save_results("tol-res", cur), expect=0)
    check(p.stdout.count("within tolerance") == 3, p.stdout)
    cur["cases"][0]["summary"]["cycles"] += 1
    cur["cases"][1]["summary"]["cycles"] += 1
    p = bench("compare", "--baseline", base, save_results("tol-res2", cur), expect=1)
    check("FAIL: 2 case(s): a, b" in p.stdout, p.stdout)
    # --tolerance overrides the cases'
    bench("compare", "--tolerance", "50", "--baseline", base, save_results("tol-res3", cur), expect=0)


@test
def compare_detects_a_speed_regression():
    doc = synthetic()
    base = baseline_of(doc, "spd")
    cur = copy.deepcopy(doc)
    cur["cases"][0]["rel_speed"] = 0.1 / 1.6   # 60 % more time relative to the calibration
    cur["cases"][1]["rel_speed"] = 0.2 * 1.3   # faster
    res = save_results("spd-res", cur)
    p = bench("compare", "--baseline", base, res, expect=1)
    check(any(l.startswith("a ") and "rel_speed" in l and "FAIL: 60% slower" in l for l in p.stdout.splitlines()),
          p.stdout)
    check(any(l.startswith("b ") and "rel_speed" in l and "faster" in l for l in p.stdout.splitlines()), p.stdout)
    p = bench("compare", "--no-speed", "--baseline", base, res, expect=0)
    check("not compared (--no-speed)" in p.stdout and "rel_speed" not in p.stdout, p.stdout)
    bench("compare", "--max-slowdown", "70", "--baseline", base, res, expect=0)
    # a slower machine (calibration and cases all slower) is not a regression: rel_speed is unchanged
    cur = copy.deepcopy(doc)
    cur["calibration"]["wall_s"] *= 3
    for c in cur["cases"]:
        c["wall_s"] *= 3
    bench("compare", "--baseline", base, save_results("spd-slow-machine", cur), expect=0)
    # cases too short to time are not compared
    cur = copy.deepcopy(doc)
    cur["cases"][0]["rel_speed"] /= 3
    cur["cases"][0]["wall_s"] = 0.05
    p = bench("compare", "--baseline", base, save_results("spd-short", cur), expect=0)
    check("1 cases under 0.2 s not compared" in p.stdout, p.stdout)


@test
def compare_missing_new_and_redefined_cases():
    doc = synthetic()
    base = baseline_of(doc, "set")
    cur = copy.deepcopy(doc)
    cur["cases"].pop(1)
    p = bench("compare", "--baseline", base, save_results("set-missing", cur), expect=1)
    check("not in the results" in p.stdout, p.stdout)
    cur = copy.deepcopy(doc)
    cur["cases"].append(dict(cur["cases"][1], name="c"))
    p = bench("compare", "--baseline", base, save_results("set-new", cur), expect=0)
    check("new case (no baseline)" in p.stdout, p.stdout)
    cur = copy.deepcopy(doc)
    cur["cases"][0]["config"] = "training"
    p = bench("compare", "--baseline", base, save_results("set-redef", cur), expect=1)
    check("case definition changed" in p.stdout, p.stdout)
    cur = copy.deepcopy(doc)
    cur["cases"][0].update(exit_code=1, error="boom")
    p = bench("compare", "--baseline", base, save_results("set-failed", cur), expect=1)
    check("FAIL: boom" in p.stdout, p.stdout)


@test
def compare_on_fake_runs_end_to_end():
    out, _ = fake_run("e2e")
    base = os.path.join(TMP, "e2e-baseline.json")
    bench("update-baseline", out, "--baseline", base, expect=0)
    bench("compare", "--baseline", base, out, expect=0)
    # the suite changes a size: cycles differ and the definition differs
    out2, _ = fake_run("e2e2", FAKE_SUITE.replace("workload.bytes: 1000,", "workload.bytes: 2000,"))
    p = bench("compare", "--baseline", base, out2, expect=1)
    check("case definition changed" in p.stdout, p.stdout)


@test
def filtered_run_compares_only_its_cases():
    out, p = fake_run("flt", FAKE_SUITE, 0, "-k", "^sm")
    check("[1/1]" in p.stderr, p.stderr)
    full, _ = fake_run("flt-full")
    base = os.path.join(TMP, "flt-baseline.json")
    bench("update-baseline", full, "--baseline", base, expect=0)
    p = bench("compare", "--baseline", base, out, expect=0)
    check("2 baseline cases not run (run -k '^sm')" in p.stdout, p.stdout)


@test
def unreadable_inputs_are_exit_2():
    p = bench("compare", "--baseline", os.path.join(TMP, "none.json"), TMP, expect=2)
    check("cannot read baseline" in p.stderr, p.stderr)
    path = write("junk.json", "{")
    p = bench("compare", "--baseline", path, path, expect=2)
    check("not valid JSON" in p.stderr, p.stderr)
    bench("compare", "--baseline", path, expect=2)   # missing RESULTS
    bench_cli("frobnicate", expect=2)


if not failed():
    shutil.rmtree(TMP, ignore_errors=True)
finish()
