"""``.ics`` bytes -> the :class:`CalendarEvent` occurrences in the sync window, free of I/O.

This module is the entry point (:func:`parse_calendar`) and walks each VCALENDAR: it checks
every VEVENT's dates, gives it a UID if it has none and puts its times in a zone, then hands
one-off events and recurring series to ``ical_occurrences``.

Reading is built on icalendar (RFC 5545 parsing), x-wr-timezone (Google's X-WR-TIMEZONE) and
recurring-ical-events (RRULE/RDATE/EXDATE/RECURRENCE-ID expansion). Four things are done by
these modules rather than left to those libraries, each for a reason:

* A line-level pre-scan (``ical_prescan``) keeps only the VEVENTs that can touch the sync
  window (plus every member of a recurring series) and only the properties we read.
  icalendar 7 walks each content line character by character in Python
  (``Contentline.raw_parts``): a 5,000-event Google export (4.5 MB) took 4.4 s in full;
  trimmed to a 240-day window, about 1 s.
* Time zones are resolved per file (``ical_zones``: IANA name, Windows name,
  ``/vendor/Area/City`` TZID, then the file's own VTIMEZONE). icalendar caches VTIMEZONE
  definitions of non-IANA TZIDs in a process-wide dict, first definition wins
  (``icalendar/timezone/tzp.py``,
  ``cache_timezone_component``), so one odd file would otherwise change how every later file
  of the daemon reads, and occurrence ids would drift between runs.
* Recurrence ids are UTC strings (``ical_occurrences``), so a moved occurrence keeps its id
  and ids survive reparses.
* Recurrence rules are bounded before anything expands them (``ical_prescan``): expansion
  cannot stop early; one VEVENT's RRULE:FREQ=MINUTELY made 259,260 occurrences (15 s, 662 MB)
  and one VTIMEZONE's took 343 s.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import x_wr_timezone
from icalendar import Calendar, vText

from inbox_followup.core.model import CalendarEvent, Problem, SyncWindow
from inbox_followup.errors import ItemError
from inbox_followup.formats.ical_occurrences import ReadContext, series_events, single_event
from inbox_followup.formats.ical_prescan import prescan
from inbox_followup.formats.ical_values import (
    Component,
    as_list,
    brief_error,
    clean_line,
    decode_bytes,
    prop_text,
)
from inbox_followup.formats.ical_zones import FileZones, zone_named, zoned

_SERIES = frozenset({"RRULE", "RDATE", "EXRULE", "RECURRENCE-ID"})
_DT_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")


class _Skip(Exception):
    """One VEVENT cannot be used; the message says why."""


# --- reading: public entry point ---------------------------------------------------------------


def parse_calendar(data: bytes, source: str, window: SyncWindow, *, default_tz: ZoneInfo,
                   self_addresses: frozenset[str]) -> tuple[list[CalendarEvent], list[Problem]]:
    """Every event occurrence of an ``.ics`` file that overlaps ``window``, plus per-event problems.

    A VEVENT that cannot be read (bad DTSTART, broken recurrence, ...) is left out and named in
    the problems; an unknown TZID is read in ``default_tz`` and reported. Floating times are in
    the calendar's X-WR-TIMEZONE, else ``default_tz``; all-day events start and end at midnight
    in ``default_tz``.

    Raises:
        ItemError: the data is not an iCalendar calendar (garbage, truncated, no VCALENDAR).
            Nothing else is raised.
    """
    try:
        if window.start.tzinfo is None or window.end.tzinfo is None:  # be lenient: local time
            window = SyncWindow(window.start.replace(tzinfo=window.start.tzinfo or default_tz),
                                window.end.replace(tzinfo=window.end.tzinfo or default_tz))
        ctx = ReadContext(source, window, default_tz, frozenset(a.lower() for a in self_addresses))
        return _parse(data, ctx)
    except ItemError:
        raise
    except Exception as exc:  # the contract: only ItemError leaves this function
        raise ItemError(source, f"cannot read the calendar ({brief_error(exc)})") from exc


def _parse(data: bytes, ctx: ReadContext) -> tuple[list[CalendarEvent], list[Problem]]:
    text = prescan(decode_bytes(data), ctx.window, ctx.source)
    try:
        tops = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise ItemError(ctx.source, f"not a valid iCalendar file ({brief_error(exc)})") from exc
    tops = [c for c in tops if c.name in ("VCALENDAR", "VEVENT")]
    if not tops:
        raise ItemError(ctx.source, "no VCALENDAR in the file: not an iCalendar calendar")
    events: dict[str, CalendarEvent] = {}
    for top in tops:
        if top.name == "VEVENT":  # a bare VEVENT, as vdir/khal files sometimes are
            wrapper = Calendar()
            wrapper.add_component(top)
            top = wrapper
        for event in _calendar_events(top, ctx):
            events[event.id] = event  # several VCALENDARs (an iTIP stream): the later one wins
    return list(events.values()), ctx.problems


# --- one VCALENDAR -----------------------------------------------------------------------------


def _calendar_events(cal: Component, ctx: ReadContext) -> list[CalendarEvent]:
    method = prop_text(cal, "METHOD").strip().upper()
    cal_zone = _calendar_zone(cal, ctx)
    # x-wr-timezone's walker, applied value by value: its to_standard() copies every changed
    # component, which cost 0.3 s on 5,000 events.
    walker = x_wr_timezone.UTCChangingWalker(cal_zone) if cal_zone is not None else None
    zones = FileZones(cal)
    good: list[Component] = []
    for comp in [c for c in cal.subcomponents if c.name == "VEVENT"]:
        if "DTSTART" not in comp and method not in ("", "PUBLISH", "REQUEST", "ADD"):
            continue  # iTIP REPLY/CANCEL/REFRESH may omit DTSTART (RFC 5546 3.2): nothing to show
        try:
            _prepare(comp, zones, walker, ctx)
        except _Skip as exc:
            ctx.problem(comp, str(exc))
            continue
        except Exception as exc:  # icalendar raises many kinds on hostile input
            ctx.problem(comp, f"cannot read the event ({brief_error(exc)})")
            continue
        good.append(comp)
    groups: dict[str, list[Component]] = {}
    for comp in good:
        groups.setdefault(str(comp["UID"]), []).append(comp)
    events: list[CalendarEvent] = []
    series: list[list[Component]] = []
    for members in groups.values():
        if any(_SERIES.intersection(m.keys()) for m in members):
            series.append(members)
            continue
        # The same UID twice without RECURRENCE-ID (an iTIP stream, say): the latest wins.
        comp = max(reversed(members), key=_sequence)
        try:
            events.extend(single_event(comp, ctx, method))
        except Exception as exc:
            ctx.problem(comp, f"cannot read the event ({brief_error(exc)})")
    events.extend(series_events(series, ctx, method))
    return events


def _calendar_zone(cal: Component, ctx: ReadContext) -> ZoneInfo | None:
    """Google exports name the calendar's zone in X-WR-TIMEZONE and write times in UTC."""
    name = prop_text(cal, "X-WR-TIMEZONE").strip()
    if not name:
        return None
    zone = zone_named(name)
    if zone is None:
        ctx.problems.append(Problem(
            where=ctx.source,
            message=f"unknown X-WR-TIMEZONE '{clean_line(name)[:60]}'; "
                    f"times without a zone are read in {ctx.default_tz.key}"))
    return zone


def _prepare(comp: Component, zones: FileZones, walker: Any, ctx: ReadContext) -> None:
    """Check the event's dates, give it a UID if it has none, put every time in a zone."""
    start = _one(comp, "DTSTART")
    if start is None:
        raise _Skip("no DTSTART")
    if not isinstance(start.dt, date):
        raise _Skip("DTSTART is not a date or a date-time")
    for name, kind in (("DTEND", date), ("RECURRENCE-ID", date), ("DURATION", timedelta)):
        prop = _one(comp, name)
        if prop is not None and not isinstance(prop.dt, kind):
            raise _Skip(f"{name} is not a {'duration' if kind is timedelta else 'date'}")
    if not prop_text(comp, "UID").strip():  # stable across reparses: what the event says, where
        basis = "\n".join((ctx.source, repr(start.to_ical()), str(start.params.get("TZID")),
                           prop_text(comp, "SUMMARY")))
        digest = hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()
        comp["UID"] = vText("nouid-" + digest[:24])
    unknown: set[str] = set()
    for name in _DT_PROPS:
        for prop in as_list(comp.get(name)):
            tzid = str(prop.params.get("TZID") or "") if hasattr(prop, "params") else ""
            zone = zones.get(tzid) if tzid else None
            if tzid and zone is None:
                unknown.add(tzid)
                zone = ctx.default_tz
            for holder in _holders(prop):
                holder.dt = zoned(holder.dt, zone, walker, ctx.default_tz)
    if unknown:
        names = ", ".join(sorted(clean_line(u)[:60] for u in unknown))
        ctx.problem(comp, f"unknown time zone {names}; read in {ctx.default_tz.key}")


def _holders(prop: Any) -> list[Any]:
    """The value objects of a date property (one for DTSTART, several for EXDATE)."""
    try:
        return list(prop.dts)
    except Exception:  # a broken RDATE/EXDATE: recurring-ical-events reports it later
        return []


def _one(comp: Component, name: str) -> Any:
    prop = comp.get(name)
    if isinstance(prop, list):
        raise _Skip(f"{name} appears more than once")
    if prop is not None:
        try:
            prop.dt  # noqa: B018 - a broken value raises here
        except Exception as exc:
            raise _Skip(f"unreadable {name} ({brief_error(exc)})") from exc
    return prop


def _sequence(comp: Component) -> int:
    try:
        return int(str(comp.get("SEQUENCE", 0)))
    except ValueError:
        return 0
