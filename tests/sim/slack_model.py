"""The data side of the Slack simulator: ids, the default workspace, fixture templates,
Block Kit and channel-name validation, and the JSON shapes of users and channels.

Everything here is plain data and pure functions; slack_sim.py owns the running state.
Facts come from shared/protocols/slack.md (sections cited as §n) and the fixtures copied to
tests/fixtures/slack/ (see SOURCES.md there).
"""

import copy
import datetime
import json
import os
import random
import re
import string
import time
import uuid
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "slack"))

TEAM_ID = "T0KLAXON01"
TEAM_DOMAIN = "klaxon-sim"
APP_ID = "A0KLAXON01"
BOT_USER_ID = "U0KLAXBOT1"
BOT_ID = "B0KLAXBOT1"
BOT_NAME = "klaxon"
VERIFICATION_TOKEN = "simVerificationToken0001"
BOT_TOKEN = "xoxb-1000000001-2000000000002-SimBotTokenKlaxon0000001"
APP_TOKEN = "xapp-1-A0KLAXON01-3000000000003-5a1e0c0ffee0000000000000000000000000000000000000000000000000001"

# §4.2 and §3.5: limits the validators enforce, named in one place.
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_TEXT = 40000
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_TEXT = 12000
MAX_LABEL = 2000
MAX_IMAGE_URL = 3000
MAX_ALT_TEXT = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_OPTIONS = 100
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75  # option objects: text and description (Block Kit composition objects)
MAX_OPTION_VALUE = 150
MAX_TEXT_INPUT = 3000  # plain_text_input max_length
MAX_ATTACHMENTS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_VIEW_BYTES = 250 * 1024
MAX_TOPIC = 250
MAX_CHANNEL_NAME = 80
MAX_INVITE_USERS = 100


def truthy(v):
    """Slack's boolean arguments: true, "true", "1", "yes"."""
    return v is True or (isinstance(v, str) and v.lower() in ("1", "true", "yes"))


def add_reaction(m, name, user):
    """Record `user`'s reaction `name` on message m; False when it was already there."""
    rs = m.setdefault("reactions", [])
    r = next((x for x in rs if x["name"] == name), None)
    if r is None:
        r = {"name": name, "users": [], "count": 0}
        rs.append(r)
    if user in r["users"]:
        return False
    r["users"].append(user)
    r["count"] += 1
    return True


def load_fixture(name):
    """Parse one fixture file from tests/fixtures/slack (a fresh deep copy each call)."""
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


_rng = random.Random()
_ALNUM = string.ascii_uppercase + string.digits


def new_id(prefix, n=10):
    """A Slack-looking id: prefix + upper-case letters and digits (C0123ABCDEF …)."""
    return prefix + "".join(_rng.choice(_ALNUM) for _ in range(n))


def new_envelope_id():
    return str(uuid.uuid4())


def new_event_id():
    return "Ev" + new_id("0", 9)


def new_trigger_id():
    """The views.open format "132456.7890123.abcdef" (§3.3): digits.digits.hex."""
    return "%d.%d.%s" % (
        _rng.randrange(10**12, 10**13),
        _rng.randrange(10**11, 10**12),
        uuid.uuid4().hex,
    )


def new_hash():
    return "%d.%s" % (int(time.time()), uuid.uuid4().hex[:8])


class TsClock:
    """Message timestamps "1503435956.000247": real seconds, strictly increasing.

    Real Slack and a real bot read the same clock. A test that runs the bot on a simulated
    clock (KLAXON_NOW, KLAXON_TIME_SCALE) calls follow() with the same start and scale, so the
    stamps on messages agree with the bot's idea of now, as they would in production."""

    def __init__(self):
        self.last = 0
        self.base_sim = None  # simulated epoch seconds at base_real
        self.base_real = 0.0
        self.scale = 1.0

    def follow(self, epoch_seconds, scale=1.0):
        """From now on, stamps run from `epoch_seconds` at `scale` times real speed."""
        self.base_sim = float(epoch_seconds)
        self.base_real = time.time()
        self.scale = float(scale)

    def now(self):
        if self.base_sim is None:
            return time.time()
        return self.base_sim + (time.time() - self.base_real) * self.scale

    def next(self):
        us = int(self.now() * 1_000_000)
        if us <= self.last:
            us = self.last + 1
        self.last = us
        return "%d.%06d" % (us // 1_000_000, us % 1_000_000)

    def seen(self, ts):
        """Keep later stamps above a stamp loaded from a state file."""
        try:
            sec, frac = ts.split(".")
            self.last = max(self.last, int(sec) * 1_000_000 + int(frac))
        except (ValueError, AttributeError):
            pass


def ts_valid(ts):
    return isinstance(ts, str) and re.fullmatch(r"\d{1,12}\.\d{6}", ts) is not None


# --------------------------------------------------------------------------- the workspace


def default_workspace():
    """The workspace the e2e harness's config expects (tests/e2e/harness.py writes the same
    ids): six people, the bot, four channels the bot is in, a general channel it is not in,
    a private channel it cannot see, and one user group."""
    people = [
        ("U0ALICE001", "alice", "Alice Adams", "Europe/Berlin"),
        ("U0BOB00001", "bob", "Bob Brown", "Europe/Berlin"),
        ("U0CAROL001", "carol", "Carol Clark", "Europe/Berlin"),
        ("U0DAVE0001", "dave", "Dave Davis", "Europe/London"),
        ("U0ERIN0001", "erin", "Erin Evans", "Europe/Berlin"),
        ("U0FRANK001", "frank", "Frank Foster", "America/New_York"),
    ]
    users = [
        {"id": uid, "name": name, "real_name": real, "email": "%s@example.com" % name, "tz": tz}
        for uid, name, real, tz in people
    ]
    everyone = [u["id"] for u in users]
    with_bot = everyone + [BOT_USER_ID]
    channels = [
        {"id": "C0INCIDENT", "name": "incidents", "members": with_bot},
        {"id": "C0ONCALL01", "name": "oncall", "members": with_bot},
        {"id": "C0STAKEHLD", "name": "stakeholders", "members": ["U0ERIN0001", "U0FRANK001", BOT_USER_ID]},
        {"id": "C0ALERTS01", "name": "alerts", "members": everyone[:4] + [BOT_USER_ID]},
        {"id": "C0GENERAL1", "name": "general", "members": everyone, "is_general": True},
        {"id": "C0PRIVATE1", "name": "secret-ops", "members": everyone[:2], "is_private": True},
    ]
    usergroups = [{"id": "S0ONCALL01", "handle": "platform-oncall", "name": "Platform on-call", "users": []}]
    return {"users": users, "channels": channels, "usergroups": usergroups}


def make_user(spec):
    """A stored user from a spec {id, name, email?, real_name?, tz?, is_bot?, deleted?}."""
    for key in ("id", "name"):
        if not spec.get(key):
            raise ValueError("a user needs %r: %r" % (key, spec))
    return {
        "id": spec["id"],
        "name": spec["name"],
        "real_name": spec.get("real_name") or spec["name"].title(),
        "email": spec.get("email"),
        "tz": spec.get("tz") or "Europe/Berlin",
        "is_bot": bool(spec.get("is_bot", False)),
        "deleted": bool(spec.get("deleted", False)),
    }


def make_channel(spec, creator=BOT_USER_ID):
    for key in ("id", "name"):
        if not spec.get(key):
            raise ValueError("a channel needs %r: %r" % (key, spec))
    return {
        "id": spec["id"],
        "name": spec["name"],
        "is_private": bool(spec.get("is_private", False)),
        "is_archived": bool(spec.get("is_archived", False)),
        "is_general": bool(spec.get("is_general", False)),
        "is_im": bool(spec.get("is_im", False)),
        "is_mpim": bool(spec.get("is_mpim", False)),
        "user": spec.get("user"),
        "created": int(spec.get("created") or time.time()),
        "creator": spec.get("creator") or creator,
        "members": list(dict.fromkeys(spec.get("members") or [])),
        "topic": spec.get("topic") or {"value": "", "creator": "", "last_set": 0},
        "purpose": spec.get("purpose") or {"value": "", "creator": "", "last_set": 0},
        "messages": spec.get("messages") or [],
        "ephemeral": spec.get("ephemeral") or [],
        "pins": spec.get("pins") or [],
        "bookmarks": spec.get("bookmarks") or [],
    }


def tz_fields(tz):
    try:
        now = datetime.datetime.now(ZoneInfo(tz))
        return {"tz": tz, "tz_label": now.tzname(), "tz_offset": int(now.utcoffset().total_seconds())}
    except Exception:  # an unknown zone in a configured user: Slack would show UTC
        return {"tz": "UTC", "tz_label": "UTC", "tz_offset": 0}


def user_object(u):
    """The users.info `user` shape (fixture users_info_ok.json), with this user's values."""
    obj = load_fixture("users_info_ok.json")["user"]
    obj.update(
        {
            "id": u["id"],
            "team_id": TEAM_ID,
            "name": u["name"],
            "deleted": u["deleted"],
            "real_name": u["real_name"],
            "is_admin": False,
            "is_bot": u["is_bot"],
            "is_app_user": False,
            "updated": int(time.time()),
        }
    )
    obj.update(tz_fields(u["tz"]))
    prof = obj["profile"]
    prof.update(
        {
            "display_name": u["name"],
            "display_name_normalized": u["name"],
            "real_name": u["real_name"],
            "real_name_normalized": u["real_name"],
            "status_emoji": "",
            "status_text": "",
            "team": TEAM_ID,
        }
    )
    if u.get("email"):
        prof["email"] = u["email"]
    else:
        prof.pop("email", None)
    if u["is_bot"]:
        prof["bot_id"] = BOT_ID
        prof["api_app_id"] = APP_ID
    return obj


def channel_object(c, viewer=BOT_USER_ID):
    """The conversations.* `channel` shape (fixture conversations_create_ok.json)."""
    if c["is_im"]:
        return {
            "id": c["id"],
            "created": c["created"],
            "is_im": True,
            "is_org_shared": False,
            "user": c["user"],
            "is_user_deleted": False,
            "priority": 0,
        }
    obj = load_fixture("conversations_create_ok.json")["channel"]
    obj.update(
        {
            "id": c["id"],
            "name": c["name"],
            "name_normalized": c["name"],
            "created": c["created"],
            "creator": c["creator"],
            "is_archived": c["is_archived"],
            "is_general": c["is_general"],
            "is_private": c["is_private"],
            "is_mpim": c["is_mpim"],
            "is_group": False,
            "is_member": viewer in c["members"],
            "topic": dict(c["topic"]),
            "purpose": dict(c["purpose"]),
            "num_members": len(c["members"]),
        }
    )
    return obj


# --------------------------------------------------------------------------- validation

_NAME_OK = re.compile(r"[a-z0-9_\-\u00c0-\uffff]+")


def channel_name_error(name):
    """§2.5: the conversations.create error for a name, or None when it is acceptable."""
    if name is None or name == "":
        return "invalid_name_required"
    if len(name) > MAX_CHANNEL_NAME:
        return "invalid_name_maxlength"
    if not _NAME_OK.fullmatch(name) or name != name.lower():
        return "invalid_name_specials"
    if all(ch in "-_" for ch in name):
        return "invalid_name_punctuation"
    return None


class BlockErrors:
    """Collects Block Kit problems in the observed shape
    "must be less than 3001 characters [json-pointer:/blocks/0/text/text]" (§2.2)."""

    def __init__(self):
        self.items = []

    def add(self, msg, ptr):
        self.items.append("%s [json-pointer:%s]" % (msg, ptr))

    def max_len(self, value, limit, ptr):
        if isinstance(value, str) and len(value) > limit:
            self.add("must be less than %d characters" % (limit + 1), ptr)

    def max_items(self, value, limit, ptr):
        if isinstance(value, list) and len(value) > limit:
            self.add("no more than %d items allowed" % limit, ptr)


def _text_obj(errs, obj, ptr, limit, plain_only=False, required=True):
    if obj is None:
        if required:
            errs.add("missing required field: text", ptr)
        return
    if not isinstance(obj, dict):
        errs.add("expected an object", ptr)
        return
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        errs.add("must be one of %s" % ", ".join(kinds), ptr + "/type")
    text = obj.get("text")
    if not isinstance(text, str):
        errs.add("missing required field: text", ptr + "/text")
    elif text == "":
        errs.add("must be more than 0 characters", ptr + "/text")
    else:
        errs.max_len(text, limit, ptr + "/text")


_ELEMENT_TYPES = {
    "button", "checkboxes", "datepicker", "datetimepicker", "timepicker", "image", "overflow",
    "plain_text_input", "radio_buttons", "static_select", "external_select", "users_select",
    "conversations_select", "channels_select", "multi_static_select", "multi_external_select",
    "multi_users_select", "multi_conversations_select", "multi_channels_select", "number_input",
    "email_text_input", "url_text_input", "rich_text_input", "file_input",
}


def _element(errs, el, ptr):
    if not isinstance(el, dict):
        errs.add("expected an object", ptr)
        return
    kind = el.get("type")
    if kind not in _ELEMENT_TYPES:
        errs.add("invalid element type %r" % kind, ptr + "/type")
        return
    errs.max_len(el.get("action_id"), MAX_ACTION_ID, ptr + "/action_id")
    if kind == "button":
        _text_obj(errs, el.get("text"), ptr + "/text", MAX_BUTTON_TEXT, plain_only=True)
        errs.max_len(el.get("value"), MAX_BUTTON_VALUE, ptr + "/value")
        errs.max_len(el.get("url"), MAX_BUTTON_URL, ptr + "/url")
        if el.get("style") not in (None, "primary", "danger"):
            errs.add("must be one of primary, danger", ptr + "/style")
    elif kind == "image":
        errs.max_len(el.get("image_url"), MAX_IMAGE_URL, ptr + "/image_url")
        errs.max_len(el.get("alt_text"), MAX_ALT_TEXT, ptr + "/alt_text")
    if "placeholder" in el:
        _text_obj(errs, el.get("placeholder"), ptr + "/placeholder", MAX_PLACEHOLDER, plain_only=True)
    errs.max_items(el.get("options"), MAX_OPTIONS, ptr + "/options")
    errs.max_items(el.get("option_groups"), MAX_OPTIONS, ptr + "/option_groups")
    opts = el.get("options") if isinstance(el.get("options"), list) else []
    if kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow") \
            and "options" not in el and "option_groups" not in el:
        errs.add("missing required field: options", ptr + "/options")
    values = []
    for i, o in enumerate(opts + ([el["initial_option"]] if isinstance(el.get("initial_option"), dict) else [])):
        _option(errs, o, "%s/options/%d" % (ptr, i) if i < len(opts) else ptr + "/initial_option")
        if isinstance(o, dict) and i < len(opts):
            values.append(o.get("value"))
    if isinstance(el.get("initial_option"), dict) and el["initial_option"].get("value") not in values:
        errs.add("initial_option must be one of the options", ptr + "/initial_option")
    if kind == "datepicker" and "initial_date" in el and not _is_date(el["initial_date"]):
        errs.add("must be a valid date in the format YYYY-MM-DD", ptr + "/initial_date")
    if kind == "users_select" and "initial_user" in el and not (
            isinstance(el["initial_user"], str) and re.fullmatch(r"[UW][A-Z0-9]{2,}", el["initial_user"])):
        errs.add("must be a valid user id", ptr + "/initial_user")
    if kind == "plain_text_input":
        ml = el.get("max_length")
        if ml is not None and (not isinstance(ml, int) or isinstance(ml, bool) or not 1 <= ml <= MAX_TEXT_INPUT):
            errs.add("must be between 1 and %d" % MAX_TEXT_INPUT, ptr + "/max_length")


def _is_date(s):
    if not isinstance(s, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return False
    try:
        datetime.date(int(s[:4]), int(s[5:7]), int(s[8:]))
        return True
    except ValueError:
        return False


def _option(errs, o, ptr):
    """An option object: plain_text text of at most 75 characters, a value of at most 150."""
    if not isinstance(o, dict):
        errs.add("expected an object", ptr)
        return
    _text_obj(errs, o.get("text"), ptr + "/text", MAX_OPTION_TEXT)
    if "description" in o:
        _text_obj(errs, o["description"], ptr + "/description", MAX_OPTION_TEXT)
    v = o.get("value")
    if not isinstance(v, str) or not v:
        errs.add("missing required field: value", ptr + "/value")
    else:
        errs.max_len(v, MAX_OPTION_VALUE, ptr + "/value")


def _block(errs, b, ptr):
    if not isinstance(b, dict):
        errs.add("expected an object", ptr)
        return
    errs.max_len(b.get("block_id"), MAX_BLOCK_ID, ptr + "/block_id")
    kind = b.get("type")
    if kind == "section":
        if "text" not in b and "fields" not in b:
            errs.add("must provide either text or fields", ptr)
        if "text" in b:
            _text_obj(errs, b["text"], ptr + "/text", MAX_SECTION_TEXT)
        fields = b.get("fields")
        if fields is not None:
            if not isinstance(fields, list):
                errs.add("expected an array", ptr + "/fields")
            else:
                errs.max_items(fields, MAX_FIELDS, ptr + "/fields")
                for i, f in enumerate(fields):
                    _text_obj(errs, f, "%s/fields/%d" % (ptr, i), MAX_FIELD_TEXT)
        if "accessory" in b:
            _element(errs, b["accessory"], ptr + "/accessory")
    elif kind == "header":
        _text_obj(errs, b.get("text"), ptr + "/text", MAX_HEADER_TEXT, plain_only=True)
    elif kind == "markdown":
        if not isinstance(b.get("text"), str):
            errs.add("missing required field: text", ptr + "/text")
        else:
            errs.max_len(b["text"], MAX_MARKDOWN_TEXT, ptr + "/text")
    elif kind in ("actions", "context"):
        els = b.get("elements")
        limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
        if not isinstance(els, list) or not els:
            errs.add("must provide at least 1 element", ptr + "/elements")
            return
        errs.max_items(els, limit, ptr + "/elements")
        for i, el in enumerate(els):
            p = "%s/elements/%d" % (ptr, i)
            if kind == "context" and isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                _text_obj(errs, el, p, MAX_SECTION_TEXT)
            else:
                _element(errs, el, p)
    elif kind == "image":
        if not b.get("image_url") and not b.get("slack_file"):
            errs.add("missing required field: image_url", ptr + "/image_url")
        errs.max_len(b.get("image_url"), MAX_IMAGE_URL, ptr + "/image_url")
        if not isinstance(b.get("alt_text"), str):
            errs.add("missing required field: alt_text", ptr + "/alt_text")
        errs.max_len(b.get("alt_text"), MAX_ALT_TEXT, ptr + "/alt_text")
    elif kind == "input":
        _text_obj(errs, b.get("label"), ptr + "/label", MAX_LABEL, plain_only=True)
        if "hint" in b:
            _text_obj(errs, b["hint"], ptr + "/hint", MAX_LABEL, plain_only=True)
        if "element" not in b:
            errs.add("missing required field: element", ptr + "/element")
        else:
            _element(errs, b["element"], ptr + "/element")
    elif kind in ("divider", "rich_text", "file", "video"):
        pass
    else:
        errs.add("unsupported type: %s" % kind, ptr + "/type")


def validate_blocks(blocks, max_blocks, base="/blocks"):
    """Returns (error_name, errors): (None, []) when the blocks are fine,
    ("invalid_blocks_format", []) when they are not an array of objects at all,
    ("invalid_blocks", [...]) with one line per problem otherwise."""
    if not isinstance(blocks, list):
        return "invalid_blocks_format", []
    errs = BlockErrors()
    errs.max_items(blocks, max_blocks, base)
    seen_ids = set()
    for i, b in enumerate(blocks[: max_blocks + 1]):
        _block(errs, b, "%s/%d" % (base, i))
        bid = b.get("block_id") if isinstance(b, dict) else None
        if bid is not None:
            if bid in seen_ids:
                errs.add("duplicate block_id %r" % bid, "%s/%d/block_id" % (base, i))
            seen_ids.add(bid)
    if errs.items:
        return "invalid_blocks", errs.items
    return None, []


def validate_view(view, kind_expected):
    """§3.5 view limits. Returns a list of "[ERROR] …" messages (empty when fine)."""
    msgs = []
    if not isinstance(view, dict):
        return ["[ERROR] view must be a JSON object [json-pointer:/view]"]
    if view.get("type") not in kind_expected:
        msgs.append("[ERROR] must be one of %s [json-pointer:/view/type]" % ", ".join(kind_expected))
    for key in ("title", "submit", "close"):
        t = view.get(key)
        if t is None:
            if key == "title" and view.get("type") == "modal":
                msgs.append("[ERROR] missing required field: title [json-pointer:/view/title]")
            continue
        if not isinstance(t, dict) or t.get("type") != "plain_text" or not isinstance(t.get("text"), str):
            msgs.append("[ERROR] must be a plain_text object [json-pointer:/view/%s]" % key)
        elif len(t["text"]) > MAX_VIEW_TITLE:
            msgs.append("[ERROR] must be less than %d characters [json-pointer:/view/%s/text]" % (MAX_VIEW_TITLE + 1, key))
    pm = view.get("private_metadata")
    if isinstance(pm, str) and len(pm) > MAX_PRIVATE_METADATA:
        msgs.append("[ERROR] must be less than %d characters [json-pointer:/view/private_metadata]" % (MAX_PRIVATE_METADATA + 1))
    cb = view.get("callback_id")
    if isinstance(cb, str) and len(cb) > MAX_CALLBACK_ID:
        msgs.append("[ERROR] must be less than %d characters [json-pointer:/view/callback_id]" % (MAX_CALLBACK_ID + 1))
    blocks = view.get("blocks")
    if blocks is None:
        msgs.append("[ERROR] missing required field: blocks [json-pointer:/view/blocks]")
    else:
        name, errors = validate_blocks(blocks, MAX_BLOCKS_VIEW, base="/view/blocks")
        if name == "invalid_blocks_format":
            msgs.append("[ERROR] must be an array [json-pointer:/view/blocks]")
        msgs.extend("[ERROR] " + e for e in errors)
    return msgs


def rich_text_blocks(text):
    """The rich_text block Slack attaches to a user's message (fixture envelope_events_api_app_mention.json)."""
    elements = []
    for part in re.split(r"(<@[UW][A-Z0-9]+>)", text):
        if not part:
            continue
        m = re.fullmatch(r"<@([UW][A-Z0-9]+)>", part)
        elements.append({"type": "user", "user_id": m.group(1)} if m else {"type": "text", "text": part})
    return [
        {
            "type": "rich_text",
            "block_id": "".join(_rng.choice(string.ascii_letters + string.digits) for _ in range(4)),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def block_texts(blocks):
    """Every text string inside a block tree, in order (for assertions on rendered messages)."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(blocks)
    return out


def deepcopy(x):
    return copy.deepcopy(x)
