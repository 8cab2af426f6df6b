"""The reminders calendar as .ics bytes: render and read back (local account).

One VEVENT per reminder, its UID and X-INBOX-FOLLOWUP-KEY the artifact key, sorted by key and
stamped from its own content, so the same reminders always give the same bytes ("sync twice,
no writes"). Reading back is how notes typed into a reminder reach the drafts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event, vText

from inbox_followup.core.model import ReminderContent
from inbox_followup.errors import ItemError
from inbox_followup.formats.ical_prescan import KEY_PROPERTY
from inbox_followup.formats.ical_values import brief_error, decode_bytes, prop_text, unescape_text

log = logging.getLogger(__name__)

_Comp = Any
CALENDAR_NAME = "Interview follow-ups"
REMINDER_LENGTH = timedelta(minutes=15)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """``text`` as an .ics file can carry it: CR and CRLF become LF, other controls but TAB go.

    RFC 5545 3.3.11 has escapes for nothing but LF, so this is what a round trip keeps; U+FEFF
    goes too (icalendar drops it at the start of a value).
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\ufeff", "")
    return text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"


def clean_reminder(content: ReminderContent) -> ReminderContent:
    """What :func:`read_reminders` gives back for ``content``: clean text, whole UTC seconds.

    Compare planned content through this to know whether the stored reminder differs.

    Raises:
        ValueError: ``content.start`` has no time zone.
    """
    if content.start.tzinfo is None or content.start.utcoffset() is None:
        raise ValueError(f"reminder start {content.start!r} has no time zone")
    return ReminderContent(
        title=clean_text(content.title), description=clean_text(content.description),
        start=content.start.astimezone(UTC).replace(microsecond=0),
        minutes=content.minutes,
    )


def render_reminders(reminders: Mapping[str, ReminderContent], *,
                     prodid: str = "-//inbox-followup//EN") -> bytes:
    """The reminders calendar: one VEVENT per key, sorted, byte-identical for identical input.

    DTSTAMP is the start (never the clock), so rendering the same reminders twice gives the
    same bytes and a sync with nothing new writes nothing.

    Raises:
        ValueError: a reminder's start has no time zone (a programming error).
    """
    cal = Calendar()
    cal.add("PRODID", prodid)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("X-WR-CALNAME", vText(CALENDAR_NAME))
    clean = {clean_text(key): clean_reminder(content) for key, content in reminders.items()}
    for key in sorted(clean):
        cal.add_component(_reminder_event(key, clean[key]))
    return cal.to_ical()  # type: ignore[no-any-return]


class _Text(vText):
    """TEXT with plain RFC 5545 3.3.11 escaping. icalendar's own escaper first rewrites a
    literal backslash + "N" as a newline escape (``_escape_char`` in
    icalendar/parser/string.py, step 1), so that text would not come back as written."""

    def to_ical(self) -> bytes:
        text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        return text.replace("\n", "\\n").encode("utf-8")


def _reminder_event(key: str, r: ReminderContent) -> Event:
    event = Event()
    event.add("UID", _Text(key))
    event.add("DTSTAMP", r.start)
    event.add("DTSTART", r.start)
    event.add("DTEND", r.start + REMINDER_LENGTH)
    event.add("SUMMARY", _Text(r.title))
    event.add("DESCRIPTION", _Text(r.description))
    event.add("TRANSP", "TRANSPARENT")
    event.add(KEY_PROPERTY, _Text(key))
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("DESCRIPTION", _Text(r.title or "Reminder"))
    # Written by hand: icalendar renders a zero duration as P0D; PT0S is what clients expect.
    minutes = abs(r.minutes)
    trigger = "PT0S" if minutes == 0 else f"{'-' if r.minutes > 0 else ''}PT{minutes}M"
    alarm.add("TRIGGER", vText(trigger))
    event.add_component(alarm)
    return event


def read_reminders(data: bytes) -> dict[str, ReminderContent]:
    """The reminders of a file written by :func:`render_reminders` (or edited by a calendar app).

    Events without an X-INBOX-FOLLOWUP-KEY or with an unreadable start are left out.

    Raises:
        ItemError: the data is not an iCalendar file.
    """
    try:
        comps = Calendar.from_ical(decode_bytes(data), multiple=True)
    except Exception as exc:
        raise ItemError("reminders calendar", f"not an iCalendar file ({brief_error(exc)})") from exc
    found: dict[str, ReminderContent] = {}
    for comp in comps:
        for event in _walk_events(comp):
            try:
                key, content = _reminder_from(event)
            except Exception as exc:
                log.warning("reminders calendar: skipping an event (%s)", brief_error(exc))
                continue
            if key is not None:
                found[key] = content
    return found


def _walk_events(comp: _Comp) -> Iterable[_Comp]:
    if comp.name == "VEVENT":
        return [comp]
    return [c for c in comp.subcomponents if c.name == "VEVENT"]


def _reminder_from(event: _Comp) -> tuple[str | None, ReminderContent]:
    raw_key = event.get(KEY_PROPERTY)
    start = event["DTSTART"].dt
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(), tzinfo=UTC)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    content = ReminderContent(
        title=prop_text(event, "SUMMARY"), description=prop_text(event, "DESCRIPTION"),
        start=start.astimezone(UTC),
    )
    for alarm in (c for c in event.subcomponents if c.name == "VALARM" and "TRIGGER" in c):
        trigger = alarm["TRIGGER"].dt
        before = (start - trigger) if isinstance(trigger, datetime) else -trigger
        content = ReminderContent(content.title, content.description, content.start,
                                  round(before.total_seconds() / 60))
        break
    return (unescape_text(raw_key) if raw_key is not None else None), content
