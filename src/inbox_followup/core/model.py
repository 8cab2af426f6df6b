"""The glossary: every value that crosses a module boundary, as frozen dataclasses.

Nothing here does I/O or reads the clock. Times are timezone-aware ``datetime`` values;
the user's zone is applied by :mod:`inbox_followup.core.rules`, never here.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class ArtifactKind(StrEnum):
    """What the tool creates. The values are the CLI/JSON contract of docs/design.md."""

    NOTES_REMINDER = "notes_reminder"
    THANK_YOU_DRAFT = "thank_you_draft"
    THANK_YOU_REMINDER = "thank_you_reminder"
    FOLLOW_UP_DRAFT = "follow_up_draft"
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    CALL_REMINDER = "call_reminder"
    MOVE_ON_REMINDER = "move_on_reminder"
    FEEDBACK_DRAFT = "feedback_draft"
    # docs/rules.md asks for a reminder to reflect and connect on LinkedIn after a rejection;
    # docs/design.md's list has no kind for it, so this one extends that list.
    REFLECT_REMINDER = "reflect_reminder"

    @property
    def is_draft(self) -> bool:
        # A StrEnum member is its value; going through ``.value`` costs an enum descriptor
        # call, and the planner asks this tens of thousands of times a pass.
        return self.endswith("_draft")


class ArtifactState(StrEnum):
    """Artifact states shown by ``status`` (docs/design.md contract)."""

    PLANNED = "planned"
    CREATED = "created"
    SENT = "sent"
    CANCELLED = "cancelled"
    KEPT_EDITED = "kept_edited"
    DONE = "done"


class ApplicationState(StrEnum):
    ACTIVE = "active"
    ANSWERED = "answered"
    STALE = "stale"
    REJECTED = "rejected"
    OFFER = "offer"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    """What the user can record with ``inbox-followup outcome``."""

    OFFER = "offer"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Person:
    email: str
    name: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Attendee:
    """One ATTENDEE/ORGANIZER of a calendar event, normalised across providers."""

    email: str
    name: str | None = None
    cutype: str = "INDIVIDUAL"  # INDIVIDUAL | ROOM | RESOURCE | GROUP | UNKNOWN
    partstat: str = "NEEDS-ACTION"  # ACCEPTED | DECLINED | TENTATIVE | NEEDS-ACTION
    is_self: bool = False


@dataclass(frozen=True)
class CalendarEvent:
    """A calendar event as observed, one per occurrence (recurrences already expanded).

    ``id`` is unique within an account and stable across syncs: for an occurrence of a
    recurring series it is the series UID plus the original start (RECURRENCE-ID), so a
    moved occurrence keeps its id. ``key`` is set when the event is one the tool created.
    """

    id: str
    uid: str
    title: str
    start: datetime
    end: datetime
    source: str
    description: str = ""
    location: str = ""
    all_day: bool = False
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class Interview:
    """A calendar event recognised as a job interview."""

    id: str
    event_id: str
    title: str
    company: str
    start: datetime
    end: datetime
    interviewers: tuple[Person, ...]
    domain: str | None = None
    role: str | None = None
    phone: str | None = None
    forced: bool = False
    cancelled: bool = False

    @functools.cached_property
    def application_id(self) -> str:
        return application_id(self.company, self.domain)


def application_id(company: str, domain: str | None) -> str:
    """Interviews with the same company (by domain when known) form one application."""
    basis = (domain or company).strip().lower()
    return hashlib.sha1(basis.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Notes:
    """What the user wrote after the interview; every field optional."""

    talking_points: tuple[str, ...] = ()
    forgot: tuple[str, ...] = ()
    text: str = ""
    decision_date: date | None = None
    few_days: bool = False
    email_only: bool = False
    phone: str | None = None

    def merged(self, other: Notes) -> Notes:
        """``other`` wins for single values; lists are concatenated without repeats."""

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(a + b))

        return Notes(
            talking_points=union(self.talking_points, other.talking_points),
            forgot=union(self.forgot, other.forgot),
            text="\n".join(t for t in (self.text, other.text) if t),
            decision_date=other.decision_date or self.decision_date,
            few_days=self.few_days or other.few_days,
            email_only=self.email_only or other.email_only,
            phone=other.phone or self.phone,
        )


NO_NOTES = Notes()  # shared: a pass over thousands of interviews with no notes makes one


@dataclass(frozen=True)
class MailMessage:
    """Header facts of one inbound or sent message (no body beyond a short snippet)."""

    id: str
    folder: str  # "inbox" | "sent"
    date: datetime
    sender: Person | None = None
    recipients: tuple[str, ...] = ()
    subject: str = ""
    message_id: str | None = None
    thread_id: str | None = None
    references: tuple[str, ...] = ()  # In-Reply-To then References, angle brackets kept
    headers: tuple[tuple[str, str], ...] = ()  # lower-cased names of classification headers
    content_type: str = "text/plain"
    snippet: str = ""
    key: str | None = None  # X-Inbox-Followup-Key, when the message began as our draft

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None


class ReplyKind(StrEnum):
    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BULK = "bulk"
    OWN = "own"


@dataclass(frozen=True)
class Classification:
    """What :func:`inbox_followup.core.replies.classify` says about one message."""

    kind: ReplyKind
    return_date: date | None = None  # out-of-office "back on ..." date
    rejection: bool = False
    bounced_recipients: tuple[str, ...] = ()
    invitation: bool = False  # carries a calendar invitation (text/calendar)


@dataclass(frozen=True)
class ReminderContent:
    title: str
    description: str
    start: datetime
    minutes: int = 15


@dataclass(frozen=True)
class DraftContent:
    to: Person
    subject: str
    body: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    thread_id: str | None = None


@dataclass(frozen=True)
class Artifact:
    """Something the planner wants to exist: a reminder event or a draft."""

    key: str
    kind: ArtifactKind
    interview_id: str
    application_id: str
    due: datetime
    recipient: str | None = None
    reminder: ReminderContent | None = None
    draft: DraftContent | None = None

    @property
    def content_hash(self) -> str:
        if self.draft is not None:
            return draft_fingerprint(self.draft.to.email, self.draft.subject, self.draft.body)
        assert self.reminder is not None
        r = self.reminder
        return _sha(f"{r.title}\n{r.start.isoformat()}\n{r.minutes}\n{r.description}")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def normalise_body(body: str) -> str:
    """Line endings and trailing blanks differ between clients; they are not edits."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def draft_fingerprint(to: str, subject: str, body: str) -> str:
    """The hash that tells whether the user edited a draft (recipient, subject, text)."""
    return _sha(f"{to.strip().lower()}\n{' '.join(subject.split())}\n{normalise_body(body)}")


def artifact_key(interview_id: str, kind: ArtifactKind, recipient: str | None, step: int = 1) -> str:
    """The stable key ``ifu-<interview>-<kind>-<recipient>`` tagged on everything created."""
    slug = str(kind) if step == 1 else f"{kind}{step}"
    who = (recipient or "self").lower()
    return f"ifu-{interview_id}-{slug}-{who}"


@dataclass(frozen=True)
class DraftSnapshot:
    """A draft as it is now in the mailbox, to compare with what the tool wrote."""

    to: str
    subject: str
    body: str

    @property
    def fingerprint(self) -> str:
        return draft_fingerprint(self.to, self.subject, self.body)


@dataclass(frozen=True)
class ItemRef:
    """Where a created artifact lives in the provider."""

    key: str
    provider_id: str
    thread_id: str | None = None
    message_id: str | None = None


class LedgerState(StrEnum):
    """The ledger's own states (authoritative record of what the tool did)."""

    PENDING_CREATE = "pending_create"
    PENDING_UPDATE = "pending_update"
    PENDING_DELETE = "pending_delete"
    LIVE = "live"
    DELETED = "deleted"
    SENT = "sent"  # the user sent our draft: never touched again
    KEPT_EDITED = "kept_edited"
    DISMISSED = "dismissed"  # the user deleted our draft/event without sending: never recreate


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    account: str
    kind: ArtifactKind
    interview_id: str
    application_id: str
    due: datetime
    state: LedgerState
    content_hash: str
    recipient: str | None = None
    provider_id: str | None = None
    thread_id: str | None = None
    message_id: str | None = None
    created_at: datetime | None = None
    reason: str | None = None
    inputs: str | None = None  # fingerprint of what the content was made from


@dataclass(frozen=True)
class CalendarPage:
    """One answer of :meth:`Provider.calendar_changes`.

    ``replaced_sources``: for these sources, ``events`` is the complete set and every
    stored event of theirs that is absent is gone. Events of other sources are upserts;
    ``removed_ids`` are deletions. A source that failed to read is in neither, so what is
    stored for it stays (an error must never look like "everything was deleted").
    """

    events: tuple[CalendarEvent, ...]
    cursor: str | None
    removed_ids: tuple[str, ...] = ()
    replaced_sources: frozenset[str] = frozenset()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailPage:
    messages: tuple[MailMessage, ...]
    cursor: str | None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncWindow:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Problem:
    """A per-item problem reported to the user (file, event or message named in ``where``)."""

    where: str
    message: str
