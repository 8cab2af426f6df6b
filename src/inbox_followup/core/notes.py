"""What the user wrote after an interview, read back into :class:`~inbox_followup.model.Notes`.

The notes reminder's description is :data:`NOTES_PROMPTS`: one intro line and one labelled
prompt per line. The user types answers after a prompt's colon or on the lines below it, from
any calendar app, or deletes the prompts and writes free text. :func:`parse_notes` reads both.

This module also holds the date-phrase reader shared with :mod:`inbox_followup.replies`
(:func:`date_mentions`): "decision by Dec 4", "12/04", "2026-12-04", "next Friday",
"within two weeks", "back on the 5th". Pure: the reference date is always passed in.
"""

from __future__ import annotations

import html
import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from inbox_followup.core.model import Notes

NOTES_INTRO = "Type your notes under each line; inbox-followup reads them back."

# (section, label shown in the reminder, pattern that recognises the label when read back;
# the patterns are loose so that a label the user shortened or retyped still counts).
_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("went_well", "What went well:", r"what\s+went\s+well"),
    (
        "went_badly",
        "What did not:",
        r"what\s+(?:did\s+not|didn't)(?:\s+go\s+(?:so\s+)?well)?|what\s+went\s+(?:badly|wrong)",
    ),
    (
        "stood_out",
        "What stood out (mention it in the thank-you):",
        r"(?:what\s+)?stood\s+out(?:\s*\([^)]*\))?|talking\s+points?",
    ),
    (
        "forgot",
        "What you forgot to mention:",
        r"(?:what\s+(?:you|i)\s+)?forgot(?:\s+to\s+(?:mention|say))?",
    ),
    (
        "next_steps",
        "Next steps and decision date:",
        r"next\s+steps?(?:\s+and\s+decision\s+date)?|decision\s+date",
    ),
    (
        "contact",
        "How they want to be contacted:",
        r"how\s+(?:they|to)\s+(?:want\s+(?:me\s+)?to\s+be\s+)?contact(?:ed)?(?:\s+them)?"
        r"|contact(?:\s+preference)?",
    ),
)

NOTES_PROMPTS: str = "\n".join([NOTES_INTRO, *(label for _, label, _ in _SECTIONS)])

_BULLET = r"(?:[-*\u2022>]+\s*|\d{1,2}[.)]\s+)?"
# A label line: the label, then a colon and maybe an answer, or nothing else at all.
_LABEL_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"^\s*{_BULLET}(?:{pat})\s*(?::\s*(?P<rest>.*)|$)", re.IGNORECASE))
    for name, _, pat in _SECTIONS
)
_INTRO_RE = re.compile(r"^\s*type\s+your\s+notes\b", re.IGNORECASE)

_MAX_ITEM = 300

# ---------------------------------------------------------------------------------------
# Dates

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


def _add(reference: date, days: int) -> date | None:
    try:
        return reference + timedelta(days=days)
    except OverflowError:
        return None


def _add_business_days(reference: date, n: int) -> date | None:
    current: date | None = reference
    while n > 0 and current is not None:
        current = _add(current, 1)
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
        return _add(reference, 7 * n)
    if unit.startswith(("business", "working")):
        return _add_business_days(reference, n)
    return _add(reference, n)


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
    friday = _add(reference, (4 - reference.weekday()) % 7)
    if friday is None:
        return None
    return _add(friday, 7) if which == "next" else friday


def _weekday_after(wd: str, reference: date) -> date | None:
    """The first such weekday strictly after ``reference`` ("next Friday" said on a
    Wednesday is read as the coming Friday, the earlier of the two readings)."""
    target = _WEEKDAYS.index(wd[:3].lower())
    ahead = (target - reference.weekday()) % 7 or 7
    return _add(reference, ahead)


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
        return _add(reference, 1)
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


# ---------------------------------------------------------------------------------------
# Notes

_DECISION_CUE = re.compile(
    r"(decid|decision|hear\b|heard\b|back\b|by\b|within\b|next\s+step|let\s+(?:me|us|you)\s+know"
    r"|get\s+back|respond|update|timeline|time\s*frame|expect|until\b|before\b)",
    re.IGNORECASE,
)
_FEW_DAYS = re.compile(r"\bfew\s+days\b|\bcouple\s+(?:of\s+)?days\b", re.IGNORECASE)
_EMAIL_ONLY = re.compile(
    r"\be-?mail\s+only\b|\bonly\s+(?:by\s+|via\s+|through\s+)?e-?mail\b"
    r"|\b(?:don't|do\s+not|please\s+don't|never)\s+(?:phone|call)\b|\bno\s+(?:phone\s+)?calls\b",
    re.IGNORECASE,
)
_MENTIONS_EMAIL = re.compile(r"\be-?mail\b", re.IGNORECASE)
_MENTIONS_PHONE = re.compile(r"\b(?:call|calls|phone|ring|text)\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+/.-])(\+?\(?\d[\d ().-]{5,20}\d)(?![\w/])")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_STOOD_OUT_LINE = re.compile(
    r"^(?:what\s+)?(?:really\s+)?stood\s+out(?:\s+(?:to\s+me|was|were))*\s*[:\-]?\s*(?P<a>.+)$"
    r"|^(?P<b>.+?)\s+(?:really\s+)?stood\s+out(?:\s+to\s+me)?[.!]*$",
    re.IGNORECASE,
)
_FORGOT_LINE = re.compile(
    r"^(?:i\s+)?forgot(?:\s+to\s+(?:mention|say|tell\s+them))?(?:\s+(?:that|about))?"
    r"\s*[:\-]?\s*(?P<a>.+)$",
    re.IGNORECASE,
)
_HTML_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li)\s*/?\s*>", re.IGNORECASE)
# Only real markup: "<jane@acme.com>" or "<3" in a note must survive.
_HTML_TAG = re.compile(
    r"</?(?:br|p|div|span|b|i|u|strong|em|a|ul|ol|li|html|body|font|h[1-6])\b[^<>]{0,200}>",
    re.IGNORECASE,
)


def _clean(line: str) -> str:
    line = re.sub(rf"^\s*{_BULLET}", "", line)
    line = " ".join(line.split()).strip(" ;,")
    return line[:_MAX_ITEM]


def _plain(text: str) -> str:
    """Calendar apps may store a description as HTML (Google Calendar's web editor does)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2019", "'")
    if _HTML_TAG.search(text):
        text = _HTML_TAG.sub("", _HTML_BREAK.sub("\n", text))
        text = html.unescape(text)
    return text


def _sections(text: str) -> tuple[dict[str, list[str]], list[str], str]:
    """Answers by section, the free-text lines outside any section, and the notes as text
    (answers and free text in the user's order; a label kept only when it was answered)."""
    answers: dict[str, list[str]] = {name: [] for name, _, _ in _SECTIONS}
    free: list[str] = []
    out: list[str] = []
    pending_label: str | None = None
    current: str | None = None
    for raw in text.split("\n"):
        if _INTRO_RE.match(raw):
            continue
        for name, pattern in _LABEL_RES:
            m = pattern.match(raw)
            if m:
                current, pending_label = name, _clean(raw)
                rest = _clean(m.group("rest") or "")
                if rest:
                    answers[name].append(rest)
                    out.append(pending_label)
                    pending_label = None
                break
        else:
            line = _clean(raw)
            if not line:
                continue
            (answers[current] if current else free).append(line)
            if pending_label:
                out.append(pending_label)
                pending_label = None
            out.append(line)
    return answers, free, "\n".join(out)


def _decision_date(answers: dict[str, list[str]], text: str, reference: date) -> date | None:
    """The one decision date given, looked for in turn: any date under "Next steps"; dates
    with a cue nearby ("decision by", "hear back", "within") anywhere; any date at all
    outside the talking points and the forgotten points. Two different dates at the first
    level that has any make it ambiguous, and then there is none.
    """
    cued: list[date] = []
    for line in text.split("\n"):
        for m in date_mentions(line, reference):
            if _DECISION_CUE.search(line[max(0, m.start - 40) : m.end]):
                cued.append(m.when)
    aside = "\n".join(answers["stood_out"] + answers["forgot"])
    aside_dates = {m.when for m in date_mentions(aside, reference)}
    levels = (
        [m.when for m in date_mentions("\n".join(answers["next_steps"]), reference)],
        [d for d in cued if d not in aside_dates],
        [m.when for m in date_mentions(text, reference) if m.when not in aside_dates],
    )
    for level in levels:
        dates = {d for d in level if d >= reference}
        if dates:
            return dates.pop() if len(dates) == 1 else None
    return None


def _phone(answers: dict[str, list[str]], text: str) -> str | None:
    for source in ("\n".join(answers["contact"]), text):
        for m in _PHONE.finditer(source):
            candidate = m.group(1).strip()
            digits = sum(ch.isdigit() for ch in candidate)
            if 7 <= digits <= 15 and not _DATE_LIKE.match(candidate):
                return candidate
    return None


def _email_only(answers: dict[str, list[str]], text: str) -> bool:
    if _EMAIL_ONLY.search(text):
        return True
    contact = " ".join(answers["contact"])
    return bool(_MENTIONS_EMAIL.search(contact)) and not _MENTIONS_PHONE.search(contact)


def _keyword_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Free text: "... stood out" lines are talking points, "forgot ..." lines are forgot."""
    points: list[str] = []
    forgot: list[str] = []
    for line in lines:
        m = _FORGOT_LINE.match(line)
        if m and m.group("a"):
            forgot.append(_clean(m.group("a")))
            continue
        m = _STOOD_OUT_LINE.match(line)
        if m:
            points.append(_clean(m.group("a") or m.group("b") or ""))
    return [p for p in points if p], [f for f in forgot if f]


def parse_notes(text: str, *, reference: date) -> Notes:
    """Read the filled-in notes reminder (or free text) into :class:`Notes`.

    ``reference`` is the day the dates are read from (the interview's day): "next Friday"
    or "within two weeks" count from it, and a decision date before it is ignored.
    The unfilled :data:`NOTES_PROMPTS` reads as ``Notes()``. Never raises on any ``str``.
    """
    plain = _plain(text)
    answers, free, body = _sections(plain)
    loose = free + answers["went_well"] + answers["went_badly"]
    points, forgot = _keyword_lines(loose)
    return Notes(
        talking_points=tuple(dict.fromkeys(answers["stood_out"] + points)),
        forgot=tuple(dict.fromkeys(answers["forgot"] + forgot)),
        text=body,
        decision_date=_decision_date(answers, plain, reference),
        few_days=bool(_FEW_DAYS.search(plain)),
        email_only=_email_only(answers, plain),
        phone=_phone(answers, plain),
    )
