"""The Web API half of the Slack simulator: request parsing, tokens, rate limits, fault
injection and the methods themselves. A mixin of SlackSim (slack_sim.py), which owns the state
(users, channels, views …), the call log and the Socket Mode side this code calls into for
events (self._emit_event).

Rules follow shared/protocols/slack.md §2 (requests, responses, rate limits, per-method errors).
Errors are HTTP 200 with {"ok": false, "error": …}; only rate limits are HTTP 429.
"""

import asyncio
import base64
import json
import math
import time
import urllib.parse

from aiohttp import web

import slack_model as M


class ApiError(Exception):
    def __init__(self, error, **extra):
        super().__init__(error)
        self.error = error
        self.extra = extra


def missing(name):
    return ApiError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: %s" % name]})


# Per-minute limits of the tiers (§2.3); the "+" in Slack's table is ignored: the floor is used.
TIER_PER_MIN = {1: 1, 2: 20, 3: 50, 4: 100}
AUTH_TEST_PER_MIN = 600  # "hundreds per minute"; the Java SDK uses 600
POST_WORKSPACE_PER_MIN = 600  # chat.postMessage workspace-wide: "several hundred per minute"

# method: (token kind, tier or per-minute limit, handler name)
# apps.connections.open: the docs scrape says Tier 3, the SDKs Tier 1 (§1.1); Tier 3 here, so a
# bot that reconnects a few times in a test is not throttled, while a reconnect loop still is.
METHODS = {
    "auth.test": ("bot", ("per_min", AUTH_TEST_PER_MIN)),
    "apps.connections.open": ("app", ("tier", 3)),
    "chat.postMessage": ("bot", ("per_min", POST_WORKSPACE_PER_MIN)),
    "chat.update": ("bot", ("tier", 3)),
    "chat.postEphemeral": ("bot", ("tier", 4)),
    "chat.delete": ("bot", ("tier", 3)),
    "conversations.create": ("bot", ("tier", 2)),
    "conversations.invite": ("bot", ("tier", 3)),
    "conversations.open": ("bot", ("tier", 3)),
    "conversations.info": ("bot", ("tier", 3)),
    "conversations.setTopic": ("bot", ("tier", 2)),
    "conversations.setPurpose": ("bot", ("tier", 2)),
    "conversations.archive": ("bot", ("tier", 2)),
    "conversations.history": ("bot", ("tier", 3)),
    "conversations.replies": ("bot", ("tier", 3)),
    "pins.add": ("bot", ("tier", 2)),
    "reactions.add": ("bot", ("tier", 3)),
    "bookmarks.add": ("bot", ("tier", 2)),
    "users.info": ("bot", ("tier", 4)),
    "users.lookupByEmail": ("bot", ("tier", 3)),
    "dnd.info": ("bot", ("tier", 3)),
    "usergroups.users.update": ("bot", ("tier", 2)),
    "views.open": ("bot", ("tier", 4)),
    "views.update": ("bot", ("tier", 4)),
    "views.publish": ("bot", ("tier", 4)),
    "chat.unfurl": ("bot", ("tier", 3)),
}

# Slack's older read methods read form (or query) arguments only: the fields of a JSON body are
# ignored, so users.info answers user_not_found and users.lookupByEmail finds no email
# (protocols/slack.md §2.1: JSON bodies are for "most write methods").
FORM_ONLY = ("users.info", "users.lookupByEmail", "dnd.info", "conversations.history")

# Message metadata (https://docs.slack.dev/messaging/message-metadata): chat.postMessage's
# `metadata` is {"event_type": "...", "event_payload": {...}}; a JSON string in a form body.
METADATA_MAX = 8 * 1024  # the size cap this simulator enforces on the JSON text (metadata_too_large)
HISTORY_SCOPES = {"public": "channels:history", "private": "groups:history", "im": "im:history",
                  "mpim": "mpim:history"}

FAULT_KINDS = ("ratelimit", "http", "error", "delay", "delay_after", "hold_after", "drop", "drop_after")


class Bucket:
    """A token bucket on real (monotonic) time: `capacity` calls at once, refilled at `rate`/s."""

    def __init__(self, capacity, rate):
        self.capacity = max(1.0, capacity)
        self.rate = rate
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self):
        """0 when a call may go now (and takes it), else the seconds until one may."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def as_list_arg(v):
    """A comma-separated string or a JSON array -> list of non-empty strings."""
    if isinstance(v, list):
        return [str(x).strip() for x in v if str(x).strip()]
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return []


def json_arg(a, name, error):
    """Complex arguments arrive as JSON strings in forms, and as either in JSON bodies (§2.1)."""
    v = a.get(name)
    if isinstance(v, str):
        if v.strip() == "":
            return None
        try:
            return json.loads(v)
        except ValueError:
            raise ApiError(error)
    return v


def cursor_encode(ts):
    return base64.b64encode(("next_ts:" + ts).encode()).decode()


def cursor_decode(c):
    try:
        s = base64.b64decode(c.encode(), validate=True).decode()
    except Exception:
        raise ApiError("invalid_cursor")
    if not s.startswith("next_ts:") or not M.ts_valid(s[8:]):
        raise ApiError("invalid_cursor")
    return s[8:]


class WebApiMixin:
    # ------------------------------------------------------------------ faults and limits

    def inject_fault(self, method, kind, count=1, **params):
        """The next `count` calls of `method` ("*" for any) answer with a fault instead of
        their normal result. kinds: ratelimit (retry_after=S), http (status=500/502/503),
        error (error=NAME), delay (seconds=D, then normal), delay_after (answer normally after
        committing, then wait D before the response), hold_after (answer normally after
        committing, then hold the response until release_held() or seconds=D, default 60),
        drop (close TCP, no effect), drop_after (commit the effect, then close TCP without a
        response)."""
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r (one of %s)" % (kind, ", ".join(FAULT_KINDS)))
        if method != "*" and method not in METHODS:
            raise ValueError("unknown method %r" % method)
        f = {"method": method, "kind": kind, "count": int(count)}
        if kind == "ratelimit":
            f["retry_after"] = int(params.get("retry_after", 1))
        elif kind == "http":
            f["status"] = int(params.get("status", 500))
        elif kind == "error":
            if not params.get("error"):
                raise ValueError("fault kind error needs error=NAME")
            f["error"] = str(params["error"])
        elif kind in ("delay", "delay_after"):
            f["seconds"] = float(params.get("seconds", 1.0))
        elif kind == "hold_after":
            f["seconds"] = float(params.get("seconds", 60.0))
        self.faults.append(f)
        return f

    def clear_faults(self):
        self.faults.clear()

    def held(self):
        """The calls a hold_after fault holds now (their effect is committed, no answer yet)."""
        return [rec for rec, _ in self.holds]

    def release_held(self):
        """Let every held response go (hold_after)."""
        for _, ev in self.holds:
            ev.set()
        self.holds.clear()

    def _take_fault(self, method):
        for f in self.faults:
            if f["method"] in (method, "*") and f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    self.faults.remove(f)
                return dict(f)
        return None

    def _bucket(self, key, capacity, rate):
        b = self.buckets.get(key)
        scale = self.opts["rate_scale"]
        if b is None or b.capacity != max(1.0, capacity * scale):
            b = self.buckets[key] = Bucket(capacity * scale, rate * scale)
        return b

    def _rate_check(self, method, a):
        """Seconds to wait (>0) when this call is over a limit, else 0."""
        if not self.opts["rate_limits"]:
            return 0.0
        kind, n = METHODS[method][1]
        per_min = TIER_PER_MIN[n] if kind == "tier" else n
        wait = self._bucket(("method", method), per_min, per_min / 60.0).take()
        if wait > 0:
            return wait
        if method == "chat.postMessage" and isinstance(a.get("channel"), str):
            burst = self.opts["post_burst"]
            return self._bucket(("channel", a["channel"]), burst, self.opts["post_per_second"]).take()
        return 0.0

    # ------------------------------------------------------------------ the HTTP side

    async def _api_handler(self, request):
        method = request.match_info["method"]
        rec = self._new_call(method, request)
        try:
            return await self._api_call(request, method, rec)
        except asyncio.CancelledError:
            rec["cancelled"] = True  # the client went away while we were answering
            raise
        finally:
            rec["duration"] = time.monotonic() - rec["mono"]
            rec["done"] = True
            self._notify()

    def _new_call(self, method, request):
        rec = {
            "seq": len(self.calls) + 1,
            "t": time.time(),
            "mono": time.monotonic(),
            "method": method,
            "http_method": request.method,
            "content_type": request.headers.get("Content-Type"),
            "authorization": "bearer" if request.headers.get("Authorization", "").startswith("Bearer ") else (
                "other" if request.headers.get("Authorization") else None),
            "token": None,
            "token_source": None,
            "args": {},
            "status": None,
            "response": None,
            "ok": None,
            "error": None,
            "fault": None,
            "done": False,
            "dropped": False,
        }
        self.calls.append(rec)
        self._notify()
        return rec

    def _respond(self, rec, body, status=200, headers=None):
        rec["status"] = status
        rec["response"] = body
        rec["ok"] = body.get("ok") if isinstance(body, dict) else None
        rec["error"] = body.get("error") if isinstance(body, dict) else None
        text = json.dumps(body) if not isinstance(body, str) else body
        return self._raw_response(rec, text, status, headers)

    def _raw_response(self, rec, text, status=200, headers=None, content_type="application/json"):
        rec["status"] = status
        return web.Response(
            status=status,
            body=text.encode(),
            headers=headers or {},
            content_type=content_type,
            charset="utf-8",
        )

    async def _sleep_while_connected(self, request, seconds):
        """Sleep; False as soon as the client's connection is gone."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tr = request.transport
            if tr is None or tr.is_closing():
                return False
            await asyncio.sleep(min(0.05, max(0.0, end - time.monotonic())))
        tr = request.transport
        return tr is not None and not tr.is_closing()

    def _drop(self, rec, request):
        rec["dropped"] = True
        rec["status"] = 0
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)  # never written: the connection is gone

    def _record_429(self, rec, retry_after, cause, channel=None):
        self.ratelimited.append(
            {"t": time.time(), "mono": time.monotonic(), "method": rec["method"], "channel": channel,
             "retry_after": retry_after, "cause": cause, "call_seq": rec["seq"]}
        )

    def _ratelimited(self, rec, retry_after, cause, channel=None):
        self._record_429(rec, retry_after, cause, channel)
        body = M.load_fixture("ratelimited_error.json")
        return self._respond(rec, body, status=429, headers={"Retry-After": str(retry_after)})

    async def _api_call(self, request, method, rec):
        # The body is read first so that every call, faulted ones too, records its arguments.
        perr = None
        try:
            args, token, source = await self._parse_request(request)
        except ApiError as e:
            perr, args, token, source = e, {}, None, None
        rec["args"] = args
        rec["token"] = token
        rec["token_source"] = source
        if method in FORM_ONLY and (request.content_type or "").lower() == "application/json":
            args = {}  # recorded as sent, read as Slack reads them: not at all

        fault = self._take_fault(method) if method in METHODS else None
        rec["fault"] = fault
        if fault:
            k = fault["kind"]
            if k == "ratelimit":
                return self._ratelimited(rec, fault["retry_after"], "fault")
            if k == "http":
                rec["status"] = fault["status"]
                return web.Response(status=fault["status"], text="%d simulated failure\n" % fault["status"])
            if k == "error":
                return self._respond(rec, {"ok": False, "error": fault["error"]})
            if k == "drop":
                return self._drop(rec, request)
            if k == "delay":
                # A client that goes away during the delay leaves no effect: Slack never
                # processed its request. (Checked here rather than left to aiohttp's handler
                # cancellation, which does not always happen.)
                if not await self._sleep_while_connected(request, fault["seconds"]):
                    rec["client_gone"] = True
                    rec["status"] = 0
                    return web.Response(status=500)

        if perr is not None:
            return self._respond(rec, dict({"ok": False, "error": perr.error}, **perr.extra))
        if method not in METHODS:
            return self._respond(rec, {"ok": False, "error": "unknown_method"})
        want, _ = METHODS[method]
        if not token:
            return self._respond(rec, {"ok": False, "error": "not_authed"})
        kind = self._token_kind(token)
        if kind is None:
            return self._respond(rec, {"ok": False, "error": "invalid_auth"})
        if kind != want:
            return self._respond(rec, {"ok": False, "error": "not_allowed_token_type"})

        wait = self._rate_check(method, args)
        if wait > 0:
            ra = max(1, math.ceil(wait))
            return self._ratelimited(rec, ra, "limit", args.get("channel") if method == "chat.postMessage" else None)

        handler = getattr(self, "m_" + method.replace(".", "_"))
        self._after = []
        try:
            body = handler(args)
        except ApiError as e:
            body = dict({"ok": False, "error": e.error}, **e.extra)
        after, self._after = self._after, []
        self._state_changed()
        if method == "apps.connections.open" and body.get("ok"):
            resp = self._apps_connections_open_response(rec, body)
        else:
            resp = self._respond(rec, body)
        for fn in after:  # events the call causes go out after the response is built
            asyncio.get_running_loop().call_soon(fn)
        if fault and fault["kind"] == "delay_after":
            await asyncio.sleep(fault["seconds"])
        if fault and fault["kind"] == "hold_after":
            ev = asyncio.Event()
            self.holds.append((rec, ev))
            rec["held"] = True
            self._notify()
            try:
                await asyncio.wait_for(ev.wait(), fault["seconds"])
            except asyncio.TimeoutError:
                pass
            self.holds = [(r, e) for r, e in self.holds if e is not ev]
        if fault and fault["kind"] == "drop_after":
            return self._drop(rec, request)
        return resp

    def _apps_connections_open_response(self, rec, body):
        """§1.1: the URL is written with escaped slashes `\\/` like the docs' fixture, on every
        other call by default (opts escape_slashes: "alternate" | "always" | "never")."""
        mode = self.opts["escape_slashes"]
        self._aco_count += 1
        escape = mode == "always" or (mode == "alternate" and self._aco_count % 2 == 1)
        text = json.dumps(body)
        if escape:
            text = text.replace(body["url"], body["url"].replace("/", "\\/"))
        rec["escaped_slashes"] = escape
        rec["response"] = body
        rec["ok"] = True
        return self._raw_response(rec, text)

    def _token_kind(self, token):
        if token in self.bot_tokens:
            return "bot"
        if token in self.app_tokens:
            return "app"
        return None

    async def _parse_request(self, request):
        """Returns (args, token, token_source) or raises ApiError for the body errors of §2.1."""
        auth = request.headers.get("Authorization")
        token = None
        source = None
        if auth is not None:
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                raise ApiError("invalid_auth")
            token = auth[7:].strip()
            source = "header"
        if request.method == "GET":
            # Tokens cannot be sent as a query parameter (§2.1): a `token` there is ignored.
            args = {k: v for k, v in request.query.items() if k != "token"}
            return args, token, source
        if request.method != "POST":
            raise ApiError("invalid_post_type")
        ctype = (request.headers.get("Content-Type") or "").strip()
        if not ctype or request.content_length == 0:
            # No body needs no type (apps.connections.open takes no arguments); a body without
            # a type is refused.
            if await request.read():
                raise ApiError("missing_post_type")
            return {}, token, source
        mime = request.content_type.lower()
        charset = (request.charset or "utf-8").lower()
        if charset not in ("utf-8", "utf8", "iso-8859-1", "latin-1", "latin1"):
            raise ApiError("invalid_charset")
        enc = "utf-8" if charset.startswith("utf") else "iso-8859-1"
        if mime == "multipart/form-data":
            try:
                form = await request.post()
            except Exception:
                raise ApiError("invalid_form_data")
            args = {k: (v if isinstance(v, str) else "") for k, v in form.items()}
        else:
            raw = await request.read()
            if len(raw) > self.opts["max_body"]:
                raise ApiError("request_too_large")
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError:
                raise ApiError("invalid_charset")
            if mime == "application/json":
                try:
                    args = json.loads(text) if text.strip() else {}
                except ValueError:
                    raise ApiError("invalid_json")
                if not isinstance(args, dict):
                    raise ApiError("json_not_object")
                # The token cannot travel inside a JSON body (§2.1): only the header counts.
                return args, token, source
            if mime in ("application/x-www-form-urlencoded", "text/plain"):
                try:
                    args = dict(urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
                except ValueError:
                    raise ApiError("invalid_form_data")
            else:
                raise ApiError("invalid_post_type")
        if token is None and args.get("token"):
            token = args["token"]
            source = "form"
        args.pop("token", None)
        return args, token, source

    # ------------------------------------------------------------------ helpers for methods

    def _user(self, uid, error="user_not_found"):
        u = self.users.get(uid) if isinstance(uid, str) else None
        if u is None or u["deleted"] and error == "user_not_found":
            raise ApiError(error)
        return u

    def _chan(self, a, key="channel", post=False):
        """Resolve a channel argument the bot can see: an id (C…, G…, D…), for chat.postMessage
        also a user id (the DM with that user) or a name ("#general" or "general")."""
        cid = a.get(key)
        if not isinstance(cid, str) or not cid:
            raise ApiError("channel_not_found")
        c = self.channels.get(cid)
        if c is None and post:
            if cid[:1] in "UW" and cid in self.users:
                c = self._im_with(cid)
            else:
                name = cid[1:] if cid.startswith("#") else cid
                c = next((x for x in self.channels.values() if x["name"] == name and not x["is_im"]), None)
        if c is None:
            raise ApiError("channel_not_found")
        if (c["is_private"] or c["is_im"] or c["is_mpim"]) and M.BOT_USER_ID not in c["members"]:
            raise ApiError("channel_not_found")
        return c

    def _member(self, c):
        if M.BOT_USER_ID not in c["members"]:
            raise ApiError("not_in_channel")

    def _not_archived(self, c):
        if c["is_archived"]:
            raise ApiError("is_archived")

    def _im_with(self, uid):
        for c in self.channels.values():
            if c["is_im"] and c["user"] == uid:
                return c
        c = M.make_channel({"id": M.new_id("D"), "name": uid, "is_im": True, "user": uid,
                            "members": [M.BOT_USER_ID, uid]})
        self.channels[c["id"]] = c
        return c

    def channel_type(self, c):
        if c["is_im"]:
            return "im"
        if c["is_mpim"]:
            return "mpim"
        return "group" if c["is_private"] else "channel"

    def find_message(self, c, ts):
        if not isinstance(ts, str):
            return None
        for m in c["messages"]:
            if m["ts"] == ts:
                return m
        return None

    def _bot_profile(self):
        return {"id": M.BOT_ID, "deleted": False, "name": M.BOT_NAME, "updated": self.started_at,
                "app_id": M.APP_ID, "icons": {"image_36": "https://a.slack-edge.com/sim/bot_36.png",
                                             "image_48": "https://a.slack-edge.com/sim/bot_48.png",
                                             "image_72": "https://a.slack-edge.com/sim/bot_72.png"},
                "team_id": M.TEAM_ID}

    def _content(self, a, max_blocks=M.MAX_BLOCKS_MESSAGE, need=True):
        """text/blocks/attachments of a message call, validated. Returns (text, blocks,
        attachments, warnings)."""
        text = a.get("text")
        if text is not None and not isinstance(text, str):
            text = str(text)
        blocks = json_arg(a, "blocks", "invalid_blocks_format")
        attachments = json_arg(a, "attachments", "invalid_attachments")
        warnings = []
        if blocks is not None:
            name, errs = M.validate_blocks(blocks, max_blocks)
            if name == "invalid_blocks_format":
                raise ApiError(name)
            if name:
                raise ApiError(name, errors=errs, response_metadata={"messages": ["[ERROR] " + e for e in errs]})
        if attachments is not None:
            if not isinstance(attachments, list):
                raise ApiError("invalid_attachments")
            if len(attachments) > M.MAX_ATTACHMENTS:
                raise ApiError("too_many_attachments")
        if need and not text and not blocks and not attachments:
            raise ApiError("no_text")
        if text and len(text) > M.MAX_TEXT:
            text = text[: M.MAX_TEXT]
            warnings.append("message_truncated")
        return text or "", blocks, attachments, warnings

    def _warn(self, body, warnings):
        if warnings:
            body["warning"] = ",".join(warnings)
            body["response_metadata"] = {
                "messages": ["[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters."],
                "warnings": warnings,
            }
        return body

    def post_message(self, c, text, blocks=None, attachments=None, thread_ts=None, user=None, bot=True,
                     extra=None):
        """Store a message in channel c (as the bot, or as `user`) and return it."""
        ts = self.ts.next()
        if bot:
            m = {"user": M.BOT_USER_ID, "type": "message", "ts": ts, "bot_id": M.BOT_ID, "app_id": M.APP_ID,
                 "text": text, "team": M.TEAM_ID, "bot_profile": self._bot_profile()}
        else:
            m = {"client_msg_id": M.new_envelope_id(), "type": "message", "text": text, "user": user, "ts": ts,
                 "team": M.TEAM_ID, "blocks": M.rich_text_blocks(text)}
        if blocks is not None:
            m["blocks"] = blocks
        if attachments is not None:
            m["attachments"] = attachments
        if extra:
            m.update(extra)
        if thread_ts:
            m["thread_ts"] = thread_ts
            parent = self.find_message(c, thread_ts)
            if parent is not None and parent is not m:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                who = m.get("user")
                if who not in users:
                    users.append(who)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = ts
                m["parent_user_id"] = parent.get("user")
        c["messages"].append(m)
        return m

    def _subscribed(self, c):
        return M.BOT_USER_ID in c["members"]

    # ------------------------------------------------------------------ the methods (§2.4)

    def m_auth_test(self, a):
        return {"ok": True, "url": "https://%s.slack.com/" % M.TEAM_DOMAIN, "team": "Klaxon Simulated",
                "user": M.BOT_NAME, "team_id": M.TEAM_ID, "user_id": M.BOT_USER_ID, "bot_id": M.BOT_ID,
                "is_enterprise_install": False}

    def m_apps_connections_open(self, a):
        ticket = M.new_envelope_id()
        self.tickets[ticket] = {"issued": time.monotonic(), "used": False}
        return {"ok": True, "url": "ws://127.0.0.1:%d/link/?ticket=%s&app_id=%s" % (self.port, ticket, M.APP_ID)}

    def _metadata_arg(self, a):
        """chat.postMessage's `metadata`: None, or {"event_type": str, "event_payload": dict}."""
        raw = a.get("metadata")
        if raw is None or raw == "":
            return None
        if isinstance(raw, str) and len(raw) > METADATA_MAX:
            raise ApiError("metadata_too_large")
        md = json_arg(a, "metadata", "invalid_metadata_format")
        if not isinstance(md, dict):
            raise ApiError("invalid_metadata_format")
        if len(json.dumps(md)) > METADATA_MAX:
            raise ApiError("metadata_too_large")
        et, ep = md.get("event_type"), md.get("event_payload")
        if not isinstance(et, str) or not et or not isinstance(ep, dict) or set(md) - {"event_type", "event_payload"}:
            raise ApiError("invalid_metadata_schema")
        return {"event_type": et, "event_payload": ep}

    def _require_scope(self, scope):
        granted = self.opts["bot_scopes"]
        if scope not in granted:
            raise ApiError("missing_scope", needed=scope, provided=",".join(granted))

    def m_chat_postMessage(self, a):
        c = self._chan(a, post=True)
        self._not_archived(c)
        if not self._subscribed(c) and not (self.opts["chat_write_public"] and not c["is_private"]):
            raise ApiError("not_in_channel")
        text, blocks, atts, warnings = self._content(a)
        metadata = self._metadata_arg(a)
        thread_ts = a.get("thread_ts") or None
        if thread_ts is not None and not M.ts_valid(str(thread_ts)):
            raise ApiError("invalid_thread_ts")
        extra = {}
        if M.truthy(a.get("reply_broadcast")) and thread_ts:
            extra["subtype"] = "thread_broadcast"
        if metadata is not None:
            extra["metadata"] = metadata
        m = self.post_message(c, text, blocks, atts, thread_ts, extra=extra)
        if self.opts["echo_bot_messages"] and self._subscribed(c):
            # Message events carry metadata only for event types the app subscribes to
            # (manifest metadata_subscriptions); klaxon's manifest has none.
            ev = dict(M.deepcopy(m), channel=c["id"], event_ts=m["ts"], channel_type=self.channel_type(c))
            ev.pop("metadata", None)
            self._after.append(lambda: self._emit_event(ev))
        return self._warn({"ok": True, "channel": c["id"], "ts": m["ts"], "message": M.deepcopy(m)}, warnings)

    def m_chat_postEphemeral(self, a):
        c = self._chan(a, post=True)
        self._not_archived(c)
        u = self._user(a.get("user"))
        if not self._subscribed(c) and not (self.opts["chat_write_public"] and not c["is_private"]):
            raise ApiError("not_in_channel")
        if u["id"] not in c["members"]:
            raise ApiError("user_not_in_channel")
        text, blocks, atts, warnings = self._content(a)
        ts = self.ts.next()
        c["ephemeral"].append({"user": u["id"], "ts": ts, "text": text, "blocks": blocks, "attachments": atts,
                               "thread_ts": a.get("thread_ts")})
        return self._warn({"ok": True, "message_ts": ts}, warnings)

    def _own_message(self, c, ts, not_mine):
        m = self.find_message(c, ts)
        if m is None:
            raise ApiError("message_not_found")
        if m.get("bot_id") != M.BOT_ID:
            raise ApiError(not_mine)
        return m

    def m_chat_unfurl(self, a):
        """chat.unfurl (links:write): by channel + ts, or by unfurl_id + source; `unfurls` maps
        each URL of the message to {"blocks": […]} (checked like a message's blocks)."""
        if a.get("unfurl_id") or a.get("source"):
            if not a.get("unfurl_id") or a.get("source") not in ("composer", "conversations_history"):
                raise ApiError("invalid_source")
            pending = self.unfurl_ids.get(a["unfurl_id"])
            if pending is None:
                raise ApiError("invalid_unfurl_id")
            c, m = self.channels[pending[0]], self.find_message(self.channels[pending[0]], pending[1])
        else:
            c = self._chan(a)
            if not a.get("ts"):
                raise missing("ts")
            m = self.find_message(c, a["ts"])
            if m is None:
                raise ApiError("cannot_find_message")
        unfurls = json_arg(a, "unfurls", "invalid_unfurls_format")
        if not isinstance(unfurls, dict) or not unfurls:
            raise ApiError("missing_unfurls")
        for url, u in unfurls.items():
            if url not in (m.get("text") or ""):
                raise ApiError("cannot_unfurl_url")
            if not isinstance(u, dict) or not isinstance(u.get("blocks"), list):
                raise ApiError("invalid_unfurls_format")
            name, errs = M.validate_blocks(u["blocks"], M.MAX_BLOCKS_MESSAGE)
            if name:
                raise ApiError(name, errors=errs, response_metadata={"messages": ["[ERROR] " + e for e in errs]})
        m.setdefault("unfurls", {}).update(M.deepcopy(unfurls))
        return {"ok": True}

    def m_chat_update(self, a):
        c = self._chan(a)
        if not a.get("ts"):
            raise missing("ts")
        m = self._own_message(c, a["ts"], "cant_update_message")
        self._not_archived(c)
        text, blocks, atts, warnings = self._content(a, need=False)
        if not text and blocks is None and atts is None:
            raise ApiError("no_text")
        before = M.deepcopy(m)
        if a.get("text") is not None:
            m["text"] = text
        if blocks is not None:
            m["blocks"] = blocks
        if atts is not None:
            m["attachments"] = atts
        m["edited"] = {"user": M.BOT_USER_ID, "ts": self.ts.next()}
        if self.opts["echo_bot_messages"] and self._subscribed(c):
            self._after.append(lambda: self._emit_changed(c, before, M.deepcopy(m)))
        body = {"ok": True, "channel": c["id"], "ts": m["ts"], "text": m["text"],
                "message": {k: v for k, v in M.deepcopy(m).items() if k not in ("ts", "reactions", "pinned_to")}}
        return self._warn(body, warnings)

    def m_chat_delete(self, a):
        c = self._chan(a)
        if not a.get("ts"):
            raise missing("ts")
        m = self._own_message(c, a["ts"], "cant_delete_message")
        c["messages"].remove(m)
        if m["ts"] in c["pins"]:
            c["pins"].remove(m["ts"])
        if self.opts["echo_bot_messages"] and self._subscribed(c):
            self._after.append(lambda: self._emit_deleted(c, m))
        return {"ok": True, "channel": c["id"], "ts": m["ts"]}

    def m_conversations_create(self, a):
        if "name" not in a:
            raise missing("name")
        name = a.get("name")
        err = M.channel_name_error(name if isinstance(name, str) else None)
        if err:
            raise ApiError(err)
        if any(x["name"] == name for x in self.channels.values() if not x["is_im"]):
            raise ApiError("name_taken")
        private = M.truthy(a.get("is_private"))
        c = M.make_channel({"id": M.new_id("C"), "name": name, "is_private": private,
                            "members": [M.BOT_USER_ID]})
        self.channels[c["id"]] = c
        return {"ok": True, "channel": M.channel_object(c)}

    def m_conversations_invite(self, a):
        c = self._chan(a)
        if "users" not in a:
            raise missing("users")
        ids = as_list_arg(a.get("users"))
        if not ids:
            raise ApiError("no_user")
        if len(ids) > M.MAX_INVITE_USERS:
            raise ApiError("too_many_users")
        self._not_archived(c)
        self._member(c)
        if c["is_im"]:
            raise ApiError("method_not_supported_for_channel_type")
        errors = []
        good = []
        for uid in ids:
            if uid == M.BOT_USER_ID:
                errors.append({"user": uid, "ok": False, "error": "cant_invite_self"})
            elif uid not in self.users or self.users[uid]["deleted"]:
                errors.append({"user": uid, "ok": False, "error": "user_not_found"})
            elif uid in c["members"]:
                errors.append({"user": uid, "ok": False, "error": "already_in_channel"})
            else:
                good.append(uid)
        if errors and not M.truthy(a.get("force")):
            raise ApiError(errors[0]["error"], errors=errors)
        for uid in good:
            c["members"].append(uid)
        body = {"ok": True, "channel": M.channel_object(c)}
        if errors:
            body["errors"] = errors
        return body

    def m_conversations_open(self, a):
        if a.get("channel"):
            c = self._chan(a)
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": c["id"]}}
        ids = as_list_arg(a.get("users"))
        if not ids:
            raise ApiError("users_list_not_supplied")
        if len(ids) > 8:
            raise ApiError("too_many_users")
        for uid in ids:
            self._user(uid)
        if len(ids) == 1:
            existed = any(x["is_im"] and x["user"] == ids[0] for x in self.channels.values())
            c = self._im_with(ids[0])
            body = {"ok": True, "channel": {"id": c["id"]}}
            if existed:
                body.update({"no_op": True, "already_open": True})
            if M.truthy(a.get("return_im")):
                body["channel"] = M.channel_object(c)
            return body
        members = sorted(set(ids + [M.BOT_USER_ID]))
        for x in self.channels.values():
            if x["is_mpim"] and sorted(x["members"]) == members:
                return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": x["id"]}}
        c = M.make_channel({"id": M.new_id("G"), "name": "mpdm-" + "--".join(self.users[u]["name"] for u in ids) + "-1",
                            "is_private": True, "is_mpim": True, "members": members})
        self.channels[c["id"]] = c
        return {"ok": True, "channel": {"id": c["id"]}}

    def m_conversations_info(self, a):
        c = self._chan(a)
        return {"ok": True, "channel": M.channel_object(c)}

    def _set_meta(self, a, field):
        c = self._chan(a)
        if field not in a:
            raise missing(field)
        value = a.get(field) or ""
        if len(value) > M.MAX_TOPIC:
            raise ApiError("too_long")
        self._not_archived(c)
        self._member(c)
        c[field] = {"value": value, "creator": M.BOT_USER_ID, "last_set": int(time.time())}
        self.post_message(c, "set the channel %s: %s" % (field, value), bot=False, user=M.BOT_USER_ID,
                          extra={"subtype": "channel_" + field})
        return {"ok": True, "channel": M.channel_object(c)}

    def m_conversations_setTopic(self, a):
        return self._set_meta(a, "topic")

    def m_conversations_setPurpose(self, a):
        return self._set_meta(a, "purpose")

    def m_conversations_archive(self, a):
        c = self._chan(a)
        if c["is_archived"]:
            raise ApiError("already_archived")
        if c["is_general"]:
            raise ApiError("cant_archive_general")
        if c["is_im"] or c["is_mpim"]:
            raise ApiError("method_not_supported_for_channel_type")
        self._member(c)
        c["is_archived"] = True
        return {"ok": True}

    def _limit(self, a, default, top):
        try:
            n = int(a.get("limit", default))
        except (TypeError, ValueError):
            raise ApiError("invalid_limit")
        return max(1, min(n if n > 0 else default, top))

    def m_conversations_history(self, a):
        c = self._chan(a)
        kind = "im" if c["is_im"] else "mpim" if c["is_mpim"] else "private" if c["is_private"] else "public"
        self._require_scope(HISTORY_SCOPES[kind])
        if not c["is_im"]:
            self._member(c)
        limit = self._limit(a, 100, 999)
        with_metadata = M.truthy(a.get("include_all_metadata"))
        inclusive = M.truthy(a.get("inclusive"))
        oldest = a.get("oldest") or "0"
        latest = a.get("latest") or None
        for v, err in ((oldest, "invalid_ts_oldest"), (latest, "invalid_ts_latest")):
            if v is not None:
                try:
                    float(v)
                except (TypeError, ValueError):
                    raise ApiError(err)
        if a.get("cursor"):
            latest, inclusive = cursor_decode(a["cursor"]), False
        top = [m for m in c["messages"]
               if "thread_ts" not in m or m["thread_ts"] == m["ts"] or m.get("subtype") == "thread_broadcast"]
        lo, hi = float(oldest), float(latest) if latest else math.inf

        def keep(m):
            t = float(m["ts"])
            return (lo <= t if inclusive else lo < t) and (t <= hi if inclusive else t < hi)

        sel = sorted((m for m in top if keep(m)), key=lambda m: m["ts"], reverse=True)
        page, more = sel[:limit], len(sel) > limit
        page = M.deepcopy(page)
        if not with_metadata:  # metadata is returned only when asked for (include_all_metadata)
            for m in page:
                m.pop("metadata", None)
        body = {"ok": True, "messages": page, "has_more": more, "pin_count": len(c["pins"]),
                "channel_actions_ts": None, "channel_actions_count": 0}
        if more:
            body["response_metadata"] = {"next_cursor": cursor_encode(page[-1]["ts"])}
        return body

    def m_conversations_replies(self, a):
        c = self._chan(a)
        if not c["is_im"]:
            self._member(c)
        if not a.get("ts"):
            raise missing("ts")
        parent = self.find_message(c, a["ts"])
        if parent is None:
            raise ApiError("thread_not_found")
        limit = self._limit(a, 1000, 1000)
        thread = [parent] + sorted((m for m in c["messages"] if m.get("thread_ts") == parent["ts"] and m is not parent),
                                   key=lambda m: m["ts"])
        after = cursor_decode(a["cursor"]) if a.get("cursor") else None
        if after:
            thread = [m for m in thread if m["ts"] > after]
        page, more = thread[:limit], len(thread) > limit
        page = M.deepcopy(page)
        if not M.truthy(a.get("include_all_metadata")):
            for m in page:
                m.pop("metadata", None)
        body = {"ok": True, "messages": page, "has_more": more}
        if more:
            body["response_metadata"] = {"next_cursor": cursor_encode(page[-1]["ts"])}
        return body

    def _item(self, a):
        c = self._chan(a)
        ts = a.get("timestamp")
        if not ts:
            raise ApiError("no_item_specified")
        if not M.ts_valid(str(ts)):
            raise ApiError("bad_timestamp")
        m = self.find_message(c, ts)
        if m is None:
            raise ApiError("message_not_found")
        return c, m

    def m_pins_add(self, a):
        c, m = self._item(a)
        self._member(c)
        if m["ts"] in c["pins"]:
            raise ApiError("already_pinned")
        c["pins"].append(m["ts"])
        m.setdefault("pinned_to", []).append(c["id"])
        return {"ok": True}

    def m_reactions_add(self, a):
        if not a.get("name"):
            raise missing("name")
        name = a["name"].strip(":")
        if not name or any(ch not in "abcdefghijklmnopqrstuvwxyz0123456789_+-'" for ch in name):
            raise ApiError("invalid_name")
        c, m = self._item(a)
        self._not_archived(c)
        self._member(c)
        if not M.add_reaction(m, name, M.BOT_USER_ID):
            raise ApiError("already_reacted")
        return {"ok": True}

    def m_bookmarks_add(self, a):
        for k in ("channel_id", "title", "type"):
            if not a.get(k):
                raise missing(k)
        c = self._chan(a, key="channel_id")
        self._not_archived(c)
        self._member(c)
        if a["type"] != "link":
            raise ApiError("invalid_bookmark_type")
        link = a.get("link") or ""
        if not (link.startswith("https://") or link.startswith("http://")) or len(link) > 3000:
            raise ApiError("invalid_link")
        if len(c["bookmarks"]) >= 100:
            raise ApiError("too_many_bookmarks")
        now = int(time.time())
        b = {"id": M.new_id("Bk"), "channel_id": c["id"], "title": a["title"], "link": link,
             "emoji": a.get("emoji"), "icon_url": None, "type": "link", "entity_id": a.get("entity_id"),
             "date_created": now, "date_updated": 0, "rank": "U", "last_updated_by_user_id": M.BOT_USER_ID,
             "last_updated_by_team_id": M.TEAM_ID, "shortcut_id": None, "app_id": M.APP_ID}
        c["bookmarks"].append(b)
        return {"ok": True, "bookmark": b}

    def m_users_info(self, a):
        if not a.get("user"):
            raise ApiError("user_not_found")  # what Slack answers when it read no user
        return {"ok": True, "user": M.user_object(self._user(a["user"]))}

    def set_dnd(self, uid, snooze=False, dnd_window=None):
        """A user's Do Not Disturb as dnd.info reports it: snoozed now, and/or a DND window
        (start_ts, end_ts) in Unix seconds."""
        if not hasattr(self, "dnd"):
            self.dnd = {}
        self.dnd[uid] = (snooze, dnd_window)

    def m_dnd_info(self, a):
        # api.slack.com/methods/dnd.info: form arguments (read method); user defaults to the
        # caller, an unknown user is user_not_found.
        uid = a.get("user")
        if not uid:
            raise ApiError("user_not_found")
        self._user(uid)
        snooze, window = getattr(self, "dnd", {}).get(uid, (False, None))
        out = {"ok": True, "dnd_enabled": window is not None,
               "next_dnd_start_ts": window[0] if window else 1,
               "next_dnd_end_ts": window[1] if window else 1,
               "snooze_enabled": bool(snooze)}
        if snooze:
            out["snooze_endtime"] = 4102444800
            out["snooze_remaining"] = 3600
        return out

    def m_users_lookupByEmail(self, a):
        if not a.get("email"):
            raise missing("email")
        email = a["email"].strip().lower()
        for u in self.users.values():
            if (u.get("email") or "").lower() == email and not u["deleted"]:
                return {"ok": True, "user": M.user_object(u)}
        raise ApiError("users_not_found")

    def m_usergroups_users_update(self, a):
        if not a.get("usergroup"):
            raise missing("usergroup")
        g = self.usergroups.get(a["usergroup"])
        if g is None:
            raise ApiError("no_such_subteam")
        ids = as_list_arg(a.get("users"))
        if not ids:
            raise ApiError("no_users_provided")
        if any(uid not in self.users for uid in ids):
            raise ApiError("invalid_users")
        g["users"] = list(dict.fromkeys(ids))
        g["date_update"] = int(time.time())
        return {"ok": True, "usergroup": self.usergroup_object(g)}

    def usergroup_object(self, g):
        return {"id": g["id"], "team_id": M.TEAM_ID, "is_usergroup": True, "is_subteam": True,
                "name": g["name"], "description": g.get("description", ""), "handle": g["handle"],
                "is_external": False, "date_create": self.started_at, "date_update": g.get("date_update", 0),
                "date_delete": 0, "auto_type": None, "created_by": M.BOT_USER_ID, "updated_by": M.BOT_USER_ID,
                "deleted_by": None, "prefs": {"channels": [], "groups": []}, "users": list(g["users"]),
                "user_count": len(g["users"])}

    def _view_arg(self, a, kinds):
        if a.get("view") in (None, ""):
            raise missing("view")
        view = json_arg(a, "view", "invalid_arguments")
        if len(json.dumps(view)) > M.MAX_VIEW_BYTES:
            raise ApiError("view_too_large")
        msgs = M.validate_view(view, kinds)
        if msgs:
            raise ApiError("invalid_arguments", response_metadata={"messages": msgs})
        return view

    def _store_view(self, view, vid=None, previous=None, owner=None):
        old = self.views.get(vid) if vid else None
        out = M.load_fixture("views_open_ok.json")["view"]
        out.update({"id": vid or M.new_id("V"), "team_id": M.TEAM_ID, "app_id": M.APP_ID, "bot_id": M.BOT_ID,
                    "type": view["type"], "blocks": view.get("blocks", []),
                    "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
                    "state": {"values": {}}, "hash": M.new_hash(), "title": view.get("title"),
                    "submit": view.get("submit"), "close": view.get("close"),
                    "clear_on_close": bool(view.get("clear_on_close", False)),
                    "notify_on_close": bool(view.get("notify_on_close", False)),
                    "external_id": view.get("external_id", ""), "previous_view_id": previous,
                    "root_view_id": (old or {}).get("root_view_id") or vid})
        if out["root_view_id"] is None:
            out["root_view_id"] = out["id"]
        if view["type"] == "home":
            out.pop("submit", None)
        if out["external_id"] and any(v["external_id"] == out["external_id"] and v["id"] != out["id"]
                                      for v in self.views.values()):
            raise ApiError("duplicate_external_id")
        self.views[out["id"]] = out
        if owner:
            self.view_owner[out["id"]] = owner
        return out

    def m_views_open(self, a):
        trig = a.get("trigger_id") or a.get("interactivity_pointer")
        if not trig:
            raise missing("trigger_id")
        view = self._view_arg(a, ("modal",))
        t = self.triggers.get(trig)
        if t is None:
            parts = str(trig).split(".")
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
                raise ApiError("invalid_arguments", response_metadata={"messages": ["invalid `trigger_id`"]})
            raise ApiError("invalid_trigger_id")
        if t["used"]:
            raise ApiError("exchanged_trigger_id")
        if time.monotonic() - t["issued"] > self.opts["trigger_ttl"]:
            raise ApiError("expired_trigger_id")
        t["used"] = True
        return {"ok": True, "view": M.deepcopy(self._store_view(view, owner=t.get("user")))}

    def m_views_update(self, a):
        vid = a.get("view_id")
        if not vid and a.get("external_id"):
            vid = next((v["id"] for v in self.views.values() if v["external_id"] == a["external_id"]), None)
            if vid is None:
                raise ApiError("not_found")
        if not vid:
            raise missing("view_id")
        old = self.views.get(vid)
        if old is None:
            raise ApiError("not_found")
        view = self._view_arg(a, (old["type"],))
        if a.get("hash") and a["hash"] != old["hash"]:
            raise ApiError("hash_conflict")
        return {"ok": True, "view": M.deepcopy(self._store_view(view, vid=vid, owner=self.view_owner.get(vid)))}

    def m_views_publish(self, a):
        if not a.get("user_id"):
            raise missing("user_id")
        u = self._user(a["user_id"])
        view = self._view_arg(a, ("home",))
        old_id = self.home_views.get(u["id"])
        if a.get("hash") and old_id and self.views[old_id]["hash"] != a["hash"]:
            raise ApiError("hash_conflict")
        v = self._store_view(view, vid=old_id, owner=u["id"])
        self.home_views[u["id"]] = v["id"]
        return {"ok": True, "view": M.deepcopy(v)}
