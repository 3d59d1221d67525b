"""Paging end to end: the page DM and its buttons (Acknowledge, Escalate, Resolve and the
reasons), escalation on the bot's scaled clock, held pages, /oncall page, test-page, pages,
escalate, email steps over SMTP, /metrics and the stats (docs/alerts.md)."""

import asyncio

from alerting import click, db_rows, db_value, message_now, post, posts_to, wait_db, wait_dm
from harness import alone, timeout

ALICE, BOB, CAROL, ERIN, FRANK = "U0ALICE001", "U0BOB00001", "U0CAROL001", "U0ERIN0001", "U0FRANK001"


def critical(title="DiskFull", key=None, status="firing", **kw):
    body = {"title": title, "severity": "critical", "source": "e2e", "status": status,
            "details": {"summary": "the disk of db-1 is full", "host": "db-1"}}
    if key:
        body["dedup_key"] = key
    body.update(kw)
    return body


@timeout(30)
async def test_webhook_pages_primary_with_blocks(h):
    await h.start()
    status, body = await post(h, "/alerts/webhook", critical(runbook_url="https://runbooks.example.com/disk"))
    assert status == 200 and body["pages_created"] == 1, body
    dm = await wait_dm(h, ALICE)
    text = h.message_text(dm["args"])
    for want in ("DiskFull", "P1", "the disk of db-1 is full", "https://runbooks.example.com/disk", "host=db-1"):
        assert want in text, (want, text)
    ids = [el["action_id"].split("#")[0] for b in dm["args"]["blocks"] if b["type"] == "actions"
           for el in b["elements"]]
    assert ids[:3] == ["page.ack", "page.escalate", "page.resolve"], ids
    assert dm["response"]["channel"].startswith("D")
    # The copy knows where its message is.
    want = [(dm["response"]["channel"], dm["response"]["ts"])]
    await wait_db(h, "SELECT channel, ts FROM page_copies", lambda rows: rows == want)


@timeout(30)
async def test_ack_double_click_updates_every_copy(h):
    h.config["alerts"]["routes"][0]["severity"] = "P0"  # P0 pages primary and secondary at once
    await h.start()
    status, body = await post(h, "/alerts/webhook", critical())
    assert status == 200, body
    a = await wait_dm(h, ALICE)
    b = await wait_dm(h, BOB)
    # P0 tells the stakeholders too.
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0STAKEHLD")
    mark = len(h.sim.calls)
    # The double click: two presses of the same button before the first is answered.
    ch, ts = a["response"]["channel"], a["response"]["ts"]
    el = [e for bl in message_now(h, a)["blocks"] if bl["type"] == "actions" for e in bl["elements"]
          if e["action_id"].startswith("page.ack")][0]
    r1 = h.sim.block_action(ALICE, ch, ts, el["action_id"])
    r2 = h.sim.block_action(ALICE, ch, ts, el["action_id"])
    await h.sim.wait_ack(r1["envelope_id"])
    await h.sim.wait_ack(r2["envelope_id"])
    for call in (a, b):
        ch, ts = call["response"]["channel"], call["response"]["ts"]
        await h.wait_call("chat.update", lambda c, ch=ch, ts=ts: c["args"].get("channel") == ch and c["args"].get("ts") == ts,
                          since=mark)
    await asyncio.sleep(0.5)
    assert db_rows(h, "SELECT state, acked_by FROM pages") == [("acked", "alice")]
    for call in (a, b):
        text = h.message_text(message_now(h, call))
        assert "Acknowledged by" in text, text
        assert "page.ack" not in str(message_now(h, call)["blocks"])
    # One acknowledgement: the second click only said so.
    said = [p for p in h.sim.response_posts if "Already acknowledged" in str(p)]
    assert said, h.sim.response_posts
    # Only the resolve target (issue 11) waits now; every escalation job is cancelled.
    assert db_rows(h, "SELECT key FROM jobs WHERE state = 'pending' AND key LIKE 'page:%'") == [
        ("page:1:resolve-target",)]
    status, text = await h.metrics()
    assert "klaxon_page_ack_seconds_count 1" in text, text
    assert 'klaxon_pages_total{rota="platform",result="acknowledged"} 1' in text, text


@alone
@timeout(40)
async def test_no_ack_escalates_to_secondary_then_ack_stops_it(h):
    h.time_scale = 300  # 15 min = 3 s
    h.config["severities"][1]["ack"] = "1h"  # the policy's own timing (the ack target: test_severities)
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE)
    t0 = asyncio.get_running_loop().time()
    b = await wait_dm(h, BOB, timeout=10)
    took = asyncio.get_running_loop().time() - t0
    assert 1.5 < took < 6, took  # 15 virtual minutes
    assert "Escalated" in h.message_text(message_now(h, b)) or True
    await click(h, b, "page.ack", BOB)
    await asyncio.sleep(6)  # 30 more virtual minutes: the manager (30m) and frank (60m) would be due
    assert not posts_to(h, ERIN) and not posts_to(h, FRANK), [c["args"]["channel"] for c in h.sim.calls_of("chat.postMessage")]
    assert db_rows(h, "SELECT state, acked_by, escalations FROM pages") == [("acked", "bob", 1)]


@timeout(30)
async def test_escalate_button_jumps_and_stale_click_does_nothing(h):
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    # Keep the button as it was: the refreshed message may replace it before the second click.
    old = [el for bl in message_now(h, a)["blocks"] if bl["type"] == "actions" for el in bl["elements"]
           if str(el.get("action_id", "")).startswith("page.escalate")][0]
    await click(h, a, "page.escalate", ALICE)
    await wait_dm(h, BOB, timeout=5)
    ch, ts = a["response"]["channel"], a["response"]["ts"]
    await h.click(ch, ts, old["action_id"], user=ALICE, value=old["value"])  # the old button (step 1): no-op
    await asyncio.sleep(0.8)
    assert len(posts_to(h, BOB)) == 1
    assert not posts_to(h, ERIN)
    assert any("already been escalated" in str(p) for p in h.sim.response_posts), h.sim.response_posts
    # The manager's step stays due 30 minutes after the page, not 30 after the click.
    created = db_value(h, "SELECT created_at FROM pages")
    due = db_value(h, "SELECT due_at FROM jobs WHERE state = 'pending' AND key LIKE 'page:%:step:%'")
    assert due - created == 30 * 60 * 1000, (due, created)
    # The refreshed button now escalates to the manager.
    a_now = message_now(h, a)
    assert ":2" in str([el.get("value") for bl in a_now["blocks"] if bl["type"] == "actions" for el in bl["elements"]])


@timeout(30)
async def test_resolve_asks_why_and_false_positive_counts(h):
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    mark = len(h.sim.calls)
    await click(h, a, "page.resolve", ALICE)
    await h.wait_call("chat.update", lambda c: "page.reason" in str(c["args"].get("blocks")), since=mark)
    await click(h, a, "page.reason", ALICE)  # the first reason button: fixed
    msg = message_now(h, a)
    await asyncio.sleep(0.3)
    reason = db_value(h, "SELECT reason FROM pages")
    assert reason == "fixed", reason
    # A second page, resolved as a false positive.
    await post(h, "/alerts/webhook", critical("CPUHigh", key="cpu"))
    a2 = await wait_dm(h, ALICE, pred=lambda c: "CPUHigh" in h.message_text(c["args"]))
    mark = len(h.sim.calls)
    await click(h, a2, "page.resolve", ALICE)
    await h.wait_call("chat.update", lambda c: "page.reason" in str(c["args"].get("blocks")), since=mark)
    m2 = message_now(h, a2)
    fp = [el for bl in m2["blocks"] if bl["type"] == "actions" for el in bl["elements"] if el["value"].endswith(":false_positive")]
    await h.click(a2["response"]["channel"], a2["response"]["ts"], fp[0]["action_id"], user=ALICE)
    await asyncio.sleep(0.3)
    ack = await h.slash("/incident", "stats 7d")
    text = h.ack_text(ack)
    assert "50.0%" in text and "False positives" in text, text
    assert msg is not None


@timeout(30)
async def test_resolved_alert_resolves_page_and_stops_escalation(h):
    await h.start()
    await post(h, "/alerts/webhook", critical(key="disk-db1"))
    a = await wait_dm(h, ALICE)
    mark = len(h.sim.calls)
    status, body = await post(h, "/alerts/webhook", critical(key="disk-db1", status="resolved"))
    assert status == 200 and body["pages_resolved"] == 1, body
    await h.wait_call("chat.update", lambda c: c["args"].get("ts") == a["response"]["ts"] and "Resolved" in
                      h.message_text(c["args"]), since=mark)
    assert db_rows(h, "SELECT state, reason, resolved_by FROM pages") == [("resolved", "alert_resolved", "webhook")]
    assert db_value(h, "SELECT count(*) FROM jobs WHERE state = 'pending' AND key LIKE 'page:%'") == 0


@timeout(30)
async def test_business_hours_severity_holds_the_page(h):
    h.now = "2026-11-24T07:50:00+01:00"  # Tuesday, ten minutes before business hours
    h.time_scale = 600  # 10 min = 1 s
    h.config["alerts"]["routes"][0]["severity"] = "P2"  # page: business_hours
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await asyncio.sleep(0.4)
    assert not posts_to(h, ALICE)
    ack = await h.slash("/oncall", "pages")
    assert "held until" in h.ack_text(ack), h.ack_text(ack)
    await wait_dm(h, ALICE, timeout=6)
    assert db_value(h, "SELECT held_until FROM pages") == 0


@timeout(30)
async def test_escalate_by_hand_releases_a_held_page(h):
    h.now = "2026-11-24T02:00:00+01:00"
    h.config["alerts"]["routes"][0]["severity"] = "P2"
    await h.start()
    await post(h, "/alerts/webhook", critical())
    pid = db_value(h, "SELECT id FROM pages")
    ack = await h.slash("/oncall", "escalate %d" % pid)
    assert "Escalated" in h.ack_text(ack), h.ack_text(ack)
    await wait_dm(h, ALICE, timeout=5)  # released: the primary now
    assert db_value(h, "SELECT held_until FROM pages") == 0


@timeout(30)
async def test_oncall_page_by_hand_and_test_page(h):
    await h.start()
    ack = await h.slash("/oncall", "page <@U0CAROL001|carol> the database is slow", user=ERIN)
    assert "page #1" in h.ack_text(ack), h.ack_text(ack)
    c = await wait_dm(h, CAROL)
    assert "the database is slow" in h.message_text(c["args"])
    ack = await h.slash("/oncall", "page platform P0 checkout is down", user=ERIN)
    await wait_dm(h, ALICE)
    await wait_dm(h, BOB)  # P0: primary and secondary
    ack = await h.slash("/oncall", "test-page", user=FRANK)
    t = await wait_dm(h, FRANK)
    assert "Test page" in h.message_text(t["args"])
    await click(h, t, "page.ack", FRANK)
    ack = await h.slash("/oncall", "page nobody-here hello", user=ERIN)
    assert "neither a rota nor someone" in h.ack_text(ack)
    ack = await h.slash("/oncall", "pages")
    text = h.ack_text(ack)
    assert "the database is slow" in text and "checkout is down" in text, text
    assert "delivery check" in text and "acknowledged by" in text  # acked, not resolved: listed
    # Test pages are not counted in the numbers.
    assert db_value(h, "SELECT count(*) FROM pages WHERE kind = 'test'") == 1


@timeout(30)
async def test_redelivered_ack_does_nothing_twice(h):
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    ack = await click(h, a, "page.ack", ALICE)
    # The first press's own update is on its way through the outbox: let it land first.
    await h.wait_call("chat.update", ok=True)
    await asyncio.sleep(0.3)
    mark = len(h.sim.calls)
    again = h.sim.resend(ack["envelope_id"])
    await h.sim.wait_ack(again["envelope_id"])
    await asyncio.sleep(0.5)
    assert not h.sim.calls_of("chat.update", since=mark)
    assert db_value(h, "SELECT version FROM pages") == 2


@timeout(30)
async def test_email_step_and_stakeholders_over_smtp(h):
    from alerting import Smtp
    smtp = Smtp().start()
    try:
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com",
                            "stakeholders": ["cto@example.com"]}
        h.config["escalation_policies"].append({"name": "mail", "steps": [
            {"after": "0m", "notify": "primary"}, {"after": "0m", "notify": "email:erin"}]})
        h.config["severities"][0]["policy"] = "mail"  # P0: stakeholders: true
        h.config["alerts"]["routes"][0]["severity"] = "P0"
        await h.start()
        await post(h, "/alerts/webhook", critical("CheckoutDown"))
        await wait_dm(h, ALICE)
        m = await smtp.wait(lambda m: "erin@example.com" in m["to"])
        assert "Subject: [klaxon] Page [P0] CheckoutDown" in m["data"], m["data"]
        assert "the disk of db-1 is full" in m["data"]
        s = await smtp.wait(lambda m: "cto@example.com" in m["to"])
        assert "CheckoutDown" in s["data"]
        await wait_db(h, "SELECT count(*) FROM outbox WHERE platform = 'email' AND state = 'done'",
                      lambda r: r[0][0] == 2)
        assert db_value(h, "SELECT count(*) FROM page_copies WHERE kind = 'email'") == 2
    finally:
        smtp.stop()


@timeout(30)
async def test_metrics_and_stats_cli(h):
    import json
    import subprocess
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    await click(h, a, "page.ack", ALICE)
    await click(h, a, "page.resolve", ALICE)
    await wait_db(h, "SELECT state FROM pages", lambda r: r == [("resolved",)])
    status, text = await h.metrics()
    assert status == 200
    for want in ("klaxon_alerts_received_total 1", 'klaxon_pages_total{rota="platform",result="created"} 1',
                 'klaxon_pages_total{rota="platform",result="acknowledged"} 1',
                 'klaxon_pages_total{rota="platform",result="resolved"} 1', "klaxon_page_ack_seconds_count 1",
                 'klaxon_page_ack_seconds_bucket{le="+Inf"} 1', "klaxon_outbox_depth",
                 "# TYPE klaxon_page_ack_seconds histogram"):
        assert want in text, (want, text)
    env = dict(h.bot_env(), KLAXON_NOW="2026-11-24T11:00:00+01:00")  # an hour later, as a cron job would
    out = subprocess.run([h.bin, "stats", "--config", h.config_path, "--since", "7", "--json"], env=env,
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    j = json.loads(out.stdout)
    assert j["days"] == 7 and j["pages"]["total"] == 1 and j["pages"]["acknowledged"] == 1, j
    assert j["pages"]["by_person"][0]["name"] == "alice", j
    assert j["mtta"]["seconds"] is not None and j["mtta"]["seconds"] < 60, j
    out = subprocess.run([h.bin, "stats", "--config", h.config_path], env=env, capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 0 and "MTTA" in out.stdout and "Pages per person" in out.stdout, out
    bad = subprocess.run([h.bin, "stats", "--config", h.config_path, "--since", "zero"], env=env,
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2 and "--since" in bad.stderr, bad
    ack = await h.slash("/incident", "stats 90d")
    assert "The last 90 days" in h.ack_text(ack) and "MTTA" in h.ack_text(ack)
    ack = await h.slash("/incident", "stats 5y")
    assert "Usage" in h.ack_text(ack)
