"""Action items' due dates end to end (issue 14) on the bot's simulated clock: `--due DATE` and the
severity's `action_due`, the DM to the owner on the due day at 09:00 in the config's zone and
once a day when overdue (at most three times, exactly once across restarts), the reminder's
Done button closing the item, the overdue list in the Monday handoff and the manager's daily
digest, bad dates refused."""

from harness import timeout
from oncalling import BOB, CAROL, HANDOFF, dms, ms, press, settle, text_of, wait_dm, wait_handoff
import incidents as I


def due_jobs(h):
    return I.db_rows(h, "SELECT key, due_at, state FROM jobs WHERE kind = 'incident.action_due' ORDER BY id")


def item(h, number=1):
    return I.db_rows(h, "SELECT due_at, due_date, done_at, done_by FROM incident_actions WHERE number = ?",
                     (number,))[0]


@timeout(40)
async def test_due_day_reminder_and_done_button(h):
    await I.start(h, "2026-12-09T15:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 Checkout is slow")
    c = ch["id"]
    ack = await h.slash("/incident", "action add @bob add a latency alert --due 2026-12-10", channel=c)
    assert "due 2026-12-10" in h.ack_text(ack), h.ack_text(ack)
    await I.wait_said(h, c, "add a latency alert _(due 2026-12-10)_")
    # The text stops at the option; overdue from local midnight after the due day.
    assert I.db_rows(h, "SELECT text FROM incident_actions") == [("add a latency alert",)]
    assert item(h)[:2] == (ms("2026-12-11T00:00:00+01:00"), "2026-12-10"), item(h)
    assert due_jobs(h) == [("action:1:1:0", ms("2026-12-10T09:00:00+01:00"), "pending")], due_jobs(h)
    # The day before: nothing.
    await I.jump(h, "2026-12-10T08:59:58+01:00", scale=1)
    assert not dms(h, BOB, ["is due today"])
    call = await wait_dm(h, BOB, ["#1.1", "is due today (2026-12-10)", "add a latency alert",
                                  "Checkout is slow"], timeout=8)
    await settle(0.5)
    assert len(dms(h, BOB, ["is due today"])) == 1
    # The Done button closes it; the channel and the timeline say so.
    await press(h, call, "incident.action_done", BOB)
    rows = await I.wait_db(h, "SELECT done_at, done_by FROM incident_actions WHERE number = 1",
                           lambda r: r and r[0][0])
    assert rows[0][1] == "bob", rows
    await I.wait_said(h, c, "Action item *1* is done")
    assert any(e[2] == "Action item 1 done" for e in I.timeline(h)), I.timeline(h)
    # The next (overdue) reminder finds it done: no DM.
    await I.jump(h, "2026-12-11T08:59:58+01:00", scale=1)
    await I.wait_db(h, "SELECT state FROM jobs WHERE key = 'action:1:1:1'", lambda r: r and r[0][0] == "done")
    await settle(0.5)
    assert not dms(h, BOB, ["overdue"]), "a done item was reminded"
    assert not [j for j in due_jobs(h) if j[2] == "pending"], due_jobs(h)


@timeout(60)
async def test_overdue_reminders_once_each_and_in_the_handoff(h):
    h.config["severities"][1]["action_due"] = "2d"  # P1
    await I.start(h, "2026-12-03T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 Checkout is slow")
    c = ch["id"]
    ack = await h.slash("/incident", "action add @carol document the failover", channel=c)
    assert "due 2026-12-05" in h.ack_text(ack), h.ack_text(ack)
    await I.jump(h, "2026-12-05T08:59:59+01:00", scale=1)
    await wait_dm(h, CAROL, ["#1.1", "is due today (2026-12-05)"], timeout=8)
    await I.jump(h, "2026-12-06T08:59:59+01:00", scale=1)
    await wait_dm(h, CAROL, ["#1.1", "is *overdue* (it was due 2026-12-05)", "document the failover"],
                  timeout=8)
    # Restarted the same morning: not again.
    await I.jump(h, "2026-12-06T09:10:00+01:00", scale=1)
    await settle(1.5)
    assert len(dms(h, CAROL, ["is *overdue*"])) == 1, [text_of(h, x) for x in dms(h, CAROL)]
    # Monday: the handoff lists it as overdue; the second overdue reminder.
    await I.jump(h, "2026-12-07T08:59:57+01:00", scale=1)
    post = await wait_handoff(h, timeout=10)
    text = text_of(h, post)
    assert "*Overdue action items*" in text, text
    assert "#1.1 document the failover — <@%s> (Checkout is slow) *due 2026-12-05*" % CAROL in text, text
    assert "*Open action items*" not in text, text
    # Carol takes the pager: her digest lists the item as hers and overdue.
    digest = await wait_dm(h, CAROL, ["on-call digest"], timeout=8)
    assert "*Your overdue action items*" in text_of(h, digest), text_of(h, digest)
    # The rota's manager (erin) gets the overdue list in a digest of their own.
    await wait_dm(h, "U0ERIN0001", ["Overdue action items", "document the failover", "*due 2026-12-05*"],
                  timeout=8)
    await h.sim.wait_until(lambda: len(dms(h, CAROL, ["is *overdue*"])) == 2, 5, "the second overdue reminder")
    # Down for days: the missed third reminder once, and no more after it.
    await I.jump(h, "2026-12-12T12:00:00+01:00", scale=1)
    await h.sim.wait_until(lambda: len(dms(h, CAROL, ["is *overdue*"])) == 3, 8, "the third overdue reminder")
    await settle(1)
    assert len(dms(h, CAROL, ["is *overdue*"])) == 3
    assert [j[0] for j in due_jobs(h)] == ["action:1:1:%d" % k for k in range(4)], due_jobs(h)
    assert all(j[2] == "done" for j in due_jobs(h)), due_jobs(h)
    # `/incident action list` says it is overdue.
    ack = await h.slash("/incident", "action list", channel=c)
    assert "(overdue: due 2026-12-05)" in h.ack_text(ack), h.ack_text(ack)


@timeout(30)
async def test_bad_due_dates_refused_nothing_stored(h):
    await I.start(h, "2026-12-09T15:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P2 Search is flaky")
    c = ch["id"]
    for bad, says in (("2026-12-01", "in the past"), ("tomorrow", "takes a date"), ("2026-13-40", "takes a date"),
                      ("400d", "takes a date")):
        ack = await h.slash("/incident", "action add @bob fix it --due " + bad, channel=c)
        assert says in h.ack_text(ack), (bad, h.ack_text(ack))
    ack = await h.slash("/incident", "action add @bob fix it --due", channel=c)
    assert "--due" in h.ack_text(ack), h.ack_text(ack)
    assert I.db_rows(h, "SELECT count(*) FROM incident_actions") == [(0,)]
    assert due_jobs(h) == []
    # No default for P2: no due date, no job.
    ack = await h.slash("/incident", "action add @bob fix it", channel=c)
    assert "due" not in h.ack_text(ack).split(";")[0], h.ack_text(ack)
    assert item(h)[:2] == (0, None) and due_jobs(h) == []
    # `--` ends the options: a `--word` in the text is text; without it, a clear refusal.
    ack = await h.slash("/incident", "action add @bob run the job with --force", channel=c)
    assert "I don't know the option `--force`" in h.ack_text(ack), h.ack_text(ack)
    ack = await h.slash("/incident", "action add @bob -- run the job with --force", channel=c)
    assert "Added action item 2" in h.ack_text(ack), h.ack_text(ack)
    assert I.db_rows(h, "SELECT text FROM incident_actions WHERE number = 2") == [("run the job with --force",)]
    # `--due 7d` counts from now.
    ack = await h.slash("/incident", "action add @bob fix it too --due 7d", channel=c)
    assert "due 2026-12-16" in h.ack_text(ack), h.ack_text(ack)
