#!/usr/bin/env python3
"""`accelvp run -w collective` end to end: a verified functional all_reduce, a large ring
all_reduce close to its alpha-beta bound, the size-sweep table (human and JSON), the
stats layout, and config errors naming the key and the valid values.
Usage: test_collective.py path/to/accelvp"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-coll-")
BASE = ["run", "-w", "collective", "-c", "training"]


run = runner(ACCELVP, timeout=120)


def coll_json(*params, mode=None):
    args = [*BASE, "--json"]
    for p in params:
        args += ["-p", p]
    if mode:
        args += ["--mode", mode]
    return json.loads(run(*args).stdout)


@test
def list_and_config_show_the_workload():
    check("collective" in run("list").stdout, "accelvp list lacks collective")
    keys = run("config", "-w", "collective", "--help-params").stdout
    for key in ("workload.op", "workload.bytes", "workload.algorithm", "workload.sweep", "system.chips",
                "system.topology", "link.class"):
        check(key in keys, f"config -w collective --help-params lacks {key}")
    check("workload.sweep" in run("run", "--help").stdout, "run --help does not document the sweep")


@test
def functional_4_chip_all_reduce_is_verified():
    stats = os.path.join(TMP, "s.json")
    p = run(*BASE, "-p", "system.chips=4", "-p", "workload.bytes=262148", "--stats", stats)
    check("verified: yes, bit-exact" in p.stdout, f"report does not say verified:\n{p.stdout}")
    with open(stats) as f:
        st = json.load(f)
    for k in ("config", "workload", "summary", "components", "host", "wall_s", "simulated_ns"):
        check(k in st, f"stats lack {k}")
    check(st["workload"]["name"] == "collective" and st["workload"]["verified"] is True, st["workload"])
    s = st["summary"]
    check(s["op"] == "all_reduce" and s["chips"] == 4 and s["bytes"] == 262148, s)
    for k in ("busbw_gbps", "algbw_gbps", "bound_busbw_gbps", "bound_ratio", "time_us", "algorithm"):
        check(k in s, f"summary lacks {k}")
    # nccl-tests' definitions: algbw = S/t, busbw = algbw x 2(n-1)/n for all_reduce.
    check(abs(s["algbw_gbps"] - s["bytes"] / (s["time_us"] * 1e3)) < 1e-6 * s["algbw_gbps"], s)
    check(abs(s["busbw_gbps"] - s["algbw_gbps"] * 1.5) < 1e-6 * s["busbw_gbps"], s)
    check(0 < s["bound_ratio"] <= 1.0, s)
    # Link ports of every chip carried the data: per-port stats are in components.
    comp = json.dumps(st["components"])
    check("system.node3.chip.link0" in comp, "no per-port link stats of chip 3")


@test
def timing_8_chip_64MiB_ring_all_reduce_reaches_90_percent_of_the_bound():
    st = coll_json("system.chips=8", "system.topology=ring", "workload.op=all_reduce", "workload.bytes=64MiB",
                   "workload.algorithm=ring", mode="timing")
    s = st["summary"]
    check(st["workload"]["verified"] is None, "timing mode must not claim verification")
    check(s["algorithm"] == "ring" and s["chips"] == 8 and s["bytes"] == 64 << 20, s)
    check(s["busbw_gbps"] >= 0.9 * s["bound_busbw_gbps"], f"busbw {s['busbw_gbps']} < 0.9 x bound {s['bound_busbw_gbps']}")
    check(s["busbw_gbps"] <= s["bound_busbw_gbps"], "busbw above the lower bound's figure")
    # Deterministic: the same run gives the same time.
    again = coll_json("system.chips=8", "system.topology=ring", "workload.op=all_reduce", "workload.bytes=64MiB",
                      "workload.algorithm=ring", mode="timing")["summary"]
    check(again["time_us"] == s["time_us"], "two identical runs differ")


@test
def sweep_table_and_json():
    p = run(*BASE, "-p", "system.chips=4", "-p", "workload.sweep=8B:64KiB:4", "--mode", "timing")
    header = next((l for l in p.stdout.splitlines() if "size (B)" in l), None)
    check(header is not None, f"no sweep table:\n{p.stdout}")
    for col in ("time (us)", "algbw", "busbw", "bound busbw", "ratio"):
        check(col in header, f"sweep header lacks {col}: {header}")
    st = coll_json("system.chips=4", "workload.sweep=8B:64KiB:4", mode="timing")
    rows = st["summary"]["sweep"]
    sizes = [r["bytes"] for r in rows]
    check(sizes == [8, 32, 128, 512, 2048, 8192, 32768], f"sizes {sizes}")
    for r in rows:
        for k in ("bytes", "time_us", "algbw_gbps", "busbw_gbps", "bound_busbw_gbps", "bound_ratio"):
            check(k in r, f"sweep row lacks {k}")
        check(0 < r["bound_ratio"] <= 1.0, r)
    times = [r["time_us"] for r in rows]
    check(times == sorted(times), f"time does not grow with size: {times}")
    check(st["summary"]["bytes"] == sizes[-1], "summary is not the last size")
    # Every row of the table appears in the human report.
    check(all(str(s) in p.stdout for s in sizes), "table lacks a size")
    # A functional sweep verifies every size.
    fst = coll_json("system.chips=3", "workload.op=all_gather", "workload.sweep=3:3000:10")
    check([r["bytes"] for r in fst["summary"]["sweep"]] == [3, 30, 300, 3000], fst["summary"]["sweep"])
    check(fst["workload"]["verified"] is True, "functional sweep not verified")


@test
def bad_op_topology_and_sweep_are_exit_2_naming_the_key():
    p = run(*BASE, "-p", "system.chips=8", "-p", "workload.op=all_sum", expect=2)
    check("workload.op" in p.stderr and "all_reduce" in p.stderr and "broadcast" in p.stderr, p.stderr)
    p = run(*BASE, "-p", "system.chips=8", "-p", "workload.algorithm=tree", expect=2)
    check("system.topology = ring" in p.stderr and "workload.algorithm" in p.stderr
          and "fully_connected" in p.stderr, p.stderr)
    check(len(p.stderr.strip().splitlines()) == 1, f"more than one message line: {p.stderr}")
    p = run(*BASE, "-p", "system.chips=6", "-p", "workload.algorithm=tree", expect=2)
    check("power-of-two" in p.stderr, p.stderr)
    p = run(*BASE, "-p", "system.topology=mesh", "-p", "system.chips=4", expect=2)
    check("system.topology" in p.stderr and "torus2d" in p.stderr, p.stderr)
    p = run(*BASE, expect=2)
    check("system.chips" in p.stderr, p.stderr)
    p = run(*BASE, "-p", "system.chips=4", "-p", "workload.sweep=1GiB:8B", expect=2)
    check("workload.sweep" in p.stderr, p.stderr)


finish()
