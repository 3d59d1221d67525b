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
    with open(os.path.join(ROOT, "deploy", "kubernetes", "sqlite", "klaxon.yaml"), encoding="utf-8") as f:
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
    for want in ("FROM debian:bookworm-slim", "libwebsockets-evlib-uv", "USER 10001", "VOLUME", "make build/klaxon",
                 "libpq5", "libical3"):
        assert want in docker, want
    # the build stage installs every package `make` itself needs (tests/deps.sh build)
    with open(os.path.join(ROOT, "tests", "deps.sh"), encoding="utf-8") as f:
        build_pkgs = re.search(r'build="([^"]*)"', f.read()).group(1).split()
    stage = docker[docker.index("AS build"):docker.index("make build/klaxon")]
    missing = [p for p in build_pkgs if not re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(p), stage)]
    assert not missing, "the Dockerfile's build stage lacks %s (tests/deps.sh build)" % missing
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


def k8s_dir():
    return os.path.join(ROOT, "deploy", "kubernetes")


def load_kustomization():
    """The documents `kubectl apply -k deploy/kubernetes/` would apply: every resource file
    parsed, and the ConfigMap the configMapGenerator makes (without kustomize's hash suffix,
    which kustomize also writes into the Deployment's reference)."""
    with open(os.path.join(k8s_dir(), "kustomization.yaml"), encoding="utf-8") as f:
        kust = yaml.safe_load(f)
    assert kust["kind"] == "Kustomization", kust
    docs = []
    for res in kust["resources"]:
        path = os.path.join(k8s_dir(), res)
        assert os.path.isfile(path), "kustomization.yaml names %s, which does not exist" % res
        with open(path, encoding="utf-8") as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    for gen in kust.get("configMapGenerator", []):
        data = {}
        for spec in gen["files"]:
            key, _, name = spec.partition("=") if "=" in spec else (os.path.basename(spec), "", spec)
            with open(os.path.join(k8s_dir(), name), encoding="utf-8") as f:
                data[key] = f.read()
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    for d in docs:
        assert d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), d
    return kust, docs


def served_paths():
    """Every HTTP route klaxon registers (`.path = "/…"` in bot/)."""
    paths = set()
    for top, dirs, names in os.walk(os.path.join(ROOT, "bot")):
        for name in names:
            if name.endswith(".c"):
                with open(os.path.join(top, name), encoding="utf-8") as f:
                    paths |= set(re.findall(r'\.path = "(/[^"]*)"', f.read()))
    return paths


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


@H.timeout(60)
async def test_kubernetes_ha_manifests_hold_together(h):
    """deploy/kubernetes/ (issue 12): three instances on PostgreSQL. No cluster, kubectl or
    kubeconform here, so the files are parsed and what they promise one another is checked:
    replicas, the PDB and Service and spread selecting the Deployment's pods, every Secret key
    in the example Secret, probes on paths klaxon serves and answers, the config passing
    check-config, a grace period longer than klaxon's own stop deadline."""
    kust, docs = load_kustomization()
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    assert set(by_kind) >= {"Deployment", "PodDisruptionBudget", "Service", "ConfigMap", "Ingress"}, set(by_kind)
    assert "Secret" not in by_kind, "the kustomization must not apply placeholder tokens over real ones"
    (dep,) = by_kind["Deployment"]
    spec = dep["spec"]
    assert spec["replicas"] == 3, spec["replicas"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    sel = spec["selector"]["matchLabels"]
    assert sel and matches(sel, labels), (sel, labels)
    ru = spec["strategy"]["rollingUpdate"]
    assert spec["strategy"]["type"] == "RollingUpdate" and ru["maxUnavailable"] == 0, spec["strategy"]
    # Slack's cap: 10 Socket Mode connections per app, a refresh briefly needs one more each
    assert spec["replicas"] + ru["maxSurge"] <= 5, ru

    (pdb,) = by_kind["PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 2
    assert pdb["spec"]["selector"]["matchLabels"] == sel, (pdb["spec"]["selector"], sel)

    ps = pod["spec"]
    tsc = ps["topologySpreadConstraints"]
    host = [t for t in tsc if t["topologyKey"] == "kubernetes.io/hostname"]
    assert host and host[0]["whenUnsatisfiable"] == "DoNotSchedule" and host[0]["maxSkew"] == 1, tsc
    for t in tsc:
        assert matches(t["labelSelector"]["matchLabels"], labels), t

    (svc,) = by_kind["Service"]
    assert svc["spec"]["selector"] and matches(svc["spec"]["selector"], labels), svc["spec"]
    (c,) = ps["containers"]
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    for p in svc["spec"]["ports"]:
        assert p["targetPort"] in port_names or p["targetPort"] in port_names.values(), p
    served = served_paths()
    assert {"/alerts/alertmanager", "/teams/messages", "/healthz"} <= served, served
    (ing,) = by_kind["Ingress"]
    ing_paths = []
    for rule in ing["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            assert p["backend"]["service"]["name"] == svc["metadata"]["name"], p
            assert p["backend"]["service"]["port"]["name"] in {sp["name"] for sp in svc["spec"]["ports"]}, p
            assert any(s.startswith(p["path"]) for s in served), "the Ingress routes %s, which klaxon does not serve" % p["path"]
            ing_paths.append(p["path"])
    assert {"/alerts/", "/teams/"} <= set(ing_paths), ing_paths
    assert not any("/metrics".startswith(p) or "/healthz".startswith(p) for p in ing_paths), ing_paths

    # security: non-root, read-only root, nothing to escalate, no API token in the pod
    assert ps["securityContext"]["runAsNonRoot"] is True and ps["securityContext"]["runAsUser"] != 0
    assert ps["automountServiceAccountToken"] is False
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, sc
    assert sc["capabilities"]["drop"] == ["ALL"], sc
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], c["resources"]
    assert c["resources"]["limits"]["memory"], c["resources"]
    with open(os.path.join(ROOT, "deploy", "Dockerfile"), encoding="utf-8") as f:
        assert "USER %d" % ps["securityContext"]["runAsUser"] in f.read(), "runAsUser is not the image's user"
    images = {i["name"] for i in kust.get("images", [])}
    assert c["image"].split(":")[0] in images, (c["image"], images)

    # probes: readiness on /healthz (the database), liveness on the probe that touches none
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz", c["readinessProbe"]
    live = c["livenessProbe"]["httpGet"]["path"]
    assert live == "/healthz?probe=live", live
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if probe in c:
            g = c[probe]["httpGet"]
            assert g["path"].split("?")[0] in served, (probe, g)
            assert g["port"] in port_names or g["port"] in port_names.values(), (probe, g)

    # graceful stop: the pod's grace covers the preStop pause plus klaxon's own stop deadline
    with open(os.path.join(ROOT, "bot", "app.c"), encoding="utf-8") as f:
        stop_ms = int(re.search(r"#define STOP_DEADLINE_MS (\d+)", f.read()).group(1))
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre[0] == "/bin/sleep", pre
    grace = ps["terminationGracePeriodSeconds"]
    assert grace >= int(pre[1]) + stop_ms / 1000 + 5, (grace, pre, stop_ms)

    # the Secret: every key the pod reads is in the example, and every required one is not optional
    with open(os.path.join(k8s_dir(), "secret.example.yaml"), encoding="utf-8") as f:
        (secret,) = [d for d in yaml.safe_load_all(f) if d]
    with open(os.path.join(k8s_dir(), "secret.example.yaml"), encoding="utf-8") as f:
        commented = set(re.findall(r"^\s*#\s*([A-Z][A-Z0-9_]*):", f.read(), re.M))
    keys = set(secret["stringData"])
    assert "KLAXON_DATABASE_URL" in keys
    url = secret["stringData"]["KLAXON_DATABASE_URL"]
    assert "target_session_attrs=read-write" in url and re.search(r"host=[^ ,]+,[^ ,]+", url), url
    env = {e["name"]: e for e in c["env"]}
    for name in ("KLAXON_DATABASE_URL", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "KLAXON_ALERT_TOKEN", "KLAXON_FEED_SECRET"):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in keys, (name, ref)
        assert not ref.get("optional"), name
    for e in c["env"]:
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            assert ref["name"] == secret["metadata"]["name"], ref
            assert ref["key"] in keys or (ref.get("optional") and ref["key"] in commented), ref

    # the config: the ConfigMap the pod mounts, at the path it is given, passes check-config,
    # names the database variable the Secret fills, and listens on the container's port
    cms = {d["metadata"]["name"]: d for d in by_kind["ConfigMap"]}
    vols = {v["name"]: v for v in ps["volumes"]}
    (cfg_mount,) = [m for m in c["volumeMounts"] if "configMap" in vols[m["name"]]]
    cm = cms[vols[cfg_mount["name"]]["configMap"]["name"]]
    cfg_arg = c["args"][c["args"].index("--config") + 1]
    assert os.path.dirname(cfg_arg) == cfg_mount["mountPath"], (cfg_arg, cfg_mount)
    text = cm["data"][os.path.basename(cfg_arg)]
    cfg = yaml.safe_load(text)
    assert cfg["storage"]["engine"] == "postgres" and cfg["storage"]["url_env"] in env, cfg["storage"]
    assert cfg["http"]["listen"] == "0.0.0.0:%d" % port_names["http"], cfg["http"]
    path = os.path.join(h.tmp, "k8s-ha.yaml")
    with open(path, "w") as f:
        f.write(text)
    r = run([h.bin, "check-config", "--config", path])
    assert r.returncode == 0 and "OK" in r.stdout, (r.stdout, r.stderr)
    # check-config does judge it: the same file with a typo in the engine fails
    with open(path, "w") as f:
        f.write(text.replace("engine: postgres", "engine: postgress"))
    r = run([h.bin, "check-config", "--config", path])
    assert r.returncode != 0 and "postgress" in r.stderr, (r.stdout, r.stderr)

    # the probe paths answer 200 on a running klaxon (here on SQLite, the harness's engine)
    await h.start_bot()
    for p in (c["readinessProbe"]["httpGet"]["path"], live):
        status, _, body = await h.http_get(p)
        assert status == 200, (p, status, body)
    status, _, body = await h.http_get(live)
    assert '"probe":"live"' in body, body


LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')  # a C string literal's body


@H.timeout(30)
async def test_migrations_only_add(h):
    """Rolling upgrades (docs/ha.md): the first new instance migrates while old ones keep running
    on the migrated tables, which is safe only if migrations add and never take away, and if
    queries name their columns. Read from every migration text of both engines."""
    storage = os.path.join(ROOT, "storage")
    files = sorted(n for n in os.listdir(storage) if n.endswith(".c"))
    texts = {}
    for name in files:
        with open(os.path.join(storage, name), encoding="utf-8") as f:
            texts[name] = f.read()
    # the SQL of the migrations: every string literal of a *_schema_vN definition, and
    # schema_pg.c whole (it holds PostgreSQL's copies)
    migrations = {}
    for name, text in texts.items():
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments between a migration's literals
        for m in re.finditer(r'const char (\w+_schema_v\d+)\[\]\s*=\s*((?:\s*"(?:[^"\\]|\\.)*")+)', text):
            migrations["%s:%s" % (name, m.group(1))] = "".join(re.findall(LITERAL, m.group(2)))
    migrations["schema_pg.c"] = "".join(re.findall(LITERAL, texts["schema_pg.c"]))
    assert len(migrations) > 10 and any("ADD COLUMN" in s for s in migrations.values()), sorted(migrations)
    taking = re.compile(r"\bDROP\s+(TABLE|COLUMN|VIEW|TYPE|SCHEMA)\b|\bRENAME\b|\bALTER\s+COLUMN\b|"
                        r"\bALTER\s+TABLE\s+\w+\s+(ALTER|DROP)\b", re.I)
    for where, sql in migrations.items():
        m = taking.search(sql)
        assert not m, "%s: %r takes something away (docs/ha.md, migrations only add)" % (where, m.group(0))
        for col in re.findall(r"ADD\s+COLUMN\s+([^;,]*)", sql, re.I):
            assert "NOT NULL" not in col.upper() or "DEFAULT" in col.upper(), \
                "%s: ADD COLUMN %s is NOT NULL without a DEFAULT: old instances' INSERTs would fail" % (where, col)
    # queries name their columns: no SELECT *, no INSERT without a column list (db_pg.c's own
    # one-row klaxon_schema table aside)
    for name, text in texts.items():
        body = text.replace("INSERT INTO klaxon_schema VALUES", "") if name == "db_pg.c" else text
        bad = re.search(r"SELECT\s+\*|\b\w+\.\*|INSERT\s+(OR\s+\w+\s+)?INTO\s+\"?\w+\"?\s+(VALUES|SELECT)\b", body, re.I)
        assert not bad, "%s: %r does not name its columns" % (name, bad.group(0))
