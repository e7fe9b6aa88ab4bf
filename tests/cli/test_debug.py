#!/usr/bin/env python3
"""Debugging aids end to end: the state dump of a hang or timeout, per-component log levels
(-p log.<component>=LEVEL) and the register-access trace. Usage: test_debug.py path/to/accelvp"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-debug-")
run = runner(ACCELVP, timeout=120)


def write(name, text):
    p = os.path.join(TMP, name)
    with open(p, "w") as f:
        f.write(text)
    return p


HANG = """.buffer a 4K
dma src=@a dst=@a+2048 width=64
sem_signal sem=3 value=2
sem_wait sem=7 value=1          # nobody signals 7
"""


@test
def a_timeout_dumps_rings_semaphores_and_the_symbolized_core():
    s = os.path.join(TMP, "s.json")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + write("hang.s", HANG), "-p",
            "workload.timeout_ms=0.1", "--stats", s, "-q", expect=1)
    e = p.stderr
    check("--- device state at " in e, e)
    check(re.search(r"ring 0: head 0 tail 1 jobs_done 0 BUSY; on packet \+0x48 of 0x[0-9a-f]+: "
                    r"sem_wait sem=7 value=1\n", e), e)
    check("ring 1: head 0 tail 0 jobs_done 0 idle\n" in e, e)
    check("semaphores (nonzero): 3=2\n" in e, e)
    check(re.search(r"control core: pc 0x[0-9a-f]{8} <\w+\+0x[0-9a-f]+>", e), e)
    check(re.search(r"#0 0x[0-9a-f]{8} <\w+", e), e)
    check(e.rstrip().endswith("job 0 (queue 0): the host wait timed out"), e)
    d = json.load(open(s))["state_dump"]
    check(d["rings"][0]["packet"] == "sem_wait sem=7 value=1" and d["rings"][0]["offset"] == 0x48, d["rings"][0])
    check(d["semaphores_nonzero"] == {"3": 2}, d)
    check(d["control_core"]["backtrace"][0] == d["control_core"]["pc_symbol"], d["control_core"])


@test
def a_run_that_succeeds_or_fails_otherwise_dumps_nothing():
    p = run("run", "-p", "workload.bytes=4KiB", "-q")
    check(p.stderr == "", p.stderr)
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + write("bad.s", ".raw 0x000000000001000d\n"), "-q",
            expect=1)
    check("device state" not in p.stderr and "BAD_OPCODE" in p.stderr, p.stderr)


@test
def per_component_log_levels():
    f = write("three.s", ".buffer a 4K\ndma src=@a dst=@a+2048 width=64\nnop\nfence addr=@a value=1\n")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "-q")
    check("qman" not in p.stderr, p.stderr)
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "-p", "log.qman=debug", "-q")
    lines = [l for l in p.stderr.splitlines() if "debug board.chip.qman: ring 0 packet" in l]
    check([l.split(": ", 1)[1].split(" of ")[0] for l in lines] ==
          ["ring 0 packet +0x0", "ring 0 packet +0x38", "ring 0 packet +0x40"], p.stderr)
    check(lines[0].endswith(": DMA (7 qw)") and lines[2].endswith(": FENCE (3 qw)"), lines)
    check(all(l.startswith("[") for l in p.stderr.splitlines()), p.stderr)  # nothing but qman's lines
    # a driver level does not open the queue manager's
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "-p", "log.driver=info", "-q")
    check("host.driver: probed AAX device" in p.stderr and "qman" not in p.stderr, p.stderr)
    p = run("run", "-p", "log.qmna=debug", expect=2)
    check("unknown key 'log.qmna'" in p.stderr, p.stderr)
    p = run("run", "-p", "log.qman=loud", expect=2)
    check("log.qman" in p.stderr and "default, error, warn, info, debug, trace" in p.stderr, p.stderr)


@test
def register_access_trace():
    p = run("run", "-p", "workload.bytes=4KiB", "-p", "log.regs=debug", "-q")
    e = p.stderr.splitlines()
    check(any(l.endswith("debug regs: board.chip.ctrl read  0x0 id = 0x41415831") for l in e), e[:5])
    check(any(" write " in l and "doorbell" in l.lower() for l in e), [l for l in e if "write" in l][-10:])
    check(all(" regs: " in l for l in e), [l for l in e if " regs: " not in l][:5])


@test
def a_cli_breakpoint_prints_the_state_before_the_packet_and_goes_on():
    f = write("three.s", ".buffer a 4K\ndma src=@a dst=@a+2048 width=64\nnop\nfence addr=@a value=1\n")
    a = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "--json")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "--json", "--break-packet", "opcode=fence",
            "--break-packet", "ring=0,packet=1")
    e = p.stderr
    check(re.search(r"breakpoint: ring 0 stopped before packet 1 of its job \(\+0x38, NOP\) at [0-9.]+ ns\n"
                    r"--- device state at [0-9.]+ ns ---\n  ring 0: head 0 tail 1 jobs_done 0 BUSY; on packet "
                    r"\+0x38 of 0x[0-9a-f]+: nop\n", e), e)
    check("ring 0 stopped before packet 2 of its job (+0x40, FENCE)" in e, e)
    check(e.count("--- device state") == 2, e)
    # a printing breakpoint changes no cycle
    check(json.loads(p.stdout)["summary"]["cycles"] == json.loads(a.stdout)["summary"]["cycles"], p.stdout)
    for spec, msg in (("ring=1", "names no packet"), ("opcode=gemx", "opcode=gemx is not an opcode; valid: nop, "
                                                                       "wreg, dma, gemm"),
                      ("packet=-1", "packet=-1 is not a number"), ("rnig=0 packet=1", "unknown field 'rnig'")):
        p = run("run", "--break-packet", spec, expect=2)
        check(msg in p.stderr, (spec, p.stderr))


finish()
