"""PagerDuty Events API v2 in (issue 14, docs/integrations.md): POST /alerts/pagerduty and
/v2/enqueue with the payloads of PagerDuty's own documentation and public API schema
(tests/fixtures/pagerduty/), answered as PagerDuty answers; trigger pages through
alerts.routes, acknowledge and resolve act on the page of the same dedup_key; a wrong routing
key, a bad event or a flood is refused and nothing is stored."""

import json
import os

from alerting import db_rows, db_value, post, wait_db, wait_dm
from harness import timeout

ALICE = "U0ALICE001"
KEY = "e93facc04764012d7bfb002500d5d1a6"
OTHER_KEY = "0123456789abcdef0123456789abcdef"
HERE = os.path.dirname(os.path.abspath(__file__))


def fixture(name, key=KEY):
    with open(os.path.join(HERE, "..", "fixtures", "pagerduty", name), encoding="utf-8") as f:
        ev = json.load(f)
    ev["routing_key"] = key
    return ev


def setup(h):
    h.config["alerts"]["pagerduty_keys_env"] = ["PD_KEY_OTHER", "PD_KEY_PLATFORM"]
    h.env["PD_KEY_PLATFORM"] = KEY
    h.env["PD_KEY_OTHER"] = OTHER_KEY
    # PagerDuty's severities: critical pages the platform rota (the harness's first route).


async def pd(h, ev, path="/alerts/pagerduty", raw=None):
    return await post(h, path, ev, token="", raw=raw)


@timeout(40)
async def test_trigger_acknowledge_resolve_with_pagerdutys_own_examples(h):
    setup(h)
    await h.start()
    ev = fixture("events_v2_trigger.json")
    status, body = await pd(h, ev)
    assert status == 202, body
    assert body == {"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"}, body
    dm = await wait_dm(h, ALICE)
    text = h.message_text(dm["args"])
    assert "DISK at 99% on machine prod-datapipe03.example.com" in text, text
    labels = json.loads(db_value(h, "SELECT labels FROM pages"))
    for k, v in (("severity", "critical"), ("source", "prod-datapipe03.example.com"), ("component", "mysql"),
                 ("group", "prod-datapipe"), ("class", "disk"), ("routing_key_env", "PD_KEY_PLATFORM"),
                 ("free space", "1%"), ("load avg", "0.75")):
        assert labels.get(k) == v, (k, labels)
    # The same trigger again is the same alert: no second page.
    status, body = await pd(h, ev, path="/v2/enqueue")
    assert status == 202 and body["dedup_key"] == "srv01/mysql", body
    assert db_value(h, "SELECT count(*) FROM pages") == 1
    # The key is a credential: it is stored nowhere.
    assert KEY not in h.db_dump()
    ack = fixture("events_v2_acknowledge.json")
    ack["dedup_key"] = "srv01/mysql"
    status, body = await pd(h, ack)
    assert status == 202 and body["dedup_key"] == "srv01/mysql", body
    await wait_db(h, "SELECT state, acked_by FROM pages", lambda r: r == [("acked", "pagerduty")])
    await h.wait_call("chat.update", lambda c: "Acknowledged by" in h.message_text(c["args"]))
    res = fixture("events_v2_resolve.json")
    res["dedup_key"] = "srv01/mysql"
    status, body = await pd(h, res)
    assert status == 202, body
    await wait_db(h, "SELECT state FROM pages", lambda r: r == [("resolved",)])
    # An acknowledge for a dedup_key nobody knows is dropped, as PagerDuty drops it.
    stray = fixture("events_v2_acknowledge.json")
    status, body = await pd(h, stray)
    assert status == 202 and body["dedup_key"] == "dedupkeyhere", body


@timeout(30)
async def test_a_trigger_without_dedup_key_gets_one_and_routes_by_severity(h):
    setup(h)
    h.config["alerts"]["routes"].insert(0, {"match": {"routing_key_env": "PD_KEY_OTHER"}, "record": True})
    await h.start()
    ev = fixture("events_v2_trigger_no_dedup.json")  # severity info: recorded, not paged
    status, body = await pd(h, ev)
    assert status == 202 and body["status"] == "success", body
    key = body["dedup_key"]
    assert len(key) == 36 and key.count("-") == 4, key
    status, body2 = await pd(h, ev)
    assert body2["dedup_key"] != key  # each trigger without a key is a new alert
    assert db_value(h, "SELECT count(*) FROM pages") == 0
    assert db_value(h, "SELECT count(*) FROM alerts") == 2
    # The route can name the key's variable: events on the other key are only recorded.
    crit = fixture("events_v2_trigger.json", key=OTHER_KEY)
    status, body = await pd(h, crit)
    assert status == 202, body
    assert db_value(h, "SELECT count(*) FROM pages") == 0


@timeout(30)
async def test_refusals_answer_as_pagerduty_and_store_nothing(h):
    setup(h)
    await h.start()
    status, body = await pd(h, None, raw=b"{not json")
    assert status == 400 and body["status"] == "Unrecognized object" and body["errors"] == ["JSON parse error"], body
    status, body = await pd(h, fixture("events_v2_trigger.json", key="wrongwrongwrongwrongwrongwrong12"))
    assert status == 400 and body["status"] == "invalid event", body
    assert "routing_key" in body["errors"][0], body
    bad = fixture("events_v2_trigger.json")
    del bad["payload"]["summary"]
    bad["payload"]["severity"] = "catastrophic"
    bad["dedup_key"] = "x" * 300
    status, body = await pd(h, bad)
    assert status == 400 and body["message"] == "Event object is invalid", body
    errs = " | ".join(body["errors"])
    for want in ("payload.summary", "payload.severity", "dedup_key"):
        assert want in errs, (want, errs)
    nokey = fixture("events_v2_resolve.json")
    del nokey["dedup_key"]
    status, body = await pd(h, nokey)
    assert status == 400 and "dedup_key" in body["errors"][0], body
    status, body = await pd(h, dict(fixture("events_v2_trigger.json"), event_action="explode"))
    assert status == 400, body
    assert db_value(h, "SELECT count(*) FROM alerts") == 0
    assert db_value(h, "SELECT count(*) FROM pages") == 0
    # A flood from one key is throttled (429), and the other key is not.
    statuses = []
    for i in range(130):
        ev = fixture("events_v2_trigger_no_dedup.json")
        st, _ = await pd(h, ev)
        statuses.append(st)
    assert statuses.count(429) >= 5 and statuses[0] == 202, statuses
    st, _ = await pd(h, fixture("events_v2_trigger_no_dedup.json", key=OTHER_KEY))
    assert st == 202
    assert "pagerduty_refused" in h.log_text() and KEY not in h.log_text()


class PagerDutyEvents:
    """A strict stand-in for events.pagerduty.com/v2/enqueue: the routing key it was given,
    event_action trigger|acknowledge|resolve, a dedup_key (<= 255), and for a trigger a payload
    with summary (<= 1024), source and one of PagerDuty's four severities; 400 with PagerDuty's
    error shape otherwise, 202 with its success shape when valid."""

    def __init__(self, key):
        self.key = key
        self.events = []
        self.refused = []

    async def start(self):
        from aiohttp import web
        app = web.Application()
        app.router.add_post("/v2/enqueue", self.enqueue)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def enqueue(self, request):
        from aiohttp import web
        errors = []
        try:
            ev = json.loads(await request.text())
        except ValueError:
            return web.json_response({"status": "Unrecognized object", "message": "Event object format is unrecognized",
                                      "errors": ["JSON parse error"]}, status=400)
        if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            errors.append("Content-Type must be application/json")
        if ev.get("routing_key") != self.key:
            errors.append("Invalid routing key")
        if ev.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        dk = ev.get("dedup_key")
        if not isinstance(dk, str) or not dk or len(dk) > 255:
            errors.append("'dedup_key' is invalid")
        if ev.get("event_action") == "trigger":
            p = ev.get("payload") or {}
            if not isinstance(p.get("summary"), str) or not p["summary"] or len(p["summary"]) > 1024:
                errors.append("'payload.summary' is invalid")
            if not isinstance(p.get("source"), str) or not p["source"]:
                errors.append("'payload.source' is invalid")
            if p.get("severity") not in ("critical", "error", "warning", "info"):
                errors.append("'payload.severity' is invalid")
        if errors:
            self.refused.append(ev)
            return web.json_response({"status": "invalid event", "message": "Event object is invalid",
                                      "errors": errors}, status=400)
        self.events.append(ev)
        return web.json_response({"status": "success", "message": "Event processed", "dedup_key": dk}, status=202)

    async def stop(self):
        await self.runner.cleanup()


@timeout(40)
async def test_a_pagerduty_escalation_step_keeps_an_incident_in_step(h):
    from alerting import click
    import asyncio
    out_key = "f" * 32
    pdo = await PagerDutyEvents(out_key).start()
    try:
        h.env["PD_OUT"] = out_key
        h.env["KLAXON_PAGERDUTY_EVENTS_URL"] = "http://127.0.0.1:%d/v2/enqueue" % pdo.port
        h.config["escalation_policies"][0]["steps"].insert(0, {"after": "0m", "notify": "pagerduty:PD_OUT"})
        await h.start()
        status, body = await post(h, "/alerts/webhook", {"title": "DiskFull", "severity": "critical", "source": "e2e"})
        assert status == 200, body
        dm = await wait_dm(h, ALICE)
        for _ in range(100):
            if pdo.events:
                break
            await asyncio.sleep(0.05)
        trig = pdo.events[0]
        assert trig["event_action"] == "trigger" and trig["dedup_key"] == "klaxon-page-1", trig
        assert trig["payload"]["summary"] == "DiskFull" and trig["payload"]["severity"] == "error", trig
        assert trig["payload"]["custom_details"]["klaxon_page"] == 1
        # The key is read at send time: the outbox never held it.
        assert out_key not in h.db_dump()
        await wait_db(h, "SELECT via, state FROM page_attempts WHERE via = 'pagerduty'",
                      lambda r: r == [("pagerduty", "sent")])
        await click(h, dm, "page.ack", ALICE)
        await click(h, dm, "page.resolve", ALICE)
        for _ in range(100):
            if len(pdo.events) >= 3:
                break
            await asyncio.sleep(0.05)
        assert [e["event_action"] for e in pdo.events] == ["trigger", "acknowledge", "resolve"], pdo.events
        assert all(e["dedup_key"] == "klaxon-page-1" for e in pdo.events)
        assert not pdo.refused, pdo.refused
    finally:
        await pdo.stop()
