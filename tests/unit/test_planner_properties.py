"""Hypothesis properties of the pure planner (docs/testing.md layer 1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_followup.config.templates import load_templates
from inbox_followup.core import letters, rules
from inbox_followup.core.cycle import Settings
from inbox_followup.core.matching import Mail
from inbox_followup.core.model import (
    ArtifactKind,
    Classification,
    Interview,
    LedgerEntry,
    LedgerState,
    MailMessage,
    Notes,
    Person,
    ReplyKind,
)
from inbox_followup.core.planner import Cancel, Create, MarkSent, Plan, Restamp, Snapshot, Update, plan

ZONES = ["America/Chicago", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def core(zone: str) -> Settings:
    cal = rules.WorkCalendar(ZoneInfo(zone), rules.WorkingHours(),
                             rules.holiday_dates("US", range(2025, 2029)))
    profile = letters.Profile(load_templates(None), name="Alex")
    return Settings(cal=cal, timing=rules.Timing(), profile=profile)


@st.composite
def interviews(draw: st.DrawFn) -> list[Interview]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        company = draw(st.sampled_from(["acme", "globex", "initech"]))
        start = BASE + timedelta(minutes=draw(st.integers(0, 60 * 24 * 400)))
        people = tuple(
            Person(f"{name}@{company}.example", name.title())
            for name in draw(st.lists(st.sampled_from(["jane", "raj", "li"]), max_size=3, unique=True))
        )
        out.append(Interview(
            id=f"iv{i}", event_id=f"ev{i}", title=f"Interview with {company}", company=company.title(),
            start=start, end=start + timedelta(minutes=draw(st.sampled_from([30, 45, 60, 240]))),
            interviewers=people, domain=f"{company}.example",
            cancelled=draw(st.booleans()) and draw(st.booleans()),
        ))
    return out


@st.composite
def notes(draw: st.DrawFn) -> Notes:
    return Notes(
        talking_points=tuple(draw(st.lists(st.text(min_size=1, max_size=30), max_size=2))),
        decision_date=draw(st.none() | st.dates(date(2026, 1, 1), date(2027, 6, 1))),
        few_days=draw(st.booleans()), email_only=draw(st.booleans()),
    )


def apply_in_memory(p: Plan, ledger: dict[str, LedgerEntry], account: str,
                    now: datetime) -> dict[str, LedgerEntry]:
    """What reconcile does to the ledger when every call succeeds and nobody edits."""
    out = dict(ledger)
    for action in p.actions:
        if isinstance(action, Create):
            a = action.artifact
            out[a.key] = LedgerEntry(a.key, account, a.kind, a.interview_id, a.application_id,
                                     a.due, LedgerState.LIVE, a.content_hash, a.recipient,
                                     provider_id=a.key, created_at=now,
                                     inputs=action.wanted.inputs)
        elif isinstance(action, Update):
            out[action.entry.key] = replace(action.entry, due=action.artifact.due,
                                            content_hash=action.artifact.content_hash,
                                            inputs=action.wanted.inputs)
        elif isinstance(action, Restamp):
            out[action.entry.key] = replace(action.entry, inputs=action.inputs)
        elif isinstance(action, Cancel):
            out[action.entry.key] = replace(action.entry, state=LedgerState.DELETED)
        elif isinstance(action, MarkSent):
            out[action.entry.key] = replace(action.entry, state=LedgerState.SENT)
    return out


def snap(ivs: list[Interview], ledger: dict[str, LedgerEntry], note: Notes,
         mails: tuple[Mail, ...] = ()) -> Snapshot:
    return Snapshot("acct", tuple(ivs), mails, {iv.id: note for iv in ivs}, {}, ledger)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interviews(), notes(), st.sampled_from(ZONES), st.integers(0, 60 * 24 * 450))
def test_same_input_same_plan_and_replanning_converges(
    ivs: list[Interview], note: Notes, zone: str, minutes: int
) -> None:
    s = core(zone)
    now = BASE + timedelta(minutes=minutes)
    first = plan(snap(ivs, {}, note), s, now)
    assert first == plan(snap(ivs, {}, note), s, now)
    ledger = apply_in_memory(first, {}, "acct", now)
    again = plan(snap(ivs, ledger, note), s, now)
    assert again.actions == ()
    # and an hour later, applying whatever became due, it converges again
    later = now + timedelta(hours=1)
    ledger = apply_in_memory(plan(snap(ivs, ledger, note), s, later), ledger, "acct", later)
    assert plan(snap(ivs, ledger, note), s, later).actions == ()


EXACT = {ArtifactKind.NOTES_REMINDER, ArtifactKind.THANK_YOU_REMINDER}


@settings(max_examples=60, deadline=None)
@given(interviews(), notes(), st.sampled_from(ZONES))
def test_nudges_land_in_working_hours_and_follow_up_after_thanks(
    ivs: list[Interview], note: Notes, zone: str
) -> None:
    s = core(zone)
    p = plan(snap(ivs, {}, note), s, BASE - timedelta(days=1))
    for app in p.applications:
        for view in app.interviews:
            due = {a.kind: a.due for a in view.artifacts}
            for a in view.artifacts:
                local = s.cal.local(a.due)
                if a.kind.is_draft or a.kind in EXACT:
                    continue
                assert s.cal.is_working_day(local.date()), (a.kind, local)
                assert s.cal.hours.start <= local.time() <= s.cal.hours.end, (a.kind, local)
            if ArtifactKind.FOLLOW_UP_REMINDER in due:
                assert due[ArtifactKind.FOLLOW_UP_REMINDER] >= due[ArtifactKind.THANK_YOU_REMINDER]
                assert due[ArtifactKind.FOLLOW_UP_REMINDER] > view.interview.end


@settings(max_examples=40, deadline=None)
@given(interviews(), st.sampled_from(ZONES), st.integers(1, 60 * 24 * 20))
def test_an_answer_cancels_every_pending_nudge_and_nothing_else(
    ivs: list[Interview], zone: str, after: int
) -> None:
    s = core(zone)
    iv = ivs[0]
    now = iv.end + timedelta(minutes=1)
    ledger = apply_in_memory(plan(snap(ivs, {}, Notes()), s, now), {}, "acct", now)
    answer_at = iv.end + timedelta(minutes=after)
    reply = MailMessage(id="r1", folder="inbox", date=answer_at,
                        sender=Person(f"boss@{iv.domain}", "Boss"), subject="Re: hello")
    mails = (Mail(reply, Classification(ReplyKind.HUMAN)),)
    later = answer_at + timedelta(minutes=1)
    p = plan(snap(ivs, ledger, Notes(), mails), s, later)
    cancelled = {a.entry.key for a in p.actions if isinstance(a, Cancel)}
    # Time passing alone may close other cycles (a month without an answer): compare with
    # the same moment without the reply, so only what the answer did is checked.
    quiet = plan(snap(ivs, ledger, Notes()), s, later)
    by_answer = cancelled - {a.entry.key for a in quiet.actions if isinstance(a, Cancel)}
    same_app = {i.id for i in ivs if i.application_id == iv.application_id}
    for entry in ledger.values():
        if entry.interview_id not in same_app:
            assert entry.key not in by_answer  # nothing of other applications
    mine = [e for e in ledger.values() if e.interview_id == iv.id and e.state is LedgerState.LIVE]
    for entry in mine:
        pending = entry.kind.is_draft or entry.due > later
        if entry.kind is ArtifactKind.NOTES_REMINDER or iv.cancelled:
            continue
        if pending and entry.kind is not ArtifactKind.NOTES_REMINDER:
            assert entry.key in cancelled, entry.kind
    created = [a.artifact.kind for a in p.actions if isinstance(a, Create)
               and a.artifact.interview_id == iv.id]
    assert not set(created) & {ArtifactKind.FOLLOW_UP_DRAFT, ArtifactKind.CALL_REMINDER,
                               ArtifactKind.FOLLOW_UP_REMINDER, ArtifactKind.MOVE_ON_REMINDER}
