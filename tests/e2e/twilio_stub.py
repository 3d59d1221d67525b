"""The Twilio stand-in (tests/sim/twilio_sim.js) for the end-to-end tests: starts and stops the
node process (loopback only, bounded: it exits when we close its stdin, after `max_seconds`, or
on SIGTERM) and wraps its /_sim/ control API.

    stub = TwilioStub(from_numbers=["+15005550006"])
    await stub.start()                     # stub.port, stub.api_url, stub.account_sid, stub.auth_token
    h.config["twilio"] = stub.config_block()          # {account_sid_env, auth_token_env, from}
    h.env.update(stub.bot_env())                       # the two secrets and KLAXON_TWILIO_API_URL
    await stub.set_behaviour("+15005550001", sms="undelivered", error_code=30003)
    await stub.set_behaviour("+15005550002", call="answer", digit="1")
    msg = await stub.wait_message(lambda m: m["to"] == "+15005550001" and m["status"] == "undelivered")
    call = await stub.wait_call(lambda c: c["status"] == "completed")
    r = await stub.inbound_sms(url, From="+15005550001", To="+15005550006", Body="1")
    r = await stub.forged(url, {"From": ..., "Body": "1"})            # no signature at all
    await stub.stop()

Harness.start_twilio() does the first three lines for a test. Every record is a plain dict, as
tests/sim/README.md ("The Twilio stand-in") describes.
"""

import asyncio
import json
import os
import time

import aiohttp

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SIM_JS = os.path.join(ROOT, "tests", "sim", "twilio_sim.js")
NODE = os.environ.get("KLAXON_NODE") or "node"

ACCOUNT_SID_ENV = "KLAXON_TEST_TWILIO_ACCOUNT_SID"
AUTH_TOKEN_ENV = "KLAXON_TEST_TWILIO_AUTH_TOKEN"


class TwilioStub:
    def __init__(self, from_numbers=("+15005550006",), step_ms=20, max_seconds=600,
                 account_sid=None, auth_token=None):
        self.from_numbers = list(from_numbers)
        self.step_ms = step_ms
        self.max_seconds = max_seconds
        self._want_sid = account_sid
        self._want_token = auth_token
        self.proc = None
        self.port = None
        self.account_sid = None
        self.auth_token = None
        self._http = None
        self._stderr = b""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, timeout=15.0):
        if not os.path.exists(os.path.join(ROOT, "tests", "node", "node_modules", "twilio")):
            raise RuntimeError("tests/node/node_modules/twilio is missing: run tests/node.sh (make deps-test)")
        args = [NODE, SIM_JS, "--port", "0", "--step-ms", str(self.step_ms),
                "--max-seconds", str(self.max_seconds)]
        for n in self.from_numbers:
            args += ["--from", n]
        if self._want_sid:
            args += ["--account-sid", self._want_sid]
        if self._want_token:
            args += ["--auth-token", self._want_token]
        self.proc = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            await self.stop()
            raise RuntimeError("the Twilio stand-in did not print its ready line in %ss" % timeout)
        if not line:
            err = await self.proc.stderr.read()
            await self.stop()
            raise RuntimeError("the Twilio stand-in exited: " + err.decode(errors="replace")[-2000:])
        ready = json.loads(line)
        assert ready.get("ready") is True, ready
        self.port = ready["port"]
        self.account_sid = ready["account_sid"]
        self.auth_token = ready["auth_token"]
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def stop(self):
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 3)
            except asyncio.TimeoutError:
                self.proc.terminate()
                try:
                    await asyncio.wait_for(self.proc.wait(), 3)
                except asyncio.TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
        self.proc = None

    # ------------------------------------------------------------------ what klaxon needs

    @property
    def api_url(self):
        """The value for KLAXON_TWILIO_API_URL."""
        return "http://127.0.0.1:%d" % self.port

    @property
    def from_number(self):
        return self.from_numbers[0]

    def config_block(self):
        return {"account_sid_env": ACCOUNT_SID_ENV, "auth_token_env": AUTH_TOKEN_ENV,
                "from": self.from_number}

    def bot_env(self):
        return {ACCOUNT_SID_ENV: self.account_sid, AUTH_TOKEN_ENV: self.auth_token,
                "KLAXON_TWILIO_API_URL": self.api_url}

    # ------------------------------------------------------------------ the control API

    async def _get(self, path):
        async with self._http.get("%s/_sim/%s" % (self.api_url, path)) as r:
            body = await r.json(content_type=None)
            if r.status != 200:
                raise AssertionError("GET /_sim/%s: HTTP %s %s" % (path, r.status, body))
            return body

    async def _post(self, path, obj):
        async with self._http.post("%s/_sim/%s" % (self.api_url, path), json=obj) as r:
            body = await r.json(content_type=None)
            if r.status != 200:
                raise AssertionError("POST /_sim/%s: HTTP %s %s" % (path, r.status, body))
            return body

    async def health(self):
        return await self._get("health")

    async def messages(self):
        """Outbound messages: sid, to, from, body, status, statuses (in order), status_callback,
        error_code, params (the form klaxon sent)."""
        return await self._get("messages")

    async def calls(self):
        """Outbound calls: sid, to, from, url, status, statuses, events, machine_detection,
        answered_by, params, digits_sent, error, and documents: each TwiML fetch {url, method,
        params, status, body, verbs: [{verb, attrs, text, children}], error}."""
        return await self._get("calls")

    async def webhooks(self):
        """Every request the stand-in sent to klaxon: kind (sms-status, call-status, call-twiml,
        sms-inbound, forged), sid, url, method, params, signature, status, body, error."""
        return await self._get("webhooks")

    async def requests(self):
        """Every REST request klaxon made: method, path, status, code (Twilio's error code)."""
        return await self._get("requests")

    async def reset(self):
        return await self._post("reset", {})

    async def set_behaviour(self, number, sms=None, call=None, digit=None, error_code=None,
                            answered_by=None, refuse=None):
        """What happens to messages and calls to `number`. sms: delivered (default) | sent |
        undelivered | failed | queued; call: answer (default) | no-answer | busy | failed |
        voicemail; digit: pressed at the first <Gather> of an answered call; error_code: the
        ErrorCode of a failed or undelivered SMS (default 30008 / 30003); refuse: a Twilio code
        (21610 unsubscribed, 21614 not a mobile number) the REST API answers an SMS with (400)."""
        obj = {"number": number}
        for k, v in (("sms", sms), ("call", call), ("digit", digit), ("error_code", error_code),
                     ("answered_by", answered_by), ("refuse", refuse)):
            if v is not None:
                obj[k] = v
        return await self._post("behaviour", obj)

    async def inbound_sms(self, url, From, To, Body, MessageSid=None):
        """POST an inbound SMS, signed as Twilio signs it, to klaxon's `url`; returns the record:
        {status, body, contentType, params, signature, error}."""
        obj = {"url": url, "From": From, "To": To, "Body": Body}
        if MessageSid:
            obj["MessageSid"] = MessageSid
        return await self._post("inbound_sms", obj)

    async def forged(self, url, params, signature="absent", token=None, method="POST"):
        """POST `params` to klaxon's `url` without a valid signature: signature "absent" (no
        header; with token=…, signed with that other token instead) or the given string."""
        obj = {"url": url, "params": params, "signature": signature, "method": method}
        if token:
            obj["token"] = token
        return await self._post("forged", obj)

    async def fail_next(self, status, count=1, retry_after=None):
        """The next `count` authorised REST calls answer `status` (429, 500, 502 or 503) with
        Twilio's error JSON (20429 / 20500); a 429 carries Retry-After when given."""
        obj = {"status": status, "count": count}
        if retry_after is not None:
            obj["retry_after"] = retry_after
        return await self._post("fail_next", obj)

    async def sign(self, url, params, token=None):
        """The X-Twilio-Signature Twilio's library computes for (url, params)."""
        obj = {"url": url, "params": params}
        if token:
            obj["token"] = token
        return (await self._post("sign", obj))["signature"]

    # ------------------------------------------------------------------ waiting

    async def _wait(self, fetch, pred, timeout, what):
        deadline = time.monotonic() + timeout
        last = []
        while True:
            last = await fetch()
            for item in last:
                if pred is None or pred(item):
                    return item
            if time.monotonic() > deadline:
                raise AssertionError("no %s matched in %ss; seen: %s" % (
                    what, timeout, json.dumps(last[-5:], default=str)[:3000]))
            await asyncio.sleep(0.05)

    async def wait_message(self, pred=None, timeout=10.0):
        return await self._wait(self.messages, pred, timeout, "message")

    async def wait_call(self, pred=None, timeout=10.0):
        return await self._wait(self.calls, pred, timeout, "call")

    async def wait_webhook(self, pred=None, timeout=10.0):
        """A webhook that has been answered (status set) and matches pred."""
        return await self._wait(self.webhooks, lambda w: w["status"] is not None and (pred is None or pred(w)),
                                timeout, "webhook")
