"""Microsoft 365 / Outlook.com through Microsoft Graph v1.0 (msal for tokens, requests for HTTP).

The two halves live in :mod:`.calendar` (calendarView delta, reminder events) and
:mod:`.mail` (folder deltas, drafts); :mod:`.graph` holds the HTTP plumbing
(Prefer headers, 401 refresh, 429/Retry-After, 4 requests at a time per mailbox). An idle
sync costs three requests: the calendar delta and the Inbox and Sent Items deltas, plus one
``lastModifiedDateTime`` query when reminders live on their own calendar (v1.0 has delta on
the primary calendar only). Nothing here sends mail.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from inbox_followup.config.loader import AccountConfig
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.halves import TwoHalves
from inbox_followup.providers.microsoft.auth import token_provider
from inbox_followup.providers.microsoft.calendar import GraphCalendar
from inbox_followup.providers.microsoft.graph import GRAPH_ROOT, GraphClient
from inbox_followup.providers.microsoft.mail import GraphMail
from inbox_followup.providers.retry import RetryPolicy


def graph_base(account: AccountConfig) -> str:
    """``<api_endpoint or https://graph.microsoft.com>/v1.0/``."""
    root = (account.api_endpoint or GRAPH_ROOT).rstrip("/")
    return root + "/v1.0/"


class MicrosoftProvider(TwoHalves):
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
        self._transport = self.client
