"""Retention (storage.retention, docs/configuration.md) end to end: a year of use on the bot's
clock is pruned by the checkpointer's pool thread in batches, the database stays bounded across
two years, and nothing undelivered or still needed goes: a pending outbox row is still sent after
the jump, an open page keeps its copies and its alert, a future job stays; `klaxon backup` taken
while a backlog is pruned is whole."""

import json
import time
import os
import sqlite3
import subprocess

from alerting import db_value, post, wait_db
from harness import engines, timeout

DAY_MS = 86400 * 1000
T0 = "2026-11-24T10:00:00+01:00"
T0_MS = 1795510800000  # T0 in epoch ms
T1 = "2028-01-05T10:00:00+01:00"  # 407 days later
T2 = "2029-02-16T10:00:00+01:00"  # 407 days after T1


def alert(key, status="firing", severity="critical"):
    return {"title": "Disk %s" % key, "severity": severity, "source": "e2e", "status": status, "dedup_key": key,
            "details": {"summary": "retention e2e", "host": "db-1"}}


async def a_month_of_alerts(h, tag, n=20):
    """n critical alerts (a page each, DMs, jobs) and n/5 warnings (posted to a channel), all resolved again."""
    for i in range(n):
        key = "%s-%d" % (tag, i)
        status, body = await post(h, "/alerts/webhook", alert(key))
        assert status == 200, body
        status, body = await post(h, "/alerts/webhook", alert(key, "resolved"))
        assert status == 200, body
        if i % 5 == 0:  # a channel takes about one update a second (Slack's tier): a few
            status, body = await post(h, "/alerts/webhook", alert("w" + key, severity="warning"))
            assert status == 200, body
            status, body = await post(h, "/alerts/webhook", alert("w" + key, "resolved", severity="warning"))
            assert status == 200, body
    await wait_db(h, "SELECT count(*) FROM outbox WHERE state = 'pending'", lambda r: r[0][0] == 0, timeout=40)


def used_pages(h):
    con = sqlite3.connect("file:%s?mode=ro" % h.db_path, uri=True, timeout=5)
    try:
        total = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        return total, total - free
    finally:
        con.close()


def write(h, sql, args=()):
    con = sqlite3.connect(h.db_path, timeout=5)
    try:
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


@timeout(120)
@engines("sqlite")  # rows written into the SQLite file directly, and its backups
async def test_a_year_later_old_rows_go_in_batches_and_nothing_needed_does(h):
    h.now = T0
    await h.start()
    await h.sigterm()
    base = used_pages(h)[0]  # the empty schema
    await h.restart()
    t = time.monotonic()
    await a_month_of_alerts(h, "y1")
    print("retention: year one's alerts took %.1f s" % (time.monotonic() - t))
    # One page stays open: its copies, its alert and the page are still needed.
    status, body = await post(h, "/alerts/webhook", alert("still-open"))
    assert status == 200 and body["pages_created"] == 1, body
    await wait_db(h, "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id WHERE p.state = 'open'",
                  lambda r: r[0][0] >= 1)
    await wait_db(h, "SELECT count(*) FROM outbox WHERE state = 'pending'", lambda r: r[0][0] == 0, timeout=30)
    await h.sigterm()
    before = {t: db_value(h, "SELECT count(*) FROM %s" % t) for t in ("seen", "outbox", "jobs", "alerts",
                                                                       "page_copies", "pages")}
    assert before["outbox"] >= 40 and before["alerts"] >= 24 and before["jobs"] >= 20, before
    open_copies = db_value(h, "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                              " WHERE p.state != 'resolved'")
    peak1 = used_pages(h)
    # Undelivered (as if Slack had been down when the bot stopped) and a job far ahead.
    write(h, "INSERT INTO outbox (created_at, method, queue, body) VALUES (?, 'chat.postMessage',"
             " 'post:C0INCIDENT', ?)", (T0_MS, json.dumps({"channel": "C0INCIDENT", "text": "kept for a year"})))
    write(h, "INSERT INTO jobs (kind, key, due_at, created_at) VALUES ('e2e', 'e2e:far-ahead', ?, ?)",
          (T0_MS + 3 * 365 * DAY_MS, T0_MS))

    h.now = T1  # a year and six weeks later
    t = time.monotonic()
    await h.restart()
    print("retention: restart after the jump took %.1f s" % (time.monotonic() - t))
    await h.wait_call("chat.postMessage", lambda c: c["args"].get("text") == "kept for a year", timeout=10)
    await h.wait_log(r"db retention_pruned rows=\d+", timeout=10)
    cutoff = T0_MS + 7 * DAY_MS  # everything of year one is older than T1 - 400 days
    await wait_db(h, "SELECT count(*) FROM alerts WHERE status = 'resolved' AND last_seen < ?",
                  lambda r: r[0][0] == 0, args=(cutoff,), timeout=10)
    for sql in ("SELECT count(*) FROM seen WHERE at < ?",
                "SELECT count(*) FROM outbox WHERE state != 'pending' AND done_at < ?",
                "SELECT count(*) FROM jobs WHERE state != 'pending' AND done_at < ?",
                "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                " WHERE p.state = 'resolved' AND p.resolved_at < ?"):
        assert db_value(h, sql, (cutoff,)) == 0, sql
    # Still there: the open page, its copies and its firing alert, the far job, every page.
    assert db_value(h, "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                       " WHERE p.state != 'resolved'") >= open_copies
    assert db_value(h, "SELECT count(*) FROM alerts WHERE status = 'firing'") == 1
    assert db_value(h, "SELECT state FROM jobs WHERE key = 'e2e:far-ahead'") == "pending"
    assert db_value(h, "SELECT count(*) FROM pages") == before["pages"]
    assert db_value(h, "SELECT count(*) FROM outbox WHERE state = 'pending'") == 0
    # In batches of at most 500 rows per statement (a line per pass with what it removed).
    passes = [int(x) for x in __import__("re").findall(r"db retention_pruned rows=(\d+)", h.log_text())]
    assert passes and sum(passes) >= before["alerts"] - 1, passes

    after1 = used_pages(h)

    # Year two: the same use again. The freed pages are reused: the file does not double.
    await a_month_of_alerts(h, "y2")
    await h.sigterm()
    peak2 = used_pages(h)
    h.now = T2
    await h.restart()
    await h.wait_log(r"db retention_pruned rows=\d+", timeout=10)
    await wait_db(h, "SELECT count(*) FROM alerts WHERE status = 'resolved'", lambda r: r[0][0] == 0, timeout=10)
    after2 = used_pages(h)
    print("retention: pages (file, in use) empty %d, year one %s, pruned at T1 %s, year two %s, pruned at T2 %s"
          % (base, peak1, after1, peak2, after2))
    # After each year's pruning the pages in use are the same (plus the jobs a jump ran): a
    # year of rows (peak1 - base) would be there again without it.
    year = peak1[0] - base
    assert after2[1] <= after1[1] + 0.3 * year, (base, peak1, after1, peak2, after2)
    assert peak2[0] - base < 2 * year, (base, peak1, after1, peak2, after2)  # the file reuses freed pages
    assert db_value(h, "SELECT count(*) FROM alerts WHERE status = 'firing'") == 1


@timeout(90)
@engines("sqlite")  # rows written into the SQLite file directly, and its backups
async def test_backup_while_a_backlog_is_pruned_is_whole(h):
    """A large backlog (rows written straight into the database, a year old) is pruned while
    `klaxon backup` copies; the backup passes quick_check and has every pending row."""
    h.now = T0
    await h.start()
    await h.sigterm()
    con = sqlite3.connect(h.db_path, timeout=5)
    old = T0_MS - 420 * DAY_MS
    rows = 20000
    con.executemany("INSERT INTO seen (key, at) VALUES (?, ?)", (("old-%d" % i, old) for i in range(rows)))
    con.executemany("INSERT INTO outbox (created_at, method, queue, body, state, done_at) VALUES"
                    " (?, 'chat.postMessage', 'q', '{}', 'done', ?)", ((old, old) for _ in range(rows)))
    con.execute("INSERT INTO jobs (kind, key, due_at, created_at) VALUES ('e2e', 'e2e:kept', ?, ?)",
                (T0_MS + 900 * DAY_MS, old))
    con.commit()
    con.close()
    await h.restart()
    backup = os.path.join(h.tmp, "backup.db")
    await h.wait_log(r"db retention_pruned rows=\d+ more=yes", timeout=10)  # a pass cut at its cap
    r = subprocess.run([h.bin, "backup", "--config", h.config_path, backup], env=h.bot_env(),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # The bot answers while it prunes.
    ack = await h.slash("/oncall", "note pruning does not block")
    text = h.ack_text(ack)
    assert text and "try again" not in text.lower(), text
    await wait_db(h, "SELECT count(*) FROM seen WHERE at < ?", lambda r: r[0][0] == 0, args=(T0_MS,), timeout=30)
    await wait_db(h, "SELECT count(*) FROM outbox WHERE state = 'done' AND done_at < ?", lambda r: r[0][0] == 0,
                  args=(T0_MS,), timeout=30)
    b = sqlite3.connect("file:%s?mode=ro" % backup, uri=True)
    try:
        assert b.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert b.execute("SELECT state FROM jobs WHERE key = 'e2e:kept'").fetchone()[0] == "pending"
        n = b.execute("SELECT count(*) FROM seen WHERE at < ?", (T0_MS,)).fetchone()[0]
        assert 0 <= n < rows, n  # a snapshot somewhere in the middle (or at either end) of the pruning
    finally:
        b.close()
    assert db_value(h, "SELECT state FROM jobs WHERE key = 'e2e:kept'") == "pending"
