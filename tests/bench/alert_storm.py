#!/usr/bin/python3
"""Alert storm: build/klaxon behind the strict local Slack simulator (Slack's rate limits on),
hit through POST /alerts/alertmanager with the bearer token.

  1. one Alertmanager webhook carrying 5,000 alerts (one group, routed to a channel);
  2. 100 webhooks per second for 10 s, 5 alerts each, spread over 13 groups: 10 warning
     groups posted to two channels, 3 critical groups paging the on-call.

Then it waits until klaxon's outbox is empty and reports: alerts per second ingested, p50/p99
webhook latency (client side, loopback), Slack calls made by method, HTTP 429s received,
messages posted (the grouping), and alerts lost (sent minus stored: must be 0). It fails when
an alert is lost, a webhook is refused, Slack answered 429 more than a handful of times, or
the messages are not grouped (more posts than groups).
"""
import asyncio
import json
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

import aiohttp  # noqa: E402

from harness import Harness  # noqa: E402

BIG = int(os.environ.get("BENCH_BIG_ALERTS", "5000"))
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
PER_HOOK = 5
WARN_GROUPS, PAGE_GROUPS = 10, 3
MAX_429 = 3


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def alert(name, severity, i):
    return {"status": "firing", "labels": {"alertname": name, "severity": severity, "instance": "i%d" % i},
            "annotations": {}, "startsAt": "2026-11-24T08:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "%s-%d" % (name, i)}


def webhook(group, alerts):
    return {"version": "4", "groupKey": "{}:{alertname=\"%s\"}" % group, "status": "firing", "receiver": "klaxon",
            "groupLabels": {"alertname": group}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am", "truncatedAlerts": 0, "alerts": alerts}


async def send(session, url, headers, body, lat, statuses):
    data = json.dumps(body, separators=(",", ":")).encode()
    t = time.perf_counter()
    async with session.post(url, data=data, headers=headers) as r:
        await r.read()
        statuses.append(r.status)
    lat.append(time.perf_counter() - t)


async def drained(h, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = await h.healthz()
        if isinstance(body, dict) and body.get("outbox_depth") == 0:
            return True
        await asyncio.sleep(0.25)
    return False


def save_summary(d):
    """With BENCH_OUT set (tests/bench/run.sh sets it), the figures go to BENCH_OUT/alert_storm.json
    too, so that bolt_compare.py puts them in its table without running the storm again."""
    out = os.environ.get("BENCH_OUT")
    if out and os.path.isdir(out):
        with open(os.path.join(out, "alert_storm.json.tmp"), "w") as f:
            json.dump(d, f)
        os.replace(os.path.join(out, "alert_storm.json.tmp"), os.path.join(out, "alert_storm.json"))


async def run():
    with open("/proc/loadavg") as f:
        loadavg = float(f.read().split()[0])
    h = Harness(name="bench-alert-storm", sim_opts={"echo_bot_messages": False})
    h.config["alerts"]["routes"] = [
        {"match": {"severity": "critical"}, "rota": "platform", "severity": "P1"},
        {"match": {"severity": "warning", "team": "b"}, "channel": "C0ONCALL01"},
        {"match": {"severity": "warning"}, "channel": "C0ALERTS01"},
    ]
    h.env["KLAXON_LOG_LEVEL"] = "warn"
    # 64 concurrent senders plus the probes, all from 127.0.0.1: above the per-client default.
    h.config["http"]["max_connections_per_client"] = 256
    await h.setup()
    failures = []
    try:
        await h.start()
        url = "http://127.0.0.1:%d/alerts/alertmanager" % h.http_port
        headers = {"Authorization": "Bearer " + h.alert_token, "Content-Type": "application/json"}
        sent = 0
        lat, statuses = [], []
        conn = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=30)) as s:
            # 1. one webhook, 5,000 alerts
            big = webhook("StormBig", [alert("StormBig", "warning", i) for i in range(BIG)])
            size = len(json.dumps(big, separators=(",", ":")))
            t0 = time.perf_counter()
            await send(s, url, headers, big, lat, statuses)
            big_s = time.perf_counter() - t0
            sent += BIG
            print("one webhook of %d alerts (%d KB): %.0f ms, %.0f alerts/s" % (BIG, size // 1024, big_s * 1000,
                                                                               BIG / big_s))
            # 2. RATE webhooks per second
            lat2 = []
            n = int(RATE * SECONDS)
            tasks = []
            t0 = time.perf_counter()
            for k in range(n):
                due = t0 + k / RATE
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                g = k % (WARN_GROUPS + PAGE_GROUPS)
                if g < WARN_GROUPS:
                    name, sev = "StormWarn%d" % g, "warning"
                    extra = {"team": "b"} if g % 2 else {}
                else:
                    name, sev, extra = "StormPage%d" % g, "critical", {}
                alerts = []
                for j in range(PER_HOOK):
                    a = alert(name, sev, k * PER_HOOK + j)
                    a["labels"].update(extra)
                    alerts.append(a)
                sent += PER_HOOK
                tasks.append(asyncio.ensure_future(send(s, url, headers, webhook(name, alerts), lat2, statuses)))
            await asyncio.gather(*tasks)
            storm_s = time.perf_counter() - t0
        print("%d webhooks at %d/s (%d alerts each): %.1f s, %.0f alerts/s ingested" % (
            n, RATE, PER_HOOK, storm_s, n * PER_HOOK / storm_s))
        print("webhook latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
            pct(lat2, 0.5) * 1000, pct(lat2, 0.99) * 1000, max(lat2) * 1000))
        t_drain = time.monotonic()
        ok = await drained(h, 180)
        print("outbox drained in %.1f s after the storm%s" % (time.monotonic() - t_drain, "" if ok else " (NOT drained)"))
        if not ok:
            failures.append("the outbox did not drain within 180 s")
        con = sqlite3.connect("file:%s?mode=ro" % h.db_path, uri=True, timeout=10)
        stored = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
        groups = con.execute("SELECT count(*) FROM pages").fetchone()[0]
        con.close()
        by_method = {}
        for c in h.sim.calls:
            by_method[c["method"]] = by_method.get(c["method"], 0) + 1
        posts = by_method.get("chat.postMessage", 0)
        lost = sent - stored
        print("slack calls: %d (%s)" % (len(h.sim.calls), ", ".join("%s %d" % kv for kv in sorted(by_method.items()))))
        print("messages posted: %d for %d groups; HTTP 429 from Slack: %d" % (posts, groups, len(h.sim.ratelimited)))
        print("alerts sent %d, stored %d, lost %d" % (sent, stored, lost))
        bad = [x for x in statuses if x != 200]
        if bad:
            failures.append("%d webhooks were not answered 200: %s" % (len(bad), sorted(set(bad))))
        if lost:
            failures.append("%d alerts lost" % lost)
        if len(h.sim.ratelimited) > MAX_429:
            failures.append("%d HTTP 429s from Slack (a storm)" % len(h.sim.ratelimited))
        if posts > groups:
            failures.append("%d messages posted for %d groups" % (posts, groups))
        print("alert_storm: ingest %.0f alerts/s, p99 %.1f ms, %d Slack calls, %d lost" % (
            n * PER_HOOK / storm_s, pct(lat2, 0.99) * 1000, len(h.sim.calls), lost))
        save_summary({"bin": os.path.realpath(h.bin), "big_alerts": BIG, "big_ms": big_s * 1000,
                      "webhooks": n, "rate": RATE, "per_hook": PER_HOOK, "ingest_per_s": n * PER_HOOK / storm_s,
                      "p50_ms": pct(lat2, 0.5) * 1000, "p99_ms": pct(lat2, 0.99) * 1000,
                      "slack_calls": len(h.sim.calls), "posts": posts, "groups": groups,
                      "http_429": len(h.sim.ratelimited), "lost": lost, "failures": failures,
                      "loadavg": loadavg, "time": time.time()})
    finally:
        await h.close(failed=bool(failures))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
