"""The PostgreSQL schema (storage/schema_pg.c, issue 12) against the SQLite one klaxon runs:
`klaxon schema postgres` is applied to a real PostgreSQL 15 started here (tests/e2e/pg.py), and
every table is compared column by column with the database a started bot created: the same
tables, columns in the same order, matching types (INTEGER = bigint, TEXT = text, REAL = double
precision), the same NOT NULL and defaults, identity exactly where SQLite has an `id` rowid
alias, the same primary keys, unique constraints, foreign keys, CHECK constraints and indexes
(name, columns, unique, partial). Also: `klaxon schema sqlite` is exactly what db_open ran, and
both engines' migrations have the same version numbers."""

import re
import sqlite3
import subprocess

import pg
from harness import engines, timeout

TYPES = {"INTEGER": "bigint", "TEXT": "text", "REAL": "double precision"}


def schema_cli(h, engine):
    r = subprocess.run([h.bin, "schema", engine], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


def versions(text):
    return [int(v) for v in re.findall(r"^-- version (\d+)$", text, re.M)]


def norm_default(v):
    if v is None:
        return None
    v = re.sub(r"::[a-z ]+$", "", str(v).strip())
    if re.fullmatch(r"'-?\d+'", v):  # PostgreSQL shows DEFAULT -1 as '-1'::bigint
        v = v.strip("'")
    return v.strip("()") if re.fullmatch(r"\(-?\d+\)", v) else v


def sqlite_model(path):
    c = sqlite3.connect(path)
    tables = {}
    for (name, sql) in c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        info = c.execute("PRAGMA table_info(%s)" % name).fetchall()
        pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        cols = []
        for cid, col, typ, notnull, dflt, pkpos in info:
            identity = col == "id" and pk == ["id"] and typ.upper() == "INTEGER"
            cols.append((col, TYPES[typ.upper()], bool(notnull or pkpos), norm_default(dflt), identity))
        uniques, indexes = [], []
        for _, iname, unique, origin, partial in c.execute("PRAGMA index_list(%s)" % name).fetchall():
            icols = [r[2] for r in c.execute("PRAGMA index_info(%s)" % iname).fetchall()]
            if origin == "u":
                uniques.append(tuple(icols))
            elif origin == "c":
                indexes.append((iname, tuple(icols), bool(unique), bool(partial)))
        fks = sorted((r[3], r[2], r[4]) for r in c.execute("PRAGMA foreign_key_list(%s)" % name).fetchall())
        checks = len(re.findall(r"\bCHECK\b", sql, re.I))
        tables[name] = {"columns": cols, "pk": pk, "unique": sorted(uniques), "indexes": sorted(indexes),
                        "fk": fks, "checks": checks}
    c.close()
    return tables


def pg_model(db):
    tables = {}
    names = [r[0] for r in db.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    for name in names:
        cols = []
        for col, typ, nullable, dflt, ident in db.psql(
                "SELECT column_name, data_type, is_nullable, coalesce(column_default, '\\N'), is_identity"
                " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '%s'"
                " ORDER BY ordinal_position" % name):
            cols.append((col, typ, nullable == "NO", None if dflt == "\\N" else norm_default(dflt), ident == "YES"))

        def con_cols(kind):
            return [tuple(r[0].split(",")) for r in db.psql(
                "SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_constraint c"
                " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
                " WHERE c.conrelid = 'public.%s'::regclass AND c.contype = '%s' GROUP BY c.oid" % (name, kind))]

        pk = list(con_cols("p")[0]) if con_cols("p") else []
        indexes = []
        for iname, icols, unique, partial in db.psql(
                "SELECT i.relname, (SELECT string_agg(a.attname, ',' ORDER BY k.ord)"
                "   FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)"
                "   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum),"
                " x.indisunique, x.indpred IS NOT NULL"
                " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = 'public.%s'::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)" % name):
            indexes.append((iname, tuple(icols.split(",")), unique == "t", partial == "t"))
        fks = sorted((r[0], r[1], r[2]) for r in db.psql(
            "SELECT a.attname, r.relname, ra.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " JOIN pg_class r ON r.oid = c.confrelid"
            " JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]"
            " WHERE c.conrelid = 'public.%s'::regclass AND c.contype = 'f'" % name))
        checks = int(db.psql("SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.%s'::regclass"
                             " AND contype = 'c'" % name)[0][0])
        tables[name] = {"columns": cols, "pk": pk, "unique": sorted(con_cols("u")), "indexes": sorted(indexes),
                        "fk": fks, "checks": checks}
    return tables


@timeout(90)
@engines("sqlite")  # it reads the bot's SQLite file and starts a PostgreSQL of its own
async def test_postgres_schema_matches_sqlite_column_by_column(h):
    assert pg.available(), "PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)"
    await h.start()
    await h.stop_bot()
    lite_text, pg_text = schema_cli(h, "sqlite"), schema_cli(h, "postgres")
    assert versions(lite_text) == versions(pg_text) and versions(pg_text), (versions(lite_text), versions(pg_text))
    # `klaxon schema sqlite` is what db_open ran: applied to an empty file it gives the same model.
    fresh = h.tmp + "/from-cli.db"
    c = sqlite3.connect(fresh)
    c.executescript(lite_text)
    c.close()
    lite = sqlite_model(h.db_path)
    assert sqlite_model(fresh) == lite
    db = pg.Postgres()
    try:
        db.start()
        db.psql("CREATE DATABASE klaxon_schema")
        db.psql(pg_text, db="klaxon_schema")
        post = pg_model(type("D", (), {"psql": lambda self, s: db.psql(s, db="klaxon_schema")})())
    finally:
        db.stop()
    assert sorted(post) == sorted(lite), (sorted(set(lite) ^ set(post)))
    assert len(lite) >= 30
    for name in sorted(lite):
        for part in ("columns", "pk", "unique", "indexes", "fk", "checks"):
            assert post[name][part] == lite[name][part], (name, part, lite[name][part], post[name][part])


@timeout(60)
async def test_postgres_harness_is_socket_only_and_cleans_up(h):
    """The stand-in the multi-instance tests will use: reachable through its socket, not over TCP,
    and gone after stop()."""
    import os
    db = pg.Postgres()
    try:
        db.start()
        assert db.psql("SELECT current_user, version()")[0][0] == "klaxon"
        assert db.psql("SELECT current_setting('listen_addresses') = ''") == [["t"]]
        assert db.psql("SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL") == [["0"]]
    finally:
        db.stop()
    assert not os.path.exists(db.dir)
