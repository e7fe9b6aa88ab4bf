#!/usr/bin/env python3
"""End-to-end tests of `accelvp iss`: exit codes and messages for pass, fail, the
instruction limit, trap storms, hangs and bad ELF files; the stats JSON.
Usage: test_iss_cli.py path/to/accelvp DIR_WITH_ELFS"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
from testkit import check, finish, test  # noqa: E402

ACCELVP, ELFS = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="accelvp-iss-")


def elf(name):
    return os.path.join(ELFS, name + ".elf")


def run(*args, expect=0, timeout=120):
    p = subprocess.run([ACCELVP, "iss", *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != expect:
        raise AssertionError(f"accelvp iss {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
    return p





@test
def pass_prints_summary_and_stats():
    stats = os.path.join(TMP, "pass.json")
    p = run("--elf", elf("rv32i_alu"), "--stats", stats)
    for word in ("PASS", "instructions", "simulated", "MIPS"):
        check(word in p.stdout, f"summary lacks {word!r}:\n{p.stdout}")
    with open(stats) as f:
        st = json.load(f)
    check(st["components"]["cpu"]["instructions"] > 100, "components.cpu.instructions missing or too small")
    check(st["components"]["cpu"]["instructions"] == st["summary"]["instructions"], "instruction counts disagree")
    check(st["wall_s"] > 0, "wall_s")
    check("mips" in st["summary"], "summary.mips")
    check(st["result"]["status"] == "pass", "result.status")
    check(st["config"]["cpu.freq_mhz"] == 1000, "config dump")


@test
def quiet_prints_nothing():
    p = run("--elf", elf("rv32i_alu"), "--quiet")
    check(p.stdout == "" and p.stderr == "", f"--quiet printed: {p.stdout!r} {p.stderr!r}")


@test
def fail_code_exits_1_naming_the_code():
    stats = os.path.join(TMP, "fail.json")
    p = run("--elf", elf("fail_code"), "--quiet", "--stats", stats, expect=1)
    check("code 5" in p.stderr, f"message lacks the code: {p.stderr}")
    with open(stats) as f:
        st = json.load(f)
    check(st["result"]["status"] == "fail" and st["result"]["code"] == 5, "result in stats")


@test
def max_instr_stops_an_endless_loop():
    stats = os.path.join(TMP, "spin.json")
    p = run("--elf", elf("spin"), "--max-instr", "100000", "--quiet", "--stats", stats, expect=1)
    check("instruction limit" in p.stderr and "100000" in p.stderr, p.stderr)
    with open(stats) as f:
        st = json.load(f)
    check(st["summary"]["instructions"] <= 100000, "ran past the limit")
    check(st["summary"]["instructions"] > 90000, "stopped far too early")


@test
def trap_storm_is_bounded():
    p = run("--elf", elf("trap_storm"), "--max-instr", "5000", "--quiet", expect=1, timeout=60)
    check("instruction limit" in p.stderr, p.stderr)


@test
def trap_storm_is_detected():
    p = run("--elf", elf("trap_storm"), "--quiet", expect=1, timeout=60)
    check("trap storm" in p.stderr and "mcause = 1" in p.stderr, p.stderr)


@test
def wfi_with_nothing_enabled_is_a_hang():
    p = run("--elf", elf("sleep_forever"), "--quiet", expect=1, timeout=60)
    check("wfi" in p.stderr, p.stderr)


@test
def not_an_elf_is_exit_2():
    path = os.path.join(TMP, "text.elf")
    with open(path, "w") as f:
        f.write("hello\n")
    p = run("--elf", path, expect=2)
    check("not an ELF" in p.stderr, p.stderr)


@test
def a_64_bit_elf_is_exit_2():
    # a host program: ELF64, x86-64 (not the simulator itself: its ASan build is over the
    # loader's 256 MiB file limit, which is checked first)
    p = run("--elf", shutil.which("true") or "/bin/true", expect=2)
    check("32-bit" in p.stderr, p.stderr)


@test
def missing_file_is_exit_2():
    p = run("--elf", os.path.join(TMP, "nope.elf"), expect=2)
    check("cannot open" in p.stderr, p.stderr)


@test
def no_tohost_symbol_is_exit_2():
    p = run("--elf", elf("no_tohost"), expect=2)
    check("tohost" in p.stderr, p.stderr)


@test
def segment_outside_ram_is_exit_2():
    p = run("--elf", elf("low_addr"), expect=2)
    check("outside the RAM" in p.stderr and "iss.ram_base" in p.stderr, p.stderr)
    # ... and runs once the RAM is placed there.
    run("--elf", elf("low_addr"), "-p", "iss.ram_base=0", "-p", "iss.mem.size=1MiB", "--quiet")


@test
def bad_parameter_is_exit_2():
    p = run("--elf", elf("rv32i_alu"), "-p", "cpu.freq_mhz=0", expect=2)
    check("cpu.freq_mhz" in p.stderr, p.stderr)


@test
def parameters_change_timing_not_results():
    a = os.path.join(TMP, "a.json")
    b = os.path.join(TMP, "b.json")
    run("--elf", elf("rv32m"), "--quiet", "--stats", a)
    run("--elf", elf("rv32m"), "--quiet", "--stats", b, "-p", "cpu.div_cycles=100", "-p", "cpu.quantum_ns=50")
    with open(a) as f:
        sa = json.load(f)
    with open(b) as f:
        sb = json.load(f)
    check(sa["summary"]["instructions"] == sb["summary"]["instructions"], "instruction count changed")
    check(sb["summary"]["cycles"] > sa["summary"]["cycles"], "div_cycles did not add cycles")



@test
def bad_engine_is_exit_2():
    p = run("--elf", elf("rv32i_alu"), "-p", "cpu.engine=fast", expect=2)
    check("cpu.engine" in p.stderr and "jit" in p.stderr and "interp" in p.stderr, p.stderr)


@test
def engines_give_the_same_counts():
    # The JIT and the interpreter: the same instructions, cycles and traps on programs with
    # traps, interrupts, wfi and self-modifying code (fence.i). The JIT needs an x86-64 host.
    import platform
    if platform.machine() not in ("x86_64", "AMD64"):
        return
    for prog in ("traps", "interrupts", "wfi", "fence_i", "rv32m", "csr"):
        stats = {}
        for eng in ("jit", "interp"):
            out = os.path.join(TMP, f"{prog}-{eng}.json")
            run("--elf", elf(prog), "--quiet", "--stats", out, "-p", f"cpu.engine={eng}")
            with open(out) as f:
                stats[eng] = json.load(f)["summary"]
        for key in ("instructions", "cycles", "traps", "interrupts"):
            if key in stats["jit"] or key in stats["interp"]:
                check(stats["jit"].get(key) == stats["interp"].get(key),
                      f"{prog}: {key} jit {stats['jit'].get(key)} != interp {stats['interp'].get(key)}")


finish()
