"""Google provider costs against the loopback fake: HTTP requests, Gmail quota units, time.

Cases (one dict each, see docs/testing.md "Benchmarks"):

- ``idle_sync``: calendar_changes + mail_changes with saved cursors, nothing changed, for the
  default dedicated reminders calendar and for ``reminders_calendar: primary``.
- ``one_new_reply``: the same after one reply arrived.
- ``initial_sync_10000``: the first calendar read of a 10,000-event calendar with 200
  interviews (pages of 2,500, the API's maximum).

"naive" beside each is a full rescan: every events page again and every message in the
mailbox listed and fetched, as a poller without sync tokens or history ids must.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.core.model import Artifact, ArtifactKind, ReminderContent, SyncWindow
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.google.provider import GoogleProvider
from inbox_followup.providers.retry import RetryPolicy
from tests.contract.harness_google import account_for
from tests.fakes.google_fake import GoogleFake

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
WINDOW = SyncWindow(NOW - timedelta(days=60), NOW + timedelta(days=180))
USER = "alex.morgan@example.com"
MAILBOX = 300  # messages in the mailbox, spread over the last 90 days
CALENDAR = 500  # events on the user's calendar for the steady-state cases


def _event(i: int, start: datetime, interview: bool) -> dict[str, Any]:
    return {
        "summary": f"Interview with Company{i}" if interview else f"Meeting {i}",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": f"person{i}@company{i}.example"}, {"email": USER, "self": True}],
    }


def _fill(fake: GoogleFake, events: int, interviews: int, messages: int) -> None:
    step = max(1, events // max(1, interviews))
    for i in range(events):
        start = NOW - timedelta(days=60) + timedelta(minutes=37 * i)
        fake.calendar.user_put("primary", _event(i, start, i % step == 0 and i // step < interviews))
    for i in range(messages):
        when = NOW - timedelta(days=90) + timedelta(minutes=431 * i)
        raw = (f"From: sender{i}@company{i % 40}.example\r\nTo: {USER}\r\nSubject: note {i}\r\n"
               f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
               f"Message-ID: <m{i}@bench.example>\r\n\r\nHello\r\n").encode()
        fake.gmail.deliver(raw)


def _provider(fake: GoogleFake, root: Path, **account: Any) -> GoogleProvider:
    return GoogleProvider(account_for(fake, **account), ProviderContext(root, ZoneInfo("UTC")),
                          retry=RetryPolicy(sleep=lambda s: None))


def _measure(fake: GoogleFake, work: Callable[[], object]) -> dict[str, Any]:
    fake.reset_counters()
    began = time.perf_counter()
    work()
    return {"requests": fake.requests, "quota_units": fake.quota_units,
            "wall_ms": round((time.perf_counter() - began) * 1000, 1),
            "by_method": dict(sorted(fake.counts.items()))}


def _notes_reminder() -> Artifact:
    content = ReminderContent("Write interview notes — Company0", "What went well:", NOW)
    return Artifact("ifu-bench-notes_reminder-self", ArtifactKind.NOTES_REMINDER, "bench", "app",
                    NOW, reminder=content)


def _steady(reminders_calendar: str) -> Iterator[dict[str, Any]]:
    fake = GoogleFake(USER, tokens={"fake-token"})
    if reminders_calendar == "primary":
        fake.scopes.add("https://www.googleapis.com/auth/calendar.events.owned")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _fill(fake, CALENDAR, 20, MAILBOX)
            p = _provider(fake, Path(tmp), reminders_calendar=reminders_calendar)
            p.put_event(_notes_reminder(), None)
            cal = p.calendar_changes(None, WINDOW)
            mail = p.mail_changes(None, WINDOW)
            def naive_pass() -> object:
                everything = SyncWindow(NOW - timedelta(days=3650), WINDOW.end)
                return p.calendar_changes(None, WINDOW), p._mail._rescan(everything)

            naive = _measure(fake, naive_pass)
            idle = _measure(fake, lambda: (p.calendar_changes(cal.cursor, WINDOW),
                                           p.mail_changes(mail.cursor, WINDOW)))
            yield {"case": f"idle_sync[{reminders_calendar}]", "backend": "google", **idle,
                   "target_requests": 2, "naive_requests": naive["requests"],
                   "naive_quota_units": naive["quota_units"],
                   "setup": f"{CALENDAR} events, {MAILBOX} messages"}
            fake.gmail.deliver(
                f"From: person0@company0.example\r\nTo: {USER}\r\nSubject: Re: Thank you\r\n"
                f"Message-ID: <reply@company0.example>\r\n\r\nThanks!\r\n".encode())
            reply = _measure(fake, lambda: (p.calendar_changes(cal.cursor, WINDOW),
                                            p.mail_changes(mail.cursor, WINDOW)))
            naive = _measure(fake, naive_pass)
            yield {"case": f"one_new_reply[{reminders_calendar}]", "backend": "google", **reply,
                   "naive_requests": naive["requests"], "naive_quota_units": naive["quota_units"]}
            p.close()
    finally:
        fake.close()


def _initial() -> dict[str, Any]:
    fake = GoogleFake(USER, tokens={"fake-token"})
    try:
        _fill(fake, 10_000, 200, 0)
        with tempfile.TemporaryDirectory() as tmp:
            p = _provider(fake, Path(tmp))
            seen: list[int] = []
            out = _measure(fake, lambda: seen.append(len(p.calendar_changes(None, WINDOW).events)))
            # The naive reader: the API's default page size (250) and no sync token.
            pages = -(-10_000 // 250)
            p.close()
        return {"case": "initial_sync_10000", "backend": "google", **out,
                "events_in_window": seen[0], "naive_requests": pages, "naive_quota_units": 0,
                "note": "requests = pages of 2,500 (the maximum); naive = default pages of 250"}
    finally:
        fake.close()


def cases() -> Iterator[dict[str, object]]:
    """One dict per case (JSON-able); see the module docstring."""
    yield from _steady("Interview follow-ups")
    yield from _steady("primary")
    yield _initial()
