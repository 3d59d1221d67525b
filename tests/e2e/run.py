#!/usr/bin/python3
"""Run klaxon's end-to-end tests: every `async def test_*(h)` in tests/e2e/test_*.py (and every
case of a data-driven one, see harness.cases), each with a fresh Harness and a timeout.

    /usr/bin/python3 tests/e2e/run.py [-k PATTERN] [-x] [-j N] [--klaxon-only] [--list] [--timeout S]

Prints one line per test, then the slowest tests (--slowest N, 15 by default; 0: none), and
ends with `N passed, N failed` (prefixed by $KLAXON_TEST_LABEL as `[label] e2e: `); exits 1 when
any test failed.

-j N (or $KLAXON_E2E_JOBS) runs N tests at a time in worker processes (forked after discovery;
a test's output is printed when it ends). A test marked @alone (harness.alone), or every test of
a module that sets `E2E_ALONE = True`, judges real-time gaps or speed: it runs after the others,
one at a time with nothing beside it. --klaxon-only skips the modules that set
`E2E_RUNS_KLAXON = False`, the simulators' self-tests, in which nothing of KLAXON_BIN's build runs:
the sanitizer pass (tests/run.sh) has nothing to find there. KLAXON_BIN names the binary.
On a failure it prints the end of klaxon's log and the simulator's last calls; the test's
temporary directory (config, database, log) is kept and named.
"""

import argparse
import asyncio
import contextlib
import fnmatch
import importlib.util
import inspect
import io
import multiprocessing
import os
import queue
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


def discover(pattern=None, klaxon_only=False):
    """[(name, fn, case or None, timeout, sim options, alone)] in file and definition order."""
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
            out.append(("%s::<import>" % fname, import_failed(msg), None, DEFAULT_TIMEOUT, {}, False))
            continue
        if klaxon_only and getattr(mod, "E2E_RUNS_KLAXON", True) is False:
            continue
        mod_alone = bool(getattr(mod, "E2E_ALONE", False))
        fns = [(n, f) for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.iscoroutinefunction(f) and f.__module__ == mod.__name__]
        fns.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        for n, f in fns:
            t = getattr(f, "e2e_timeout", DEFAULT_TIMEOUT)
            opts = getattr(f, "e2e_sim_options", {})
            alone = mod_alone or bool(getattr(f, "e2e_alone", False))
            if hasattr(f, "e2e_cases"):
                for cid, case in zip(f.e2e_case_ids, f.e2e_cases):
                    out.append(("%s::%s[%s]" % (fname, n, cid), f, case, t, opts, alone))
            else:
                out.append(("%s::%s" % (fname, n), f, None, t, opts, alone))
    if pattern:
        pats = pattern.split(",")
        out = [x for x in out if any(p in x[0] or fnmatch.fnmatch(x[0], p) for p in pats)]
    return out


async def run_one(name, fn, case, limit, opts):
    """Returns (ok, message, harness). In a PostgreSQL run, a test marked @engines("sqlite") (it
    reaches into the SQLite file itself) runs on SQLite."""
    engines = getattr(fn, "e2e_engines", None)
    h = Harness(name, sim_opts=opts, postgres_ok=not engines or "postgres" in engines)
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


TESTS = []  # discover()'s list; worker processes inherit it when they are forked


def run_captured(i, limit_override=None):
    """Run TESTS[i] with its output captured: (i, ok, seconds, output)."""
    name, fn, case, limit, opts, _ = TESTS[i]
    buf = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(buf):
        ok, err, h = asyncio.run(run_one(name, fn, case, limit_override or limit, opts))
        if not ok:
            report_failure(h, err)
    return i, ok, time.monotonic() - start, buf.getvalue()


def run_all(jobs, limit_override, exitfirst):
    """Yield (i, ok, seconds, output) for TESTS: one at a time in this process with jobs <= 1;
    otherwise N at a time in worker processes, then the E2E_ALONE tests one at a time."""
    if jobs <= 1:
        for i in range(len(TESTS)):
            name, fn, case, limit, opts, _ = TESTS[i]
            start = time.monotonic()
            ok, err, h = asyncio.run(run_one(name, fn, case, limit_override or limit, opts))
            took = time.monotonic() - start
            print("%s %s (%.1f s)" % ("ok  " if ok else "FAIL", name, took), flush=True)
            if not ok:
                report_failure(h, err)
            yield i, ok, took, None
        return
    # the longest first (by their timeouts), so no long test starts last and runs on its own
    together = sorted((i for i, t in enumerate(TESTS) if not t[5]), key=lambda i: -TESTS[i][3])
    alone = [i for i, t in enumerate(TESTS) if t[5]]
    stop = False
    if together:
        # N in flight at a time (not all queued at once), so that after a failure under -x the
        # running tests end normally, stopping their bots, and no more start
        done = queue.Queue()
        pool = multiprocessing.get_context("fork").Pool(min(jobs, len(together)))
        todo, running = list(together), 0
        while todo or running:
            while todo and not stop and running < jobs:
                pool.apply_async(run_captured, (todo.pop(0), limit_override), callback=done.put,
                                 error_callback=done.put)
                running += 1
            if not running:
                break
            r = done.get()
            running -= 1
            if isinstance(r, BaseException):
                raise r
            yield r
            stop = stop or (exitfirst and not r[1])
        pool.close()
        pool.join()
    for i in alone:
        if stop:
            break
        # in a fresh process too, so no state of an earlier test's worker leaks in
        with multiprocessing.get_context("fork").Pool(1) as pool:
            r = pool.apply(run_captured, (i, limit_override))
        yield r
        stop = exitfirst and not r[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="pattern", help="run tests whose name contains PATTERN (comma: any of several)")
    ap.add_argument("-x", dest="exitfirst", action="store_true", help="stop after the first failure")
    ap.add_argument("-j", dest="jobs", type=int, default=int(os.environ.get("KLAXON_E2E_JOBS") or 1),
                    help="run N tests at a time (default $KLAXON_E2E_JOBS or 1)")
    ap.add_argument("--klaxon-only", action="store_true",
                    help="skip the modules that run nothing of KLAXON_BIN's build (E2E_RUNS_KLAXON = False)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    ap.add_argument("--timeout", type=float, help="override every test's timeout (seconds)")
    ap.add_argument("--slowest", type=int, default=SLOWEST, help="list the N slowest tests at the end (0: none)")
    a = ap.parse_args()
    # KLAXON_E2E_ENGINE=postgres: one PostgreSQL cluster for the run (tests/e2e/pg.py), each
    # test's harness a database of its own in it; tests marked @harness.engines("sqlite") skip.
    engine = os.environ.get("KLAXON_E2E_ENGINE", "sqlite")
    TESTS[:] = discover(a.pattern, a.klaxon_only)
    # On PostgreSQL, the tests of the SQLite file itself run on SQLite (run_one): counted.
    engine_skipped = sum(1 for t in TESTS if engine not in getattr(t[1], "e2e_engines", (engine,)))
    if a.list:
        for t in TESTS:
            print(t[0] + ("  (alone)" if t[5] and a.jobs > 1 else ""))
        return 0
    label = os.environ.get("KLAXON_TEST_LABEL", "")
    prefix = ("[%s] e2e: " % label) if label else "e2e: "
    if a.klaxon_only:
        skipped = len(discover(a.pattern)) - len(TESTS)
        if skipped:
            print("skipping %d tests that run nothing of %s's build (E2E_RUNS_KLAXON = False)" % (
                skipped, os.environ.get("KLAXON_BIN") or "build/klaxon"))
    cluster = None
    if engine == "postgres":
        import pg
        cluster = pg.Postgres().start()
        os.environ["KLAXON_E2E_PG"] = cluster.dir  # the workers inherit it
    try:
        return run_and_report(a, prefix, engine, engine_skipped)
    finally:
        if cluster is not None:
            cluster.stop()


def run_and_report(a, prefix, engine, engine_skipped):
    passed = failed = 0
    durations = []
    t0 = time.monotonic()
    for i, ok, took, output in run_all(a.jobs, a.timeout, a.exitfirst):
        name = TESTS[i][0]
        durations.append((took, name))
        if output is not None:
            print("%s %s (%.1f s)" % ("ok  " if ok else "FAIL", name, took))
            sys.stdout.write(output)
        if ok:
            passed += 1
        else:
            failed += 1
            if a.exitfirst and a.jobs <= 1:  # with -j, run_all lets the running tests end
                break
        sys.stdout.flush()
    if a.slowest > 0 and durations:
        print("slowest %d of %d:" % (min(a.slowest, len(durations)), len(durations)))
        for took, name in sorted(durations, key=lambda d: -d[0])[:a.slowest]:
            print("  %7.1f s  %s" % (took, name))
    print("(%.1f s)" % (time.monotonic() - t0))
    print("%s%d passed, %d failed%s" % (prefix, passed, failed, (" (on %s; %d of them, marked SQLite-only, on"
                                                                 " SQLite)" % (engine, engine_skipped))
                                         if engine != "sqlite" else ""), flush=True)
    return 1 if failed or not TESTS else 0


if __name__ == "__main__":
    sys.exit(main())
