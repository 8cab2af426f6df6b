"""A stateful loopback Microsoft Graph v1.0 for tests: ``http.server`` on 127.0.0.1, port 0.

What it checks, so the product cannot drift from what Graph accepts:
- bodies and ``$select`` against Graph's CSDL (``graph_schema``), 400 for unknown properties;
- calendarView delta refuses ``$select``/``$expand``/``$filter``/``$orderby``/``$search``/``$top``;
  createReply refuses ``comment`` together with ``message.body``; custom internet headers must
  start with ``x-``;
- every request must carry a bearer token it knows (401 otherwise) and the Prefer values
  ``IdType="ImmutableId"`` and ``outlook.timezone`` (recorded in ``prefer_problems``);
- any send (``/send``, ``/sendMail``, ``/reply``, ``/replyAll``, ``/forward``) is refused and
  counted in ``send_attempts``; tests assert it stays 0.

What it lets a test do: fault injection (``fail_next``, ``fail_rate``, ``delay``), expiring
every delta token (``expire_deltas``), request counts, peak concurrency, and the user's side
of the mailbox (events arrive, mail arrives, drafts edited/sent/deleted, notes typed).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from inbox_followup.core.model import DraftSnapshot

from . import graph_schema
from .graph_odata import html_to_text, parse_prefer, parse_time, text_to_html
from .graph_routes import SEND, GraphHTTPError, Req, route
from .graph_state import GraphState, Item, address, graph_dt

DEFAULT_CLOCK = datetime(2024, 1, 1, tzinfo=UTC)
Answer = tuple[int, dict[str, str], bytes]


class GraphFake:
    """Start with ``GraphFake(...)``; ``url`` is the ``api_endpoint``; ``close()`` stops it."""

    def __init__(
        self,
        user: str = "alex@contoso.example",
        *,
        key_property: str,
        token: str = "fake-token",
        clock: datetime = DEFAULT_CLOCK,
        max_page: int = 1000,
    ) -> None:
        self.state = GraphState(user, clock)
        self.schema = graph_schema.load()
        self.key_property = key_property
        self.valid_tokens = {token}
        self.max_page = max_page
        self.requests: list[tuple[str, str]] = []
        self.send_attempts = 0
        self.prefer_problems: list[str] = []
        self.delay = 0.0
        self.inflight = self.max_inflight = 0
        self._faults: list[tuple[int, float | None, bool, str | None, str | None]] = []
        self._rate: tuple[float, random.Random, int] | None = None
        self._meta = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GraphFake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- faults and counters ----------------------------------------------------------------

    def fail_next(
        self, n: int, status: int = 429, retry_after: float | None = 1.0, *, after: bool = False,
        method: str | None = None, path: str | None = None,
    ) -> None:
        """The next ``n`` requests fail with ``status`` (and ``Retry-After`` when given).

        ``after=True``: the request is carried out first and only the answer is lost, as when
        a gateway times out behind a server that did the work. ``method``/``path`` (a
        substring) limit the fault to matching requests.
        """
        with self._meta:
            self._faults.extend([(status, retry_after, after, method, path)] * n)

    def clear_faults(self) -> None:
        with self._meta:
            self._faults.clear()
            self._rate = None

    def fail_rate(self, p: float, seed: int = 0, status: int = 503) -> None:
        """From now on each request fails with probability ``p`` (0 turns it off)."""
        with self._meta:
            self._rate = (p, random.Random(seed), status) if p > 0 else None

    def expire_deltas(self) -> None:
        """Every delta/skip token handed out so far answers 410 syncStateNotFound."""
        with self.state.lock:
            self.state.epoch += 1

    def count(self, method: str | None = None, contains: str | None = None) -> int:
        with self._meta:
            return sum(
                1 for m, p in self.requests
                if (method is None or m == method) and (contains is None or contains in p)
            )

    def reset_counts(self) -> None:
        with self._meta:
            self.requests.clear()

    # --- HTTP -------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, raw: bytes) -> Answer:
        parts = urlsplit(raw_path)
        with self._meta:
            self.requests.append((method, parts.path))
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
            fault = self._take_fault(method, parts.path)
            if fault is None and self._rate and self._rate[1].random() < self._rate[0]:
                fault = (self._rate[2], None, False)
        try:
            if self.delay:
                time.sleep(self.delay)
            if fault is not None and fault[2]:
                self._answer(method, parts.path, dict(parse_qsl(parts.query)), headers, raw)
            if fault is not None:
                extra = {"Retry-After": f"{fault[1]:g}"} if fault[1] is not None else {}
                code = "TooManyRequests" if fault[0] == 429 else "ServiceUnavailable"
                return _error(fault[0], code, "injected fault", extra)
            return self._answer(method, parts.path, dict(parse_qsl(parts.query)), headers, raw)
        finally:
            with self._meta:
                self.inflight -= 1

    def _take_fault(self, method: str, path: str) -> tuple[int, float | None, bool] | None:
        for i, (status, retry_after, after, m, p) in enumerate(self._faults):
            if (m is None or m == method) and (p is None or p in path):
                del self._faults[i]
                return status, retry_after, after
        return None

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, raw: bytes
    ) -> Answer:
        if not path.startswith("/v1.0/"):
            return _error(404, "NotFound", f"no such API version: {path}")
        rel = path[len("/v1.0/") :]
        token = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if token not in self.valid_tokens:
            return _error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        prefer = parse_prefer(headers.get_all("Prefer") or [])
        if prefer.get("idtype") != "ImmutableId" or "outlook.timezone" not in prefer:
            with self._meta:
                self.prefer_problems.append(f"{method} {rel}")
        if method == "POST" and SEND.search(rel):
            with self._meta:
                self.send_attempts += 1
            return _error(403, "ErrorAccessDenied", "this fake never sends mail")
        found = route(method, rel)
        if found is None:
            return _error(400, "BadRequest", f"Resource not found for the segment '{rel}'.")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return _error(400, "BadRequest", "Unable to read JSON request payload.")
        handler, match = found
        req = Req(method, rel, query, prefer, body, f"{self.url}/v1.0/", self.schema, match, self.max_page)
        try:
            with self.state.lock:
                status, payload = handler(req, self.state)
        except GraphHTTPError as exc:
            return _error(exc.status, exc.code, exc.message)
        data = b"" if payload is None else json.dumps(payload).encode()
        return status, {"Content-Type": "application/json"}, data

    # --- the user's side of the mailbox -----------------------------------------------------

    def add_event(
        self, uid: str, title: str, start: datetime, end: datetime,
        attendees: list[tuple[str, str | None]], organizer: str | None = None,
        description: str = "", *, all_day: bool = False, response: str = "none",
        location: str = "",
    ) -> str:
        """An event on the user's default calendar (an invitation when ``organizer`` is set)."""
        user = self.state.user
        people = [{**address(a.lower(), n), "type": "required", "status": {"response": "none"}}
                  for a, n in attendees]
        mine = organizer is None or organizer.lower() == user
        if not mine and all(p["emailAddress"]["address"] != user for p in people):
            people.append({**address(user), "type": "required", "status": {"response": response}})
        with self.state.lock:
            event = self.state.put_event({
                "iCalUId": uid, "subject": title, "start": graph_dt(start), "end": graph_dt(end),
                "attendees": people, "organizer": address((organizer or user).lower()),
                "isOrganizer": mine, "isAllDay": all_day,
                "responseStatus": {"response": "organizer" if mine else response},
                "body": {"contentType": "html", "content": text_to_html(description)},
                "location": {"displayName": location}, "_uid": uid,
            })
        return str(event["id"])

    def add_series(
        self, uid: str, title: str, starts: list[datetime], length: timedelta,
        attendees: list[tuple[str, str | None]], organizer: str,
    ) -> str:
        """A recurring invitation: a series master and one occurrence per start."""
        user = self.state.user
        people = [{**address(a.lower(), n), "type": "required", "status": {"response": "none"}}
                  for a, n in [*attendees, (user, None)]]
        with self.state.lock:
            master = self.state.add_series({
                "iCalUId": uid, "subject": title, "attendees": people,
                "organizer": address(organizer.lower()), "isOrganizer": False,
                "responseStatus": {"response": "accepted"},
                "start": graph_dt(starts[0]), "end": graph_dt(starts[0] + length), "_uid": uid,
            }, starts, length)
        return str(master["id"])

    def rename_series(self, uid: str, title: str) -> None:
        with self.state.lock:
            self.state.touch_series(self._event_by_uid(uid)["id"], {"subject": title})

    def _event_by_uid(self, uid: str) -> Item:
        return next(e for e in self.state.events.values() if e.get("_uid") == uid)

    def move_event(self, uid: str, start: datetime, end: datetime) -> None:
        with self.state.lock:
            event = self._event_by_uid(uid)
            self.state.touch_event(event["id"], {"start": graph_dt(start), "end": graph_dt(end)})

    def cancel_event(self, uid: str) -> None:
        """The organizer cancels: Outlook keeps the attendee's copy, marked cancelled."""
        with self.state.lock:
            event = self._event_by_uid(uid)
            fields = {"isCancelled": True, "subject": "Canceled: " + event["subject"]}
            self.state.touch_event(event["id"], fields)

    def delete_event(self, uid: str) -> None:
        with self.state.lock:
            self.state.remove_event(self._event_by_uid(uid)["id"])

    def deliver(self, raw: bytes) -> str:
        with self.state.lock:
            return str(self.state.deliver(raw)["id"])

    def _draft(self, key: str) -> Item:
        with self.state.lock:
            drafts = {k: v for k, v in self.state.messages.items() if v["_folder"] == "drafts"}
            found = self.state.by_prop(drafts, self.key_property, key)
        if found is None:
            raise KeyError(f"no draft with key {key}")
        return found

    def user_edits_draft(self, key: str, new_body: str) -> None:
        with self.state.lock:
            body = {"contentType": "html", "content": text_to_html(new_body)}
            self.state.touch_message(self._draft(key)["id"], {"body": body})

    def user_sends_draft(self, key: str, when: datetime | None = None) -> Item:
        with self.state.lock:
            return self.state.send_draft(self._draft(key)["id"], when)

    def user_deletes_draft(self, key: str) -> None:
        """Outlook's delete: the draft moves to Deleted Items and keeps its immutable id."""
        with self.state.lock:
            self.state.delete_message(self._draft(key)["id"])

    def user_writes_reminder_description(self, key: str, text: str) -> None:
        with self.state.lock:
            event = self.state.by_prop(self.state.events, self.key_property, key)
            if event is None:
                raise KeyError(f"no reminder with key {key}")
            body = {"contentType": "html", "content": text_to_html(text)}
            self.state.touch_event(event["id"], {"body": body})

    def keyed(self, items: dict[str, Item]) -> Iterator[tuple[str, Item]]:
        for item in items.values():
            key = item["_props"].get(self.key_property)
            if key and not str(key).endswith("#pending"):
                yield str(key), item

    def drafts(self) -> dict[str, DraftSnapshot]:
        with self.state.lock:
            drafts = {k: v for k, v in self.state.messages.items() if v["_folder"] == "drafts"}
            return {key: _snapshot(m) for key, m in self.keyed(drafts)}

    def folder(self, name: str) -> list[Item]:
        with self.state.lock:
            return [m for m in self.state.messages.values() if m["_folder"] == name]

    def events_with_key(self) -> dict[str, Item]:
        with self.state.lock:
            return dict(self.keyed(self.state.events))


def _snapshot(message: Item) -> DraftSnapshot:
    body = message["body"]
    text = body["content"] if body.get("contentType", "").lower() != "html" else html_to_text(body["content"])
    to = next((r["emailAddress"]["address"].lower() for r in message.get("toRecipients") or ()), "")
    return DraftSnapshot(to, message["subject"], text)


def event_start(event: Item) -> datetime:
    return parse_time(event["start"]["dateTime"])


def _error(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> Answer:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return status, {"Content-Type": "application/json", **(extra or {})}, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment: split writes meet the client's delayed ACK (~40 ms each).
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake: GraphFake = self.server.fake  # type: ignore[attr-defined]
        status, headers, body = fake.handle(self.command, self.path, self.headers, raw)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read the counters instead."""
