#!/usr/bin/env python3
"""Trace tracks and packet arguments, and `accelvp profile` on a trace, end to end.
Usage: test_profile.py path/to/accelvp"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-profile-")
run = runner(ACCELVP, timeout=300)
TRACE = os.path.join(TMP, "gemm.json")


def events(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["traceEvents"] if isinstance(doc, dict) else doc


@test
def tracing_changes_no_cycle_and_adds_engine_tracks_with_packet_args():
    a = json.loads(run("run", "-w", "gemm", "-c", "training", "-p", "workload.m=512", "-p", "workload.n=512", "-p",
                       "workload.k=512", "--mode", "timing", "--json").stdout)
    b = json.loads(run("run", "-w", "gemm", "-c", "training", "-p", "workload.m=512", "-p", "workload.n=512", "-p",
                       "workload.k=512", "--mode", "timing", "--json", "--trace", TRACE).stdout)
    check(a["summary"]["cycles"] == b["summary"]["cycles"] and a["simulated_ns"] == b["simulated_ns"],
          (a["summary"], b["summary"]))
    ev = events(TRACE)
    names = {e["tid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"}
    tracks = set(names.values())
    check("board.chip.compute.cluster0.mxu" in tracks and "board.chip.dma0" in tracks, sorted(tracks))
    mxu = [e for e in ev if e.get("ph") == "X" and names.get(e["tid"], "").endswith(".mxu")]
    check(mxu and all(e["name"] == "GEMM" and e["args"]["cycles"] > 0 for e in mxu), mxu[:3])
    gemms = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "packet" and e["name"] == "GEMM"]
    check(gemms, "no GEMM packet slices")
    g = gemms[0]["args"]
    check(g["opcode"] == "GEMM" and g["status"] == "OK" and g["macs"] == g["m"] * g["n"] * g["k"] > 0, g)
    check(g["offset"].startswith("0x") and g["cmdbuf"].startswith("0x") and g["dtype_in"] == "bf16", g)
    # the MACs of all GEMM packets are the product's
    check(sum(e["args"]["macs"] for e in gemms) == 512 * 512 * 512, sum(e["args"]["macs"] for e in gemms))
    dmas = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "packet" and e["name"] == "DMA"]
    check(dmas and all(d["args"]["bytes"] == d["args"]["width"] * d["args"]["height"] for d in dmas), dmas[:2])


@test
def profile_summarizes_tracks_opcodes_jobs_and_packets():
    p = run("profile", TRACE, "--top", "3")
    out = p.stdout
    check(out.startswith("trace span: "), out[:200])
    for word in ("board.chip.compute.cluster0.mxu", "opcode", "GEMM", "top 3 jobs by device time",
                 "top 3 packets by device time"):
        check(word in out, f"{word!r} missing:\n{out}")
    j = json.loads(run("profile", TRACE, "--json").stdout)
    ev = events(TRACE)
    packets = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "packet"]
    check(sum(o["count"] for o in j["opcodes"]) == len(packets), j["opcodes"])
    check(j["top_packets"][0]["dur_us"] == max(e["dur"] for e in packets), j["top_packets"][0])
    check(all(0 <= t["utilization"] <= 1 for t in j["tracks"]), j["tracks"])
    mxu = [t for t in j["tracks"] if t["track"] == "board.chip.compute.cluster0.mxu"][0]
    spans = sorted((e["ts"], e["ts"] + e["dur"]) for e in ev if e.get("ph") == "X" and
                   e["tid"] == [x["tid"] for x in ev if x.get("ph") == "M" and x.get("name") == "thread_name" and
                                x["args"]["name"] == "board.chip.compute.cluster0.mxu"][0])
    check(abs(mxu["busy_us"] - sum(b - a for a, b in spans)) < 1e-6, (mxu, spans[:3]))  # one engine: no overlap
    bad = os.path.join(TMP, "bad.json")
    with open(bad, "w") as f:
        f.write("{}")
    p = subprocess.run([ACCELVP, "profile", bad], capture_output=True, text=True)
    check(p.returncode == 1 and "not a Chrome/Perfetto trace" in p.stderr, (p.returncode, p.stderr))


@test
def run_profile_prints_counters_bounds_and_changes_no_cycle():
    args = ["run", "-w", "gemm", "-c", "training", "-p", "workload.m=512", "-p", "workload.n=512", "-p",
            "workload.k=512", "--mode", "timing"]
    plain = json.loads(run(*args, "--json").stdout)
    stats = os.path.join(TMP, "prof-stats.json")
    out = run(*args, "--profile", "3", "--stats", stats).stdout
    with open(stats) as f:
        s = json.load(f)
    check(s["summary"]["cycles"] == plain["summary"]["cycles"], (s["summary"], plain["summary"]))
    for word in ("trace span: ", "top 3 jobs by device time", "top 3 packets by device time", "jobs by bound: ",
                 "hardware counters (BAR0 0xB000", "board.chip.compute.cluster0.mxu", "board.chip.dma0"):
        check(word in out, f"{word!r} missing:\n{out}")
    # The engine rows of the counters: their MACs add up to the product's; stall within [0, 100] %.
    hw = out.split("hardware counters (BAR0 0xB000")[1]
    rows = [l.split() for l in hw.splitlines() if l.startswith("board.chip.compute.") and l.split()[0].endswith(".mxu")]
    macs = sum(int(r[5]) for r in rows)
    check(macs == 512 * 512 * 512, (macs, rows[:3]))
    # Each listed job has a bound and four shares adding up to ~100 %.
    jobs = [l for l in out.split("top 3 jobs by device time")[1].split("jobs by bound:")[0].splitlines()[1:] if l.strip()]
    check(len(jobs) == 3, jobs)
    for l in jobs:
        parts = l.split()
        check(parts[-3] in ("compute", "dma", "memory", "control"), l)
        shares = [int(x) for x in parts[-2].split("/")]
        check(abs(sum(shares) - 100) <= 3, l)
    # --profile with --json: stdout stays one JSON document (the summary goes to stderr).
    p = subprocess.run([ACCELVP, *args, "--json", "--profile"], capture_output=True, text=True)
    check(p.returncode == 0 and json.loads(p.stdout)["summary"]["cycles"] == plain["summary"]["cycles"], p.stderr[-500:])
    check("hardware counters" in p.stderr and "top 10 jobs by device time" in p.stderr, p.stderr[-500:])
    # profile --json --stats: counters section equals the stats figures.
    tr = os.path.join(TMP, "prof-trace.json")
    run(*args, "--trace", tr, "--stats", stats, "-q")
    j = json.loads(run("profile", tr, "--stats", stats, "--json").stdout)
    with open(stats) as f:
        s = json.load(f)
    dma0 = [d for d in j["counters"]["dma"] if d["unit"] == "board.chip.dma0"][0]
    check(dma0["bytes"] == s["components"]["board.chip.dma0"]["bytes"] > 0, dma0)
    check(sum(j["job_bounds"].values()) == len([e for e in events(tr) if e.get("ph") == "X" and e.get("cat") == "job"]),
          j["job_bounds"])


finish()
