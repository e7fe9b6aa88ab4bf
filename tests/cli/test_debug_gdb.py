#!/usr/bin/env python3
"""Command-stream breakpoints through the firmware's GDB server: `accelvp run --gdb
--break-packet`, driven by gdb-multiarch in batch mode: the ring stops before packet 1, the
core stops for GDB, `monitor state` shows the ring on that packet, `monitor step 0` runs one
packet and stops before the next, `monitor continue` lets it go on, the program exits normally.
Usage: test_debug_gdb.py ACCELVP FIRMWARE_ELF"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import gdb_session  # noqa: E402

accelvp, elf = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="accelvp-dbg-gdb-")
prog = os.path.join(tmp, "three.s")
with open(prog, "w") as f:
    f.write(".buffer a 4K\ndma src=@a dst=@a+2048 width=64\nnop\nfence addr=@a value=1\n")
out, rc, stdout, stderr = gdb_session(
    [accelvp, "run", "--gdb", "0", "-w", "cmdstream", "-p", "workload.file=" + prog, "--break-packet", "ring=0 packet=1"],
    ["continue", "monitor state", "monitor breaks", "monitor step 0", "continue", "monitor state",
     "monitor continue", "monitor continue", "continue"], elf)
states = re.findall(r"--- device state at [0-9.]+ ns ---\n(.*?)\n---", out, re.S)
assert len(states) == 2, out
assert re.search(r"ring 0: head 0 tail 1 jobs_done 0 BUSY; on packet \+0x38 of 0x[0-9a-f]+: nop\n", states[0]), out
assert re.search(r"ring 0: head 0 tail 1 jobs_done 0 BUSY; on packet \+0x40 of 0x[0-9a-f]+: fence ", states[1]), out
assert re.search(r"control core: pc 0x[0-9a-f]{8} <\w+", states[0]), out
assert "1: ring=0 packet=1" in out, out
assert "ring 0 runs one packet" in out and "ring 0 goes on" in out, out
assert "no ring is stopped at a breakpoint" in out, out  # the second 'monitor continue'
assert out.count("Program received signal SIGTRAP") == 2, out
assert "exited normally" in out, out
assert rc == 0, (rc, stderr)
assert "ring 0 stopped before packet 1 of its job (+0x38, NOP)" in stderr, stderr
assert "ring 0 stopped before packet 2 of its job (+0x40, FENCE)" in stderr, stderr
assert "packets       3" in stdout, stdout
print("ok: command-stream breakpoints through GDB")
