"""The Socket Mode half of the Slack simulator (a mixin of SlackSim in slack_sim.py):
the WebSocket endpoint at /link/, hello/disconnect, envelopes spread over connections, ack
tracking and redelivery, pings, and the misbehaviours a test asks for (drop, silence, raw
frames). Also the envelope builders (slash commands, block_actions, view_submission,
view_closed, events) and response_url.

Shapes come from the fixtures in tests/fixtures/slack (deep-copied, values replaced) and the
rules from shared/protocols/slack.md §1 and §3.
"""

import asyncio
import base64
import json
import os
import re
import time

from aiohttp import WSMsgType, web

import slack_model as M

DISCONNECT_FIXTURES = {
    "warning": "disconnect_warning.json",
    "refresh_requested": "disconnect_refresh_requested.json",
    "link_disabled": "disconnect_link_disabled.json",
}
# D-EV (slack.md §1.7): "up to 3 retries: nearly immediately, then after 1 min, then after 5 min".
EVENT_RETRY_DELAYS = (0, 60, 300)
BAD_FRAME_KINDS = ("malformed_json", "unknown_type", "no_payload", "binary", "huge_slash", "not_an_object")


class Conn:
    """One Socket Mode WebSocket as the server sees it."""

    def __init__(self, cid, ws, transport, ticket, query):
        self.id = cid
        self.ws = ws
        self.transport = transport
        self.ticket = ticket
        self.query = query
        self.opened = time.time()
        self.opened_mono = time.monotonic()
        self.hello_mono = None
        self.closed_mono = None
        self.closed_by = None  # "client" | "server" | "drop" | "error"
        self.close_code = None
        self.silent = False
        self.tasks = []
        self.pings_sent = 0
        self.pings_received = 0
        self.pongs_sent = 0
        self.pongs_received = 0
        self.host = "applink-sim-%d" % cid
        self.refused = None  # "too_many_websockets" when the cap refused it (no hello)

    @property
    def open(self):
        return self.closed_mono is None

    @property
    def live(self):
        return self.open and self.hello_mono is not None

    def info(self):
        return {
            "id": self.id, "ticket": self.ticket, "query": self.query, "opened": self.opened,
            "opened_mono": self.opened_mono, "hello_mono": self.hello_mono, "closed_mono": self.closed_mono,
            "closed_by": self.closed_by, "close_code": self.close_code, "silent": self.silent,
            "pings_sent": self.pings_sent, "pings_received": self.pings_received,
            "pongs_sent": self.pongs_sent, "pongs_received": self.pongs_received, "open": self.open,
            "refused": self.refused,
        }


class SocketModeMixin:
    # ------------------------------------------------------------------ connections

    def live_conns(self):
        return [c for c in self.conns if c.live]

    def conn(self, which=None):
        """A connection by id, or the newest live one when `which` is None."""
        if isinstance(which, Conn):
            return which
        if which is None:
            live = self.live_conns()
            if not live:
                raise LookupError("no live Socket Mode connection")
            return live[-1]
        for c in self.conns:
            if c.id == int(which):
                return c
        raise LookupError("no connection %r" % which)

    def _targets(self, which):
        if which == "all":
            return [c for c in self.conns if c.open]
        return [self.conn(which)]

    def _handshake(self, request, ok, reason, status=None):
        self.handshakes.append({"t": time.time(), "mono": time.monotonic(), "ticket": request.query.get("ticket"),
                                "query": dict(request.query), "ok": ok, "reason": reason})
        self._notify()
        if not ok:
            return web.Response(status=status, text="handshake refused: %s\n" % reason)
        return None

    async def _ws_handler(self, request):
        ticket = request.query.get("ticket")
        t = self.tickets.get(ticket)
        if not self.opts["socket_mode_enabled"]:
            return self._handshake(request, False, "link_disabled", 403)
        if t is None:
            return self._handshake(request, False, "unknown_ticket", 401)
        if t["used"]:
            return self._handshake(request, False, "reused_ticket", 401)
        t["used"] = True
        if self.refuse_handshakes > 0:
            self.refuse_handshakes -= 1
            return self._handshake(request, False, "injected", 503)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=self.opts["max_frame"], compress=False)
        if not ws.can_prepare(request).ok:
            return self._handshake(request, False, "not_a_websocket_upgrade", 400)
        transport = request.transport
        try:
            await ws.prepare(request)
        except ConnectionResetError:  # the client went away during the handshake
            self._handshake(request, False, "client_gone", None)
            return ws
        self._handshake(request, True, None)
        self._conn_seq += 1
        conn = Conn(self._conn_seq, ws, transport, ticket, dict(request.query))
        open_before = [c for c in self.conns if c.open]
        self.conns.append(conn)
        self._notify()
        try:
            if len(open_before) >= self.opts["max_connections"]:
                await self._refuse_too_many(conn)
            else:
                await self._hello(conn)
                await self._receive_loop(conn)
        except (ConnectionResetError, asyncio.CancelledError):
            conn.closed_by = conn.closed_by or "error"
            raise
        finally:
            conn.closed_mono = time.monotonic()
            conn.closed_by = conn.closed_by or "client"
            conn.close_code = ws.close_code
            for task in conn.tasks:
                task.cancel()
            self._notify()
        return ws

    async def _refuse_too_many(self, conn):
        """Slack documents only the cap: "Socket Mode allows your app to maintain up to 10 open
        WebSocket connections at the same time" (docs.slack.dev/apis/events-api/using-socket-mode,
        slack.md §1.5). What a connection over the cap gets is reproduced from what Slack's
        server was seen to send: right after the handshake, with no hello, exactly
        {"type":"disconnect","reason":"too_many_websockets","debug_info":{"host":"applink-10"}}
        (slackapi/bolt-js#2238, #2021; slackapi/java-slack-sdk#1223, where the socket then
        closed with 1006, no close frame; a Slack maintainer on bolt-js#2225: "each Slack app ID
        is allowed a maximum of 10 concurrent websocket (socket-mode) connections"), and
        @slack/socket-mode 3.1.1's notes: "Slack drops the TCP connection after a disconnect
        message". So: that frame, then the TCP connection dropped. The open ones are untouched."""
        await self._send_json(conn, {"type": "disconnect", "reason": "too_many_websockets",
                                     "debug_info": {"host": conn.host}})
        conn.closed_by = "server"
        conn.refused = "too_many_websockets"
        self.refused_conns.append(conn.id)
        await asyncio.sleep(0.05)  # let the frame leave before the TCP connection goes
        if conn.transport is not None:
            conn.transport.abort()

    async def _hello(self, conn):
        hello = M.load_fixture("socket_mode_hello.json")
        debug = conn.query.get("debug_reconnects") == "true"
        lifetime = 360 if debug else self.opts["connection_lifetime"]
        hello["num_connections"] = len([c for c in self.conns if c.open])
        hello["debug_info"]["host"] = conn.host
        hello["debug_info"]["approximate_connection_time"] = int(lifetime or self.opts["approximate_connection_time"])
        hello["connection_info"]["app_id"] = M.APP_ID
        await self._send_json(conn, hello)
        conn.hello_mono = time.monotonic()
        conn.tasks.append(asyncio.ensure_future(self._pinger(conn)))
        if lifetime:
            conn.tasks.append(asyncio.ensure_future(self._lifecycle(conn, lifetime)))
        self._notify()
        self._flush_pending()

    async def _lifecycle(self, conn, lifetime):
        """Slack refreshes connections: `warning` about 10 s before, then `refresh_requested`
        (§1.4); a connection still open `refresh_grace` seconds later is closed by the server."""
        await asyncio.sleep(max(0.0, lifetime - 10))
        if conn.open:
            await self.disconnect("warning", conn)
        await asyncio.sleep(min(10, lifetime))
        if conn.open:
            await self.disconnect("refresh_requested", conn)
        await asyncio.sleep(self.opts["refresh_grace"])
        if conn.open:
            await self.close_conn(conn)

    async def _pinger(self, conn):
        n = 0
        while conn.open:
            interval = self.opts["ping_interval"]
            await asyncio.sleep(interval if interval else 0.5)
            if not interval or conn.silent or not conn.open:
                continue
            n += 1
            payload = b"sim-ping-%d" % n
            try:
                await conn.ws.ping(payload)
            except (ConnectionResetError, RuntimeError):
                return
            conn.pings_sent += 1
            self._frame(conn, "out", "ping", payload.decode())

    async def _receive_loop(self, conn):
        ws = conn.ws
        while True:
            msg = await ws.receive()
            if msg.type == WSMsgType.TEXT:
                self._frame(conn, "in", "text", msg.data, lost=conn.silent)
                if not conn.silent:
                    self._on_client_text(conn, msg.data)
            elif msg.type == WSMsgType.BINARY:
                self._frame(conn, "in", "binary", base64.b64encode(msg.data).decode(), lost=conn.silent)
                if not conn.silent:
                    self.protocol_error(conn, "binary_frame", "the client sent a binary frame", None)
            elif msg.type == WSMsgType.PING:
                conn.pings_received += 1
                self._frame(conn, "in", "ping", msg.data.decode("utf-8", "replace"), lost=conn.silent)
                if not conn.silent:
                    try:
                        await ws.pong(msg.data)
                    except ConnectionResetError:  # the client closed with its ping unanswered (Bolt
                        conn.closed_by = conn.closed_by or "client"  # does when a pong is late)
                        return
                    conn.pongs_sent += 1
                    self._frame(conn, "out", "pong", msg.data.decode("utf-8", "replace"))
            elif msg.type == WSMsgType.PONG:
                conn.pongs_received += 1
                self._frame(conn, "in", "pong", msg.data.decode("utf-8", "replace"), lost=conn.silent)
            elif msg.type == WSMsgType.CLOSE:
                self._frame(conn, "in", "close", "%s %s" % (msg.data, msg.extra or ""))
                conn.closed_by = conn.closed_by or "client"
                return
            else:  # CLOSING / CLOSED / ERROR: the transport is gone
                if msg.type == WSMsgType.ERROR:
                    conn.closed_by = conn.closed_by or "error"
                return

    def _frame(self, conn, direction, kind, data, lost=False):
        if kind == "text" and not self.opts["record_frames"]:
            return None
        rec = {"seq": len(self.frames) + 1, "t": time.time(), "mono": time.monotonic(), "conn": conn.id,
               "dir": direction, "type": kind, "size": len(data), "data": data, "json": None}
        if lost:
            rec["lost"] = True  # arrived while the server side was silent: Slack never saw it
        if kind == "text":
            try:
                rec["json"] = json.loads(data)
            except ValueError:
                pass
        self.frames.append(rec)
        self._notify()
        return rec

    async def _send_text(self, conn, text):
        if not conn.open:
            raise ConnectionError("connection %d is closed" % conn.id)
        self._frame(conn, "out", "text", text)
        await conn.ws.send_str(text)

    async def _send_json(self, conn, obj):
        await self._send_text(conn, json.dumps(obj))

    def protocol_error(self, conn, kind, detail, frame):
        self.protocol_errors.append({"t": time.time(), "conn": conn.id if conn else None, "kind": kind,
                                     "detail": detail, "frame": frame[:2000] if isinstance(frame, str) else frame})
        self._notify()

    # ------------------------------------------------------------------ acks

    def _on_client_text(self, conn, text):
        try:
            obj = json.loads(text)
        except ValueError:
            return self.protocol_error(conn, "malformed_json", "the frame is not JSON", text)
        if not isinstance(obj, dict):
            return self.protocol_error(conn, "not_an_object", "the frame is not a JSON object", text)
        eid = obj.get("envelope_id")
        if eid is None:
            return self.protocol_error(conn, "not_an_ack", "a client frame without envelope_id", text)
        rec = self.envelopes.get(eid)
        if rec is None:
            return self.protocol_error(conn, "unknown_envelope", "ack for an envelope never sent: %s" % eid, text)
        has_payload = "payload" in obj
        payload = obj.get("payload")
        if has_payload and payload is not None and not isinstance(payload, dict):
            self.protocol_error(conn, "payload_not_object", "ack payload is not an object", text)
        # Node's client always sends `payload` ({} when empty, §1.7): an empty one is no payload.
        if has_payload and payload not in (None, {}) and not rec["envelope"].get("accepts_response_payload"):
            self.protocol_error(conn, "payload_not_accepted",
                                "ack carries a payload but accepts_response_payload was false", text)
        now = time.monotonic()
        ack = {"envelope_id": eid, "payload": payload, "has_payload": has_payload, "t": time.time(), "mono": now,
               "latency": now - rec["mono"] if rec["mono"] else None,
               "wire_latency": now - rec["sent_mono"] if rec.get("sent_mono") else None,
               "conn": conn.id, "duplicate": rec["acked"],
               "type": rec["type"], "event_id": rec["event_id"], "key": rec["key"]}
        rec["acks"].append(ack)
        if not rec["acked"]:
            rec["acked"] = True
            rec["ack"] = ack
        if rec["event_id"]:
            self.event_acked.add(rec["event_id"])
        self.acks.append(ack)
        self._notify()

    # ------------------------------------------------------------------ envelopes

    def send_envelope(self, envelope, conn=None, track=True, retry=True, avoid=()):
        """Queue one envelope for delivery: on `conn` when given, else to exactly one of the
        live, non-silent connections, round-robin (held until one exists), preferring one not in
        `avoid` (connection ids). Returns its record."""
        eid = envelope.get("envelope_id")
        payload = envelope.get("payload") if isinstance(envelope.get("payload"), dict) else {}
        event_id = payload.get("event_id") if envelope.get("type") == "events_api" else None
        rec = {"envelope_id": eid, "type": envelope.get("type"), "envelope": envelope, "t": time.time(),
               "queued_mono": time.monotonic(), "mono": None, "conn": None, "acked": False, "ack": None,
               "acks": [], "event_id": event_id, "key": event_id or eid,
               "retry_attempt": envelope.get("retry_attempt", 0), "superseded_by": None, "deliveries": 0,
               "delivered_to": [], "avoid": set(avoid), "retry": retry, "gave_up": False}
        if track and eid:
            self.envelopes[eid] = rec
        self.envelope_log.append(rec)
        self._dispatch(rec, conn)
        return rec

    def resend(self, envelope_id, conn=None):
        """Deliver an envelope again unchanged (same envelope_id), as Slack may."""
        rec = self.envelopes[envelope_id]
        self._dispatch(rec, conn)
        return rec

    def _pick(self, avoid=()):
        """One connection for the next envelope: "When multiple connections are active, each
        payload may be sent to any of the connections" (D-SM, slack.md §1.5); Slack spreads them,
        so round-robin. A redelivery prefers a connection that has not had this event yet."""
        cands = [c for c in self.live_conns() if not c.silent]
        if not cands:
            return None
        fresh = [c for c in cands if c.id not in avoid]
        if fresh and len(fresh) < len(cands):
            self._rr = (self._rr + 1) % len(fresh)
            return fresh[self._rr]
        self._rr = (self._rr + 1) % len(cands)
        return cands[self._rr]

    def _dispatch(self, rec, conn=None):
        target = self.conn(conn) if conn is not None else self._pick(rec.get("avoid", ()))
        if target is None:
            self.pending.append(rec)
            return
        text = json.dumps(rec["envelope"])
        rec["conn"] = target.id
        rec["mono"] = time.monotonic()
        rec["deliveries"] += 1
        rec["delivered_to"].append(target.id)
        env = rec["envelope"]
        self.deliveries.append({"seq": len(self.deliveries) + 1, "mono": rec["mono"], "conn": target.id,
                                "envelope_id": rec["envelope_id"], "type": rec["type"], "key": rec["key"],
                                "event_id": rec["event_id"], "retry_attempt": env.get("retry_attempt"),
                                "retry_reason": env.get("retry_reason")})
        self._frame(target, "out", "text", text)
        asyncio.ensure_future(self._write(target, text, rec))
        if rec["type"] == "events_api" and rec["retry"] and rec["deliveries"] == 1:
            asyncio.get_running_loop().call_later(self.opts["ack_timeout"], self._check_event_ack, rec)

    async def _write(self, conn, text, rec):
        rec["sent_mono"] = time.monotonic()  # the frame goes to the socket now (mono: when queued)
        try:
            await conn.ws.send_str(text)
        except (ConnectionResetError, RuntimeError) as e:
            rec["write_error"] = str(e)

    def ack_counts(self, since=0):
        """For tests over several connections: {key: number of acks}, one key per thing Slack
        delivers (an event's event_id, so its redeliveries count together; else the
        envelope_id), over the envelopes sent since envelope_log index `since`. "Each envelope
        acked exactly once overall" is: every value is 1."""
        out = {}
        for rec in self.envelope_log[since:]:
            out.setdefault(rec["key"], 0)
            out[rec["key"]] += len(rec["acks"])
        return out

    def _flush_pending(self):
        pend, self.pending = self.pending, []
        for rec in pend:
            self._dispatch(rec)

    def _check_event_ack(self, rec):
        """§1.7: an events_api envelope not acked within ack_timeout (3 s: D-EV "respond … within
        three seconds") comes again with retry_attempt+1 and retry_reason "timeout" (the fields
        of fixture envelope_events_api_app_mention_retry.json), up to max_event_retries (3: D-EV
        "up to 3 retries") times, to another open connection when there is one (a connection
        that died with the envelope unacked is the usual reason). Slash commands and
        interactions are not redelivered: D-SLASH and D-INT document an error for the user.
        The pause before each copy is the option event_retry_delays (None: none, the copy
        follows the ack timeout at once; EVENT_RETRY_DELAYS is D-EV's "nearly immediately, then
        after 1 min, then after 5 min")."""
        if rec["acked"] or rec["event_id"] in self.event_acked or self.stopping:
            return
        attempt = rec["retry_attempt"]
        if attempt >= self.opts["max_event_retries"]:
            rec["gave_up"] = True
            self._notify()
            return
        delays = self.opts.get("event_retry_delays") or ()
        pause = float(delays[attempt]) if attempt < len(delays) else 0.0
        if pause > 0 and not rec.get("paused"):
            rec["paused"] = True
            asyncio.get_running_loop().call_later(pause, self._check_event_ack, rec)
            return
        env = M.deepcopy(rec["envelope"])
        env["envelope_id"] = M.new_envelope_id()
        env["retry_attempt"] = attempt + 1
        env["retry_reason"] = "timeout"
        new = self.send_envelope(env, avoid=rec["avoid"] | set(rec["delivered_to"]))
        rec["superseded_by"] = new["envelope_id"]

    def _emit_event(self, event, event_id=None, conn=None):
        """Wrap an inner event in an events_api envelope (fixture envelope_events_api_message.json)."""
        env = M.load_fixture("envelope_events_api_message.json")
        env["envelope_id"] = M.new_envelope_id()
        p = env["payload"]
        p.update({"token": M.VERIFICATION_TOKEN, "team_id": M.TEAM_ID, "api_app_id": M.APP_ID, "event": event,
                  "event_id": event_id or M.new_event_id(), "event_time": int(self.ts.now())})
        p["authorizations"][0].update({"team_id": M.TEAM_ID, "user_id": M.BOT_USER_ID})
        ctx = "%s-%s-%s" % (event.get("type"), M.TEAM_ID, event.get("channel") or (event.get("item") or {}).get("channel", ""))
        p["event_context"] = "4-" + base64.b64encode(ctx.encode()).decode().rstrip("=")
        env["retry_attempt"] = 0
        env["retry_reason"] = ""
        return self.send_envelope(env, conn)

    def event(self, event, event_id=None, conn=None):
        """Send any inner event (a dict with at least `type`) as an events_api envelope (on
        connection `conn` when given; a redelivery may go elsewhere)."""
        if not isinstance(event, dict) or not event.get("type"):
            raise ValueError("an event needs a type")
        event.setdefault("event_ts", self.ts.next())
        return self._emit_event(event, event_id, conn)

    def _emit_changed(self, c, before, after):
        ts = self.ts.next()
        self._emit_event({"type": "message", "subtype": "message_changed", "message": after,
                          "previous_message": before, "channel": c["id"], "hidden": True, "ts": ts,
                          "event_ts": ts, "channel_type": self.channel_type(c)})

    def _emit_deleted(self, c, m):
        ts = self.ts.next()
        self._emit_event({"type": "message", "subtype": "message_deleted", "hidden": True, "deleted_ts": m["ts"],
                          "channel": c["id"], "previous_message": m, "ts": ts, "event_ts": ts,
                          "channel_type": self.channel_type(c)})

    # ------------------------------------------------------------------ what users do

    def _who(self, user):
        u = self.users.get(user)
        if u is None:
            raise LookupError("no user %r in the simulated workspace" % user)
        return u

    def _where(self, channel):
        c = self.channels.get(channel)
        if c is None:
            raise LookupError("no channel %r in the simulated workspace" % channel)
        return c

    def new_trigger(self, user):
        tid = M.new_trigger_id()
        self.triggers[tid] = {"issued": time.monotonic(), "used": False, "user": user}
        return tid

    def new_response_url(self, kind, channel, user, message_ts=None):
        self._rurl_seq += 1
        path = "/%s/%s/%d/%s" % ("commands" if kind == "slash" else "actions", M.TEAM_ID,
                                 10**11 + self._rurl_seq, os.urandom(12).hex())
        self.response_urls[path] = {"url": self.base_url + path, "kind": kind, "channel": channel, "user": user,
                                    "message_ts": message_ts, "created": time.monotonic(), "posts": []}
        return self.base_url + path

    def slash(self, command, text="", user="U0ALICE001", channel="C0INCIDENT", conn=None):
        """A user types `command text` in `channel` (fixture envelope_slash_command.json)."""
        u, c = self._who(user), self._where(channel)
        env = M.load_fixture("envelope_slash_command.json")
        env["envelope_id"] = M.new_envelope_id()
        env["payload"].update({
            "token": M.VERIFICATION_TOKEN, "team_id": M.TEAM_ID, "team_domain": M.TEAM_DOMAIN,
            "channel_id": c["id"], "channel_name": c["name"] if not c["is_im"] else "directmessage",
            "user_id": u["id"], "user_name": u["name"], "command": command, "text": text, "api_app_id": M.APP_ID,
            "response_url": self.new_response_url("slash", c["id"], u["id"]), "trigger_id": self.new_trigger(u["id"]),
        })
        return self.send_envelope(env, conn)

    def _find_element(self, blocks, action_id):
        for b in blocks or []:
            els = b.get("elements") if b.get("type") == "actions" else [b.get("accessory")] if b.get("accessory") else []
            for el in els or []:
                if isinstance(el, dict) and el.get("action_id") and (action_id is None or el["action_id"] == action_id):
                    return b, el
        return None, None

    def block_action(self, user, channel, message_ts, action_id=None, value=None, accepts_response_payload=False,
                     conn=None):
        """A user clicks a button of the message `message_ts` (fixture envelope_block_actions.json).
        The button is looked up in the stored message's blocks by action_id (the first one when
        None); `value` overrides its value."""
        u, c = self._who(user), self._where(channel)
        m = self.find_message(c, message_ts)
        if m is None:
            raise LookupError("no message %s in %s" % (message_ts, channel))
        block, el = self._find_element(m.get("blocks"), action_id)
        if el is None:
            raise LookupError("message %s has no interactive element %r" % (message_ts, action_id))
        env = M.load_fixture("envelope_block_actions.json")
        env["envelope_id"] = M.new_envelope_id()
        env["accepts_response_payload"] = bool(accepts_response_payload)
        p = env["payload"]
        p["user"].update({"id": u["id"], "username": u["name"], "name": u["name"], "team_id": M.TEAM_ID})
        p["api_app_id"] = M.APP_ID
        p["token"] = M.VERIFICATION_TOKEN
        p["container"].update({"message_ts": m["ts"], "channel_id": c["id"], "is_ephemeral": False})
        p["trigger_id"] = self.new_trigger(u["id"])
        p["team"].update({"id": M.TEAM_ID, "domain": M.TEAM_DOMAIN})
        p["channel"].update({"id": c["id"], "name": c["name"]})
        p["message"] = M.deepcopy(m)
        p["response_url"] = self.new_response_url("action", c["id"], u["id"], m["ts"])
        action = p["actions"][0]
        action.update({"action_id": el["action_id"], "block_id": block.get("block_id", ""),
                       "type": el["type"], "action_ts": self.ts.next()})
        if "text" in el:
            action["text"] = M.deepcopy(el["text"])
        else:
            action.pop("text", None)
        v = value if value is not None else el.get("value")
        if v is None:
            action.pop("value", None)
        else:
            action["value"] = v
        if el.get("style"):
            action["style"] = el["style"]
        return self.send_envelope(env, conn)

    def view_submission(self, user, view_id, values=None, conn=None):
        """A user submits the modal `view_id` (fixture view_submission.json). `values` is either
        the full state.values ({block_id: {action_id: {...}}}) or {action_id: "text"} for
        plain_text_input elements of the view's input blocks."""
        u = self._who(user)
        v = self.views.get(view_id)
        if v is None:
            raise LookupError("no view %r" % view_id)
        state = {}
        values = values or {}
        for b in v.get("blocks") or []:
            if b.get("type") != "input" or not isinstance(b.get("element"), dict):
                continue
            el = b["element"]
            aid = el.get("action_id")
            if b.get("block_id") in values and isinstance(values[b["block_id"]], dict):
                state[b["block_id"]] = values[b["block_id"]]
            elif aid in values:
                val = values[aid]
                if isinstance(val, dict):
                    entry = dict(val, type=el.get("type"))
                elif el.get("type") in ("static_select", "radio_buttons"):
                    entry = {"type": el["type"], "selected_option": {"text": {"type": "plain_text", "text": str(val)},
                                                                     "value": str(val)}}
                elif el.get("type") == "users_select":
                    entry = {"type": "users_select", "selected_user": val}
                elif el.get("type") == "datepicker":
                    entry = {"type": "datepicker", "selected_date": val}
                else:
                    entry = {"type": el.get("type"), "value": val}
                state[b.get("block_id", aid)] = {aid: entry}
        for k, val in values.items():  # block ids the view does not name are passed through as given
            if isinstance(val, dict) and k not in state and all(isinstance(x, dict) for x in val.values()):
                if not any(b.get("element", {}).get("action_id") == k for b in v.get("blocks") or []):
                    state[k] = val
        sub = M.load_fixture("view_submission.json")
        sub["team"].update({"id": M.TEAM_ID, "domain": M.TEAM_DOMAIN})
        sub["user"].update({"id": u["id"], "username": u["name"], "name": u["name"], "team_id": M.TEAM_ID})
        sub["api_app_id"] = M.APP_ID
        sub["token"] = M.VERIFICATION_TOKEN
        sub["trigger_id"] = self.new_trigger(u["id"])
        view = M.deepcopy(v)
        view["state"] = {"values": state}
        view["response_urls"] = []
        sub["view"] = view
        sub["response_urls"] = []
        sub["is_enterprise_install"] = False
        env = {"envelope_id": M.new_envelope_id(), "payload": sub, "type": "interactive",
               "accepts_response_payload": True}
        return self.send_envelope(env, conn)

    def app_home_opened(self, user, tab="home"):
        """A user opens the app's Home (or Messages) tab: an app_home_opened event carrying the
        Home view published for them so far, if any (the Events API shape)."""
        u = self._who(user)
        ev = {"type": "app_home_opened", "user": u["id"], "channel": self._im_with(u["id"])["id"],
              "tab": tab, "event_ts": self.ts.next()}
        vid = self.home_views.get(u["id"])
        if vid and tab == "home":
            ev["view"] = M.deepcopy(self.views[vid])
        return self._emit_event(ev)

    def home_action(self, user, action_id, value=None, conn=None):
        """A user clicks a button of the Home view published for them (block_actions with a
        `view` container: no channel, no message, no response_url)."""
        u = self._who(user)
        vid = self.home_views.get(u["id"])
        if vid is None:
            raise LookupError("no Home view published for %s" % user)
        v = self.views[vid]
        block, el = self._find_element(v.get("blocks"), action_id)
        if el is None:  # klaxon numbers repeated action_ids "page.ack#2": match the name
            for b in v.get("blocks") or []:
                for e in (b.get("elements") or []) if b.get("type") == "actions" else []:
                    if isinstance(e, dict) and str(e.get("action_id", "")).split("#")[0] == action_id:
                        block, el = (block, el) if el else (b, e)
        if el is None:
            raise LookupError("the Home of %s has no element %r" % (user, action_id))
        action = {"action_id": el["action_id"], "block_id": block.get("block_id", ""), "type": el["type"],
                  "action_ts": self.ts.next()}
        if "text" in el:
            action["text"] = M.deepcopy(el["text"])
        v_ = value if value is not None else el.get("value")
        if v_ is not None:
            action["value"] = v_
        payload = {"type": "block_actions", "user": {"id": u["id"], "username": u["name"], "name": u["name"],
                                                     "team_id": M.TEAM_ID},
                   "api_app_id": M.APP_ID, "token": M.VERIFICATION_TOKEN,
                   "container": {"type": "view", "view_id": vid},
                   "trigger_id": self.new_trigger(u["id"]), "team": {"id": M.TEAM_ID, "domain": M.TEAM_DOMAIN},
                   "enterprise": None, "is_enterprise_install": False, "view": M.deepcopy(v), "actions": [action]}
        env = {"envelope_id": M.new_envelope_id(), "payload": payload, "type": "interactive",
               "accepts_response_payload": False}
        return self.send_envelope(env, conn)

    def message_shortcut(self, user, channel, message_ts, callback_id, conn=None):
        """A user runs a message shortcut (payload type message_action) on a stored message.
        Only the shortcuts the app declares exist (opts message_shortcuts)."""
        if callback_id not in self.opts["message_shortcuts"]:
            raise LookupError("the app declares no message shortcut %r" % callback_id)
        u, c = self._who(user), self._where(channel)
        m = self.find_message(c, message_ts)
        if m is None:
            raise LookupError("no message %s in %s" % (message_ts, channel))
        msg = {k: M.deepcopy(v) for k, v in m.items() if k in ("type", "user", "ts", "text", "bot_id", "blocks",
                                                                 "thread_ts", "team")}
        payload = {"type": "message_action", "token": M.VERIFICATION_TOKEN, "action_ts": self.ts.next(),
                   "team": {"id": M.TEAM_ID, "domain": M.TEAM_DOMAIN},
                   "user": {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": M.TEAM_ID},
                   "channel": {"id": c["id"], "name": c["name"] if not c["is_im"] else "directmessage"},
                   "is_enterprise_install": False, "enterprise": None, "callback_id": callback_id,
                   "trigger_id": self.new_trigger(u["id"]), "response_url": self.new_response_url(
                       "action", c["id"], u["id"], m["ts"]),
                   "message_ts": m["ts"], "message": msg}
        env = {"envelope_id": M.new_envelope_id(), "payload": payload, "type": "interactive",
               "accepts_response_payload": False}
        return self.send_envelope(env, conn)

    def share_links(self, user, channel, text):
        """A user posts `text` with URLs: the message is stored and, when a URL's host is one of
        the app's unfurl domains, a link_shared event names those links (Events API shape)."""
        u, c = self._who(user), self._where(channel)
        m = self.post_message(c, text, user=u["id"], bot=False)
        links = []
        for url in re.findall(r"<?(https?://[^\s|>]+)", text):
            host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
            if host in self.opts["unfurl_domains"]:
                links.append({"domain": host, "url": url})
        if not links:
            return m, None
        unfurl_id = "%s.%s.%s" % (c["id"], m["ts"], os.urandom(16).hex())
        self.unfurl_ids[unfurl_id] = (c["id"], m["ts"])
        ev = {"type": "link_shared", "channel": c["id"], "is_bot_user_member": M.BOT_USER_ID in c["members"],
              "user": u["id"], "message_ts": m["ts"], "unfurl_id": unfurl_id, "source": "conversations_history",
              "links": links, "event_ts": self.ts.next()}
        return m, self._emit_event(ev)

    def view_closed(self, user, view_id, conn=None):
        u = self._who(user)
        v = self.views.get(view_id)
        if v is None:
            raise LookupError("no view %r" % view_id)
        payload = {"type": "view_closed", "team": {"id": M.TEAM_ID, "domain": M.TEAM_DOMAIN},
                   "user": {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": M.TEAM_ID},
                   "api_app_id": M.APP_ID, "token": M.VERIFICATION_TOKEN, "view": M.deepcopy(v),
                   "is_cleared": False, "is_enterprise_install": False}
        env = {"envelope_id": M.new_envelope_id(), "payload": payload, "type": "interactive",
               "accepts_response_payload": False}
        return self.send_envelope(env, conn)

    def user_message(self, user, channel, text, thread_ts=None, deliver=None, conn=None):
        """A user writes in a channel: the message is stored, and a `message` event goes out when
        the bot is in the channel (or `deliver` says so); an `app_mention` follows when the
        text mentions the bot. `conn`: the connection the events go to first (default: spread).
        Returns (message, [envelope records])."""
        u, c = self._who(user), self._where(channel)
        m = self.post_message(c, text, thread_ts=thread_ts, user=u["id"], bot=False)
        recs = []
        if deliver if deliver is not None else self._subscribed(c):
            ev = M.deepcopy(m)
            ev.update({"channel": c["id"], "event_ts": m["ts"], "channel_type": self.channel_type(c)})
            recs.append(self._emit_event(ev, conn=conn))
            if self.opts["mention_events"] and "<@%s>" % M.BOT_USER_ID in text:
                men = M.load_fixture("envelope_events_api_app_mention.json")["payload"]["event"]
                men.update({"client_msg_id": m["client_msg_id"], "text": text, "user": u["id"], "ts": m["ts"],
                            "team": M.TEAM_ID, "blocks": m["blocks"], "channel": c["id"], "event_ts": m["ts"]})
                if thread_ts:
                    men["thread_ts"] = thread_ts
                recs.append(self._emit_event(men, conn=conn))
        self._state_changed()
        return m, recs

    def user_edit(self, user, channel, ts, text):
        c = self._where(channel)
        m = self.find_message(c, ts)
        if m is None or m.get("user") != user:
            raise LookupError("no message %s by %s in %s" % (ts, user, channel))
        before = M.deepcopy(m)
        m["text"] = text
        m["blocks"] = M.rich_text_blocks(text)
        m["edited"] = {"user": user, "ts": self.ts.next()}
        self._state_changed()
        if self._subscribed(c):
            self._emit_changed(c, before, M.deepcopy(m))

    def user_delete(self, channel, ts):
        c = self._where(channel)
        m = self.find_message(c, ts)
        if m is None:
            raise LookupError("no message %s in %s" % (ts, channel))
        c["messages"].remove(m)
        self._state_changed()
        if self._subscribed(c):
            self._emit_deleted(c, m)

    def user_reaction(self, user, channel, ts, name):
        """reaction_added (fixture events_api_reaction_added.json)."""
        u, c = self._who(user), self._where(channel)
        m = self.find_message(c, ts)
        if m is None:
            raise LookupError("no message %s in %s" % (ts, channel))
        M.add_reaction(m, name, u["id"])
        self._state_changed()
        ev = M.load_fixture("events_api_reaction_added.json")["event"]
        ev.update({"user": u["id"], "item": {"type": "message", "channel": c["id"], "ts": ts}, "reaction": name,
                   "item_user": m.get("user"), "event_ts": self.ts.next()})
        return self._emit_event(ev)

    def user_reaction_removed(self, user, channel, ts, name):
        """reaction_removed: the same shape as reaction_added (fixture
        events_api_reaction_added.json) with the type changed."""
        u, c = self._who(user), self._where(channel)
        m = self.find_message(c, ts)
        if m is None:
            raise LookupError("no message %s in %s" % (ts, channel))
        r = next((x for x in m.get("reactions", []) if x["name"] == name), None)
        if r is None or u["id"] not in r["users"]:
            raise LookupError("%s has no %s reaction on %s" % (user, name, ts))
        r["users"].remove(u["id"])
        r["count"] -= 1
        if not r["users"]:
            m["reactions"].remove(r)
        self._state_changed()
        ev = M.load_fixture("events_api_reaction_added.json")["event"]
        ev.update({"type": "reaction_removed", "user": u["id"], "item": {"type": "message", "channel": c["id"],
                                                                        "ts": ts},
                   "reaction": name, "item_user": m.get("user"), "event_ts": self.ts.next()})
        return self._emit_event(ev)

    def user_pin(self, user, channel, ts, pinned=True):
        """A user pins (or unpins) a message: pin_added / pin_removed as Slack's Events API
        documents them (channel_id, item.type "message", item.message with ts), sent when the
        bot is in the channel."""
        u, c = self._who(user), self._where(channel)
        m = self.find_message(c, ts)
        if m is None:
            raise LookupError("no message %s in %s" % (ts, channel))
        if pinned == (ts in c["pins"]):
            raise LookupError("message %s is %s pinned" % (ts, "already" if pinned else "not"))
        if pinned:
            c["pins"].append(ts)
            m.setdefault("pinned_to", []).append(c["id"])
        else:
            c["pins"].remove(ts)
            if c["id"] in m.get("pinned_to", []):
                m["pinned_to"].remove(c["id"])
        self._state_changed()
        if not self._subscribed(c):
            return None
        msg = {k: v for k, v in M.deepcopy(m).items() if k in ("type", "user", "text", "ts", "bot_id", "pinned_to")}
        ev = {"type": "pin_added" if pinned else "pin_removed", "user": u["id"], "channel_id": c["id"],
              "item": {"type": "message", "channel": c["id"], "message": msg, "created": int(self.ts.now()),
                       "created_by": u["id"]},
              "item_user": m.get("user"), "pin_count": len(c["pins"]), "event_ts": self.ts.next()}
        if not pinned:
            ev["has_pins"] = bool(c["pins"])
        return self._emit_event(ev)

    # ------------------------------------------------------------------ misbehaviour on demand

    async def disconnect(self, reason, conn=None, close_after=None):
        """Send {"type":"disconnect","reason":…} (fixtures disconnect_*.json) to a connection
        (newest live one by default, "all" for every open one). link_disabled also turns Socket
        Mode off (new handshakes are refused) and closes the socket after `close_after`
        (default 1 s). Other reasons close only when `close_after` is given."""
        if reason == "link_disabled":
            self.opts["socket_mode_enabled"] = False
            if close_after is None:
                close_after = 1.0
        targets = self._targets(conn)
        for c in targets:
            frame = M.load_fixture(DISCONNECT_FIXTURES[reason]) if reason in DISCONNECT_FIXTURES else {
                "type": "disconnect", "reason": reason, "debug_info": {}}
            frame["debug_info"]["host"] = c.host
            if reason == "too_many_websockets":
                frame["num_connections"] = len([x for x in self.conns if x.open])
            await self._send_json(c, frame)
            if close_after is not None:
                asyncio.get_running_loop().call_later(close_after, lambda c=c: asyncio.ensure_future(self.close_conn(c)))
        return [c.id for c in targets]

    async def close_conn(self, conn=None, code=1000):
        """Close a connection cleanly from the server side."""
        c = self.conn(conn)
        if c.open:
            c.closed_by = "server"
            await c.ws.close(code=code)

    def drop(self, conn=None):
        """Close the TCP connection abruptly: no close frame."""
        ids = []
        for c in self._targets(conn):
            c.closed_by = "drop"
            if c.transport is not None:
                c.transport.abort()
            ids.append(c.id)
        return ids

    def set_silent(self, conn=None, silent=True):
        """Half-open: stop answering pings, stop sending (envelopes go elsewhere or wait), ignore
        what arrives, but keep the TCP connection open."""
        ids = []
        for c in self._targets(conn):
            c.silent = bool(silent)
            ids.append(c.id)
        if not silent:
            self._flush_pending()
        return ids

    async def ping(self, conn=None, payload=b"sim-ping"):
        c = self.conn(conn)
        await c.ws.ping(payload)
        c.pings_sent += 1
        self._frame(c, "out", "ping", payload.decode())

    async def send_raw(self, text=None, data=None, conn=None):
        """Send one raw frame: text (a str) or binary (bytes)."""
        c = self.conn(conn)
        if data is not None:
            self._frame(c, "out", "binary", base64.b64encode(data).decode())
            await c.ws.send_bytes(data)
        else:
            await self._send_text(c, text)
        return c.id

    async def send_bad_frame(self, kind, conn=None):
        """Frames a robust client must survive: malformed_json, not_an_object, unknown_type
        (a well-formed envelope of a type Slack does not define), no_payload (an events_api
        envelope without payload), binary, huge_slash (a slash command with 100 KB of text).
        Returns the envelope record for the kinds that carry an envelope_id, else None."""
        if kind not in BAD_FRAME_KINDS:
            raise ValueError("unknown bad frame kind %r (one of %s)" % (kind, ", ".join(BAD_FRAME_KINDS)))
        c = self.conn(conn)
        if kind == "malformed_json":
            await self.send_raw('{"envelope_id": "%s", "type": "slash_commands", "payload": {' % M.new_envelope_id(), conn=c)
            return None
        if kind == "not_an_object":
            await self.send_raw('["hello", 1, null]', conn=c)
            return None
        if kind == "binary":
            await self.send_raw(data=b"\x00\x01binary\xff\xfe" + os.urandom(32), conn=c)
            return None
        if kind == "unknown_type":
            env = {"envelope_id": M.new_envelope_id(), "payload": {"something": "new"}, "type": "mystery_type",
                   "accepts_response_payload": False}
            return self.send_envelope(env, c)
        if kind == "no_payload":
            env = {"envelope_id": M.new_envelope_id(), "type": "events_api", "accepts_response_payload": False,
                   "retry_attempt": 0, "retry_reason": ""}
            return self.send_envelope(env, c, retry=False)
        text = "x" * (100 * 1024)
        return self.slash("/incident", text, conn=c)

    # ------------------------------------------------------------------ response_url (§3.2)

    async def _response_url_handler(self, request):
        path = request.path
        r = self.response_urls.get(path)
        raw = await request.read()
        post = {"t": time.time(), "mono": time.monotonic(), "path": path, "raw": raw.decode("utf-8", "replace"),
                "accepted": False, "error": None}
        self.response_posts.append(post)
        try:
            if r is None:
                post["error"] = "no_such_url"
                return web.json_response({"ok": False, "error": "no_such_url"}, status=404)
            r["posts"].append(post)
            post["kind"] = r["kind"]
            accepted = [p for p in r["posts"] if p["accepted"]]
            if time.monotonic() - r["created"] > self.opts["response_url_ttl"]:
                post["error"] = "expired_url"
                return web.json_response({"ok": False, "error": "expired_url"}, status=404)
            if len(accepted) >= self.opts["response_url_max"]:
                post["error"] = "used_url"
                return web.json_response({"ok": False, "error": "used_url"}, status=404)
            try:
                body = json.loads(raw.decode("utf-8"))
                if not isinstance(body, dict):
                    raise ValueError
            except ValueError:
                post["error"] = "invalid_payload"
                return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
            for key in ("replace_original", "delete_original", "response_type", "text", "blocks", "thread_ts"):
                post[key] = body.get(key)
            post["body"] = body
            post["accepted"] = True
            self._apply_response(r, post)
            return web.json_response({"ok": True})
        finally:
            self._notify()

    def _apply_response(self, r, post):
        c = self.channels.get(r["channel"])
        replace, delete = M.truthy(post["replace_original"]), M.truthy(post["delete_original"])
        if r["kind"] == "slash" and (replace or delete):
            self.protocol_error(None, "response_url_misuse",
                                "replace_original/delete_original is not possible for slash commands", post["raw"])
            return
        if c is None:
            return
        m = self.find_message(c, r["message_ts"]) if r["message_ts"] else None
        if delete and m is not None:
            c["messages"].remove(m)
        elif replace and m is not None:
            if post["text"] is not None:
                m["text"] = post["text"]
            if post["blocks"] is not None:
                m["blocks"] = post["blocks"]
            m["edited"] = {"user": M.BOT_USER_ID, "ts": self.ts.next()}
        elif post["response_type"] == "in_channel":
            self.post_message(c, post["text"] or "", post["blocks"], thread_ts=post["thread_ts"])
        else:
            c["ephemeral"].append({"user": r["user"], "ts": self.ts.next(), "text": post["text"],
                                   "blocks": post["blocks"], "via": "response_url"})
        self._state_changed()
