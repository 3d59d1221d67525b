"""The wall clock steps forward and back (NTP, a resumed host) while klaxon runs on it (no
KLAXON_NOW, scale 1: bot/clock.c follows the wall clock). The test moves the wall clock through
the test-only hook KLAXON_TEST_WALL_OFFSET_FILE (a file holding an offset in milliseconds).

Forward past a Monday handoff and past escalation steps: the scheduler notices the step within
a second (`scheduler clock_stepped`), each due job runs once and the handoff is posted once.
Back right after a handoff: it is not posted again, and nothing stalls: a job scheduled after
the step runs on time, and the outbox's retry pause (monotonic) is not stretched by the step."""

import asyncio
import datetime
import os
import time
import uuid

from alerting import am_alert, am_payload, db_value, post
from harness import timeout
from oncalling import handoff_posts, handoff_rows, posts, text_of, wait_handoff

E2E_ALONE = True  # real-time windows around clock steps: with `run.py -j N` these run with nothing beside them

HOUR_MS = 3600 * 1000
FRANK = "U0FRANK001"
ERIN = "U0ERIN0001"


def utc(*a):
    return datetime.datetime(*a, tzinfo=datetime.timezone.utc).timestamp()


class Wall:
    """The bot's wall clock: real time plus the offset in the file."""

    def __init__(self, h, at):
        self.path = os.path.join(h.tmp, "wall-offset")
        self.offset_ms = int((at - time.time()) * 1000)
        self._write()
        h.env["KLAXON_NOW"] = None
        h.env["KLAXON_TEST_WALL_OFFSET_FILE"] = self.path
        h.time_scale = 1

    def _write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.offset_ms)
        os.replace(tmp, self.path)

    def step(self, ms):
        self.offset_ms += ms
        self._write()

    def now_ms(self):
        return int(time.time() * 1000) + self.offset_ms


async def fire(h, name):
    status, body = await post(h, "/alerts/alertmanager", am_payload(name, [am_alert(name)]))
    assert status == 200, (status, body)


def page_dms(h, uid, name):
    return posts(h, uid, pred=lambda c: name in text_of(h, c))


@timeout(45)
async def test_wall_clock_step_forward_runs_each_due_job_once_and_the_handoff_once(h):
    # Monday 2026-12-07 07:15 in Berlin (06:15Z); the handoff is at 09:00 (08:00Z).
    wall = Wall(h, utc(2026, 12, 7, 6, 15))
    await h.start()
    await h.wait_log(r"clock test_wall_offset_installed", timeout=2)
    name = "Jump" + uuid.uuid4().hex[:8]
    await fire(h, name)
    await h.sim.wait_until(lambda: db_value(h, "SELECT count(*) FROM jobs WHERE kind = 'page.step' "
                                               "AND state = 'pending'"), 5, "the page's next step")
    await asyncio.sleep(1.5)
    assert not handoff_posts(h), "a handoff before 09:00"
    assert not page_dms(h, FRANK, name), "the 60-minute step ran at once"
    # Two hours forward: 09:15. The handoff (09:00) and the steps at 15, 30 and 60 minutes are due.
    wall.step(2 * HOUR_MS)
    await h.wait_log(r"scheduler clock_stepped by_ms=7[12]\d{5} ", timeout=3)
    await wait_handoff(h, timeout=5)
    await h.sim.wait_until(lambda: page_dms(h, FRANK, name), 10, "the 60-minute step (frank)")
    await asyncio.sleep(3)
    assert len(handoff_posts(h)) == 1, len(handoff_posts(h))
    assert len(handoff_rows(h)) == 1, handoff_rows(h)
    assert len(page_dms(h, FRANK, name)) == 1
    assert len(page_dms(h, ERIN, name)) == 1  # the manager step (30 minutes), once
    due = db_value(h, "SELECT count(*) FROM jobs WHERE state = 'pending' AND due_at <= ?", (wall.now_ms(),))
    assert due == 0, due
    # The overdue steps ran (a step job fires every step due by then), none is left, none twice.
    assert db_value(h, "SELECT count(*) FROM jobs WHERE kind = 'page.step' AND state = 'done'") >= 1
    later = db_value(h, "SELECT min(due_at) FROM jobs WHERE kind = 'page.step' AND state = 'pending'")
    assert later is None or later > wall.now_ms(), later  # a later round, if the policy repeats


@timeout(45)
async def test_wall_clock_step_back_after_a_handoff_posts_nothing_again_and_stalls_nothing(h):
    h.config["escalation_policies"][0]["steps"][1]["after"] = "5s"  # a job due soon after the step
    wall = Wall(h, utc(2026, 12, 7, 7, 59, 57))  # Monday 08:59:57 in Berlin
    await h.start()
    await wait_handoff(h, timeout=8)
    # Two hours back, right after the handoff: 07:00 again.
    wall.step(-2 * HOUR_MS)
    await h.wait_log(r"scheduler clock_stepped by_ms=-7[12]\d{5} ", timeout=3)
    name = "Back" + uuid.uuid4().hex[:8]
    await fire(h, name)
    fired = time.monotonic()
    # The step at 5 s is a job scheduled on the new time: it runs on time.
    await h.sim.wait_until(lambda: db_value(h, "SELECT count(*) FROM jobs WHERE kind = 'page.step' "
                                               "AND state = 'done'"), 9, "the 5-second step")
    assert time.monotonic() - fired < 8.5
    # The outbox's retry pause runs on the monotonic clock: a 503 is retried within seconds.
    mark = len(h.sim.calls)
    h.sim.inject_fault("chat.postMessage", "http", status=503)
    t = "e2e-" + uuid.uuid4().hex[:10]
    await h.slash("/oncall", "note " + t, channel="C0ONCALL01")
    await h.sim.wait_until(lambda: [c for c in h.sim.calls_of("chat.postMessage", ok=True, since=mark)
                                    if t in h.message_text(c["args"])], 5, "the note after one 503")
    await asyncio.sleep(2)
    assert len(handoff_posts(h)) == 1, "the handoff was posted again after the clock went back"
    assert len(handoff_rows(h)) == 1, handoff_rows(h)
    status, body = await h.healthz()
    assert status == 200, body
