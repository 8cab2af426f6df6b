"""Time zones of an .ics file: which zone a TZID names, and times put in their zones.

A TZID is looked up as an IANA name, a Windows name (Outlook exports; the table icalendar
itself uses) or a ``/vendor/.../Area/City`` id, and only then built from the file's own
VTIMEZONE, per file: icalendar's shared cache would let one odd file change how every later
file of the daemon reads (``lookup_tzid=False``).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from inbox_followup.formats.ical_prescan import zone_rule_ok


def zoned(value: Any, zone: tzinfo | None, walker: Any, floating: tzinfo) -> Any:
    """A TZID's zone for its wall time; UTC and floating times -> X-WR-TIMEZONE (if any)."""
    if isinstance(value, tuple):  # RDATE;VALUE=PERIOD
        return tuple(zoned(v, zone, walker, floating) for v in value)
    if not isinstance(value, datetime):
        return value
    # A trailing Z wins over TZID. Asked only of zones that answer at once: the tzinfo icalendar
    # makes of a file's VTIMEZONE expands its RRULE from DTSTART (FREQ=MINUTELY: 169 s here).
    utc = isinstance(value.tzinfo, ZoneInfo | timezone) and value.tzname() == "UTC"
    if zone is not None and not utc:
        return value.replace(tzinfo=zone)
    if walker is not None:
        return walker.walk_value_datetime(value)
    return value.replace(tzinfo=floating) if value.tzinfo is None else value


class FileZones:
    """TZID -> tzinfo for one VCALENDAR: :func:`zone_named`, then the file's own VTIMEZONE."""

    def __init__(self, cal: Any) -> None:  # an icalendar Calendar
        self._defined = {str(c.get("TZID", "")): c for c in cal.subcomponents
                         if c.name == "VTIMEZONE"}
        self._known: dict[str, tzinfo | None] = {}

    def get(self, tzid: str) -> tzinfo | None:
        if tzid not in self._known:
            zone: tzinfo | None = zone_named(tzid)
            if zone is None and tzid in self._defined:
                defined = self._defined[tzid]
                try:  # lookup_tzid=False: build from this file, not icalendar's shared cache
                    if all(zone_rule_ok(rule, part["DTSTART"].dt) for part in defined.subcomponents
                           for rule in _rules(part)):
                        zone = defined.to_tz(lookup_tzid=False)
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


def _rules(part: Any) -> list[Any]:
    """The RRULEs of a VTIMEZONE's STANDARD or DAYLIGHT part."""
    rules = part.get("RRULE")
    return [] if rules is None else rules if isinstance(rules, list) else [rules]
