"""Incidents end to end (issue 3): declare (words and the modal), the channel and its name
rules, invites, topic, summary, announcement, stakeholders, roles and buttons, and the answers
people get. See docs/incidents.md. Helpers: tests/e2e/incidents.py."""

import re

from harness import cases, timeout

import incidents as I


async def test_declare_creates_channel_summary_and_announcement(h):
    await I.start(h, "2026-11-24T10:00:00+01:00")
    ack, ch = await I.declare(h, "P0 Checkout API returns 502")
    text = h.ack_text(ack)
    assert "#1" in text and "P0" in text and "Checkout API returns 502" in text, text
    assert ch["name"] == "incident-20261124", ch["name"]
    # invited: alice (declarer and primary this week) and bob (the secondary: next in the list)
    inv = await h.sim.wait_call("conversations.invite", ok=True)
    assert inv["args"]["channel"] == ch["id"]
    assert set(inv["args"]["users"].split(",")) == {"U0ALICE001", "U0BOB00001"}, inv["args"]
    topic = await h.sim.wait_call("conversations.setTopic", ok=True)
    assert "P0" in topic["args"]["topic"] and "investigating" in topic["args"]["topic"]
    assert "Checkout API returns 502" in topic["args"]["topic"]
    s = I.summary(h, ch)
    st = h.message_text(s)
    for w in ("Take commander", "Take scribe", "Resolve", "P0", "investigating"):
        assert w in st, (w, st)
    await I.wait_said(h, I.ANNOUNCE, re.compile(r"P0 incident.*#1.*Checkout API returns 502", re.S))
    # P0 has stakeholders: true: the stakeholder channel hears of it
    await I.wait_said(h, I.STAKEHOLDERS, "Checkout API returns 502")
