"""A loopback HTTP proxy in front of a fake that fails a share of the calls at random.

The product is pointed at :attr:`FaultProxy.url` (``api_endpoint``); every request either
goes through to the fake untouched or meets one fault (a seeded RNG decides which calls fail;
the kinds come round in shuffled rounds, so any seven faults include each kind once):

- ``429``: Too Many Requests with ``Retry-After: 0``, before the fake sees the request;
- ``500``, ``503``: a server error before the fake sees it;
- ``500_after``: the fake does the work, then the client gets a 500 (a gateway error behind a
  server that finished: the write happened, the answer says it did not);
- ``timeout``: the fake does the work, the answer is held past the client's timeout and then
  the connection is closed;
- ``drop``: the connection is closed before anything is forwarded;
- ``lost_answer``: the fake does the work, the connection is closed without an answer.

Links in answers that name the fake (Graph's ``@odata.nextLink``/``deltaLink``) are rewritten
to name the proxy, as a real reverse proxy would, so paging stays behind the faults.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("429", "500", "503", "500_after", "timeout", "drop", "lost_answer")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length",
                        "host", "proxy-connection", "te", "trailer", "upgrade"})


class FaultProxy:
    """Start with ``FaultProxy(upstream_url, rate=0.3)``; stop with :meth:`close`."""

    def __init__(self, upstream: str, *, rate: float, seed: int = 0, hold: float = 0.5) -> None:
        self.upstream = upstream.rstrip("/")
        parts = urlsplit(self.upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.rate = rate
        self.hold = hold  # how long a "timeout" holds the answer: more than the client waits
        self.enabled = True
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._rng = random.Random(seed)
        self._burst: list[str] = []
        self._deck: list[str] = []
        self._skip = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def burst(self, faults: Sequence[str], *, after: int) -> None:
        """Let ``after`` requests through untouched, then fail the next ones with ``faults`` in
        order (random faults wait meanwhile): a failure placed where a test wants it."""
        with self._lock:
            self._skip, self._burst = after, list(faults)

    def pick(self) -> str | None:
        """The fault for the next request, or None (forwarded untouched)."""
        with self._lock:
            if self._burst:
                if self._skip:
                    self._skip -= 1
                    return None
                fault = self._burst.pop(0)
            elif not self.enabled or self._rng.random() >= self.rate:
                return None
            else:
                if not self._deck:  # every kind once per round, in a random order
                    self._deck = self._rng.sample(FAULTS, len(FAULTS))
                fault = self._deck.pop()
            self.injected[fault] += 1
            return fault

    def forward(self, method: str, path: str, headers: list[tuple[str, str]],
                body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body or None,
                         headers={k: v for k, v in headers if k.lower() not in HOP_BY_HOP})
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            conn.close()
        with self._lock:
            self.forwarded += 1
        return resp.status, out, data.replace(self.upstream.encode(), self.url.encode())


def _error_body(status: int) -> bytes:
    """An error both Google's and Graph's clients can read (``error.code``/``errors``)."""
    reason = "rateLimitExceeded" if status == 429 else "backendError"
    return json.dumps({"error": {
        "code": status, "message": "fault proxy: injected",
        "errors": [{"reason": reason, "message": "injected"}],
    }}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = proxy.pick()
        if fault == "drop":
            self.close_connection = True
            return
        if fault in ("429", "500", "503"):
            status = int(fault)
            extra = [("Retry-After", "0")] if status == 429 else []
            self._answer(status, [("Content-Type", "application/json"), *extra],
                         _error_body(status))
            return
        status, headers, data = proxy.forward(self.command, self.path, self.headers.items(), body)
        if fault == "timeout":
            time.sleep(proxy.hold)
        if fault in ("timeout", "lost_answer"):
            self.close_connection = True
            return
        if fault == "500_after":
            self._answer(500, [("Content-Type", "application/json")], _error_body(500))
            return
        self._answer(status, headers, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
