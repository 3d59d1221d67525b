"""An incident's life end to end (issue 3): severity up and down with stakeholder notices and
emails over SMTP, ack, status, updates, the status-update reminders and the manager brought in
under a scaled clock, resolve/reopen/close, the postmortem reminders across restarts, action
items, and drills (marked everywhere, no stakeholders, left out of the numbers)."""

import asyncio
import json
import re

from alerting import Smtp
from harness import timeout

import incidents as I


def with_smtp(h, smtp):
    h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com",
                        "stakeholders": ["cto@example.com", "support-lead@example.com"]}


@timeout(30)
async def test_sev_ack_status_update_and_stakeholders(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        await I.start(h, "2026-11-24T10:00:00+01:00")
        _, ch = await I.declare(h, "P1 search results empty")
        c = ch["id"]
        await I.wait_said(h, I.ANNOUNCE, "search results empty")
        assert not I.said(h, I.STAKEHOLDERS, "search results empty")  # P1: no stakeholders
        ack = await h.slash("/incident", "sev p0", channel=c, user="U0CAROL001")
        assert "now P0 (was P1)" in h.ack_text(ack), h.ack_text(ack)
        await I.wait_said(h, c, "Severity raised from *P1* to *P0* by <@U0CAROL001>")
        await I.wait_said(h, I.ANNOUNCE, re.compile(r"#1\*? is now \*P0\* \(was P1\)"))
        await I.wait_said(h, I.STAKEHOLDERS, "Incident #1 is now P0: search results empty")
        m = await smtp.wait(lambda m: "cto@example.com" in m["to"] and "now P0" in m["data"])
        assert "Subject: [klaxon] Incident #1 is now P0: search results empty" in m["data"], m["data"][:400]
        await smtp.wait(lambda m: "support-lead@example.com" in m["to"])
        # P0 also pages the secondary: bob is invited now
        await h.sim.wait_until(lambda: "U0BOB00001" in h.sim.channels[c]["members"], 5, "bob invited")
        await h.sim.wait_call("conversations.setTopic", lambda x: x["args"]["topic"].startswith("P0 |"), ok=True)
        ack = await h.slash("/incident", "sev P0", channel=c)
        assert "already P0" in h.ack_text(ack)
        ack = await h.slash("/incident", "sev P7", channel=c)
        assert "no severity `P7`" in h.ack_text(ack) and "`P0` `P1` `P2`" in h.ack_text(ack)
        # ack
        ack = await h.slash("/incident", "ack", channel=c, user="U0BOB00001")
        assert "Acknowledged #1 (TTA" in h.ack_text(ack)
        await I.wait_said(h, c, ":eyes: Acknowledged by <@U0BOB00001>")
        ack = await h.slash("/incident", "ack", channel=c, user="U0CAROL001")
        assert "Already acknowledged by <@U0BOB00001>" in h.ack_text(ack)
        # status
        ack = await h.slash("/incident", "status identified", channel=c)
        assert "now identified" in h.ack_text(ack)
        await h.sim.wait_call("conversations.setTopic", lambda x: "| identified |" in x["args"]["topic"], ok=True)
        ack = await h.slash("/incident", "status resolved", channel=c)
        assert "/incident resolve" in h.ack_text(ack)
        # an update: the channel, the announce channel, the stakeholders (P0 now)
        n_mail = len(smtp.messages)
        ack = await h.slash("/incident", "update Index rebuilt on 2 of 3 nodes; ETA 10 min", channel=c)
        assert "Update posted" in h.ack_text(ack)
        await I.wait_said(h, c, re.compile(r"\*Status update\* \(P0, identified\) from <@U0ALICE001>:\nIndex rebuilt"))
        await I.wait_said(h, I.ANNOUNCE, "Index rebuilt on 2 of 3 nodes")
        await I.wait_said(h, I.STAKEHOLDERS, "Index rebuilt on 2 of 3 nodes")
        await smtp.wait(lambda m: "Index rebuilt" in m["data"] and "cto@example.com" in m["to"])
        # lowering it: told, and the P1 severity has no stakeholders: no new mail
        await h.slash("/incident", "sev P1", channel=c)
        await I.wait_said(h, c, "Severity lowered from *P0* to *P1*")
        await asyncio.sleep(0.5)
        assert len([m for m in smtp.messages if "now P1" in m["data"]]) == 0
        assert len(smtp.messages) == n_mail + 2
        tl = I.timeline(h)
        kinds = [(k, t) for k, w, t, a, key in tl if k in ("severity", "ack", "status", "update")]
        assert [k for k, t in kinds] == ["severity", "ack", "status", "update", "severity"], kinds
        assert kinds[0][1] == "Severity P1 → P0" and kinds[4][1] == "Severity P0 → P1"
    finally:
        smtp.stop()


@timeout(25)
async def test_update_reminders_every_period_under_a_scaled_clock(h):
    # P0: a status update every 15 min; 600x: 1.5 s
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=600)
    _, ch = await I.declare(h, "P0 the whole site is down")
    c = ch["id"]
    rx = re.compile(r":alarm_clock: <@U0ALICE001>, there has been no status update")
    first = (await I.wait_said(h, c, rx, timeout=6))[0]
    second = (await I.wait_said(h, c, rx, timeout=6, count=2))[1]
    gap = float(second["ts"]) - float(first["ts"])
    assert 14 * 60 < gap < 17 * 60, "reminders %.0f simulated seconds apart (want 15 min)" % gap
    assert "for *15m" in h.message_text(first) and "every 15m" in h.message_text(first)
    # an update resets the clock
    await h.slash("/incident", "update restoring from backup", channel=c)
    updated = h.sim.ts.now()
    third = (await I.wait_said(h, c, rx, timeout=6, count=3))[2]
    assert float(third["ts"]) - updated > 14 * 60, "a reminder came %.0f s after the update" % (
        float(third["ts"]) - updated)
    # resolved: no more reminders
    await h.slash("/incident", "resolve", channel=c)
    await I.wait_said(h, c, "*Resolved*")
    n = len(I.said(h, c, rx))
    await asyncio.sleep(2.5)
    assert len(I.said(h, c, rx)) == n


@timeout(25)
async def test_manager_brought_in_when_the_resolve_target_passes(h):
    for s in h.config["severities"]:
        if s["name"] == "P1":
            s["resolve"] = "30m"
            s["update_every"] = "2h"
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=600)  # 30 min: 3 s
    _, ch = await I.declare(h, "P1 emails delayed")
    _, other = await I.declare(h, "P1 quickly fixed", user="U0BOB00001")
    await h.slash("/incident", "resolve", channel=other["id"], user="U0BOB00001")
    c = ch["id"]
    await I.wait_said(h, c, re.compile(r"Not resolved within the P1 target of \*30m 0s\*.*Bringing in <@U0ERIN0001> \(manager\)"),
                      timeout=8)
    await h.sim.wait_until(lambda: "U0ERIN0001" in h.sim.channels[c]["members"], 5, "erin invited")
    await h.sim.wait_until(lambda: any("You are brought into incident" in t and "emails delayed" in t
                                       for t in I.dm_texts(h, "U0ERIN0001")), 5, "a DM to erin")
    tl = I.timeline(h)
    # (The page its declaration made, never acknowledged, escalated on its ack target too.)
    esc = [(t, key) for k, w, t, a, key in tl if k == "escalation" and not t.startswith("Page #")]
    assert esc == [("Not resolved within the P1 target (30m 0s): erin (manager) brought in", True)], esc
    # once, and not for the incident resolved in time
    await asyncio.sleep(3.5)
    assert len(I.said(h, c, "Not resolved within")) == 1
    assert not I.said(h, other["id"], "Not resolved within")
    assert len([t for t in I.dm_texts(h, "U0ERIN0001") if "brought into" in t]) == 1


async def test_resolve_reopen_close(h):
    h.config["public_url"] = "https://klaxon.example.com"
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 invoices not sent")
    c = ch["id"]
    ack = await h.slash("/incident", "close", channel=c)
    assert "not resolved yet" in h.ack_text(ack)
    ack = await h.slash("/incident", "reopen", channel=c)
    assert "not resolved; nothing to reopen" in h.ack_text(ack)
    ack = await h.slash("/incident", "postmortem done", channel=c)
    assert "Resolve the incident first" in h.ack_text(ack)
    ack = await h.slash("/incident", "resolve queue worker restarted", channel=c, user="U0BOB00001")
    assert "Resolved *#1*" in h.ack_text(ack) and "postmortem" in h.ack_text(ack)
    draft = "https://klaxon.example.com" + h.feed_url("/incidents/1/postmortem.md")
    link = "<%s|the postmortem draft>" % draft.replace("&", "&amp;")
    await I.wait_said(h, c, link)
    # the channel has had a bookmark to the draft from the start
    bm = await h.sim.wait_call("bookmarks.add", ok=True)
    assert bm["args"]["channel_id"] == c and bm["args"]["link"] == draft
    await I.wait_said(h, c, "*Resolved* by <@U0BOB00001>")
    await I.wait_said(h, I.ANNOUNCE, re.compile(r"Resolved: \*#1\* \(P1\) \*invoices not sent\*.*queue worker restarted"))
    assert I.db_rows(h, "SELECT status, resolution FROM incidents") == [("resolved", "queue worker restarted")]
    ack = await h.slash("/incident", "sev P0", channel=c)
    assert "is resolved" in h.ack_text(ack) and "/incident reopen" in h.ack_text(ack)
    # reopen: status updates are due again; the postmortem reminder is off
    await h.slash("/incident", "reopen", channel=c)
    await I.wait_said(h, c, "*Reopened* by <@U0ALICE001>")
    assert I.db_rows(h, "SELECT status, resolved_at FROM incidents") == [("investigating", 0)]
    assert I.db_rows(h, "SELECT key, state FROM jobs WHERE key LIKE 'incident:1:%' AND key NOT LIKE '%resolve-target'"
                        " ORDER BY key") == [("incident:1:postmortem", "cancelled"), ("incident:1:update", "pending")]
    await h.slash("/incident", "resolve", channel=c)
    ack = await h.slash("/incident", "close", channel=c)
    assert "postmortem of #1 is not done" in h.ack_text(ack)
    ack = await h.slash("/incident", "postmortem done javascript:alert(1)", channel=c)
    assert "must start with https://" in h.ack_text(ack)
    ack = await h.slash("/incident", "postmortem done <https://wiki.example.com/pm/1>", channel=c)
    assert "marked done" in h.ack_text(ack)
    ack = await h.slash("/incident", "postmortem", channel=c)
    assert "Marked done" in h.ack_text(ack) and "https://wiki.example.com/pm/1" in h.ack_text(ack)
    ack = await h.slash("/incident", "close", channel=c)
    assert "Closed #1" in h.ack_text(ack)
    await I.wait_said(h, c, ":lock: *Closed* by <@U0ALICE001>")
    ack = await h.slash("/incident", "reopen", channel=c)
    assert "closed; declare a new incident" in h.ack_text(ack)
    # a closed incident's channel is not its timeline any more
    await h.message(c, "post-close chatter", user="U0BOB00001")
    await asyncio.sleep(0.3)
    assert "post-close chatter" not in [x[2] for x in I.timeline(h)]
    kinds = [k for k, *_ in I.timeline(h)]
    assert kinds.count("resolved") == 2 and "reopened" in kinds and "closed" in kinds and "postmortem" in kinds
    assert I.db_rows(h, "SELECT status, postmortem_url FROM incidents") == [("closed", "https://wiki.example.com/pm/1")]


@timeout(30)
async def test_postmortem_reminders_due_then_daily_across_restarts(h):
    h.config["postmortem"] = {"due": "2h"}
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 reports missing")
    c = ch["id"]
    await h.slash("/incident", "role commander @bob", channel=c)
    await h.slash("/incident", "resolve", channel=c)
    await I.wait_said(h, c, "It is due 2026-11-24 12:00 (UTC+01:00)")
    rx = ":notebook: <@U0BOB00001>, the postmortem of this incident is due"
    # klaxon is down when it falls due: it comes when klaxon is back, once
    await I.jump(h, "2026-11-24T13:30:00+01:00")
    await I.wait_said(h, c, rx)
    await h.sim.wait_until(lambda: any("postmortem of incident" in t for t in I.dm_texts(h, "U0BOB00001")), 5,
                           "the DM to the commander")
    await asyncio.sleep(0.5)
    assert len(I.said(h, c, rx)) == 1
    # not before a day has passed, then again
    await I.jump(h, "2026-11-25T13:00:00+01:00")
    await asyncio.sleep(0.8)
    assert len(I.said(h, c, rx)) == 1
    await I.jump(h, "2026-11-28T09:00:00+01:00")  # days later: one more, not one per missed day
    await I.wait_said(h, c, rx, count=2)
    await asyncio.sleep(0.5)
    assert len(I.said(h, c, rx)) == 2
    await h.slash("/incident", "postmortem done", channel=c, user="U0BOB00001")
    await I.jump(h, "2026-12-05T09:00:00+01:00")
    await asyncio.sleep(0.8)
    assert len(I.said(h, c, rx)) == 2
    assert I.db_rows(h, "SELECT state FROM jobs WHERE key = 'incident:1:postmortem'") == [("cancelled",)]


async def test_action_items(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 cert expired")
    c = ch["id"]
    _, other = await I.declare(h, "P2 slow builds", user="U0BOB00001")
    ack = await h.slash("/incident", "action add <@U0BOB00001|bob> Alert 14 days before any cert expires", channel=c)
    assert "Added action item 1 to #1" in h.ack_text(ack)
    await I.wait_said(h, c, ":white_square: Action item *1* for <@U0BOB00001>: Alert 14 days before any cert expires")
    await h.slash("/incident", "action add carol Automate renewal with ACME", channel=c)
    await h.slash("/incident", "action add me Cache build layers", channel=other["id"], user="U0BOB00001")
    ack = await h.slash("/incident", "action add @nobody something", channel=c)
    assert "don't know who" in h.ack_text(ack)
    ack = await h.slash("/incident", "action add @bob", channel=c)
    assert "Usage" in h.ack_text(ack)
    ack = await h.slash("/incident", "action done 2", channel=c, user="U0CAROL001")
    assert "Action item 2 of #1 is done" in h.ack_text(ack)
    await I.wait_said(h, c, "Action item *2* is done (<@U0CAROL001>)")
    ack = await h.slash("/incident", "action done #2", channel=c)
    assert "already done" in h.ack_text(ack)
    ack = await h.slash("/incident", "action done 9", channel=c)
    assert "has no action item 9" in h.ack_text(ack)
    ack = await h.slash("/incident", "action done two", channel=c)
    assert "Usage" in h.ack_text(ack)
    ack = await h.slash("/incident", "action list", channel=c)
    t = h.ack_text(ack)
    assert ":white_square: *1.* Alert 14 days before any cert expires — <@U0BOB00001>" in t, t
    assert ":white_check_mark: *2.* Automate renewal with ACME — <@U0CAROL001>" in t, t
    # elsewhere: every open item, by incident (what the Monday handoff lists)
    ack = await h.slash("/incident", "action list", channel="C0ONCALL01")
    t = h.ack_text(ack)
    assert "*#1* cert expired" in t and "*#2* slow builds" in t and "Cache build layers" in t, t
    assert "Automate renewal" not in t
    rows = I.db_rows(h, "SELECT incident_id, number, owner, done_by FROM incident_actions ORDER BY id")
    assert rows == [(1, 1, "bob", None), (1, 2, "carol", "carol"), (2, 1, "bob", None)], rows


@timeout(25)
async def test_drills_are_marked_tell_no_stakeholders_and_are_not_counted(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        await I.start(h, "2026-11-24T10:00:00+01:00")
        ack, ch = await I.declare(h, "--drill P0 game day: lose the primary database")
        assert "Drill declared" in h.ack_text(ack)
        c = ch["id"]
        s = h.message_text(I.summary(h, c))
        assert "DRILL" in s and "This is a drill" in s, s
        await h.sim.wait_call("conversations.setTopic", lambda x: x["args"]["topic"].startswith("DRILL | P0"), ok=True)
        await I.wait_said(h, I.ANNOUNCE, re.compile(r"Drill.*P0 incident.*DRILL\* \*#1"))
        await h.slash("/incident", "update failing over", channel=c)
        await h.slash("/incident", "resolve drill over", channel=c)
        await I.wait_said(h, c, "*Resolved*")
        # a real incident next to it
        _, real = await I.declare(h, "P0 real outage", user="U0BOB00001")
        await h.slash("/incident", "resolve", channel=real["id"], user="U0BOB00001")
        await I.wait_said(h, I.STAKEHOLDERS, "real outage")
        await smtp.wait(lambda m: "real outage" in m["data"])
        await asyncio.sleep(0.5)
        assert not I.said(h, I.STAKEHOLDERS, "game day")
        assert not [m for m in smtp.messages if "game day" in m["data"]]
        # the numbers leave the drill out
        rc, out, err = I.cli(h, "stats", "--json")
        assert rc == 0, err
        st = json.loads(out)
        assert st["incidents"]["total"] == 1 and st["incidents"]["by_severity"] == {"P0": 1}, st["incidents"]
        status, text = await h.metrics()
        assert 'klaxon_incidents_total{severity="P0"} 1' in text, text
        assert "klaxon_incident_resolve_seconds_count 1" in text
        # but the drill is listed, marked
        items = I.incidents_json(h)
        assert [(x["title"], x["drill"]) for x in items] == [("game day: lose the primary database", True),
                                                             ("real outage", False)]
    finally:
        smtp.stop()
