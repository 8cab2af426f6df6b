"""Storage backends behind one contract (see :mod:`inbox_followup.providers.base`)."""

from __future__ import annotations

from ..config import AccountConfig, Config
from .base import Provider


def open_provider(account: AccountConfig, config: Config) -> Provider:
    """The provider for ``account``. Google and Microsoft modules load only when used.

    Raises ProviderError (or AuthError) when the account cannot be opened.
    """
    if account.provider == "local":
        from .local import LocalProvider

        assert account.calendar and account.reminders and account.maildir
        return LocalProvider(
            account=account.name, address=account.address, calendar=account.calendar,
            reminders=account.reminders, maildir=account.maildir, default_tz=config.timezone,
            self_addresses=account.addresses, sender_name=config.your_name,
        )
    if account.provider == "google":
        from .google import GoogleProvider

        return GoogleProvider(account, config.state_dir, sender_name=config.your_name)
    from .microsoft import MicrosoftProvider

    return MicrosoftProvider(account, config.state_dir)
