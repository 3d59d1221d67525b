"""Several klaxon processes of one Slack app (issue 12), each with its own Socket Mode
connection, against one simulator. Here they share one SQLite file (WAL lets several processes
use it; PostgreSQL is the engine for production) and one simulated clock (KLAXON_NOW_ANCHOR).

- A burst spread over two instances: every envelope acked once overall, every effect once.
- An event delivered to an instance that dies without acking comes again (Slack's redelivery,
  on the other connection) and is handled once; one whose ack is lost after its effect was
  committed is deduplicated by the shared `seen` table.
- Slack refuses an 11th connection (too_many_websockets): klaxon backs off, warns once per
  refusal streak, keeps retrying and never exits; it connects when a slot is free.
- A restart with the same anchor continues the simulated clock instead of restarting it.
"""

import asyncio
import json
import os
import re
import signal
import time

import incidents as I
from harness import sim_options, timeout
from test_sim_selftest import Client

import slack_model as M


def notes(h):
    return [r[0] for r in I.db_rows(h, "SELECT text FROM notes ORDER BY id")]


def timeline_texts(h, incident_id=1):
    return [r[0] for r in I.db_rows(h, "SELECT text FROM incident_timeline WHERE incident_id = ? AND kind = 'message'",
                                    (incident_id,))]


async def two_instances(h):
    """klaxon (h) and a second instance `b`, both connected, an incident channel declared first
    (its posts are sent by one sender, before a second one exists). Returns (b, channel id,
    connection of h, connection of b)."""
    h.use_anchor()
    await I.start(h, "2026-11-24T10:00:00+01:00")
    conn_a = h.sim.conn()
    _, ch = await I.declare(h, "P2 queue backlog")
    # Its posts are all sent before a second sender exists (the outbox lease between instances
    # is PostgreSQL's part of issue 12, not built yet).
    deadline = time.monotonic() + 20
    while I.db_rows(h, "SELECT count(*) FROM outbox WHERE state = 'pending'") != [(0,)]:
        assert time.monotonic() < deadline, "the declaration's posts were never all sent"
        await asyncio.sleep(0.1)
    b = await h.start_instance("b")
    conn_b = h.sim.conn()
    assert conn_b.id != conn_a.id and len(h.sim.live_conns()) == 2
    return b, ch["id"], conn_a, conn_b


@timeout(60)
async def test_burst_over_two_instances_each_acked_and_done_once(h):
    b, c, conn_a, conn_b = await two_instances(h)
    mark = len(h.sim.envelope_log)
    dmark = len(h.sim.deliveries)
    recs = []
    for i in range(20):
        recs.append(h.sim.slash("/oncall", "note burst-%02d" % i, user="U0BOB00001", channel="C0ONCALL01"))
        _, evs = h.sim.user_message("U0CAROL001", c, "burst message %02d" % i)
        recs.extend(evs)
    await h.sim.wait_until(lambda: all(r["acked"] for r in recs), 20, "every envelope of the burst acked")
    await asyncio.sleep(h.sim.opts["ack_timeout"] + 0.5)  # nothing unacked left to come again
    counts = h.sim.ack_counts(mark)  # the burst, and the echoes of anything klaxon posted
    assert set(counts.values()) == {1}, {k: n for k, n in counts.items() if n != 1}
    assert len({r["key"] for r in recs}) == 40 and {r["key"] for r in recs} <= set(counts)
    per_conn = {}
    for d in h.sim.deliveries[dmark:]:
        per_conn[d["conn"]] = per_conn.get(d["conn"], 0) + 1
    assert set(per_conn) == {conn_a.id, conn_b.id} and min(per_conn.values()) >= 10, per_conn
    assert {a["conn"] for a in h.sim.acks if a["key"] in counts} == {conn_a.id, conn_b.id}
    # every effect once: twenty notes, twenty timeline entries, none twice
    got = [n for n in notes(h) if n.startswith("burst-")]
    assert sorted(got) == ["burst-%02d" % i for i in range(20)], got
    tl = [t for t in timeline_texts(h) if t.startswith("burst message")]
    assert sorted(tl) == ["burst message %02d" % i for i in range(20)], tl
    for r in recs:  # the answers went back on the connection that had the envelope
        assert r["ack"]["conn"] == r["delivered_to"][-1]
    assert b.running and h.running


@sim_options(ack_timeout=1.0)
@timeout(60)
async def test_redelivery_after_an_instance_dies_is_handled_once(h):
    b, c, conn_a, conn_b = await two_instances(h)
    # 1. b gets the event but dies before it handles it (stopped, then killed): no ack, no effect.
    b.proc.send_signal(signal.SIGSTOP)
    _, (rec,) = h.sim.user_message("U0DAVE0001", c, "said while b was dying", conn=conn_b.id)
    await asyncio.sleep(0.3)
    await b.kill9()
    await h.sim.wait_until(lambda: not conn_b.open, 5, "b's connection closed")
    key = rec["key"]
    await h.sim.wait_until(lambda: h.sim.ack_counts().get(key), 8, "the redelivered event's ack")
    trail = [(d["conn"], d["retry_attempt"], d["retry_reason"]) for d in h.sim.deliveries if d["key"] == key]
    assert trail == [(conn_b.id, 0, ""), (conn_a.id, 1, "timeout")], trail
    await asyncio.sleep(1.5)
    assert h.sim.ack_counts()[key] == 1
    assert timeline_texts(h).count("said while b was dying") == 1, timeline_texts(h)

    # 2. a new b handles the event and commits it, but its ack never reaches Slack: Slack sends
    # it again to the other instance, whose `seen` table says it is done: still one effect.
    b = await h.start_instance("b2")
    conn_b = h.sim.conn()
    h.sim.set_silent(conn_b.id)  # what b sends from now on is lost on the way
    _, (rec,) = h.sim.user_message("U0ERIN0001", c, "acked into the void", conn=conn_b.id)
    key = rec["key"]
    await h.sim.wait_until(lambda: h.sim.ack_counts().get(key), 8, "the redelivered event's ack")
    lost = [f for f in h.sim.frames if f["conn"] == conn_b.id and f.get("lost") and f["json"]
            and f["json"].get("envelope_id") == rec["envelope_id"]]
    assert lost, "b never acked the first delivery (it should have, into the void)"
    trail = [(d["conn"], d["retry_attempt"]) for d in h.sim.deliveries if d["key"] == key]
    assert trail == [(conn_b.id, 0), (conn_a.id, 1)], trail
    await h.wait_log(r"redelivery_ignored", timeout=3)
    await asyncio.sleep(1.5)
    assert h.sim.ack_counts()[key] == 1
    assert timeline_texts(h).count("acked into the void") == 1, timeline_texts(h)
    h.sim.set_silent(conn_b.id, False)
    await b.stop()


@timeout(90)
async def test_connection_cap_klaxon_backs_off_and_waits_for_a_slot(h):
    async with Client(h.sim) as c:
        socks = [(await c.connect())[0] for _ in range(10)]  # ten other instances hold every slot
        mark = len(h.sim.calls)
        await h.start_bot(wait=False)
        await h.sim.wait_until(lambda: len(h.sim.refused_conns) >= 4, 20, "four refusals")
        assert h.running, "klaxon exited when Slack refused its connection:\n%s" % h.log_tail(20)
        opens = [x["mono"] for x in h.sim.calls_of("apps.connections.open", since=mark)]
        gaps = [b - a for a, b in zip(opens, opens[1:])]
        # backoff: base 0.5 s doubling, jitter in [base/2, base)
        assert len(gaps) >= 3 and gaps[1] >= 0.45 and gaps[2] >= 0.95, gaps
        assert all(g >= 0.2 for g in gaps), gaps
        # one warning for the streak, not a handful of lines per refusal
        log = h.log_text()
        assert len(re.findall(r"WARN slack too_many_websockets", log)) == 1, log[-3000:]
        assert len(re.findall(r"INFO slack (socket_connecting|socket_closed|reconnect_scheduled|disconnect_requested)",
                              log)) <= 3, log[-3000:]
        assert len(h.sim.live_conns()) == 10
        # a slot frees up: klaxon gets it (within its current backoff) and serves
        await socks[0].close()
        await h.wait_connected(timeout=40)
        assert re.search(r"INFO slack connected", h.log_text())
        for s in socks[1:]:  # the others leave (they would get envelopes and never ack them)
            await s.close()
        await h.sim.wait_until(lambda: len(h.sim.live_conns()) == 1, 5, "klaxon's connection alone")
        assert h.ack_text(await h.slash("/oncall", "help"))


@timeout(60)
async def test_restart_with_the_same_anchor_continues_the_clock(h):
    """KLAXON_NOW_ANCHOR: a restarted klaxon (or a second instance) shows KLAXON_NOW + (wall -
    anchor) * scale, not KLAXON_NOW again. The bot's time is read from what it stamps on a
    note (notes.created_at)."""
    h.use_anchor()
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=600)
    await h.slash("/oncall", "note first")
    t1 = I.db_rows(h, "SELECT created_at FROM notes WHERE text = 'first'")[0][0]
    assert abs(t1 / 1000.0 - h.bot_clock()) < 300, (t1, h.bot_clock())  # 0.5 s of wall time
    await h.sigterm()
    await asyncio.sleep(2.0)  # 2 s of wall time: 20 minutes at scale 600
    await h.restart()
    await h.slash("/oncall", "note second")
    t2 = I.db_rows(h, "SELECT created_at FROM notes WHERE text = 'second'")[0][0]
    assert abs(t2 / 1000.0 - h.bot_clock()) < 300, (t2, h.bot_clock())
    # the clock went on while the bot was down: at least the 2 s of downtime times 600
    assert t2 - t1 >= 1200 * 1000, (t1, t2)
    # without the anchor the restarted clock starts over at KLAXON_NOW (what the anchor fixes)
    await h.sigterm()
    h.anchor = None
    await h.restart()
    await h.slash("/oncall", "note third")
    t3 = I.db_rows(h, "SELECT created_at FROM notes WHERE text = 'third'")[0][0]
    assert t3 < t2, (t2, t3)
    # a bad anchor: a clear sentence, exit status as for a bad KLAXON_NOW
    await h.sigterm()
    h.env["KLAXON_NOW_ANCHOR"] = "last tuesday"
    await h.restart(wait=False)
    rc = await h.wait_exit(5)
    h.expect_exit = True
    assert rc == 3 and 'KLAXON_NOW_ANCHOR="last tuesday" is not an RFC 3339 time' in h.log_tail(5), h.log_tail(5)
