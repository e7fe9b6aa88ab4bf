#!/usr/bin/env python3
"""Tests of tools/sweep.py, plot.py and report.py: spec errors (found by the spec checks and by
`accelvp config`), a sweep on the real accelvp and its CSV, resume after the sweep is killed,
retry of failed points, PNG plots, and the Markdown/HTML report of sweep and bench results.
A fake accelvp (deterministic numbers from the arguments, an optional delay per run) makes
the resume test independent of the simulator's speed.
Usage: test_sweep.py path/to/accelvp"""
import csv
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, failed, finish, test  # noqa: E402
from scripts import FAKE_ACCELVP_ARGS, debian_python, fake_program, run_main, run_script  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
ACCELVP = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "accelvp")
# Debian's python3 has PyYAML and matplotlib: the tools then run in this process, and their
# own subprocesses start once.
debian_python(("yaml", "python3-yaml"), ("matplotlib", "python3-matplotlib"))
import bench as bench_tool  # noqa: E402
import plot as plot_tool  # noqa: E402
import report as report_tool  # noqa: E402
import sweep as sweep_tool  # noqa: E402

MODULES = {"bench": bench_tool, "plot": plot_tool, "report": report_tool, "sweep": sweep_tool}

TMP = tempfile.mkdtemp(prefix="accelvp-sweep-test-")

# The fake: `config` accepts any key but 'bad.key' (exit 2, like accelvp); `run` sleeps
# $FAKE_SLEEP s, then writes stats whose cycles are workload.bytes // 100, with component rates;
# workload.bytes=13 fails (exit 1); --trace writes a small trace.
FAKE = FAKE_ACCELVP_ARGS + r'''if a[0] == "config":
    if "bad.key" in params:
        sys.stderr.write("accelvp: config error: unknown key 'bad.key' (from -p); nearest valid keys: pcie.lanes\n")
        sys.exit(2)
    sys.exit(0)
time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
n = int(params.get("workload.bytes", "1000"))
lanes = int(params.get("pcie.lanes", "8"))
doc = {"schema_version": 1, "config": {"chip.freq_mhz": 1000, "sim.mode": opts["--mode"]},
       "workload": {"name": opts["-w"], "params": {}, "verified": None},
       "simulated_ns": n / 100 + 50.0, "wall_s": 0.5,
       "summary": {"bytes": n, "cycles": n // 100 // lanes, "bandwidth_gbps": 1.5 * lanes,
                   "simulated_ns": n / 100 + 50.0},
       "components": {"board.chip.dma0": {"busy": {"total": 5, "utilization": 0.5},
                                          "throughput": {"total": n, "gbps": 1.5}, "bytes": n},
                      "board.chip.devmem.ch0": {"bandwidth": {"total": 10, "gbps": 2.25}},
                      "board.chip.pcie": {"busy_d2h": {"total": 0, "utilization": 0.0}}}}
if "workload.phases" in params:  # a nested summary object, as transformer-layer's phase_ns
    doc["summary"]["phase_ns"] = {"qkv": n // 10, "mlp": {"up": 7, "down": 9}}
if "workload.seen" in params:  # what the run was given
    doc["summary"]["mode_seen"] = opts["--mode"] + "/" + opts["-c"].split("/")[-1] + "/" + opts["--seed"]
if n == 13:
    doc["error"] = "the fake fails on 13 bytes"
json.dump(doc, open(opts["--stats"], "w"))
if "--trace" in opts:
    json.dump({"traceEvents": []}, open(opts["--trace"], "w"))
sys.exit(1 if n == 13 else 0)
'''


def fake_accelvp():
    return fake_program(TMP, "fake-accelvp", FAKE)


def tool(name, *args, expect):
    """A tool run in this process (they are tested as programs by cli() and the other tests)."""
    return run_main(MODULES[name], *args, expect=expect)


def cli(name, *args, expect=None):
    return run_script(os.path.join(TOOLS, name + ".py"), *args, expect=expect)


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def csv_rows(out):
    with open(os.path.join(out, "results.csv")) as f:
        return list(csv.reader(f))


def spec_error(text, *expected, accelvp=None):
    path = write("bad.yaml", text)
    p = tool("sweep", path, "--accelvp", accelvp or fake_accelvp(), "--out", os.path.join(TMP, "bad-out"), expect=2)
    for e in expected:
        check(e in p.stderr, f"message lacks {e!r}: {p.stderr!r}")
    check(p.stderr.startswith("sweep: spec "), f"message does not name the spec: {p.stderr!r}")
    check(not os.path.exists(os.path.join(TMP, "bad-out", "results.csv")), "a bad spec must run nothing")


BASE = "config: inference\nmode: timing\n"


@test
def spec_errors_name_the_key():
    spec_error(BASE + "gird: {pcie.lanes: [1]}\n", "unknown key 'gird'", "valid keys:", "grid")
    spec_error(BASE, "missing required key 'grid'")
    spec_error("grid: {pcie.lanes: [1]}\n", "missing required key 'config'")
    spec_error(BASE + "grid: [1, 2]\n", "'grid' must be a mapping")
    spec_error(BASE + "grid: {pcie.lanes: 4}\n", "'pcie.lanes' must be a non-empty list")
    spec_error(BASE + "grid: {pcie.lanes: []}\n", "'pcie.lanes' must be a non-empty list")
    spec_error(BASE + "grid: {pcie.lanes: [4, 4]}\n", "'pcie.lanes' lists '4' twice")
    spec_error(BASE + "grid: {lanes: [4]}\n", "'lanes' is not a parameter key")
    spec_error(BASE + "grid: {pcie.lanes: [[1, 2]]}\n", "'pcie.lanes' must be a scalar")
    spec_error("config: edge\nmode: fast\ngrid: {pcie.lanes: [4]}\n", "mode 'fast' must be one of functional, timing")
    spec_error(BASE + "seed: -1\ngrid: {pcie.lanes: [4]}\n", "'seed' must be an integer >= 0")
    spec_error(BASE + "overrides: [workload.bytes]\ngrid: {pcie.lanes: [4]}\n", "key=value")
    spec_error(BASE + "grid: {pcie.lanes: [4\n", "not valid YAML")
    # found by `accelvp config` (here the fake's message)
    spec_error(BASE + "grid: {pcie.lanes: [4], bad.key: [1]}\n", "unknown key 'bad.key'")
    p = cli("sweep", os.path.join(TMP, "nope.yaml"), expect=2)
    check("no spec file" in p.stderr, p.stderr)


@test
def run_fields_are_set_in_one_place():
    spec_error(BASE + "grid: {sim.mode: [functional, timing]}\n", "the mode is set by both 'mode' and grid 'sim.mode'")
    spec_error("config: edge\ngrid: {mode: [timing], sim.mode: [functional]}\n",
               "'sim.mode' is given twice (mode and sim.mode are the same axis)")
    spec_error("config: edge\noverrides: {sim.mode: timing}\ngrid: {mode: [functional, timing]}\n",
               "the mode is set by both overrides 'sim.mode=timing' and grid 'mode'")
    spec_error("config: edge\nmode: timing\noverrides: {sim.mode: timing}\ngrid: {pcie.lanes: [1]}\n",
               "the mode is set by both 'mode' and overrides 'sim.mode=timing'")
    spec_error("config: edge\ngrid: {mode: [functional, fast]}\n", "'mode' value 'fast' must be one of functional, timing")
    spec_error(BASE + "grid: {config: [edge, training]}\n",
               "'config' is set both at the top level and as a grid axis")
    spec_error("mode: timing\ngrid: {pcie.lanes: [1]}\n", "missing required key 'config'", "grid axis")
    spec_error("config: edge\nseed: 2\ngrid: {seed: [1, 2]}\n", "'seed' is set both")
    spec_error("config: edge\ngrid: {seed: [1, x]}\n", "'seed' value 'x' must be an integer")


@test
def zip_groups_vary_keys_together():
    spec_error(BASE + "grid:\n  zip: {a.b: [1, 2], c.d: [1, 2, 3]}\n",
               "grid: zip: the lists must have the same length to be zipped, got 'a.b': 2, 'c.d': 3")
    spec_error(BASE + "grid:\n  zip: [1, 2]\n", "zip group 1: expected a mapping")
    spec_error(BASE + "grid:\n  a.b: [1]\n  zip: {a.b: [1, 2], c.d: [1, 2]}\n", "'a.b' is given twice")
    path = write("zip.yaml", BASE + "grid:\n  workload.bytes: [1000, 2000]\n"
                 "  zip:\n    compute.array_rows: [64, 128, 256]\n    compute.array_cols: [32, 128, 256]\n")
    lines = tool("sweep", path, "--list", expect=0).stdout.splitlines()
    check(len(lines) == 6, str(lines))   # 2 x 3, not 2 x 3 x 3
    check(lines[0].startswith("bytes=1000_array_rows=64_array_cols=32 ")
          and "-p compute.array_rows=64 -p compute.array_cols=32" in lines[0], lines[0])
    check(lines[5].startswith("bytes=2000_array_rows=256_array_cols=256 "), lines[5])
    # two groups, each its own axis
    path = write("zip2.yaml", BASE + "grid:\n  zip:\n    - {a.x: [1, 2], a.y: [3, 4]}\n"
                 "    - {b.x: [5, 6, 7], b.y: [8, 9, 10]}\n")
    check(len(tool("sweep", path, "--list", expect=0).stdout.splitlines()) == 6, "2 zip groups")
    out = os.path.join(TMP, "zip")
    p = tool("sweep", write("zip3.yaml", BASE + "grid:\n  zip: {workload.bytes: [1000, 2000], pcie.lanes: [2, 4]}\n"),
             "--accelvp", fake_accelvp(), "--out", out, expect=0)
    check("2 points (2);" in p.stderr, p.stderr)
    rows = [dict(zip(csv_rows(out)[0], r)) for r in csv_rows(out)[1:]]
    check([(r["workload.bytes"], r["pcie.lanes"], r["cycles"]) for r in rows] == [("1000", "2", "5"),
                                                                                ("2000", "4", "5")], str(rows))
    res = json.load(open(os.path.join(out, "results.json")))
    check(res["zip"] == [["workload.bytes", "pcie.lanes"]], str(res["zip"]))


@test
def mode_config_and_seed_axes_reach_the_runs():
    with open(os.path.join(TMP, "my-edge.yaml"), "w") as f:
        f.write("preset: {name: my-edge}\n")
    path = write("axes.yaml", "sweep: axes\nworkload: dma-copy\noverrides: {workload.seen: 1}\ngrid:\n  config: [inference, my-edge.yaml]\n"
                 "  sim.mode: [functional, timing]\n  seed: [3]\n  workload.bytes: [1000]\n")
    out = os.path.join(TMP, "axes")
    lines = tool("sweep", path, "--list", expect=0).stdout.splitlines()
    check(lines[2].startswith("config=my-edge_mode=functional_seed=3_bytes=1000 ")
          and f"-c {os.path.join(TMP, 'my-edge.yaml')} -w dma-copy --mode functional" in lines[2]
          and "sim.mode" not in lines[2] and "seed" not in lines[2].split(" ", 1)[1].replace("--seed", ""), lines[2])
    tool("sweep", path, "--accelvp", fake_accelvp(), "--out", out, expect=0)
    rows = csv_rows(out)
    # the axes are columns (as written); 'config' and 'seed' are not repeated as fixed columns
    check(rows[0][:8] == ["point", "config", "sim.mode", "seed", "workload.bytes", "workload", "mode", "status"],
          str(rows[0]))
    d = [dict(zip(rows[0], r)) for r in rows[1:]]
    check([r["mode_seen"] for r in d] == ["functional/inference/3", "timing/inference/3",
                                          "functional/my-edge.yaml/3", "timing/my-edge.yaml/3"], str(d))
    check([r["mode"] for r in d] == ["functional", "timing"] * 2, str(d))


@test
def nested_summaries_become_columns():
    out = os.path.join(TMP, "nested")
    tool("sweep", write("nested.yaml", BASE + "overrides: {workload.phases: 1}\ngrid: {workload.bytes: [1000, 2000]}\n"),
         "--accelvp", fake_accelvp(), "--out", out, expect=0)
    rows = csv_rows(out)
    d = [dict(zip(rows[0], r)) for r in rows[1:]]
    check("phase_ns" not in rows[0] and d[1]["phase_ns.qkv"] == "200" and d[1]["phase_ns.mlp.up"] == "7"
          and d[1]["phase_ns.mlp.down"] == "9", str(rows))


@test
def a_mode_axis_runs_both_modes_on_accelvp():
    # before: the spec's default mode (functional) won over a grid over sim.mode
    out = os.path.join(TMP, "real-mode")
    path = write("real-mode.yaml", "config: inference\noverrides: {workload.direction: h2d, workload.bytes: 64KiB}\n"
                 "grid:\n  sim.mode: [functional, timing]\n  zip: {pcie.lanes: [4, 8], pcie.gen: [3, 4]}\n")
    tool("sweep", path, "--accelvp", ACCELVP, "--out", out, "-j", "2", expect=0)
    d = [dict(zip(csv_rows(out)[0], r)) for r in csv_rows(out)[1:]]
    check([(r["sim.mode"], r["mode"], r["verified"]) for r in d] ==
          [("functional", "functional", "true")] * 2 + [("timing", "timing", "")] * 2, str(d))
    st = json.load(open(os.path.join(out, "cases", "mode=timing_lanes=8_gen=4.json")))
    check(st["config"]["sim.mode"] == "timing" and st["config"]["pcie.lanes"] == 8 and st["config"]["pcie.gen"] == 4,
          str({k: st["config"][k] for k in ("sim.mode", "pcie.lanes", "pcie.gen")}))
    # accelvp checks each zip group's values together, and a config axis per config
    spec_error("overrides: {workload.bytes: 4KiB}\ngrid: {config: [edge, nosuch]}\n",
               "grid: 'config' value 'nosuch'", "no config file or preset named 'nosuch'", accelvp=ACCELVP)
    spec_error("config: edge\ngrid:\n  zip: {pcie.lanes: [4, 99], pcie.gen: [3, 4]}\n",
               "grid: 'pcie.lanes' value '99', 'pcie.gen' value '4'", "[1, 16]", accelvp=ACCELVP)


@test
def real_accelvp_rejects_unknown_keys_and_bad_values():
    spec_error(BASE + "grid: {pcie.lanez: [4, 8]}\n", "unknown key 'pcie.lanez'", "pcie.lanes", accelvp=ACCELVP)
    spec_error(BASE + "grid: {pcie.lanes: [4, 99]}\n", "grid: 'pcie.lanes' value '99'", "[1, 16]", accelvp=ACCELVP)
    spec_error(BASE + "grid: {workload.direction: [h2d, up]}\n", "value 'up'", "h2d, d2d, d2h", accelvp=ACCELVP)
    spec_error("config: nosuch\ngrid: {pcie.lanes: [4]}\n", "no config file or preset named 'nosuch'",
               accelvp=ACCELVP)


@test
def list_prints_the_cartesian_product():
    path = write("l.yaml", BASE + "overrides: {workload.direction: d2h}\n"
                 "grid: {workload.bytes: [4KiB, 1MiB, 16MiB], pcie.lanes: [4, 16]}\n")
    lines = tool("sweep", path, "--list", expect=0).stdout.splitlines()
    check(len(lines) == 6, str(lines))
    check(lines[0].startswith("bytes=4KiB_lanes=4 ") and lines[5].startswith("bytes=16MiB_lanes=16 "), str(lines))
    check("-p workload.direction=d2h -p workload.bytes=1MiB -p pcie.lanes=16" in lines[3], lines[3])


@test
def sweep_on_accelvp_writes_one_csv_row_per_point():
    path = write("real.yaml", "sweep: real\n" + BASE + "overrides: {workload.direction: h2d}\n"
                 "grid: {workload.bytes: [64KiB, 4MiB], pcie.lanes: [4, 16]}\n")
    out = os.path.join(TMP, "real")
    p = tool("sweep", path, "--accelvp", ACCELVP, "--out", out, "-j", "2", expect=0)
    check("[4/4] ok" in p.stderr and "4 ok (0 skipped" in p.stderr, p.stderr)
    rows = csv_rows(out)
    check(rows[0][:12] == ["point", "workload.bytes", "pcie.lanes", "config", "workload", "mode", "seed", "status",
                           "verified", "wall_s", "speed", "cycles"], str(rows[0]))
    check(len(rows) == 5, f"{len(rows)} rows")
    d = [dict(zip(rows[0], r)) for r in rows[1:]]
    check([(r["workload.bytes"], r["pcie.lanes"]) for r in d] == [("64KiB", "4"), ("64KiB", "16"), ("4MiB", "4"),
                                                                  ("4MiB", "16")], str(d))
    check(all(r["status"] == "ok" and r["mode"] == "timing" for r in d), str(d))
    check(d[2]["bytes"] == str(4 << 20) and float(d[3]["bandwidth_gbps"]) > 3 * float(d[2]["bandwidth_gbps"]), str(d))
    # the same point run directly gives the same cycles
    s = os.path.join(TMP, "direct.json")
    subprocess.run([ACCELVP, "run", "--quiet", "-c", "inference", "-w", "dma-copy", "--mode", "timing", "-p",
                    "workload.direction=h2d", "-p", "workload.bytes=4MiB", "-p", "pcie.lanes=16", "--stats", s],
                   check=True, env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    with open(s) as f:
        check(str(json.load(f)["summary"]["cycles"]) == d[3]["cycles"], "cycles differ from a direct run")
    res = json.load(open(os.path.join(out, "results.json")))
    check(res["schema"] == "accelvp-sweep-results/1" and res["grid"]["pcie.lanes"] == ["4", "16"], str(res["grid"]))
    check(os.path.isfile(os.path.join(out, "cases", "bytes=4MiB_lanes=16.json")), "no stats per point")


RESUME = "sweep: resume\n" + BASE + "grid:\n  workload.bytes: [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]\n"


def results_of(out):
    entries = {}
    for f in sorted(os.listdir(os.path.join(out, "cases"))):
        if f.endswith(".result.json"):
            with open(os.path.join(out, "cases", f)) as fh:
                entries[f] = fh.read()
    return entries


@test
def killed_sweep_resumes_where_it_stopped():
    path = write("resume.yaml", RESUME)
    out = os.path.join(TMP, "resume")
    cmd = [sys.executable, os.path.join(TOOLS, "sweep.py"), path, "--accelvp", fake_accelvp(), "--no-check", "--out",
           out, "-j", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, FAKE_SLEEP="0.25"))
    t0 = time.monotonic()
    while len(results_of(out)) < 3 if os.path.isdir(os.path.join(out, "cases")) else True:
        check(time.monotonic() - t0 < 30 and proc.poll() is None, "the sweep did not get to 3 points")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its running accelvp, as a crash would
    proc.wait()
    before = results_of(out)
    check(3 <= len(before) < 8, f"{len(before)} points complete when killed")
    check(not os.path.exists(os.path.join(out, "results.csv")), "an interrupted sweep has no CSV yet")
    write("resume/cases/bytes=9-x.json.tmp", "half a file")
    p = tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", out, "-j", "2", expect=0)
    k = len(before)
    check(f"{k} already complete (skipped); running {8 - k} on local" in p.stderr, p.stderr)
    check(f"[{8 - k}/{8 - k}] ok" in p.stderr and f"8 ok ({k} skipped" in p.stderr, p.stderr)
    after = results_of(out)
    check(len(after) == 8 and all(after[f] == before[f] for f in before), "completed points were rewritten")
    check(not os.path.exists(os.path.join(out, "cases", "bytes=9-x.json.tmp")), "stale .tmp left behind")
    res = json.load(open(os.path.join(out, "results.json")))
    check(len(res["skipped"]) == k and len(res["cases"]) == 8, str(res["skipped"]))
    # identical to an uninterrupted sweep
    fresh = os.path.join(TMP, "fresh")
    tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", fresh, "-j", "2", expect=0)
    check(csv_rows(fresh) == csv_rows(out), "resumed CSV differs from an uninterrupted sweep's")
    # a third run skips everything
    p = tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", out, expect=0)
    check("8 already complete (skipped); running 0" in p.stderr, p.stderr)
    # a changed spec reruns the points whose definition changed
    path2 = write("resume2.yaml", RESUME.replace("mode: timing", "mode: functional"))
    p = tool("sweep", path2, "--accelvp", fake_accelvp(), "--no-check", "--out", out, expect=0)
    check("running 8 on local" in p.stderr, p.stderr)


@test
def failed_points_fail_the_sweep_and_run_again():
    path = write("fail.yaml", "sweep: fail\n" + BASE + "grid: {workload.bytes: [1000, 13]}\n")
    out = os.path.join(TMP, "fail")
    p = tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", out, expect=1)
    check("FAIL bytes=13" in p.stderr and "the fake fails on 13 bytes" in p.stderr, p.stderr)
    rows = [dict(zip(csv_rows(out)[0], r)) for r in csv_rows(out)[1:]]
    check([r["status"] for r in rows] == ["ok", "failed"], str(rows))
    p = tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", out, expect=1)
    check("1 already complete (skipped), 1 failed before (run again); running 1" in p.stderr, p.stderr)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    check(head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


@test
def plot_writes_pngs_of_each_kind():
    out = os.path.join(TMP, "real")
    if not os.path.exists(os.path.join(out, "results.csv")):
        raise AssertionError("needs the CSV of sweep_on_accelvp_writes_one_csv_row_per_point")
    csvp = os.path.join(out, "results.csv")
    for kind in ("line", "bar", "heatmap"):
        png = os.path.join(TMP, f"plot-{kind}.png")
        p = tool("plot", csvp, "--x", "workload.bytes", "--y", "bandwidth_gbps", "--series", "pcie.lanes",
                   "--kind", kind, "-o", png, expect=0)
        check(f"({kind}, 4 rows)" in p.stderr, p.stderr)
        w, h = png_size(png)
        check(w == 800 and h == 500, f"{kind}: {w}x{h}")
    png = os.path.join(TMP, "plot-where.png")
    p = tool("plot", csvp, "--x", "workload.bytes", "--y", "cycles", "--where", "pcie.lanes=4", "--logy",
               "-o", png, expect=0)
    check("(line, 2 rows)" in p.stderr, p.stderr)
    p = cli("plot", csvp, "--x", "bytez", "--y", "cycles", "-o", png, expect=2)
    check("no column 'bytez'" in p.stderr and "workload.bytes" in p.stderr, p.stderr)
    p = tool("plot", csvp, "--x", "point", "--y", "mode", "-o", png, expect=2)
    check("'mode' is not numeric" in p.stderr, p.stderr)
    p = tool("plot", csvp, "--x", "point", "--y", "cycles", "--kind", "heatmap", "-o", png, expect=2)
    check("needs --series" in p.stderr, p.stderr)


@test
def report_of_a_sweep_has_tables_plots_and_trace_links():
    path = write("rep.yaml", "sweep: rep\n" + BASE + "trace: true\ngrid: {workload.bytes: [1000, 4000], "
                 "pcie.lanes: [2, 4]}\n")
    out = os.path.join(TMP, "rep")
    tool("sweep", path, "--accelvp", fake_accelvp(), "--no-check", "--out", out, expect=0)
    html_path = os.path.join(TMP, "rep.html")
    tool("report", out, "--html", html_path, expect=0)
    with open(os.path.join(out, "report.md")) as f:
        md = f.read()
    check(md.startswith("# accelvp sweep report: rep\n"), md[:200])
    check("| point | workload.bytes | pcie.lanes | status | cycles | simulated_ns | bandwidth_gbps | bytes | wall_s |"
          in md, md)
    check("| bytes=4000_lanes=4 | 4000 | 4 | ok | 10 | 90 | 6 | 4000 | 0.5 |" in md, md)
    for fig in ("bandwidth_gbps-line.png", "bandwidth_gbps-heatmap.png", "utilization-heatmap.png"):
        check(f"](report-figures/{fig})" in md, f"no {fig} in the report")
        png_size(os.path.join(out, "report-figures", fig))
    check("| board.chip.dma0 | busy | 0.5000 | - |" in md and "| board.chip.devmem.ch0 | bandwidth | - | 2.250 |" in md
          and "busy_d2h" not in md, "component table")
    check("[Perfetto trace](cases/bytes=1000_lanes=2.trace.json)" in md, "no trace link")
    with open(html_path) as f:
        h = f.read()
    check(h.count('src="data:image/png;base64,') == 3 and "report-figures" not in h, "HTML images not embedded")
    check("<th>point</th>" in h and 'href="rep/cases/bytes=1000_lanes=2.trace.json"' in h, "HTML table/links")


@test
def report_of_a_bench_run():
    suite = write("bs.yaml", "suite: bs\ncalibration: {config: inference, overrides: {workload.bytes: 1000}, "
                  "repeat: 1}\ncases:\n  - {name: one, config: edge, overrides: {workload.bytes: 2000}}\n"
                  "  - {name: two, config: training, mode: timing, overrides: {workload.bytes: 3000}}\n")
    out = os.path.join(TMP, "bench")
    tool("bench", "run", suite, "--accelvp", fake_accelvp(), "--out", out, expect=0)
    md_path = os.path.join(TMP, "bench-report", "r.md")
    tool("report", out, "-o", md_path, expect=0)
    with open(md_path) as f:
        md = f.read()
    check("# accelvp bench report: bs" in md and "| case | config | mode | status | cycles |" in md, md[:600])
    check("| two | training | timing | ok | 3 |" in md, md)
    check("](r-figures/bandwidth_gbps-bar.png)" in md and "[stats JSON](../bench/cases/one.json)" in md, md)
    p = cli("report", TMP, expect=2)
    check("cannot read" in p.stderr, p.stderr)


if not failed():
    shutil.rmtree(TMP, ignore_errors=True)
finish()
