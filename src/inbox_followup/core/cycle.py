"""One interview's follow-up cycle: what should exist, when, and why it stops (pure).

docs/rules.md's table, step by step. Reminders of a running cycle are put on the calendar as soon as
the interview ends (so the phone alerts even if the daemon is off); drafts appear when due.
Everything here is a function of its arguments: ``now`` comes in, nothing reads the clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from inbox_followup.core import letters, rules
from inbox_followup.core.matching import Mail
from inbox_followup.core.model import (
    ApplicationState,
    Artifact,
    ArtifactKind,
    DraftContent,
    Interview,
    Notes,
    Outcome,
    Person,
    ReminderContent,
    ReplyKind,
    artifact_key,
)
from inbox_followup.core.text import sanitize_header_text

K = ArtifactKind
# Bump when templates or text-making code change, so existing unedited items are rewritten.
TEXT_VERSION = 2  # 2: the feedback draft answers as "Re: <their subject>"


@dataclass(frozen=True)
class Settings:
    """Everything the pure core needs besides the facts and ``now``."""

    cal: rules.WorkCalendar
    timing: rules.Timing
    profile: letters.Profile
    public_domains: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Closure:
    """Why a cycle stops making nudges, and from when."""

    state: ApplicationState
    at: datetime
    by: Mail | None = None


@dataclass
class CycleFacts:
    """What the planner learned about one interview from the calendar, mail and the user."""

    interview: Interview
    notes: Notes
    superseded: bool = False  # a later interview with the same company exists (next round)
    closure: Closure | None = None
    out_of_office: Sequence[Mail] = ()
    thank_you_sent: dict[str, datetime] = field(default_factory=dict)  # recipient -> sent at
    thread: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # recipient -> (thread id, message id to reply to) of the thank-you
    # Times, each worked out once and only when something asks for it: a later round's
    # thank-you needs follow-up 1's date, never the call or the move-on.
    times: tuple[datetime, datetime, datetime] | None = None  # follow_up_times
    follow_up_1: datetime | None = None  # follow_up_1_at
    move_on: datetime | None = None  # move_on_at
    thank_you_reminder: datetime | None = None  # thank_you_reminder_at
    basis: str = ""  # what every text of this interview depends on (see wanted())


@dataclass(slots=True)
class Wanted:
    """An artifact the cycle wants. Its text is rendered lazily, at most once: comparing
    ``inputs`` (a fingerprint of everything the text is made from) with the ledger's tells
    whether anything changed without rendering it. Both are computed on first use only: a
    pass over thousands of interviews looks at most of them just long enough to see that a
    reminder is in the past or not due yet.

    Treat it as immutable. It is not a frozen dataclass only because a frozen one's
    ``__init__`` costs five times as much, and a pass makes one of these per artifact.
    """

    key: str
    kind: ArtifactKind
    due: datetime
    create_at: datetime
    recipient: str | None
    nudge: bool
    sources: tuple[object, ...]  # what the text is made from; ``inputs`` digests it
    # How to render it: ``make(*args)``. A function and a tuple rather than a closure or a
    # partial, so a pass that keeps tens of thousands of these gives the collector less to scan.
    make: Callable[..., Artifact] = field(compare=False, repr=False)
    args: tuple[object, ...] = field(compare=False, repr=False)
    _inputs: str | None = field(default=None, init=False, compare=False, repr=False)
    _artifact: Artifact | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def inputs(self) -> str:
        if self._inputs is None:
            self._inputs = fingerprint(*self.sources)
        return self._inputs

    @property
    def artifact(self) -> Artifact:
        if self._artifact is None:
            self._artifact = self.make(*self.args)
        return self._artifact


def fingerprint(*parts: object) -> str:
    """A stable digest (the same in every process, unlike ``hash``)."""
    text = "\x1f".join(map(str, parts))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def outcome_closure(outcome: tuple[Outcome, datetime] | None, iv: Interview) -> Closure | None:
    if outcome is None or outcome[1] < iv.start:
        return None
    return Closure(ApplicationState(outcome[0].value), outcome[1])


def answer_closure(iv: Interview, inbound: Sequence[Mail]) -> Closure | None:
    """The first human message after the interview ended closes the cycle."""
    for mail in inbound:
        if mail.date > iv.end and mail.classification.kind is ReplyKind.HUMAN:
            state = ApplicationState.REJECTED if mail.classification.rejection else ApplicationState.ANSWERED
            return Closure(state, mail.date, mail)
    return None


def follow_up_times(facts: CycleFacts, s: Settings) -> tuple[datetime, datetime, datetime]:
    """(follow-up 1, follow-up 2, move on), with an out-of-office return date applied."""
    if facts.times is None:
        facts.times = _follow_up_times(facts, s)
    return facts.times


def follow_up_1_at(facts: CycleFacts, s: Settings) -> datetime:
    """Follow-up 1 alone (what a thank-you promises), out-of-office shifts applied."""
    if facts.times is not None:
        return facts.times[0]
    if facts.follow_up_1 is None:
        fu1 = _first_follow_up(facts, s)
        for mail, back in _returns(facts):
            if fu1 > mail.date:  # as in _follow_up_times: follow-up 1 moves on its own
                fu1 = rules.after_out_of_office(fu1, back, mail.date, s.cal, s.timing)
        facts.follow_up_1 = fu1
    return facts.follow_up_1


def thank_you_reminder_at(facts: CycleFacts, s: Settings) -> datetime:
    """When the reminder to send the thank-yous is due."""
    if facts.thank_you_reminder is None:
        facts.thank_you_reminder = rules.thank_you_reminder_time(facts.interview.end, s.cal, s.timing)
    return facts.thank_you_reminder


def move_on_at(facts: CycleFacts, s: Settings) -> datetime:
    """When the cycle closes as stale: it depends on the interview alone, so the planner can
    tell a closed cycle without working out its follow-up times."""
    if facts.move_on is None:
        facts.move_on = rules.move_on_time(facts.interview.end, s.cal, s.timing)
    return facts.move_on


def _first_follow_up(facts: CycleFacts, s: Settings) -> datetime:
    """Follow-up 1 before any out-of-office shift."""
    notes, reminder = facts.notes, thank_you_reminder_at(facts, s)
    return rules.follow_up_1_time(
        facts.interview.end, decision_date=notes.decision_date, few_days=notes.few_days,
        thank_you_basis=min(facts.thank_you_sent.values(), default=None) or reminder,
        cal=s.cal, timing=s.timing, thank_you_reminder=reminder,
    )


def _returns(facts: CycleFacts) -> list[tuple[Mail, date]]:
    """The out-of-office replies that name a return date, with that date."""
    return [(m, m.classification.return_date) for m in facts.out_of_office
            if m.classification.return_date is not None]


def _follow_up_times(facts: CycleFacts, s: Settings) -> tuple[datetime, datetime, datetime]:
    fu1 = _first_follow_up(facts, s)
    fu2 = rules.follow_up_2_time(fu1, s.cal, s.timing)
    for mail, back in _returns(facts):
        if fu1 > mail.date:
            fu1 = rules.after_out_of_office(fu1, back, mail.date, s.cal, s.timing)
            fu2 = max(fu2, rules.follow_up_2_time(fu1, s.cal, s.timing))
        elif fu2 > mail.date:
            fu2 = rules.after_out_of_office(fu2, back, mail.date, s.cal, s.timing)
    return fu1, fu2, move_on_at(facts, s)


def primary_contact(facts: CycleFacts) -> Person | None:
    """Follow-ups go to one person: whoever got the first sent thank-you, else the first."""
    people = facts.interview.interviewers
    if not people:
        return None
    if facts.thank_you_sent:
        first = min(facts.thank_you_sent, key=lambda r: facts.thank_you_sent[r])
        for p in people:
            if p.email == first:
                return p
    return people[0]


def wanted(facts: CycleFacts, s: Settings, now: datetime) -> list[Wanted]:
    """Every artifact this interview's cycle wants, whether due yet or not. A cycle closed by
    ``now`` (answered, rejected, stale, decided) wants no nudges: the planner retires them."""
    iv = facts.interview
    if iv.cancelled:
        return []
    closed = facts.closure is not None and facts.closure.at <= now
    people = ",".join(f"{p.email}:{p.name}" for p in iv.interviewers)
    facts.basis = fingerprint(iv.company, iv.role, iv.title, iv.phone, people, facts.notes,
                              s.profile.digest, TEXT_VERSION)
    out = [_notes_reminder(facts, s)]
    if not closed:
        # Follow-ups first, so the thank-yous reuse follow-up 1 from the full computation.
        later = [] if facts.superseded else _follow_ups(facts, s)
        out += _thank_yous(facts, s)
        out += later
    if facts.closure and facts.closure.state is ApplicationState.REJECTED:
        out += _after_rejection(facts, s)
    return out


def _reminder(
    facts: CycleFacts, kind: ArtifactKind, due: datetime, create_at: datetime, *,
    step: int = 1, nudge: bool = True, **text: object,
) -> Wanted:
    key = artifact_key(facts.interview.id, kind, None, step)
    # The text arguments as one string, which the garbage collector need not track.
    sources = (facts.basis, key, due.timestamp(), str(sorted(text.items())))
    return Wanted(key, kind, due, create_at, None, nudge, sources,
                  _build_reminder, (facts, kind, key, due, text))


def _build_reminder(
    facts: CycleFacts, kind: ArtifactKind, key: str, due: datetime, text: dict[str, object]
) -> Artifact:
    iv = facts.interview
    title, description = letters.reminder(kind, iv, notes=facts.notes, **text)  # type: ignore[arg-type]
    content = ReminderContent(title=title, description=description, start=due)
    return Artifact(key, kind, iv.id, iv.application_id, due, None, reminder=content)


Compose = Callable[..., tuple[str, str]]  # (subject, body) from letters.py


def _draft(
    facts: CycleFacts, kind: ArtifactKind, to: Person, due: datetime,
    compose: Compose, compose_args: tuple[object, ...], *, step: int = 1, extra: object = None,
    nudge: bool = True,
    thread: tuple[str | None, str | None] | None = None,
) -> Wanted:
    """The text is ``compose(*compose_args)``; ``extra``: whatever else it depends on beyond
    the interview and notes."""
    key = artifact_key(facts.interview.id, kind, to.email, step)
    thread_id, parent = thread or facts.thread.get(to.email, (None, None))
    sources = (facts.basis, key, due.timestamp(), to.name, thread_id, parent, extra)
    return Wanted(key, kind, due, due, to.email, nudge, sources, _build_draft,
                  (facts.interview, kind, key, to, due, compose, compose_args, thread_id, parent))


def _build_draft(
    iv: Interview, kind: ArtifactKind, key: str, to: Person, due: datetime,
    compose: Compose, compose_args: tuple[object, ...], thread_id: str | None, parent: str | None,
) -> Artifact:
    subject, body = compose(*compose_args)
    # What the provider stores is the sanitised subject; hash that, or every draft
    # would look edited by the user.
    subject = sanitize_header_text(subject)
    content = DraftContent(
        to=to, subject=subject, body=body, in_reply_to=parent,
        references=(parent,) if parent else (), thread_id=thread_id,
    )
    return Artifact(key, kind, iv.id, iv.application_id, due, to.email, draft=content)


def _notes_reminder(facts: CycleFacts, s: Settings) -> Wanted:
    iv = facts.interview
    due = rules.notes_time(iv.end, s.timing)
    return _reminder(facts, K.NOTES_REMINDER, due, iv.start - timedelta(days=365), nudge=False)


def _thank_yous(facts: CycleFacts, s: Settings) -> list[Wanted]:
    iv, t0 = facts.interview, facts.interview.end
    fu_date = s.cal.local(follow_up_1_at(facts, s)).date()
    out = [
        _draft(facts, K.THANK_YOU_DRAFT, person, t0,
               letters.thank_you, (iv, person, facts.notes, fu_date, s.profile),
               extra=fu_date)
        for person in iv.interviewers
    ]
    due = thank_you_reminder_at(facts, s)
    out.append(_reminder(facts, K.THANK_YOU_REMINDER, due, t0, drafts=len(iv.interviewers)))
    return out


def _follow_ups(facts: CycleFacts, s: Settings) -> list[Wanted]:
    iv, t0 = facts.interview, facts.interview.end
    fu1, fu2, move_on = follow_up_times(facts, s)
    fu_date = s.cal.local(fu1).date()
    out = [_reminder(facts, K.FOLLOW_UP_REMINDER, fu1, t0, follow_up_on=fu_date)]
    contact = primary_contact(facts)
    if contact is not None:
        out.append(_draft(facts, K.FOLLOW_UP_DRAFT, contact, fu1,
                          letters.follow_up, (iv, contact, facts.notes, s.profile, 1)))
    if facts.notes.email_only and contact is not None:
        out.append(_reminder(facts, K.FOLLOW_UP_REMINDER, fu2, t0, step=2))
        out.append(_draft(facts, K.FOLLOW_UP_DRAFT, contact, fu2,
                          letters.follow_up, (iv, contact, facts.notes, s.profile, 2),
                          step=2))
    else:
        phone = facts.notes.phone or iv.phone
        out.append(_reminder(facts, K.CALL_REMINDER, fu2, t0, phone=phone))
    out.append(_reminder(facts, K.MOVE_ON_REMINDER, move_on, t0))
    return out


def _after_rejection(facts: CycleFacts, s: Settings) -> list[Wanted]:
    """A gracious reply asking for feedback (in the rejection's thread when there is one),
    and a reminder to reflect and, now the process is over, connect on LinkedIn."""
    assert facts.closure is not None
    iv, at, by = facts.interview, facts.closure.at, facts.closure.by
    sender = by.message.sender if by else None
    to = sender if sender is not None and sender.email else primary_contact(facts)
    out: list[Wanted] = []
    if to is not None:
        thread = (by.message.thread_id, by.message.message_id) if by is not None else None
        subject = by.message.subject if by is not None else None
        out.append(_draft(facts, K.FEEDBACK_DRAFT, to, at,
                          letters.feedback, (iv, to, s.profile, subject), extra=subject,
                          nudge=False, thread=thread))
    reflect = s.cal.into_working_hours(s.cal.add_days(at, 1))
    out.append(_reminder(facts, K.REFLECT_REMINDER, reflect, at, nudge=False))
    return out
