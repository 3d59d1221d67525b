"""The newcomer's files and the operator's tools (issue 7): the example and demo configs pass
check-config; the Slack app manifest grants what the code uses (commands, events, scopes —
read from the sources, not from a list kept by hand); backup while the bot runs and restore
round-trip; --version and --help on every subcommand; the demo itself."""
import asyncio
import os
import re
import subprocess
import time

import yaml

import harness as H

ROOT = H.ROOT
SRC_DIRS = ("bot", "commands")

# Web API method → the bot scope it needs (docs.slack.dev method pages; ../shared/protocols).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write", "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write", "conversations.create": "channels:manage",
    "conversations.invite": "channels:manage", "conversations.setTopic": "channels:manage",
    "conversations.setPurpose": "channels:manage", "conversations.archive": "channels:manage",
    "conversations.info": "channels:read", "conversations.open": "im:write",
    # the outbox's in-doubt check (issue 12); groups:history and im:history for private channels
    # and DMs are in the manifest for the timeline already
    "conversations.history": "channels:history",
    "users.lookupByEmail": "users:read.email", "users.info": "users:read",
    "usergroups.users.update": "usergroups:write", "pins.add": "pins:write",
    "reactions.add": "reactions:write", "bookmarks.add": "bookmarks:write",
    "views.open": None, "views.update": None, "views.publish": None, "auth.test": None,
    "chat.unfurl": "links:write",
    "apps.connections.open": None,  # the app-level token's connections:write
}
# Event type the envelope parser handles → the subscription(s) and scope it needs.
EVENT_SUBSCRIPTIONS = {
    "message": (["message.channels", "message.groups"], ["channels:history", "groups:history"]),
    "reaction_added": (["reaction_added"], ["reactions:read"]),
    "reaction_removed": (["reaction_removed"], ["reactions:read"]),
    "pin_added": (["pin_added"], ["pins:read"]),
    "pin_removed": (["pin_removed"], ["pins:read"]),
    "app_mention": (["app_mention"], ["app_mentions:read"]),
    "app_home_opened": (["app_home_opened"], []),
    "link_shared": (["link_shared"], ["links:read"]),
}


def run(args, env=None, timeout=30):
    e = dict(os.environ)
    e.pop("KLAXON_CONFIG", None)
    e.update(env or {})
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=e, cwd=ROOT)


def sources():
    for d in SRC_DIRS:
        for top, dirs, names in os.walk(os.path.join(ROOT, d)):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(".c"):
                    with open(os.path.join(top, name), encoding="utf-8") as f:
                        yield name, f.read()


@H.timeout(30)
async def test_example_and_demo_configs_pass_check_config(h):
    for path in ("deploy/klaxon.example.yaml", "deploy/demo.yaml"):
        r = run([h.bin, "check-config", "--config", path])
        assert r.returncode == 0, (path, r.stdout, r.stderr)
        assert "OK" in r.stdout, r.stdout
    # deploy/status.example.yaml's keys merged into the example (issue 13)
    merged = os.path.join(h.tmp, "merged.yaml")
    with open("deploy/klaxon.example.yaml", encoding="utf-8") as a, open("deploy/status.example.yaml",
                                                                         encoding="utf-8") as b:
        text = "".join(l for l in a if not l.startswith("status_page:")) + b.read()
    with open(merged, "w") as f:
        f.write(text)
    r = run([h.bin, "check-config", "--config", merged])
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "2 components, 2 checks, 2 heartbeats, 1 maintenance windows" in r.stdout, r.stdout
    bad = os.path.join(h.tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("timezone: Mars/Olympus\npeople: []\nrotas: []\nseverities: []\nbogus: 1\n")
    r = run([h.bin, "check-config", bad])
    assert r.returncode != 0
    assert ":1:" in r.stderr and "Mars/Olympus" in r.stderr, r.stderr
    assert ":5:" in r.stderr and "bogus" in r.stderr, r.stderr


@H.timeout(30)
async def test_manifest_grants_what_the_code_uses(h):
    with open(os.path.join(ROOT, "deploy", "slack-app-manifest.yaml"), encoding="utf-8") as f:
        manifest = yaml.safe_load(f)
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) >= {"/incident", "/oncall"}, commands
    for c in commands.values():
        assert c["should_escape"] is True, c
        assert "url" not in c, "Socket Mode needs no request URL"
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(settings["event_subscriptions"]["bot_events"])
    used_methods = set()
    for name, text in sources():
        used_methods |= set(re.findall(r'"((?:chat|conversations|users|usergroups|pins|reactions|bookmarks|views|auth|apps)'
                                       r'\.[A-Za-z.]+)"', text))
    assert "chat.postMessage" in used_methods and "conversations.create" in used_methods, used_methods
    unknown = used_methods - set(METHOD_SCOPES)
    assert not unknown, "methods the code calls that this test does not know the scope of: %s" % unknown
    missing = {m: METHOD_SCOPES[m] for m in used_methods if METHOD_SCOPES[m] and METHOD_SCOPES[m] not in scopes}
    assert not missing, "the manifest lacks scopes the code needs: %s" % missing
    with open(os.path.join(ROOT, "bot", "slack", "slack_envelope.c"), encoding="utf-8") as f:
        parser = f.read()
    events_part = parser[parser.index("static int event_request"):parser.index("int slack_envelope_request")]
    handled = set(re.findall(r'strcmp\(type, "([a-z_]+)"\) == 0', events_part))
    assert handled >= {"message", "reaction_added", "app_mention", "pin_added"}, handled
    for ev in handled:
        subs, need = EVENT_SUBSCRIPTIONS[ev]
        assert set(subs) <= events, "event %s needs subscriptions %s" % (ev, subs)
        assert set(need) <= scopes, "event %s needs scopes %s" % (ev, need)
    assert "commands" in scopes
    # issue 16: the Home tab is on, and the message shortcuts are exactly the names the code
    # handles (CMD_SHORTCUT_* in commands/core/names.h), declared as message shortcuts
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    with open(os.path.join(ROOT, "commands", "core", "names.h"), encoding="utf-8") as f:
        names = f.read()
    code = set(re.findall(r'#define CMD_SHORTCUT_[A-Z_]+ "([^"]+)"', names))
    declared = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert code and set(declared) == code, (declared, code)
    for s in declared.values():
        assert s["type"] == "message" and len(s["description"]) <= 150 and s["name"], s
    assert manifest["features"]["unfurl_domains"], "incident links need an unfurl domain"
    # the simulator offers exactly the shortcuts the manifest declares, and unfurls its domains
    import slack_sim
    assert set(slack_sim.DEFAULT_OPTS["message_shortcuts"]) == set(declared)
    assert set(manifest["features"]["unfurl_domains"]) <= set(slack_sim.DEFAULT_OPTS["unfurl_domains"])


@H.timeout(60)
@H.engines("sqlite")  # PostgreSQL is backed up with pg_dump (the CLI says so: test_pg_failover)
async def test_backup_while_running_and_restore_round_trip(h):
    await h.start_bot()
    for i in range(3):
        ack = await h.slash("/oncall", "note backup note %d" % i)
        assert "Noted" in h.ack_text(ack), ack
    backup = os.path.join(h.tmp, "backup.db")
    r = run([h.bin, "backup", "--config", h.config_path, backup])   # while the bot runs
    assert r.returncode == 0, r.stderr
    r = run([h.bin, "backup", "--config", h.config_path, backup])   # never overwrites
    assert r.returncode != 0 and "exists" in r.stderr, r.stderr
    r = run([h.bin, "restore", "--config", h.config_path, backup])  # refused while running
    assert r.returncode != 0 and "stop it first" in r.stderr, r.stderr
    ack = await h.slash("/oncall", "note after the backup")
    assert "Noted" in h.ack_text(ack)
    assert await h.sigterm() == 0
    r = run([h.bin, "restore", "--config", h.config_path, backup])
    assert r.returncode == 0, r.stderr
    import sqlite3
    con = sqlite3.connect(h.db_path)
    texts = [t for (t,) in con.execute("SELECT text FROM notes ORDER BY id")]
    con.close()
    assert texts == ["backup note 0", "backup note 1", "backup note 2"], texts
    await h.start_bot()  # the restored database runs
    ack = await h.slash("/oncall", "note after the restore")
    assert "(#4)" in h.ack_text(ack), h.ack_text(ack)


@H.timeout(30)
async def test_version_and_help_on_every_subcommand(h):
    r = run([h.bin, "--version"])
    assert r.returncode == 0 and re.match(r"klaxon \d+\.\d+\.\d+", r.stdout), r.stdout
    r = run([h.bin, "--help"])
    assert r.returncode == 0
    names = re.findall(r"^  ([a-z-]+)", r.stdout, re.M)
    for want in ("run", "check-config", "oncall", "schedule", "export-ical", "incidents", "postmortem",
                 "stats", "backup", "restore", "demo", "version"):
        assert want in names, (want, names)
    for name in names:
        r = run([h.bin, name, "--help"])
        assert r.returncode == 0, (name, r.stderr)
        assert "usage: klaxon " + name in r.stdout, (name, r.stdout)
    r = run([h.bin, "frobnicate"])
    assert r.returncode == 2 and "unknown command" in r.stderr


@H.timeout(90)
async def test_demo_plays_the_whole_incident(h):
    """`klaxon demo` (what `make demo` runs) is itself a test of the whole product: every step
    happens, in order, and it exits 0 within a minute having stopped what it started."""
    started = time.time()
    r = run([h.bin, "demo"], timeout=80)
    took = time.time() - started
    out = r.stdout
    assert r.returncode == 0, out[-3000:] + r.stderr[-2000:]
    assert took < 60, took
    want = [
        r"── 1\. A critical alert fires",
        r"DM to @alice ← klaxon: PAGE \[P1\] APIErrorRateHigh",
        r"\[Acknowledge\] \[Escalate\] \[Resolve\] \[Declare incident\]",
        r"── 2\. Nobody acknowledges",
        r"DM to @bob ← klaxon: PAGE \[P1\] APIErrorRateHigh",
        r"@bob in DM: clicks \[Acknowledge\]",
        r"Acknowledged by @bob",
        r"@bob in DM: clicks \[Declare incident\]",
        r"klaxon creates #incident-20261130",
        r"#incident-20261130 ← klaxon: 🚨 Incident #1",
        r"\[Take commander\] \[Take scribe\] \[Resolve\]",
        r"@alice in #incident-20261130: clicks \[Take scribe\]",
        r"@alice is now the \*scribe\*",
        r"@bob in #incident-20261130: deploy 1234",
        r"no status update",
        r"Status update",
        r"Resolved\* by @bob",
        r"postmortem draft is ready",
        r"#oncall ← klaxon: On-call handoff: platform",
        r"\[I have the pager\]",
        r"\*MTTA \(pages\)\*",
        r"# Postmortem|^# .*APIErrorRateHigh",
        r"demo OK: 9 steps",
    ]
    # Every step's evidence is there. Slack's rate limits (about a message a second per
    # channel, enforced by the simulator in real time) may print a post after the next step's
    # action, so only the step headers must come in order.
    for pattern in want:
        assert re.search(pattern, out, re.M), "the transcript lacks %r:\n%s" % (pattern, out[-4000:])
    pos = 0
    for n in range(1, 10):
        m = re.compile(r"^── %d\. " % n, re.M).search(out, pos)
        assert m, "step %d is missing or out of order" % n
        pos = m.end()


@H.timeout(30)
async def test_service_container_and_kubernetes_files_hold_together(h):
    """No Docker engine or cluster runs here, so these are read, not run: what they promise
    (one replica, Recreate, probes on /healthz, non-root, the lws libuv plugin, the state on a
    volume, systemd readiness and hardening) must be in them, and the unit must parse."""
    with open(os.path.join(ROOT, "deploy", "kubernetes", "klaxon.yaml"), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) >= {"Deployment", "Secret", "ConfigMap", "PersistentVolumeClaim"}, set(kinds)
    dep = kinds["Deployment"]["spec"]
    assert dep["replicas"] == 1 and dep["strategy"]["type"] == "Recreate"
    c = dep["template"]["spec"]["containers"][0]
    assert c["livenessProbe"]["httpGet"]["path"].startswith("/healthz")
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert dep["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    cfg = os.path.join(h.tmp, "k8s.yaml")
    with open(cfg, "w") as f:
        f.write(kinds["ConfigMap"]["data"]["klaxon.yaml"])
    r = run([h.bin, "check-config", cfg])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "deploy", "Dockerfile"), encoding="utf-8") as f:
        docker = f.read()
    for want in ("FROM debian:bookworm-slim", "libwebsockets-evlib-uv", "USER 10001", "VOLUME", "make build/klaxon"):
        assert want in docker, want
    with open(os.path.join(ROOT, "deploy", "klaxon.service"), encoding="utf-8") as f:
        unit = f.read()
    for want in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=klaxon",
                 "ProtectSystem=strict", "NoNewPrivileges=yes", "EnvironmentFile="):
        assert want in unit, want
    if os.path.exists("/usr/bin/systemd-analyze"):
        r = run(["/usr/bin/systemd-analyze", "verify", os.path.join(ROOT, "deploy", "klaxon.service")])
        # verify complains about the binary's path not existing here; anything else is a real problem
        problems = [l for l in (r.stderr + r.stdout).splitlines()
                    if l.strip() and "/usr/local/bin/klaxon" not in l and "Command" not in l]
        assert not problems, problems


@H.timeout(30)
async def test_readme_lists_exactly_the_command_table(h):
    """The command table (commands/registry.c) is the truth: every row is in the README's
    "Slash commands and buttons" tables, and every `/group word` there is a row."""
    with open(os.path.join(ROOT, "commands", "registry.c"), encoding="utf-8") as f:
        rows = set(re.findall(r'^\s*CMD\("([a-z]+)",\s*"([a-z-]+)"', f.read(), re.M))
    assert ("oncall", "whoami") in rows and ("incident", "declare") in rows, rows
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    part = readme[readme.index("## Slash commands and buttons"):readme.index("### Page buttons")]
    groups = {g for g, _ in rows}
    mentioned = set()
    for g, word in re.findall(r"`/(%s) ([a-z][a-z-]*)" % "|".join(sorted(groups)), part):
        mentioned.add((g, word))
    # a second command in the same cell: "`/oncall changes …` / `/oncall cancel ID`" is caught
    # above; "`/incident postmortem` / `postmortem done`" names a word of the same row
    missing = sorted("/%s %s" % r for r in rows - mentioned)
    assert not missing, "rows of the command table the README does not list: %s" % missing
    unknown = sorted("/%s %s" % m for m in mentioned - rows)
    assert not unknown, "the README lists commands the table does not have: %s" % unknown
    # and with the same synopsis: `klaxon commands` prints each row as users see it (options
    # and all, from the row), which must stand in the README in backticks, `|` escaped.
    out = subprocess.run([h.bin, "commands"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    listed = [line.split("\t")[0] for line in out.stdout.splitlines() if line.strip()]
    assert len(listed) >= len(rows) - 2, (len(listed), len(rows))  # help rows aside, none hidden
    cells = part.replace("\\|", "|")
    absent = [syn for syn in listed if "`%s`" % syn not in cells]
    assert not absent, "README synopses that differ from the table's: %s" % absent
