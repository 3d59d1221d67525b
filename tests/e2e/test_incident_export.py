"""Issue 14, the incident's reach outside the chat: the war room (`severities[].bridge_url`) in
the channel's topic, the summary message and the page; `incident.archive_after` (a closed
incident's channel archived once, later, across restarts); a swap cancelled as one change.
docs/incidents.md, docs/integrations.md."""

import asyncio
import json
import subprocess

from alerting import message_now, wait_dm
from harness import timeout

import incidents as I

BRIDGE = "https://example.zoom.us/j/123456789?pwd=a&b"


def check_config(h):
    r = subprocess.run([h.bin, "check-config", h.write_config()], capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


@timeout(30)
async def test_bridge_url_in_topic_summary_and_page(h):
    h.config["severities"][1]["bridge_url"] = BRIDGE
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 payments stuck")
    c = ch["id"]
    topic = await h.sim.wait_call("conversations.setTopic", ok=True)
    assert "Bridge: " + BRIDGE + " | #1 payments stuck" in topic["args"]["topic"], topic["args"]["topic"]
    s = json.dumps(I.summary(h, c)["blocks"])
    assert "War room" in s and json.dumps("<%s|Join the bridge>" % BRIDGE.replace("&", "&amp;"))[1:-1] in s, s
    dm = await wait_dm(h, "U0ALICE001")
    page = json.dumps(message_now(h, dm)["blocks"])
    assert "Join the incident bridge" in page and "example.zoom.us/j/123456789" in page, page
    # resolved: the war room is over, so the summary no longer offers it
    await h.slash("/incident", "resolve", channel=c)
    await h.sim.wait_until(lambda: "Join the bridge" not in json.dumps(I.summary(h, c)["blocks"]), 8,
                           "the summary without the bridge")
    # a P2 (no bridge) shows none
    _, ch2 = await I.declare(h, "P2 slow admin page")
    assert "Join the bridge" not in json.dumps(I.summary(h, ch2["id"])["blocks"])


@timeout(30)
async def test_bridge_url_must_be_https(h):
    h.config["severities"][0]["bridge_url"] = "http://meet.example.com/abc"
    h.config["severities"][1]["bridge_url"] = "javascript:alert(1)"
    h.config["severities"][2]["review_within"] = "10m"
    rc, out = check_config(h)
    assert rc != 0
    assert 'severities[0].bridge_url: "http://meet.example.com/abc" is not an https:// URL' in out, out
    assert 'severities[1].bridge_url: "javascript:alert(1)" is not an http:// or https:// URL' in out, out
    assert "severities[2].review_within must be at least 1h" in out, out
    h.config["severities"][0]["bridge_url"] = "https://meet.google.com/abc-defg-hij"
    del h.config["severities"][1]["bridge_url"]
    h.config["severities"][2]["review_within"] = "2d"
    rc, out = check_config(h)
    assert rc == 0, out
