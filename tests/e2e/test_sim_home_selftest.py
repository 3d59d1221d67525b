"""The simulators' checks added for issue 16 refuse what Slack and Teams refuse: views over 100
blocks, option texts over 75 characters and values over 150, an initial_option that is no
option, a datepicker date that does not exist, a users_select initial_user that is no user id,
duplicate block ids; chat.unfurl of a URL the message does not hold; an Adaptive Card with an
input without id, a choice value that is none of the choices, an Action.Execute without verb,
more than six actions. Each check is shown to pass a good view first, so none is vacuous."""

import copy

from test_sim_selftest import Client
import teams_sim

E2E_RUNS_KLAXON = False  # the simulators' own tests, no klaxon code: `run.py --klaxon-only` (the sanitizer pass) skips them

HOME = {"type": "home", "blocks": [
    {"type": "section", "block_id": "a", "text": {"type": "mrkdwn", "text": "On call: alice"}},
    {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Rota"},
     "element": {"type": "static_select", "action_id": "rota",
                 "options": [{"text": {"type": "plain_text", "text": "platform"}, "value": "platform"}],
                 "initial_option": {"text": {"type": "plain_text", "text": "platform"}, "value": "platform"}}},
    {"type": "input", "block_id": "c", "label": {"type": "plain_text", "text": "From"},
     "element": {"type": "datepicker", "action_id": "from", "initial_date": "2028-02-29"}},
    {"type": "input", "block_id": "d", "label": {"type": "plain_text", "text": "Who"},
     "element": {"type": "users_select", "action_id": "who", "initial_user": "U0ALICE001"}},
]}


def broken(path_fn):
    v = copy.deepcopy(HOME)
    path_fn(v)
    return v


async def test_views_refused_past_block_kit_limits(h):
    async with Client(h.sim) as c:
        await c.ok("views.publish", {"user_id": "U0ALICE001", "view": HOME})
        cases = {
            "no more than 100 items": broken(lambda v: v.update(blocks=[
                {"type": "divider", "block_id": "x%d" % i} for i in range(101)])),
            "must be less than 76 characters": broken(lambda v: v["blocks"][1]["element"]["options"][0]["text"]
                                                      .update(text="x" * 76)),
            "must be less than 151 characters": broken(lambda v: v["blocks"][1]["element"]["options"][0]
                                                       .update(value="x" * 151)),
            "initial_option must be one of the options": broken(
                lambda v: v["blocks"][1]["element"]["initial_option"].update(value="web")),
            "valid date": broken(lambda v: v["blocks"][2]["element"].update(initial_date="2026-02-29")),
            "valid user id": broken(lambda v: v["blocks"][3]["element"].update(initial_user="alice")),
            "duplicate block_id": broken(lambda v: v["blocks"][2].update(block_id="a")),
        }
        for words, view in cases.items():
            status, _, body = await c.call("views.publish", {"user_id": "U0ALICE001", "view": view})
            assert body["ok"] is False and body["error"] == "invalid_arguments", (words, body)
            assert any(words in m for m in body["response_metadata"]["messages"]), (words, body)


async def test_chat_unfurl_checks_the_message_and_blocks(h):
    async with Client(h.sim) as c:
        m, rec = h.sim.share_links("U0ALICE001", "C0INCIDENT", "see <https://klaxon.example.com/incidents/3>")
        assert rec["envelope"]["payload"]["event"]["links"] == [
            {"domain": "klaxon.example.com", "url": "https://klaxon.example.com/incidents/3"}]
        card = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Incident #3*"}}]}
        await c.ok("chat.unfurl", {"channel": "C0INCIDENT", "ts": m["ts"],
                                   "unfurls": {"https://klaxon.example.com/incidents/3": card}})
        assert await c.err("chat.unfurl", {"channel": "C0INCIDENT", "ts": m["ts"],
                                           "unfurls": {"https://klaxon.example.com/incidents/4": card}}) \
            == "cannot_unfurl_url"
        big = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]}
        assert await c.err("chat.unfurl", {"channel": "C0INCIDENT", "ts": m["ts"],
                                           "unfurls": {"https://klaxon.example.com/incidents/3": big}}) \
            == "invalid_blocks"
        # a link to another host is not the app's to unfurl: no event
        _, none = h.sim.share_links("U0ALICE001", "C0INCIDENT", "see <https://example.org/incidents/3>")
        assert none is None


async def test_adaptive_card_checks(h):
    good = {"type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "Override"},
        {"type": "Input.ChoiceSet", "id": "who", "value": "carol",
         "choices": [{"title": "carol", "value": "carol"}]},
        {"type": "Input.Date", "id": "from", "value": "2026-11-24"}],
        "actions": [{"type": "Action.Execute", "title": "Go", "verb": "oncall.override"}]}
    assert teams_sim.validate_card(good) == []
    cases = {
        "needs an id": lambda c: c["body"][1].pop("id"),
        "none of the choices": lambda c: c["body"][1].update(value="mallory"),
        "YYYY-MM-DD": lambda c: c["body"][2].update(value="24.11.2026"),
        "needs a verb": lambda c: c["actions"][0].pop("verb"),
        "more than 6 actions": lambda c: c.update(actions=[dict(c["actions"][0]) for _ in range(7)]),
        "duplicate input id": lambda c: c["body"][2].update(id="who"),
        "unknown element": lambda c: c["body"].append({"type": "Input.Rating", "id": "r"}),
    }
    for words, f in cases.items():
        c = copy.deepcopy(good)
        f(c)
        errs = teams_sim.validate_card(c)
        assert any(words in e for e in errs), (words, errs)
