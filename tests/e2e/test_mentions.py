"""`@klaxon incident …` / `@klaxon oncall …` in a channel: the command runs like the slash
command, and the answer comes back to the asker as an ephemeral message (an event has no
response_url and no ack payload)."""
import harness as H
import slack_model as M


@H.timeout(30)
async def test_mention_runs_the_command_and_answers_ephemerally(h):
    await h.start_bot()
    since = len(h.sim.calls)
    h.sim.user_message("U0ALICE001", "C0INCIDENT", "<@%s> oncall help" % M.BOT_USER_ID)
    call = await h.wait_call("chat.postEphemeral", lambda c: c["args"].get("user") == "U0ALICE001",
                             since=since, timeout=10)
    assert call["args"]["channel"] == "C0INCIDENT"
    assert "/oncall note" in call["args"]["text"], call["args"]["text"]


@H.timeout(30)
async def test_plain_chat_mentioning_the_bot_runs_nothing(h):
    await h.start_bot()
    since = len(h.sim.calls)
    _, recs = h.sim.user_message("U0ALICE001", "C0INCIDENT", "<@%s> thanks for the help!" % M.BOT_USER_ID)
    for rec in recs:
        await h.sim.wait_ack(rec["envelope_id"], 5)
    assert not [c for c in h.sim.calls[since:] if c["method"] in ("chat.postEphemeral", "chat.postMessage")]
