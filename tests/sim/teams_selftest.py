#!/usr/bin/python3
"""Proves the Teams stand-in (teams_sim.py) behaves as the real services do, where the tests
rely on it:
  - OpenID metadata and JWKS have the documented fields; tokens the stand-in signs verify with
    python3-jwt against its own JWKS, and every refusal knob really produces the defect it names
    (checked by an independent reference verifier written here with python3-jwt);
  - the C verifier (bot/teams/teams_auth.c, linked from build/libklaxon.a) agrees with that reference
    on the same tokens and JWKS;
  - the token endpoint checks grant, client id, secret and scope, answers AAD-shaped errors,
    and counts requests;
  - the connector refuses missing/foreign/expired tokens and unencoded ids, replays the real
    recorded requests with the recorded statuses, creates threads, replies, updates, and
    injects 429/5xx/403;
  - the activities it builds have the same fields as the real recordings;
  - Outgoing Webhook requests carry a correct HMAC;
  - it runs standalone and is drivable over /_sim/.
Run: /usr/bin/python3 tests/sim/teams_selftest.py   (from anywhere; loopback only, ~10 s)
Prints one line per check and "N passed, N failed"; exits 1 on any failure.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import jwt  # noqa: E402
from aiohttp import ClientSession, ClientTimeout, web  # noqa: E402
from yarl import URL  # noqa: E402

import teams_sim  # noqa: E402
from teams_sim import BF_ISSUER, TeamsSim  # noqa: E402

FIXDIR = os.path.join(ROOT, "tests", "fixtures", "teams")
WEBHOOK_SECRET = base64.b64encode(hashlib.sha256(b"klaxon-selftest").digest()).decode()
TEST_TIMEOUT = 60


def fixture(name):
    with open(os.path.join(FIXDIR, name)) as f:
        return json.load(f)


class Refused(Exception):
    pass


def reference_verify(jwks, header_value, app_id, service_url, channel="msteams"):
    """An independent check of a Bot Framework token, with python3-jwt (protocols §1.5)."""
    if not header_value or not header_value.startswith("Bearer "):
        raise Refused("no bearer")
    token = header_value[len("Bearer "):]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as e:
        raise Refused(f"malformed: {e}")
    if header.get("alg") != "RS256":
        raise Refused("alg " + str(header.get("alg")))
    keys = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if not keys:
        raise Refused("unknown kid")
    key = jwt.PyJWK(keys[0], algorithm="RS256")
    try:
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=app_id,
                            issuer=BF_ISSUER, leeway=300, options={"require": ["exp"]})
    except jwt.PyJWTError as e:
        raise Refused(type(e).__name__)
    if claims.get("serviceurl") != service_url:
        raise Refused("serviceurl")
    if channel not in (keys[0].get("endorsements") or []):
        raise Refused("endorsement")
    return claims


class Bot:
    """A minimal bot endpoint: /teams/messages checks the JWT with the reference verifier,
    /teams/webhook checks the Outgoing Webhook HMAC."""

    def __init__(self, sim):
        self.sim, self.received, self.port, self.runner = sim, [], 0, None
        self.jwks = None

    async def start(self):
        app = web.Application()
        app.router.add_post("/teams/messages", self.messages)
        app.router.add_post("/teams/webhook", self.webhook)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        await self.runner.cleanup()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/teams/messages"

    @property
    def webhook_url(self):
        return f"http://127.0.0.1:{self.port}/teams/webhook"

    async def messages(self, request):
        body = await request.read()
        activity = json.loads(body)
        async with ClientSession() as s:  # fetch the JWKS as a bot would (no caching here)
            async with s.get(self.sim.openid_url) as r:
                meta = await r.json()
            async with s.get(meta["jwks_uri"]) as r:
                self.jwks = await r.json()
        try:
            reference_verify(self.jwks, request.headers.get("Authorization"), self.sim.app_id,
                             activity.get("serviceUrl"))
        except Refused as e:
            return web.Response(status=401, text=str(e))
        self.received.append(activity)
        return web.json_response({})

    async def webhook(self, request):
        body = await request.read()
        want = TeamsSim.hmac_header(body, WEBHOOK_SECRET)
        if not hmac.compare_digest(request.headers.get("Authorization", ""), want):
            return web.Response(status=401, text="bad hmac")
        self.received.append(json.loads(body))
        return web.json_response({"type": "message", "text": "ok"})


async def http(method, url, **kw):
    # yarl would normalise "%3A" back to ":" in a str URL; send the path exactly as written,
    # as libcurl does.
    if isinstance(url, str):
        url = URL(url, encoded=True)
    async with ClientSession(timeout=ClientTimeout(total=10)) as s:
        async with s.request(method, url, **kw) as r:
            text = await r.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
            return r.status, body, r.headers


async def get_token(sim, secret=None, scope="https://api.botframework.com/.default",
                    client_id=None, tenant=None, grant="client_credentials"):
    form = {"grant_type": grant, "client_id": client_id or sim.app_id,
            "client_secret": sim.app_secret if secret is None else secret, "scope": scope}
    url = f"{sim.base_url}/{tenant or sim.tenant_id}/oauth2/v2.0/token"
    return await http("POST", url, data=form)


def q(s):
    return urllib.parse.quote(s, safe="")


# ---------------------------------------------------------------------------------- checks


async def check_metadata_and_jwks(sim, bot):
    st, meta, _ = await http("GET", sim.openid_url)
    assert st == 200, st
    assert meta["issuer"] == "https://api.botframework.com", meta
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"], meta
    assert meta["jwks_uri"] == sim.jwks_url
    st, jwks, _ = await http("GET", meta["jwks_uri"])
    assert st == 200
    k = [k for k in jwks["keys"] if k["kid"] == sim.key.kid][0]
    assert k["kty"] == "RSA" and k["n"] and k["e"] == "AQAB", k
    assert "msteams" in k["endorsements"], k
    # The webchat-only key is served too (for the missing-endorsement case).
    assert any(k["endorsements"] == ["webchat"] for k in jwks["keys"])


async def check_tokens_verify_with_pyjwt(sim, bot):
    jwks = sim.jwks()
    hdr = "Bearer " + sim.make_token()
    claims = reference_verify(jwks, hdr, sim.app_id, sim.service_url)
    assert claims["iss"] == BF_ISSUER and claims["aud"] == sim.app_id
    assert claims["exp"] - claims["nbf"] == 3660
    # Plain PyJWT with the JWK, as documented: decode with audience and issuer.
    tok = sim.make_token()
    pub = jwt.PyJWK(jwks["keys"][0], algorithm="RS256").key
    jwt.decode(tok, pub, algorithms=["RS256"], audience=sim.app_id, issuer=BF_ISSUER)


async def check_every_knob_is_refused(sim, bot):
    jwks = sim.jwks()
    expect = {"bad_signature": "InvalidSignatureError", "wrong_audience": "InvalidAudienceError",
              "wrong_issuer": "InvalidIssuerError", "expired": "ExpiredSignatureError",
              "not_yet_valid": "ImmatureSignatureError", "wrong_serviceurl": "serviceurl",
              "missing_endorsement": "endorsement", "alg_none": "alg none",
              "unknown_kid": "unknown kid", "hs256_public_key": "alg HS256"}
    assert set(expect) | {"no_auth", "issued_at"} == set(teams_sim.REFUSAL_KNOBS)
    # A token signed five days ago is an expired one.
    expect_issued = {"issued_at": int(sim.token_clock()) - 5 * 86400}
    hdr = "Bearer " + sim.make_token(**expect_issued)
    try:
        reference_verify(jwks, hdr, sim.app_id, sim.service_url)
    except Refused as e:
        assert str(e) == "ExpiredSignatureError", f"issued_at: refused for {e}"
    else:
        raise AssertionError("issued_at five days ago: token was accepted")
    for knob, reason in expect.items():
        hdr = "Bearer " + sim.make_token(**{knob: True})
        try:
            reference_verify(jwks, hdr, sim.app_id, sim.service_url)
        except Refused as e:
            assert str(e) == reason, f"{knob}: refused for {e}, expected {reason}"
        else:
            raise AssertionError(f"{knob}: token was accepted")
    try:
        sim.make_token(no_such_knob=True)
    except ValueError:
        pass
    else:
        raise AssertionError("an unknown knob was accepted")


C_HELPER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bot/teams/teams_auth.h"
int main(int argc, char **argv)
{
  if (argc != 5) return 2;
  FILE *f = fopen(argv[1], "rb");
  static char json[262144];
  size_t n = f ? fread(json, 1, sizeof(json), f) : 0;
  if (f) fclose(f);
  struct teams_jwks *j = teams_jwks_new();
  int rc = teams_jwks_load(j, json, n, atoll(argv[4]));
  if (rc) { printf("load %d\n", rc); return 1; }
  struct teams_auth_expect e = {.app_id = argv[2], .service_url = argv[3], .skew_ms = -1};
  static char line[20000];
  while (fgets(line, sizeof(line), stdin)) {
    line[strcspn(line, "\n")] = '\0';
    struct teams_auth_result r;
    rc = teams_auth_verify(j, line, &e, atoll(argv[4]), &r);
    printf("%d %s\n", rc, r.reason);
  }
  teams_jwks_free(j);
  return 0;
}
"""


def kx_codes():
    """The KX_E* values, read from lib/kx.h's X-macro (first entry is -999)."""
    with open(os.path.join(ROOT, "lib", "kx.h")) as f:
        names = re.findall(r"^\s*XX\((\w+),", f.read(), re.M)
    return {n: -999 + i for i, n in enumerate(names)}


def build_c_helper(tmp):
    """Compile the helper against build/libklaxon.a; None (with the reason) when impossible."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        return None, "no C compiler"
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "build/libklaxon.a"],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return None, "make build/libklaxon.a failed: " + r.stderr[-500:]
    src = os.path.join(tmp, "verify.c")
    with open(src, "w") as f:
        f.write(C_HELPER)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson", "openssl"],
                           capture_output=True, text=True).stdout.split()
    exe = os.path.join(tmp, "verify")
    r = subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-I", ROOT, "-o", exe, src,
                        os.path.join(ROOT, "build", "libklaxon.a")] + flags + ["-lm"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None, "helper did not compile: " + r.stderr[-500:]
    return exe, None


async def check_c_verifier_agrees(sim, bot):
    codes = kx_codes()
    KX_EINVAL, KX_ENOTFOUND, KX_EAUTH = codes["INVAL"], codes["NOTFOUND"], codes["AUTH"]
    with tempfile.TemporaryDirectory() as tmp:
        exe, why = build_c_helper(tmp)
        if exe is None:
            raise AssertionError("cannot run the C verifier: " + why)
        jwks_path = os.path.join(tmp, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(sim.jwks(), f)
        cases = [({}, 0, "ok"),
                 ({"bad_signature": True}, KX_EAUTH, "bad signature"),
                 ({"wrong_audience": True}, KX_EAUTH, "wrong audience"),
                 ({"wrong_issuer": True}, KX_EAUTH, "wrong issuer"),
                 ({"expired": True}, KX_EAUTH, "expired"),
                 ({"not_yet_valid": True}, KX_EAUTH, "not yet valid"),
                 ({"wrong_serviceurl": True}, KX_EAUTH, "wrong serviceurl"),
                 ({"missing_endorsement": True}, KX_EAUTH, "key not endorsed for channel"),
                 ({"alg_none": True}, KX_EINVAL, "empty signature"),
                 ({"unknown_kid": True}, KX_ENOTFOUND, "unknown kid"),
                 ({"hs256_public_key": True}, KX_EAUTH, "algorithm not allowed")]
        lines = "".join("Bearer " + sim.make_token(**k) + "\n" for k, _, _ in cases)
        now_ms = str(int(sim.token_clock() * 1000))
        r = subprocess.run([exe, jwks_path, sim.app_id, sim.service_url, now_ms], input=lines,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        got = r.stdout.strip().split("\n")
        assert len(got) == len(cases), got
        for (knobs, rc, reason), line in zip(cases, got):
            want = f"{rc} {reason}"
            assert line == want, f"{knobs}: C verifier said {line!r}, expected {want!r}"


async def check_token_endpoint(sim, bot):
    before = sim.token_requests
    st, body, _ = await get_token(sim)
    assert st == 200, body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["ext_expires_in"] == 3600 and body["access_token"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://api.botframework.com" and claims["appid"] == sim.app_id
    st, body, _ = await get_token(sim, secret="wrong")
    assert st == 401 and body["error"] == "invalid_client", body
    assert body["error_codes"] == [7000215] and body["error_description"].startswith("AADSTS7000215")
    assert "trace_id" in body and "correlation_id" in body
    st, body, _ = await get_token(sim, scope="https://graph.microsoft.com/.default")
    assert st == 400 and body["error"] == "invalid_scope", body
    st, body, _ = await get_token(sim, client_id="someone-else")
    assert st == 400 and body["error"] == "unauthorized_client", body
    st, body, _ = await get_token(sim, grant="password")
    assert st == 400 and body["error"] == "unsupported_grant_type", body
    st, body, _ = await get_token(sim, tenant="contoso.example")
    assert st == 400 and body["error"] == "invalid_request", body
    st, body, _ = await get_token(sim, tenant="botframework.com")  # legacy multi-tenant URL
    assert st == 200, body
    st, body, _ = await http("POST", sim.token_url, json={"grant_type": "client_credentials"})
    assert st == 400, body
    st, body, _ = await http("GET", sim.token_url)
    assert st == 405, body
    assert sim.token_requests - before == 9, sim.token_requests - before


async def check_connector_auth(sim, bot):
    conv = sim.channel_mention("hello")["conversation"]["id"]
    url = f"{sim.service_url}v3/conversations/{q(conv)}/activities"
    msg = {"type": "message", "text": "hi"}
    st, body, _ = await http("POST", url, json=msg)
    assert st == 401 and "denied" in body["message"], (st, body)
    st, _, _ = await http("POST", url, json=msg, headers={"Authorization": "Bearer nope"})
    assert st == 401
    # A valid Bot Framework *inbound* token is not a connector token either.
    st, _, _ = await http("POST", url, json=msg,
                          headers={"Authorization": "Bearer " + sim.make_token()})
    assert st == 401
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    st, body, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 201 and body["id"].startswith("1:"), (st, body)
    # The token expires with the stand-in's token clock (the real one), not its activity clock.
    real = sim.token_clock
    sim.token_clock = lambda: real() + 3601
    try:
        st, _, _ = await http("POST", url, json=msg, headers=auth)
        assert st == 401, st
    finally:
        sim.token_clock = real
    shown = sim.clock
    sim.clock = lambda: shown() + 3601
    try:
        st, _, _ = await http("POST", url, json=msg, headers=auth)
        assert st == 201, st
    finally:
        sim.clock = shown
    st, _, _ = await http("POST", url, data="text", headers=dict(auth, **{"Content-Type": "text/plain"}))
    assert st == 415
    st, body, _ = await http("POST", url, data="{", headers=dict(auth, **{"Content-Type": "application/json"}))
    assert st == 400 and body["error"]["code"] == "BadSyntax"
    st, body, _ = await http("POST", url, json={"type": "message"}, headers=auth)
    assert st == 400 and body["error"]["code"] == "BadArgument", body
    bad_card = {"type": "message", "attachments": [{"contentType":
                                                    "application/vnd.microsoft.card.adaptive",
                                                    "content": {"type": "AdaptiveCard"}}]}
    st, body, _ = await http("POST", url, json=bad_card, headers=auth)
    assert st == 400, body


async def check_connector_encoding(sim, bot):
    conv = sim.channel_mention("hello")["conversation"]["id"]
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    msg = {"type": "message", "text": "hi"}
    # A raw ':' ';' '@' '=' in the conversation id: refused.
    raw = URL(f"{sim.service_url}v3/conversations/{conv}/activities", encoded=True)
    st, body, _ = await http("POST", raw, json=msg, headers=auth)
    assert st == 400 and "percent-encode" in body["error"]["message"], (st, body)
    # An activity id with a raw ':' in the update path: refused too.
    st, body, _ = await http("POST", f"{sim.service_url}v3/conversations/{q(conv)}/activities",
                             json=msg, headers=auth)
    assert st == 201
    act_id = body["id"]
    raw = URL(f"{sim.service_url}v3/conversations/{q(conv)}/activities/{act_id}", encoded=True)
    st, body, _ = await http("PUT", raw, json=msg, headers=auth)
    assert st == 400, (st, body)
    st, body, _ = await http("PUT", URL(f"{sim.service_url}v3/conversations/{q(conv)}/activities/"
                                        f"{q(act_id)}", encoded=True), json=msg, headers=auth)
    assert st == 200 and body == {"id": act_id}, (st, body)
    bad = [c for c in sim.calls if c["status"] == 400 and c["kind"] == "bad_path"]
    assert len(bad) >= 2


async def check_replay_recordings(sim, bot):
    """The bot-side requests recorded from real Teams, replayed byte for byte (path as the SDK
    encoded it, body as sent): the stand-in answers them with the recorded status and shape."""
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"],
            "Content-Type": "application/json; charset=utf-8"}
    for name in ("20191019180713442-reply-integrationBot.json",
                 "20191019180813235-reply-integrationBot.json",
                 "20191019180813992-reply-integrationBot.json",
                 "20191020020554539-reply-integrationBot.json"):
        rec = fixture(name)
        path = rec["path"]
        assert path.startswith("/amer/v3/conversations")
        # Make the recording's conversation/channel/activity known to the stand-in.
        if path == "/amer/v3/conversations":
            sim.channels[rec["body"]["channelData"]["channel"]["id"]] = "recorded"
        else:
            segs = path.split("/")
            conv = urllib.parse.unquote(segs[4])
            sim.register_conversation(conv, urllib.parse.unquote(segs[6]))
        st, body, _ = await http(rec["method"], URL(sim.base_url + path, encoded=True),
                                 data=json.dumps(rec["body"]).encode(), headers=auth)
        assert st == rec["status"], f"{name}: {st} {body}, recorded {rec['status']}"
        assert set(body) == set(rec["response"]), (name, body, rec["response"])
        if "activityId" in body:
            assert ";messageid=" in body["id"] and body["id"].startswith(
                rec["body"]["channelData"]["channel"]["id"])
        if rec["method"] == "PUT":
            assert body["id"] == rec["response"]["id"]


async def check_threads_replies_updates(sim, bot):
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    base = sim.service_url + "v3/conversations"
    card = {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"type": "AdaptiveCard", "version": "1.4",
                    "body": [{"type": "TextBlock", "text": "INC-1: db down"}],
                    "actions": [{"type": "Action.Submit", "title": "Acknowledge",
                                 "data": {"action": "ack", "incidentId": "INC-1"}}]}}]}
    create = {"isGroup": True, "channelData": {"channel": {"id": sim.team_id},
                                               "tenant": {"id": sim.tenant_id}},
              "activity": card, "bot": {"id": sim.app_id}, "tenantId": sim.tenant_id}
    st, body, _ = await http("POST", base, json=create, headers=auth)
    assert st == 201, body
    conv, card_id = body["id"], body["activityId"]
    assert conv.startswith(sim.team_id + ";messageid=")
    for broken, why in ((dict(create, isGroup=False), "isGroup"),
                        ({k: v for k, v in create.items() if k != "channelData"}, "channel"),
                        ({k: v for k, v in create.items() if k != "activity"}, "activity")):
        st, body, _ = await http("POST", base, json=broken, headers=auth)
        assert st == 400, (why, st, body)
    unknown = dict(create, channelData={"channel": {"id": "19:nope@thread.skype"}})
    st, body, _ = await http("POST", base, json=unknown, headers=auth)
    assert st == 404, body
    # Reply into the new thread, then update the card (the Ack flow).
    st, body, _ = await http("POST", f"{base}/{q(conv)}/activities/{q(card_id)}",
                             json={"type": "message", "text": "paging alice"}, headers=auth)
    assert st == 201, body
    # A user clicks Acknowledge: the stand-in builds that submit, the bot updates the card.
    submit = sim.card_submit({"action": "ack", "incidentId": "INC-1"}, card_id, conv)
    assert submit["replyToId"] == card_id and submit["conversation"]["id"] == conv
    st, body, _ = await http("PUT", f"{base}/{q(conv)}/activities/{q(submit['replyToId'])}",
                             json={"type": "message", "text": "Acknowledged by Alice"},
                             headers=auth)
    assert st == 200 and body == {"id": card_id}, body
    st, body, _ = await http("PUT", f"{base}/{q(conv)}/activities/{q('1:unknown')}",
                             json={"type": "message", "text": "x"}, headers=auth)
    assert st == 404 and body["error"]["code"] == "ActivityNotFound", body
    st, body, _ = await http("POST", f"{base}/{q('19:ghost@thread.skype')}/activities",
                             json={"type": "message", "text": "x"}, headers=auth)
    assert st == 404 and body["error"]["code"] == "ConversationNotFound", body
    st, body, _ = await http("DELETE", f"{base}/{q(conv)}/activities/{q(card_id)}", headers=auth)
    assert st == 200, body
    kinds = [c["kind"] for c in sim.calls[-8:]]
    assert kinds[0] == "create_conversation" and "update" in kinds and "delete" in kinds, kinds
    rec = [c for c in sim.calls if c["kind"] == "update" and c["status"] == 200][-1]
    assert rec["body"]["text"] == "Acknowledged by Alice" and rec["auth_ok"]
    assert "%3A" in rec["raw_path"] and "%3B" in rec["raw_path"]


async def check_injection(sim, bot):
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    conv = sim.personal_message("hi")["conversation"]["id"]
    url = f"{sim.service_url}v3/conversations/{q(conv)}/activities"
    msg = {"type": "message", "text": "hi"}
    sim.inject_429(retry_after=2)
    sim.inject_5xx(502)
    sim.inject_blocked()
    st, body, hdrs = await http("POST", url, json=msg, headers=auth)
    assert st == 429 and hdrs["Retry-After"] == "2", (st, body)
    st, body, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 502, (st, body)
    st, body, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 403 and body["error"]["subCode"] == "MessageWritesBlocked", body
    st, body, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 201, (st, body)
    # An injection only for updates leaves sends alone; one on the token endpoint works too.
    sim.inject_5xx(500, kind="update")
    st, _, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 201
    sim.injections.clear()
    sim.inject(503, target="token", retry_after=1)
    st, body, hdrs = await get_token(sim)
    assert st == 503 and body["error"] == "temporarily_unavailable" and hdrs["Retry-After"] == "1"
    st, _, _ = await get_token(sim)
    assert st == 200
    # Unauthenticated calls are refused before any injection is consumed.
    sim.inject_429()
    st, _, _ = await http("POST", url, json=msg)
    assert st == 401
    st, _, _ = await http("POST", url, json=msg, headers=auth)
    assert st == 429
    await sim.wait_calls(1, kind="send")


def keyset(d):
    return set(d.keys())


async def check_activity_shapes(sim, bot):
    pairs = [(sim.channel_mention("incident declare db down"),
              "20191020020553704-request-integrationBot.json", set()),
             (sim.personal_message("oncall"), "20191021205338231-request-integrationBot.json",
              set()),
             (sim.card_submit({"action": "ack"}, "1:card"),
              "20191020020633146-request-integrationBot.json", set()),
             (sim.adaptive_action("ack", {"incidentId": "INC-1"}, "1:card"),
              "20191020020654953-request-integrationBot.json", {"name"}),
             (sim.conversation_update("teamMemberAdded", members_added=["bot"]),
              "20191019181214767-request-integrationBot.json", set())]
    for act, name, extra in pairs:
        real = fixture(name)["body"]
        assert keyset(act) == keyset(real) | extra, (name, keyset(act) ^ (keyset(real) | extra))
        for sub in ("from", "recipient", "conversation", "channelData"):
            assert keyset(act[sub]) == keyset(real[sub]), (name, sub, act[sub], real[sub])
        assert act["recipient"]["id"].startswith("28:") and act["from"]["id"].startswith("29:")
    m = pairs[0][0]
    ent = m["entities"][0]
    assert ent["mentioned"]["id"] == m["recipient"]["id"] == sim.bot_id
    assert ent["mentioned"]["name"] != m["recipient"]["name"]  # as in the real recording
    assert m["text"].startswith(ent["text"])
    assert m["conversation"]["id"] == f"{sim.team_id};messageid={m['id']}"
    assert pairs[4][0]["membersAdded"] == [{"id": sim.bot_id}]
    assert pairs[3][0]["value"]["action"]["verb"] == "ack"


async def check_send_to_bot(sim, bot):
    n = len(bot.received)
    for act in (sim.channel_mention("incident declare db down"), sim.personal_message("help"),
                sim.card_submit({"action": "ack"}, "1:card"),
                sim.adaptive_action("ack", {"incidentId": "INC-1"}, "1:card"),
                sim.conversation_update()):
        st, body = await sim.send(bot.url, act)
        assert st == 200, (act["type"], st, body)
    assert len(bot.received) == n + 5
    for knob in teams_sim.REFUSAL_KNOBS:
        st, body = await sim.send(bot.url, sim.channel_mention("x"), **{knob: True})
        assert st == 401, (knob, st, body)
    assert len(bot.received) == n + 5
    assert sim.sent[-1]["knobs"] == {"hs256_public_key": True}


async def check_key_rotation(sim, bot):
    old = sim.key.kid
    hdr_old = "Bearer " + sim.make_token()
    sim.rotate_keys()
    st, jwks, _ = await http("GET", sim.jwks_url)
    kids = [k["kid"] for k in jwks["keys"]]
    assert old not in kids and sim.key.kid in kids, kids
    try:
        reference_verify(jwks, hdr_old, sim.app_id, sim.service_url)
        raise AssertionError("a token of the dropped key verified")
    except Refused as e:
        assert str(e) == "unknown kid"
    reference_verify(jwks, "Bearer " + sim.make_token(), sim.app_id, sim.service_url)
    st, _ = await sim.send(bot.url, sim.personal_message("after rotation"))
    assert st == 200
    # Keys served without the endorsement: tokens are refused for msteams.
    sim.set_endorsements(None)
    st, jwks, _ = await http("GET", sim.jwks_url)
    assert "endorsements" not in [k for k in jwks["keys"] if k["kid"] == sim.key.kid][0]
    st, body = await sim.send(bot.url, sim.personal_message("x"))
    assert st == 401 and body == "endorsement", (st, body)
    sim.set_endorsements(["msteams"])
    st, _ = await sim.send(bot.url, sim.personal_message("x"))
    assert st == 200


async def check_outgoing_webhook(sim, bot):
    act = sim.outgoing_webhook_message("incident declare db down")
    assert act["text"] == "<at>klaxon</at> incident declare db down"
    assert act["channelData"]["teamsChannelId"] == sim.team_id
    st, body = await sim.send_webhook(bot.webhook_url, act, WEBHOOK_SECRET)
    assert st == 200 and json.loads(body)["type"] == "message", (st, body)
    st, _ = await sim.send_webhook(bot.webhook_url, act, WEBHOOK_SECRET, bad_signature=True)
    assert st == 401
    st, _ = await sim.send_webhook(bot.webhook_url, act, WEBHOOK_SECRET, scheme="Bearer")
    assert st == 401
    # The header is HMAC-SHA256 of the exact bytes under the *decoded* secret (independently).
    body = b'{"type":"message","text":"x"}'
    want = base64.b64encode(hmac.new(base64.b64decode(WEBHOOK_SECRET), body,
                                     hashlib.sha256).digest()).decode()
    assert TeamsSim.hmac_header(body, WEBHOOK_SECRET) == "HMAC " + want


async def check_control_api(sim, bot):
    st, state, _ = await http("GET", sim.base_url + "/_sim/state")
    assert st == 200 and state["service_url"] == sim.service_url and state["kid"] == sim.key.kid
    st, r, _ = await http("POST", sim.base_url + "/_sim/send",
                          json={"url": bot.url, "kind": "channel_mention",
                                "args": {"text": "status"}})
    assert st == 200 and r["status"] == 200, r
    st, r, _ = await http("POST", sim.base_url + "/_sim/send",
                          json={"url": bot.url, "kind": "personal_message",
                                "args": {"text": "x"}, "knobs": {"expired": True}})
    assert st == 200 and r["status"] == 401, r
    st, r, _ = await http("POST", sim.base_url + "/_sim/send",
                          json={"url": bot.url, "kind": "nope"})
    assert st == 400
    st, r, _ = await http("POST", sim.base_url + "/_sim/webhook",
                          json={"url": bot.webhook_url, "text": "hi", "secret": WEBHOOK_SECRET})
    assert st == 200 and r["status"] == 200, r
    st, r, _ = await http("POST", sim.base_url + "/_sim/rotate")
    assert st == 200 and r["kid"] == sim.key.kid
    st, r, _ = await http("POST", sim.base_url + "/_sim/inject", json={"status": 429,
                                                                      "retry_after": 3})
    assert st == 200 and sim.injections[-1]["retry_after"] == 3
    sim.injections.clear()
    st, calls, _ = await http("GET", sim.base_url + "/_sim/calls")
    assert st == 200 and len(calls) == len(sim.calls)


async def check_standalone(sim, bot):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, os.path.join(HERE, "teams_sim.py"), "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        state = json.loads(line)
        assert state["service_url"].startswith("http://127.0.0.1:")
        st, meta, _ = await http("GET", state["openid_url"])
        assert st == 200 and meta["jwks_uri"] == state["jwks_url"]
        st, body, _ = await http("POST", state["token_url"],
                                 data={"grant_type": "client_credentials",
                                       "client_id": state["app_id"],
                                       "client_secret": "sim-secret~0123456789",
                                       "scope": "https://api.botframework.com/.default"})
        assert st == 200 and body["access_token"], body
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 10)
    assert rc == 0, rc


async def check_roster_and_personal_chats(sim, bot):
    """GetConversationMember by 29: id and by Entra object id; CreateConversation for a 1:1
    chat (idempotent) with every required field checked."""
    _, tok, _ = await get_token(sim)
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    base = sim.service_url + "v3/conversations"
    alice = sim.users["alice"]
    for who in (alice["id"], alice["aadObjectId"], alice["aadObjectId"].upper()):
        st, body, _ = await http("GET", f"{base}/{q(sim.team_id)}/members/{q(who)}", headers=auth)
        assert st == 200 and body["id"] == alice["id"] and body["aadObjectId"] == alice["aadObjectId"], body
    st, body, _ = await http("GET", f"{base}/{q(sim.team_id)}/members/{q('29:nobody')}", headers=auth)
    assert st == 404 and body["error"]["code"] == "MemberNotFoundInConversation", body
    st, body, _ = await http("GET", f"{base}/{q(sim.team_id)}/members/{q(alice['id'])}")
    assert st == 401, body
    st, body, _ = await http("GET", f"{base}/{sim.team_id}/members/{q(alice['id'])}", headers=auth)
    assert st == 400, body  # the team id unencoded
    st, body, _ = await http("POST", f"{base}/{q(sim.team_id)}/members/{q(alice['id'])}", headers=auth,
                             json={})
    assert st == 405, body
    good = {"isGroup": False, "bot": {"id": sim.bot_id}, "members": [{"id": alice["id"]}],
            "channelData": {"tenant": {"id": sim.tenant_id}}, "tenantId": sim.tenant_id}
    st, body, _ = await http("POST", base, json=good, headers=auth)
    assert st in (200, 201) and body["id"] == sim.personal_conversation_id("alice"), body
    st, again, _ = await http("POST", base, json=good, headers=auth)
    assert st == 200 and again["id"] == body["id"], again
    st, body2, _ = await http("POST", f"{base}/{q(body['id'])}/activities", headers=auth,
                              json={"type": "message", "text": "page"})
    assert st == 201, body2
    for broken in (dict(good, bot={"id": sim.app_id}), dict(good, members=[]),
                   dict(good, members=[{"id": alice["id"]}, {"id": sim.users["bob"]["id"]}]),
                   {k: v for k, v in good.items() if k not in ("tenantId", "channelData")},
                   dict(good, tenantId="00000000-0000-0000-0000-000000000000",
                        channelData={"tenant": {"id": "00000000-0000-0000-0000-000000000000"}})):
        st, body, _ = await http("POST", base, json=broken, headers=auth)
        assert st == 400, (broken, st, body)
    st, body, _ = await http("POST", base, headers=auth,
                             json=dict(good, members=[{"id": "29:not-in-the-team"}]))
    assert st == 403, body


async def check_workflow_webhook(sim, bot):
    """The Workflows trigger: Adaptive Cards only, no callback actions, its sig required."""
    card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": "x"}],
            "actions": [{"type": "Action.OpenUrl", "title": "Runbook", "url": "https://r"}]}
    good = {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}
    n = len(sim.workflow_posts)
    st, body, _ = await http("POST", sim.workflow_url, json=good)
    assert st == 202, body
    bad_cards = [dict(card, actions=[{"type": "Action.Submit", "title": "Ack", "data": {}}]),
                 dict(card, actions=[{"type": "Action.Execute", "title": "Ack", "verb": "ack",
                                      "fallback": {"type": "Action.Submit"}}])]
    for c in bad_cards:
        st, body, _ = await http("POST", sim.workflow_url, json=dict(good, attachments=[
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": c}]))
        assert st == 400, body
    st, body, _ = await http("POST", sim.workflow_url, json={"type": "message", "text": "plain"})
    assert st == 400, body
    st, body, _ = await http("POST", sim.workflow_url.replace("sig=", "sig=x"), json=good)
    assert st == 401, body
    sim.inject(429, target="workflow", retry_after=2)
    st, body, hdrs = await http("POST", sim.workflow_url, json=good)
    assert st == 429 and hdrs.get("Retry-After") == "2", body
    assert [w["status"] for w in sim.workflow_posts[n:]] == [202, 400, 400, 400, 401, 429]


async def check_more_activity_shapes(sim, bot):
    """Channel messages without the bot's mention (RSC), user mentions, edits and deletions."""
    m = sim.channel_message("<at>Bob Example</at> is looking", mention_users=["bob"])
    assert not [e for e in m["entities"] if e.get("type") == "mention" and
                e["mentioned"]["id"] == sim.bot_id]
    ment = [e for e in m["entities"] if e.get("type") == "mention"]
    assert ment == [{"mentioned": {"id": sim.users["bob"]["id"], "name": "Bob Example"},
                     "text": "<at>Bob Example</at>", "type": "mention"}], ment
    try:
        sim.channel_mention("no tag here", mention_users=["bob"])
        raise AssertionError("a mention without its <at> tag was accepted")
    except ValueError:
        pass
    up = sim.message_update(m, "edited")
    assert up["type"] == "messageUpdate" and up["id"] == m["id"] and up["text"] == "edited"
    assert up["conversation"] == m["conversation"] and up["channelData"]["eventType"] == "editMessage"
    gone = sim.message_delete(m)
    assert gone["type"] == "messageDelete" and gone["id"] == m["id"] and "text" not in gone
    assert gone["channelData"]["eventType"] == "softDeleteMessage"
    card = sim.card_submit({"action": "page.ack", "value": "1"}, "1:card",
                           conversation_id=sim.personal_conversation_id("alice"))
    assert card["conversation"]["conversationType"] == "personal" and "team" not in card["channelData"]


CHECKS = [check_metadata_and_jwks, check_tokens_verify_with_pyjwt, check_every_knob_is_refused,
          check_c_verifier_agrees, check_token_endpoint, check_connector_auth,
          check_connector_encoding, check_replay_recordings, check_threads_replies_updates,
          check_injection, check_activity_shapes, check_send_to_bot, check_key_rotation,
          check_outgoing_webhook, check_control_api, check_standalone,
          check_roster_and_personal_chats, check_workflow_webhook, check_more_activity_shapes]


async def main():
    passed = failed = 0
    t0 = time.monotonic()
    async with TeamsSim() as sim:
        bot = await Bot(sim).start()
        try:
            for check in CHECKS:
                name = check.__name__[len("check_"):]
                try:
                    await asyncio.wait_for(check(sim, bot), TEST_TIMEOUT)
                    passed += 1
                    print(f"ok    {name}")
                except Exception:  # noqa: BLE001 - report every failure and go on
                    failed += 1
                    print(f"FAIL  {name}")
                    traceback.print_exc(limit=3)
        finally:
            await bot.stop()
    print(f"teams_selftest: {passed} passed, {failed} failed ({time.monotonic() - t0:.1f}s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
