"""A small Block Kit -> HTML renderer for tests and docs (issue 16): draws a Slack view (a Home
tab, a modal) or a message's blocks the way Slack's client lays them out, closely enough to
look at: header, section (text, fields, accessory button), context, divider, actions (buttons
with their styles), input (label and a stand-in for the element), image. mrkdwn is rendered:
*bold*, _italic_, ~strike~, `code`, <@U…> (a name through `users`), <#C…>, <url|label>, <!here>,
and Slack's entities. Every other character is escaped, so a view can never inject HTML here.

    python3 tests/blockkit/blockkit_html.py VIEW.json > view.html
    python3 tests/blockkit/blockkit_html.py VIEW.json --png out.png   (headless Chromium)
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CSS = """
body { margin: 0; background: #f8f8f8; font: 15px/1.46668 -apple-system, 'Segoe UI', Lato, 'Helvetica Neue',
       Arial, sans-serif; color: #1d1c1d; }
.view { width: 720px; margin: 0 auto; background: #fff; min-height: 100vh; }
.tabs { display: flex; gap: 24px; padding: 14px 20px 0; border-bottom: 1px solid #ddd; font-weight: 700; }
.tabs span { padding-bottom: 10px; color: #616061; } .tabs .on { color: #1d1c1d; border-bottom: 2px solid #1264a3; }
.app { display: flex; align-items: center; gap: 10px; padding: 16px 20px 6px; font-weight: 900; font-size: 18px; }
.app i { width: 36px; height: 36px; border-radius: 6px; background: #b3261e; display: inline-block; }
.blocks { padding: 6px 20px 24px; }
.header { font-size: 22px; font-weight: 900; margin: 12px 0 6px; }
.section { display: flex; justify-content: space-between; gap: 12px; margin: 8px 0; }
.section .text { white-space: normal; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 6px; }
.context { color: #616061; font-size: 13px; margin: 6px 0; }
hr { border: 0; border-top: 1px solid #ddd; margin: 14px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.btn { border: 1px solid #bbb; border-radius: 4px; padding: 4px 12px; font-weight: 700; font-size: 14px;
       background: #fff; color: #1d1c1d; height: 28px; }
.btn.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.input { margin: 12px 0; } .input label { font-weight: 700; display: block; margin-bottom: 4px; }
.input .el { border: 1px solid #bbb; border-radius: 4px; padding: 7px 10px; color: #616061; }
.mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
a { color: #1264a3; text-decoration: none; }
code { font: 12px Monaco, Menlo, monospace; background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px;
       padding: 0 3px; color: #e01e5a; }
"""


def mrkdwn(text, users=None):
    """Slack mrkdwn -> HTML (escaped). Slack's own entities (&lt; &gt; &amp;) stand for the
    characters; the rest of the text is escaped here. `users` maps ids to names, user ids
    (U…) and channel ids (C…) alike."""
    users = users or {}
    out = []
    pos = 0
    for m in re.finditer(r"<([^<>]*)>", text):
        out.append(_inline(text[pos:m.start()]))
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            name = users.get(target[1:], label or target[1:])
            out.append('<span class="mention">@%s</span>' % html.escape(_unent(name)))
        elif target.startswith("#"):
            name = label or users.get(target[1:], target[1:])
            out.append('<span class="mention">#%s</span>' % html.escape(_unent(name)))
        elif target.startswith("!"):
            out.append('<span class="mention">@%s</span>' % html.escape(_unent(target[1:].split("^")[0])))
        else:
            out.append('<a href="%s">%s</a>' % (html.escape(_unent(target), quote=True),
                                                html.escape(_unent(label or target))))
        pos = m.end()
    out.append(_inline(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def _unent(s):
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inline(s):
    s = html.escape(_unent(s), quote=False)
    s = re.sub(r"`([^`\n]+)`", r"<code>\1</code>", s)
    s = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", s)
    s = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", s)
    s = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", s)
    return s


def _text(t, users):
    if not isinstance(t, dict):
        return ""
    if t.get("type") == "mrkdwn":
        return mrkdwn(t.get("text", ""), users)
    return html.escape(t.get("text", "")).replace("\n", "<br>")


def _element(e, users):
    kind = e.get("type")
    if kind == "button":
        style = e.get("style") or ""
        return '<button class="btn %s">%s</button>' % (html.escape(style), _text(e.get("text"), users))
    if kind == "image":
        return '<img src="%s" alt="%s" width="24">' % (html.escape(e.get("image_url", ""), quote=True),
                                                        html.escape(e.get("alt_text", ""), quote=True))
    if kind in ("plain_text", "mrkdwn"):
        return "<span>%s</span>" % _text(e, users)
    shown = e.get("initial_value") or e.get("initial_date") or e.get("initial_user") or \
        (e.get("initial_option") or {}).get("text", {}).get("text") or \
        (e.get("placeholder") or {}).get("text") or kind
    return '<div class="el">%s</div>' % html.escape(str(shown))


def blocks_html(blocks, users=None):
    out = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            out.append('<div class="header">%s</div>' % _text(b.get("text"), users))
        elif kind == "section":
            inner = '<div class="text">%s' % _text(b.get("text"), users)
            if b.get("fields"):
                inner += '<div class="fields">%s</div>' % "".join(
                    "<div>%s</div>" % _text(f, users) for f in b["fields"])
            inner += "</div>"
            if b.get("accessory"):
                inner += _element(b["accessory"], users)
            out.append('<div class="section">%s</div>' % inner)
        elif kind == "context":
            out.append('<div class="context">%s</div>' % " ".join(_element(e, users) for e in b.get("elements", [])))
        elif kind == "divider":
            out.append("<hr>")
        elif kind == "actions":
            out.append('<div class="actions">%s</div>' % "".join(_element(e, users) for e in b.get("elements", [])))
        elif kind == "input":
            out.append('<div class="input"><label>%s</label>%s</div>' % (
                _text(b.get("label"), users), _element(b.get("element") or {}, users)))
        elif kind == "image":
            out.append('<img src="%s" alt="%s" style="max-width:100%%">' % (
                html.escape(b.get("image_url", ""), quote=True), html.escape(b.get("alt_text", ""), quote=True)))
        else:
            out.append('<div class="context">[%s]</div>' % html.escape(str(kind)))
    return "\n".join(out)


def view_html(view, users=None, app="klaxon"):
    """A whole page: the app's name, the Home/Messages tabs for a home view (a title for a
    modal), then the blocks."""
    top = '<div class="app"><i></i>%s</div>' % html.escape(app)
    if view.get("type") == "home":
        top += '<div class="tabs"><span class="on">Home</span><span>Messages</span><span>About</span></div>'
    elif view.get("title"):
        top = '<div class="app">%s</div>' % _text(view["title"], users)
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style></head>"
            "<body><div class=\"view\">%s<div class=\"blocks\">%s</div></div></body></html>") % (
        html.escape(app), CSS, top, blocks_html(view.get("blocks") or [], users))


def chromium():
    for c in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or ""):
        if c and os.path.exists(c):
            return c
    return None


def screenshot(page_html, png, width=760, height=720):
    """Render page_html with headless Chromium into png. Returns the PNG's size in bytes."""
    exe = chromium()
    if exe is None:
        raise RuntimeError("headless Chromium is missing (/usr/bin/chromium)")
    with tempfile.TemporaryDirectory() as d:
        page = os.path.join(d, "view.html")
        with open(page, "w", encoding="utf-8") as f:
            f.write(page_html)
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--user-data-dir=" + os.path.join(d, "profile"),
                        "--window-size=%d,%d" % (width, height), "--screenshot=" + os.path.abspath(png),
                        "file://" + page], check=True, capture_output=True, timeout=60)
    return os.path.getsize(png)


if __name__ == "__main__":
    args = sys.argv[1:]
    with open(args[0], encoding="utf-8") as f:
        v = json.load(f)
    page = view_html(v)
    if "--png" in args:
        print(screenshot(page, args[args.index("--png") + 1]))
    else:
        sys.stdout.write(page)
