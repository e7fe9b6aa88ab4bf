#!/usr/bin/env python3
"""SR-IOV through QEMU (docs/virtualization.md "Two QEMU guests on one chip"): builds the guest
(tools/guest/build.sh), then `accelvp qemu -c inference --vfs 2` boots two guests against one
simulated chip, each with its own virtual function (the PF stays in accelvp, whose driver enables
the VFs). Each guest's aax module binds its VF (device 0xaa02: no control core, no MMU, one ring,
a 256 MiB partition) and runs a 4 MiB DMA copy both ways and a GEMM, verified bit-exact; guest 0
also submits a bad packet: the device error is reported to guest 0 (its error record, its
interrupt) and not to guest 1, whose jobs run and verify; then guest 0 resets its VF (the driver's
reset path, debugfs `reset`: the VF's function-level reset) with four long jobs in flight: those
not done fail EIO (ABORTED), guest 0's ring runs again, guest 1's jobs run and verify meanwhile.
The VP's stats agree (one FLR, of VF 0).
Usage: test_guest_sriov.py path/to/accelvp FIRMWARE_ELF BUILD_DIR"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, test  # noqa: E402

ACCELVP, FIRMWARE, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(BUILD, "guest-sriov")
state = {}
# Guest 0 resets its VF this long (device ms) into its script; guest 1 copies for the longer time
# from the same point of its own script (both read the chip's one clock, debugfs `timestamp`):
# guest 1's copies run across the reset unless the two guests' boots are more than 8 s apart.
FLR_AFTER_MS, PEER_FOR_MS = 8000, 20000


@test
def guest_builds():
    r = subprocess.run([os.path.join(ROOT, "tools", "guest", "build.sh"), OUT, FIRMWARE], capture_output=True,
                       text=True, timeout=600)
    check(r.returncode == 0, f"tools/guest/build.sh failed:\n{r.stdout}\n{r.stderr}")


@test
def two_guests_share_one_chip():
    stats = os.path.join(OUT, "stats.json")
    consoles = [os.path.join(OUT, f"vf{k}.console") for k in range(2)]
    for c in consoles:
        if os.path.exists(c):
            os.remove(c)
    cmd = [ACCELVP, "qemu", "-c", "inference", "--vfs", "2", "--guest-mem", "512M", "--kernel",
           os.path.join(OUT, "vmlinuz"), "--initrd", os.path.join(OUT, "initrd.cpio.gz"), "--append",
           f"console=ttyS0 panic=-1 quiet no_timer_check aax.vffault=0 aax.vfflr=0 aax.flr_after_ms={FLR_AFTER_MS} "
           f"aax.peer_for_ms={PEER_FOR_MS}",
           "--vf-console", os.path.join(OUT, "vf{vf}.console"), "--stats", stats]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    cons = []
    for c in consoles:
        with open(c, errors="replace") if os.path.exists(c) else open(os.devnull) as f:
            cons.append(f.read())
    if r.returncode != 0:
        for k, c in enumerate(cons):
            print(f"--- guest {k} console (tail) ---\n" + "\n".join(c.splitlines()[-40:]))
        print("--- stdout ---\n" + r.stdout[-2000:] + "\n--- stderr ---\n" + r.stderr[-3000:])
    check(r.returncode == 0, f"accelvp qemu --vfs 2 exited {r.returncode}")
    check(re.search(r"2 guests on 2 VFs of one chip", r.stdout), r.stdout)
    with open(stats) as f:
        state["stats"] = json.load(f)
    state["lines"] = [[l.strip() for l in c.splitlines() if "AAX-" in l] for c in cons]


def has(k, pattern):
    return any(re.search(pattern, l) for l in state["lines"][k])


@test
def each_guest_drives_its_own_vf():
    check("lines" in state, "no run")
    for k in range(2):
        p = f"AAX-VF{k}"
        check(has(k, rf"{p}-PCI: 0xaa5b:0xaa02$"), f"guest {k}: VF device ID")
        check(has(k, rf"{p}-SYSFS: devmem_size=268435456$"), f"guest {k}: its 256 MiB partition")
        check(has(k, rf"{p}-SYSFS: rings=1$"), f"guest {k}: one ring")
        check(has(k, rf"{p}-INFO: control_core: no$") and has(k, rf"{p}-INFO: mmu: no$"), f"guest {k}: VF caps")
        check(has(k, rf"{p}-RUN: dma-copy h2d: bytes 4194304 device_ns \d+"), f"guest {k}: h2d")
        check(has(k, rf"{p}-RUN: dma-copy verified: yes, bit-exact$"), f"guest {k}: copy not verified")
        check(has(k, rf"{p}-RUN: gemm verified: yes, bit-exact$"), f"guest {k}: gemm not verified")
        check(has(k, rf"{p}: aax unloaded$") and has(k, rf"{p}: done at"), f"guest {k}: clean unload")
        check(has(k, rf"{p}-COUNTERS: irqs [1-9]\d*$"), f"guest {k}: no interrupt reached its driver")
        # The other guest's lines never appear here: its own console.
        check(not has(k, rf"AAX-VF{1 - k}-"), f"guest {k}'s console has the other guest's lines")


@test
def a_fault_in_guest_0_is_reported_to_guest_0_only():
    check("lines" in state, "no run")
    check(has(0, r"AAX-VF0-RUN: bad-packet: errno EINVAL status BAD_OPCODE offset 8$"), "guest 0: bad packet errno")
    check(has(0, r"AAX-VF0-RUN: bad-packet: error record BAD_OPCODE offset 8 opcode 0x7f count 1$"),
          "guest 0: its error record")
    check(has(0, r"AAX-VF0-RUN: bad-packet: next job ok$"), "guest 0: its ring recovered")
    check(has(0, r"AAX-VF0-ERRORS: count 1$"), "guest 0: one error")
    check(has(0, r"AAX-VF0-COUNTERS: errors 1$"), "guest 0: driver error count")
    check(has(1, r"AAX-VF1-ERRORS: none$"), "guest 1 saw an error")
    check(has(1, r"AAX-VF1-COUNTERS: errors 0$"), "guest 1: driver error count")
    guests = state["stats"]["qemu"]["guests"]
    check([g["vf_errors"] for g in guests] == [1, 0], f"VP: errors reported per VF {guests}")


@test
def guest_0_resets_its_vf_and_guest_1_runs_on():
    check("lines" in state, "no run")
    m = [re.match(r"AAX-VF0-RUN: flr: 4 jobs of 128 x 4 MiB in flight at the reset: (\d) ok, (\d) EIO ABORTED, "
                  r"(\d) other$", l) for l in state["lines"][0]]
    m = [x for x in m if x]
    check(len(m) == 1, "guest 0: the flr line")
    done, aborted, other = (int(x) for x in m[0].groups())
    print(f"    guest 0: {done} jobs done before the reset, {aborted} aborted by it")
    check(aborted >= 1 and other == 0 and done + aborted == 4, m[0].group(0))
    check(has(0, r"AAX-VF0-DMESG: .*reset requested through debugfs: function-level reset$"), "guest 0: reset logged")
    check(has(0, rf"AAX-VF0-DMESG: .*device reset 1 done in \d+ us: {aborted} jobs in flight failed"),
          "guest 0: the reset failed the jobs in flight")
    check(has(0, r"AAX-VF0-RUN: flr: after the reset: copy ok, verified bit-exact$"), "guest 0: ring works again")
    check(has(0, r"AAX-VF0-RUN: flr: pass$"), "guest 0: flr")
    check(has(0, r"AAX-VF0-RUN: dma-copy verified: yes, bit-exact$"), "guest 0: the copy after the reset")
    check(has(0, r"AAX-VF0-COUNTERS: device_resets 1$") and has(1, r"AAX-VF1-COUNTERS: device_resets 0$"),
          "driver reset counts")
    check(not has(1, r"AAX-VF1-RUN: flr"), "guest 1 did not reset")
    # Guest 1's copies ran before, across and after guest 0's reset, every one verified.
    t = [re.match(r"AAX-VF0-RUN: flr: reset between device time (\d+) and (\d+) ns$", l) for l in state["lines"][0]]
    t = [x for x in t if x]
    c = [re.match(r"AAX-VF1-RUN: copy-loop: (\d+) round trips of 1 MiB, (\d+) verified bit-exact, 0 failed; "
                  r"device time first start (\d+) last end (\d+)$", l) for l in state["lines"][1]]
    c = [x for x in c if x]
    check(len(t) == 1 and len(c) == 1, "guest 0's reset time and guest 1's copy loop")
    t0, t1 = (int(x) for x in t[0].groups())
    n, nv, first, last = (int(x) for x in c[0].groups())
    print(f"    guest 0 reset at device {t0}-{t1} ns; guest 1: {n} round trips {first}-{last} ns")
    check(n == nv and n >= 2, c[0].group(0))
    check(first < t0 and t1 < last, "guest 1's copies did not run across guest 0's reset")
    guests = state["stats"]["qemu"]["guests"]
    check([g["vf_flrs"] for g in guests] == [1, 0], f"VP: FLRs per VF {guests}")


@test
def vp_stats_match_what_the_guests_did():
    st = state.get("stats")
    check(st is not None, "no stats")
    guests = st["qemu"]["guests"]
    check(len(guests) == 2 and st["summary"]["vfs"] == 2, guests)
    for g in guests:
        check(g["qemu_exit_status"] == 0 and g["end"] == "QEMU closed the socket", g)
        check(g["bad_dma"] == 0, f"VF {g['vf']}: DMA outside its guest's RAM")
        # The VF's MSI-X messages became interrupts of its guest (one per vector that came; two
        # of one vector in the same delta cycle merge); the guest never touched the MSI-X table
        # (accelvp, the hypervisor, owns it).
        check(2 <= g["irq_signals"] <= g["vf_msis"], f"VF {g['vf']}: interrupts {g}")
        check(g["msix_accesses_dropped"] == 0, g)
    # The FLR returns VF 0's MSI-X table to reset values (masked); accelvp, the hypervisor that
    # owns the table, writes it again before guest 0's next BAR access completes, so guest 0's
    # completions after its reset are interrupts again (not only its driver's poll).
    check([g["msix_restores"] for g in guests] == [1, 0], f"MSI-X tables re-programmed per VF {guests}")
    check(guests[0]["vf_msis"] > guests[0]["vf_msis_at_restore"] >= 2,
          f"VF 0: no interrupt after its FLR {guests[0]}")
    check(guests[1]["vf_msis"] >= 3, f"interrupts of VF 1 {guests}")
    comp = st["components"]
    pf = comp.get("host.driver", {})
    val = lambda x: x["value"] if isinstance(x, dict) else x  # noqa: E731
    check(val(pf.get("errors", 0)) == 0, f"the PF saw an error: {pf.get('errors')}")


@test
def bad_vf_configurations_are_usage_errors():
    kernel = os.path.join(OUT, "vmlinuz")
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    for args, msg in [
        (["-c", "edge", "--vfs", "2"], "usage error: --vfs 2 needs as many SR-IOV VFs: pcie.sriov.max_vfs is 0"),
        (["-c", "inference", "--vfs", "2", "-p", "mmu.enabled=false"], "--vfs needs cpu.enabled=true"),
        (["-c", "inference", "--vfs", "4"], "--vfs 4 needs qman.rings >= 5 (one ring for the PF, one per VF), "
                                             "qman.rings is 4"),
        (["-c", "inference", "--vfs", "2", "--capture", os.path.join(OUT, "x.capture")],
         "--capture is not available with --vfs"),
    ]:
        r = subprocess.run([ACCELVP, "qemu", *args, "--kernel", kernel, "--initrd", kernel], capture_output=True,
                           text=True, timeout=120, env=env)
        check(r.returncode == 2 and msg in r.stderr, f"{args}: exit {r.returncode}: {r.stderr}")


finish()
