"""Self-tests of the Slack simulator with several Socket Mode connections of one app (issue 12:
several klaxon instances, each with its own connection). They talk to the simulator as a client
would and need no klaxon binary:

- every apps.connections.open gives a new URL, and envelopes are spread over the open
  connections, each envelope to exactly one;
- an events_api envelope a connection got and never acked (the connection closed) comes again,
  after the ack timeout, on another open connection, with retry_attempt / retry_reason;
- the 11th open connection is refused the way Slack refuses it (see slack_socket._refuse_too_many).
"""

import asyncio
import json

import aiohttp

from harness import sim_options, timeout
from test_sim_selftest import Client, recv_json

import slack_model as M


def an_event(sim, text):
    return sim.event({"type": "message", "channel": "C0INCIDENT", "user": "U0ALICE001", "text": text,
                      "ts": sim.ts.next(), "channel_type": "channel"})


async def drain(ws, wait=0.4):
    """Every text frame that arrives on ws until it is quiet for `wait` seconds."""
    out = []
    while True:
        try:
            msg = await ws.receive(timeout=wait)
        except asyncio.TimeoutError:
            return out
        if msg.type != aiohttp.WSMsgType.TEXT:
            return out
        out.append(json.loads(msg.data))


async def test_spread_over_three_connections(h):
    async with Client(h.sim) as c:
        urls, socks = [], []
        for _ in range(3):
            body = await c.ok("apps.connections.open", token=M.APP_TOKEN, form=True)
            urls.append(body["url"])
            ws = await c.s.ws_connect(body["url"])
            hello = json.loads((await ws.receive(timeout=5)).data)
            assert hello["type"] == "hello"
            socks.append(ws)
        assert len(set(urls)) == 3, "apps.connections.open gave a URL twice: %s" % urls
        assert hello["num_connections"] == 3
        conn_ids = [x.id for x in h.sim.live_conns()]
        # nine events, three slash commands, three clicks: fifteen envelopes
        recs = [an_event(h.sim, "e%d" % i) for i in range(9)]
        recs += [h.sim.slash("/oncall", "s%d" % i) for i in range(3)]
        posted = h.sim.post_message(h.sim.channels["C0INCIDENT"], "page", [
            {"type": "actions", "block_id": "b", "elements": [
                {"type": "button", "action_id": "ack", "value": "v", "text": {"type": "plain_text", "text": "Ack"}}]}])
        recs += [h.sim.block_action("U0BOB00001", "C0INCIDENT", posted["ts"], "ack") for _ in range(3)]
        got = [await drain(ws) for ws in socks]
        per_conn = [len(g) for g in got]
        assert sum(per_conn) == 15, per_conn
        assert all(n == 5 for n in per_conn), "not spread evenly over 3 connections: %s" % per_conn
        ids = [e["envelope_id"] for g in got for e in g]
        assert sorted(ids) == sorted(r["envelope_id"] for r in recs), "an envelope went to two connections"
        # the record says which connection got each one, and it is where it arrived
        for ws_got, cid in zip(got, conn_ids):
            for e in ws_got:
                assert h.sim.envelopes[e["envelope_id"]]["delivered_to"] == [cid]
        assert len(h.sim.deliveries) == 15 and {d["conn"] for d in h.sim.deliveries} == set(conn_ids)
        # each is acked on the connection that got it: one ack each, none redelivered
        for ws, g in zip(socks, got):
            for e in g:
                await ws.send_str(json.dumps({"envelope_id": e["envelope_id"]}))
        await h.sim.wait_until(lambda: len(h.sim.acks) == 15, 3, "fifteen acks")
        await asyncio.sleep(3.5)  # past the ack timeout: nothing comes again
        assert [await drain(ws, 0.1) for ws in socks] == [[], [], []]
        counts = h.sim.ack_counts()
        assert len(counts) == 15 and set(counts.values()) == {1}, counts
        assert {a["conn"] for a in h.sim.acks} == set(conn_ids)
        for ws in socks:
            await ws.close()


@sim_options(ack_timeout=0.5)
async def test_redelivery_after_connection_closes_unacked(h):
    async with Client(h.sim) as c:
        (a, _), (b, _) = await c.connect(), await c.connect()
        ca, cb = [x.id for x in h.sim.live_conns()]
        for _ in range(2):  # round-robin: make the next envelope go to `a`
            rec = an_event(h.sim, "warm-up")
            for ws in (a, b):
                for e in await drain(ws, 0.2):
                    await ws.send_str(json.dumps({"envelope_id": e["envelope_id"]}))
            if rec["delivered_to"] == [cb]:
                break
        rec = an_event(h.sim, "lost with its connection")
        first = await recv_json(a if rec["delivered_to"] == [ca] else b)
        dying, other, dying_id = (a, b, ca) if rec["delivered_to"] == [ca] else (b, a, cb)
        await dying.close()  # the instance dies without acking
        again = await recv_json(other, timeout=3)
        assert again["payload"]["event_id"] == first["payload"]["event_id"]
        assert again["envelope_id"] != first["envelope_id"]
        assert (first["retry_attempt"], first["retry_reason"]) == (0, "")
        assert (again["retry_attempt"], again["retry_reason"]) == (1, "timeout")
        await other.send_str(json.dumps({"envelope_id": again["envelope_id"]}))
        await h.sim.wait_ack(again["envelope_id"])
        assert await drain(other, 1.2) == [], "redelivered although acked"
        key = first["payload"]["event_id"]
        assert h.sim.ack_counts()[key] == 1
        trail = [(d["conn"], d["retry_attempt"]) for d in h.sim.deliveries if d["key"] == key]
        assert trail == [(dying_id, 0), (ca + cb - dying_id, 1)], trail
        # Redelivery prefers a connection that has not had the event even when the first one is
        # still open (it just never acks): a third connection gets the copy, not `other` again.
        third, _ = await c.connect()
        rec = an_event(h.sim, "never acked")
        await asyncio.sleep(0.1)
        holder = rec["delivered_to"][0]
        await h.sim.wait_until(lambda: rec["superseded_by"], 3, "the redelivery")
        copy = h.sim.envelopes[rec["superseded_by"]]
        assert copy["delivered_to"][0] != holder, (holder, copy["delivered_to"])
        # a slash command on a connection that dies unacked is not delivered again (D-SLASH: the
        # user sees an error)
        before = len(h.sim.deliveries)
        s = h.sim.slash("/oncall", "help", conn=h.sim.conn().id)
        await h.sim.close_conn(s["conn"])
        await asyncio.sleep(1.2)
        assert [d["envelope_id"] for d in h.sim.deliveries[before:] if d["type"] == "slash_commands"] == [s["envelope_id"]]
        for ws in (other, third):
            await ws.close()


@timeout(40)
async def test_connection_cap(h):
    async with Client(h.sim) as c:
        socks = [(await c.connect())[0] for _ in range(10)]
        assert len(h.sim.live_conns()) == 10
        body = await c.ok("apps.connections.open", token=M.APP_TOKEN, form=True)  # still a URL
        ws = await c.s.ws_connect(body["url"])
        msg = await ws.receive(timeout=3)
        frame = json.loads(msg.data)
        conn = h.sim.conns[-1]
        # exactly the frame Slack sends, with no hello before it
        assert frame == {"type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": conn.host}}
        end = await ws.receive(timeout=3)
        assert end.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), end
        # the TCP connection was dropped: no close frame from the server
        assert not [f for f in h.sim.frames if f["conn"] == conn.id and f["dir"] == "out" and f["type"] == "close"]
        await h.sim.wait_until(lambda: not conn.open, 3, "the refused connection closed")
        assert conn.refused == "too_many_websockets" and conn.hello_mono is None
        assert h.sim.refused_conns == [conn.id]
        # the ten are untouched and still get envelopes; the refused one got none
        assert len(h.sim.live_conns()) == 10
        recs = [an_event(h.sim, "x%d" % i) for i in range(10)]
        assert sorted(r["delivered_to"][0] for r in recs) == sorted(x.id for x in h.sim.live_conns())
        # with one of the ten gone, a new connection is accepted
        await socks[0].close()
        await h.sim.wait_until(lambda: len(h.sim.live_conns()) == 9, 3, "nine connections")
        ws11, hello = await c.connect()
        assert hello["type"] == "hello" and hello["num_connections"] == 10
        for s in socks[1:] + [ws11]:
            await s.close()


@sim_options(ack_timeout=0.3, event_retry_delays=(0, 0.8, 0))
async def test_event_retry_delays(h):
    """The option paces the copies like Slack's documented schedule (EVENT_RETRY_DELAYS, minutes
    there, under a second here): copy 1 right after the ack timeout, copy 2 a pause later."""
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        an_event(h.sim, "slow")
        t = []
        for _ in range(4):
            env = await recv_json(ws, timeout=3)
            t.append((asyncio.get_running_loop().time(), env["retry_attempt"]))
        assert [a for _, a in t] == [0, 1, 2, 3]
        gaps = [round(b[0] - a[0], 2) for a, b in zip(t, t[1:])]
        assert 0.25 <= gaps[0] < 0.7 and gaps[1] >= 1.05 and 0.25 <= gaps[2] < 0.7, gaps
        await ws.close()
