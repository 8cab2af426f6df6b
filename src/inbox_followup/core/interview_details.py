"""What an event's own text says about its interview: company, role, phone, names. Pure.

Used by :mod:`inbox_followup.core.detect` once an event is an interview: the company and the
job title an event title names (``Interview: Senior Engineer at ACME``),
the company a domain names (``acme-corp.co.uk`` -> ``Acme Corp``), the phone number worth
calling in its location or description, and display names made safe to show and to put in a
draft.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

from inbox_followup.core.model import Attendee

_BIDI_AND_FORMAT = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_JOINERS = frozenset({"\u200c", "\u200d"})  # needed to spell some names (Persian, Indic)


class TitleRules(Protocol):
    """What reading a title needs of the detection rules: the interview keywords to skip."""

    @property
    def keyword_re(self) -> re.Pattern[str]: ...


# --- names -------------------------------------------------------------------------------------


def sanitize_name(name: str | None, *, limit: int = 100) -> str | None:
    """A display name safe to show and to put in a draft: no control, bidi-override or line
    separator characters, whitespace collapsed, at most ``limit`` characters; None if empty."""
    if not name:
        return None
    text = unicodedata.normalize("NFC", name)
    text = "".join(" " if unicodedata.category(ch) in ("Zl", "Zp") or ch in "\r\n\t" else ch
                   for ch in text
                   if ch in _JOINERS or ch in "\r\n\t"
                   or unicodedata.category(ch) not in _BIDI_AND_FORMAT)
    text = " ".join(text.split()).strip(" \"'")
    return text[:limit].rstrip() or None


def person_words(parties: Iterable[Attendee]) -> frozenset[str]:
    """Lower-case names, first names and address local parts of everyone on the event."""
    words: set[str] = set()
    for a in parties:
        name = (sanitize_name(a.name) or "").lower()
        local = a.email.strip().lower().rpartition("@")[0]
        words.update(w for w in (name, name.split(" ")[0] if name else "", local,
                                 re.split(r"[._-]", local)[0]) if len(w) >= 2)
    return frozenset(words)


# --- company and role -------------------------------------------------------------------------

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne",
                           "or", "go", "gob", "nic", "mil", "sch", "biz"})


def company_from_domain(domain: str) -> str:
    """``acme.com`` -> ``Acme``; ``mail.acme-corp.co.uk`` -> ``Acme Corp``."""
    labels = [x for x in domain.strip().lower().rpartition("@")[2].split(".") if x]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        core = labels[-3]
    else:
        core = labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")
    if core.startswith("xn--"):
        with contextlib.suppress(UnicodeError):
            core = core.encode("ascii").decode("idna")
    words = [w for w in re.split(r"[-_]+", core) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or "Unknown company"


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SPLIT = re.compile(r"\s+[-–—/]\s+|\s*[|–—]\s*|(?<!\d):(?!\d)\s*|\s*<-?>\s*|\s+x\s+")
_LEAD = re.compile(r"^(with|w/|at|for|@)\s+", re.IGNORECASE)
_AT = re.compile(r"^(.+?)\s+(?:at|@)\s+(.+)$", re.IGNORECASE)
_FROM = re.compile(r"^(.+?)\s+(?:from|of)\s+(.+)$", re.IGNORECASE)
_PAREN = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_EDGES = " \t-–—:|,;./\\[]{}\"'*#!?~"
_GENERIC = _wordset("""
    technical tech final first second third 1st 2nd 3rd round virtual video phone call chat
    meeting zoom teams meet hangout hangouts webex remote in-person in person intro introductory
    initial follow up culture behavioral behavioural system design coding pair programming
    session the a an and with you me my our candidate invitation invite confirmed updated
    rescheduled canceled cancelled reminder re fwd new event screen screening sync catch coffee
    loop panel conversation discussion talk quick min mins minute minutes hour hr for at to
    your their his her this next upcoming scheduled today tomorrow
    """)
_ROLE_WORDS = _wordset("""
    engineer developer designer manager analyst scientist architect director lead intern
    consultant specialist administrator coordinator associate officer researcher programmer
    accountant writer editor sre devops tester head vp executive representative strategist
    technician recruiter marketer counsel attorney nurse teacher assistant advisor economist
    owner
    """)




def company_and_role(title: str, rules: TitleRules,
                     people: frozenset[str] = frozenset()) -> tuple[str | None, str | None]:
    """The company and job title named in an event title, when it names them.

    ``Interview with ACME``, ``ACME <> Jane Doe``, ``ACME - Phone screen``, ``Phone screen:
    ACME``, ``Final round | ACME``, ``Interview: Senior Engineer at ACME``. ``people`` (names
    of those on the event, lower-case) keeps a person's name from being taken for a company.
    """
    company = role = None
    for part in _SPLIT.split(title[:200]):
        found_company, found_role = _title_part(part, rules, people)
        company, role = company or found_company, role or found_role
    return company, role


def _title_part(part: str, rules: TitleRules,
                people: frozenset[str]) -> tuple[str | None, str | None]:
    rest = " ".join(rules.keyword_re.sub(" ", part).split()).strip(_EDGES)
    lead = _LEAD.match(rest)
    rest = rest[lead.end():] if lead else rest
    if not rest:
        return None, None
    if m := _AT.match(rest):
        who_or_what = m[1].strip(_EDGES)
        role = None if _tidy(who_or_what).lower() in people else _role(who_or_what)
        return _company(m[2], people), role
    if (m := _FROM.match(rest)) and _tidy(m[1]).lower() in people:
        return _company(m[2], people), None
    if m := _PAREN.match(rest):
        base, inner = m[1], m[2]
        if _tidy(base).lower() in people or not _tidy(base):
            return _company(inner, people), _role(inner)
        return _company(base, people) or _company(inner, people), _role(inner) or _role(base)
    if role := _role(rest):
        return None, role
    return _company(rest, people), None


def _tidy(text: str) -> str:
    return " ".join(text.split()).strip(_EDGES)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^\w+#-]+", text.lower()) if t]


def _company(text: str, people: frozenset[str]) -> str | None:
    name = _tidy(text)
    tokens = _tokens(name)
    lower = name.lower()
    if (not name or len(name) > 60 or "@" in name or not any(ch.isalpha() for ch in name)
            or any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lower) for p in people)
            or all(t in _GENERIC or t.isdigit() for t in tokens)
            or any(t.rstrip("s") in _ROLE_WORDS for t in tokens)):
        return None
    return name


def _role(text: str) -> str | None:
    name = re.sub(r"(?i)^(?:the|a|an)\s+|\s+(?:role|position|opening|job)$", "", _tidy(text))
    tokens = _tokens(name)
    if 0 < len(name) <= 80 and any(t.rstrip("s") in _ROLE_WORDS for t in tokens):
        return name
    return None


# --- phone -------------------------------------------------------------------------------------

_PHONE = re.compile(r"(?<![\w/=&?#.+-])(\+?\(?\d[\d\s().-]{5,22}\d)(?![\w/#]|,,|\s*#)")
_LABEL = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call\s+(?:me|us)\s+at|"
                    r"reach\s+(?:me|us)\s+at|number)\b|tel:")
_DIAL_IN = re.compile(r"(?i)dial|\bpin\b|meeting id|passcode|password|conference id|"
                      r"access code|webinar id|one tap|join by phone")
_CONFERENCING = re.compile(r"(?i)zoom\.us|meet\.google|teams\.microsoft|webex\.com|"
                           r"gotomeeting|bluejeans|chime\.aws|join by phone|dial by your")
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def find_phone(*texts: str) -> str | None:
    """The first phone number in ``texts`` (location, then description) worth calling.

    Conference dial-ins (numbers next to a PIN or meeting id, or anywhere in a Zoom/Meet/Teams
    boilerplate unless labelled "phone"/"tel:") are not the interviewer's number.
    """
    for text in texts:
        boilerplate = bool(_CONFERENCING.search(text))
        for line in text[:20000].splitlines():
            labelled = bool(_LABEL.search(line))
            if _DIAL_IN.search(line) or (boilerplate and not labelled):
                continue
            for m in _PHONE.finditer(line):
                number = " ".join(m[1].split())
                digits = sum(ch.isdigit() for ch in number)
                plain = number.replace(" ", "").isdigit()
                if (7 <= digits <= 15 and not _DATE_LIKE.match(number)
                        and not (plain and digits > 11 and not labelled)):
                    return number
    return None
