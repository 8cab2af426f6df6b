"""The one way every Google request is made: the two API clients, execution and errors.

- Clients come from the discovery documents bundled with the library
  (``static_discovery=True``, no network fetch). ``api_endpoint`` from the config replaces
  Google's root: Calendar at ``<base>/calendar/v3/``, Gmail at ``<base>/`` (its paths already
  start with ``gmail/v1/``; docs/api-notes.md, Google client library). No batch requests: the
  library would send them to Google's host even with a custom endpoint (same section).
- ``execute(num_retries=0)``, wrapped in :func:`~inbox_followup.providers.retry.call_with_retries`:
  the library's own retries ignore Retry-After and are uncapped (docs/api-notes.md). Retried
  are 429, 5xx, 403 ``rateLimitExceeded``/``userRateLimitExceeded`` (Google's documented
  rate-limit answers, https://developers.google.com/workspace/calendar/api/guides/errors),
  timeouts and dropped connections, and a token refresh that failed for a passing reason
  (google-auth's ``RefreshError.retryable``). A 401 that survives one token refresh, or a
  refresh Google refuses (``invalid_grant``), is an :class:`~inbox_followup.errors.AuthError`
  ("reconnect NAME"). Nothing in an error message carries a token.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import google.auth.credentials
import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from inbox_followup.config.loader import AccountConfig
from inbox_followup.errors import AuthError, ProviderError
from inbox_followup.providers.retry import (
    RETRYABLE_STATUSES,
    RetryableHTTPError,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)

Json = dict[str, Any]
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class _NoReplayHttp(httplib2.Http):  # type: ignore[misc]
    """httplib2 resends a request whose answer was lost (it assumes a stale kept-alive
    connection), whatever the method (httplib2 ``_conn_request``). A replayed
    ``drafts.create`` makes a second draft, so POST and PATCH go out once, on a fresh
    connection, and a lost answer surfaces as an error our retry layer handles: creates of
    events carry their id (409 on a replay), drafts are looked up by key before a retry."""

    def _conn_request(self, conn: Any, request_uri: str, method: str, body: Any,
                      headers: Any) -> tuple[Any, bytes]:
        decompress = getattr(httplib2, "_decompressContent", None)
        if method not in ("POST", "PATCH") or decompress is None:
            return super()._conn_request(conn, request_uri, method, body, headers)  # type: ignore[no-any-return]
        try:
            conn.close()
            conn.connect()
            conn.request(method, request_uri, body, headers)
            answer = conn.getresponse()
            content = answer.read()
        except BaseException:
            conn.close()
            raise
        response = httplib2.Response(answer)
        return response, decompress(response, content, getattr(self, "limit_kwargs", {}))


class GoogleApi:
    """The two API clients and the single place where requests are executed."""

    def __init__(self, account: AccountConfig, credentials: google.auth.credentials.Credentials,
                 *, http_timeout: float, retry: RetryPolicy) -> None:
        self.account = account.name
        self.retry = retry
        # One refresh and one replay on a 401; a second 401 means the token is refused.
        self._http = google_auth_httplib2.AuthorizedHttp(
            credentials, http=_NoReplayHttp(timeout=http_timeout), max_refresh_attempts=1)
        base = account.api_endpoint.rstrip("/") if account.api_endpoint else None
        self.calendar = build(
            "calendar", "v3", http=self._http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": f"{base}/calendar/v3/"} if base else None)
        self.gmail = build(
            "gmail", "v1", http=self._http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": f"{base}/"} if base else None)

    def once(self, request: Any, what: str, allow: Sequence[int] = ()) -> tuple[int, Json]:
        """Execute ``request`` once. Returns (200, body), or (status, error body) for a
        status in ``allow``. Raises RetryableHTTPError, AuthError or ProviderError."""
        try:
            body = request.execute(num_retries=0)
            return 200, body if isinstance(body, dict) else {}
        except HttpError as exc:
            return self._http_error(exc, what, allow)
        except RefreshError as exc:
            # google-auth retries a token endpoint's 5xx/temporarily_unavailable itself, then
            # raises RefreshError with retryable=True (google/oauth2/_client.py _can_retry):
            # Google is having trouble, the sign-in is fine. invalid_grant is not retryable.
            if getattr(exc, "retryable", False):
                raise RetryableHTTPError(None, None, f"{what}: token refresh failed") from None
            raise AuthError(self.account, "Google refused the saved sign-in") from None
        except (TransportError, TimeoutError, OSError, http.client.HTTPException,
                httplib2.HttpLib2Error) as exc:
            raise RetryableHTTPError(None, None, f"{what}: {type(exc).__name__}") from None

    def call(self, request: Any, what: str, allow: Sequence[int] = ()) -> tuple[int, Json]:
        """:meth:`once` with retries on 429/5xx/timeouts, honouring Retry-After."""
        return call_with_retries(lambda: self.once(request, what, allow), self.retry, what)

    def pages(self, method: Callable[..., Any], what: str, params: Json,
              allow: Sequence[int] = ()) -> Iterator[tuple[int, Json]]:
        """Every page of one listing, as :meth:`call` answers it, following
        ``nextPageToken``; an answer with a status in ``allow`` is the last one yielded."""
        page: str | None = None
        while True:
            status, body = self.call(method(**params, **({"pageToken": page} if page else {})),
                                     what, allow)
            yield status, body
            page = body.get("nextPageToken") if status == 200 else None
            if not page:
                return

    def _http_error(self, exc: HttpError, what: str, allow: Sequence[int]) -> tuple[int, Json]:
        status = int(exc.resp.status)
        body = _error_body(exc)
        found = body.get("error")
        error: Json = found if isinstance(found, dict) else {}
        reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
        if status in allow:
            return status, body
        if status in RETRYABLE_STATUSES or (status == 403 and reasons & RATE_LIMIT_REASONS):
            wait = parse_retry_after(exc.resp.get("retry-after"), now_epoch=time.time())
            raise RetryableHTTPError(status, wait, f"{what}: HTTP {status}") from None
        if status == 401:
            raise AuthError(self.account, "Google refused the access token") from None
        message = str(error.get("message", ""))[:300]
        reason = ",".join(sorted(r for r in reasons if r))
        raise ProviderError(f"{self.account}: {what} failed: HTTP {status} {reason} {message}".strip(),
                            retryable=False) from None

    def close(self) -> None:
        self._http.close()


def _error_body(exc: HttpError) -> Json:
    try:
        body = json.loads(exc.content.decode("utf-8", "replace"))
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, dict) else {}

