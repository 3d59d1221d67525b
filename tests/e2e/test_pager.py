"""Pages that wake people (issue 11, docs/paging.md): a person's own rules (chat, push, SMS,
voice, email) on the bot's scaled clock, Twilio both ways against the stand-in whose webhooks
are signed by Twilio's own npm library (tests/sim/twilio_sim.js), an ntfy-shaped receiver,
the one-time acknowledge links, Slack's Do Not Disturb, dead ends that move on at once, and
kill -9 between steps."""

import asyncio
import hashlib
import hmac
import json
import subprocess
import time

from aiohttp import web

from alerting import Smtp, db_rows, db_value, message_now, post, wait_db, wait_dm
from harness import alone, timeout

ALICE, BOB = "U0ALICE001", "U0BOB00001"
ALICE_PHONE, BOB_PHONE = "+4915112345671", "+4915112345672"


def critical(title="DiskFull", key=None):
    body = {"title": title, "severity": "critical", "source": "e2e", "status": "firing",
            "details": {"summary": "the disk of db-1 is full"}}
    if key:
        body["dedup_key"] = key
    return body


class Ntfy:
    """An ntfy-shaped receiver: POST /<topic> with the message as the body and Title, Priority,
    Tags, Click, Actions as headers (docs.ntfy.sh/publish); answers as ntfy does."""

    def __init__(self):
        self.got = []
        self.runner = None
        self.port = None

    async def start(self):
        app = web.Application()
        app.router.add_post("/{topic}", self._publish)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def _publish(self, request):
        body = await request.text()
        self.got.append({"topic": request.match_info["topic"], "headers": dict(request.headers), "body": body})
        return web.json_response({"id": "m%d" % len(self.got), "time": int(time.time()), "event": "message",
                                  "topic": request.match_info["topic"], "message": body})

    def url(self, topic):
        return "http://127.0.0.1:%d/%s" % (self.port, topic)

    async def wait(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.got) < n:
            assert time.monotonic() < deadline, "ntfy got %d of %d" % (len(self.got), n)
            await asyncio.sleep(0.05)
        return self.got[n - 1]

    async def stop(self):
        if self.runner:
            await self.runner.cleanup()


async def setup(h, alice_rules=None, bob_rules=None, scale=1, ntfy=None, smtp=None):
    tw = await h.start_twilio()
    h.config["targets"] = {"page_success": "100%"}
    # These tests are about a person's own rules: P1's acknowledge target (5m, which escalates to
    # the secondary at once when missed) is set out of their way.
    for sev in h.config["severities"]:
        if sev["name"] == "P1":
            sev["ack"] = "1h"
    h.time_scale = scale
    h.config["public_url"] = "http://127.0.0.1:%d" % h.http_port
    for p in h.config["people"]:
        if p["id"] == "alice":
            p["phone"] = "+49 151 1234 5671"  # written with spaces; kept as E.164
            if ntfy:
                p["push"] = ntfy.url("alice-pager")
            if alice_rules is not None:
                p["notify"] = alice_rules
        if p["id"] == "bob":
            p["phone"] = BOB_PHONE
            if bob_rules is not None:
                p["notify"] = bob_rules
    if smtp:
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com"}
    return tw


async def wait_for(fn, pred, timeout=10.0, what="it"):
    deadline = time.monotonic() + timeout
    while True:
        got = await fn()
        if pred(got):
            return got
        assert time.monotonic() < deadline, "never happened: %s (last %r)" % (what, got)
        await asyncio.sleep(0.05)


def attempts(h):
    return db_rows(h, "SELECT person, rule, via, state FROM page_attempts ORDER BY id")


def twilio_url(h, what):
    return "http://127.0.0.1:%d/twilio/%s" % (h.http_port, what)


@alone
@timeout(60)
async def test_rules_run_chat_push_sms_voice_and_an_sms_reply_acknowledges(h):
    ntfy = await Ntfy().start()
    try:
        # 120x: 2 minutes are 1 s, 5 minutes 2.5 s; the secondary (15m) is 7.5 s away.
        tw = await setup(h, [{"after": "0m", "via": ["chat", "push"]}, {"after": "2m", "via": "sms"},
                             {"after": "5m", "via": "voice"}], scale=120, ntfy=ntfy)
        await tw.set_behaviour(ALICE_PHONE, call="no-answer")
        await h.start()
        t0 = time.monotonic()
        status, body = await post(h, "/alerts/webhook", critical())
        assert status == 200, body
        dm = await wait_dm(h, ALICE)
        push = await ntfy.wait(1)
        assert push["topic"] == "alice-pager"
        assert push["headers"]["Priority"] == "5" and "DiskFull" in push["headers"]["Title"], push
        assert push["headers"]["Actions"].startswith("http, Acknowledge, http://127.0.0.1:%d/pages/ack/" % h.http_port)
        assert "the disk of db-1 is full" in push["body"]
        msgs = await wait_for(tw.messages, lambda m: len(m) == 1, what="the SMS")
        took_sms = time.monotonic() - t0
        assert 0.8 < took_sms < 3.5, took_sms  # 2 virtual minutes
        sms = msgs[0]
        assert sms["to"] == ALICE_PHONE and sms["from"] == tw.from_number
        assert "Reply 1 to acknowledge, 2 to escalate, 3 to resolve (page 1)" in sms["body"], sms["body"]
        assert sms["status_callback"].startswith("http://127.0.0.1:%d/twilio/status?attempt=" % h.http_port)
        calls = await wait_for(tw.calls, lambda c: len(c) == 1 and c[0]["status"] == "no-answer", what="the call")
        took_call = time.monotonic() - t0
        assert 2.0 < took_call < 5.5, took_call  # 5 virtual minutes
        assert calls[0]["machine_detection"] == "Enable", calls[0]
        # No answer is no acknowledgement.
        await wait_db(h, "SELECT via, state FROM page_attempts WHERE via = 'voice'", lambda r: r == [("voice", "no-answer")])
        assert db_value(h, "SELECT state FROM pages") == "open"
        # "1" by SMS acknowledges; the DM is brought up to date.
        mark = len(h.sim.calls)
        r = await tw.inbound_sms(twilio_url(h, "sms"), From=ALICE_PHONE, To=tw.from_number, Body=" 1 ")
        assert r["status"] == 200 and "Page 1 acknowledged" in r["body"], r
        assert r["contentType"].startswith("text/xml"), r
        assert db_rows(h, "SELECT state, acked_by FROM pages") == [("acked", "alice")]
        ch, ts = dm["response"]["channel"], dm["response"]["ts"]
        await h.wait_call("chat.update", lambda c: c["args"].get("channel") == ch and c["args"].get("ts") == ts, since=mark)
        await asyncio.sleep(0.3)
        text = h.message_text(message_now(h, dm))
        assert "Acknowledged by" in text and "SMS delivered" in text and "acknowledged by SMS" in text, text
        assert "· +4915112345671" in text, text  # whoever reads the page can call who has it
        assert attempts(h) == [("alice", 0, "chat", "delivered"), ("alice", 0, "push", "sent"),
                               ("alice", 1, "sms", "delivered"), ("alice", 2, "voice", "no-answer")], attempts(h)
        # Nothing more reaches her (the resolve target, a job of its own, stays: docs/alerts.md).
        assert db_value(h, "SELECT count(*) FROM jobs WHERE state = 'pending' AND (key LIKE 'page:%:notify:%'"
                           " OR key LIKE 'page:%:step:%')") == 0
        # A second "ack" says so and changes nothing.
        r = await tw.inbound_sms(twilio_url(h, "sms"), From=ALICE_PHONE, To=tw.from_number, Body="ack")
        assert r["status"] == 200 and "no open page" not in r["body"].lower() or "already" in r["body"].lower(), r
        # stats: page success against targets.page_success, and attempts per page.
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h.bot_clock() + 3600))
        out = subprocess.run([h.bin, "stats", "--config", h.config_path, "--since", "7", "--json"],
                             env=dict(h.bot_env(), KLAXON_NOW=later, KLAXON_TIME_SCALE="1"),
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        ps = json.loads(out.stdout)["page_success"]
        assert ps == {"rate": 1, "acknowledged": 1, "pages": 1, "attempts": 4, "target": 1, "met": True}, ps
        status, metrics = await h.metrics()
        assert 'klaxon_notifications_total{via="sms",result="delivered"} 1' in metrics, metrics
        assert 'klaxon_page_delivery_seconds_count{via="sms"} 1' in metrics, metrics
    finally:
        await ntfy.stop()


@timeout(40)
async def test_a_keypress_on_the_call_acknowledges_and_every_copy_follows(h):
    tw = await setup(h, [{"after": "0m", "via": ["chat", "voice"]}])
    await tw.set_behaviour(ALICE_PHONE, call="answer", digit="1")
    await h.start()
    await post(h, "/alerts/webhook", critical())
    dm = await wait_dm(h, ALICE)
    await wait_db(h, "SELECT state, acked_by FROM pages", lambda r: r == [("acked", "alice")], timeout=10)
    calls = await wait_for(tw.calls, lambda c: len(c) == 1 and c[0]["status"] == "completed", what="the call")
    # What Twilio was told to say: the page twice, inside one Gather of one digit.
    first = calls[0]["documents"][0]
    gather = [v for v in first["verbs"] if v["verb"] == "Gather"][0]
    assert gather["attrs"]["numDigits"] == "1", gather
    says = [c["text"] for c in gather["children"] if c["verb"] == "Say"]
    assert sum("DiskFull" in s for s in says) == 2, says
    assert "acknowledged" in str(calls[0]["documents"][-1]).lower(), calls[0]["documents"]
    await asyncio.sleep(0.5)
    text = h.message_text(message_now(h, dm))
    assert "Acknowledged by" in text and "acknowledged by voice" in text, text
    assert db_rows(h, "SELECT via, state, acked_at IS NOT NULL FROM page_attempts ORDER BY id") == [
        ("chat", "delivered", 0), ("voice", "answered", 1)]


@timeout(40)
async def test_forged_or_missing_signature_is_403_and_changes_nothing(h):
    tw = await setup(h, [{"after": "0m", "via": ["chat", "sms"]}])
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE)
    await wait_for(tw.messages, lambda m: len(m) == 1 and m[0]["status"] == "delivered", what="the SMS")
    await wait_db(h, "SELECT state FROM page_attempts WHERE via = 'sms'", lambda r: r == [("delivered",)])
    attempt = db_value(h, "SELECT id FROM page_attempts WHERE via = 'sms'")
    before = db_rows(h, "SELECT * FROM page_attempts ORDER BY id")
    reply = {"From": ALICE_PHONE, "To": tw.from_number, "Body": "1", "MessageSid": "SM" + "0" * 32}
    for kind in ("absent", "other-token", "garbage"):
        kw = {"signature": "absent"} if kind == "absent" else \
             {"token": "not-the-auth-token"} if kind == "other-token" else {"signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}
        r = await tw.forged(twilio_url(h, "sms"), reply, **kw)
        assert r["status"] == 403, (kind, r)
        r = await tw.forged(twilio_url(h, "status") + "?attempt=%d" % attempt,
                            {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30008"}, **kw)
        assert r["status"] == 403, (kind, r)
    # A genuine signature over another URL (a replay to another path) is refused too.
    r = await tw.inbound_sms(twilio_url(h, "voice"), From=ALICE_PHONE, To=tw.from_number, Body="1")
    assert r["status"] == 200 and "Hangup" in r["body"], r  # no attempt named: nothing said, nothing done
    assert db_value(h, "SELECT state FROM pages") == "open"
    assert db_rows(h, "SELECT * FROM page_attempts ORDER BY id") == before
    assert "webhook_refused" in h.log_text()


@timeout(40)
async def test_an_undelivered_sms_moves_to_the_next_method_at_once(h):
    # 60x: the call's rule is 10 virtual minutes (10 s) away; an undelivered SMS starts it now.
    tw = await setup(h, [{"after": "0m", "via": "sms"}, {"after": "10m", "via": "voice"}], scale=60)
    await tw.set_behaviour(ALICE_PHONE, sms="undelivered", call="no-answer")
    await h.start()
    t0 = time.monotonic()
    await post(h, "/alerts/webhook", critical())
    await wait_for(tw.calls, lambda c: len(c) == 1, timeout=6, what="the call after the undelivered SMS")
    assert time.monotonic() - t0 < 5, time.monotonic() - t0
    await wait_db(h, "SELECT via, state, error FROM page_attempts WHERE via = 'sms'",
                  lambda r: r == [("sms", "undelivered", "twilio_30003")])


@timeout(40)
async def test_twilio_refusing_the_number_moves_on_at_once(h):
    tw = await setup(h, [{"after": "0m", "via": "sms"}, {"after": "30m", "via": "chat"}], scale=1)
    # A number Twilio refuses (a 400: the recipient replied STOP) is a dead end, not a retry loop.
    await tw.set_behaviour(ALICE_PHONE, refuse=21610)
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE, timeout=6)
    rows = await wait_db(h, "SELECT via, state FROM page_attempts ORDER BY id",
                         lambda r: len(r) == 2 and r[1][1] == "delivered")
    assert rows == [("sms", "failed"), ("chat", "delivered")], rows
    assert "21610" in db_value(h, "SELECT error FROM page_attempts WHERE via = 'sms'")


@timeout(60)
async def test_kill9_between_steps_fires_each_once(h):
    tw = await setup(h, [{"after": "0m", "via": "chat"}, {"after": "2m", "via": "sms"},
                         {"after": "4m", "via": "voice"}], scale=60)
    await tw.set_behaviour(ALICE_PHONE, call="no-answer")
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE)
    await wait_db(h, "SELECT state FROM page_attempts WHERE via = 'chat'", lambda r: r == [("delivered",)])
    await h.kill9()
    await asyncio.sleep(2.5)  # the SMS (2 virtual minutes) falls due while klaxon is down
    await h.restart()
    await wait_for(tw.messages, lambda m: len(m) >= 1, timeout=8, what="the SMS after the restart")
    # Between steps: the SMS is sent and recorded (Twilio's SID stored); a kill inside that
    # instant is the outbox's at-least-once window (docs/paging.md), not this test's subject.
    await wait_db(h, "SELECT count(*) FROM page_attempts WHERE via = 'sms' AND provider_id IS NOT NULL",
                  lambda r: r == [(1,)])
    await h.kill9()
    await h.restart()
    await wait_for(tw.calls, lambda c: len(c) >= 1, timeout=8, what="the call")
    await asyncio.sleep(1.5)
    assert len(await tw.messages()) == 1 and len(await tw.calls()) == 1
    assert [r[2] for r in attempts(h)] == ["chat", "sms", "voice"], attempts(h)
    assert len([c for c in h.sim.calls_of("chat.postMessage") if c["args"].get("channel") == ALICE]) == 1


@timeout(40)
async def test_acknowledge_link_works_once_and_only_for_its_page(h):
    ntfy = await Ntfy().start()
    try:
        await setup(h, [{"after": "0m", "via": "push"}], ntfy=ntfy)
        await h.start()
        await post(h, "/alerts/webhook", critical(key="one"))
        first = await ntfy.wait(1)
        await post(h, "/alerts/webhook", critical(title="CpuHot", key="two"))
        second = await ntfy.wait(2)
        link1 = first["headers"]["Click"]
        link2 = second["headers"]["Click"]
        assert link1 != link2 and "/pages/ack/" in link1
        import aiohttp
        async with aiohttp.ClientSession() as s:
            async with s.get(link1) as r:
                page = await r.text()
                assert r.status == 200 and "<form method=\"post\">" in page and "DiskFull" in page, page
                assert "CpuHot" not in page
                assert r.headers["Cache-Control"] == "no-store"
            # A GET changed nothing (a mail scanner or a link preview may fetch it).
            assert db_rows(h, "SELECT id, state FROM pages ORDER BY id") == [(1, "open"), (2, "open")]
            # Another page's id with this link's signature: refused, and the answer tells nothing.
            tok = link1.rsplit("/", 1)[1]
            aid, exp, mac = tok.split(".")
            other = db_value(h, "SELECT id FROM page_attempts WHERE page_id = 2")
            async with s.post(link1.rsplit("/", 1)[0] + "/%d.%s.%s" % (other, exp, mac)) as r:
                assert r.status == 404 and "CpuHot" not in await r.text()
            # An expired link, signed with the right secret: refused on the real clock.
            past = int(time.time()) - 60
            what = "ack:%s:1:alice:%d" % (aid, past)
            mac_past = hmac.new(h.feed_secret.encode(), what.encode(), hashlib.sha256).hexdigest()[:32]
            async with s.post(link1.rsplit("/", 1)[0] + "/%s.%d.%s" % (aid, past, mac_past)) as r:
                assert r.status == 404, r.status
            assert db_rows(h, "SELECT id, state FROM pages ORDER BY id") == [(1, "open"), (2, "open")]
            async with s.post(link1) as r:
                assert r.status == 200 and "You acknowledged the page" in await r.text()
            assert db_rows(h, "SELECT id, state, acked_by FROM pages ORDER BY id") == [(1, "acked", "alice"), (2, "open", None)]
            async with s.post(link1) as r:
                assert r.status == 410 and "works once" in await r.text()
            async with s.post(link2) as r:
                assert r.status == 200
            assert db_rows(h, "SELECT state FROM pages ORDER BY id") == [("acked",), ("acked",)]
    finally:
        await ntfy.stop()


@timeout(40)
async def test_slack_do_not_disturb_starts_the_next_method_at_once(h):
    smtp = Smtp().start()
    try:
        # No rules: chat, then email after 5 minutes; DND makes it now.
        await setup(h, None, smtp=smtp)
        h.sim.set_dnd(ALICE, snooze=True)
        await h.start()
        await post(h, "/alerts/webhook", critical())
        await wait_dm(h, ALICE)
        m = await smtp.wait(lambda m: "alice@example.com" in m["to"], timeout=6)
        assert "DiskFull" in m["data"], m
        assert "/pages/ack/" in m["data"], m["data"]
        await wait_db(h, "SELECT via, state FROM page_attempts ORDER BY id",
                      lambda r: r == [("chat", "snoozed"), ("email", "sent")])
        assert h.sim.calls_of("dnd.info")[0]["args"]["user"] == ALICE
    finally:
        smtp.stop()


@timeout(30)
async def test_check_config_refuses_methods_a_person_cannot_be_reached_by(h):
    h.config["people"][0]["notify"] = [{"after": "0m", "via": "sms"}, {"after": "1m", "via": "fax"}]
    h.config["people"][1]["phone"] = "030 1234"
    h.config["people"][1]["push"] = "ftp://nope"
    r = subprocess.run([h.bin, "check-config", h.write_config()], capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    for want in ('people[0].notify[0]: sms and voice need phone', '"fax" is not a method',
                 'people[1].phone: "030 1234" is not an E.164 phone number',
                 "people[1].push"):
        assert want in out, (want, out)


@timeout(40)
async def test_oncall_notify_shows_methods_and_tests_one(h):
    tw = await setup(h, [{"after": "0m", "via": ["chat", "push"]}, {"after": "2m", "via": "sms"}])
    for p in h.config["people"]:
        if p["id"] == "alice":
            p["push"] = "http://127.0.0.1:9/unused"
    await h.start()
    ack = await h.slash("/oncall", "notify", user=ALICE)
    text = h.ack_text(ack)
    for want in ("How klaxon reaches you", "+4915112345671", "at once: chat + push", "after 2m: sms"):
        assert want in text, (want, text)
    ack = await h.slash("/oncall", "who", user=ALICE)
    assert "+4915112345671" in h.ack_text(ack), h.ack_text(ack)  # the primary's phone
    ack = await h.slash("/oncall", "notify test sms", user=ALICE)
    assert "is on its way by sms" in h.ack_text(ack), h.ack_text(ack)
    msgs = await wait_for(tw.messages, lambda m: len(m) == 1 and m[0]["status"] == "delivered", what="the test SMS")
    assert msgs[0]["to"] == ALICE_PHONE and "TEST" in msgs[0]["body"], msgs[0]
    await wait_db(h, "SELECT via, state FROM page_attempts", lambda r: r == [("sms", "delivered")])
    ack = await h.slash("/oncall", "pages", user=ALICE)
    assert "SMS delivered" in h.ack_text(ack), h.ack_text(ack)
    # Only that method: no DM, no push, no rule after it.
    await asyncio.sleep(0.5)
    assert not [c for c in h.sim.calls_of("chat.postMessage") if c["args"].get("channel") == ALICE]
    assert db_value(h, "SELECT count(*) FROM jobs WHERE state = 'pending' AND key LIKE 'page:%'") == 0
    # Bob has no phone: the test says why instead of pretending.
    ack = await h.slash("/oncall", "notify test push", user="U0CAROL001")
    assert "could not go by push: no push URL" in h.ack_text(ack), h.ack_text(ack)
    ack = await h.slash("/oncall", "notify test fax", user=ALICE)
    assert "Usage" in h.ack_text(ack)


@timeout(30)
async def test_a_page_with_nobody_on_call_goes_to_the_manager_and_the_channel(h):
    await setup(h)
    h.config["rotas"][0]["start"] = "2027-03-01"  # the rota has not begun: its primary slot is empty
    await h.start()
    await post(h, "/alerts/webhook", critical())
    erin = await wait_dm(h, "U0ERIN0001")
    assert "DiskFull" in h.message_text(erin["args"])
    said = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0INCIDENT")
    text = h.message_text(said["args"])
    assert "nobody is on call" in text and "DiskFull" in text, text


@timeout(40)
async def test_a_dm_refused_for_good_moves_on_and_a_webhook_push_gets_json(h):
    got = []

    async def hook(request):
        got.append({"headers": dict(request.headers), "body": await request.json()})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/page", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        tw = await setup(h, [{"after": "0m", "via": ["chat", "push"]}, {"after": "10m", "via": "sms"}])
        for p in h.config["people"]:
            if p["id"] == "alice":
                p["slack"] = "U0GHOST001"  # no such user in the workspace: the DM fails for good
                p["push"] = {"webhook": "http://127.0.0.1:%d/page" % port}
        await h.start()
        t0 = time.monotonic()
        await post(h, "/alerts/webhook", critical())
        await wait_for(tw.messages, lambda m: len(m) == 1, timeout=6, what="the SMS after the failed DM")
        assert time.monotonic() - t0 < 5  # not 10 minutes
        rows = await wait_db(h, "SELECT via, state FROM page_attempts ORDER BY id", lambda r: len(r) == 3)
        assert rows[0][0] == "chat" and rows[0][1] == "failed", rows
        err = db_value(h, "SELECT error FROM page_attempts WHERE via = 'chat'")
        assert err in ("user_not_found", "channel_not_found"), err
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        body = got[0]["body"]
        assert got[0]["headers"]["Content-Type"].startswith("application/json")
        assert body["event"] == "klaxon.page" and body["page_id"] == 1 and body["person"] == "alice", body
        assert body["title"] == "DiskFull" and body["severity"] == "P1" and body["test"] is False, body
        assert body["ack_url"].startswith("http://127.0.0.1:%d/pages/ack/" % h.http_port), body
    finally:
        await runner.cleanup()


@timeout(40)
async def test_a_contact_step_texts_and_calls_and_the_contact_can_acknowledge(h):
    tw = await setup(h)
    contact_phone = "+4930111222333"
    h.config["contacts"] = [{"name": "hosting", "phone": "+49 30 111 222 333"}]
    h.config["escalation_policies"][0]["steps"].insert(1, {"after": "0m", "notify": "contact:hosting"})
    await tw.set_behaviour(contact_phone, call="no-answer")
    await h.start()
    await post(h, "/alerts/webhook", critical())
    dm = await wait_dm(h, ALICE)
    msgs = await wait_for(tw.messages, lambda m: any(x["to"] == contact_phone for x in m), what="the contact's SMS")
    sms = [x for x in msgs if x["to"] == contact_phone][0]
    assert "Reply 1 to acknowledge" in sms["body"], sms
    await wait_for(tw.calls, lambda c: any(x["to"] == contact_phone for x in c), what="the contact's call")
    r = await tw.inbound_sms(twilio_url(h, "sms"), From=contact_phone, To=tw.from_number, Body="1")
    assert r["status"] == 200 and "Page 1 acknowledged" in r["body"], r
    assert db_rows(h, "SELECT state, acked_by FROM pages") == [("acked", "contact:hosting")]
    await asyncio.sleep(0.5)
    text = h.message_text(message_now(h, dm))
    assert "Acknowledged by hosting (contact)" in text, text
