"""Regression tests for the security review (issue 17): each reproduces an attack seen live
against one build/klaxon on loopback and checks it no longer works. Bounded in count and time.
"""

import asyncio
import os
import signal

from harness import engines, timeout

E2E_ALONE = True  # answers within 1 s, RSS and CPU figures: with `run.py -j N` these run with nothing beside them


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def raw(h, data, limit=5.0):
    """Send raw bytes on a new connection; return everything the server wrote until it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", h.http_port)
    writer.write(data)
    await writer.drain()
    out = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), limit)
            if not chunk:
                break
            out += chunk
    except asyncio.TimeoutError:
        pass  # a keep-alive connection stays open: what came so far is the answer
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass
    return out


def status_lines(out):
    return [line for line in out.split(b"\r\n") if line.startswith(b"HTTP/1.")]


@timeout(60)
async def test_get_with_a_body_is_answered_once_and_leaks_nothing(h):
    """Item 1: a GET with a body was dispatched twice (two header blocks; the first response
    leaked: +29 MB RSS after 175 calendar GETs with a 1-byte body)."""
    await h.start()
    req = (b"GET /calendar/platform.ics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Length: 1\r\nConnection: close\r\n\r\nx")
    out = await raw(h, req)
    lines = status_lines(out)
    assert len(lines) == 1, out[:600]
    assert lines[0].split()[1] == b"400", lines
    before = rss_kib(h.proc.pid)
    for _ in range(175):
        out = await raw(h, req, limit=2.0)
        assert len(status_lines(out)) == 1, out[:600]
    grew = rss_kib(h.proc.pid) - before
    # The leaked responses grew RSS by 29 MB. Under AddressSanitizer RSS says nothing (its
    # quarantine holds freed memory); LeakSanitizer checks for the leak at exit instead.
    if os.environ.get("KLAXON_TEST_LABEL") != "asan":
        assert grew < 4096, "RSS grew by %d KiB over 175 GETs with a body" % grew
    for method in (b"DELETE", b"PATCH"):
        out = await raw(h, method + b" /calendar/platform.ics HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 3\r\nConnection: close\r\n\r\nabc")
        assert len(status_lines(out)) == 1, (method, out[:600])
    status, body = await h.healthz()
    assert status == 200, (status, body)


@timeout(30)
async def test_post_without_a_length_gets_411_at_once(h):
    """Item 2: a chunked or length-less POST is refused before any body is read, so a slow
    body cannot hold the connection."""
    await h.start()
    auth = ("Authorization: Bearer %s\r\n" % h.alert_token).encode()
    chunked = (b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\n" + auth +
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    t0 = asyncio.get_running_loop().time()
    out = await raw(h, chunked, limit=3.0)
    lines = status_lines(out)
    assert len(lines) == 1 and lines[0].split()[1] == b"411", out[:600]
    assert asyncio.get_running_loop().time() - t0 < 2.5, "the 411 came only after the client gave up"
    lengthless = (b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\n" + auth +
                  b"Content-Type: application/json\r\n\r\n")
    out = await raw(h, lengthless, limit=3.0)
    lines = status_lines(out)
    assert len(lines) == 1 and lines[0].split()[1] == b"411", out[:600]
    # an ordinary POST still works
    body = b'{"version":"4","status":"firing","alerts":[]}'
    out = await raw(h, b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\n" + auth +
                    b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                    % len(body) + body)
    lines = status_lines(out)
    assert len(lines) == 1 and lines[0].split()[1] in (b"200", b"202", b"400"), out[:600]


@timeout(60)
@engines("sqlite")  # the SQLite file, its WAL and a backup file
async def test_files_are_private_and_commits_durable(h):
    """Item 12: umask(077) at start (the database, its WAL and a backup are the owner's only) and
    synchronous=FULL (an acked envelope survives a power loss)."""
    os.chmod(h.tmp, 0o755)
    old = os.umask(0o022)
    try:
        await h.start()
        ack = await h.slash("/oncall", "note private note")
        assert ack is not None
        backup = os.path.join(h.tmp, "backup.db")
        r = await asyncio.create_subprocess_exec(h.bin, "backup", "--config", h.config_path, backup,
                                                 stdout=asyncio.subprocess.DEVNULL,
                                                 stderr=asyncio.subprocess.DEVNULL)
        assert await asyncio.wait_for(r.wait(), 20) == 0
    finally:
        os.umask(old)
    for path in (h.db_path, h.db_path + "-wal", backup):
        if os.path.exists(path):
            mode = os.stat(path).st_mode & 0o777
            assert mode & 0o077 == 0, "%s is mode %o" % (path, mode)
    assert os.path.exists(h.db_path) and os.path.exists(backup)
    # synchronous=FULL is per connection: tests/unit/storage/test_storage.c checks it.


def teams_rows(h, sql, *args):
    return h.db_rows(sql, args)


@timeout(40)
async def test_teams_only_msteams_in_our_tenant_and_microsoft_service_urls(h):
    """Item 3: a webchat activity with a validly signed (webchat-endorsed) token was served and
    replaced the stored serviceUrl; a missing tenant skipped the tenant check."""
    await h.start_teams()
    await h.start()
    good = h.teams.channel_mention("oncall note from teams")
    status, _ = await h.teams_send(good)
    assert status == 200, status
    stored = teams_rows(h, "SELECT service_url FROM teams_tenants")
    assert stored == [(h.teams.service_url,)], stored
    # 1. Web Chat, signed with the webchat-endorsed key, claiming our tenant and a new serviceUrl
    act = h.teams.channel_mention("oncall note from webchat")
    act["channelId"] = "webchat"
    act["serviceUrl"] = "https://webchat.botframework.com/"
    status, _ = await h.teams_send(act, missing_endorsement=True)
    assert status == 403, status
    # 2. Teams, but without conversation.tenantId (channelData still names our tenant)
    act = h.teams.channel_mention("oncall note without tenant")
    del act["conversation"]["tenantId"]
    status, _ = await h.teams_send(act)
    assert status == 403, status
    # 3. Teams in our tenant, validly signed for a serviceUrl that is not Microsoft's
    act = h.teams.channel_mention("oncall help")
    act["serviceUrl"] = "https://evil.example/teams/"
    status, _ = await h.teams_send(act)
    assert teams_rows(h, "SELECT service_url FROM teams_tenants") == [(h.teams.service_url,)]
    notes = [r[0] for r in teams_rows(h, "SELECT text FROM notes")]
    assert not any("webchat" in n or "without tenant" in n for n in notes), notes


@timeout(40)
@engines("sqlite")  # a SQLite file held exclusively by another process
async def test_liveness_does_no_database_work(h):
    """Item 5: /healthz (even ?probe=live) ran PRAGMA quick_check on the loop; on a 205 MB
    database 20 calls froze the loop 7.3 s. Liveness now touches no database: with another
    process holding the database exclusively, it still answers at once."""
    import sqlite3
    import time
    await h.start()
    status, body = await h.healthz()
    assert status == 200, body
    assert body.get("integrity") in ("ok", "unchecked"), body
    # A database of some size (quick_check reads every page of it) …
    con = sqlite3.connect(h.db_path, timeout=10, isolation_level=None)
    con.execute("CREATE TABLE e2e_bulk(b BLOB)")
    con.execute("INSERT INTO e2e_bulk SELECT randomblob(1048576) FROM generate_series(1, 96)"
                if False else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 96) INSERT INTO e2e_bulk SELECT randomblob(1048576) FROM n")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # … and another writer holding the write lock meanwhile.
    con.execute("BEGIN IMMEDIATE")
    try:
        con.execute("INSERT INTO e2e_bulk VALUES (x'00')")
        t0 = time.monotonic()
        for _ in range(20):
            status, ctype, text = await h.http_get("/healthz?probe=live")
            assert status == 200, (status, text)
        took = time.monotonic() - t0
        assert '"database"' not in text, "liveness touched the database: " + text
        assert took < 1.0, "20 liveness probes took %.2f s" % took
    finally:
        con.execute("ROLLBACK")
        con.close()
    status, body = await h.healthz()
    assert status == 200, body


@timeout(40)
async def test_only_people_and_rota_members_change_a_rota(h):
    """Item 6: a Slack user not in `people` overrode the rota, cancelled someone else's change
    and marked alice away. Now: strangers change nothing; people outside a rota change it only
    where it concerns themselves; members and the manager may."""
    # frank is in the Slack workspace but not in klaxon's people; dave is in people, not in the rota
    h.config["people"] = [p for p in h.config["people"] if p["id"] != "frank"]
    h.config["escalation_policies"][0]["steps"] = h.config["escalation_policies"][0]["steps"][:3]
    h.config["rotas"][0]["primary"] = ["alice", "bob", "carol"]
    await h.start()
    stranger, outsider, member, erin = "U0FRANK001", "U0DAVE0001", "U0CAROL001", "U0ERIN0001"

    def changes():
        return teams_rows(h, "SELECT count(*) FROM rota_changes WHERE cancelled_at IS NULL")[0][0]

    for text in ("override @bob 2026-12-07 2026-12-14 --rota platform",
                 "away @alice 2026-12-07 2026-12-14", "swap @carol 2026-12-07 --rota platform"):
        said = h.ack_text(await h.slash("/oncall", text, user=stranger))
        assert "I don't know you yet" in said, (text, said)
    assert changes() == 0
    said = h.ack_text(await h.slash("/oncall", "override @bob 2026-12-07 2026-12-14 --rota platform",
                                    user=outsider))
    assert "Only the members of *platform* and its manager" in said, said
    said = h.ack_text(await h.slash("/oncall", "away @alice 2026-12-07 2026-12-14", user=outsider))
    assert "Only the members of *platform*" in said, said
    assert changes() == 0
    # a member may, and so may the manager; only they (or the person it concerns) cancel it
    said = h.ack_text(await h.slash("/oncall", "override @bob 2026-12-07 2026-12-14 --rota platform",
                                    user=member))
    assert said.startswith("Done"), said
    assert changes() == 1
    for who in (stranger, outsider):
        said = h.ack_text(await h.slash("/oncall", "cancel 1", user=who))
        assert "Only the members" in said or "I don't know you yet" in said, said
    assert changes() == 1
    said = h.ack_text(await h.slash("/oncall", "cancel 1", user=erin))
    assert "cancelled" in said, said
    assert changes() == 0


@timeout(30)
async def test_teams_activity_type_cannot_forge_metrics(h):
    """Item 12: the activity's type was written into a metrics label as it came: quotes and a
    newline forged a series, and every made-up type grew a new one."""
    await h.start_teams()
    await h.start()
    for i in range(20):
        act = h.teams.channel_mention("oncall help")
        act["type"] = 'x%d"} 1\nklaxon_forged_total 99\n#' % i
        await h.teams_send(act)
    status, text = await h.metrics()
    assert status == 200
    assert "klaxon_forged_total" not in text, text[-800:]
    series = [l for l in text.splitlines() if l.startswith("klaxon_teams_activities_total{")]
    assert any('type="other"' in l for l in series), series
    assert len(series) < 10, series


@timeout(60)
async def test_slow_headers_do_not_starve_the_server(h):
    """Item 2: 64 connections sending their headers slowly held every header slot: /healthz
    timed out and the Slack reconnect failed until the attack stopped. 100 of them now leave
    room for the probe and for Slack."""
    # The 100 slow clients stand for 100 addresses; on loopback they are one, so the per-client
    # cap (tested on its own below) is lifted here to let the header slots be what is tested.
    h.config["http"]["max_connections_per_client"] = 1000
    await h.start()
    held = []
    try:
        for _ in range(100):
            r, w = await asyncio.open_connection("127.0.0.1", h.http_port)
            w.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            await w.drain()
            held.append(w)
        await asyncio.sleep(0.3)
        t0 = asyncio.get_running_loop().time()
        status, body = await asyncio.wait_for(h.healthz(), 5)
        took = asyncio.get_running_loop().time() - t0
        assert status == 200, (status, body)
        assert took < 2.0, "/healthz took %.1f s behind 100 slow clients" % took
        # and a dropped Socket Mode connection comes back meanwhile
        old = h.sim.conn()
        h.sim.drop(old)
        await h.sim.wait_connected(1, timeout=10, since_conn=old.id)
        await h.wait_connected(10)
        assert h.ack_text(await h.slash("/oncall", "help"))
        # item 12: shutdown is bounded with the slow clients still holding their connections
        rc = await h.stop_bot(signal.SIGTERM, timeout=5.0)
        assert rc == 0, rc
    finally:
        for w in held:
            w.close()


@timeout(40)
async def test_feeds_need_their_token(h):
    """Item 8: postmortem drafts (sequential ids), calendars and /metrics were open on the
    listener Teams needs public. Each now needs the token of its own path."""
    h.config["public_url"] = "https://klaxon.example.com"
    await h.start()
    for path in ("/calendar/platform.ics", "/metrics", "/incidents/1/postmortem.md"):
        status, _, body = await h.http_get(path, token=False)
        assert status == 401 and "klaxon links" in body, (path, status, body)
        status, _, _ = await h.http_get(path + "?token=" + "0" * 32, token=False)
        assert status == 401, (path, status)
        other = h.feed_token("/calendar/other.ics")
        status, _, _ = await h.http_get(path + "?token=" + other, token=False)
        assert status == 401, (path, status)
    status, _, _ = await h.http_get("/calendar/platform.ics")
    assert status == 200
    status, _, _ = await h.http_get("/metrics")
    assert status == 200
    # a bearer token works too (Prometheus' authorization.credentials)
    async with h._http.get("http://127.0.0.1:%d/metrics" % h.http_port,
                           headers={"Authorization": "Bearer " + h.feed_token("/metrics")}) as r:
        assert r.status == 200
    # `klaxon links` prints the URLs that open them
    proc = await asyncio.create_subprocess_exec(h.bin, "links", "--config", h.config_path,
                                                env=h.bot_env(), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0
    lines = dict(line.split(None, 2)[1:3] if line.startswith("calendar") else line.split(None, 1)
                 for line in out.decode().splitlines() if line.strip())
    url = lines["platform"].strip()
    assert url.startswith("https://klaxon.example.com/calendar/platform.ics?token="), url
    status, _, _ = await h.http_get(url[len("https://klaxon.example.com"):], token=False)
    assert status == 200
    assert lines["metrics"].strip() == "https://klaxon.example.com" + h.feed_url("/metrics")


@timeout(40)
@engines("sqlite")  # SQLite's write lock held by another process
async def test_a_locked_database_does_not_freeze_the_loop(h):
    """Item 9: another writer held the SQLite lock and the loop waited 5 s in the busy handler:
    Slack dropped the socket. The loop now waits at most a fraction of a second: a command is
    answered "try again" at once, liveness answers, and everything works once the lock goes."""
    import sqlite3
    import time
    await h.start()
    con = sqlite3.connect(h.db_path, timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        ack = await h.slash("/oncall", "note while locked")
        took = time.monotonic() - t0
        assert "try again" in h.ack_text(ack), h.ack_text(ack)
        assert took < 1.5, "the command waited %.1f s for the lock" % took
        t0 = time.monotonic()
        status, _, _ = await h.http_get("/healthz?probe=live")
        assert status == 200 and time.monotonic() - t0 < 1.0
    finally:
        con.execute("ROLLBACK")
        con.close()
    ack = await h.slash("/oncall", "note after the lock")
    assert "try again" not in h.ack_text(ack), h.ack_text(ack)
    assert teams_rows(h, "SELECT count(*) FROM notes WHERE text LIKE '%after the lock%'") == [(1,)]
    assert teams_rows(h, "SELECT count(*) FROM notes WHERE text LIKE '%while locked%'") == [(0,)]


@timeout(30)
async def test_unauthenticated_alert_is_refused_before_its_body(h):
    """Item 2: the bearer token is checked on the headers: a client without it is answered 401
    at once and cannot make the server wait for (or hold) a body."""
    await h.start()
    t0 = asyncio.get_running_loop().time()
    out = await raw(h, b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n", limit=3.0)
    lines = status_lines(out)
    assert len(lines) == 1 and lines[0].split()[1] == b"401", out[:400]
    assert asyncio.get_running_loop().time() - t0 < 2.5, "the 401 waited for the body"
    # the right token still works, body and all
    body = b'{"version":"4","status":"firing","receiver":"klaxon","groupKey":"g","alerts":[]}'
    out = await raw(h, b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                    h.alert_token.encode() + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert status_lines(out) and status_lines(out)[0].split()[1] != b"401", out[:400]


@timeout(40)
async def test_teams_requests_without_a_credential_are_refused_before_their_body(h):
    """Item 2 for the Teams routes: no `Authorization: Bearer …` on /teams/messages, no
    `HMAC …` on /teams/webhook, and the request is answered 401 on its headers, however large
    the body it announces; with the credential's scheme the body is read and then judged."""
    await h.start_teams()
    await h.start()
    for path, auth in ((b"/teams/messages", b""), (b"/teams/messages", b"Authorization: HMAC x\r\n"),
                       (b"/teams/webhook", b""), (b"/teams/webhook", b"Authorization: Bearer x\r\n")):
        t0 = asyncio.get_running_loop().time()
        out = await raw(h, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + auth +
                        b"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n", limit=3.0)
        lines = status_lines(out)
        assert len(lines) == 1 and lines[0].split()[1] == b"401", (path, auth, out[:400])
        assert asyncio.get_running_loop().time() - t0 < 2.5, (path, "the 401 waited for the body")
    # the right scheme gets the body read and a verdict on it (a forged token: still 401)
    body = b'{"type":"message"}'
    out = await raw(h, b"POST /teams/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x.y.z\r\n"
                    b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
                    % len(body) + body)
    assert status_lines(out) and status_lines(out)[0].split()[1] in (b"401", b"400"), out[:400]
    assert "auth_refused" in h.log_text() or "malformed" in h.log_text()


@timeout(60)
async def test_a_body_that_never_comes_is_cut_off(h):
    """Item 2, the slow body: an authorised POST announces a body and sends a few bytes of it,
    then nothing. The server drops it by the request deadline (HTTPD_HEADER_DEADLINE_S, 10 s;
    lws may take a few seconds more to notice), answers /healthz all along, and nothing of the
    partial body is acted on."""
    await h.start()
    writers = []
    for _ in range(8):
        reader, writer = await asyncio.open_connection("127.0.0.1", h.http_port)
        writer.write(b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     h.alert_token.encode() + b"\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 5000\r\n\r\n{\"version\":\"4\",")
        await writer.drain()
        writers.append((reader, writer))
    t0 = asyncio.get_running_loop().time()
    status, _, _ = await h.http_get("/healthz?probe=live")
    assert status == 200
    closed = 0
    for reader, writer in writers:
        left = 25 - (asyncio.get_running_loop().time() - t0)
        try:
            data = await asyncio.wait_for(reader.read(65536), max(0.1, left))
            while data:
                data = await asyncio.wait_for(reader.read(65536), max(0.1, left))
            closed += 1
        except (asyncio.TimeoutError, ConnectionError):
            pass
        writer.close()
    took = asyncio.get_running_loop().time() - t0
    assert closed == len(writers), "only %d of %d slow bodies were cut off in %.1f s" % (closed, len(writers), took)
    assert took < 25, took
    assert teams_rows(h, "SELECT count(*) FROM alerts") == [(0,)]


@timeout(60)
async def test_too_many_websockets_backs_off(h):
    """Item 12: a `too_many_websockets` disconnect on the only socket reconnected at once, to be
    refused again. Each refusal in a row now waits longer (backoff with jitter)."""
    import time
    await h.start()
    gaps = []
    for i in range(3):
        old = h.sim.conn()
        mark = len(h.sim.calls)
        t0 = time.monotonic()
        await h.sim.disconnect("too_many_websockets", old)
        call = await h.sim.wait_call("apps.connections.open", since=mark, timeout=20)
        gaps.append(call["mono"] - t0)
        await h.sim.wait_connected(1, timeout=10, since_conn=old.id)
    # base 0.5 s, doubling, jitter in [base/2, base): at least 0.25, 0.5 and 1.0 s
    assert gaps[0] >= 0.24 and gaps[1] >= 0.49 and gaps[2] >= 0.99, gaps
    assert h.ack_text(await h.slash("/oncall", "help"))


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hold(port, source, n, batch=200):
    """Open n connections to the bot from the address `source`, sending nothing; return the
    (reader, writer) pairs, and the time the last batch took."""
    out = []
    for i in range(0, n, batch):
        out += await asyncio.gather(*[asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
                                      for _ in range(min(batch, n - i))])
    return out


async def refused(conns, wait=1.0):
    """How many of the connections were answered 503 and closed (within `wait` seconds of now)."""

    async def one(reader):
        try:
            head = await asyncio.wait_for(reader.read(200), wait)
        except asyncio.TimeoutError:
            return False  # held open, idle: admitted
        except (ConnectionError, OSError):
            return True
        assert head == b"" or head.startswith(b"HTTP/1.1 503"), head
        return True

    return sum(await asyncio.gather(*[one(r) for r, _ in conns]))


async def release(conns):
    for _, w in conns:
        w.close()
    await asyncio.sleep(0)


async def probe(h, source, path=b"/healthz?probe=live", limit=1.0):
    """One request from the address `source`; returns (status, seconds)."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", h.http_port,
                                                          local_addr=(source, 0)), limit)
    w.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try:
        out = await asyncio.wait_for(r.read(), limit)
    except ConnectionError:
        # A refused connection is closed at accept; a request that arrived just after the
        # server read what was there turns the close into a reset, which may overtake the 503.
        return "reset", loop.time() - t0
    finally:
        w.close()
    lines = status_lines(out)
    return (int(lines[0].split()[1]) if lines else None), loop.time() - t0


REFUSED = (503, "reset")  # what a client over a cap sees, at once


def metric(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + ("{%s}" % labels if labels else "") + " "):
            return float(line.split()[-1])
    return 0.0


async def metrics_when_released(h, timeout=5.0):
    """/metrics once the bot is back to holding (almost) no connections."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, text = await h.metrics()
        if status == 200 and metric(text, "klaxon_http_connections_open") <= 2:
            return text
        assert asyncio.get_running_loop().time() < deadline, text[-1500:]
        await asyncio.sleep(0.1)


@timeout(30)
async def test_one_client_cannot_hold_every_connection(h):
    """Item 2: one address could open connections until the server had no descriptor left for
    anyone else. Now each address holds at most http.max_connections_per_client: the excess is
    answered 503 and closed at once, and other clients are served meanwhile."""
    h.config["http"]["max_connections_per_client"] = 20
    await h.start()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    conns = await hold(h.http_port, "127.0.0.1", 40)
    try:
        n_refused = await refused(conns, wait=1.0)
        # the harness's own keep-alive connection may hold one of the 20 places
        assert 20 <= n_refused <= 21, "%d of 40 refused (cap 20)" % n_refused
        assert loop.time() - t0 < 3.0, "refusing took %.1f s" % (loop.time() - t0)
        # another client is served at once meanwhile
        status, took = await probe(h, "127.0.0.2")
        assert status == 200 and took < 1.0, (status, took)
        # and the capped one is refused fast, not left hanging
        status, took = await probe(h, "127.0.0.1")
        assert status in REFUSED and took < 1.0, (status, took)
    finally:
        await release(conns)
    text = await metrics_when_released(h)
    assert metric(text, "klaxon_http_connections_refused_total", 'reason="per_client"') >= 21, \
        text[-1500:]
    assert "http connection_refused" in h.log_text() and "reason=per_client" in h.log_text()
    status, took = await probe(h, "127.0.0.1")
    assert status == 200 and took < 1.0, (status, took)


async def two_thousand_idle(h, held_max):
    """Open 2,000 idle connections from 40 addresses (50 each: under the per-client cap) to a
    bot that holds at most held_max; check the rest are refused at once, the bot does not spin,
    its log stays short, /healthz answers once they close and SIGTERM ends it with 0."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    assert want >= 2200, "RLIMIT_NOFILE hard limit %d is too low for this test" % hard
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    pid = h.proc.pid
    log_before = len(h.log_text().splitlines())
    loop = asyncio.get_running_loop()
    conns = []
    try:
        t0 = loop.time()
        for i in range(40):
            conns += await hold(h.http_port, "127.0.0.%d" % (10 + i), 50)
        opened = loop.time() - t0
        n_refused = await refused(conns, wait=1.0)
        # held, idle connections cost no CPU: the bot does not spin
        cpu0 = cpu_seconds(pid)
        await asyncio.sleep(2.0)
        cpu = cpu_seconds(pid) - cpu0
        assert cpu < 0.2, "the bot used %.2f s of CPU in 2 s with 2,000 idle connections" % cpu
        want_refused = 2000 - held_max
        assert want_refused - 5 <= n_refused <= want_refused + 5, \
            "%d of 2000 refused (the bot holds %d)" % (n_refused, held_max)
        # a newcomer is refused at once, not left waiting
        status, took = await probe(h, "127.0.0.200")
        assert status in REFUSED and took < 1.0, (status, took)
        log = h.log_text().splitlines()[log_before:]
        lines = [l for l in log if "connection_refused" in l]
        assert len(lines) < 100 and len(log) < 300, "%d log lines, %d refusals logged" % (len(log), len(lines))
    finally:
        await release(conns)
    text = await metrics_when_released(h)
    assert metric(text, "klaxon_http_connections_refused_total", 'reason="server_full"') >= want_refused - 5, \
        text[-1500:]
    status, took = await probe(h, "127.0.0.1")
    assert status == 200 and took < 1.0, (status, took)
    rc = await h.stop_bot(signal.SIGTERM, timeout=5.0)
    assert rc == 0, rc
    print("    2,000 idle (holds %d): opened in %.1f s, %d refused, bot CPU %.3f s over 2 s, %d log lines"
          % (held_max, opened, n_refused, cpu, len(log)))


@timeout(40)
async def test_two_thousand_idle_connections(h):
    """Item 7: 2,000 idle connections. The server holds at most HTTPD_CONN_MAX (1920) and
    answers the rest 503 at once (the bot inherits a LimitNOFILE-like 4096 here)."""
    await h.start()
    await two_thousand_idle(h, 1920)


@timeout(40)
async def test_two_thousand_idle_connections_under_a_low_fd_limit(h):
    """Item 7, the issue's case: under RLIMIT_NOFILE 1024 (hard), 2,000 idle connections made
    accept() fail with EMFILE over and over: the bot spun (1.95 s of CPU in 2 s), wrote an
    `accept` error per turn and a newcomer waited forever. Now the total cap fits the limit
    (1024 - HTTPD_FD_RESERVE = 896) and the rest are refused at once."""
    import shutil
    prlimit = shutil.which("prlimit")
    assert prlimit, "prlimit (util-linux) is needed to start the bot under a low RLIMIT_NOFILE"
    wrapper = os.path.join(h.tmp, "klaxon-nofile-1024")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s --nofile=1024:1024 %s \"$@\"\n" % (prlimit, h.bin))
    os.chmod(wrapper, 0o755)
    h.bin = wrapper  # prlimit execs the bot: the process (and its pid) is klaxon's
    await h.start()
    await two_thousand_idle(h, 1024 - 128)


@timeout(30)
async def test_refusals_to_clients_that_leave_leak_nothing(h):
    """Found by tests/fuzz/fuzz_http.c: a 404, 405 or 413 answered at once was never marked
    finished, so when the client left before the answer was written the response (about 1 KB)
    was kept for a handler that did not exist: a client could grow the bot's memory by sending
    a request and hanging up, over and over (before the fix, 1,095 of 1,200 such requests
    leaked). LeakSanitizer reports it at exit in the ASan run; the plain run's RSS check is a
    coarse backstop (whether the close beats the write varies)."""
    await h.start()
    auth = ("Authorization: Bearer %s\r\n" % h.alert_token).encode()
    reqs = [b"GET /no/such/page HTTP/1.1\r\nHost: x\r\n\r\n",
            b"DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /alerts/alertmanager HTTP/1.1\r\nHost: x\r\n" + auth +
            b"Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n"]

    async def hang_up(req):
        r, w = await asyncio.open_connection("127.0.0.1", h.http_port)
        w.write(req)
        await w.drain()
        w.transport.abort()  # gone before the answer is written

    async def rounds(n):
        for _ in range(n):
            await asyncio.gather(*[hang_up(req) for req in reqs for _ in range(40)])
        await asyncio.sleep(0.3)

    await rounds(3)  # warm up: the allocator and lws's header slots reach their working size
    before = rss_kib(h.proc.pid)
    await rounds(30)
    grew = rss_kib(h.proc.pid) - before
    if os.environ.get("KLAXON_TEST_LABEL") != "asan":
        assert grew < 1024, "RSS grew by %d KiB over 3,600 requests whose client hung up" % grew
    status, body = await h.healthz()
    assert status == 200, (status, body)


@timeout(40)
async def test_pipelined_requests_cannot_spin_or_corrupt_the_server(h):
    """Found by tests/fuzz/fuzz_http.c: requests pipelined behind another went through lws
    4.1's buffered path, where one input (tests/fuzz/seeds/fuzz_http/pipelined_spin) spun the
    loop forever (100% CPU, /healthz dead, SIGTERM ignored) and another handed the body
    callback freed memory (pipelined_body_after_free, a heap-use-after-free under ASan). The
    server now closes the connection after each answer (`Connection: close`), so nothing
    behind the first request is parsed."""
    await h.start()
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "seeds", "fuzz_http")
    for name in ("pipelined_spin", "pipelined_body_after_free"):
        with open(os.path.join(seeds, name), "rb") as f:
            data = f.read()
        cpu0 = cpu_seconds(h.proc.pid)
        out = await raw(h, data, limit=2.0)
        cpu = cpu_seconds(h.proc.pid) - cpu0
        assert cpu < 0.5, "%s: the bot used %.2f s of CPU" % (name, cpu)
        status, took = await probe(h, "127.0.0.1")
        assert status == 200 and took < 1.0, (name, status, took)
        assert len(status_lines(out)) == 1, (name, out[:400])
        assert b"connection: close" in out.lower(), (name, out[:400])
    # one request per connection: a client may still send its next one on a new connection
    for _ in range(3):
        status, _ = await h.healthz()
        assert status == 200
    rc = await h.stop_bot(signal.SIGTERM, timeout=5.0)
    assert rc == 0, rc
