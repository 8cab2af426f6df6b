"""Google accounts: Calendar v3 and Gmail v1 through google-api-python-client.

The calendar half lives in :mod:`.calendar`, the mail half in :mod:`.mail`; both make every
request through :class:`~.api.GoogleApi`.
"""

from __future__ import annotations

import google.auth.credentials

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import Artifact, CalendarPage, DraftSnapshot, ItemRef, MailPage, SyncWindow
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.google.api import GoogleApi
from inbox_followup.providers.google.auth import credentials_for
from inbox_followup.providers.google.calendar import GoogleCalendar
from inbox_followup.providers.google.mail import GoogleMail
from inbox_followup.providers.google.written import WrittenDrafts
from inbox_followup.providers.retry import RetryPolicy


class GoogleProvider:
    """The :class:`~inbox_followup.providers.base.Provider` for a ``provider: google`` account.

    Raises AuthError at construction when the account has no usable credentials.
    """

    def __init__(self, account: AccountConfig, context: ProviderContext, *,
                 http_timeout: float = 30, retry: RetryPolicy | None = None,
                 credentials: google.auth.credentials.Credentials | None = None) -> None:
        """``credentials``: for tests; otherwise the saved sign-in or ``token_command``."""
        self.account = account.name
        state_dir = context.state_dir
        creds = credentials if credentials is not None else credentials_for(account, state_dir)
        self.api = GoogleApi(account, creds, http_timeout=http_timeout,
                             retry=retry if retry is not None else RetryPolicy())
        self._calendar = GoogleCalendar(self.api, account, state_dir)
        written = WrittenDrafts(state_dir / "google" / f"{account.name}.drafts.json")
        self._mail = GoogleMail(self.api, account, context.sender_name, written)

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Primary-calendar changes (and the reminders calendar's). Raises ProviderError."""
        return self._calendar.changes(cursor, window)

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Inbound and sent message headers since ``cursor``. Raises ProviderError."""
        return self._mail.changes(cursor, window)

    def put_event(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or update the reminder event (deterministic id). Raises ProviderError."""
        return self._calendar.put(artifact, existing)

    def delete_event(self, ref: ItemRef) -> None:
        """Delete a reminder event; a missing one is fine. Raises ProviderError."""
        self._calendar.delete(ref)

    def put_draft(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create the draft, or replace ``existing``'s content. Raises ProviderError, ItemError."""
        return self._mail.put(artifact, existing)

    def get_draft(self, ref: ItemRef) -> DraftSnapshot | None:
        """The draft now, or None when it was sent or deleted. Raises ProviderError."""
        return self._mail.get(ref)

    def delete_draft(self, ref: ItemRef) -> None:
        """Delete our draft (only if it still carries our key). Raises ProviderError."""
        self._mail.delete(ref)

    def find_by_key(self, key: str, is_draft: bool) -> ItemRef | None:
        """The draft or reminder tagged with ``key``, if any. Raises ProviderError."""
        return self._mail.find(key) if is_draft else self._calendar.find(key)

    def flush(self) -> None:
        """Nothing is buffered: every write is one HTTP request."""

    def close(self) -> None:
        self.api.close()
