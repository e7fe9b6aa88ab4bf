#!/usr/bin/env python3
"""End-to-end tests of the accelvp command line: exit codes, messages, outputs,
determinism and fidelity modes. Usage: test_cli.py path/to/accelvp"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-cli-")


run = runner(ACCELVP, timeout=300)





def stats_of(*args):
    path = os.path.join(TMP, "s.json")
    run("run", "--quiet", "--stats", path, *args)
    with open(path) as f:
        return json.load(f)


@test
def help_for_every_command():
    for cmd in ([], ["run"], ["list"], ["config"]):
        p = run(*cmd, "--help")
        check("Usage" in p.stdout or "usage" in p.stdout.lower(), f"no usage text for {cmd}")
    check("--mode" in run("run", "--help").stdout, "run --help lacks --mode")


@test
def default_run_prints_the_report():
    p = run()
    for word in ("dma-copy", "inference", "bandwidth_gbps", "peak_gbps", "verified: yes, bit-exact"):
        check(word in p.stdout, f"default report lacks {word!r}:\n{p.stdout}")
    check("SystemC" not in p.stdout + p.stderr, "SystemC banner or info leaked into the output")


@test
def list_shows_configs_and_workloads():
    out = run("list").stdout
    for word in ("edge", "inference", "training", "dma-copy"):
        check(word in out, f"list lacks {word}")


@test
def unknown_key_is_exit_2_with_nearest_keys():
    p = run("run", "-p", "dma.burst_byte=4096", expect=2)
    check("dma.burst_byte" in p.stderr and "dma.burst_bytes" in p.stderr, p.stderr)
    check(p.stderr.count("\n") == 1, f"expected one line, got:\n{p.stderr}")


@test
def out_of_range_value_is_exit_2_naming_the_range():
    p = run("run", "-p", "pcie.lanes=32", expect=2)
    check("pcie.lanes" in p.stderr and "[1, 16]" in p.stderr, p.stderr)


@test
def bad_type_is_exit_2():
    p = run("run", "-p", "mem.bandwidth_gbps=fast", expect=2)
    check("mem.bandwidth_gbps" in p.stderr and "number" in p.stderr, p.stderr)
    p = run("run", "-p", "workload.direction=sideways", expect=2)
    check("h2d, d2d, d2h" in p.stderr, p.stderr)


@test
def gemm_tile_clusters_beyond_the_chip_is_exit_2():
    p = run("run", "-c", "training", "-w", "gemm", "-p", "workload.tile_clusters=16", expect=2)
    check("workload.tile_clusters" in p.stderr and "compute.clusters = 8" in p.stderr, p.stderr)
    run("run", "-c", "training", "-w", "gemm", "--mode", "timing", "-p", "workload.tile_clusters=8", expect=0)


@test
def unknown_workload_and_config_are_exit_2():
    p = run("run", "-w", "nope", expect=2)
    check("dma-copy" in p.stderr, p.stderr)
    p = run("run", "-c", "nope", expect=2)
    check("training" in p.stderr, p.stderr)
    run("run", "--mode", "fast", expect=2)
    run("bogus-command", expect=2)


@test
def config_dump_round_trips():
    a = run("config", "-c", "training", "-p", "dma.max_outstanding=7", "--dump").stdout
    path = os.path.join(TMP, "dump.yaml")
    with open(path, "w") as f:
        f.write(a)
    b = run("config", "-c", path, "--dump").stdout
    # Comments aside (the reloaded dump sets what the first one marked as derived), the values match.
    strip = lambda s: "\n".join(l.split("#")[0].rstrip() for l in s.splitlines() if not l.startswith("#"))
    check(strip(a) == strip(b), "dumped config does not load back to the same config")
    check("# [derived: 2 x compute.clusters (8)]" in a, "derived values not marked in the dump")
    check("#   peak_tflops.int8: 943.7" in a, "derived figures missing from the dump")
    check("max_outstanding: 7" in a, "override missing from dump")


@test
def stats_json_has_the_documented_schema():
    s = stats_of("-p", "workload.bytes=1MiB")
    for k in ("schema_version", "config", "workload", "simulated_ns", "wall_s", "summary", "components"):
        check(k in s, f"stats lacks {k}")
    check(s["workload"]["name"] == "dma-copy" and s["workload"]["verified"] is True, str(s["workload"]))
    check(s["workload"]["params"]["workload.bytes"] == 1 << 20, str(s["workload"]["params"]))
    for k in ("bytes", "bandwidth_gbps", "peak_gbps"):
        check(k in s["summary"], f"summary lacks {k}")
    check(s["config"]["mem.size"] == 32 << 30, "effective config missing")
    dma = s["components"]["board.chip.dma0"]
    check(dma["bytes"] == 1 << 20, f"dma bytes {dma['bytes']}")
    check(s["summary"]["bandwidth_gbps"] <= s["summary"]["peak_gbps"], "bandwidth above peak")
    # The default chip has a control core: the job went through the firmware scheduler.
    core = s["components"]["board.chip.cpu.core"]
    check(core["instructions"] > 0, f"control core executed {core['instructions']} instructions")
    check(s["components"]["board.chip.qman"]["jobs"] == 0, "the hardware ring scheduler ran a job")
    check("ready: scheduling" in s["firmware"]["log"], s["firmware"]["log"])
    check("mips" in s["host"]["board.chip.cpu.core"], f"host: {s['host']}")


@test
def every_direction_verifies_on_every_preset():
    for preset in ("edge", "inference", "training"):
        for d in ("h2d", "d2d", "d2h"):
            s = stats_of("-c", preset, "-p", f"workload.direction={d}", "-p", "workload.bytes=3MiB",
                         "-p", "workload.src_offset=5", "-p", "workload.dst_offset=3")
            check(s["workload"]["verified"] is True, f"{preset} {d} not verified")
            check(0.5 < s["summary"]["efficiency"] <= 1.0, f"{preset} {d} efficiency {s['summary']['efficiency']}")


@test
def stats_file_and_json_output_are_the_same_document():
    # The command line writes `components` one component at a time (run_options::
    # stats_in_result = false): both outputs carry the same text, a complete document.
    path = os.path.join(TMP, "both.json")
    p = run("run", "-p", "workload.bytes=1MiB", "--stats", path, "--json")
    with open(path) as f:
        text = f.read()
    check(text == p.stdout, "--stats file and --json output differ")
    s = json.loads(text)
    check(s["components"]["board.chip.dma0"]["bytes"] == 1024 * 1024, f"dma0: {s['components'].get('board.chip.dma0')}")
    check(list(s) == sorted(s), f"top-level keys out of order: {list(s)}")


@test
def same_seed_gives_identical_stats_and_trace():
    def once(tag):
        st, tr = os.path.join(TMP, f"s{tag}.json"), os.path.join(TMP, f"t{tag}.json")
        run("run", "-q", "--seed", "42", "-p", "workload.bytes=2MiB", "--stats", st, "--trace", tr)
        with open(st) as f:
            s = json.load(f)
        s.pop("wall_s")
        s.pop("host")  # simulator speed
        with open(tr, "rb") as f:
            return s, f.read()
    s1, t1 = once(1)
    s2, t2 = once(2)
    check(s1 == s2, "stats differ between identical runs")
    check(t1 == t2, "traces differ between identical runs")
    trace = json.loads(t1)
    names = {e["args"]["name"] for e in trace["traceEvents"] if e.get("name") == "thread_name"}
    check("board.chip.dma0" in names and "board.chip.qman.ring0" in names, f"tracks: {sorted(names)}")
    check(any(e.get("ph") == "X" and e.get("cat") == "dma" for e in trace["traceEvents"]), "no DMA slice")
    check(any(e.get("ph") == "X" and e.get("cat") == "job" for e in trace["traceEvents"]), "no job slice")


@test
def timing_mode_gives_the_same_cycles_without_data():
    common = ("-c", "training", "-p", "workload.bytes=64MiB", "-p", "workload.direction=d2h")
    f = stats_of("--mode", "functional", *common)
    t = stats_of("--mode", "timing", *common)
    check(f["summary"]["device_ns"] == t["summary"]["device_ns"], "device time differs between modes")
    check(f["summary"]["cycles"] == t["summary"]["cycles"], "cycles differ between modes")
    check(t["workload"]["verified"] is None, "timing mode claims verification")
    # An odd size at an odd offset, where ns rounding of timestamps once differed.
    odd = ("-c", "edge", "-p", "workload.bytes=3000001", "-p", "workload.src_offset=3", "-p", "workload.direction=d2d")
    f, t = stats_of("--mode", "functional", *odd), stats_of("--mode", "timing", *odd)
    check(f["summary"]["cycles"] == t["summary"]["cycles"], f"cycles {f['summary']['cycles']} vs {t['summary']['cycles']}")
    check(f["simulated_ns"] == t["simulated_ns"], "simulated time differs between modes")


@test
def workload_error_is_exit_1():
    p = run("run", "-c", "edge", "-p", "workload.bytes=8GiB", "-p", "workload.direction=d2d", expect=1)
    check("allocating" in p.stderr, p.stderr)


@test
def unwritable_output_is_exit_2_before_simulating():
    p = run("run", "--stats", "/nonexistent-dir/s.json", expect=2)
    check("cannot write" in p.stderr and "dma-copy" not in p.stdout, p.stderr + p.stdout)


@test
def simulated_time_limit_is_exit_1():
    p = run("run", "-p", "sim.max_time_ms=0.5", expect=1)
    check("sim.max_time_ms" in p.stderr, p.stderr)


@test
def json_output_parses():
    s = json.loads(run("run", "--json", "-p", "workload.bytes=64KiB").stdout)
    check(s["summary"]["bytes"] == 65536, "json output summary")


finish()
