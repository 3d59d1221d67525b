"""Absences from the HR calendar (issue 14, docs/oncall.md): an iCalendar feed served by a
local HTTP server, read by klaxon with libical on the bot's clock; events name people by
attendee email or by name in the summary, recurring events (RRULE with a VTIMEZONE) expand,
all-day events are whole days in the rota's zone, cancelled events and strangers are ignored;
absences are announced and DMed as /oncall away is, short notice on a shift warns the manager,
a vanished event is cancelled, and a huge or broken feed changes nothing."""

import asyncio
import datetime
import time
from zoneinfo import ZoneInfo

from aiohttp import web

from alerting import db_rows, wait_db
from harness import timeout

ERIN = "U0ERIN0001"
BERLIN = ZoneInfo("Europe/Berlin")

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""

BOB_AWAY = """BEGIN:VEVENT
UID:hr-1001@hr.example.com
DTSTAMP:20261120T080000Z
DTSTART;VALUE=DATE:20261201
DTEND;VALUE=DATE:20261203
SUMMARY:Out of office
ORGANIZER;CN=HR:mailto:hr@example.com
ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:BOB@example.com
END:VEVENT
"""

CAROL_FRIDAYS = """BEGIN:VEVENT
UID:hr-1002@hr.example.com
DTSTAMP:20261120T080000Z
DTSTART;TZID=Europe/Berlin:20261204T090000
DTEND;TZID=Europe/Berlin:20261204T170000
RRULE:FREQ=WEEKLY;COUNT=3
EXDATE;TZID=Europe/Berlin:20261211T090000
SUMMARY:carol - part-time day
END:VEVENT
"""

OTHERS = """BEGIN:VEVENT
UID:hr-1003@hr.example.com
DTSTAMP:20261120T080000Z
DTSTART;VALUE=DATE:20261210
DTEND;VALUE=DATE:20261211
SUMMARY:Zed Stranger holiday
ATTENDEE:mailto:zed@elsewhere.example
END:VEVENT
BEGIN:VEVENT
UID:hr-1004@hr.example.com
DTSTAMP:20261120T080000Z
DTSTART;VALUE=DATE:20261215
DTEND;VALUE=DATE:20261216
STATUS:CANCELLED
SUMMARY:dave holiday (cancelled)
ATTENDEE:mailto:dave@example.com
END:VEVENT
"""


def calendar(*events):
    return ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//HR//Absences//EN\n" + VTIMEZONE + "".join(events)
            + "END:VCALENDAR\n").replace("\n", "\r\n")


class Feed:
    def __init__(self):
        self.body = ""
        self.hits = 0

    async def start(self):
        app = web.Application()
        app.router.add_get("/hr.ics", self.serve)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def serve(self, request):
        self.hits += 1
        return web.Response(body=self.body.encode() if isinstance(self.body, str) else self.body,
                            content_type="text/calendar")

    async def wait_hits(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        while self.hits < n:
            assert time.monotonic() < deadline, "the feed was fetched %d times, not %d" % (self.hits, n)
            await asyncio.sleep(0.05)

    async def stop(self):
        await self.runner.cleanup()


def ms(y, mo, d, h=0, mi=0):
    return int(datetime.datetime(y, mo, d, h, mi, tzinfo=BERLIN).timestamp() * 1000)


def hr_changes(h):
    return db_rows(h, "SELECT person, from_ms, to_ms, reason FROM rota_changes WHERE created_by = 'hr-calendar'"
                      " AND cancelled_at IS NULL ORDER BY from_ms")


@timeout(60)
async def test_the_hr_calendar_becomes_absences_and_follows_its_changes(h):
    feed = await Feed().start()
    try:
        feed.body = calendar(BOB_AWAY, CAROL_FRIDAYS, OTHERS)
        h.now = "2026-11-24T10:00:00+01:00"  # Tuesday; bob is primary from Monday 30 Nov
        h.time_scale = 120                   # `every: 2m` is one second
        h.config["absences"] = {"ical_url": "http://127.0.0.1:%d/hr.ics" % feed.port, "every": "2m",
                                "notice": "14d"}
        await h.start()
        rows = await wait_db(h, "SELECT count(*) FROM rota_changes WHERE created_by = 'hr-calendar'",
                             lambda r: r == [(3,)])
        got = hr_changes(h)
        # Bob: two whole days in the rota's zone (DTEND is exclusive); Carol: two Fridays of
        # three (the second is an EXDATE) at 09:00-17:00 Berlin time; nobody else.
        assert got == [("bob", ms(2026, 12, 1), ms(2026, 12, 3), "hr:hr-1001@hr.example.com"),
                       ("carol", ms(2026, 12, 4, 9), ms(2026, 12, 4, 17), "hr:hr-1002@hr.example.com"),
                       ("carol", ms(2026, 12, 18, 9), ms(2026, 12, 18, 17), "hr:hr-1002@hr.example.com")], got
        # Announced in the handoff channel like /oncall away.
        await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ONCALL01"
                          and "U0BOB00001" in h.message_text(c["args"])
                          and "is away from" in h.message_text(c["args"])
                          and "HR calendar" in h.message_text(c["args"]))
        # Bob's absence lands on his primary shift a week ahead: the manager hears of it.
        await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == ERIN
                          and "Short notice" in h.message_text(c["args"])
                          and "U0BOB00001" in h.message_text(c["args"]))
        # The next fetches change nothing.
        hits = feed.hits
        await feed.wait_hits(hits + 2)
        assert hr_changes(h) == got
        # Bob's absence vanishes from the feed: cancelled and announced.
        feed.body = calendar(CAROL_FRIDAYS, OTHERS)
        await wait_db(h, "SELECT count(*) FROM rota_changes WHERE created_by = 'hr-calendar' AND cancelled_at IS NULL",
                      lambda r: r == [(2,)])
        await h.wait_call("chat.postMessage", lambda c: c["args"].get("channel") == "C0ONCALL01"
                          and "cancelled" in h.message_text(c["args"])
                          and "U0BOB00001" in h.message_text(c["args"]))
        # A huge feed and a broken one change nothing.
        before = hr_changes(h)
        hits = feed.hits
        feed.body = b"BEGIN:VCALENDAR\r\n" + b"X" * (9 * 1024 * 1024)
        await feed.wait_hits(hits + 2)
        feed.body = "this is not a calendar"
        await feed.wait_hits(feed.hits + 2)
        assert hr_changes(h) == before
        log = h.log_text()
        assert "absences fetch_failed" in log and "absences feed_refused" in log, log[-2000:]
        status, text = await h.metrics()
        assert 'klaxon_absences_fetches_total{result="too_big"}' in text, text
        assert 'klaxon_absences_fetches_total{result="synced"}' in text
    finally:
        await feed.stop()


@timeout(30)
async def test_check_config_absences(h):
    import subprocess
    h.config["absences"] = {"ical_url": "http://x/hr.ics", "ical_url_env": "HR_ICS", "every": "10s"}
    r = subprocess.run([h.bin, "check-config", h.write_config()], capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "absences: give one of ical_url or ical_url_env" in out, out
    assert "absences.every: at least 1m" in out, out
