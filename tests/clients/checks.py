"""The check runner the client scripts share: `@check("name")` registers a check, `run()` runs
them all, prints one line per check and `N passed, M failed`, and exits non-zero on a failure.
"""
import sys

_checks = []


def check(name):
    def wrap(fn):
        _checks.append((name, fn))
        return fn
    return wrap


def run():
    failed = 0
    for name, fn in _checks:
        try:
            fn()
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"{len(_checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
