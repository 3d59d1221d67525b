"""/oncall end to end: who is on call (every rota, until when, business-hours contacts), the
schedule, override / away / swap / changes / cancel with their DMs and announcements, the user
group kept equal to who is on call, people found by email (users.lookupByEmail, and
`check-config --online`), the CLI's JSON (`klaxon oncall`, `klaxon schedule`), and the iCal feed
from `klaxon export-ical` and GET /calendar/R.ics read back by python3-icalendar
(docs/oncall.md)."""

import json
import os
import subprocess

from harness import timeout
from oncalling import (ALICE, BOB, CAROL, DAVE, ERIN, FRANK, HANDOFF, cli, cli_json, db_rows, db_value, dms,
                       ms, posts, settle, text_of, wait_db, wait_dm)

HERE = os.path.dirname(os.path.abspath(__file__))
ICAL_CHECK = os.path.join(HERE, "ical_check.py")


def web_rota():
    """A second rota in another zone, with business-hours contacts and no secondary."""
    return {"name": "web", "timezone": "America/Los_Angeles", "handoff": "monday 09:00",
            "start": "2026-11-23", "primary": ["erin", "frank"], "manager": "dave",
            "hours": "mon-fri 08:00-18:00", "contacts": {"crm": "frank"}}


async def group_updates(h, since=0):
    return [c for c in h.sim.calls_of("usergroups.users.update", ok=True, since=since, done=True)]


# ---------------------------------------------------------------------------- who, schedule


@timeout(20)
async def test_oncall_shows_every_rota_until_when_and_contacts_in_business_hours(h):
    h.config["rotas"][0]["contacts"] = {"crm": "frank", "finance": "dave"}
    h.config["rotas"].append(web_rota())
    await h.start()  # Tuesday 2026-11-24 10:00 in Berlin: business hours there, 01:00 in LA
    text = h.ack_text(await h.slash("/oncall", "", user=CAROL))
    platform, web = text.split("*web*")
    for want in ("*platform* (Europe/Berlin)", "Primary: <@%s> until Mon 2026-11-30 09:00" % ALICE,
                 "Secondary: <@%s> until Mon 2026-11-30 09:00" % BOB, "Manager: <@%s>" % ERIN,
                 "Business-hours contacts", "crm <@%s>" % FRANK, "finance <@%s>" % DAVE):
        assert want in platform, (want, platform)
    assert "(America/Los_Angeles)" in web and "Primary: <@%s> until Mon 2026-11-30 09:00" % ERIN in web, web
    assert "Secondary" not in web and "Business-hours" not in web, web  # 01:00 in Los Angeles
    # One rota by name; an unknown one is a clear refusal.
    only = h.ack_text(await h.slash("/oncall", "who web", user=CAROL))
    assert "*web*" in only and "*platform*" not in only, only
    bad = h.ack_text(await h.slash("/oncall", "who nope", user=CAROL))
    assert "There is no rota called `nope`" in bad and "`platform`, `web`" in bad, bad


@timeout(20)
async def test_schedule_lists_the_next_shifts(h):
    h.config["rotas"][0]["holidays"] = ["2026-12-14"]
    await h.start()
    text = h.ack_text(await h.slash("/oncall", "schedule 4 --rota platform", user=CAROL))
    lines = [l for l in text.splitlines() if l.startswith("•")]
    assert len(lines) == 4, text
    assert lines[0].startswith("• *#1* Mon 2026-11-23 09:00 → Mon 2026-11-30 09:00: <@%s>, secondary <@%s>" % (ALICE, BOB)), lines
    assert "*#3* Mon 2026-12-07 09:00 → Tue 2026-12-15 09:00: <@%s>" % CAROL in lines[2], lines
    assert "*#4* Tue 2026-12-15 09:00" in lines[3] and "moved from Mon 2026-12-14 09:00" in lines[3], lines
    bad = h.ack_text(await h.slash("/oncall", "schedule 99", user=CAROL))
    assert "1 to 12 shifts" in bad, bad


# ---------------------------------------------------------------------------- changes


@timeout(30)
async def test_override_announced_dms_and_user_group_follows(h):
    h.config["rotas"][0]["usergroup"] = "S0ONCALL01"
    await h.start()
    first = await h.wait_call("usergroups.users.update", ok=True)
    assert first["args"]["usergroup"] == "S0ONCALL01" and first["args"]["users"] == "%s,%s" % (ALICE, BOB), first["args"]
    mark = len(h.sim.calls)
    ack = await h.slash("/oncall", "override @carol 2026-11-24 10:00 2026-11-26 --rota platform", user=DAVE)
    text = h.ack_text(ack)
    assert text.startswith("Done: <@%s> holds *primary* from Tue 2026-11-24 10:00 to Fri 2026-11-27 00:00 "
                           "(override #1, by <@%s>)" % (CAROL, DAVE)), text
    assert "I have told <@%s>, <@%s>" % (ALICE, CAROL) in text or "I have told <@%s>, <@%s>" % (CAROL, ALICE) in text, text
    ann = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == HANDOFF and
                            "holds *primary*" in text_of(h, c), since=mark, ok=True)
    assert "<@%s>" % CAROL in text_of(h, ann)
    carol = await wait_dm(h, CAROL, ["Your on-call in *platform* changed", "you now hold",
                                     "primary Tue 2026-11-24 10:00 → Fri 2026-11-27 00:00"], since=mark)
    alice = await wait_dm(h, ALICE, ["Your on-call in *platform* changed", "off call"], since=mark)
    assert carol and alice
    assert not dms(h, DAVE, since=mark) and not dms(h, BOB, since=mark), "only people whose shifts changed"
    upd = await h.wait_call("usergroups.users.update", since=mark, ok=True)
    assert upd["args"]["users"] == "%s,%s" % (CAROL, BOB), upd["args"]
    assert h.sim.usergroups["S0ONCALL01"]["users"] == [CAROL, BOB]
    who = h.ack_text(await h.slash("/oncall", "", user=DAVE))
    assert "Primary: <@%s> (override) until Fri 2026-11-27 00:00" % CAROL in who, who
    # When the override ends the group goes back, even with nobody typing: the sync job.
    due = db_value(h, "SELECT due_at FROM jobs WHERE kind = 'oncall.sync' AND state = 'pending'")
    assert due == ms("2026-11-27T00:00:00+01:00"), due
    await h.sigterm()
    h.now = "2026-11-27T00:00:30+01:00"
    mark = len(h.sim.calls)
    await h.restart()
    back = await h.wait_call("usergroups.users.update", since=mark, ok=True)
    assert back["args"]["users"] == "%s,%s" % (ALICE, BOB), back["args"]


@timeout(30)
async def test_user_group_follows_the_handoff(h):
    h.config["rotas"][0]["usergroup"] = "S0ONCALL01"
    h.now = "2026-11-30T08:59:50+01:00"
    h.time_scale = 10
    await h.start()
    first = await h.wait_call("usergroups.users.update", lambda c: c["args"]["users"] == "%s,%s" % (ALICE, BOB),
                              ok=True)
    # The calls after that one: the handoff (1 real second away) may come before start() returns
    # when the start is slow (seen under ASan with another test beside it).
    mark = first["seq"]
    upd = await h.wait_call("usergroups.users.update", since=mark, ok=True, timeout=10)
    assert upd["args"]["users"] == "%s,%s" % (BOB, CAROL), upd["args"]
    await settle(1)
    assert len(await group_updates(h, mark)) == 1, "one update per change"


@timeout(30)
async def test_away_is_covered_by_the_previous_primary(h):
    await h.start()
    ack = await h.slash("/oncall", "away 2026-11-25 2026-11-25", user=ALICE)
    text = h.ack_text(ack)
    assert "Done. *platform*: <@%s> is away from Wed 2026-11-25 00:00 to Thu 2026-11-26 00:00 (absence #1" % ALICE in text, text
    # dave had the shift before alice's: he covers (docs/rota-rules.md §2).
    await wait_dm(h, DAVE, ["you now hold", "primary Wed 2026-11-25 00:00 → Thu 2026-11-26 00:00"])
    assert "I have told <@%s>" % DAVE in text, text
    assert not dms(h, ALICE), "the person who made the change is not DMed"
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == HANDOFF and "is away" in text_of(h, c),
                      ok=True)
    j = await cli_json(h, "oncall", "--rota", "platform", "--at", "2026-11-25 12:00")
    assert j["primary"] == "dave" and j["secondary"] == "bob", j
    # Someone else's absence, for a person in no rota: refused with a sentence.
    bad = h.ack_text(await h.slash("/oncall", "away @frank 2026-12-01 2026-12-02", user=ALICE))
    assert "is in no rota" in bad, bad


@timeout(30)
async def test_swap_changes_both_shifts_and_tells_the_other(h):
    await h.start()
    ack = await h.slash("/oncall", "swap @bob #2", user=CAROL)
    text = h.ack_text(ack)
    assert ("<@%s> takes shift #2 (Mon 2026-11-30 09:00 → Mon 2026-12-07 09:00) from <@%s>, and <@%s> takes shift "
            "#3 (Mon 2026-12-07 09:00 → Mon 2026-12-14 09:00) in return" % (CAROL, BOB, BOB)) in text, text
    dm = await wait_dm(h, BOB, ["changed", "primary Mon 2026-12-07 09:00 → Mon 2026-12-14 09:00"])
    assert "Mon 2026-11-30 09:00 to Mon 2026-12-07 09:00" in text_of(h, dm)
    assert db_rows(h, "SELECT person, from_ms, to_ms FROM rota_changes ORDER BY id") == [
        ("carol", ms("2026-11-30T09:00:00+01:00"), ms("2026-12-07T09:00:00+01:00")),
        ("bob", ms("2026-12-07T09:00:00+01:00"), ms("2026-12-14T09:00:00+01:00"))]
    sched = h.ack_text(await h.slash("/oncall", "schedule 3", user=CAROL))
    assert "<@%s> (override)" % CAROL in sched and "<@%s> (override)" % BOB in sched, sched
    # By date and by ISO week; and refusals.
    for week, want in (("2026-12-21", "#5"), ("2026-W52", "#5")):
        t = h.ack_text(await h.slash("/oncall", "swap @alice %s" % week, user=DAVE))
        assert "takes shift %s" % want in t, (week, t)
    t = h.ack_text(await h.slash("/oncall", "swap @erin #4", user=CAROL))
    assert "Neither of you is the primary of shift #4" in t, t
    t = h.ack_text(await h.slash("/oncall", "swap @bob soon", user=CAROL))
    assert "could not find the shift `soon`" in t, t


@timeout(30)
async def test_changes_list_and_cancel(h):
    await h.start()
    await h.slash("/oncall", "override @dave 2026-12-01 2026-12-02 --secondary", user=ALICE)
    listing = h.ack_text(await h.slash("/oncall", "changes", user=ALICE))
    assert "#1 <@%s> holds secondary Tue 2026-12-01 00:00 → Thu 2026-12-03 00:00, by <@%s>" % (DAVE, ALICE) in listing, listing
    mark = len(h.sim.calls)
    t = h.ack_text(await h.slash("/oncall", "cancel #1", user=ERIN))
    assert t.startswith("Done: cancelled #1") and "cancelled by <@%s>" % ERIN in t, t
    await wait_dm(h, DAVE, ["changed", "off call"], since=mark)
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == HANDOFF and "cancelled" in text_of(h, c),
                      since=mark, ok=True)
    listing = h.ack_text(await h.slash("/oncall", "changes", user=ALICE))
    assert "no overrides or absences" in listing, listing
    again = h.ack_text(await h.slash("/oncall", "cancel 1", user=ALICE))
    assert "There is no current or future change #1" in again, again


@timeout(30)
async def test_bad_input_gets_a_clear_answer(h):
    await h.start()
    for text_in, want in (
            ("override @zed 2026-12-01 2026-12-02", "I don't know who `@zed` is"),
            ("override @bob 2026-12-05 2026-12-01", "could not read `2026-12-05` to `2026-12-01`"),
            ("override @bob tomorrow friday", "could not read `tomorrow` to `friday`"),
            ("override @bob 2026-12-01", "Usage: `/oncall override"),
            ("override @bob 2020-01-01 2020-01-02", "over already"),
            ("override @bob 2026-12-01 2028-01-01", "at most 366 days"),
            ("override @bob 2026-12-01 2026-12-02 --rota nope", "There is no rota called `nope`"),
            ("override @bob 2026-12-01 2026-12-02 --frobnicate", "I don't know the option `--frobnicate`"),
            ("away 2026-12-02", "Usage: `/oncall away"),
            ("cancel abc", "Usage: `/oncall cancel ID [--rota R]`"),
            ("swap @bob", "Usage"),
    ):
        t = h.ack_text(await h.slash("/oncall", text_in, user=ALICE))
        assert want in t, (text_in, t)
    assert db_value(h, "SELECT count(*) FROM rota_changes") == 0
    assert not posts(h, HANDOFF)
    help_text = h.ack_text(await h.slash("/oncall", "help", user=ALICE))
    for want in ("override @user FROM TO", "away [@user] FROM TO", "swap @user WEEK", "schedule [N]",
                 "note [--rota R] TEXT", "YYYY-MM-DD HH:MM"):
        assert want in help_text, (want, help_text)


# ---------------------------------------------------------------------------- people by email


@timeout(40)
async def test_people_found_by_email_and_check_config_online(h):
    people = h.config["people"]
    frank = [p for p in people if p["id"] == "frank"][0]
    del frank["slack"]  # email only: klaxon asks Slack
    people.append({"id": "zed", "email": "zed@example.com"})  # no such Slack user
    await h.start()
    calls = [await h.wait_call("users.lookupByEmail", lambda c, e=e: c["args"].get("email") == e)
             for e in ("frank@example.com", "zed@example.com")]
    for c in calls:
        assert (c["content_type"] or "").startswith("application/x-www-form-urlencoded"), c["content_type"]
    assert calls[0]["ok"] and calls[1]["error"] == "users_not_found"
    await wait_db(h, "SELECT person, slack, lookup_error FROM people_ids ORDER BY person",
                  lambda rows: rows == [("frank", FRANK, None), ("zed", None, "users_not_found")])
    # The learnt id is used: frank gets his DM.
    await h.slash("/oncall", "override @frank 2026-12-01 2026-12-02", user=ALICE)
    await wait_dm(h, FRANK, ["you now hold"])
    # Kept: a restart asks only about the one still unknown.
    await h.sigterm()
    mark = len(h.sim.calls)
    await h.restart()
    await h.wait_call("users.lookupByEmail", since=mark)
    await settle(0.5)
    asked = [c["args"].get("email") for c in h.sim.calls_of("users.lookupByEmail", since=mark)]
    assert asked == ["zed@example.com"], asked
    env = {"SLACK_BOT_TOKEN": h.sim.bot_token, "KLAXON_SLACK_API_URL": h.sim.api_url}
    code, out, err = await cli(h, "check-config", "--online", env=env)
    assert code == 1, (code, out, err)
    assert "zed" in out and "NOT FOUND in Slack (users_not_found)" in out, out
    assert "frank@example.com: %s" % FRANK in out, out
    people.remove(people[-1])
    h.write_config()
    code, out, err = await cli(h, "check-config", "--online", env=env)
    assert code == 0 and "0 not found" in out, (code, out, err)
    code, out, err = await cli(h, "check-config", "--online", env=dict(env, SLACK_BOT_TOKEN="xoxb-wrong"))
    assert code == 1 and "refused the bot token" in out, (out, err)
    code, out, err = await cli(h, "check-config", "--online", env=dict(env, SLACK_BOT_TOKEN=""))
    assert code == 1 and "must hold the bot token" in err, (out, err)


# ---------------------------------------------------------------------------- CLI and iCal


@timeout(30)
async def test_cli_oncall_and_schedule_json(h):
    h.config["rotas"].append(web_rota())
    await h.start()
    await h.slash("/oncall", "override @dave 2026-12-01 2026-12-02 --rota platform", user=ALICE)
    one = await cli_json(h, "oncall", "--rota", "platform")
    assert one == {"rota": "platform", "at": "2026-11-24T10:00:00+01:00", "primary": "alice",
                   "secondary": "bob", "manager": "erin", "shadow": None, "shift": 1,
                   "shift_start": "2026-11-23T09:00:00+01:00", "shift_end": "2026-11-30T09:00:00+01:00",
                   "primary_until": "2026-11-30T09:00:00+01:00",
                   "secondary_until": "2026-11-30T09:00:00+01:00", "started": True}, one
    both = await cli_json(h, "oncall")
    assert [x["rota"] for x in both] == ["platform", "web"] and both[1]["secondary"] is None, both
    assert both[1]["at"] == "2026-11-24T01:00:00-08:00", both[1]
    at = await cli_json(h, "oncall", "--rota", "platform", "--at", "2026-12-01T12:00:00+01:00")
    assert at["primary"] == "dave" and at["shift"] == 2, at
    sched = await cli_json(h, "schedule", "--rota", "platform", "--weeks", "2")
    assert [(s["start"], s["end"], s["primary"], s["secondary"]) for s in sched] == [
        ("2026-11-23T09:00:00+01:00", "2026-11-30T09:00:00+01:00", "alice", "bob"),
        ("2026-11-30T09:00:00+01:00", "2026-12-01T00:00:00+01:00", "bob", "carol"),
        ("2026-12-01T00:00:00+01:00", "2026-12-03T00:00:00+01:00", "dave", "carol"),
        ("2026-12-03T00:00:00+01:00", "2026-12-07T09:00:00+01:00", "bob", "carol"),
        ("2026-12-07T09:00:00+01:00", "2026-12-14T09:00:00+01:00", "carol", "dave")], sched
    assert "override" in sched[2]["note"] and sched[0]["note"] == "", sched
    assert all(set(s) == {"rota", "shift", "start", "end", "primary", "secondary", "note"} for s in sched)
    for args in (("oncall", "--rota", "nope"), ("schedule", "--rota", "nope"), ("export-ical", "--rota", "nope")):
        code, out, err = await cli(h, *args)
        assert code != 0 and "no rota called \"nope\"" in err, (args, code, err)
    code, out, err = await cli(h, "oncall", "--rota", "platform", "--at", "someday")
    assert code == 2 and "--at" in err, (code, err)
    code, out, err = await cli(h, "schedule", "--weeks", "0")
    assert code == 2, (code, err)
    code, out, err = await cli(h, "oncall", "--rota", "platform")
    assert code == 0 and "primary   alice until Mon 2026-11-30 09:00" in out, out


@timeout(30)
async def test_ical_export_and_calendar_feed_read_back(h):
    await h.start()
    await h.slash("/oncall", "override @dave 2026-12-01 2026-12-02", user=ALICE)
    code, out, err = await cli(h, "export-ical", "--rota", "platform", "--weeks", "8")
    assert code == 0, err
    path = os.path.join(h.tmp, "export.ics")
    with open(path, "w", newline="") as f:
        f.write(out)
    chk = subprocess.run(["/usr/bin/python3", ICAL_CHECK, path], capture_output=True, text=True)
    assert chk.returncode == 0, chk.stdout
    assert "UID:platform-20261130T230000Z-dave@klaxon" in out.replace("\r\n ", ""), out[:2000]
    assert "SUMMARY:On call: dave (primary\\, override)\\, carol (secondary)" in out.replace("\r\n ", ""), out
    status, ctype, body = await h.http_get("/calendar/platform.ics")
    assert status == 200 and ctype.startswith("text/calendar"), (status, ctype)
    feed = os.path.join(h.tmp, "feed.ics")
    with open(feed, "w", newline="") as f:
        f.write(body)
    chk = subprocess.run(["/usr/bin/python3", ICAL_CHECK, feed], capture_output=True, text=True)
    assert chk.returncode == 0, chk.stdout
    import icalendar
    cal = icalendar.Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    assert len(events) >= 26, len(events)
    uids = {str(e["UID"]) for e in events}
    assert "platform-20261130T230000Z-dave@klaxon" in uids
    # Stable across exports.
    status, _, body2 = await h.http_get("/calendar/platform.ics")
    assert {str(e["UID"]) for e in icalendar.Calendar.from_ical(body2).walk("VEVENT")} == uids
    for path_, want in (("/calendar/nope.ics", 404), ("/calendar/platform", 404),
                        ("/calendar/platform.ics?weeks=0", 400)):
        status, _, _ = await h.http_get(path_)
        assert status == want, (path_, status)
