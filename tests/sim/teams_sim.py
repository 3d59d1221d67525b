#!/usr/bin/python3
"""A strict local stand-in for the Microsoft side of a Teams bot, for klaxon's tests and demos.

It plays three services on one loopback port (facts: shared/protocols/teams.md, the real
recordings in tests/fixtures/teams/):
  - the Bot Framework OpenID metadata and JWKS (login.botframework.com):
        GET /v1/.well-known/openidconfiguration, GET /v1/.well-known/keys
  - the Entra ID token endpoint (login.microsoftonline.com), client-credentials only:
        POST /{tenant}/oauth2/v2.0/token
  - the Bot Connector under a serviceUrl path (smba.trafficmanager.net/amer/):
        POST {serviceUrl}v3/conversations                              new channel thread, 201
        POST {serviceUrl}v3/conversations/{id}/activities             send, 201
        POST {serviceUrl}v3/conversations/{id}/activities/{activityId} reply, 201
        GET  {serviceUrl}v3/conversations/{id}/members/{memberId}      roster entry, 200
        PUT  {serviceUrl}v3/conversations/{id}/activities/{activityId} update, 200
        DELETE {serviceUrl}v3/conversations/{id}/activities/{activityId} delete, 200
  - a Power Automate Workflows webhook ("When a Teams webhook request is received"):
        POST /workflows/{flow}/triggers/manual/paths/invoke   202, recorded in sim.workflow_posts
    (a message activity with Adaptive Card attachments only, and no Action.Submit/Execute:
    Workflows cannot call back, protocols/teams.md §3.2)
    Every connector call needs `Authorization: Bearer <a token this stand-in issued, unexpired>`
    (401 otherwise), a JSON body where one is due (400/415), ids percent-encoded in the path
    (a raw ':', ';', '@' or '=' in an id segment is refused with 400, as a strict peer), and a
    conversation/activity the stand-in knows (404). Every call is recorded (sim.calls).
    Failures can be injected: 429 with Retry-After, 5xx, 403 MessageWritesBlocked.
And the client side: activities shaped like the real recordings (channel @mention, personal
message, Action.Submit, adaptiveCard/action invoke, conversationUpdate), signed with a JWT from
the stand-in's key and POSTed to the bot, with a knob for every refusal case; and Outgoing
Webhook requests signed with HMAC.

In-process:
    sim = TeamsSim(app_id=..., app_secret=..., tenant_id=...)
    await sim.start(); ...; await sim.stop()          # or: async with TeamsSim() as sim:
    sim.service_url   -> "http://127.0.0.1:PORT/amer/"
    sim.openid_url    -> "http://127.0.0.1:PORT/v1/.well-known/openidconfiguration"
    sim.login_url     -> "http://127.0.0.1:PORT/"     (token URL = login_url + tenant + path)
    status, body = await sim.send(bot_url, sim.channel_mention("incident declare db down"))
Standalone:
    /usr/bin/python3 tests/sim/teams_sim.py [--port N] [--app-id ID] [--app-secret S]
    prints one JSON line with the URLs, then serves until SIGINT/SIGTERM. The same things are
    reachable over HTTP under /_sim/ (see Control below).

Time: `clock` (epoch seconds, default time.time) stamps activities and connector calls; a test
sets it to the bot's simulated clock (KLAXON_NOW). Tokens, the Bot Framework JWTs this stand-in
signs and the access tokens it issues, are stamped and judged on `token_clock` (default
time.time, the real clock), as Microsoft's are: the bot must judge them on the real clock too,
whatever KLAXON_NOW says. The `issued_at` knob signs a token as if at that epoch second.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import signal
import time
import urllib.parse
import uuid

import jwt
from aiohttp import ClientSession, ClientTimeout, web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BF_ISSUER = "https://api.botframework.com"
BF_SCOPE = "https://api.botframework.com/.default"
SERVICE_PREFIX = "/amer/"
RAW_FORBIDDEN_IN_ID = set(":;@=")
MAX_BODY = 256 * 1024

# Knobs of send(): each makes one thing about the request wrong (issued_at: sign the token as
# if at that epoch second, which is wrong when it is long ago).
REFUSAL_KNOBS = ("bad_signature", "wrong_audience", "wrong_issuer", "expired", "not_yet_valid",
                 "issued_at", "wrong_serviceurl", "missing_endorsement", "alg_none", "unknown_kid",
                 "no_auth", "hs256_public_key")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64url(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _callback_actions(node):
    """The first Action.Submit/Action.Execute anywhere in a card (fallbacks included)."""
    if isinstance(node, dict):
        if node.get("type") in ("Action.Submit", "Action.Execute"):
            return node["type"]
        for v in node.values():
            bad = _callback_actions(v)
            if bad:
                return bad
    elif isinstance(node, list):
        for v in node:
            bad = _callback_actions(v)
            if bad:
                return bad
    return None


# Adaptive Card elements and actions the checks know (schema 1.5, what klaxon uses and more).
CARD_ELEMENTS = {"TextBlock", "RichTextBlock", "Image", "ImageSet", "Container", "ColumnSet", "FactSet",
                 "ActionSet", "Table", "Input.Text", "Input.Number", "Input.Date", "Input.Time",
                 "Input.Toggle", "Input.ChoiceSet"}
CARD_ACTIONS = {"Action.Execute", "Action.Submit", "Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility"}
CARD_MAX_ACTIONS = 6  # Teams shows at most six top-level actions
CARD_MAX_BYTES = 28 * 1024  # a Teams message (card included) is refused above about 28 KB


def validate_card(card):
    """Problems of an Adaptive Card as Teams would reject or mangle it: the type and version,
    unknown elements or actions, Input.* without a unique id, ChoiceSet choices without title
    and value (or a value that is none of them), Input.Date values not YYYY-MM-DD,
    Action.Execute without a verb, more than CARD_MAX_ACTIONS actions, a card over
    CARD_MAX_BYTES. Returns a list of sentences (empty when fine)."""
    errs = []
    if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
        return ["not an AdaptiveCard"]
    if not isinstance(card.get("version"), str) or not re.fullmatch(r"1\.[0-6]", card["version"]):
        errs.append("version must be 1.0 to 1.6")
    if len(json.dumps(card)) > CARD_MAX_BYTES:
        errs.append("card larger than %d bytes" % CARD_MAX_BYTES)
    ids = set()

    def action(a, where):
        if not isinstance(a, dict) or a.get("type") not in CARD_ACTIONS:
            errs.append("%s: unknown action %r" % (where, a.get("type") if isinstance(a, dict) else a))
            return
        if not isinstance(a.get("title"), str) or not a["title"]:
            errs.append("%s: an action needs a title" % where)
        if a["type"] == "Action.Execute" and not (isinstance(a.get("verb"), str) and a["verb"]):
            errs.append("%s: Action.Execute needs a verb" % where)
        if a["type"] == "Action.OpenUrl" and not str(a.get("url", "")).startswith(("https://", "http://")):
            errs.append("%s: Action.OpenUrl needs a url" % where)

    def element(e, where):
        if not isinstance(e, dict) or e.get("type") not in CARD_ELEMENTS:
            errs.append("%s: unknown element %r" % (where, e.get("type") if isinstance(e, dict) else e))
            return
        t = e["type"]
        if t == "TextBlock" and not isinstance(e.get("text"), str):
            errs.append("%s: TextBlock needs text" % where)
        if t.startswith("Input."):
            if not isinstance(e.get("id"), str) or not e["id"]:
                errs.append("%s: %s needs an id" % (where, t))
            elif e["id"] in ids:
                errs.append("%s: duplicate input id %r" % (where, e["id"]))
            else:
                ids.add(e["id"])
        if t == "Input.ChoiceSet":
            ch = e.get("choices")
            if not isinstance(ch, list):
                errs.append("%s: Input.ChoiceSet needs choices" % where)
                ch = []
            vals = []
            for c in ch:
                if not isinstance(c, dict) or not isinstance(c.get("title"), str) or not isinstance(c.get("value"), str):
                    errs.append("%s: a choice needs a title and a value" % where)
                else:
                    vals.append(c["value"])
            if "value" in e and not e.get("isMultiSelect") and e["value"] not in vals:
                errs.append("%s: value %r is none of the choices" % (where, e["value"]))
        if t == "Input.Date" and "value" in e and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(e["value"])):
            errs.append("%s: Input.Date value must be YYYY-MM-DD" % where)
        if t == "FactSet":
            for f in e.get("facts") or []:
                if not isinstance(f, dict) or not isinstance(f.get("title"), str) or not isinstance(f.get("value"), str):
                    errs.append("%s: a fact needs a title and a value" % where)
        for key in ("items", "columns"):
            for i, x in enumerate(e.get(key) or []):
                element(x, "%s/%s/%d" % (where, key, i))
        if t == "ActionSet":
            for i, a in enumerate(e.get("actions") or []):
                action(a, "%s/actions/%d" % (where, i))

    body = card.get("body", [])
    if not isinstance(body, list):
        errs.append("body must be an array")
        body = []
    for i, e in enumerate(body):
        element(e, "/body/%d" % i)
    acts = card.get("actions", [])
    if not isinstance(acts, list):
        errs.append("actions must be an array")
        acts = []
    if len(acts) > CARD_MAX_ACTIONS:
        errs.append("more than %d actions" % CARD_MAX_ACTIONS)
    for i, a in enumerate(acts):
        action(a, "/actions/%d" % i)
    return errs


class SimTimeout(AssertionError):
    pass


class SigningKey:
    """An RSA key with its kid and the endorsements the JWKS lists for it."""

    def __init__(self, kid, endorsements):
        self.kid = kid
        self.endorsements = list(endorsements) if endorsements is not None else None
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        nums = self.private.public_key().public_numbers()
        k = {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
             "n": int_b64url(nums.n), "e": int_b64url(nums.e)}
        if self.endorsements is not None:
            k["endorsements"] = self.endorsements
        return k

    def public_pem(self):
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def aad_error(status, error, code, description, trace=None):
    """An Entra ID (AAD) OAuth error response, shaped like the real ones."""
    trace = trace or str(uuid.uuid4())
    corr = str(uuid.uuid4())
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    body = {"error": error,
            "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\n"
                                 f"Correlation ID: {corr}\r\nTimestamp: {ts}",
            "error_codes": [code], "timestamp": ts, "trace_id": trace, "correlation_id": corr,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}"}
    return web.json_response(body, status=status)


def connector_error(status, code, message, headers=None, **extra):
    err = {"code": code, "message": message}
    err.update(extra)
    return web.json_response({"error": err}, status=status, headers=headers)


class TeamsSim:
    def __init__(self, host="127.0.0.1", port=0, app_id="00000000-0000-4000-8000-00000000b07a",
                 app_secret="sim-secret~0123456789", tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
                 bot_name="klaxon", mention_name="Klaxon On-Call", expires_in=3600, clock=None,
                 strict_ids=True, token_clock=None):
        self.host, self.port = host, port
        self.app_id, self.app_secret, self.tenant_id = app_id, app_secret, tenant_id
        self.bot_id = "28:" + app_id
        self.bot_name = bot_name
        # Real Teams shows the mention with the name the app was installed under, which can
        # differ from recipient.name (fixture 20191020020553704): bots must match on the id.
        self.mention_name = mention_name
        self.expires_in = expires_in
        self.clock = clock or time.time
        self.token_clock = token_clock or time.time
        self.strict_ids = strict_ids
        self._kid_seq = itertools.count(1)
        self.key = SigningKey(self._new_kid(), ["msteams", "webchat", "skype"])
        # A second served key, endorsed for another channel only: tokens it signs must be
        # refused for msteams activities.
        self.webchat_key = SigningKey(self._new_kid() + "-webchat", ["webchat"])
        self.stray_key = SigningKey("unknown-" + uuid.uuid4().hex[:8], ["msteams"])  # never served
        self.aad_key = SigningKey("aad-" + uuid.uuid4().hex[:8], None)
        self.team_id = "19:" + uuid.uuid4().hex + "@thread.skype"
        self.team_name = "Ops"
        self.channels = {self.team_id: "General"}  # channel id -> name; General id == team id
        self.conversations = {}  # conversation id -> set of activity ids known in it
        self.tokens = {}  # access token -> expiry (epoch seconds)
        self.token_requests = 0
        self.token_failures = 0
        self.jwks_requests = 0
        self.openid_requests = 0
        self.calls = []  # every connector call, in order
        self.sent = []  # every activity this stand-in POSTed to a bot, with the answer
        self.injections = []
        self.hangs = []  # connector requests held by inject_hang
        self.workflow_posts = []  # every Workflows webhook request, in order
        self.workflow_id = uuid.uuid4().hex
        self._ids = itertools.count(int(self.clock() * 1000))
        self._runner = None
        self._waiters = []
        self.users = {
            "alice": {"id": "29:1" + b64url(os.urandom(48)), "name": "Alice Example",
                      "aadObjectId": str(uuid.uuid4())},
            "bob": {"id": "29:1" + b64url(os.urandom(48)), "name": "Bob Example",
                    "aadObjectId": str(uuid.uuid4())},
        }

    def _new_kid(self):
        return f"sim-key-{next(self._kid_seq)}-{uuid.uuid4().hex[:6]}"

    def add_user(self, key, name=None):
        """Another member of the team (29: id and Entra object id, as Teams gives them)."""
        self.users[key] = {"id": "29:1" + b64url(os.urandom(48)), "name": name or key.title(),
                           "aadObjectId": str(uuid.uuid4())}
        return self.users[key]

    def add_channel(self, name):
        """A channel of the team the bot is installed in (posts there are accepted)."""
        cid = "19:" + uuid.uuid4().hex + "@thread.skype"
        self.channels[cid] = name
        return cid

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def service_url(self):
        return self.base_url + SERVICE_PREFIX

    @property
    def openid_url(self):
        return self.base_url + "/v1/.well-known/openidconfiguration"

    @property
    def jwks_url(self):
        return self.base_url + "/v1/.well-known/keys"

    @property
    def login_url(self):
        return self.base_url + "/"

    @property
    def workflow_url(self):
        return (f"{self.base_url}/workflows/{self.workflow_id}/triggers/manual/paths/invoke"
                f"?api-version=1&sig={self.workflow_id[:16]}")

    @property
    def token_url(self):
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    def app(self):
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/v1/.well-known/openidconfiguration", self._openid)
        app.router.add_get("/v1/.well-known/keys", self._jwks)
        app.router.add_route("*", "/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/workflows/{flow}/triggers/manual/paths/invoke", self._workflow)
        Control(self).routes(app)
        # The connector parses its own raw paths (to see the percent-encoding as sent).
        app.router.add_route("*", SERVICE_PREFIX + "{tail:.*}", self._connector)
        return app

    async def start(self):
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop()

    def _notify(self):
        waiters, self._waiters = self._waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)

    async def wait_until(self, pred, timeout=10.0, what="a condition"):
        """Re-evaluate pred() whenever a call is recorded; return its first truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            left = deadline - time.monotonic()
            if left <= 0:
                raise SimTimeout(f"timed out after {timeout}s waiting for {what}")
            f = asyncio.get_running_loop().create_future()
            self._waiters.append(f)
            try:
                await asyncio.wait_for(f, min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def wait_calls(self, n, kind=None, timeout=10.0):
        """Wait until at least n connector calls (of this kind) were recorded; return them."""
        def pick():
            got = [c for c in self.calls if kind is None or c["kind"] == kind]
            return got if len(got) >= n else None
        return await self.wait_until(pick, timeout, f"{n} connector call(s) of kind {kind}")

    # ------------------------------------------------------------------ keys

    def rotate_keys(self):
        """A new signing key with a new kid; the old one is no longer served."""
        old = self.key.kid
        self.key = SigningKey(self._new_kid(), self.key.endorsements or ["msteams"])
        return old, self.key.kid

    def set_endorsements(self, endorsements):
        """What the JWKS lists for the main key: None drops the field, [] an empty list."""
        self.key.endorsements = list(endorsements) if endorsements is not None else None

    def jwks(self):
        return {"keys": [self.key.jwk(), self.webchat_key.jwk()]}

    async def _openid(self, request):
        self.openid_requests += 1
        return web.json_response({
            "issuer": BF_ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": self.jwks_url,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _jwks(self, request):
        self.jwks_requests += 1
        return web.json_response(self.jwks())

    # ------------------------------------------------------------------ token endpoint

    async def _token(self, request):
        tenant = request.match_info["tenant"]
        self.token_requests += 1
        self._notify()
        inj = self._take_injection("token", request.method, request.path)
        if inj is not None:
            self.token_failures += 1
            return inj
        if request.method != "POST":
            self.token_failures += 1
            return aad_error(405, "invalid_request", 900561,
                             "The endpoint only accepts POST requests.")
        if tenant not in (self.tenant_id, "botframework.com"):
            self.token_failures += 1
            return aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        ctype = request.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            self.token_failures += 1
            return aad_error(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: "
                             "'grant_type'.")
        form = await request.post()
        grant = form.get("grant_type")
        if grant != "client_credentials":
            self.token_failures += 1
            return aad_error(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type.")
        if form.get("client_id") != self.app_id:
            self.token_failures += 1
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{form.get('client_id')}' was not "
                             f"found in the directory '{tenant}'.")
        secret = form.get("client_secret") or ""
        if not hmac.compare_digest(secret.encode(), self.app_secret.encode()):
            self.token_failures += 1
            return aad_error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the "
                             "request is the client secret value, not the client secret ID, for a "
                             f"secret added to app '{self.app_id}'.")
        if form.get("scope") != BF_SCOPE:
            self.token_failures += 1
            return aad_error(400, "invalid_scope", 70011,
                             "The provided value for the input parameter 'scope' is not valid. "
                             f"The scope {form.get('scope')!r} does not exist.")
        now = int(self.token_clock())
        tid = self.tenant_id if tenant != "botframework.com" else "d6d49420-f39b-4df7-a1dc-d59a935871db"
        claims = {"aud": BF_ISSUER, "iss": f"https://sts.windows.net/{tid}/", "iat": now,
                  "nbf": now, "exp": now + self.expires_in, "appid": self.app_id,
                  "appidacr": "1", "idp": f"https://sts.windows.net/{tid}/", "tid": tid,
                  "uti": uuid.uuid4().hex, "ver": "1.0"}
        token = jwt.encode(claims, self.aad_key.private, algorithm="RS256",
                           headers={"kid": self.aad_key.kid, "x5t": self.aad_key.kid})
        self.tokens[token] = now + self.expires_in
        return web.json_response({"token_type": "Bearer", "expires_in": self.expires_in,
                                  "ext_expires_in": self.expires_in, "access_token": token})

    # ------------------------------------------------------------------ fault injection

    def inject(self, status, times=1, target="connector", method=None, kind=None,
               retry_after=None, body=None):
        """The next `times` matching requests get `status` instead of being served.
        target: "connector", "token" or "workflow"; method/kind narrow the match (kind:
        create_conversation, send, reply, update, delete, member)."""
        self.injections.append({"status": status, "times": times, "target": target,
                                "method": method, "kind": kind, "retry_after": retry_after,
                                "body": body})

    def inject_429(self, retry_after=1, times=1, **match):
        self.inject(429, times=times, retry_after=retry_after, **match)

    def inject_5xx(self, status=503, times=1, **match):
        self.inject(status, times=times, **match)

    def inject_hang(self, seconds, times=1, **match):
        """The next `times` matching connector requests get no answer for `seconds`: a client
        that gives up first leaves no effect (the request was never processed); one that waits
        gets the normal answer after the pause."""
        self.injections.append({"status": None, "times": times, "target": "connector",
                                "method": match.get("method"), "kind": match.get("kind"),
                                "retry_after": None, "body": None, "hang": float(seconds)})

    async def _hang(self, request, seconds):
        """Sleep; False as soon as the client's connection is gone."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tr = request.transport
            if tr is None or tr.is_closing():
                return False
            await asyncio.sleep(min(0.05, max(0.0, end - time.monotonic())))
        tr = request.transport
        return tr is not None and not tr.is_closing()

    def inject_blocked(self, times=1, **match):
        """403 as Teams answers a bot that was blocked or uninstalled (subCode
        MessageWritesBlocked, protocols/teams.md §1.3; the exact JSON shape is not documented,
        so this one is an assumption: error.code Forbidden plus error.subCode)."""
        self.inject(403, times=times, body={"error": {
            "code": "Forbidden", "subCode": "MessageWritesBlocked",
            "message": "Bot is blocked or uninstalled: message writes are blocked."}}, **match)

    def _take_injection(self, target, method, kind):
        for inj in self.injections:
            if inj["target"] != target or inj["times"] <= 0:
                continue
            if inj["method"] and inj["method"] != method:
                continue
            if inj["kind"] and target == "connector" and inj["kind"] != kind:
                continue
            inj["times"] -= 1
            if inj.get("hang") is not None:
                return {"hang": inj["hang"]}
            status = inj["status"]
            headers = {}
            if inj["retry_after"] is not None:
                headers["Retry-After"] = str(inj["retry_after"])
            body = inj["body"]
            if body is None:
                if status == 429:
                    body = {"error": {"code": "Throttled", "message": "Too many requests."}}
                elif target == "token":
                    resp = aad_error(status, "temporarily_unavailable", 50196,
                                     "The server is temporarily unavailable.")
                    resp.headers.update(headers)
                    return resp
                else:
                    body = {"error": {"code": "ServiceError",
                                      "message": f"Injected failure {status}."}}
            return web.json_response(body, status=status, headers=headers)
        return None

    # ------------------------------------------------------------------ Workflows webhook

    async def _workflow(self, request):
        """A Workflows trigger URL: the `sig` query parameter is its only credential; the body
        must be a message with Adaptive Card attachments that have no callback actions."""
        rec = {"method": request.method, "path": request.path, "query": dict(request.query),
               "authorization": request.headers.get("Authorization"), "body": None,
               "status": None, "time": self.clock()}
        resp = await self._workflow_inner(request, rec)
        rec["status"] = resp.status
        self.workflow_posts.append(rec)
        self._notify()
        return resp

    async def _workflow_inner(self, request, rec):
        if request.match_info["flow"] != self.workflow_id or \
                request.query.get("sig") != self.workflow_id[:16]:
            return connector_error(401, "DirectApiAuthorizationRequired", "The signature is invalid.")
        if request.method != "POST":
            return connector_error(405, "MethodNotAllowed", "Method not allowed.")
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return connector_error(415, "UnsupportedMediaType", "Content-Type must be application/json.")
        try:
            body = json.loads(await request.read())
        except ValueError:
            return connector_error(400, "InvalidRequestContent", "The body is not JSON.")
        rec["body"] = body
        inj = self._take_injection("workflow", request.method, None)
        if inj is not None:
            return inj
        if not isinstance(body, dict) or body.get("type") != "message":
            return connector_error(400, "InvalidRequestContent", "type must be message.")
        atts = body.get("attachments")
        if not isinstance(atts, list) or not atts:
            return connector_error(400, "InvalidRequestContent", "attachments are required.")
        for a in atts:
            if not isinstance(a, dict) or a.get("contentType") != "application/vnd.microsoft.card.adaptive":
                return connector_error(400, "InvalidRequestContent", "Only Adaptive Cards are supported.")
            c = a.get("content")
            if not isinstance(c, dict) or c.get("type") != "AdaptiveCard":
                return connector_error(400, "InvalidRequestContent", "content must be an AdaptiveCard.")
            bad = _callback_actions(c)
            if bad:
                return connector_error(400, "InvalidRequestContent",
                                       f"{bad} cannot be delivered through a webhook.")
        return web.Response(status=202)

    # ------------------------------------------------------------------ the connector

    def new_message_id(self):
        return str(next(self._ids))

    def register_conversation(self, conv_id, *activity_ids):
        known = self.conversations.setdefault(conv_id, set())
        known.update(a for a in activity_ids if a)

    def _auth_ok(self, request):
        h = request.headers.get("Authorization", "")
        if not h.startswith("Bearer "):
            return False
        exp = self.tokens.get(h[len("Bearer "):])
        return exp is not None and self.token_clock() < exp

    def _parse_connector_path(self, raw_path):
        """(kind, conversation id, activity id) from the raw path, or an error response."""
        path = raw_path.split("?", 1)[0]
        rest = path[len(SERVICE_PREFIX):]
        segs = rest.split("/")
        if segs[:2] != ["v3", "conversations"]:
            return connector_error(404, "NotFound", f"No route for {path}")
        segs = segs[2:]
        for seg in segs[0:1] + segs[2:3]:
            bad = RAW_FORBIDDEN_IN_ID & set(seg)
            if self.strict_ids and bad:
                return connector_error(400, "BadArgument",
                                       f"id segment {seg!r} carries unencoded {''.join(sorted(bad))}: "
                                       f"percent-encode ids in the path")
        ids = [urllib.parse.unquote(s) for s in segs]
        if not segs or segs == [""]:
            return ("create_conversation", None, None)
        if len(segs) == 2 and segs[1] == "activities":
            return ("send", ids[0], None)
        if len(segs) == 3 and segs[1] == "activities" and segs[2]:
            return ("activity", ids[0], ids[2])
        if len(segs) == 3 and segs[1] == "members" and segs[2]:
            return ("member", ids[0], ids[2])
        return connector_error(404, "NotFound", f"No route for {path}")

    async def _connector(self, request):
        raw = request.raw_path
        call = {"method": request.method, "raw_path": raw, "kind": None, "conversation_id": None,
                "activity_id": None, "auth_ok": self._auth_ok(request),
                "content_type": request.headers.get("Content-Type", ""), "body": None,
                "status": None, "response": None, "time": self.clock()}
        resp = await self._connector_inner(request, call)
        call["status"] = resp.status
        try:
            call["response"] = json.loads(resp.text) if resp.text else None
        except ValueError:
            call["response"] = resp.text
        self.calls.append(call)
        self._notify()
        return resp

    async def _connector_inner(self, request, call):
        parsed = self._parse_connector_path(request.raw_path)
        if isinstance(parsed, web.Response):
            call["kind"] = "bad_path"
            return parsed
        kind, conv, act = parsed
        if kind == "activity":
            kind = {"POST": "reply", "PUT": "update", "DELETE": "delete"}.get(request.method)
            if kind is None:
                return connector_error(405, "MethodNotAllowed", "Method not allowed.")
        elif kind == "member":
            if request.method != "GET":
                return connector_error(405, "MethodNotAllowed", "Method not allowed.")
        elif request.method != "POST":
            return connector_error(405, "MethodNotAllowed", "Method not allowed.")
        call.update(kind=kind, conversation_id=conv, activity_id=act)
        if not call["auth_ok"]:
            return web.json_response({"message": "Authorization has been denied for this request."},
                                     status=401)
        if kind == "member":
            return self._member(conv, act)
        body = None
        if kind != "delete":
            if not call["content_type"].startswith("application/json"):
                return connector_error(415, "UnsupportedMediaType",
                                       "Content-Type must be application/json.")
            try:
                body = json.loads(await request.read())
            except ValueError:
                return connector_error(400, "BadSyntax", "The body is not JSON.")
            call["body"] = body
        inj = self._take_injection("connector", request.method, kind)
        if isinstance(inj, dict):
            self.hangs.append({"kind": kind, "time": self.clock(), "mono": time.monotonic(),
                               "seconds": inj["hang"]})
            if not await self._hang(request, inj["hang"]):
                call["client_gone"] = True
                self.hangs[-1]["client_gone_after"] = time.monotonic() - self.hangs[-1]["mono"]
                return web.Response(status=599)  # never written: the client is gone
            inj = None
        if inj is not None:
            return inj
        if kind == "create_conversation":
            return self._create_conversation(body)
        if conv not in self.conversations:
            return connector_error(404, "ConversationNotFound", "Conversation not found.")
        if act is not None and kind in ("update", "delete") and act not in self.conversations[conv]:
            return connector_error(404, "ActivityNotFound", "Activity not found.")
        if act is not None and kind == "reply" and act not in self.conversations[conv]:
            return connector_error(404, "ActivityNotFound", "The activity to reply to is unknown.")
        if kind == "delete":
            self.conversations[conv].discard(act)
            return web.json_response({}, status=200)
        problem = self._check_activity(body)
        if problem:
            return connector_error(400, "BadArgument", problem)
        if kind == "update":
            return web.json_response({"id": act}, status=200)
        new_id = "1:" + b64url(os.urandom(33))
        self.conversations[conv].add(new_id)
        return web.json_response({"id": new_id}, status=201)

    def _member(self, conv, member_id):
        """GetConversationMember: the roster entry of one member of a team, a channel of it,
        or a known chat (TeamsChannelAccount: id, name, aadObjectId, email, UPN …)."""
        base = conv.split(";", 1)[0]
        if base not in self.channels and base not in self.conversations and conv not in self.conversations:
            return connector_error(404, "ConversationNotFound", "Conversation not found.")
        inj = self._take_injection("connector", "GET", "member")
        if inj is not None:
            return inj
        for key, u in self.users.items():
            # Teams finds a member by the 29: id or by the Entra object id.
            if u["id"] == member_id or u["aadObjectId"].lower() == member_id.lower():
                return web.json_response({
                    "id": u["id"], "name": u["name"], "aadObjectId": u["aadObjectId"],
                    "givenName": u["name"].split(" ")[0], "surname": u["name"].split(" ")[-1],
                    "email": f"{key}@example.com", "userPrincipalName": f"{key}@example.com",
                    "tenantId": self.tenant_id, "userRole": "user"}, status=200)
        return connector_error(404, "MemberNotFoundInConversation", "The member was not found.")

    def _check_activity(self, act):
        if not isinstance(act, dict):
            return "The activity must be a JSON object."
        if not isinstance(act.get("type"), str):
            return "The activity has no type."
        if act["type"] == "message":
            text, atts = act.get("text"), act.get("attachments")
            if not (isinstance(text, str) and text) and not atts:
                return "A message needs text or attachments."
            if atts is not None:
                if not isinstance(atts, list):
                    return "attachments must be an array."
                for a in atts:
                    if not isinstance(a, dict) or not isinstance(a.get("contentType"), str):
                        return "Every attachment needs a contentType."
                    if a["contentType"] == "application/vnd.microsoft.card.adaptive":
                        c = a.get("content")
                        if not isinstance(c, dict) or c.get("type") != "AdaptiveCard" \
                                or not isinstance(c.get("version"), str):
                            return "An Adaptive Card attachment needs content.type AdaptiveCard " \
                                   "and a version."
                        bad = validate_card(c)
                        if bad:
                            return "The Adaptive Card is invalid: " + "; ".join(bad)
        return None

    def personal_conversation_id(self, user="alice"):
        """The bot's 1:1 conversation with a user: one per user, the same every time."""
        return "a:1" + b64url(hashlib.sha256((self.users[user]["id"] + self.bot_id).encode())
                              .digest() * 3)

    def _create_personal(self, body):
        """CreateConversation for a 1:1 chat (proactive message to a team member): isGroup
        false, bot {id: our 28: id}, exactly one member {id: 29:…} who is in the team, the
        tenant. Idempotent: the same user gets the same conversation id (200 then 201)."""
        bot = body.get("bot")
        members = body.get("members")
        tenant = body.get("tenantId") or ((body.get("channelData") or {}).get("tenant") or {}).get("id")
        if not isinstance(bot, dict) or bot.get("id") != self.bot_id:
            return connector_error(400, "BadArgument", "bot.id must be the bot's 28: id.")
        if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
            return connector_error(400, "BadArgument", "A 1:1 conversation needs exactly one member.")
        if tenant != self.tenant_id:
            return connector_error(400, "BadArgument", "The tenant id is missing or wrong.")
        if "activity" in body and not isinstance(body["activity"], dict):
            return connector_error(400, "BadArgument", "activity must be an object.")
        member = members[0].get("id")
        for key, u in self.users.items():
            if u["id"] == member:
                conv = self.personal_conversation_id(key)
                created = conv not in self.conversations
                self.register_conversation(conv)
                return web.json_response({"id": conv}, status=201 if created else 200)
        return connector_error(403, "Forbidden", "The user is not a member of a team the bot is in.")

    def _create_conversation(self, body):
        if not isinstance(body, dict):
            return connector_error(400, "BadArgument", "The body must be a JSON object.")
        if body.get("isGroup") is False:
            return self._create_personal(body)
        if body.get("isGroup") is not True:
            return connector_error(400, "BadArgument", "isGroup must be true for a channel thread.")
        ch = (body.get("channelData") or {}).get("channel") or {}
        ch_id = ch.get("id") if isinstance(ch, dict) else None
        if not isinstance(ch_id, str):
            return connector_error(400, "BadArgument", "channelData.channel.id is required.")
        if ch_id not in self.channels:
            return connector_error(404, "ConversationNotFound",
                                   "The channel is unknown or the bot is not installed there.")
        problem = self._check_activity(body.get("activity"))
        if problem:
            return connector_error(400, "BadArgument", "activity: " + problem)
        root = self.new_message_id()
        conv = f"{ch_id};messageid={root}"
        activity_id = "1:" + b64url(os.urandom(33))
        self.register_conversation(conv, root, activity_id)
        return web.json_response({"id": conv, "activityId": activity_id}, status=201)

    # ------------------------------------------------------------------ client side: activities

    def _timestamp(self):
        t = self.clock()
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)

    def _base(self, type_, conversation, user="alice"):
        ts = self._timestamp()
        act = {"type": type_, "timestamp": ts, "localTimestamp": ts, "id": self.new_message_id(),
               "channelId": "msteams", "serviceUrl": self.service_url,
               "from": dict(self.users[user]), "conversation": conversation,
               "recipient": {"id": self.bot_id, "name": self.bot_name},
               "entities": [{"locale": "en-US", "country": "US", "platform": "Windows",
                             "type": "clientInfo"}],
               "channelData": {"tenant": {"id": self.tenant_id}}, "locale": "en-US"}
        return act

    def _channel_conversation(self, channel_id, root):
        return {"isGroup": True, "conversationType": "channel", "tenantId": self.tenant_id,
                "id": f"{channel_id};messageid={root}"}

    def _channel_data(self, channel_id):
        return {"teamsChannelId": channel_id, "teamsTeamId": self.team_id,
                "channel": {"id": channel_id}, "team": {"id": self.team_id},
                "tenant": {"id": self.tenant_id}}

    def _user_mentions(self, act, mention_users):
        """Mention entities for other users, as Teams sends them: mentioned {id: the 29: id,
        name}, text "<at>Name</at>" (which the caller's text must contain)."""
        for key in mention_users or ():
            u = self.users[key]
            at = f"<at>{u['name']}</at>"
            if at not in act.get("text", ""):
                raise ValueError(f"the text does not contain {at}")
            act["entities"].append({"mentioned": {"id": u["id"], "name": u["name"]},
                                    "text": at, "type": "mention"})

    def channel_message(self, text, user="alice", channel_id=None, thread_root=None,
                        mention_users=()):
        """A channel post or thread reply WITHOUT the bot's mention. Teams delivers these to a
        bot only when the app holds the RSC permission ChannelMessage.Read.Group
        (protocols/teams.md §1.2 and the issue); same shape as channel_mention otherwise."""
        channel_id = channel_id or self.team_id
        act = self._base("message", None, user)
        root = thread_root or act["id"]
        act["conversation"] = self._channel_conversation(channel_id, root)
        act["text"] = text
        act["textFormat"] = "plain"
        act["attachments"] = [{"contentType": "text/html", "content": f"<div>{text}</div>"}]
        act["channelData"] = self._channel_data(channel_id)
        self._user_mentions(act, mention_users)
        self.register_conversation(act["conversation"]["id"], act["id"], root)
        return act

    def channel_mention(self, text, user="alice", channel_id=None, thread_root=None,
                        mention_users=()):
        """A channel post "@bot <text>", shaped like 20191020020553704-request: mention entity
        with mentioned.id = the bot's 28: id and the install name, text/html attachment.
        mention_users: other users mentioned in the text as <at>Name</at>."""
        channel_id = channel_id or self.team_id
        act = self._base("message", None, user)
        root = thread_root or act["id"]
        act["conversation"] = self._channel_conversation(channel_id, root)
        at = f"<at>{self.mention_name}</at>"
        act["text"] = f"{at} {text}\n"
        act["textFormat"] = "plain"
        act["attachments"] = [{"contentType": "text/html",
                               "content": f"<div><div><span itemscope=\"\" itemtype=\"http://schema"
                                          f".skype.com/Mention\" itemid=\"0\">{self.mention_name}"
                                          f"</span> {text}</div>\n</div>"}]
        act["entities"].insert(0, {"mentioned": {"id": self.bot_id, "name": self.mention_name},
                                   "text": at, "type": "mention"})
        act["channelData"] = self._channel_data(channel_id)
        self._user_mentions(act, mention_users)
        self.register_conversation(act["conversation"]["id"], act["id"], root)
        return act

    def message_update(self, original, text):
        """The original message edited (Activity spec A5900: type messageUpdate, the same id
        and conversation, all fields of the revised message; Teams: eventType editMessage)."""
        act = json.loads(json.dumps(original))
        act["type"] = "messageUpdate"
        act["timestamp"] = act["localTimestamp"] = self._timestamp()
        act["text"] = text
        act["entities"] = [e for e in act.get("entities", []) if e.get("type") != "mention"]
        act.setdefault("channelData", {})["eventType"] = "editMessage"
        return act

    def message_delete(self, original):
        """The original message deleted (A5800: type messageDelete, its id and conversation;
        Teams: eventType softDeleteMessage)."""
        act = {k: original[k] for k in ("id", "conversation", "from", "recipient", "serviceUrl",
                                        "channelId") if k in original}
        act["type"] = "messageDelete"
        act["timestamp"] = self._timestamp()
        act["channelData"] = dict(original.get("channelData") or {}, eventType="softDeleteMessage")
        return act

    def personal_message(self, text, user="alice"):
        """A 1:1 chat message (20191021205338231-request): no mention, conversation id a:…"""
        conv_id = self.personal_conversation_id(user)
        act = self._base("message", {"conversationType": "personal", "tenantId": self.tenant_id,
                                     "id": conv_id}, user)
        act["text"] = text
        act["textFormat"] = "plain"
        self.register_conversation(conv_id, act["id"])
        return act

    def card_submit(self, value, reply_to_id, conversation_id=None, user="alice",
                    channel_id=None):
        """An Action.Submit click (20191020020633146-request): a message with value and
        replyToId = the card's activity id, no text."""
        channel_id = channel_id or self.team_id
        conv_id = conversation_id or f"{channel_id};messageid={reply_to_id}"
        act = self._base("message", {"isGroup": True, "conversationType": "channel",
                                     "tenantId": self.tenant_id, "id": conv_id}, user)
        act["id"] = "f:" + str(next(self._ids))
        act["channelData"] = {"channel": {"id": channel_id}, "team": {"id": self.team_id},
                              "tenant": {"id": self.tenant_id}, "source": {"name": "message"}}
        if conv_id.startswith("a:"):
            # A card in the bot's 1:1 chat (20191021205338231-request's conversation shape).
            act["conversation"] = {"conversationType": "personal", "tenantId": self.tenant_id,
                                   "id": conv_id}
            act["channelData"] = {"tenant": {"id": self.tenant_id}, "source": {"name": "message"}}
        act["replyToId"] = reply_to_id
        act["value"] = value
        self.register_conversation(conv_id, reply_to_id)
        return act

    def adaptive_action(self, verb, data, reply_to_id, conversation_id=None, user="alice",
                        channel_id=None):
        """An Action.Execute click: invoke adaptiveCard/action (protocols/teams.md §2.2)."""
        act = self.card_submit(None, reply_to_id, conversation_id, user, channel_id)
        act["type"] = "invoke"
        act["name"] = "adaptiveCard/action"
        act["value"] = {"action": {"type": "Action.Execute", "id": uuid.uuid4().hex[:8],
                                   "verb": verb, "data": data}, "trigger": "manual"}
        return act

    def conversation_update(self, event_type="teamMemberAdded", members_added=None,
                            members_removed=None, channel_id=None, channel_name=None):
        """conversationUpdate in the team (20191019181214767-request and siblings). The bot's
        own id in members_added means "installed"; pass members_added=["bot"] for that."""
        act = self._base("conversationUpdate", {"isGroup": True, "conversationType": "channel",
                                                "tenantId": self.tenant_id, "id": self.team_id})
        act.pop("entities")
        act.pop("locale")
        del act["localTimestamp"]
        act["id"] = "f:" + str(uuid.uuid4())
        act["from"].pop("name")
        cd = {"team": {"id": self.team_id, "name": self.team_name,
                       "aadGroupId": str(uuid.uuid4())},
              "eventType": event_type, "tenant": {"id": self.tenant_id}}
        if channel_id:
            cd["channel"] = {"id": channel_id, "name": channel_name or "new channel"}
            self.channels[channel_id] = channel_name or "new channel"
        act["channelData"] = cd

        def members(names):
            out = []
            for n in names:
                if n == "bot":
                    out.append({"id": self.bot_id})
                else:
                    u = self.users[n]
                    out.append({"id": u["id"], "aadObjectId": u["aadObjectId"]})
            return out
        if members_added:
            act["membersAdded"] = members(members_added)
        if members_removed:
            act["membersRemoved"] = members(members_removed)
        self.register_conversation(self.team_id)
        return act

    # ------------------------------------------------------------------ client side: tokens

    def make_token(self, service_url=None, **knobs):
        """A Bot Framework JWT as the connector sends it, with at most a few knobs set (see
        REFUSAL_KNOBS). Returns the token text (without "Bearer ")."""
        unknown = set(knobs) - set(REFUSAL_KNOBS)
        if unknown:
            raise ValueError(f"unknown knobs {sorted(unknown)}")
        now = int(knobs.get("issued_at") or self.token_clock())
        claims = {"serviceurl": service_url or self.service_url, "nbf": now - 60,
                  "exp": now + 3600, "iss": BF_ISSUER, "aud": self.app_id}
        if knobs.get("wrong_audience"):
            claims["aud"] = "cd59cf47-aca1-41e0-8441-387faee8331e"
        if knobs.get("wrong_issuer"):
            claims["iss"] = f"https://sts.windows.net/{self.tenant_id}/"
        if knobs.get("expired"):
            claims["nbf"], claims["exp"] = now - 7200, now - 3600
        if knobs.get("not_yet_valid"):
            claims["nbf"], claims["exp"] = now + 3600, now + 7200
        if knobs.get("wrong_serviceurl"):
            claims["serviceurl"] = "https://smba.trafficmanager.net/emea/"
        key = self.key
        if knobs.get("missing_endorsement"):
            key = self.webchat_key
        if knobs.get("unknown_kid"):
            key = self.stray_key
        headers = {"kid": key.kid, "x5t": key.kid}
        if knobs.get("alg_none"):
            h = b64url(json.dumps({"alg": "none", "typ": "JWT", **headers}).encode())
            p = b64url(json.dumps(claims).encode())
            return f"{h}.{p}."
        if knobs.get("hs256_public_key"):
            h = b64url(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
            p = b64url(json.dumps(claims).encode())
            sig = hmac.new(key.public_pem(), f"{h}.{p}".encode(), hashlib.sha256).digest()
            return f"{h}.{p}.{b64url(sig)}"
        tok = jwt.encode(claims, key.private, algorithm="RS256", headers=headers)
        if knobs.get("bad_signature"):
            head, sig = tok.rsplit(".", 1)
            mid = len(sig) // 2
            sig = sig[:mid] + ("A" if sig[mid] != "A" else "B") + sig[mid + 1:]
            tok = f"{head}.{sig}"
        return tok

    async def send(self, url, activity, timeout=10.0, **knobs):
        """POST an activity to the bot (its /teams/messages URL) as the Bot Connector does.
        Returns (status, body text); the exchange is appended to sim.sent."""
        body = json.dumps(activity, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)",
                   "ms-cv": b64url(os.urandom(16)) + ".1"}
        if not knobs.get("no_auth"):
            headers["Authorization"] = "Bearer " + self.make_token(
                activity.get("serviceUrl"), **{k: v for k, v in knobs.items() if k != "no_auth"})
        async with ClientSession(timeout=ClientTimeout(total=timeout)) as s:
            async with s.post(url, data=body, headers=headers) as r:
                text = await r.text()
                self.sent.append({"url": url, "activity": activity, "knobs": knobs,
                                  "status": r.status, "body": text})
                # An invoke answered with a card: Teams renders it in place of the clicked
                # one, so it must be a card Teams accepts (the same checks as posted cards).
                if activity.get("type") == "invoke" and r.status == 200:
                    try:
                        j = json.loads(text)
                    except ValueError:
                        j = None
                    if isinstance(j, dict) and j.get("type") == "application/vnd.microsoft.card.adaptive":
                        bad = validate_card(j.get("value"))
                        if bad:
                            raise AssertionError("the invoke response's card is invalid: %s" % bad)
                return r.status, text

    # ------------------------------------------------------------------ client side: Outgoing Webhook

    def outgoing_webhook_message(self, text, webhook_name="klaxon", sent_at=None):
        """The body Teams POSTs to an Outgoing Webhook: a channel message that @mentions the
        webhook by its name, with channelData.teamsChannelId/teamsTeamId (the 2018 doc's
        example), no text/html attachment. Its timestamp is Teams' real time (`sent_at`, a
        Unix time, to back-date it), whatever the bot's simulated clock says."""
        act = self.channel_mention(text)
        t = time.time() if sent_at is None else sent_at
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)
        act["timestamp"] = act["localTimestamp"] = ts
        at = f"<at>{webhook_name}</at>"
        act["text"] = f"{at} {text}"
        act["entities"][0] = {"type": "mention", "text": at,
                              "mentioned": {"id": self.bot_id, "name": webhook_name}}
        act.pop("attachments", None)
        return act

    @staticmethod
    def hmac_header(body, secret_b64):
        mac = hmac.new(base64.b64decode(secret_b64, validate=True), body, hashlib.sha256).digest()
        return "HMAC " + base64.b64encode(mac).decode()

    async def send_webhook(self, url, activity, secret_b64, bad_signature=False, scheme="HMAC",
                           timeout=10.0):
        """POST an Outgoing Webhook request signed with HMAC-SHA256 of the exact body bytes."""
        body = json.dumps(activity, separators=(",", ":")).encode()
        auth = self.hmac_header(body, secret_b64)
        if bad_signature:
            auth = self.hmac_header(body + b" ", secret_b64)
        auth = scheme + auth[len("HMAC"):]
        headers = {"Content-Type": "application/json; charset=utf-8", "Authorization": auth}
        async with ClientSession(timeout=ClientTimeout(total=timeout)) as s:
            async with s.post(url, data=body, headers=headers) as r:
                text = await r.text()
                self.sent.append({"url": url, "activity": activity, "webhook": True,
                                  "status": r.status, "body": text})
                return r.status, text

    def state(self):
        return {"base_url": self.base_url, "service_url": self.service_url,
                "openid_url": self.openid_url, "jwks_url": self.jwks_url,
                "login_url": self.login_url, "token_url": self.token_url,
                "app_id": self.app_id, "tenant_id": self.tenant_id, "bot_id": self.bot_id,
                "workflow_url": self.workflow_url,
                "team_id": self.team_id, "kid": self.key.kid,
                "token_requests": self.token_requests, "jwks_requests": self.jwks_requests,
                "calls": len(self.calls)}


class Control:
    """/_sim/ endpoints so a standalone stand-in can be driven over HTTP:
      GET  /_sim/state                      URLs and counters
      GET  /_sim/calls                      recorded connector calls
      POST /_sim/inject      {status, times, target, method, kind, retry_after, body}
      POST /_sim/rotate                     new signing key
      POST /_sim/endorsements {endorsements: [..] | null}
      POST /_sim/send        {url, activity | kind + args, knobs: {...}}
      POST /_sim/webhook     {url, text, secret, bad_signature}
    """

    KINDS = ("channel_mention", "personal_message", "card_submit", "adaptive_action",
             "conversation_update")

    def __init__(self, sim):
        self.sim = sim

    def routes(self, app):
        app.router.add_get("/_sim/state", self.state)
        app.router.add_get("/_sim/calls", self.calls)
        app.router.add_post("/_sim/inject", self.inject)
        app.router.add_post("/_sim/rotate", self.rotate)
        app.router.add_post("/_sim/endorsements", self.endorsements)
        app.router.add_post("/_sim/send", self.send)
        app.router.add_post("/_sim/webhook", self.webhook)

    async def state(self, request):
        return web.json_response(self.sim.state())

    async def calls(self, request):
        return web.json_response(self.sim.calls)

    async def inject(self, request):
        j = await request.json()
        self.sim.inject(int(j["status"]), times=int(j.get("times", 1)),
                        target=j.get("target", "connector"), method=j.get("method"),
                        kind=j.get("kind"), retry_after=j.get("retry_after"), body=j.get("body"))
        return web.json_response({"ok": True})

    async def rotate(self, request):
        old, new = self.sim.rotate_keys()
        return web.json_response({"old_kid": old, "kid": new})

    async def endorsements(self, request):
        j = await request.json()
        self.sim.set_endorsements(j.get("endorsements"))
        return web.json_response({"ok": True})

    async def send(self, request):
        j = await request.json()
        act = j.get("activity")
        if act is None:
            kind = j.get("kind")
            if kind not in self.KINDS:
                return web.json_response({"error": f"kind must be one of {self.KINDS}"}, status=400)
            act = getattr(self.sim, kind)(**j.get("args", {}))
        try:
            status, body = await self.sim.send(j["url"], act, **j.get("knobs", {}))
        except ValueError as e:
            return web.json_response({"error": str(e)}, status=400)
        return web.json_response({"status": status, "body": body, "activity": act})

    async def webhook(self, request):
        j = await request.json()
        act = self.sim.outgoing_webhook_message(j.get("text", "help"))
        status, body = await self.sim.send_webhook(j["url"], act, j["secret"],
                                                   bad_signature=bool(j.get("bad_signature")))
        return web.json_response({"status": status, "body": body, "activity": act})


async def _main(args):
    sim = TeamsSim(host=args.host, port=args.port, app_id=args.app_id,
                   app_secret=args.app_secret, tenant_id=args.tenant)
    await sim.start()
    print(json.dumps(sim.state()), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sim.stop()


def main():
    ap = argparse.ArgumentParser(description="Local stand-in for Microsoft Teams (loopback only).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--app-id", default="00000000-0000-4000-8000-00000000b07a")
    ap.add_argument("--app-secret", default="sim-secret~0123456789")
    ap.add_argument("--tenant", default="72f988bf-86f1-41af-91ab-2d7cd011db47")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the stand-in serves loopback only")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
