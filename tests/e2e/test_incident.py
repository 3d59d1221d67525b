"""Incidents end to end (issue 3): declare (words and the modal), the channel and its name
rules, invites, topic, summary, announcement, stakeholders, roles by command and button, the
answers people get (in plain words, within 3 s), escaping, and doing nothing twice.
docs/incidents.md describes the behaviour; helpers are in tests/e2e/incidents.py."""

import asyncio
import json
import re

from harness import alone, cases, timeout

import incidents as I


async def test_declare_creates_channel_summary_and_announcement(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    ack, ch = await I.declare(h, "P0 Checkout API returns 502")
    text = h.ack_text(ack)
    assert "#1" in text and "P0" in text and "Checkout API returns 502" in text, text
    assert ch["name"] == "incident-20261124", ch["name"]
    # invited: alice (declarer and primary this week) and bob (the secondary: next in the list)
    inv = await h.sim.wait_call("conversations.invite", ok=True)
    assert inv["args"]["channel"] == ch["id"]
    assert set(inv["args"]["users"].split(",")) == {"U0ALICE001", "U0BOB00001"}, inv["args"]
    assert {"U0ALICE001", "U0BOB00001"} <= set(ch["members"])
    topic = await h.sim.wait_call("conversations.setTopic", ok=True)
    t = topic["args"]["topic"]
    assert t.startswith("P0 | investigating | IC: alice | #1 Checkout API returns 502"), t
    s = I.summary(h, ch)
    st = h.message_text(s)
    for w in ("Take commander", "Take scribe", "Resolve", "P0", "investigating", "<@U0ALICE001>"):
        assert w in st, (w, st)
    # the summary is pinned in its channel
    await h.sim.wait_until(lambda: s["ts"] in h.sim.channels[ch["id"]]["pins"], 5, "the summary pinned")
    await I.wait_said(h, I.ANNOUNCE, re.compile(r"P0 incident.*#1.*Checkout API returns 502.*<#%s>" % ch["id"], re.S))
    # P0 has stakeholders: true: the stakeholder channel hears of it, with the channel
    m = (await I.wait_said(h, I.STAKEHOLDERS, "Checkout API returns 502"))[0]
    assert "<#%s>" % ch["id"] in h.message_text(m)
    # the incident is recorded with the channel
    rows = I.db_rows(h, "SELECT title, severity, status, channel, channel_name FROM incidents")
    assert rows == [("Checkout API returns 502", "P0", "investigating", ch["id"], "incident-20261124")], rows


async def test_declare_default_severity_invites_by_business_hours(h):
    # P2 (the default) pages the primary only in business hours: Tuesday 10:00 is inside.
    await I.start(h, "2026-11-24T10:00:00+01:00")
    ack, ch = await I.declare(h, "search is slow", user="U0CAROL001")
    assert "(P2)" in h.ack_text(ack)
    inv = await h.sim.wait_call("conversations.invite", ok=True)
    assert set(inv["args"]["users"].split(",")) == {"U0CAROL001", "U0ALICE001"}, inv["args"]
    # not a stakeholder severity: nothing in the stakeholder channel
    await I.wait_said(h, I.ANNOUNCE, "search is slow")
    assert not I.said(h, I.STAKEHOLDERS, "search is slow")


async def test_declare_at_night_p2_invites_only_the_declarer(h):
    await I.start(h, "2026-11-24T23:10:00+01:00")
    await I.declare(h, "P2 nightly export late", user="U0CAROL001")
    inv = await h.sim.wait_call("conversations.invite", ok=True)
    assert inv["args"]["users"] == "U0CAROL001", inv["args"]


@timeout(25)
async def test_declare_with_the_modal(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    ack = await h.slash("/incident", "declare", user="U0BOB00001", channel="C0ONCALL01")
    assert ack["latency"] < 3.0
    call = await h.sim.wait_call("views.open", ok=True, timeout=3)
    view = call["response"]["view"]
    assert view["callback_id"] == "incident.declare"
    labels = [b["label"]["text"] for b in view["blocks"]]
    assert labels == ["Title", "Severity", "Description"], labels
    opts = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert opts == ["P0", "P1", "P2"] and view["blocks"][1]["element"]["initial_option"]["value"] == "P2"
    # an empty title is refused in the form itself
    rec = h.sim.view_submission("U0BOB00001", view["id"], {"title": "  ", "severity": "P1"})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert a["payload"]["response_action"] == "errors" and "title" in a["payload"]["errors"], a["payload"]
    assert not I.db_rows(h, "SELECT id FROM incidents")
    rec = h.sim.view_submission("U0BOB00001", view["id"], {
        "title": "Login <!here> fails for SSO users", "severity": "P1",
        "description": "Okta returns 500\nsince 09:50"})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert a["payload"] in (None, {}), a  # the modal closes
    create = await h.sim.wait_call("conversations.create", ok=True)
    cid = create["response"]["channel"]["id"]
    rows = await I.wait_db(h, "SELECT title, severity, description, origin_channel FROM incidents", lambda r: r)
    assert rows == [("Login <!here> fails for SSO users", "P1", "Okta returns 500\nsince 09:50", "C0ONCALL01")], rows
    # the declarer hears where it is, ephemerally, where they typed the command
    eph = await h.sim.wait_call("chat.postEphemeral", ok=True)
    assert eph["args"]["channel"] == "C0ONCALL01" and eph["args"]["user"] == "U0BOB00001"
    assert "#1" in h.message_text(eph["args"])
    await h.sim.wait_until(lambda: I.summary(h, cid), 5, "the summary")
    s = I.summary(h, cid)
    assert "Okta returns 500" in h.message_text(s)
    # typed raw into the form: shown as typed, but never as a mention where Slack reads mrkdwn
    assert I.no_control_mentions(I.mrkdwn(s)), I.mrkdwn(s)
    assert "&lt;!here&gt;" in I.mrkdwn(s)


@cases([
    {"id": "before_midnight_berlin", "now": "2026-11-24T22:59:00Z", "tz": "Europe/Berlin", "name": "incident-20261124"},
    {"id": "after_midnight_berlin", "now": "2026-11-24T23:30:00Z", "tz": "Europe/Berlin", "name": "incident-20261125"},
    {"id": "new_york_still_24th", "now": "2026-11-25T04:30:00Z", "tz": "America/New_York", "name": "incident-20261124"},
    {"id": "summer_time", "now": "2026-07-14T22:30:00Z", "tz": "Europe/Berlin", "name": "incident-20260715"},
])
async def test_channel_name_uses_the_configured_zone(h, case):
    h.config["timezone"] = case["tz"]
    await I.start(h, case["now"])
    _, ch = await I.declare(h, "P1 something at the day boundary")
    assert ch["name"] == case["name"], (ch["name"], case)


async def test_channel_name_collisions_klaxon_and_slack(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    # Someone made #incident-20261124 by hand: Slack answers name_taken, klaxon takes -2.
    h.sim.add_channel({"id": "C0HANDMADE", "name": "incident-20261124", "members": ["U0DAVE0001"]})
    _, first = await I.declare(h, "P1 first of the day")
    assert first["name"] == "incident-20261124-2", first["name"]
    # The next one skips both the hand-made name and klaxon's own.
    _, second = await I.declare(h, "P1 second of the day", user="U0BOB00001")
    assert second["name"] == "incident-20261124-3", second["name"]
    names = [(c["args"]["name"], c["ok"] or c["error"]) for c in h.sim.calls_of("conversations.create")]
    assert names == [("incident-20261124", "name_taken"), ("incident-20261124-2", True),
                     ("incident-20261124-3", True)], names
    rows = I.db_rows(h, "SELECT name, state FROM channel_names ORDER BY name")
    assert rows == [("incident-20261124", 2), ("incident-20261124-2", 1), ("incident-20261124-3", 1)], rows


async def test_two_declarations_at_once_get_two_names(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    r1 = h.sim.slash("/incident", "declare P1 api down", "U0ALICE001", "C0INCIDENT")
    r2 = h.sim.slash("/incident", "declare P1 web down", "U0BOB00001", "C0ONCALL01")
    for r in (r1, r2):
        a = await h.sim.wait_ack(r["envelope_id"])
        assert a["latency"] < 3.0 and "Declared" in h.ack_text(a)
    await h.sim.wait_until(lambda: len(I.ok_calls(h, "conversations.create")) == 2, 8, "two channels")
    names = sorted(c["response"]["channel"]["name"] for c in I.ok_calls(h, "conversations.create"))
    assert names == ["incident-20261124", "incident-20261124-2"], names
    assert not [c for c in h.sim.calls_of("conversations.create") if not c["ok"]]


@alone
@timeout(25)
async def test_channel_creation_failure_is_told_and_retried(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=60)
    h.sim.inject_fault("conversations.create", "error", count=2, error="restricted_action")
    ack, _ = await I.declare(h, "P1 payments timing out", user="U0CAROL001", wait_channel=False)
    assert "Declared" in h.ack_text(ack)
    # the declarer is told in a DM; the incident is recorded and announced anyway
    await h.sim.wait_until(lambda: any("restricted_action" in t for t in I.dm_texts(h, "U0CAROL001")), 8,
                           "a DM to the declarer about the refusal")
    await I.wait_said(h, I.ANNOUNCE, "payments timing out")
    assert I.db_rows(h, "SELECT channel, channel_failures FROM incidents") == [(None, 1)]
    # retried after 1 min, then 2 min (simulated): the third attempt works
    create = await h.sim.wait_call("conversations.create", ok=True, timeout=15)
    assert create["args"]["name"] == "incident-20261124"
    attempts = h.sim.calls_of("conversations.create")
    assert [c["ok"] for c in attempts] == [False, False, True], [c["error"] for c in attempts]
    gap1, gap2 = attempts[1]["mono"] - attempts[0]["mono"], attempts[2]["mono"] - attempts[1]["mono"]
    assert 0.7 < gap1 < 3 and gap2 > gap1 * 1.4, (gap1, gap2)
    await h.sim.wait_until(lambda: any("exists now" in t for t in I.dm_texts(h, "U0CAROL001")), 8,
                           "the DM that the channel exists")
    # told once about the refusal, not once per attempt; announced once
    assert sum("restricted_action" in t for t in I.dm_texts(h, "U0CAROL001")) == 1
    await asyncio.sleep(0.5)
    assert len(I.said(h, I.ANNOUNCE, "payments timing out")) == 1


async def test_roles_by_command(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 queue backlog")
    c = ch["id"]
    ack = await h.slash("/incident", "role scribe <@U0CAROL001|carol>", user="U0ALICE001", channel=c)
    assert "carol" in h.ack_text(ack) or "U0CAROL001" in h.ack_text(ack)
    await I.wait_said(h, c, re.compile(r"<@U0CAROL001> is now the \*scribe\*"))
    await h.slash("/incident", "role ops dave", user="U0ALICE001", channel=c)
    await I.wait_said(h, c, re.compile(r"<@U0DAVE0001> is now the \*ops\*"))
    # carol and dave were invited when they got their roles
    await h.sim.wait_until(lambda: {"U0CAROL001", "U0DAVE0001"} <= set(h.sim.channels[c]["members"]), 5, "invites")
    ack = await h.slash("/incident", "lead", user="U0BOB00001", channel=c)
    assert "commander" in h.ack_text(ack)
    await I.wait_said(h, c, re.compile(r"<@U0BOB00001> is now the \*commander\* \(was <@U0ALICE001>\)"))
    # the topic and the summary follow
    await h.sim.wait_call("conversations.setTopic", lambda x: "IC: bob" in x["args"]["topic"], ok=True)
    await h.sim.wait_until(lambda: "*Commander*\n<@U0BOB00001>" in h.message_text(I.summary(h, c)), 5,
                           "the summary to show bob as commander")
    st = h.message_text(I.summary(h, c))
    assert "*Scribe*\n<@U0CAROL001>" in st and "*Ops*\n<@U0DAVE0001>" in st, st
    # saying it again changes nothing
    n = len(h.sim.messages(c))
    ack = await h.slash("/incident", "lead", user="U0BOB00001", channel=c)
    assert "already the commander" in h.ack_text(ack)
    await h.slash("/incident", "role comms none", user="U0BOB00001", channel=c)
    # refusals in plain words
    ack = await h.slash("/incident", "role janitor @bob", user="U0BOB00001", channel=c)
    assert "not a role" in h.ack_text(ack) and "commander|scribe|comms|ops" in h.ack_text(ack)
    ack = await h.slash("/incident", "role scribe @nobody", user="U0BOB00001", channel=c)
    assert "don't know who" in h.ack_text(ack)
    ack = await h.slash("/incident", "role scribe", user="U0BOB00001", channel=c)
    assert "Usage" in h.ack_text(ack)
    await asyncio.sleep(0.5)
    assert len(h.sim.messages(c)) == n, [h.message_text(m) for m in h.sim.messages(c)[n:]]
    # the timeline kept every change
    tl = I.timeline(h)
    roles = [t for k, w, t, a, key in tl if k == "role"]
    assert roles == ["Became commander (declared the incident)", "carol is now scribe", "dave is now ops",
                     "bob is now commander (was alice)"], roles


async def test_buttons_take_roles_and_resolve_double_click(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 cache stampede")
    c = ch["id"]
    s = I.summary(h, c)
    # a double click: two envelopes for one press
    a1 = await I.click(h, c, s, "incident.take_commander", user="U0BOB00001")
    a2 = await I.click(h, c, s, "incident.take_commander", user="U0BOB00001")
    assert a1["latency"] < 3.0 and a2["latency"] < 3.0
    await I.wait_said(h, c, "is now the *commander*")
    await h.sim.wait_until(lambda: len(h.sim.response_posts) >= 2, 5, "the answers to both clicks")
    texts = sorted(p["text"] for p in h.sim.response_posts)
    assert any("already the commander" in t for t in texts) and any(t.startswith("Done") for t in texts), texts
    await I.click(h, c, s, "incident.take_scribe", user="U0CAROL001")
    await I.wait_said(h, c, re.compile(r"<@U0CAROL001> is now the \*scribe\*"))
    await asyncio.sleep(0.3)
    assert len(I.said(h, c, "is now the *commander*")) == 1
    # Resolve, twice
    s = I.summary(h, c)
    await I.click(h, c, s, "incident.resolve", user="U0BOB00001")
    await I.click(h, c, s, "incident.resolve", user="U0CAROL001")
    await I.wait_said(h, c, "*Resolved* by <@U0BOB00001>")
    await h.sim.wait_until(lambda: any("already resolved" in (p["text"] or "") for p in h.sim.response_posts), 5,
                           "the second click's answer")
    await asyncio.sleep(0.3)
    assert len(I.said(h, c, "*Resolved*")) == 1
    assert I.db_rows(h, "SELECT status, resolved_by FROM incidents") == [("resolved", "bob")]
    # the summary lost its buttons and says who resolved it
    await h.sim.wait_until(lambda: "Resolved by" in h.message_text(I.summary(h, c)), 5, "the summary update")
    assert "Take commander" not in h.message_text(I.summary(h, c))


async def test_commands_outside_an_incident_channel_say_where(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    ack = await h.slash("/incident", "sev P1", channel="C0ONCALL01")
    t = h.ack_text(ack)
    assert "`/incident sev` works in an incident's own channel" in t and "no open incident" in t, t
    _, ch = await I.declare(h, "P2 printer on fire")
    for cmd in ("sev P1", "ack", "update all fine", "resolve", "note hi", "role scribe @bob", "timeline"):
        ack = await h.slash("/incident", cmd, channel="C0ONCALL01")
        t = h.ack_text(ack)
        assert ack["latency"] < 3.0
        assert "incident's own channel" in t and "<#%s>" % ch["id"] in t and "printer on fire" in t, (cmd, t)
    # and the incident did not change
    assert I.db_rows(h, "SELECT severity, status, acknowledged_at FROM incidents") == [("P2", "investigating", 0)]


async def test_user_text_is_escaped_everywhere(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    evil = "P0 <!channel> <!here> & <@U0BOB00001> <https://evil.example|click> *bold* <#C0GENERAL1|general>"
    ack, ch = await I.declare(h, evil)
    c = ch["id"]
    await h.slash("/incident", "update <!everyone> restart <!subteam^S0ONCALL01|@platform-oncall>", channel=c)
    await h.slash("/incident", "note <!channel> note", channel=c)
    await h.slash("/incident", "action add @bob <!channel> fix", channel=c)
    await h.slash("/incident", "resolve <!channel> done", channel=c)
    await I.wait_said(h, c, "*Resolved*")
    await asyncio.sleep(0.5)
    checked = 0
    for call in h.sim.calls:
        if call["method"] in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            blob = I.mrkdwn(call["args"])
            assert I.no_control_mentions(blob), (call["method"], blob[:500])
            checked += 1
        elif call["method"] == "conversations.setTopic":
            assert I.no_control_mentions(call["args"]["topic"]), call["args"]
    assert checked >= 10, checked
    assert I.no_control_mentions(json.dumps(ack["payload"]))
    for p in h.sim.response_posts:
        assert I.no_control_mentions(p["raw"])
    # what people typed is kept as plain text, mentions by name
    title = I.db_rows(h, "SELECT title FROM incidents")[0][0]
    assert title == "@channel @here & @bob click (https://evil.example) *bold* #general", title


async def test_repeated_declaration_and_redelivery_do_nothing_twice(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    rec = h.sim.slash("/incident", "declare P1 orders stuck", "U0ALICE001", "C0INCIDENT")
    await h.sim.wait_ack(rec["envelope_id"])
    await h.sim.wait_call("conversations.create", ok=True)
    # Slack redelivers the same envelope; the user also runs the command again.
    h.sim.resend(rec["envelope_id"])
    await h.sim.wait_until(lambda: len(rec["acks"]) >= 2, 5, "the redelivery's ack")
    ack = await h.slash("/incident", "declare P1 orders stuck", user="U0ALICE001")
    assert "a moment ago" in h.ack_text(ack) and "#1" in h.ack_text(ack), h.ack_text(ack)
    await asyncio.sleep(1.0)
    assert I.db_rows(h, "SELECT COUNT(*) FROM incidents") == [(1,)]
    assert len(h.sim.calls_of("conversations.create")) == 1
    assert len(I.said(h, I.ANNOUNCE, "orders stuck")) == 1
    # another person declaring the same title is a second incident (they may not know)
    await h.slash("/incident", "declare P1 orders stuck", user="U0BOB00001")
    await h.sim.wait_until(lambda: len(I.ok_calls(h, "conversations.create")) == 2, 5, "a second channel")


async def test_list_and_cli(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, a = await I.declare(h, "P1 api errors")
    _, b = await I.declare(h, "--drill P0 practice failover", user="U0BOB00001")
    await h.slash("/incident", "role scribe @carol", channel=a["id"])
    await h.slash("/incident", "ack", user="U0BOB00001", channel=a["id"])
    await h.slash("/incident", "resolve", channel=b["id"], user="U0BOB00001")
    ack = await h.slash("/incident", "list", channel="C0ONCALL01")
    t = h.ack_text(ack)
    assert "api errors" in t and "practice failover" not in t and "<#%s>" % a["id"] in t, t
    await I.wait_db(h, "SELECT status FROM incidents WHERE id = 2", lambda r: r == [("resolved",)])
    items = I.incidents_json(h)
    assert [x["id"] for x in items] == [1, 2]
    x = items[0]
    want = {"id": 1, "title": "api errors", "severity": "P1", "status": "investigating",
            "channel": "incident-20261124", "channel_id": a["id"], "commander": "alice", "scribe": "carol",
            "comms": None, "ops": None, "declared_by": "alice", "declared_at": "2026-11-24T09:00:00Z",
            "resolved_at": None, "drill": False}
    assert {k: x[k] for k in want} == want, x
    assert re.fullmatch(r"2026-11-24T09:00:\d\dZ", x["acknowledged_at"]), x["acknowledged_at"]
    assert items[1]["drill"] is True and items[1]["status"] == "resolved" and items[1]["resolved_at"]
    assert [x["id"] for x in I.incidents_json(h, "--open")] == [1]
    rc, out, err = I.cli(h, "incidents", "--open")
    assert rc == 0 and "api errors" in out and "#incident-20261124 " in out and "practice" not in out, out
    rc, out, err = I.cli(h, "incidents", "--bogus")
    assert rc == 2
