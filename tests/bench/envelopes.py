#!/usr/bin/python3
"""Socket Mode throughput and ack latency: envelopes pushed through the local Slack simulator
into build/klaxon, first at a fixed rate (1,000/s for 10 s), then as fast as the bot acks them.

Each envelope is a real `/oncall help` slash command or a channel message event: klaxon parses
it, runs the handler in a SQLite transaction (delivery dedup included) and acks with the answer.
Reported: ack latency p50/p99/max as the simulator sees it (send to ack received, loopback), the
bot's own histogram (arrival to ack written), envelopes per second (fixed rate; then a closed loop keeping 64 in flight), peak RSS (VmHWM).
Aim: p99 under 2 ms at 1,000/s and under 16 MB RSS on the 2-core machine.

It runs once per storage engine (BENCH_ENGINES, default "sqlite,postgres"), one instance each,
and ends with one table with a column per engine. PostgreSQL is a cluster of its own made for
the run by tests/e2e/pg.py (initdb in a temp dir, Unix socket only, removed afterwards) with
PostgreSQL's durable defaults (fsync on, synchronous_commit on), as SQLite runs with
synchronous=FULL. Without the PostgreSQL 15 binaries its column says so and the run still
counts; an engine whose run fails (an error, an envelope never acked) fails the bench.
"""
import asyncio
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

from harness import Harness  # noqa: E402

RATE = int(os.environ.get("BENCH_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
BURST = int(os.environ.get("BENCH_BURST", "20000"))
WINDOW = int(os.environ.get("BENCH_WINDOW", "64"))
ENGINES = [e.strip() for e in os.environ.get("BENCH_ENGINES", "sqlite,postgres").split(",") if e.strip()]
ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def tally(sim, log_index):
    """Over the envelopes sent since envelope_log[log_index]: (things sent, things acked,
    redeliveries). A thing is what Slack delivers: an event (its redeliveries, sent when an ack
    is later than 3 s, share its event_id) or a slash command."""
    recs = sim.envelope_log[log_index:]
    keys = {}
    for rec in recs:
        keys[rec["key"]] = keys.get(rec["key"], 0) + len(rec["acks"])
    redelivered = sum(1 for rec in recs if rec.get("retry_attempt"))
    return len(keys), sum(1 for v in keys.values() if v), redelivered


async def wait_acked(sim, log_index, ack_index, n, timeout):
    """Until each of the n things sent since log_index is acked (or timeout); every ack since
    ack_index, and the redeliveries."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while tally(sim, log_index)[1] < n and loop.time() < deadline:
        await asyncio.sleep(0.05)
    _, acked, redelivered = tally(sim, log_index)
    return acked, redelivered, sim.acks[ack_index:]


async def fixed_rate(h, sim):
    n = int(RATE * SECONDS)
    first, log_index = len(sim.acks), len(sim.envelope_log)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(n):
        due = t0 + i / RATE
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if i % 2:
            sim.slash("/oncall", "help", user="U0ALICE001", channel="C0INCIDENT")
        else:
            sim.user_message("U0BOB00001", "C0ALERTS01", "load line %d" % i)
    acked, redelivered, acks = await wait_acked(sim, log_index, first, n, 30)
    return n, acked, redelivered, acks, loop.time() - t0


async def burst(h, sim):
    """As fast as the bot acks: keep WINDOW envelopes outstanding (a closed loop, like Slack
    with several envelopes in flight), so the figure is the bot's rate, not how fast Python can
    stuff a socket."""
    first, log_index = len(sim.acks), len(sim.envelope_log)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sent = 0
    while sent < BURST:
        outstanding = sent - (len(sim.acks) - first)
        while outstanding < WINDOW and sent < BURST:
            sim.slash("/oncall", "help", user="U0ALICE001", channel="C0INCIDENT")
            sent += 1
            outstanding += 1
        await asyncio.sleep(0)
    acked, redelivered, acks = await wait_acked(sim, log_index, first, BURST, 120)
    return BURST, acked, redelivered, acks, loop.time() - t0


def bot_quantiles(text, name="klaxon_envelope_ack_seconds"):
    """p50/p99 (upper bucket bounds, ms) of a histogram from /metrics."""
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket{le=\""):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), int(float(line.split()[-1]))))
    if not buckets or buckets[-1][1] == 0:
        return None, None, 0
    total = buckets[-1][1]
    q = lambda x: next(b for b, c in buckets if c >= x * total) * 1000
    return q(0.5), q(0.99), total


def diff_metrics(before, after, name="klaxon_envelope_ack_seconds"):
    """The histogram of what happened between two scrapes."""
    b = {l.split()[0]: float(l.split()[-1]) for l in before.splitlines() if l.startswith(name)}
    out = []
    for l in after.splitlines():
        if l.startswith(name):
            k, v = l.split()[0], float(l.split()[-1])
            out.append("%s %d" % (k, v - b.get(k, 0)))
    return "\n".join(out)


def report(name, n, acked, redelivered, acks, elapsed):
    """Print one run's line; return its figures (all acked, rate, peer p50/p99 in ms). Latency
    is every ack's, from its envelope's delivery; the rate counts things acked, not acks."""
    lat = [a["latency"] * 1000 for a in acks if a.get("latency") is not None]
    rate = acked / elapsed if elapsed else 0
    print("%-10s sent %6d acked %6d in %6.2f s = %8.0f envelopes/s; ack latency ms p50 %.3f p99 %.3f max %.3f; "
          "redelivered (ack later than 3 s) %d"
          % (name, n, acked, elapsed, rate, pct(lat, 0.5), pct(lat, 0.99), max(lat) if lat else float("nan"),
             redelivered))
    return {"ok": acked == n, "sent": n, "acked": acked, "redelivered": redelivered, "rate": rate,
            "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


async def run_engine(engine):
    """One instance of klaxon on ENGINE: the fixed-rate run, then the closed loop. Returns the
    figures, with "error" set when the run could not be completed."""
    cluster = None
    saved = os.environ.get("KLAXON_E2E_PG")
    os.environ.pop("KLAXON_E2E_PG", None)
    if engine == "postgres":
        import pg
        if not pg.available():
            return {"skipped": "no PostgreSQL 15 binaries in %s" % pg.BIN}
        cluster = pg.Postgres(durable=True).start()
        os.environ["KLAXON_E2E_PG"] = cluster.dir  # the harness makes a database of its own in it
    elif engine != "sqlite":
        return {"error": "unknown engine %r (BENCH_ENGINES: sqlite, postgres)" % engine}
    out = {}
    h = Harness(name="bench-envelopes-" + engine, sim_opts={"rate_limits": False, "echo_bot_messages": False,
                                                             "mention_events": False})
    await h.setup()
    try:
        print("-- engine %s" % engine)
        h.env["KLAXON_LOG_LEVEL"] = "warn"
        await h.start_bot()
        sim = h.sim
        _, m0 = await h.metrics()
        out["fixed"] = report("fixed", *(await fixed_rate(h, sim)))
        hwm_fixed = vm_hwm_kb(h.proc.pid)
        _, m1 = await h.metrics()
        out["burst"] = report("burst", *(await burst(h, sim)))
        out["hwm_mb"] = vm_hwm_kb(h.proc.pid) / 1024
        _, m2 = await h.metrics()
        for name, a, b in (("fixed", m0, m1), ("burst", m1, m2)):
            p50, p99, total = bot_quantiles(diff_metrics(a, b))
            out[name]["bot_p50"], out[name]["bot_p99"] = p50, p99
            print("bot-side %-6s arrival→ack written: p50 <= %s ms, p99 <= %s ms (%d envelopes, bucket bounds)"
                  % (name, p50, p99, total))
            d = "klaxon_dispatch_seconds"
            p50, p99, total = bot_quantiles(diff_metrics(a, b, d), d)
            out[name]["dispatch_p99"] = p99
            print("bot-side %-6s handler + commit:     p50 <= %s ms, p99 <= %s ms" % (name, p50, p99))
        print("peak RSS (VmHWM): %.1f MB after the fixed-rate run, %.1f MB after the burst"
              % (hwm_fixed / 1024, out["hwm_mb"]))
        if not (out["fixed"]["ok"] and out["burst"]["ok"]):
            out["error"] = "envelopes not acked (fixed %d/%d, burst %d/%d)" % (
                out["fixed"]["acked"], out["fixed"]["sent"], out["burst"]["acked"], out["burst"]["sent"])
    except Exception as e:  # the table says what failed; the bench fails
        out["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            await h.close()
        except AssertionError as e:
            out.setdefault("error", "at the end: %s" % e)
        if out.get("error"):
            tail = h.log_text()[-1500:] if hasattr(h, "log_text") else ""
            print("engine %s failed: %s\nklaxon's log ends:\n%s" % (engine, out["error"], tail))
            if cluster is not None:
                print("PostgreSQL's log ends:\n%s" % cluster.log()[-1500:])
        h.pg_drop()
        if cluster is not None:
            cluster.stop()
        os.environ.pop("KLAXON_E2E_PG", None)
        if saved is not None:
            os.environ["KLAXON_E2E_PG"] = saved
    return out


def ms(v):
    return "—" if v is None or v != v else ("%.2f ms" % v if v < 10 else "%.1f ms" % v)


def table(results):
    """One table, a column per engine."""
    def cell(r, fn):
        if "skipped" in r:
            return "skipped"
        if "error" in r and not r.get("burst"):
            return "failed"
        try:
            return fn(r)
        except (KeyError, TypeError):
            return "—"

    rows = [
        ("fixed %d/s for %g s: acked/s" % (RATE, SECONDS), lambda r: "%.0f/s" % r["fixed"]["rate"]),
        ("fixed: ack p50 / p99 (peer)", lambda r: "%s / %s" % (ms(r["fixed"]["p50"]), ms(r["fixed"]["p99"]))),
        ("fixed: arrival→ack p50 / p99 (bot, bucket bound)",
         lambda r: "≤ %s / ≤ %s" % (ms(r["fixed"]["bot_p50"]), ms(r["fixed"]["bot_p99"]))),
        ("closed loop, %d in flight: throughput" % WINDOW, lambda r: "%.0f/s" % r["burst"]["rate"]),
        ("closed loop: ack p50 / p99 (peer)", lambda r: "%s / %s" % (ms(r["burst"]["p50"]), ms(r["burst"]["p99"]))),
        ("closed loop: arrival→ack p50 / p99 (bot)",
         lambda r: "≤ %s / ≤ %s" % (ms(r["burst"]["bot_p50"]), ms(r["burst"]["bot_p99"]))),
        ("closed loop: handler + commit p99 (bot)", lambda r: "≤ %s" % ms(r["burst"]["dispatch_p99"])),
        ("acked / sent (redelivered: ack later than 3 s)",
         lambda r: "%d / %d (%d)" % (r["fixed"]["acked"] + r["burst"]["acked"], r["fixed"]["sent"] + r["burst"]["sent"],
                                     r["fixed"]["redelivered"] + r["burst"]["redelivered"])),
        ("peak RSS (VmHWM)", lambda r: "%.1f MB" % r["hwm_mb"]),
    ]
    names = [ENGINE_NAMES.get(e, e) for e in results]
    print("\nload average %s, %d CPUs" % (" ".join(open("/proc/loadavg").read().split()[:3]), os.cpu_count()))
    print("\n| one instance | %s |" % " | ".join(names))
    print("|---|%s" % ("---|" * len(names)))
    for label, fn in rows:
        print("| %s | %s |" % (label, " | ".join(cell(r, fn) for r in results.values())))
    for e, r in results.items():
        if "skipped" in r:
            print("%s: skipped (%s)" % (ENGINE_NAMES.get(e, e), r["skipped"]))
        if "error" in r:
            print("%s: FAILED: %s" % (ENGINE_NAMES.get(e, e), r["error"]))


async def main():
    results = {}
    for engine in ENGINES:
        results[engine] = await run_engine(engine)
    table(results)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
