"""Self-tests of the Twilio stand-in (tests/sim/twilio_sim.js, through tests/e2e/twilio_stub.py):
its REST API is as strict as Twilio's documented one, its webhooks carry Twilio's fields in
Twilio's order of events, its TwiML parsing refuses what Twilio would not run, and every
signature it sends verifies with klaxon's own C verifier (lib/twilio_sig.c, through a small
helper linked against libklaxon.a) while forged ones do not. They play klaxon's side with a small
aiohttp server and need no klaxon binary (only its libklaxon.a)."""

import asyncio
import base64
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

import aiohttp
from aiohttp import web

from harness import ROOT, cases

from twilio_stub import TwilioStub

# The stand-in's own tests: no klaxon binary, and the C helper links build/libklaxon.a (the plain
# one) whichever KLAXON_BIN is, so the sanitizer pass would only repeat the plain pass: `run.py
# --klaxon-only` skips them.
E2E_RUNS_KLAXON = False

SID_RE = re.compile(r"^(SM|CA)[0-9a-f]{32}$")
CUSTOMER = "+15005550001"


# ---------------------------------------------------------------------------- klaxon's side


class Receiver:
    """An HTTP server standing where klaxon's /twilio/* routes will be: records every request
    (path, query, headers, raw body) and answers TwiML set per path."""

    def __init__(self):
        self.requests = []
        self.twiml = {}  # path -> (status, content type, body)
        self.runner = None
        self.port = None

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
        if self.runner:
            await self.runner.cleanup()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    async def handle(self, request):
        raw = await request.read()
        self.requests.append({"method": request.method, "path": request.path,
                              "url": self.url(request.path_qs), "headers": dict(request.headers),
                              "body": raw.decode()})
        status, ctype, body = self.twiml.get(request.path, (200, "text/plain", "ok"))
        return web.Response(status=status, body=body.encode(), headers={"Content-Type": ctype})

    async def wait(self, pred, timeout=10.0):
        for _ in range(int(timeout / 0.05)):
            for r in self.requests:
                if pred(r):
                    return r
            await asyncio.sleep(0.05)
        raise AssertionError("no matching request; got %s" % [(r["path"], r["body"][:80]) for r in self.requests])


async def rest(stub, resource, form, auth=None, account=None, ctype="application/x-www-form-urlencoded",
               method="POST"):
    """(status, JSON) of a REST call as klaxon makes it."""
    auth = auth if auth is not None else (stub.account_sid, stub.auth_token)
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    if ctype:
        headers["Content-Type"] = ctype
    url = "%s/2010-04-01/Accounts/%s/%s.json" % (stub.api_url, account or stub.account_sid, resource)
    data = urllib.parse.urlencode(form).encode() if isinstance(form, dict) else form
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, data=data, headers=headers) as r:
            return r.status, await r.json(content_type=None)


async def with_stub(fn, **kw):
    stub = await TwilioStub(**kw).start()
    rx = await Receiver().start()
    try:
        return await fn(stub, rx)
    finally:
        await rx.stop()
        await stub.stop()


def form_of(req):
    return urllib.parse.parse_qsl(req["body"], keep_blank_values=True)


# ---------------------------------------------------------------------------- the C verifier

C_HELPER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/form.h"
#include "lib/twilio_sig.h"
/* Lines: token TAB url TAB form-body TAB signature ("-" for none); prints 1 or 0 per line. */
int main(void)
{
  static char line[200000];
  while (fgets(line, sizeof(line), stdin)) {
    line[strcspn(line, "\n")] = '\0';
    char *f[4];
    char *p = line;
    for (int i = 0; i < 4; i++) {
      f[i] = p;
      p = strchr(p, '\t');
      if (p) *p++ = '\0';
      else if (i < 3) return 2;
    }
    struct form *form = NULL;
    if (form_parse(f[2], strlen(f[2]), &form) != 0) { puts("E"); continue; }
    puts(twilio_sig_ok(f[0], f[1], form, strcmp(f[3], "-") ? f[3] : NULL) ? "1" : "0");
    form_free(form);
  }
  return 0;
}
"""


def c_verifier(tmp):
    """Build the helper against a libklaxon.a: build/'s, else the one next to KLAXON_BIN (an
    ASan+UBSan build is linked with clang and the sanitizers)."""
    libs = [os.path.join(ROOT, "build", "libklaxon.a"),
            os.path.join(os.path.dirname(os.path.abspath(os.environ.get("KLAXON_BIN") or
                                                         os.path.join(ROOT, "build", "klaxon"))), "libklaxon.a")]
    libs = [lib for lib in libs if os.path.exists(lib)]
    assert libs, "no libklaxon.a in build/ or next to KLAXON_BIN: run make"
    src = os.path.join(tmp, "sig.c")
    with open(src, "w") as f:
        f.write(C_HELPER)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "openssl"], capture_output=True,
                           text=True).stdout.split()
    exe = os.path.join(tmp, "sig")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    errors = []
    for lib in libs:
        for compiler, extra in ((cc, []), (shutil.which("clang"), ["-fsanitize=address,undefined"])):
            if not compiler:
                continue
            r = subprocess.run([compiler, "-std=c11", "-D_GNU_SOURCE", "-I", ROOT] + extra +
                               ["-o", exe, src, lib] + flags, capture_output=True, text=True, timeout=120)
            if r.returncode == 0:
                return exe
            errors.append(r.stderr[-600:])
    raise AssertionError("the C helper did not build: " + "\n".join(errors))


def c_verify(exe, token, reqs):
    lines = "".join("%s\t%s\t%s\t%s\n" % (token, r["url"], r["body"],
                                          r["headers"].get("X-Twilio-Signature", "-")) for r in reqs)
    out = subprocess.run([exe], input=lines, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


# ---------------------------------------------------------------------------- REST strictness


async def test_rest_accepts_and_shapes(h):
    async def run(stub, rx):
        st, m = await rest(stub, "Messages", {"To": CUSTOMER, "From": stub.from_number, "Body": "P1 db down"})
        assert st == 201, m
        assert SID_RE.match(m["sid"]) and m["sid"].startswith("SM") and len(m["sid"]) == 34, m
        assert m["status"] == "queued" and m["to"] == CUSTOMER and m["from"] == stub.from_number
        assert m["account_sid"] == stub.account_sid and m["direction"] == "outbound-api"
        assert m["uri"] == "/2010-04-01/Accounts/%s/Messages/%s.json" % (stub.account_sid, m["sid"])
        st, c = await rest(stub, "Calls", {"To": CUSTOMER, "From": stub.from_number, "Url": rx.url("/voice")})
        assert st == 201, c
        assert c["sid"].startswith("CA") and SID_RE.match(c["sid"]) and c["status"] == "queued", c
        msgs = await stub.messages()
        assert [x["sid"] for x in msgs] == [m["sid"]] and msgs[0]["body"] == "P1 db down"
        assert [x["sid"] for x in await stub.calls()] == [c["sid"]]
    await with_stub(run)


@cases([
    {"id": "no auth", "auth": False, "status": 401, "code": 20003},
    {"id": "wrong token", "auth": "bad", "status": 401, "code": 20003},
    {"id": "other account", "account": "AC" + "0" * 32, "status": 404, "code": 20404},
    {"id": "no To", "form": {"From": "FROM", "Body": "x"}, "status": 400, "code": 21604},
    {"id": "To not E.164", "form": {"To": "015005550001", "From": "FROM", "Body": "x"}, "status": 400, "code": 21211},
    {"id": "To with a space (an unencoded +)", "raw": "To= 15005550001&From=%2B15005550006&Body=x", "status": 400, "code": 21211},
    {"id": "no From", "form": {"To": CUSTOMER, "Body": "x"}, "status": 400, "code": 21603},
    {"id": "From not ours", "form": {"To": CUSTOMER, "From": "+15005550009", "Body": "x"}, "status": 400, "code": 21606},
    {"id": "no Body", "form": {"To": CUSTOMER, "From": "FROM"}, "status": 400, "code": 21602},
    {"id": "Body too long", "form": {"To": CUSTOMER, "From": "FROM", "Body": "x" * 1601}, "status": 400, "code": 21617},
    {"id": "bad StatusCallback", "form": {"To": CUSTOMER, "From": "FROM", "Body": "x", "StatusCallback": "ftp://x"}, "status": 400, "code": 21609},
    {"id": "JSON body", "ctype": "application/json", "raw": '{"To": "+15005550001"}', "status": 400, "code": 20001},
    {"id": "GET", "method": "GET", "status": 405, "code": 20004},
    {"id": "call without Url", "resource": "Calls", "form": {"To": CUSTOMER, "From": "FROM"}, "status": 400, "code": 21205},
    {"id": "call From not ours", "resource": "Calls", "form": {"To": CUSTOMER, "From": "+15005550009", "Url": "http://127.0.0.1:1/v"}, "status": 400, "code": 21210},
    {"id": "call bad MachineDetection", "resource": "Calls", "form": {"To": CUSTOMER, "From": "FROM", "Url": "http://127.0.0.1:1/v", "MachineDetection": "Yes"}, "status": 400, "code": 21626},
    {"id": "call bad event", "resource": "Calls", "form": {"To": CUSTOMER, "From": "FROM", "Url": "http://127.0.0.1:1/v", "StatusCallbackEvent": "answered hungup"}, "status": 400, "code": 21626},
])
async def test_rest_refuses(h, case):
    async def run(stub, rx):
        auth = None
        if case.get("auth") is False:
            auth = ()
        elif case.get("auth"):
            auth = (stub.account_sid, case["auth"])
        form = case.get("raw") or {k: (stub.from_number if v == "FROM" else v)
                                   for k, v in case.get("form", {"To": CUSTOMER, "From": "FROM", "Body": "x"}).items()}
        st, body = await rest(stub, case.get("resource", "Messages"), form, auth=auth, account=case.get("account"),
                              ctype=case.get("ctype", "application/x-www-form-urlencoded"),
                              method=case.get("method", "POST"))
        assert st == case["status"] and body["code"] == case["code"], (st, body)
        assert body["status"] == st and body["more_info"].endswith(str(case["code"])) and body["message"], body
        assert await stub.messages() == [] and await stub.calls() == []
        reqs = await stub.requests()
        assert reqs[-1]["status"] == st and reqs[-1]["code"] == case["code"], reqs
    await with_stub(run)


# ---------------------------------------------------------------------------- SMS status callbacks


@cases([
    {"id": "delivered", "sms": None, "want": ["queued", "sent", "delivered"], "error": None},
    {"id": "undelivered", "sms": "undelivered", "want": ["queued", "sent", "undelivered"], "error": "30003"},
    {"id": "failed", "sms": "failed", "code": 30007, "want": ["queued", "failed"], "error": "30007"},
])
async def test_sms_status_callbacks(h, case):
    async def run(stub, rx):
        if case["sms"]:
            await stub.set_behaviour(CUSTOMER, sms=case["sms"], error_code=case.get("code"))
        cb = rx.url("/twilio/status?attempt=7")
        st, m = await rest(stub, "Messages", {"To": CUSTOMER, "From": stub.from_number, "Body": "hi",
                                              "StatusCallback": cb})
        assert st == 201, m
        await stub.wait_message(lambda x: x["status"] == case["want"][-1])
        await rx.wait(lambda r: ("MessageStatus", case["want"][-1]) in form_of(r))
        got = [dict(form_of(r)) for r in rx.requests]
        assert [g["MessageStatus"] for g in got] == case["want"], got
        for g in got:
            assert g["MessageSid"] == m["sid"] and g["AccountSid"] == stub.account_sid
            assert g["From"] == stub.from_number and g["To"] == CUSTOMER and g["ApiVersion"] == "2010-04-01"
            want_err = case["error"] if g["MessageStatus"] in ("failed", "undelivered") else None
            assert g.get("ErrorCode") == want_err, g
        assert all(r["url"] == cb and r["method"] == "POST" for r in rx.requests)
        with tempfile.TemporaryDirectory() as tmp:
            exe = c_verifier(tmp)
            assert c_verify(exe, stub.auth_token, rx.requests) == ["1"] * len(rx.requests)
            assert c_verify(exe, stub.auth_token + "x", rx.requests) == ["0"] * len(rx.requests)
    await with_stub(run)


# ---------------------------------------------------------------------------- calls

SAY_GATHER = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Gather numDigits="1" action="gather?page=12" '
              'method="POST"><Say>Page 12: database down. Press 1 to acknowledge, 2 to escalate.</Say></Gather>'
              '<Say>Page 12: database down &amp; more.</Say><Hangup/></Response>')
ACKED = '<Response><Say>Acknowledged.</Say><Hangup/></Response>'


async def test_call_answered_with_digit(h):
    async def run(stub, rx):
        await stub.set_behaviour(CUSTOMER, call="answer", digit="1")
        rx.twiml["/twilio/voice"] = (200, "text/xml", SAY_GATHER)
        rx.twiml["/twilio/gather"] = (200, "application/xml; charset=utf-8", ACKED)
        st, c = await rest(stub, "Calls", {
            "To": CUSTOMER, "From": stub.from_number, "Url": rx.url("/twilio/voice?page=12"),
            "StatusCallback": rx.url("/twilio/call-status"), "MachineDetection": "Enable",
            "StatusCallbackEvent": "initiated ringing answered completed"})
        assert st == 201, c
        call = await stub.wait_call(lambda x: x["status"] == "completed")
        assert call["error"] is None, call
        assert call["statuses"] == ["queued", "initiated", "ringing", "in-progress", "completed"], call
        docs = call["documents"]
        assert [d["url"] for d in docs] == [rx.url("/twilio/voice?page=12"), rx.url("/twilio/gather?page=12")], docs
        first = docs[0]
        assert first["params"]["CallStatus"] == "in-progress" and first["params"]["Direction"] == "outbound-api"
        assert first["params"]["AnsweredBy"] == "human" and first["params"]["CallSid"] == c["sid"]
        assert [v["verb"] for v in first["verbs"]] == ["Gather", "Say", "Hangup"], first
        assert first["verbs"][0]["attrs"]["numDigits"] == "1"
        assert first["verbs"][0]["children"][0]["text"].startswith("Page 12: database down.")
        assert first["verbs"][1]["text"] == "Page 12: database down & more."
        assert docs[1]["params"]["Digits"] == "1" and [v["verb"] for v in docs[1]["verbs"]] == ["Say", "Hangup"]
        assert call["digits_sent"] == ["1"]
        # What klaxon's side saw: 4 status callbacks and 2 TwiML fetches, all signed.
        await rx.wait(lambda r: r["path"] == "/twilio/call-status" and ("CallStatus", "completed") in form_of(r))
        statuses = [dict(form_of(r))["CallStatus"] for r in rx.requests if r["path"] == "/twilio/call-status"]
        assert statuses == ["initiated", "ringing", "in-progress", "completed"], statuses
        gather = [r for r in rx.requests if r["path"] == "/twilio/gather"]
        assert len(gather) == 1 and dict(form_of(gather[0]))["Digits"] == "1"
        with tempfile.TemporaryDirectory() as tmp:
            exe = c_verifier(tmp)
            assert c_verify(exe, stub.auth_token, rx.requests) == ["1"] * len(rx.requests)
    await with_stub(run)


@cases([
    {"id": "no-answer", "call": "no-answer", "final": "no-answer", "fetch": False, "answered_by": None},
    {"id": "busy", "call": "busy", "final": "busy", "fetch": False, "answered_by": None},
    {"id": "failed", "call": "failed", "final": "failed", "fetch": False, "answered_by": None},
    {"id": "voicemail", "call": "voicemail", "final": "completed", "fetch": True, "answered_by": "machine_end_beep"},
    {"id": "answered, no digit", "call": "answer", "final": "completed", "fetch": True, "answered_by": "human"},
])
async def test_call_outcomes(h, case):
    async def run(stub, rx):
        await stub.set_behaviour(CUSTOMER, call=case["call"], digit=None)
        rx.twiml["/twilio/voice"] = (200, "text/xml", SAY_GATHER)
        st, c = await rest(stub, "Calls", {"To": CUSTOMER, "From": stub.from_number,
                                           "Url": rx.url("/twilio/voice"), "MachineDetection": "DetectMessageEnd",
                                           "StatusCallback": rx.url("/twilio/call-status")})
        assert st == 201, c
        call = await stub.wait_call(lambda x: x["status"] == case["final"])
        await rx.wait(lambda r: r["path"] == "/twilio/call-status")
        cbs = [dict(form_of(r)) for r in rx.requests if r["path"] == "/twilio/call-status"]
        # StatusCallbackEvent defaults to completed: one callback, with the final status.
        assert [x["CallStatus"] for x in cbs] == [case["final"]], cbs
        assert cbs[0].get("AnsweredBy") == case["answered_by"], cbs
        fetched = [r for r in rx.requests if r["path"] == "/twilio/voice"]
        assert len(fetched) == (1 if case["fetch"] else 0), rx.requests
        assert call["digits_sent"] == [] and [r for r in rx.requests if r["path"] == "/twilio/gather"] == []
    await with_stub(run)


@cases([
    {"id": "unknown verb", "body": "<Response><Dial>+15005550009</Dial></Response>", "err": "unknown or misplaced verb <Dial>"},
    {"id": "not Response", "body": "<Twiml><Say>x</Say></Twiml>", "err": "not <Response>"},
    {"id": "unclosed", "body": "<Response><Say>x</Response>", "err": "closes <Say>"},
    {"id": "Gather numDigits", "body": '<Response><Gather numDigits="one"><Say>x</Say></Gather></Response>', "err": "numDigits"},
    {"id": "Gather in Gather", "body": "<Response><Gather><Gather/></Gather></Response>", "err": "misplaced verb <Gather>"},
    {"id": "unknown attribute", "body": '<Response><Say voise="alice">x</Say></Response>', "err": "no attribute voise"},
    {"id": "bad entity", "body": "<Response><Say>a & b</Say></Response>", "err": "entity"},
    {"id": "empty Say", "body": "<Response><Say> </Say></Response>", "err": "<Say> is empty"},
    {"id": "text/plain", "body": "<Response/>", "ctype": "text/plain", "err": "not XML"},
    {"id": "HTTP 500", "body": "oops", "status": 500, "err": "HTTP 500"},
])
async def test_twiml_strict(h, case):
    async def run(stub, rx):
        rx.twiml["/twilio/voice"] = (case.get("status", 200), case.get("ctype", "text/xml"), case["body"])
        await stub.set_behaviour(CUSTOMER, call="answer", digit="1")
        st, c = await rest(stub, "Calls", {"To": CUSTOMER, "From": stub.from_number, "Url": rx.url("/twilio/voice")})
        assert st == 201, c
        call = await stub.wait_call(lambda x: x["status"] == "completed")
        assert call["error"] and case["err"] in call["error"], call
        assert len(call["documents"]) == 1 and call["digits_sent"] == []
    await with_stub(run)


async def test_redirect_and_loop_bound(h):
    async def run(stub, rx):
        rx.twiml["/twilio/voice"] = (200, "text/xml", '<Response><Redirect method="POST">/twilio/voice</Redirect></Response>')
        st, c = await rest(stub, "Calls", {"To": CUSTOMER, "From": stub.from_number, "Url": rx.url("/twilio/voice")})
        assert st == 201, c
        call = await stub.wait_call(lambda x: x["status"] == "completed")
        assert len(call["documents"]) == 10, len(call["documents"])  # MAX_DOCUMENTS
    await with_stub(run)


# ---------------------------------------------------------------------------- inbound and forged


async def test_inbound_sms_and_forgeries(h):
    async def run(stub, rx):
        rx.twiml["/twilio/sms"] = (200, "text/xml", "<Response/>")
        url = rx.url("/twilio/sms")
        r = await stub.inbound_sms(url, From=CUSTOMER, To=stub.from_number, Body="ack 12 ✓")
        assert r["status"] == 200 and r["body"] == "<Response/>", r
        got = dict(form_of(rx.requests[-1]))
        assert got["Body"] == "ack 12 ✓" and got["From"] == CUSTOMER and got["To"] == stub.from_number
        assert got["MessageSid"].startswith("SM") and len(got["MessageSid"]) == 34
        assert got["AccountSid"] == stub.account_sid and got["SmsStatus"] == "received"
        params = {"From": CUSTOMER, "To": stub.from_number, "Body": "1", "MessageSid": "SM" + "1" * 32}
        await stub.forged(url, params)                                     # no header
        await stub.forged(url, params, token="not-the-token")              # another account's token
        await stub.forged(url, params, signature=r["signature"])           # a replayed signature
        good = await stub.sign(url, params)
        await stub.forged(url + "?x=1", params, signature=good)            # the URL changed
        assert "X-Twilio-Signature" not in rx.requests[1]["headers"]
        with tempfile.TemporaryDirectory() as tmp:
            exe = c_verifier(tmp)
            assert c_verify(exe, stub.auth_token, rx.requests) == ["1", "0", "0", "0", "0"]
            # The signature the stand-in computes for a request is the one it sends.
            req = dict(rx.requests[0])
            req["headers"] = {"X-Twilio-Signature": await stub.sign(url, dict(form_of(req)))}
            assert c_verify(exe, stub.auth_token, [req]) == ["1"]
        hooks = await stub.webhooks()
        assert [w["kind"] for w in hooks] == ["sms-inbound"] + ["forged"] * 4
    await with_stub(run)


async def test_webhooks_only_to_loopback(h):
    async def run(stub, rx):
        r = await stub.inbound_sms("http://klaxon.example.com/twilio/sms", From=CUSTOMER, To=stub.from_number, Body="1")
        assert r["status"] == 0 and "loopback" in r["error"], r
        assert rx.requests == []
    await with_stub(run)
