#!/usr/bin/env python3
"""SR-IOV from the command line (docs/virtualization.md): host.vms runs one workload per VM on
its own VF, at once, with per-VM figures in the report; bad SR-IOV settings exit 2 naming the key.
Usage: test_sriov.py path/to/accelvp"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

run = runner(sys.argv[1], timeout=240)
VMS = ["-p", "cpu.enabled=true", "-p", "mmu.enabled=true"]


@test
def two_vms_run_different_workloads_verified():
    p = run("run", "-c", "inference", "--json", *VMS, "-p", "host.vms=2", "-p", "host.vm_workloads=gemm,dma-copy",
            "-p", "workload.bytes=1MiB")
    st = json.loads(p.stdout)
    s = st["summary"]
    check(s["vm0.workload"] == "gemm" and s["vm1.workload"] == "dma-copy", f"per-VM workloads: {s}")
    check(s["vm0.verified"] == "yes" and s["vm1.verified"] == "yes", "both VMs' results verified")
    check(st["workload"]["verified"] is True, "the run is verified when every VM's is")
    check(s["vm1.bytes"] == 1 << 20, "the VM's workload took the run's workload.bytes")
    check(s["vm0.jobs"] >= 1 and s["vm1.jobs"] == 1, f"jobs per VM: {s['vm0.jobs']}, {s['vm1.jobs']}")
    check(s["vm0.mean_job_latency_us"] > 0 and s["vm1.jobs_per_ms"] > 0, "per-VM latency and throughput")
    comp = st["components"]
    for k in (0, 1):  # each VM's driver instance has its own stats (jobs, latency, interrupts)
        d = comp.get(f"host.vm{k}.driver", {})
        check(d.get("completions") == s[f"vm{k}.jobs"] and d.get("errors") == 0, f"host.vm{k}.driver stats: {d}")
        check(d.get("job_latency_us", {}).get("count") == s[f"vm{k}.jobs"], f"vm{k} latency samples")


@test
def shares_three_to_one_while_both_run():
    # 64 x 1 MiB device copies per VM at once: with shares 3:1, VM 0 gets 3/4 of the device time
    # until it is done, so it finishes its copy in about 3/4 of VM 1's time at equal shares.
    def run_shares(shares):
        p = run("run", "-c", "inference", "--json", "--mode", "timing", *VMS, "-p", "host.vms=2",
                "-p", f"host.vm_shares={shares}", "-p", "workload.direction=d2d", "-p", "workload.bytes=64MiB",
                "-p", "workload.jobs_per_queue=64")
        return json.loads(p.stdout)["summary"]
    eq, w = run_shares("1,1"), run_shares("3,1")
    r_eq = eq["vm0.device_ns"] / eq["vm1.device_ns"]
    check(0.9 < r_eq < 1.1, f"equal shares: equal spans ({eq['vm0.device_ns']} vs {eq['vm1.device_ns']})")
    # While both run, VM 0 moves 3 bytes for each of VM 1's: its bandwidth is 3/4 of the two VMs' total.
    total = 2 * eq["vm0.bandwidth_gbps"]
    check(abs(w["vm0.bandwidth_gbps"] / total - 0.75) < 0.075,
          f"3:1: VM 0 at {w['vm0.bandwidth_gbps']:.1f} of {total:.1f} GB/s")


@test
def bad_sriov_settings_exit_2_naming_the_key():
    p = run("run", "-c", "inference", *VMS, "-p", "host.vms=5", expect=2)
    check("pcie.sriov.max_vfs" in p.stderr, p.stderr)
    p = run("run", "-c", "edge", *VMS, "-p", "host.vms=1", expect=2)
    check("pcie.sriov.max_vfs is 0" in p.stderr, p.stderr)
    p = run("run", "-c", "inference", "-p", "host.vms=2", expect=2)
    check("mmu.enabled=true" in p.stderr, p.stderr)
    p = run("run", "-c", "inference", *VMS, "-p", "host.vms=2", "-p", "host.vm_shares=0,1", expect=2)
    check("host.vm_shares" in p.stderr, p.stderr)
    p = run("run", "-c", "inference", *VMS, "-p", "host.vms=2", "-p", "host.vm_workloads=nope,dma-copy", expect=2)
    check("host.vm_workloads" in p.stderr and "dma-copy" in p.stderr, p.stderr)
    p = run("run", "-c", "inference", *VMS, "-p", "host.vms=2", "-p", "host.vm_workloads=gemm", expect=2)
    check("host.vm_workloads" in p.stderr, p.stderr)
    p = run("run", "-c", "inference", *VMS, "-p", "host.vms=4", expect=2)
    check("qman.rings" in p.stderr, p.stderr)


finish()
