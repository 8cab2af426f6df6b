"""Calendar event -> :class:`Interview` or ``None`` (RULES.md, "Recognising an interview"). Pure.

An event is an interview when it has a signal (a keyword in its title or description, or an
organiser/attendee at an applicant-tracking system) and someone from outside the user's own
domain on it. Never: all-day events, exclusions ("mock interview"), the tool's own reminders,
events the user declined, and events the user organises with colleagues from their own
(non-public) domain, where the user is the interviewer. ``track``/``ignore`` overrides win.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property

from inbox_followup.core.model import Attendee, CalendarEvent, Interview, Person

DEFAULT_KEYWORDS = (
    "interview", "phone screen", "phone screening", "technical screen", "tech screen",
    "technical interview", "onsite", "on-site", "final round", "final interview",
    "hiring manager", "recruiter call", "recruiter screen", "recruiter chat", "screening call",
    "coding challenge review", "take-home review", "panel interview", "virtual onsite",
    "superday", "culture fit", "system design interview", "pair programming interview",
)
DEFAULT_EXCLUSIONS = (
    "mock interview", "interview prep", "interview preparation", "interview practice",
    "practice interview", "interview training", "interviewer training", "interview debrief",
    "interview calibration", "interview coaching",
)
DEFAULT_ATS_DOMAINS = (
    "greenhouse.io", "greenhouse-mail.io", "lever.co", "ashbyhq.com", "myworkday.com",
    "workday.com", "goodtime.io", "calendly.com", "smartrecruiters.com", "icims.com",
    "jobvite.com", "gem.com", "modernloop.io", "paradox.ai", "workable.com", "bamboohr.com",
    "recruitee.com", "teamtailor.com", "pinpointhq.com", "breezy.hr", "jazzhr.com",
    "successfactors.com", "taleo.net", "rippling.com", "prelude.co", "yello.co",
)
DEFAULT_PUBLIC_DOMAINS = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.*", "live.com",
    "live.*", "msn.com", "yahoo.com", "yahoo.*", "ymail.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "proton.me", "protonmail.com", "pm.me", "gmx.*", "web.de", "mail.com", "zoho.com",
    "yandex.*", "fastmail.com", "hey.com", "tutanota.com", "qq.com", "163.com",
)
DEFAULT_NOREPLY_PATTERNS = (
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
    "notification", "calendar-notification", "mailer-daemon", "postmaster", "bounce",
)

_ROOM_CUTYPES = frozenset({"ROOM", "RESOURCE"})
_CALENDAR_SYSTEM_DOMAIN = "calendar.google.com"  # resource./group.calendar.google.com
_ROOM_NAME = re.compile(r"(?<![^\W\d_])(?:room|rooms|conference)(?![^\W\d_])", re.IGNORECASE)
_BIDI_AND_FORMAT = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_JOINERS = frozenset({"\u200c", "\u200d"})  # needed to spell some names (Persian, Indic)
_EMAIL = re.compile(r"^[^\s@<>(),;:\"\[\]\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,}$")


def _phrases(words: Iterable[str]) -> re.Pattern[str]:
    """Case-insensitive whole-word match of any phrase; spaces/hyphens between words are loose."""
    alternatives = []
    for phrase in words:
        parts = [re.escape(p) for p in re.split(r"[\s\-_]+", phrase.strip()) if p]
        if parts:
            alternatives.append(r"[\s\-_]*".join(parts))
    if not alternatives:
        return re.compile(r"(?!)")
    alternatives.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")s?(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class DetectionRules:
    """The configurable lists; defaults per RULES.md. Domains may use ``*`` (``gmx.*``)."""

    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    exclusions: tuple[str, ...] = DEFAULT_EXCLUSIONS
    ats_domains: tuple[str, ...] = DEFAULT_ATS_DOMAINS
    public_domains: tuple[str, ...] = DEFAULT_PUBLIC_DOMAINS
    noreply_patterns: tuple[str, ...] = DEFAULT_NOREPLY_PATTERNS

    # cached_property writes to the instance __dict__, which a frozen dataclass allows.
    @cached_property
    def keyword_re(self) -> re.Pattern[str]:
        return _phrases(self.keywords)

    @cached_property
    def exclusion_re(self) -> re.Pattern[str]:
        return _phrases(self.exclusions)


@dataclass(frozen=True)
class UserIdentity:
    """The user's own addresses (any case on input; stored lower-case)."""

    addresses: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "addresses", frozenset(a.strip().lower() for a in self.addresses))

    @property
    def domains(self) -> frozenset[str]:
        return frozenset(a.rpartition("@")[2] for a in self.addresses if "@" in a)


def interview_id(account: str, event_id: str) -> str:
    """A short stable id (12 hex digits) for the interview behind one event of one account."""
    return hashlib.sha256(f"{account}\x00{event_id}".encode("utf-8", "replace")).hexdigest()[:12]


def detect(event: CalendarEvent, *, account: str, user: UserIdentity, rules: DetectionRules,
           override: str | None = None) -> Interview | None:
    """The interview this event is, or ``None``. ``override``: ``"track"``, ``"ignore"`` or None.

    A cancelled event that would otherwise qualify comes back with ``cancelled=True``, so the
    planner can drop its pending items. Raises nothing.
    """
    if override == "ignore" or event.key:  # event.key: one of our own reminders
        return None
    forced = override == "track"
    if not forced and not _qualifies(event, user, rules):
        return None
    return _interview(event, account, user, rules, forced)


def _qualifies(event: CalendarEvent, user: UserIdentity, rules: DetectionRules) -> bool:
    if event.all_day:
        return False
    in_title = rules.keyword_re.search(event.title) is not None
    # Exclusions in the description count only when the title has no keyword: real invites
    # often link an "interview prep" guide.
    if rules.exclusion_re.search(event.title) or (
            not in_title and rules.exclusion_re.search(event.description)):
        return False
    parties = _parties(event)
    if not (in_title or rules.keyword_re.search(event.description)
            or any(_domain_in(_domain(p.email), rules.ats_domains) for p in parties)):
        return False
    if any(_is_user(a, user) and a.partstat.upper() == "DECLINED" for a in event.attendees):
        return False
    if not any(_is_external(p, user, rules) for p in parties):
        return False
    return not _organised_with_colleagues(event, user, rules)


def _organised_with_colleagues(event: CalendarEvent, user: UserIdentity,
                               rules: DetectionRules) -> bool:
    """The user organises and a colleague from their own non-public domain attends."""
    if event.organizer is None or not _is_user(event.organizer, user):
        return False
    own = _own_domains(user, rules)
    return any(not _is_user(a, user) and not _is_room(a) and _domain(a.email) in own
               for a in event.attendees)


def _interview(event: CalendarEvent, account: str, user: UserIdentity, rules: DetectionRules,
               forced: bool) -> Interview:
    title = sanitize_name(event.title, limit=300) or ""
    domain = _company_domain(event, user, rules)
    people = _person_words(_parties(event))
    company, role = company_and_role(title, rules, people)
    if company is None:
        company = company_from_domain(domain) if domain else "Unknown company"
    return Interview(
        id=interview_id(account, event.id), event_id=event.id, title=title, company=company,
        start=event.start, end=event.end, interviewers=_interviewers(event, user, rules),
        domain=domain, role=role, phone=find_phone(event.location, event.description),
        forced=forced, cancelled=event.status.strip().upper() == "CANCELLED",
    )


# --- people and domains ------------------------------------------------------------------------


def _parties(event: CalendarEvent) -> tuple[Attendee, ...]:
    return (*event.attendees, *((event.organizer,) if event.organizer else ()))


def _domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2].strip(".")


def _domain_in(domain: str, patterns: Iterable[str]) -> bool:
    """``domain`` is one of ``patterns`` or a subdomain of one; ``*`` wildcards allowed."""
    for raw in patterns:
        pattern = raw.strip().lower().lstrip("@").strip(".")
        if pattern and (fnmatchcase(domain, pattern) or fnmatchcase(domain, "*." + pattern)):
            return True
    return False


def is_public_domain(domain: str, rules: DetectionRules) -> bool:
    """A free mail provider's domain (gmail.com, gmx.*, ...), where a domain says nothing."""
    return _domain_in(domain.strip().lower().strip("."), rules.public_domains)


def _own_domains(user: UserIdentity, rules: DetectionRules) -> frozenset[str]:
    return frozenset(d for d in user.domains if not is_public_domain(d, rules))


def _is_user(a: Attendee, user: UserIdentity) -> bool:
    return a.is_self or a.email.strip().lower() in user.addresses


def _is_room(a: Attendee) -> bool:
    local, _, domain = a.email.strip().lower().rpartition("@")
    tokens = re.split(r"[^a-z]+", local)
    return (a.cutype.strip().upper() in _ROOM_CUTYPES or domain.endswith(_CALENDAR_SYSTEM_DOMAIN)
            or any(t in ("room", "rooms", "conference") or (len(t) > 4 and t.endswith("room"))
                   for t in tokens)
            or bool(a.name and _ROOM_NAME.search(a.name)))


def _is_external(a: Attendee, user: UserIdentity, rules: DetectionRules) -> bool:
    """Someone not the user, not a room, outside the user's own (non-public) domains."""
    return (not _is_user(a, user) and not _is_room(a)
            and _domain(a.email) not in _own_domains(user, rules))


def is_person(attendee: Attendee, rules: DetectionRules) -> bool:
    """A human: not a room/resource/group, no-reply or ATS system address."""
    email = attendee.email.strip().lower()
    local = email.rpartition("@")[0]
    return (bool(_EMAIL.match(email)) and attendee.cutype.strip().upper() != "GROUP"
            and not _is_room(attendee)
            and not any(p and p.lower() in local for p in rules.noreply_patterns)
            and not _domain_in(_domain(email), rules.ats_domains))


def _interviewers(event: CalendarEvent, user: UserIdentity,
                  rules: DetectionRules) -> tuple[Person, ...]:
    found: dict[str, Person] = {}
    for a in _parties(event):
        email = a.email.strip().lower()
        if (email not in found and a.partstat.strip().upper() != "DECLINED"
                and _is_external(a, user, rules) and is_person(a, rules)):
            name = sanitize_name(a.name)
            found[email] = Person(email, None if name and name.lower() == email else name)
    return tuple(found.values())


def _company_domain(event: CalendarEvent, user: UserIdentity, rules: DetectionRules) -> str | None:
    """The most common company domain among the external parties (first seen wins a tie)."""
    own = _own_domains(user, rules)
    counts: Counter[str] = Counter()
    for a in _parties(event):
        domain = _domain(a.email)
        if (_is_user(a, user) or not _EMAIL.match(a.email.strip()) or domain in own
                or domain.endswith(_CALENDAR_SYSTEM_DOMAIN) or is_public_domain(domain, rules)
                or _domain_in(domain, rules.ats_domains)):
            continue
        counts[domain] += 1
    return counts.most_common(1)[0][0] if counts else None


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


# --- company, role, phone ----------------------------------------------------------------------

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


def _person_words(parties: Iterable[Attendee]) -> frozenset[str]:
    """Lower-case names, first names and address local parts of everyone on the event."""
    words: set[str] = set()
    for a in parties:
        name = (sanitize_name(a.name) or "").lower()
        local = a.email.strip().lower().rpartition("@")[0]
        words.update(w for w in (name, name.split(" ")[0] if name else "", local,
                                 re.split(r"[._-]", local)[0]) if len(w) >= 2)
    return frozenset(words)


def company_and_role(title: str, rules: DetectionRules,
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


def _title_part(part: str, rules: DetectionRules,
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
