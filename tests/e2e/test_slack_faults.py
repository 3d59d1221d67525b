"""Slack faults against the simulator (bot/sender.c): a refused bot token (token_revoked,
invalid_auth) stops every Slack call, keeps the outbox, tells the operator (the log and the
klaxon_slack_token_refused gauge on /metrics) and probes with one call after a pause that
doubles, resuming by itself when the token works again; a storm of 429s with Retry-After is
honoured call after call and everything arrives once."""

import asyncio
import time
import uuid

from alerting import db_value
from harness import cases, timeout

HANDOFF = "C0ONCALL01"


def tok():
    return "e2e-" + uuid.uuid4().hex[:10]


def calls_with(h, t, method="chat.postMessage"):
    return [c for c in h.sim.calls_of(method, done=True) if t in h.message_text(c["args"])]


def held(h, t):
    return [m for m in h.sim.messages(HANDOFF) if t in h.message_text(m)]


@cases(["token_revoked", "invalid_auth"], ids=["token_revoked", "invalid_auth"])
@timeout(45)
async def test_refused_token_pauses_sending_keeps_outbox_and_resumes(h, error):
    await h.start()
    mark = len(h.sim.calls)
    h.sim.inject_fault("chat.postMessage", "error", count=2, error=error)  # refused, then the first probe too
    notes = [tok() for _ in range(3)]
    for t in notes:
        ack = await h.slash("/oncall", "note " + t, channel=HANDOFF)
        assert "try again" not in h.ack_text(ack).lower()
    first = await h.sim.wait_call("chat.postMessage", lambda c: c["error"] == error, since=mark, timeout=10)
    refused_at = first["mono"]
    await h.wait_log(r"sender slack_token_refused error=%s" % error, timeout=5)
    status, text = await h.metrics()
    assert "klaxon_slack_token_refused 1" in text, text
    # Paused: no Slack call for the first pause (5 s), and the rows are all still there.
    await asyncio.sleep(3.5)
    during = [c for c in h.sim.calls_of("chat.postMessage", since=mark) if c["mono"] > refused_at + 0.05]
    assert during == [], [(round(c["mono"] - refused_at, 2), c["error"]) for c in during]
    assert db_value(h, "SELECT count(*) FROM outbox WHERE state = 'pending' AND method = 'chat.postMessage'") >= 3
    assert h.running
    # The probe at ~5 s is refused as well: one call, then a pause of ~10 s.
    probe = await h.sim.wait_call("chat.postMessage", lambda c: c["mono"] > refused_at + 0.05, since=mark,
                                  timeout=6)
    assert probe["error"] == error and probe["mono"] - refused_at >= 4.9, probe["mono"] - refused_at
    await h.wait_log(r"sender slack_token_still_refused .*next_probe_s=10", timeout=3)
    # The token works again (the fault is spent): the next probe goes through and everything follows.
    for t in notes:
        await h.sim.wait_until(lambda t=t: held(h, t), 20, "note %s delivered" % t)
    ok = [c for c in h.sim.calls_of("chat.postMessage", since=mark, done=True) if c["ok"]]
    assert ok[0]["mono"] - probe["mono"] >= 9.9, ok[0]["mono"] - probe["mono"]
    await h.wait_log(r"sender slack_token_accepted", timeout=3)
    status, text = await h.metrics()
    assert "klaxon_slack_token_refused 0" in text, text
    await asyncio.sleep(1)
    for t in notes:
        assert len(held(h, t)) == 1, (t, len(held(h, t)))
    assert db_value(h, "SELECT count(*) FROM outbox WHERE state = 'failed'") == 0


@timeout(60)
async def test_429_storm_every_retry_after_honoured_all_arrive_once(h):
    await h.start()
    mark = len(h.sim.calls)
    h.sim.inject_fault("chat.postMessage", "ratelimit", count=6, retry_after=1)
    notes = [tok() for _ in range(4)]
    for t in notes:
        await h.slash("/oncall", "note " + t, channel=HANDOFF)
    for t in notes:
        await h.sim.wait_until(lambda t=t: held(h, t), 30, "note %s delivered" % t)
    calls = [c for c in h.sim.calls_of("chat.postMessage", since=mark, done=True)]
    limited = [c for c in calls if c["status"] == 429]
    assert len(limited) == 6, len(limited)
    # After each 429 no chat.postMessage before its Retry-After (1 s).
    for c in limited:
        end = c["mono"] + c["duration"]
        early = [d for d in calls if end < d["mono"] < end + 0.95]
        assert not early, "called %.2f s after a 429" % (early[0]["mono"] - end)
    await asyncio.sleep(1)
    for t in notes:
        assert len(held(h, t)) == 1
    status, text = await h.metrics()
    assert "klaxon_slack_ratelimited_total 6" in text, text
