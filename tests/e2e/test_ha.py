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
from harness import timeout
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
