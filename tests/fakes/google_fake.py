"""A stateful loopback fake of Google Calendar v3, Gmail v1 and Google's OAuth token endpoint.

The product's real client (google-api-python-client with its bundled discovery documents)
talks to it over HTTP: ``api_endpoint`` = :attr:`GoogleFake.url`. Every request is checked
against the discovery documents (google_discovery.py), answered from an in-memory model
(google_calendar_fake.py, google_gmail_fake.py) with Google's JSON and error envelopes, and
counted by method id with Gmail quota units (docs/api-notes.md 2.5). Faults can be injected:
429/5xx with Retry-After, slow answers, dropped connections. Any attempt to send mail is
refused and counted in :attr:`GoogleFake.send_attempts`, which tests assert stays 0.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .google_calendar_fake import CalendarModel
from .google_discovery import DiscoveryApi, FakeError
from .google_gmail_fake import GmailModel

S = "https://www.googleapis.com/auth/"
# docs/design.md "Least privilege", written out here rather than imported, so the fake holds the
# product to the design instead of to whatever the product asks for.
LEAST_PRIVILEGE = frozenset({S + "calendar.events.readonly", S + "calendar.app.created",
                             S + "gmail.compose", S + "gmail.metadata"})
GMAIL_UNITS = {  # https://developers.google.com/gmail/api/reference/quota
    "drafts.create": 10, "drafts.update": 15, "drafts.delete": 10, "drafts.get": 5,
    "drafts.list": 5, "drafts.send": 100, "getProfile": 1, "history.list": 2, "labels.list": 1,
    "labels.get": 1, "messages.get": 5, "messages.list": 5, "messages.send": 100,
    "threads.get": 10, "threads.list": 10, "watch": 100, "stop": 50,
}
SEND_METHODS = frozenset({"gmail.users.drafts.send", "gmail.users.messages.send"})
Reply = tuple[int, dict[str, str], bytes]


@cache
def _api(name: str, version: str) -> DiscoveryApi:
    return DiscoveryApi(name, version)


@dataclass
class Fault:
    status: int = 0
    retry_after: float | None = None
    method: str | None = None  # a method id (or its prefix); None = any request
    drop: bool = False  # close the connection before doing anything
    delay: float = 0.0
    lose_answer: bool = False  # do the work, then close the connection without answering
    reason: str | None = None  # the error reason; by default rateLimitExceeded or backendError


class _OAuth:
    """Google's token endpoint as far as the installed-app flow and refreshes need it."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}  # code -> scope string
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> scope string
        self.refused = False  # every refresh answers invalid_grant (the 7-day Testing trap)
        self.outage = 0  # the next n token requests answer 503 temporarily_unavailable
        self.withheld: set[str] = set()  # scopes the user unticks on the consent screen
        self.asked: list[str] = []  # the scope strings of every consent screen shown
        self.refreshes = 0


class GoogleFake:
    """Start with ``GoogleFake()``; stop with :meth:`close`. See the module docstring."""

    def __init__(self, user: str = "me@example.com", *, scopes: frozenset[str] = LEAST_PRIVILEGE,
                 tokens: set[str] | None = None, seed: int = 0) -> None:
        self.user = user
        self.scopes: set[str] = set(scopes)
        self.calendar = CalendarModel(user, self.scopes)
        self.gmail = GmailModel(user, self.scopes, seed)
        self.apis = (_api("calendar", "v3"), _api("gmail", "v1"))
        self.handlers = {**self.calendar.handlers(), **self.gmail.handlers()}
        self.valid_tokens = tokens  # None: any bearer token is accepted
        self.oauth = _OAuth()
        self.lock = threading.RLock()
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.quota_units = 0
        self.send_attempts = 0
        self.unimplemented: list[str] = []
        self.crashes: list[str] = []
        self.log: list[tuple[str, dict[str, list[str]]]] = []
        self._faults: deque[Fault] = deque()
        self._rate: tuple[float, random.Random, int] | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- fault injection and counters --------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 429, retry_after: float | None = None,
                  method: str | None = None, drop: bool = False, delay: float = 0.0,
                  lose_answer: bool = False, reason: str | None = None) -> None:
        """The next ``n`` matching requests fail (or are dropped, answered late, or done
        with the answer lost)."""
        fault = Fault(0 if drop or lose_answer or delay else status, retry_after, method, drop,
                      delay, lose_answer, reason)
        with self.lock:
            self._faults.extend(fault for _ in range(n))

    def fail_rate(self, p: float, seed: int = 0, status: int = 503) -> None:
        """From now on each request fails with probability ``p`` (``p=0`` stops it)."""
        with self.lock:
            self._rate = (p, random.Random(seed), status) if p > 0 else None

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self.valid_tokens = set()

    def reset_counters(self) -> None:
        with self.lock:
            self.counts.clear()
            self.log.clear()
            self.requests = self.quota_units = 0

    def calls(self, prefix: str = "") -> int:
        with self.lock:
            return sum(n for k, n in self.counts.items() if k.startswith(prefix))

    def _take_fault(self, method_id: str) -> Fault | None:
        for fault in list(self._faults):
            if fault.method is None or method_id.startswith(fault.method):
                self._faults.remove(fault)
                return fault
        if self._rate is not None and self._rate[1].random() < self._rate[0]:
            return Fault(self._rate[2])
        return None

    # --- request handling --------------------------------------------------------------------

    def handle(self, verb: str, target: str, headers: dict[str, str], body: bytes) -> Reply | None:
        """One HTTP exchange; None means "drop the connection without an answer"."""
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path == "/token":
            return self._token(parse_qs(body.decode()))
        if url.path == "/o/oauth2/auth":
            return self._authorize(query)
        with self.lock:
            found = self._match(verb, url.path)
            method_id = found[1].id if found else f"{verb} {url.path}"
            self.requests += 1
            self.counts[method_id] += 1
            self.log.append((method_id, query))
            fault = self._take_fault(method_id)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status:
                extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                reason = fault.reason or (
                    "rateLimitExceeded" if fault.status == 429 else "backendError")
                return _error(FakeError(fault.status, reason, "fake: injected fault", extra))
        try:
            with self.lock:
                reply = self._dispatch(found, verb, url.path, headers, query, body)
        except FakeError as exc:
            reply = _error(exc)
        except Exception as exc:  # a bug in the fake: answer 500 and let the test see it
            self.crashes.append(f"{method_id}: {type(exc).__name__}: {exc}")
            reply = _error(FakeError(500, "backendError", "fake: crashed"))
        return None if fault is not None and fault.lose_answer else reply

    def _match(self, verb: str, path: str) -> tuple[DiscoveryApi, Any, dict[str, str]] | None:
        for api in self.apis:
            if path.startswith(api.prefix):
                hit = api.match(verb, path)
                if hit:
                    return api, hit[0], hit[1]
        return None

    def _dispatch(self, found: tuple[DiscoveryApi, Any, dict[str, str]] | None, verb: str,
                  path: str, headers: dict[str, str], query: dict[str, list[str]],
                  body: bytes) -> Reply:
        if found is None:
            raise FakeError(404, "notFound", f"fake: no API method at {verb} {path}")
        api, method, params = found
        self._check_token(headers.get("authorization", ""))
        if method.id in SEND_METHODS:
            self.send_attempts += 1
            raise FakeError(403, "forbidden", "fake: this tool must never send mail")
        if not method.scopes & self.scopes:
            raise FakeError(403, "insufficientPermissions",
                            "Request had insufficient authentication scopes.")
        if params.get("userId", "me") not in ("me", self.user):
            raise FakeError(403, "forbidden", "Delegation denied")
        typed = api.check_query(method, query)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            raise FakeError(400, "parseError", "Invalid JSON payload received.") from None
        api.check_body(method, payload)
        handler = self.handlers.get(method.id)
        if handler is None:
            self.unimplemented.append(method.id)
            raise FakeError(501, "notImplemented", f"fake: {method.id} is not modelled")
        short = method.id.removeprefix("gmail.users.")
        if method.id.startswith("gmail."):
            self.quota_units += GMAIL_UNITS.get(short, 5)
        status, obj = handler(params, typed, payload)
        data = json.dumps(obj).encode() if obj is not None else b""
        return status, {"Content-Type": "application/json; charset=UTF-8"}, data

    def _check_token(self, header: str) -> None:
        token = header[7:] if header.startswith("Bearer ") else ""
        if not token or (self.valid_tokens is not None and token not in self.valid_tokens):
            raise FakeError(401, "authError", "Request had invalid authentication credentials.",
                            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    def _authorize(self, query: dict[str, list[str]]) -> Reply:
        """The consent screen, already clicked through: redirect back with a code."""
        code = "4/fake-" + secrets.token_urlsafe(8)
        asked = query.get("scope", [""])[0]
        scope = " ".join(s for s in asked.split() if s not in self.oauth.withheld)
        with self.lock:
            self.oauth.asked.append(asked)
            self.oauth.codes[code] = scope
        back = {"state": query.get("state", [""])[0], "code": code, "scope": scope}
        location = f"{query['redirect_uri'][0]}?{urlencode(back)}"
        return 302, {"Location": location}, b""

    def _token(self, form: dict[str, list[str]]) -> Reply:
        grant = form.get("grant_type", [""])[0]
        with self.lock:
            if self.oauth.outage > 0:  # RFC 6749 5.2 has no such code; Google's 5xx look so
                self.oauth.outage -= 1
                self.oauth.refreshes += 1
                data = {"error": "temporarily_unavailable",
                        "error_description": "The service is currently unavailable."}
                return 503, {"Content-Type": "application/json"}, json.dumps(data).encode()
            if grant == "authorization_code":
                scope = self.oauth.codes.pop(form.get("code", [""])[0], None)
                refresh: str | None = "1//fake-" + secrets.token_urlsafe(8)
            else:
                refresh = form.get("refresh_token", [""])[0]
                scope = None if self.oauth.refused else self.oauth.refresh_tokens.get(refresh)
                self.oauth.refreshes += 1
            if scope is None or refresh is None:
                data = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
                return 400, {"Content-Type": "application/json"}, json.dumps(data).encode()
            self.oauth.refresh_tokens[refresh] = scope
            access = "ya29.fake-" + secrets.token_urlsafe(8)
            if self.valid_tokens is not None:
                self.valid_tokens.add(access)
        out = {"access_token": access, "expires_in": 3599, "scope": scope, "token_type": "Bearer"}
        if grant == "authorization_code":
            out["refresh_token"] = refresh
        return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()


def _error(exc: FakeError) -> Reply:
    headers = {"Content-Type": "application/json; charset=UTF-8", **exc.headers}
    return exc.status, headers, json.dumps(exc.body()).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle: headers and body in separate small writes
    # meet the client's delayed ACK and cost 40 ms per request on a kept-alive connection.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake: GoogleFake = self.server.fake  # type: ignore[attr-defined]
        reply = fake.handle(self.command, self.path, headers, body)
        if reply is None:
            self.close_connection = True
            return
        status, out_headers, data = reply
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
