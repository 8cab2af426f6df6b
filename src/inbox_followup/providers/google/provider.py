"""Google accounts: Calendar v3 and Gmail v1 through google-api-python-client.

The calendar half lives in :mod:`.calendar`, the mail half in :mod:`.mail`; both make every
request through :class:`~.api.GoogleApi`.
"""

from __future__ import annotations

import google.auth.credentials

from inbox_followup.config.loader import AccountConfig
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.google.api import GoogleApi
from inbox_followup.providers.google.auth import credentials_for
from inbox_followup.providers.google.calendar import GoogleCalendar
from inbox_followup.providers.google.mail import GoogleMail
from inbox_followup.providers.google.written import WrittenDrafts
from inbox_followup.providers.halves import TwoHalves
from inbox_followup.providers.retry import RetryPolicy


class GoogleProvider(TwoHalves):
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
        self._transport = self.api
