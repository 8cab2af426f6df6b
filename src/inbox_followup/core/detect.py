"""Calendar event -> :class:`Interview` or ``None`` (docs/rules.md, "Recognising an interview"). Pure.

An event is an interview when it has a signal (a keyword in its title or description, or an
organiser/attendee at an applicant-tracking system) and someone from outside the user's own
domain on it. Never: all-day events, exclusions ("mock interview"), the tool's own reminders,
events the user declined, and events the user organises with colleagues from their own
(non-public) domain, where the user is the interviewer. ``track``/``ignore`` overrides win.
What the event's text says about the interview (company, role, phone, names) is read in
:mod:`inbox_followup.core.interview_details`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import translate
from functools import cached_property

from inbox_followup.core.interview_details import (
    company_and_role,
    company_from_domain,
    find_phone,
    person_words,
    sanitize_name,
)
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


def _domains(patterns: Iterable[str]) -> re.Pattern[str]:
    """Matches (``.match``) a domain that is one of ``patterns`` or a subdomain of one.

    Patterns are lower-cased, lose a leading ``@`` and outer dots, and may use fnmatch's
    wildcards (``gmx.*``); the domain is matched as given, case-sensitively, as ``fnmatchcase``
    would. One regex for the whole list, compiled once per rules: an idle pass asks millions of
    times.
    """
    alternatives = []
    for raw in patterns:
        pattern = raw.strip().lower().lstrip("@").strip(".")
        if pattern:
            alternatives += [translate(pattern), translate("*." + pattern)]
    return re.compile("|".join(alternatives) or r"(?!)")


@dataclass(frozen=True)
class DetectionRules:
    """The configurable lists; defaults per docs/rules.md. Domains may use ``*`` (``gmx.*``)."""

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

    @cached_property
    def ats_domain_re(self) -> re.Pattern[str]:
        return _domains(self.ats_domains)

    @cached_property
    def public_domain_re(self) -> re.Pattern[str]:
        return _domains(self.public_domains)


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
            or any(rules.ats_domain_re.match(_domain(p.email)) for p in parties)):
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
    people = person_words(_parties(event))
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


def is_public_domain(domain: str, rules: DetectionRules) -> bool:
    """A free mail provider's domain (gmail.com, gmx.*, ...), where a domain says nothing."""
    return rules.public_domain_re.match(domain.strip().lower().strip(".")) is not None


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
            and not rules.ats_domain_re.match(_domain(email)))


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
                or rules.ats_domain_re.match(domain)):
            continue
        counts[domain] += 1
    return counts.most_common(1)[0][0] if counts else None
