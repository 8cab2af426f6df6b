"""HTTP plumbing for Microsoft Graph v1.0: token, Prefer headers, throttling, retries, paging.

Every request carries ``Authorization: Bearer``, and one ``Prefer`` header holding several
preferences separated by commas, the form RFC 7240 §2 allows ("A client MAY ... combine
multiple preferences into a single Prefer header field, separated by commas"):

- ``IdType="ImmutableId"``: Outlook ids otherwise change when an item moves folder; the
  header applies per request, so it is on every one
  (https://learn.microsoft.com/graph/outlook-immutable-id).
- ``outlook.timezone="UTC"``: event start/end come back in UTC
  (https://learn.microsoft.com/graph/api/user-list-calendarview).
- ``outlook.body-content-type="text"``: message and event bodies come back as plain text,
  so a draft's text and a reminder's typed notes read back as the user sees them
  (https://learn.microsoft.com/graph/api/message-get).

Throttling: Outlook allows 4 concurrent requests per app and mailbox
(https://learn.microsoft.com/graph/throttling-limits); a ``BoundedSemaphore(4)`` per client
(one client per mailbox) keeps under it, and is not held while waiting out a ``Retry-After``.
429 and 5xx are retried by :func:`~inbox_followup.providers.retry.call_with_retries`, which
honours ``Retry-After`` (https://learn.microsoft.com/graph/throttling).
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from inbox_followup.errors import AuthError, ProviderError
from inbox_followup.providers.retry import (
    RETRYABLE_STATUSES,
    RetryableHTTPError,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)

log = logging.getLogger(__name__)

GRAPH_ROOT = "https://graph.microsoft.com"
PREFER = ('IdType="ImmutableId"', 'outlook.timezone="UTC"', 'outlook.body-content-type="text"')
MAX_CONCURRENT = 4
JSON = dict[str, Any]


class GraphError(ProviderError):
    """Graph answered with an error status; ``code`` is the OData error code (may be "")."""

    def __init__(self, what: str, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        detail = f"{code}: {message}" if code else message
        super().__init__(f"{what}: HTTP {status} {detail}".strip(), retryable=status >= 500)

    @property
    def sync_state_gone(self) -> bool:
        """A delta token Graph no longer knows: 410, or a 4xx with ``syncStateNotFound``.

        https://learn.microsoft.com/graph/delta-query-overview ("Delta query can return a
        response code of 410 (gone) ... 40X-series error with error codes such as
        syncStateNotFound"); casing varies between services, so it is compared folded.
        """
        code = self.code.casefold()
        gone_codes = ("syncstatenotfound", "syncstateinvalid", "resyncrequired")
        return self.status == 410 or (400 <= self.status < 500 and code in gone_codes)

    @property
    def missing(self) -> bool:
        return self.status in (404, 410) and not self.sync_state_gone


class AmbiguousWriteError(ProviderError):
    """A create that may or may not have happened (timeout, dropped connection, 5xx)."""


def quote_odata(value: str) -> str:
    """An OData string literal: single quotes doubled (OData URL conventions §5.1.1.6.1)."""
    return "'" + value.replace("'", "''") + "'"


class GraphClient:
    """One mailbox's Graph connection. Thread-safe; at most 4 requests in flight."""

    def __init__(
        self,
        account: str,
        base_url: str,
        get_token: Callable[[bool], str],
        *,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_concurrent: int = MAX_CONCURRENT,
    ) -> None:
        self.account = account
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._origin = _origin(self.base_url)
        self._get_token = get_token
        self._own_session = session is None
        self._session = session or requests.Session()
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def url(self, path_or_url: str) -> str:
        """An absolute URL on this client's Graph endpoint.

        Raises ProviderError for an absolute URL on another host: an ``@odata.nextLink`` or a
        stored delta link pointing elsewhere must not receive the bearer token.
        """
        if path_or_url.startswith(("http://", "https://")):
            if _origin(path_or_url) != self._origin:
                raise ProviderError(
                    "Graph returned a link to another host "
                    f"({urlsplit(path_or_url).netloc}); refusing to follow it",
                    retryable=False,
                )
            return path_or_url
        return self.base_url + path_or_url.lstrip("/")

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, str] | None = None,
        body: JSON | None = None,
        prefer: tuple[str, ...] = (),
        idempotent: bool = True,
    ) -> JSON:
        """Send one request and return its JSON body ({} for an empty answer).

        ``idempotent=False`` (a create without a server-side dedupe key) is retried only on
        429, which Graph sends before doing anything; a timeout or 5xx then raises
        :class:`AmbiguousWriteError` so the caller can look before creating again.
        Raises AuthError (refused twice), GraphError (any other error status) or
        ProviderError (retries used up, connection trouble).
        """
        url = self.url(path_or_url)
        what = f"{method} {urlsplit(url).path}"  # no query: delta tokens stay out of messages
        headers = {"Prefer": ", ".join(PREFER + prefer), "Accept": "application/json"}
        for refreshed in (False, True):
            headers["Authorization"] = "Bearer " + self._get_token(refreshed)
            resp = call_with_retries(
                lambda: self._send(method, url, params, body, headers, what, idempotent),
                self._retry,
                what,
            )
            if resp.status_code != 401:
                return _decode(resp, what)
            log.info("%s: %s refused the access token; refreshing it once", self.account, what)
        raise AuthError(self.account, "Microsoft Graph refused the access token")

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        body: JSON | None,
        headers: dict[str, str],
        what: str,
        idempotent: bool,
    ) -> requests.Response:
        with self._slots:
            try:
                resp = self._session.request(
                    method, url, params=params, json=body, headers=headers, timeout=self._timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                if not idempotent:
                    raise AmbiguousWriteError(f"{what}: {kind}") from None
                raise RetryableHTTPError(None, None, f"{what}: {kind}") from None
        status = resp.status_code
        if status == 429 or (idempotent and status in RETRYABLE_STATUSES):
            raise RetryableHTTPError(status, _retry_after(resp), f"{what}: HTTP {status}")
        if status in RETRYABLE_STATUSES:
            raise AmbiguousWriteError(f"{what}: HTTP {status}")
        return resp

    def pages(
        self,
        path_or_url: str,
        params: dict[str, str] | None = None,
        *,
        prefer: tuple[str, ...] = (),
    ) -> Iterator[JSON]:
        """Each page of a collection, following ``@odata.nextLink`` to the end.

        The last page of a delta round carries ``@odata.deltaLink``. Raises as :meth:`request`.
        """
        url: str | None = path_or_url
        while url:
            page = self.request("GET", url, params=params, prefer=prefer)
            yield page
            url = page.get("@odata.nextLink")
            params = None  # the next link already encodes every query option

    def close(self) -> None:
        if self._own_session:
            self._session.close()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _retry_after(resp: requests.Response) -> float | None:
    return parse_retry_after(resp.headers.get("Retry-After"))


def _decode(resp: requests.Response, what: str) -> JSON:
    if 200 <= resp.status_code < 300:
        if not resp.content:
            return {}
        try:
            data = resp.json()
        except ValueError:
            raise ProviderError(f"{what}: Graph answered with something that is not JSON") from None
        return data if isinstance(data, dict) else {"value": data}
    code, message = "", resp.reason or ""
    try:
        err = resp.json().get("error", {})
        code, message = str(err.get("code", "")), str(err.get("message", message))
    except (ValueError, AttributeError):
        pass
    raise GraphError(what, resp.status_code, code, message[:300])


# --- values shared by the calendar and mail halves ---------------------------------------------

# A single-value extended property (MAPI named property) carries the artifact key on every
# event and message the tool creates; the id format is "String {GUID} Name X"
# (https://learn.microsoft.com/graph/api/resources/extended-properties-overview). The GUID is
# this application's own namespace.
KEY_PROPERTY = "String {8a826563-ac2c-483f-a1d8-b0485637377b} Name InboxFollowupKey"
KEY_EXPAND = f"singleValueExtendedProperties($filter=id eq {quote_odata(KEY_PROPERTY)})"
_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.IGNORECASE)
_DROP = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def key_filter(key: str) -> str:
    """``$filter`` that finds the item tagged with ``key`` (case-sensitive id, see
    https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get)."""
    return (
        f"singleValueExtendedProperties/Any(ep: ep/id eq {quote_odata(KEY_PROPERTY)} "
        f"and ep/value eq {quote_odata(key)})"
    )


def tagged_key(item: JSON) -> str | None:
    """The key in an item's expanded ``singleValueExtendedProperties``, if any."""
    for prop in item.get("singleValueExtendedProperties") or ():
        if isinstance(prop, dict) and str(prop.get("id", "")).casefold() == KEY_PROPERTY.casefold():
            value = prop.get("value")
            return str(value) if value else None
    return None


def parse_time(value: str, zone: str | None = "UTC") -> datetime:
    """A Graph timestamp ("2024-05-01T10:00:00.0000000" + zone, or "...Z") as aware datetime.

    Graph writes seven fraction digits; Python reads at most six. Windows zone names (Outlook
    keeps an event's own zone on some all-day events) go through icalendar's CLDR table.
    Raises ValueError for a value that is not a timestamp.
    """
    text = _FRACTION.sub(lambda m: m.group(1), value.strip()).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=_zone(zone or "UTC"))


def _zone(name: str) -> tzinfo:
    if name.upper() in ("UTC", "Z", "GMT", "ETC/UTC", "COORDINATED UNIVERSAL TIME"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    try:
        from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

        return ZoneInfo(WINDOWS_TO_OLSON[name])
    except (ImportError, KeyError, ZoneInfoNotFoundError):
        log.warning("unknown time zone %r; reading the time as UTC", name)
        return UTC


def graph_time(moment: datetime) -> str:
    """A datetime as Graph's ``dateTimeTimeZone.dateTime`` in UTC (no offset, no fraction)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def utc_iso(moment: datetime) -> str:
    """An ISO 8601 UTC instant with ``Z`` for query options (startDateTime, $filter)."""
    return graph_time(moment) + "Z"


def body_text(body: JSON | None) -> str:
    """The text of an ``itemBody``; HTML (when the Prefer was not honoured) is flattened."""
    if not body:
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType", "text")).lower() != "html":
        return content
    text = _TAGS.sub("", _BREAKS.sub("\n", _DROP.sub("", content)))
    lines = [html.unescape(line).replace("\xa0", " ").rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
