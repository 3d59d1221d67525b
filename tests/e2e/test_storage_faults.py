"""Storage faults end to end (docs/robustness.md): the SQLite VFS shim (storage/db_faults.h),
switched by KLAXON_TEST_FAULTS=@FILE, makes the database busy, fail writes (I/O error, disk full)
or tear a write and kill -9 the process. The bot survives; nothing is acked to Slack that was not
committed (an events_api envelope is not acked, so Slack delivers it again; a slash command is
answered "try again"; an alert webhook gets a 5xx); it recovers by itself once the fault clears."""

import asyncio
import os

from alerting import db_rows, db_value, post
from harness import cases, engines, sim_options, timeout


def faults(h, spec):
    """Turn faults on (or off with "") in the running bot: its shim rereads the file."""
    path = os.path.join(h.tmp, "faults")
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(spec)
    os.replace(tmp, path)


async def start_with_faults(h):
    h.env["KLAXON_TEST_FAULTS"] = "@" + os.path.join(h.tmp, "faults")
    faults(h, "")
    await h.start()


def last_of(h, rec):
    while rec.get("superseded_by"):
        rec = h.sim.envelopes[rec["superseded_by"]]
    return rec


def alert(key):
    return {"title": "Disk %s" % key, "severity": "warning", "source": "e2e", "status": "firing", "dedup_key": key}


@sim_options(ack_timeout=1.5)
@cases(["busy", "ioerr", "full"], ids=["busy", "ioerr", "full"])
@timeout(40)
@engines("sqlite")  # the faults are injected into SQLite's file I/O (KLAXON_TEST_FAULTS)
async def test_fault_nothing_acked_uncommitted_and_recovery(h, spec):
    await start_with_faults(h)
    ack = await h.slash("/oncall", "note before the fault")
    assert "try again" not in h.ack_text(ack).lower(), h.ack_text(ack)
    faults(h, spec)
    await asyncio.sleep(0.1)  # the shim looks at the file every 20 ms

    # A slash command: Slack never delivers it again, so the ack itself tells the user.
    ack = await h.slash("/oncall", "note during the fault")
    assert "try again" in h.ack_text(ack).lower(), h.ack_text(ack)
    # An alert: the sender is told to retry.
    status, body = await post(h, "/alerts/webhook", alert("during-%s" % spec))
    assert status >= 500 and "try again" in str(body), (status, body)
    # An event: not acked while its transaction cannot commit.
    _, recs = h.sim.user_message("U0ALICE001", "C0INCIDENT", "said during the %s fault" % spec, deliver=True)
    ev = recs[0]
    await asyncio.sleep(1.0)
    assert not ev["acked"], ev
    await h.wait_log(r"db sqlite_error|cmd dispatch_failed", timeout=2)  # the operator sees it
    assert h.running, "the bot died under a %s fault" % spec

    faults(h, "")  # the fault clears: Slack's redelivery (retry_attempt 1) goes through
    await h.sim.wait_until(lambda: last_of(h, ev)["acked"], timeout=6, what="the redelivered event's ack")
    assert last_of(h, ev)["retry_attempt"] >= 1
    ack = await h.slash("/oncall", "note after the fault")
    assert "try again" not in h.ack_text(ack).lower(), h.ack_text(ack)
    status, body = await post(h, "/alerts/webhook", alert("after-%s" % spec))
    assert status == 200, (status, body)
    notes = [r for r in "|".join(r[0] for r in db_rows(h, "SELECT text FROM notes ORDER BY id")).split("|") if r]
    assert notes == ["before the fault", "after the fault"], notes
    assert db_value(h, "SELECT count(*) FROM alerts WHERE fingerprint LIKE '%during%'") == 0
    status, body = await h.healthz()
    assert status == 200, body


@timeout(40)
@engines("sqlite")
async def test_torn_write_at_kill9_recovers_with_only_committed_rows(h):
    await start_with_faults(h)
    for i in range(3):
        ack = await h.slash("/oncall", "note committed %d" % i)
        assert "try again" not in h.ack_text(ack).lower()
    await asyncio.sleep(1.5)  # the checkpointer folds the WAL into the database
    faults(h, "torn")  # the next write to the database or its WAL is torn, then kill -9
    await asyncio.sleep(0.1)
    rec = h.sim.slash("/oncall", "note torn", "U0ALICE001", "C0INCIDENT")
    rc = await h.wait_exit(timeout=10)
    assert rc == -9, rc
    assert not rec["acked"], rec  # it died before any ack: nothing claimed
    faults(h, "")
    await h.restart()
    status, body = await h.healthz()
    assert status == 200, body
    await h.wait_log(r"db migrated|slack connected", timeout=5)
    assert db_value(h, "PRAGMA quick_check") == "ok"
    texts = sorted(r for r in "|".join(r[0] for r in db_rows(h, "SELECT text FROM notes ORDER BY id")).split("|") if r)
    assert texts == ["committed 0", "committed 1", "committed 2"], texts
    ack = await h.slash("/oncall", "note after the restart")
    assert "try again" not in h.ack_text(ack).lower(), h.ack_text(ack)
    assert db_value(h, "SELECT count(*) FROM notes") == 4
