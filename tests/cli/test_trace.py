#!/usr/bin/env python3
"""The trace's firmware-core, memory, NoC and link tracks and the jobs' flow arrows; the
control core's instruction trace; firmware log lines as they come (docs/profiling.md,
docs/debugging.md). Usage: test_trace.py path/to/accelvp path/to/source-dir"""
import collections
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
SRC = sys.argv[2]
TMP = tempfile.mkdtemp(prefix="accelvp-trace-")
run = runner(ACCELVP, timeout=300)
STREAM = os.path.join(SRC, "docs", "examples", "copy-fill.s")  # two jobs: ring 0, then ring 1
CORE = "board.chip.cpu.core"


def load(path):
    with open(path) as f:
        ev = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"}
    return ev, names


def slices(ev, names, track):
    return sorted(((e["ts"], e["ts"] + e["dur"], e) for e in ev
                   if e.get("ph") == "X" and names.get(e["tid"]) == track), key=lambda s: (s[0], -s[1]))


def nested(sl):
    """Slices of one track nest (no partial overlap): what Perfetto and speedscope need."""
    stack = []
    for b, e, ev in sl:
        while stack and stack[-1][1] <= b + 1e-9:
            stack.pop()
        if stack and e > stack[-1][1] + 1e-9:
            return f"{ev['name']} [{b}, {e}] overlaps {stack[-1][2]['name']} ending {stack[-1][1]}"
        stack.append((b, e, ev))
    return None


def check_flows(ev, names, path_tracks):
    """Every flow: one 's' first, one 'f' last, steps in time order, each inside a slice of its
    track; returns {id: [track, ...]} in time order."""
    flows = collections.defaultdict(list)
    for e in ev:
        if e.get("ph") in ("s", "t", "f"):
            check(e.get("bp") == "e" and e.get("cat") == "flow" and e.get("name") == "job", e)
            flows[e["id"]].append(e)
    check(flows, "no flow events")
    by_track = collections.defaultdict(list)
    for e in ev:
        if e.get("ph") == "X":
            by_track[e["tid"]].append((e["ts"], e["ts"] + e["dur"]))
    out = {}
    for fid, steps in flows.items():
        steps.sort(key=lambda e: e["ts"])
        phases = "".join(e["ph"] for e in steps)
        check(re.fullmatch(r"st*f", phases), (fid, phases, [names[e["tid"]] for e in steps]))
        for e in steps:
            check(any(b < e["ts"] < end for b, end in by_track[e["tid"]]),
                  f"flow {fid} {e['ph']} at {e['ts']} on {names[e['tid']]} is in no slice of that track")
        out[fid] = [names[e["tid"]] for e in steps]
    return out


@test
def firmware_core_track_and_flows_from_submit_through_firmware_and_engines_to_completion():
    plain = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--json").stdout)
    trace = os.path.join(TMP, "fw.json")
    traced = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--json", "--trace",
                            trace).stdout)
    check(plain["summary"]["cycles"] == traced["summary"]["cycles"] and plain["simulated_ns"] == traced["simulated_ns"],
          (plain["summary"], traced["summary"]))
    ev, names = load(trace)
    core = slices(ev, names, CORE)
    kinds = collections.Counter(re.sub(r" \d+$", "", s[2]["name"]) for s in core)
    # The core sleeps in wfi between events; a doorbell (MEIP) wakes it to dispatch; the engine
    # queue's interrupt wakes it to complete. Two jobs: two dispatches, two completions.
    check(kinds["dispatch job"] == 2 and kinds["complete job"] == 2 and kinds["idle (wfi)"] >= 4
          and kinds["irq MEIP"] >= 3, kinds)
    check(nested(core) is None, nested(core))
    for n in ("host.driver.ring0", "host.driver.ring1", "host.driver.irq"):
        check(nested(slices(ev, names, n)) is None, (n, nested(slices(ev, names, n))))
    # dispatch and complete lie inside the core's awake slices, never in its sleep
    idle = [(b, e) for b, e, s in core if s["name"] == "idle (wfi)"]
    for b, e, s in core:
        if s["name"].startswith(("dispatch", "complete")):
            check(not any(ib < b < ie or ib < e < ie for ib, ie in idle), s)
    flows = check_flows(ev, names, None)
    check(len(flows) == 2, flows)
    paths = sorted(flows.values())
    # ring 0's job: host submit -> firmware dispatch -> its ring -> the DMA engine (twice) ->
    # firmware completion -> the host's completion handler
    check(paths[0] == ["host.driver.ring0", CORE, "board.chip.qman.ring0", "board.chip.dma0", "board.chip.dma0", CORE,
                       "host.driver.irq"], paths[0])
    check(paths[1][0] == "host.driver.ring1" and paths[1][1] == CORE and "board.chip.qman.ring1" in paths[1]
          and paths[1][-2:] == [CORE, "host.driver.irq"], paths[1])
    # memory and NoC bandwidth counters (GB/s over 1 us intervals; an idle gap drops to 0)
    counters = collections.defaultdict(list)
    for e in ev:
        if e.get("ph") == "C":
            counters[e["name"]].append((e["ts"], e["args"]["GB/s"]))
    for n in ("board.chip.devmem", "board.chip.noc", "board.host.mem"):
        check(counters.get(n) and max(v for _, v in counters[n]) > 0 and counters[n][-1][1] == 0, (n, counters.get(n)))
        ts = [t for t, _ in counters[n]]
        check(ts == sorted(ts) and len(set(ts)) == len(ts), (n, ts))
    # the bytes the device memory moved: 8 KiB of DMA reads or writes per job plus a fill;
    # the counter's integral (GB/s x 1 us = kB) covers at least the 24 KiB the DMAs moved
    dev = counters["board.chip.devmem"]
    moved = sum(v * 1000 for _, v in dev)
    check(moved >= 3 * 8192, (moved, dev))


@test
def bert_layer_every_job_has_one_well_formed_flow():
    trace = os.path.join(TMP, "bert.json")
    st = json.loads(run("run", "-w", "transformer-layer", "-c", "training", "--mode", "timing", "--json", "--trace",
                        trace).stdout)
    ev, names = load(trace)
    flows = check_flows(ev, names, None)
    submits = [e for e in ev if e.get("ph") == "X" and e["name"].startswith("submit job ")]
    check(len(flows) == len(submits) == st["components"]["host.driver"]["submits"], (len(flows), len(submits)))
    # the jobs run DMA, GEMM and VEC packets (a few only synchronize: SEM_*, NOP): their arrows
    # pass through the DMA, matrix and vector engines
    engines = collections.Counter(t.split(".")[-1] if ".compute." in t else "dma" for p in flows.values() for t in p
                                  if t.startswith(("board.chip.dma", "board.chip.compute.")))
    reach = sum(1 for p in flows.values() if any(t.startswith(("board.chip.dma", "board.chip.compute.")) for t in p))
    packets = collections.Counter(e["name"] for e in ev if e.get("ph") == "X" and e.get("cat") == "packet")
    # one arrow step per engine packet: every DMA, GEMM and VEC packet of every job
    check(engines == {"dma": packets["DMA"], "mxu": packets["GEMM"], "vpu": packets["VEC"]} and reach >= len(flows) // 2,
          (reach, engines, packets))
    check(nested(slices(ev, names, CORE)) is None, nested(slices(ev, names, CORE)))


@test
def hardware_scheduler_flows_go_from_submit_through_the_ring_and_engines():
    trace = os.path.join(TMP, "hw.json")
    run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "-p", "cpu.enabled=false", "-q", "--trace", trace)
    ev, names = load(trace)
    check(CORE not in names.values(), sorted(names.values()))
    paths = sorted(check_flows(ev, names, None).values())
    check(paths[0] == ["host.driver.ring0", "board.chip.qman.ring0", "board.chip.dma0", "board.chip.dma0",
                       "host.driver.irq"], paths)


@test
def dram_channels_are_counter_tracks():
    trace = os.path.join(TMP, "dram.json")
    st = json.loads(run("run", "-w", "dma-copy", "-c", "training", "-p", "mem.model=dram", "-p", "workload.bytes=1MiB",
                        "--mode", "timing", "--json", "--trace", trace).stdout)
    ev, _ = load(trace)
    chans = collections.defaultdict(float)
    for e in ev:
        if e.get("ph") == "C" and re.fullmatch(r"board\.chip\.devmem\.ch\d+", e["name"]):
            chans[e["name"]] += e["args"]["GB/s"] * 1000  # bytes in its 1 us interval
    # 1 MiB interleaved over the HBM channels: many channels carried part of it
    check(len(chans) >= 8, sorted(chans))
    comp = st["components"]
    bursts = sum(v.get("reads", 0) + v.get("writes", 0) for k, v in comp.items()
                 if re.fullmatch(r"board\.chip\.devmem\.ch\d+", k) and isinstance(v, dict))
    check(sum(chans.values()) >= 1 << 20, (sum(chans.values()), bursts))


@test
def instruction_trace_of_a_firmware_function_with_symbols_and_disassembly():
    out = os.path.join(TMP, "insn.txt")
    plain = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--json").stdout)
    traced = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--json", "--trace-insn", out,
                            "--trace-insn-func", "fw_log_append").stdout)
    check(plain["summary"]["cycles"] == traced["summary"]["cycles"] and plain["simulated_ns"] == traced["simulated_ns"],
          "the instruction trace changed the timing")
    lines = open(out).read().splitlines()
    pat = re.compile(r"\[ *(\d+\.\d{3}) ns\] board\.chip\.cpu\.core 0x([0-9a-f]{8}) <fw_log_append(\+0x[0-9a-f]+)?>"
                     r"  ([0-9a-f]{4}|[0-9a-f]{8}) +(\S.*)$")
    check(lines and all(pat.match(l) for l in lines), [l for l in lines if not pat.match(l)][:3])
    m = [pat.match(l) for l in lines]
    # The firmware logs two lines at boot: fw_log_append runs twice, each time from its entry
    # point (no offset) and through its copy loop, ending in a return (ret = jalr zero, 0(ra)).
    entries = [x for x in m if x.group(3) is None]
    check(len(entries) == 2, [l for l in lines if "<fw_log_append>" in l])
    check(sum(1 for x in m if x.group(5) == "jalr zero, 0(ra)") == 2, lines[-3:])
    times = [float(x.group(1)) for x in m]
    check(times == sorted(times), "time goes back")
    # a limit ends it, and says so
    run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "-q", "--trace-insn", out, "--trace-insn-limit", "25")
    lines = open(out).read().splitlines()
    check(len(lines) == 26 and "limit of 25 lines reached" in lines[-1] and "<_start>" in lines[0], lines[:2] + lines[-2:])
    bad = run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--trace-insn", out, "--trace-insn-func",
              "no_such_function", expect=2)
    check("--trace-insn-func: 'no_such_function' is not a symbol of" in bad.stderr, bad.stderr)


@test
def firmware_log_lines_come_with_simulated_time_as_they_are_written():
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + STREAM, "--json", "--fw-log")
    st = json.loads(p.stdout)
    pat = re.compile(r"\[ *(\d+\.\d{3}) ns\] fw board\.chip\.cpu\.core: (.*)$")
    lines = [pat.match(l) for l in p.stderr.splitlines() if " fw " in l]
    check(lines and all(lines), p.stderr)
    check([x.group(2) + "\n" for x in lines] == st["firmware"]["log"].splitlines(keepends=True),
          (p.stderr, st["firmware"]["log"]))
    times = [float(x.group(1)) for x in lines]
    # boot before the first job, each line stamped when the firmware wrote it, not at the end
    check(times == sorted(times) and times[-1] < st["simulated_ns"] - 1000, (times, st["simulated_ns"]))


finish()
