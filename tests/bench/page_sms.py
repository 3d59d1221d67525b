#!/usr/bin/python3
"""Page to SMS: build/klaxon behind the Slack simulator and the Twilio stand-in
(tests/sim/twilio_sim.js, webhooks signed by Twilio's own library). Each of N pages (one
generic-webhook alert each, BENCH_PAGES, default 50, one every 100 ms) reaches the primary by
their rules: chat and SMS at once, a call 5 minutes later (never reached: every page is
acknowledged by an SMS reply "ack N" as soon as its SMS is delivered).

Reports: page-to-SMS latency (the alert's POST to the stand-in accepting the Messages request)
p50/p95/max, page-to-delivered (to klaxon recording Twilio's "delivered" callback), SMS
reply-to-acknowledged, and attempts per page. Fails when a page has no SMS, more than one, or
is not acknowledged.
"""
import asyncio
import datetime
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

from alerting import post  # noqa: E402
from harness import Harness  # noqa: E402

PAGES = int(os.environ.get("BENCH_PAGES", "50"))
PHONE = "+4915112345671"


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def ms(v):
    return "%.0f ms" % (v * 1000)


async def run():
    h = Harness(name="bench-page-sms", sim_opts={"echo_bot_messages": False})
    failures = []
    await h.setup()
    try:
        tw = await h.start_twilio()
        h.config["public_url"] = "http://127.0.0.1:%d" % h.http_port
        for p in h.config["people"]:
            if p["id"] == "alice":
                p["phone"] = PHONE
                p["notify"] = [{"after": "0m", "via": ["chat", "sms"]}, {"after": "5m", "via": "voice"}]
        await h.start()
        sent = {}
        for i in range(PAGES):
            sent[i + 1] = time.time()
            status, body = await post(h, "/alerts/webhook", {"title": "Bench %d" % i, "severity": "critical",
                                                             "source": "bench", "dedup_key": "bench-%d" % i})
            if status != 200:
                failures.append("alert %d: %s" % (i, status))
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msgs = await tw.messages()
            if len([m for m in msgs if m["status"] == "delivered"]) >= PAGES:
                break
            await asyncio.sleep(0.2)
        msgs = await tw.messages()
        db = sqlite3.connect(h.config["storage"]["path"])
        to_sms, acked = [], []
        for m in msgs:
            page = int(m["body"].split("(page ")[1].split(")")[0])
            created = datetime.datetime.fromisoformat(m["created"].replace("Z", "+00:00")).timestamp()
            to_sms.append(created - sent[page])
        per_page = {}
        for m in msgs:
            page = int(m["body"].split("(page ")[1].split(")")[0])
            per_page[page] = per_page.get(page, 0) + 1
        if sorted(per_page) != list(range(1, PAGES + 1)) or any(v != 1 for v in per_page.values()):
            failures.append("SMS per page: %r" % per_page)
        for page in range(1, PAGES + 1):
            t = time.time()
            r = await tw.inbound_sms("http://127.0.0.1:%d/twilio/sms" % h.http_port, From=PHONE, To=tw.from_number,
                                     Body="ack %d" % page)
            acked.append(time.time() - t)
            if r["status"] != 200 or "acknowledged" not in r["body"]:
                failures.append("ack %d: %r" % (page, r))
        n_acked = db.execute("SELECT count(*) FROM pages WHERE state = 'acked'").fetchone()[0]
        attempts = db.execute("SELECT count(*) FROM page_attempts").fetchone()[0]
        if n_acked != PAGES:
            failures.append("acknowledged %d of %d" % (n_acked, PAGES))
        print("pages %d; page-to-SMS (alert POST to Twilio's Messages request) p50 %s p95 %s max %s"
              % (PAGES, ms(pct(to_sms, 0.5)), ms(pct(to_sms, 0.95)), ms(max(to_sms) if to_sms else 0)))
        print("SMS reply to acknowledged (round trip through TwiML) p50 %s p95 %s"
              % (ms(pct(acked, 0.5)), ms(pct(acked, 0.95))))
        print("attempts per page: %.2f (chat + SMS; the call's rule never fell due)" % (attempts / PAGES))
        db.close()
    finally:
        await h.close(failed=bool(failures))
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
