"""Issue 12: two klaxon processes on one database (here one SQLite file in WAL mode), one outbox
sender elected by the lease (storage/leases.c, bot/sender_lease.c; docs/ha.md "The outbox lease").

- Only the holder sends: the other's pump is idle (its /metrics count no chat.postMessage).
- kill -9 of the sender: the other takes over (at once when it sees the holder's process is gone,
  otherwise when the lease expires) and the pending message is delivered once.
- SIGSTOP of the sender while Slack holds the answer to its chat.postMessage: the lease expires,
  the other takes over, finds the message by its metadata (conversations.history with
  include_all_metadata) and records it; after SIGCONT the old sender's completion is refused by
  the fence, and nothing is posted twice.

The harness runs one bot (h.proc); the second is started here on a copy of the config that
differs only in its HTTP port, with the same database, simulator and environment.
"""

import asyncio
import os
import re
import signal
import time
import uuid

import aiohttp

from harness import alone, free_port, timeout, to_yaml

HANDOFF = "C0ONCALL01"
LEASE_S = 4  # LEASE_TTL_MS in bot/sender_internal.h


def token():
    return "e2e-" + uuid.uuid4().hex[:10]


def note_messages(h, tok):
    return [m for m in h.sim.messages(HANDOFF) if tok in h.message_text(m)]


def note_calls(h, tok, since=0):
    return [c for c in h.sim.calls_of("chat.postMessage", since=since)
            if c["args"].get("channel") == HANDOFF and tok in h.message_text(c["args"])]


def metric(text, name, labels=None):
    """The sum of a metric's samples (those whose labels contain `labels`), 0 when absent."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if m and (labels is None or labels in (m.group(1) or "")):
            total += float(m.group(2))
    return total


class Second:
    """A second klaxon process beside h's, on the same database."""

    def __init__(self, h):
        self.h = h
        self.port = free_port()
        cfg = dict(h.config)
        cfg["http"] = dict(h.config["http"], listen="127.0.0.1:%d" % self.port)
        self.config_path = os.path.join(h.tmp, "klaxon2.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(to_yaml(cfg) + "\n")
        self.log_path = os.path.join(h.tmp, "klaxon2.log")
        self.proc = None

    async def start(self):
        log = open(self.log_path, "ab")
        self.proc = await asyncio.create_subprocess_exec(
            self.h.bin, "run", "--config", self.config_path, stdin=asyncio.subprocess.DEVNULL,
            stdout=log, stderr=log, env=self.h.bot_env(), cwd=self.h.tmp)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.returncode is None, "the second klaxon exited:\n" + self.log()
            try:
                status, body = await self.get("/healthz")
                if status == 200 and '"connected"' in body:
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.05)
        raise AssertionError("the second klaxon did not get connected\n" + self.log())

    async def get(self, path):
        if path == "/metrics":
            path = self.h.feed_url(path)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
            async with s.get("http://127.0.0.1:%d%s" % (self.port, path)) as r:
                return r.status, await r.text()

    async def metrics(self):
        status, text = await self.get("/metrics")
        assert status == 200, status
        return text

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    async def stop(self):
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 8)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError("the second klaxon did not exit on SIGTERM")


async def metrics_of(h):
    status, text = await h.metrics()
    assert status == 200, status
    return text


async def wait_metric(get, name, value, seconds, what):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = metric(await get(), name)
        if last == value:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("%s: %s stayed %s (want %s) for %.0f s" % (what, name, last, value, seconds))


async def note(h, tok):
    # The envelope goes to either connection; whichever handles it commits the outbox row.
    await h.slash("/oncall", "note " + tok, user="U0ALICE001", channel=HANDOFF)


async def two_instances(h):
    h.env["KLAXON_TEST_SHARED_DB"] = "1"  # past the one-bot-per-file lock (bot/cli/cli_basic.c)
    await h.start()
    b = Second(h)
    await b.start()
    # The first holds the lease (it took it at start); the second stands by.
    await wait_metric(lambda: metrics_of(h), "klaxon_outbox_lease_held", 1, 5, "first instance")
    assert metric(await b.metrics(), "klaxon_outbox_lease_held") == 0
    assert metric(await b.metrics(), "klaxon_outbox_lease_epoch") == 0
    return b


@timeout(60)
@alone  # the takeover must come within the lease's time
async def test_outbox_lease_one_sender_kill9_takeover_delivers_once(h):
    b = await two_instances(h)
    try:
        toks = [token() for _ in range(4)]
        for t in toks:
            await note(h, t)
        await h.sim.wait_until(lambda: all(note_messages(h, t) for t in toks), 15, "the notes posted")
        await asyncio.sleep(1)
        # Only the holder sent them: the standby's pump stayed idle.
        a_posts = metric(await metrics_of(h), "klaxon_slack_api_calls_total", 'method="chat.postMessage"')
        b_posts = metric(await b.metrics(), "klaxon_slack_api_calls_total", 'method="chat.postMessage"')
        assert b_posts == 0 and a_posts >= len(toks), (a_posts, b_posts)
        assert all(len(note_messages(h, t)) == 1 for t in toks)
        epoch_a = metric(await metrics_of(h), "klaxon_outbox_lease_epoch")
        assert epoch_a >= 1

        # A message in flight when the sender dies (Slack has not processed it: the client goes
        # away while the call waits), and one written after: both delivered once by the other.
        h.sim.inject_fault("chat.postMessage", "delay", seconds=8)
        tok = token()
        await note(h, tok)
        await h.sim.wait_until(lambda: note_calls(h, tok), 10, "the call in flight")
        mark = len(h.sim.calls)
        t0 = time.monotonic()
        await h.kill9()
        later = token()
        await note(h, later)  # only the second instance is connected now
        await h.sim.wait_until(lambda: note_messages(h, tok) and note_messages(h, later), LEASE_S + 5,
                               "the pending messages delivered by the other instance")
        took = time.monotonic() - t0
        print("takeover after kill -9: delivered %.2f s after the kill" % took)
        assert took < LEASE_S + 2, took
        await asyncio.sleep(1.5)
        assert len(note_messages(h, tok)) == 1 and len(note_messages(h, later)) == 1
        text = await b.metrics()
        assert metric(text, "klaxon_outbox_lease_held") == 1
        assert metric(text, "klaxon_outbox_lease_epoch") == epoch_a + 1
        # The row in flight was in doubt: looked for, not found, sent again.
        assert metric(text, "klaxon_outbox_in_doubt_total", 'result="resent"') == 1
        hist = [c for c in h.sim.calls_of("conversations.history", since=mark)
                if c["args"].get("include_all_metadata") == "true"]
        assert hist and hist[0]["args"]["channel"] == HANDOFF and hist[0]["ok"], hist
        assert metric(text, "klaxon_slack_api_calls_total", 'method="chat.postMessage"') >= 2
        assert "outbox_lease_holder_gone" in b.log() or took > LEASE_S - 3
    finally:
        rc = await b.stop()
    assert rc == 0, "the second klaxon exited %s\n%s" % (rc, b.log()[-3000:])


@timeout(90)
async def test_outbox_lease_frozen_sender_is_fenced_nothing_twice(h):
    b = await two_instances(h)
    try:
        epoch_a = metric(await metrics_of(h), "klaxon_outbox_lease_epoch")
        # Slack commits the post at once and holds its answer until we let it go.
        h.sim.inject_fault("chat.postMessage", "hold_after")
        tok = token()
        await note(h, tok)
        await h.sim.wait_until(lambda: note_messages(h, tok) and h.sim.held(), 10, "the post committed, answer held")
        mark = len(h.sim.calls)
        h.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            # A stopped process is alive: the other waits for the lease to expire.
            await wait_metric(b.metrics, "klaxon_outbox_lease_held", 1, LEASE_S + 5, "takeover")
            took = time.monotonic() - t0
            print("takeover after SIGSTOP: %.2f s (lease %d s)" % (took, LEASE_S))
            assert took >= 1.0, "taken over while the holder's lease ran: %.2f s" % took
            await h.sim.wait_call("conversations.history",
                                  lambda c: c["args"].get("include_all_metadata") == "true" and c["ok"],
                                  timeout=5, since=mark)
            await wait_metric(b.metrics, "klaxon_outbox_in_doubt_total", 1, 5, "the in-doubt check")
            text = await b.metrics()
            assert metric(text, "klaxon_outbox_in_doubt_total", 'result="found"') == 1
            assert metric(text, "klaxon_outbox_lease_epoch") == epoch_a + 1
        finally:
            h.proc.send_signal(signal.SIGCONT)
        # The old sender wakes; its answer comes now and its completion is refused by the fence.
        h.sim.release_held()
        await h.wait_log(r"outbox_result_fenced", timeout=10)
        await wait_metric(lambda: metrics_of(h), "klaxon_outbox_lease_held", 0, 5, "the old sender")
        assert metric(await metrics_of(h), "klaxon_outbox_fenced_total") >= 1
        # Nothing posted twice, and the work goes on under the new holder.
        assert len(note_messages(h, tok)) == 1
        assert note_calls(h, tok, since=mark) == []
        after = token()
        await note(h, after)
        await h.sim.wait_until(lambda: note_messages(h, after), 10, "a message after the takeover")
        await asyncio.sleep(1)
        assert len(note_messages(h, after)) == 1 and len(note_messages(h, tok)) == 1
        assert metric(await metrics_of(h), "klaxon_outbox_lease_held") == 0
    finally:
        rc = await b.stop()
    assert rc == 0, "the second klaxon exited %s\n%s" % (rc, b.log()[-3000:])


@timeout(90)
async def test_outbox_lease_page_dm_in_doubt_is_found_not_sent_twice(h):
    """A page DM is posted to a user id: its history is the IM channel's. The new sender asks
    conversations.open for it, finds the post by its metadata, and does not page twice."""
    from alerting import am_alert, am_payload, post
    b = await two_instances(h)
    try:
        h.sim.inject_fault("chat.postMessage", "hold_after")
        status, _ = await post(h, "/alerts/alertmanager", am_payload("DMDoubt", [am_alert("DMDoubt")]))
        assert status == 200

        def page_dms():
            return [c for c in h.sim.calls_of("chat.postMessage")
                    if c["args"].get("channel") == "U0ALICE001" and "DMDoubt" in h.message_text(c["args"])]

        await h.sim.wait_until(lambda: page_dms() and h.sim.held(), 10, "the page DM committed, answer held")
        # Freeze it between transactions, as a sender waiting on Slack is: every other call of
        # the page answered and recorded (dnd.info's answer is written in a transaction; a
        # process frozen inside one would hold SQLite's write lock, which no lease can take over).
        await h.sim.wait_until(lambda: all(c.get("done") for c in h.sim.calls
                                           if c["method"] != "chat.postMessage"), 10, "the page's other calls")
        await asyncio.sleep(0.3)
        mark = len(h.sim.calls)
        h.proc.send_signal(signal.SIGSTOP)
        try:
            await wait_metric(b.metrics, "klaxon_outbox_lease_held", 1, LEASE_S + 5, "takeover")
            await h.sim.wait_call("conversations.open", lambda c: c["args"].get("users") == "U0ALICE001",
                                  timeout=5, since=mark)
            await h.sim.wait_call("conversations.history",
                                  lambda c: c["args"].get("include_all_metadata") == "true" and c["ok"]
                                  and c["args"].get("channel", "").startswith("D"), timeout=5, since=mark)
            await wait_metric(b.metrics, "klaxon_outbox_in_doubt_total", 1, 5, "the in-doubt check")
            assert metric(await b.metrics(), "klaxon_outbox_in_doubt_total", 'result="found"') == 1
        finally:
            h.proc.send_signal(signal.SIGCONT)
        h.sim.release_held()
        await h.wait_log(r"outbox_result_fenced", timeout=10)
        await asyncio.sleep(1)
        assert len(page_dms()) == 1, [c["args"].get("channel") for c in page_dms()]
    finally:
        rc = await b.stop()
    assert rc == 0, "the second klaxon exited %s\n%s" % (rc, b.log()[-3000:])
