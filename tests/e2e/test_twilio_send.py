"""klaxon's "twilio" and "push" outbox senders (issue 11) against the Twilio stand-in and a local
push receiver. The paging engine that writes such rows is not here yet, so the tests write the
rows into the outbox while klaxon is stopped and start it again: at start the sender takes every
ready row, as it would after a crash."""

import asyncio
import json
import sqlite3
import time

from aiohttp import web

from harness import engines, timeout

CUSTOMER = "+15005550001"


def add_rows(h, rows):
    """rows: [(platform, method, body dict)] -> ids; each in its own queue."""
    con = sqlite3.connect(h.db_path)
    ids = []
    with con:
        for i, (platform, method, body) in enumerate(rows):
            cur = con.execute(
                "INSERT INTO outbox (created_at, platform, method, queue, body, priority) VALUES (?,?,?,?,?,0)",
                (int(time.time() * 1000), platform, method, "%s:test:%d" % (platform, i), json.dumps(body)))
            ids.append(cur.lastrowid)
    con.close()
    return ids


def row(h, rid):
    con = sqlite3.connect(h.db_path)
    con.row_factory = sqlite3.Row
    r = con.execute("SELECT * FROM outbox WHERE id = ?", (rid,)).fetchone()
    con.close()
    return dict(r)


async def wait_rows(h, ids, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        rows = [row(h, i) for i in ids]
        if all(r["state"] != "pending" for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError("rows still pending: %s" % [(r["id"], r["attempts"], r["error"]) for r in rows])
        await asyncio.sleep(0.1)


async def fresh_db(h):
    """Start once (the database and its schema), stop: rows can then be added."""
    await h.start()
    assert await h.sigterm() == 0


@timeout(60)
@engines("sqlite")  # rows written into the SQLite file directly
async def test_twilio_rows_sent_and_mapped(h):
    stub = await h.start_twilio()
    await fresh_db(h)
    await stub.fail_next(503, count=2)  # the first two calls fail: retried with backoff
    ids = add_rows(h, [
        ("twilio", "Messages", {"To": CUSTOMER, "Body": "P1 db down: reply 1 to ack (page 12)",
                                "StatusCallback": "http://127.0.0.1:9/twilio/status?attempt=1"}),
        ("twilio", "Calls", {"To": "+15005550002", "Url": "http://127.0.0.1:9/twilio/voice?page=12",
                             "MachineDetection": "Enable", "StatusCallbackEvent": "initiated completed"}),
        ("twilio", "Messages", {"To": "15005550003", "Body": "x"}),      # not E.164: 21211
        ("twilio", "Messages", {"To": CUSTOMER, "From": "+15005550009", "Body": "x"}),  # not our number
        ("twilio", "Recordings", {"To": CUSTOMER}),                       # no such method
        ("twilio", "Messages", {"To": CUSTOMER, "Body": 12}),             # not a string
    ])
    await h.start()
    rows = await wait_rows(h, ids, timeout=30)
    sms, call, bad_to, bad_from, bad_method, bad_body = rows
    assert sms["state"] == "done" and call["state"] == "done", (sms, call)
    res = json.loads(sms["result"])
    assert res["sid"].startswith("SM") and len(res["sid"]) == 34 and res["status"] == "queued", res
    assert json.loads(call["result"])["sid"].startswith("CA")
    assert bad_to["state"] == "failed" and bad_to["error"].startswith("twilio_21211: Invalid 'To' Phone Number"), bad_to
    assert bad_from["state"] == "failed" and bad_from["error"].startswith("twilio_21606: "), bad_from
    assert bad_method["state"] == "failed" and bad_method["error"] == "UNSUPPORTED", bad_method
    assert bad_body["state"] == "failed" and bad_body["error"] == "INVAL", bad_body
    # An attempt counts each call made: one per row that reached Twilio, plus the two 503s.
    assert sum(r["attempts"] for r in rows[:4]) == 4 + 2, [(r["id"], r["attempts"]) for r in rows]
    # What Twilio received: the form, From from the config, basic auth (else 401).
    msgs = await stub.messages()
    m = [x for x in msgs if x["sid"] == res["sid"]][0]
    assert m["params"] == {"To": CUSTOMER, "Body": "P1 db down: reply 1 to ack (page 12)",
                           "StatusCallback": "http://127.0.0.1:9/twilio/status?attempt=1",
                           "From": stub.from_number}, m
    c = (await stub.calls())[0]
    assert c["params"]["MachineDetection"] == "Enable" and c["events"] == ["initiated", "completed"]
    reqs = await stub.requests()
    assert [r["status"] for r in reqs].count(503) == 2 and 401 not in [r["status"] for r in reqs], reqs
    assert stub.auth_token not in h.log_text(), "the auth token is in klaxon's log"


@timeout(60)
@engines("sqlite")  # rows written into the SQLite file directly
async def test_twilio_429_waits_for_retry_after(h):
    stub = await h.start_twilio()
    await fresh_db(h)
    await stub.fail_next(429, count=1, retry_after=2)
    ids = add_rows(h, [("twilio", "Messages", {"To": CUSTOMER, "Body": "hi"})])
    await h.start()
    t0 = time.monotonic()
    (r,) = await wait_rows(h, ids, timeout=20)
    assert r["state"] == "done" and r["attempts"] == 2, r
    assert time.monotonic() - t0 >= 1.5, "retried before Retry-After"
    reqs = await stub.requests()
    assert [x["status"] for x in reqs] == [429, 201], reqs


@timeout(60)
async def test_twilio_missing_secret_refuses_to_start(h):
    stub = await h.start_twilio()
    h.env[stub.config_block()["auth_token_env"]] = None
    h.expect_exit = True
    await h.start(wait=False)
    rc = await h.wait_exit(timeout=10)
    assert rc != 0, rc
    assert "KLAXON_TEST_TWILIO_AUTH_TOKEN" in h.log_text()


class PushReceiver:
    def __init__(self):
        self.requests = []
        self.answers = {}  # path -> list of statuses to answer in turn (then 200)

    async def start(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        await self.runner.cleanup()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    async def handle(self, request):
        body = (await request.read()).decode()
        self.requests.append({"path": request.path, "method": request.method,
                              "headers": dict(request.headers), "body": body})
        q = self.answers.get(request.path, [])
        status = q.pop(0) if q else 200
        if status in (301, 302):
            return web.Response(status=status, headers={"Location": self.url("/elsewhere")})
        return web.json_response({"id": "msg%d" % len(self.requests), "event": "message"}, status=status)


@timeout(60)
@engines("sqlite")  # rows written into the SQLite file directly
async def test_push_rows(h):
    rx = await PushReceiver().start()
    try:
        await fresh_db(h)
        rx.answers["/retry"] = [502, 503]
        rx.answers["/moved"] = [302]
        rx.answers["/gone"] = [404]
        ids = add_rows(h, [
            ("push", "ntfy", {"url": rx.url("/oncall-alice"), "body": "P1 db down",
                              "headers": {"Title": "Page 12", "Priority": "5",
                                          "Actions": "http, Acknowledge, https://k.example.com/pages/ack/t, method=POST"}}),
            ("push", "webhook", {"url": rx.url("/retry"), "body": "{\"page\": 12}",
                                 "headers": {"Content-Type": "application/json"}}),
            ("push", "ntfy", {"url": rx.url("/moved"), "body": "x"}),
            ("push", "ntfy", {"url": rx.url("/gone"), "body": "x"}),
            ("push", "ntfy", {"url": "file:///etc/passwd", "body": "x"}),
            ("push", "ntfy", {"url": rx.url("/x"), "body": "x", "headers": {"X-Evil": "a\r\nHost: b"}}),
        ])
        await h.start()
        rows = await wait_rows(h, ids, timeout=30)
        ok, retry, moved, gone, bad_url, bad_header = rows
        assert ok["state"] == "done" and json.loads(ok["result"])["status"] == 200, ok
        assert json.loads(ok["result"])["body"]["event"] == "message"
        assert retry["state"] == "done" and retry["attempts"] == 3, retry
        assert moved["state"] == "failed" and moved["error"] == "push_http_302", moved
        assert gone["state"] == "failed" and gone["error"] == "push_http_404", gone
        assert bad_url["state"] == "failed" and bad_url["error"] == "INVAL"
        assert bad_header["state"] == "failed" and bad_header["error"] == "INVAL"
        first = [r for r in rx.requests if r["path"] == "/oncall-alice"]
        assert len(first) == 1 and first[0]["method"] == "POST" and first[0]["body"] == "P1 db down"
        hd = first[0]["headers"]
        assert hd["Title"] == "Page 12" and hd["Priority"] == "5" and hd["Actions"].startswith("http, Acknowledge")
        assert hd["Content-Type"].startswith("text/plain")
        assert [r["headers"]["Content-Type"] for r in rx.requests if r["path"] == "/retry"] == ["application/json"] * 3
        assert not [r for r in rx.requests if r["path"] in ("/elsewhere", "/x")], "followed a redirect or sent a bad header"
    finally:
        await rx.stop()
