"""Teams security checks are judged on the real clock, never on the bot's simulated one.

KLAXON_NOW and KLAXON_TIME_SCALE move business time (rotas, escalations, reminders) only. A
Bot Framework token Microsoft signed a second ago must be accepted while a demo pretends it is
last week, and a token that expired must be refused even when KLAXON_NOW points back to the
days it was valid. The Teams stand-in signs its tokens on the real clock (its `token_clock`)
and stamps activities on the bot's clock, as in production.
"""

import datetime
import time

from harness import timeout

FIVE_DAYS = 5 * 24 * 3600


def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


@timeout(30)
async def test_teams_token_signed_now_accepted_with_clock_five_days_back(h):
    """KLAXON_NOW five days back: a token signed now (nbf a minute ago) is accepted, the
    command runs and its reply goes out with an access token also judged on the real clock."""
    h.now = rfc3339(time.time() - FIVE_DAYS)
    await h.start_teams()
    await h.start()
    act = await h.teams_command("oncall help")  # asserts 200
    call = await h.teams_reply_to(act)
    assert call["auth_ok"]
    assert "auth_refused" not in h.log_text()


@timeout(30)
async def test_teams_expired_token_refused_with_clock_back_to_when_it_was_valid(h):
    """KLAXON_NOW points five days back, to when this token was valid (signed then, an hour of
    life): it expired long ago in real time, so it is refused as expired and nothing runs."""
    then = time.time() - FIVE_DAYS
    h.now = rfc3339(then)
    await h.start_teams()
    await h.start()
    act = h.teams.channel_mention("oncall note must never be stored")
    status, body = await h.teams_send(act, issued_at=int(then))
    assert status == 401, (status, body)
    await h.wait_log(r'teams auth_refused reason="expired"')
    ok = await h.teams_command("oncall help")
    await h.teams_reply_to(ok)
    assert not [c for c in h.teams.calls if c["kind"] == "reply" and c["activity_id"] == act["id"]]


@timeout(30)
async def test_teams_token_not_yet_valid_refused_with_clock_ahead(h):
    """The other way round: KLAXON_NOW five days ahead does not make a token signed for then
    valid now."""
    later = time.time() + FIVE_DAYS
    h.now = rfc3339(later)
    await h.start_teams()
    await h.start()
    act = h.teams.channel_mention("oncall note must never be stored")
    status, body = await h.teams_send(act, issued_at=int(later))
    assert status == 401, (status, body)
    await h.wait_log(r'teams auth_refused reason="not yet valid"')
    ok = await h.teams_command("oncall help")
    await h.teams_reply_to(ok)
