"""Microsoft 365 / Outlook.com through Microsoft Graph v1.0 (msal for tokens, requests for HTTP).

The two halves live in :mod:`.microsoft_calendar` (calendarView delta, reminder events) and
:mod:`.microsoft_mail` (folder deltas, drafts); :mod:`.graph_client` holds the HTTP plumbing
(Prefer headers, 401 refresh, 429/Retry-After, 4 requests at a time per mailbox). An idle
sync costs three requests: the calendar delta and the Inbox and Sent Items deltas, plus one
``lastModifiedDateTime`` query when reminders live on their own calendar (v1.0 has delta on
the primary calendar only). Nothing here sends mail.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import Artifact, CalendarPage, DraftSnapshot, ItemRef, MailPage, SyncWindow
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.microsoft.auth import token_provider
from inbox_followup.providers.microsoft.calendar import GraphCalendar
from inbox_followup.providers.microsoft.graph import GRAPH_ROOT, GraphClient
from inbox_followup.providers.microsoft.mail import GraphMail
from inbox_followup.providers.retry import RetryPolicy


def graph_base(account: AccountConfig) -> str:
    """``<api_endpoint or https://graph.microsoft.com>/v1.0/``."""
    root = (account.api_endpoint or GRAPH_ROOT).rstrip("/")
    return root + "/v1.0/"


class MicrosoftProvider:
    """The Provider contract over Microsoft Graph for one account."""

    def __init__(
        self,
        account: AccountConfig,
        context: ProviderContext,
        *,
        http_timeout: float = 30,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        tokens: Callable[[bool], str] | None = None,
    ) -> None:
        """``tokens``: a sign-in session kept from an earlier pass (see SessionKeeper);
        a new one from the token cache or ``token_command`` otherwise."""
        self.account = account.name
        self.config = account
        self.client = GraphClient(
            account.name,
            graph_base(account),
            tokens or token_provider(account, context.state_dir),
            session=session,
            timeout=http_timeout,
            retry=retry,
        )
        self._calendar = GraphCalendar(self.client, account)
        self._mail = GraphMail(self.client, account)

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Events changed since ``cursor`` (the window in full without one).

        Raises ProviderError; AuthError when the sign-in is refused.
        """
        return self._calendar.changes(cursor, window)

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Inbox and Sent Items messages since ``cursor``. Raises ProviderError, AuthError."""
        return self._mail.changes(cursor, window)

    def put_event(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or update a reminder event. Raises ItemError, ProviderError, AuthError."""
        return self._calendar.put(artifact, existing)

    def delete_event(self, ref: ItemRef) -> None:
        """Delete a reminder event; missing is fine. Raises ProviderError, AuthError."""
        self._calendar.delete(ref)

    def put_draft(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or rewrite a draft. Raises ItemError, ProviderError, AuthError."""
        return self._mail.put(artifact, existing)

    def get_draft(self, ref: ItemRef) -> DraftSnapshot | None:
        """The draft now, or None once sent or deleted. Raises ProviderError, AuthError."""
        return self._mail.get(ref)

    def delete_draft(self, ref: ItemRef) -> None:
        """Delete our untouched-or-not draft (the caller checks edits); sent mail is never
        touched. Raises ProviderError, AuthError."""
        self._mail.delete(ref)

    def find_by_key(self, key: str, is_draft: bool) -> ItemRef | None:
        """The draft or reminder tagged with ``key``. Raises ProviderError, AuthError."""
        return self._mail.find(key) if is_draft else self._calendar.find(key)

    def flush(self) -> None:
        """Nothing to do: every write is a finished HTTP request."""

    def close(self) -> None:
        self.client.close()
