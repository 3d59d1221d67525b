"""Pages in Teams: a person with people[].teams and no Slack id is paged in the bot's 1:1 chat
with them (found in the team's roster, the chat opened, the card posted), and acknowledges from
the card with either action kind — Action.Execute (invoke, answered in the HTTP response) or the
Action.Submit fallback (a message with value) — after which the card is updated in place and
the escalation stops.
"""

import asyncio
import json

from harness import cases


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
    """The buttons of the first Adaptive Card of an activity."""
    for att in activity.get("attachments") or []:
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
            return att["content"].get("actions") or []
    return []


async def teams_only_alice(h):
    """alice is reachable in Teams only; the bot is installed in the team."""
    await h.start_teams()
    for p in h.config["people"]:
        if p["id"] == "alice":
            p.pop("slack", None)
            p.pop("email", None)  # else klaxon finds her in Slack by her address
    await h.start()
    # Erin installs the app; alice has never written to the bot.
    install = h.teams.conversation_update(members_added=["bot"])
    install["from"] = {"id": h.teams.users["erin"]["id"], "aadObjectId": h.teams.users["erin"]["aadObjectId"]}
    status, _ = await h.teams_send(install)
    assert status == 200


async def page_alice(h):
    """Page the platform rota's primary (alice this week) from Teams; return the card's send
    call in alice's 1:1 chat."""
    act = await h.teams_command("oncall page platform P1 checkout returns 500s", user="bob")
    await h.teams_reply_to(act)
    chat = h.teams.personal_conversation_id("alice")
    return await h.teams_wait(
        lambda c: c["kind"] == "send" and c["conversation_id"] == chat and c["status"] == 201,
        what="the page in alice's 1:1 chat")


async def test_teams_page_reaches_personal_chat(h):
    """Never seen before: alice is found in the team's roster by her Entra object id, the 1:1
    chat is opened (isGroup false, the bot and her 29: id, the tenant), the card posted there
    with Acknowledge / Escalate / Resolve as Action.Execute with an Action.Submit fallback."""
    await teams_only_alice(h)
    send = await page_alice(h)
    alice = h.teams.users["alice"]
    look = [c for c in h.teams.calls if c["kind"] == "member"]
    assert look and look[0]["status"] == 200 and look[0]["activity_id"] == alice["aadObjectId"], look
    create = [c for c in h.teams.calls if c["kind"] == "create_conversation" and c["body"].get("isGroup") is False]
    assert len(create) == 1 and create[0]["status"] == 201, create
    assert create[0]["body"]["members"] == [{"id": alice["id"]}], create[0]["body"]
    assert create[0]["body"]["bot"]["id"] == h.teams.bot_id
    text = h.teams_text(send["body"])
    assert "checkout returns 500s" in text and "P1" in text, text
    acts = card_actions(send["body"])
    titles = [a["title"] for a in acts]
    assert "Acknowledge" in titles, titles
    ack = acts[titles.index("Acknowledge")]
    assert ack["type"] == "Action.Execute" and ack["fallback"]["type"] == "Action.Submit", ack
    assert ack["data"]["action"] == "page.ack", ack
    # The copy is known by the chat and the card's activity id (for updates).
    rows = await wait_rows(h, "SELECT channel, ts FROM page_copies WHERE kind = 'dm'",
                           [(h.teams.personal_conversation_id("alice"), send["response"]["id"])])
    assert rows
    # A second page needs neither the roster nor a new chat.
    await h.teams_command("oncall page platform P1 second problem", user="bob")
    await h.teams_wait(lambda c: c["kind"] == "send" and "second problem" in json.dumps(c["body"]),
                       what="the second page")
    assert len([c for c in h.teams.calls if c["kind"] == "member"]) == 1
    assert len([c for c in h.teams.calls if c["kind"] == "create_conversation"
                and c["body"].get("isGroup") is False]) == 1


@cases([{"id": "action_execute"}, {"id": "action_submit"}])
async def test_teams_acknowledge_from_card(h, case):
    """Acknowledge from the card: the page is acknowledged by alice, its escalation stops, the
    card is replaced in place (PUT) without the Acknowledge button, and alice is told."""
    await teams_only_alice(h)
    send = await page_alice(h)
    chat = send["conversation_id"]
    card_id = send["response"]["id"]
    ack = [a for a in card_actions(send["body"]) if a["title"] == "Acknowledge"][0]
    if case["id"] == "action_execute":
        click = h.teams.adaptive_action(ack["verb"], ack["data"], card_id, conversation_id=chat)
        status, body = await h.teams_send(click)
        assert status == 200, (status, body)
        j = json.loads(body)
        assert j["statusCode"] == 200 and "Acknowledged page #1" in j["value"], j
    else:
        click = h.teams.card_submit(ack["fallback"]["data"], card_id, conversation_id=chat)
        status, body = await h.teams_send(click)
        assert status == 200, (status, body)
        reply = await h.teams_wait(lambda c: c["kind"] == "reply" and c["conversation_id"] == chat,
                                   what="the answer in the chat")
        assert "Acknowledged page #1" in h.teams_text(reply["body"]), reply["body"]
    update = await h.teams_wait(lambda c: c["kind"] == "update" and c["activity_id"] == card_id
                                and c["status"] == 200, what="the card updated in place")
    text = h.teams_text(update["body"])
    assert "Acknowledged" in text or "acknowledged" in text, text
    assert "Acknowledge" not in [a["title"] for a in card_actions(update["body"])]
    rows = await wait_rows(h, "SELECT state, acked_by FROM pages WHERE id = 1", [("acked", "alice")])
    assert rows
    # Every escalation job is cancelled; only the resolve target (issue 11) waits.
    assert db_rows(h, "SELECT key FROM jobs WHERE key LIKE 'page:1:%' AND state = 'pending'") == [
        ("page:1:resolve-target",)]
    # A second click changes nothing and says so.
    again = h.teams.adaptive_action(ack["verb"], ack["data"], card_id, conversation_id=chat)
    status, body = await h.teams_send(again)
    assert status == 200 and "Already acknowledged" in json.loads(body)["value"], body


async def test_teams_channel_step_and_cross_platform_ack(h):
    """An escalation step `channel:<Teams channel>` posts the page card as a new thread there;
    acknowledging from that card (Action.Execute) updates both the Teams card and alice's Slack
    DM copy."""
    await h.start_teams()
    ch = h.teams_channels["announce"]
    h.config["escalation_policies"][0]["steps"].insert(1, {"after": "0m", "notify": "channel:" + ch})
    await h.start()
    ack = await h.slash("/oncall", "page platform P1 payments are failing", user="U0BOB00001")
    assert "payments" in h.ack_text(ack) or ack
    post = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201
                              and c["body"]["channelData"]["channel"]["id"] == ch,
                              what="the page card in the Teams channel")
    dm = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "U0ALICE001")
    assert dm
    thread, card_id = post["response"]["id"], post["response"]["activityId"]
    button = [a for a in card_actions(post["body"]["activity"]) if a["title"] == "Acknowledge"][0]
    click = h.teams.adaptive_action(button["verb"], button["data"], card_id, conversation_id=thread,
                                    user="carol", channel_id=ch)
    status, body = await h.teams_send(click)
    assert status == 200 and "Acknowledged page #1" in json.loads(body)["value"], body
    await h.teams_wait(lambda c: c["kind"] == "update" and c["activity_id"] == card_id
                       and c["conversation_id"] == thread and c["status"] == 200,
                       what="the Teams card updated")
    dm_channel = dm["response"]["channel"]
    await h.wait_call("chat.update", lambda c: c["args"].get("channel") == dm_channel)
    await wait_rows(h, "SELECT state, acked_by FROM pages WHERE id = 1", [("acked", "carol")])


async def test_teams_declare_incident_from_page_card(h):
    """The page card's Declare incident button, clicked in Teams: a Teams incident, linked to the
    page, with its own thread in the incident channel and the page in its timeline."""
    await teams_only_alice(h)
    send = await page_alice(h)
    buttons = card_actions(send["body"])
    declare = [a for a in buttons if a["data"]["action"] == "page.declare"]
    assert declare, [a["title"] for a in buttons]
    click = h.teams.card_submit(declare[0]["fallback"]["data"], send["response"]["id"],
                                conversation_id=send["conversation_id"])
    status, _ = await h.teams_send(click)
    assert status == 200
    await wait_rows(h, "SELECT platform, title FROM incidents", [("teams", "checkout returns 500s")])
    thread = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201
                                and c["body"].get("channelData", {}).get("channel", {}).get("id") == h.teams_channels["incidents"],
                                what="the incident's thread")
    await wait_rows(h, "SELECT channel FROM incidents", [(thread["response"]["id"],)])
    await wait_rows(h, "SELECT incident_id FROM pages WHERE id = 1", [(1,)])
    kinds = [r[0] for r in db_rows(h, "SELECT kind FROM incident_timeline ORDER BY at, id")]
    assert "page" in kinds, kinds
