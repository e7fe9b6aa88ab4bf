#!/usr/bin/env python3
"""User queues through the real Linux driver (docs/virtualization.md "User queues in the Linux
driver"): builds the guest (tools/guest/build.sh), boots it with `accelvp qemu -c edge
-p qman.rings=4 -p qman.cqs=4 -p mmu.enabled=true` and `aax.max_rings=2` (the module sets up
rings 0-1 for itself; rings 2-3 are user queues) and `aax.uq=1` (tools/guest/init's user-queue
script). In the guest, `aax-run uq` runs 24 copies through a 16-slot user queue with no system
call per job (verified bit-exact; the kernel's submit counter does not move), checks the create
errors, ENOSPC, that another file can neither map nor destroy the queue, that a fault stops only
that queue (EFAULT, then EIO, LAST_ERROR to its owner), and that UQ_DESTROY zaps the mappings
(SIGBUS); `aax-run uq-exit`: a child's queue is unusable by the parent, the child's exit revokes
it, the ring then serves the next queue; `aax-run uq-latency`: kernel vs user queue submit cost
and device submit-to-start; `aax-run uq-reset`: a device reset (the driver's reset path) revokes a
user queue (SIGBUS on its mappings), UQ_DESTROY frees it, a new one works. The VP's stats agree (doorbells, faults).
Usage: test_guest_uq.py path/to/accelvp FIRMWARE_ELF BUILD_DIR"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, test  # noqa: E402

ACCELVP, FIRMWARE, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(BUILD, "guest-uq")
state = {}


@test
def guest_builds():
    r = subprocess.run([os.path.join(ROOT, "tools", "guest", "build.sh"), OUT, FIRMWARE], capture_output=True,
                       text=True, timeout=600)
    check(r.returncode == 0, f"tools/guest/build.sh failed:\n{r.stdout}\n{r.stderr}")


@test
def guest_runs_user_queues():
    stats = os.path.join(OUT, "stats.json")
    cmd = [ACCELVP, "qemu", "-c", "edge", "-p", "qman.rings=4", "-p", "qman.cqs=4", "-p", "mmu.enabled=true",
           "--kernel", os.path.join(OUT, "vmlinuz"), "--initrd", os.path.join(OUT, "initrd.cpio.gz"), "--append",
           "console=ttyS0 panic=-1 quiet no_timer_check aax.uq=1 aax.max_rings=2", "--stats", stats]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1500,
                       env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    con = r.stdout
    with open(os.path.join(OUT, "console.txt"), "w") as f:
        f.write(con + "\n--- stderr ---\n" + r.stderr)
    if r.returncode != 0 or "AAX-UQ: done" not in con:
        print("--- guest console (tail) ---\n" + "\n".join(con.splitlines()[-80:]) + "\n--- stderr ---\n" +
              r.stderr[-3000:])
    check(r.returncode == 0, f"accelvp qemu exited {r.returncode}")
    with open(stats) as f:
        state["stats"] = json.load(f)
    state["lines"] = [l.strip() for l in con.splitlines() if l.startswith("AAX-")]


def has(pattern):
    return any(re.search(pattern, l) for l in state["lines"])


def value(prefix, key):
    for l in state["lines"]:
        m = re.match(rf"{prefix}: {key} (\d+)$", l)
        if m:
            return int(m.group(1))
    return None


@test
def the_module_offers_the_rings_above_its_own():
    check("lines" in state, "no run")
    check(has(r"^AAX-UQ-DMESG: .*AAX ABI 0\.2, .* 2 rings, 16 MMU contexts, 2 user-queue rings"), "probe line")
    check(has(r"^AAX-UQ-UQS1: rings 2-3 created 0 destroyed 0 revoked 0$"), "debugfs uqs before")
    # The PF's sriov_configure: no SR-IOV capability through QEMU 7.2's proxy (256 bytes of config
    # space), so the PCI core offers no sriov_numvfs and the driver says why at probe.
    check(has(r"^AAX-UQ-DMESG: .*SR-IOV: no SR-IOV capability in config space \(256 bytes\): no sriov_numvfs$"),
          "probe: no SR-IOV capability")
    check(has(r"^AAX-UQ-SRIOV: sriov_numvfs absent, config 256 bytes$"), "sysfs: no sriov_numvfs")
    for r in (2, 3):
        check(has(rf"^AAX-UQ-UQS1: uq ring {r}: free asid 0 .* ring_asid 0x0 ctrl 0x0 "), f"ring {r} free at first")


@test
def jobs_run_through_a_user_queue_with_no_system_call():
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: uq: "
    check(has(p + r"create in VM 0 ENOENT$") and has(p + r"create in a VM of no file ENOENT$"), "create: not a VM")
    check(has(p + r"create with 2\^17 slots EINVAL$"), "create: too many slots")
    check(has(p + r"queue 2 in VM 1: entries 16 cq_entries 16 ring_size 4096 cq_size 4096$"), "queue 2 created")
    for rnd in range(3):  # 24 jobs through 16 slots: the ring and the CQ wrap
        check(has(p + rf"round {rnd}: 8 copies of 8192 bytes ok, verified bit-exact; device_ns \d+$"), f"round {rnd}")
    # Pinned by the kernel as a user ring of context 1, enabled, on its own CQ (2); 24 jobs done.
    check(has(p + r"debugfs uq ring 2: owned asid 1 entries 16 revoked 0 ring_asid 0x80000001 ctrl 0x201 "
              r"head 8 tail 8 status 0x1 jobs_done 24$"), "ring 2 after 24 jobs")
    # Every one of those jobs went around the kernel: its submit counter is still 0 after `uq` and
    # `uq-exit` (42 user-queue jobs) except for the one kernel-queue job `uq` runs on purpose.
    check(value("AAX-UQ-COUNTERS1", "submits") == 0, "submits before")
    check(value("AAX-UQ-COUNTERS2", "submits") == 1, "kernel submits after uq, uq-exit: only the kernel-queue job")
    check(has(p + r"a kernel-queue job in the same VM ok, bit-exact$"), "kernel queue in the same VM")


@test
def user_queues_are_the_owners_alone():
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: uq: "
    check(has(p + r"second queue 3$") and has(p + r"third queue ENOSPC$"), "ENOSPC once both user rings are taken")
    check(has(p + r"another file maps its doorbell EACCES, ring EACCES, CQ EACCES$"), "another file maps it")
    check(has(p + r"another file destroys it ENOENT$"), "another file destroys it")
    check(has(p + r"another file creates one in its VM ENOENT$"), "another file uses its VM")


@test
def a_fault_stops_only_its_queue_and_is_reported_to_its_owner():
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: uq: "
    check(has(p + r"copy from an unmapped VA EFAULT status MMU_FAULT$"), "the faulting job")
    check(has(p + r"the job behind it EIO$"), "the job behind it never runs")
    check(has(p + r"submit to the stopped queue EIO$"), "a stopped queue takes no jobs")
    check(has(p + r"LAST_ERROR ok: MMU_FAULT ring 2 job 25; mmu fault NOT_PRESENT asid 1 va 0x40000000$"),
          "the owner's LAST_ERROR")
    check(has(p + r"debugfs uq ring 2: owned .* ring_asid 0x80000001 ctrl 0x201 head 9 tail 10 status 0xd02 "),
          "ring 2 stopped with MMU_FAULT (status 0xd02), the job behind it not taken")
    check(has(p + r"the second queue meanwhile: 8 copies verified bit-exact$"), "the other queue runs on")
    check(has(r"^AAX-UQ-ERRORS: count 1$") and has(r"^AAX-UQ-ERRORS: last MMU_FAULT ring 2 job 25 "), "one error")


@test
def destroy_and_process_exit_revoke_the_queue():
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: uq: "
    check(has(p + r"destroy ok$"), "destroy")
    check(has(p + r"after destroy, reading its ring SIGBUS, CQ SIGBUS, doorbell page SIGBUS$"), "mappings zapped")
    check(has(p + r"destroy again ENOENT$"), "destroy twice")
    # Reset and disabled (CTRL keeps only its CQ field), unpinned.
    check(has(p + r"debugfs uq ring 2: free asid 0 entries 0 revoked 0 ring_asid 0x0 ctrl 0x200 "), "ring 2 off")
    check(has(p + r"pass$"), "aax-run uq")
    p = "^AAX-UQ-RUN: uq-exit: "
    check(has(p + r"child queue 2: 4 copies verified bit-exact$"), "the child's jobs")
    check(has(p + r"while the child lives, another process maps its doorbell EACCES, ring EACCES$"), "maps")
    check(has(p + r"\.\.\. destroys it ENOENT$"), "destroys")
    check(has(p + r"child alive: debugfs uq ring 2: owned asid 1 .* ring_asid 0x80000001 ctrl 0x201 "), "owned")
    check(has(p + r"child exited 0$"), "child exit")
    check(has(p + r"child gone: debugfs uq ring 2: free asid 0 entries 0 revoked 0 ring_asid 0x0 ctrl 0x200 "),
          "the exit revoked it")
    check(has(p + r"its doorbell offset now maps EINVAL$"), "its objects are gone")
    check(has(p + r"next queue on ring 2 \(the child's: yes\): 4 copies verified bit-exact$"), "the ring serves on")
    check(has(p + r"pass$"), "aax-run uq-exit")
    check(has(r"^AAX-UQ-UQS2: rings 2-3 created 5 destroyed 5 revoked 0$"), "every queue destroyed")
    # Every successful user job, by the device's count: uq 24 + 8, uq-exit 4 + 4, uq-latency
    # 2 x (16 + 32) + 1 on ring 2 (the faulting one is not counted); ring 3: the second queue's 8.
    check(has(r"^AAX-UQ-UQS2: uq ring 2: free .* jobs_done 129$"), "ring 2 jobs")
    check(has(r"^AAX-UQ-UQS2: uq ring 3: free .* jobs_done 8$"), "ring 3 jobs")
    check(has(r"^AAX-UQ: aax unloaded$"), "clean unload")


@test
def a_device_reset_revokes_user_queues():
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: uq-reset: "
    check(has(p + r"queue 2: 4 copies verified bit-exact$"), "before the reset")
    check(has(p + r"after the device reset, reading its ring SIGBUS, CQ SIGBUS, doorbell page SIGBUS$"), "zapped")
    check(has(p + r"debugfs uq ring 2: owned asid \d+ entries 16 revoked 1 ring_asid 0x0 ctrl 0x0 "), "revoked")
    check(has(p + r"destroy ok$") and has(p + r"new queue 2: 4 copies verified bit-exact$"), "after the reset")
    check(has(p + r"pass$"), "aax-run uq-reset")
    # JOBS_DONE restarts at the soft reset: the new queue's 4.
    check(has(r"^AAX-UQ-UQS3: rings 2-3 created 7 destroyed 7 revoked 1$"), "queues after the reset")
    check(has(r"^AAX-UQ-UQS3: uq ring 2: free .* jobs_done 4$"), "ring 2 after the reset")
    check(has(r"^AAX-UQ-DMESG: .*user queue on ring 2 \(context \d+\) revoked: device reset$"), "dmesg: revoked")
    check(has(r"^AAX-UQ-DMESG: .*device reset 1 done in \d+ us: 0 jobs in flight failed"), "dmesg: reset")


@test
def a_command_buffer_freed_in_flight_is_held_until_its_job_ends():
    # Job A waits behind four 4 MiB copies on ring 0; its command buffer (device memory, read by
    # bus address) is freed meanwhile and a new BO filled with 0xFF is allocated: the kernel still
    # holds A's BO, so the new one lands elsewhere, and A runs the copy it was submitted with.
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: cmdbuf-free: "
    check(has(p + r"job A in flight at free: yes; next BO at the freed address: no$"), "A's BO held while in flight")
    check(has(p + r"job A ok \(device status OK\)$"), "job A ran its own packets")
    check(has(p + r"data verified bit-exact$"), "job A's copy")


@test
def forged_completion_records_are_left_in_place():
    # A physical job writes a record naming a never-submitted job, then one naming a finished
    # job, into the CQ slot after its own: the driver checks the device's producer index and
    # leaves both; the next job's record goes over them and its wait returns.
    check("lines" in state, "no run")
    p = "^AAX-UQ-RUN: forged-cq: "
    runs = [l for l in state["lines"] if re.match(p + r"record for job", l)]
    check(len(runs) == 2, f"two forged records: {runs}")
    ok = r" placed after the forging job's; the next job ok, its copy verified$"
    check(re.match(p + r"record for job 2147483632" + ok, runs[0]), f"a never-submitted job's record: {runs[0]}")
    check(re.match(p + r"record for job \d+" + ok, runs[1]), f"a finished job's record: {runs[1]}")
    check(has(p + r"records left in place: [2-9]\d*$"), "counted (debugfs bogus)")
    check(has(r"^AAX-UQ-DMESG: .*ring 0: CQ slot \d+ holds a record for job 2147483632, which is not pending "
              r"\(not the device's, left in place\)$"), "dmesg")


@test
def kernel_and_user_submission_latency_is_measured():
    check("lines" in state, "no run")
    for path in ("kernel", "user"):
        for what in ("empty", "copy4k"):
            pat = (rf"^AAX-UQ-RUN: uq-latency: {path} {what}: jobs 16 submit_call_ns min (\d+) median (\d+) mean \d+ "
                   rf"submit_to_start_ns min (\d+) median (\d+) mean \d+; stream 32: submit_ns (\d+) "
                   rf"device_span_ns (\d+)$")
            m = [re.match(pat, l) for l in state["lines"]]
            m = [x for x in m if x]
            check(len(m) == 1, f"uq-latency {path} {what}")
            cmin, call, smin, s2s, _, span = (int(x) for x in m[0].groups())
            check(0 < cmin <= call and 0 < smin <= s2s and span > 0, m[0].group(0))
            print(f"    {path} {what}: submit call min {cmin} median {call} ns, submit-to-start min {smin} "
                  f"median {s2s} ns")
    check(has(r"^AAX-UQ-RUN: uq-latency: last copy verified bit-exact$"), "the latency run's copy")


@test
def vp_stats_match_what_the_guest_did():
    st = state.get("stats")
    check(st is not None, "no stats")
    flat = {}

    def walk(d, p=""):
        if isinstance(d, dict):
            for k, v in d.items():
                walk(v, f"{p}.{k}" if p else k)
        else:
            flat[p] = d
    walk(st["components"])
    # 146 user doorbells: one per user-queue submission (uq 24 + 1 + 8: the faulting job and the
    # one behind it share one, uq-exit 4 + 4, uq-latency 2 x (16 + 32) + 1, uq-reset 4 + 4); none
    # ignored (each named an enabled user ring).
    n = flat.get("qemu_board.chip.qman.uq_doorbells")
    check(n == 146, f"uq_doorbells {n}")
    check(flat.get("qemu_board.chip.qman.uq_doorbells_ignored") == 0, "ignored doorbells")
    check(flat.get("qemu_board.chip.qman.jobs_failed") == 1, "one failed job")
    check(flat.get("qemu_board.chip.mmu.faults") == 1, "one MMU fault")
    check(st["qemu"]["exit_status"] == 0, f"QEMU exit {st['qemu']}")


finish()
