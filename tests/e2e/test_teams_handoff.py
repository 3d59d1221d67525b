"""The Monday handoff in Teams: at 09:00 the handoff card is posted as a new thread in
teams.handoff_channel (next to Slack's post), and "I have the pager" pressed on the Teams card
by the incoming primary takes the pager. With only a Workflows webhook, the handoff goes there.
"""

import asyncio
import json

from harness import timeout


def db_rows(h, sql, *args):
    return h.db_rows(sql, args)


async def wait_rows(h, sql, want, *args, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = db_rows(h, sql, *args)
        if rows == want:
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("%s gave %r, want %r" % (sql, rows, want))
        await asyncio.sleep(0.05)


def card_actions(activity):
    for att in activity.get("attachments") or []:
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
            return att["content"].get("actions") or []
    return []


@timeout(30)
async def test_teams_handoff_posted_at_0900(h):
    """Monday 08:59:30 at 10x: at 09:00 the handoff is a new thread in the Teams handoff channel
    (the checklist, who hands over to whom, the pager button) and the Slack post; not before."""
    h.now = "2026-11-30T08:59:30+01:00"
    h.time_scale = 10
    await h.start_teams()
    await h.start()
    ch = h.teams_channels["oncall"]
    assert not [c for c in h.teams.calls if c["kind"] == "create_conversation"]
    post = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201
                              and c["body"]["channelData"]["channel"]["id"] == ch, timeout=10,
                              what="the handoff in the Teams channel")
    text = h.teams_text(post["body"]["activity"])
    for want in ("On-call handoff: platform", "Mon 2026-11-30 09:00", "bob"):
        assert want in text, (want, text)
    titles = [a["title"] for a in card_actions(post["body"]["activity"])]
    assert "I have the pager" in titles, titles
    assert post["time"] >= h.bot_clock() - 60, "posted long before it was due"
    slack = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ONCALL01")
    assert "On-call handoff" in h.message_text(slack["args"])
    await wait_rows(h, "SELECT rota, state FROM handoffs", [("platform", "posted")])


@timeout(30)
async def test_teams_pager_button_on_the_teams_card(h):
    """bob (the incoming primary) presses "I have the pager" on the Teams card (Action.Execute):
    the handoff is taken, and he is told in the invoke response."""
    h.now = "2026-11-30T08:59:50+01:00"
    h.time_scale = 10
    await h.start_teams()
    await h.start()
    ch = h.teams_channels["oncall"]
    post = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201
                              and c["body"]["channelData"]["channel"]["id"] == ch, timeout=10,
                              what="the handoff in the Teams channel")
    button = [a for a in card_actions(post["body"]["activity"]) if a["title"] == "I have the pager"][0]
    thread, card_id = post["response"]["id"], post["response"]["activityId"]
    click = h.teams.adaptive_action(button["verb"], button["data"], card_id, conversation_id=thread,
                                    user="bob", channel_id=ch)
    status, body = await h.teams_send(click)
    assert status == 200, body
    assert "pager" in json.loads(body)["value"].lower(), body
    await wait_rows(h, "SELECT acked_by FROM handoffs", [("bob",)])


@timeout(30)
async def test_teams_handoff_through_workflows_webhook(h):
    """Without a bot, the handoff goes to the Workflows webhook: an Adaptive Card without the
    (undeliverable) pager button."""
    h.now = "2026-11-30T08:59:50+01:00"
    h.time_scale = 10
    await h.start_teams(bot=False, webhook=False, workflow=True)
    await h.start()
    posts = await h.teams.wait_until(lambda: [w for w in h.teams.workflow_posts if w["status"] == 202
                                              and "On-call handoff" in json.dumps(w["body"])],
                                     10, "the handoff through Workflows")
    card = posts[0]["body"]["attachments"][0]["content"]
    assert not [a for a in card.get("actions") or [] if a["type"] != "Action.OpenUrl"], card
