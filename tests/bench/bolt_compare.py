#!/usr/bin/python3
"""klaxon against a Bolt for JavaScript bot: the same load from the same peer, one table.

The peer is the local Slack simulator (tests/sim/, a fresh one for every bot run, same options).
It drives KLAXON_BIN (default build/klaxon) and then tests/bench/bolt_bot.js (the pinned
@slack/bolt of tests/node/, installed by tests/node.sh) over Socket Mode on loopback, with the
same envelopes: half `/oncall help` slash commands (each bot acks with the help text in the
ack's payload) and half channel message events (acked). Per bot run:

  start      process spawn to the simulator's hello on the bot's WebSocket
  warm-up    BENCH_BOLT_WARMUP envelopes (1,000) in a closed loop, not measured
  steady     BENCH_RATE envelopes/s (1,000) for BENCH_SECONDS (10 s): ack latency p50/p99
  burst      BENCH_BOLT_BURST envelopes (1,000) sent at once: ack latency p50/p99
  closed     BENCH_BOLT_CLOSED envelopes (5,000), BENCH_WINDOW (64) outstanding: envelopes/s
  memory     peak RSS (VmHWM) and private memory (Private_Clean + Private_Dirty from
             /proc/PID/smaps_rollup), read 1 s after the load

Latency is measured at the peer: from the envelope's frame being handed to the socket to its
ack being read (the simulator's wire_latency; it keeps no copy of text frames, record_frames off,
so that its own bookkeeping weighs less). Every ack is checked the same way for all clients: each
envelope id the simulator sent is acked at most once, on the client's connection; slash command
acks carry the help text in payload.text, event acks carry no payload; no protocol error is
recorded. A failed check fails the bench. An envelope never acked (an event counts as acked when
the simulator's redelivery of it is, after 3 s) is lost: counted in the table, with
reconnections, and its latency is infinite.

Fairness: klaxon and Bolt alternate (who goes first swaps every round), BENCH_BOLT_ROUNDS
rounds (2); latencies are pooled over the rounds, the other figures are medians (memory: the
largest). The machine is shared, so the CPU used by other processes during each run is measured
(/proc/stat minus this process, the bot and the kernel's threads); a run where others used more
than BENCH_BOLT_BUSY cores (0.25) is flagged, one more round is run (BENCH_BOLT_EXTRA, 1), and
rounds with a flagged run are left out when any round without one exists; otherwise the table
says the figures were taken under load.

The "peer floor" column (BENCH_BOLT_FLOOR=0 skips it) is one run of the same load against
tests/bench/ack_floor.js, a client that only acks: what the Python simulator can resolve.

Alert storm figures are klaxon's only (tests/bench/alert_storm.py): taken from BENCH_OUT when
run.sh ran it just before for the same binary, else run here (BENCH_BOLT_STORM=0 skips them).
"""
import asyncio
import ctypes
import gc
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

from harness import Harness  # noqa: E402


def env_num(name, default, kind=float):
    v = os.environ.get(name)
    return kind(v) if v not in (None, "") else default


RATE = env_num("BENCH_RATE", 1000, int)
SECONDS = env_num("BENCH_SECONDS", 10.0)
BURST = env_num("BENCH_BOLT_BURST", 1000, int)
CLOSED = env_num("BENCH_BOLT_CLOSED", 5000, int)
WINDOW = env_num("BENCH_WINDOW", 64, int)
WARMUP = env_num("BENCH_BOLT_WARMUP", 1000, int)
ROUNDS = env_num("BENCH_BOLT_ROUNDS", 2, int)
EXTRA = env_num("BENCH_BOLT_EXTRA", 1, int)
BUSY = env_num("BENCH_BOLT_BUSY", 0.25)
STORM = os.environ.get("BENCH_BOLT_STORM", "1") != "0"
DEADLINE = env_num("BENCH_BOLT_TIMEOUT", 900.0)
STALL = 8.0  # seconds without a new ack after which the envelopes still waiting count as lost
NODE = os.environ.get("NODE") or "node"
BOLT_BOT = os.path.join(HERE, "bolt_bot.js")
ACK_FLOOR = os.path.join(HERE, "ack_floor.js")
FLOOR = os.environ.get("BENCH_BOLT_FLOOR", "1") != "0"
NODE_MODULES = os.path.join(ROOT, "tests", "node", "node_modules")

SIM_OPTS = {"rate_limits": False, "echo_bot_messages": False, "mention_events": False, "record_frames": False}
ALICE, BOB = "U0ALICE001", "U0BOB00001"
HELP_MARK = "`/oncall help`"
HZ = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------- measuring


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise BenchError("no %s in /proc/%d/status" % (key, pid))


def private_kb(pid):
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def proc_cpu(pid):
    """(utime, stime) of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / HZ, int(fields[12]) / HZ


def proc_cpu_s(pid):
    return sum(proc_cpu(pid))


def machine_busy_s():
    """CPU seconds the whole machine spent running processes (user, nice, system: not idle, not
    waiting for I/O, not in interrupts, where loopback traffic is counted)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2]) / HZ


def kthreads_cpu():
    """{pid: CPU seconds} of the kernel's threads (journal commits, writeback: partly the bots' I/O)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[6]) & 0x00200000:  # PF_KTHREAD
            out[d] = (int(fields[11]) + int(fields[12])) / HZ
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class CpuWindow:
    """CPU used by others (not this process, not the bot) while a run was measured, in cores."""

    def __init__(self, pid):
        self.pid = pid
        self.t0, self.busy0, self.k0 = time.monotonic(), machine_busy_s(), kthreads_cpu()
        self.self0, self.bot0 = sum(os.times()[:2]), proc_cpu(pid)

    def close(self):
        dt = time.monotonic() - self.t0
        busy = machine_busy_s() - self.busy0
        me = sum(os.times()[:2]) - self.self0
        user, system = (a - b for a, b in zip(proc_cpu(self.pid), self.bot0))
        bot = user + system
        k = sum(max(0.0, v - self.k0.get(p, 0.0)) for p, v in kthreads_cpu().items())
        return {"others_cores": max(0.0, busy - me - bot - k) / dt, "peer_cores": me / dt, "bot_cpu_s": bot,
                "bot_sys_share": system / bot if bot else 0.0,
                "kernel_cores": k / dt, "seconds": dt}


# ---------------------------------------------------------------------------- the load


def send_one(sim, i):
    """Envelope i of a run: odd ones `/oncall help`, even ones a channel message event."""
    if i % 2:
        return sim.slash("/oncall", "help", user=ALICE, channel="C0INCIDENT")
    _, recs = sim.user_message(BOB, "C0ALERTS01", "load line %d" % i)
    if len(recs) != 1:
        raise BenchError("a channel message made %d envelopes (want 1)" % len(recs))
    return recs[0]


def final_ack(sim, rec):
    """The ack that delivered an envelope: its own or, for an event the bot did not ack in time,
    that of the simulator's redelivery (a new envelope, retry_attempt + 1)."""
    r = rec
    while r is not None:
        if r["ack"] is not None:
            return r["ack"]
        r = sim.envelopes.get(r["superseded_by"]) if r["superseded_by"] else None
    return None


async def settle(sim, recs, limit):
    """Wait until every envelope is acked (or its redelivery is), or nothing more has been acked
    for STALL seconds (a lost envelope stays lost), or `limit` seconds have passed."""
    loop = asyncio.get_running_loop()
    t0 = last = loop.time()
    k = 0
    left = None
    while True:
        while k < len(recs) and final_ack(sim, recs[k]) is not None:
            k += 1
        if k == len(recs):
            return
        now = loop.time()
        if now - last > 0.5:
            n = sum(1 for r in recs[k:] if final_ack(sim, r) is None)
            if n != left:
                left, last = n, now
            elif now - last > STALL or now - t0 > limit:
                return
        await asyncio.sleep(0.02)


async def closed_loop(sim, n, first=0):
    recs = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    done = 0
    progress = t0
    while len(recs) < n:
        k = done
        while done < len(recs) and final_ack(sim, recs[done]) is not None:
            done += 1
        now = loop.time()
        if done > k:
            progress = now
        elif now - progress > STALL:
            break  # nothing acked for a while: what is missing counts as lost
        while len(recs) - done < WINDOW and len(recs) < n:
            recs.append(send_one(sim, first + len(recs)))
        await asyncio.sleep(0 if done > k else 0.001)
    await settle(sim, recs, 60)
    return recs, loop.time() - t0


async def steady(sim, rate, seconds, first=0):
    n = int(rate * seconds)
    recs = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(n):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        recs.append(send_one(sim, first + i))
    await settle(sim, recs, 60)
    return recs, loop.time() - t0


async def burst(sim, n, first=0):
    recs = [send_one(sim, first + i) for i in range(n)]  # all queued before the first is written
    t0 = time.monotonic()
    await settle(sim, recs, 60)
    return recs, time.monotonic() - t0


def verify(sim, recs, conns, what, lost_types):
    """The self-check, the same for both bots: each envelope id the simulator sent is acked at most
    once, on one of the bot's connections; slash command acks answer with the help text, event acks
    carry nothing; no protocol error. Returns how many envelopes were never delivered (lost)."""
    bad = []
    lost = 0
    for rec in recs:
        a = final_ack(sim, rec)
        if a is None:
            lost += 1
            lost_types[rec["type"]] = lost_types.get(rec["type"], 0) + 1
            continue
        r = sim.envelopes[a["envelope_id"]]
        if len(r["acks"]) != 1 or (rec is not r and rec["acks"]):
            bad.append("%s acked %d times" % (r["envelope_id"], len(r["acks"]) + len(rec["acks"])))
        if a["conn"] not in conns:
            bad.append("%s acked on connection %s (the bot's: %s)" % (r["envelope_id"], a["conn"], conns))
        p = a["payload"]
        if r["type"] == "slash_commands":
            text = p.get("text") if isinstance(p, dict) else None
            if not isinstance(text, str) or HELP_MARK not in text or len(text) < 200:
                bad.append("%s (/oncall help) acked without the help text: %.80r" % (r["envelope_id"], p))
            elif p.get("response_type") not in (None, "ephemeral"):
                bad.append("%s answered %s (want ephemeral)" % (r["envelope_id"], p.get("response_type")))
        elif p not in (None, {}):
            bad.append("%s (%s) acked with a payload: %.80r" % (r["envelope_id"], r["type"], p))
    if sim.protocol_errors:
        bad.append("protocol errors: %s" % [(e["kind"], e["detail"]) for e in sim.protocol_errors[:3]])
    if bad:
        raise BenchError("%s: %d bad acks, e.g. %s" % (what, len(bad), "; ".join(bad[:3])))
    return lost


def latencies_ms(sim, recs):
    """Send (the frame handed to the socket) to ack read, per envelope; a lost one is infinite."""
    out = []
    for r in recs:
        a = final_ack(sim, r)
        sent = r.get("sent_mono") or r["mono"]
        out.append((a["mono"] - sent) * 1000 if a is not None and sent else math.inf)
    return out


# ---------------------------------------------------------------------------- the two bots


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Klaxon:
    name = "klaxon"

    def __init__(self):
        self.h = Harness(name="bench-bolt-compare-klaxon", sim_opts=SIM_OPTS)
        self.h.env["KLAXON_LOG_LEVEL"] = "warn"

    async def start(self):
        await self.h.setup()
        mark = self.h.sim._conn_seq
        t = time.monotonic()
        await self.h.start_bot(wait=True, timeout=20)
        conn = [c for c in self.h.sim.live_conns() if c.id > mark][0]
        return self.h.proc.pid, conn, conn.hello_mono - t

    @property
    def sim(self):
        return self.h.sim

    async def stop(self, failed=False):
        await self.h.close(failed=failed)  # SIGTERM, exit 0, no sanitizer report, no protocol error


class Bolt:
    """A Node client of the simulator: the Bolt bot, or (Floor) the ack-only yardstick."""
    name = "Bolt"
    script = BOLT_BOT

    def __init__(self):
        self.h = Harness(name="bench-bolt-compare-%s" % self.name.lower(), sim_opts=SIM_OPTS)
        self.proc = None
        self.log = None

    async def start(self):
        await self.h.setup()
        self.log = open(os.path.join(self.h.tmp, "%s.log" % self.name.lower()), "ab")
        env = self.h.bot_env()
        mark = self.h.sim._conn_seq
        t = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            NODE, self.script, stdin=asyncio.subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env,
            cwd=self.h.tmp, preexec_fn=die_with_parent)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            live = [c for c in self.h.sim.live_conns() if c.id > mark]
            if live:
                return self.proc.pid, live[0], live[0].hello_mono - t
            if self.proc.returncode is not None or loop.time() > deadline:
                raise BenchError("%s did not connect (exit %s)\n%s" % (self.name, self.proc.returncode,
                                                                       self.log_tail()))
            await asyncio.sleep(0.005)

    @property
    def sim(self):
        return self.h.sim

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.h.tmp, "%s.log" % self.name.lower()), errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    async def stop(self, failed=False):
        problems = []
        try:
            if self.proc is not None and self.proc.returncode is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    rc = await asyncio.wait_for(self.proc.wait(), 6)
                except asyncio.TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
                    rc = "killed"
                if rc != 0:
                    problems.append("%s exited %s on SIGTERM (want 0)\n%s" % (self.name, rc, self.log_tail()))
        finally:
            if self.log is not None:
                self.log.close()
            await self.h.close(failed=failed or bool(problems))  # no protocol error recorded
        if problems:
            raise BenchError("; ".join(problems))


class Floor(Bolt):
    name = "floor"
    script = ACK_FLOOR


async def run_bot(cls, rnd):
    """One run of one bot: start, warm up, measure, stop. Returns its figures."""
    bot = cls()
    failed = True
    try:
        pid, conn, connect_s = await bot.start()
        sim = bot.sim
        conns = lambda: [c.id for c in sim.conns if c.id >= conn.id]  # noqa: E731 (reconnections too)
        load0 = loadavg()
        lost_types = {}
        recs, _ = await closed_loop(sim, WARMUP)
        lost = {"warm-up": verify(sim, recs, conns(), "%s warm-up" % bot.name, lost_types)}
        i = WARMUP
        # The peer's own pauses are not the bot's: no garbage collection in the simulator while it
        # measures (its records of 17,000 envelopes make a full collection take tens of ms).
        gc.collect()
        gc.freeze()
        gc.disable()
        cpu = CpuWindow(pid)
        await asyncio.sleep(0.5)
        st, st_s = await steady(sim, RATE, SECONDS, i)
        i += len(st)
        lost["steady"] = verify(sim, st, conns(), "%s steady" % bot.name, lost_types)
        await asyncio.sleep(0.5)
        bu, bu_s = await burst(sim, BURST, i)
        i += len(bu)
        lost["burst"] = verify(sim, bu, conns(), "%s burst" % bot.name, lost_types)
        await asyncio.sleep(0.5)
        cl, cl_s = await closed_loop(sim, CLOSED, i)
        lost["closed"] = verify(sim, cl, conns(), "%s closed loop" % bot.name, lost_types)
        load = cpu.close()
        await asyncio.sleep(1.0)  # settle: what stays resident after the load
        res = {
            "bot": bot.name, "round": rnd, "pid": pid, "connect_s": connect_s,
            "steady_ms": latencies_ms(sim, st), "steady_rate": (len(st) - lost["steady"]) / st_s,
            "burst_ms": latencies_ms(sim, bu), "burst_s": bu_s,
            "closed_rate": (len(cl) - lost["closed"]) / cl_s,
            "hwm_kb": proc_status_kb(pid, "VmHWM"), "rss_kb": proc_status_kb(pid, "VmRSS"),
            "private_kb": private_kb(pid),
            "cpu_ms_per_1000": load["bot_cpu_s"] * 1000 / (len(st) + len(bu) + len(cl)) * 1000,
            "others_cores": load["others_cores"], "peer_cores": load["peer_cores"],
            "kernel_cores": load["kernel_cores"], "sys_share": load["bot_sys_share"],
            "loadavg": (load0, loadavg()), "envelopes": i + len(cl), "lost": sum(lost.values()),
            "lost_by_phase": lost, "lost_types": lost_types, "reconnects": len(conns()) - 1,
            "redelivered": sum(1 for r in sim.envelope_log if r.get("retry_attempt")),
        }
        res["busy"] = res["others_cores"] > BUSY
        failed = False
    finally:
        gc.enable()
        gc.unfreeze()
        await bot.stop(failed=failed)
    return res


def describe(r):
    return ("%-6s round %d: start %4.0f ms | steady %5.0f/s p50 %6.2f p99 %7.2f ms | burst of %d in %5.0f ms "
            "p50 %7.2f p99 %7.2f ms | closed loop %6.0f/s | VmHWM %5.1f MB private %5.1f MB | CPU %.0f ms/1,000 "
            "(%.0f%% system) | others %.2f cores, peer %.2f, kernel threads %.2f, load %.2f→%.2f%s%s" % (
                r["bot"], r["round"], r["connect_s"] * 1000, r["steady_rate"], pct(r["steady_ms"], .5),
                pct(r["steady_ms"], .99), BURST, r["burst_s"] * 1000, pct(r["burst_ms"], .5), pct(r["burst_ms"], .99),
                r["closed_rate"], r["hwm_kb"] / 1024, r["private_kb"] / 1024, r["cpu_ms_per_1000"],
                r["sys_share"] * 100, r["others_cores"], r["peer_cores"], r["kernel_cores"], r["loadavg"][0],
                r["loadavg"][1],
                " (BUSY)" if r["busy"] else "", trouble(r)))


def trouble(r):
    out = []
    if r["lost"]:
        out.append("LOST %d envelopes (%s; %s)" % (r["lost"], ", ".join(
            "%s %d" % kv for kv in r["lost_by_phase"].items() if kv[1]), ", ".join(
            "%s %d" % kv for kv in r["lost_types"].items())))
    if r["redelivered"]:
        out.append("%d events redelivered (not acked within 3 s)" % r["redelivered"])
    if r["reconnects"]:
        out.append("%d reconnection(s)" % r["reconnects"])
    return "".join(" | " + x for x in out)


# ---------------------------------------------------------------------------- alert storm


def storm_figures(klaxon_bin):
    if not STORM:
        return None, "skipped (BENCH_BOLT_STORM=0)"
    out = os.environ.get("BENCH_OUT")
    path = os.path.join(out, "alert_storm.json") if out else None
    if path and os.path.exists(path):
        with open(path) as f:
            d = json.load(f)
        if d.get("bin") == os.path.realpath(klaxon_bin):
            return d, "from alert_storm.py earlier in this `make bench`"
    with tempfile.TemporaryDirectory(prefix="klaxon-bench-storm-") as tmp:
        env = dict(os.environ, BENCH_OUT=tmp, KLAXON_BIN=klaxon_bin)
        print("running tests/bench/alert_storm.py for the alert storm rows", flush=True)
        p = subprocess.run([sys.executable, os.path.join(HERE, "alert_storm.py")], env=env, timeout=400,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stdout.write("".join("  | " + line + "\n" for line in p.stdout.splitlines()))
        try:
            with open(os.path.join(tmp, "alert_storm.json")) as f:
                return json.load(f), "alert_storm.py run by this bench"
        except OSError:
            return None, "alert_storm.py failed (exit %d)" % p.returncode


# ---------------------------------------------------------------------------- the table


def fmt_ms(v):
    if math.isinf(v):
        return "lost (never acked)"
    return "%.2f ms" % v if v < 10 else "%.1f ms" % v if v < 100 else "%.0f ms" % v


def ratio(k, b, lower_is_better=True):
    if not k or not b or math.isinf(k) or math.isinf(b):
        return "—", None
    x = b / k if lower_is_better else k / b
    word = ("better" if lower_is_better else "more") if x >= 1 else ("worse" if lower_is_better else "less")
    shown = x if x >= 1 else 1 / x
    return "%.1f× %s" % (shown, word), x


def node_version():
    try:
        return subprocess.run([NODE, "--version"], stdout=subprocess.PIPE, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


def bolt_version():
    with open(os.path.join(NODE_MODULES, "@slack", "bolt", "package.json")) as f:
        return json.load(f)["version"]


def klaxon_version(binary):
    try:
        return subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


def machine():
    cores = os.cpu_count()
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "%d cores, %.0f GB, %s" % (cores, mem, osname)


def table(runs, floor, storm, storm_src, klaxon_bin, flagged):
    k = [r for r in runs if r["bot"] == "klaxon"]
    b = [r for r in runs if r["bot"] == "Bolt"]
    f = [floor] if floor else []
    pool = lambda rs, key: [x for r in rs for x in r[key]]  # noqa: E731
    med = lambda rs, key: statistics.median(r[key] for r in rs) if rs else None  # noqa: E731
    mark = " ⚠" if flagged else ""
    rows = []

    def row(name, kv, bv, fmt, lower=True, aim=None, aim_ok=None, fv=None):
        text, x = ratio(kv, bv, lower)
        met = "—"
        if aim_ok is not None:
            met = "yes" if aim_ok(kv, x) else "**no**"
        rows.append("| %s | %s%s | %s%s | %s | %s | %s | %s |" % (
            name, fmt(kv), mark, fmt(bv), mark, text, aim or "—", met, fmt(fv) if fv is not None else "—"))

    for phase, key in (("steady %s/s for %g s" % ("{:,}".format(RATE), SECONDS), "steady_ms"),
                       ("burst of %s at once" % "{:,}".format(BURST), "burst_ms")):
        kl, bl, fl = pool(k, key), pool(b, key), pool(f, key)
        row("%s: ack p50" % phase, pct(kl, .5), pct(bl, .5), fmt_ms, fv=pct(fl, .5) if fl else None)
        row("%s: ack p99" % phase, pct(kl, .99), pct(bl, .99), fmt_ms, aim="≥ 10× better",
            aim_ok=lambda kv, x: x is not None and x >= 10, fv=pct(fl, .99) if fl else None)
    row("throughput, closed loop (%d in flight)" % WINDOW, med(k, "closed_rate"), med(b, "closed_rate"),
        lambda v: "{:,.0f}/s".format(v), lower=False, fv=med(f, "closed_rate"))
    row("peak RSS (VmHWM)", max(r["hwm_kb"] for r in k) / 1024, max(r["hwm_kb"] for r in b) / 1024,
        lambda v: "%.1f MB" % v, aim="≥ 7× smaller", aim_ok=lambda kv, x: x is not None and x >= 7)
    row("private memory after the load", max(r["private_kb"] for r in k) / 1024,
        max(r["private_kb"] for r in b) / 1024, lambda v: "%.1f MB" % v, aim="klaxon < 6 MB",
        aim_ok=lambda kv, x: kv < 6)
    row("start to connected (spawn → hello)", med(k, "connect_s") * 1000, med(b, "connect_s") * 1000,
        lambda v: "%.0f ms" % v)
    row("CPU per 1,000 envelopes (steady + burst + closed loop)", med(k, "cpu_ms_per_1000"),
        med(b, "cpu_ms_per_1000"), lambda v: "%.0f ms" % v)
    total = lambda rs, key: sum(r[key] for r in rs)  # noqa: E731
    rows.append("| envelopes lost (never acked, redeliveries included) / reconnections | %d / %d | %d / %d | — | 0 "
                "| %s | %s |" % (total(k, "lost"), total(k, "reconnects"), total(b, "lost"), total(b, "reconnects"),
                                 "yes" if not total(k, "lost") else "**no**",
                                 "%d / %d" % (total(f, "lost"), total(f, "reconnects")) if f else "—"))
    if storm:
        rows.append("| alert storm: one webhook of %s alerts | %.0f ms (%s alerts/s) | — | — | — | — | — |" % (
            "{:,}".format(storm["big_alerts"]), storm["big_ms"],
            "{:,.0f}".format(storm["big_alerts"] / storm["big_ms"] * 1000)))
        rows.append("| alert storm: %d webhooks/s for %g s, %d alerts each | %s alerts/s, webhook p50 %.1f ms p99 "
                    "%.1f ms; %d messages for %d groups, %d HTTP 429, %d lost | — | — | — | — | — |" % (
                        storm["rate"], storm["webhooks"] / storm["rate"], storm["per_hook"],
                        "{:,.0f}".format(storm["ingest_per_s"]), storm["p50_ms"], storm["p99_ms"], storm["posts"],
                        storm["groups"], storm["http_429"], storm["lost"]))
    else:
        rows.append("| alert storm | %s | — | — | — | — | — |" % storm_src)
    loads = [x for r in runs + f for x in r["loadavg"]]
    head = ["| measure | klaxon | Bolt | klaxon vs Bolt | aim (issue 15) | met | peer floor |",
            "|---|---|---|---|---|---|---|"]
    notes = [
        "%s, %s; klaxon %s (%s), node %s, @slack/bolt %s; load average %.2f–%.2f during the runs%s." % (
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine(), klaxon_version(klaxon_bin),
            os.path.relpath(klaxon_bin, ROOT) if klaxon_bin.startswith(ROOT) else klaxon_bin, node_version(),
            bolt_version(), min(loads), max(loads),
            "; alert storm: load average %.2f" % storm["loadavg"] if storm and "loadavg" in storm else ""),
        "%d round(s) per bot, alternating, %s envelopes each (half `/oncall help`, half channel messages) after a "
        "warm-up of %s; latencies pooled over the rounds, other figures medians (memory: the largest); alert storm "
        "%s." % (len(k), "{:,}".format(k[0]["envelopes"] - WARMUP), "{:,}".format(WARMUP), storm_src),
    ]
    if f:
        notes.append("peer floor: the same load against tests/bench/ack_floor.js, a client that only acks (no "
                     "framework, no storage): what the Python simulator itself can resolve; a figure near it is "
                     "bounded by the peer, not by the bot.")
    if flagged:
        notes.append("⚠ taken under load: other processes used more than %.2f cores during the runs "
                     "(see the per-run lines); re-run on a quiet machine." % BUSY)
    return "\n".join(head + rows), notes


# ---------------------------------------------------------------------------- main


async def bench():
    klaxon_bin = os.environ.get("KLAXON_BIN") or os.path.join(ROOT, "build", "klaxon")
    if not os.path.isabs(klaxon_bin):
        klaxon_bin = os.path.join(ROOT, klaxon_bin)
    os.environ["KLAXON_BIN"] = klaxon_bin
    if not os.access(klaxon_bin, os.X_OK):
        raise BenchError("no klaxon binary at %s (run `make`, or set KLAXON_BIN)" % klaxon_bin)
    if not os.path.isdir(os.path.join(NODE_MODULES, "@slack", "bolt")):
        raise BenchError("no @slack/bolt in tests/node/node_modules: run tests/node.sh")
    print("klaxon %s against Bolt %s (node %s): %d/s for %g s, burst %d, closed loop %d (%d in flight), "
          "warm-up %d, %d round(s)" % (klaxon_bin, bolt_version(), node_version(), RATE, SECONDS, BURST, CLOSED,
                                       WINDOW, WARMUP, ROUNDS), flush=True)
    pairs = []
    extra = 0
    while True:
        quiet = [p for p in pairs if not any(r["busy"] for r in p)]
        if len(pairs) >= ROUNDS and (len(quiet) >= ROUNDS or extra >= EXTRA):
            break
        if len(pairs) >= ROUNDS:
            extra += 1
            print("a run was taken under load: one more round", flush=True)
        order = (Klaxon, Bolt) if len(pairs) % 2 == 0 else (Bolt, Klaxon)
        pair = []
        for cls in order:
            r = await run_bot(cls, len(pairs) + 1)
            print(describe(r), flush=True)
            pair.append(r)
        pairs.append(pair)
    quiet = [p for p in pairs if not any(r["busy"] for r in p)]
    use = quiet if quiet else pairs
    if len(use) < len(pairs):
        print("left out %d round(s) taken under load" % (len(pairs) - len(use)))
    floor = None
    if FLOOR:
        floor = await run_bot(Floor, 0)
        print(describe(floor), flush=True)
    storm, storm_src = storm_figures(klaxon_bin)
    text, notes = table([r for p in use for r in p], floor, storm, storm_src, klaxon_bin, flagged=not quiet)
    print()
    print(text)
    print()
    for n in notes:
        print(n)
    print("reproduce: make bench (or: KLAXON_BIN=%s /usr/bin/python3 tests/bench/bolt_compare.py)" %
          os.path.relpath(klaxon_bin, ROOT))
    if storm and storm.get("failures"):
        raise BenchError("the alert storm failed: %s" % "; ".join(storm["failures"]))


async def main():
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, task.cancel)  # unwinds through every finally: no bot left running
    try:
        await asyncio.wait_for(bench(), DEADLINE)
    except BenchError as e:
        print("FAIL: %s" % e)
        return 1
    except asyncio.TimeoutError:
        print("FAIL: the bench took longer than %.0f s (BENCH_BOLT_TIMEOUT)" % DEADLINE)
        return 1
    except AssertionError as e:  # the harness's end-of-run checks (exit status, protocol errors)
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except asyncio.CancelledError:
        print("bolt_compare: interrupted")
        sys.exit(130)
