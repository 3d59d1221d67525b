"""A real PostgreSQL 15 for the tests (issue 12): a cluster made by initdb in a fresh temp dir,
listening on a Unix socket in that dir only (listen_addresses=''), stopped and removed by stop().
PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user (the
Debian package creates it); the client (psql) runs as whoever runs the tests, over the socket,
with trust authentication for the cluster's one role, `klaxon`. Bounded in time throughout."""

import os
import pwd
import shutil
import sys
import subprocess
import tempfile

BIN = os.environ.get("KLAXON_PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = os.path.join(BIN, "psql")


def available():
    return os.path.exists(os.path.join(BIN, "initdb")) and os.path.exists(PSQL)


class Postgres:
    def __init__(self, durable=False):
        """durable=True keeps PostgreSQL's own defaults for durability (fsync on, synchronous
        commit): what a benchmark compares with SQLite's synchronous=FULL. The tests turn fsync
        off (durable=False) because they stop the cluster with -m immediate anyway."""
        self.durable = durable
        self.dir = tempfile.mkdtemp(prefix="klaxon-pg-")
        self.data = os.path.join(self.dir, "data")
        self.run_as = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.started = False

    def _run(self, args, timeout=60):
        r = subprocess.run(self.run_as + args, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (os.path.basename(args[0]), r.returncode, r.stdout, r.stderr))
        return r.stdout

    def start(self):
        self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", "klaxon", "--auth=trust", "-E", "UTF8",
                   "--no-locale", "--no-sync"])
        return self.resume()

    def resume(self):
        """Start the server (again, after halt()) on the same data and socket."""
        opts = "-c listen_addresses='' -k %s -c max_connections=100" % self.dir
        if not self.durable:
            opts += " -c fsync=off"
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-w", "-t", "30", "-l",
                   os.path.join(self.dir, "server.log"), "-o", opts, "start"])
        self.started = True
        return self

    def halt(self, mode="immediate"):
        """Stop the server, keeping its data: a crash (immediate) or a clean stop (fast).
        Every session is cut; resume() brings it back."""
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "30", "stop"])
        self.started = False

    def _pids(self):
        """The postmaster and every process it started (backends, walwriter …)."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            root = int(f.readline())
        pids = [root]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == root:
                            pids.append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        return pids

    def freeze(self):
        """SIGSTOP the whole server: connections stay open and nothing answers (a hung host,
        or a network that drops packets without a reset). thaw() lets it go on."""
        import signal
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        import signal
        for pid in self._pids():
            os.kill(pid, signal.SIGCONT)

    def terminate_sessions(self, db, application_name="klaxon"):
        """pg_terminate_backend() every session of `application_name` on `db`: what an
        operator or a failover does to a live instance's connections. The count cut."""
        rows = self.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                         " WHERE datname = '%s' AND application_name = '%s'" % (db, application_name))
        return int(rows[0][0])

    def conninfo(self, db="postgres"):
        """A libpq connection string (what `storage.url_env` will hold)."""
        return "host=%s dbname=%s user=klaxon" % (self.dir, db)

    def psql(self, sql, db="postgres", timeout=60):
        """Run SQL (one or more statements, stopping at the first error); rows as lists of
        strings (unaligned, '|'-separated)."""
        r = subprocess.run([PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-U", "klaxon",
                            "-d", db, "-f", "-"], input=sql, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        return [line.split("|") for line in r.stdout.splitlines() if line]

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        try:
            if self.started:
                self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop"])
        finally:
            self.started = False
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv):
    """`pg.py run CMD ARGS…`: run CMD with KLAXON_TEST_DATABASE_URL naming an empty database of a
    cluster started for it (and stopped and removed after), for the unit suites on PostgreSQL
    (make test-pg). The exit status is CMD's."""
    if len(argv) < 3 or argv[1] != "run":
        print("usage: pg.py run CMD [ARGS...]", file=sys.stderr)
        return 2
    if not available():
        print("PostgreSQL 15 is not installed (tests/deps.sh installs postgresql-15)", file=sys.stderr)
        return 1
    db = Postgres()
    try:
        db.start()
        db.psql("CREATE DATABASE unit")
        env = dict(os.environ, KLAXON_TEST_DATABASE_URL=db.conninfo("unit"))
        return subprocess.run(argv[2:], env=env).returncode
    finally:
        db.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
