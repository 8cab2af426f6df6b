"""What the user wrote after an interview, read back into :class:`~inbox_followup.core.model.Notes`.

The notes reminder's description is :data:`NOTES_PROMPTS`: one intro line and one labelled
prompt per line. The user types answers after a prompt's colon or on the lines below it, from
any calendar app, or deletes the prompts and writes free text. :func:`parse_notes` reads both.
Dates in the notes are read by :mod:`inbox_followup.core.dates`. Pure: the reference date
is always passed in.
"""

from __future__ import annotations

import html
import re
from datetime import date

from inbox_followup.core.dates import date_mentions
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
