"""Alerts end to end with the real Prometheus Alertmanager from Debian sending its webhook
(version 4, bearer token) to build/klaxon, under a scaled clock: a critical alert pages and
escalates to the secondary after 15 minutes, an acknowledgement stops it, a warning only
posts to a channel, resolved alerts resolve the page, kill -9 in the middle of an
escalation resumes it, and bad tokens and payloads are refused with nothing stored."""

import asyncio
import datetime
import json

from alerting import (Alertmanager, am_alert, am_payload, click, db_rows, db_value, message_now, post, posts_to,
                      wait_db, wait_dm)
from harness import cases, timeout

ALICE, BOB, CAROL, ERIN, FRANK = "U0ALICE001", "U0BOB00001", "U0CAROL001", "U0ERIN0001", "U0FRANK001"
RUNBOOK = "https://runbooks.example.com/api-errors"


def utc(delta_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def am_fire(name, severity="critical", instance="api-1", resolved=False, summary=None):
    a = {"labels": {"alertname": name, "severity": severity, "instance": instance},
         "annotations": {"summary": summary or "%s on %s" % (name, instance)},
         "startsAt": utc(-60)}
    if resolved:
        a["endsAt"] = utc(-1)
    return a


def with_runbooks(h):
    h.config["runbooks"] = {"APIErrorRateSLOCritical": RUNBOOK}


async def start_both(h, **am_opts):
    with_runbooks(h)
    await h.start()
    am = Alertmanager(h, **am_opts)
    await am.start()
    return am


@timeout(45)
async def test_am_critical_pages_escalates_to_secondary_and_ack_stops_it(h):
    h.time_scale = 300  # 15 min = 3 s of real time
    h.config["severities"][1]["ack"] = "1h"  # the policy's own timing (the ack target: test_severities)
    am = await start_both(h)
    try:
        await am.fire([am_fire("APIErrorRateSLOCritical")])
        a = await wait_dm(h, ALICE, timeout=10)
        text = h.message_text(a["args"])
        assert RUNBOOK in text and "APIErrorRateSLOCritical on api-1" in text and "P1" in text, text
        b = await wait_dm(h, BOB, timeout=10)
        created, = db_rows(h, "SELECT created_at FROM pages")[0]
        bob_at = db_value(h, "SELECT created_at FROM page_copies WHERE person = 'bob'")
        assert 15 * 60000 <= bob_at - created < 20 * 60000, bob_at - created
        await click(h, b, "page.ack", BOB)
        await asyncio.sleep(5)  # 25 virtual minutes more: past the manager's 30m
        assert not posts_to(h, ERIN), "the manager was paged after the acknowledgement"
        assert db_rows(h, "SELECT state, acked_by FROM pages") == [("acked", "bob")]
        assert db_value(h, "SELECT source FROM alerts") == "alertmanager"
    finally:
        await am.stop()


@timeout(30)
async def test_am_warning_only_posts_to_the_channel_grouped(h):
    am = await start_both(h)
    try:
        await am.fire([am_fire("QueueSlow", "warning", "q-1"), am_fire("QueueSlow", "warning", "q-2")])
        post_call = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ALERTS01", timeout=10)
        await asyncio.sleep(0.5)
        assert "2 firing of 2" in h.message_text(message_now(h, post_call)) or "QueueSlow" in h.message_text(post_call["args"])
        await am.fire([am_fire("QueueSlow", "warning", "q-3")])
        await wait_db(h, "SELECT count(*) FROM alerts", lambda r: r[0][0] == 3, timeout=10)
        await h.sim.wait_until(lambda: "3 firing of 3" in h.message_text(message_now(h, post_call)), 10,
                               "the post to show 3 alerts")
        assert len(posts_to(h, "C0ALERTS01")) == 1, "one message per group"
        assert not [c for c in h.sim.calls_of("chat.postMessage") if c["args"].get("channel", "").startswith("U")]
        assert db_rows(h, "SELECT kind, channel FROM pages") == [("post", "C0ALERTS01")]
        # info alerts are only recorded
        await am.fire([am_fire("DiskAlmostFull", "info", "db-1")])
        await wait_db(h, "SELECT action FROM alerts WHERE alertname = 'DiskAlmostFull'", lambda r: r == [("record",)],
                      timeout=10)
        assert db_value(h, "SELECT count(*) FROM pages") == 1
    finally:
        await am.stop()


@timeout(30)
async def test_am_resolved_alert_resolves_the_page(h):
    am = await start_both(h)
    try:
        await am.fire([am_fire("APIErrorRateSLOCritical")])
        a = await wait_dm(h, ALICE, timeout=10)
        await am.fire([am_fire("APIErrorRateSLOCritical", resolved=True)])
        await h.sim.wait_until(lambda: "Resolved" in h.message_text(message_now(h, a)), 15, "the page to show resolved")
        assert db_rows(h, "SELECT state, reason, resolved_by FROM pages") == [("resolved", "alert_resolved", "alertmanager")]
        assert db_value(h, "SELECT count(*) FROM jobs WHERE state = 'pending' AND key LIKE 'page:%'") == 0
        assert db_value(h, "SELECT status FROM alerts") == "resolved"
    finally:
        await am.stop()


@timeout(45)
async def test_am_kill9_mid_escalation_resumes_once(h):
    h.time_scale = 300
    am = await start_both(h)
    try:
        await am.fire([am_fire("APIErrorRateSLOCritical")])
        await wait_dm(h, ALICE, timeout=10)
        # Killed between steps (once the page's delivery is on record: a message in flight at
        # the instant of a crash is sent again on restart, at least once).
        await wait_db(h, "SELECT ts FROM page_copies", lambda r: r and r[0][0])
        await h.kill9()
        # Down for 20 minutes: the secondary's step (15m) fell due meanwhile.
        start = datetime.datetime.fromisoformat(h.now)
        h.now = (start + datetime.timedelta(minutes=20)).isoformat()
        await h.restart()
        await wait_dm(h, BOB, timeout=5)
        # The manager's step (30m) comes on time: 10 virtual minutes = 2 s after the restart.
        await wait_dm(h, ERIN, timeout=8)
        await asyncio.sleep(1)
        assert len(posts_to(h, BOB)) == 1 and len(posts_to(h, ERIN)) == 1 and len(posts_to(h, ALICE)) == 1
        assert db_value(h, "SELECT count(*) FROM pages") == 1
    finally:
        await am.stop()


@timeout(30)
async def test_am_group_is_one_page_and_repeats_do_not_repage(h):
    am = await start_both(h, group_interval="1s")
    try:
        await am.fire([am_fire("APIErrorRateSLOCritical", instance="api-%d" % i) for i in range(3)])
        a = await wait_dm(h, ALICE, timeout=10)
        await h.sim.wait_until(lambda: "3 firing of 3" in h.message_text(message_now(h, a)), 10, "3 alerts on the page")
        # Alertmanager sends the same group again (a new alert joins): no new page.
        await am.fire([am_fire("APIErrorRateSLOCritical", instance="api-9")])
        await h.sim.wait_until(lambda: "4 firing of 4" in h.message_text(message_now(h, a)), 10, "4 alerts on the page")
        assert len(posts_to(h, ALICE)) == 1 and db_value(h, "SELECT count(*) FROM pages") == 1
    finally:
        await am.stop()


BIG = {"version": "4", "groupKey": "g", "status": "firing", "alerts": [
    am_alert("Big%d" % i, summary="x" * 300, fp="f%d" % i) for i in range(3000)]}

REFUSALS = [
    {"id": "no-token", "path": "/alerts/alertmanager", "token": "", "body": am_payload("A", [am_alert("A")]), "status": 401},
    {"id": "wrong-token", "path": "/alerts/alertmanager", "token": "e2e-alert-token-0123456789abcdeX",
     "body": am_payload("A", [am_alert("A")]), "status": 401},
    {"id": "short-token", "path": "/alerts/alertmanager", "token": "e2e", "body": am_payload("A", [am_alert("A")]),
     "status": 401},
    {"id": "webhook-no-token", "path": "/alerts/webhook", "token": "", "body": {"title": "x"}, "status": 401},
    {"id": "malformed-json", "path": "/alerts/alertmanager", "raw": b"{\"version\": \"4\", ", "status": 400},
    {"id": "not-alertmanager", "path": "/alerts/alertmanager", "body": {"title": "x", "severity": "critical"},
     "status": 400},
    {"id": "version-3", "path": "/alerts/alertmanager", "body": dict(am_payload("A", [am_alert("A")]), version="3"),
     "status": 400},
    {"id": "labels-not-strings", "path": "/alerts/alertmanager",
     "body": am_payload("A", [dict(am_alert("A"), labels={"alertname": 1})]), "status": 400},
    {"id": "bad-startsAt", "path": "/alerts/alertmanager",
     "body": am_payload("A", [dict(am_alert("A"), startsAt="yesterday")]), "status": 400},
    {"id": "array-body", "path": "/alerts/alertmanager", "raw": b"[]", "status": 400},
    {"id": "over-1MiB", "path": "/alerts/alertmanager", "body": BIG, "status": 413},
    {"id": "webhook-no-title", "path": "/alerts/webhook", "body": {"severity": "critical"}, "status": 400},
    {"id": "webhook-bad-status", "path": "/alerts/webhook", "body": {"title": "x", "status": "maybe"}, "status": 400},
]


@cases(REFUSALS)
@timeout(20)
async def test_bad_tokens_and_payloads_are_refused_and_nothing_stored(h, case):
    await h.start()
    status, body = await post(h, case["path"], case.get("body"), token=case.get("token"), raw=case.get("raw"))
    assert status == case["status"], (status, body)
    assert isinstance(body, dict) and body.get("error"), body
    assert db_value(h, "SELECT count(*) FROM alerts") == 0
    assert db_value(h, "SELECT count(*) FROM pages") == 0
    assert db_value(h, "SELECT count(*) FROM outbox") == 0
    # and the bot keeps serving
    status, body = await post(h, "/alerts/alertmanager", am_payload("A", [am_alert("A", severity="info")]))
    assert status == 200 and body["received"] == 1, body
    assert json.dumps(body)
