"""Dates written in words, read against a reference day (pure): "decision by Dec 4",
"12/04", "2026-12-04", "next Friday", "within two weeks", "end of next week", "back on the
5th". Shared by the notes reader (:mod:`inbox_followup.core.notes`) and the reply classifier
(:mod:`inbox_followup.core.replies`); the reference date is always passed in.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY = (
    r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "a couple of": 2,
}  # fmt: skip
_AMOUNT = (
    r"(?P<n>\d{1,2}|a\s+couple\s+of|couple\s+of|an?|one|two|three|four|five|six|seven|eight"
    r"|nine|ten)"
)

# Order matters: earlier patterns win where spans overlap (a weekday inside "Monday, May 5"
# belongs to the month-name date, not to a bare weekday).
_DATE_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pat, re.IGNORECASE))
    for kind, pat in (
        ("month_day", rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_MONTH}\s+{_DAY}\b{_YEAR}"),
        ("day_month",
         rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w){_YEAR}"),
        ("iso", r"\b(?P<year>\d{4})-(?P<a>\d{1,2})-(?P<b>\d{1,2})\b"),
        ("numeric",
         r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?(?![\d/])"),
        ("dotted", r"(?<![\d.])(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<year>\d{4})(?![\d.])"),
        ("relative", rf"\b(?:within|in)\s+(?:the\s+next\s+)?{_AMOUNT}\s+"
                     r"(?P<unit>(?:business\s+|working\s+)?days?|weeks?)\b"),
        ("end_of", r"\bend\s+of\s+(?P<which>the|this|next)\s+(?P<unit>week|month)\b"),
        ("tomorrow", r"\btomorrow\b"),
        ("weekday", rf"\b(?:next\s+)?{_WEEKDAY}(?!\w)"),
        ("nth", r"\bthe\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b"),
    )
)


@dataclass(frozen=True)
class DateMention:
    """One date found in a text, with where it was found (``text[start:end]``)."""

    when: date
    start: int
    end: int


def format_day(d: date) -> str:
    """``Thursday, December 3``: English names, independent of the process locale."""
    weekday = (
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
    )[d.weekday()]  # fmt: skip
    month = (
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December",
    )[d.month - 1]  # fmt: skip
    return f"{weekday}, {month} {d.day}"


def _safe_date(year: int, month: int, day: int) -> date | None:
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def _next_month_day(month: int, day: int, reference: date) -> date | None:
    """The first ``month``/``day`` on or after ``reference`` (a year later at most; Feb 29
    looks four years ahead)."""
    for year in range(reference.year, reference.year + 5):
        found = _safe_date(year, month, day)
        if found is not None and found >= reference:
            return found
    return None


def _next_day_of_month(day: int, reference: date) -> date | None:
    """The first date on or after ``reference`` whose day of the month is ``day``."""
    year, month = reference.year, reference.month
    for _ in range(13):
        found = _safe_date(year, month, day)
        if found is not None and found >= reference:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def add_days(day: date, days: int) -> date | None:
    """``day`` moved by ``days``; None past the calendar's end (year 9999), never raising."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _add_business_days(reference: date, n: int) -> date | None:
    current: date | None = reference
    while n > 0 and current is not None:
        current = add_days(current, 1)
        if current is not None and current.weekday() < 5:
            n -= 1
    return current


def _year_of(raw: str | None) -> int | None:
    if raw is None:
        return None
    year = int(raw)
    return 2000 + year if year < 100 else year


def _numeric(a: int, b: int, year: int | None, reference: date) -> date | None:
    """``12/04``: month first (US use) unless the first number cannot be a month."""
    month, day = (a, b) if a <= 12 else (b, a)
    if year is None and (a, b) == (24, 7):  # "available 24/7" is not July 24
        return None
    if year is not None:
        return _safe_date(year, month, day)
    return _next_month_day(month, day, reference)


def _relative(m: re.Match[str], reference: date) -> date | None:
    raw = " ".join(m.group("n").lower().split())
    n = int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw, 0)
    unit = m.group("unit").lower()
    if unit.startswith("week"):
        return add_days(reference, 7 * n)
    if unit.startswith(("business", "working")):
        return _add_business_days(reference, n)
    return add_days(reference, n)


def _end_of(m: re.Match[str], reference: date) -> date | None:
    which, unit = m.group("which").lower(), m.group("unit").lower()
    if unit == "month":
        if which == "next":
            year, month = (
                (reference.year + 1, 1) if reference.month == 12 else
                (reference.year, reference.month + 1)
            )  # fmt: skip
        else:
            year, month = reference.year, reference.month
        return _safe_date(year, month, monthrange(year, month)[1])
    friday = add_days(reference, (4 - reference.weekday()) % 7)
    if friday is None:
        return None
    return add_days(friday, 7) if which == "next" else friday


def _weekday_after(wd: str, reference: date) -> date | None:
    """The first such weekday strictly after ``reference`` ("next Friday" said on a
    Wednesday is read as the coming Friday, the earlier of the two readings)."""
    target = _WEEKDAYS.index(wd[:3].lower())
    ahead = (target - reference.weekday()) % 7 or 7
    return add_days(reference, ahead)


def _resolve(kind: str, m: re.Match[str], reference: date) -> date | None:
    groups = m.groupdict()
    if kind in ("month_day", "day_month"):
        month, day = _MONTHS[m.group("mon")[:3].lower()], int(m.group("day"))
        year = _year_of(groups.get("year"))
        return (
            _safe_date(year, month, day) if year else _next_month_day(month, day, reference)
        )
    if kind == "iso":
        return _safe_date(int(m.group("year")), int(m.group("a")), int(m.group("b")))
    if kind == "numeric":
        return _numeric(int(m.group("a")), int(m.group("b")), _year_of(groups.get("year")),
                        reference)
    if kind == "dotted":  # 04.12.2026: day first, as everywhere dots are used
        return _safe_date(int(m.group("year")), int(m.group("b")), int(m.group("a")))
    if kind == "relative":
        return _relative(m, reference)
    if kind == "end_of":
        return _end_of(m, reference)
    if kind == "tomorrow":
        return add_days(reference, 1)
    if kind == "weekday":
        return _weekday_after(m.group("wd"), reference)
    return _next_day_of_month(int(m.group("day")), reference)  # "the 5th"


def date_mentions(text: str, reference: date) -> list[DateMention]:
    """Every date phrase in ``text``, resolved against ``reference``, in text order.

    Phrases without a year resolve to the first such date on or after ``reference``;
    weekdays to the first one strictly after it. Phrases that name no real date
    ("Feb 30") are left out. Never raises.
    """
    taken = bytearray(len(text))  # 1 where an earlier pattern already found a date
    found: list[DateMention] = []
    for kind, pattern in _DATE_RES:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(taken[start:end]):
                continue
            when = _resolve(kind, m, reference)
            if when is not None:
                taken[start:end] = b"\x01" * (end - start)
                found.append(DateMention(when, start, end))
    return sorted(found, key=lambda d: d.start)
