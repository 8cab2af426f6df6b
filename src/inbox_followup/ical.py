"""iCalendar in and out, free of I/O: ``.ics`` bytes -> :class:`CalendarEvent`, reminders -> bytes.

Reading is built on icalendar (RFC 5545 parsing), x-wr-timezone (Google's X-WR-TIMEZONE) and
recurring-ical-events (RRULE/RDATE/EXDATE/RECURRENCE-ID expansion). Three things are done here
rather than left to those libraries, each for a reason:

* A line-level pre-scan keeps only the VEVENTs that can touch the sync window (plus every
  member of a recurring series) and only the properties we read. icalendar 7 walks each
  content line character by character in Python (``Contentline.raw_parts``): a 5,000-event
  Google export (4.5 MB) took 4.4 s in full; trimmed to a 240-day window, about 1 s.
* Time zones are resolved per file (IANA name, Windows name, ``/vendor/Area/City`` TZID, then
  the file's own VTIMEZONE). icalendar caches VTIMEZONE definitions of non-IANA TZIDs in a
  process-wide dict, first definition wins (``icalendar/timezone/tzp.py``,
  ``cache_timezone_component``), so one odd file would otherwise change how every later file
  of the daemon reads, and occurrence ids would drift between runs.
* Recurrence ids are UTC strings, so a moved occurrence keeps its id and ids survive reparses.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Alarm, Calendar, Event, vText
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .errors import ItemError
from .model import Attendee, CalendarEvent, Problem, ReminderContent, SyncWindow

log = logging.getLogger(__name__)

_Comp = Any  # icalendar's component and property types are too loose for mypy to help here

KEY_PROPERTY = "X-INBOX-FOLLOWUP-KEY"
CALENDAR_NAME = "Interview follow-ups"
REMINDER_LENGTH = timedelta(minutes=15)

# Unfolding as icalendar/parser/content_line.py does (UFOLD: line breaks, then a space or a
# tab), after CRLF -> LF: its look-behind pattern took 0.23 s on a 4.5 MB file, this 0.02 s.
_UFOLD = re.compile(r"\n(?:\n*)[ \t]")
_BOUNDARY = re.compile(r"^(BEGIN|END):([^\n]*)", re.MULTILINE | re.IGNORECASE)
_WANTED = re.compile(r"^(UID|DTSTART|DTEND|DURATION)[;:][^\n]*", re.MULTILINE | re.IGNORECASE)
_SERIES_LINE = re.compile(r"^(?:RRULE|RDATE|EXRULE|RECURRENCE-ID)[;:]", re.M | re.I)
_PROP_NAME = re.compile(r"[A-Za-z0-9-]*")
_DATE_AT_END = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?\s*$")
_DURATION = re.compile(r"^\+?P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?"
                       r"(?:(\d{1,10})S)?)?$")
_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_KEEP = frozenset({
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID",
    "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "ORGANIZER", "ATTENDEE",
    KEY_PROPERTY,
})
_SERIES = frozenset({"RRULE", "RDATE", "EXRULE", "RECURRENCE-ID"})
_DT_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
_MARGIN = timedelta(days=2)  # any zone offset (<= 14 h) fits inside it


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
        raise ItemError(source, f"cannot read the calendar ({_brief(exc)})") from exc


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
    text = _prescan(_decode(data), ctx)
    try:
        tops = Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise ItemError(ctx.source, f"not a valid iCalendar file ({_brief(exc)})") from exc
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


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # old Outlook exports are Windows-1252
        text = data.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff \t\r\n")


# --- the pre-scan ------------------------------------------------------------------------------


def _prescan(text: str, ctx: _Ctx) -> str:
    """Unfold, then drop what is never read: VEVENTs far outside the window (unless part of a
    series), VTODO/VJOURNAL/..., VALARMs and properties we do not use.

    Raises:
        ItemError: BEGIN/END do not balance (a truncated download, say).
    """
    text = _UFOLD.sub("", text.replace("\r\n", "\n"))
    spans = _top_spans(text, ctx)
    metas = {s: _meta(text[s:e]) for s, e, kind in spans if kind == "VEVENT"}
    series = {uid for uid, is_series, _ in metas.values() if is_series and uid}
    low = (ctx.window.start.astimezone(UTC) - _MARGIN).date()
    high = (ctx.window.end.astimezone(UTC) + _MARGIN).date()
    out, pos = [], 0
    for s, e, kind in spans:
        out.append(text[pos:s])
        pos = e
        if kind == "VEVENT":
            uid, is_series, span = metas[s]
            if is_series or uid in series or span is None or (span[1] >= low and span[0] <= high):
                out.append(_slim(text[s:e]))
    out.append(text[pos:])
    return "".join(out)


def _top_spans(text: str, ctx: _Ctx) -> list[tuple[int, int, str]]:
    """(start, end, "VEVENT" | "SKIP") of each component directly under VCALENDAR (or bare)."""
    spans: list[tuple[int, int, str]] = []
    depth, opened = 0, None
    for m in _BOUNDARY.finditer(text):
        if m[1].upper() == "BEGIN":
            name = m[2].strip().upper()
            if opened is None and depth <= 1 and name not in ("VCALENDAR", "VTIMEZONE"):
                opened = (m.start(), depth, "VEVENT" if name == "VEVENT" else "SKIP")
            depth += 1
            continue
        depth -= 1
        if depth < 0:
            raise ItemError(ctx.source, f"'{_clean(m[0])[:40]}' without a matching BEGIN")
        if opened is not None and depth == opened[1]:
            spans.append((opened[0], m.end(), opened[2]))
            opened = None
    if depth:
        raise ItemError(ctx.source, "the file ends inside a component (truncated?)")
    return spans


def _meta(block: str) -> tuple[str | None, bool, tuple[date, date] | None]:
    """UID, whether the VEVENT is part of a series, and its rough span in days (None: unknown)."""
    found = {m[1].upper(): m[0] for m in reversed(list(_WANTED.finditer(block)))}
    uid = found["UID"].partition(":")[2].strip() if "UID" in found else None
    start = _raw_date(found.get("DTSTART"))
    end = _raw_date(found["DTEND"]) if "DTEND" in found else start
    if "DURATION" in found:
        length = _raw_duration(found["DURATION"].partition(":")[2].strip())
        end = None if length is None or start is None else _add_days(start, length.days + 1)
    span = (start, max(start, end)) if start is not None and end is not None else None
    return uid, bool(_SERIES_LINE.search(block)), span


def _slim(block: str) -> str:
    lines = block.split("\n")
    kept, depth = [lines[0]], 0
    for line in lines[1:-1]:
        head = line[:6].upper()
        if head == "BEGIN:":
            depth += 1
        elif head[:4] == "END:":
            depth -= 1
        elif (depth == 0 and not line.endswith(":")  # an empty value says nothing
              and _PROP_NAME.match(line)[0].upper() in _KEEP):  # type: ignore[index]
            kept.append(line)
    kept.append(lines[-1])
    return "\n".join(kept)


def _raw_date(line: str | None) -> date | None:
    match = _DATE_AT_END.search(line or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _raw_duration(value: str) -> timedelta | None:
    match = _DURATION.match(value.upper())
    if not match or not any(match.groups()):
        return None
    w, d, h, m, s = (int(g or 0) for g in match.groups())
    try:
        return timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)
    except OverflowError:
        return None


def _add_days(day: date, days: int) -> date | None:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


# --- one VCALENDAR -----------------------------------------------------------------------------


def _calendar_events(cal: _Comp, ctx: _Ctx) -> list[CalendarEvent]:
    method = _text(cal, "METHOD").strip().upper()
    cal_zone = _calendar_zone(cal, ctx)
    # x-wr-timezone's walker, applied value by value: its to_standard() copies every changed
    # component, which cost 0.3 s on 5,000 events.
    walker = x_wr_timezone.UTCChangingWalker(cal_zone) if cal_zone is not None else None
    zones = _Zones(cal)
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
            ctx.problem(comp, f"cannot read the event ({_brief(exc)})")
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
            ctx.problem(comp, f"cannot read the event ({_brief(exc)})")
    events.extend(_expand(series, ctx, method))
    return events


def _calendar_zone(cal: _Comp, ctx: _Ctx) -> ZoneInfo | None:
    """Google exports name the calendar's zone in X-WR-TIMEZONE and write times in UTC."""
    name = _text(cal, "X-WR-TIMEZONE").strip()
    if not name:
        return None
    zone = zone_named(name)
    if zone is None:
        ctx.problems.append(Problem(
            where=ctx.source,
            message=f"unknown X-WR-TIMEZONE '{_clean(name)[:60]}'; "
                    f"times without a zone are read in {ctx.default_tz.key}"))
    return zone


def _prepare(comp: _Comp, zones: _Zones, walker: Any, ctx: _Ctx) -> None:
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
    if not _text(comp, "UID").strip():  # stable across reparses: what the event says, where
        basis = "\n".join((ctx.source, repr(start.to_ical()), str(start.params.get("TZID")),
                           _text(comp, "SUMMARY")))
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
                holder.dt = _zoned(holder.dt, zone, walker, ctx.default_tz)
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
            raise _Skip(f"unreadable {name} ({_brief(exc)})") from exc
    return prop


def _zoned(value: Any, zone: tzinfo | None, walker: Any, floating: tzinfo) -> Any:
    """A TZID's zone for its wall time; UTC and floating times -> X-WR-TIMEZONE (if any)."""
    if isinstance(value, tuple):  # RDATE;VALUE=PERIOD
        return tuple(_zoned(v, zone, walker, floating) for v in value)
    if not isinstance(value, datetime):
        return value
    utc = value.tzinfo is not None and value.tzname() == "UTC"  # a trailing Z wins over TZID
    if zone is not None and not utc:
        return value.replace(tzinfo=zone)
    if walker is not None:
        return walker.walk_value_datetime(value)
    return value.replace(tzinfo=floating) if value.tzinfo is None else value


class _Zones:
    """TZID -> tzinfo for one VCALENDAR: :func:`zone_named`, then the file's own VTIMEZONE."""

    def __init__(self, cal: _Comp) -> None:
        self._defined = {str(c.get("TZID", "")): c for c in cal.subcomponents
                         if c.name == "VTIMEZONE"}
        self._known: dict[str, tzinfo | None] = {}

    def get(self, tzid: str) -> tzinfo | None:
        if tzid not in self._known:
            zone: tzinfo | None = zone_named(tzid)
            if zone is None and tzid in self._defined:
                try:  # lookup_tzid=False: build from this file, not icalendar's shared cache
                    zone = self._defined[tzid].to_tz(lookup_tzid=False)
                except Exception:
                    zone = None
            self._known[tzid] = zone
        return self._known[tzid]


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone for an IANA name, a Windows name or a ``/vendor/.../Area/City`` TZID."""
    cleaned = name.strip().strip('"').strip("/")
    candidates = [cleaned]
    if cleaned in WINDOWS_TO_OLSON:  # the table icalendar itself uses
        candidates.append(WINDOWS_TO_OLSON[cleaned])
    if name.strip().startswith("/"):  # RFC 5545 3.2.19 globally unique ids (libical, Lightning)
        parts = cleaned.split("/")
        candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        try:
            return ZoneInfo(candidate)
        except Exception:  # not found, or not a valid key at all
            continue
    return None


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
            ctx.problem(group[0], f"cannot expand the recurring event ({_brief(exc)})")
    return events


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
        id=event_id, uid=uid, title=_text(comp, "SUMMARY"), start=begin, end=max(begin, finish),
        source=ctx.source, description=_text(comp, "DESCRIPTION"),
        location=_text(comp, "LOCATION"), all_day=not isinstance(start, datetime),
        status=_status(comp, method),
        organizer=_person(organizer[0], ctx, "ACCEPTED") if organizer else None,
        attendees=tuple(a for a in (_person(p, ctx, "NEEDS-ACTION")
                                    for p in _as_list(comp.get("ATTENDEE"))) if a is not None),
        key=_unescape(key) if key is not None else None,
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
    status = _text(comp, "STATUS").strip().upper()
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


def _text(comp: _Comp, name: str) -> str:
    value = comp.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _unescape(value: Any) -> str:
    """X- properties come back raw (vUnknown): undo the TEXT escapes of RFC 5545 3.3.11."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, vText):
        return str(value)
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], str(value))


def _clean(text: str) -> str:
    """One line for a message: no control characters."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_clean(str(exc))[:160]}"


# --- the reminders calendar --------------------------------------------------------------------


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
        comps = Calendar.from_ical(_decode(data), multiple=True)
    except Exception as exc:
        raise ItemError("reminders calendar", f"not an iCalendar file ({_brief(exc)})") from exc
    found: dict[str, ReminderContent] = {}
    for comp in comps:
        for event in _walk_events(comp):
            try:
                key, content = _reminder_from(event)
            except Exception as exc:
                log.warning("reminders calendar: skipping an event (%s)", _brief(exc))
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
        title=_text(event, "SUMMARY"), description=_text(event, "DESCRIPTION"),
        start=start.astimezone(UTC),
    )
    for alarm in (c for c in event.subcomponents if c.name == "VALARM" and "TRIGGER" in c):
        trigger = alarm["TRIGGER"].dt
        before = (start - trigger) if isinstance(trigger, datetime) else -trigger
        content = ReminderContent(content.title, content.description, content.start,
                                  round(before.total_seconds() / 60))
        break
    return (_unescape(raw_key) if raw_key is not None else None), content
