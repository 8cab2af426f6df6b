"""Cheap looks at .ics content before the expensive libraries see it.

:func:`prescan` works line by line before icalendar parses the text. It keeps only the VEVENTs
that can touch the sync window (plus every member of a recurring series, whose occurrences
may) and only the properties the product reads. icalendar 7 walks each content line character
by character in Python (``Contentline.raw_parts``): a 5,000-event Google export (4.5 MB) took
4.4 s in full; trimmed to a 240-day window, about 1 s.

:func:`series_refusal` and :func:`zone_rule_ok` bound what a parsed RRULE can cost before
recurring-ical-events or icalendar expands it (see the comment above them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from inbox_followup.core.dates import add_days
from inbox_followup.core.model import SyncWindow
from inbox_followup.errors import ItemError

KEY_PROPERTY = "X-INBOX-FOLLOWUP-KEY"

_UFOLD = re.compile(r"\n(?:\n*)[ \t]")
_BOUNDARY = re.compile(r"^(BEGIN|END):([^\n]*)", re.MULTILINE | re.IGNORECASE)
_WANTED = re.compile(r"^(UID|DTSTART|DTEND|DURATION)[;:][^\n]*", re.MULTILINE | re.IGNORECASE)
_SERIES_LINE = re.compile(r"^(?:RRULE|RDATE|EXRULE|RECURRENCE-ID)[;:]", re.M | re.I)
_PROP_NAME = re.compile(r"[A-Za-z0-9-]*")
_DATE_AT_END = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?\s*$")
_DURATION = re.compile(r"^\+?P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?"
                       r"(?:(\d{1,10})S)?)?$")
_KEEP = frozenset({
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID",
    "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "ORGANIZER", "ATTENDEE",
    KEY_PROPERTY,
})
_MARGIN = timedelta(days=2)  # any zone offset (<= 14 h) fits inside it


def _one_line(text: str) -> str:
    """One line for a message: no control characters."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()


# TEXT escapes are \\ \; \, \n and \N only (RFC 5545 3.3.11). Writers that escape a CRLF as
# "\r\n" leave a "\r" that icalendar keeps as a backslash and an r, which then ends up in a
# title or a company name. It is dropped here, on the escaped text, so that an escaped
# backslash before an r ("\\r": the user's own text) is left alone.
_CR_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\r(?=\\[nN])")


def prescan(text: str, window: SyncWindow, source: str) -> str:
    """Unfold, then drop what is never read: VEVENTs far outside the window (unless part of a
    series), VTODO/VJOURNAL/..., VALARMs and properties we do not use.

    Raises:
        ItemError: BEGIN/END do not balance (a truncated download, say).
    """
    text = _CR_ESCAPE.sub(r"\1", _UFOLD.sub("", text.replace("\r\n", "\n")))
    spans = _top_spans(text, window, source)
    metas = {s: _meta(text[s:e]) for s, e, kind in spans if kind == "VEVENT"}
    series = {uid for uid, is_series, _ in metas.values() if is_series and uid}
    low = (window.start.astimezone(UTC) - _MARGIN).date()
    high = (window.end.astimezone(UTC) + _MARGIN).date()
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


def _top_spans(text: str, window: SyncWindow, source: str) -> list[tuple[int, int, str]]:
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
            raise ItemError(source, f"'{_one_line(m[0])[:40]}' without a matching BEGIN")
        if opened is not None and depth == opened[1]:
            spans.append((opened[0], m.end(), opened[2]))
            opened = None
    if depth:
        raise ItemError(source, "the file ends inside a component (truncated?)")
    return spans


def _meta(block: str) -> tuple[str | None, bool, tuple[date, date] | None]:
    """UID, whether the VEVENT is part of a series, and its rough span in days (None: unknown)."""
    found = {m[1].upper(): m[0] for m in reversed(list(_WANTED.finditer(block)))}
    uid = found["UID"].partition(":")[2].strip() if "UID" in found else None
    start = _raw_date(found.get("DTSTART"))
    end = _raw_date(found["DTEND"]) if "DTEND" in found else start
    if "DURATION" in found:
        length = _raw_duration(found["DURATION"].partition(":")[2].strip())
        end = None if length is None or start is None else add_days(start, length.days + 1)
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


# --- what a recurrence rule can cost, before anything expands it -------------------------------
#
# recurring-ical-events has dateutil step through every start from DTSTART to the end of the
# query, then copies a component for each start in it. Its .between() returns them all as one
# list; .after() yields lazily, but each of its chunks (a day at first) is such a list too and
# steps from DTSTART again. Neither bounds the work, so a bound is worked out from the rule
# alone, and a series over it is named in a problem and never expanded. Measured on
# one "Interview" VEVENT with RRULE:FREQ=MINUTELY over the default 240-day window: 259,260
# occurrences, 15 s and 662 MB in parse_calendar alone (and 12 min in the whole sync). Stepping
# costs about 2.7 us a start: MINUTELY from 2020 took 8.6 s before the window even began.
# The bound is loose (filters such as BYDAY, BYMONTH and BYSETPOS only remove starts, so they
# are ignored) but never too low; tests/unit/test_ical.py checks that against the expansion.

SUBDAILY_MAX = 24  # starts in the window of a series that repeats within a day: hourly slots
WALK_MAX = 50_000  # starts from DTSTART to the window's end (about 0.15 s); daily from 1890
_STEP = {"HOURLY": 3_600, "MINUTELY": 60, "SECONDLY": 1}
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 28, "YEARLY": 365}  # the shortest ones
_CLOCK = (("BYHOUR", 24), ("BYMINUTE", 60), ("BYSECOND", 60))
# Rules step in wall-clock time, spans are measured in UTC: these cover the offset changing
# on the way (DST: an hour; a zone moving across the date line: a day) and partial periods.
_STEP_SLACK = 2 * 3_600
_PERIOD_SLACK = 3
_ZONES_END = datetime(2039, 1, 1, tzinfo=UTC)
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def series_refusal(rules: list[Any], dtstart: date, duration: timedelta,
                   window: SyncWindow) -> str | None:
    """Why the series of these RRULEs (icalendar's vRecur) is too costly to expand, or None.

    More than one start a day and more than :data:`SUBDAILY_MAX` in the window (no calendar
    app schedules interviews so), more than :data:`WALK_MAX` starts to step through, or more
    starts in the window than two daily series (a long DURATION makes every start overlap it).
    A rule icalendar could not read is refused too: dateutil may still read it ("UNTIL=2030-
    01-01"), and then nothing here would have bounded it.

    Raises:
        ValueError: a FREQ, INTERVAL or COUNT that cannot be read.
    """
    broken = [r for r in rules if not isinstance(r, Mapping)]
    if broken:
        return f"cannot read RRULE '{_one_line(str(broken[0]))[:80]}'"
    for rule in rules:
        why = never_matches(rule)
        if why:
            return f"can never occur (RRULE:{_rule_text(rule)}): {why}"
    first = _aware(dtstart, -1)
    # recurring-ical-events reaches back by the duration, for the starts that overlap the window
    low, high = window.start - max(duration, timedelta(0)) - timedelta(days=1), window.end
    per_day = sum(times_per_day(r) for r in rules)
    inside = sum(starts_between(r, first, low, high) for r in rules)
    walk = sum(starts_between(r, first, first, high) for r in rules)
    shown = "; ".join(_rule_text(r) for r in rules)
    if per_day > 1 and inside > SUBDAILY_MAX:
        return (f"repeats more than once a day (RRULE:{shown}), up to {inside:,} times in the "
                f"sync window; such a series is read only with at most {SUBDAILY_MAX} there "
                f"(interviews repeat at most daily)")
    if walk > WALK_MAX:
        return (f"repeats (RRULE:{shown}) from {dtstart.isoformat()[:10]}: up to {walk:,} "
                f"occurrences to step through, more than {WALK_MAX:,}")
    cap = 2 * ((window.end - window.start).days + 2)
    if inside > cap:
        return (f"repeats (RRULE:{shown}) up to {inside:,} times in the sync window, more than "
                f"{cap:,} (twice a daily series)")
    return None


# February at its longest: a rule is impossible only if no year at all has its day.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def never_matches(rule: Mapping[str, Any]) -> str | None:
    """Why no day can ever satisfy the rule's BY parts together, or None.

    dateutil looks for a rule's first start day by day up to the year 9999 and checks UNTIL
    only on a day that matched, so one such rule (30 February, a 7th Monday) costs about 3 s
    whatever the window: 100 of them in a file, 5 minutes. Only combinations that no year
    can satisfy are named; one that a leap year or a 28-year cycle satisfies is found soon.

    Raises:
        ValueError: a BY value that is not a number.
    """
    months = {int(str(m).rstrip("Ll")) for m in rule.get("BYMONTH") or ()} or set(range(1, 13))
    months &= set(range(1, 13))
    if not months:
        return "no BYMONTH is a month"
    monthdays = [int(d) for d in rule.get("BYMONTHDAY") or ()]
    if monthdays and not any(1 <= abs(d) <= _MONTH_DAYS[m - 1] for m in months for d in monthdays):
        return "no month it allows has a day it names (BYMONTHDAY)"
    yeardays = [int(d) for d in rule.get("BYYEARDAY") or ()]
    if yeardays and not any(_month_of_yearday(d, leap) in months
                            for d in yeardays for leap in (False, True)):
        return "no day it names of the year (BYYEARDAY) falls in a month it allows"
    within_month = _freq(rule) == "MONTHLY" or (_freq(rule) == "YEARLY" and rule.get("BYMONTH"))
    ordinals = [_ordinal(day) for day in rule.get("BYDAY") or ()]
    if ordinals and all(n and abs(n) > (5 if within_month else 53) for n in ordinals):
        return "no month or year has that many of the weekday it names (BYDAY)"
    positions = [int(p) for p in rule.get("BYSETPOS") or ()]
    if positions and _freq(rule) in _PERIOD_DAYS:
        most = _days_per_period(rule, _freq(rule)) * _clock(rule)[1]  # starts one period can hold
        if all(p == 0 or abs(p) > most for p in positions):
            return f"a period holds at most {most} starts, fewer than BYSETPOS asks for"
    return None


def _month_of_yearday(day: int, leap: bool) -> int | None:
    length = 366 if leap else 365
    if not 1 <= abs(day) <= length:
        return None
    first = date(2024 if leap else 2023, 1, 1)
    return (first + timedelta(days=day - 1 if day > 0 else length + day)).month


def _ordinal(weekday: Any) -> int:
    """The number before a BYDAY weekday (``-1FR`` -> -1), 0 when it has none."""
    found = re.match(r"\s*([+-]?\d+)", str(weekday))
    return int(found.group(1)) if found else 0


def zone_rule_ok(rule: Any, dtstart: date) -> bool:
    """Whether the RRULE of a VTIMEZONE's STANDARD/DAYLIGHT part may be expanded.

    icalendar expands it in full when it builds the zone, to 2038 when the rule is open-ended:
    a VTIMEZONE with RRULE:FREQ=MINUTELY took 343 s. Real ones recur yearly (RFC 5545 3.6.5).
    """
    if not isinstance(rule, Mapping) or _freq(rule) != "YEARLY":
        return False
    first = _aware(dtstart, -1)
    last = _END_OF_TIME if rule.get("UNTIL") or rule.get("COUNT") else _ZONES_END
    return starts_between(rule, first, first, last) <= WALK_MAX


def times_per_day(rule: Mapping[str, Any]) -> int:
    """At most how many starts the rule puts on one day."""
    walked, each = _clock(rule)
    return walked * each


def starts_between(rule: Mapping[str, Any], dtstart: datetime, low: datetime,
                   high: datetime) -> int:
    """At most how many starts the rule, from ``dtstart``, makes from ``low`` to ``high``."""
    until = _until(rule)
    low, high = max(low, dtstart), high if until is None else min(high, until)
    if high < low:
        return 0
    seconds = (high - low).total_seconds()
    walked, each = _clock(rule)
    bound = (int(seconds // 86_400) + _PERIOD_SLACK) * walked * each  # by the days it touches
    freq = _freq(rule)
    if freq in _STEP:
        steps = int((seconds + _STEP_SLACK) // (_STEP[freq] * _interval(rule))) + 2
        bound = min(bound, steps * each)
    else:
        periods = int(seconds // (_PERIOD_DAYS[freq] * _interval(rule) * 86_400)) + _PERIOD_SLACK
        bound = min(bound, periods * _days_per_period(rule, freq) * each)
    count = _integer(rule, "COUNT")
    return min(bound, count) if count > 0 else bound  # recurring-ical-events drops COUNT<=0


def _clock(rule: Mapping[str, Any]) -> tuple[int, int]:
    """(times of day FREQ steps through, starts each of those makes) for one day."""
    freq = _freq(rule)
    stepped = {"HOURLY": 1, "MINUTELY": 2, "SECONDLY": 3}.get(freq, 0)
    counts = [len(set(rule.get(part) or ())) or (full if i < stepped else 1)
              for i, (part, full) in enumerate(_CLOCK)]
    walked = math.prod(counts[:stepped])
    if stepped:  # INTERVAL=30 with FREQ=MINUTELY: at most 48 a day, whatever BYMINUTE says
        walked = min(walked, -(-86_400 // (_STEP[freq] * _interval(rule))))
    return walked, math.prod(counts[stepped:])


def _days_per_period(rule: Mapping[str, Any], freq: str) -> int:
    """At most how many days of one DAILY/WEEKLY/MONTHLY/YEARLY period have starts.

    As dateutil reads a rule: without a day-level BY part the day is DTSTART's; with one, every
    day of the period that it allows (BYMONTHDAY in a WEEKLY rule selects from all seven).
    """
    if freq == "DAILY":
        return 1
    byday, bymonthday = (len(set(rule.get(p) or ())) for p in ("BYDAY", "BYMONTHDAY"))
    if rule.get("BYYEARDAY") or rule.get("BYWEEKNO"):
        return {"WEEKLY": 7, "MONTHLY": 31}.get(freq, 366)
    if freq == "WEEKLY":
        return min(7, byday) if byday else (7 if bymonthday else 1)
    months = 1 if freq == "MONTHLY" else (
        len(set(rule.get("BYMONTH") or ())) or (12 if byday or bymonthday else 1))
    if not (byday or bymonthday):
        return months
    return months * min(31, bymonthday or 31, 5 * byday or 31)  # a weekday: 5 times a month


def _freq(rule: Mapping[str, Any]) -> str:
    freq = str((rule.get("FREQ") or [""])[0]).upper()
    if freq not in _STEP and freq not in _PERIOD_DAYS:
        raise ValueError(f"unknown FREQ '{_one_line(freq)[:20]}'")
    return freq


def _interval(rule: Mapping[str, Any]) -> int:
    return max(1, _integer(rule, "INTERVAL"))


def _integer(rule: Mapping[str, Any], name: str) -> int:
    values = rule.get(name) or [0]
    return int(values[0])


def _until(rule: Mapping[str, Any]) -> datetime | None:
    values = rule.get("UNTIL") or ()
    return _aware(values[0], +2) if values else None


def _aware(value: date, days: int) -> datetime:
    """A UTC instant; a date or a floating time moves ``days`` out, past any zone (-12 to +14 h)."""
    try:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        day = value.date() if isinstance(value, datetime) else value
        return datetime.combine(day, time(), UTC) + timedelta(days=days)
    except OverflowError:  # near 0001-01-01 or 9999-12-31: the end of time in that direction
        return datetime.min.replace(tzinfo=UTC) if days < 0 else _END_OF_TIME


def _rule_text(rule: Mapping[str, Any]) -> str:
    to_ical = getattr(rule, "to_ical", None)
    text = to_ical().decode("utf-8", "replace") if to_ical else str(rule)
    return _one_line(text)[:80]
