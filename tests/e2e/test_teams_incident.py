"""Incidents from Teams: `@klaxon incident declare P1 Database down` in a channel gives the
incident its own thread (a new conversation in teams.incident_channel whose root names it
incident-YYYYMMDD[-N]), the summary card in that thread, the announcement in the Teams (and
Slack) announce channel; roles and commands typed in the thread act on that incident; every
reply in the thread is the timeline (RSC delivery), edits and deletions followed; the summary's
buttons work from the card.
"""

import asyncio
import json


def db_rows(h, sql, *args):
    return h.db_rows(sql, args)


async def wait_rows(h, sql, want, *args, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = db_rows(h, sql, *args)
        if (want(rows) if callable(want) else rows == want):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("%s gave %r, want %r" % (sql, rows, want))
        await asyncio.sleep(0.05)


def card_actions(activity):
    for att in activity.get("attachments") or []:
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
            return att["content"].get("actions") or []
    return []


async def declare(h, text="incident declare P1 Database down", user="alice"):
    """Declare from the team's General channel; return (the command, the thread's create call)."""
    inc = h.teams_channels["incidents"]

    def threads():
        return [c for c in h.teams.calls if c["kind"] == "create_conversation" and c["status"] == 201
                and c["body"]["channelData"]["channel"]["id"] == inc]
    before = len(threads())
    act = await h.teams_command(text, user=user)
    reply = await h.teams_reply_to(act)
    assert "Declared" in h.teams_text(reply["body"]), reply["body"]
    made = await h.teams.wait_until(lambda: threads()[before:], 10, "the incident's thread")
    return act, made[0]


async def test_teams_declare_thread_and_announcement(h):
    await h.start_teams()
    await h.start()
    act, thread = await declare(h)
    conv = thread["response"]["id"]
    root = h.teams_text(thread["body"]["activity"])
    assert "incident-20261124" in root and "Database down" in root and "P1" in root, root
    # The incident talks in its thread: the summary card is posted there, with its buttons.
    summary = await h.teams_wait(lambda c: c["kind"] in ("send", "reply") and c["conversation_id"] == conv
                                 and c["status"] == 201, what="the summary in the thread")
    titles = [a["title"] for a in card_actions(summary["body"])]
    assert "Take commander" in titles or titles, titles
    rows = await wait_rows(h, "SELECT platform, channel, channel_name, severity FROM incidents",
                           [("teams", conv, "incident-20261124", "P1")])
    assert rows
    # Announced in the Teams announce channel (a new thread) and in Slack.
    ann = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201
                             and c["body"]["channelData"]["channel"]["id"] == h.teams_channels["announce"],
                             what="the announcement in Teams")
    assert "Database down" in h.teams_text(ann["body"]["activity"])
    slack = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0INCIDENT")
    assert "Database down" in h.message_text(slack["args"])
    # No Slack channel is created for a Teams incident.
    assert not [c for c in h.sim.calls if c["method"] == "conversations.create"]


async def test_teams_second_incident_same_day_gets_suffix(h):
    await h.start_teams()
    await h.start()
    await declare(h)
    await declare(h, "incident declare P2 Cache misses")
    await wait_rows(h, "SELECT channel_name FROM incidents ORDER BY id",
                    [("incident-20261124",), ("incident-20261124-2",)])
    roots = [h.teams_text(c["body"]["activity"]) for c in h.teams.calls
             if c["kind"] == "create_conversation" and c["body"]["channelData"]["channel"]["id"]
             == h.teams_channels["incidents"]]
    assert any("incident-20261124-2" in r for r in roots), roots


async def test_teams_roles_and_timeline_from_the_thread(h):
    """In the thread: `@klaxon incident role scribe @Bob` (a Teams mention) gives bob the role;
    replies without the mention are timeline entries (with their authors), edited and deleted
    as in Teams; `@klaxon incident timeline` lists them."""
    await h.start_teams()
    await h.start()
    act, thread = await declare(h)
    conv = thread["response"]["id"]
    root = conv.split(";messageid=")[1]
    inc_ch = h.teams_channels["incidents"]
    await wait_rows(h, "SELECT channel FROM incidents", [(conv,)])
    cmd = h.teams.channel_mention("incident role scribe <at>Bob Example</at>", channel_id=inc_ch,
                                  thread_root=root, mention_users=["bob"])
    status, _ = await h.teams_send(cmd)
    assert status == 200
    reply = await h.teams_reply_to(cmd)
    assert "scribe" in h.teams_text(reply["body"]).lower(), reply["body"]
    await wait_rows(h, "SELECT role, who FROM incident_roles WHERE role = 'scribe'",
                    lambda r: r and r[0][1] == "bob")
    # The thread talks: RSC delivers replies without the mention.
    said = h.teams.channel_message("primary is failing over to db-2 <now>", user="carol",
                                   channel_id=inc_ch, thread_root=root)
    status, _ = await h.teams_send(said)
    assert status == 200
    await wait_rows(h, "SELECT who, text FROM incident_timeline WHERE kind = 'message'",
                    [("carol", "primary is failing over to db-2 <now>")])
    edited = h.teams.message_update(said, "primary failed over to db-2")
    status, _ = await h.teams_send(edited)
    assert status == 200
    await wait_rows(h, "SELECT text FROM incident_timeline WHERE kind = 'message'",
                    lambda r: r and "failed over" in r[0][0])
    # A message elsewhere is not this incident's.
    other = h.teams.channel_message("unrelated chatter", channel_id=h.teams_channels["announce"])
    await h.teams_send(other)
    # `incident timeline` typed in the thread answers in the thread.
    tl = h.teams.channel_mention("incident timeline", channel_id=inc_ch, thread_root=root)
    await h.teams_send(tl)
    answer = await h.teams_reply_to(tl)
    text = h.teams_text(answer["body"])
    assert "failed over to db-2" in text and "unrelated" not in text, text
    gone = h.teams.message_delete(said)
    status, _ = await h.teams_send(gone)
    assert status == 200
    await wait_rows(h, "SELECT count(*) FROM incident_timeline WHERE kind = 'message' AND deleted_at = 0",
                    [(0,)])


async def test_teams_summary_button_take_commander(h):
    """The summary card's Take commander button, clicked in Teams (Action.Execute): bob becomes
    commander, the answer comes in the invoke response, the card is updated in place."""
    await h.start_teams()
    await h.start()
    act, thread = await declare(h)
    conv = thread["response"]["id"]
    summary = await h.teams_wait(lambda c: c["kind"] in ("send", "reply") and c["conversation_id"] == conv
                                 and c["status"] == 201 and card_actions(c["body"]),
                                 what="the summary card")
    card_id = summary["response"]["id"]
    take = [a for a in card_actions(summary["body"]) if a["title"] == "Take commander"][0]
    click = h.teams.adaptive_action(take["verb"], take["data"], card_id, conversation_id=conv,
                                    user="bob", channel_id=h.teams_channels["incidents"])
    status, body = await h.teams_send(click)
    assert status == 200, body
    j = json.loads(body)
    assert j["statusCode"] == 200 and "commander" in j["value"].lower(), j
    await wait_rows(h, "SELECT who FROM incident_roles WHERE role = 'commander'", [("bob",)])
    upd = await h.teams_wait(lambda c: c["kind"] == "update" and c["activity_id"] == card_id
                             and c["status"] == 200 and "Commander: **bob**" in h.teams_text(c["body"]),
                             what="the summary updated with bob as commander")
    assert upd


async def test_teams_thread_fallback_when_channel_refuses(h):
    """The incident channel refuses the thread (the bot was removed there: 403): the incident
    talks in the conversation it was declared in instead."""
    await h.start_teams()
    await h.start()
    h.expect_teams_errors = True
    h.teams.inject_blocked(kind="create_conversation", times=1)
    act = await h.teams_command("incident declare P2 Queue backlog")
    await h.teams_reply_to(act)
    await wait_rows(h, "SELECT channel FROM incidents", [(act["conversation"]["id"],)])
    await wait_rows(h, "SELECT state, error FROM teams_threads", [("failed", "MessageWritesBlocked")])
