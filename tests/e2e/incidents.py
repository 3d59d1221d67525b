"""Helpers for the incident tests (tests/e2e/test_incident*.py): start klaxon with the
simulator's message clock following the bot's, declare an incident and wait for its channel,
find what klaxon said where, and run the CLI.

Time: `start(h, now, scale)` sets KLAXON_NOW/KLAXON_TIME_SCALE and makes Slack's message
timestamps follow the same clock (sim.ts.follow), so a message's own time and klaxon's `now`
agree as they do in production. FROZEN (a scale of one millionth) stops the clock for
deterministic times; `jump(h, now)` restarts klaxon at a later instant on the same database.
"""

import asyncio
import datetime
import json
import os
import re
import sqlite3
import subprocess
import time

import slack_model as M

FROZEN = 0.000001
ANNOUNCE = "C0INCIDENT"
STAKEHOLDERS = "C0STAKEHLD"
USERS = {"alice": "U0ALICE001", "bob": "U0BOB00001", "carol": "U0CAROL001", "dave": "U0DAVE0001",
         "erin": "U0ERIN0001", "frank": "U0FRANK001"}


def epoch(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


async def start(h, now=None, scale=1, wait=True):
    """Start (or restart) klaxon at `now` (RFC 3339) running `scale` times real speed."""
    if now:
        h.now = now
    h.time_scale = scale
    h.sim.ts.follow(epoch(h.now), scale)
    if h.starts == 0:
        return await h.start_bot(wait=wait)
    return await h.restart(wait=wait)


async def jump(h, now, scale=None):
    """Stop klaxon and start it again at a later instant (the same database)."""
    if h.running:
        rc = await h.stop_bot()
        assert rc == 0, "klaxon exited %s on SIGTERM" % rc
    return await start(h, now, h.time_scale if scale is None else scale)


def ok_calls(h, method, pred=None, since=0):
    return [c for c in h.sim.calls_of(method, since=since, done=True)
            if c["ok"] and (pred is None or pred(c))]


def texts(h, channel):
    """Every text of every message Slack holds in a channel (bot and people)."""
    return [h.message_text(m) for m in h.sim.messages(channel)]


def said(h, channel, needle):
    """The messages in `channel` whose text (text + blocks) contains `needle` (str or regex)."""
    rx = needle if hasattr(needle, "search") else None
    return [m for m in h.sim.messages(channel)
            if (rx.search(h.message_text(m)) if rx else needle in h.message_text(m))]


async def wait_said(h, channel, needle, timeout=8.0, count=1):
    await h.sim.wait_until(lambda: len(said(h, channel, needle)) >= count, timeout,
                           "klaxon to say %r in %s" % (getattr(needle, "pattern", needle), channel))
    return said(h, channel, needle)


def channel_by_name(h, name):
    for c in h.sim.channels.values():
        if c["name"] == name and not c["is_im"]:
            return c
    return None


def dm(h, user_id):
    """The DM channel between the bot and a user (None when there is none)."""
    for c in h.sim.channels.values():
        if c["is_im"] and c.get("user") == user_id:
            return c
    return None


def dm_texts(h, user_id):
    c = dm(h, user_id)
    return [h.message_text(m) for m in c["messages"]] if c else []


async def declare(h, text, user="U0ALICE001", channel="C0INCIDENT", wait_channel=True):
    """Run `/incident declare TEXT`; return (ack, channel dict or None). With wait_channel, wait
    until the incident's channel exists and holds the summary message."""
    mark = len(h.sim.calls)
    ack = await h.slash("/incident", "declare " + text, user=user, channel=channel)
    assert ack["latency"] < 3.0, "the declaration was acked after %.2f s" % ack["latency"]
    if not wait_channel:
        return ack, None
    call = await h.sim.wait_call("conversations.create", ok=True, since=mark, timeout=10)
    cid = call["response"]["channel"]["id"]
    await h.sim.wait_until(lambda: any(
        (m.get("blocks") and "Take commander" in h.message_text(m)) for m in h.sim.channels[cid]["messages"]),
        10, "the summary message in the new channel")
    return ack, h.sim.channels[cid]


def summary(h, channel):
    """The summary message (the one with the role buttons, or the resolved one)."""
    for m in h.sim.channels[channel["id"] if isinstance(channel, dict) else channel]["messages"]:
        if m.get("bot_id") and re.search(r"Incident #\d+", h.message_text(m)) and m.get("blocks") and any(
                b.get("type") == "header" for b in m["blocks"]):
            return m
    return None


def button(msg, action):
    """The full action_id of a button ("incident.resolve#2": renderers number them)."""
    for b in msg.get("blocks") or []:
        if b.get("type") == "actions":
            for el in b.get("elements") or []:
                if (el.get("action_id") or "").split("#")[0] == action:
                    return el["action_id"]
    raise LookupError("no %s button in %s" % (action, msg.get("ts")))


async def click(h, channel, msg, action, user="U0ALICE001"):
    cid = channel["id"] if isinstance(channel, dict) else channel
    return await h.click(cid, msg["ts"], button(msg, action), user=user)


def mrkdwn(args):
    """The parts of a message Slack reads as mrkdwn (where <!channel> would ping): the top-level
    text and every mrkdwn text object in the blocks (plain_text headers and labels are not
    parsed for mentions)."""
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            blocks = []
    out = [args.get("text") or ""]

    def walk(x):
        if isinstance(x, dict):
            if x.get("type") == "mrkdwn" and isinstance(x.get("text"), str):
                out.append(x["text"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks or [])
    return "\n".join(out)


def db_rows(h, sql, args=()):
    """Rows from klaxon's database, read-only (WAL lets us read while it writes; either engine)."""
    return h.db_rows(sql, args)


async def wait_db(h, sql, pred, timeout=8.0, args=()):
    deadline = time.monotonic() + timeout
    rows = err = None
    while time.monotonic() < deadline:
        try:
            rows = db_rows(h, sql, args)
            if pred(rows):
                return rows
        except sqlite3.OperationalError as e:
            err = e
        await asyncio.sleep(0.05)
    raise AssertionError("the database never got there: %s -> %r%s" % (
        sql, rows, (" (last error: %s)" % err) if rows is None and err else ""))


def timeline(h, incident_id=1):
    """Visible timeline entries: (kind, who, text, at_ms, key)."""
    return [(k, w, t, a, bool(key)) for k, w, t, a, key in db_rows(
        h, "SELECT kind, who, text, at, (key_system <> 0 OR pinned <> 0 OR reactions > 0) FROM incident_timeline"
           " WHERE incident_id = ? AND deleted_at = 0 ORDER BY at, id", (incident_id,))]


async def wait_timeline(h, pred, incident_id=1, timeout=8.0, what="the timeline"):
    deadline = time.monotonic() + timeout
    tl = []
    while time.monotonic() < deadline:
        try:
            tl = timeline(h, incident_id)
            if pred(tl):
                return tl
        except sqlite3.OperationalError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("%s never got there: %s" % (what, tl))


def cli(h, *args, env=None):
    """Run `klaxon ARGS --config FILE`; returns (exit code, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("KLAXON_CONFIG", None)
    # the bot's clock now (the simulator's message clock follows it)
    now = datetime.datetime.fromtimestamp(h.sim.ts.now(), datetime.timezone.utc)
    e.update({"KLAXON_NOW": now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)})
    e.update(h.db_env())
    e.update(env or {})
    p = subprocess.run([h.bin, *args, "--config", h.config_path], capture_output=True, text=True,
                       env=e, timeout=20, cwd=h.tmp)
    return p.returncode, p.stdout, p.stderr


def incidents_json(h, *flags):
    rc, out, err = cli(h, "incidents", "--json", *flags)
    assert rc == 0, (rc, err)
    return json.loads(out)


def no_control_mentions(text):
    """True when a rendered text cannot ping anyone it should not: no <!channel>, <!here>,
    <!everyone> or <!subteam…> control sequences."""
    return not re.search(r"<!(channel|here|everyone|subteam)", text)


__all__ = [n for n in dir() if not n.startswith("_")]
_ = M
