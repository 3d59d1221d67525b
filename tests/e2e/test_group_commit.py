"""Group commit (bot/slack/slack_socket.c, docs/robustness.md): the envelopes read in one turn
of the loop are handled in one transaction, each handler in its own savepoint, and acked only
after that one commit. Shown end to end: a burst is handled in batches (the bot's own histogram
says so) with every envelope acked once and every change stored once; a refusal inside a batch
undoes itself alone; and under a storage fault nothing of a batch is acked as done, and all of it
goes through once the fault clears."""

import asyncio
import re

from alerting import db_rows, db_value
from harness import engines, sim_options, timeout
from test_storage_faults import faults, last_of, start_with_faults


def histogram_count(text, name):
    m = re.search(r"^%s_count(?:\{\})? (\d+)" % name, text, re.M)
    return int(m.group(1)) if m else 0


def histogram_sum(text, name):
    m = re.search(r"^%s_sum(?:\{\})? ([0-9.e+]+)" % name, text, re.M)
    return float(m.group(1)) if m else 0.0


def notes(h):
    return [r for r in "|".join(r[0] for r in db_rows(h, "SELECT text FROM notes ORDER BY id")).split("|") if r]


@timeout(60)
async def test_a_burst_is_committed_in_batches_each_envelope_acked_once(h):
    await h.start()
    n = 300
    recs = []
    for i in range(n):
        if i % 10 == 5:
            # A refusal in the middle of a batch: answered, and it changes nothing.
            recs.append(("refused", h.sim.slash("/oncall", "override banana", channel="C0INCIDENT")))
        else:
            recs.append(("note", h.sim.slash("/oncall", "note burst-%03d" % i, channel="C0INCIDENT")))
    await h.sim.wait_until(lambda: all(r["acked"] for _, r in recs), 30, "every ack of the burst")
    for kind, r in recs:
        assert len(r["acks"]) == 1, (kind, r["envelope_id"], len(r["acks"]))
        text = h.ack_text(r["ack"]).lower()
        assert "try again" not in text, text
        if kind == "refused":
            assert text, "a refusal is answered"
    stored = notes(h)
    want = ["burst-%03d" % i for i in range(n) if i % 10 != 5]
    assert sorted(stored) == want, (len(stored), len(want))  # each once, none lost
    assert db_value(h, "SELECT count(*) FROM rota_changes") == 0  # the refusals changed nothing
    _, text = await h.metrics()
    batches = histogram_count(text, "klaxon_group_commit_envelopes")
    batched = histogram_sum(text, "klaxon_group_commit_envelopes")
    # Batches happened, each of several envelopes: fewer commits than envelopes.
    assert batches >= 1 and batched >= 2 * batches, (batches, batched)
    received = int(re.search(r"^klaxon_envelopes_received_total(?:\{\})? (\d+)", text, re.M).group(1))
    assert n <= received and batched <= received, (batched, received)  # (the bot's own posts echo back)
    assert not re.search(r"^klaxon_group_commit_failures_total(?:\{\})? [1-9]", text, re.M)


@sim_options(ack_timeout=1.5)
@timeout(60)
@engines("sqlite")  # SQLite's fault-injecting file layer
async def test_nothing_of_a_batch_is_acked_under_a_fault_and_all_of_it_lands_after(h):
    await start_with_faults(h)
    ack = await h.slash("/oncall", "note before")
    assert "try again" not in h.ack_text(ack).lower()
    faults(h, "full")
    await asyncio.sleep(0.1)  # the shim rereads its file every 20 ms
    slashes = [h.sim.slash("/oncall", "note lost-%02d" % i, channel="C0INCIDENT") for i in range(20)]
    events = []
    for i in range(20):
        _, recs = h.sim.user_message("U0ALICE001", "C0INCIDENT", "said in the fault %02d" % i, deliver=True)
        events.extend(recs)
    await h.sim.wait_until(lambda: all(r["acked"] for r in slashes), 10, "the slash commands' answers")
    for r in slashes:
        assert "try again" in h.ack_text(r["ack"]).lower(), h.ack_text(r["ack"])
    await asyncio.sleep(1.0)
    assert not [e for e in events if e["acked"]], "an event was acked while nothing could commit"
    assert h.running
    _, text = await h.metrics()
    m = re.search(r"^klaxon_group_commit_failures_total(?:\{\})? (\d+)", text, re.M)
    assert m and int(m.group(1)) >= 1, "the batch's commit failed and each was tried alone"
    faults(h, "")
    await h.sim.wait_until(lambda: all(last_of(h, e)["acked"] for e in events), 15,
                           "every event, redelivered, acked")
    after = [h.sim.slash("/oncall", "note after-%02d" % i, channel="C0INCIDENT") for i in range(40)]
    await h.sim.wait_until(lambda: all(r["acked"] for r in after), 15, "the answers after the fault")
    for r in after:
        assert "try again" not in h.ack_text(r["ack"]).lower(), h.ack_text(r["ack"])
    stored = notes(h)
    assert not [s for s in stored if s.startswith("lost-")], stored
    assert sorted(stored) == sorted(["before"] + ["after-%02d" % i for i in range(40)]), stored
    status, body = await h.healthz()
    assert status == 200, body
