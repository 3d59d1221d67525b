"""Slack and Teams faults that go on for a while (bot/sender.c, bot/slack/slack_api.c,
bot/teams/teams_connector.c): a run of 5xx answers and a call that never answers.

5xx runs: the row backs off (exponential, with jitter, bounded at 60 s), the queue behind it
waits, nothing is lost, each message arrives once when the platform recovers, and the calls are
counted: one per attempt, no hot loop. The pauses are on the real clock, so these tests shorten
them RETRY_SCALE times with the test-only KLAXON_TEST_RETRY_SCALE (bot/sender.c) and check the
same doubling shape, scaled; the full-length pauses are sender_retry_delay_ms's unit test
(tests/unit/bot/test_sender.c).

Timeouts: a call that hangs is cut off by the HTTP client's bounded timeout (15 s), retried,
and arrives once; the loop keeps serving meanwhile (/healthz, a slash command). A call the
platform performed before it hung (Slack committed, then never answered) is sent again:
delivery is at least once, and the message shows twice (docs/robustness.md)."""

import asyncio
import re
import time
import uuid

from alerting import db_value
from harness import alone, timeout

HANDOFF = "C0ONCALL01"
HTTP_TIMEOUT = 15.0  # HTTP_DEFAULT_TIMEOUT_MS and TEAMS_CONNECTOR_TIMEOUT_MS
RETRY_SCALE = 10  # KLAXON_TEST_RETRY_SCALE: a 1 s pause takes 0.1 s


def tok():
    return "e2e-" + uuid.uuid4().hex[:10]


def held(h, t):
    return [m for m in h.sim.messages(HANDOFF) if t in h.message_text(m)]


def posts(h, since):
    return h.sim.calls_of("chat.postMessage", since=since, done=True)


def short_retries(h):
    h.env["KLAXON_TEST_RETRY_SCALE"] = str(RETRY_SCALE)


def assert_backoff(h, gaps, what):
    """Each gap at least half the doubling base (1 s, 2 s, 4 s …: the jitter is base/2..base),
    never more than the 60 s bound, and the run as a whole grows; all RETRY_SCALE times shorter."""
    assert re.search(r"test_retry_scale_installed scale=%d\b" % RETRY_SCALE, h.log_text()), "the knob did not take"
    for i, g in enumerate(gaps):
        low = 0.45 * min(2 ** i, 60) / RETRY_SCALE
        assert low <= g <= 61.0 / RETRY_SCALE, "%s: gap %d is %.3f s (want >= %.3f): %s" % (
            what, i, g, low, [round(x, 3) for x in gaps])
    assert gaps[-1] > gaps[0], "%s: no growth: %s" % (what, [round(x, 3) for x in gaps])


@timeout(30)
async def test_slack_5xx_run_backs_off_and_each_message_arrives_once(h):
    short_retries(h)
    await h.start()
    mark = len(h.sim.calls)
    statuses = [500, 502, 503, 500, 503]
    for s in statuses:
        h.sim.inject_fault("chat.postMessage", "http", status=s)
    notes = [tok() for _ in range(3)]
    for t in notes:
        ack = await h.slash("/oncall", "note " + t, channel=HANDOFF)
        assert "try again" not in h.ack_text(ack).lower()
    # The first failure: the bot keeps serving while the row backs off.
    await h.sim.wait_until(lambda: posts(h, mark), 10, "the first call")
    status, body = await h.healthz()
    assert status == 200, (status, body)
    for t in notes:
        await h.sim.wait_until(lambda t=t: held(h, t), 45, "note %s delivered" % t)
    await asyncio.sleep(1.5)
    calls = posts(h, mark)
    # One call per attempt: five refused, then each of the three notes once. No hot loop.
    assert [c["status"] for c in calls] == statuses + [200] * 3, [c["status"] for c in calls]
    failed = calls[:len(statuses) + 1]
    gaps = [b["mono"] - (a["mono"] + a["duration"]) for a, b in zip(failed, failed[1:])]
    assert_backoff(h, gaps, "chat.postMessage")
    # The queue kept its order behind the failing row, and each note arrived once.
    order = [next(t for t in notes if t in h.message_text(c["args"])) for c in calls[len(statuses):]]
    assert order == notes, order
    for t in notes:
        assert len(held(h, t)) == 1, (t, len(held(h, t)))
    assert db_value(h, "SELECT count(*) FROM outbox WHERE state <> 'done' AND method = 'chat.postMessage'") == 0
    assert db_value(h, "SELECT max(attempts) FROM outbox WHERE method = 'chat.postMessage'") == len(statuses) + 1


@timeout(30)
async def test_teams_5xx_run_backs_off_and_the_reply_arrives_once(h):
    short_retries(h)
    await h.start_teams()
    await h.start()
    for s in (500, 502, 503, 503, 502):
        h.teams.inject_5xx(status=s, kind="reply")
    act = await h.teams_command("oncall help")
    await h.teams_reply_to(act, timeout=45)
    await asyncio.sleep(1.5)
    tries = [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"]]
    assert [c["status"] for c in tries] == [500, 502, 503, 503, 502, 201], [c["status"] for c in tries]
    gaps = [b["time"] - a["time"] for a, b in zip(tries, tries[1:])]
    assert_backoff(h, gaps, "teams.reply")
    rows = db_value(h, "SELECT attempts || ' ' || state FROM outbox WHERE method = 'teams.reply'")
    assert rows == "6 done", rows


@alone
@timeout(60)
async def test_slack_call_that_hangs_is_cut_off_retried_and_arrives_once(h):
    await h.start()
    mark = len(h.sim.calls)
    h.sim.inject_fault("chat.postMessage", "delay", seconds=45)  # no answer, nothing done
    t = tok()
    await h.slash("/oncall", "note " + t, channel=HANDOFF)
    await h.sim.wait_until(lambda: h.sim.calls_of("chat.postMessage", since=mark), 10, "the call in flight")
    started = time.monotonic()
    # Meanwhile the loop serves: /healthz, and another command is answered at once.
    await asyncio.sleep(2)
    t0 = time.monotonic()
    status, body = await h.healthz()
    assert status == 200 and time.monotonic() - t0 < 1.0, (status, body)
    ack = await h.slash("/oncall", "help", channel=HANDOFF)
    assert "note" in h.ack_text(ack)
    await h.sim.wait_until(lambda: held(h, t), HTTP_TIMEOUT + 10, "the note after the timeout")
    hung = posts(h, mark)[0]
    # cut off by the client after its 15 s, not left hanging for the simulator's 45 s
    assert hung.get("client_gone") and HTTP_TIMEOUT - 0.5 <= hung["duration"] <= HTTP_TIMEOUT + 3, hung["duration"]
    assert time.monotonic() - started < HTTP_TIMEOUT + 6
    await h.wait_log(r"slack_api transport_failed method=chat\.postMessage reason=timeout", timeout=2)
    await asyncio.sleep(1)
    assert len(held(h, t)) == 1
    assert [c["status"] for c in posts(h, mark) if t in h.message_text(c["args"])] == [0, 200]


@timeout(60)
async def test_slack_call_performed_then_hung_is_sent_again_at_least_once(h):
    """Slack did the work, then never answered: klaxon cannot know, so it sends again. The
    message shows twice: delivery to Slack is at least once (docs/robustness.md)."""
    await h.start()
    mark = len(h.sim.calls)
    h.sim.inject_fault("chat.postMessage", "delay_after", seconds=30)
    t = tok()
    await h.slash("/oncall", "note " + t, channel=HANDOFF)
    await h.sim.wait_until(lambda: held(h, t), 10, "the committed post")
    await h.sim.wait_until(lambda: len(held(h, t)) == 2, HTTP_TIMEOUT + 10, "the re-send after the timeout")
    await asyncio.sleep(1.5)
    assert len(held(h, t)) == 2
    assert db_value(h, "SELECT state FROM outbox WHERE method = 'chat.postMessage' AND body LIKE ?",
                    ("%" + t + "%",)) == "done"


@timeout(60)
async def test_teams_connector_call_that_hangs_is_cut_off_retried_and_arrives_once(h):
    await h.start_teams()
    await h.start()
    h.teams.inject_hang(45, kind="reply")
    act = await h.teams_command("oncall help")
    await h.teams.wait_until(lambda: h.teams.hangs, 10, "the reply in flight")
    await asyncio.sleep(2)
    status, body = await h.healthz()
    assert status == 200, (status, body)
    call = await h.teams_reply_to(act, timeout=HTTP_TIMEOUT + 10)
    hang = h.teams.hangs[0]
    assert HTTP_TIMEOUT - 0.5 <= hang.get("client_gone_after", 0) <= HTTP_TIMEOUT + 3, hang
    await asyncio.sleep(1)
    ok = [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"] and c["status"] == 201]
    assert ok == [call], ok
    assert db_value(h, "SELECT attempts || ' ' || state FROM outbox WHERE method = 'teams.reply'") == "2 done"
