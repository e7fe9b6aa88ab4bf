#!/usr/bin/env python3
"""accelvp run -w submit-latency: kernel against user queues (docs/virtualization.md, "What a
submission costs"). Usage: test_submit_latency.py path/to/accelvp"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-submit-")
run = runner(ACCELVP, timeout=120)
BASE = ["-c", "inference", "-w", "submit-latency", "-p", "cpu.enabled=true", "-p", "mmu.enabled=true",
        "-p", "qman.rings=8", "-p", "qman.cqs=8", "-p", "host.driver.rings=4", "-q"]


def summary(name, *params):
    out = os.path.join(TMP, name + ".json")
    args = list(BASE)
    for p in params:
        args += ["-p", p]
    run("run", *args, "--stats", out)
    with open(out) as f:
        return json.load(f)["summary"]


@test
def empty_kernel_jobs_submitted_together_all_run():
    # Empty jobs complete inside the firmware without an engine: it must look at the ring
    # again after each (once it started one per doorbell and the rest waited: a timeout).
    s = summary("kernel-empty", "workload.queue=kernel", "workload.job=empty", "host.driver.ioctl_ns=0")
    check(s["stream_jobs"] == 256, f"stream_jobs {s['stream_jobs']}")
    # 256 jobs in well under the 2 ms a job that waited for a later doorbell would take
    check(s["stream_ns"] < 1e6, f"256 empty jobs took {s['stream_ns']} ns")


@test
def a_user_queue_skips_the_system_call():
    k = summary("kernel", "workload.queue=kernel", "workload.job=copy4k", "host.driver.ioctl_ns=2000")
    u = summary("user", "workload.queue=user", "workload.job=copy4k", "host.driver.ioctl_ns=2000")
    # the kernel path pays the modelled ioctl on the host; the user path only its MMIO writes
    check(k["submit_call_ns"] >= 2000, f"kernel submit call {k['submit_call_ns']} ns")
    check(u["submit_call_ns"] < 100, f"user submit call {u['submit_call_ns']} ns")
    check(u["submit_to_start_ns"] + 1000 < k["submit_to_start_ns"],
          f"submit-to-start: user {u['submit_to_start_ns']} ns, kernel {k['submit_to_start_ns']} ns")


finish()
