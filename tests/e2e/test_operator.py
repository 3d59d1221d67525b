"""The operator is told through what still works (bot/operator.c, the config's operator block):
when Slack refuses the bot token, by email and in Teams; when Microsoft refuses the Teams bot's
credentials, by email and in Slack; once per refusal episode (not per probe or retry), and once
more when the platform accepts klaxon again. When Slack turns the app's Socket Mode off
(link_disabled), the operator is mailed before klaxon exits with code 6, the outbox is kept,
and what waited is sent once when klaxon runs again."""

import asyncio
import email
import email.policy
import uuid

from alerting import Smtp, db_value
from harness import timeout

HANDOFF = "C0ONCALL01"
OPS_SLACK = "C0ALERTS01"
OPS_EMAIL = "ops@example.com"


def tok():
    return "e2e-" + uuid.uuid4().hex[:10]


def held(h, t):
    return [m for m in h.sim.messages(HANDOFF) if t in h.message_text(m)]


def mail_text(m):
    """Subject and body of a received message, decoded and unfolded."""
    msg = email.message_from_string(m["data"], policy=email.policy.default)
    return "%s\n%s" % (msg["subject"], msg.get_body(("plain",)).get_content())


def mails(smtp, words):
    return [m for m in smtp.messages if words in mail_text(m)]


async def mail_wait(smtp, words, timeout=10):
    m = await smtp.wait(lambda m: words in mail_text(m), timeout=timeout)
    return m, mail_text(m)


def with_smtp(h, smtp):
    h.config["smtp"] = {"url": "smtp://127.0.0.1:%d" % smtp.port, "from": "klaxon@example.com"}


def teams_posts(h, channel, words):
    return [c for c in h.teams.calls if c["kind"] == "create_conversation" and c["status"] == 201
            and c["body"]["channelData"]["channel"]["id"] == channel
            and words in h.teams_text(c["body"]["activity"])]


@timeout(60)
async def test_slack_refused_token_tells_operator_by_email_and_teams_once_then_recovery(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        await h.start_teams()
        ops = h.teams.add_channel("Ops")
        h.config["operator"] = {"email": [OPS_EMAIL], "teams_channel": ops, "slack_channel": OPS_SLACK}
        await h.start()
        mark = len(h.sim.calls)
        h.sim.inject_fault("chat.postMessage", "error", count=2, error="token_revoked")  # refused, and the first probe
        notes = [tok() for _ in range(2)]
        for t in notes:
            await h.slash("/oncall", "note " + t, channel=HANDOFF)
        m, text = await mail_wait(smtp, "Slack refuses the bot token (token_revoked)")
        assert m["to"] == [OPS_EMAIL], m["to"]
        assert "nothing is lost" in text and "SLACK_BOT_TOKEN" in text, text
        await h.teams_wait(lambda c: teams_posts(h, ops, "refuses the bot token"), what="the Teams post to Ops")
        # The probe at ~5 s is refused again: no second word to the operator.
        await h.wait_log(r"sender slack_token_still_refused", timeout=8)
        # The next probe (~10 s later) is accepted: told once more, and everything follows once.
        for t in notes:
            await h.sim.wait_until(lambda t=t: held(h, t), 20, "note %s delivered" % t)
        await mail_wait(smtp, "Slack accepts the bot token again")
        await h.teams_wait(lambda c: teams_posts(h, ops, "accepts the bot token again"),
                           what="the recovery post to Ops")
        await asyncio.sleep(1.5)
        assert len(mails(smtp, "refuses the bot token")) == 1, [mail_text(x)[:120] for x in smtp.messages]
        assert len(mails(smtp, "accepts the bot token again")) == 1
        assert len(teams_posts(h, ops, "refuses the bot token")) == 1
        assert len(teams_posts(h, ops, "accepts the bot token again")) == 1
        # Never through the platform that refused: nothing for the operator went to Slack.
        to_ops = [c for c in h.sim.calls_of("chat.postMessage", since=mark) if c["args"].get("channel") == OPS_SLACK]
        assert to_ops == [], to_ops
        for t in notes:
            assert len(held(h, t)) == 1
        assert db_value(h, "SELECT count(*) FROM outbox WHERE state <> 'done'") == 0
    finally:
        smtp.stop()


@timeout(60)
async def test_teams_refused_credentials_tell_operator_by_email_and_slack_once_then_recovery(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        await h.start_teams()
        ops = h.teams.add_channel("Ops")
        h.config["operator"] = {"email": OPS_EMAIL, "teams_channel": ops, "slack_channel": OPS_SLACK}
        await h.start()
        refused = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
                   "error_codes": [7000215]}
        h.teams.inject(401, times=3, target="token", body=refused)
        act = await h.teams_command("oncall help")
        m, text = await mail_wait(smtp, "Microsoft Teams refuses the Teams bot's credentials")
        assert "invalid_client" in text and "app_password_env" in text, text
        await h.wait_log(r"sender credentials_refused platform=teams error=token_invalid_client", timeout=3)
        post = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == OPS_SLACK, timeout=10)
        assert "refuses" in h.message_text(post["args"]), post["args"]
        status, text = await h.metrics()
        assert 'klaxon_platform_credentials_refused{platform="teams"} 1' in text, text
        # The secret works again (the injection is spent): the reply goes, once, and the operator hears.
        await h.teams_reply_to(act, timeout=20)
        await mail_wait(smtp, "Microsoft Teams accepts the Teams bot's credentials again")
        await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == OPS_SLACK
                          and "accepts" in h.message_text(c["args"]), timeout=10)
        await asyncio.sleep(1.5)
        assert h.teams.token_requests >= 4
        assert len(mails(smtp, "refuses the Teams bot")) == 1, [mail_text(x)[:120] for x in smtp.messages]
        assert len(mails(smtp, "accepts the Teams bot's credentials again")) == 1
        to_ops = [c for c in h.sim.calls_of("chat.postMessage", done=True) if c["args"].get("channel") == OPS_SLACK]
        assert len(to_ops) == 2, [h.message_text(c["args"])[:80] for c in to_ops]
        assert teams_posts(h, ops, "Teams") == [], "told Teams about Teams"
        replies = [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"] and c["status"] == 201]
        assert len(replies) == 1
        status, text = await h.metrics()
        assert 'klaxon_platform_credentials_refused{platform="teams"} 0' in text, text
    finally:
        smtp.stop()


@timeout(60)
async def test_link_disabled_tells_operator_keeps_outbox_exits_6_and_sends_once_after(h):
    smtp = Smtp().start()
    try:
        with_smtp(h, smtp)
        h.config["operator"] = {"email": [OPS_EMAIL]}
        await h.start()
        h.sim.inject_fault("chat.postMessage", "ratelimit", retry_after=30)  # the note waits
        t = tok()
        await h.slash("/oncall", "note " + t, channel=HANDOFF)
        await h.sim.wait_call("chat.postMessage", lambda c: t in h.message_text(c["args"]), timeout=10)
        h.expect_exit = True
        await h.sim.disconnect("link_disabled")
        rc = await h.wait_exit(8)
        assert rc == 6, "exit code %s after link_disabled (want 6)" % rc
        m, text = await mail_wait(smtp, "Slack turned off Socket Mode", timeout=2)
        assert m["to"] == [OPS_EMAIL] and "exit code 6" in text, text
        await h.wait_log(r"operator told platform=slack news=disabled rows=1 via=email", timeout=1)
        assert held(h, t) == []
        assert db_value(h, "SELECT count(*) FROM outbox WHERE state = 'pending' AND body LIKE ?", ("%" + t + "%",)) == 1
        # Socket Mode back on, klaxon restarted: what waited goes out once.
        h.sim.clear_faults()
        h.sim.opts["socket_mode_enabled"] = True
        h.expect_exit = False
        await h.restart()
        await h.sim.wait_until(lambda: held(h, t), 15, "the note after the restart")
        await asyncio.sleep(1)
        assert len(held(h, t)) == 1
        assert len(mails(smtp, "Socket Mode")) == 1
    finally:
        smtp.stop()
