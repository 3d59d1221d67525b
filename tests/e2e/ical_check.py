#!/usr/bin/python3
"""Check an iCalendar file the way a calendar client would read it.

    /usr/bin/python3 tests/e2e/ical_check.py FILE.ics [--events N]

Parses FILE with Debian's python3-icalendar (icalendar.Calendar.from_ical) and checks:
  - the bytes are UTF-8, every line ends in CRLF (no bare CR or LF), the file ends in CRLF;
  - every physical line is at most 75 octets (CRLF not counted) and is valid UTF-8 on its
    own, so no fold splits a multi-byte character;
  - there is one VCALENDAR with VERSION:2.0 and a PRODID;
  - every VEVENT has UID, DTSTART, DTEND, SUMMARY (and DTSTAMP), DTEND is after DTSTART,
    and UIDs are unique;
  - with --events N: exactly N VEVENTs.
Prints one line per problem and a summary; exits 0 when there is none, 1 otherwise, and 2
when the file cannot be read or the arguments are wrong.
"""
import argparse
import sys

MAX_OCTETS = 75


def check_lines(data, problems):
    """Line-level checks on the raw bytes; returns the number of physical lines."""
    if not data.endswith(b"\r\n"):
        problems.append("the file does not end with CRLF")
    lines = data.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for no, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            problems.append("line %d: bare CR or LF (lines must end in CRLF)" % no)
        if len(line) > MAX_OCTETS:
            problems.append("line %d: %d octets, more than %d" % (no, len(line), MAX_OCTETS))
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("line %d: not UTF-8 on its own (a fold splits a character?): %s"
                            % (no, e))
        if no == 1 and line != b"BEGIN:VCALENDAR":
            problems.append("line 1: %r, want BEGIN:VCALENDAR" % line[:40])
    return len(lines)


def check_calendar(data, problems):
    """Parses with python3-icalendar; returns the number of VEVENTs."""
    try:
        import icalendar
    except ImportError:
        problems.append("python3-icalendar is not installed (apt-get install python3-icalendar)")
        return 0
    try:
        cal = icalendar.Calendar.from_ical(data.decode("utf-8", errors="replace"))
    except Exception as e:  # the parser raises ValueError and friends for bad input
        problems.append("python3-icalendar refused the file: %s" % e)
        return 0
    if cal.name != "VCALENDAR":
        problems.append("the top component is %s, want VCALENDAR" % cal.name)
    if str(cal.get("VERSION", "")) != "2.0":
        problems.append("VERSION is %r, want 2.0" % str(cal.get("VERSION", "")))
    if not cal.get("PRODID"):
        problems.append("no PRODID")
    uids = {}
    events = cal.walk("VEVENT")
    for i, ev in enumerate(events, 1):
        uid = str(ev.get("UID", ""))
        where = "VEVENT %d (%s)" % (i, uid or "no UID")
        for prop in ("UID", "DTSTART", "DTEND", "SUMMARY", "DTSTAMP"):
            if ev.get(prop) is None or str(ev.get(prop)) == "":
                problems.append("%s: no %s" % (where, prop))
        if uid:
            if uid in uids:
                problems.append("%s: UID also used by VEVENT %d" % (where, uids[uid]))
            uids[uid] = i
        start, end = ev.get("DTSTART"), ev.get("DTEND")
        if start is not None and end is not None:
            try:
                if not end.dt > start.dt:
                    problems.append("%s: DTEND %s is not after DTSTART %s" % (where, end.dt, start.dt))
            except TypeError as e:
                problems.append("%s: DTSTART/DTEND not comparable: %s" % (where, e))
    return len(events)


def main(argv):
    ap = argparse.ArgumentParser(description="Check an iCalendar file (RFC 5545).")
    ap.add_argument("file")
    ap.add_argument("--events", type=int, default=None, help="expect exactly this many VEVENTs")
    args = ap.parse_args(argv)
    try:
        with open(args.file, "rb") as f:
            data = f.read()
    except OSError as e:
        print("ical_check: %s" % e, file=sys.stderr)
        return 2
    problems = []
    if not data:
        problems.append("the file is empty")
    n_lines = check_lines(data, problems)
    n_events = check_calendar(data, problems) if data else 0
    if args.events is not None and n_events != args.events:
        problems.append("%d VEVENTs, want %d" % (n_events, args.events))
    for p in problems:
        print("ical_check: %s: %s" % (args.file, p))
    print("ical_check: %s: %d lines, %d events, %d problems"
          % (args.file, n_lines, n_events, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
