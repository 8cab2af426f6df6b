"""One new reply in a big mailbox: what it costs to make the nudges go, and how soon they go.

For each provider (python -m benchmarks replies) and a mailbox of 1,000 and of 20,000
messages (spread over the last year), with two applications whose cycles are under way:

- ``reply_cancels_nudges``: a reply from the first company arrives; sync passes run until none
  of its nudges (follow-up, call and move-on reminders, follow-up drafts) is left. Requests,
  Gmail quota units, passes and wall time of those passes: the target is a constant, the same
  for 1,000 and 20,000 messages. ``naive_*`` beside it is, in the same run against the same
  fake, a full rescan (every page of the calendar window and of the mailbox's message list)
  that a poller without sync tokens must do every cycle before it can even see the reply.
- ``reply_to_cancellation_delay`` (20,000 messages): the real daemon (``run_forever``, poll
  interval 10 s, the smallest the config allows) is running; a reply from the second company
  lands at a random moment; the delay until its nudges are gone is measured on the fake.
  Target: within one poll interval (plus the pass that removes them).
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import requests
from icalendar import Calendar

from inbox_followup.cli import daemon
from inbox_followup.config.loader import Config, load
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.sync import service
from tests.fakes.google_fake import GoogleFake
from tests.fakes.graph_fake import GraphFake
from tests.fakes.graph_state import address, graph_dt

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # a Friday, noon in Chicago
USER = "alex.morgan@example.com"
COMPANIES = ("Acme", "Globex")
NUDGES = ("follow_up_reminder", "call_reminder", "move_on_reminder", "follow_up_draft")
POLL_SECONDS = 10
WRITE_SUFFIXES = (".insert", ".update", ".patch", ".delete", ".create")
CONFIG = """timezone: America/Chicago
state_dir: state
poll_seconds: {poll}
profile: {{name: Alex Morgan}}
accounts:
  - {account}
"""


def _start(company: str) -> datetime:
    """Acme three days ago, Globex two: both cycles have every nudge still ahead."""
    return NOW - timedelta(days=3 if company == "Acme" else 2, hours=2)


def _lead(company: str) -> str:
    return f"lead@{company.lower()}.example"


def _raw(i: int, when: datetime, sender: str, subject: str) -> bytes:
    return (f"From: {sender}\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: <m{i}@bench.example>\r\n\r\n"
            "Hello\r\n").encode()


def _mailbox(n: int) -> Iterator[tuple[int, datetime, bytes]]:
    for i in range(n):
        when = NOW - timedelta(hours=1) - timedelta(minutes=(i * 26_280) // max(n, 1) * 20)
        yield i, when, _raw(i, when, f"News {i % 50} <news{i % 50}@letters.example>", f"note {i}")


class GoogleEnv:
    kind = "google"

    def __init__(self, root: Path, n: int) -> None:
        self.fake = GoogleFake(USER)
        for company in COMPANIES:
            start = _start(company)
            self.fake.calendar.user_put("primary", {
                "summary": f"Interview with {company}", "organizer": {"email": _lead(company)},
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
                "attendees": [{"email": _lead(company), "displayName": f"{company} Lead"},
                              {"email": USER, "self": True}]})
        for _, when, raw in _mailbox(n):  # straight into the model: deliver() threads, O(n)
            self.fake.gmail._add(raw, ["INBOX"], "", int(when.timestamp() * 1000))
        self.account = (f"{{name: g, provider: google, address: {USER}, "
                        f"api_endpoint: '{self.fake.url}', token_command: echo t}}")

    def deliver(self, raw: bytes) -> None:
        self.fake.gmail.deliver(raw)

    def nudges(self, company: str) -> int:
        cal = self.fake.calendar
        events = [e for c in [*(x.id for x in cal.app_calendars()), "primary"]
                  for e in cal.live_events(c)]
        keys = [e.get("extendedProperties", {}).get("private", {}).get("ifu_key", "")
                for e in events if company in e.get("summary", "")]
        drafts = [m.raw for m in self.fake.gmail.messages.values()
                  if "DRAFT" in m.labels and _lead(company).encode() in m.raw]
        return sum(any(k in key for k in NUDGES) for key in keys) + sum(
            b"follow_up_draft" in raw for raw in drafts)

    def counters(self) -> tuple[int, int | None]:
        return self.fake.requests, self.fake.quota_units

    def writes(self) -> int | None:
        return sum(n for m, n in self.fake.counts.items() if m.endswith(WRITE_SUFFIXES))

    def reset(self) -> None:
        self.fake.reset_counters()

    def naive(self) -> None:
        """A full rescan: the calendar window and every page of the message list."""
        auth = {"Authorization": "Bearer t"}
        with requests.Session() as s:
            _pages(s, f"{self.fake.url}/calendar/v3/calendars/primary/events", auth, {
                "singleEvents": "true", "maxResults": "2500",
                "timeMin": (NOW - timedelta(days=60)).isoformat(),
                "timeMax": (NOW + timedelta(days=180)).isoformat()}, "nextPageToken")
            _pages(s, f"{self.fake.url}/gmail/v1/users/me/messages", auth,
                   {"maxResults": "500"}, "nextPageToken")

    def close(self) -> None:
        self.fake.close()


class GraphEnv:
    kind = "microsoft"

    def __init__(self, root: Path, n: int) -> None:
        self.fake = GraphFake(USER, key_property=KEY_PROPERTY, token="t", clock=NOW)
        for company in COMPANIES:
            start = _start(company)
            self.fake.add_event(f"{company}-1", f"Interview with {company}", start,
                                start + timedelta(hours=1), [(_lead(company), f"{company} Lead")],
                                organizer=_lead(company), response="accepted")
        with self.fake.state.lock:
            for i, when, _ in _mailbox(n):
                sender = address(f"news{i % 50}@letters.example", f"News {i % 50}")
                self.fake.state.put_message("inbox", {
                    "subject": f"note {i}", "from": sender, "sender": sender,
                    "receivedDateTime": graph_dt(when)["dateTime"][:19] + "Z"})
        self.account = (f"{{name: ms, provider: microsoft, address: {USER}, "
                        f"api_endpoint: '{self.fake.url}', token_command: echo t}}")

    def deliver(self, raw: bytes) -> None:
        self.fake.deliver(raw)

    def nudges(self, company: str) -> int:
        events = [k for k, e in self.fake.events_with_key().items()
                  if company in e.get("subject", "")]
        drafts = [k for k, d in self.fake.drafts().items() if d.to == _lead(company)]
        return sum(any(n in k for n in NUDGES) for k in events + drafts)

    def counters(self) -> tuple[int, int | None]:
        return self.fake.count(), None

    def writes(self) -> int | None:
        return sum(self.fake.count(m) for m in ("POST", "PATCH", "DELETE"))

    def reset(self) -> None:
        self.fake.reset_counts()

    def naive(self) -> None:
        """A full rescan: a fresh calendarView round and every page of both folders."""
        headers = {"Authorization": "Bearer t",
                   "Prefer": 'IdType="ImmutableId", outlook.timezone="UTC"'}
        base = f"{self.fake.url}/v1.0/me"
        with requests.Session() as s:
            _pages(s, f"{base}/calendarView/delta", headers, {
                "startDateTime": (NOW - timedelta(days=60)).isoformat(),
                "endDateTime": (NOW + timedelta(days=180)).isoformat()}, "@odata.nextLink")
            for folder in ("inbox", "sentitems"):
                _pages(s, f"{base}/mailFolders/{folder}/messages", headers,
                       {"$top": "1000", "$select": "id,subject,from,receivedDateTime"},
                       "@odata.nextLink")

    def close(self) -> None:
        self.fake.close()


class LocalEnv:
    kind = "local"

    def __init__(self, root: Path, n: int) -> None:
        self.root = root
        for folder in ("INBOX", "Sent", "Drafts"):
            for sub in ("cur", "new", "tmp"):
                (root / "mail" / folder / sub).mkdir(parents=True)
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
        for company in COMPANIES:
            start = _start(company)
            lines += ["BEGIN:VEVENT", f"UID:{company}-1@bench.example", "DTSTAMP:20260101T000000Z",
                      f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                      f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                      f"SUMMARY:Interview with {company}", f"ORGANIZER:mailto:{_lead(company)}",
                      f"ATTENDEE;CN={company} Lead:mailto:{_lead(company)}",
                      f"ATTENDEE:mailto:{USER}", "END:VEVENT"]
        (root / "calendar.ics").write_text("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n")
        for i, _, raw in _mailbox(n):
            (root / "mail" / "INBOX" / "cur" / f"{1_700_000_000 + i}.m{i}.bench:2,S").write_bytes(raw)
        self.account = (f"{{name: me, provider: local, address: {USER}, calendar: calendar.ics, "
                        "reminders: reminders.ics, maildir: mail}")
        self.delivered = 0

    def deliver(self, raw: bytes) -> None:
        self.delivered += 1
        (self.root / "mail" / "INBOX" / "new" / f"1900000000.r{self.delivered}.bench").write_bytes(raw)

    def nudges(self, company: str) -> int:
        path = self.root / "reminders.ics"
        cal = Calendar.from_ical(path.read_bytes()) if path.exists() else Calendar()
        keys = [str(e.get("uid", "")) for e in cal.walk("VEVENT")
                if company in str(e.get("summary", ""))]
        drafts = [p.name for p in (self.root / "mail" / "Drafts" / "cur").iterdir()
                  if "follow_up_draft" in p.name and company.lower() in p.read_text().lower()]
        return sum(any(n in k for n in NUDGES) for k in keys) + len(drafts)

    def counters(self) -> tuple[int | None, int | None]:
        return None, None

    def writes(self) -> int | None:
        return None

    def reset(self) -> None:
        pass

    def naive(self) -> None:
        pass

    def close(self) -> None:
        pass


Env = GoogleEnv | GraphEnv | LocalEnv


def _pages(s: requests.Session, url: str, headers: dict[str, str], params: dict[str, str],
           link: str) -> None:
    query: dict[str, str] | None = params
    while True:
        body = s.get(url, headers=headers, params=query, timeout=60).json()
        nxt = body.get(link)
        if not nxt:
            return
        if link == "nextPageToken":
            query = {**params, "pageToken": nxt}
        else:
            url, query = nxt, None


def _reply(company: str, when: datetime) -> bytes:
    return _raw(900_000 + len(company), when, f"{company} Lead <{_lead(company)}>",
                "Re: Thank you")


def _clock(began: float) -> Callable[[], datetime]:
    """The daemon's clock: NOW, then running as real time does."""
    return lambda: NOW + timedelta(seconds=time.monotonic() - began)


def _config(root: Path, env: Env) -> Config:
    path = root / "config.yaml"
    path.write_text(CONFIG.format(poll=POLL_SECONDS, account=env.account))
    return load(path)


def _until_gone(env: Env, config: Config, clock: Callable[[], datetime],
                company: str) -> dict[str, Any]:
    env.reset()
    env.deliver(_reply(company, clock()))
    began, passes = time.perf_counter(), 0
    while env.nudges(company) and passes < 5:
        passes += 1
        service.sync(config, clock())
    wall = time.perf_counter() - began
    reqs, units = env.counters()
    writes = env.writes()
    env.reset()
    env.naive()
    naive, naive_units = env.counters()
    return {"requests": reqs, "writes": writes, "quota_units": units, "passes": passes,
            "wall_ms": round(wall * 1000), "nudges_left": env.nudges(company),
            "naive_rescan_requests": naive, "naive_rescan_quota_units": naive_units}


def _delay(env: Env, config: Config, clock: Callable[[], datetime], company: str,
           rng: random.Random) -> dict[str, Any]:
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run_forever, args=(config, clock), daemon=True,
                              kwargs={"stop": stop})
    thread.start()
    time.sleep(rng.uniform(0.5, POLL_SECONDS))  # the reply lands anywhere in an interval
    env.deliver(_reply(company, clock()))
    landed = time.monotonic()
    while env.nudges(company) and time.monotonic() - landed < 3 * POLL_SECONDS:
        time.sleep(0.02)
    delay = time.monotonic() - landed
    stop.set()
    thread.join(timeout=60)
    return {"delay_ms": round(delay * 1000), "nudges_left": env.nudges(company),
            "poll_seconds": POLL_SECONDS,
            "target": "within one poll interval (plus the pass that removes them)"}


def run(kind: type[GoogleEnv] | type[GraphEnv] | type[LocalEnv], n: int,
        rng: random.Random) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = kind(root, n)
        try:
            config = _config(root, env)
            clock = _clock(time.monotonic())
            service.sync(config, clock())  # the cycles start: every nudge of both applications
            assert all(env.nudges(c) for c in COMPANIES), "the setup made no nudges"
            base = {"backend": env.kind, "messages": n}
            yield {"case": "reply_cancels_nudges", **base,
                   **_until_gone(env, config, clock, COMPANIES[0]),
                   "target": "constant in mailbox size; 1 pass"}
            if n >= 20_000:
                yield {"case": "reply_to_cancellation_delay", **base,
                       **_delay(env, config, clock, COMPANIES[1], rng)}
        finally:
            env.close()


def cases() -> Iterator[dict[str, object]]:
    rng = random.Random(20261120)
    for kind in (GoogleEnv, GraphEnv, LocalEnv):
        for n in (1_000, 20_000):
            yield from run(kind, n, rng)
