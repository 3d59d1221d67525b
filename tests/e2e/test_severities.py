"""Severities that mean what they say (issue 11), end to end on the bot's scaled clock: the ack
target escalates at once and is counted in stats (per severity MTTA and compliance), the
resolve target brings the manager in once, /incident declare pages whom the severity names with
the incident's channel, the shadow gets the primary's pages, severities[].mention pings the
announcement, contacts[] reached by a `contact:` step, alert routes that mail (at once or as a
next-business-day digest), and the Acknowledge button of channel alerts measured against the
severity's ack (docs/alerts.md, docs/incidents.md)."""

import asyncio
import json
import os
import subprocess

from alerting import Smtp, click, db_rows, db_value, message_now, post, posts_to, wait_db, wait_dm
from harness import alone, timeout

import incidents as I

LATER = "2026-11-24T12:00:00+01:00"  # the stats window ends here, after the pages of a test
ALICE, BOB, CAROL, ERIN, FRANK = "U0ALICE001", "U0BOB00001", "U0CAROL001", "U0ERIN0001", "U0FRANK001"


def critical(title="DiskFull", **kw):
    body = {"title": title, "severity": "critical", "source": "e2e", "status": "firing",
            "details": {"summary": "the disk of db-1 is full"}}
    body.update(kw)
    return body


def stats_json(h, now=None):
    env = dict(h.bot_env())
    if now:
        env["KLAXON_NOW"] = now
    out = subprocess.run([h.bin, "stats", "--config", h.config_path, "--since", "7", "--json"], env=env,
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def with_smtp(h, smtp):
    h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com"}


# ---------------------------------------------------------------------------- 1. ack target

@alone
@timeout(40)
async def test_ack_target_escalates_at_once_and_counts_as_missed(h):
    h.time_scale = 300  # 5 min = 1 s; the policy's secondary step is at 15 min (3 s)
    await h.start()
    t0 = asyncio.get_running_loop().time()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE)
    await wait_dm(h, BOB, timeout=10)
    took = asyncio.get_running_loop().time() - t0
    assert took < 2.6, took  # the P1 ack target (5 min), well before the 15 min step
    b = await wait_dm(h, BOB)
    await wait_db(h, "SELECT escalations, next_step FROM pages", lambda r: r == [(1, 2)])
    assert db_value(h, "SELECT state FROM jobs WHERE key = 'page:1:ack-target'") == "done"
    # Once: the 15 min step finds bob's step already fired; the manager's stays at 30 min.
    due = db_value(h, "SELECT due_at - (SELECT created_at FROM pages) FROM jobs "
                      "WHERE state = 'pending' AND key LIKE 'page:1:step:%'")
    assert due == 30 * 60 * 1000, due
    await click(h, b, "page.ack", BOB)
    await wait_db(h, "SELECT state FROM pages", lambda r: r == [("acked",)])
    assert len(posts_to(h, BOB)) == 1
    j = stats_json(h, LATER)
    p1 = j["ack_targets"]["P1"]
    assert p1["measured"] == 1 and p1["missed"] == 1 and p1["met"] == 0 and p1["compliance"] == 0, p1
    assert p1["target_seconds"] == 300 and p1["mtta_seconds"] > 300, p1
    ack = await h.slash("/incident", "stats 7d")
    text = h.ack_text(ack)
    assert "Acknowledge targets" in text and "0 of 1 met" in text and "1 missed" in text, text


@timeout(30)
async def test_ack_within_target_stops_it_and_counts_as_met(h):
    h.time_scale = 300
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    await click(h, a, "page.ack", ALICE)
    await wait_db(h, "SELECT state FROM pages", lambda r: r == [("acked",)])
    assert db_value(h, "SELECT state FROM jobs WHERE key = 'page:1:ack-target'") == "cancelled"
    await asyncio.sleep(2)  # 10 virtual minutes: past the 5 min target
    assert not posts_to(h, BOB)
    assert db_value(h, "SELECT escalations FROM pages") == 0
    p1 = stats_json(h, LATER)["ack_targets"]["P1"]
    assert p1["measured"] == 1 and p1["met"] == 1 and p1["missed"] == 0 and p1["compliance"] == 1, p1


@alone
@timeout(30)
async def test_ack_target_stays_after_an_escalation_by_hand(h):
    h.time_scale = 300  # 5 min = 1 s; the manager's step is at 30 min (6 s)
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    t0 = asyncio.get_running_loop().time()
    await click(h, a, "page.escalate", ALICE)  # bob now; still not acknowledged
    await wait_dm(h, BOB)
    await wait_dm(h, ERIN, timeout=10)  # the ack target escalates once more: the manager
    took = asyncio.get_running_loop().time() - t0
    assert took < 3.5, took
    await wait_db(h, "SELECT escalations FROM pages", lambda r: r == [(2,)])


@timeout(40)
async def test_ack_target_survives_kill9_and_fires_once(h):
    h.time_scale = 60  # 5 min = 5 s
    await h.start()
    await post(h, "/alerts/webhook", critical())
    await wait_dm(h, ALICE)
    await h.kill9()
    await asyncio.sleep(6)  # the target passes while klaxon is down
    await h.start_bot()
    await wait_dm(h, BOB, timeout=10)
    await asyncio.sleep(1.5)
    assert len(posts_to(h, BOB)) == 1
    assert db_value(h, "SELECT escalations FROM pages") == 1


# ---------------------------------------------------------------------------- 2. resolve target

@timeout(40)
async def test_acked_not_resolved_brings_manager_in_once(h):
    h.config["severities"][1]["resolve"] = "20m"
    h.time_scale = 300  # 20 min = 4 s
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    await click(h, a, "page.ack", ALICE)
    job = await wait_db(h, "SELECT due_at - (SELECT created_at FROM pages) FROM jobs "
                           "WHERE key = 'page:1:resolve-target' AND state = 'pending'", lambda r: len(r) == 1)
    assert job[0][0] == 20 * 60 * 1000, job
    note = await wait_dm(h, ERIN, timeout=10, pred=lambda c: "not resolved within its 20m 0s target" in str(c["args"]))
    assert "acknowledged by" in h.message_text(note["args"]), note["args"]
    # And the page itself, with its buttons, so the manager can act on it.
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == ERIN and "page.resolve" in str(c["args"]))
    await asyncio.sleep(3)
    assert len(posts_to(h, ERIN)) == 2, [h.message_text(c["args"]) for c in posts_to(h, ERIN)]
    assert db_rows(h, "SELECT person, step FROM page_copies WHERE person = 'erin'") == [("erin", -3)]


@timeout(30)
async def test_resolved_in_time_does_not_bring_manager(h):
    h.config["severities"][1]["resolve"] = "20m"
    h.time_scale = 300
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    await click(h, a, "page.ack", ALICE)
    await click(h, a, "page.resolve", ALICE)
    await wait_db(h, "SELECT state FROM pages", lambda r: r == [("resolved",)])
    await asyncio.sleep(5)
    assert not posts_to(h, ERIN)
    assert db_value(h, "SELECT state FROM jobs WHERE key = 'page:1:resolve-target'") == "cancelled"


# ---------------------------------------------------------------------------- 3. declare pages

@timeout(30)
async def test_declare_p0_pages_primary_and_secondary_with_channel(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P0 checkout is down")
    a = await wait_dm(h, ALICE, pred=lambda c: "PAGE" in str(c["args"]))
    b = await wait_dm(h, BOB, pred=lambda c: "PAGE" in str(c["args"]))
    for call in (a, b):
        text = h.message_text(call["args"])
        assert "Incident #1: checkout is down" in text and "P0" in text, text
        assert "#" + ch["name"] in text, (ch["name"], text)
    rows = db_rows(h, "SELECT kind, rota, severity, source, incident_id FROM pages")
    assert rows == [("page", "platform", "P0", "incident", 1)], rows
    # Acknowledging the page lands in the incident's timeline.
    await click(h, a, "page.ack", ALICE)
    await wait_db(h, "SELECT count(*) FROM incident_timeline WHERE kind = 'ack'", lambda r: r == [(1,)])


@timeout(30)
async def test_declare_lower_severities_as_configured(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    await I.declare(h, "P1 search is slow")  # P1: the primary only
    await wait_dm(h, ALICE, pred=lambda c: "PAGE" in str(c["args"]))
    await I.declare(h, "P2 a typo on the status page", user="U0CAROL001")  # P2: business hours (now): primary
    await wait_db(h, "SELECT count(*) FROM pages", lambda r: r == [(2,)])
    await asyncio.sleep(1)
    assert not [c for c in posts_to(h, BOB) if "PAGE" in str(c["args"])]
    # A drill pages nobody; P2 outside business hours is held.
    ack = await h.slash("/incident", "drill P1 practice run")
    assert "rill" in h.ack_text(ack), h.ack_text(ack)
    await asyncio.sleep(1)
    assert db_value(h, "SELECT count(*) FROM pages") == 2


@timeout(30)
async def test_declare_p2_after_hours_is_held(h):
    await I.start(h, "2026-11-24T22:00:00+01:00")
    await I.declare(h, "P2 a typo on the status page")
    rows = await wait_db(h, "SELECT held_until > 0 FROM pages", lambda r: len(r) == 1)
    assert rows == [(1,)]
    await asyncio.sleep(1)
    assert not [c for c in posts_to(h, ALICE) if "PAGE" in str(c["args"])]


# ---------------------------------------------------------------------------- 4. shadow

@timeout(40)
async def test_shadow_gets_the_primarys_pages_never_escalated_to(h):
    h.config["rotas"][0]["shadow"] = ["frank"]
    h.config["escalation_policies"][0]["steps"] = h.config["escalation_policies"][0]["steps"][:3]
    h.config["severities"][1]["ack"] = "1h"
    await h.start()
    await post(h, "/alerts/webhook", critical())
    a = await wait_dm(h, ALICE)
    f = await wait_dm(h, FRANK)
    assert h.message_text(f["args"]) == h.message_text(a["args"])
    await click(h, a, "page.escalate", ALICE)  # to the secondary: not the shadow again
    await wait_dm(h, BOB)
    await asyncio.sleep(1)
    assert len(posts_to(h, FRANK)) == 1
    # The shadow's copy follows the page like every other.
    await click(h, f, "page.ack", FRANK)
    await h.wait_call("chat.update", lambda c: c["args"].get("channel") == a["response"]["channel"]
                      and "Acknowledged by" in h.message_text(c["args"]))
    assert db_rows(h, "SELECT person, step FROM page_copies ORDER BY id") == [
        ("alice", -1), ("frank", -1), ("bob", 1)]


# ---------------------------------------------------------------------------- 5. mention

@timeout(30)
async def test_mention_here_in_the_announcement(h):
    h.config["severities"][0]["mention"] = "here"
    h.config["severities"][1]["mention"] = "channel"
    await I.start(h, "2026-11-24T10:00:00+01:00")
    await I.declare(h, "P0 checkout is down")
    m = await I.wait_said(h, I.ANNOUNCE, "checkout is down")
    raw = json.dumps(m[0])
    assert "<!here>" in raw and "<!channel>" not in raw, raw
    await I.declare(h, "P1 search is slow", user="U0CAROL001")
    m = await I.wait_said(h, I.ANNOUNCE, "search is slow")
    assert "<!channel>" in json.dumps(m[0])
    await I.declare(h, "P2 a typo", user="U0BOB00001")
    m = await I.wait_said(h, I.ANNOUNCE, "a typo")
    assert "<!" not in json.dumps(m[0])
    # A title cannot smuggle one in.
    await I.declare(h, "P2 hello <!channel> world", user="U0DAVE0001")
    m = await I.wait_said(h, I.ANNOUNCE, "world")
    assert "<!channel>" not in json.dumps(m[0]), m[0]


# ---------------------------------------------------------------------------- 8. contacts

@timeout(40)
async def test_contact_step_mails_the_outside_contact(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        h.config["contacts"] = [{"name": "hosting", "phone": "+4930123456", "email": "noc@hosting.example"}]
        h.config["escalation_policies"][0]["steps"] = [
            {"after": "0m", "notify": "primary"}, {"after": "10m", "notify": "contact:hosting"}]
        h.config["severities"][1]["ack"] = "1h"
        h.time_scale = 300  # 10 min = 2 s
        await h.start()
        await post(h, "/alerts/webhook", critical())
        await wait_dm(h, ALICE)
        m = await smtp.wait(lambda m: "noc@hosting.example" in m["to"], timeout=10)
        assert "Subject: [klaxon] Page [P1] DiskFull" in m["data"] and "Hello hosting" in m["data"], m["data"]
        await wait_db(h, "SELECT kind, dest, step FROM page_copies WHERE person IS NULL",
                      lambda r: r == [("email", "noc@hosting.example", 1)])
        assert db_value(h, "SELECT escalations FROM pages") == 1
    finally:
        smtp.stop()


@timeout(20)
async def test_check_config_refuses_bad_contacts(h):
    h.config["contacts"] = [{"name": "hosting", "phone": "030 123456"}, {"name": "sec"}]
    h.config["escalation_policies"][0]["steps"].append({"after": "90m", "notify": "contact:nobody"})
    h.config["severities"][0]["mention"] = "everyone"
    h.write_config()
    out = subprocess.run([h.bin, "check-config", "--config", h.config_path], capture_output=True, text=True,
                         timeout=10, env=h.bot_env())
    assert out.returncode != 0, out
    err = out.stdout + out.stderr
    for want in ('contacts[0].phone: "030 123456" is not an E.164 phone number',
                 "contacts[1]: give phone (E.164) or email",
                 'contact "nobody" is not in contacts',
                 'severities[0].mention: "everyone" is not here, channel or none'):
        assert want in err, (want, err)


# ---------------------------------------------------------------------------- 6. routes that mail

def info(title="CertExpiresSoon", **kw):
    body = {"title": title, "severity": "info", "source": "e2e", "status": "firing",
            "details": {"summary": "the certificate of www expires in 20 days"}}
    body.update(kw)
    return body


@timeout(30)
async def test_email_route_mails_each_alert_at_once(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        h.config["alerts"]["routes"][2] = {"match": {"severity": "info"}, "email": ["carol", "ops@example.com"]}
        await h.start()
        status, body = await post(h, "/alerts/webhook", info())
        assert status == 200 and body["pages_created"] == 0 and body["posts_created"] == 0, body
        for to in ("carol@example.com", "ops@example.com"):
            m = await smtp.wait(lambda m, to=to: to in m["to"])
            assert "Subject: [klaxon] Alert [info] CertExpiresSoon" in m["data"], m["data"][:500]
            assert "expires in 20 days" in m["data"]
        # A repeat of the same alert is not mailed again.
        await post(h, "/alerts/webhook", info())
        await asyncio.sleep(1)
        assert len(smtp.messages) == 2, [m["to"] for m in smtp.messages]
        assert db_value(h, "SELECT action FROM alerts") == "email"
    finally:
        smtp.stop()


@timeout(40)
async def test_email_digest_goes_once_on_the_next_business_day(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        h.config["alerts"]["routes"][2] = {"match": {"severity": "info"}, "email": ["ops@example.com"],
                                           "digest": "next_business_day"}
        await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)  # a Tuesday, in business hours
        await post(h, "/alerts/webhook", info())
        await post(h, "/alerts/webhook", info("DiskWillFillIn4Days", dedup_key="disk"))
        rows = await wait_db(h, "SELECT kind, due_at FROM jobs WHERE key LIKE 'alerts:digest:%'",
                             lambda r: len(r) == 1)
        # Wednesday 08:00 in Berlin (no hours: Mon-Fri 08:00-18:00), one job for both alerts.
        assert rows == [("alerts.digest", int(I.epoch("2026-11-25T08:00:00+01:00") * 1000))], rows
        await asyncio.sleep(1)
        assert not smtp.messages
        await I.jump(h, "2026-11-25T08:01:00+01:00")
        m = await smtp.wait(lambda m: "ops@example.com" in m["to"])
        assert "Subject: [klaxon] Alert digest: 2 alerts" in m["data"], m["data"][:500]
        assert "CertExpiresSoon" in m["data"] and "DiskWillFillIn4Days" in m["data"], m["data"]
        await I.jump(h, "2026-11-25T09:00:00+01:00")  # once: a restart does not send it again
        await asyncio.sleep(1)
        assert len(smtp.messages) == 1
        # Friday evening: the digest waits for Monday morning.
        await I.jump(h, "2026-11-27T19:00:00+01:00")
        await post(h, "/alerts/webhook", info("Weekend", dedup_key="weekend"))
        rows = await wait_db(h, "SELECT due_at FROM jobs WHERE key LIKE 'alerts:digest:%' AND state = 'pending'",
                             lambda r: len(r) == 1)
        assert rows == [(int(I.epoch("2026-11-30T08:00:00+01:00") * 1000),)], rows
    finally:
        smtp.stop()


@timeout(20)
async def test_check_config_refuses_bad_email_routes(h):
    h.config["alerts"]["routes"].append({"match": {"x": "1"}, "email": ["nobody-here"], "digest": "tomorrow"})
    h.config["alerts"]["routes"].append({"match": {"x": "2"}, "record": True, "digest": "next_business_day"})
    h.write_config()
    out = subprocess.run([h.bin, "check-config", "--config", h.config_path], capture_output=True, text=True,
                         timeout=10, env=h.bot_env())
    err = out.stdout + out.stderr
    assert out.returncode != 0, out
    for want in ('alerts.routes[3].email[0]: "nobody-here" is neither a person id nor',
                 "alerts.routes[3].email: a route that mails needs an smtp block",
                 'alerts.routes[3].digest: "tomorrow" is not next_business_day or none',
                 "alerts.routes[4]: digest and hours only go with email"):
        assert want in err, (want, err)


# ---------------------------------------------------------------------------- 7. channel Acknowledge

@timeout(30)
async def test_channel_alert_acknowledge_is_measured_against_the_severity(h):
    h.config["alerts"]["routes"][1]["severity"] = "P2"  # ack 30m
    h.time_scale = 60
    await h.start()
    await post(h, "/alerts/webhook", {"title": "LatencyHigh", "severity": "warning", "source": "e2e",
                                      "status": "firing", "details": {"summary": "p99 over 2s"}})
    c = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ALERTS01", ok=True)
    ids = [el["action_id"].split("#")[0] for b in c["args"]["blocks"] if b["type"] == "actions" for el in b["elements"]]
    assert ids == ["page.ack"], ids
    await asyncio.sleep(1)  # a virtual minute
    await click(h, c, "page.ack", CAROL)
    await wait_db(h, "SELECT kind, state, acked_by, severity FROM pages",
                  lambda r: r == [("post", "acked", "carol", "P2")])
    await h.wait_call("chat.update", lambda u: u["args"].get("channel") == "C0ALERTS01"
                      and "Acknowledged by" in h.message_text(u["args"]))
    assert "page.ack" not in str(message_now(h, c)["blocks"])
    p2 = stats_json(h, LATER)["ack_targets"]["P2"]
    assert p2["channel_alerts"] == 1 and p2["channel_alerts_acknowledged"] == 1, p2
    assert p2["channel_alerts_acknowledged_in_target"] == 1 and 50 < p2["channel_alert_ack_seconds"] < 600, p2
    # The pages' own compliance is not mixed with channel alerts.
    assert p2["measured"] == 0, p2
