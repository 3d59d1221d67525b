"""`klaxon migrate --to postgres` (issue 12, docs/ha.md "Moving from SQLite: klaxon migrate"):
a klaxon on SQLite makes real data through Slack and the alert webhook (an incident with a
timeline and a role, an override, a page with its DM), is refused while it runs, and is stopped;
a real PostgreSQL 15 (tests/e2e/pg.py) receives the copy, which is compared with the SQLite file
table by table and row by row; klaxon then runs on PostgreSQL and uses what was copied; a second
copy is refused and changes nothing; a missing or wrong connection string, a file at another
schema version and a config that names no SQLite file each get a clear sentence."""

import asyncio
import os
import re
import sqlite3
import subprocess

import incidents as I
import pg
from alerting import post
from harness import engines, timeout

ALICE, BOB, CAROL, DAVE = "U0ALICE001", "U0BOB00001", "U0CAROL001", "U0DAVE0001"
URL = "KLAXON_DATABASE_URL"


async def migrate(h, *args, env=None, config=True):
    """Run `klaxon migrate ARGS` (with --config unless config=False); (rc, stdout, stderr). In a
    thread: the simulator shares this event loop and must keep answering the bot meanwhile."""
    e = {k: v for k, v in os.environ.items() if k not in ("KLAXON_CONFIG", URL)}
    e.update(env or {})
    cmd = [h.bin, "migrate", *args] + (["--config", h.config_path] if config else [])
    p = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, env=e, timeout=60,
                                cwd=h.tmp)
    return p.returncode, p.stdout, p.stderr


def sqlite_tables(path):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        names = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " ORDER BY name")]
        return {n: [r[1] for r in c.execute("PRAGMA table_info(%s)" % n)] for n in names}
    finally:
        c.close()


def quote(name):
    return '"%s"' % name.replace('"', '""')


def dump_sqlite(path, tables):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return {t: sorted((tuple(r) for r in c.execute("SELECT %s FROM %s" % (
            ", ".join(quote(x) for x in cols), quote(t)))), key=repr) for t, cols in tables.items()}
    finally:
        c.close()


def pg_connect(db, name):
    import psycopg2
    con = psycopg2.connect(host=db.dir, dbname=name, user="klaxon", connect_timeout=10)
    con.set_session(readonly=True, autocommit=True)
    return con


def dump_pg(db, name, tables):
    con = pg_connect(db, name)
    try:
        cur = con.cursor()
        out = {}
        for t, cols in tables.items():
            cur.execute("SELECT %s FROM %s" % (", ".join(quote(x) for x in cols), quote(t)))
            out[t] = sorted((tuple(r) for r in cur.fetchall()), key=repr)
        return out
    finally:
        con.close()


def pg_tables(db, name):
    return sorted(r[0] for r in db.psql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", db=name))


async def make_data(h):
    """An incident with a timeline and a scribe, an override and a page, made through Slack and
    the alert webhook by a klaxon on SQLite."""
    await I.start(h, "2026-11-24T10:00:00+01:00")
    _, ch = await I.declare(h, "P1 checkout slow")
    await h.message(ch["id"], "db-3 CPU at 100% — it's the report job, naïvely scheduled", user=BOB)
    await h.slash("/incident", "role scribe @carol", channel=ch["id"])
    await I.wait_timeline(h, lambda t: any(k == "message" for k, *_ in t))
    await I.wait_db(h, "SELECT who FROM incident_roles WHERE role = 'scribe'", lambda r: r == [("carol",)])
    ack = await h.slash("/oncall", "override @carol 2026-11-24 10:00 2026-11-26 --rota platform", user=DAVE)
    assert "(override #1" in h.ack_text(ack), h.ack_text(ack)
    status, body = await post(h, "/alerts/webhook", {
        "title": "DiskFull", "severity": "critical", "source": "e2e", "status": "firing",
        "details": {"summary": "the disk of db-1 is full", "host": "db-1"}})
    assert status == 200 and body["pages_created"] == 1, body
    await I.wait_db(h, "SELECT count(*) FROM page_copies", lambda r: r[0][0] >= 1)
    return ch


@engines("sqlite")
@timeout(150)
async def test_migrate_copies_every_row_and_postgres_klaxon_uses_them(h):
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    db = pg.Postgres()
    try:
        # Before the bot: initdb blocks this event loop, which the simulator runs on.
        db.start()
        db.psql("CREATE DATABASE kx_migrated")
        ch = await make_data(h)
        url = {URL: db.conninfo("kx_migrated")}

        # (1) Not while klaxon runs on the file: it takes the same lock as `klaxon run`.
        rc, out, err = await migrate(h, "--to", "postgres", env=url)
        assert rc == 1 and "klaxon is running on this SQLite file: stop it first" in err, (rc, out, err)
        assert pg_tables(db, "kx_migrated") == [], "a refused migrate must not touch PostgreSQL"
        assert await h.stop_bot() == 0

        # (2) The copy.
        tables = sqlite_tables(h.db_path)
        before = dump_sqlite(h.db_path, tables)
        for name in ("incidents", "incident_timeline", "incident_roles", "rota_changes", "pages",
                     "page_attempts", "page_copies", "outbox", "jobs", "kv"):
            assert before[name], "no rows in %s: the test made less data than it meant to" % name
        rc, out, err = await migrate(h, "--to", "postgres", env=url)
        total = sum(len(rows) for rows in before.values())
        assert rc == 0, (rc, out, err)
        assert "copied %d rows in %d tables" % (total, len(tables)) in out, (total, len(tables), out)
        assert re.search(r"^incidents +1$", out, re.M), out
        assert db.conninfo("kx_migrated") not in out + err

        # (3) Every table, row by row: the same values, types included (bigint ids stay ints,
        # text stays text, REAL stays float).
        assert pg_tables(db, "kx_migrated") == sorted(list(tables) + ["klaxon_schema"])
        after = dump_pg(db, "kx_migrated", tables)
        for name in sorted(tables):
            assert after[name] == before[name], (name, before[name][:3], after[name][:3])
        # Every identity sequence is past the copied ids.
        for t, c in db.psql("SELECT table_name, column_name FROM information_schema.columns WHERE "
                            "table_schema = 'public' AND is_identity = 'YES'", db="kx_migrated"):
            last, called = db.psql("SELECT last_value, is_called FROM %s" % db.psql(
                "SELECT pg_get_serial_sequence('%s', '%s')" % (t, c), db="kx_migrated")[0][0], db="kx_migrated")[0]
            top = max([r[tables[t].index(c)] for r in before[t]] or [0])
            assert called == "f" and int(last) == top + 1, (t, c, last, called, top)

        # (5) A second copy is refused and changes nothing.
        rc, out, err = await migrate(h, "--to", "postgres", env=url)
        assert rc == 1 and "already holds klaxon data (rows in " in err and "nothing was changed" in err, (rc, err)
        assert dump_pg(db, "kx_migrated", tables) == after

        # (4) klaxon on PostgreSQL works on what was copied: the copied incident's status-update
        # job fires in its channel, `/incident list`, `/oncall` (the override) and the CLI read
        # the copied rows, and klaxon's own new rows (outbox, a new incident) continue the copied
        # numbering.
        assert not I.said(h, ch["id"], "A status update is due")
        h.config["storage"] = {"engine": "postgres", "url_env": URL}
        h.env[URL] = db.conninfo("kx_migrated")
        h.write_config()
        await I.start(h, "2026-11-24T10:40:00+01:00")
        await I.wait_said(h, ch["id"], "A status update is due")
        listing = h.ack_text(await h.slash("/incident", "list", channel="C0ONCALL01"))
        assert "checkout slow" in listing and "<#%s>" % ch["id"] in listing, listing
        who = h.ack_text(await h.slash("/oncall", "", user=DAVE))
        assert "Primary: <@%s> (override)" % CAROL in who, who
        rc, out, err = I.cli(h, "incidents", "--json", env=url)
        assert rc == 0 and '"checkout slow"' in out, (rc, out, err)
        top = max(r[tables["outbox"].index("id")] for r in before["outbox"])
        rows = db.psql("SELECT count(*) FILTER (WHERE id <= %d), count(*) FILTER (WHERE id > %d) FROM outbox"
                       % (top, top), db="kx_migrated")
        assert int(rows[0][0]) == len(before["outbox"]) and int(rows[0][1]) >= 1, (top, rows)
        # A new incident gets the next number (the identity was set past the copied ids), with
        # its channel, and the copied one is still #1.
        _, ch2 = await I.declare(h, "P2 second thing", user=BOB)
        assert ch2["name"] == "incident-20261124-2", ch2["name"]
        assert db.psql("SELECT id, title FROM incidents ORDER BY id", db="kx_migrated") == [
            ["1", "checkout slow"], ["2", "second thing"]]
        assert I.said(h, ch2["id"], "Incident #2"), I.texts(h, ch2["id"])
        assert await h.stop_bot() == 0
    finally:
        if h.running:  # the bot goes before its database does
            await h.stop_bot()
        db.stop()


@engines("sqlite")
@timeout(90)
async def test_migrate_refusals_say_what_to_do(h):
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    await I.start(h, "2026-11-24T10:00:00+01:00")
    await I.declare(h, "P1 api errors")
    assert await h.stop_bot() == 0
    # Usage.
    rc, out, err = await migrate(h)
    assert rc == 2 and "--to postgres" in err, (rc, err)
    rc, out, err = await migrate(h, "--to", "mysql")
    assert rc == 2 and "from SQLite to PostgreSQL only" in err, (rc, err)
    rc, out, err = await migrate(h, "--to", "postgres", config=False)
    assert rc == 2 and "--from FILE" in err, (rc, err)
    # No connection string: the variable is named, with what to put in it.
    rc, out, err = await migrate(h, "--to", "postgres")
    assert rc == 1 and "KLAXON_DATABASE_URL is not set" in err, (rc, err)
    rc, out, err = await migrate(h, "--to", "postgres", "--url-env", "KX_ELSEWHERE")
    assert rc == 1 and "KX_ELSEWHERE is not set" in err, (rc, err)
    # A wrong one: a clear failure, and the string (with its password) never shown.
    secret = "hunter2-not-shown"
    rc, out, err = await migrate(h, "--to", "postgres",
                           env={URL: "postgresql://klaxon:%s@127.0.0.1:1/klaxon?connect_timeout=3" % secret})
    assert rc == 1 and "cannot open the PostgreSQL database in KLAXON_DATABASE_URL" in err, (rc, err)
    assert secret not in out + err
    db = pg.Postgres()
    try:
        db.start()
        db.psql("CREATE DATABASE kx_target")
        url = {URL: db.conninfo("kx_target")}
        # A file that is not there, or not at this klaxon's schema version.
        rc, out, err = await migrate(h, "--to", "postgres", "--from", h.tmp + "/nothing.db", env=url, config=False)
        assert rc == 1 and "no readable SQLite database at" in err, (rc, err)
        assert not os.path.exists(h.tmp + "/nothing.db.lock"), "a lock file beside nothing"
        old = h.tmp + "/old.db"
        src = sqlite3.connect(h.db_path)
        dst = sqlite3.connect(old)
        src.backup(dst)
        src.close()
        version = dst.execute("PRAGMA user_version").fetchone()[0]
        dst.execute("PRAGMA user_version = %d" % (version - 1))
        dst.commit()
        dst.close()
        rc, out, err = await migrate(h, "--to", "postgres", "--from", old, env=url, config=False)
        assert rc == 1 and "is at schema version %d and this klaxon writes version %d" % (version - 1, version) in err, err
        assert "start this klaxon on it once" in err, err
        # A config that already says postgres names no SQLite file: --from is needed, and then
        # the config's url_env is where the connection string is.
        h.config["storage"] = {"engine": "postgres", "url_env": "KX_PG"}
        h.write_config()
        rc, out, err = await migrate(h, "--to", "postgres", env={"KX_PG": url[URL]})
        assert rc == 2 and "give the file to copy with --from FILE" in err, (rc, err)
        rc, out, err = await migrate(h, "--to", "postgres", "--from", h.db_path, env={"KX_PG": url[URL]})
        assert rc == 0 and "to the PostgreSQL database in KX_PG" in out, (rc, out, err)
        assert db.psql("SELECT id, title FROM incidents", db="kx_target") == [["1", "api errors"]]
        # Rows in any one table stop a copy, whoever put them there.
        others = [t for t in pg_tables(db, "kx_target") if t != "klaxon_schema"]
        db.psql("TRUNCATE %s" % ", ".join(others), db="kx_target")
        db.psql("INSERT INTO seen (key, at) VALUES ('someone-else', 1)", db="kx_target")
        rc, out, err = await migrate(h, "--to", "postgres", "--from", h.db_path, env={"KX_PG": url[URL]})
        assert rc == 1 and "already holds klaxon data (rows in seen)" in err, (rc, err)
        assert db.psql("SELECT count(*) FROM incidents", db="kx_target") == [["0"]]
    finally:
        db.stop()
