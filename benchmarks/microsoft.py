"""Microsoft Graph requests per sync, against the loopback fake (python -m benchmarks microsoft).

Cases: an idle sync with saved cursors (target 3: the calendar delta and the Inbox and Sent
Items deltas; reminders on their own calendar add one ``lastModifiedDateTime`` query), a sync
after one new reply, and the first sync of a 10,000-event window. "Naive" is the full rescan
of the same calendar window and mailbox (every request without a cursor), printed beside each.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.core.model import SyncWindow
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.providers.microsoft.provider import MicrosoftProvider
from inbox_followup.providers.retry import RetryPolicy
from tests.contract.harness_microsoft import account_for
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_state import address, graph_dt

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
WINDOW = SyncWindow(NOW - timedelta(days=60), NOW + timedelta(days=180))
USER = "alex.morgan@example.com"


def mailbox(fake: GraphFake, events: int, inbox: int, sent: int) -> None:
    """Events spread over the window (1 in 50 an interview), mail in the last 60 days."""
    st = fake.state
    with st.lock:
        for i in range(events):
            start = WINDOW.start + timedelta(minutes=(i * 97) % (240 * 24 * 60))
            co = f"company{i}.example"
            people = [{**address(f"lead@{co}"), "type": "required",
                       "status": {"response": "none"}}] if i % 50 == 0 else []
            st.put_event({"subject": f"Interview with Company{i}" if people else f"Busy {i}",
                          "start": graph_dt(start), "end": graph_dt(start + timedelta(hours=1)),
                          "attendees": people})
        for folder, n in (("inbox", inbox), ("sentitems", sent)):
            for i in range(n):
                when = NOW - timedelta(minutes=(i * 41) % (59 * 24 * 60))
                st.put_message(folder, {"subject": f"message {i}", "receivedDateTime":
                                        when.strftime("%Y-%m-%dT%H:%M:%SZ")})


def measure(fake: GraphFake, work: Any) -> tuple[Any, int, int]:
    fake.reset_counts()
    t = time.perf_counter()
    result = work()
    return result, fake.count(), round((time.perf_counter() - t) * 1000)


def provider(fake: GraphFake, root: Path, **account: Any) -> MicrosoftProvider:
    context = ProviderContext(root, ZoneInfo("UTC"))
    return MicrosoftProvider(account_for(fake, address=USER, **account), context,
                             retry=RetryPolicy(sleep=lambda _: None))


def full_rescan(p: MicrosoftProvider) -> int:
    cal = p.calendar_changes(None, WINDOW)
    mail = p.mail_changes(None, WINDOW)
    return len(cal.events) + len(mail.messages)


def steady_cases(reminders_calendar: str) -> Iterator[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp, GraphFake(USER, key_property=KEY_PROPERTY,
                                                         clock=NOW) as fake:
        mailbox(fake, events=2000, inbox=3000, sent=800)
        p = provider(fake, Path(tmp), reminders_calendar=reminders_calendar)
        fake.state.clock = NOW
        cal, mail = p.calendar_changes(None, WINDOW), p.mail_changes(None, WINDOW)
        naive_items, naive, naive_ms = measure(fake, lambda: full_rescan(p))
        base = {"backend": "microsoft", "reminders_calendar": reminders_calendar,
                "events": 2000, "messages": 3800, "quota_units": None, "naive_quota_units": None,
                "naive_requests": naive, "naive_items": naive_items, "naive_wall_ms": naive_ms}

        def incremental() -> int:
            nonlocal cal, mail
            cal = p.calendar_changes(cal.cursor, WINDOW)
            mail = p.mail_changes(mail.cursor, WINDOW)
            return len(cal.events) + len(mail.messages)

        items, requests, ms = measure(fake, incremental)
        yield {"case": "microsoft_idle_sync", **base, "requests": requests, "items": items,
               "wall_ms": ms, "target": 3}
        raw = (f"From: Jane <jane@acme.io>\r\nTo: {USER}\r\nSubject: RE: Thank you\r\n"
               f"Date: {format_datetime(NOW)}\r\nMessage-ID: <r1@acme.io>\r\n\r\nThanks!\r\n")
        fake.deliver(raw.encode())
        items, requests, ms = measure(fake, incremental)
        yield {"case": "microsoft_sync_after_one_reply", **base, "requests": requests,
               "items": items, "wall_ms": ms}


def initial_case(n_events: int = 10_000) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, GraphFake(USER, key_property=KEY_PROPERTY,
                                                         clock=NOW) as fake:
        mailbox(fake, events=n_events, inbox=0, sent=0)
        p = provider(fake, Path(tmp))
        page, requests, ms = measure(fake, lambda: p.calendar_changes(None, WINDOW))
        delta_pages = fake.count("GET", "calendarView/delta")
        return {"case": "microsoft_initial_sync_10000_events", "backend": "microsoft",
                "events": len(page.events), "requests": requests, "delta_pages": delta_pages,
                "page_size": fake.max_page, "quota_units": None, "wall_ms": ms,
                "naive_requests": requests, "naive_quota_units": None,
                "note": "the first read is the full read; afterwards only changes are fetched"}


def cases() -> Iterator[dict[str, object]]:
    yield from steady_cases("Interview follow-ups")
    yield from steady_cases("primary")
    yield initial_case()
