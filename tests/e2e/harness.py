"""The end-to-end harness: one Harness per test. It starts the Slack simulator in-process on a
free port, writes a temporary config (YAML) and database path, runs `$KLAXON_BIN run --config
FILE` against the simulator, and gives tests short helpers to drive and observe both sides.

    async def test_help(h):
        await h.start()                                # the bot, connected
        ack = await h.slash("/incident", "help")
        assert "declare" in h.ack_text(ack)

h.sim is the SlackSim (tests/sim/slack_sim.py): its records (calls, frames, acks,
protocol_errors, ratelimited, conns, handshakes, response_posts) are what tests assert on.

Teams: `await h.start_teams()` before `h.start()` also runs the Teams stand-in
(tests/sim/teams_sim.py) as h.teams, adds a `teams:` block pointing the bot at it (bot, Outgoing
Webhook and, with workflow=True, a Workflows webhook), maps the config's people to its users,
and keeps its clock on the bot's simulated clock so the tokens it signs are valid in the bot's
frame. `await h.teams_command("oncall help")` posts "@klaxon oncall help" in a channel.
At the end of every test the harness stops the bot with SIGTERM and fails the test when it
does not exit 0, when the log carries a sanitizer report, or when the simulator recorded a
protocol error the test did not declare expected (h.expect_protocol_errors = True).
"""

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sys
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

import aiohttp  # noqa: E402
import base64  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402

import slack_model  # noqa: E402
from slack_sim import SimTimeout, SlackSim  # noqa: E402

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
DEFAULT_NOW = "2026-11-24T10:00:00+01:00"  # a Tuesday in the rota's second day
ALERT_TOKEN = "e2e-alert-token-0123456789abcdef"
FEED_SECRET = "e2e-feed-secret"

PEOPLE = [
    ("alice", "U0ALICE001"),
    ("bob", "U0BOB00001"),
    ("carol", "U0CAROL001"),
    ("dave", "U0DAVE0001"),
    ("erin", "U0ERIN0001"),
    ("frank", "U0FRANK001"),
]


# ---------------------------------------------------------------------------- test decorators


def timeout(seconds):
    """Per-test timeout (the runner's default is 30 s)."""

    def deco(fn):
        fn.e2e_timeout = seconds
        return fn

    return deco


def cases(items, ids=None):
    """Data-driven test: the runner calls fn(h, case) once per item, named test[id]."""

    def deco(fn):
        fn.e2e_cases = list(items)
        fn.e2e_case_ids = list(ids) if ids else [
            str(c.get("id")) if isinstance(c, dict) and "id" in c else str(i) for i, c in enumerate(items)]
        return fn

    return deco


def alone(fn):
    """The test judges real-time gaps or speed: with `run.py -j N` it runs after the others, with
    nothing beside it (a whole module: E2E_ALONE = True)."""
    fn.e2e_alone = True
    return fn


def sim_options(**opts):
    """Options for this test's simulator (see DEFAULT_OPTS in tests/sim/slack_sim.py)."""

    def deco(fn):
        fn.e2e_sim_options = opts
        return fn

    return deco


def engines(*names):
    """Run this test only on these storage engines: for the tests that reach into the SQLite
    file itself (fault injection, backups, file permissions) or start a PostgreSQL of their
    own. In a PostgreSQL run (run.py, KLAXON_E2E_ENGINE=postgres) they run on SQLite."""
    def deco(fn):
        fn.e2e_engines = names
        return fn

    return deco


# ---------------------------------------------------------------------------- config


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_config(tmp, http_port):
    """The minimum config of the foundation tests; the ids match the simulator's default
    workspace (tests/sim/slack_model.py default_workspace)."""
    return {
        "timezone": "Europe/Berlin",
        "storage": {"path": os.path.join(tmp, "klaxon.db")},
        "http": {"listen": "127.0.0.1:%d" % http_port},
        "slack": {
            "announce_channel": "C0INCIDENT",
            "handoff_channel": "C0ONCALL01",
            "stakeholder_channel": "C0STAKEHLD",
            "ping_interval": "2s",
            "pong_timeout": "3s",
        },
        "people": [{"id": pid, "slack": uid, "email": "%s@example.com" % pid} for pid, uid in PEOPLE],
        "rotas": [{
            "name": "platform",
            "timezone": "Europe/Berlin",
            "handoff": "monday 09:00",
            "start": "2026-11-23",
            "primary": ["alice", "bob", "carol", "dave"],
            "secondary": "next",
            "manager": "erin",
        }],
        "severities": [
            {"name": "P0", "ack": "5m", "resolve": "4h", "update_every": "15m", "page": ["primary", "secondary"],
             "stakeholders": True, "policy": "default"},
            {"name": "P1", "ack": "5m", "resolve": "8h", "update_every": "30m", "page": ["primary"],
             "policy": "default"},
            {"name": "P2", "ack": "30m", "resolve": "72h", "update_every": "60m", "page": "business_hours"},
        ],
        "default_severity": "P2",
        "escalation_policies": [{
            "name": "default",
            "steps": [
                {"after": "0m", "notify": "primary"},
                {"after": "15m", "notify": "secondary"},
                {"after": "30m", "notify": "manager"},
                {"after": "60m", "notify": "frank"},
            ],
        }],
        "alerts": {
            "token_env": "KLAXON_ALERT_TOKEN",
            "routes": [
                {"match": {"severity": "critical"}, "rota": "platform", "severity": "P1"},
                {"match": {"severity": "warning"}, "channel": "C0ALERTS01"},
                {"match": {"severity": "info"}, "record": True},
            ],
        },
    }


_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9 _./@+\-:]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if (_PLAIN.fullmatch(s) and s.lower() not in _RESERVED and not s.endswith((" ", ":"))
            and ": " not in s and " #" not in s):
        return s
    return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(x, indent=0):
    """Block-style YAML for dicts, lists and scalars (the config the harness writes)."""
    pad = " " * indent
    lines = []
    if isinstance(x, dict):
        for k, v in x.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 2))
            else:
                lines.append("%s%s: %s" % (pad, k, "{}" if v == {} else "[]" if v == [] else yaml_scalar(v)))
    elif isinstance(x, list):
        for v in x:
            if isinstance(v, (dict, list)) and v:
                inner = to_yaml(v, indent + 2)
                lines.append("%s- %s" % (pad, inner[indent + 2:]))
            else:
                lines.append("%s- %s" % (pad, yaml_scalar(v)))
    else:
        lines.append(pad + yaml_scalar(x))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the harness


class Harness:
    def __init__(self, name="e2e", sim_opts=None, postgres_ok=True):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="klaxon-e2e-")
        self.http_port = free_port()
        self.config = default_config(self.tmp, self.http_port)
        self.config_path = os.path.join(self.tmp, "klaxon.yaml")
        self.db_path = self.config["storage"]["path"]
        # KLAXON_E2E_PG (run.py sets it when KLAXON_E2E_ENGINE=postgres): the socket directory of
        # a PostgreSQL cluster; each harness gets a database of its own in it (see pg_setup).
        self.pg_dir = (os.environ.get("KLAXON_E2E_PG") if postgres_ok else None) or None
        self.pg_db = None
        self.log_path = os.path.join(self.tmp, "klaxon.log")
        self.bin = os.environ.get("KLAXON_BIN") or os.path.join(ROOT, "build", "klaxon")
        if not os.path.isabs(self.bin):
            self.bin = os.path.join(ROOT, self.bin)
        self.now = DEFAULT_NOW
        self.time_scale = 1
        self.alert_token = ALERT_TOKEN
        self.feed_secret = FEED_SECRET  # KLAXON_FEED_SECRET: opens calendars, postmortems, /metrics
        self.env = {}  # extra environment for the bot; a None value removes the variable
        self.sim_opts = dict(sim_opts or {})
        self.sim = None
        self.proc = None
        self.starts = 0
        self.exit_codes = []
        self.expect_protocol_errors = False
        self.expect_exit = False  # the test ends the bot itself (or expects it to exit)
        self._log = None
        self._http = None
        self.teams = None  # the Teams stand-in, after start_teams()
        self.teams_channels = {}
        self.teams_webhook_secret = None
        self.expect_teams_errors = False  # the test provokes connector 4xx on purpose
        self._clock_anchor = None  # time.monotonic() when the bot's clock started
        # KLAXON_NOW_ANCHOR (epoch ms) for every process of the test: with it, each one (a
        # restart, a second instance) shows KLAXON_NOW + (wall - anchor) * scale. use_anchor().
        self.anchor = None
        self.instances = []  # further klaxon processes on the same database (start_instance)
        if self.pg_dir:
            self.pg_setup()

    # ------------------------------------------------------------------ the database

    @property
    def engine(self):
        return "postgres" if self.pg_dir else "sqlite"

    def pg_conninfo(self):
        return "host=%s dbname=%s user=klaxon" % (self.pg_dir, self.pg_db)

    def pg_setup(self):
        """A database of this harness's own in the run's cluster, and the config and
        environment that point klaxon at it (storage.engine: postgres)."""
        import uuid
        import psycopg2
        self.pg_db = "kx_" + uuid.uuid4().hex[:12]
        con = psycopg2.connect(host=self.pg_dir, dbname="postgres", user="klaxon", connect_timeout=10)
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE %s" % self.pg_db)
        con.close()
        self.config["storage"] = {"engine": "postgres", "url_env": "KLAXON_DATABASE_URL"}
        self.env["KLAXON_DATABASE_URL"] = self.pg_conninfo()

    def db_env(self):
        """The environment a `klaxon` CLI run needs to reach this harness's database (the
        libpq string on PostgreSQL; nothing on SQLite, whose file is in the config)."""
        return {"KLAXON_DATABASE_URL": self.pg_conninfo()} if self.pg_db else {}

    def db_dump(self):
        """Everything klaxon's database holds, as text (SQLite's iterdump, or pg_dump's data),
        for tests that check a secret is stored nowhere."""
        if not self.pg_db:
            import sqlite3
            con = sqlite3.connect(self.db_path)
            try:
                return "\n".join(con.iterdump())
            finally:
                con.close()
        import pg
        r = subprocess.run([os.path.join(pg.BIN, "pg_dump"), "--data-only", "-h", self.pg_dir, "-U", "klaxon",
                            self.pg_db], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def pg_drop(self):
        if not self.pg_db:
            return
        import psycopg2
        try:
            con = psycopg2.connect(host=self.pg_dir, dbname="postgres", user="klaxon", connect_timeout=10)
            con.autocommit = True
            con.cursor().execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_db)
            con.close()
        except Exception:
            pass

    def db_rows(self, sql, args=()):
        """Rows from klaxon's database, read-only, on either engine. The SQL is SQLite's (`?`
        parameters); on PostgreSQL it is run through psycopg2 with `%s`, and a failure raises
        sqlite3.OperationalError, so the callers' retry loops work unchanged."""
        if not self.pg_dir:
            import sqlite3
            con = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=5)
            try:
                return con.execute(sql, args).fetchall()
            finally:
                con.close()
        import sqlite3
        import psycopg2
        try:
            con = psycopg2.connect(host=self.pg_dir, dbname=self.pg_db, user="klaxon", connect_timeout=5)
        except psycopg2.Error as e:
            raise sqlite3.OperationalError(str(e))
        try:
            con.set_session(readonly=True, autocommit=True)
            cur = con.cursor()
            cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(args))
            return [tuple(r) for r in cur.fetchall()]
        except psycopg2.Error as e:
            raise sqlite3.OperationalError(str(e))
        finally:
            con.close()

    # ------------------------------------------------------------------ setup and teardown

    async def setup(self):
        self.sim = SlackSim(**self.sim_opts)
        await self.sim.start()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def close(self, failed=False):
        """Stop everything; raise AssertionError for what the end of a test must check."""
        problems = []
        try:
            for inst in self.instances:
                if inst.running:
                    rc = await inst.stop(signal.SIGTERM, timeout=5.0)
                    if rc != 0 and not self.expect_exit:
                        problems.append("klaxon instance %s exited %s on SIGTERM (want 0)" % (inst.name, rc))
                found = [m for m in SANITIZER_MARKS if m in inst.log_text()]
                if found:
                    problems.append("instance %s's log carries a sanitizer report (%s)" % (inst.name, ", ".join(found)))
            if self.running:
                rc = await self.stop_bot(signal.SIGTERM, timeout=5.0)
                if rc != 0 and not self.expect_exit:
                    problems.append("klaxon exited %s on SIGTERM at the end of the test (want 0)" % rc)
            problems.extend(self.sanitizer_reports())
            # On PostgreSQL the loop never waits for the database (bot/dbtask.c): a statement the
            # loop's thread waited for is named in the log once, and fails the test.
            waited = [line for text in [self.log_text()] + [i.log_text() for i in self.instances]
                      for line in text.splitlines() if "dbtask loop_wait" in line]
            if waited:
                problems.append("the loop waited for the database (code not run as a database task): %s"
                                % "; ".join(w.split("what=", 1)[-1][:120] for w in waited[:3]))
            if self.sim is not None and self.sim.protocol_errors and not self.expect_protocol_errors:
                problems.append("the simulator recorded protocol errors: %s" % json.dumps(
                    [{k: e[k] for k in ("kind", "detail")} for e in self.sim.protocol_errors[:5]]))
            if self.teams is not None and not self.expect_teams_errors:
                bad = [c for c in self.teams.calls if c["status"] in (400, 401, 404, 405, 415)]
                bad += [w for w in self.teams.workflow_posts if w["status"] in (400, 401, 405, 415)]
                if bad:
                    problems.append("the Teams stand-in refused requests: %s" % json.dumps(
                        [{k: c.get(k) for k in ("method", "raw_path", "path", "status", "response")}
                         for c in bad[:5]], default=str))
        finally:
            if self._http is not None:
                await self._http.close()
            if self.teams is not None:
                await self.teams.stop()
            if getattr(self, "twilio", None) is not None:
                await self.twilio.stop()
            if self.sim is not None:
                await self.sim.stop()
            if self._log is not None:
                self._log.close()
                self._log = None
            if not failed and not problems:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.pg_drop()
        if problems:
            raise AssertionError("; ".join(problems))

    def write_config(self):
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write("# written by tests/e2e/harness.py for %s\n" % self.name)
            f.write(to_yaml(self.config) + "\n")
        return self.config_path

    def bot_env(self):
        env = dict(os.environ)
        env.pop("KLAXON_CONFIG", None)
        env.update({
            "SLACK_APP_TOKEN": self.sim.app_token,
            "SLACK_BOT_TOKEN": self.sim.bot_token,
            "KLAXON_SLACK_API_URL": self.sim.api_url,
            "KLAXON_NOW": self.now,
            "KLAXON_TIME_SCALE": str(self.time_scale),
            "KLAXON_ALERT_TOKEN": self.alert_token,
            "KLAXON_FEED_SECRET": self.feed_secret,
        })
        if self.anchor is not None:
            env["KLAXON_NOW_ANCHOR"] = str(self.anchor)
        for k, v in self.env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def use_anchor(self, anchor_ms=None):
        """Anchor the simulated clock for every process this test starts (KLAXON_NOW_ANCHOR,
        epoch milliseconds; default: now): restarts and further instances then share one clock
        instead of each starting at KLAXON_NOW. Returns the anchor."""
        self.anchor = int(time.time() * 1000) if anchor_ms is None else int(anchor_ms)
        return self.anchor

    async def start_instance(self, name=None, wait=True, timeout=15.0):
        """Start one more `klaxon run` on the same database file (WAL lets several processes
        share it, for tests) with its own HTTP port and log, connected to the same simulator:
        several instances as issue 12 runs them. Stopped at the end of the test."""
        inst = Instance(self, name or "i%d" % (len(self.instances) + 2))
        self.instances.append(inst)
        await inst.start(wait, timeout)
        return inst

    # ------------------------------------------------------------------ the bot process

    @property
    def running(self):
        return self.proc is not None and self.proc.returncode is None

    async def start_bot(self, wait=True, timeout=15.0, args=None):
        """Start `$KLAXON_BIN run --config FILE` (same database on every start) and, with
        wait=True, return once it is connected: a Socket Mode connection has had its hello and
        /healthz answers 200 with slack "connected"."""
        if self.running:
            raise RuntimeError("klaxon is already running")
        if not os.access(self.bin, os.X_OK):
            raise AssertionError("no klaxon binary at %s (run `make`, or set KLAXON_BIN)" % self.bin)
        if self.starts == 0 or not os.path.exists(self.config_path):
            self.write_config()
        self.starts += 1
        if self._log is None:
            self._log = open(self.log_path, "ab")
        self._log.write(b"=== harness: start %d of %s ===\n" % (self.starts, self.bin.encode()))
        self._log.flush()
        self.conn_mark = self.sim._conn_seq
        self._clock_anchor = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            self.bin, "run", "--config", self.config_path, *(args or []),
            stdin=asyncio.subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=self.bot_env(),
            cwd=self.tmp)
        if wait:
            try:
                await self.wait_connected(timeout)
            except AssertionError:
                # free_port() closes its probe socket before klaxon binds, so on a busy machine
                # another process can take the port in between (exit 7, "cannot listen"). On the
                # first start, when the test has used no URL with the port yet, take another.
                if not self._lost_port_race():
                    raise
                self.http_port = free_port()
                self.config["http"]["listen"] = "127.0.0.1:%d" % self.http_port
                self.write_config()
                self.starts = 0
                self.proc = None
                return await self.start_bot(wait, timeout, args)
        return self.proc

    def _lost_port_race(self):
        retries = getattr(self, "_port_retries", 0)
        lost = (self.starts == 1 and self.proc.returncode == 7 and retries < 3
                and "cannot listen on 127.0.0.1:%d" % self.http_port in self.log_tail(10))
        if lost:
            self._port_retries = retries + 1
        return lost

    start = start_bot

    async def wait_connected(self, timeout=15.0):
        """Connected = a new live Socket Mode connection and /healthz 200 "connected"."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError("klaxon exited with %s before it was connected\n%s" % (
                    self.proc.returncode, self.log_tail(30)))
            live = [c for c in self.sim.live_conns() if c.id > self.conn_mark]
            if live:
                try:
                    status, body = await self.healthz()
                    last = (status, body)
                    if status == 200 and isinstance(body, dict) and body.get("slack") == "connected":
                        return live[-1]
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
                    last = repr(e)
            await asyncio.sleep(0.05)
        raise AssertionError("klaxon did not get connected within %.0f s (last /healthz: %s)\n%s" % (
            timeout, last, self.log_tail(30)))

    async def wait_exit(self, timeout=5.0):
        """The bot's exit status, or AssertionError when it is still running after `timeout`."""
        try:
            rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("klaxon still running %.1f s later" % timeout)
        self.exit_codes.append(rc)
        return rc

    async def stop_bot(self, sig=signal.SIGTERM, timeout=5.0):
        """Send `sig` and wait for the exit; SIGKILL after `timeout` (then the status is the
        negative signal number and the test is told)."""
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return await self.wait_exit(timeout)
        except AssertionError:
            self.proc.kill()
            await self.proc.wait()
            self.exit_codes.append(self.proc.returncode)
            raise AssertionError("klaxon did not exit within %.1f s of signal %d" % (timeout, sig))

    async def sigterm(self, timeout=5.0):
        return await self.stop_bot(signal.SIGTERM, timeout)

    async def kill9(self):
        self.proc.kill()
        rc = await self.proc.wait()
        self.exit_codes.append(rc)
        return rc

    async def restart(self, wait=True, timeout=15.0):
        """Start again on the same config and database (after a stop or kill -9)."""
        if self.running:
            raise RuntimeError("stop or kill klaxon before restart()")
        return await self.start_bot(wait=wait, timeout=timeout)

    # ------------------------------------------------------------------ the bot's log

    def log_text(self):
        if self._log is not None and not self._log.closed:
            self._log.flush()
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, n=40):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:]) if lines else "(klaxon's log is empty)"

    def sanitizer_reports(self):
        text = self.log_text()
        found = [m for m in SANITIZER_MARKS if m in text]
        return ["klaxon's log carries a sanitizer report (%s)" % ", ".join(found)] if found else []

    async def wait_log(self, pattern, timeout=5.0, flags=re.I):
        """Wait until klaxon's log matches the regular expression; return the match."""
        rx = re.compile(pattern, flags)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text())
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError("klaxon's log never matched /%s/ within %.1f s\n%s" % (
                    pattern, timeout, self.log_tail(20)))
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ HTTP to the bot

    def feed_token(self, path):
        """The token that opens one read-only feed (lib/feed_token.h): the first 32 hex digits
        of HMAC-SHA256(KLAXON_FEED_SECRET, path)."""
        return hmac.new(self.feed_secret.encode(), path.encode(), hashlib.sha256).hexdigest()[:32]

    def feed_url(self, path):
        """path with its token, as `klaxon links` and the bot's messages give it."""
        base, _, query = path.partition("?")
        return "%s?%stoken=%s" % (base, query + "&" if query else "", self.feed_token(base))

    async def http_get(self, path, token=True):
        """GET a path of the bot. The feeds (calendars, postmortems, /metrics) get their token
        unless token=False."""
        if token and (path.startswith(("/calendar/", "/incidents/")) or path.split("?")[0] == "/metrics"):
            path = self.feed_url(path)
        async with self._http.get("http://127.0.0.1:%d%s" % (self.http_port, path)) as r:
            return r.status, r.headers.get("Content-Type", ""), await r.text()

    async def healthz(self):
        status, ctype, text = await self.http_get("/healthz")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    async def metrics(self):
        status, ctype, text = await self.http_get("/metrics")
        return status, text

    # ------------------------------------------------------------------ the bot's clock

    def bot_clock(self):
        """The bot's simulated clock in epoch seconds (KLAXON_NOW, running KLAXON_TIME_SCALE
        times faster since the bot started, or since the anchor with use_anchor())."""
        base = datetime.datetime.fromisoformat(self.now.replace("Z", "+00:00")).timestamp()
        if self.anchor is not None:
            return base + (time.time() - self.anchor / 1000.0) * float(self.time_scale)
        if self._clock_anchor is None:
            return base
        return base + (time.monotonic() - self._clock_anchor) * float(self.time_scale)

    # ------------------------------------------------------------------ Teams side helpers

    async def start_teams(self, webhook=True, workflow=False, bot=True, **sim_kwargs):
        """Start the Teams stand-in and add the teams: block (call before start())."""
        from teams_sim import TeamsSim
        self.teams = TeamsSim(clock=self.bot_clock, **sim_kwargs)
        await self.teams.start()
        for pid, _ in PEOPLE:
            if pid not in self.teams.users:
                self.teams.add_user(pid, "%s Example" % pid.title())
        for p in self.config["people"]:
            p["teams"] = self.teams.users[p["id"]]["aadObjectId"]
        self.teams_channels = {
            "incidents": self.teams.add_channel("Incidents"),
            "announce": self.teams.add_channel("Announcements"),
            "oncall": self.teams.add_channel("On-call"),
        }
        t = {}
        if bot:
            t.update({
                "app_id": self.teams.app_id,
                "tenant_id": self.teams.tenant_id,
                "app_password_env": "KLAXON_TEAMS_APP_PASSWORD",
                "openid_metadata_url": self.teams.openid_url,
                "token_url": self.teams.token_url,
                "service_url": self.teams.service_url,
                "incident_channel": self.teams_channels["incidents"],
                "announce_channel": self.teams_channels["announce"],
                "handoff_channel": self.teams_channels["oncall"],
            })
            self.env["KLAXON_TEAMS_APP_PASSWORD"] = self.teams.app_secret
        if webhook:
            self.teams_webhook_secret = base64.b64encode(os.urandom(32)).decode()
            t["outgoing_webhook_secret_env"] = "KLAXON_TEAMS_WEBHOOK_SECRET"
            self.env["KLAXON_TEAMS_WEBHOOK_SECRET"] = self.teams_webhook_secret
        if workflow:
            t["workflow_webhook_url_env"] = "KLAXON_TEAMS_WORKFLOW_URL"
            self.env["KLAXON_TEAMS_WORKFLOW_URL"] = self.teams.workflow_url
        self.config["teams"] = t
        return self.teams

    async def start_twilio(self, **stub_kwargs):
        """Start the Twilio stand-in (tests/e2e/twilio_stub.py) and add the twilio: block and its
        environment (call before start())."""
        from twilio_stub import TwilioStub
        self.twilio = await TwilioStub(**stub_kwargs).start()
        self.config["twilio"] = self.twilio.config_block()
        self.env.update(self.twilio.bot_env())
        return self.twilio

    @property
    def teams_url(self):
        return "http://127.0.0.1:%d/teams/messages" % self.http_port

    @property
    def teams_webhook_url(self):
        return "http://127.0.0.1:%d/teams/webhook" % self.http_port

    async def teams_send(self, activity, **knobs):
        """POST a signed activity to the bot; returns (status, body text)."""
        return await self.teams.send(self.teams_url, activity, **knobs)

    async def teams_command(self, text, user="alice", channel=None, expect=200, **kw):
        """"@klaxon <text>" in a Teams channel (default: the team's General channel). Returns
        the activity sent; asserts the HTTP status."""
        act = self.teams.channel_mention(text, user=user, channel_id=channel, **kw)
        status, body = await self.teams_send(act)
        assert status == expect, "POST /teams/messages answered %s %s (want %s)" % (status, body, expect)
        return act

    async def teams_wait(self, pred, timeout=10.0, what="a connector call"):
        """Wait for a recorded connector call matching pred(call); return it."""
        def pick():
            for c in self.teams.calls:
                if pred(c):
                    return c
            return None
        return await self.teams.wait_until(pick, timeout, what)

    async def teams_reply_to(self, activity, timeout=10.0, status=201):
        """The bot's reply (POST …/activities/{id}) into the activity's conversation."""
        conv = activity["conversation"]["id"]
        return await self.teams_wait(
            lambda c: c["kind"] == "reply" and c["conversation_id"] == conv and c["status"] == status
            and c["activity_id"] == activity["id"], timeout, "a reply to %s in %s" % (activity["id"], conv))

    @staticmethod
    def teams_text(activity):
        """All text of an activity the bot sent: text plus every TextBlock and fact of its cards."""
        parts = [activity.get("text") or ""]

        def walk(n):
            if isinstance(n, dict):
                if n.get("type") == "TextBlock":
                    parts.append(n.get("text") or "")
                if n.get("type") == "FactSet":
                    for f in n.get("facts") or []:
                        parts.append("%s: %s" % (f.get("title"), f.get("value")))
                for v in n.values():
                    walk(v)
            elif isinstance(n, list):
                for v in n:
                    walk(v)
        walk(activity.get("attachments") or [])
        return "\n".join(p for p in parts if p)

    # ------------------------------------------------------------------ Slack side helpers

    async def slash(self, command, text="", user="U0ALICE001", channel="C0INCIDENT", timeout=5.0):
        """A user runs a slash command; returns the bot's ack record (its `payload` is what the
        user sees)."""
        rec = self.sim.slash(command, text, user, channel)
        return await self.sim.wait_ack(rec["envelope_id"], timeout)

    async def click(self, channel, message_ts, action_id=None, user="U0ALICE001", value=None, timeout=5.0,
                    accepts_response_payload=False):
        rec = self.sim.block_action(user, channel, message_ts, action_id, value, accepts_response_payload)
        return await self.sim.wait_ack(rec["envelope_id"], timeout)

    async def message(self, channel, text, user="U0ALICE001", thread_ts=None, timeout=5.0):
        """A user writes in a channel; returns (message, [acks of the events it caused])."""
        m, recs = self.sim.user_message(user, channel, text, thread_ts)
        acks = [await self.sim.wait_ack(r["envelope_id"], timeout) for r in recs]
        return m, acks

    async def wait_call(self, method, pred=None, timeout=10.0, since=0, ok=None):
        return await self.sim.wait_call(method, pred, timeout, since, ok)

    @staticmethod
    def ack_text(ack):
        """All text a user sees in an ack payload: `text` plus every text in `blocks`."""
        p = ack.get("payload") or {}
        parts = [p.get("text") or ""] + slack_model.block_texts(p.get("blocks") or [])
        return "\n".join(x for x in parts if x)

    @staticmethod
    def message_text(msg):
        """All text of a posted message or Web API call args: text, blocks, attachments."""
        blocks = msg.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                blocks = []
        parts = [msg.get("text") or ""] + slack_model.block_texts(blocks or []) + slack_model.block_texts(
            msg.get("attachments") or [])
        return "\n".join(x for x in parts if isinstance(x, str) and x)


class Instance:
    """Another klaxon process of the same test (Harness.start_instance): same config but its own
    http.listen, same database, same environment (tokens, KLAXON_NOW, the anchor)."""

    def __init__(self, h, name):
        self.h = h
        self.name = name
        self.http_port = free_port()
        self.config_path = os.path.join(h.tmp, "klaxon-%s.yaml" % name)
        self.log_path = os.path.join(h.tmp, "klaxon-%s.log" % name)
        self.proc = None
        self.conn_mark = 0
        self._log = None

    @property
    def running(self):
        return self.proc is not None and self.proc.returncode is None

    def log_text(self):
        if self._log is not None and not self._log.closed:
            self._log.flush()
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    async def start(self, wait=True, timeout=15.0):
        cfg = json.loads(json.dumps(self.h.config))
        cfg["http"]["listen"] = "127.0.0.1:%d" % self.http_port
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write("# written by tests/e2e/harness.py for %s, instance %s\n" % (self.h.name, self.name))
            f.write(to_yaml(cfg) + "\n")
        if self._log is None:
            self._log = open(self.log_path, "ab")
        self.conn_mark = self.h.sim._conn_seq
        env = self.h.bot_env()
        env["KLAXON_TEST_SHARED_DB"] = "1"  # the first klaxon holds the database's lock
        self.proc = await asyncio.create_subprocess_exec(
            self.h.bin, "run", "--config", self.config_path, stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log, stderr=self._log, env=env, cwd=self.h.tmp)
        if wait:
            await self.wait_connected(timeout)
        return self

    async def wait_connected(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError("klaxon instance %s exited with %s\n%s" % (
                    self.name, self.proc.returncode, self.log_text()[-3000:]))
            try:
                async with self.h._http.get("http://127.0.0.1:%d/healthz" % self.http_port) as r:
                    last = (r.status, await r.text())
                    if r.status == 200 and json.loads(last[1]).get("slack") == "connected":
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
                last = repr(e)
            await asyncio.sleep(0.05)
        raise AssertionError("klaxon instance %s not connected within %.0f s (last /healthz: %s)\n%s" % (
            self.name, timeout, last, self.log_text()[-3000:]))

    async def stop(self, sig=signal.SIGTERM, timeout=5.0):
        if not self.running:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError("klaxon instance %s did not exit within %.1f s" % (self.name, timeout))

    async def kill9(self):
        self.proc.kill()
        return await self.proc.wait()


__all__ = ["Harness", "SimTimeout", "timeout", "cases", "alone", "sim_options", "to_yaml", "default_config"]
