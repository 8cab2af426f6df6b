"""iCalendar in and out, free of I/O: ``.ics`` bytes -> :class:`CalendarEvent`, reminders -> bytes.

Reading is built on icalendar (RFC 5545 parsing), x-wr-timezone (Google's X-WR-TIMEZONE) and
recurring-ical-events (RRULE/RDATE/EXDATE/RECURRENCE-ID expansion). Four things are done here
rather than left to those libraries, each for a reason:

* A line-level pre-scan keeps only the VEVENTs that can touch the sync window (plus every
  member of a recurring series) and only the properties we read. icalendar 7 walks each
  content line character by character in Python (``Contentline.raw_parts``): a 5,000-event
  Google export (4.5 MB) took 4.4 s in full; trimmed to a 240-day window, about 1 s.
* Time zones are resolved per file (``ical_zones``: IANA name, Windows name,
  ``/vendor/Area/City`` TZID, then the file's own VTIMEZONE). icalendar caches VTIMEZONE
  definitions of non-IANA TZIDs in a process-wide dict, first definition wins
  (``icalendar/timezone/tzp.py``,
  ``cache_timezone_component``), so one odd file would otherwise change how every later file
  of the daemon reads, and occurrence ids would drift between runs.
* Recurrence ids are UTC strings, so a moved occurrence keeps its id and ids survive reparses.
* Recurrence rules are bounded before anything expands them (``ical_prescan``): expansion
  cannot stop early; one VEVENT's RRULE:FREQ=MINUTELY made 259,260 occurrences (15 s, 662 MB)
  and one VTIMEZONE's took 343 s.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, vText

from inbox_followup.core.model import Attendee, CalendarEvent, Problem, SyncWindow
from inbox_followup.errors import ItemError
from inbox_followup.formats.ical_prescan import KEY_PROPERTY, prescan, series_refusal
from inbox_followup.formats.ical_zones import FileZones, zone_named, zoned

log = logging.getLogger(__name__)

_Comp = Any  # icalendar's component and property types are too loose for mypy to help here


# Unfolding as icalendar/parser/content_line.py does (UFOLD: line breaks, then a space or a
# tab), after CRLF -> LF: its look-behind pattern took 0.23 s on a 4.5 MB file, this 0.02 s.
_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")
_SERIES = frozenset({"RRULE", "RDATE", "EXRULE", "RECURRENCE-ID"})
_DT_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})


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
        ctx = _Ctx(source, window, default_tz, frozenset(a.lower() for a in self_addresses))
        return _parse(data, ctx)
    except ItemError:
        raise
    except Exception as exc:  # the contract: only ItemError leaves this function
        raise ItemError(source, f"cannot read the calendar ({brief_error(exc)})") from exc


@dataclass
class _Ctx:
    source: str
    window: SyncWindow
    default_tz: ZoneInfo
    self_addresses: frozenset[str]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, comp: Any, message: str) -> None:
        summary = _clean(str(comp.get("SUMMARY", "")))[:60]
        where = f"{self.source}: event '{summary}' ({_clean(str(comp.get('UID', '?')))[:80]})"
        self.problems.append(Problem(where=where, message=message))


def _parse(data: bytes, ctx: _Ctx) -> tuple[list[CalendarEvent], list[Problem]]:
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


def decode_bytes(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # old Outlook exports are Windows-1252
        text = data.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff \t\r\n")


# --- one VCALENDAR -----------------------------------------------------------------------------


def _calendar_events(cal: _Comp, ctx: _Ctx) -> list[CalendarEvent]:
    method = prop_text(cal, "METHOD").strip().upper()
    cal_zone = _calendar_zone(cal, ctx)
    # x-wr-timezone's walker, applied value by value: its to_standard() copies every changed
    # component, which cost 0.3 s on 5,000 events.
    walker = x_wr_timezone.UTCChangingWalker(cal_zone) if cal_zone is not None else None
    zones = FileZones(cal)
    good: list[_Comp] = []
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
    groups: dict[str, list[_Comp]] = {}
    for comp in good:
        groups.setdefault(str(comp["UID"]), []).append(comp)
    events: list[CalendarEvent] = []
    series: list[list[_Comp]] = []
    for members in groups.values():
        if any(_SERIES.intersection(m.keys()) for m in members):
            series.append(members)
            continue
        # The same UID twice without RECURRENCE-ID (an iTIP stream, say): the latest wins.
        comp = max(reversed(members), key=_sequence)
        try:
            events.extend(_single(comp, ctx, method))
        except Exception as exc:
            ctx.problem(comp, f"cannot read the event ({brief_error(exc)})")
    events.extend(_expand(series, ctx, method))
    return events


def _calendar_zone(cal: _Comp, ctx: _Ctx) -> ZoneInfo | None:
    """Google exports name the calendar's zone in X-WR-TIMEZONE and write times in UTC."""
    name = prop_text(cal, "X-WR-TIMEZONE").strip()
    if not name:
        return None
    zone = zone_named(name)
    if zone is None:
        ctx.problems.append(Problem(
            where=ctx.source,
            message=f"unknown X-WR-TIMEZONE '{_clean(name)[:60]}'; "
                    f"times without a zone are read in {ctx.default_tz.key}"))
    return zone


def _prepare(comp: _Comp, zones: FileZones, walker: Any, ctx: _Ctx) -> None:
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
        for prop in _as_list(comp.get(name)):
            tzid = str(prop.params.get("TZID") or "") if hasattr(prop, "params") else ""
            zone = zones.get(tzid) if tzid else None
            if tzid and zone is None:
                unknown.add(tzid)
                zone = ctx.default_tz
            for holder in _holders(prop):
                holder.dt = zoned(holder.dt, zone, walker, ctx.default_tz)
    if unknown:
        names = ", ".join(sorted(_clean(u)[:60] for u in unknown))
        ctx.problem(comp, f"unknown time zone {names}; read in {ctx.default_tz.key}")


def _holders(prop: Any) -> list[Any]:
    """The value objects of a date property (one for DTSTART, several for EXDATE)."""
    try:
        return list(prop.dts)
    except Exception:  # a broken RDATE/EXDATE: recurring-ical-events reports it later
        return []


def _one(comp: _Comp, name: str) -> Any:
    prop = comp.get(name)
    if isinstance(prop, list):
        raise _Skip(f"{name} appears more than once")
    if prop is not None:
        try:
            prop.dt  # noqa: B018 - a broken value raises here
        except Exception as exc:
            raise _Skip(f"unreadable {name} ({brief_error(exc)})") from exc
    return prop


# --- occurrences -------------------------------------------------------------------------------


def _single(comp: _Comp, ctx: _Ctx, method: str) -> list[CalendarEvent]:
    start = comp["DTSTART"].dt
    uid = str(comp["UID"])
    event = _event(comp, start, _end(comp, start), uid, uid, ctx, method)
    if event.end < ctx.window.start or event.start > ctx.window.end:
        return []
    return [event]


def _expand(groups: list[list[_Comp]], ctx: _Ctx, method: str) -> list[CalendarEvent]:
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


def _bounded(members: list[_Comp], ctx: _Ctx) -> bool:
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
            reason = series_refusal(_as_list(comp["RRULE"]), start, length, ctx.window)
        except Exception as exc:  # a FREQ, COUNT or DURATION that expansion would choke on too
            reason = f"cannot expand the recurring event ({brief_error(exc)})"
        if reason:
            ctx.problem(comp, reason)
            return False
    return True


def _occurrences(comps: list[_Comp], ctx: _Ctx, method: str) -> list[CalendarEvent]:
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


def _end(comp: _Comp, start: date) -> date:
    if "DTEND" in comp:
        return comp["DTEND"].dt  # type: ignore[no-any-return]
    if "DURATION" in comp:
        return start + comp["DURATION"].dt  # type: ignore[no-any-return]
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _stamp(value: date, ctx: _Ctx) -> str:
    """The original start as text: UTC date-time, or the bare date of an all-day occurrence."""
    if isinstance(value, datetime):
        v = (value if value.tzinfo else value.replace(tzinfo=ctx.default_tz)).astimezone(UTC)
        return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}Z"
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _event(comp: _Comp, start: date, end: date, uid: str, event_id: str, ctx: _Ctx,
           method: str) -> CalendarEvent:
    begin, finish = _instant(start, ctx), _instant(end, ctx)
    organizer = _as_list(comp.get("ORGANIZER"))
    key = comp.get(KEY_PROPERTY)
    return CalendarEvent(
        id=event_id, uid=uid, title=prop_text(comp, "SUMMARY"), start=begin, end=max(begin, finish),
        source=ctx.source, description=prop_text(comp, "DESCRIPTION"),
        location=prop_text(comp, "LOCATION"), all_day=not isinstance(start, datetime),
        status=_status(comp, method),
        organizer=_person(organizer[0], ctx, "ACCEPTED") if organizer else None,
        attendees=tuple(a for a in (_person(p, ctx, "NEEDS-ACTION")
                                    for p in _as_list(comp.get("ATTENDEE"))) if a is not None),
        key=unescape_text(key) if key is not None else None,
    )


def _instant(value: date, ctx: _Ctx) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=ctx.default_tz)
    if value.tzinfo is None:
        return value.replace(tzinfo=ctx.default_tz)
    # Keep IANA zones for display; any other tzinfo (a VTIMEZONE built from the file) -> UTC.
    return value if isinstance(value.tzinfo, ZoneInfo) else value.astimezone(UTC)


def _status(comp: _Comp, method: str) -> str:
    if method == "CANCEL":
        return "CANCELLED"
    status = prop_text(comp, "STATUS").strip().upper()
    return status if status in _STATUSES else "CONFIRMED"


def _person(prop: Any, ctx: _Ctx, partstat: str) -> Attendee | None:
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


def _sequence(comp: _Comp) -> int:
    try:
        return int(str(comp.get("SEQUENCE", 0)))
    except ValueError:
        return 0


# --- small helpers -----------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def prop_text(comp: _Comp, name: str) -> str:
    """The first value of property ``name`` as text ("" when absent)."""
    value = comp.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def unescape_text(value: Any) -> str:
    """X- properties come back raw (vUnknown): undo the TEXT escapes of RFC 5545 3.3.11."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, vText):
        return str(value)
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], str(value))


def _clean(text: str) -> str:
    """One line for a message: no control characters."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()


def brief_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_clean(str(exc))[:160]}"
