"""The monthly report (issue 16) end to end: a month of data made through the real interfaces
(alerts on /alerts, acknowledgements and resolutions through the Slack simulator, incidents
declared and resolved, action items, postmortems, an override), on the bot's simulated clock
(KLAXON_NOW, restarts at later instants). Then `klaxon report --json` is checked against numbers
this test computes itself from what it did; the CSV and the HTML page (served at
/reports/2026-11.html behind the feed token) are read back; the HTML is validated with vnu.jar
and opened in headless Chromium with axe-core (tests/e2e/browser_check.js); and the monthly post
and email come once on the first working day, across a kill -9. docs/reports.md."""

import asyncio
import datetime
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess

from alerting import Smtp, am_alert, am_payload, click, message_now, post, wait_dm
from harness import ROOT, timeout

import incidents as I

ALICE, BOB, ERIN, FRANK = "U0ALICE001", "U0BOB00001", "U0ERIN0001", "U0FRANK001"
HANDOFF = "C0ONCALL01"
TZ = datetime.timezone(datetime.timedelta(hours=1))  # Europe/Berlin in November (CET)
VNU = os.path.join(ROOT, "tests", "node", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
BROWSER_CHECK = os.path.join(ROOT, "tests", "e2e", "browser_check.js")
ARTIFACTS = os.path.join(ROOT, "build", "artifacts")


def webhook(title, key, status="firing"):
    return {"title": title, "severity": "critical", "source": "e2e", "status": status, "dedup_key": key,
            "details": {"summary": "%s on db-1" % title}}


def ts(text):
    return datetime.datetime.fromisoformat(text).timestamp()


async def resolve_page(h, call, user, reason):
    """Resolve button, then the reason button whose value ends with :reason."""
    mark = len(h.sim.calls)
    await click(h, call, "page.resolve", user)
    await h.wait_call("chat.update", lambda c: "page.reason" in str(c["args"].get("blocks")), since=mark)
    msg = message_now(h, call)
    el = [e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
          if str(e.get("value", "")).endswith(":" + reason)][0]
    await h.click(call["response"]["channel"], call["response"]["ts"], el["action_id"], user=user)


async def in_channel(h, channel, text, user=ALICE):
    ack = await h.slash("/incident", text, user=user, channel=channel["id"])
    return h.ack_text(ack)


def expected_hours():
    """Hours on call in November 2026, from the rotas as this test configured them: platform
    weekly from Monday 2026-10-26 09:00 (alice, bob, carol, dave; the secondary is the next one),
    frank overriding the primary from 2026-11-10 to 2026-11-12 inclusive (whole days: 10 Nov 00:00
    to 13 Nov 00:00, docs/rota-rules.md); data from Monday
    2026-11-23 09:00 with erin alone."""
    lo, hi = ts("2026-11-01T00:00:00+01:00"), ts("2026-12-01T00:00:00+01:00")
    primary, secondary = {}, {}
    people = ["alice", "bob", "carol", "dave"]

    def add(d, who, a, b):
        a, b = max(a, lo), min(b, hi)
        if b > a:
            d[who] = d.get(who, 0) + (b - a) / 3600

    start = ts("2026-10-26T09:00:00+01:00")
    ov = (ts("2026-11-10T00:00:00+01:00"), ts("2026-11-13T00:00:00+01:00"))
    for k in range(6):
        a, b = start + k * 7 * 86400, start + (k + 1) * 7 * 86400
        who = people[k % 4]
        # the override takes its slice out of the shift it falls in
        if a <= ov[0] and ov[1] <= b:
            add(primary, who, a, ov[0])
            add(primary, "frank", ov[0], ov[1])
            add(primary, who, ov[1], b)
        else:
            add(primary, who, a, b)
        add(secondary, people[(k + 1) % 4], a, b)
    add(primary, "erin", ts("2026-11-23T09:00:00+01:00"), hi)
    return {p: (round(primary.get(p, 0), 3), round(secondary.get(p, 0), 3)) for p in set(primary) | set(secondary)}


def check_json(j, t):
    """The report's JSON against what the test did (t: the instants it used)."""
    assert j["month"] == "2026-11" and j["timezone"] == "Europe/Berlin", j
    inc = j["incidents"]
    assert inc["total"] == 2, inc  # the October one is not November's
    assert inc["by_severity"] == {"P0": 1, "P1": 1, "P2": 0}, inc
    assert inc["by_service"] == {"data": 1, "platform": 1}, inc
    r = j["response"]
    # MTTA from the pages: 240 s, 240 s, 600 s; target of P1 5m
    assert abs(r["all"]["mtta"]["seconds"] - (240 + 240 + 600) / 3) < 1, r
    p1 = r["by_severity"]["P1"]
    assert abs(p1["mtta"]["seconds"] - 360) < 1 and p1["mtta"]["target_seconds"] == 300, p1
    assert p1["mtta"]["met"] is False, p1
    # MTTR: P0 declared 10:00 resolved 10:04; P1 declared Sat 23:00 resolved Sun 01:10
    p0 = r["by_severity"]["P0"]
    assert abs(p0["mttr"]["seconds"] - 240) < 1 and p0["mttr"]["met"] is True, p0
    assert abs(p1["mttr"]["seconds"] - 7800) < 1 and p1["mttr"]["target_seconds"] == 8 * 3600, p1
    assert abs(r["all"]["mttr"]["seconds"] - (240 + 7800) / 2) < 1, r
    # MTTD: the alert started 8 minutes before the incident was declared from its page
    assert abs(p1["mttd"]["seconds"] - 480) < 1 and p0["mttd"]["seconds"] is None, (p0, p1)
    # MTBF: the month less the impact of both, per incident
    downtime = 240 + (t["inc3_resolved"] - t["alert3_start"])
    month = 30 * 86400
    assert abs(j["mtbf"]["downtime_seconds"] - downtime) < 1, j["mtbf"]
    assert abs(j["mtbf"]["seconds"] - (month - downtime) / 2) < 1, j["mtbf"]
    pg = j["pages"]
    assert pg["total"] == 4 and pg["acknowledged"] == 3, pg
    assert pg["by_rota"] == [{"name": "platform", "pages": 4, "in_hours": 3, "after_hours": 1}], pg
    # Saturday's page waited 10 minutes for bob: past P1's 5-minute acknowledge target it went
    # on to the secondary (carol) at once, and bob's own rules (chat, then email after 5m) sent
    # him the email too (issue 11). Both reached a person after hours.
    assert pg["by_person"] == [{"name": "bob", "pages": 4, "in_hours": 2, "after_hours": 2},
                               {"name": "carol", "pages": 1, "in_hours": 0, "after_hours": 1},
                               {"name": "frank", "pages": 1, "in_hours": 1, "after_hours": 0}], pg
    hours = {x["person"]: (round(x["primary_hours"], 3), round(x["secondary_hours"], 3)) for x in j["oncall_hours"]}
    assert hours == expected_hours(), (hours, expected_hours())
    assert abs(sum(p for p, _ in hours.values()) - (720 + 183)) < 0.01, hours
    noisy = j["noisiest_alerts"]
    assert [(a["name"], a["pages"]) for a in noisy] == [("DiskFull", 3), ("CPUHigh", 1)], noisy
    assert noisy[0]["false_positive_share"] == 0.5 and abs(noisy[0]["mean_ack_seconds"] - 420) < 1, noisy
    assert noisy[1]["false_positive_share"] == 1 and abs(noisy[1]["mean_ack_seconds"] - 240) < 1, noisy
    assert j["action_items"] == {"opened": 2, "done": 1, "overdue": 1}, j["action_items"]
    assert j["postmortems"] == {"owed": 2, "late": 1, "late_incidents": [3]}, j["postmortems"]


async def make_month(h, smtp):
    """Drive the bot through October and November; returns the instants it used."""
    t = {}
    # October: an incident whose action item is still open a month later (overdue)
    await I.start(h, "2026-10-20T10:00:00+02:00", scale=I.FROZEN)
    _, ch1 = await I.declare(h, "P2 Old queue backlog")
    await in_channel(h, ch1, "action add @carol Drain the old queue")
    await I.wait_db(h, "SELECT count(*) FROM incident_actions", lambda r: r[0][0] == 1)
    # 2 November, Monday 10:00 (business hours): the override, two pages, an incident
    await I.jump(h, "2026-11-02T10:00:00+01:00")
    ack = await h.slash("/oncall", "override <@%s> 2026-11-10 2026-11-12 --rota platform" % FRANK, user=ERIN)
    await I.wait_db(h, "SELECT count(*) FROM rota_changes", lambda r: r[0][0] == 1)
    _ = ack
    await post(h, "/alerts/webhook", webhook("DiskFull", "disk1"))
    p1 = await wait_dm(h, BOB, pred=lambda c: "DiskFull" in h.message_text(c["args"]))
    await post(h, "/alerts/webhook", webhook("CPUHigh", "cpu1"))
    p2 = await wait_dm(h, BOB, pred=lambda c: "CPUHigh" in h.message_text(c["args"]))
    _, ch2 = await I.declare(h, "--rota data P0 Checkout errors")
    # 10:04: both pages acknowledged and resolved (fixed, false positive); the incident resolved,
    # two action items (one done), its postmortem done in time
    await I.jump(h, "2026-11-02T10:04:00+01:00")
    await click(h, p1, "page.ack", BOB)
    await resolve_page(h, p1, BOB, "fixed")
    await click(h, p2, "page.ack", BOB)
    await resolve_page(h, p2, BOB, "false_positive")
    await in_channel(h, ch2, "resolve Rolled back the deploy")
    await in_channel(h, ch2, "action add @bob Add a canary")
    await in_channel(h, ch2, "action add me Write the runbook")
    await in_channel(h, ch2, "action done 1")
    await in_channel(h, ch2, "postmortem done https://wiki.example.com/pm/2")
    await I.wait_db(h, "SELECT postmortem_done_at > 0, resolved_at > 0 FROM incidents WHERE id = 2",
                    lambda r: r == [(1, 1)])
    await I.wait_db(h, "SELECT count(*) FROM pages WHERE reason IS NOT NULL", lambda r: r[0][0] == 2)
    # Saturday 7 November 23:00 (outside business hours): an alert that began at 22:52 pages
    # bob; he declares an incident from the page, acknowledges it at 23:10
    await I.jump(h, "2026-11-07T23:00:00+01:00")
    t["alert3_start"] = ts("2026-11-07T22:52:00+01:00")
    body = am_payload("DiskFull", [am_alert("DiskFull", starts="2026-11-07T21:52:00Z", fp="fp-disk-sat")])
    mark = len(h.sim.calls)
    status, resp = await post(h, "/alerts/alertmanager", body)
    assert status == 200, resp
    p3 = await wait_dm(h, BOB, pred=lambda c: "DiskFull" in h.message_text(c["args"]) and c["args"].get("blocks")
                       and "page.declare" in json.dumps(c["args"]["blocks"]), since=mark)
    mark = len(h.sim.calls)
    await click(h, p3, "page.declare", BOB)
    create = await h.sim.wait_call("conversations.create", ok=True, since=mark)
    ch3 = h.sim.channels[create["response"]["channel"]["id"]]
    await I.wait_db(h, "SELECT count(*) FROM incidents", lambda r: r[0][0] == 3)
    await I.jump(h, "2026-11-07T23:10:00+01:00")
    await click(h, p3, "page.ack", BOB)
    await resolve_page(h, p3, BOB, "false_positive")
    await I.wait_db(h, "SELECT count(*) FROM pages WHERE reason = 'false_positive'", lambda r: r[0][0] == 2)
    # Sunday 01:10: resolved; no postmortem ever (late)
    await I.jump(h, "2026-11-08T01:10:00+01:00")
    t["inc3_resolved"] = ts("2026-11-08T01:10:00+01:00")
    await in_channel(h, ch3, "resolve Cleaned the disk", user=BOB)
    await I.wait_db(h, "SELECT resolved_at > 0 FROM incidents WHERE id = 3", lambda r: r == [(1,)])
    # Tuesday 10 November 14:00: frank holds the pager (the override); paged, then the alert
    # resolves itself before anyone acknowledges
    await I.jump(h, "2026-11-10T14:00:00+01:00")
    await post(h, "/alerts/webhook", webhook("DiskFull", "disk3"))
    await wait_dm(h, FRANK, pred=lambda c: "DiskFull" in h.message_text(c["args"]))
    status, resp = await post(h, "/alerts/webhook", webhook("DiskFull", "disk3", status="resolved"))
    assert status == 200 and resp["pages_resolved"] == 1, resp
    await I.wait_db(h, "SELECT count(*) FROM pages WHERE state = 'resolved'", lambda r: r[0][0] == 4)
    return t


def report_cli(h, *args, now="2026-12-01T09:00:00+01:00"):
    return I.cli(h, "report", *args, env={"KLAXON_NOW": now})


def browser_check(url, png, widths="1280,390"):
    out = subprocess.run(["node", BROWSER_CHECK, "--url", url, "--out", png, "--widths", widths],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, (out.stdout, out.stderr)
    return json.loads(out.stdout)


@timeout(240)
async def test_monthly_report_from_a_generated_month(h):
    smtp = Smtp().start()
    try:
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com"}
        h.config["rotas"][0]["start"] = "2026-10-26"
        h.config["rotas"].append({"name": "data", "timezone": "Europe/Berlin", "handoff": "monday 09:00",
                                  "start": "2026-11-23", "primary": ["erin"], "manager": "erin"})
        h.config["postmortem"] = {"due": "24h"}
        h.config["targets"] = {"mtta": "5m", "mttr": "4h"}
        # The month's pages are the alerts' own: declaring the P0 and P2 incidents pages nobody
        # (severities[].page: none), so the figures below count exactly the pages made here.
        for sev in h.config["severities"]:
            if sev["name"] in ("P0", "P2"):
                sev["page"] = "none"
        t = await make_month(h, smtp)
        # ---- the CLI: JSON against the test's own numbers
        rc, out, err = report_cli(h, "--json", "--month", "2026-11")
        assert rc == 0, err
        check_json(json.loads(out), t)
        # the default month is the last full one
        rc, out2, err = report_cli(h, "--json")
        assert rc == 0 and json.loads(out2)["month"] == "2026-11", err
        rc, text, err = report_cli(h)
        assert rc == 0 and "Monthly report: November 2026" in text and "Noisiest alerts" in text, (text, err)
        rc, csv, err = report_cli(h, "--csv", "--month", "2026-11")
        assert rc == 0 and csv.splitlines()[0] == "section,name,metric,value", csv
        assert '"noisiest_alerts","DiskFull","pages",3.000' in csv, csv
        rc, links, err = I.cli(h, "links", env={"KLAXON_NOW": "2026-12-01T09:00:00+01:00",
                                                "KLAXON_FEED_SECRET": h.feed_secret})
        want = "/reports/2026-11.html?token=" + h.feed_token("/reports/2026-11.html")
        assert rc == 0 and want in links, (links, err)
        for bad in (["--month", "2026-13"], ["--month", "nov"], ["--json", "--csv"], ["extra"]):
            rc, _, err = report_cli(h, *bad)
            assert rc == 2, (bad, rc, err)
        # ---- the HTML page, from the CLI and over HTTP behind the feed token
        rc, html, err = report_cli(h, "--html", "--month", "2026-11")
        assert rc == 0 and html.startswith("<!DOCTYPE html>"), err
        assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", ""), \
            "the page must be self-contained"
        assert html.count("<svg") >= 4, "charts"
        # ---- the monthly post and email: Tuesday 1 December 08:00 is the first working day.
        # kill -9 ten seconds before it is due: the job is still pending, and runs once when the
        # bot is back at 08:05
        await I.jump(h, "2026-12-01T07:59:50+01:00", scale=1)
        await h.stop_bot(signal.SIGKILL)
        assert I.db_rows(h, "SELECT state FROM jobs WHERE key = 'report.monthly:2026-12'") == [("pending",)]
        await I.start(h, "2026-12-01T08:05:00+01:00", scale=1)
        await I.wait_said(h, HANDOFF, "Monthly report: November 2026", timeout=10)
        m = await smtp.wait(lambda m: "erin@example.com" in m["to"] and "the report of 2026-11" in m["data"])
        mail = email.message_from_string(m["data"], policy=email.policy.default)
        assert mail.get_content_type() == "multipart/mixed", m["data"][:400]
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert "Monthly report: November 2026" in text and "Noisiest alerts" in text, text
        files = list(mail.iter_attachments())
        assert [f.get_filename() for f in files] == ["klaxon-report-2026-11.html"], files
        attached = files[0].get_content()
        assert attached.startswith("<!DOCTYPE html>") and "DiskFull" in attached and "<svg" in attached
        # kill -9 once the post and the email are delivered (the outbox rows done), then back
        # later that day and the next: nothing twice
        await I.wait_db(h, "SELECT count(*) FROM outbox WHERE body LIKE '%the report of 2026-11%' AND state = 'done'",
                        lambda r: r[0][0] == 2)
        await h.stop_bot(signal.SIGKILL)
        await I.start(h, "2026-12-01T08:10:00+01:00", scale=1)
        # ---- the HTML page over HTTP behind the feed token
        status, _, _ = await h.http_get("/reports/2026-11.html", token=False)
        assert status == 401
        status, _, _ = await h.http_get("/reports/2026-11.html?token=" + h.feed_token("/reports/2026-10.html"),
                                        token=False)
        assert status == 401, "a token opens its own path only"
        status, ctype, page = await h.http_get(h.feed_url("/reports/2026-11.html"), token=False)
        assert status == 200 and ctype.startswith("text/html"), (status, ctype)
        assert "Monthly report: November 2026" in page and "DiskFull" in page
        status, _, _ = await h.http_get(h.feed_url("/reports/2026-1x.html"), token=False)
        assert status == 404
        await I.jump(h, "2026-12-02T09:00:00+01:00", scale=1)
        await asyncio.sleep(1.5)
        got = I.said(h, HANDOFF, "Monthly report: November 2026")
        assert len(got) == 1, [(m.get("ts"), m.get("text")) for m in got]
        assert len([x for x in smtp.messages if "the report of 2026-11" in x["data"]]) == 1, \
            "one email: erin manages both rotas"
        # October's report went out on Monday 2 November, once, too
        assert len(I.said(h, HANDOFF, "Monthly report: October 2026")) == 1
        assert len([x for x in smtp.messages if "the report of 2026-10" in x["data"]]) == 1
        assert I.db_rows(h, "SELECT key, state FROM jobs WHERE kind = 'report.monthly' ORDER BY key") == [
            ("report.monthly:2026-11", "done"), ("report.monthly:2026-12", "done"),
            ("report.monthly:2027-01", "pending")]
        # ---- the page in a browser (axe-core) and through the HTML validator
        os.makedirs(ARTIFACTS, exist_ok=True)
        path = os.path.join(ARTIFACTS, "report-2026-11.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        v = subprocess.run(["java", "-jar", VNU, "--errors-only", path], capture_output=True, text=True,
                           timeout=120)
        assert v.returncode == 0, v.stderr
        res = browser_check("http://127.0.0.1:%d%s" % (h.http_port, h.feed_url("/reports/2026-11.html")),
                            os.path.join(ARTIFACTS, "report-2026-11.png"))
        assert res["violations"] == [], res
        assert res["scripts"] == 0 and res["svgs"] >= 4, res
        t0 = asyncio.get_running_loop().time()
        rc = await h.stop_bot(signal.SIGTERM, timeout=30)
        took = asyncio.get_running_loop().time() - t0
        assert rc == 0 and took < 5, (rc, took, h.log_tail(30))
        if os.environ.get("KLAXON_DOCS_SCREENSHOT"):
            shutil.copy(os.path.join(ARTIFACTS, "report-2026-11-1280.png"),
                        os.path.join(ROOT, "docs", "report-2026-11.png"))
    finally:
        smtp.stop()


@timeout(60)
async def test_monthly_report_reaches_the_teams_handoff_channel(h):
    """A bot with Teams, started on Tuesday 1 December at 07:58 and run at 60x: at 08:00 (the
    first working day) November's summary is a new thread in the Teams handoff channel and a
    post in Slack's, once each, and not before."""
    h.now = "2026-12-01T07:58:00+01:00"
    h.time_scale = 60
    await h.start_teams()
    await h.start()
    ch = h.teams_channels["oncall"]

    def report_posts():
        return [c for c in h.teams.calls if c["kind"] == "create_conversation" and c["status"] == 201
                and c["body"]["channelData"]["channel"]["id"] == ch
                and "Monthly report: November 2026" in h.teams_text(c["body"]["activity"])]

    assert not report_posts()
    await h.teams_wait(lambda c: bool(report_posts()), timeout=15, what="the report in Teams")
    text = h.teams_text(report_posts()[0]["body"]["activity"])
    for want in ("Incidents", "MTBF", "Hours on call", "Action items", "Postmortems"):
        assert want in text, (want, text)
    assert report_posts()[0]["time"] >= ts("2026-12-01T08:00:00+01:00") - 1, "posted before it was due"
    await I.wait_said(h, HANDOFF, "Monthly report: November 2026", timeout=10)
    await asyncio.sleep(2)  # two more virtual minutes: nothing again
    assert len(report_posts()) == 1 and len(I.said(h, HANDOFF, "Monthly report: November 2026")) == 1
