"""Times and recurrences for the Calendar fake: EventDateTime parsing, the timeMin/timeMax
test, and the expansion of the simple RRULEs the tests use (DAILY/WEEKLY with INTERVAL and
COUNT or UNTIL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from .google_discovery import bad_request

Json = dict[str, Any]


def parse_when(value: Json, where: str) -> tuple[datetime, bool]:
    """An EventDateTime as an aware datetime (all-day dates at UTC midnight)."""
    if value.get("date"):
        return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), UTC), True
    raw = value.get("dateTime")
    if not raw:
        raise bad_request(f"Missing {where} time.", "required")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"Invalid {where} time.") from None
    if when.tzinfo is None:
        if not value.get("timeZone"):
            raise bad_request(f"Missing time zone definition for {where} time.", "required")
        when = when.replace(tzinfo=UTC)
    return when, False


def in_range(ev: Json, q: dict[str, Any]) -> bool:
    start, _ = parse_when(ev["start"], "start")
    end, _ = parse_when(ev["end"], "end")
    lo = datetime.fromisoformat(q["timeMin"]) if "timeMin" in q else None
    hi = datetime.fromisoformat(q["timeMax"]) if "timeMax" in q else None
    return (lo is None or end > lo) and (hi is None or start < hi)


def when_json(when: datetime, all_day: bool, like: Json) -> Json:
    if all_day:
        return {"date": when.date().isoformat()}
    out: Json = {"dateTime": when.isoformat()}
    if like.get("timeZone"):
        out["timeZone"] = like["timeZone"]
    return out


def rrule_starts(recurrence: list[str], start: datetime) -> list[datetime]:
    """DAILY/WEEKLY rules with INTERVAL and COUNT or UNTIL: enough for the tests' series."""
    rule = next((r[6:] for r in recurrence if r.startswith("RRULE:")), "")
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    step = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(weeks=1)}.get(parts.get("FREQ", ""))
    if step is None:
        raise bad_request(f"fake: unsupported recurrence {rule!r}")
    step *= int(parts.get("INTERVAL", "1"))
    count = int(parts.get("COUNT", "400"))
    until = parts.get("UNTIL")
    limit = datetime.strptime(until, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if until else None
    out: list[datetime] = []
    when = start
    while len(out) < min(count, 400) and (limit is None or when <= limit):
        out.append(when)
        when += step
    return out
