#!/usr/bin/python3
"""Socket Mode throughput and ack latency: envelopes pushed through the local Slack simulator
into build/klaxon, first at a fixed rate (1,000/s for 10 s), then as fast as the bot acks them.

Each envelope is a real `/oncall help` slash command or a channel message event: klaxon parses
it, runs the handler in a SQLite transaction (delivery dedup included) and acks with the answer.
Reported: ack latency p50/p99/max as the simulator sees it (send to ack received, loopback), the
bot's own histogram (arrival to ack written), envelopes per second, peak RSS (VmHWM).
Aim: p99 under 2 ms at 1,000/s and under 16 MB RSS on the 2-core machine.
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


async def wait_acked(sim, start_index, n, timeout):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(sim.acks) - start_index < n and loop.time() < deadline:
        await asyncio.sleep(0.05)
    return sim.acks[start_index:]


async def fixed_rate(h, sim):
    n = int(RATE * SECONDS)
    first = len(sim.acks)
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
    acks = await wait_acked(sim, first, n, 30)
    return n, acks, loop.time() - t0


async def burst(h, sim):
    first = len(sim.acks)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(BURST):
        sim.slash("/oncall", "help", user="U0ALICE001", channel="C0INCIDENT")
        if i % 500 == 0:
            await asyncio.sleep(0)
    acks = await wait_acked(sim, first, BURST, 120)
    last = max((a["t"] for a in acks), default=0)
    return BURST, acks, loop.time() - t0


def bot_quantiles(text):
    """p50/p99 (upper bucket bounds, ms) of klaxon_envelope_ack_seconds from /metrics."""
    buckets = []
    for line in text.splitlines():
        if line.startswith("klaxon_envelope_ack_seconds_bucket{le=\""):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), int(float(line.split()[-1]))))
    if not buckets or buckets[-1][1] == 0:
        return None, None, 0
    total = buckets[-1][1]
    q = lambda x: next(b for b, c in buckets if c >= x * total) * 1000
    return q(0.5), q(0.99), total


def diff_metrics(before, after):
    """The histogram of what happened between two scrapes."""
    b = {l.split()[0]: float(l.split()[-1]) for l in before.splitlines() if l.startswith("klaxon_envelope_ack_seconds")}
    out = []
    for l in after.splitlines():
        if l.startswith("klaxon_envelope_ack_seconds"):
            k, v = l.split()[0], float(l.split()[-1])
            out.append("%s %d" % (k, v - b.get(k, 0)))
    return "\n".join(out)


def report(name, n, acks, elapsed):
    lat = [a["latency"] * 1000 for a in acks if a.get("latency") is not None]
    rate = len(acks) / elapsed if elapsed else 0
    print("%-10s sent %6d acked %6d in %6.2f s = %8.0f envelopes/s; ack latency ms p50 %.3f p99 %.3f max %.3f"
          % (name, n, len(acks), elapsed, rate, pct(lat, 0.5), pct(lat, 0.99), max(lat) if lat else float("nan")))
    return len(acks) == n


async def main():
    h = Harness(name="bench-envelopes", sim_opts={"rate_limits": False, "echo_bot_messages": False,
                                                   "mention_events": False})
    await h.setup()
    ok = True
    try:
        h.env["KLAXON_LOG_LEVEL"] = "warn"
        await h.start_bot()
        sim = h.sim
        _, m0 = await h.metrics()
        ok &= report("fixed", *(await fixed_rate(h, sim)))
        hwm_fixed = vm_hwm_kb(h.proc.pid)
        _, m1 = await h.metrics()
        ok &= report("burst", *(await burst(h, sim)))
        hwm = vm_hwm_kb(h.proc.pid)
        _, m2 = await h.metrics()
        for name, a, b in (("fixed", m0, m1), ("burst", m1, m2)):
            p50, p99, total = bot_quantiles(diff_metrics(a, b))
            print("bot-side %-6s arrival→ack written: p50 <= %s ms, p99 <= %s ms (%d envelopes, bucket bounds)"
                  % (name, p50, p99, total))
        print("peak RSS (VmHWM): %.1f MB after the fixed-rate run, %.1f MB after the burst" % (hwm_fixed / 1024, hwm / 1024))
    finally:
        await h.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
