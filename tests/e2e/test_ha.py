"""Several instances on PostgreSQL (issue 12, docs/ha.md): three `klaxon run` processes on one
real PostgreSQL 15 (started by the test: initdb in a temp dir, socket only, removed after), one
Slack simulator with a Socket Mode connection per instance (each envelope to one of them,
unacked events redelivered), one simulated clock (KLAXON_NOW_ANCHOR).

The short run (`make test`) pages, kills the outbox sender with kill -9 while pages are pending,
acknowledges some pages by button (the click reaches whichever instance Slack picks), and
crosses the Monday handoff and an escalation step while one instance is gone. Afterwards:

- every alert paged once; every unacknowledged page escalated once, no acknowledged one did;
- every outbox row reached Slack once (each chat.postMessage names its row in its metadata);
- one handoff post for the shift, each job done once;
- the lease's epoch went up at the takeover; no 429 from Slack.

`make ha` runs the long chaos version of the same checks (HA_SECONDS, test_ha_chaos below).
"""

import asyncio
import collections
import os
import random
import re
import signal
import time

import pg
from alerting import am_alert, am_payload, click, post
from harness import engines, timeout
from oncalling import ALICE, HANDOFF, handoff_posts
from test_pg_failover import use_cluster

# Monday 2026-11-30 08:50 in Berlin, ten minutes before the handoff; a minute of the bot's time is
# a second of ours, so the handoff comes 10 s in and the 15-minute escalation step 15 s after a
# page.
NOW = "2026-11-30T07:50:00Z"
SCALE = 60


def posts_ok(h, since=0):
    return [c for c in h.sim.calls_of("chat.postMessage", ok=True, since=since, done=True)]


def row_of(call):
    md = call["args"].get("metadata")
    if isinstance(md, str):
        import json
        try:
            md = json.loads(md)
        except ValueError:
            return None
    if isinstance(md, dict) and md.get("event_type") == "klaxon_outbox":
        return (md.get("event_payload") or {}).get("row")
    return None


def page_dms(h, name, since=0):
    """Page DMs (posts to a user id) naming the alert, in order (not digests that mention it)."""
    return [c for c in posts_ok(h, since) if str(c["args"].get("channel", "")).startswith("U")
            and h.message_text(c["args"]).startswith("PAGE [P1] %s " % name)]


class Cluster:
    """Three instances: h's own process and two more (harness Instance)."""

    def __init__(self, h):
        self.h = h
        self.others = []

    async def start(self, n=3):
        await self.h.start_bot()
        for _ in range(n - 1):
            self.others.append(await self.h.start_instance())

    def procs(self):
        out = [("main", self.h.proc, self.h.http_port)]
        out += [(i.name, i.proc, i.http_port) for i in self.others]
        return out

    def live(self):
        return [(n, p, port) for n, p, port in self.procs() if p is not None and p.returncode is None]

    def lease(self):
        rows = self.h.db_rows("SELECT holder, epoch FROM leases WHERE name = 'outbox'")
        return rows[0] if rows else (None, 0)

    def holder_pid(self):
        holder, _ = self.lease()
        m = re.match(r"^[^:]*:(\d+):", holder or "")
        return int(m.group(1)) if m else None

    async def kill_holder(self):
        pid = self.holder_pid()
        for name, p, _ in self.live():
            if p.pid == pid:
                p.kill()
                await p.wait()
                return name
        raise AssertionError("no live instance holds the lease (holder pid %s)" % pid)


async def fire(h, port, name):
    """An Alertmanager webhook for one critical alert to the instance on `port`."""
    saved = h.http_port
    h.http_port = port
    try:
        status, body = await post(h, "/alerts/alertmanager", am_payload(name, [am_alert(name)]))
    finally:
        h.http_port = saved
    assert status == 200, (status, body)


async def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("%s: not within %.0f s" % (what, seconds))


def check_once_each(h, names, acked):
    """The invariants, from Slack's side and the database's."""
    problems = []
    rows = collections.Counter(r for r in (row_of(c) for c in posts_ok(h)) if r is not None)
    twice = {r: n for r, n in rows.items() if n > 1}
    if twice:
        problems.append("outbox rows posted more than once: %s" % twice)
    for name in names:
        if not page_dms(h, name):
            problems.append("%s never paged" % name)
    pages = h.db_rows("SELECT title, state FROM pages ORDER BY id")
    if len(pages) != len(names):
        problems.append("%d pages for %d alerts: %s" % (len(pages), len(names), pages))
    jobs = h.db_rows("SELECT key, count(*) FROM jobs GROUP BY key HAVING count(*) > 1")
    if jobs:
        problems.append("jobs stored twice: %s" % jobs)
    copies = h.db_rows("SELECT page_id, person, step, count(*) FROM page_copies"
                       " GROUP BY page_id, person, step HAVING count(*) > 1")
    if copies:
        problems.append("a page sent twice to one person at one step: %s" % copies)
    for name in acked:
        late = h.db_rows("SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                         " WHERE p.title LIKE ? AND c.created_at > p.acked_at AND p.acked_at > 0",
                         ("%" + name + "%",))
        if late and late[0][0]:
            problems.append("%s escalated after its acknowledgement was committed" % name)
    too_many = [c for c in h.sim.calls if c.get("status") == 429]
    if too_many:
        problems.append("%d calls answered 429: %s" % (len(too_many), [
            (x.get("method"), x["args"].get("channel"), x.get("t")) for x in too_many]))
    return problems


@timeout(120)
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_three_instances_kill9_the_sender_pages_once_handoff_once(h):
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    cluster = pg.Postgres().start()
    c = Cluster(h)
    try:
        use_cluster(h, cluster)
        h.now, h.time_scale = NOW, SCALE
        h.use_anchor()
        await c.start(3)
        await wait_for(lambda: c.lease()[0], 10, "an instance holding the outbox lease")
        epoch0 = c.lease()[1]

        # Six alerts, two through each instance's /alerts.
        names = ["HAAlert%d" % i for i in range(6)]
        ports = [port for _, _, port in c.live()]
        mark = len(h.sim.calls)
        for i, name in enumerate(names):
            await fire(h, ports[i % len(ports)], name)
        # The sender dies with pages pending or in flight.
        t_kill, wall_kill = time.monotonic(), time.time()
        killed = await c.kill_holder()
        await wait_for(lambda: all(page_dms(h, n, mark) for n in names), 20, "every alert paged")
        took = time.monotonic() - t_kill
        after = sorted(x["t"] - wall_kill for n in names for x in page_dms(h, n, mark) if x["t"] >= wall_kill)
        print("failover: kill -9 of the sender (%s): first pending page delivered %.2f s later, every one"
              " %.2f s later" % (killed, after[0] if after else 0.0, took))
        await wait_for(lambda: c.lease()[1] > epoch0, 15, "the lease taken over at a new epoch")

        # Acknowledge half of them; each click goes to whichever connection Slack picks.
        acked = names[:3]
        for name in acked:
            dm = page_dms(h, name, mark)[0]
            await click(h, dm, "page.ack", dm["args"]["channel"])
        await wait_for(lambda: len(h.db_rows("SELECT id FROM pages WHERE state = 'acked'")) == 3, 15,
                       "three pages acknowledged")

        # The handoff, then the 15-minute step, with one instance gone.
        await wait_for(lambda: len(handoff_posts(h)) >= 1, 25, "the Monday handoff")
        await wait_for(lambda: all(len(page_dms(h, n, mark)) >= 2 for n in names[3:]), 20,
                       "the unacknowledged pages escalated")
        await asyncio.sleep(2)  # anything that would come twice has had time to
        assert len(handoff_posts(h)) == 1, [h.message_text(x["args"])[:80] for x in handoff_posts(h)]
        for name in acked:
            assert len(page_dms(h, name, mark)) == 1, (name, [(x["args"]["channel"], row_of(x), h.message_text(x["args"])[:200]) for x in page_dms(h, name, mark)])
        for name in names[3:]:
            assert len(page_dms(h, name, mark)) == 2, (name, len(page_dms(h, name, mark)))
        problems = check_once_each(h, names, acked)
        assert not problems, problems
        done = h.db_rows("SELECT count(*) FROM jobs WHERE kind = 'handoff' AND state = 'done'")[0][0]
        assert done == 1, done
    finally:
        for inst in c.others:
            if inst.running:
                await inst.stop()
        if h.running:
            await h.stop_bot()
        cluster.stop()
        h.pg_db = None


# ---------------------------------------------------------------------------------- the chaos run

CHAOS_NOW = "2026-11-30T07:40:00Z"  # Monday 08:40 in Berlin: the handoff 20 s into the run


class Member:
    """One of the three instances, whichever way it was started, for the chaos run."""

    def __init__(self, h, inst=None):
        self.h, self.inst = h, inst
        self.stopped_until = 0.0

    @property
    def name(self):
        return self.inst.name if self.inst else "main"

    @property
    def proc(self):
        return self.inst.proc if self.inst else self.h.proc

    @property
    def port(self):
        return self.inst.http_port if self.inst else self.h.http_port

    def alive(self):
        return self.proc is not None and self.proc.returncode is None

    def log(self):
        return self.inst.log_text() if self.inst else self.h.log_text()

    async def start(self):
        if self.inst:
            await self.inst.start(wait=False)
        else:
            await self.h.restart(wait=False)


def pending_max_row(h):
    rows = h.db_rows("SELECT coalesce(max(id), 0) FROM outbox WHERE state = 'pending'"
                     " AND method = 'chat.postMessage'")
    return rows[0][0] if rows else 0


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


@timeout(float(os.environ.get("HA_SECONDS", "25")) + 150)
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_ha_chaos(h):
    """Alerts, clicks and the Monday handoff while instances are kill -9ed, SIGSTOPped (a host
    that stops answering), their database sessions terminated, and the database restarted once.
    HA_SECONDS long (25 in `make test`, `make ha` sets more); the invariants of the module
    docstring afterwards, and the failover figures printed."""
    seconds = float(os.environ.get("HA_SECONDS", "25"))
    rnd = random.Random(int(os.environ.get("HA_SEED", "12")))
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    cluster = pg.Postgres().start()
    c = Cluster(h)
    members = []
    try:
        use_cluster(h, cluster)
        h.now, h.time_scale = CHAOS_NOW, SCALE
        h.config["rotas"][0]["handoff"] = "monday 09:00"
        h.use_anchor()
        await c.start(3)
        members = [Member(h)] + [Member(h, i) for i in c.others]
        await wait_for(lambda: c.lease()[0], 10, "an instance holding the outbox lease")
        accepted, acked, clicked = [], set(), set()
        failovers = {"kill9": [], "sigstop": []}
        restarted_db = False
        t_end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < t_end:
            now = time.monotonic()
            for m in members:  # bring back what is down or frozen past its time
                if m.stopped_until and now >= m.stopped_until and m.alive():
                    m.proc.send_signal(signal.SIGCONT)
                    m.stopped_until = 0.0
                elif not m.alive() and not m.stopped_until:
                    await m.start()
            live = [m for m in members if m.alive() and not m.stopped_until]
            roll = rnd.random()
            if roll < 0.40 and live:  # an alert, through any instance that answers
                name = "Chaos%03d" % n
                n += 1
                saved = h.http_port
                h.http_port = rnd.choice(live).port
                try:
                    status, _ = await post(h, "/alerts/alertmanager", am_payload(name, [am_alert(name)]))
                except Exception:  # the instance went away mid-request: not accepted
                    status = 0
                finally:
                    h.http_port = saved
                if status == 200:
                    accepted.append(name)
            elif roll < 0.65:  # acknowledge a page someone got
                cands = [x for x in accepted if x not in clicked and page_dms(h, x)]
                if cands:
                    name = rnd.choice(cands)
                    clicked.add(name)
                    dm = page_dms(h, name)[0]
                    try:
                        await click(h, dm, "page.ack", dm["args"]["channel"])
                        acked.add(name)
                    except Exception:  # the ack went unanswered (all frozen): Slack shows an error
                        pass
            elif roll < 0.80 and len(live) >= 2:  # kill -9 one, the sender more often than not
                pid = c.holder_pid()
                pick = [m for m in live if m.proc.pid == pid] if rnd.random() < 0.6 else []
                m = pick[0] if pick else rnd.choice(live)
                row, wall = pending_max_row(h), time.time()
                m.proc.kill()
                await m.proc.wait()
                if m.proc.pid == pid and row:
                    failovers["kill9"].append((wall, row))
            elif roll < 0.90 and len(live) >= 2:  # a host stops answering for a while
                pid = c.holder_pid()
                m = ([x for x in live if x.proc.pid == pid] or [rnd.choice(live)])[0]
                row, wall = pending_max_row(h), time.time()
                m.proc.send_signal(signal.SIGSTOP)
                m.stopped_until = now + rnd.uniform(4, 13)
                if m.proc.pid == pid and row:
                    failovers["sigstop"].append((wall, row))
            elif roll < 0.97:
                try:
                    cluster.terminate_sessions(h.pg_db)
                except RuntimeError:
                    pass
            elif not restarted_db:
                restarted_db = True
                cluster.halt("immediate")
                await asyncio.sleep(rnd.uniform(1, 3))
                cluster.resume()
            await asyncio.sleep(rnd.uniform(0.2, 0.8))

        # The end: every instance running again, the database up; let everything settle.
        if not restarted_db:
            cluster.halt("immediate")
            await asyncio.sleep(1)
            cluster.resume()
        for m in members:
            if m.stopped_until:
                m.proc.send_signal(signal.SIGCONT)
                m.stopped_until = 0.0
            if not m.alive():
                await m.start()
        await wait_for(lambda: all(page_dms(h, x) for x in accepted), 60, "every accepted alert paged")
        await wait_for(lambda: not h.db_rows("SELECT id FROM outbox WHERE state = 'pending'"
                                             " AND method = 'chat.postMessage'"), 60, "the outbox drained")
        await asyncio.sleep(3)

        # Failover: from losing the sender to the first delivery of a page that was pending.
        samples = {}
        for kind, events in failovers.items():
            xs = []
            for wall, row in events:
                # Calls begun in the first 50 ms may still be the old sender's own (already on
                # their way when it was stopped or killed): not a takeover's delivery.
                later = [x["t"] - wall for x in posts_ok(h) if x["t"] >= wall + 0.05
                         and 0 < (row_of(x) or 0) <= row]
                if later:
                    xs.append(min(later))
            samples[kind] = xs
            if xs:
                print("failover after %s of the sender: n=%d p50=%.2f s p95=%.2f s max=%.2f s" % (
                    kind, len(xs), percentile(xs, 50), percentile(xs, 95), max(xs)))
        print("chaos: %.0f s, %d alerts accepted, %d acknowledged, %d kill -9 and %d SIGSTOP of the"
              " sender" % (seconds, len(accepted), len(acked), len(failovers["kill9"]), len(failovers["sigstop"])))

        logs = "\n".join(m.log() for m in members)
        problems = []
        for name in accepted:
            first = [x for x in page_dms(h, name)]
            pages = h.db_rows("SELECT count(*) FROM pages WHERE title LIKE ?", ("%" + name + "%",))[0][0]
            if pages != 1:
                problems.append("%s: %d pages" % (name, pages))
            if not first:
                problems.append("%s never paged" % name)
        resent = set(int(x) for x in re.findall(r"in_doubt_(?:not_found|unchecked) id=(\d+)", logs))
        rows = collections.Counter(r for r in (row_of(x) for x in posts_ok(h)) if r is not None)
        twice = {r: k for r, k in rows.items() if k > 1 and not (k == 2 and r in resent)}
        if twice:
            problems.append("outbox rows posted twice without an in-doubt resend: %s" % twice)
        epochs = [int(x) for x in re.findall(r"outbox_lease_taken epoch=(\d+)", logs)]
        if len(epochs) != len(set(epochs)):
            problems.append("a lease epoch taken twice: %s" % sorted(epochs))
        handoffs = handoff_posts(h)
        if len(handoffs) != 1:
            problems.append("%d handoff posts for one shift" % len(handoffs))
        problems += [p for p in check_once_each(h, accepted, acked)
                     if not p.startswith("outbox rows posted more than once")]
        assert not problems, problems
    finally:
        for m in members:
            if m.alive():
                m.proc.send_signal(signal.SIGCONT)
        for inst in c.others:
            if inst.running:
                await inst.stop()
        if h.running:
            await h.stop_bot()
        cluster.stop()
        h.pg_db = None
