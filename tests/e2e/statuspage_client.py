"""A small reader of Atlassian Statuspage's public API v2, written against its documented
shape (GET /api/v2/summary.json, status.json, components.json, incidents.json,
scheduled-maintenances.json) and nothing klaxon-specific: what a widget, monitor or status
aggregator expects. It checks every field it reads (presence, type, allowed values) and raises
ShapeError on anything else, so a test that reads klaxon's JSON with it shows that such a client
can consume it."""

import datetime
import json
import urllib.request
from dataclasses import dataclass, field

COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage",
                      "under_maintenance"}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}


class ShapeError(AssertionError):
    pass


def _need(obj, key, types, where, allowed=None, nullable=False):
    if not isinstance(obj, dict) or key not in obj:
        raise ShapeError("%s: no %r" % (where, key))
    v = obj[key]
    if v is None and nullable:
        return None
    if not isinstance(v, types):
        raise ShapeError("%s.%s: %r is not %s" % (where, key, v, types))
    if allowed is not None and v not in allowed:
        raise ShapeError("%s.%s: %r is not one of %s" % (where, key, v, sorted(allowed)))
    return v


def _time(obj, key, where, nullable=False):
    v = _need(obj, key, str, where, nullable=nullable)
    if v is not None:
        try:
            datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError as e:
            raise ShapeError("%s.%s: %r is not ISO 8601 (%s)" % (where, key, v, e))
    return v


@dataclass
class Page:
    id: str
    name: str
    url: str
    time_zone: str
    updated_at: str


@dataclass
class Component:
    id: str
    name: str
    status: str
    description: object
    position: int
    group_id: object


@dataclass
class Update:
    id: str
    status: str
    body: str
    created_at: str


@dataclass
class Incident:
    id: str
    name: str
    status: str
    impact: str
    created_at: str
    resolved_at: object
    updates: list = field(default_factory=list)
    components: list = field(default_factory=list)
    scheduled_for: object = None
    scheduled_until: object = None


def parse_page(o):
    p = _need(o, "page", dict, "root")
    return Page(_need(p, "id", str, "page"), _need(p, "name", str, "page"), _need(p, "url", str, "page"),
                _need(p, "time_zone", str, "page"), _time(p, "updated_at", "page"))


def parse_component(c, where):
    for k in ("created_at", "updated_at"):
        _time(c, k, where)
    _need(c, "page_id", str, where)
    _need(c, "only_show_if_degraded", bool, where)
    _need(c, "showcase", bool, where)
    _need(c, "group", bool, where)
    return Component(_need(c, "id", str, where), _need(c, "name", str, where),
                     _need(c, "status", str, where, COMPONENT_STATUSES),
                     _need(c, "description", str, where, nullable=True), _need(c, "position", int, where),
                     _need(c, "group_id", str, where, nullable=True))


def parse_incident(i, where, maintenance=False):
    statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
    inc = Incident(_need(i, "id", str, where), _need(i, "name", str, where),
                   _need(i, "status", str, where, statuses), _need(i, "impact", str, where, IMPACTS),
                   _time(i, "created_at", where), _time(i, "resolved_at", where, nullable=True))
    _time(i, "updated_at", where)
    _need(i, "shortlink", str, where)
    _need(i, "page_id", str, where)
    for n, u in enumerate(_need(i, "incident_updates", list, where)):
        w = "%s.incident_updates[%d]" % (where, n)
        _time(u, "display_at", w, nullable=True)
        _need(u, "incident_id", str, w)
        inc.updates.append(Update(_need(u, "id", str, w), _need(u, "status", str, w, statuses),
                                  _need(u, "body", str, w), _time(u, "created_at", w)))
    for n, c in enumerate(_need(i, "components", list, where)):
        inc.components.append(parse_component(c, "%s.components[%d]" % (where, n)))
    if maintenance:
        inc.scheduled_for = _time(i, "scheduled_for", where)
        inc.scheduled_until = _time(i, "scheduled_until", where)
    return inc


def parse_status(o):
    s = _need(o, "status", dict, "root")
    return _need(s, "indicator", str, "status", INDICATORS), _need(s, "description", str, "status")


def fetch(base, name):
    with urllib.request.urlopen("%s/api/v2/%s.json" % (base, name), timeout=10) as r:
        if r.status != 200:
            raise ShapeError("%s: HTTP %d" % (name, r.status))
        return json.loads(r.read().decode("utf-8"))


def read_all(base):
    """Read every endpoint from a Statuspage base URL (…/status); returns a dict."""
    out = {}
    o = fetch(base, "summary")
    out["page"] = parse_page(o)
    out["status"] = parse_status(o)
    out["components"] = [parse_component(c, "components[%d]" % n)
                         for n, c in enumerate(_need(o, "components", list, "root"))]
    out["open_incidents"] = [parse_incident(i, "incidents[%d]" % n)
                             for n, i in enumerate(_need(o, "incidents", list, "root"))]
    out["upcoming"] = [parse_incident(i, "scheduled_maintenances[%d]" % n, True)
                       for n, i in enumerate(_need(o, "scheduled_maintenances", list, "root"))]
    o = fetch(base, "status")
    parse_page(o)
    assert parse_status(o) == out["status"]
    o = fetch(base, "components")
    parse_page(o)
    assert [c.status for c in (parse_component(c, "c") for c in _need(o, "components", list, "root"))] == \
        [c.status for c in out["components"]]
    o = fetch(base, "incidents")
    parse_page(o)
    out["incidents"] = [parse_incident(i, "incidents[%d]" % n)
                        for n, i in enumerate(_need(o, "incidents", list, "root"))]
    o = fetch(base, "scheduled-maintenances")
    parse_page(o)
    out["maintenances"] = [parse_incident(i, "scheduled_maintenances[%d]" % n, True)
                           for n, i in enumerate(_need(o, "scheduled_maintenances", list, "root"))]
    return out
