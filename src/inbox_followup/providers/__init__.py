"""Storage backends behind one contract (see :mod:`inbox_followup.providers.base`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from inbox_followup.config.loader import AccountConfig, Config
from inbox_followup.providers.base import Provider, ProviderContext


def context_of(config: Config) -> ProviderContext:
    """The part of ``config`` that every provider is opened with."""
    return ProviderContext(config.state_dir, config.timezone, config.your_name)


def open_provider(account: AccountConfig, config: Config) -> Provider:
    """The provider for ``account``. Google and Microsoft modules load only when used.

    Raises ProviderError (or AuthError) when the account cannot be opened.
    """
    if account.provider == "local":
        from inbox_followup.providers.local.provider import LocalProvider

        return LocalProvider(account, context_of(config))
    if account.provider == "google":
        from inbox_followup.providers.google.provider import GoogleProvider

        return GoogleProvider(account, context_of(config))
    from inbox_followup.providers.microsoft.provider import MicrosoftProvider

    return MicrosoftProvider(account, context_of(config))


class SessionKeeper:
    """An opener for a long-running process: like :func:`open_provider`, but each Microsoft
    account's sign-in session lives from one pass to the next.

    MSAL fetches the tenant's OpenID configuration from Microsoft's sign-in service whenever
    its application object is built (PublicClientApplication.__init__ in
    https://github.com/AzureAD/microsoft-authentication-library-for-python/blob/dev/msal/application.py),
    so a daemon that opened a new session every poll would ask for it every minute. A session
    belongs to the account's settings: a config with other sign-in settings gets a new one.
    """

    def __init__(self, *, http_client: object | None = None) -> None:
        """``http_client``: MSAL's, for tests that stand in for the sign-in service."""
        self._http_client = http_client
        self._lock = threading.Lock()
        self._tokens: dict[tuple[object, ...], Callable[[bool], str]] = {}

    def __call__(self, account: AccountConfig, config: Config) -> Provider:
        if account.provider != "microsoft":
            return open_provider(account, config)
        from inbox_followup.providers.microsoft.auth import token_provider
        from inbox_followup.providers.microsoft.provider import MicrosoftProvider

        key = (account.name, account.client_id, account.tenant, account.token_command,
               str(config.state_dir))
        with self._lock:
            tokens = self._tokens.get(key)
            if tokens is None:
                tokens = self._tokens[key] = token_provider(
                    account, config.state_dir, http_client=self._http_client)
        return MicrosoftProvider(account, context_of(config), tokens=tokens)
