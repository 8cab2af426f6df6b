"""1,000 accounts in one daemon against the loopback fakes (python -m benchmarks accounts).

A third of the accounts are local, a third Google, a third Microsoft; each HTTP account has its
own fake mailbox and calendar (20 events, one interview two days ago, 30 messages). The fakes
run in this process behind one loopback server that routes ``/g/N/...`` and ``/m/N/...`` to
account N's fake; the daemon's pass runs in its own process (``inbox-followup sync``: one tick
of ``run``), so its wall time and peak memory (wait4's ru_maxrss) are its own. Both processes
share the machine's cores.

Cases:
- ``accounts_first_cycle``: the first pass (full reads, every artifact written).
- ``accounts_idle_cycle``: a later pass, nothing changed: HTTP requests, writes (target 0),
  wall time (target well under the 60 s poll interval) and peak memory (target < 300 MB).
  ``naive_*`` beside it is the same pass after every cursor is forgotten: the full rescan of
  each calendar window and mailbox that a poller without sync tokens does every cycle.

Google accounts use saved OAuth token files (as after ``connect``); Microsoft accounts use
``token_command`` (MSAL would reach Microsoft's sign-in service), one shell per account and pass.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.sync.service import MAX_CONCURRENT_ACCOUNTS
from tests.fakes.google_fake import LEAST_PRIVILEGE, GoogleFake
from tests.fakes.graph_fake import GraphFake

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
INTERVIEW = NOW - timedelta(days=2, hours=3)
EVENTS, MESSAGES = 20, 30
GOOGLE_WRITES = ("calendar.events.insert", "calendar.events.update", "calendar.events.patch",
                 "calendar.events.delete", "calendar.calendars.insert",
                 "gmail.users.drafts.create", "gmail.users.drafts.update",
                 "gmail.users.drafts.delete")


class Fakes:
    """Every account's fake behind one loopback server (``/g/N`` Google, ``/m/N`` Graph)."""

    def __init__(self) -> None:
        self.google: dict[str, GoogleFake] = {}
        self.graph: dict[str, GraphFake] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Router)
        self.server.daemon_threads = True
        self.server.fakes = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._own_urls: dict[str, tuple[bytes, bytes]] = {}

    def add_google(self, n: str, user: str) -> GoogleFake:
        self.google[n] = GoogleFake(user)
        return self.google[n]

    def add_graph(self, n: str, user: str) -> GraphFake:
        fake = GraphFake(user, key_property=KEY_PROPERTY, token="bench-token", clock=NOW)
        self.graph[n] = fake
        # Graph's links (nextLink, deltaLink) name the fake's own address: point them here.
        self._own_urls[n] = (f"{fake.url}/".encode(), f"{self.url}/m/{n}/".encode())
        return fake

    def start(self) -> None:
        """Stop each fake's own server (only the router is used) and start the router."""
        with ThreadPoolExecutor(64) as pool:  # each shutdown waits out a poll interval
            list(pool.map(lambda f: f.close(), [*self.google.values(), *self.graph.values()]))
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self) -> dict[str, int]:
        return {"google": sum(f.requests for f in self.google.values()),
                "microsoft": sum(f.count() for f in self.graph.values())}

    def writes(self) -> int:
        google = sum(f.counts[m] for f in self.google.values() for m in GOOGLE_WRITES)
        graph = sum(f.count(m) for f in self.graph.values() for m in ("POST", "PATCH", "DELETE"))
        return google + graph

    def reset(self) -> None:
        for g in self.google.values():
            g.reset_counters()
        for m in self.graph.values():
            m.reset_counts()

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str],
                                                                             bytes] | None:
        _, kind, n, rest = [*handler.path.split("/", 3), "", "", ""][:4]
        if kind == "g" and n in self.google:
            headers = {k.lower(): v for k, v in handler.headers.items()}
            return self.google[n].handle(handler.command, "/" + rest, headers, body)
        if kind == "m" and n in self.graph:
            status, out, data = self.graph[n].handle(handler.command, "/" + rest,
                                                     handler.headers, body)
            own, here = self._own_urls[n]
            return status, out, data.replace(own, here)
        return 404, {}, b""


class _Router(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.fakes.answer(self, body)  # type: ignore[attr-defined]
        if reply is None:
            self.close_connection = True
            return
        status, headers, data = reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def _message(i: int, user: str, when: datetime) -> bytes:
    return (f"From: Sender {i} <sender{i}@company{i % 7}.example>\r\nTo: {user}\r\n"
            f"Subject: note {i}\r\nDate: {format_datetime(when)}\r\n"
            f"Message-ID: <m{i}.{user.split('@')[0]}@bench.example>\r\n\r\nHello\r\n").encode()


def _times(n: int) -> Iterator[tuple[int, datetime]]:
    for i in range(n):
        yield i, NOW - timedelta(days=40) + timedelta(hours=53 * i)


def _fill_google(fake: GoogleFake, user: str) -> None:
    for i, start in _times(EVENTS):
        iv = i == 0
        start = INTERVIEW if iv else start
        fake.calendar.user_put("primary", {
            "summary": "Interview with Acme" if iv else f"Busy {i}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            "attendees": [{"email": "lead@acme.example", "displayName": "Lee Lead"},
                          {"email": user, "self": True}] if iv else [],
            **({"organizer": {"email": "lead@acme.example"}} if iv else {}),
        })
    for i, when in _times(MESSAGES):
        fake.gmail.deliver(_message(i, user, when - timedelta(days=20)))


def _fill_graph(fake: GraphFake, user: str) -> None:
    for i, start in _times(EVENTS):
        if i == 0:
            fake.add_event(f"iv-{user}", "Interview with Acme", INTERVIEW,
                           INTERVIEW + timedelta(hours=1), [("lead@acme.example", "Lee Lead")],
                           organizer="lead@acme.example", response="accepted")
        else:
            fake.add_event(f"ev{i}-{user}", f"Busy {i}", start, start + timedelta(hours=1), [])
    for i, when in _times(MESSAGES):
        fake.deliver(_message(i, user, when - timedelta(days=20)))


def _local_files(root: Path, user: str) -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for i, start in _times(EVENTS):
        iv = i == 0
        start = INTERVIEW if iv else start
        lines += ["BEGIN:VEVENT", f"UID:ev{i}@bench.example", "DTSTAMP:20260101T000000Z",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}"]
        if iv:
            lines += ["SUMMARY:Interview with Acme", "ORGANIZER:mailto:lead@acme.example",
                      "ATTENDEE;CN=Lee Lead:mailto:lead@acme.example", f"ATTENDEE:mailto:{user}"]
        else:
            lines.append(f"SUMMARY:Busy {i}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    root.mkdir(parents=True)
    (root / "calendar.ics").write_text("\r\n".join(lines) + "\r\n")
    for folder in ("INBOX", "Sent", "Drafts"):
        for sub in ("cur", "new", "tmp"):
            (root / "mail" / folder / sub).mkdir(parents=True)
    for i, when in _times(MESSAGES):
        (root / "mail" / "INBOX" / "cur" / f"{1_800_000_000 + i}.m{i}:2,S").write_bytes(
            _message(i, user, when - timedelta(days=20)))


def _google_token(state: Path, name: str, endpoint: str) -> None:
    """A token file as ``connect`` leaves it: an access token valid for years."""
    info = {"token": f"ya29.bench-{name}", "refresh_token": f"1//bench-{name}",
            "token_uri": f"{endpoint}/token", "client_id": "bench.apps.example",
            "client_secret": "bench", "scopes": sorted(LEAST_PRIVILEGE),
            "expiry": "2099-01-01T00:00:00Z"}
    path = state / "tokens" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(info, out)


def build(root: Path, fakes: Fakes, n_accounts: int) -> None:
    """The config, files, token files and fakes of ``n_accounts`` accounts under ``root``."""
    state = root / "state"
    state.mkdir(mode=0o700)
    entries = []
    for i in range(n_accounts):
        name, user = f"a{i:04d}", f"user{i}@example.com"
        kind = ("local", "google", "microsoft")[i % 3]
        if kind == "local":
            _local_files(root / name, user)
            entries.append({"name": name, "provider": "local", "address": user,
                            "calendar": f"{name}/calendar.ics",
                            "reminders": f"{name}/reminders.ics", "maildir": f"{name}/mail"})
        elif kind == "google":
            _fill_google(fakes.add_google(name, user), user)
            endpoint = f"{fakes.url}/g/{name}"
            _google_token(state, name, endpoint)
            entries.append({"name": name, "provider": "google", "address": user,
                            "api_endpoint": endpoint})
        else:
            _fill_graph(fakes.add_graph(name, user), user)
            entries.append({"name": name, "provider": "microsoft", "address": user,
                            "api_endpoint": f"{fakes.url}/m/{name}",
                            "token_command": "echo bench-token"})
    config = {"timezone": "America/Chicago", "state_dir": "state", "log_level": "warning",
              "profile": {"name": "Alex Morgan"}, "accounts": entries}
    (root / "config.yaml").write_text(json.dumps(config, indent=1))  # JSON is YAML


def local_writes(root: Path) -> dict[str, int]:
    files = [*root.glob("a*/reminders.ics"), *root.glob("a*/mail/Drafts/*/*")]
    return {str(p): p.stat().st_mtime_ns for p in files if p.is_file()}


def run_pass(root: Path) -> dict[str, Any]:
    """One `inbox-followup sync` process: exit code, wall ms, CPU seconds, peak RSS MB."""
    argv = [sys.executable, "-m", "inbox_followup", "--config", str(root / "config.yaml"),
            "--now", NOW.isoformat(), "sync"]
    log = root / "sync.log"
    actions = [(os.POSIX_SPAWN_OPEN, fd, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
               for fd in (1, 2)]
    began = time.perf_counter()
    pid = os.posix_spawn(sys.executable, argv, dict(os.environ), file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    return {"exit": os.waitstatus_to_exitcode(status),
            "wall_ms": round((time.perf_counter() - began) * 1000),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": usage.ru_maxrss // 1024}


def measured(root: Path, fakes: Fakes) -> dict[str, Any]:
    before = local_writes(root)
    fakes.reset()
    out = run_pass(root)
    after = local_writes(root)
    by_kind = fakes.requests()
    out["requests"] = sum(by_kind.values())
    sizes = {"google": len(fakes.google), "microsoft": len(fakes.graph)}
    out["requests_per_account"] = {k: round(n / max(1, sizes[k]), 2) for k, n in by_kind.items()}
    out["http_writes"] = fakes.writes()
    out["local_files_written"] = sum(1 for k, v in after.items() if before.get(k) != v)
    with closing(sqlite3.connect(root / "state" / "state.sqlite3")) as db:
        out["accounts_with_problems"] = db.execute(
            "SELECT COUNT(DISTINCT account) FROM problems").fetchone()[0]
    return out


def forget_cursors(root: Path) -> None:
    """What a poller without sync tokens starts from every cycle: no cursor at all."""
    with closing(sqlite3.connect(root / "state" / "state.sqlite3")) as db, db:
        db.execute("DELETE FROM cursors")


def cases(n_accounts: int = 1000) -> Iterator[dict[str, object]]:
    fakes = Fakes()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build(root, fakes, n_accounts)
            fakes.start()
            common = {"backend": "all", "accounts": n_accounts,
                      "per_account": f"{EVENTS} events, 1 interview, {MESSAGES} messages",
                      "max_concurrent_accounts": MAX_CONCURRENT_ACCOUNTS,
                      "cores": os.cpu_count()}
            first = measured(root, fakes)
            yield {"case": "accounts_first_cycle", **common, **first}
            # The second pass still reads what the first one wrote (the new reminders
            # calendars); from the third on a pass is a steady-state idle one.
            measured(root, fakes)
            idle = measured(root, fakes)
            forget_cursors(root)
            naive = measured(root, fakes)
            yield {"case": "accounts_idle_cycle", **common, **idle,
                   "naive_requests": naive["requests"], "naive_wall_ms": naive["wall_ms"],
                   "naive_cpu_s": naive["cpu_s"], "naive_peak_rss_mb": naive["peak_rss_mb"],
                   "naive_http_writes": naive["http_writes"],
                   "target": "wall well under 60,000 ms; peak < 300 MB; 0 writes"}
    finally:
        fakes.close()
