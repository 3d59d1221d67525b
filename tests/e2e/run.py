#!/usr/bin/python3
"""Run klaxon's end-to-end tests: every `async def test_*(h)` in tests/e2e/test_*.py (and every
case of a data-driven one, see harness.cases), each with a fresh Harness and a timeout.

    /usr/bin/python3 tests/e2e/run.py [-k PATTERN] [-x] [--list] [--timeout S]

Prints one line per test, then the slowest tests (SLOWEST of them, 15 by default; 0: none), and
ends with `N passed, N failed` (prefixed by $KLAXON_TEST_LABEL as `[label] e2e: `); exits 1 when
any test failed. KLAXON_BIN names the binary (build/klaxon).
On a failure it prints the end of klaxon's log and the simulator's last calls; the test's
temporary directory (config, database, log) is kept and named.
"""

import argparse
import asyncio
import fnmatch
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import Harness  # noqa: E402

DEFAULT_TIMEOUT = 30.0
SLOWEST = 15


def import_failed(msg):
    async def fail(h):
        raise AssertionError("the test module did not import:\n" + msg)

    return fail


def discover(pattern=None):
    """[(name, fn, case or None, timeout, sim options)] in file and definition order."""
    out = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        path = os.path.join(HERE, fname)
        spec = importlib.util.spec_from_file_location(fname[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception as e:  # reported as one failing test, so the summary still comes
            msg = "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-3)).rstrip()
            out.append(("%s::<import>" % fname, import_failed(msg), None, DEFAULT_TIMEOUT, {}))
            continue
        fns = [(n, f) for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.iscoroutinefunction(f) and f.__module__ == mod.__name__]
        fns.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        for n, f in fns:
            t = getattr(f, "e2e_timeout", DEFAULT_TIMEOUT)
            opts = getattr(f, "e2e_sim_options", {})
            if hasattr(f, "e2e_cases"):
                for cid, case in zip(f.e2e_case_ids, f.e2e_cases):
                    out.append(("%s::%s[%s]" % (fname, n, cid), f, case, t, opts))
            else:
                out.append(("%s::%s" % (fname, n), f, None, t, opts))
    if pattern:
        pats = pattern.split(",")
        out = [x for x in out if any(p in x[0] or fnmatch.fnmatch(x[0], p) for p in pats)]
    return out


async def run_one(name, fn, case, limit, opts):
    """Returns (ok, message, harness)."""
    h = Harness(name, sim_opts=opts)
    err = None
    try:
        await h.setup()
        args = (h,) if case is None else (h, case)
        await asyncio.wait_for(fn(*args), limit)
    except asyncio.TimeoutError:
        err = "timed out after %.0f s" % limit
    except Exception as e:  # every failure is reported, whatever its kind
        err = "".join(traceback.format_exception(type(e), e, e.__traceback__, limit=-4)).rstrip()
    try:
        await h.close(failed=err is not None)
    except Exception as e:
        err = (err + "\n" if err else "") + "at the end of the test: %s" % e
    return err is None, err, h


def report_failure(h, err):
    print("    " + err.replace("\n", "\n    "))
    if h.starts:
        print("    --- klaxon log, last 40 lines (%s):" % h.log_path)
        print("    " + h.log_tail(40).replace("\n", "\n    "))
    if h.sim is not None and h.sim.calls:
        print("    --- simulator, last Web API calls:")
        for c in h.sim.calls[-8:]:
            print("    %3d %-24s status=%s ok=%s error=%s" % (c["seq"], c["method"], c["status"], c["ok"], c["error"]))
    print("    --- kept: %s" % h.tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="pattern", help="run tests whose name contains PATTERN (comma: any of several)")
    ap.add_argument("-x", dest="exitfirst", action="store_true", help="stop after the first failure")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--timeout", type=float, help="override every test's timeout (seconds)")
    ap.add_argument("--slowest", type=int, default=SLOWEST, help="list the N slowest tests at the end (0: none)")
    a = ap.parse_args()
    tests = discover(a.pattern)
    if a.list:
        for t in tests:
            print(t[0])
        return 0
    label = os.environ.get("KLAXON_TEST_LABEL", "")
    prefix = ("[%s] e2e: " % label) if label else "e2e: "
    passed = failed = 0
    durations = []
    t0 = time.monotonic()
    for name, fn, case, limit, opts in tests:
        start = time.monotonic()
        ok, err, h = asyncio.run(run_one(name, fn, case, a.timeout or limit, opts))
        took = time.monotonic() - start
        durations.append((took, name))
        print("%s %s (%.1f s)" % ("ok  " if ok else "FAIL", name, took), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
            report_failure(h, err)
            if a.exitfirst:
                break
        sys.stdout.flush()
    if a.slowest > 0 and durations:
        print("slowest %d of %d:" % (min(a.slowest, len(durations)), len(durations)))
        for took, name in sorted(durations, key=lambda d: -d[0])[:a.slowest]:
            print("  %7.1f s  %s" % (took, name))
    print("(%.1f s)" % (time.monotonic() - t0))
    print("%s%d passed, %d failed" % (prefix, passed, failed), flush=True)
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
