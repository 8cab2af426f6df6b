"""The Microsoft provider's calendar half against the Graph fake: delta rounds, reminders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import Artifact, ArtifactKind, ItemRef, ReminderContent, SyncWindow
from inbox_followup.providers.microsoft.calendar import (
    REMINDERS_EVERY,
    event_from_graph,
    key_from_transaction,
)
from inbox_followup.providers.microsoft.graph import parse_time
from tests.contract.harness_microsoft import USER, MicrosoftHarness

START = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
ME = frozenset({USER})


@pytest.fixture
def h(tmp_path: Path) -> Iterator[MicrosoftHarness]:
    harness = MicrosoftHarness(tmp_path)
    yield harness
    harness.close()


def invite(h: MicrosoftHarness, uid: str, start: datetime = START) -> None:
    h.add_event(uid, "Interview with ACME", start, start + timedelta(hours=1),
                [("jane@acme.io", "Jane")], organizer="jane@acme.io")


def reminder(key: str = "ifu-abc-notes_reminder-self", text: str = "What went well:") -> Artifact:
    content = ReminderContent("Write interview notes", text, START + timedelta(hours=1))
    return Artifact(key, ArtifactKind.NOTES_REMINDER, "abc", "app", START, reminder=content)


def graph_event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "AAMk1", "iCalUId": "uid-1", "subject": "Interview",
        "start": {"dateTime": "2026-11-19T20:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-19T21:00:00.1234567", "timeZone": "UTC"},
        "organizer": {"emailAddress": {"name": "Jane", "address": "Jane@ACME.io"}},
        "attendees": [
            {"type": "required", "status": {"response": "accepted"},
             "emailAddress": {"name": "Jane", "address": "jane@acme.io"}},
            {"type": "resource", "status": {"response": "accepted"},
             "emailAddress": {"name": "Room 4", "address": "room4@acme.io"}},
        ],
        "responseStatus": {"response": "declined"},
        "body": {"contentType": "html", "content": "<p>Phone&nbsp;screen</p><p>Bring &amp; tell</p>"},
    }
    base.update(fields)
    return base


def test_mapping_of_a_graph_event() -> None:
    event = event_from_graph(graph_event(), ME, "primary")
    assert event.start == START and event.end == START + timedelta(hours=1, microseconds=123456)
    assert event.organizer is not None and event.organizer.email == "jane@acme.io"
    kinds = {a.email: (a.cutype, a.partstat, a.is_self) for a in event.attendees}
    assert kinds["room4@acme.io"][0] == "RESOURCE"
    assert kinds[USER] == ("INDIVIDUAL", "DECLINED", True)  # from responseStatus
    assert event.description == "Phone screen\nBring & tell"
    cancelled = event_from_graph(graph_event(isCancelled=True, isAllDay=True), ME, "primary")
    assert cancelled.status == "CANCELLED" and cancelled.all_day


def test_windows_zone_names_and_offsets_are_read() -> None:
    eastern = graph_event(start={"dateTime": "2026-11-19T15:00:00.0000000",
                                 "timeZone": "Eastern Standard Time"})
    assert event_from_graph(eastern, ME, "primary").start == START
    assert parse_time("2026-11-19T20:00:00Z") == START


@given(st.text(alphabet="abcdefghij-@.", min_size=1, max_size=30),
       st.text("0123456789abcdef", min_size=12, max_size=12))
@settings(max_examples=50)
def test_the_key_survives_the_transaction_id(tail: str, nonce: str) -> None:
    key = f"ifu-{tail}"
    assert key_from_transaction(f"{key}#{nonce}") == key
    assert key_from_transaction("someone-else's-id") is None


def test_deleted_occurrences_come_as_removed_ids(h: MicrosoftHarness) -> None:
    invite(h, "a")
    invite(h, "b", START + timedelta(days=1))
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    ids = {e.uid: e.id for e in page.events}
    h.fake.delete_event("b")
    page = p.calendar_changes(page.cursor, WINDOW)
    assert page.removed_ids == (ids["b"],) and page.events == ()
    assert page.replaced_sources == frozenset()


def test_paging_follows_next_links_and_keeps_every_event(h: MicrosoftHarness) -> None:
    h.fake.max_page = 3
    for i in range(8):
        invite(h, f"iv{i}", START + timedelta(hours=2 * i))
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert len(page.events) == 8
    assert h.fake.count("GET", "calendarView/delta") == 3


def test_expired_delta_means_a_full_read_marked_replaced(h: MicrosoftHarness) -> None:
    invite(h, "a")
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    h.fake.expire_deltas()
    again = p.calendar_changes(page.cursor, WINDOW)
    assert [e.uid for e in again.events] == ["a"]
    assert "primary" in again.replaced_sources


def test_a_window_beyond_the_round_starts_a_new_round(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    later = SyncWindow(WINDOW.start + timedelta(days=30), WINDOW.end + timedelta(days=30))
    invite(h, "far", WINDOW.end + timedelta(days=20))
    again = p.calendar_changes(page.cursor, later)
    assert "primary" in again.replaced_sources
    assert [e.uid for e in again.events] == ["far"]


def test_idle_sync_requests(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    p.put_event(reminder(), None)
    cal, mail = p.calendar_changes(None, WINDOW), p.mail_changes(None, WINDOW)
    costs = []
    cursor = cal.cursor
    for _ in range(2 * REMINDERS_EVERY):
        h.fake.reset_counts()
        p2 = h.new_provider()  # a new process: everything it needs is in the cursors
        cursor = p2.calendar_changes(cursor, WINDOW).cursor
        p2.mail_changes(mail.cursor, WINDOW)
        costs.append(h.fake.count())
    # 3 deltas every pass; the dedicated calendar's changed-since query every 5th
    assert costs == ([3] * (REMINDERS_EVERY - 1) + [4]) * 2


def test_reminders_on_the_primary_calendar_come_through_the_delta(tmp_path: Path) -> None:
    h = MicrosoftHarness(tmp_path, reminders_calendar="primary")
    try:
        p = h.new_provider()
        cal, mail = p.calendar_changes(None, WINDOW), p.mail_changes(None, WINDOW)
        ref = p.put_event(reminder(), None)
        cal = p.calendar_changes(cal.cursor, WINDOW)
        h.fake.reset_counts()
        h.user_writes_reminder_description(reminder().key, "They use Rust\nDecision Friday")
        page = p.calendar_changes(cal.cursor, WINDOW)
        p.mail_changes(mail.cursor, WINDOW)
        assert h.fake.count() == 3
        [event] = page.events
        assert event.id == ref.provider_id and event.key == reminder().key
        assert "They use Rust" in event.description
        assert len(h.fake.state.calendars) == 1  # no calendar of its own was made
    finally:
        h.close()


def test_a_retried_create_is_dropped_by_transaction_id(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    h.fake.fail_next(1, 503, None, after=True, method="POST", path="/events")  # answer lost
    ref = p.put_event(reminder(), None)
    assert list(h.reminders()) == [reminder().key]
    assert h.fake.events_with_key()[reminder().key]["id"] == ref.provider_id
    assert len(h.sleeps) == 1  # one retry of the POST, with the same transactionId


def test_put_without_a_ref_updates_the_one_already_there(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    first = p.put_event(reminder(), None)
    second = h.new_provider().put_event(reminder(text="Changed"), None)
    assert second.provider_id == first.provider_id
    assert h.reminders()[reminder().key].description == "Changed"


def test_the_reminders_calendar_is_made_once_and_again_when_deleted(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    p.put_event(reminder("ifu-a-notes_reminder-self"), None)
    h.new_provider().put_event(reminder("ifu-b-notes_reminder-self"), None)
    names = [c["name"] for c in h.fake.state.calendars.values()]
    assert names.count("Interview follow-ups") == 1
    with h.fake.state.lock:
        own = next(c for c in h.fake.state.calendars.values() if c["name"] != "Calendar")
        del h.fake.state.calendars[own["id"]]
        for event_id in [i for i, e in h.fake.state.events.items() if e["_cal"] == own["id"]]:
            h.fake.state.remove_event(event_id)
    ref = h.new_provider().put_event(reminder("ifu-c-notes_reminder-self"), None)
    assert ref.provider_id in h.fake.state.events
    assert list(h.reminders()) == ["ifu-c-notes_reminder-self"]


def test_update_of_a_deleted_reminder_creates_it_again(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    ref = p.put_event(reminder(), None)
    p.delete_event(ref)
    again = p.put_event(reminder(text="back"), ItemRef(ref.key, ref.provider_id))
    assert again.provider_id != ref.provider_id
    assert h.reminders()[reminder().key].description == "back"


def test_occurrences_of_a_series_get_the_masters_subject_and_people(h: MicrosoftHarness) -> None:
    # calendarView delta sends an occurrence as id/type/seriesMasterId/start/end only
    # (microsoftgraph/microsoft-graph-docs-contrib issue #34).
    starts = [START + timedelta(days=7 * i) for i in range(3)]
    h.fake.add_series("series-1", "Interview loop with ACME", starts, timedelta(hours=1),
                      [("jane@acme.io", "Jane")], organizer="jane@acme.io")
    invite(h, "single")
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    series = sorted((e for e in page.events if e.title == "Interview loop with ACME"),
                    key=lambda e: e.start)
    assert [e.start for e in series] == starts
    for event in series:
        assert event.organizer is not None and event.organizer.email == "jane@acme.io"
        assert "jane@acme.io" in {a.email for a in event.attendees}
        assert len({e.id for e in series}) == 3
    assert h.fake.count("GET", "/me/events/") == 1  # the master once, not each occurrence
    h.fake.rename_series("series-1", "Interview loop with ACME (onsite)")
    page = p.calendar_changes(page.cursor, WINDOW)
    assert sorted(e.title for e in page.events) == ["Interview loop with ACME (onsite)"] * 3
