#!/usr/bin/python3
"""A strict local stand-in for Slack's Web API and Socket Mode, for klaxon's end-to-end tests,
demos and benchmarks. See tests/sim/README.md for the control API and the rules it enforces.

In-process:
    sim = SlackSim()                     # or SlackSim(port=N, state_file=..., rate_limits=False)
    await sim.start(); ... ; await sim.stop()
    sim.api_url -> "http://127.0.0.1:PORT/api/"
Standalone:
    /usr/bin/python3 tests/sim/slack_sim.py --port 8900 [--state-file sim.json]
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aiohttp import web  # noqa: E402

import slack_model as M  # noqa: E402
from slack_socket import BAD_FRAME_KINDS, SocketModeMixin  # noqa: E402
from slack_webapi import FAULT_KINDS, WebApiMixin  # noqa: E402

DEFAULT_OPTS = {
    "rate_limits": True,          # per-method tier buckets and chat.postMessage per channel (§2.3)
    "rate_scale": 1.0,            # multiply every limit (load tests)
    "post_burst": 5,              # chat.postMessage: burst per channel ...
    "post_per_second": 1.0,       # ... then about one per second per channel
    "chat_write_public": True,    # post to public channels the bot is not in
    "echo_bot_messages": True,    # message events for the bot's own posts in its channels
    "mention_events": True,       # app_mention events besides message events
    "ping_interval": 15.0,        # seconds between server pings (0/None: none)
    "ack_timeout": 3.0,           # events_api redelivery after this many seconds without ack
    "max_event_retries": 3,
    "event_retry_delays": None,   # pause before retry n (seconds); slack_socket.EVENT_RETRY_DELAYS is Slack's
    "max_connections": 10,
    "escape_slashes": "alternate",  # apps.connections.open URL with \/: alternate | always | never
    "trigger_ttl": 3.0,
    "response_url_max": 5,
    "response_url_ttl": 1800.0,
    "connection_lifetime": None,  # seconds until Slack refreshes a connection (None: never)
    "approximate_connection_time": 18060,
    "refresh_grace": 10.0,
    "socket_mode_enabled": True,
    "max_frame": 16 * 1024 * 1024,
    "max_body": 8 * 1024 * 1024,
    "record_frames": True,        # keep text frames in sim.frames (False: load benches; acks still kept)
    # the app's unfurl domains (manifest features.unfurl_domains): link_shared is sent for these
    "unfurl_domains": ("127.0.0.1", "localhost", "klaxon.example.com"),
    # message shortcuts the app declares (manifest features.shortcuts, type message): callback_ids
    "message_shortcuts": ("incident.timeline_add", "incident.declare_from_message"),
    # the bot token's scopes (deploy/slack-app-manifest.yaml); methods that check scopes answer
    # missing_scope (with needed/provided) when theirs is not here
    "bot_scopes": ("commands", "chat:write", "chat:write.public", "channels:manage", "channels:read",
                   "channels:history", "groups:history", "im:write", "im:history", "users:read",
                   "users:read.email", "dnd:read", "usergroups:read", "usergroups:write",
                   "reactions:read", "reactions:write", "pins:read", "pins:write", "bookmarks:write",
                   "app_mentions:read", "links:read", "links:write"),
}


class SimTimeout(AssertionError):
    pass


class SlackSim(WebApiMixin, SocketModeMixin):
    def __init__(self, host="127.0.0.1", port=0, state_file=None, workspace=None, bot_tokens=None,
                 app_tokens=None, **opts):
        unknown = set(opts) - set(DEFAULT_OPTS)
        if unknown:
            raise TypeError("unknown simulator options: %s" % ", ".join(sorted(unknown)))
        self.host = host
        self.port = port
        self.state_file = state_file
        self.opts = dict(DEFAULT_OPTS, **opts)
        self.bot_tokens = set(bot_tokens or [M.BOT_TOKEN])
        self.app_tokens = set(app_tokens or [M.APP_TOKEN])
        self.started_at = int(time.time())
        self.ts = M.TsClock()
        self.users, self.channels, self.usergroups = {}, {}, {}
        self.views, self.view_owner, self.home_views = {}, {}, {}
        self.unfurl_ids = {}  # unfurl_id -> (channel, ts) of link_shared events sent
        self.tickets, self.triggers, self.response_urls = {}, {}, {}
        # What tests assert on.
        self.calls, self.frames, self.acks, self.protocol_errors = [], [], [], []
        self.ratelimited, self.handshakes, self.response_posts = [], [], []
        self.envelopes, self.envelope_log, self.event_acked = {}, [], set()
        self.deliveries, self.refused_conns = [], []  # each envelope sent (its connection); cap refusals
        self.conns, self.pending = [], []
        self.faults, self.buckets = [], {}
        self.holds = []  # (call record, asyncio.Event) held by a hold_after fault
        self.refuse_handshakes = 0
        self.stopping = False
        self._conn_seq = self._rurl_seq = self._aco_count = self._rr = 0
        self._after = []
        self._waiters = []
        self._save_handle = None
        self._runner = None
        if state_file and os.path.exists(state_file):
            self.load_state(state_file)
        else:
            self.load_workspace(workspace or M.default_workspace())

    # ------------------------------------------------------------------ workspace

    def load_workspace(self, ws):
        for spec in ws.get("users", []):
            self.add_user(spec)
        bot = {"id": M.BOT_USER_ID, "name": M.BOT_NAME, "real_name": "Klaxon", "is_bot": True, "email": None}
        self.users.setdefault(M.BOT_USER_ID, M.make_user(bot))
        for spec in ws.get("channels", []):
            self.add_channel(spec)
        for g in ws.get("usergroups", []):
            self.usergroups[g["id"]] = {"id": g["id"], "handle": g["handle"], "name": g.get("name", g["handle"]),
                                        "users": list(g.get("users", []))}

    def add_user(self, spec):
        u = M.make_user(spec)
        self.users[u["id"]] = u
        self._state_changed()
        return u

    def add_channel(self, spec):
        c = M.make_channel(spec)
        for uid in c["members"]:
            if uid not in self.users:
                raise ValueError("channel %s names unknown member %s" % (c["id"], uid))
        self.channels[c["id"]] = c
        self._state_changed()
        return c

    def state(self):
        return {"users": list(self.users.values()), "channels": list(self.channels.values()),
                "usergroups": list(self.usergroups.values()), "views": self.views, "view_owner": self.view_owner,
                "home_views": self.home_views}

    def load_state(self, path):
        with open(path, encoding="utf-8") as f:
            st = json.load(f)
        self.users = {u["id"]: M.make_user(u) for u in st.get("users", [])}
        self.channels = {}
        for c in st.get("channels", []):
            ch = M.make_channel(c)
            self.channels[ch["id"]] = ch
            for m in ch["messages"]:
                self.ts.seen(m.get("ts"))
        self.usergroups = {g["id"]: g for g in st.get("usergroups", [])}
        self.views = st.get("views", {})
        self.view_owner = st.get("view_owner", {})
        self.home_views = st.get("home_views", {})

    def save_state(self, path=None):
        path = path or self.state_file
        if not path:
            return None
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state(), f, indent=1)
        os.replace(tmp, path)
        return path

    def _state_changed(self):
        if not self.state_file or self._save_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._save_handle = loop.call_later(0.2, self._save_now)

    def _save_now(self):
        self._save_handle = None
        self.save_state()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def api_url(self):
        return self.base_url + "/api/"

    bot_token = M.BOT_TOKEN
    app_token = M.APP_TOKEN

    def app(self):
        app = web.Application(client_max_size=self.opts["max_body"])
        app.router.add_route("*", "/api/{method}", self._api_handler)
        app.router.add_get("/link/", self._ws_handler)
        app.router.add_get("/link", self._ws_handler)
        app.router.add_post("/commands/{team}/{id}/{secret}", self._response_url_handler)
        app.router.add_post("/actions/{team}/{id}/{secret}", self._response_url_handler)
        Control(self).routes(app)
        return app

    async def start(self):
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        self.stopping = True
        self.release_held()
        for c in self.conns:
            for task in c.tasks:
                task.cancel()
            if c.open and c.transport is not None:
                c.closed_by = c.closed_by or "server"
                c.transport.abort()
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        if self.state_file:
            self.save_state()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop()

    # ------------------------------------------------------------------ waiting and queries

    def _notify(self):
        waiters, self._waiters = self._waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)

    async def wait_until(self, pred, timeout=10.0, what="a condition"):
        """Re-evaluate pred() whenever something is recorded; return its first truthy value, or
        raise SimTimeout naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            left = deadline - time.monotonic()
            if left <= 0:
                raise SimTimeout("timed out after %.1f s waiting for %s" % (timeout, what))
            f = asyncio.get_running_loop().create_future()
            self._waiters.append(f)
            try:
                await asyncio.wait_for(f, min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    def calls_of(self, method=None, ok=None, since=0, done=None):
        out = []
        for c in self.calls[since:]:
            if method is not None and c["method"] != method:
                continue
            if ok is not None and c["ok"] is not ok:
                continue
            if done is not None and c["done"] is not done:
                continue
            out.append(c)
        return out

    async def wait_call(self, method, pred=None, timeout=10.0, since=0, ok=None):
        """The first finished Web API call of `method` (after call index `since`) for which
        pred(call) holds (and whose ok equals `ok` when given)."""

        def find():
            for c in self.calls_of(method, ok=ok, since=since, done=True):
                if pred is None or pred(c):
                    return c
            return None

        return await self.wait_until(find, timeout, "a %s call%s" % (method, " matching" if pred else ""))

    async def wait_ack(self, envelope_id, timeout=5.0):
        rec = self.envelopes.get(envelope_id)
        if rec is None:
            raise LookupError("no envelope %s" % envelope_id)
        return await self.wait_until(lambda: rec["ack"], timeout, "the ack of envelope %s (%s)" % (envelope_id, rec["type"]))

    async def wait_connected(self, count=1, timeout=10.0, since_conn=0):
        """Wait until at least `count` connections with id > since_conn have had their hello."""
        return await self.wait_until(
            lambda: [c for c in self.live_conns() if c.id > since_conn][:count]
            if len([c for c in self.live_conns() if c.id > since_conn]) >= count else None,
            timeout, "%d Socket Mode connection(s)" % count)

    def messages(self, channel):
        return self.channels[channel]["messages"]

    def reset_logs(self):
        for lst in (self.calls, self.frames, self.acks, self.protocol_errors, self.ratelimited, self.handshakes,
                    self.response_posts, self.deliveries):
            lst.clear()


# ---------------------------------------------------------------------------- control API


def jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.info() if hasattr(o, "info") else
                                 sorted(o) if isinstance(o, set) else str(o)))


class Control:
    """HTTP control under /_sim/ for shell scripts, the demo driver and benchmarks. Every
    endpoint takes and returns JSON; a bad request answers 400 {"error": "…"}."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self, app):
        get = {
            "health": self.health, "calls": self.calls, "frames": self.frames, "acks": self.acks,
            "envelopes": self.envelopes, "protocol_errors": self.protocol_errors,
            "ratelimited": self.ratelimited, "connections": self.connections, "handshakes": self.handshakes,
            "response_urls": self.response_urls, "state": self.state, "options": self.options_get,
            "faults": self.faults_get, "deliveries": self.deliveries, "ack_counts": self.ack_counts,
        }
        post = {
            "wait_call": self.wait_call, "wait_ack": self.wait_ack, "slash": self.slash, "action": self.action,
            "view_submission": self.view_submission, "view_closed": self.view_closed, "message": self.message,
            "reaction": self.reaction, "event": self.event, "envelope": self.envelope, "resend": self.resend,
            "raw": self.raw, "bad_frame": self.bad_frame, "disconnect": self.disconnect, "drop": self.drop,
            "silent": self.silent, "ping": self.ping, "fault": self.fault, "faults/clear": self.faults_clear,
            "options": self.options_set, "refuse_handshakes": self.refuse, "users": self.add_users,
            "channels": self.add_channels, "reset_logs": self.reset_logs, "save": self.save,
        }
        for name, fn in get.items():
            app.router.add_get("/_sim/" + name, self.wrap(fn))
        for name, fn in post.items():
            app.router.add_post("/_sim/" + name, self.wrap(fn))
        app.router.add_delete("/_sim/faults", self.wrap(self.faults_clear))
        app.router.add_get("/_sim/channels/{id}/messages", self.wrap(self.channel_messages))

    def wrap(self, fn):
        async def handler(request):
            try:
                body = {}
                if request.method == "POST" and request.can_read_body:
                    body = await request.json()
                    if not isinstance(body, dict):
                        raise ValueError("the body must be a JSON object")
                out = fn(request, body)
                if asyncio.iscoroutine(out):
                    out = await out
                return web.json_response(jsonable(out))
            except (ValueError, LookupError, TypeError, KeyError) as e:
                return web.json_response({"error": "%s: %s" % (type(e).__name__, e)}, status=400)
            except AssertionError as e:
                return web.json_response({"error": str(e)}, status=408)

        return handler

    def _since(self, request):
        return int(request.query.get("since", "0"))

    def health(self, request, body):
        s = self.sim
        return {"ok": True, "port": s.port, "api_url": s.api_url, "connections": len(s.live_conns()),
                "bot_token": s.bot_token, "app_token": s.app_token}

    def calls(self, request, body):
        ok = request.query.get("ok")
        return self.sim.calls_of(request.query.get("method"), None if ok is None else ok == "true", self._since(request))

    def frames(self, request, body):
        conn = request.query.get("conn")
        return [f for f in self.sim.frames[self._since(request):] if conn is None or f["conn"] == int(conn)]

    def acks(self, request, body):
        return self.sim.acks[self._since(request):]

    def envelopes(self, request, body):
        return [{k: v for k, v in r.items()} for r in self.sim.envelope_log[self._since(request):]]

    def deliveries(self, request, body):
        return self.sim.deliveries[self._since(request):]

    def ack_counts(self, request, body):
        return self.sim.ack_counts(self._since(request))

    def protocol_errors(self, request, body):
        return self.sim.protocol_errors

    def ratelimited(self, request, body):
        return self.sim.ratelimited

    def connections(self, request, body):
        return [c.info() for c in self.sim.conns]

    def handshakes(self, request, body):
        return self.sim.handshakes

    def response_urls(self, request, body):
        return self.sim.response_urls

    def state(self, request, body):
        return self.sim.state()

    def channel_messages(self, request, body):
        return self.sim.messages(request.match_info["id"])

    def options_get(self, request, body):
        return self.sim.opts

    def options_set(self, request, body):
        for k, v in body.items():
            if k not in DEFAULT_OPTS:
                raise ValueError("unknown option %r" % k)
            self.sim.opts[k] = v
        self.sim.buckets.clear()
        return self.sim.opts

    def faults_get(self, request, body):
        return self.sim.faults

    async def wait_call(self, request, body):
        args = body.get("args") or {}
        c = await self.sim.wait_call(body["method"], lambda c: all(c["args"].get(k) == v for k, v in args.items()),
                                     float(body.get("timeout", 10)), int(body.get("since", 0)), body.get("ok"))
        return c

    async def wait_ack(self, request, body):
        return await self.sim.wait_ack(body["envelope_id"], float(body.get("timeout", 5)))

    async def _maybe_ack(self, rec, body):
        out = {"envelope_id": rec["envelope_id"], "envelope": rec["envelope"]}
        if body.get("wait_ack"):
            out["ack"] = await self.sim.wait_ack(rec["envelope_id"], float(body["wait_ack"]))
        return out

    async def slash(self, request, body):
        rec = self.sim.slash(body["command"], body.get("text", ""), body.get("user", "U0ALICE001"),
                             body.get("channel", "C0INCIDENT"), body.get("conn"))
        return await self._maybe_ack(rec, body)

    async def action(self, request, body):
        rec = self.sim.block_action(body["user"], body["channel"], body["message_ts"], body.get("action_id"),
                                    body.get("value"), bool(body.get("accepts_response_payload", False)),
                                    body.get("conn"))
        return await self._maybe_ack(rec, body)

    async def view_submission(self, request, body):
        rec = self.sim.view_submission(body["user"], body["view_id"], body.get("values"), body.get("conn"))
        return await self._maybe_ack(rec, body)

    async def view_closed(self, request, body):
        return await self._maybe_ack(self.sim.view_closed(body["user"], body["view_id"], body.get("conn")), body)

    def message(self, request, body):
        m, recs = self.sim.user_message(body["user"], body["channel"], body["text"], body.get("thread_ts"),
                                        body.get("deliver"))
        return {"message": m, "envelope_ids": [r["envelope_id"] for r in recs]}

    def reaction(self, request, body):
        rec = self.sim.user_reaction(body["user"], body["channel"], body["ts"], body["name"])
        return {"envelope_id": rec["envelope_id"]}

    def event(self, request, body):
        rec = self.sim.event(body["event"], body.get("event_id"))
        return {"envelope_id": rec["envelope_id"], "envelope": rec["envelope"]}

    def envelope(self, request, body):
        env = body["envelope"]
        env.setdefault("envelope_id", M.new_envelope_id())
        rec = self.sim.send_envelope(env, body.get("conn"), retry=bool(body.get("retry", True)))
        return {"envelope_id": rec["envelope_id"]}

    def resend(self, request, body):
        return {"envelope_id": self.sim.resend(body["envelope_id"], body.get("conn"))["envelope_id"]}

    async def raw(self, request, body):
        data = base64.b64decode(body["base64"]) if "base64" in body else None
        return {"conn": await self.sim.send_raw(body.get("text"), data, body.get("conn"))}

    async def bad_frame(self, request, body):
        rec = await self.sim.send_bad_frame(body["kind"], body.get("conn"))
        return {"envelope_id": rec["envelope_id"] if rec else None, "kinds": list(BAD_FRAME_KINDS)}

    async def disconnect(self, request, body):
        return {"conns": await self.sim.disconnect(body["reason"], body.get("conn"), body.get("close_after"))}

    def drop(self, request, body):
        return {"conns": self.sim.drop(body.get("conn"))}

    def silent(self, request, body):
        return {"conns": self.sim.set_silent(body.get("conn"), body.get("silent", True))}

    async def ping(self, request, body):
        await self.sim.ping(body.get("conn"))
        return {"ok": True}

    def fault(self, request, body):
        params = {k: v for k, v in body.items() if k not in ("method", "kind", "count")}
        return self.sim.inject_fault(body.get("method", "*"), body["kind"], body.get("count", 1), **params)

    def faults_clear(self, request, body):
        self.sim.clear_faults()
        return {"ok": True, "kinds": list(FAULT_KINDS)}

    def refuse(self, request, body):
        self.sim.refuse_handshakes = int(body.get("count", 1))
        return {"ok": True}

    def add_users(self, request, body):
        return [self.sim.add_user(u) for u in body["users"]]

    def add_channels(self, request, body):
        return [self.sim.add_channel(c) for c in body["channels"]]

    def reset_logs(self, request, body):
        self.sim.reset_logs()
        return {"ok": True}

    def save(self, request, body):
        return {"path": self.sim.save_state(body.get("path"))}


# ---------------------------------------------------------------------------- standalone


def main(argv=None):
    ap = argparse.ArgumentParser(description="A strict local Slack (Web API + Socket Mode) for klaxon's tests.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port (printed, and written to --port-file)")
    ap.add_argument("--port-file", help="write the port number here once listening")
    ap.add_argument("--state-file", help="load the workspace from and save it to this JSON file")
    ap.add_argument("--no-rate-limits", action="store_true")
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--ping-interval", type=float, default=DEFAULT_OPTS["ping_interval"])
    ap.add_argument("--no-echo", action="store_true", help="no message events for the bot's own posts")
    ap.add_argument("--no-chat-write-public", action="store_true")
    ap.add_argument("--bot-token", action="append", help="accepted xoxb- token (repeatable)")
    ap.add_argument("--app-token", action="append", help="accepted xapp- token (repeatable)")
    a = ap.parse_args(argv)

    async def run():
        sim = SlackSim(a.host, a.port, state_file=a.state_file, bot_tokens=a.bot_token, app_tokens=a.app_token,
                       rate_limits=not a.no_rate_limits, rate_scale=a.rate_scale, ping_interval=a.ping_interval,
                       echo_bot_messages=not a.no_echo, chat_write_public=not a.no_chat_write_public)
        await sim.start()
        if a.port_file:
            with open(a.port_file + ".tmp", "w") as f:
                f.write("%d\n" % sim.port)
            os.replace(a.port_file + ".tmp", a.port_file)
        print("slack_sim listening on %s (api %s)" % (sim.base_url, sim.api_url), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        await sim.stop()
        print("slack_sim stopped", flush=True)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
