"""The harness the script tests share: each case a decorated function, one line per
result, and a closing 'N passed, N failed' line; finish() exits non-zero on any failure."""
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
