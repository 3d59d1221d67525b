"""Helpers for the alert and paging end-to-end tests (tests/e2e/test_alerts*.py,
test_paging*.py): posting webhooks, Alertmanager payloads, reading klaxon's database
read-only, finding page DMs and clicking their buttons, a real Alertmanager and a local SMTP
server, each started on free loopback ports and stopped by the test."""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import aiohttp

AM_BIN = "/usr/bin/prometheus-alertmanager"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def post(h, path, body=None, token=None, raw=None, headers=None):
    """POST to klaxon's HTTP server; token None: the harness's token, "" : none."""
    hdr = {"Content-Type": "application/json"}
    tok = h.alert_token if token is None else token
    if tok:
        hdr["Authorization"] = "Bearer " + tok
    hdr.update(headers or {})
    data = raw if raw is not None else json.dumps(body).encode()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as s:
        async with s.post("http://127.0.0.1:%d%s" % (h.http_port, path), data=data, headers=hdr) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text)
            except ValueError:
                return r.status, text


def am_alert(name, severity="critical", status="firing", fp=None, summary=None, extra=None, runbook=None,
             starts="2026-11-24T08:59:00Z"):
    labels = {"alertname": name, "severity": severity, "service": "api"}
    labels.update(extra or {})
    ann = {"summary": summary or ("%s is happening" % name)}
    if runbook:
        ann["runbook_url"] = runbook
    return {"status": status, "labels": labels, "annotations": ann, "startsAt": starts,
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-24T09:30:00Z",
            "generatorURL": "http://prometheus.local/graph", "fingerprint": fp or ("fp%s%s" % (name, severity))}


def am_payload(group, alerts, status=None):
    st = status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved")
    common = dict(alerts[0]["labels"]) if alerts else {}
    return {"version": "4", "groupKey": "{}:{alertname=\"%s\"}" % group, "truncatedAlerts": 0, "status": st,
            "receiver": "klaxon", "groupLabels": {"alertname": group}, "commonLabels": common,
            "commonAnnotations": {}, "externalURL": "http://alertmanager.local", "alerts": alerts}


def db_rows(h, sql, args=()):
    """Rows from klaxon's database, read-only (WAL lets us read while it writes; either engine)."""
    return h.db_rows(sql, args)


def db_value(h, sql, args=()):
    rows = db_rows(h, sql, args)
    return rows[0][0] if rows else None


def posts_to(h, channel, since=0, method="chat.postMessage"):
    return [c for c in h.sim.calls_of(method, ok=True, since=since, done=True) if c["args"].get("channel") == channel]


async def wait_dm(h, uid, since=0, timeout=10.0, pred=None):
    """The first page DM (chat.postMessage to the user id) after call index `since`."""
    return await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == uid and (
        pred is None or pred(c)), timeout=timeout, since=since, ok=True)


def dm_channel(call):
    return call["response"]["channel"], call["response"]["ts"]


async def click(h, call, action_id, user):
    """Press a button (action_id without the #N suffix) on the message a call posted."""
    ch, ts = dm_channel(call)
    msg = h.sim.find_message(h.sim.channels[ch], ts)
    for b in msg.get("blocks") or []:
        for el in b.get("elements") or []:
            if isinstance(el, dict) and str(el.get("action_id", "")).split("#")[0] == action_id:
                return await h.click(ch, ts, el["action_id"], user=user)
    raise AssertionError("no %s button on %s/%s: %s" % (action_id, ch, ts, h.message_text(msg)))


def message_now(h, call):
    ch, ts = dm_channel(call)
    return h.sim.find_message(h.sim.channels[ch], ts)


async def settle(seconds):
    await asyncio.sleep(seconds)


class Alertmanager:
    """The real Prometheus Alertmanager from Debian, on free loopback ports, with its own
    storage, sending webhooks to klaxon with the bearer token."""

    def __init__(self, h, group_wait="1s", group_interval="2s", repeat_interval="1h"):
        self.h = h
        self.dir = tempfile.mkdtemp(prefix="klaxon-am-")
        self.port = free_port()
        self.proc = None
        cfg = """route:
  receiver: klaxon
  group_by: [alertname]
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
  - name: klaxon
    webhook_configs:
      - url: http://127.0.0.1:%d/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %s
""" % (group_wait, group_interval, repeat_interval, h.http_port, h.alert_token)
        self.config = os.path.join(self.dir, "alertmanager.yml")
        with open(self.config, "w") as f:
            f.write(cfg)
        self.log = open(os.path.join(self.dir, "alertmanager.log"), "wb")

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    async def start(self, timeout=10.0):
        if not os.access(AM_BIN, os.X_OK):
            raise AssertionError("%s is missing: apt-get install prometheus-alertmanager" % AM_BIN)
        self.proc = subprocess.Popen(
            [AM_BIN, "--config.file=" + self.config, "--storage.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--cluster.listen-address=",
             "--log.level=info"], stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError("alertmanager exited %s: %s" % (self.proc.returncode, self.log_tail()))
                try:
                    async with s.get(self.url + "/-/ready") as r:
                        if r.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("alertmanager did not become ready: %s" % self.log_tail())

    async def fire(self, alerts):
        """POST /api/v2/alerts: [{labels, annotations, startsAt?, endsAt?}]"""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
            async with s.post(self.url + "/api/v2/alerts", json=alerts) as r:
                if r.status != 200:
                    raise AssertionError("alertmanager refused the alerts: %s %s" % (r.status, await r.text()))

    def log_tail(self, n=20):
        self.log.flush()
        try:
            with open(os.path.join(self.dir, "alertmanager.log"), errors="replace") as f:
                return "\n".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    async def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Smtp:
    """A local SMTP server (aiosmtpd from Debian) that keeps every message it receives."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                outer.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                       "data": envelope.content.decode("utf-8", "replace")})
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()

    async def wait(self, pred, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if pred(m):
                    return m
            await asyncio.sleep(0.05)
        raise AssertionError("no matching email within %.0f s (got %d: %s)" % (
            timeout, len(self.messages), [m["data"][:200] for m in self.messages]))


async def wait_db(h, sql, pred, timeout=5.0, args=()):
    """Poll klaxon's database until pred(rows) holds; return the rows."""
    deadline = time.monotonic() + timeout
    rows = None
    while time.monotonic() < deadline:
        rows = db_rows(h, sql, args)
        if pred(rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the database never got there: %s -> %r" % (sql, rows))
