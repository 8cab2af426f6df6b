"""plan(snapshot, settings, now) -> Plan: every decision, and nothing else (pure).

The ledger says what exists; the cycles say what should. The difference is the plan:
create what is due and missing, update what changed (only if still ours to change), cancel
pending nudges that no longer belong (an answer, a cancelled interview, a next round). A reminder
already in the past is history and stays; a draft the user sent or edited is theirs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from inbox_followup.core import cycle
from inbox_followup.core.cycle import Closure, CycleFacts, Settings, Wanted
from inbox_followup.core.matching import AppMail, Mail, index_mail
from inbox_followup.core.model import (
    NO_NOTES,
    ApplicationState,
    Artifact,
    ArtifactKind,
    ArtifactState,
    Interview,
    LedgerEntry,
    LedgerState,
    MailMessage,
    Notes,
    Outcome,
    ReplyKind,
)


@dataclass(frozen=True)
class Snapshot:
    account: str
    interviews: tuple[Interview, ...]
    mails: tuple[Mail, ...]
    notes: Mapping[str, Notes]
    outcomes: Mapping[str, tuple[Outcome, datetime]]
    ledger: Mapping[str, LedgerEntry]
    vetoed: frozenset[str] = frozenset()  # interviews of events the user said are not ones


@dataclass(frozen=True)
class Create:
    wanted: Wanted

    @property
    def artifact(self) -> Artifact:
        return self.wanted.artifact


@dataclass(frozen=True)
class Update:
    wanted: Wanted
    entry: LedgerEntry

    @property
    def artifact(self) -> Artifact:
        return self.wanted.artifact


@dataclass(frozen=True)
class Restamp:
    """The content is unchanged though its inputs moved: record the new fingerprint only."""

    entry: LedgerEntry
    inputs: str


@dataclass(frozen=True)
class Cancel:
    entry: LedgerEntry
    reason: str


@dataclass(frozen=True)
class MarkSent:
    entry: LedgerEntry
    at: datetime


Action = Create | Update | Cancel | MarkSent | Restamp


@dataclass(frozen=True)
class ArtifactView:
    key: str
    kind: ArtifactKind
    due: datetime
    state: ArtifactState
    recipient: str | None


@dataclass(frozen=True)
class InterviewView:
    interview: Interview
    artifacts: tuple[ArtifactView, ...]


@dataclass(frozen=True)
class AppView:
    company: str
    domain: str | None
    state: ApplicationState
    interviews: tuple[InterviewView, ...]
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    applications: tuple[AppView, ...]  # empty unless asked for (status)
    next_due: datetime | None = None  # when something next needs doing: the daemon wakes then


def plan(snap: Snapshot, settings: Settings, now: datetime, *, views: bool = True) -> Plan:
    """Work out every action for one account. Pure: same input, same plan.

    ``views=False`` skips the per-application view that only ``status`` shows.
    """
    by_app: dict[str, list[Interview]] = defaultdict(list)
    for iv in snap.interviews:
        by_app[iv.application_id].append(iv)
    mail = index_mail(snap.mails, snap.interviews, snap.ledger, settings.public_domains)
    by_interview: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in snap.ledger.values():
        by_interview[entry.interview_id].append(entry)
    actions: list[Action] = []
    apps: list[AppView] = []
    upcoming: list[datetime] = []
    for app_id, interviews in sorted(by_app.items()):
        interviews.sort(key=lambda i: (i.start, i.id))
        app_mail = mail.get(app_id, AppMail([], []))
        ivs = [
            _plan_interview(iv, interviews, app_mail, snap, settings, now, by_interview, actions)
            for iv in interviews
        ]
        if views:
            apps.append(_app_view(interviews, ivs, app_mail, snap, by_interview, now))
        upcoming.extend(_upcoming(ivs, snap.ledger, now))
    known = {iv.id for iv in snap.interviews}
    for iid, entries in sorted(by_interview.items()):
        if iid not in known:  # the event was deleted, or vetoed: its pending items go
            sent = mail.get(entries[0].application_id, AppMail([], [])).sent
            vetoed = iid in snap.vetoed  # not an interview at all: its past reminders go too
            reason = "not an interview (ignored)" if vetoed else "interview removed from the calendar"
            for entry in sorted(entries, key=lambda e: e.key):
                actions.extend(_retire(entry, sent, now, reason, history=not vetoed))
    return Plan(tuple(actions), tuple(apps), min(upcoming, default=None))


def _upcoming(
    planned: Sequence[tuple[CycleFacts, list[Wanted]]], ledger: Mapping[str, LedgerEntry],
    now: datetime,
) -> list[datetime]:
    """When each not-yet-made artifact of a still-open cycle is to be made."""
    out = []
    for facts, wanted in planned:
        closed = facts.closure is not None and facts.closure.at <= now
        for w in wanted:
            if w.create_at > now and not (w.nudge and closed) and (
                w.key not in ledger or ledger[w.key].state is LedgerState.DELETED
            ):
                out.append(w.create_at)
        if facts.closure is None and facts.move_on is not None and facts.move_on > now:
            out.append(facts.move_on)  # the move-on: the cycle closes then
    return out


def _facts(
    iv: Interview, siblings: Sequence[Interview], app_mail: AppMail, snap: Snapshot,
    settings: Settings, now: datetime, entries: Sequence[LedgerEntry],
) -> CycleFacts:
    facts = CycleFacts(iv, snap.notes.get(iv.id, NO_NOTES))
    facts.superseded = any(j.start > iv.start and not j.cancelled for j in siblings if j is not iv)
    for entry in entries:
        if entry.kind is ArtifactKind.THANK_YOU_DRAFT and entry.recipient:
            sent = find_sent(entry, app_mail.sent)
            if sent is not None:
                facts.thank_you_sent[entry.recipient] = sent_at(entry, sent)
            parent = (sent.message_id if sent else None) or entry.message_id
            thread = (sent.thread_id if sent else None) or entry.thread_id
            facts.thread[entry.recipient] = (thread, parent)
    closure = cycle.outcome_closure(snap.outcomes.get(iv.application_id), iv)
    closure = closure or cycle.answer_closure(iv, app_mail.inbound)
    facts.out_of_office = tuple(
        m for m in app_mail.inbound
        if m.classification.kind is ReplyKind.AUTO_REPLY and m.date > iv.end
        and m.classification.return_date is not None and (closure is None or m.date < closure.at)
    )
    if closure is None and not facts.superseded:
        move_on = cycle.move_on_at(facts, settings)
        if move_on <= now:
            closure = Closure(ApplicationState.STALE, move_on)
    facts.closure = closure
    return facts


def _plan_interview(
    iv: Interview, siblings: Sequence[Interview], app_mail: AppMail, snap: Snapshot,
    settings: Settings, now: datetime, by_interview: Mapping[str, list[LedgerEntry]],
    actions: list[Action],
) -> tuple[CycleFacts, list[Wanted]]:
    entries = by_interview.get(iv.id, [])
    facts = _facts(iv, siblings, app_mail, snap, settings, now, entries)
    wanted = cycle.wanted(facts, settings, now)
    closed = facts.closure is not None and facts.closure.at <= now
    active = {w.key: w for w in wanted if not (w.nudge and closed) and w.create_at <= now}
    for w in wanted:
        if w.key in active:
            actions.extend(_converge(w, snap.ledger.get(w.key), app_mail.sent, now))
    reason = f"application {facts.closure.state.value}" if facts.closure else "no longer due"
    if iv.cancelled:
        reason = "interview cancelled"
    # A month of silence closes the cycle, but nobody answered: the drafts it made are still
    # right to send, so they stay. An answer, a decision or a cancellation removes them.
    stale = closed and not iv.cancelled and facts.closure is not None \
        and facts.closure.state is ApplicationState.STALE
    for entry in sorted(entries, key=lambda e: e.key):
        if entry.key not in active and not (stale and entry.kind.is_draft):
            actions.extend(_retire(entry, app_mail.sent, now, reason))
    return facts, wanted


def _converge(
    w: Wanted, entry: LedgerEntry | None, sent: Sequence[MailMessage], now: datetime
) -> list[Action]:
    if entry is None or entry.state is LedgerState.DELETED:
        return [Create(w)]
    if entry.state is not LedgerState.LIVE:
        return []  # sent, kept as edited, or dismissed by the user: theirs now
    if entry.kind.is_draft:
        sent_copy = find_sent(entry, sent)
        if sent_copy is not None:
            return [MarkSent(entry, sent_at(entry, sent_copy))]
    elif entry.due <= now and w.due <= now:
        return []  # a reminder in the past is history
    if entry.inputs == w.inputs and entry.due == w.due:
        return []  # made from the same facts: nothing to render or compare
    artifact = w.artifact
    if artifact.content_hash != entry.content_hash or artifact.due != entry.due:
        return [Update(w, entry)]
    return [Restamp(entry, w.inputs)]


def _retire(
    entry: LedgerEntry, sent: Sequence[MailMessage], now: datetime, reason: str, *,
    history: bool = True,
) -> list[Action]:
    """Remove what no longer belongs; ``history``: a reminder already past stays."""
    if entry.state is not LedgerState.LIVE:
        return []
    if entry.kind.is_draft:
        sent_copy = find_sent(entry, sent)
        if sent_copy is not None:
            return [MarkSent(entry, sent_at(entry, sent_copy))]
        return [Cancel(entry, reason)]
    return [Cancel(entry, reason)] if entry.due > now or not history else []


def find_sent(entry: LedgerEntry, sent: Sequence[MailMessage]) -> MailMessage | None:
    """The sent copy of the draft ``entry`` describes, if the user sent it.

    A copy matches by our key header or Message-ID; failing that, a message to the same
    recipient after the draft was made, in the same thread where the provider has threads
    (clients may drop custom headers and mint new ids on send).
    """
    created = entry.created_at
    for msg in sent:
        if msg.key == entry.key or (entry.message_id and msg.message_id == entry.message_id):
            return msg  # our own key or id: certain, whatever its Date header says
        if created is not None and msg.date < created:
            continue
        to_recipient = entry.recipient is not None and entry.recipient in msg.recipients
        same_thread = msg.thread_id is None or msg.thread_id == entry.thread_id
        if msg.key is None and to_recipient and same_thread:
            return msg
    return None


def sent_at(entry: LedgerEntry, msg: MailMessage) -> datetime:
    """When it went out: a draft moved to Sent/ keeps the Date we wrote, so never earlier
    than the draft itself."""
    return max(msg.date, entry.created_at) if entry.created_at else msg.date


def _app_view(
    interviews: Sequence[Interview], planned: Sequence[tuple[CycleFacts, list[Wanted]]],
    app_mail: AppMail, snap: Snapshot, by_interview: Mapping[str, list[LedgerEntry]],
    now: datetime,
) -> AppView:
    live = [f for f, _ in planned if not f.interview.cancelled]
    latest = live[-1] if live else planned[-1][0]
    state = latest.closure.state if latest.closure and latest.closure.at <= now else ApplicationState.ACTIVE
    views = tuple(
        InterviewView(
            f.interview,
            _artifact_views(f, w, snap.ledger, by_interview.get(f.interview.id, []), now),
        )
        for f, w in planned
    )
    notices = tuple(
        f"mail to {addr} bounced on {m.date:%Y-%m-%d}: check the address"
        for m in app_mail.inbound if m.classification.kind is ReplyKind.BOUNCE
        for addr in m.classification.bounced_recipients
    )
    newest = interviews[-1]  # the company's name as the latest invitation spells it
    return AppView(newest.company, newest.domain, state, views, notices)


def _artifact_views(
    facts: CycleFacts, wanted: Sequence[Wanted], ledger: Mapping[str, LedgerEntry],
    entries: Sequence[LedgerEntry], now: datetime,
) -> tuple[ArtifactView, ...]:
    closed = facts.closure is not None and facts.closure.at <= now
    seen: dict[str, ArtifactView] = {}
    for w in wanted:
        entry = ledger.get(w.key)
        if entry is not None and entry.state is not LedgerState.DELETED:
            continue
        if (w.nudge and closed) or facts.interview.cancelled:
            if entry is None:
                continue
            state = ArtifactState.CANCELLED
        else:
            state = ArtifactState.PLANNED
        seen[w.key] = ArtifactView(w.key, w.kind, w.due, state, w.recipient)
    for entry in entries:
        if entry.key not in seen:
            seen[entry.key] = ArtifactView(
                entry.key, entry.kind, entry.due, entry_state(entry, now), entry.recipient
            )
    return tuple(sorted(seen.values(), key=lambda a: (a.due, a.key)))


def entry_state(entry: LedgerEntry, now: datetime) -> ArtifactState:
    """How ``status`` names a ledger row's state."""
    return {
        LedgerState.SENT: ArtifactState.SENT,
        LedgerState.KEPT_EDITED: ArtifactState.KEPT_EDITED,
        LedgerState.DISMISSED: ArtifactState.CANCELLED,
        LedgerState.DELETED: ArtifactState.CANCELLED,
        LedgerState.PENDING_CREATE: ArtifactState.PLANNED,
        LedgerState.PENDING_UPDATE: ArtifactState.CREATED,
        LedgerState.PENDING_DELETE: ArtifactState.CREATED,
    }.get(
        entry.state,
        ArtifactState.DONE if not entry.kind.is_draft and entry.due <= now else ArtifactState.CREATED,
    )
