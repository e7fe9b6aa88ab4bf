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
