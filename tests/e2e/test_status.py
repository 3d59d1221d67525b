"""The status page, synthetic checks, heartbeats and maintenance windows (issue 13), end to end
under a scaled clock: a local HTTP service down for 3 simulated minutes is paged once and
resolved once; a missed heartbeat pages and the next beat resolves it; a public update is on
/status, in the Statuspage-v2 JSON and in the Atom feed while an internal one is nowhere; a
maintenance window silences paging and ends by itself."""

import asyncio
import json
import time
import xml.etree.ElementTree as ET

import aiohttp
from aiohttp import web

import incidents as I
from alerting import db_rows, db_value, post, posts_to, wait_db
from harness import free_port, timeout

ALICE = "U0ALICE001"
NOW = "2026-11-24T10:00:00+01:00"  # a Tuesday: alice is primary of platform


class Service:
    """A local HTTP service whose /health answers 200 while up, 503 while down."""

    def __init__(self):
        self.port = free_port()
        self.up = True
        self.hits = 0
        self.runner = None

    async def start(self):
        async def health(request):
            self.hits += 1
            if self.up:
                return web.Response(text="OK all good")
            return web.Response(status=503, text="down")

        app = web.Application()
        app.router.add_get("/health", health)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self):
        if self.runner:
            await self.runner.cleanup()

    @property
    def url(self):
        return "http://127.0.0.1:%d/health" % self.port


def with_page(h, checks=None, heartbeats=None):
    h.config["status_page"] = {
        "title": "Example <Corp> status",
        "public_url": "https://status.example.com",
        "components": [
            {"name": "api", "description": "The public API", "group": "Core",
             "match": {"service": "api"}},
            {"name": "web", "description": "The website"},
        ],
    }
    if checks:
        h.config["checks"] = checks
    if heartbeats:
        h.config["heartbeats"] = heartbeats


async def get_json(h, which):
    status, ctype, text = await h.http_get("/status/api/v2/%s.json" % which)
    assert status == 200 and ctype.startswith("application/json"), (status, ctype, text[:200])
    return json.loads(text)


def pages(h):
    return db_rows(h, "SELECT id, state FROM pages WHERE kind = 'page' ORDER BY id")


@timeout(60)
async def test_check_down_three_minutes_pages_once_and_resolves_once(h):
    svc = await Service().start()
    try:
        with_page(h, checks=[{"name": "api-health", "http": svc.url, "every": "30s", "timeout": "2s",
                              "down_after": "2m", "component": "api", "severity": "critical",
                              "expect": {"status": 200, "body": "OK"}}])
        await I.start(h, NOW, scale=60)  # 30 s of checks = 0.5 s
        await wait_db(h, "SELECT up FROM status_checks WHERE name = 'api-health'", lambda r: r == [(1,)], 10)
        summary = await get_json(h, "summary")
        assert summary["status"]["indicator"] == "none", summary["status"]
        down_at = h.bot_clock()
        svc.up = False
        # Failing but under down_after: degraded on the page, nobody paged yet.
        await wait_db(h, "SELECT up FROM status_checks", lambda r: r == [(0,)], 10)
        assert pages(h) == []
        while h.bot_clock() - down_at < 180:
            await asyncio.sleep(0.05)
        svc.up = True
        up_at = h.bot_clock()
        rows = await wait_db(h, "SELECT state FROM pages WHERE kind = 'page'",
                             lambda r: r and r[0][0] == "resolved", 15)
        assert len(rows) == 1, rows
        # Raised once (after ~2 min down) and resolved once, through the alert path.
        alerts = db_rows(h, "SELECT alertname, status, fires, source FROM alerts")
        assert alerts == [("check api-health down", "resolved", 1, "webhook")], alerts
        created, resolved = db_rows(h, "SELECT created_at, resolved_at FROM pages")[0]
        # first failure within one interval (30 s) of going down, raised down_after (2 min) later;
        # the rest is the batching (100 ms real = 6 s here) and a loaded machine
        assert 110_000 <= created - int(down_at * 1000) <= 200_000, created - down_at * 1000
        assert abs(resolved - int(up_at * 1000)) < 60_000
        dms = posts_to(h, ALICE)
        assert len(dms) == 1, "alice was paged %d times" % len(dms)
        assert "api-health" in h.message_text(dms[0]["args"]), h.message_text(dms[0]["args"])
        # Stays up: nothing new.
        await asyncio.sleep(1.5)
        assert len(pages(h)) == 1
        comps = await get_json(h, "components")
        assert [c["status"] for c in comps["components"]] == ["operational", "operational"]
        # /oncall checks shows it
        ack = await h.slash("/oncall", "checks")
        text = h.ack_text(ack)
        assert "api-health" in text and ": up" in text, text
    finally:
        await svc.stop()


@timeout(60)
async def test_missed_heartbeat_pages_and_next_beat_resolves(h):
    with_page(h, heartbeats=[{"name": "nightly-backup", "every": "5m", "grace": "2m", "component": "web"}])
    await I.start(h, NOW, scale=120)  # 7 min = 3.5 s
    # Refused without the token, by a wrong one, for an unknown name.
    st, _ = await post(h, "/heartbeat/nightly-backup", raw=b"", token="")
    assert st == 401
    st, _ = await post(h, "/heartbeat/nightly-backup", raw=b"", token="wrong")
    assert st == 401
    st, _ = await post(h, "/heartbeat/nightly-backup?token=nope", raw=b"", token="")
    assert st == 401
    st, _ = await post(h, "/heartbeat/unknown", raw=b"")
    assert st == 404
    # A cron job that can only call a URL: ?token=
    st, body = await post(h, "/heartbeat/nightly-backup?token=%s" % h.alert_token, raw=b"", token="")
    assert st == 200 and body["status"] == "ok", (st, body)
    beat_at = h.bot_clock()
    rows = await wait_db(h, "SELECT state FROM pages WHERE kind = 'page'", lambda r: len(r) == 1, 15)
    late = h.bot_clock() - beat_at
    assert late >= 7 * 60 - 5, "paged after only %.0f s" % late
    assert db_value(h, "SELECT alertname FROM alerts") == "heartbeat nightly-backup missed"
    summary = await get_json(h, "summary")
    assert summary["components"][1]["status"] == "major_outage", summary["components"]
    # The next beat (Bearer) resolves it.
    st, body = await post(h, "/heartbeat/nightly-backup", raw=b"")
    assert st == 200, (st, body)
    await wait_db(h, "SELECT state FROM pages WHERE kind = 'page'", lambda r: r == [("resolved",)], 10)
    summary = await get_json(h, "summary")
    assert summary["components"][1]["status"] == "operational"
    assert db_value(h, "SELECT count(*) FROM pages") == 1


XSS = "<script>alert(1)</script> & \"quotes\""


@timeout(60)
async def test_public_update_on_page_json_and_feed_internal_nowhere(h):
    with_page(h)
    await I.start(h, NOW, scale=1)
    ack, ch = await I.declare(h, "P1 Checkout " + XSS)
    cid = ch["id"]
    ack = await h.slash("/incident", "component api partial_outage", channel=cid)
    assert "partial_outage" in h.ack_text(ack), h.ack_text(ack)
    ack = await h.slash("/incident", "component nope major_outage", channel=cid)
    assert "not a component" in h.ack_text(ack)
    ack = await h.slash("/incident", "component api sideways", channel=cid)
    assert "not a state" in h.ack_text(ack)
    ack = await h.slash("/incident", "update --public Payments are slow " + XSS, channel=cid)
    assert "Published on the status page" in h.ack_text(ack), h.ack_text(ack)
    ack = await h.slash("/incident", "update internal: the db primary ran out of disk", channel=cid)
    assert "Published" not in h.ack_text(ack) and "not on the status page" in h.ack_text(ack), h.ack_text(ack)

    status, ctype, page = await h.http_get("/status")
    assert status == 200 and ctype.startswith("text/html")
    assert "Payments are slow &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "<script" not in page and "ran out of disk" not in page
    assert "Example &lt;Corp&gt; status" in page and "Partial outage" in page
    assert "src=\"http" not in page and "href=\"http" not in page.replace("href=\"https://status", "")

    summary = await get_json(h, "summary")
    assert summary["status"]["indicator"] == "major"
    assert summary["components"][0]["status"] == "partial_outage"
    inc, = summary["incidents"]
    assert inc["name"] == "Checkout " + XSS and inc["status"] == "investigating"
    assert [u["body"] for u in inc["incident_updates"]] == ["Payments are slow " + XSS]
    assert inc["components"][0]["name"] == "api"
    assert "ran out of disk" not in json.dumps(summary)

    status, ctype, feed = await h.http_get("/status/history.atom")
    assert status == 200 and "atom" in ctype
    root = ET.fromstring(feed)  # well-formed XML, escaping included
    ns = {"a": "http://www.w3.org/2005/Atom"}
    contents = [e.find("a:content", ns).text for e in root.findall("a:entry", ns)]
    assert contents == ["Payments are slow " + XSS], contents
    assert "ran out of disk" not in feed

    # Resolving restores the component; the incident stays in incidents.json as resolved.
    await h.slash("/incident", "resolve fixed", channel=cid)
    summary = await get_json(h, "summary")
    assert summary["components"][0]["status"] == "operational"
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []
    incs = await get_json(h, "incidents")
    assert incs["incidents"][0]["status"] == "resolved"
    status, _, _ = await h.http_get("/status/api/v2/nope.json")
    assert status == 404


@timeout(60)
async def test_json_read_by_a_statuspage_v2_client(h):
    """A client written against Statuspage's documented v2 shape reads klaxon's JSON back."""
    import statuspage_client as SP
    with_page(h)
    await I.start(h, NOW, scale=1)
    base = "http://127.0.0.1:%d/status" % h.http_port
    got = await asyncio.to_thread(SP.read_all, base)
    assert got["status"] == ("none", "All Systems Operational")
    assert [c.name for c in got["components"]] == ["api", "web"] and got["incidents"] == []
    ack, ch = await I.declare(h, "P1 Login fails")
    await h.slash("/incident", "component web major_outage", channel=ch["id"])
    await h.slash("/incident", "update --public Logins fail for some users", channel=ch["id"])
    await h.slash("/incident", "maintenance api 2026-11-25T02:00 2026-11-25T03:00 Database upgrade")
    got = await asyncio.to_thread(SP.read_all, base)
    assert got["page"].name == "Example <Corp> status" and got["page"].url == "https://status.example.com"
    assert got["status"][0] == "critical"
    web_c = [c for c in got["components"] if c.name == "web"][0]
    assert web_c.status == "major_outage" and web_c.description == "The website"
    inc, = got["open_incidents"]
    assert inc.name == "Login fails" and inc.impact == "critical" and inc.status == "investigating"
    assert [u.body for u in inc.updates] == ["Logins fail for some users"]
    assert [c.name for c in inc.components] == ["web"]
    m, = got["maintenances"]
    assert m.status == "scheduled" and m.name == "Database upgrade" and m.scheduled_for == "2026-11-25T01:00:00Z"
    await h.slash("/incident", "resolve", channel=ch["id"])
    got = await asyncio.to_thread(SP.read_all, base)
    assert got["open_incidents"] == [] and got["incidents"][0].status == "resolved"
    assert got["incidents"][0].resolved_at is not None


@timeout(60)
async def test_maintenance_window_silences_paging_and_ends_by_itself(h):
    svc = await Service().start()
    try:
        with_page(h, checks=[{"name": "api-health", "http": svc.url, "every": "30s", "timeout": "2s",
                              "down_after": "1m", "component": "api"}])
        await I.start(h, NOW, scale=60)
        # 10:02 to 10:08 Berlin time: announced ahead, then in progress, then over.
        ack = await h.slash("/incident", "maintenance api 2026-11-24T10:02 2026-11-24T10:08 DB upgrade <v16>")
        assert "Maintenance #1" in h.ack_text(ack), h.ack_text(ack)
        maint = await get_json(h, "scheduled-maintenances")
        m, = maint["scheduled_maintenances"]
        assert m["status"] == "scheduled" and m["name"] == "DB upgrade <v16>"
        status, _, page = await h.http_get("/status")
        assert "DB upgrade &lt;v16&gt;" in page and "Scheduled" in page
        while h.bot_clock() < I.epoch("2026-11-24T10:02:30+01:00"):
            await asyncio.sleep(0.05)
        svc.up = False
        comps = await get_json(h, "components")
        assert comps["components"][0]["status"] == "under_maintenance"
        # An Alertmanager-style alert for the component is recorded, not paged.
        st, body = await post(h, "/alerts/webhook", {"title": "ApiDown", "severity": "critical",
                                                     "details": {"service": "api"}})
        assert st == 200 and body["pages_created"] == 0, body
        assert db_value(h, "SELECT action FROM alerts WHERE alertname = 'ApiDown'") == "maintenance"
        while h.bot_clock() < I.epoch("2026-11-24T10:07:30+01:00"):
            await asyncio.sleep(0.05)
        assert pages(h) == [], "paged during maintenance"
        # The window ends on its own (a durable job); the still-failing check then pages.
        await wait_db(h, "SELECT state FROM jobs WHERE key = 'window:1:end'", lambda r: r and r[0][0] == "done", 10)
        await wait_db(h, "SELECT count(*) FROM pages WHERE kind = 'page'", lambda r: r[0][0] == 1, 10)
        maint = await get_json(h, "scheduled-maintenances")
        assert maint["scheduled_maintenances"][0]["status"] == "completed"
    finally:
        await svc.stop()


async def form(h, path, data):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        async with s.post("http://127.0.0.1:%d%s" % (h.http_port, path), data=data) as r:
            return r.status, await r.text()


def link(mail, what):
    import re
    m = re.search(r"https://status\.example\.com(/status/%s\?token=[0-9a-f]{32})" % what, mail["data"])
    assert m, mail["data"]
    return m.group(1)


@timeout(60)
async def test_subscribe_confirm_mail_unsubscribe(h):
    from alerting import Smtp
    smtp = Smtp().start()
    try:
        with_page(h)
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "status@example.com"}
        await I.start(h, NOW, scale=1)
        status, _, page = await h.http_get("/status")
        assert 'action="/status/subscribe"' in page
        # Bad input: refused with a page, nothing mailed.
        for bad in ({"email": "not-an-address"}, {"email": "a@b.c, evil@x.com"}, {"nope": "x"},
                    {"email": "x@example.com\r\nBcc: e@x.com"}):
            st, _ = await form(h, "/status/subscribe", bad)
            assert st == 400, (bad, st)
        st, text = await form(h, "/status/subscribe", {"email": "reader@example.com"})
        assert st == 202 and "Check your inbox" in text and "reader@example.com" not in text
        mail = await smtp.wait(lambda m: "reader@example.com" in m["to"])
        confirm = link(mail, "confirm")
        # Asking again within 15 minutes sends no second mail (per-address limit), same answer.
        st, text = await form(h, "/status/subscribe", {"email": "reader@example.com"})
        assert st == 202
        # Not confirmed yet: a public update mails nobody.
        ack, ch = await I.declare(h, "P1 Checkout errors")
        await h.slash("/incident", "update --public First public word", channel=ch["id"])
        await asyncio.sleep(1.0)
        assert len([m for m in smtp.messages if "reader@example.com" in m["to"]]) == 1
        status, _, text = await h.http_get(confirm)
        assert status == 200 and "Subscribed" in text
        status, _, text = await h.http_get("/status/confirm?token=" + "0" * 32)
        assert status == 404
        await h.slash("/incident", "update --public Second public word", channel=ch["id"])
        await h.slash("/incident", "update internal only word", channel=ch["id"])
        mail = await smtp.wait(lambda m: "Second public word" in m["data"])
        assert mail["to"] == ["reader@example.com"]
        await asyncio.sleep(0.5)
        assert not [m for m in smtp.messages if "internal only word" in m["data"]]
        unsub = link(mail, "unsubscribe")
        status, _, text = await h.http_get(unsub)
        assert status == 200 and "Unsubscribed" in text
        await h.slash("/incident", "update --public Third public word", channel=ch["id"])
        await asyncio.sleep(1.0)
        assert not [m for m in smtp.messages if "Third public word" in m["data"]]
        assert db_value(h, "SELECT count(*) FROM status_subscribers WHERE removed_at > 0") == 1
        # Per client: at most 10 requests an hour.
        codes = []
        for i in range(12):
            st, _ = await form(h, "/status/subscribe", {"email": "r%d@example.com" % i})
            codes.append(st)
        assert codes.count(429) >= 2 and codes[0] == 202, codes
    finally:
        smtp.stop()


ROOT = __import__("os").path.dirname(__import__("os").path.dirname(__import__("os").path.dirname(
    __import__("os").path.abspath(__file__))))


async def run(*cmd, timeout_s=90):
    p = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                             stderr=asyncio.subprocess.PIPE, cwd=ROOT)
    out, err = await asyncio.wait_for(p.communicate(), timeout_s)
    return p.returncode, out.decode(), err.decode()


@timeout(150)
async def test_page_in_a_real_browser_accessible_and_valid(h):
    """Debian's Chromium renders /status (screenshots at desktop and phone widths kept in
    build/artifacts/status/), axe-core finds no serious or critical violation, nothing is loaded
    from another host, no script; the W3C Nu checker (vnu.jar) finds no error."""
    import os
    svc = await Service().start()
    smtp = __import__("alerting").Smtp().start()
    try:
        with_page(h, checks=[{"name": "api-health", "http": svc.url, "every": "30s", "component": "api"}])
        h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "status@example.com"}
        h.config["status_page"]["title"] = "Example Corp status"
        await I.start(h, NOW, scale=60)
        ack, ch = await I.declare(h, "P1 Elevated error rates on checkout")
        await h.slash("/incident", "component api partial_outage", channel=ch["id"])
        await h.slash("/incident", "update --public Some card payments fail; we have found the cause "
                      "& are rolling back <release 4.2>.", channel=ch["id"])
        await h.slash("/incident", "maintenance web 2026-11-25T02:00 2026-11-25T03:00 Database upgrade")
        await wait_db(h, "SELECT count(*) FROM status_days", lambda r: r[0][0] >= 1, 10)
        art = os.path.join(ROOT, "build", "artifacts", "status")
        os.makedirs(art, exist_ok=True)
        status, _, page = await h.http_get("/status")
        assert status == 200
        html_path = os.path.join(art, "status.html")
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(page)
        url = "http://127.0.0.1:%d/status" % h.http_port
        rc, out, err = await run("node", "tests/node/status_page_check.js", url, art)
        assert rc == 0, "browser check failed (rc %d): %s %s" % (rc, out[-3000:], err[-2000:])
        report = json.loads(out.strip().splitlines()[-1])
        assert len(report["screenshots"]) == 2 and all(os.path.getsize(p) > 5000 for p in report["screenshots"])
        assert report["requests"] == []
        rc, out, err = await run("java", "-jar", "tests/node/node_modules/vnu-jar/build/dist/vnu.jar",
                                 "--errors-only", "--format", "text", html_path)
        assert rc == 0, "vnu: %s %s" % (out, err)
        assert "&amp; are rolling back &lt;release 4.2&gt;." in page
    finally:
        smtp.stop()
        await svc.stop()


@timeout(60)
async def test_severity_status_page_auto_and_never(h):
    """severities[].status_page: auto puts an incident on the page from its declaration and
    publishes every update; never refuses --public; ask (the default) publishes only --public."""
    with_page(h)
    h.config["severities"][0]["status_page"] = "auto"
    h.config["severities"][2]["status_page"] = "never"
    await I.start(h, NOW, scale=1)
    ack, ch0 = await I.declare(h, "P0 Everything is down")
    summary = await get_json(h, "summary")
    assert [i["name"] for i in summary["incidents"]] == ["Everything is down"]
    assert summary["incidents"][0]["incident_updates"] == []
    ack = await h.slash("/incident", "update Failing over to the second region", channel=ch0["id"])
    assert "Published on the status page" in h.ack_text(ack)
    ack, ch2 = await I.declare(h, "P2 Slow admin pages")
    ack = await h.slash("/incident", "update --public Admin pages are slow", channel=ch2["id"])
    assert "never goes on the status page" in h.ack_text(ack), h.ack_text(ack)
    summary = await get_json(h, "summary")
    assert [i["name"] for i in summary["incidents"]] == ["Everything is down"]
    assert [u["body"] for u in summary["incidents"][0]["incident_updates"]] == ["Failing over to the second region"]
    assert "Admin pages" not in json.dumps(summary)


@timeout(60)
async def test_tcp_checks_resolve_host_names_off_the_loop(h):
    svc = await Service().start()
    try:
        with_page(h, checks=[
            {"name": "by-name", "tcp": "localhost:%d" % svc.port, "every": "30s", "timeout": "2s",
             "down_after": "2m", "component": "api"},
            {"name": "nowhere", "tcp": "no-such-host.invalid:5432", "every": "30s", "timeout": "2s",
             "down_after": "2m", "component": "web"},
        ])
        await I.start(h, NOW, scale=60)
        await wait_db(h, "SELECT name, up FROM status_checks ORDER BY name",
                      lambda r: r == [("by-name", 1), ("nowhere", 0)], 15)
        detail = db_rows(h, "SELECT detail FROM status_checks WHERE name = 'nowhere'")[0][0]
        assert detail.startswith("resolve:"), detail
        await svc.stop()
        await wait_db(h, "SELECT up, detail FROM status_checks WHERE name = 'by-name'",
                      lambda r: r and r[0][0] == 0 and "connect" in (r[0][1] or ""), 15)
    finally:
        await svc.stop()


@timeout(60)
async def test_a_certificate_near_expiry_is_a_warning(h):
    """An HTTPS check against a local server whose certificate (from the test's own CA, given to
    klaxon as KLAXON_CA_FILE) expires in 5 days, under tls_expiry: 14d: up, with a warning."""
    import os
    import ssl
    import subprocess
    d = h.tmp
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=30)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "ca.key"),
        "-out", os.path.join(d, "ca.pem"), "-days", "30", "-subj", "/CN=klaxon test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "srv.key"),
        "-out", os.path.join(d, "srv.csr"), "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", os.path.join(d, "srv.csr"), "-CA", os.path.join(d, "ca.pem"),
        "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-out", os.path.join(d, "srv.pem"),
        "-days", "5", "-extfile", os.path.join(d, "ext.cnf"))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))

    async def health(request):
        return web.Response(text="OK")
    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        h.env["KLAXON_CA_FILE"] = os.path.join(d, "ca.pem")
        with_page(h, checks=[{"name": "tls", "http": "https://localhost:%d/health" % port, "every": "30s",
                              "timeout": "5s", "tls_expiry": "14d", "down_after": "2m", "component": "api"}])
        await I.start(h, NOW, scale=60)
        rows = await wait_db(h, "SELECT up, warn FROM status_checks WHERE name = 'tls'",
                             lambda r: r and r[0][0] == 1 and r[0][1], 15)
        assert "TLS certificate expires in" in rows[0][1], rows
        assert pages(h) == []  # a warning, not an alert
    finally:
        await runner.cleanup()
