"""Incidents from pages (issues 3 and 5 together): the page's "Declare incident" button
declares an incident with the page's title and severity and the alert's start as the impact
start (time to detect), links the page, and the page's history and later acknowledgement go
into the incident's timeline. docs/incidents.md, docs/alerts.md."""

import json

from alerting import am_alert, am_payload, click, db_rows, message_now, post, wait_dm
from harness import timeout

import incidents as I


@timeout(30)
async def test_declare_incident_from_a_page(h):
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    body = am_payload("CheckoutErrors", [am_alert("CheckoutErrors", summary="checkout 5xx above 5%",
                                                  starts="2026-11-24T08:47:00Z")])
    status, resp = await post(h, "/alerts/alertmanager", body)
    assert status == 200, resp
    dm = await wait_dm(h, "U0ALICE001")
    ids = [el["action_id"].split("#")[0] for b in dm["args"]["blocks"] if b["type"] == "actions"
           for el in b["elements"]]
    assert "page.declare" in ids, ids
    # a double click: two presses before the first is answered
    msg = message_now(h, dm)
    aid = [e["action_id"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
           if e["action_id"].startswith("page.declare")][0]
    r1 = h.sim.block_action("U0ALICE001", dm["response"]["channel"], msg["ts"], aid)
    r2 = h.sim.block_action("U0ALICE001", dm["response"]["channel"], msg["ts"], aid)
    for r in (r1, r2):
        a = await h.sim.wait_ack(r["envelope_id"])
        assert a["latency"] < 3.0
    create = await h.sim.wait_call("conversations.create", ok=True)
    assert create["args"]["name"] == "incident-20261124"
    rows = await I.wait_db(h, "SELECT id, severity, impact_start_at, declared_at, declared_by FROM incidents",
                           lambda r: r)
    iid, sev, impact, declared, who = rows[0]
    assert (iid, sev, who) == (1, "P1", "alice"), rows
    assert declared - impact == 13 * 60000, "time to detect %d ms (want the alert's 13 min)" % (declared - impact)
    assert db_rows(h, "SELECT incident_id FROM pages") == [(1,)]
    # the answer went to whoever pressed it; the page now names the incident, without the button
    await h.sim.wait_until(lambda: any("Declared" in (p["text"] or "") for p in h.sim.response_posts), 5,
                           "the answer to the click")
    await h.sim.wait_until(lambda: "incident #1" in h.message_text(message_now(h, dm)), 5, "the page updated")
    assert "page.declare" not in json.dumps(message_now(h, dm)["blocks"])
    await h.sim.wait_until(lambda: any("already incident #1" in (p["text"] or "") for p in h.sim.response_posts),
                           5, "the second press's answer")
    # the timeline has the page; the acknowledgement comes into it when it happens
    ch = h.sim.channels[create["response"]["channel"]["id"]]
    await I.jump(h, "2026-11-24T10:04:00+01:00")
    await click(h, dm, "page.ack", "U0ALICE001")
    tl = await I.wait_timeline(h, lambda t: any(k == "ack" for k, *_ in t))
    kinds = [(k, w, t) for k, w, t, a, key in tl if k in ("impact", "page", "ack")]
    assert kinds[0] == ("impact", None, "Impact started"), kinds
    assert kinds[1][0] == "page" and kinds[1][2].startswith("Page #1 sent: "), kinds
    assert kinds[2] == ("ack", "alice", "Page #1 acknowledged (4m 0s after it was sent)"), kinds
    assert db_rows(h, "SELECT COUNT(*) FROM incidents") == [(1,)]
    # MTTD in the numbers: the alert's start to the declaration
    rc, out, err = I.cli(h, "stats", "--json")
    st = json.loads(out)
    assert rc == 0 and st["incidents"]["total"] == 1, (out, err)
    assert "780" in json.dumps(st.get("mttd")), st.get("mttd")
    _ = ch
