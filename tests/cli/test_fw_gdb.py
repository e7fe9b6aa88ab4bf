#!/usr/bin/env python3
"""Firmware bring-up with GDB: `accelvp run --gdb` on a chip with a control core, driven by
gdb-multiarch in batch mode: break in the firmware's boot-parameter check, read a
register and a variable, step, set a hardware watchpoint on the scheduler's job state and
stop when the firmware takes the first job, continue to completion.
Usage: test_fw_gdb.py ACCELVP FIRMWARE_ELF"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import gdb_session  # noqa: E402

accelvp, elf = sys.argv[1], sys.argv[2]
try:
    out, rc, rest, err = gdb_session(
        [accelvp, "run", "-p", "cpu.enabled=true", "-p", "workload.bytes=64KiB", "--gdb", "0"],
        ["break fw_check_boot_params", "continue", "info registers a1", "print/x p->magic", "stepi", "monitor time",
         "watch jobs[0].busy", "continue", "print jobs[0].busy", "delete", "continue"], elf)
    assert "Breakpoint 1, fw_check_boot_params" in out, out
    assert re.search(r"a1\s+0x0\s", out), out             # fw_abi_major = 0
    assert "0xaa5b0070" in out, out                        # AAX_BOOT_MAGIC from the driver
    assert "simulated time:" in out, out
    assert re.search(r"Hardware watchpoint 2: jobs\[0\]\.busy\s+Old value = 0\b[^\n]*\nNew value = 1\b", out), out
    assert re.search(r"\$2 = 1\b", out), out                # stopped right after the write
    assert "exited normally" in out, out
    assert rc == 0, f"accelvp exit {rc}: {err}"
    assert "verified: yes, bit-exact" in rest, rest
    print("1 passed, 0 failed")
except Exception as e:  # noqa: BLE001
    print(f"FAIL: {e}")
    print("0 passed, 1 failed")
    sys.exit(1)
