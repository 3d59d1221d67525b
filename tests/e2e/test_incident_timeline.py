"""The incident timeline end to end (issue 3): every human message in the incident channel,
edits applied, deletions hidden, redeliveries stored once, 📌 reactions and pins as key events
keeping the message's own time, `/incident note`, `/incident timeline` and
`/incident impact-start`."""

import asyncio
import re

import incidents as I
import slack_model as M


async def test_messages_edits_deletions_and_redeliveries(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 checkout slow")
    c = ch["id"]
    m1, acks = await h.message(c, "db-3 CPU at 100% &amp; climbing", user="U0BOB00001")
    m2, _ = await h.message(c, "<@U0BOB00001> can you look at the slow-query log?", user="U0CAROL001")
    m3, _ = await h.message(c, "on it", user="U0BOB00001", thread_ts=m2["ts"])
    await h.message("C0ONCALL01", "unrelated chatter", user="U0DAVE0001")
    tl = await I.wait_timeline(h, lambda t: len([x for x in t if x[0] == "message"]) == 3)
    msgs = [(w, t) for k, w, t, a, key in tl if k == "message"]
    assert msgs == [("bob", "db-3 CPU at 100% & climbing"), ("carol", "@bob can you look at the slow-query log?"),
                    ("bob", "on it")], msgs
    # the message's own time is kept (Slack's ts, which follows the test clock)
    at = {t: a for k, w, t, a, key in tl}
    assert abs(at["on it"] - float(m3["ts"]) * 1000) < 2, (at["on it"], m3["ts"])
    # klaxon's own posts (the summary, the topic change) are not part of it
    assert not [x for x in tl if x[1] is None and x[0] == "message"]
    # Slack redelivers the first message's event (same event_id, retry_attempt 1)
    env = M.deepcopy(h.sim.envelopes[acks[0]["envelope_id"]]["envelope"])
    env.update(envelope_id=M.new_envelope_id(), retry_attempt=1, retry_reason="timeout")
    await h.sim.wait_ack(h.sim.send_envelope(env)["envelope_id"])
    # an edit and a deletion
    h.sim.user_edit("U0BOB00001", c, m1["ts"], "db-3 CPU at 100% (it was the report job)")
    h.sim.user_delete(c, m3["ts"])
    tl = await I.wait_timeline(h, lambda t: "on it" not in [x[2] for x in t] and any(
        "report job" in x[2] for x in t))
    msgs = [(w, t) for k, w, t, a, key in tl if k == "message"]
    assert msgs == [("bob", "db-3 CPU at 100% (it was the report job)"),
                    ("carol", "@bob can you look at the slow-query log?")], msgs
    # the deleted text is gone from the database, not only hidden
    assert I.db_rows(h, "SELECT COUNT(*) FROM incident_timeline WHERE text LIKE '%on it%'") == [(0,)]
    assert I.db_rows(h, "SELECT COUNT(*) FROM incident_timeline WHERE kind = 'message'") == [(3,)]
    # a very long message is kept, cut
    await h.message(c, "é" * 20000, user="U0DAVE0001")
    tl = await I.wait_timeline(h, lambda t: any(x[1] == "dave" for x in t))
    long_text = [x[2] for x in tl if x[1] == "dave"][0]
    assert long_text.endswith("…") and 3990 < len(long_text.encode()) <= 4003, len(long_text.encode())
    # /incident timeline shows the latest entries, names and all
    ack = await h.slash("/incident", "timeline", channel=c)
    t = h.ack_text(ack)
    assert "*bob*: db-3 CPU at 100% (it was the report job)" in t and "*carol*: @bob can you look" in t, t
    assert "on it" not in t
    assert ":pushpin:" in t  # the declaration is a key event


async def test_pushpin_and_pins_mark_key_events_with_their_own_time(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=60)
    _, ch = await I.declare(h, "P1 disk full")
    c = ch["id"]
    m1, _ = await h.message(c, "found it: /var/log filled by debug logging", user="U0BOB00001")
    m2, _ = await h.message(c, "rotating the logs now", user="U0CAROL001")
    await I.wait_timeline(h, lambda t: len([x for x in t if x[0] == "message"]) == 2)
    await asyncio.sleep(1.0)  # a simulated minute passes before anyone reacts
    await h.sim.wait_ack(h.sim.user_reaction("U0ALICE001", c, m1["ts"], "pushpin")["envelope_id"])
    await h.sim.wait_ack(h.sim.user_reaction("U0DAVE0001", c, m1["ts"], "pushpin")["envelope_id"])
    await h.sim.wait_ack(h.sim.user_reaction("U0DAVE0001", c, m2["ts"], "thumbsup")["envelope_id"])
    await h.sim.wait_ack(h.sim.user_pin("U0ALICE001", c, m2["ts"])["envelope_id"])
    tl = await I.wait_timeline(h, lambda t: all(x[4] for x in t if x[0] == "message"))
    key = {t: a for k, w, t, a, kk in tl if kk and k == "message"}
    assert set(key) == {"found it: /var/log filled by debug logging", "rotating the logs now"}, key
    # key events keep the message's own time, not the time of the reaction
    assert abs(key["found it: /var/log filled by debug logging"] - float(m1["ts"]) * 1000) < 2
    reacted_ms = h.sim.ts.now() * 1000  # a simulated minute after the message
    assert key["found it: /var/log filled by debug logging"] < reacted_ms - 30000
    # one 📌 taken back: still key (dave's stays); both taken back: not key; unpinned: not key
    await h.sim.wait_ack(h.sim.user_reaction_removed("U0ALICE001", c, m1["ts"], "pushpin")["envelope_id"])
    await asyncio.sleep(0.3)
    assert [x[4] for x in I.timeline(h) if x[2].startswith("found it")] == [True]
    await h.sim.wait_ack(h.sim.user_reaction_removed("U0DAVE0001", c, m1["ts"], "pushpin")["envelope_id"])
    await h.sim.wait_ack(h.sim.user_pin("U0ALICE001", c, m2["ts"], pinned=False)["envelope_id"])
    tl = await I.wait_timeline(h, lambda t: not any(x[4] for x in t if x[0] == "message"))
    # a reaction in another channel does nothing
    m9, _ = await h.message("C0ONCALL01", "elsewhere", user="U0BOB00001")
    await h.sim.wait_ack(h.sim.user_reaction("U0BOB00001", "C0ONCALL01", m9["ts"], "pushpin")["envelope_id"])
    await asyncio.sleep(0.3)
    assert "elsewhere" not in [x[2] for x in I.timeline(h)]


async def test_note_and_impact_start(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 latency spike")
    c = ch["id"]
    ack = await h.slash("/incident", "note rolled back deploy <https://ci.example/run/42|#42>", channel=c,
                        user="U0BOB00001")
    assert "Noted" in h.ack_text(ack)
    await I.wait_said(h, c, ":memo: Note from <@U0BOB00001>: rolled back deploy #42 (https://ci.example/run/42)")
    ack = await h.slash("/incident", "impact-start 09:40", channel=c)
    assert "time to detect 20m 0s" in h.ack_text(ack), h.ack_text(ack)
    await I.wait_said(h, c, "Time to detect: *20m 0s*")
    # refused in plain words: unreadable, and after the declaration
    ack = await h.slash("/incident", "impact-start sometime", channel=c)
    assert "cannot read that time" in h.ack_text(ack) and "Europe/Berlin" in h.ack_text(ack)
    ack = await h.slash("/incident", "impact-start 2026-11-24T10:05:00+01:00", channel=c)
    assert "before the incident was declared" in h.ack_text(ack)
    # and moved again: one impact entry, at the new time
    ack = await h.slash("/incident", "impact-start 15m ago", channel=c)
    assert "time to detect 15m 0s" in h.ack_text(ack)
    tl = await I.wait_timeline(h, lambda t: any(k == "note" for k, *_ in t))
    impact = [(t, a, key) for k, w, t, a, key in tl if k == "impact"]
    assert len(impact) == 1 and impact[0][2] and impact[0][0] == "Impact started (set by alice)", impact
    assert impact[0][1] == I.db_rows(h, "SELECT declared_at - 15 * 60000 FROM incidents")[0][0]
    assert I.db_rows(h, "SELECT declared_at - impact_start_at FROM incidents") == [(15 * 60000,)]
    notes = [(w, t) for k, w, t, a, key in tl if k == "note"]
    assert notes == [("bob", "rolled back deploy #42 (https://ci.example/run/42)")], notes
    # the summary shows the impact start
    await h.sim.wait_until(lambda: "*Impact started*\n2026-11-24 09:45" in h.message_text(I.summary(h, c)), 5,
                           "the summary to show the impact start")
