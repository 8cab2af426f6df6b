"""Prepared VEVENTs -> :class:`CalendarEvent` occurrences in the sync window, for ``ical.py``.

A one-off event is one occurrence; a recurring series (RRULE/RDATE/EXDATE/RECURRENCE-ID) is
expanded by recurring-ical-events, once its cost is known to be bounded (``ical_prescan``).
An occurrence's id is its UID and its original start as a UTC string (why: ``ical.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from inbox_followup.core.model import Attendee, CalendarEvent, Problem, SyncWindow
from inbox_followup.formats.ical_prescan import KEY_PROPERTY, series_refusal
from inbox_followup.formats.ical_values import (
    Component,
    as_list,
    brief_error,
    clean_line,
    prop_text,
    unescape_text,
)

_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})


@dataclass
class ReadContext:
    """Reading one file: where it is from, what it is read for, and the problems found."""

    source: str
    window: SyncWindow
    default_tz: ZoneInfo
    self_addresses: frozenset[str]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, comp: Any, message: str) -> None:
        """Note a problem with one VEVENT, named by its SUMMARY and UID."""
        summary = clean_line(str(comp.get("SUMMARY", "")))[:60]
        where = f"{self.source}: event '{summary}' ({clean_line(str(comp.get('UID', '?')))[:80]})"
        self.problems.append(Problem(where=where, message=message))


def single_event(comp: Component, ctx: ReadContext, method: str) -> list[CalendarEvent]:
    """A one-off event: ``[event]`` when it overlaps the window, else ``[]``."""
    start = comp["DTSTART"].dt
    uid = str(comp["UID"])
    event = _event(comp, start, _end(comp, start), uid, uid, ctx, method)
    if event.end < ctx.window.start or event.start > ctx.window.end:
        return []
    return [event]


def series_events(groups: list[list[Component]], ctx: ReadContext,
                  method: str) -> list[CalendarEvent]:
    """All series at once (fast); on failure series by series, so a bad one costs only itself."""
    groups = [g for g in groups if _bounded(g, ctx)]
    if not groups:
        return []
    try:
        return _occurrences([c for g in groups for c in g], ctx, method)
    except Exception:
        pass
    events: list[CalendarEvent] = []
    for group in groups:
        try:
            events.extend(_occurrences(group, ctx, method))
        except Exception as exc:
            ctx.problem(group[0], f"cannot expand the recurring event ({brief_error(exc)})")
    return events


def _bounded(members: list[Component], ctx: ReadContext) -> bool:
    """Whether the series can be expanded at a bounded cost; if not, it is named in a problem.

    Checked before expansion, as recurring-ical-events cannot stop early (ical_prescan.py).
    Overrides and RDATEs cost only what the file spells out; the RRULE of the master is the risk.
    """
    for comp in members:
        if "RRULE" not in comp or "RECURRENCE-ID" in comp:
            continue
        try:
            start = comp["DTSTART"].dt
            length = _instant(_end(comp, start), ctx) - _instant(start, ctx)
            reason = series_refusal(as_list(comp["RRULE"]), start, length, ctx.window)
        except Exception as exc:  # a FREQ, COUNT or DURATION that expansion would choke on too
            reason = f"cannot expand the recurring event ({brief_error(exc)})"
        if reason:
            ctx.problem(comp, reason)
            return False
    return True


def _occurrences(comps: list[Component], ctx: ReadContext, method: str) -> list[CalendarEvent]:
    cal = Calendar()
    for comp in comps:
        cal.add_component(comp)
    events = []
    for occ in recurring_ical_events.of(cal).between(ctx.window.start, ctx.window.end):
        start = occ["DTSTART"].dt
        rid = occ.get("RECURRENCE-ID")
        uid = str(occ["UID"])
        event_id = f"{uid}/{_stamp(rid.dt if rid is not None else start, ctx)}"
        events.append(_event(occ, start, _end(occ, start), uid, event_id, ctx, method))
    return events


def _end(comp: Component, start: date) -> date:
    if "DTEND" in comp:
        return comp["DTEND"].dt  # type: ignore[no-any-return]
    if "DURATION" in comp:
        return start + comp["DURATION"].dt  # type: ignore[no-any-return]
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _stamp(value: date, ctx: ReadContext) -> str:
    """The original start as text: UTC date-time, or the bare date of an all-day occurrence."""
    if isinstance(value, datetime):
        v = (value if value.tzinfo else value.replace(tzinfo=ctx.default_tz)).astimezone(UTC)
        return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}Z"
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _event(comp: Component, start: date, end: date, uid: str, event_id: str, ctx: ReadContext,
           method: str) -> CalendarEvent:
    begin, finish = _instant(start, ctx), _instant(end, ctx)
    organizer = as_list(comp.get("ORGANIZER"))
    key = comp.get(KEY_PROPERTY)
    return CalendarEvent(
        id=event_id, uid=uid, title=prop_text(comp, "SUMMARY"), start=begin, end=max(begin, finish),
        source=ctx.source, description=prop_text(comp, "DESCRIPTION"),
        location=prop_text(comp, "LOCATION"), all_day=not isinstance(start, datetime),
        status=_status(comp, method),
        organizer=_person(organizer[0], ctx, "ACCEPTED") if organizer else None,
        attendees=tuple(a for a in (_person(p, ctx, "NEEDS-ACTION")
                                    for p in as_list(comp.get("ATTENDEE"))) if a is not None),
        key=unescape_text(key) if key is not None else None,
    )


def _instant(value: date, ctx: ReadContext) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=ctx.default_tz)
    if value.tzinfo is None:
        return value.replace(tzinfo=ctx.default_tz)
    # Keep IANA zones for display; any other tzinfo (a VTIMEZONE built from the file) -> UTC.
    return value if isinstance(value.tzinfo, ZoneInfo) else value.astimezone(UTC)


def _status(comp: Component, method: str) -> str:
    if method == "CANCEL":
        return "CANCELLED"
    status = prop_text(comp, "STATUS").strip().upper()
    return status if status in _STATUSES else "CONFIRMED"


def _person(prop: Any, ctx: ReadContext, partstat: str) -> Attendee | None:
    """ATTENDEE/ORGANIZER -> Attendee; None when there is no usable e-mail address."""
    # No whitespace belongs in an address; some writers fold lines inside one (khal's corpus).
    email = "".join(re.sub(r"^\s*mailto:", "", str(prop), flags=re.IGNORECASE).split()).lower()
    local, at, domain = email.partition("@")
    if not (local and at and domain) or any(c in "<>,;:\"@" for c in local + domain):
        return None
    params = getattr(prop, "params", {})
    name = _param(params, "CN")
    return Attendee(
        email=email, name=None if name is None or name.lower() == email else name,
        cutype=(_param(params, "CUTYPE") or "INDIVIDUAL").upper(),
        partstat=(_param(params, "PARTSTAT") or partstat).upper(),
        is_self=email in ctx.self_addresses,
    )


def _param(params: Any, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None

