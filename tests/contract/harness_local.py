"""The contract harness of the local provider: a temp .ics calendar and Maildir."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import DraftSnapshot
from inbox_followup.formats import reminders_ics
from inbox_followup.formats.mime import snapshot_from_mime
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.local.provider import LocalProvider

from .harness import SeenReminder

USER = "alex.morgan@example.com"


class LocalHarness:
    name = "local"
    user_address = USER

    def __init__(self, root: Path) -> None:
        self.root = root
        self.calendar = root / "calendar.ics"
        self.reminders_path = root / "reminders.ics"
        self.maildir = root / "mail"
        for folder in ("INBOX", "Sent", "Drafts"):
            for sub in ("cur", "new", "tmp"):
                (self.maildir / folder / sub).mkdir(parents=True, exist_ok=True)
        self._events: dict[str, Event] = {}
        self._write_calendar()
        self._count = 0

    def new_provider(self) -> LocalProvider:
        account = AccountConfig("local", "local", USER, calendar=self.calendar,
                                reminders=self.reminders_path, maildir=self.maildir)
        context = ProviderContext(self.root / "state", ZoneInfo("America/Chicago"), "Alex Morgan")
        return LocalProvider(account, context)

    def _write_calendar(self) -> None:
        cal = Calendar()
        cal.add("prodid", "-//test//EN")
        cal.add("version", "2.0")
        for event in self._events.values():
            cal.add_component(event)
        self.calendar.write_bytes(cal.to_ical())

    def add_event(self, uid: str, title: str, start: datetime, end: datetime,
                  attendees: list[tuple[str, str | None]], organizer: str | None = None,
                  description: str = "") -> None:
        event = Event()
        event.add("uid", uid)
        event.add("summary", title)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        if description:
            event.add("description", description)
        if organizer:
            event.add("organizer", vCalAddress(f"mailto:{organizer}"))
        for email, name in attendees:
            who = vCalAddress(f"mailto:{email}")
            if name:
                who.params["cn"] = name
            event.add("attendee", who)
        self._events[uid] = event
        self._write_calendar()

    def move_event(self, uid: str, start: datetime, end: datetime) -> None:
        event = self._events[uid]
        for prop in ("dtstart", "dtend"):
            del event[prop]
        event.add("dtstart", start)
        event.add("dtend", end)
        self._write_calendar()

    def cancel_event(self, uid: str) -> None:
        del self._events[uid]
        self._write_calendar()

    def deliver(self, raw: bytes) -> None:
        self._count += 1
        name = f"{1_800_000_000 + self._count}.M{self._count}P{os.getpid()}.test:2,"
        (self.maildir / "INBOX" / "new" / name).write_bytes(raw)

    def _draft_file(self, key: str) -> Path:
        for sub in ("cur", "new"):
            for path in (self.maildir / "Drafts" / sub).iterdir():
                if path.name.startswith(key):
                    return path
        raise KeyError(key)

    def user_edits_draft(self, key: str, new_body: str) -> None:
        path = self._draft_file(key)
        head, _, _ = path.read_bytes().partition(b"\n\n")
        path.write_bytes(head + b"\n\n" + new_body.encode())

    def user_sends_draft(self, key: str) -> None:
        # As a user who moves the draft into Sent/ (the mtime kept, as `mv` keeps it).
        path = self._draft_file(key)
        shutil.move(str(path), self.maildir / "Sent" / "cur" / path.name.replace(",DS", ",S"))

    def user_deletes_draft(self, key: str) -> None:
        self._draft_file(key).unlink()

    def user_writes_reminder_description(self, key: str, text: str) -> None:
        reminders = reminders_ics.read_reminders(self.reminders_path.read_bytes())
        old = reminders[key]
        reminders[key] = type(old)(old.title, text, old.start, old.minutes)
        self.reminders_path.write_bytes(reminders_ics.render_reminders(reminders))

    def drafts(self) -> dict[str, DraftSnapshot]:
        out = {}
        for sub in ("cur", "new"):
            for path in (self.maildir / "Drafts" / sub).iterdir():
                out[path.name.split(":", 1)[0]] = snapshot_from_mime(path.read_bytes())
        return out

    def reminders(self) -> dict[str, SeenReminder]:
        if not self.reminders_path.exists():
            return {}
        return {
            key: SeenReminder(key, r.title, r.start, r.description)
            for key, r in reminders_ics.read_reminders(self.reminders_path.read_bytes()).items()
        }

    def expire_cursors(self) -> None:
        """A local cursor never expires; a garbage one must still mean a full read."""

    def send_attempts(self) -> int:
        return 0  # there is no way to send from a Maildir; nothing in local.py writes outside it

    def close(self) -> None:
        pass


def make_harness(tmp_path: Path) -> LocalHarness:
    return LocalHarness(tmp_path)
