"""One retry policy for every HTTP provider: 429/5xx/timeouts only, Retry-After honoured.

google-api-python-client's own ``num_retries`` ignores Retry-After and has no cap
(docs/api-notes.md 3.2), so providers call the API with ``num_retries=0`` and wrap each call in
:func:`call_with_retries`. Creates are still safe to retry because every create carries a
deterministic id (Google event ids, Graph ``transactionId``) or is resolved by key.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from inbox_followup.errors import ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class RetryableHTTPError(Exception):
    """Raised by a provider's call wrapper for a response worth retrying."""

    def __init__(self, status: int | None, retry_after: float | None, detail: str) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(detail)


def parse_retry_after(value: str | None, *, now_epoch: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now_epoch is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with full jitter; Retry-After wins when given."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.rng.uniform(0, min(self.cap, self.base * (2**attempt)))


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Run ``fn``; on :class:`RetryableHTTPError` wait and try again, up to ``policy.attempts``.

    Raises ProviderError when the attempts are used up; any other exception passes through.
    """
    for attempt in range(policy.attempts):
        try:
            return fn()
        except RetryableHTTPError as exc:
            if attempt == policy.attempts - 1:
                raise ProviderError(f"{what}: gave up after {policy.attempts} attempts ({exc})") from exc
            wait = policy.delay(attempt, exc.retry_after)
            log.info("%s: %s; retrying in %.1fs", what, exc, wait)
            policy.sleep(wait)
    raise AssertionError("unreachable")
