#!/usr/bin/env python3
"""Robustness of the command line against careless and hostile input (docs/security.md):
impossible DRAM timings, bad options and output paths, signals, limits checked before
expensive work, and the GDB stub's loopback-only socket.
Usage: test_security.py path/to/accelvp [path/to/firmware.elf]"""
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
FIRMWARE = sys.argv[2] if len(sys.argv) > 2 else ""
TMP = tempfile.mkdtemp(prefix="accelvp-sec-")
run = runner(ACCELVP, timeout=120)
with open(ACCELVP, "rb") as f:
    _bin = f.read()
    ASAN = b"AddressSanitizer" in _bin or b"libasan" in _bin  # static or shared ASan runtime
# An interrupted run leaves SystemC processes suspended; their stacks are reclaimed at exit,
# which LeakSanitizer would report as leaks (exit 1) in the asan build.
NO_LEAK_CHECK = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


def path(name):
    return os.path.join(TMP, name)


def timed(*args, expect):
    t0 = time.monotonic()
    p = run(*args, expect=expect)
    return p, time.monotonic() - t0


# ---- crashes and hangs ------------------------------------------------------------

@test
def impossible_refresh_timing_is_a_config_error_not_a_livelock():
    # inference: LPDDR5, tRFCpb = 96, tRC = 49
    p, s = timed("run", "-p", "mem.model=dram", "-p", "mem.dram.tREFIpb=1", "-p", "workload.bytes=64KiB", expect=2)
    check(p.stderr == "accelvp: config error: mem.dram.tREFIpb = 1: each of the 16 banks of a pseudo-channel is "
                      "refreshed every 16 cycles, which must be at least 2 x (mem.dram.tRFCpb + mem.dram.tRC) = 290: "
                      "the banks would have too little time to serve requests\n", p.stderr)
    check(s < 20, f"took {s:.1f} s")
    # memsim checks the same
    tr = path("t.trace")
    with open(tr, "w") as f:
        f.write("0x0 READ 0\n")
    p = run("memsim", "--trace", tr, "-p", "mem.dram.tREFI=100", "-p", "mem.dram.refresh=all_bank", expect=2)
    check("mem.dram.tREFI = 100 must be at least 2 x (mem.dram.tRFC + mem.dram.tRC) = 1594" in p.stderr, p.stderr)


@test
def self_referencing_yaml_alias_is_exit_2():
    cfg = path("self.yaml")
    with open(cfg, "w") as f:
        f.write("mem: &x {b: *x}\n")
    p = run("run", "-c", cfg, expect=2)
    check("contains itself" in p.stderr, p.stderr)


# ---- wrong successes ----------------------------------------------------------------

@test
def negative_seed_is_exit_2():
    p = run("run", "--seed", "-1", expect=2)
    check("--seed" in p.stderr, p.stderr)


@test
def directory_as_trace_or_stats_is_exit_2():
    p = run("run", "--trace", TMP, expect=2)
    check(p.stderr == f"accelvp: usage error: --trace '{TMP}' is a directory, not a file\n", p.stderr)
    check("dma-copy" not in p.stdout, p.stdout)
    p = run("run", "--stats", TMP + "/", expect=2)
    check("is a directory" in p.stderr, p.stderr)


@test
def same_file_for_stats_and_trace_is_exit_2():
    x = path("x.json")
    p = run("run", "--stats", x, "--trace", x, expect=2)
    check("--stats and --trace name the same file" in p.stderr, p.stderr)
    p = run("run", "--stats", x, "--trace", os.path.join(TMP, ".", "x.json"), expect=2)
    check("--stats and --trace name the same file" in p.stderr, p.stderr)
    check(not os.path.exists(x), "the probe left a file behind")


@test
def unopenable_output_is_refused_before_the_run():
    # access(W_OK) says yes to root for /proc files; opening them for writing fails.
    p = run("run", "--stats", "/proc/version", expect=2)
    check("cannot write output file '/proc/version'" in p.stderr and "dma-copy" not in p.stdout,
          p.stderr + p.stdout)


@test
def a_failed_stats_write_loses_nothing_else():
    tr = path("full-trace.json")
    p = run("run", "-p", "workload.bytes=256KiB", "--stats", "/dev/full", "--trace", tr, expect=2)
    check("verified: yes, bit-exact" in p.stdout, "no report: " + p.stdout)
    check("cannot write stats file '/dev/full': No space left on device" in p.stderr, p.stderr)
    with open(tr) as f:
        t = json.load(f)
    check(len(t["traceEvents"]) > 10 and "otherData" not in t, "trace missing or marked partial")
    # The trace on /dev/full: the stats are still written.
    st = path("full-stats.json")
    p = run("run", "-p", "workload.bytes=256KiB", "--stats", st, "--trace", "/dev/full", expect=2)
    check("cannot write trace file '/dev/full'" in p.stderr and "verified: yes" in p.stdout, p.stderr)
    with open(st) as f:
        check(json.load(f)["summary"]["bytes"] == 262144, "stats not written")


@test
def mem_random_access_larger_than_bytes_is_exit_2():
    p = run("run", "-w", "mem-random", "-p", "workload.bytes=4096", "-p", "workload.access=8192", expect=2)
    check(p.stderr == "accelvp: config error: workload.access = 8192 is larger than workload.bytes = 4096: the "
                      "workload would move no access at all (workload.access must be <= workload.bytes)\n", p.stderr)
    run("run", "-w", "mem-strided", "-p", "workload.bytes=4096", "-p", "workload.access=8192", expect=2)
    run("run", "-q", "-w", "mem-random", "-p", "workload.bytes=8192", "-p", "workload.access=8192", expect=0)


# ---- nothing lost on a signal -------------------------------------------------------

def interrupted(sig, name):
    st, tr = path(f"{name}.json"), path(f"{name}-trace.json")
    # About 2.5 s of host CPU (the Release build), 8 s in the asan build.
    proc = subprocess.Popen([ACCELVP, "run", "-c", "training", "-p", "workload.direction=d2d", "-p",
                             "workload.bytes=44GiB", "--mode", "timing", "--stats", st, "--trace", tr],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=NO_LEAK_CHECK)
    # Signal once it has used 0.5 s of CPU: configured, elaborated, simulating.
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= 0.5:
            break
        time.sleep(0.05)
    check(proc.poll() is None, "the run ended before the signal")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    check(proc.returncode == 128 + sig, f"exit {proc.returncode}: {err}")
    check(f"accelvp: error: interrupted by {name} at " in err and "the report, stats and trace are partial" in err, err)
    check("verified: no: partial run" in out and "simulated_ns" in out and "workload dma-copy" in out, out)
    with open(st) as f:
        s = json.load(f)
    check(s["partial"] is True and s["simulated_ns"] > 0 and "interrupted" in s["error"], str(s.get("error")))
    with open(tr) as f:
        t = json.load(f)
    check(t["otherData"] == {"partial": True} and len(t["traceEvents"]) > 3, "trace not marked partial")


@test
def sigint_ends_the_run_with_a_partial_report():
    interrupted(signal.SIGINT, "SIGINT")


@test
def sigterm_ends_the_run_with_a_partial_report():
    interrupted(signal.SIGTERM, "SIGTERM")


# ---- limits before expensive work ---------------------------------------------------

@test
def out_of_host_memory_is_a_clear_message():
    if ASAN:  # ASan reserves terabytes of address space: an address-space limit cannot apply
        print("     (skipped under ASan)")
        return
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    p = subprocess.run([ACCELVP, "run", "-p", "workload.bytes=2GiB", "-p", "sim.host_memory_check=false"],
                       capture_output=True, text=True, timeout=120, preexec_fn=limit)
    check(p.returncode == 1, f"exit {p.returncode}: {p.stderr[-2000:]}")
    check("out of host memory" in p.stderr, p.stderr[-2000:])


@test
def functional_run_larger_than_host_memory_is_refused_before_elaboration():
    if ASAN:
        print("     (skipped under ASan)")
        return
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    t0 = time.monotonic()
    p = subprocess.run([ACCELVP, "run", "-p", "workload.bytes=1GiB"], capture_output=True, text=True, timeout=120,
                       preexec_fn=limit)
    check(p.returncode == 2, f"exit {p.returncode}: {p.stderr[-2000:]}")
    check(p.stderr == "accelvp: config error: a functional run with workload.bytes = 1073741824 needs about 2.0 GiB "
                      "of host memory, more than the 1.0 GiB available; use --mode timing (sim.mode = timing: the "
                      "same cycles without data), a smaller workload.bytes, or -p sim.host_memory_check=false to try "
                      "anyway\n", p.stderr)
    check(time.monotonic() - t0 < 10, "not refused before the work")
    # Timing mode holds no data: it runs under the same limit.
    p = subprocess.run([ACCELVP, "run", "-q", "-p", "workload.bytes=1GiB", "--mode", "timing"], capture_output=True,
                       text=True, timeout=120, preexec_fn=limit)
    check(p.returncode == 0, f"timing: exit {p.returncode}: {p.stderr[-2000:]}")


@test
def a_4096_chip_system_is_refused_before_elaboration():
    # Elaborating 4096 chips took minutes and tens of GB before anything was checked.
    if ASAN:
        print("     (skipped under ASan)")
        return
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    t0 = time.monotonic()
    p = subprocess.run([ACCELVP, "run", "-w", "collective", "-c", "training", "-p", "system.chips=4096", "--mode",
                        "timing"], capture_output=True, text=True, timeout=120, preexec_fn=limit)
    check(p.returncode == 2, f"exit {p.returncode}: {p.stderr[-2000:]}")
    check(p.stderr == "accelvp: config error: a system of system.chips = 4096 needs about 11.5 GiB of host memory, "
                      "more than the 4.0 GiB available; use fewer system.chips, or -p sim.host_memory_check=false to "
                      "try anyway\n", p.stderr)
    check(time.monotonic() - t0 < 10, "not refused before the work")


# ---- network exposure ---------------------------------------------------------------

def listeners(port):
    """Local addresses (hex, as in /proc/net/tcp*) listening on `port`."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    local, state = line.split()[1], line.split()[3]
                    addr, p = local.split(":")
                    if int(p, 16) == port and state == "0A":
                        out.append(addr)
        except FileNotFoundError:
            pass
    return out


@test
def gdb_stub_listens_on_loopback_only():
    proc = subprocess.Popen([ACCELVP, "run", "-p", "cpu.enabled=true", "--gdb", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        check("waiting for GDB on 127.0.0.1:" in line, line)
        port = int(line.split("127.0.0.1:")[1].split()[0])
        check(listeners(port) == ["0100007F"], f"port {port} listens on {listeners(port)}")
    finally:
        proc.kill()
        proc.communicate(timeout=30)


finish()
