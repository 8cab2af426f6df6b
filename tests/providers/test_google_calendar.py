"""The Google provider's calendar half against the loopback fake, through the real client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import Artifact, ArtifactKind, ReminderContent, SyncWindow
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.providers.google.calendar import REMINDERS_EVERY, event_id_for

from ..contract.harness_google import USER, GoogleHarness
from ..fakes.google_fake import LEAST_PRIVILEGE, S

START = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


@pytest.fixture
def h(tmp_path: Path) -> Iterator[GoogleHarness]:
    harness = GoogleHarness(tmp_path)
    yield harness
    harness.close()


def reminder(key: str = "ifu-abc-notes_reminder-self", minutes: int = 10,
             description: str = "What went well:") -> Artifact:
    content = ReminderContent("Write interview notes — ACME", description, START, minutes)
    return Artifact(key, ArtifactKind.NOTES_REMINDER, "abc", "app", START, reminder=content)


def put_primary(h: GoogleHarness, **event: object) -> dict[str, object]:
    body = {"summary": "Interview with ACME", "start": {"dateTime": START.isoformat()},
            "end": {"dateTime": (START + timedelta(hours=1)).isoformat()}, **event}
    return h.fake.calendar.user_put("primary", body)


def test_events_are_mapped_with_people_rooms_and_states(h: GoogleHarness) -> None:
    put_primary(h, organizer={"email": "Jane.Doe@ACME.io", "displayName": "Jane Doe"},
                status="tentative", attendees=[
                    {"email": "Jane.Doe@ACME.io", "responseStatus": "accepted"},
                    {"email": USER, "self": True, "responseStatus": "declined"},
                    {"email": "c_123@resource.calendar.google.com", "resource": True},
                ])
    put_primary(h, summary="Vacation", start={"date": "2026-12-01"}, end={"date": "2026-12-02"})
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert page.replaced_sources == frozenset({"primary"})
    by_title = {e.title: e for e in page.events}
    iv = by_title["Interview with ACME"]
    assert iv.status == "TENTATIVE" and iv.source == "primary" and iv.key is None
    assert iv.organizer is not None and iv.organizer.email == "jane.doe@acme.io"
    people = {a.email: a for a in iv.attendees}
    assert people["jane.doe@acme.io"].partstat == "ACCEPTED"
    assert people[USER].is_self and people[USER].partstat == "DECLINED"
    assert people["c_123@resource.calendar.google.com"].cutype == "ROOM"
    vacation = by_title["Vacation"]
    assert vacation.all_day and vacation.start == datetime(2026, 12, 1, tzinfo=UTC)


def test_full_read_follows_every_page_and_keeps_only_the_window(h: GoogleHarness) -> None:
    for i in range(2600):
        put_primary(h, summary=f"e{i}", start={"dateTime": (START + timedelta(hours=i)).isoformat()},
                    end={"dateTime": (START + timedelta(hours=i, minutes=30)).isoformat()})
    put_primary(h, summary="long ago", start={"dateTime": "2025-01-01T10:00:00Z"},
                end={"dateTime": "2025-01-01T11:00:00Z"})
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    assert h.fake.calls("calendar.events.list") == 2  # 2,601 events, pages of 2,500
    titles = {e.title for e in page.events}
    assert "long ago" not in titles
    assert len([t for t in titles if t.startswith("e")]) == sum(
        START + timedelta(hours=i) < WINDOW.end for i in range(2600))
    h.fake.reset_counters()
    again = p.calendar_changes(page.cursor, WINDOW)
    assert again.events == () and again.removed_ids == ()
    assert h.fake.requests == 1


def test_incremental_reads_send_no_parameter_google_forbids(h: GoogleHarness) -> None:
    put_primary(h)
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    put_primary(h, summary="Phone screen with Initech")
    page = p.calendar_changes(page.cursor, WINDOW)
    assert [e.title for e in page.events] == ["Phone screen with Initech"]
    incremental = [q for m, q in h.fake.log if m == "calendar.events.list" and "syncToken" in q]
    assert incremental
    forbidden = {"timeMin", "timeMax", "q", "orderBy", "privateExtendedProperty", "updatedMin"}
    assert all(not forbidden & q.keys() for q in incremental)


def test_recurring_series_come_as_occurrences_and_a_deleted_one_is_removed(h: GoogleHarness) -> None:
    put_primary(h, id="series01", recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    ids = sorted(e.id for e in page.events)
    assert len(ids) == 3 and all(i.startswith("series01_") for i in ids)
    assert len({e.uid for e in page.events}) == 1
    h.fake.calendar.user_delete("primary", ids[1])
    later = p.calendar_changes(page.cursor, WINDOW)
    assert ids[1] in later.removed_ids


def test_an_expired_sync_token_means_a_full_read_marked_as_such(h: GoogleHarness) -> None:
    put_primary(h)
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    h.fake.calendar.expire_sync_tokens()
    h.fake.reset_counters()
    again = p.calendar_changes(page.cursor, WINDOW)
    assert again.replaced_sources == frozenset({"primary"})
    assert [e.title for e in again.events] == ["Interview with ACME"]
    assert h.fake.calls("calendar.events.list") == 2  # the 410, then the full read


def test_reminder_events_carry_the_key_a_popup_and_a_valid_id(h: GoogleHarness) -> None:
    p = h.new_provider()
    ref = p.put_event(reminder(minutes=10), None)
    [cal] = h.fake.calendar.app_calendars()
    assert cal.summary == "Interview follow-ups"
    [ev] = h.fake.calendar.live_events(cal.id)
    assert ev["id"] == ref.provider_id == event_id_for(reminder().key)
    assert ev["extendedProperties"]["private"] == {"ifu_key": reminder().key}
    assert ev["reminders"] == {"useDefault": False, "overrides": [{"method": "popup", "minutes": 10}]}
    assert ev["transparency"] == "transparent"
    assert h.fake.calendar.live_events("primary") == []  # never writes to the user's calendar


def test_a_restarted_provider_reuses_the_calendar_and_a_409_updates(h: GoogleHarness) -> None:
    h.new_provider().put_event(reminder(description="first"), None)
    # As after a crash before the ledger recorded the event: no ref, and a new process.
    again = h.new_provider()
    ref = again.put_event(reminder(description="second"), None)
    assert len(h.fake.calendar.app_calendars()) == 1
    assert h.fake.calls("calendar.calendars.insert") == 1
    assert h.fake.calls("calendar.events.insert") == 2 and h.fake.calls("calendar.events.update") == 1
    assert [r.description for r in h.reminders().values()] == ["second"]
    assert again.find_by_key(reminder().key, False) == ref


def test_a_reminder_the_user_deleted_comes_back_when_put_again(h: GoogleHarness) -> None:
    p = h.new_provider()
    ref = p.put_event(reminder(), None)
    [cal] = h.fake.calendar.app_calendars()
    h.fake.calendar.user_delete(cal.id, ref.provider_id)
    assert p.find_by_key(reminder().key, False) is None
    p.put_event(reminder(), None)  # insert -> 409 (the id lives on, cancelled) -> update
    assert list(h.reminders()) == [reminder().key]


def test_a_deleted_reminders_calendar_is_reported_and_made_again(h: GoogleHarness) -> None:
    p = h.new_provider()
    cursor = p.calendar_changes(None, WINDOW).cursor
    p.put_event(reminder(), None)
    page = p.calendar_changes(cursor, WINDOW)
    assert [e.key for e in page.events] == [reminder().key]
    assert page.replaced_sources == frozenset({"reminders"})
    [cal] = h.fake.calendar.app_calendars()
    del h.fake.calendar.calendars[cal.id]  # the user deleted the whole calendar
    for _ in range(REMINDERS_EVERY):  # the reminders calendar is read every few passes
        page = p.calendar_changes(page.cursor, WINDOW)
        if page.replaced_sources:
            break
    assert page.replaced_sources == frozenset({"reminders"}) and page.events == ()
    p.put_event(reminder(), None)
    assert len(h.fake.calendar.app_calendars()) == 1 and list(h.reminders()) == [reminder().key]


def test_idle_sync_costs_one_request_per_calendar(h: GoogleHarness) -> None:
    put_primary(h)
    p = h.new_provider()
    page = p.calendar_changes(None, WINDOW)
    h.fake.reset_counters()
    page = p.calendar_changes(page.cursor, WINDOW)
    assert h.fake.requests == 1  # no reminders calendar yet
    p.put_event(reminder(), None)
    page = p.calendar_changes(page.cursor, WINDOW)  # reads the new reminders calendar
    assert json.loads(page.cursor or "{}").keys() == {"v", "p", "r", "rc", "n"}
    costs = []
    for _ in range(2 * REMINDERS_EVERY):
        h.fake.reset_counters()
        page = p.calendar_changes(page.cursor, WINDOW)
        costs.append(h.fake.requests)
    # the primary calendar on every pass; the reminders calendar on every REMINDERS_EVERY-th
    assert costs == ([1] * (REMINDERS_EVERY - 1) + [2]) * 2


def test_reminders_on_the_primary_calendar(tmp_path: Path) -> None:
    h = GoogleHarness(tmp_path, reminders_calendar="primary")
    try:
        with pytest.raises(ProviderError, match="403"):
            h.new_provider().put_event(reminder(), None)  # least privilege cannot write there
        h.fake.scopes.add(S + "calendar.events.owned")  # what connect asks for in this mode
        p = h.new_provider()
        cursor = p.calendar_changes(None, WINDOW).cursor
        p.put_event(reminder(), None)
        assert h.fake.calendar.app_calendars() == []
        h.user_writes_reminder_description(reminder().key, "They want Go")
        h.fake.reset_counters()
        page = p.calendar_changes(cursor, WINDOW)
        assert h.fake.requests == 1
        assert [(e.key, e.description) for e in page.events] == [(reminder().key, "They want Go")]
    finally:
        h.close()
    assert S + "calendar.events.owned" not in LEAST_PRIVILEGE


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_event_ids_are_valid_base32hex_and_deterministic(key: str) -> None:
    eid = event_id_for(key)
    assert re.fullmatch(r"[a-v0-9]{5,1024}", eid)
    assert event_id_for(key) == eid and event_id_for(key + "x") != eid


def test_a_410_on_a_full_read_is_a_provider_error(h: GoogleHarness) -> None:
    """A 410 without a sync token (an expired page token, say) is a failed read like any other:
    a ProviderError, never an exception the caller does not know."""
    put_primary(h)
    h.fake.fail_next(1, status=410, method="calendar.events.list", reason="fullSyncRequired")
    with pytest.raises(ProviderError, match="410"):
        h.new_provider().calendar_changes(None, WINDOW)


def test_a_reminder_time_without_a_zone_is_an_item_error_not_a_400(h: GoogleHarness) -> None:
    """Google refuses a dateTime with neither an offset nor a timeZone (EventDateTime in the
    discovery document); that is one bad item, not a failed pass."""
    content = ReminderContent("Write interview notes", "", START.replace(tzinfo=None), 10)
    naive = Artifact("ifu-abc-notes_reminder-self", ArtifactKind.NOTES_REMINDER, "abc", "app",
                     START, reminder=content)
    with pytest.raises(ItemError):
        h.new_provider().put_event(naive, None)
    assert h.fake.calls("calendar.events.insert") == 0
