"""Teams transport end to end: build/klaxon against the Teams stand-in (tests/sim/teams_sim.py)
and the Slack simulator. Every activity is signed by the stand-in with a real RS256 JWT; every
reply is a real connector call the stand-in checks (token, percent-encoded ids, body shape).

Covers: commands from a channel message and a personal chat, the reply as a threaded activity,
the refusals (each with nothing processed), token caching, 429/5xx retried through the outbox,
key rotation, conversationUpdate remembered, Outgoing Webhooks (HMAC, synchronous answer),
the Workflows webhook, and the tenant check.
"""

import asyncio
import json
import time

from harness import cases, timeout


def db_rows(h, sql, *args):
    return h.db_rows(sql, args)


async def wait_rows(h, sql, want, *args, timeout=5.0):
    """Poll the database until the query returns `want` (the bot records results after the
    peer answered, so a test must not read too early)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = db_rows(h, sql, *args)
        if rows == want:
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("%s gave %r, want %r" % (sql, rows, want))
        await asyncio.sleep(0.05)


async def start(h, **kw):
    await h.start_teams(**kw)
    await h.start()


# ---------------------------------------------------------------------------- commands


async def test_teams_help_in_channel(h):
    """"@klaxon oncall help" in a channel: 200 at once, and the help comes back as a reply to
    that message (POST …/conversations/{id}/activities/{id}, ids percent-encoded)."""
    await start(h)
    act = await h.teams_command("oncall help")
    call = await h.teams_reply_to(act)
    assert call["auth_ok"], call
    assert call["activity_id"] == act["id"], call
    # ids with ':' ';' '@' '=' went out percent-encoded (the stand-in refuses them raw)
    assert "%3A" in call["raw_path"] and "%3B" in call["raw_path"], call["raw_path"]
    text = h.teams_text(call["body"])
    assert "oncall note" in text, text
    assert call["body"].get("replyToId") == act["id"], call["body"]


async def test_teams_unknown_word_gets_help(h):
    await start(h)
    act = await h.teams_command("what can you do")
    call = await h.teams_reply_to(act)
    text = h.teams_text(call["body"])
    assert "incident" in text and "oncall" in text, text


async def test_teams_oncall_note_from_channel(h):
    """A command that changes state: the note is stored with the person the AAD id maps to,
    and announced in the Teams handoff channel (a new thread) and the Slack one."""
    await start(h)
    act = await h.teams_command("oncall note DB maintenance tonight, expect <failovers> & noise")
    reply = await h.teams_reply_to(act)
    assert "Noted" in h.teams_text(reply["body"]), reply["body"]
    post = await h.teams_wait(lambda c: c["kind"] == "create_conversation" and c["status"] == 201,
                              what="the handoff-channel thread")
    assert post["body"]["isGroup"] is True
    assert post["body"]["channelData"]["channel"]["id"] == h.teams_channels["oncall"], post["body"]
    text = h.teams_text(post["body"]["activity"])
    assert "DB maintenance tonight, expect <failovers> & noise" in text, text
    assert "Alice Example" in text or "alice" in text, text
    rows = db_rows(h, "SELECT author, text FROM notes")
    assert rows == [("alice", "DB maintenance tonight, expect <failovers> & noise")], rows
    # The hook's result names the new thread as Slack names a message: channel and ts.
    want = {"id": post["response"]["id"], "activityId": post["response"]["activityId"],
            "channel": post["response"]["id"], "ts": post["response"]["activityId"]}
    await wait_rows(h, "SELECT count(*) FROM outbox WHERE method = 'teams.post' AND state = 'done'", [(1,)])
    result = json.loads(db_rows(h, "SELECT result FROM outbox WHERE method = 'teams.post'")[0][0])
    assert result == want, result
    slack = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ONCALL01")
    assert "DB maintenance" in h.message_text(slack["args"])


async def test_teams_personal_chat_command(h):
    """In a 1:1 chat no mention is needed; the reply goes to the a:… conversation."""
    await start(h)
    act = h.teams.personal_message("incident help")
    status, _ = await h.teams_send(act)
    assert status == 200
    call = await h.teams_reply_to(act)
    assert call["conversation_id"].startswith("a:"), call
    assert "incident" in h.teams_text(call["body"])


async def test_teams_redelivery_runs_once(h):
    """The connector may POST the same activity twice: the second is a no-op."""
    await start(h)
    act = h.teams.channel_mention("oncall note only once please")
    for _ in range(2):
        status, _ = await h.teams_send(act)
        assert status == 200
    await h.teams_reply_to(act)
    await asyncio.sleep(0.5)
    assert db_rows(h, "SELECT count(*) FROM notes") == [(1,)]
    replies = [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"]]
    assert len(replies) == 1, replies


async def test_teams_channel_message_without_mention_is_not_a_command(h):
    """A thread message without the bot's mention (RSC delivery) is a channel message for the
    timeline, never a command: "oncall note x" written without @klaxon stores nothing."""
    await start(h)
    act = h.teams.channel_message("oncall note this is just chatter")
    status, _ = await h.teams_send(act)
    assert status == 200
    await asyncio.sleep(0.5)
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]
    assert not [c for c in h.teams.calls if c["kind"] == "reply"]


async def test_teams_mention_mapped_through_roster(h):
    """A mentioned user the bot has never seen is looked up in the roster (GET …/members/{id},
    with our token, ids encoded) before the command runs, so the handler gets <@AADID|Name>;
    the second time no lookup is needed."""
    await start(h)
    bob = h.teams.users["bob"]
    act = await h.teams_command("oncall note ask <at>Bob Example</at> about the failover",
                                mention_users=["bob"])
    await h.teams_reply_to(act)
    look = [c for c in h.teams.calls if c["kind"] == "member"]
    assert len(look) == 1 and look[0]["status"] == 200 and look[0]["auth_ok"], look
    assert look[0]["activity_id"] == bob["id"], look
    notes = db_rows(h, "SELECT text FROM notes")
    assert notes == [("ask <@%s|Bob Example> about the failover" % bob["aadObjectId"],)], notes
    again = await h.teams_command("oncall note <at>Bob Example</at> again", mention_users=["bob"])
    await h.teams_reply_to(again)
    assert len([c for c in h.teams.calls if c["kind"] == "member"]) == 1


async def test_teams_mention_of_unknown_member(h):
    """Teams does not know the member (404): the command still runs, with the 29: id."""
    await start(h)
    h.expect_teams_errors = True
    ghost = h.teams.add_user("ghost", "Ghost User")
    h.teams.inject(404, kind="member", body={"error": {"code": "MemberNotFoundInConversation"}})
    act = await h.teams_command("oncall note ping <at>Ghost User</at>", mention_users=["ghost"])
    await h.teams_reply_to(act)
    notes = db_rows(h, "SELECT text FROM notes")
    assert notes == [("ping <@%s|Ghost User>" % ghost["id"],)], notes


async def test_teams_invoke_answered_in_response(h):
    """Action.Execute (invoke adaptiveCard/action) is answered in the HTTP response with
    {statusCode, type, value}; an Action.Submit answers 200 with no body of substance. Neither
    names a known button here, so nothing else happens."""
    await start(h)
    card = h.teams.new_message_id()
    conv = "%s;messageid=%s" % (h.teams_channels["announce"], card)
    act = h.teams.adaptive_action("nothing.here", {"action": "nothing.here", "value": "1"}, card,
                                  conversation_id=conv, channel_id=h.teams_channels["announce"])
    status, body = await h.teams_send(act)
    assert status == 200, (status, body)
    j = json.loads(body)
    assert j["statusCode"] == 200 and j["type"] == "application/vnd.microsoft.activity.message", j
    assert isinstance(j["value"], str) and j["value"], j
    sub = h.teams.card_submit({"action": "nothing.here", "value": "1"}, card, conversation_id=conv,
                              channel_id=h.teams_channels["announce"])
    status, body = await h.teams_send(sub)
    assert status == 200, (status, body)
    await h.wait_log(r"cmd unknown_action action_id=nothing.here")


# ---------------------------------------------------------------------------- refusals

REFUSALS = [
    {"id": "bad_signature", "knobs": {"bad_signature": True}},
    {"id": "wrong_audience", "knobs": {"wrong_audience": True}},
    {"id": "wrong_issuer", "knobs": {"wrong_issuer": True}},
    {"id": "expired", "knobs": {"expired": True}},
    {"id": "not_yet_valid", "knobs": {"not_yet_valid": True}},
    {"id": "wrong_serviceurl", "knobs": {"wrong_serviceurl": True}},
    {"id": "missing_endorsement", "knobs": {"missing_endorsement": True}},
    {"id": "alg_none", "knobs": {"alg_none": True}},
    {"id": "hs256_with_public_key", "knobs": {"hs256_public_key": True}},
    {"id": "unknown_kid", "knobs": {"unknown_kid": True}},
    {"id": "no_auth", "knobs": {"no_auth": True}},
]


@cases(REFUSALS)
async def test_teams_refused(h, case):
    """Each defect: 401, and nothing processed — no note, no reply, no serviceUrl remembered."""
    await start(h)
    act = h.teams.channel_mention("oncall note must never be stored")
    status, body = await h.teams_send(act, **case["knobs"])
    assert status == 401, (status, body)
    await h.wait_log(r"teams auth_refused")
    # A good request afterwards is served, so the refusal was the token's alone.
    ok = await h.teams_command("oncall help")
    await h.teams_reply_to(ok)
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]
    assert not [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"]]
    seen = db_rows(h, "SELECT count(*) FROM seen WHERE key LIKE ?", "%" + act["id"])
    assert seen == [(0,)], seen


async def test_teams_refused_serviceurl_not_remembered(h):
    """An activity claiming another serviceUrl with a token for it that fails verification
    leaves no trace: our token is never sent there."""
    await start(h)
    act = h.teams.channel_mention("oncall help")
    act["serviceUrl"] = "http://127.0.0.1:9/evil/"
    status, _ = await h.teams_send(act, bad_signature=True)
    assert status == 401
    assert db_rows(h, "SELECT count(*) FROM teams_tenants WHERE service_url LIKE '%evil%'") == [(0,)]


async def test_teams_malformed_body(h):
    await start(h)
    async with h._http.post(h.teams_url, data=b"{not json", headers={"Authorization": "Bearer x"}) as r:
        assert r.status == 400
    # Over the body cap (with the credential's scheme: without it the answer is 401 on the
    # headers, test_security.py) is 413.
    async with h._http.post(h.teams_url, data=b"x" * (300 * 1024), headers={"Authorization": "Bearer x"}) as r:
        assert r.status == 413
    status, _ = await h.healthz()
    assert status == 200


async def test_teams_other_tenant_refused(h):
    await start(h)
    act = h.teams.channel_mention("oncall note from elsewhere")
    act["conversation"]["tenantId"] = "11111111-2222-3333-4444-555555555555"
    act["channelData"]["tenant"]["id"] = "11111111-2222-3333-4444-555555555555"
    status, _ = await h.teams_send(act)
    assert status == 403
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]


# ---------------------------------------------------------------------------- keys and tokens


@timeout(100)
async def test_teams_keys_fetched_once_and_on_rotation(h):
    """The keys are fetched at start; a token with a new kid (rotation) makes the bot fetch
    them again, hold the request, and then serve it. An unknown kid refetches at most once a
    minute of real time (a rate limit, like the key cache's age, is not business time): with
    the clock at 120x, 0.7 s is 84 s of bot time but no minute, so the new kid is refused
    until a real minute has passed since the fetch at start."""
    h.time_scale = 120
    await start(h)
    started = time.monotonic()  # the fetch at start began before this
    first = await h.teams_command("oncall help")
    await h.teams_reply_to(first)
    fetched = h.teams.jwks_requests
    assert fetched == 1, fetched
    await asyncio.sleep(0.7)
    h.teams.rotate_keys()
    early = h.teams.channel_mention("oncall help")
    status, _ = await h.teams_send(early)
    assert status == 401, status
    assert h.teams.jwks_requests == 1, h.teams.jwks_requests
    await asyncio.sleep(max(0.0, started + 61 - time.monotonic()))
    second = await h.teams_command("oncall help")
    await h.teams_reply_to(second)
    assert h.teams.jwks_requests == 2, h.teams.jwks_requests
    # and a third with the same new kid needs no fetch
    third = await h.teams_command("oncall help")
    await h.teams_reply_to(third)
    assert h.teams.jwks_requests == 2


async def test_teams_token_cached(h):
    """One client-credentials token serves many calls; the form carries the scope."""
    await start(h)
    acts = [await h.teams_command("oncall help") for _ in range(3)]
    for a in acts:
        await h.teams_reply_to(a)
    assert h.teams.token_requests == 1, h.teams.token_requests
    assert h.teams.token_failures == 0


@timeout(40)
async def test_teams_token_refreshed_before_expiry(h):
    """A token's life is Microsoft's real time, not the bot's clock: with 8 s tokens the bot
    refreshes half-way (4 real seconds), and the clock at 60x does not make it refresh early.
    A reply ~6 real seconds later still goes through on the first try."""
    h.time_scale = 60
    await h.start_teams(expires_in=8)
    await h.start()
    a = await h.teams_command("oncall help")
    await h.teams_reply_to(a)
    assert h.teams.token_requests == 1
    await asyncio.sleep(1)  # 60 s of bot time, 1 real second: the token is still fresh
    b = await h.teams_command("oncall help")
    await h.teams_reply_to(b)
    assert h.teams.token_requests == 1, h.teams.token_requests
    await asyncio.sleep(5)  # 6 real seconds in all: past the 4 s refresh point
    c = await h.teams_command("oncall help")
    call = await h.teams_reply_to(c)
    assert h.teams.token_requests == 2, h.teams.token_requests
    refused = [c for c in h.teams.calls if c["status"] == 401]
    assert not refused, refused
    assert call["auth_ok"]


async def test_teams_token_endpoint_down_then_up(h):
    """The token endpoint fails twice (503): the reply waits in the outbox and goes out."""
    await start(h)
    h.teams.inject(503, times=2, target="token")
    act = await h.teams_command("oncall help")
    await h.teams_reply_to(act, timeout=15)
    assert h.teams.token_requests >= 3


async def test_teams_429_and_5xx_retried(h):
    """429 with Retry-After and then a 502 on the reply: the same outbox row is retried until
    the connector takes it, once."""
    await start(h)
    h.teams.inject_429(retry_after=1, kind="reply")
    h.teams.inject_5xx(status=502, kind="reply")
    act = await h.teams_command("oncall help")
    call = await h.teams_reply_to(act, timeout=15)
    tries = [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"]]
    assert [c["status"] for c in tries] == [429, 502, 201], [c["status"] for c in tries]
    assert tries[1]["time"] - tries[0]["time"] >= 0.9, "Retry-After not honoured"
    assert call["status"] == 201
    # two failed attempts and the one that went out
    await wait_rows(h, "SELECT attempts, state FROM outbox WHERE method = 'teams.reply'", [(3, "done")])


async def test_teams_blocked_is_permanent(h):
    """403 MessageWritesBlocked (bot removed): the row fails for good, nothing loops."""
    await start(h)
    h.expect_teams_errors = True
    h.teams.inject_blocked(kind="reply", times=5)
    act = await h.teams_command("oncall help")
    await h.wait_log(r"teams connector_refused status=403 error=MessageWritesBlocked")
    await asyncio.sleep(1.0)
    tries = [c for c in h.teams.calls if c["kind"] == "reply"]
    assert len(tries) == 1, tries
    await wait_rows(h, "SELECT state, error FROM outbox WHERE method = 'teams.reply'",
                    [("failed", "MessageWritesBlocked")])
    assert act


# ---------------------------------------------------------------------------- events


async def test_teams_installation_remembered(h):
    """conversationUpdate (bot added to the team): tenant, team and serviceUrl remembered; a
    later proactive post uses that serviceUrl."""
    await start(h)
    h.teams.add_user("zoe", "Zoe Zed")
    act = h.teams.conversation_update(members_added=["bot", "zoe"])
    status, _ = await h.teams_send(act)
    assert status == 200
    rows = db_rows(h, "SELECT tenant_id, service_url FROM teams_tenants")
    assert rows == [(h.teams.tenant_id, h.teams.service_url)], rows
    conv = db_rows(h, "SELECT id, team_id, installed FROM teams_conversations WHERE id = ?",
                   h.teams.team_id)
    assert conv == [(h.teams.team_id, h.teams.team_id, 1)], conv
    users = db_rows(h, "SELECT aad_object_id FROM teams_users WHERE user_id = ?",
                    h.teams.users["zoe"]["id"])
    assert users == [(h.teams.users["zoe"]["aadObjectId"],)], users


# ---------------------------------------------------------------------------- Outgoing Webhook


async def test_teams_outgoing_webhook(h):
    """HMAC-signed Outgoing Webhook: the reply is the HTTP response (within 5 s)."""
    await start(h)
    act = h.teams.outgoing_webhook_message("oncall note from the webhook")
    status, body = await h.teams.send_webhook(h.teams_webhook_url, act, h.teams_webhook_secret)
    assert status == 200, (status, body)
    j = json.loads(body)
    assert j["type"] == "message" and "Noted" in j["text"], j
    assert db_rows(h, "SELECT author, text FROM notes") == [("alice", "from the webhook")]


@cases([{"id": "bad_hmac", "kw": {"bad_signature": True}},
        {"id": "bearer_scheme", "kw": {"scheme": "Bearer"}}])
async def test_teams_outgoing_webhook_refused(h, case):
    await start(h)
    act = h.teams.outgoing_webhook_message("oncall note must not be stored")
    status, _ = await h.teams.send_webhook(h.teams_webhook_url, act, h.teams_webhook_secret, **case["kw"])
    assert status == 401
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]


@timeout(40)
async def test_teams_outgoing_webhook_freshness_and_replay(h):
    """The HMAC covers the body, not the time: a captured request could be sent again. A
    timestamp more than 5 minutes from the real clock (either way) is refused before anything
    is done, whatever KLAXON_NOW says; a replay inside the window is the same activity and is
    dropped as a redelivery."""
    await start(h)  # KLAXON_NOW is days before the real date: freshness is judged on real time
    for age in (6 * 60, -6 * 60):
        act = h.teams.outgoing_webhook_message("oncall note stale", sent_at=time.time() - age)
        status, body = await h.teams.send_webhook(h.teams_webhook_url, act, h.teams_webhook_secret)
        assert status == 401 and "fresh" in body, (age, status, body)
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]
    assert "webhook_stale" in h.log_text(), "a stale request is logged"
    act = h.teams.outgoing_webhook_message("oncall note once", sent_at=time.time() - 4 * 60)
    status, body = await h.teams.send_webhook(h.teams_webhook_url, act, h.teams_webhook_secret)
    assert status == 200 and "Noted" in json.loads(body)["text"], (status, body)
    status, body = await h.teams.send_webhook(h.teams_webhook_url, act, h.teams_webhook_secret)
    assert status == 200, (status, body)
    assert "Noted" not in json.loads(body)["text"], body
    assert db_rows(h, "SELECT author, text FROM notes") == [("alice", "once")]


async def test_teams_outgoing_webhook_wrong_secret(h):
    await start(h)
    act = h.teams.outgoing_webhook_message("oncall note must not be stored")
    import base64
    import os
    other = base64.b64encode(os.urandom(32)).decode()
    status, _ = await h.teams.send_webhook(h.teams_webhook_url, act, other)
    assert status == 401
    assert db_rows(h, "SELECT count(*) FROM notes") == [(0,)]


# ---------------------------------------------------------------------------- Workflows


async def test_teams_workflow_webhook_only(h):
    """Without a bot (no app_id) but with a Workflows webhook, announcements go there as
    Adaptive Cards without callback buttons."""
    await h.start_teams(bot=False, webhook=False, workflow=True)
    await h.start()
    ack = await h.slash("/oncall", "note planned failover at 14:00")
    assert "Noted" in h.ack_text(ack)
    post = await h.teams.wait_until(lambda: [w for w in h.teams.workflow_posts if w["status"] == 202],
                                    10, "a Workflows post")
    body = post[0]["body"]
    assert body["type"] == "message"
    card = body["attachments"][0]["content"]
    assert "planned failover" in json.dumps(card)
    assert h.teams.token_requests == 0  # a webhook needs no token


@cases([{"id": "app_password", "env": "KLAXON_TEAMS_APP_PASSWORD"},
        {"id": "webhook_secret", "env": "KLAXON_TEAMS_WEBHOOK_SECRET"}])
async def test_teams_missing_secret_stops_start(h, case):
    """A variable the teams: block names but the environment lacks: exit 3, saying which."""
    await h.start_teams()
    h.env[case["env"]] = None
    h.expect_exit = True
    await h.start(wait=False)
    rc = await h.wait_exit(10)
    assert rc == 3, rc
    assert case["env"] in h.log_text(), h.log_tail(5)


async def test_teams_reply_survives_kill9(h):
    """The command was committed before the 200; its reply, not yet delivered (the connector
    answers 503), is sent after kill -9 and a restart — once."""
    await start(h)
    h.teams.inject_5xx(status=503, kind="reply", times=1000)
    act = await h.teams_command("oncall note survive the crash")
    await h.teams_wait(lambda c: c["kind"] == "reply" and c["status"] == 503, what="a failed reply")
    await h.kill9()
    h.teams.injections.clear()
    await h.restart()
    call = await h.teams_reply_to(act, timeout=15)
    assert "Noted" in h.teams_text(call["body"])
    await asyncio.sleep(0.5)
    ok = [c for c in h.teams.calls if c["kind"] == "reply" and c["status"] == 201]
    assert len(ok) == 1, ok
    assert db_rows(h, "SELECT count(*) FROM notes") == [(1,)]
