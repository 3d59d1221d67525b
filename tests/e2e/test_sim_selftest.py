"""Self-tests of the Slack simulator and the harness: they talk to the simulator as a client
would (aiohttp's HTTP and WebSocket clients) and need no klaxon binary."""

import asyncio
import json
import os
import re
import sys
import tempfile
import time

import aiohttp
import yaml

from harness import ROOT, SimTimeout, cases, engines, sim_options, timeout, to_yaml

import slack_model as M

E2E_RUNS_KLAXON = False  # the simulators' own tests, no klaxon code: `run.py --klaxon-only` (the sanitizer pass) skips them

FIX = M.FIXTURES


def fixture(name):
    with open(os.path.join(FIX, name), encoding="utf-8") as f:
        return json.load(f)


def keys(d):
    return list(d.keys())


class Client:
    """A minimal Slack client: Web API calls and Socket Mode connections."""

    def __init__(self, sim):
        self.sim = sim
        self.s = aiohttp.ClientSession()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.s.close()

    async def call(self, method, args=None, token=M.BOT_TOKEN, form=False, headers=None, data=None):
        """(HTTP status, response headers, parsed JSON or text)."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if data is not None:
            kw = {"data": data}
        elif form:
            kw = {"data": {k: (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for k, v in (args or {}).items()}}
        else:
            kw = {"data": json.dumps(args or {}).encode()}
            hdrs.setdefault("Content-Type", "application/json; charset=utf-8")
        async with self.s.post(self.sim.api_url + method, headers=hdrs, **kw) as r:
            text = await r.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
            return r.status, r.headers, body

    async def ok(self, method, args=None, **kw):
        status, _, body = await self.call(method, args, **kw)
        assert status == 200 and body.get("ok") is True, "%s: HTTP %s %s" % (method, status, body)
        return body

    async def err(self, method, args=None, **kw):
        status, _, body = await self.call(method, args, **kw)
        assert status == 200 and body.get("ok") is False, "%s: want an error, got HTTP %s %s" % (method, status, body)
        return body["error"]

    async def connect(self, **ws_kw):
        """apps.connections.open + WebSocket; returns (ws, hello)."""
        body = await self.ok("apps.connections.open", token=M.APP_TOKEN, form=True)
        ws = await self.s.ws_connect(body["url"], autoping=ws_kw.pop("autoping", True), **ws_kw)
        hello = json.loads((await ws.receive(timeout=5)).data)
        return ws, hello


async def recv_json(ws, timeout=3.0, skip_pings=True):
    while True:
        m = await ws.receive(timeout=timeout)
        if m.type == aiohttp.WSMsgType.TEXT:
            return json.loads(m.data)
        if m.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG) and skip_pings:
            continue
        raise AssertionError("expected a text frame, got %s %r" % (m.type, m.data))


# ---------------------------------------------------------------------------- Web API basics


async def test_auth_test_shape_and_tokens(h):
    async with Client(h.sim) as c:
        body = await c.ok("auth.test")
        spec = fixture("auth_test_ok.json")
        assert set(spec) <= set(body), (spec.keys(), body.keys())
        assert body["user_id"] == M.BOT_USER_ID and body["bot_id"] == M.BOT_ID
        assert await c.err("auth.test", token=None) == "not_authed"
        assert await c.err("auth.test", token="xoxb-not-a-known-token") == "invalid_auth"
        assert await c.err("auth.test", token=M.APP_TOKEN) == "not_allowed_token_type"
        assert await c.err("chat.postMessage", {"channel": "C0INCIDENT", "text": "x"}, token=M.APP_TOKEN) == "not_allowed_token_type"
        assert await c.err("apps.connections.open", token=M.BOT_TOKEN, form=True) == "not_allowed_token_type"
        assert await c.err("apps.connections.open", token="xapp-1-unknown", form=True) == "invalid_auth"
        assert await c.err("apps.connections.open", token=None, form=True) == "not_authed"
        # a form body may carry the token as a field; a JSON body may not
        await c.ok("auth.test", {"token": M.BOT_TOKEN}, token=None, form=True)
        assert await c.err("auth.test", {"token": M.BOT_TOKEN}, token=None) == "not_authed"
        calls = h.sim.calls_of("auth.test")
        assert calls[0]["token"] == M.BOT_TOKEN and calls[0]["content_type"].startswith("application/json")
        assert calls[-2]["token_source"] == "form"


async def test_body_errors(h):
    async with Client(h.sim) as c:
        auth = {"Authorization": "Bearer " + M.BOT_TOKEN}
        assert await c.err("auth.test", data=b"{nope", headers={"Content-Type": "application/json"}) == "invalid_json"
        assert await c.err("auth.test", data=b"[1,2]", headers={"Content-Type": "application/json"}) == "json_not_object"
        assert await c.err("auth.test", data=b"{}", headers={"Content-Type": "application/xml"}) == "invalid_post_type"
        assert await c.err("auth.test", data=b"{}", headers={"Content-Type": "application/json; charset=koi8-r"}) == "invalid_charset"
        await c.ok("auth.test", data=b"{}", headers={"Content-Type": "application/json; charset=utf-8"})
        # a body without a Content-Type at all
        r = await c.s.post(h.sim.api_url + "auth.test", data=b"abc", headers=auth,
                           skip_auto_headers=["Content-Type"])
        body = await r.json(content_type=None)
        assert r.status == 200 and body["error"] == "missing_post_type", body
        assert await c.err("chat.nonsense", {}) == "unknown_method"
        r = await c.s.post(h.sim.api_url + "auth.test", data=b"{}", headers={"Content-Type": "application/json",
                                                                             "Authorization": "Basic abc"})
        assert (await r.json())["error"] == "invalid_auth"


async def test_post_message_rules(h):
    async with Client(h.sim) as c:
        body = await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "hello <world>"})
        spec = fixture("chat_postMessage_ok.json")
        assert set(["ok", "channel", "ts", "message"]) <= set(body) and set(body) <= set(spec) | {"warning", "response_metadata"}
        assert re.fullmatch(r"\d{10}\.\d{6}", body["ts"]), body["ts"]
        assert body["message"]["bot_id"] == M.BOT_ID and body["message"]["text"] == "hello <world>"
        assert h.sim.find_message(h.sim.channels["C0INCIDENT"], body["ts"])["text"] == "hello <world>"
        assert await c.err("chat.postMessage", {"channel": "C0INCIDENT"}) == "no_text"
        assert await c.err("chat.postMessage", {"channel": "C0NOSUCH01", "text": "x"}) == "channel_not_found"
        assert await c.err("chat.postMessage", {"text": "x"}) == "channel_not_found"
        # private channel the bot is not in: invisible
        assert await c.err("chat.postMessage", {"channel": "C0PRIVATE1", "text": "x"}) == "channel_not_found"
        # public channel the bot is not in: chat:write.public decides
        await c.ok("chat.postMessage", {"channel": "C0GENERAL1", "text": "x"})
        h.sim.opts["chat_write_public"] = False
        assert await c.err("chat.postMessage", {"channel": "C0GENERAL1", "text": "x"}) == "not_in_channel"
        # 40,000 characters and more: truncated, with the warning (fixture chat_postMessage_message_truncated_warning.json)
        body = await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "y" * 40001})
        warn = fixture("chat_postMessage_message_truncated_warning.json")["response_metadata"]
        assert body["response_metadata"] == warn and body["warning"] == "message_truncated"
        assert len(body["message"]["text"]) == 40000
        # form-encoded with blocks as a JSON string
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
        body = await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "fallback", "blocks": blocks}, form=True)
        assert body["message"]["blocks"] == blocks
        assert await c.err("chat.postMessage", {"channel": "C0ONCALL01", "blocks": "{not json"}, form=True) == "invalid_blocks_format"
        assert await c.err("chat.postMessage", {"channel": "C0ONCALL01", "text": "x",
                                                "attachments": [{"text": "a"}] * 101}) == "too_many_attachments"


@cases([
    {"id": "section_text_3001", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}],
     "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]},
    {"id": "51_blocks", "blocks": [{"type": "divider"}] * 51, "errors": ["no more than 50 items allowed [json-pointer:/blocks]"]},
    {"id": "header_151", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
     "errors": ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"]},
    {"id": "button_value_2001", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}, "value": "v" * 2001}]}],
     "errors": ["must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"]},
    {"id": "button_text_76", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}]}],
     "errors": ["must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"]},
    {"id": "block_id_256", "blocks": [{"type": "divider", "block_id": "i" * 256}],
     "errors": ["must be less than 256 characters [json-pointer:/blocks/0/block_id]"]},
    {"id": "actions_26", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "a%d" % i, "text": {"type": "plain_text", "text": "b"}} for i in range(26)]}],
     "errors": ["no more than 25 items allowed [json-pointer:/blocks/0/elements]"]},
    {"id": "fields_11", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     "errors": ["no more than 10 items allowed [json-pointer:/blocks/0/fields]"]},
    {"id": "context_11", "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "errors": ["no more than 10 items allowed [json-pointer:/blocks/0/elements]"]},
    {"id": "unknown_type", "blocks": [{"type": "hologram"}], "errors": ["unsupported type: hologram [json-pointer:/blocks/0/type]"]},
    {"id": "ok_50", "blocks": [{"type": "divider"}] * 50, "errors": None},
    {"id": "ok_3000", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3000}}], "errors": None},
])
async def test_block_kit_limits(h, case):
    async with Client(h.sim) as c:
        status, _, body = await c.call("chat.postMessage", {"channel": "C0INCIDENT", "text": "t", "blocks": case["blocks"]})
        assert status == 200
        if case["errors"] is None:
            assert body["ok"] is True, body
        else:
            assert body["ok"] is False and body["error"] == "invalid_blocks", body
            assert body["errors"] == case["errors"], body["errors"]
            assert body["response_metadata"]["messages"] == ["[ERROR] " + e for e in case["errors"]]


async def test_update_delete_ephemeral(h):
    async with Client(h.sim) as c:
        posted = await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "v1"})
        body = await c.ok("chat.update", {"channel": "C0INCIDENT", "ts": posted["ts"], "text": "v2"})
        assert set(fixture("chat_update_ok.json")) <= set(body) and body["text"] == "v2"
        assert h.sim.find_message(h.sim.channels["C0INCIDENT"], posted["ts"])["text"] == "v2"
        assert await c.err("chat.update", {"channel": "C0INCIDENT", "ts": "1111111111.000001", "text": "x"}) == "message_not_found"
        m, _ = h.sim.user_message("U0ALICE001", "C0INCIDENT", "a human wrote this", deliver=False)
        assert await c.err("chat.update", {"channel": "C0INCIDENT", "ts": m["ts"], "text": "x"}) == "cant_update_message"
        assert await c.err("chat.delete", {"channel": "C0INCIDENT", "ts": m["ts"]}) == "cant_delete_message"
        await c.ok("chat.delete", {"channel": "C0INCIDENT", "ts": posted["ts"]})
        assert h.sim.find_message(h.sim.channels["C0INCIDENT"], posted["ts"]) is None
        body = await c.ok("chat.postEphemeral", {"channel": "C0STAKEHLD", "user": "U0ERIN0001", "text": "psst"})
        assert set(body) == set(fixture("chat_postEphemeral_ok.json"))
        assert await c.err("chat.postEphemeral", {"channel": "C0STAKEHLD", "user": "U0ALICE001", "text": "x"}) == "user_not_in_channel"
        assert await c.err("chat.postEphemeral", {"channel": "C0STAKEHLD", "user": "U0NOBODY01", "text": "x"}) == "user_not_found"


@cases([
    {"id": "upper", "name": "Incident-1", "error": "invalid_name_specials"},
    {"id": "space", "name": "incident 1", "error": "invalid_name_specials"},
    {"id": "dot", "name": "incident.1", "error": "invalid_name_specials"},
    {"id": "81", "name": "i" * 81, "error": "invalid_name_maxlength"},
    {"id": "punct", "name": "--_-", "error": "invalid_name_punctuation"},
    {"id": "empty", "name": "", "error": "invalid_name_required"},
    {"id": "taken", "name": "incidents", "error": "name_taken"},
    {"id": "ok80", "name": "i" * 80, "error": None},
    {"id": "ok", "name": "incident-20261124", "error": None},
])
async def test_channel_names(h, case):
    async with Client(h.sim) as c:
        if case["error"]:
            assert await c.err("conversations.create", {"name": case["name"]}) == case["error"]
        else:
            body = await c.ok("conversations.create", {"name": case["name"]})
            ch = body["channel"]
            assert set(fixture("conversations_create_ok.json")["channel"]) <= set(ch)
            assert ch["name"] == case["name"] and ch["id"].startswith("C") and ch["is_member"] is True
            assert await c.err("conversations.create", {"name": case["name"]}) == "name_taken"


async def test_conversations_lifecycle(h):
    async with Client(h.sim) as c:
        ch = (await c.ok("conversations.create", {"name": "incident-20261124-2"}))["channel"]["id"]
        body = await c.ok("conversations.invite", {"channel": ch, "users": "U0ALICE001,U0BOB00001"})
        assert {"U0ALICE001", "U0BOB00001"} <= set(h.sim.channels[ch]["members"])
        assert set(fixture("conversations_invite_ok.json")["channel"]) - set(body["channel"]) <= {
            "is_read_only", "locale", "unlinked"} | set(fixture("conversations_invite_ok.json")["channel"]) - set(
            fixture("conversations_create_ok.json")["channel"])
        assert await c.err("conversations.invite", {"channel": ch, "users": "U0ALICE001"}) == "already_in_channel"
        assert await c.err("conversations.invite", {"channel": ch, "users": M.BOT_USER_ID}) == "cant_invite_self"
        assert await c.err("conversations.invite", {"channel": ch, "users": "U0NOBODY01"}) == "user_not_found"
        assert await c.err("conversations.invite", {"channel": "C0GENERAL1", "users": "U0ALICE001"}) == "not_in_channel"
        assert await c.err("conversations.invite", {"channel": "C0NOSUCH01", "users": "U0ALICE001"}) == "channel_not_found"
        await c.ok("conversations.setTopic", {"channel": ch, "topic": "t" * 250})
        assert await c.err("conversations.setTopic", {"channel": ch, "topic": "t" * 251}) == "too_long"
        await c.ok("conversations.setPurpose", {"channel": ch, "purpose": "Incident: db down"})
        info = (await c.ok("conversations.info", {"channel": ch}))["channel"]
        assert info["topic"]["value"] == "t" * 250 and info["purpose"]["value"] == "Incident: db down"
        assert await c.err("conversations.setTopic", {"channel": "C0GENERAL1", "topic": "x"}) == "not_in_channel"
        posted = await c.ok("chat.postMessage", {"channel": ch, "text": "summary"})
        await c.ok("pins.add", {"channel": ch, "timestamp": posted["ts"]})
        assert await c.err("pins.add", {"channel": ch, "timestamp": posted["ts"]}) == "already_pinned"
        assert await c.err("pins.add", {"channel": ch}) == "no_item_specified"
        assert await c.err("pins.add", {"channel": ch, "timestamp": "1111111111.000001"}) == "message_not_found"
        await c.ok("reactions.add", {"channel": ch, "timestamp": posted["ts"], "name": "eyes"})
        assert await c.err("reactions.add", {"channel": ch, "timestamp": posted["ts"], "name": "eyes"}) == "already_reacted"
        bm = await c.ok("bookmarks.add", {"channel_id": ch, "title": "Runbook", "type": "link", "link": "https://runbooks.example.com/db"})
        assert bm["bookmark"]["id"].startswith("Bk") and bm["bookmark"]["link"] == "https://runbooks.example.com/db"
        assert await c.err("bookmarks.add", {"channel_id": ch, "title": "x", "type": "link", "link": "ftp://x"}) == "invalid_link"
        assert await c.err("bookmarks.add", {"channel_id": ch, "title": "x", "type": "folder", "link": "https://x"}) == "invalid_bookmark_type"
        await c.ok("conversations.archive", {"channel": ch})
        assert await c.err("conversations.archive", {"channel": ch}) == "already_archived"
        assert await c.err("chat.postMessage", {"channel": ch, "text": "late"}) == "is_archived"
        assert await c.err("conversations.setTopic", {"channel": ch, "topic": "x"}) == "is_archived"
        assert await c.err("conversations.invite", {"channel": ch, "users": "U0CAROL001"}) == "is_archived"
        assert await c.err("conversations.archive", {"channel": "C0GENERAL1"}) == "cant_archive_general"
        assert await c.err("conversations.archive", {"channel": "C0NOSUCH01"}) == fixture(
            "conversations_archive_channel_not_found.json")["error"]


@sim_options(rate_limits=False)
async def test_dm_history_replies_pagination(h):
    async with Client(h.sim) as c:
        dm = (await c.ok("conversations.open", {"users": "U0CAROL001"}))["channel"]["id"]
        assert dm.startswith("D")
        again = await c.ok("conversations.open", {"users": "U0CAROL001"})
        assert again["channel"]["id"] == dm and again.get("already_open") is True
        await c.ok("chat.postMessage", {"channel": dm, "text": "you are paged"})
        assert h.sim.channels[dm]["messages"][-1]["text"] == "you are paged"
        assert await c.err("conversations.open", {"users": "U0NOBODY01"}) == "user_not_found"
        assert await c.err("conversations.open", {}) == "users_list_not_supplied"
        tss = [(await c.ok("chat.postMessage", {"channel": "C0ALERTS01", "text": "m%d" % i}))["ts"] for i in range(5)]
        for i in range(3):
            await c.ok("chat.postMessage", {"channel": "C0ALERTS01", "text": "r%d" % i, "thread_ts": tss[0]})
        page1 = await c.ok("conversations.history", {"channel": "C0ALERTS01", "limit": 3}, form=True)
        assert [m["text"] for m in page1["messages"]] == ["m4", "m3", "m2"] and page1["has_more"] is True
        page2 = await c.ok("conversations.history", {"channel": "C0ALERTS01", "limit": 3,
                                                     "cursor": page1["response_metadata"]["next_cursor"]},
                     form=True)
        assert [m["text"] for m in page2["messages"]] == ["m1", "m0"] and page2["has_more"] is False
        assert page2["messages"][1]["reply_count"] == 3
        rep = await c.ok("conversations.replies", {"channel": "C0ALERTS01", "ts": tss[0]})
        assert [m["text"] for m in rep["messages"]] == ["m0", "r0", "r1", "r2"]
        assert all(m["thread_ts"] == tss[0] for m in rep["messages"])
        assert await c.err("conversations.replies", {"channel": "C0ALERTS01", "ts": "1111111111.000001"}) == "thread_not_found"
        assert await c.err("conversations.history", {"channel": "C0ALERTS01", "cursor": "bm9wZQ=="},
                           form=True) == "invalid_cursor"
        assert await c.err("conversations.history", {"channel": "C0GENERAL1"}, form=True) == "not_in_channel"
        # A read method: a JSON body's fields are not read at all (no channel).
        assert await c.err("conversations.history", {"channel": "C0ALERTS01"}) == "channel_not_found"
        # Message metadata (issue 12's in-doubt check): stored with the message, returned by
        # conversations.history only with include_all_metadata, checked for its shape.
        md = {"event_type": "klaxon_outbox", "event_payload": {"row": 42}}
        posted = await c.ok("chat.postMessage", {"channel": "C0ALERTS01", "text": "with md", "metadata": md})
        plain = await c.ok("conversations.history", {"channel": "C0ALERTS01", "limit": 1}, form=True)
        assert plain["messages"][0]["ts"] == posted["ts"] and "metadata" not in plain["messages"][0]
        full = await c.ok("conversations.history", {"channel": "C0ALERTS01", "limit": 1,
                                                    "include_all_metadata": "true"}, form=True)
        assert full["messages"][0]["metadata"] == md
        formed = await c.ok("chat.postMessage", {"channel": "C0ALERTS01", "text": "form md", "metadata": md}, form=True)
        full = await c.ok("conversations.history", {"channel": "C0ALERTS01", "limit": 1,
                                                    "include_all_metadata": True}, form=True)
        assert full["messages"][0]["ts"] == formed["ts"] and full["messages"][0]["metadata"] == md
        for bad, err in (("not json", "invalid_metadata_format"), ([1], "invalid_metadata_format"),
                         ({"event_type": "x"}, "invalid_metadata_schema"),
                         ({"event_type": "", "event_payload": {}}, "invalid_metadata_schema"),
                         ({"event_type": "x", "event_payload": {"b": "y" * 9000}}, "metadata_too_large")):
            assert await c.err("chat.postMessage", {"channel": "C0ALERTS01", "text": "x", "metadata": bad}) == err
        h.sim.opts["bot_scopes"] = tuple(x for x in h.sim.opts["bot_scopes"] if x != "channels:history")
        try:
            st, _, body = await c.call("conversations.history", {"channel": "C0ALERTS01"}, form=True)
            assert body["error"] == "missing_scope" and body["needed"] == "channels:history", body
        finally:
            h.sim.opts["bot_scopes"] = h.sim.opts["bot_scopes"] + ("channels:history",)


async def test_users_and_usergroups(h):
    async with Client(h.sim) as c:
        u = (await c.ok("users.info", {"user": "U0FRANK001"}, form=True))["user"]
        assert set(fixture("users_info_ok.json")["user"]) <= set(u)
        assert u["tz"] == "America/New_York" and u["tz_offset"] in (-18000, -14400) and u["profile"]["email"] == "frank@example.com"
        assert await c.err("users.info", {"user": "U0NOBODY01"}, form=True) == "user_not_found"
        u = (await c.ok("users.lookupByEmail", {"email": "Alice@Example.com"}, form=True))["user"]
        assert u["id"] == "U0ALICE001"
        assert await c.err("users.lookupByEmail", {"email": "nobody@example.com"}, form=True) == fixture(
            "users_lookupByEmail_users_not_found.json")["error"]
        # Read methods ignore a JSON body's fields, as Slack does.
        assert await c.err("users.info", {"user": "U0FRANK001"}) == "user_not_found"
        assert await c.err("users.lookupByEmail", {"email": "alice@example.com"}) == "invalid_arguments"
        g = (await c.ok("usergroups.users.update", {"usergroup": "S0ONCALL01", "users": "U0ALICE001,U0BOB00001"}))["usergroup"]
        assert g["users"] == ["U0ALICE001", "U0BOB00001"] and h.sim.usergroups["S0ONCALL01"]["users"] == g["users"]
        assert await c.err("usergroups.users.update", {"usergroup": "S0NOSUCH01", "users": "U0ALICE001"}) == "no_such_subteam"
        assert await c.err("usergroups.users.update", {"usergroup": "S0ONCALL01", "users": "U0NOBODY01"}) == "invalid_users"


MODAL = {"type": "modal", "callback_id": "declare", "title": {"type": "plain_text", "text": "Declare an incident"},
         "submit": {"type": "plain_text", "text": "Declare"},
         "blocks": [{"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
                     "element": {"type": "plain_text_input", "action_id": "title_input"}},
                    {"type": "input", "block_id": "sev", "label": {"type": "plain_text", "text": "Severity"},
                     "element": {"type": "static_select", "action_id": "sev_select", "options": [
                         {"text": {"type": "plain_text", "text": "P1"}, "value": "P1"}]}}]}


@sim_options(trigger_ttl=0.3)
async def test_views_and_triggers(h):
    async with Client(h.sim) as c:
        assert h.sim.opts["trigger_ttl"] == 0.3
        rec = h.sim.slash("/incident", "declare")
        trig = rec["envelope"]["payload"]["trigger_id"]
        assert re.fullmatch(r"\d+\.\d+\.[0-9a-f]+", trig)
        long_title = dict(MODAL, title={"type": "plain_text", "text": "x" * 25})
        body = await c.call("views.open", {"trigger_id": trig, "view": long_title})
        assert body[2]["error"] == "invalid_arguments" and "/view/title/text" in body[2]["response_metadata"]["messages"][0]
        view = (await c.ok("views.open", {"trigger_id": trig, "view": MODAL}))["view"]
        assert set(fixture("views_open_ok.json")["view"]) <= set(view) and view["id"].startswith("V")
        assert await c.err("views.open", {"trigger_id": trig, "view": MODAL}) == "exchanged_trigger_id"
        assert await c.err("views.open", {"trigger_id": "123.456.abcdef", "view": MODAL}) == "invalid_trigger_id"
        bad = await c.call("views.open", {"trigger_id": "garbage", "view": MODAL})
        assert bad[2] == fixture("views_open_invalid_trigger_id.json")
        trig2 = h.sim.slash("/incident", "declare")["envelope"]["payload"]["trigger_id"]
        await asyncio.sleep(0.35)
        assert await c.err("views.open", {"trigger_id": trig2, "view": MODAL}) == "expired_trigger_id"
        upd = (await c.ok("views.update", {"view_id": view["id"], "hash": view["hash"], "view": MODAL}))["view"]
        assert upd["id"] == view["id"] and upd["hash"] != view["hash"]
        assert await c.err("views.update", {"view_id": view["id"], "hash": view["hash"], "view": MODAL}) == "hash_conflict"
        assert await c.err("views.update", {"view_id": "V0NOSUCH01", "view": MODAL}) == "not_found"
        home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "On call: alice"}}]}
        pub = (await c.ok("views.publish", {"user_id": "U0ALICE001", "view": home}, form=True))["view"]
        assert pub["type"] == "home" and set(fixture("views_publish_ok.json")["view"]) - {"submit"} <= set(pub)
        assert await c.err("views.publish", {"user_id": "U0NOBODY01", "view": home}) == "user_not_found"
        # a submission of the opened view carries the entered values in state.values
        sub = h.sim.view_submission("U0ALICE001", view["id"], {"title_input": "DB down", "sev_select": "P1"})
        p = sub["envelope"]["payload"]
        assert sub["envelope"]["accepts_response_payload"] is True and sub["envelope"]["type"] == "interactive"
        assert set(fixture("view_submission.json")) <= set(p)
        assert p["view"]["state"]["values"]["title"]["title_input"] == {"type": "plain_text_input", "value": "DB down"}
        assert p["view"]["state"]["values"]["sev"]["sev_select"]["selected_option"]["value"] == "P1"


async def test_default_time_limits(h):
    o = h.sim.opts
    assert (o["trigger_ttl"], o["ack_timeout"], o["max_event_retries"], o["max_connections"]) == (3.0, 3.0, 3, 10)
    assert (o["response_url_max"], o["response_url_ttl"]) == (5, 1800.0)
    assert 10 <= o["ping_interval"] <= 20 and o["chat_write_public"] is True and o["rate_limits"] is True


# ---------------------------------------------------------------------------- rate limits and faults


async def test_rate_limit_per_channel(h):
    async with Client(h.sim) as c:
        statuses = []
        for i in range(8):
            status, headers, body = await c.call("chat.postMessage", {"channel": "C0INCIDENT", "text": "burst %d" % i})
            statuses.append(status)
            if status == 429:
                assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
                assert body == fixture("ratelimited_error.json")
        assert statuses[:5] == [200] * 5 and 429 in statuses, statuses
        # another channel is not limited, nor is another method
        await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "other channel"})
        await c.ok("conversations.info", {"channel": "C0INCIDENT"})
        rl = h.sim.ratelimited
        assert rl and all(r["method"] == "chat.postMessage" and r["channel"] == "C0INCIDENT" and r["cause"] == "limit" for r in rl)
        assert len(rl) == statuses.count(429)
        await asyncio.sleep(1.05)  # Slack's clock is real time: one more per second
        await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "a second later"})


async def test_rate_limit_tier_and_switches(h):
    async with Client(h.sim) as c:
        got = [(await c.call("conversations.create", {"name": "tier2-%d" % i}))[0] for i in range(21)]
        assert got[:20] == [200] * 20 and got[20] == 429, got
        h.sim.opts["rate_limits"] = False
        assert (await c.call("conversations.create", {"name": "tier2-off"}))[0] == 200
        h.sim.opts.update(rate_limits=True, rate_scale=0.1)
        h.sim.buckets.clear()
        got = [(await c.call("conversations.setTopic", {"channel": "C0ONCALL01", "topic": str(i)}))[0] for i in range(3)]
        assert got == [200, 200, 429], got


@cases([
    {"id": "429", "fault": {"kind": "ratelimit", "retry_after": 7}, "status": 429, "retry_after": "7", "error": "ratelimited"},
    {"id": "500", "fault": {"kind": "http", "status": 500}, "status": 500},
    {"id": "502", "fault": {"kind": "http", "status": 502}, "status": 502},
    {"id": "503", "fault": {"kind": "http", "status": 503}, "status": 503},
    {"id": "error", "fault": {"kind": "error", "error": "fatal_error"}, "status": 200, "error": "fatal_error"},
])
async def test_faults_answer(h, case):
    async with Client(h.sim) as c:
        h.sim.inject_fault("chat.postMessage", count=2, **case["fault"])
        for _ in range(2):
            status, headers, body = await c.call("chat.postMessage", {"channel": "C0ONCALL01", "text": "x"})
            assert status == case["status"], (status, body)
            if "retry_after" in case:
                assert headers["Retry-After"] == case["retry_after"]
            if "error" in case:
                assert body["error"] == case["error"]
        await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "third goes through"})
        assert [m["text"] for m in h.sim.messages("C0ONCALL01")] == ["third goes through"]
        if case["status"] == 429:
            assert [r["cause"] for r in h.sim.ratelimited] == ["fault", "fault"]


async def test_faults_delay_and_drop(h):
    async with Client(h.sim) as c:
        h.sim.inject_fault("auth.test", "delay", seconds=0.4)
        t0 = time.monotonic()
        await c.ok("auth.test")
        assert time.monotonic() - t0 >= 0.38
        h.sim.inject_fault("chat.postMessage", "drop")
        try:
            await c.call("chat.postMessage", {"channel": "C0ONCALL01", "text": "lost"})
            raise AssertionError("the connection was not dropped")
        except aiohttp.ServerDisconnectedError:
            pass
        assert h.sim.messages("C0ONCALL01") == [] and h.sim.calls[-1]["dropped"] is True
        h.sim.inject_fault("chat.postMessage", "drop_after")
        try:
            await c.call("chat.postMessage", {"channel": "C0ONCALL01", "text": "done but unanswered"})
            raise AssertionError("the connection was not dropped")
        except aiohttp.ServerDisconnectedError:
            pass
        assert [m["text"] for m in h.sim.messages("C0ONCALL01")] == ["done but unanswered"]
        # delay: a client that gives up during the delay leaves no effect
        h.sim.inject_fault("chat.postMessage", "delay", seconds=1)
        try:
            await asyncio.wait_for(c.call("chat.postMessage", {"channel": "C0ONCALL01", "text": "abandoned"}), 0.2)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(1.1)
        assert h.sim.calls[-1]["client_gone"] is True and h.sim.calls[-1]["args"]["text"] == "abandoned"
        assert [m["text"] for m in h.sim.messages("C0ONCALL01")] == ["done but unanswered"]
        # delay_after: committed at once, answered later; a client that gives up still left its effect
        h.sim.inject_fault("chat.postMessage", "delay_after", seconds=2)
        try:
            await asyncio.wait_for(c.call("chat.postMessage", {"channel": "C0ONCALL01", "text": "slow answer"}), 0.3)
        except asyncio.TimeoutError:
            pass
        assert h.sim.messages("C0ONCALL01")[-1]["text"] == "slow answer"
        try:
            h.sim.inject_fault("chat.postMessage", "explode")
            raise AssertionError("an unknown fault kind was accepted")
        except ValueError:
            pass


# ---------------------------------------------------------------------------- Socket Mode


async def test_connections_open_and_hello(h):
    async with Client(h.sim) as c:
        raws = []
        for _ in range(2):
            async with c.s.post(h.sim.api_url + "apps.connections.open",
                                headers={"Authorization": "Bearer " + M.APP_TOKEN}) as r:
                raws.append(await r.text())
        assert any("ws:\\/\\/127.0.0.1" in r for r in raws) and any("ws://127.0.0.1" in r for r in raws), raws
        url = json.loads(raws[0])["url"]
        assert re.fullmatch(r"ws://127\.0\.0\.1:%d/link/\?ticket=[0-9a-f-]{36}&app_id=%s" % (h.sim.port, M.APP_ID), url)
        ws = await c.s.ws_connect(url)
        hello = json.loads((await ws.receive(timeout=3)).data)
        spec = fixture("socket_mode_hello.json")
        assert keys(hello) == keys(spec) and keys(hello["debug_info"]) == keys(spec["debug_info"])
        assert hello["num_connections"] == 1 and hello["connection_info"]["app_id"] == M.APP_ID
        # single-use ticket, unknown ticket: the handshake is refused
        for bad in (url, url.replace(url.split("ticket=")[1][:8], "00000000")):
            try:
                await c.s.ws_connect(bad)
                raise AssertionError("handshake accepted for %s" % bad)
            except aiohttp.WSServerHandshakeError as e:
                assert e.status == 401
        assert [x["reason"] for x in h.sim.handshakes] == [None, "reused_ticket", "unknown_ticket"]
        # debug_reconnects=true: a 360 s connection
        body = await c.ok("apps.connections.open", token=M.APP_TOKEN, form=True)
        ws2 = await c.s.ws_connect(body["url"] + "&debug_reconnects=true")
        hello2 = json.loads((await ws2.receive(timeout=3)).data)
        assert hello2["debug_info"]["approximate_connection_time"] == 360 and hello2["num_connections"] == 2
        await ws.close()
        await ws2.close()
        await h.sim.wait_until(lambda: all(not x.open for x in h.sim.conns), 3, "closed connections")
        assert [x.closed_by for x in h.sim.conns] == ["client", "client"]


async def test_too_many_websockets(h):
    async with Client(h.sim) as c:
        socks = [(await c.connect())[0] for _ in range(10)]
        body = await c.ok("apps.connections.open", token=M.APP_TOKEN, form=True)
        ws = await c.s.ws_connect(body["url"])
        frame = json.loads((await ws.receive(timeout=3)).data)
        assert frame["type"] == "disconnect" and frame["reason"] == "too_many_websockets"
        assert (await ws.receive(timeout=3)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert len(h.sim.live_conns()) == 10
        for s in socks:
            await s.close()


async def test_envelopes_acks_and_shapes(h):
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        rec = h.sim.slash("/incident", "help", user="U0BOB00001", channel="C0ONCALL01")
        env = await recv_json(ws)
        spec = fixture("envelope_slash_command.json")
        assert keys(env) == keys(spec) and keys(env["payload"]) == keys(spec["payload"])
        p = env["payload"]
        assert (p["user_id"], p["user_name"], p["channel_id"], p["channel_name"]) == ("U0BOB00001", "bob", "C0ONCALL01", "oncall")
        assert p["response_url"].startswith(h.sim.base_url + "/commands/") and env["accepts_response_payload"] is True
        await ws.send_str(json.dumps({"envelope_id": env["envelope_id"], "payload": {"text": "usage"}}))
        ack = await h.sim.wait_ack(rec["envelope_id"])
        assert ack["payload"] == {"text": "usage"} and ack["has_payload"] and 0 <= ack["latency"] < 2
        # events_api and block_actions: shapes of the fixtures; acks without payload and with {}
        posted = await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "page", "blocks": [
            {"type": "actions", "block_id": "page", "elements": [
                {"type": "button", "action_id": "ack", "value": "page-1", "text": {"type": "plain_text", "text": "Ack"}}]}]})
        echo = await recv_json(ws)
        espec = fixture("envelope_events_api_message.json")
        assert keys(echo) == keys(espec) and keys(echo["payload"]) == keys(espec["payload"])
        assert echo["payload"]["event"]["bot_id"] == M.BOT_ID and echo["payload"]["event"]["ts"] == posted["ts"]
        await ws.send_str(json.dumps({"envelope_id": echo["envelope_id"]}))
        rec = h.sim.block_action("U0CAROL001", "C0INCIDENT", posted["ts"], "ack")
        env = await recv_json(ws)
        bspec = fixture("envelope_block_actions.json")
        assert keys(env) == keys(bspec) and keys(env["payload"]) == keys(bspec["payload"])
        a = env["payload"]["actions"][0]
        assert (a["action_id"], a["block_id"], a["value"], a["text"]["text"]) == ("ack", "page", "page-1", "Ack")
        assert env["payload"]["container"]["message_ts"] == posted["ts"] and env["accepts_response_payload"] is False
        await ws.send_str(json.dumps({"envelope_id": env["envelope_id"], "payload": {}}))
        ack = await h.sim.wait_ack(rec["envelope_id"])
        assert ack["payload"] == {} and h.sim.protocol_errors == []
        # a user's message with a mention: message + app_mention (fixture shapes)
        m, recs = h.sim.user_message("U0ALICE001", "C0INCIDENT", "<@%s> status?" % M.BOT_USER_ID)
        got = [await recv_json(ws), await recv_json(ws)]
        assert [g["payload"]["event"]["type"] for g in got] == ["message", "app_mention"]
        mspec = fixture("envelope_events_api_app_mention.json")["payload"]["event"]
        assert set(mspec) == set(got[1]["payload"]["event"])
        assert got[0]["payload"]["event"]["user"] == "U0ALICE001" and "bot_id" not in got[0]["payload"]["event"]
        for g in got:
            await ws.send_str(json.dumps({"envelope_id": g["envelope_id"]}))
        r = h.sim.user_reaction("U0BOB00001", "C0INCIDENT", posted["ts"], "eyes")
        env = await recv_json(ws)
        assert set(env["payload"]["event"]) == set(fixture("events_api_reaction_added.json")["event"])
        await ws.send_str(json.dumps({"envelope_id": r["envelope_id"]}))
        await h.sim.wait_until(lambda: len(h.sim.acks) == 6, 3, "six acks")
        assert h.sim.protocol_errors == []
        await ws.close()


async def test_ack_protocol_errors(h):
    h.expect_protocol_errors = True
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        await ws.send_str(json.dumps({"envelope_id": "never-sent"}))
        await ws.send_str("{broken")
        await ws.send_str(json.dumps({"type": "hello?"}))
        await ws.send_bytes(b"\x00\x01")
        posted = await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "x"})
        echo = await recv_json(ws)
        await ws.send_str(json.dumps({"envelope_id": echo["envelope_id"], "payload": {"text": "not allowed"}}))
        await h.sim.wait_until(lambda: len(h.sim.protocol_errors) >= 5, 3, "five protocol errors")
        kinds = [e["kind"] for e in h.sim.protocol_errors]
        assert kinds == ["unknown_envelope", "malformed_json", "not_an_ack", "binary_frame", "payload_not_accepted"], kinds
        assert posted["ok"]
        await ws.close()


@sim_options(ack_timeout=0.3)
async def test_event_redelivery(h):
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        rec = h.sim.event({"type": "message", "channel": "C0INCIDENT", "user": "U0ALICE001", "text": "hi",
                           "ts": h.sim.ts.next(), "channel_type": "channel"})
        seen = []
        for _ in range(4):
            env = await recv_json(ws, timeout=2)
            seen.append(env)
        assert [e["retry_attempt"] for e in seen] == [0, 1, 2, 3]
        assert [e["retry_reason"] for e in seen] == ["", "timeout", "timeout", "timeout"]
        assert len({e["envelope_id"] for e in seen}) == 4
        assert len({e["payload"]["event_id"] for e in seen}) == 1
        try:  # no fifth delivery
            extra = await recv_json(ws, timeout=0.8)
            raise AssertionError("a fifth delivery: %s" % extra)
        except asyncio.TimeoutError:
            pass
        assert h.sim.envelopes[seen[-1]["envelope_id"]]["gave_up"] is True
        # acking the first delivery late is still a valid ack; an acked event is not redelivered
        await ws.send_str(json.dumps({"envelope_id": rec["envelope_id"]}))
        rec2 = h.sim.event({"type": "message", "channel": "C0INCIDENT", "user": "U0ALICE001", "text": "again",
                            "ts": h.sim.ts.next(), "channel_type": "channel"})
        env = await recv_json(ws)
        await ws.send_str(json.dumps({"envelope_id": env["envelope_id"]}))
        await h.sim.wait_ack(rec2["envelope_id"])
        try:
            extra = await recv_json(ws, timeout=0.8)
            raise AssertionError("redelivered although acked: %s" % extra)
        except asyncio.TimeoutError:
            pass
        # same envelope resent verbatim
        h.sim.resend(rec2["envelope_id"])
        env2 = await recv_json(ws)
        assert env2 == env
        await ws.close()


async def test_spread_silence_and_pending(h):
    async with Client(h.sim) as c:
        ws1, _ = await c.connect()
        ws2, _ = await c.connect()
        recs = [h.sim.slash("/oncall", "who") for _ in range(4)]
        await asyncio.sleep(0.2)
        per = {}
        for r in recs:
            per.setdefault(r["conn"], 0)
            per[r["conn"]] += 1
        assert per == {1: 2, 2: 2}, per
        h.sim.set_silent(2)
        recs = [h.sim.slash("/oncall", "who") for _ in range(3)]
        assert {r["conn"] for r in recs} == {1}
        h.sim.set_silent(1)
        r = h.sim.slash("/oncall", "who")
        assert r["conn"] is None and h.sim.pending == [r]
        h.sim.set_silent(2, False)
        assert r["conn"] == 2 and h.sim.pending == []
        await ws1.close()
        await ws2.close()


@sim_options(ping_interval=0.2)
async def test_pings_pongs_and_silence(h):
    async with Client(h.sim) as c:
        ws, _ = await c.connect(autoping=False)
        m = await ws.receive(timeout=1)
        assert m.type == aiohttp.WSMsgType.PING and m.data.startswith(b"sim-ping-")
        await ws.ping(b"client-ping")
        while True:
            m = await ws.receive(timeout=1)
            if m.type == aiohttp.WSMsgType.PONG:
                assert m.data == b"client-ping"
                break
        conn = h.sim.conn()
        assert conn.pings_received == 1 and conn.pongs_sent == 1
        h.sim.set_silent()
        await ws.ping(b"into-the-void")
        try:
            m = await ws.receive(timeout=0.7)
            raise AssertionError("a silent server sent %s" % m.type)
        except asyncio.TimeoutError:
            pass
        assert conn.open and conn.pongs_sent == 1
        assert any(f["type"] == "ping" and f["dir"] == "in" and f.get("lost") for f in h.sim.frames)
        await ws.close()


async def test_disconnects_drop_and_raw_frames(h):
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        for reason in ("warning", "refresh_requested"):
            await h.sim.disconnect(reason)
            frame = await recv_json(ws)
            want = fixture("disconnect_%s.json" % reason)
            assert keys(frame) == keys(want) and frame["reason"] == reason and frame["type"] == "disconnect"
        # big frames both ways
        rec = await h.sim.send_bad_frame("huge_slash")
        env = await recv_json(ws)
        assert len(json.dumps(env)) > 100 * 1024 and len(env["payload"]["text"]) == 100 * 1024
        await ws.send_str(json.dumps({"envelope_id": env["envelope_id"], "payload": {"text": "z" * 70000}}))
        ack = await h.sim.wait_ack(rec["envelope_id"])
        assert len(ack["payload"]["text"]) == 70000
        await h.sim.send_bad_frame("malformed_json")
        m = await ws.receive(timeout=2)
        assert m.type == aiohttp.WSMsgType.TEXT and m.data.startswith('{"envelope_id"')
        try:
            json.loads(m.data)
            raise AssertionError("malformed_json was valid JSON")
        except ValueError:
            pass
        await h.sim.send_bad_frame("binary")
        assert (await ws.receive(timeout=2)).type == aiohttp.WSMsgType.BINARY
        r = await h.sim.send_bad_frame("no_payload")
        env = await recv_json(ws)
        assert "payload" not in env and env["envelope_id"] == r["envelope_id"]
        r = await h.sim.send_bad_frame("unknown_type")
        env = await recv_json(ws)
        assert env["type"] == "mystery_type"
        # drop: TCP closed without a close frame
        h.sim.drop()
        m = await ws.receive(timeout=2)
        assert m.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), m.type
        await h.sim.wait_until(lambda: not h.sim.conns[0].open, 2, "the dropped connection")
        assert h.sim.conns[0].closed_by == "drop"
        # link_disabled: the frame, the server closes, and new handshakes are refused
        ws, _ = await c.connect()
        await h.sim.disconnect("link_disabled", close_after=0.1)
        frame = await recv_json(ws)
        assert frame == dict(fixture("disconnect_link_disabled.json"), debug_info={"host": h.sim.conn(2).host})
        m = await ws.receive(timeout=2)
        assert m.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        body = await c.ok("apps.connections.open", token=M.APP_TOKEN, form=True)
        try:
            await c.s.ws_connect(body["url"])
            raise AssertionError("connected while Socket Mode is disabled")
        except aiohttp.WSServerHandshakeError as e:
            assert e.status == 403


@sim_options(ping_interval=0)
async def test_response_url(h):
    async with Client(h.sim) as c:
        ws, _ = await c.connect()
        rec = h.sim.slash("/incident", "status")
        url = rec["envelope"]["payload"]["response_url"]
        for i in range(5):
            async with c.s.post(url, json={"text": "update %d" % i, "response_type": "in_channel"}) as r:
                assert r.status == 200 and (await r.json())["ok"] is True
        async with c.s.post(url, json={"text": "sixth"}) as r:
            assert r.status == 404 and (await r.json())["error"] == "used_url"
        posts = h.sim.response_urls[url[len(h.sim.base_url):]]["posts"]
        assert [p["accepted"] for p in posts] == [True] * 5 + [False]
        assert [m["text"] for m in h.sim.messages("C0INCIDENT")][-5:] == ["update %d" % i for i in range(5)]
        # block_actions response_url: replace_original and delete_original act on the message
        msg = await c.ok("chat.postMessage", {"channel": "C0INCIDENT", "text": "page", "blocks": [
            {"type": "actions", "elements": [{"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}}]}]})
        act = h.sim.block_action("U0ALICE001", "C0INCIDENT", msg["ts"], "ack")
        aurl = act["envelope"]["payload"]["response_url"]
        assert aurl.startswith(h.sim.base_url + "/actions/")
        async with c.s.post(aurl, json={"replace_original": True, "text": "acked by alice"}) as r:
            assert r.status == 200
        assert h.sim.find_message(h.sim.channels["C0INCIDENT"], msg["ts"])["text"] == "acked by alice"
        async with c.s.post(aurl, json={"delete_original": True}) as r:
            assert r.status == 200
        assert h.sim.find_message(h.sim.channels["C0INCIDENT"], msg["ts"]) is None
        # replace_original on a slash command's URL is a protocol error
        h.expect_protocol_errors = True
        url2 = h.sim.slash("/incident", "x")["envelope"]["payload"]["response_url"]
        async with c.s.post(url2, json={"replace_original": True, "text": "nope"}) as r:
            assert r.status == 200
        assert h.sim.protocol_errors[-1]["kind"] == "response_url_misuse"
        h.sim.opts["response_url_ttl"] = 0.0
        url3 = h.sim.slash("/incident", "x")["envelope"]["payload"]["response_url"]
        async with c.s.post(url3, json={"text": "late"}) as r:
            assert r.status == 404 and (await r.json())["error"] == "expired_url"
        await ws.close()


async def test_wait_helpers(h):
    async with Client(h.sim) as c:
        task = asyncio.ensure_future(h.sim.wait_call("chat.postMessage", lambda x: x["args"].get("text") == "second"))
        await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "first"})
        await c.ok("chat.postMessage", {"channel": "C0ONCALL01", "text": "second"})
        call = await asyncio.wait_for(task, 2)
        assert call["args"]["text"] == "second" and call["seq"] == 2 and call["response"]["ok"] is True
        t0 = time.monotonic()
        try:
            await h.sim.wait_call("views.open", timeout=0.3)
            raise AssertionError("wait_call returned without a call")
        except SimTimeout as e:
            assert "views.open" in str(e) and 0.25 < time.monotonic() - t0 < 1.5


# ---------------------------------------------------------------------------- standalone + control API


@timeout(30)
async def test_standalone_control_api(h):
    tmp = tempfile.mkdtemp(prefix="slack-sim-")
    port_file = os.path.join(tmp, "port")
    state = os.path.join(tmp, "state.json")
    script = os.path.join(ROOT, "tests", "sim", "slack_sim.py")

    async def start():
        p = await asyncio.create_subprocess_exec(sys.executable, script, "--port", "0", "--port-file", port_file,
                                                 "--state-file", state, "--ping-interval", "0",
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        line = await asyncio.wait_for(p.stdout.readline(), 10)
        assert b"listening on" in line, line
        with open(port_file) as f:
            return p, int(f.read())

    proc, port = await start()
    base = "http://127.0.0.1:%d" % port
    try:
        async with aiohttp.ClientSession() as s:
            async def ctl(path, body=None):
                if body is None:
                    async with s.get(base + "/_sim/" + path) as r:
                        return r.status, await r.json()
                async with s.post(base + "/_sim/" + path, json=body) as r:
                    return r.status, await r.json()

            st, health = await ctl("health")
            assert st == 200 and health["port"] == port and health["bot_token"].startswith("xoxb-")
            assert (await ctl("fault", {"method": "chat.postMessage", "kind": "ratelimit", "retry_after": 3}))[0] == 200
            auth = {"Authorization": "Bearer " + health["bot_token"]}
            async with s.post(base + "/api/chat.postMessage", json={"channel": "C0ONCALL01", "text": "hi"}, headers=auth) as r:
                assert r.status == 429 and r.headers["Retry-After"] == "3"
            async with s.post(base + "/api/chat.postMessage", json={"channel": "C0ONCALL01", "text": "kept"}, headers=auth) as r:
                assert r.status == 200
            st, calls = await ctl("calls?method=chat.postMessage")
            assert [c["status"] for c in calls] == [429, 200]
            st, rl = await ctl("ratelimited")
            assert len(rl) == 1 and rl[0]["retry_after"] == 3
            st, err = await ctl("fault", {"method": "chat.postMessage", "kind": "nonsense"})
            assert st == 400 and "nonsense" in err["error"]
            # a client connects; the control API injects a slash command and waits for its ack
            async with s.post(base + "/api/apps.connections.open", headers={"Authorization": "Bearer " + health["app_token"]}) as r:
                url = (await r.json())["url"]
            ws = await s.ws_connect(url)
            await ws.receive(timeout=3)
            task = asyncio.ensure_future(ctl("slash", {"command": "/oncall", "text": "help", "user": "U0DAVE0001",
                                                       "channel": "C0ONCALL01", "wait_ack": 3}))
            env = await recv_json(ws)
            # the echo of the post above was held while no connection existed: it comes first
            assert env["type"] == "events_api" and env["payload"]["event"]["text"] == "kept", env
            await ws.send_str(json.dumps({"envelope_id": env["envelope_id"]}))
            env = await recv_json(ws)
            assert env["type"] == "slash_commands", env
            await ws.send_str(json.dumps({"envelope_id": env["envelope_id"], "payload": {"text": "help text"}}))
            st, out = await task
            assert st == 200 and out["ack"]["payload"] == {"text": "help text"}, (st, out, env)
            st, conns = await ctl("connections")
            assert len(conns) == 1 and conns[0]["open"]
            st, _ = await ctl("disconnect", {"reason": "refresh_requested"})
            assert (await recv_json(ws))["reason"] == "refresh_requested"
            st, frames = await ctl("frames")
            assert [f["dir"] for f in frames if f["type"] == "text"][:2] == ["out", "out"]
            st, w = await ctl("wait_call", {"method": "views.open", "timeout": 0.2})
            assert st == 408
            await ws.close()
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 5) == 0
        with open(state) as f:
            saved = json.load(f)
        oncall = [c for c in saved["channels"] if c["id"] == "C0ONCALL01"][0]
        assert [m["text"] for m in oncall["messages"]] == ["kept"]
        # the state file brings the workspace back
        proc, port = await start()
        async with aiohttp.ClientSession() as s:
            async with s.get("http://127.0.0.1:%d/_sim/channels/C0ONCALL01/messages" % port) as r:
                assert [m["text"] for m in await r.json()] == ["kept"]
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


# ---------------------------------------------------------------------------- the harness itself


async def test_harness_config_matches_workspace(h):
    text = to_yaml(h.config)
    cfg = yaml.safe_load(text)
    assert cfg == json.loads(json.dumps(h.config)), "the YAML emitter changed the config"
    assert cfg["rotas"][0]["handoff"] == "monday 09:00" and cfg["http"]["listen"] == "127.0.0.1:%d" % h.http_port
    assert cfg["slack"]["ping_interval"] == "2s" and cfg["default_severity"] == "P2"
    for key in ("announce_channel", "handoff_channel", "stakeholder_channel"):
        ch = h.sim.channels[cfg["slack"][key]]
        assert M.BOT_USER_ID in ch["members"], key
    assert M.BOT_USER_ID in h.sim.channels["C0ALERTS01"]["members"]
    for p in cfg["people"]:
        u = h.sim.users[p["slack"]]
        assert u["email"] == p["email"] and u["name"] == p["id"]
    env = h.bot_env()
    assert env["SLACK_APP_TOKEN"].startswith("xapp-1-") and env["SLACK_BOT_TOKEN"].startswith("xoxb-")
    assert env["KLAXON_SLACK_API_URL"] == h.sim.api_url and env["KLAXON_SLACK_API_URL"].endswith("/api/")
    assert env["KLAXON_ALERT_TOKEN"] and env["KLAXON_NOW"] == "2026-11-24T10:00:00+01:00"
    tricky = {"a": "yes", "b": "09:00", "c": "x: y", "d": "", "e": [], "f": {}, "g": [{"h": [1, "2"]}], "i": "#x"}
    assert yaml.safe_load(to_yaml(tricky)) == tricky


STAND_IN = os.path.join(ROOT, "tests", "sim", "fake_klaxon.py")


async def test_harness_runs_a_fake_bot(h):
    """The harness's process handling (start, wait_connected, slash, kill -9, restart on the same
    database, SIGTERM status, the log) against the Python stand-in tests/sim/fake_klaxon.py."""
    h.bin = STAND_IN
    await h.start()
    status, body = await h.healthz()
    assert status == 200 and body == {"status": "ok", "slack": "connected", "database": "ok"}
    ack = await h.slash("/incident", "help")
    assert "declare" in h.ack_text(ack)
    await h.kill9()
    assert h.proc.returncode == -9 and not h.running
    await h.restart()
    assert h.starts == 2 and len(h.sim.calls_of("apps.connections.open")) == 2
    assert await h.sigterm() == 0
    assert "=== harness: start 2" in h.log_text() and "klaxon.stopped" in h.log_text()
    assert h.sanitizer_reports() == []
    with open(h.log_path, "a") as f:
        f.write("==1==ERROR: AddressSanitizer: heap-use-after-free\n")
    assert h.sanitizer_reports(), "a sanitizer report in the log went unnoticed"
    with open(h.log_path, "w") as f:
        f.write("")


@cases([
    {"id": "startup", "test": "test_startup_auth_connect_healthz"},
    {"id": "help", "test": "test_help_in_ack", "args": [{"command": "/oncall", "words": ["schedule", "override"]}]},
    {"id": "redelivery", "test": "test_redelivered_envelope_does_nothing_twice"},
    {"id": "kill9", "test": "test_outbox_kill9_before_call_exactly_once"},
])
@engines("sqlite")  # the stand-in (fake_klaxon.py) keeps its state in a SQLite file
async def test_foundation_passes_against_stand_in(h, case):
    """Foundation tests are passable: they pass against a stand-in written to the contract."""
    import test_foundation as F
    h.bin = STAND_IN
    await getattr(F, case["test"])(h, *case.get("args", []))


@cases([
    {"id": "no_dedupe", "test": "test_redelivered_envelope_does_nothing_twice", "want": "posted again"},
    {"id": "close_old_first", "test": "test_disconnect_refresh_loses_nothing",
     "args": [{"reason": "refresh_requested"}], "want": "closed before the new one"},
    {"id": "no_backoff", "test": "test_outbox_retries_5xx_with_backoff", "want": "without backoff"},
])
@engines("sqlite")
async def test_foundation_fails_against_broken_stand_in(h, case):
    """Foundation tests can fail: each catches the stand-in's deliberate bug."""
    import test_foundation as F
    h.bin = STAND_IN
    h.env["FAKE_KLAXON_BREAK"] = case["id"]
    try:
        await getattr(F, case["test"])(h, *case.get("args", []))
    except AssertionError as e:
        assert case["want"] in str(e), "failed, but not for the planted bug: %s" % e
        return
    raise AssertionError("%s passed against a stand-in with the bug %s" % (case["test"], case["id"]))
