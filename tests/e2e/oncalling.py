"""Helpers for the rota, /oncall and handoff end-to-end tests (tests/e2e/test_oncall*.py,
test_handoff*.py): finding the handoff post and DMs in the simulator, reading klaxon's
database read-only, running the CLI, and times in the harness rota's zone."""

import asyncio
import datetime
import json
import os
import time
import zoneinfo

from alerting import db_rows, db_value, wait_db  # noqa: F401  (re-exported for the tests)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
HANDOFF = "C0ONCALL01"
ALICE, BOB, CAROL, DAVE, ERIN, FRANK = ("U0ALICE001", "U0BOB00001", "U0CAROL001", "U0DAVE0001",
                                        "U0ERIN0001", "U0FRANK001")


def ms(text):
    """RFC 3339 text -> epoch ms (what klaxon stores)."""
    return int(datetime.datetime.fromisoformat(text).timestamp() * 1000)


def posts(h, channel, since=0, pred=None):
    """Delivered chat.postMessage calls to a channel (or user id: a DM)."""
    return [c for c in h.sim.calls_of("chat.postMessage", ok=True, since=since, done=True)
            if c["args"].get("channel") == channel and (pred is None or pred(c))]


def text_of(h, call):
    return h.message_text(call["args"])


def handoff_posts(h, since=0, channel=HANDOFF):
    """Handoff posts (not thread replies) in the handoff channel."""
    return posts(h, channel, since, lambda c: "On-call handoff" in text_of(h, c)
                 and not c["args"].get("thread_ts"))


async def wait_handoff(h, timeout=10.0, since=0, channel=HANDOFF):
    return await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == channel
                             and not c["args"].get("thread_ts") and "On-call handoff" in text_of(h, c),
                             timeout=timeout, since=since, ok=True)


async def wait_dm(h, uid, words, timeout=10.0, since=0):
    """The first DM to `uid` whose text contains every one of `words`."""
    return await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == uid and all(
        w in text_of(h, c) for w in words), timeout=timeout, since=since, ok=True)


def dms(h, uid, words=(), since=0):
    return posts(h, uid, since, lambda c: all(w in text_of(h, c) for w in words))


def message_now(h, call):
    """What Slack holds now for the message a call posted (after chat.update)."""
    ch, ts = call["response"]["channel"], call["response"]["ts"]
    return h.sim.find_message(h.sim.channels[ch], ts)


def fields_text(msg):
    out = []
    for b in msg.get("blocks") or []:
        for f in b.get("fields") or []:
            out.append(f.get("text", ""))
    return "\n".join(out)


def buttons(msg):
    return [el for b in msg.get("blocks") or [] if b.get("type") == "actions" for el in b.get("elements") or []]


async def press(h, call, action_id, user):
    ch, ts = call["response"]["channel"], call["response"]["ts"]
    for el in buttons(message_now(h, call)):
        if str(el.get("action_id", "")).split("#")[0] == action_id:
            return await h.click(ch, ts, el["action_id"], user=user)
    raise AssertionError("no %s button on %s" % (action_id, h.message_text(message_now(h, call))))


async def cli(h, *args, now=None, env=None):
    """Run `klaxon ARGS --config FILE` with the harness's config (asynchronously: the simulator
    shares this event loop); returns (code, stdout, stderr) as text, CRLF kept."""
    if not os.path.exists(h.config_path):
        h.write_config()
    e = dict(os.environ)
    e.pop("KLAXON_CONFIG", None)
    e["KLAXON_NOW"] = now or h.now
    e.update(h.db_env())
    e.update(env or {})
    p = await asyncio.create_subprocess_exec(h.bin, *args, "--config", h.config_path, env=e,
                                             stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(p.communicate(), 20)
    return p.returncode, out.decode("utf-8"), err.decode("utf-8")


async def cli_json(h, *args, now=None):
    code, out, err = await cli(h, *args, "--json", now=now)
    assert code == 0, (code, out, err)
    return json.loads(out)


async def settle(seconds):
    await asyncio.sleep(seconds)


def handoff_rows(h):
    return db_rows(h, "SELECT rota, shift_index, state, late, due_at, in_primary, out_primary, "
                      "in_secondary, out_secondary, acked_by, manager_told_at FROM handoffs ORDER BY id")


def wait_until(pred, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
