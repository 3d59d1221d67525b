"""Issue 14, the incident's reach outside the chat: the war room (`severities[].bridge_url`) in
the channel's topic, the summary message and the page; `incident.archive_after` (a closed
incident's channel archived once, later, across restarts); a swap cancelled as one change.
docs/incidents.md, docs/integrations.md."""

import asyncio
import json
import subprocess

from alerting import message_now, wait_dm
from harness import timeout

import incidents as I

BRIDGE = "https://example.zoom.us/j/123456789?pwd=a&b"


def check_config(h):
    r = subprocess.run([h.bin, "check-config", h.write_config()], capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


@timeout(30)
async def test_bridge_url_in_topic_summary_and_page(h):
    h.config["severities"][1]["bridge_url"] = BRIDGE
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 payments stuck")
    c = ch["id"]
    topic = await h.sim.wait_call("conversations.setTopic", ok=True)
    assert "Bridge: " + BRIDGE + " | #1 payments stuck" in topic["args"]["topic"], topic["args"]["topic"]
    s = json.dumps(I.summary(h, c)["blocks"])
    assert "War room" in s and json.dumps("<%s|Join the bridge>" % BRIDGE.replace("&", "&amp;"))[1:-1] in s, s
    dm = await wait_dm(h, "U0ALICE001")
    page = json.dumps(message_now(h, dm)["blocks"])
    assert "Join the incident bridge" in page and "example.zoom.us/j/123456789" in page, page
    # resolved: the war room is over, so the summary no longer offers it
    await h.slash("/incident", "resolve", channel=c)
    await h.sim.wait_until(lambda: "Join the bridge" not in json.dumps(I.summary(h, c)["blocks"]), 8,
                           "the summary without the bridge")
    # a P2 (no bridge) shows none
    _, ch2 = await I.declare(h, "P2 slow admin page")
    assert "Join the bridge" not in json.dumps(I.summary(h, ch2["id"])["blocks"])


@timeout(30)
async def test_bridge_url_must_be_https(h):
    h.config["severities"][0]["bridge_url"] = "http://meet.example.com/abc"
    h.config["severities"][1]["bridge_url"] = "javascript:alert(1)"
    h.config["severities"][2]["review_within"] = "10m"
    rc, out = check_config(h)
    assert rc != 0
    assert 'severities[0].bridge_url: "http://meet.example.com/abc" is not an https:// URL' in out, out
    assert 'severities[1].bridge_url: "javascript:alert(1)" is not an http:// or https:// URL' in out, out
    assert "severities[2].review_within must be at least 1h" in out, out
    h.config["severities"][0]["bridge_url"] = "https://meet.google.com/abc-defg-hij"
    del h.config["severities"][1]["bridge_url"]
    h.config["severities"][2]["review_within"] = "2d"
    rc, out = check_config(h)
    assert rc == 0, out


async def close_incident(h, c):
    await h.slash("/incident", "resolve", channel=c)
    await h.slash("/incident", "postmortem done https://wiki.example.com/pm/1", channel=c)
    ack = await h.slash("/incident", "close", channel=c)
    assert "Closed #" in h.ack_text(ack), h.ack_text(ack)


@timeout(45)
async def test_closed_channel_archived_once_across_restarts(h):
    h.config["incident"] = {"archive_after": "7d"}
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P2 exports late")
    c = ch["id"]
    # a second one, resolved and reopened: never closed, never archived
    _, ch2 = await I.declare(h, "P2 badge printer offline")
    c2 = ch2["id"]
    await h.slash("/incident", "resolve", channel=c2)
    await h.slash("/incident", "reopen", channel=c2)
    await close_incident(h, c)
    assert I.db_rows(h, "SELECT key, state, due_at FROM jobs WHERE kind = 'incident.archive'") == [
        ("incident:1:archive", "pending", int(I.epoch("2026-12-01T10:00:00+01:00") * 1000))]
    # six days on: nothing yet
    await I.jump(h, "2026-11-30T10:00:00+01:00")
    await asyncio.sleep(0.8)
    assert not h.sim.calls_of("conversations.archive")
    # klaxon was down when it fell due: it happens when klaxon is back, once
    await I.jump(h, "2026-12-03T09:00:00+01:00")
    call = await h.sim.wait_call("conversations.archive", ok=True)
    assert call["args"]["channel"] == c
    assert h.sim.channels[c]["is_archived"]
    assert any("closed 8d 23h ago; archiving the channel" in t for t in I.texts(h, c)), I.texts(h, c)
    await I.jump(h, "2026-12-10T09:00:00+01:00")
    await I.jump(h, "2026-12-20T09:00:00+01:00")
    await asyncio.sleep(0.8)
    assert len(h.sim.calls_of("conversations.archive")) == 1
    assert not h.sim.channels[c2]["is_archived"]
    assert I.db_rows(h, "SELECT state FROM jobs WHERE kind = 'incident.archive'") == [("done",)]
    assert "archived" in [k for k, *_ in I.timeline(h)]


@timeout(30)
async def test_archive_after_check_config(h):
    h.config["incident"] = {"archive_after": "30s", "archive": True}
    rc, out = check_config(h)
    assert rc != 0
    assert "incident.archive_after: at least 1m" in out, out
    assert "archive" in out and "unknown" in out.lower(), out
    h.config["incident"] = {"archive_after": "soon"}
    rc, out = check_config(h)
    assert 'incident.archive_after: "soon" is not a duration' in out, out


@timeout(30)
async def test_cancelling_either_half_of_a_swap_cancels_both(h):
    from oncalling import BOB, CAROL, HANDOFF, text_of
    await h.start()
    text = h.ack_text(await h.slash("/oncall", "swap @bob #2", user=CAROL))
    assert "(swap #1 and #2" in text, text
    assert I.db_rows(h, "SELECT change_id, other_id FROM rota_swaps ORDER BY change_id") == [(1, 2), (2, 1)]
    # an ordinary override stays alone
    await h.slash("/oncall", "override @dave 2026-12-20 2026-12-21", user=CAROL)
    mark = len(h.sim.calls)
    text = h.ack_text(await h.slash("/oncall", "cancel 2", user=BOB))
    assert "cancelled the swap #2" in text and " and #1 " in text, text
    assert I.db_rows(h, "SELECT id, cancelled_at IS NOT NULL FROM rota_changes ORDER BY id") == [
        (1, 1), (2, 1), (3, 0)]
    await asyncio.sleep(0.8)
    announced = [text_of(h, c) for c in h.sim.calls_of("chat.postMessage", since=mark, done=True)
                 if c["args"].get("channel") == HANDOFF]
    assert len([t for t in announced if "cancelled the swap" in t]) == 1, announced
    sched = h.ack_text(await h.slash("/oncall", "schedule 3", user=CAROL))
    assert "(override)" not in sched, sched
    # the other half is gone too: cancelling it again finds nothing
    text = h.ack_text(await h.slash("/oncall", "cancel 1", user=CAROL))
    assert "no current or future change #1" in text, text


def invite_of(msg):
    """The text/calendar part of an email (parsed with the standard library), checked with
    ical_check.py's rules and parsed by python3-icalendar."""
    import email
    import email.policy
    import icalendar
    m = email.message_from_string(msg["data"], policy=email.policy.default)
    assert m.get_content_type() == "multipart/mixed", m.get_content_type()
    parts = [p for p in m.iter_parts() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in m.iter_parts()]
    part = parts[0]
    assert part.get_param("method") == "REQUEST", part["Content-Type"]
    raw = part.get_payload(decode=True)
    for line in raw.split(b"\r\n")[:-1]:
        assert len(line) <= 75 and b"\n" not in line, line
    assert raw.endswith(b"\r\n")
    return icalendar.Calendar.from_ical(raw), raw


@timeout(45)
async def test_review_invitation_in_business_hours_within_the_window(h):
    import datetime
    from zoneinfo import ZoneInfo
    from alerting import Smtp
    smtp = Smtp().start()
    try:
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com"}
        h.config["severities"][1]["review_within"] = "2d"
        h.config["severities"][0]["review_within"] = "2h"
        h.config["people"][1]["name"] = 'Bob "the builder", Jr.; ops'
        # Tuesday 16:40 in Berlin: an hour after the resolution is past 18:00, so Wednesday 08:00
        await I.start(h, "2026-11-24T16:40:00+01:00", scale=I.FROZEN)
        _, ch = await I.declare(h, "P1 Checkout, cart; and \\ wishlist down")
        c = ch["id"]
        await h.slash("/incident", "role commander @bob", channel=c)
        await h.slash("/incident", "role scribe @carol", channel=c)
        await h.message(c, "looking at the LB now", user="U0DAVE0001")
        await I.wait_timeline(h, lambda t: any(w == "U0DAVE0001" or w == "dave" for k, w, *_ in t))
        await I.jump(h, "2026-11-24T17:10:00+01:00")
        await h.slash("/incident", "resolve LB config rolled back", channel=c, user="U0BOB00001")
        want = {"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
        await smtp.wait(lambda m: len({t for x in smtp.messages for t in x["to"]} & want) == 4)
        await asyncio.sleep(0.5)
        got = [m for m in smtp.messages if "Blameless review" in m["data"]]
        assert sorted(t for m in got for t in m["to"]) == sorted(want), [m["to"] for m in got]
        uids = set()
        for m in got:
            cal, raw = invite_of(m)
            assert str(cal["METHOD"]) == "REQUEST"
            events = [e for e in cal.walk("VEVENT")]
            assert len(events) == 1
            ev = events[0]
            uids.add(str(ev["UID"]))
            assert str(ev["SUMMARY"]) == "Blameless review: Checkout, cart; and \\ wishlist down", ev["SUMMARY"]
            assert b"SUMMARY:Blameless review: Checkout\\, cart\\; and \\\\ wishlist down" in raw.replace(b"\r\n ", b"")
            start, end = ev["DTSTART"].dt, ev["DTEND"].dt
            assert end - start == datetime.timedelta(minutes=30)
            resolved = datetime.datetime.fromisoformat("2026-11-24T17:10:00+01:00")
            assert resolved < start and end <= resolved + datetime.timedelta(days=2), (start, end)
            local = start.astimezone(ZoneInfo("Europe/Berlin"))
            local_end = end.astimezone(ZoneInfo("Europe/Berlin"))
            assert local.weekday() < 5 and local.hour >= 8 and (local_end.hour, local_end.minute) <= (18, 0), local
            assert local.isoformat() == "2026-11-25T08:00:00+01:00", local
            assert str(ev["ORGANIZER"]) == "mailto:klaxon@example.com"
            atts = ev["ATTENDEE"] if isinstance(ev["ATTENDEE"], list) else [ev["ATTENDEE"]]
            assert sorted(str(a) for a in atts) == sorted("mailto:" + w for w in want), atts
            for a in atts:
                assert a.params["RSVP"] == "TRUE" and a.params["ROLE"] == "REQ-PARTICIPANT"
            bob = [a for a in atts if str(a) == "mailto:bob@example.com"][0]
            assert bob.params["CN"] == "Bob the builder, Jr.; ops", bob.params
        assert uids == {"klaxon-incident-1-review@klaxon"}, uids
        assert {int(invite_of(m)[0].walk("VEVENT")[0]["SEQUENCE"]) for m in got} == {0}
        await I.wait_said(h, c, ":calendar: A 30-minute blameless review is booked for 2026-11-25 08:00")
        # reopened and resolved again on Wednesday 09:00: the same event, moved (SEQUENCE 1)
        await I.jump(h, "2026-11-25T09:00:00+01:00")
        await h.slash("/incident", "reopen", channel=c, user="U0BOB00001")
        n0 = len(smtp.messages)
        await h.slash("/incident", "resolve for real", channel=c, user="U0BOB00001")
        await smtp.wait(lambda m: len(smtp.messages) >= n0 + 4)
        again = [m for m in smtp.messages[n0:] if "Blameless review" in m["data"]]
        ev = invite_of(again[0])[0].walk("VEVENT")[0]
        assert str(ev["UID"]) == "klaxon-incident-1-review@klaxon" and int(ev["SEQUENCE"]) == 1
        assert ev["DTSTART"].dt.astimezone(ZoneInfo("Europe/Berlin")).isoformat() == "2026-11-25T10:00:00+01:00"
        # a P2 (no review_within) books nothing; a window with no business hours says so
        await I.jump(h, "2026-11-27T17:00:00+01:00")
        _, ch2 = await I.declare(h, "P0 weekend outage")
        n = len(smtp.messages)
        await h.slash("/incident", "resolve", channel=ch2["id"])
        await I.wait_said(h, ch2["id"], "No business hours of the rota fall within the review window")
        await asyncio.sleep(0.5)
        assert not [m for m in smtp.messages[n:] if "Blameless review" in m["data"]]
    finally:
        smtp.stop()


class Confluence:
    """A strict stand-in for Confluence Cloud REST v2 pages (and a webhook receiver): Basic auth
    with the one email and API token, JSON in, the storage representation only, well-formed XHTML,
    the configured space and parent, and on update the page's next version number exactly."""

    EMAIL, TOKEN = "pm-bot@example.com", "ATATT3xFfGF0-test-token"

    def __init__(self):
        self.pages = {}
        self.requests = []
        self.refused = []
        self.hooks = []
        self.next_id = 557057

    async def start(self):
        from aiohttp import web
        app = web.Application()
        app.router.add_post("/wiki/api/v2/pages", self.create)
        app.router.add_put("/wiki/api/v2/pages/{id}", self.update)
        app.router.add_post("/hooks/postmortem", self.hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        await self.runner.cleanup()

    def refuse(self, status, why):
        from aiohttp import web
        self.refused.append((status, why))
        return web.json_response({"errors": [{"status": status, "title": why}]}, status=status)

    async def checked(self, request, keys):
        import base64
        want = "Basic " + base64.b64encode(("%s:%s" % (self.EMAIL, self.TOKEN)).encode()).decode()
        if request.headers.get("Authorization") != want:
            return None, self.refuse(401, "bad credentials: %r" % request.headers.get("Authorization"))
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return None, self.refuse(415, "not JSON")
        body = await request.json()
        self.requests.append((request.method, request.path, body))
        extra = set(body) - keys
        if extra:
            return None, self.refuse(400, "unknown fields %s" % sorted(extra))
        b = body.get("body") or {}
        if b.get("representation") != "storage" or not isinstance(b.get("value"), str):
            return None, self.refuse(400, "body must be {representation: storage, value}")
        import xml.etree.ElementTree as ET
        try:
            ET.fromstring("<root>%s</root>" % b["value"])
        except ET.ParseError as e:
            return None, self.refuse(400, "not well-formed XHTML: %s" % e)
        if body.get("status") != "current" or not body.get("title"):
            return None, self.refuse(400, "status current and a title are required")
        return body, None

    def answer(self, page):
        from aiohttp import web
        return web.json_response({
            "id": page["id"], "status": "current", "title": page["title"], "spaceId": page["spaceId"],
            "parentId": page["parentId"], "parentType": "page", "authorId": "5b10ac8d82e05b22cc7d4ef5",
            "createdAt": "2026-11-24T10:00:00.000Z",
            "version": {"createdAt": "2026-11-24T10:00:00.000Z", "message": "", "number": page["version"],
                        "minorEdit": False, "authorId": "5b10ac8d82e05b22cc7d4ef5"},
            "body": {},
            "_links": {"webui": "/spaces/PM/pages/%s/Postmortem" % page["id"], "editui": "/pages/resumedraft.action",
                       "tinyui": "/x/AQ", "base": "http://127.0.0.1:%d/wiki" % self.port}})

    async def create(self, request):
        body, refused = await self.checked(request, {"spaceId", "status", "title", "parentId", "body"})
        if refused is not None:
            return refused
        if body.get("spaceId") != "98765" or body.get("parentId") != "131073":
            return self.refuse(400, "wrong space or parent: %r %r" % (body.get("spaceId"), body.get("parentId")))
        if any(p["title"] == body["title"] for p in self.pages.values()):
            return self.refuse(400, "A page with this title already exists")
        pid = str(self.next_id)
        self.next_id += 1
        self.pages[pid] = {"id": pid, "title": body["title"], "spaceId": "98765", "parentId": "131073",
                           "version": 1, "value": body["body"]["value"]}
        return self.answer(self.pages[pid])

    async def update(self, request):
        body, refused = await self.checked(request, {"id", "status", "title", "body", "version"})
        if refused is not None:
            return refused
        page = self.pages.get(request.match_info["id"])
        if not page or body.get("id") != page["id"]:
            return self.refuse(404, "no such page")
        v = (body.get("version") or {}).get("number")
        if v != page["version"] + 1:
            return self.refuse(409, "Version must be incremented on update. Current Version is: %d" % page["version"])
        page.update(version=v, title=body["title"], value=body["body"]["value"])
        return self.answer(page)

    async def hook(self, request):
        from aiohttp import web
        self.hooks.append((request.headers.get("Content-Type"), await request.json()))
        return web.json_response({"ok": True})


TITLE = 'Cart <script>alert("x")</script> & ]]> "quotes" down'


@timeout(60)
async def test_postmortem_to_confluence_and_a_webhook(h):
    import xml.etree.ElementTree as ET
    conf = await Confluence().start()
    try:
        h.config["postmortem"] = {
            "confluence": {"url": "http://127.0.0.1:%d/" % conf.port, "space_id": "98765", "parent_id": "131073",
                           "email_env": "CONFLUENCE_EMAIL", "token_env": "CONFLUENCE_TOKEN"},
            "webhook_url_env": "PM_WEBHOOK_URL"}
        h.env.update({"CONFLUENCE_EMAIL": conf.EMAIL, "CONFLUENCE_TOKEN": conf.TOKEN,
                      "PM_WEBHOOK_URL": "http://127.0.0.1:%d/hooks/postmortem" % conf.port})
        await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
        _, ch = await I.declare(h, "P1 " + TITLE)
        c = ch["id"]
        await h.message(c, "rolled back <b>v2</b> & cleared the [cache](x)", user="U0BOB00001")
        await I.wait_timeline(h, lambda t: any("rolled back" in (x[2] or "") for x in t))
        await h.slash("/incident", "resolve config push; rolled back", channel=c)
        ack = await h.slash("/incident", "postmortem export", channel=c)
        assert "a Confluence page is being created" in h.ack_text(ack), h.ack_text(ack)
        await I.wait_said(h, c, "The postmortem is in Confluence")
        assert not conf.refused, conf.refused
        (pid, page), = conf.pages.items()
        assert page["version"] == 1 and page["title"] == "Postmortem: incident #1 — " + TITLE, page["title"]
        root = ET.fromstring("<root>%s</root>" % page["value"])
        assert root.find(".//script") is None and root.find(".//b") is None
        text = "".join(root.itertext())
        assert TITLE in text and "rolled back <b>v2</b> & cleared the [cache](x)" in text, text
        assert root.find("h1") is not None and root.find(".//table/tbody/tr/th") is not None
        link = "http://127.0.0.1:%d/wiki/spaces/PM/pages/%s/Postmortem" % (conf.port, pid)
        await I.wait_said(h, c, "(version 1)")
        assert any(link in t for t in I.texts(h, c)), I.texts(h, c)
        assert I.db_rows(h, "SELECT page_id, version, url FROM postmortem_exports") == [(pid, 1, link)]
        # the webhook: JSON with the incident and the Markdown
        await h.sim.wait_until(lambda: conf.hooks, 5, "the webhook")
        ctype, j = conf.hooks[0]
        assert ctype.startswith("application/json")
        assert j["incident"]["id"] == 1 and j["incident"]["title"] == TITLE and j["incident"]["severity"] == "P1"
        assert j["incident"]["status"] == "resolved" and j["markdown"].startswith("# Postmortem: incident #1")
        # marked done: exported again on its own, the same page, the next version
        await h.slash("/incident", "postmortem done https://wiki.example.com/pm/1", channel=c)
        await I.wait_said(h, c, "(version 2)")
        assert conf.pages[pid]["version"] == 2 and len(conf.pages) == 1
        await h.sim.wait_until(lambda: len(conf.hooks) == 2, 5, "the second webhook")
        assert conf.hooks[1][1]["incident"]["postmortem_url"] == "https://wiki.example.com/pm/1"
        # across a restart the page id and version are kept
        await I.jump(h, "2026-11-24T12:00:00+01:00")
        await h.slash("/incident", "postmortem export", channel=c)
        await I.wait_said(h, c, "(version 3)")
        assert [m for m, *_ in conf.requests] == ["POST", "PUT", "PUT"], conf.requests
        assert not conf.refused, conf.refused
        # the credentials are read when sending and never stored
        dump = json.dumps(I.db_rows(h, "SELECT body FROM outbox"))
        assert conf.TOKEN not in dump and conf.EMAIL not in dump and "/hooks/postmortem" not in dump
        # wrong credentials: Confluence refuses, the channel is told, nothing changes
        h.env["CONFLUENCE_TOKEN"] = "wrong"
        await I.jump(h, "2026-11-24T12:10:00+01:00")
        await h.slash("/incident", "postmortem export", channel=c)
        await I.wait_said(h, c, "Confluence did not take the postmortem (export_http_401)")
        assert conf.pages[pid]["version"] == 3 and conf.refused[-1][0] == 401
        assert I.db_rows(h, "SELECT page_id, version FROM postmortem_exports") == [(pid, 3)]
    finally:
        await conf.stop()


@timeout(30)
async def test_postmortem_export_config_and_refusals(h):
    h.config["postmortem"] = {"confluence": {"url": "http://wiki.example.com", "space_id": "PM",
                                             "email_env": "confluence-email", "token": "x"},
                              "webhook_url_env": "https://hooks.example.com/x"}
    rc, out = check_config(h)
    assert rc != 0
    for want in ('postmortem.confluence.url: "http://wiki.example.com" is not an https:// URL',
                 'postmortem.confluence.space_id: "PM" is not a Confluence id',
                 "postmortem.confluence.email_env is not an environment variable name",
                 "postmortem.confluence.token_env is missing",
                 'unknown key "token" in postmortem.confluence',
                 "postmortem.webhook_url_env is not an environment variable name"):
        assert want in out, (want, out)
    # configured, but the credentials' variables are not set: refused before sending, said, and
    # the claim on the page is let go (a later export may create it)
    h.config["postmortem"] = {"confluence": {"url": "http://127.0.0.1:9", "space_id": "1",
                                             "email_env": "NO_SUCH_EMAIL", "token_env": "NO_SUCH_TOKEN"}}
    h.env.update({"NO_SUCH_EMAIL": None, "NO_SUCH_TOKEN": None})
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P2 no credentials")
    for _ in range(2):
        ack = await h.slash("/incident", "postmortem export", channel=ch["id"])
        assert "a Confluence page is being created" in h.ack_text(ack), h.ack_text(ack)
        await I.wait_said(h, ch["id"], "Confluence did not take the postmortem", count=_ + 1)
        await I.wait_db(h, "SELECT COUNT(*) FROM postmortem_exports", lambda r: r == [(0,)])
    # nothing configured
    h.config["postmortem"] = {}
    h.write_config()
    await I.jump(h, "2026-11-24T10:05:00+01:00")
    _, ch = await I.declare(h, "P2 nothing configured")
    ack = await h.slash("/incident", "postmortem export", channel=ch["id"])
    assert "No export is configured" in h.ack_text(ack), h.ack_text(ack)
