"""Message shortcuts and incident link unfurls (issue 16) end to end through the Slack
simulator: "Add to incident timeline" in the incident's channel (at once, a key entry) and from
any other channel (a form asking which incident, refused without a choice), "Declare incident
from this message" (the declare form filled with the message), and chat.unfurl for links to
PUBLIC_URL/incidents/ID (severity, status, commander, duration), never for other links."""

import json

import incidents as I
from alerting import db_rows, db_value, wait_db
from harness import timeout
import slack_model as M

ALICE, BOB, CAROL = "U0ALICE001", "U0BOB00001", "U0CAROL001"
GENERAL = "C0INCIDENT"  # the announce channel: a channel that is no incident's


async def shortcut(h, user, channel, ts, callback):
    rec = h.sim.message_shortcut(user, channel, ts, callback)
    return await h.sim.wait_ack(rec["envelope_id"])


@timeout(30)
async def test_add_to_timeline_in_the_incident_channel_and_from_elsewhere(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", I.FROZEN)
    _, chan = await I.declare(h, "P1 checkout fails for EU users", user=ALICE)
    cid = chan["id"]
    iid = db_value(h, "SELECT id FROM incidents")
    # in the incident channel: said there, so already a plain entry; the shortcut makes it key
    m, _ = await h.message(cid, "rolled back deploy 4812", user=BOB)
    await wait_db(h, "SELECT count(*) FROM incident_timeline WHERE source_ts = ?", lambda r: r[0][0] == 1,
                  args=(m["ts"],))
    assert db_value(h, "SELECT (key_system <> 0 OR pinned <> 0 OR reactions > 0) FROM incident_timeline WHERE source_ts = ?", (m["ts"],)) == 0
    n = len(h.sim.calls)
    await shortcut(h, CAROL, cid, m["ts"], "incident.timeline_add")
    await wait_db(h, "SELECT (key_system <> 0 OR pinned <> 0 OR reactions > 0) FROM incident_timeline WHERE source_ts = ?", lambda r: r and r[0][0] == 1,
                  args=(m["ts"],))
    assert not h.sim.calls_of("views.open", since=n)
    said = await h.sim.wait_until(lambda: [p for r in h.sim.response_urls.values() for p in r["posts"]
                                           if "#%d" % iid in json.dumps(p)], 5, "the answer to the shortcut")
    assert "key entry" in json.dumps(said[0])
    # from another channel: which incident? (the only open one is offered)
    m2 = h.sim.post_message(h.sim.channels[GENERAL], "EU payments provider reports an outage", user=ALICE,
                            bot=False)
    n = len(h.sim.calls)
    await shortcut(h, ALICE, GENERAL, m2["ts"], "incident.timeline_add")
    call = await h.wait_call("views.open", since=n, timeout=3)
    assert call["ok"], call["response"]
    view = call["response"]["view"]
    assert view["callback_id"] == "incident.timeline_add"
    opts = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in opts] == [str(iid)] and opts[0]["text"]["text"].startswith("#%d " % iid)
    assert "EU payments provider" in json.dumps(view["blocks"][1])
    # no choice: refused on the field
    rec = h.sim.view_submission(ALICE, view["id"], {"incident": {"incident": {"type": "static_select",
                                                                              "selected_option": None}}})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert a["payload"]["response_action"] == "errors" and "incident" in a["payload"]["errors"], a["payload"]
    rec = h.sim.view_submission(ALICE, view["id"], {"incident": str(iid)})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert not (a["payload"] or {}).get("response_action"), a
    rows = await wait_db(h, "SELECT kind, who, text, (key_system <> 0 OR pinned <> 0 OR reactions > 0) FROM incident_timeline WHERE source_ts = ?", lambda r: r,
                         args=(m2["ts"],))
    assert rows == [("message", "alice", "EU payments provider reports an outage", 1)], rows


@timeout(30)
async def test_add_to_timeline_without_an_open_incident_says_so(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", I.FROZEN)
    m = h.sim.post_message(h.sim.channels[GENERAL], "is anything on fire?", user=ALICE, bot=False)
    n = len(h.sim.calls)
    await shortcut(h, ALICE, GENERAL, m["ts"], "incident.timeline_add")
    said = await h.sim.wait_until(lambda: [p for r in h.sim.response_urls.values() for p in r["posts"]
                                           if "no open incident" in json.dumps(p)], 5, "the refusal")
    assert said and not h.sim.calls_of("views.open", since=n)


@timeout(30)
async def test_declare_from_a_message_fills_the_form(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", I.FROZEN)
    m = h.sim.post_message(h.sim.channels[GENERAL], "Search returns 500 for every query\nsince 09:50, all regions",
                           user=BOB, bot=False)
    n = len(h.sim.calls)
    await shortcut(h, ALICE, GENERAL, m["ts"], "incident.declare_from_message")
    call = await h.wait_call("views.open", since=n, timeout=3)
    assert call["ok"], call["response"]
    view = call["response"]["view"]
    assert view["callback_id"] == "incident.declare"
    els = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert els["title"]["initial_value"] == "Search returns 500 for every query"
    assert els["description"]["initial_value"].endswith("since 09:50, all regions")
    rec = h.sim.view_submission(ALICE, view["id"], {"title": els["title"]["initial_value"], "severity": "P1",
                                                    "description": els["description"]["initial_value"]})
    await h.sim.wait_ack(rec["envelope_id"])
    rows = await wait_db(h, "SELECT title, severity, origin_channel FROM incidents", lambda r: r)
    assert rows == [("Search returns 500 for every query", "P1", GENERAL)], rows


@timeout(30)
async def test_incident_links_unfurl_with_severity_status_commander_duration(h):
    h.config["public_url"] = "http://127.0.0.1:8099"
    await I.start(h, "2026-11-24T10:00:00+01:00", 60)  # an hour a minute: the duration moves
    _, chan = await I.declare(h, "P1 login fails for SSO users", user=ALICE)
    iid = db_value(h, "SELECT id FROM incidents")
    await h.slash("/incident", "lead", user=BOB, channel=chan["id"])
    await wait_db(h, "SELECT who FROM incident_roles WHERE role = 'commander'", lambda r: r)
    await h.sim.wait_until(lambda: h.bot_clock() - I.epoch("2026-11-24T10:00:00+01:00") >= 120, 10)
    url = "http://127.0.0.1:8099/incidents/%d/postmortem.md" % iid
    other = "http://127.0.0.1:8099/status"
    n = len(h.sim.calls)
    m, rec = h.sim.share_links(CAROL, GENERAL, "see <%s> and <%s> and https://example.org/x" % (url, other))
    assert rec is not None
    await h.sim.wait_ack(rec["envelope_id"])
    call = await h.wait_call("chat.unfurl", since=n, timeout=5)
    assert call["ok"], call["response"]
    unfurls = call["args"]["unfurls"]
    unfurls = json.loads(unfurls) if isinstance(unfurls, str) else unfurls
    assert list(unfurls) == [url], unfurls  # the status page and the foreign link are left alone
    text = "\n".join(M.block_texts(unfurls[url]["blocks"]))
    assert "Incident #%d" % iid in text and "login fails for SSO users" in text, text
    assert "P1" in text and "investigating" in text and "<@U0BOB00001>" in text, text
    assert " min so far" in text or " h " in text, text
    assert h.sim.find_message(h.sim.channels[GENERAL], m["ts"])["unfurls"][url]
    # a link to an incident that does not exist: no chat.unfurl at all
    n = len(h.sim.calls)
    _, rec = h.sim.share_links(CAROL, GENERAL, "old one <http://127.0.0.1:8099/incidents/999>")
    await h.sim.wait_ack(rec["envelope_id"])
    assert not h.sim.calls_of("chat.unfurl", since=n)


@timeout(30)
async def test_action_item_form_from_the_incident_channel(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", I.FROZEN)
    _, chan = await I.declare(h, "P2 nightly export late", user=ALICE)
    iid = db_value(h, "SELECT id FROM incidents")
    n = len(h.sim.calls)
    ack = await h.slash("/incident", "action", user=BOB, channel=chan["id"])
    assert ack["latency"] < 3.0
    call = await h.wait_call("views.open", since=n, timeout=3)
    assert call["ok"], call["response"]
    view = call["response"]["view"]
    assert view["callback_id"] == "incident.action_item"
    els = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert els["incident"]["initial_option"]["value"] == str(iid)  # typed in its channel
    assert els["who"]["type"] == "users_select" and els["who"]["initial_user"] == BOB
    # nothing to do, nobody: refused on both fields
    rec = h.sim.view_submission(BOB, view["id"], {"incident": str(iid), "text": "   "})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert a["payload"]["response_action"] == "errors" and set(a["payload"]["errors"]) == {"who", "text"}, a
    assert db_value(h, "SELECT count(*) FROM incident_actions") == 0
    m = len(h.sim.calls)
    rec = h.sim.view_submission(BOB, view["id"], {"incident": str(iid), "who": CAROL,
                                                  "text": "alert when the export is \"late\" > 1h"})
    a = await h.sim.wait_ack(rec["envelope_id"])
    assert not (a["payload"] or {}).get("response_action"), a
    rows = await wait_db(h, "SELECT incident_id, owner, text FROM incident_actions", lambda r: r)
    assert rows == [(iid, "carol", "alert when the export is \"late\" > 1h")], rows
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == BOB, since=m)
    # the typed command is unchanged
    ack = await h.slash("/incident", "action list", user=BOB, channel=chan["id"])
    assert "export" in h.ack_text(ack), h.ack_text(ack)
