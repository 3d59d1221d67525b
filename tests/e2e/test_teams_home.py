"""The team's view on Teams (issue 16): `oncall` in the bot's 1:1 chat answers the Home as an
Adaptive Card; its buttons (Action.Execute) answer in place with the forms as cards (Input.*),
a refused submission comes back as the filled form with the problem on top, an accepted one as
the Home again; Acknowledge on a page answers with the Home, the page acknowledged. The Teams
simulator checks every card (validate_card: inputs, choices, dates, verbs, six actions)."""

import json

from harness import timeout
from alerting import db_rows, db_value, wait_db
import teams_sim


async def start(h):
    await h.start_teams()
    h.time_scale = 0.000001
    await h.start()


def actions(card):
    return {a["title"]: a for a in card.get("actions") or []}


def texts(card):
    out = []
    for e in card.get("body") or []:
        if e.get("type") == "TextBlock":
            out.append(e["text"])
        for f in e.get("facts") or []:
            out.append("%s: %s" % (f["title"], f["value"]))
    return "\n".join(out)


def inputs(card):
    return {e["id"]: e for e in card.get("body") or [] if str(e.get("type", "")).startswith("Input.")}


async def home_card(h, user="alice"):
    act = h.teams.personal_message("oncall", user=user)
    status, _ = await h.teams_send(act)
    assert status == 200
    call = await h.teams_reply_to(act)
    atts = call["body"].get("attachments") or []
    assert atts and atts[0]["contentType"] == "application/vnd.microsoft.card.adaptive", call["body"]
    card = atts[0]["content"]
    assert not teams_sim.validate_card(card), teams_sim.validate_card(card)
    return call, card


async def click(h, call, action, data=None, user="alice"):
    """Action.Execute on the card of `call` (the bot's 1:1 reply); returns the invoke answer."""
    act = h.teams.adaptive_action(action["verb"], dict(action.get("data") or {}, **(data or {})),
                                  call["response"]["id"], conversation_id=call["conversation_id"], user=user)
    status, body = await h.teams_send(act)  # the simulator checks a card answer
    assert status == 200, body
    return json.loads(body)


@timeout(30)
async def test_teams_home_card_in_a_personal_chat(h):
    await start(h)
    call, card = await home_card(h)
    text = texts(card)
    assert "On call now" in text and "platform" in text and "Your next shifts" in text, text
    assert set(actions(card)) == {"Declare incident", "Override", "I'm away", "Swap", "Page someone"}
    # in a channel, `oncall` is still the who-is-on-call text
    act = await h.teams_command("oncall")
    reply = await h.teams_reply_to(act)
    assert not reply["body"].get("attachments") and "platform" in h.teams_text(reply["body"])


@timeout(30)
async def test_teams_override_form_answered_in_place(h):
    await start(h)
    call, card = await home_card(h)
    j = await click(h, call, actions(card)["Override"])
    assert j["type"] == "application/vnd.microsoft.card.adaptive", j
    form = j["value"]
    ins = inputs(form)
    assert list(ins) == ["who", "rota", "from", "to", "slot"], list(ins)
    assert ins["from"]["type"] == "Input.Date" and ins["from"]["value"] == "2026-11-24"
    assert {c["value"] for c in ins["who"]["choices"]} >= {"alice", "bob", "carol"}
    submit = actions(form)["Override"]
    assert submit["type"] == "Action.Execute" and submit["verb"] == "oncall.override"
    # the last day before the first: the form again, filled, the problem on top; nothing stored
    bad = {"who": "carol", "rota": "platform", "from": "2026-11-27", "to": "2026-11-26", "slot": "secondary"}
    j = await click(h, call, submit, bad)
    again = j["value"]
    assert "cannot be before the first" in texts(again), texts(again)
    assert inputs(again)["who"]["value"] == "carol" and inputs(again)["to"]["value"] == "2026-11-26"
    assert db_value(h, "SELECT count(*) FROM rota_changes") == 0
    # someone klaxon does not know
    j = await click(h, call, submit, dict(bad, who="mallory", to="2026-11-28"))
    assert "Pick a person" in texts(j["value"]), texts(j["value"])
    # accepted: the Home again, the answer on top, the override stored
    j = await click(h, call, submit, dict(bad, to="2026-11-28"))
    home = j["value"]
    assert "On call now" in texts(home) and "carol" in texts(home).lower(), texts(home)
    rows = db_rows(h, "SELECT kind, person, secondary, created_by FROM rota_changes")
    assert rows == [("override", "carol", 1, "alice")], rows


@timeout(30)
async def test_teams_page_form_and_acknowledge_from_the_home(h):
    await start(h)
    call, card = await home_card(h)
    form = (await click(h, call, actions(card)["Page someone"]))["value"]
    submit = actions(form)["Page"]
    j = await click(h, call, submit, {"rota": "platform", "severity": "P1", "text": "queue backlog"})
    assert "On call now" in texts(j["value"]), texts(j["value"])
    await wait_db(h, "SELECT count(*) FROM pages", lambda r: r[0][0] == 1)
    # alice holds platform's primary: her Home lists the page with Acknowledge
    call, card = await home_card(h)
    assert "queue backlog" in texts(card), texts(card)
    j = await click(h, call, actions(card)["Acknowledge"])
    assert j["type"] == "application/vnd.microsoft.card.adaptive", j
    assert "Acknowledge" not in actions(j["value"]) and "acknowledged" in texts(j["value"])
    assert db_value(h, "SELECT state FROM pages") == "acked"


async def reply_card(h, text, user="alice"):
    act = h.teams.personal_message(text, user=user)
    status, _ = await h.teams_send(act)
    assert status == 200
    call = await h.teams_reply_to(act)
    card = call["body"]["attachments"][0]["content"]
    assert not teams_sim.validate_card(card), teams_sim.validate_card(card)
    return call, card


@timeout(40)
async def test_teams_declare_and_action_item_cards(h):
    await start(h)
    call, card = await home_card(h)
    form = (await click(h, call, actions(card)["Declare incident"]))["value"]
    assert list(inputs(form)) == ["title", "severity", "description"], list(inputs(form))
    submit = actions(form)["Declare"]
    j = await click(h, call, submit, {"title": "   ", "severity": "P1"})
    assert "Give the incident a title." in texts(j["value"]), texts(j["value"])
    assert db_value(h, "SELECT count(*) FROM incidents") == 0
    j = await click(h, call, submit, {"title": "Search is down", "severity": "P1",
                                      "description": "every query 500s"})
    assert "Search is down" in texts(j["value"]), texts(j["value"])  # the Home, the incident in it
    rows = await wait_db(h, "SELECT id, title, severity, platform FROM incidents", lambda r: r)
    assert rows[0][1:] == ("Search is down", "P1", "teams"), rows
    iid = rows[0][0]
    await wait_db(h, "SELECT channel FROM incidents", lambda r: r and r[0][0])
    # the action item form: `incident action` without words, as a card
    call, card = await reply_card(h, "incident action")
    ins = inputs(card)
    assert list(ins) == ["incident", "who", "text"], list(ins)
    assert [c["value"] for c in ins["incident"]["choices"]] == [str(iid)]
    submit = actions(card)["Add"]
    j = await click(h, call, submit, {"incident": str(iid), "who": "nobody", "text": ""})
    assert "Pick the person" in texts(j["value"]) and "Say what is to be done" in texts(j["value"])
    j = await click(h, call, submit, {"incident": str(iid), "who": "carol", "text": "add a search canary"})
    assert "On call now" in texts(j["value"]), texts(j["value"])
    rows = await wait_db(h, "SELECT incident_id, owner, text FROM incident_actions", lambda r: r)
    assert rows == [(iid, "carol", "add a search canary")], rows
