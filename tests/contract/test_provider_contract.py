"""The provider contract: the same tests, through the same Provider methods, for every backend.

State is checked the way the store keeps it (:func:`apply_page`), so "the cursor expired" or
"a page was re-read" must never lose or duplicate an event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox_followup.core.model import (
    Artifact,
    ArtifactKind,
    CalendarEvent,
    CalendarPage,
    DraftContent,
    Person,
    ReminderContent,
    SyncWindow,
    artifact_key,
)

from .harness import Harness

START = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
JANE = Person("jane.doe@acme.io", "Jane Doe")
NOTES_WITHIN_PASSES = 5  # notes typed into a reminder must come back within this many passes


def apply_page(state: dict[str, CalendarEvent], page: CalendarPage) -> None:
    for source in page.replaced_sources:
        for key in [k for k, e in state.items() if e.source == source]:
            del state[key]
    for removed in page.removed_ids:
        state.pop(removed, None)
    for event in page.events:
        state[event.id] = event


def interviews(state: dict[str, CalendarEvent]) -> list[CalendarEvent]:
    return [e for e in state.values() if e.key is None and e.status != "CANCELLED"]


def add_interview(h: Harness, uid: str = "iv-1", start: datetime = START) -> None:
    h.add_event(uid, "Interview with ACME", start, start + timedelta(hours=1),
                [(JANE.email, JANE.name), (h.user_address, None)], organizer=JANE.email)


def reminder(key: str = "ifu-abc-notes_reminder-self", start: datetime = END) -> Artifact:
    content = ReminderContent("Write interview notes — ACME", "What went well:\n", start)
    return Artifact(key, ArtifactKind.NOTES_REMINDER, "abc", "app", start, reminder=content)


def draft(kind: ArtifactKind = ArtifactKind.THANK_YOU_DRAFT, body: str = "Hi Jane,\n\nThanks.",
          subject: str = "Thank you — ACME", **thread: str | None) -> Artifact:
    key = artifact_key("abc", kind, JANE.email)
    content = DraftContent(JANE, subject, body, thread.get("in_reply_to"),
                           (thread["in_reply_to"],) if thread.get("in_reply_to") else (),
                           thread.get("thread_id"))
    return Artifact(key, kind, "abc", "app", END, JANE.email, draft=content)


def test_full_read_then_nothing_new(harness: Harness) -> None:
    add_interview(harness)
    p = harness.new_provider()
    state: dict[str, CalendarEvent] = {}
    page = p.calendar_changes(None, WINDOW)
    apply_page(state, page)
    [event] = interviews(state)
    assert event.title == "Interview with ACME"
    assert event.start == START and event.end == END
    organizer = {event.organizer.email} if event.organizer else set()
    assert JANE.email in {a.email for a in event.attendees} | organizer
    again = p.calendar_changes(page.cursor, WINDOW)
    apply_page(state, again)
    assert [e.id for e in interviews(state)] == [event.id]


def test_new_moved_and_cancelled_events_are_seen(harness: Harness) -> None:
    add_interview(harness)
    p = harness.new_provider()
    state: dict[str, CalendarEvent] = {}
    page = p.calendar_changes(None, WINDOW)
    apply_page(state, page)
    add_interview(harness, "iv-2", START + timedelta(days=2))
    page = p.calendar_changes(page.cursor, WINDOW)
    apply_page(state, page)
    assert len(interviews(state)) == 2
    harness.move_event("iv-1", START + timedelta(days=1), END + timedelta(days=1))
    page = p.calendar_changes(page.cursor, WINDOW)
    apply_page(state, page)
    starts = sorted(e.start for e in interviews(state))
    assert starts == [START + timedelta(days=1), START + timedelta(days=2)]
    harness.cancel_event("iv-2")
    page = p.calendar_changes(page.cursor, WINDOW)
    apply_page(state, page)
    assert [e.start for e in interviews(state)] == [START + timedelta(days=1)]


def test_an_expired_cursor_loses_nothing(harness: Harness) -> None:
    add_interview(harness)
    p = harness.new_provider()
    state: dict[str, CalendarEvent] = {}
    page = p.calendar_changes(None, WINDOW)
    apply_page(state, page)
    mail = p.mail_changes(None, WINDOW)
    harness.expire_cursors()
    apply_page(state, p.calendar_changes(page.cursor, WINDOW))
    assert len(interviews(state)) == 1
    p.mail_changes(mail.cursor, WINDOW)  # must not raise: a bounded re-scan instead


@pytest.mark.parametrize("cursor", ["{not json", "[1, 2]", '{"v": 99, "p": "x"}', '"text"'])
def test_an_unreadable_cursor_is_a_full_read(harness: Harness, cursor: str) -> None:
    """A cursor from a damaged state, or of another version, costs a full read of the
    window (every provider decodes cursors in one place: providers/cursor.py), never a
    crash, and never an empty page that would look like every event was deleted."""
    add_interview(harness)
    raw = (
        b"From: Jane Doe <jane.doe@acme.io>\r\nTo: alex.morgan@example.com\r\n"
        b"Subject: Re: Thank you\r\nDate: Mon, 23 Nov 2026 10:00:00 -0600\r\n"
        b"Message-ID: <r2@acme.io>\r\n\r\nThanks Alex!\r\n"
    )
    harness.deliver(raw)
    p = harness.new_provider()
    page = p.calendar_changes(cursor, WINDOW)
    assert page.replaced_sources  # complete: the store may drop what is not in it
    state: dict[str, CalendarEvent] = {}
    apply_page(state, page)
    assert [e.title for e in interviews(state)] == ["Interview with ACME"]
    mail = p.mail_changes(cursor, WINDOW)
    assert [m.message_id for m in mail.messages if m.folder == "inbox"] == ["<r2@acme.io>"]


def test_reminders_are_idempotent_by_key(harness: Harness) -> None:
    p = harness.new_provider()
    ref = p.put_event(reminder(), None)
    p.flush()
    p.put_event(reminder(), ref)
    p.flush()
    assert list(harness.reminders()) == [reminder().key]
    moved = reminder(start=END + timedelta(days=1))
    p.put_event(moved, ref)
    p.flush()
    assert harness.reminders()[moved.key].start == END + timedelta(days=1)
    again = harness.new_provider()
    found = again.find_by_key(moved.key, False)
    assert found is not None
    again.delete_event(found)
    again.flush()
    assert harness.reminders() == {}
    again.delete_event(found)  # a second delete is a no-op
    again.flush()
    assert again.find_by_key(moved.key, False) is None


def test_draft_round_trip_keeps_the_fingerprint(harness: Harness) -> None:
    p = harness.new_provider()
    a = draft(body="Hi Jane,\n\nThank you — ça m'a plu.\nBest,\nAlex")
    ref = p.put_draft(a, None)
    seen = harness.drafts()
    assert list(seen) == [a.key]
    assert seen[a.key].fingerprint == a.content_hash
    snap = p.get_draft(ref)
    assert snap is not None and snap.fingerprint == a.content_hash
    found = harness.new_provider().find_by_key(a.key, True)
    assert found is not None


def test_rewriting_a_draft_replaces_it(harness: Harness) -> None:
    p = harness.new_provider()
    ref = p.put_draft(draft(), None)
    newer = draft(body="Hi Jane,\n\nThanks, and I forgot to say: I speak Go.")
    ref2 = p.put_draft(newer, ref)
    assert [s.fingerprint for s in harness.drafts().values()] == [newer.content_hash]
    snap = p.get_draft(ref2)
    assert snap is not None and snap.fingerprint == newer.content_hash


def test_user_edit_and_delete_are_visible(harness: Harness) -> None:
    p = harness.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    harness.user_edits_draft(a.key, "Hi Jane,\n\nMy own words.")
    snap = p.get_draft(ref)
    assert snap is not None and snap.fingerprint != a.content_hash
    harness.user_deletes_draft(a.key)
    assert p.get_draft(ref) is None
    p.delete_draft(ref)  # already gone: no error


def test_a_sent_draft_shows_up_as_sent_mail(harness: Harness) -> None:
    p = harness.new_provider()
    mail = p.mail_changes(None, WINDOW)
    a = draft()
    ref = p.put_draft(a, None)
    harness.user_sends_draft(a.key)
    assert p.get_draft(ref) is None
    page = p.mail_changes(mail.cursor, WINDOW)
    sent = [m for m in page.messages if m.folder == "sent"]
    assert len(sent) == 1
    m = sent[0]
    assert m.key == a.key or (ref.message_id and m.message_id == ref.message_id) or (
        ref.thread_id and m.thread_id == ref.thread_id
    )
    assert JANE.email in m.recipients


def test_inbound_mail_is_seen_once(harness: Harness) -> None:
    p = harness.new_provider()
    first = p.mail_changes(None, WINDOW)
    raw = (
        b"From: Jane Doe <jane.doe@acme.io>\r\nTo: alex.morgan@example.com\r\n"
        b"Subject: Re: Thank you\r\nDate: Mon, 23 Nov 2026 10:00:00 -0600\r\n"
        b"Message-ID: <r1@acme.io>\r\nIn-Reply-To: <t1@example.com>\r\n\r\nThanks Alex!\r\n"
    )
    harness.deliver(raw)
    page = p.mail_changes(first.cursor, WINDOW)
    inbound = [m for m in page.messages if m.folder == "inbox"]
    assert len(inbound) == 1
    m = inbound[0]
    assert m.sender is not None and m.sender.email == JANE.email
    assert m.subject == "Re: Thank you"
    assert "<t1@example.com>" in m.references
    later = p.mail_changes(page.cursor, WINDOW)
    assert [x for x in later.messages if x.message_id == "<r1@acme.io>"] == []


def test_follow_up_goes_in_the_thank_you_thread(harness: Harness) -> None:
    p = harness.new_provider()
    thanks = draft()
    ref = p.put_draft(thanks, None)
    harness.user_sends_draft(thanks.key)
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, subject="Re: Thank you — ACME",
                   in_reply_to=ref.message_id, thread_id=ref.thread_id)
    fref = p.put_draft(follow, None)
    if ref.thread_id is not None:
        assert fref.thread_id == ref.thread_id
    assert harness.drafts()[follow.key].subject == "Re: Thank you — ACME"


def test_notes_typed_into_the_reminder_come_back(harness: Harness) -> None:
    p = harness.new_provider()
    cursor = p.calendar_changes(None, WINDOW).cursor
    a = reminder()
    p.put_event(a, None)
    p.flush()
    cursor = p.calendar_changes(cursor, WINDOW).cursor
    harness.user_writes_reminder_description(a.key, "What stood out: their move to Rust")
    mine: list[CalendarEvent] = []
    for _ in range(NOTES_WITHIN_PASSES):  # a provider may read its reminders every few passes
        page = p.calendar_changes(cursor, WINDOW)
        cursor = page.cursor
        mine += [e for e in page.events if e.key == a.key]
        if mine:
            break
    assert mine and "move to Rust" in mine[-1].description


def test_nothing_is_ever_sent(harness: Harness) -> None:
    p = harness.new_provider()
    ref = p.put_draft(draft(), None)
    p.delete_draft(ref)
    p.put_event(reminder(), None)
    p.flush()
    assert harness.send_attempts() == 0
