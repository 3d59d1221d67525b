"""The App Home tab and the forms (issue 16) end to end through the Slack simulator: the Home
drawn on app_home_opened (views.publish through the outbox, checked by the simulator against
Block Kit's limits), redrawn when a page arrives and after Acknowledge on it, never rewritten
when nothing changed; the forms that stand in for typed syntax (override, away, swap, page
someone) opened with views.open from a slash command without words or a Home button, refused
field by field with `response_action: errors` in the ack, and run as the typed command."""

import json

from alerting import db_rows, db_value, wait_db
from harness import timeout
import slack_model as M

ALICE, BOB, CAROL = "U0ALICE001", "U0BOB00001", "U0CAROL001"


def view_text(view):
    return "\n".join(M.block_texts(view.get("blocks") or []))


def buttons(view):
    out = []
    for b in view.get("blocks") or []:
        if b.get("type") == "actions":
            out += [(e["text"]["text"], e.get("action_id", "").split("#")[0]) for e in b["elements"]]
    return out


def publishes(h, user, since=0):
    return [c for c in h.sim.calls_of("views.publish", done=True, since=since) if c["args"].get("user_id") == user]


def view_of(call):
    v = call["args"]["view"]
    return json.loads(v) if isinstance(v, str) else v


async def open_home(h, user):
    n = len(h.sim.calls)
    rec = h.sim.app_home_opened(user)
    ack = await h.sim.wait_ack(rec["envelope_id"])
    assert ack["payload"] in (None, {}), ack
    call = await h.wait_call("views.publish", lambda c: c["args"].get("user_id") == user, since=n)
    assert call["ok"], call["response"]  # the simulator checked it against Block Kit's limits
    return view_of(call)


# ---------------------------------------------------------------------------- the Home tab


@timeout(20)
async def test_home_shows_who_is_on_call_my_shifts_incidents_and_the_buttons(h):
    h.time_scale = 0.000001
    await h.start()
    view = await open_home(h, ALICE)
    assert view["type"] == "home" and len(view["blocks"]) <= M.MAX_BLOCKS_VIEW
    text = view_text(view)
    # week 1 (2026-11-23): alice primary, bob secondary ("next"), handoff Monday 09:00 Berlin
    assert "*platform*: <@U0ALICE001>, secondary <@U0BOB00001>" in text, text
    assert "until Mon 2026-11-30 09:00" in text, text
    # alice's next shifts: now (primary) and bob's week as secondary ("next" of dave is alice)
    shifts = text.split("*Your next shifts*")[1].split("*Your open pages*")[0]
    assert "primary: Mon 2026-11-23 09:00 → Mon 2026-11-30 09:00" in shifts, shifts
    assert "secondary:" in shifts, shifts
    assert "*Your open pages*\n_None._" in text and "_None. All quiet._" in text, text
    assert [b[0] for b in buttons(view)] == ["Declare incident", "Override", "I'm away", "Swap", "Page someone"]
    # a person klaxon does not know sees the rotas and is told so
    h.sim.users["U0NOBODY01"] = M.make_user({"id": "U0NOBODY01", "name": "nobody"})
    other = view_text(await open_home(h, "U0NOBODY01"))
    assert "*platform*:" in other and "does not know you yet" in other, other
    # the Messages tab draws nothing
    n = len(h.sim.calls)
    rec = h.sim.app_home_opened(ALICE, tab="messages")
    await h.sim.wait_ack(rec["envelope_id"])
    assert db_value(h, "SELECT count(*) FROM home_views") == 2
    assert not publishes(h, ALICE, since=n)


@timeout(30)
async def test_home_is_redrawn_when_a_page_arrives_and_acknowledged_from_it(h):
    h.time_scale = 60  # the refresh job looks every 60 s of the bot's clock: one real second
    await h.start()
    await open_home(h, ALICE)
    await open_home(h, CAROL)
    n = len(h.sim.calls)
    ack = await h.slash("/oncall", "page platform P1 checkout is down", user=BOB, channel="C0ONCALL01")
    assert "page" in h.ack_text(ack).lower(), h.ack_text(ack)
    # alice holds platform's primary: her Home shows the page with Acknowledge
    call = await h.wait_call("views.publish", lambda c: c["args"].get("user_id") == ALICE and
                             "checkout is down" in view_text(view_of(c)), since=n, timeout=10)
    assert call["ok"], call["response"]
    view = view_of(call)
    assert ("Acknowledge", "home.page_ack") in buttons(view), buttons(view)
    assert "not acknowledged" in view_text(view)
    # carol is not on call: her Home does not list it, so it was not written again
    await h.sim.wait_until(lambda: len(publishes(h, ALICE, since=n)) >= 1, 5)
    assert not [c for c in publishes(h, CAROL, since=n) if "checkout" in view_text(view_of(c))]
    pid = db_value(h, "SELECT id FROM pages")
    m = len(h.sim.calls)
    rec = h.sim.home_action(ALICE, "home.page_ack")
    await h.sim.wait_ack(rec["envelope_id"])
    await wait_db(h, "SELECT state FROM pages WHERE id = ?", lambda r: r and r[0][0] == "acked", args=(pid,))
    call = await h.wait_call("views.publish", lambda c: c["args"].get("user_id") == ALICE, since=m, timeout=5)
    view = view_of(call)
    assert "acknowledged" in view_text(view) and "not acknowledged" not in view_text(view)
    assert ("Acknowledge", "home.page_ack") not in buttons(view)
    # nothing changes any more: three refreshes later, no new views.publish for alice
    k = len(h.sim.calls)
    done = "SELECT count(*) FROM jobs WHERE kind = 'home.refresh' AND state = 'done'"
    ran = db_value(h, done)
    await wait_db(h, done, lambda r: r[0][0] >= ran + 3, timeout=10)
    assert not publishes(h, ALICE, since=k), [view_text(view_of(c)) for c in publishes(h, ALICE, since=k)]


# ---------------------------------------------------------------------------- the forms


async def opened_form(h, since, callback):
    call = await h.wait_call("views.open", since=since, timeout=3)
    assert call["ok"], call["response"]
    view = call["response"]["view"]
    assert view["callback_id"] == callback, view["callback_id"]
    return view


async def submit(h, user, view, values):
    rec = h.sim.view_submission(user, view["id"], values)
    a = await h.sim.wait_ack(rec["envelope_id"])
    return a["payload"] or {}


@timeout(25)
async def test_override_form_from_the_slash_command_refuses_fields_then_overrides(h):
    h.time_scale = 0.000001
    await h.start()
    n = len(h.sim.calls)
    ack = await h.slash("/oncall", "override", user=ALICE, channel="C0ONCALL01")
    assert ack["latency"] < 3.0
    view = await opened_form(h, n, "oncall.override")
    kinds = [(b["block_id"], b["element"]["type"]) for b in view["blocks"]]
    assert kinds == [("who", "users_select"), ("rota", "static_select"), ("from", "datepicker"),
                     ("to", "datepicker"), ("slot", "static_select")], kinds
    rota = view["blocks"][1]["element"]
    assert [o["value"] for o in rota["options"]] == ["platform"] and rota["initial_option"]["value"] == "platform"
    assert view["blocks"][2]["element"]["initial_date"] == "2026-11-24"
    # the last day before the first: refused on the "to" field, nothing stored
    p = await submit(h, ALICE, view, {"who": CAROL, "rota": "platform", "from": "2026-11-27", "to": "2026-11-26",
                                      "slot": "primary"})
    assert p.get("response_action") == "errors" and list(p["errors"]) == ["to"], p
    # no person, a date that does not exist
    p = await submit(h, ALICE, view, {"rota": "platform", "from": "2026-02-30", "to": "2026-11-26"})
    assert p.get("response_action") == "errors" and set(p["errors"]) == {"who", "from"}, p
    # a person klaxon does not know: the typed command's own refusal, shown on the form
    h.sim.users["U0NOBODY01"] = M.make_user({"id": "U0NOBODY01", "name": "nobody"})
    p = await submit(h, ALICE, view, {"who": "U0NOBODY01", "rota": "platform", "from": "2026-11-26",
                                      "to": "2026-11-27", "slot": "primary"})
    assert p.get("response_action") == "errors" and "who" in p["errors"] and p["errors"]["who"], p
    assert db_value(h, "SELECT count(*) FROM rota_changes") == 0
    # accepted: the form closes, the override is stored, alice is told in a DM
    m = len(h.sim.calls)
    p = await submit(h, ALICE, view, {"who": CAROL, "rota": "platform", "from": "2026-11-26", "to": "2026-11-27",
                                      "slot": "secondary"})
    assert p in ({}, None) or "response_action" not in p, p
    rows = db_rows(h, "SELECT rota, kind, person, secondary, created_by FROM rota_changes")
    assert rows == [("platform", "override", "carol", 1, "alice")], rows
    dm = await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == ALICE, since=m)
    assert dm["ok"] and "carol" in h.message_text(dm["args"]).lower() or "U0CAROL001" in h.message_text(dm["args"])
    # the typed command is unchanged, and with too few words still answers its usage
    assert "Usage" in h.ack_text(await h.slash("/oncall", "override @bob", user=ALICE, channel="C0ONCALL01"))


@timeout(25)
async def test_home_buttons_open_away_swap_and_page_forms(h):
    h.time_scale = 0.000001
    await h.start()
    await open_home(h, ALICE)
    # I'm away: alice herself by default
    n = len(h.sim.calls)
    await h.sim.wait_ack(h.sim.home_action(ALICE, "home.away")["envelope_id"])
    view = await opened_form(h, n, "oncall.away")
    assert view["blocks"][0]["element"]["initial_user"] == ALICE
    p = await submit(h, ALICE, view, {"who": ALICE, "rota": "platform", "from": "2026-11-25", "to": "2026-11-25"})
    assert "response_action" not in p, p
    assert db_rows(h, "SELECT kind, person FROM rota_changes") == [("absence", "alice")]
    # Swap: a date of the other person's shift
    n = len(h.sim.calls)
    await h.sim.wait_ack(h.sim.home_action(ALICE, "home.swap")["envelope_id"])
    view = await opened_form(h, n, "oncall.swap")
    p = await submit(h, ALICE, view, {"who": BOB, "rota": "platform", "week": "not-a-date"})
    assert p.get("errors", {}).keys() == {"week"}, p
    p = await submit(h, ALICE, view, {"who": BOB, "rota": "platform", "week": "2026-12-01"})
    assert "response_action" not in p, p
    assert db_value(h, "SELECT count(*) FROM rota_changes WHERE kind = 'override'") == 2
    # Page someone: a person or a rota, not both; then a page to the rota's on-call
    n = len(h.sim.calls)
    await h.sim.wait_ack(h.sim.home_action(ALICE, "home.page")["envelope_id"])
    view = await opened_form(h, n, "oncall.page")
    p = await submit(h, ALICE, view, {"who": CAROL, "rota": "platform", "text": "disk full"})
    assert p.get("response_action") == "errors" and "rota" in p["errors"], p
    p = await submit(h, ALICE, view, {"rota": "platform", "severity": "P1", "text": "disk full on db-3"})
    assert "response_action" not in p, p
    rows = await wait_db(h, "SELECT rota, severity, title FROM pages", lambda r: r)
    assert rows[0][:2] == ("platform", "P1") and "disk full on db-3" in rows[0][2], rows
    # Declare incident: the existing declare form
    n = len(h.sim.calls)
    await h.sim.wait_ack(h.sim.home_action(ALICE, "home.declare")["envelope_id"])
    await opened_form(h, n, "incident.declare")


# ---------------------------------------------------------------------------- the picture


@timeout(60)
async def test_home_rendered_by_a_block_kit_renderer_and_screenshot(h):
    """The Home with something in every part, drawn by tests/blockkit/blockkit_html.py and
    photographed by headless Chromium (KLAXON_DOCS_SHOT=1 also writes docs/app-home.png)."""
    import os
    import shutil
    import struct
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "blockkit"))
    import blockkit_html as BK
    import incidents as I
    await I.start(h, "2026-11-24T10:00:00+01:00", I.FROZEN)
    _, chan = await I.declare(h, "P1 Checkout <script>alert(1)</script> fails for EU cards", user=BOB)
    await h.slash("/incident", "action add @alice add an alert on payment latency", user=BOB,
                  channel=chan["id"])
    await wait_db(h, "SELECT count(*) FROM incident_actions", lambda r: r[0][0] == 1)
    await h.slash("/oncall", "page platform P1 queue backlog over 10k", user=CAROL, channel="C0ONCALL01")
    # Two pages: declaring a P1 pages the on-call (issue 11), and this one by hand.
    await wait_db(h, "SELECT count(*) FROM pages", lambda r: r[0][0] == 2)
    view = await open_home(h, ALICE)
    text = view_text(view)
    assert "queue backlog" in text and "payment latency" in text and "Checkout" in text, text
    users = {u["id"]: u["name"] for u in h.sim.users.values()}
    users.update({c["id"]: c["name"] for c in h.sim.channels.values() if not c["is_im"]})
    page = BK.view_html(view, users)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "#incident-20261124" in page, page  # the incident's channel, linked
    assert page.count('class="btn') == 7  # five Home buttons and Acknowledge on each of her two pages
    # Chromium takes both cores for seconds: klaxon is done, so it stops first (exit 0).
    assert await h.stop_bot() == 0
    png = os.path.join(h.tmp, "app-home.png")
    if BK.chromium() is None:
        raise AssertionError("headless Chromium is missing: /usr/bin/chromium (tests/deps.sh installs it)")
    size = BK.screenshot(page, png)
    with open(png, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and size > 10000, size
    assert struct.unpack(">II", head[16:24]) == (760, 720)
    if os.environ.get("KLAXON_DOCS_SHOT"):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        shutil.copy(png, os.path.join(root, "docs", "app-home.png"))
