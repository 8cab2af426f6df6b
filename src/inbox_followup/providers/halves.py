"""A provider made of a calendar half and a mail half over one HTTP client (Google, Microsoft).

Both cloud providers split the contract the same way; this is the one place that maps the
:class:`~inbox_followup.providers.base.Provider` methods onto the halves. Every method raises
ProviderError (AuthError when the sign-in is refused); writes may also raise ItemError for an
artifact the service cannot take.
"""

from __future__ import annotations

from typing import Protocol

from inbox_followup.core.model import Artifact, CalendarPage, DraftSnapshot, ItemRef, MailPage, SyncWindow


class CalendarHalf(Protocol):
    def changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage: ...
    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef: ...
    def delete(self, ref: ItemRef) -> None: ...
    def find(self, key: str) -> ItemRef | None: ...


class MailHalf(Protocol):
    def changes(self, cursor: str | None, window: SyncWindow) -> MailPage: ...
    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef: ...
    def get(self, ref: ItemRef) -> DraftSnapshot | None: ...
    def delete(self, ref: ItemRef) -> None: ...
    def find(self, key: str) -> ItemRef | None: ...


class Closeable(Protocol):
    def close(self) -> None: ...


class TwoHalves:
    """The Provider methods over ``_calendar`` and ``_mail``, set by the subclass."""

    account: str
    _calendar: CalendarHalf
    _mail: MailHalf
    _transport: Closeable

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Events changed since ``cursor`` (the whole window without one)."""
        return self._calendar.changes(cursor, window)

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Inbound and sent message headers since ``cursor``."""
        return self._mail.changes(cursor, window)

    def put_event(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or update the reminder event (idempotent by key)."""
        return self._calendar.put(artifact, existing)

    def delete_event(self, ref: ItemRef) -> None:
        """Delete a reminder event; a missing one is fine."""
        self._calendar.delete(ref)

    def put_draft(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create the draft, or replace ``existing``'s content."""
        return self._mail.put(artifact, existing)

    def get_draft(self, ref: ItemRef) -> DraftSnapshot | None:
        """The draft now, or None once it was sent or deleted."""
        return self._mail.get(ref)

    def delete_draft(self, ref: ItemRef) -> None:
        """Delete our draft (the caller has checked it is unedited); sent mail is never touched."""
        self._mail.delete(ref)

    def find_by_key(self, key: str, is_draft: bool) -> ItemRef | None:
        """The draft or reminder tagged with ``key``, if any."""
        return self._mail.find(key) if is_draft else self._calendar.find(key)

    def flush(self) -> None:
        """Nothing is buffered: every write is a finished HTTP request."""

    def close(self) -> None:
        self._transport.close()
