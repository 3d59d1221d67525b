#!/usr/bin/python3
"""A small Python stand-in for `klaxon run`, written to the foundation contract, so that the
harness and the foundation's e2e tests can be proven before the C bot exists:

    KLAXON_BIN=tests/sim/fake_klaxon.py /usr/bin/python3 tests/e2e/run.py -k foundation

It is NOT klaxon and implements only what tests/e2e/test_foundation.py checks: auth.test and
apps.connections.open at start, Socket Mode with pings and a pong timeout, reconnects with
backoff and jitter (a new apps.connections.open each time), refresh without loss, link_disabled
and rejected tokens end the process, /healthz and /metrics, help and usage in acks, dedupe of
redeliveries, and `/oncall note TEXT` through a durable SQLite outbox honouring 429 and
retrying 5xx. Set FAKE_KLAXON_BREAK to one of the names in BREAKS to make it misbehave on
purpose (to see the tests fail).
"""

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
import time

import aiohttp
import yaml
from aiohttp import web

BREAKS = ("no_backoff", "ignore_retry_after", "ack_before_commit", "no_dedupe", "close_old_first",
          "no_ping", "mark_sent_before_call")
BREAK = os.environ.get("FAKE_KLAXON_BREAK", "")


def log(level, event, **kv):
    fields = " ".join("%s=%s" % (k, json.dumps(v) if isinstance(v, str) and " " in v else v) for k, v in kv.items())
    print("%s %s %s %s" % (time.strftime("%H:%M:%S"), level, event, fields), file=sys.stderr, flush=True)


def seconds(v):
    v = str(v)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if v.endswith(u):
            return float(v[: -len(u)]) * units[u]
    return float(v)


class Fatal(Exception):
    pass


class Bot:
    def __init__(self, cfg):
        self.cfg = cfg
        self.api = os.environ.get("KLAXON_SLACK_API_URL", "https://slack.com/api/")
        self.bot_token = os.environ["SLACK_BOT_TOKEN"]
        self.app_token = os.environ["SLACK_APP_TOKEN"]
        sl = cfg.get("slack", {})
        self.ping_interval = seconds(sl.get("ping_interval", "10s"))
        self.pong_timeout = seconds(sl.get("pong_timeout", "5s"))
        self.handoff = sl.get("handoff_channel")
        self.db = sqlite3.connect(cfg["storage"]["path"], isolation_level=None)
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, method TEXT, args TEXT, sent INTEGER DEFAULT 0);
            CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT);""")
        self.connected = False
        self.conns = []
        self.stop = asyncio.Event()
        self.wake = asyncio.Event()
        self.not_before = {}  # method -> monotonic time (Retry-After)
        self.fatal = None
        self.counters = {"envelopes": 0, "reconnects": 0, "outbox_sent": 0}

    # -------------------------------------------------------------- Web API
    async def call(self, method, args, token=None, form=False):
        hdr = {"Authorization": "Bearer " + (token or self.bot_token)}
        if form:
            hdr["Content-Type"] = "application/x-www-form-urlencoded"
            data = b""
        else:
            hdr["Content-Type"] = "application/json; charset=utf-8"
            data = json.dumps(args).encode()
        async with self.http.post(self.api + method, data=data, headers=hdr) as r:
            if r.status == 429:
                return 429, {"retry_after": int(r.headers.get("Retry-After", "1"))}
            if r.status != 200:
                return r.status, None
            return 200, await r.json(content_type=None)

    # -------------------------------------------------------------- Socket Mode
    async def open_socket(self):
        status, body = await self.call("apps.connections.open", {}, token=self.app_token, form=True)
        if status != 200 or not body.get("ok"):
            err = body.get("error") if body else "http_%d" % status
            if err in ("invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive"):
                raise Fatal("Slack rejected the app token at apps.connections.open: %s" % err)
            raise ConnectionError(err)
        ws = await self.http.ws_connect(body["url"], autoping=False, max_msg_size=0)
        conn = {"ws": ws, "last": time.monotonic(), "hello": asyncio.Event()}
        task = asyncio.ensure_future(self.read(conn))
        conn["task"] = task
        try:
            await asyncio.wait_for(conn["hello"].wait(), 10)
        except asyncio.TimeoutError:
            await ws.close()
            raise ConnectionError("no hello")
        self.conns.append(conn)
        self.connected = True
        return conn

    async def read(self, conn):
        ws = conn["ws"]
        try:
            async for m in ws:
                conn["last"] = time.monotonic()
                if m.type == aiohttp.WSMsgType.PING:
                    await ws.pong(m.data)
                elif m.type == aiohttp.WSMsgType.TEXT:
                    await self.on_text(conn, m.data)
                elif m.type == aiohttp.WSMsgType.BINARY:
                    log("WARN", "slack.binary_frame_ignored", bytes=len(m.data))
        except Exception as e:  # a broken socket ends this reader; the supervisor reconnects
            log("WARN", "slack.read_failed", error=repr(e))
        finally:
            conn["dead"] = True
            self.wake.set()

    async def on_text(self, conn, text):
        try:
            d = json.loads(text)
        except ValueError:
            return log("WARN", "slack.bad_json", bytes=len(text))
        if not isinstance(d, dict):
            return log("WARN", "slack.not_an_object")
        t = d.get("type")
        if t == "hello":
            conn["hello"].set()
            return
        if t == "disconnect":
            reason = d.get("reason")
            log("INFO", "slack.disconnect", reason=reason)
            if reason == "link_disabled":
                self.fatal = "Socket Mode was disabled for this app (disconnect reason link_disabled); exiting"
                self.stop.set()
                return
            asyncio.ensure_future(self.refresh(conn))
            return
        eid = d.get("envelope_id")
        if not eid:
            return log("WARN", "slack.unknown_frame", type=t)
        payload = d.get("payload")
        if not isinstance(payload, dict):
            return log("WARN", "slack.envelope_without_payload", envelope_id=eid)
        self.counters["envelopes"] += 1
        keys = ["env:" + eid]
        if t == "events_api" and payload.get("event_id"):
            keys.append("ev:" + payload["event_id"])
        dup = BREAK != "no_dedupe" and any(self.db.execute("SELECT 1 FROM seen WHERE key=?", (k,)).fetchone() for k in keys)
        reply = None
        if BREAK == "ack_before_commit":
            await self.ack(conn, eid, None)
        if not dup:
            self.db.execute("BEGIN")
            for k in keys:
                self.db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (k,))
            if t == "slash_commands":
                reply = self.command(payload)
            self.db.execute("COMMIT")
            self.wake.set()
        elif t == "slash_commands":
            reply = "Already done."
        if BREAK != "ack_before_commit":
            await self.ack(conn, eid, {"text": reply} if reply and d.get("accepts_response_payload") else None)

    async def ack(self, conn, eid, payload):
        msg = {"envelope_id": eid}
        if payload is not None:
            msg["payload"] = payload
        await conn["ws"].send_str(json.dumps(msg))

    def command(self, p):
        cmd, text = p.get("command"), (p.get("text") or "").strip()
        if len(text) > 4000:
            return "Usage: %s help (that was too long)" % cmd
        sub, _, rest = text.partition(" ")
        if cmd == "/incident":
            if sub == "help":
                return "/incident declare TITLE, /incident resolve, /incident help"
            return "Usage: /incident declare|resolve|help"
        if cmd == "/oncall":
            if sub == "help":
                return "/oncall schedule, /oncall override, /oncall note TEXT, /oncall help"
            if sub == "note" and rest:
                self.db.execute("INSERT INTO notes (text) VALUES (?)", (rest,))
                self.db.execute("INSERT INTO outbox (method, args) VALUES (?, ?)", (
                    "chat.postMessage", json.dumps({"channel": self.handoff, "text": "Note for the next handoff: " + rest})))
                return "Noted for the next handoff."
            return "Usage: /oncall schedule|override|note|help"
        return "Usage: unknown command"

    async def refresh(self, old):
        """New connection first, then close the old one."""
        if BREAK == "close_old_first":
            await old["ws"].close()
        try:
            await self.open_socket()
        except Exception as e:
            log("WARN", "slack.refresh_failed", error=repr(e))
        old["retired"] = True
        await asyncio.sleep(0.2)  # let frames already on their way be read and acked
        await old["ws"].close()

    async def supervise(self):
        attempt = 0
        while not self.stop.is_set():
            live = [c for c in self.conns if not c.get("dead")]
            now = time.monotonic()
            for c in live:
                if BREAK != "no_ping" and now - c.get("pinged", 0) >= self.ping_interval:
                    c["pinged"] = now
                    if not c.get("ping_sent") or c["last"] >= c["ping_sent"]:
                        c["ping_sent"] = now  # the oldest unanswered ping starts the clock
                    try:
                        await c["ws"].ping(b"klaxon")
                    except Exception:
                        c["dead"] = True
                if c.get("ping_sent") and c["last"] < c["ping_sent"] and now - c["ping_sent"] > self.pong_timeout:
                    log("WARN", "slack.pong_timeout", seconds=self.pong_timeout)
                    c["dead"] = True
                    c["task"].cancel()
                    asyncio.ensure_future(c["ws"].close())
            self.conns = [c for c in self.conns if not c.get("dead")]
            if not [c for c in self.conns if not c.get("retired")]:
                self.connected = False
                delay = 0.0 if BREAK == "no_backoff" else min(30.0, 0.4 * 2 ** attempt) * random.uniform(0.75, 1.25)
                await asyncio.sleep(delay)
                try:
                    await self.open_socket()
                    attempt = 0
                    log("INFO", "slack.connected")
                except Fatal as e:
                    self.fatal = str(e)
                    self.stop.set()
                    return
                except Exception as e:
                    attempt += 1
                    self.counters["reconnects"] += 1
                    log("WARN", "slack.connect_failed", attempt=attempt, error=repr(e))
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), 0.2)
            except asyncio.TimeoutError:
                pass

    # -------------------------------------------------------------- outbox
    async def sender(self):
        backoff = 0.2
        while not self.stop.is_set():
            row = self.db.execute("SELECT id, method, args FROM outbox WHERE sent=0 ORDER BY id LIMIT 1").fetchone()
            wait = 0.0
            if row:
                wait = self.not_before.get(row[1], 0) - time.monotonic()
            if not row or wait > 0:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), max(0.05, min(wait, 0.5)) if row else 0.5)
                except asyncio.TimeoutError:
                    pass
                continue
            rid, method, args = row
            if BREAK == "mark_sent_before_call":
                self.db.execute("UPDATE outbox SET sent=1 WHERE id=?", (rid,))
            try:
                status, body = await self.call(method, json.loads(args))
            except Exception as e:
                status, body = 0, None
                log("WARN", "outbox.call_failed", error=repr(e))
            if status == 429:
                if BREAK != "ignore_retry_after":
                    self.not_before[method] = time.monotonic() + body["retry_after"]
                log("WARN", "outbox.ratelimited", method=method, retry_after=body["retry_after"])
            elif status == 200 and body.get("ok"):
                self.db.execute("UPDATE outbox SET sent=1 WHERE id=?", (rid,))
                self.counters["outbox_sent"] += 1
                backoff = 0.2
            elif status == 200:
                log("ERROR", "outbox.refused", method=method, error=body.get("error"))
                self.db.execute("UPDATE outbox SET sent=2 WHERE id=?", (rid,))
            else:
                await asyncio.sleep(0.0 if BREAK == "no_backoff" else backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, 10)

    # -------------------------------------------------------------- HTTP
    async def healthz(self, request):
        ok = self.connected
        return web.json_response({"status": "ok" if ok else "degraded", "slack": "connected" if ok else "disconnected",
                                  "database": "ok"}, status=200 if ok else 503)

    async def metrics(self, request):
        lines = []
        for k, v in self.counters.items():
            lines += ["# HELP klaxon_%s_total %s." % (k, k), "# TYPE klaxon_%s_total counter" % k, "klaxon_%s_total %d" % (k, v)]
        lines += ["# TYPE klaxon_slack_connected gauge", 'klaxon_slack_connected{workspace="sim"} %d' % self.connected]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def run(self):
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = self.cfg["http"]["listen"].rsplit(":", 1)
        await web.TCPSite(runner, host, int(port)).start()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, self.stop.set)
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            status, body = await self.call("auth.test", {})
            if status != 200 or not body.get("ok"):
                self.fatal = "auth.test failed: %s" % (body or status)
            else:
                tasks = [asyncio.ensure_future(self.supervise()), asyncio.ensure_future(self.sender())]
                await self.stop.wait()
                for t in tasks:
                    t.cancel()
                for c in self.conns:
                    await c["ws"].close()
        finally:
            await self.http.close()
            await runner.cleanup()
        if self.fatal:
            log("ERROR", "klaxon.exit", reason=self.fatal)
            return 1
        log("INFO", "klaxon.stopped")
        return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] != "run" or "--config" not in sys.argv:
        print("usage: fake_klaxon.py run --config FILE", file=sys.stderr)
        return 2
    with open(sys.argv[sys.argv.index("--config") + 1]) as f:
        cfg = yaml.safe_load(f)
    if BREAK and BREAK not in BREAKS:
        print("FAKE_KLAXON_BREAK must be one of %s" % ", ".join(BREAKS), file=sys.stderr)
        return 2
    return asyncio.run(Bot(cfg).run())


if __name__ == "__main__":
    sys.exit(main())
