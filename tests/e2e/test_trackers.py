"""Action items as tracker issues end to end (issue 14): a rota's `tracker:` files each new action
item as a GitHub issue (REST `POST /repos/{owner}/{repo}/issues`) or a Jira Cloud issue (REST v3
`POST /rest/api/3/issue` with an ADF description) through the outbox, against local stand-ins
that check each request's shape and authentication strictly (and refuse otherwise, as the real
ones do); the issue is linked in the timeline, the channel and the postmortem; the trackers'
signed webhooks (`X-Hub-Signature-256` for GitHub, `X-Hub-Signature` for Jira) close the item;
a wrong signature or a huge body is refused and nothing changes."""

import asyncio
import base64
import hashlib
import hmac
import json
import time

import aiohttp
from aiohttp import web

from alerting import post as http_post
from harness import timeout
import incidents as I

GH_TOKEN = "ghp_e2eTokenNotReal0123456789"
GH_SECRET = "gh-webhook-secret-e2e"
JIRA_EMAIL = "bot@acme.example"
JIRA_TOKEN = "ATATT-e2e-not-a-real-token"
JIRA_SECRET = "jira-webhook-secret-e2e"


class Tracker:
    """GitHub's and Jira Cloud's issue-creating endpoints, strict about what they accept."""

    def __init__(self):
        self.got = []
        self.refused = []
        self.runner = None
        self.port = None

    async def start(self):
        app = web.Application()
        app.router.add_post("/repos/{owner}/{repo}/issues", self._github)
        app.router.add_post("/rest/api/3/issue", self._jira)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def _refuse(self, status, why):
        self.refused.append(why)
        return web.json_response({"message": why}, status=status)

    async def _github(self, request):
        h = request.headers
        if h.get("Authorization") != "Bearer " + GH_TOKEN:
            return self._refuse(401, "Bad credentials")
        if h.get("Accept") != "application/vnd.github+json" or h.get("X-GitHub-Api-Version") != "2022-11-28":
            return self._refuse(415, "wrong Accept or API version")
        if not h.get("User-Agent"):
            return self._refuse(403, "no User-Agent")
        if not h.get("Content-Type", "").startswith("application/json"):
            return self._refuse(415, "not JSON")
        body = await request.json()
        if not isinstance(body.get("title"), str) or not body["title"] or set(body) - {"title", "body", "labels",
                                                                                          "assignees", "milestone"}:
            return self._refuse(422, "Validation Failed")
        n = len([g for g in self.got if g["kind"] == "github"]) + 41
        repo = "%s/%s" % (request.match_info["owner"], request.match_info["repo"])
        self.got.append({"kind": "github", "repo": repo, "body": body})
        return web.json_response({"id": 9000 + n, "number": n, "state": "open", "title": body["title"],
                                  "html_url": "https://github.com/%s/issues/%d" % (repo, n),
                                  "url": "https://api.github.com/repos/%s/issues/%d" % (repo, n)}, status=201)

    async def _jira(self, request):
        want = "Basic " + base64.b64encode(("%s:%s" % (JIRA_EMAIL, JIRA_TOKEN)).encode()).decode()
        if request.headers.get("Authorization") != want:
            return self._refuse(401, "Client must be authenticated")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return self._refuse(415, "not JSON")
        body = await request.json()
        f = body.get("fields") or {}
        desc = f.get("description") or {}
        ok = (f.get("project") == {"key": "OPS"} and f.get("issuetype") == {"name": "Task"} and
              isinstance(f.get("summary"), str) and f["summary"] and desc.get("type") == "doc" and
              desc.get("version") == 1 and desc.get("content") and
              all(p["type"] == "paragraph" and all(t["type"] == "text" and t["text"] for t in p["content"])
                  for p in desc["content"]))
        if not ok:
            return self._refuse(400, "errors: fields")
        n = len([g for g in self.got if g["kind"] == "jira"]) + 7
        self.got.append({"kind": "jira", "body": body})
        return web.json_response({"id": str(10000 + n), "key": "OPS-%d" % n,
                                  "self": "%s/rest/api/3/issue/%d" % (self.url(), 10000 + n)}, status=201)

    async def wait(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.got) < n:
            assert time.monotonic() < deadline, "the tracker got %d of %d (refused: %s)" % (
                len(self.got), n, self.refused)
            await asyncio.sleep(0.05)
        return self.got[n - 1]

    async def stop(self):
        if self.runner:
            await self.runner.cleanup()


def sign(secret, raw):
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def hook(h, path, payload, secret, header, event=None, raw=None):
    raw = raw if raw is not None else json.dumps(payload).encode()
    hdr = {header: sign(secret, raw)} if secret else {}
    if event:
        hdr["X-GitHub-Event"] = event
    return await http_post(h, path, raw=raw, token="", headers=hdr)


def items(h):
    return I.db_rows(h, "SELECT number, tracker_key, tracker_url, done_at, done_by FROM incident_actions "
                        "ORDER BY number")


async def start(h, tracker):
    srv = await Tracker().start()
    h.config["rotas"][0]["tracker"] = tracker(srv) if callable(tracker) else tracker
    h.env.update({"GH_TOKEN": GH_TOKEN, "GH_HOOK": GH_SECRET, "JIRA_EMAIL": JIRA_EMAIL,
                  "JIRA_TOKEN": JIRA_TOKEN, "JIRA_HOOK": JIRA_SECRET,
                  "KLAXON_GITHUB_API_URL": srv.url()})
    await I.start(h, "2026-12-09T15:00:00+01:00", scale=1)
    return srv


def gh_closed(number, repo="acme/platform", action="closed"):
    return {"action": action, "issue": {"number": number, "state": "closed" if action == "closed" else "open",
                                        "title": "x", "html_url": "https://github.com/%s/issues/%d" % (repo, number)},
            "repository": {"full_name": repo, "name": repo.split("/")[1]}, "sender": {"login": "bob"}}


@timeout(45)
async def test_github_issue_filed_linked_and_closed_by_webhook(h):
    srv = await start(h, {"github": {"repo": "acme/platform", "token_env": "GH_TOKEN",
                                     "webhook_secret_env": "GH_HOOK"}})
    try:
        _, ch = await I.declare(h, "P1 Checkout is slow")
        c = ch["id"]
        await h.slash("/incident", "action add @bob add a latency alert --due 2026-12-20", channel=c)
        got = await srv.wait(1)
        assert got["repo"] == "acme/platform", got
        assert got["body"]["title"] == "add a latency alert", got
        for want in ("Action item 1 of incident #1: Checkout is slow", "Owner: bob", "Due: 2026-12-20"):
            assert want in got["body"]["body"], (want, got["body"]["body"])
        assert GH_TOKEN not in json.dumps(I.db_rows(h, "SELECT body FROM outbox")), "the token was stored"
        rows = await I.wait_db(h, "SELECT tracker_key, tracker_url FROM incident_actions", lambda r: r and r[0][0])
        assert rows == [("acme/platform#41", "https://github.com/acme/platform/issues/41")], rows
        await I.wait_said(h, c, "https://github.com/acme/platform/issues/41")
        await I.wait_timeline(h, lambda t: any("GitHub issue acme/platform#41" in e[2] for e in t))
        status, ctype, md = await h.http_get("/incidents/1/postmortem.md")
        assert status == 200 and "[acme/platform#41](https://github.com/acme/platform/issues/41)" in md, md
        # Hostile webhooks: no, wrong or other-secret signature; huge body. Nothing changes.
        for secret in (None, "wrong-secret", JIRA_SECRET):
            st, _ = await hook(h, "/trackers/github", gh_closed(41), secret, "X-Hub-Signature-256", "issues")
            assert st == 401, (secret, st)
        raw = json.dumps(gh_closed(41)).encode()
        st, _ = await http_post(h, "/trackers/github", raw=raw, token="",
                                headers={"X-Hub-Signature-256": sign(GH_SECRET, raw + b" "), "X-GitHub-Event": "issues"})
        assert st == 401, st
        big = b'{"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
        try:
            st, _ = await hook(h, "/trackers/github", None, GH_SECRET, "X-Hub-Signature-256", "issues", raw=big)
        except aiohttp.ClientError:
            st = 413  # the server may close the connection while we are still sending
        assert st == 413, st
        # Signed but not a closing: reopened, another repo's issue, a ping, not JSON.
        st, body = await hook(h, "/trackers/github", gh_closed(41, action="reopened"), GH_SECRET,
                              "X-Hub-Signature-256", "issues")
        assert st == 200 and body.get("ignored"), (st, body)
        st, _ = await hook(h, "/trackers/github", gh_closed(41, repo="evil/other"), GH_SECRET,
                           "X-Hub-Signature-256", "issues")
        assert st == 200, st
        st, body = await hook(h, "/trackers/github", {"zen": "Keep it simple.", "hook_id": 1}, GH_SECRET,
                              "X-Hub-Signature-256", "ping")
        assert st == 200 and body.get("ignored"), (st, body)
        st, _ = await hook(h, "/trackers/github", None, GH_SECRET, "X-Hub-Signature-256", "issues", raw=b"[1,")
        assert st == 400, st
        await asyncio.sleep(0.3)
        assert items(h)[0][3] == 0, items(h)
        # The real thing closes the item; the channel says so.
        st, _ = await hook(h, "/trackers/github", gh_closed(41), GH_SECRET, "X-Hub-Signature-256", "issues")
        assert st == 200, st
        rows = await I.wait_db(h, "SELECT done_at, done_by FROM incident_actions", lambda r: r and r[0][0])
        assert rows[0][1] == "github", rows
        await I.wait_said(h, c, "its GitHub issue was closed")
        # Again: nothing more.
        st, _ = await hook(h, "/trackers/github", gh_closed(41), GH_SECRET, "X-Hub-Signature-256", "issues")
        assert st == 200, st
        status, metrics = await h.metrics()
        assert 'klaxon_tracker_webhooks_refused_total{tracker="github",status="401"} 4' in metrics, metrics
    finally:
        await srv.stop()


@timeout(45)
async def test_jira_issue_filed_with_adf_and_closed_by_webhook(h):
    srv = await start(h, lambda srv: {"jira": {"url": srv.url(), "project": "OPS", "email_env": "JIRA_EMAIL",
                                               "token_env": "JIRA_TOKEN", "webhook_secret_env": "JIRA_HOOK"}})
    try:
        _, ch = await I.declare(h, "P1 Search is down")
        c = ch["id"]
        await h.slash("/incident", "action add @carol document the failover", channel=c)
        got = await srv.wait(1)
        f = got["body"]["fields"]
        assert f["summary"] == "document the failover", f
        texts = [p["content"][0]["text"] for p in f["description"]["content"]]
        assert texts[0] == "document the failover" and "Owner: carol" in texts, texts
        assert JIRA_TOKEN not in json.dumps(I.db_rows(h, "SELECT body FROM outbox"))
        rows = await I.wait_db(h, "SELECT tracker_key, tracker_url FROM incident_actions", lambda r: r and r[0][0])
        assert rows == [("OPS-7", srv.url() + "/browse/OPS-7")], rows
        await I.wait_timeline(h, lambda t: any("Jira issue OPS-7" in e[2] for e in t))
        upd = {"timestamp": 1765290000000, "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_generic",
               "issue": {"id": "10007", "key": "OPS-7", "self": srv.url() + "/rest/api/3/issue/10007",
                         "fields": {"status": {"name": "Done", "statusCategory": {"id": 3, "key": "done",
                                                                                   "name": "Done"}}}},
               "changelog": {"items": [{"field": "status", "fromString": "In Progress", "toString": "Done"}]}}
        progress = json.loads(json.dumps(upd))
        progress["issue"]["fields"]["status"] = {"name": "In Progress",
                                                 "statusCategory": {"id": 4, "key": "indeterminate"}}
        st, _ = await hook(h, "/trackers/jira", upd, GH_SECRET, "X-Hub-Signature")
        assert st == 401, st
        st, body = await hook(h, "/trackers/jira", progress, JIRA_SECRET, "X-Hub-Signature")
        assert st == 200 and body.get("ignored"), (st, body)
        await asyncio.sleep(0.3)
        assert items(h)[0][3] == 0, items(h)
        st, _ = await hook(h, "/trackers/jira", upd, JIRA_SECRET, "X-Hub-Signature")
        assert st == 200, st
        rows = await I.wait_db(h, "SELECT done_at, done_by FROM incident_actions", lambda r: r and r[0][0])
        assert rows[0][1] == "jira", rows
        await I.wait_said(h, c, "its Jira issue was closed")
    finally:
        await srv.stop()


@timeout(30)
async def test_tracker_without_token_files_nothing(h):
    srv = await start(h, {"github": {"repo": "acme/platform", "token_env": "GH_MISSING",
                                     "webhook_secret_env": "GH_HOOK"}})
    try:
        _, ch = await I.declare(h, "P1 Checkout is slow")
        await h.slash("/incident", "action add @bob add a latency alert", channel=ch["id"])
        await I.wait_db(h, "SELECT state FROM outbox WHERE platform = 'tracker'", lambda r: r and r[0][0] == "failed")
        assert srv.got == [] and items(h)[0][1] is None, (srv.got, items(h))
    finally:
        await srv.stop()
