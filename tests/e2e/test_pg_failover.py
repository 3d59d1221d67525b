"""klaxon on PostgreSQL when the database goes away and comes back (issue 12): the instance stops
taking work (its Socket Mode connection closed, so Slack sends envelopes to the other
instances; /healthz 503, so the balancer does too), keeps running, and takes work again once
the database answers; what was committed before is there after. Each test starts a cluster of
its own (tests/e2e/pg.py) so it can stop and start it."""

import asyncio
import time

import incidents as I
import pg
from harness import alone, engines, timeout


def use_cluster(h, cluster, name="klaxon"):
    h.pg_drop()  # the run's own database for this harness (KLAXON_E2E_ENGINE=postgres), unused here
    cluster.psql("CREATE DATABASE %s" % name)
    h.pg_dir, h.pg_db = cluster.dir, name
    h.config["storage"] = {"engine": "postgres", "url_env": "KLAXON_DATABASE_URL"}
    h.env["KLAXON_DATABASE_URL"] = h.pg_conninfo()


async def end_cluster(h, cluster):
    """A test's own cluster, ended: thawed if a test froze it, klaxon stopped, the cluster stopped
    (the cluster and its database are gone with it)."""
    try:
        cluster.thaw()
    except Exception:
        pass
    if h.running:
        await h.stop_bot()
    cluster.stop()
    h.pg_db = None


async def wait_health(h, want_status, timeout=8.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await h.healthz()
        if last[0] == want_status:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError("/healthz never answered %d: %r" % (want_status, last))


@timeout(90)
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_database_restart_holds_the_socket_then_resumes(h):
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        await I.start(h)
        await I.declare(h, "Checkout is down")
        status, body = await h.healthz()
        assert status == 200 and body["database"] == "ok", body

        # The database crashes: within a couple of seconds klaxon says so, answers 503 and lets
        # go of its Socket Mode connection; it does not exit.
        cluster.halt("immediate")
        await h.wait_log(r"db unavailable", timeout=5)
        status, body = await wait_health(h, 503)
        assert body["database"] == "error", body
        await h.wait_log(r"slack socket_held reason=database_unavailable", timeout=5)
        await h.wait_log(r"slack socket_closed", timeout=5)
        assert h.running, "klaxon exited when its database went away"
        conns_before = h.sim._conn_seq
        await asyncio.sleep(2.5)  # held: no new connection while the database is gone
        assert h.sim._conn_seq == conns_before, "klaxon reconnected to Slack while its database was down"

        # Back: the worker sees it, the socket opens again and work is taken and stored.
        cluster.resume()
        await h.wait_log(r"db available", timeout=10)
        await h.wait_log(r"slack socket_released", timeout=5)
        await h.wait_connected(timeout=15)
        await wait_health(h, 200)
        await I.declare(h, "Payments are slow", wait_channel=False)
        rows = await I.wait_db(h, "SELECT id, title FROM incidents ORDER BY id", lambda r: len(r) == 2)
        # Both stored, in order; a crash may skip numbers (PostgreSQL logs sequences 32 ahead).
        assert [r[1] for r in rows] == ["Checkout is down", "Payments are slow"] and rows[0][0] < rows[1][0], rows
    finally:
        await end_cluster(h, cluster)


@timeout(60)
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_terminated_session_reconnects_without_losing_work(h):
    """pg_terminate_backend() on klaxon's sessions (a failover, an operator): the next statement
    fails, the transaction after it reconnects; nothing committed is lost, nothing is done
    twice."""
    assert pg.available()
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        await I.start(h)
        await I.declare(h, "Checkout is down")
        cut = cluster.terminate_sessions("klaxon")
        assert cut >= 1, "no klaxon session to terminate"
        await I.declare(h, "Payments are slow", wait_channel=False)
        await I.declare(h, "Search is slow", wait_channel=False)
        rows = await I.wait_db(h, "SELECT id FROM incidents ORDER BY id", lambda r: len(r) >= 2, timeout=10)
        # Each declaration that was acked is stored once; one may have been refused ("try
        # again") if it ran on the cut session, never stored twice.
        nums = [r[0] for r in rows]
        assert nums == sorted(set(nums)), nums
        await h.wait_log(r"pg_reconnected", timeout=5)
        assert h.running
    finally:
        await end_cluster(h, cluster)


@timeout(60)
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_backup_and_restore_point_at_pg_tools(h):
    """`klaxon backup` and `restore` copy SQLite files; on PostgreSQL they refuse and say what to
    use instead, touching nothing."""
    import incidents
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        h.write_config()
        dest = h.tmp + "/k.bak"
        rc, out, err = incidents.cli(h, "backup", dest)
        assert rc == 1 and "pg_dump" in err, (rc, out, err)
        rc, out, err = incidents.cli(h, "restore", dest)
        assert rc == 1 and "pg_restore" in err, (rc, out, err)
        import os
        assert not os.path.exists(dest)
    finally:
        await end_cluster(h, cluster)


@timeout(90)
@alone  # liveness must answer within 1 s
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_a_frozen_database_does_not_freeze_the_loop(h):
    """The server stops answering without closing anything (SIGSTOP: a hung host). Every call
    to it is bounded (5 s), the worker's look marks it down within about 2 s, and from then on
    nothing on the loop waits for it: liveness keeps answering at once, /healthz says 503, the
    Slack socket is let go; after it thaws, work goes on."""
    assert pg.available()
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        await I.start(h)
        await I.declare(h, "Checkout is down")
        cluster.freeze()
        t0 = time.monotonic()
        await h.wait_log(r"db unavailable", timeout=8)
        worst = 0.0
        for _ in range(20):  # 4 s of liveness probes while it is frozen
            t = time.monotonic()
            status, _, _ = await h.http_get("/healthz?probe=live")
            worst = max(worst, time.monotonic() - t)
            assert status == 200
            await asyncio.sleep(0.2)
        status, body = await wait_health(h, 503)
        await h.wait_log(r"slack socket_held", timeout=5)
        print("frozen database: down after %.1f s; liveness answered within %.3f s at worst" % (
            time.monotonic() - t0, worst))
        assert worst < 1.0, worst
        cluster.thaw()
        await h.wait_log(r"db available", timeout=15)
        await h.wait_connected(timeout=15)
        await I.declare(h, "Payments are slow", wait_channel=False)
        rows = await I.wait_db(h, "SELECT id, title FROM incidents ORDER BY id", lambda r: len(r) == 2, timeout=15)
        assert rows[1][1] == "Payments are slow", rows
    finally:
        await end_cluster(h, cluster)


def loop_waits(text):
    for line in text.splitlines():
        if line.startswith("klaxon_db_loop_waits_total "):
            return float(line.split()[1])
    raise AssertionError("no klaxon_db_loop_waits_total in /metrics")


@timeout(90)
@alone  # the probes time the loop from above
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_the_loop_never_waits_for_the_database(h):
    """A slash command arrives just as the server stops answering (SIGSTOP), before anything
    has marked it down. Its handler waits for the server on the database thread (bot/dbtask.c);
    the loop does not: liveness probes, answered on the loop, come straight back the whole
    time, through the call's 3 s limit and the down mark. (Before the database thread, the loop
    itself sat in the handler's call for up to 3 s and the probes waited with it.) The loop
    never waited for the database: klaxon_db_loop_waits_total stays 0 from start to stop, and
    the log names no statement it waited for."""
    assert pg.available()
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        await I.start(h)
        await I.declare(h, "Checkout is down")
        status, text = await h.metrics()
        assert status == 200 and loop_waits(text) == 0, text
        cluster.freeze()
        t0 = time.monotonic()
        h.sim.slash("/incident", "declare Payments are slow", "U0ALICE001", "C0INCIDENT")
        worst, probes = 0.0, 0
        while time.monotonic() - t0 < 4.0:
            t = time.monotonic()
            status, _, _ = await h.http_get("/healthz?probe=live")
            worst = max(worst, time.monotonic() - t)
            probes += 1
            assert status == 200
            await asyncio.sleep(0.05)
        print("frozen database with a handler waiting on it: %d liveness probes in 4 s, the slowest "
              "answered in %.3f s" % (probes, worst))
        assert worst < 0.5, "the loop waited for the database: a probe took %.2f s" % worst
        # … while a task did wait for the frozen server, to its 3 s limit, within the window.
        await h.wait_log(r"db pg_timeout", timeout=1)
        cluster.thaw()
        await h.wait_log(r"db available", timeout=15)
        await h.wait_connected(timeout=15)
        await I.declare(h, "Search is slow", wait_channel=False)
        await I.wait_db(h, "SELECT title FROM incidents WHERE title = 'Search is slow'",
                        lambda r: len(r) == 1, timeout=15)
        status, text = await h.metrics()
        assert status == 200 and loop_waits(text) == 0, "the loop waited for the database"
        assert "loop_wait" not in h.log_text(), "the log names a statement the loop waited for"
    finally:
        await end_cluster(h, cluster)


@timeout(90)
@alone  # times a client's wait from above
@engines("sqlite")  # starts a PostgreSQL of its own: the SQLite passes run it once
async def test_a_webhook_whose_client_left_while_waiting_is_not_handled_twice(h):
    """A webhook that waits for the database thread (the server frozen, a task ahead of it) and
    whose client gives up and leaves is not handled when its turn comes: the client's retry is
    the one that counts, so the alert is ingested once (klaxon_http_deferred_dropped_total 1)."""
    import aiohttp
    from alerting import post
    assert pg.available()
    cluster = pg.Postgres().start()
    try:
        use_cluster(h, cluster)
        await I.start(h)
        body = {"title": "DiskFull", "severity": "critical", "source": "e2e", "status": "firing"}
        cluster.freeze()
        h.sim.slash("/incident", "declare Payments are slow", "U0ALICE001", "C0INCIDENT")
        await asyncio.sleep(0.2)  # the slash command's task now waits for the frozen server
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as s:
                await s.post("http://127.0.0.1:%d/alerts/webhook" % h.http_port, json=body,
                             headers={"Authorization": "Bearer " + h.alert_token})
            raise AssertionError("the webhook was answered while the database was frozen")
        except asyncio.TimeoutError:
            pass  # the client gave up and left, its request still queued
        await asyncio.sleep(0.3)  # the loop (free all along) sees the connection close
        cluster.thaw()  # before the down mark (2 s): the queue just goes on
        status, answer = await post(h, "/alerts/webhook", body)  # the client's retry
        assert status == 200, (status, answer)
        rows = await I.wait_db(h, "SELECT count(*) FROM alerts", lambda r: r[0][0] >= 1, timeout=10)
        await asyncio.sleep(0.5)
        # One alert received once (a second handling would make it receives = 2).
        assert I.db_rows(h, "SELECT count(*), sum(receives) FROM alerts") == [(1, 1)], rows
        status, text = await h.metrics()
        assert "klaxon_http_deferred_dropped_total 1" in text, [
            line for line in text.splitlines() if "deferred" in line]
    finally:
        await end_cluster(h, cluster)
