"""What a provider's test harness offers the contract suite.

A harness owns a backend (a temp Maildir + .ics for local, a loopback fake server for Google
and Microsoft) and plays the user: events appear on the calendar, mail arrives, the user edits,
sends or deletes a draft. The suite in ``test_provider_contract.py`` only talks to providers
through :class:`~inbox_followup.providers.base.Provider` and to the backend through this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from inbox_followup.core.model import DraftSnapshot
from inbox_followup.providers.base import Provider


@dataclass(frozen=True)
class SeenReminder:
    """A reminder as the user's calendar shows it."""

    key: str
    title: str
    start: datetime
    description: str


class Harness(Protocol):
    name: str
    user_address: str

    def new_provider(self) -> Provider:
        """A fresh provider instance on the same backend (as after a restart)."""
        ...

    def add_event(
        self,
        uid: str,
        title: str,
        start: datetime,
        end: datetime,
        attendees: list[tuple[str, str | None]],
        organizer: str | None = None,
        description: str = "",
    ) -> None:
        """An event appears on the user's primary calendar."""
        ...

    def move_event(self, uid: str, start: datetime, end: datetime) -> None: ...

    def cancel_event(self, uid: str) -> None: ...

    def deliver(self, raw: bytes) -> None:
        """An RFC 5322 message arrives in the inbox."""
        ...

    def user_edits_draft(self, key: str, new_body: str) -> None: ...

    def user_sends_draft(self, key: str) -> None:
        """As a mail client does: the draft leaves Drafts and a copy lands in Sent."""
        ...

    def user_deletes_draft(self, key: str) -> None: ...

    def user_writes_reminder_description(self, key: str, text: str) -> None:
        """The user types into a reminder's description (notes) from a calendar app."""
        ...

    def drafts(self) -> dict[str, DraftSnapshot]:
        """Every draft in Drafts that carries a tool key, by key."""
        ...

    def reminders(self) -> dict[str, SeenReminder]:
        """Every reminder event the tool created, by key."""
        ...

    def expire_cursors(self) -> None:
        """Make every sync cursor the backend handed out invalid (410/404 next time)."""
        ...

    def send_attempts(self) -> int:
        """How many times anything tried to send mail. Must stay 0."""
        ...

    def close(self) -> None: ...
