"""Error classes by scope: what failed decides how much of a sync it costs.

- :class:`ConfigError`: the whole run stops before doing anything (exit 2).
- :class:`LockHeldError`: another daemon owns the state directory (exit 2).
- :class:`ProviderError`: one account's pass stops; other accounts go on (exit 1).
- :class:`ItemError`: one file, event or message is skipped; the rest goes on (exit 1).
"""

from __future__ import annotations


class InboxFollowupError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(InboxFollowupError):
    """The configuration is unusable. ``problems`` lists each one with its key path."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(problems))


class UsageError(InboxFollowupError):
    """A command-line argument is wrong (unknown interview, bad --now, ...)."""


class LockHeldError(InboxFollowupError):
    """Another inbox-followup process holds the state directory's lock."""


class ProviderError(InboxFollowupError):
    """A provider call failed after retries; the account's pass is incomplete."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)


class AuthError(ProviderError):
    """The provider refused the credentials: the user must run ``connect`` again."""

    def __init__(self, account: str, detail: str = "") -> None:
        self.account = account
        hint = f"reconnect {account}: run `inbox-followup connect {account}`"
        super().__init__(f"{hint}" + (f" ({detail})" if detail else ""), retryable=False)


class ItemError(InboxFollowupError):
    """One input item (file, event, message) is malformed; ``where`` names it."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")
