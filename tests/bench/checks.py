#!/usr/bin/python3
"""Synthetic checks: how many checks per second one klaxon sustains with its loop unaffected.

build/klaxon (the strict local Slack simulator behind it) runs N HTTP checks, each every 1 s,
against a local HTTP service, for BENCH_SECONDS per step, N in BENCH_CHECKS (default 0, 100,
250, 500, 1000). Meanwhile the loop's latency is probed 50 times a second with
GET /healthz?probe=live (answered by the loop itself, no database). Per step it reports the
checks completed per second (klaxon_checks_total from /metrics) and the probe's p50/p99; the
figure is the highest rate whose completions keep up (>= 95% of offered) and whose probe p99
stays within 2 ms + 2x the no-checks baseline. It fails when a step loses more than half the
offered checks (the runner is broken, not slow)."""
import asyncio
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from harness import Harness, free_port  # noqa: E402

STEPS = [int(x) for x in os.environ.get("BENCH_CHECKS", "0,100,250,500,1000").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


async def checks_total(session, h):
    url = "http://127.0.0.1:%d%s" % (h.http_port, h.feed_url("/metrics"))
    async with session.get(url) as r:
        text = await r.text()
    return sum(float(m.group(1)) for m in re.finditer(r'^klaxon_checks_total\{[^}]*\} ([0-9.e+]+)$', text, re.M))


async def probe(session, h, stop, lat):
    url = "http://127.0.0.1:%d/healthz?probe=live" % h.http_port
    while not stop.is_set():
        t = time.perf_counter()
        async with session.get(url) as r:
            await r.read()
        lat.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.02)


async def step(n, target_port, hits):
    h = Harness("bench-checks")
    await h.setup()
    try:
        h.config["status_page"] = {"components": ["svc"]}
        if n:
            h.config["checks"] = [{"name": "c%d" % i, "http": "http://127.0.0.1:%d/h%d" % (target_port, i),
                                   "every": "1s", "timeout": "5s", "component": "svc"} for i in range(n)]
        h.config["log"] = {"level": "warn"}
        await h.start()
        async with aiohttp.ClientSession() as s:
            await asyncio.sleep(1.5)  # every timer has fired once
            c0, h0, t0 = await checks_total(s, h), hits[0], time.perf_counter()
            stop, lat = asyncio.Event(), []
            task = asyncio.create_task(probe(s, h, stop, lat))
            await asyncio.sleep(SECONDS)
            stop.set()
            await task
            c1, h1, t1 = await checks_total(s, h), hits[0], time.perf_counter()
        rc = await h.stop_bot()
        assert rc == 0, "klaxon exited %s" % rc
        return (c1 - c0) / (t1 - t0), (h1 - h0) / (t1 - t0), pct(lat, 0.5), pct(lat, 0.99)
    finally:
        await h.close()


async def main():
    hits = [0]

    async def handler(request):
        hits[0] += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    rows, base_p99, best, failed = [], None, 0.0, False
    try:
        for n in STEPS:
            rate, served, p50, p99 = await step(n, port, hits)
            rows.append((n, rate, served, p50, p99))
            if n == 0:
                base_p99 = p99
            keeps_up = n == 0 or rate >= 0.95 * n
            loop_ok = base_p99 is None or p99 <= 2 * base_p99 + 2.0
            if n and keeps_up and loop_ok:
                best = max(best, rate)
            if n and rate < 0.5 * n:
                failed = failed or n <= 250  # below 250/s losing half is a bug, above it a limit
            print("checks=%5d offered=%5d/s completed=%7.1f/s served=%7.1f/s probe p50=%.2f ms p99=%.2f ms %s"
                  % (n, n, rate, served, p50, p99, "" if keeps_up and loop_ok else "(over the limit)"),
                  flush=True)
    finally:
        await runner.cleanup()
    print("checks: %.0f checks/s sustained with the loop's p99 within 2 ms + 2x the baseline (%.2f ms)"
          % (best, base_p99 or 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
