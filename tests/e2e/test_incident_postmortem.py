"""The postmortem end to end (issue 3): a whole incident played on a stopped clock, restarted at
chosen instants, and its draft compared with the checked-in golden file
tests/e2e/golden/postmortem_incident_1.md (GET /incidents/1/postmortem.md and `klaxon
postmortem 1` give the same text); a team's template with placeholders; the route's refusals.

To refresh the golden file after an intended change: KLAXON_GOLDEN_UPDATE=1 and run this test,
then read the diff before committing it."""

import difflib
import os

from harness import timeout

import incidents as I

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "postmortem_incident_1.md")


async def play_incident(h):
    """The incident of the golden file; every step on a stopped clock at a chosen time."""
    await I.start(h, "2026-11-24T10:02:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P1 Checkout API returns 502 for 30% of requests")
    c = ch["id"]
    await h.message(c, "Seeing 502s from checkout since ~09:40 & the LB health checks are red", user="U0BOB00001")
    await h.slash("/incident", "impact-start 09:40", channel=c)

    await I.jump(h, "2026-11-24T10:06:30+01:00")
    await h.slash("/incident", "ack", channel=c, user="U0BOB00001")
    await h.slash("/incident", "role scribe <@U0CAROL001|carol>", channel=c)
    pool, _ = await h.message(c, "<!here> DB connection pool at 100% on db-3 <https://grafana.example.com/d/db|dashboard>",
                              user="U0CAROL001")
    await h.sim.wait_ack(h.sim.user_reaction("U0ALICE001", c, pool["ts"], "pushpin")["envelope_id"])

    await I.jump(h, "2026-11-24T10:15:00+01:00")
    await h.slash("/incident", "sev P0", channel=c)
    await h.slash("/incident", "update Failing over the primary DB to db-5; ETA 10 minutes", channel=c)
    fo, _ = await h.message(c, "failover started", user="U0BOB00001")
    h.sim.user_edit("U0BOB00001", c, fo["ts"], "failover to db-5 started")
    oops, _ = await h.message(c, "oops, wrong channel", user="U0CAROL001")
    h.sim.user_delete(c, oops["ts"])
    await I.wait_timeline(h, lambda t: "oops, wrong channel" not in [x[2] for x in t] and
                          "failover to db-5 started" in [x[2] for x in t])

    await I.jump(h, "2026-11-24T10:31:00+01:00")
    ok, _ = await h.message(c, "error rate back to 0.1% *and* falling", user="U0BOB00001")
    await h.sim.wait_ack(h.sim.user_pin("U0ALICE001", c, ok["ts"])["envelope_id"])
    await h.slash("/incident", "action add @bob Alert on connection-pool saturation", channel=c)
    await h.slash("/incident", "action add @carol Document the failover runbook", channel=c)
    await h.slash("/incident", "resolve Connection pool exhausted after a config push; failed over to db-5", channel=c)

    await I.jump(h, "2026-11-24T10:40:00+01:00")
    await h.slash("/incident", "action done 2", channel=c, user="U0CAROL001")
    await I.wait_db(h, "SELECT done_at FROM incident_actions WHERE number = 2", lambda r: r and r[0][0])
    return c


@timeout(45)
async def test_golden_postmortem(h):
    await play_incident(h)
    status, ctype, md = await h.http_get("/incidents/1/postmortem.md")
    assert status == 200 and ctype.startswith("text/markdown"), (status, ctype)
    if os.environ.get("KLAXON_GOLDEN_UPDATE"):
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w", encoding="utf-8") as f:
            f.write(md)
    with open(GOLDEN, encoding="utf-8") as f:
        want = f.read()
    if md != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), md.splitlines(True), "golden", "served"))
        raise AssertionError("the postmortem differs from %s:\n%s" % (GOLDEN, diff))
    # the CLI prints the same draft (read-only, while the bot runs)
    rc, out, err = I.cli(h, "postmortem", "1")
    assert rc == 0, err
    assert out == md, "".join(difflib.unified_diff(md.splitlines(True), out.splitlines(True), "http", "cli"))
    # the channel was told where it is
    await I.wait_said(h, I.channel_by_name(h, "incident-20261124")["id"], "`klaxon postmortem 1`")


async def test_team_template_and_route_refusals(h):
    tmpl = os.path.join(h.tmp, "pm.md")
    with open(tmpl, "w", encoding="utf-8") as f:
        f.write("# {{title}} ({{severity}})\nTTA {{tta}}, TTR {{ttr}}, TTD {{ttd}}\nIC: {{commander}}\n"
                "Impact: {{impact_start}} / {{impact_start_utc}}\n{{timeline}}\n{{action_items}}\n"
                "{{ unknown_thing }}\n")
    h.config["postmortem"] = {"template": tmpl, "due": "24h"}
    await I.start(h, "2026-11-24T10:00:00+01:00", scale=I.FROZEN)
    _, ch = await I.declare(h, "P2 <b>bold</b> & [link](javascript:x)")
    c = ch["id"]
    await h.slash("/incident", "resolve", channel=c)
    await I.wait_db(h, "SELECT resolved_at FROM incidents", lambda r: r and r[0][0])
    status, ctype, md = await h.http_get("/incidents/1/postmortem.md")
    assert status == 200, (status, md)
    lines = md.split("\n")
    assert lines[0] == "# &lt;b&gt;bold&lt;/b&gt; & \\[link\\](javascript:x) (P2)", lines[0]
    assert lines[1] == "TTA —, TTR 0s, TTD 0s", lines[1]
    assert lines[2] == "IC: alice"
    assert lines[3] == "Impact: 2026-11-24 10:00:00 (UTC+01:00) / 2026-11-24T09:00:00Z", lines[3]
    assert "**alice**: Incident declared (P2): &lt;b&gt;bold" in md
    assert "*None yet:*" in md and "{{ unknown_thing }}" in md
    # an unreadable template: the built-in layout, and the log says why
    os.remove(tmpl)
    status, ctype, md = await h.http_get("/incidents/1/postmortem.md")
    assert status == 200 and md.startswith("# Postmortem: incident #1"), md[:100]
    await h.wait_log(r"template_unreadable .*pm\.md")
    rc, out, err = I.cli(h, "postmortem", "1")
    assert rc == 0 and out.startswith("# Postmortem: incident #1") and "template is not used" in err, err
    # refusals
    for path, want in (("/incidents/2/postmortem.md", 404), ("/incidents/abc/postmortem.md", 400),
                       ("/incidents/-1/postmortem.md", 400), ("/incidents/1/other", 404),
                       ("/incidents/99999999999999999999999/postmortem.md", 400)):
        status, ctype, body = await h.http_get(path)
        assert status == want, (path, status, body)
    rc, out, err = I.cli(h, "postmortem", "2")
    assert rc == 1 and "no incident #2" in err
    rc, out, err = I.cli(h, "postmortem", "x1")
    assert rc == 2
    rc, out, err = I.cli(h, "postmortem")
    assert rc == 2
