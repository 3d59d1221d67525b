#!/usr/bin/python3
"""klaxon's demonstration: the whole life of an incident, through the real interfaces.

`make demo` (or `build/klaxon demo`) runs this. It starts the local Slack simulator and
build/klaxon on loopback with deploy/demo.yaml and a clock running 300 times faster, then:
a critical Alertmanager alert pages the primary; nobody acknowledges, so it escalates to the
secondary, who acknowledges with the button and declares an incident; #incident-YYYYMMDD is
created, a commander and a scribe are taken, people talk in the channel, an update is asked
for and given, the incident is resolved, the postmortem draft appears; then Monday 09:00 comes
and the handoff is posted. The conversation is printed as a transcript (channel, who, what,
which buttons); it ends with the postmortem and the numbers, stops everything it started and
exits 0 — or exits 1 naming the step that did not happen.
"""
import argparse
import asyncio
import datetime
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

import yaml  # noqa: E402

import alerting as A  # noqa: E402
import harness as H  # noqa: E402

NOW = "2026-11-30T07:30:00+01:00"  # a Monday morning in Berlin; the handoff is at 09:00
SCALE = 300                         # five virtual minutes per real second
ZONE = datetime.timezone(datetime.timedelta(hours=1))  # Berlin in winter, for the transcript
STEP_TIMEOUT = 15.0


class DemoFailed(Exception):
    pass


class Transcript:
    """Prints what happens, in the bot's (virtual) time: the bot's Web API calls as they reach
    the simulator, and the people's actions as the driver performs them."""

    def __init__(self, h, out):
        self.h = h
        self.out = out
        self.seen = 0
        self.t0_real = None
        self.t0_virtual = datetime.datetime.fromisoformat(NOW)
        self.names = {u["id"]: u["name"] for u in h.sim.users.values()}
        self.task = None
        self.steps = []
        self.dm_user = {}   # D… channel → the user it is a DM with
        self.shown = {}     # (channel, ts) → the lines last printed for that message

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self):
        if self.task:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self._drain()

    def now(self):
        real = time.time() - (self.t0_real or time.time())
        return self.t0_virtual + datetime.timedelta(seconds=real * SCALE)

    def stamp(self):
        return self.now().astimezone(ZONE).strftime("%a %H:%M")

    def say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    async def settle(self):
        """Let calls in flight be answered and printed, so the transcript keeps its order."""
        for _ in range(10):
            await asyncio.sleep(0.03)
            if not self._drain():
                break

    async def step(self, title):
        await self.settle()
        self.steps.append(title)
        self.say("")
        self.say("── %s" % title)

    async def act(self, who, where, what):
        await self.settle()
        self.say("[%s] %s%s: %s" % (self.stamp(), who, (" in " + where) if where else "", what))

    # ---- rendering Slack's mrkdwn and blocks as plain text

    def channel_name(self, cid):
        c = self.h.sim.channels.get(cid)
        if c is None:
            return cid
        if c.get("is_im") or cid in self.dm_user:
            return "DM to @" + self.names.get(self.dm_user.get(cid), "someone")
        return "#" + c["name"]

    def plain(self, text):
        text = re.sub(r"<@([UW][A-Z0-9]+)(\|[^>]*)?>", lambda m: "@" + self.names.get(m.group(1), m.group(1)), text or "")
        text = re.sub(r"<#([CG][A-Z0-9]+)(\|([^>]*))?>", lambda m: "#" + (m.group(3) or self.channel_name(m.group(1)).lstrip("#")), text)
        text = re.sub(r"<!subteam\^[A-Z0-9]+\|?([^>]*)>", lambda m: m.group(1) or "@group", text)
        text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
        text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def lines(self, args):
        lines, buttons = [], []
        for b in args.get("blocks") or []:
            t = b.get("type")
            if t == "header":
                lines.append(b["text"]["text"])
            elif t == "section":
                if b.get("text"):
                    lines.append(self.plain(b["text"]["text"]))
                for f in b.get("fields") or []:
                    lines.append(self.plain(f["text"]).replace("\n", ": ", 1))
            elif t == "context":
                lines.append(" ".join(self.plain(e.get("text", "")) for e in b.get("elements", [])))
            elif t == "actions":
                buttons += ["[%s]" % e["text"]["text"] for e in b.get("elements", []) if e.get("type") == "button"]
        if not lines:
            lines = [self.plain(args.get("text", ""))]
        out = [l for part in lines for l in part.split("\n") if l.strip()]
        if buttons:
            out.append(" ".join(buttons))
        return out

    def render(self, args, key=None):
        """The message as text; for an update of a message already shown, only what changed."""
        new = self.lines(args)
        old = self.shown.get(key) if key else None
        if key:
            self.shown[key] = new
        if old is not None:
            changed = [l for l in new if l not in old]
            new = changed or ["(no visible change)"]
        return "\n      ".join(new)

    def _describe(self, c):
        a, m = c["args"], c["method"]
        r = c.get("response") or {}
        if not r.get("ok", True) and m != "response_url":
            return None
        if m == "chat.postMessage":
            ch = a.get("channel", "")
            if ch.startswith("U") and r.get("channel"):
                self.dm_user[r["channel"]] = ch
            where = self.channel_name(r.get("channel") or ch)
            thread = " (in the thread)" if a.get("thread_ts") else ""
            return "%s%s ← klaxon: %s" % (where, thread, self.render(a, (r.get("channel"), r.get("ts"))))
        if m == "chat.update":
            return "%s ← klaxon updates its message: %s" % (
                self.channel_name(a.get("channel")), self.render(a, (a.get("channel"), a.get("ts"))))
        if m == "chat.postEphemeral":
            return "%s, only @%s sees ← klaxon: %s" % (self.channel_name(a.get("channel")),
                                                        self.names.get(a.get("user"), a.get("user")), self.render(a))
        if m == "conversations.create":
            return "klaxon creates #%s" % a.get("name")
        if m == "conversations.invite":
            users = ", ".join("@" + self.names.get(u, u) for u in str(a.get("users", "")).split(","))
            return "klaxon invites %s to %s" % (users, self.channel_name(a.get("channel")))
        if m == "conversations.setTopic":
            return "%s topic: %s" % (self.channel_name(a.get("channel")), a.get("topic"))
        if m == "usergroups.users.update":
            users = ", ".join("@" + self.names.get(u, u) for u in str(a.get("users", "")).split(","))
            return "@platform-oncall is now %s" % users
        if m == "pins.add":
            return "klaxon pins its summary in %s" % self.channel_name(a.get("channel"))
        return None

    def _drain(self):
        """Print the calls answered so far; True when something is still in flight."""
        calls = self.h.sim.calls
        while self.seen < len(calls):
            c = calls[self.seen]
            if c.get("status") is None and c.get("response") is None:
                return True  # still in flight: print it when answered
            self.seen += 1
            line = self._describe(c)
            if line:
                self.say("[%s] %s" % (self.stamp(), line))
        return False

    async def _follow(self):
        while True:
            self._drain()
            await asyncio.sleep(0.05)


async def wait_for(what, fn, timeout=STEP_TIMEOUT):
    try:
        return await asyncio.wait_for(fn(), timeout)
    except (asyncio.TimeoutError, AssertionError) as e:
        raise DemoFailed("%s did not happen (%s)" % (what, e or "timed out"))


async def run(args, out):
    with open(os.path.join(ROOT, "deploy", "demo.yaml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    h = H.Harness(name="demo", sim_opts={"echo_bot_messages": True})
    h.config.update(config)
    h.config["storage"] = {"path": h.db_path}
    h.config["http"] = {"listen": "127.0.0.1:%d" % h.http_port}
    h.now = NOW
    h.time_scale = SCALE
    if args.klaxon:
        h.bin = args.klaxon
    await h.setup()
    t = Transcript(h, out)
    failed = None
    postmortem = stats = None
    try:
        t.say("klaxon demo — Monday 30 November 2026, 07:30 in Berlin. The clock runs %d× faster." % SCALE)
        t.say("Slack is the local simulator (tests/sim); every step goes through klaxon's real interfaces.")
        h.sim.ts.follow(datetime.datetime.fromisoformat(NOW).timestamp(), SCALE)
        t.t0_real = time.time()  # the bot's clock starts with its process, a moment from now
        await h.start_bot()
        t.start()

        await t.step("1. A critical alert fires and pages the primary (alice)")
        await t.act("Alertmanager", None, "POST /alerts/alertmanager — APIErrorRateHigh, severity=critical, firing")
        alert = A.am_alert("APIErrorRateHigh", summary="5xx rate on api-gateway is 12% (SLO: 1%)",
                           starts="2026-11-30T06:28:00Z", extra={"service": "api-gateway"})
        status, body = await A.post(h, "/alerts/alertmanager", A.am_payload("APIErrorRateHigh", [alert]))
        if status != 200:
            raise DemoFailed("the webhook was refused: %s %s" % (status, body))
        page_alice = await wait_for("the page to alice", lambda: A.wait_dm(h, "U0ALICE001", timeout=STEP_TIMEOUT))

        await t.step("2. Nobody acknowledges: after 15 minutes it escalates to the secondary (bob)")
        page_bob = await wait_for("the escalation to bob", lambda: A.wait_dm(h, "U0BOB00001", timeout=STEP_TIMEOUT))

        await t.step("3. bob acknowledges with the button and declares an incident")
        await t.act("@bob", "DM", "clicks [Acknowledge]")
        await A.click(h, page_bob, "page.ack", "U0BOB00001")
        await wait_for("the page updated as acknowledged",
                       lambda: h.wait_call("chat.update", lambda c: "cknowledged" in json.dumps(c["args"]), timeout=STEP_TIMEOUT))
        since = len(h.sim.calls)
        await t.act("@bob", "DM", "clicks [Declare incident]")
        await A.click(h, page_bob, "page.declare", "U0BOB00001")
        created = await wait_for("the incident channel", lambda: h.wait_call(
            "conversations.create", since=since, ok=True, timeout=STEP_TIMEOUT))
        channel = created["response"]["channel"]["id"]
        name = created["response"]["channel"]["name"]
        summary = await wait_for("the incident summary in #" + name, lambda: h.wait_call(
            "chat.postMessage", lambda c: c["args"].get("channel") == channel and "incident.take_scribe" in json.dumps(c["args"]),
            since=since, ok=True, timeout=STEP_TIMEOUT))

        await t.step("4. A commander and a scribe are taken")
        await t.act("@bob", "#" + name, "/incident lead")
        ack = await h.slash("/incident", "lead", user="U0BOB00001", channel=channel)
        await t.act("klaxon → @bob (only he sees)", None, t.plain(H.Harness.ack_text(ack)))
        await t.act("@bob", "#" + name, "/incident ack")
        ack = await h.slash("/incident", "ack", user="U0BOB00001", channel=channel)
        await t.act("@alice", "#" + name, "clicks [Take scribe]")
        await h.click(channel, summary["response"]["ts"], _button(h, channel, summary["response"]["ts"], "incident.take_scribe"),
                      user="U0ALICE001")
        await wait_for("the scribe announced", lambda: h.wait_call(
            "chat.postMessage", lambda c: c["args"].get("channel") == channel and "scribe" in json.dumps(c["args"]).lower(),
            since=since, ok=True, timeout=STEP_TIMEOUT))

        await t.step("5. People talk in the channel: that is the timeline")
        for user, who, text in (
                ("U0ALICE001", "@alice", "5xx at 12% on api-gateway since 07:28, all regions"),
                ("U0BOB00001", "@bob", "deploy 1234 of api-gateway went out at 07:25 — rolling it back"),
                ("U0ALICE001", "@alice", "rollback done, error rate dropping")):
            await t.act(who, "#" + name, text)
            m, recs = h.sim.user_message(user, channel, text)
            for rec in recs:
                await h.sim.wait_ack(rec["envelope_id"], 5)
            if "rolling it back" in text:
                await t.act("@alice", "#" + name, "reacts :pushpin: to bob's message (a key event)")
                rec = h.sim.user_reaction("U0ALICE001", channel, m["ts"], "pushpin")
                if isinstance(rec, dict) and rec.get("envelope_id"):
                    await h.sim.wait_ack(rec["envelope_id"], 5)

        await t.step("6. An update is asked for, and given")
        since_talk = len(h.sim.calls)
        await wait_for("the status-update reminder", lambda: h.wait_call(
            "chat.postMessage", lambda c: c["args"].get("channel") == channel and "update" in json.dumps(c["args"]).lower(),
            since=since_talk, ok=True, timeout=STEP_TIMEOUT))
        await t.act("@bob", "#" + name, "/incident update Rolled back deploy 1234; 5xx back under 0.5%, watching")
        await h.slash("/incident", "update Rolled back deploy 1234; 5xx back under 0.5%, watching",
                      user="U0BOB00001", channel=channel)

        await t.act("@bob", "#" + name, "/incident action add @alice Add a canary stage to api-gateway deploys")
        await h.slash("/incident", "action add <@U0ALICE001|alice> Add a canary stage to api-gateway deploys",
                      user="U0BOB00001", channel=channel)

        await t.step("7. The incident is resolved and the postmortem draft appears")
        since = len(h.sim.calls)
        await t.act("@bob", "#" + name, "/incident resolve Bad deploy 1234 of api-gateway, rolled back")
        await h.slash("/incident", "resolve Bad deploy 1234 of api-gateway, rolled back", user="U0BOB00001", channel=channel)
        await wait_for("the postmortem announcement", lambda: h.wait_call(
            "chat.postMessage", lambda c: c["args"].get("channel") == channel and "postmortem" in json.dumps(c["args"]).lower(),
            since=since, ok=True, timeout=STEP_TIMEOUT))
        await t.act("Alertmanager", None, "POST /alerts/alertmanager — APIErrorRateHigh resolved")
        since = len(h.sim.calls)
        resolved = dict(alert, status="resolved", endsAt="2026-11-30T07:02:00Z")
        status, body = await A.post(h, "/alerts/alertmanager", A.am_payload("APIErrorRateHigh", [resolved]))
        if status != 200:
            raise DemoFailed("the resolved webhook was refused: %s %s" % (status, body))
        await wait_for("the page resolved", lambda: h.wait_call(
            "chat.update", lambda c: "esolved" in json.dumps(c["args"]), since=since, ok=True, timeout=STEP_TIMEOUT))
        status, _, postmortem = await h.http_get("/incidents/1/postmortem.md")
        if status != 200:
            raise DemoFailed("GET /incidents/1/postmortem.md answered %s" % status)

        await t.step("8. Monday 09:00: the handoff")
        await wait_for("the handoff post", lambda: h.wait_call(
            "chat.postMessage", lambda c: c["args"].get("channel") == "C0ONCALL01" and "handoff" in json.dumps(c["args"]).lower(),
            ok=True, timeout=40))
        await asyncio.sleep(0.5)

        await t.step("9. The numbers")
        ack = await h.slash("/incident", "stats 7d", user="U0ERIN0001", channel="C0INCIDENT")
        stats = H.Harness.ack_text(ack)
    except DemoFailed as e:
        failed = str(e)
    finally:
        await t.stop()
        try:
            await h.close(failed=bool(failed))
        except AssertionError as e:
            failed = failed or str(e)
    if stats:
        t.say(t.plain(stats))
    if postmortem:
        t.say("")
        t.say("── The postmortem draft (GET /incidents/1/postmortem.md)")
        t.say(postmortem.rstrip())
    t.say("")
    if failed:
        t.say("demo FAILED: %s (klaxon's log: %s)" % (failed, h.log_path))
        return 1
    t.say("demo OK: %d steps, everything started was stopped." % len(t.steps))
    return 0


def _button(h, channel, ts, action_id):
    msg = h.sim.find_message(h.sim.channels[channel], ts)
    for b in msg.get("blocks") or []:
        for el in b.get("elements") or []:
            if isinstance(el, dict) and str(el.get("action_id", "")).split("#")[0] == action_id:
                return el["action_id"]
    raise DemoFailed("no %s button on the summary" % action_id)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--klaxon", help="the klaxon binary (default build/klaxon)")
    args = ap.parse_args()
    started = time.time()
    rc = asyncio.run(run(args, sys.stdout))
    print("(%.1f s)" % (time.time() - started))
    return rc


if __name__ == "__main__":
    sys.exit(main())
