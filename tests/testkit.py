"""The harness the script tests share: each case a decorated function, one line per
result, and a closing 'N passed, N failed' line; finish() exits non-zero on any failure."""
import os
import subprocess
import sys

_passed = []
_failures = []


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def test(fn):
    try:
        fn()
        _passed.append(fn.__name__)
        print(f"ok   {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every failure
        _failures.append(fn.__name__)
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def failed():
    return bool(_failures)


def finish():
    if _failures:
        print("failed: " + ", ".join(_failures))
    print(f"{len(_passed)} passed, {len(_failures)} failed")
    sys.exit(1 if _failures else 0)


def runner(program, timeout=300):
    """run(*args, expect=0): runs `program` with args, checks its exit code, returns the
    CompletedProcess (text stdout/stderr); a wrong exit code raises with both outputs."""
    def run(*args, expect=0):
        p = subprocess.run([program, *args], capture_output=True, text=True, timeout=timeout)
        if p.returncode != expect:
            raise AssertionError(f"{os.path.basename(program)} {' '.join(args)}: exit {p.returncode}, expected "
                                 f"{expect}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}")
        return p
    return run


def gdb_session(sim_args, gdb_commands, elf, env=None, arch="riscv:rv32", timeout=60):
    """Starts `sim_args` (an accelvp command with --gdb 0), waits for its 'waiting for GDB on
    127.0.0.1:PORT' line on stderr, runs gdb-multiarch in batch mode with `gdb_commands` (each
    an -ex) against that port and `elf`, then lets the simulator finish. Returns (gdb output,
    simulator returncode, simulator stdout, simulator stderr after the port line); the
    simulator is killed if anything goes wrong on the way."""
    import re
    import time
    sim = subprocess.Popen(sim_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
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
        if not port:
            raise AssertionError("accelvp did not announce its GDB port")
        ex = ["set architecture " + arch, f"target remote 127.0.0.1:{port}", *gdb_commands]
        gdb = subprocess.run(["gdb-multiarch", "-batch", "-nx", *[a for c in ex for a in ("-ex", c)], elf],
                             capture_output=True, text=True, timeout=timeout)
        stdout, stderr = sim.communicate(timeout=timeout)
        return gdb.stdout + gdb.stderr, sim.returncode, stdout, stderr
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()
