#!/usr/bin/env python3
"""Firmware bring-up with GDB: `accelvp run --gdb` on a chip with a control core, driven by
gdb-multiarch in batch mode: break in the firmware's boot-parameter check, read a
register and a variable, step, set a hardware watchpoint on the scheduler's job state and
stop when the firmware takes the first job, continue to completion.
Usage: test_fw_gdb.py ACCELVP FIRMWARE_ELF"""
import re
import subprocess
import sys
import time

accelvp, elf = sys.argv[1], sys.argv[2]
sim = subprocess.Popen([accelvp, "run", "-p", "cpu.enabled=true", "-p", "workload.bytes=64KiB", "--gdb", "0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    port = None
    deadline = time.time() + 30
    while port is None and time.time() < deadline:
        line = sim.stderr.readline()
        if not line:
            break
        m = re.search(r"waiting for GDB on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = m.group(1)
    assert port, "accelvp did not announce its GDB port"
    gdb = subprocess.run(
        ["gdb-multiarch", "-batch", "-nx", "-ex", "set architecture riscv:rv32",
         "-ex", f"target remote 127.0.0.1:{port}", "-ex", "break fw_check_boot_params", "-ex", "continue",
         "-ex", "info registers a1", "-ex", "print/x p->magic", "-ex", "stepi", "-ex", "monitor time",
         "-ex", "watch jobs[0].busy", "-ex", "continue", "-ex", "print jobs[0].busy", "-ex", "delete",
         "-ex", "continue", elf],
        capture_output=True, text=True, timeout=60)
    out = gdb.stdout + gdb.stderr
    assert "Breakpoint 1, fw_check_boot_params" in out, out
    assert re.search(r"a1\s+0x0\s", out), out             # fw_abi_major = 0
    assert "0xaa5b0070" in out, out                        # AAX_BOOT_MAGIC from the driver
    assert "simulated time:" in out, out
    assert re.search(r"Hardware watchpoint 2: jobs\[0\]\.busy\s+Old value = 0\b[^\n]*\nNew value = 1\b", out), out
    assert re.search(r"\$2 = 1\b", out), out                # stopped right after the write
    assert "exited normally" in out, out
    rest, err = sim.communicate(timeout=60)
    assert sim.returncode == 0, f"accelvp exit {sim.returncode}: {err}"
    assert "verified: yes, bit-exact" in rest, rest
    print("1 passed, 0 failed")
except Exception as e:  # noqa: BLE001
    print(f"FAIL: {e}")
    print("0 passed, 1 failed")
    sys.exit(1)
finally:
    if sim.poll() is None:
        sim.kill()
        sim.wait()
