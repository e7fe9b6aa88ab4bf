#!/usr/bin/env python3
"""The real Linux driver against the chip (docs/linux-driver.md): builds the guest
(tools/guest/build.sh), boots it under QEMU/TCG with `accelvp qemu`, and checks what the
guest's /init reports -- module load, the device node, sysfs, debugfs, aax-run dma-copy and
GEMM verified bit-exact, a bad packet answered with EINVAL and a device error record, clean
unload -- and that the VP's stats match what the guest did. Prints the guest console on
failure. Also: malformed proxy messages are a clear error naming the message.
Usage: test_guest.py path/to/accelvp FIRMWARE_ELF BUILD_DIR"""
import json
import os
import re
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, test  # noqa: E402

ACCELVP, FIRMWARE, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(BUILD, "guest-test")
BYTES = 64 << 20
EDGE_DEVMEM = 4 << 30

state = {}


def console_tail(text, n=80):
    return "\n".join(text.splitlines()[-n:])


@test
def guest_builds():
    r = subprocess.run([os.path.join(ROOT, "tools", "guest", "build.sh"), OUT, FIRMWARE], capture_output=True,
                       text=True, timeout=600)
    check(r.returncode == 0, f"tools/guest/build.sh failed:\n{r.stdout}\n{r.stderr}")
    for f in ("vmlinuz", "initrd.cpio.gz"):
        check(os.path.exists(os.path.join(OUT, f)), f"{f} missing")


@test
def guest_boots_loads_driver_and_runs_jobs():
    stats = os.path.join(OUT, "stats.json")
    cmd = [ACCELVP, "qemu", "-c", "edge", "--kernel", os.path.join(OUT, "vmlinuz"), "--initrd",
           os.path.join(OUT, "initrd.cpio.gz"), "--append", f"console=ttyS0 panic=-1 quiet no_timer_check aax.bytes={BYTES}",
           "--stats", stats]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    con = r.stdout
    state["console"] = con
    with open(os.path.join(OUT, "console.txt"), "w") as f:
        f.write(con + "\n--- stderr ---\n" + r.stderr)
    ok = r.returncode == 0 and "AAX-GUEST: done" in con
    if not ok:
        print("--- guest console (tail) ---\n" + console_tail(con) + "\n--- stderr ---\n" + r.stderr[-3000:])
    check(r.returncode == 0, f"accelvp qemu exited {r.returncode}")
    with open(stats) as f:
        state["stats"] = json.load(f)
    lines = [l for l in con.splitlines() if l.startswith("AAX-")]
    state["lines"] = lines

    def has(prefix, pattern):
        return any(l.startswith(prefix) and re.search(pattern, l) for l in lines)

    try:
        check(has("AAX-GUEST:", r"aax loaded"), "module did not load")
        check(has("AAX-NODE:", r"^AAX-NODE: /dev/(dri/renderD\d+|accel/accel\d+)$"), "no device node")
        check(has("AAX-SYSFS:", r"fw_version=\d+\.\d+\.\d+$"), "sysfs fw_version")
        check(has("AAX-SYSFS:", rf"devmem_size={EDGE_DEVMEM}$"), "sysfs devmem_size")
        check(has("AAX-SYSFS:", r"abi_version=0\.1$"), "sysfs abi_version")
        check(has("AAX-DEBUGFS-RINGS:", r"ring 0: base 0x[0-9a-f]+ entries 256"), "debugfs rings")
        check(has("AAX-INFO:", rf"devmem_size: {EDGE_DEVMEM}"), "aax-info")
        check(has("AAX-RUN:", rf"dma-copy h2d: bytes {BYTES} device_ns \d+"), "dma-copy h2d")
        check(has("AAX-RUN:", rf"dma-copy d2h: bytes {BYTES} device_ns \d+"), "dma-copy d2h")
        check(has("AAX-RUN:", r"dma-copy verified: yes, bit-exact"), "dma-copy not verified")
        check(has("AAX-RUN:", r"gemm verified: yes, bit-exact"), "gemm not verified")
        check(has("AAX-RUN:", r"bad-packet: errno EINVAL status BAD_OPCODE offset 8"), "bad packet errno")
        check(has("AAX-RUN:", r"bad-packet: error record BAD_OPCODE offset 8 opcode 0x7f count 1"),
              "bad packet error record")
        check(has("AAX-RUN:", r"bad-packet: bad handle ENOENT$"), "bad BO handle")
        check(has("AAX-RUN:", r"bad-packet: oversize submit EINVAL$"), "oversize submit")
        check(has("AAX-RUN:", r"bad-packet: misaligned offset EINVAL$"), "misaligned offset")
        check(has("AAX-RUN:", r"bad-packet: next job ok"), "ring did not recover")
        check(has("AAX-RUN-SAME:", r"dma-copy verified: yes, bit-exact"), "4 MiB dma-copy (command buffer in devmem)")
        check(has("AAX-DEBUGFS-COUNTERS:", r"submits 7$"), "debugfs counters")
        check(has("AAX-DEBUGFS-MMIO:", r"reads 2000 ns \d+ per_s \d+"), "debugfs mmio_rate")
        check(has("AAX-GUEST:", r"aax unloaded"), "rmmod failed")
    except AssertionError:
        print("--- guest console (tail) ---\n" + console_tail(con))
        raise


@test
def vp_stats_match_what_the_guest_did():
    st = state.get("stats")
    check(st is not None, "no stats (the boot failed)")
    comp = st["components"]

    def stat(group, name):
        for g, v in comp.items():
            if g.endswith(group) and name in v:
                x = v[name]
                return x["value"] if isinstance(x, dict) else x
        raise AssertionError(f"no stat {group}.{name}: groups {sorted(comp)}")

    check(st["qemu"]["exit_status"] == 0, f"QEMU exit {st['qemu']}")
    check(st["summary"]["bad_dma"] == 0, "device DMA outside guest RAM")
    # 7 jobs: two dma-copies h2d and d2h, gemm, the bad packet and the job after it (one failed).
    check(stat("qman", "eq_cmdbufs") == 7, "jobs the firmware ran")
    check(stat("qman", "jobs_failed") == 1, "failed jobs")
    # DMA through the host window: at least the copy each way, plus the GEMM operands.
    check(stat("guest_ram", "bytes_read") >= BYTES + 2 * 64 * 64, "guest RAM bytes read")
    check(stat("guest_ram", "bytes_written") >= BYTES + 64 * 64 * 4, "guest RAM bytes written")
    check(stat("chip.pcie", "bytes_h2d") >= BYTES, "PCIe h2d bytes")
    check(stat("chip.pcie", "bytes_d2h") >= BYTES, "PCIe d2h bytes")
    # INTx: every assertion the endpoint made was signalled to QEMU's eventfd.
    check(stat("chip.pcie", "intx_asserts") == stat("qemu", "irq_signals"), "INTx assertions vs eventfd signals")
    check(stat("chip.pcie", "intx_asserts") >= 1, "no interrupt asserted")
    check(st["summary"]["mmio_round_trips"] > 1000, "MMIO round trips")


@test
def same_command_buffer_same_device_time_as_in_process():
    """The guest's 4 MiB h2d job (one DMA packet, command buffer in device memory) and the
    in-process dma-copy workload's job, on the same config: the same device time."""
    lines = state.get("lines")
    check(lines is not None, "no guest run")
    m = [re.search(r"dma-copy h2d: bytes 4194304 device_ns (\d+)", l) for l in lines if l.startswith("AAX-RUN-SAME:")]
    m = [x for x in m if x]
    check(m, "no 4 MiB h2d figure from the guest")
    guest_ns = int(m[0].group(1))
    r = subprocess.run([ACCELVP, "run", "-c", "edge", "-w", "dma-copy", "--json", "-p", "workload.bytes=4194304",
                        "-p", "cpu.enabled=true", "-p", "pcie.bar2_64bit=false", "-p", "pcie.bar2_size=268435456"],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    check(r.returncode == 0, r.stderr)
    inproc_ns = int(json.loads(r.stdout)["summary"]["device_ns"])
    check(guest_ns == inproc_ns, f"device time: guest {guest_ns} ns, in-process {inproc_ns} ns")


def fake_qemu(payloads):
    """A stand-in QEMU (a shell script) that writes raw bytes to fd 3 and waits."""
    script = os.path.join(OUT, "fake-qemu.py")
    with open(script, "w") as f:
        f.write("#!/usr/bin/env python3\nimport os, sys, time\n"
                f"os.write(3, bytes.fromhex('{payloads.hex()}'))\ntime.sleep(30)\n")
    os.chmod(script, 0o755)
    return script


@test
def malformed_message_is_a_clear_error_naming_it():
    os.makedirs(OUT, exist_ok=True)
    # BAR_READ (5) with a 16-byte payload instead of 24.
    msg = struct.pack("<iiQ", 5, 0, 16) + bytes(16)
    kernel = os.path.join(OUT, "vmlinuz") if os.path.exists(os.path.join(OUT, "vmlinuz")) else FIRMWARE
    stats = os.path.join(OUT, "bad.json")
    r = subprocess.run([ACCELVP, "qemu", "-c", "edge", "--qemu", fake_qemu(msg), "--kernel", kernel, "--initrd",
                        kernel, "--stats", stats], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    check(r.returncode == 1, f"exit {r.returncode}: {r.stderr}")
    check("malformed message: BAR_READ with payload size 16 (expected 24)" in r.stderr, r.stderr)
    with open(stats) as f:
        st = json.load(f)
    check("BAR_READ" in st["error"], st.get("error"))
    # An unknown command.
    msg = struct.pack("<iiQ", 42, 0, 0)
    r = subprocess.run([ACCELVP, "qemu", "-c", "edge", "--qemu", fake_qemu(msg), "--kernel", kernel, "--initrd",
                        kernel], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    check(r.returncode == 1 and "malformed message: unknown command 42" in r.stderr, r.stderr)


finish()
