"""A whole docs/rules.md cycle with 30% of the HTTP calls failing converges to the fault-free state.

Two copies of the same world run side by side: one talks to its fake directly, the other
through :class:`~tests.faults.proxy.FaultProxy`, which fails 30% of the calls at random (429
with Retry-After, 500, 503, a 500 after the work was done, timeouts, dropped connections,
answers lost after the work). Each stage of the cycle is one daemon tick
(:func:`inbox_followup.sync.service.sync_locked`) on the fault-free side and as many ticks as it takes
on the faulty side; after each stage the two calendars, mailboxes and ledgers must be the
same: no duplicate, no lost draft, no surviving nudge. Retries do not really sleep and the
HTTP timeout is short, so the whole campaign takes a few seconds.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timedelta
from email import utils
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.config.loader import AccountConfig, Config, load
from inbox_followup.formats.mime import snapshot_from_mime
from inbox_followup.providers import context_of
from inbox_followup.providers.base import Provider
from inbox_followup.providers.google.provider import GoogleProvider
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.providers.microsoft.provider import MicrosoftProvider
from inbox_followup.providers.retry import RetryPolicy
from inbox_followup.sync import service
from inbox_followup.sync.lock import StateLock

from ..contract.harness_google import GoogleHarness
from ..contract.harness_microsoft import MicrosoftHarness
from .proxy import FAULTS, FaultProxy

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)  # a Thursday, 14:00-15:00
T0 = T + timedelta(hours=1)
USER = "alex.morgan@example.com"
PEOPLE = (("jane.doe@acme.io", "Jane Doe"), ("raj.patel@acme.io", "Raj Patel"))
OTHERS = ("Globex", "Initech", "Umbrella")
HTTP_TIMEOUT = 0.4  # the proxy's "timeout" holds an answer longer than this
MAX_PASSES = 12
IID = re.compile(r"\b[0-9a-f]{12}\b")
CONFIG = """\
timezone: America/Chicago
state_dir: state
profile: {{name: Alex Morgan}}
accounts:
  - {{name: acct, provider: {provider}, address: {user}, api_endpoint: '{url}',
     token_command: echo fake-token}}
"""

Harness = GoogleHarness | MicrosoftHarness


def opener(attempts: int) -> Callable[[AccountConfig, Config], Provider]:
    """The providers ``open_provider`` builds, with a short timeout and retries that do not
    sleep (Retry-After and backoff are honoured by the policy; the wait is what is skipped).
    Fewer attempts than the default make failures cross pass boundaries, where the ledger and
    ``resume`` have to do the work rather than the retry loop."""

    def build(account: AccountConfig, config: Config) -> Provider:
        retry = RetryPolicy(attempts=attempts, sleep=lambda _: None, rng=random.Random(7))
        if account.provider == "google":
            return GoogleProvider(account, context_of(config), http_timeout=HTTP_TIMEOUT,
                                  retry=retry)
        return MicrosoftProvider(account, context_of(config), http_timeout=HTTP_TIMEOUT,
                                 retry=retry)

    return build


class Side:
    """One copy of the world: a fake (behind the fault proxy or not), a config, a state dir."""

    def __init__(self, root: Path, provider: str, *, faults: float, seed: int = 0,
                 attempts: int = 5) -> None:
        root.mkdir()
        self.root = root
        self.opener = opener(attempts)
        self.h: Harness = (GoogleHarness(root) if provider == "google"
                           else MicrosoftHarness(root, clock=T - timedelta(days=1)))
        self.proxy = FaultProxy(self.h.fake.url, rate=faults, seed=seed) if faults else None
        url = self.proxy.url if self.proxy else self.h.fake.url
        (root / "config.yaml").write_text(CONFIG.format(provider=provider, user=USER, url=url))
        self.config = load(root / "config.yaml")
        self.h.add_event("acme-1", "Interview with ACME", T, T0, [*PEOPLE, (USER, "Alex Morgan")],
                         organizer=PEOPLE[0][0])
        for i, company in enumerate(OTHERS, start=1):  # more traffic for the faults to hit
            start = T - timedelta(hours=3 * i)
            lead = f"lead@{company.lower()}.example"
            self.h.add_event(f"{company}-1", f"Interview with {company}", start,
                             start + timedelta(hours=1), [(lead, f"{company} Lead"),
                                                          (USER, "Alex Morgan")], organizer=lead)
        self.ticks = 0

    def tick(self, now: datetime) -> bool:
        """One daemon tick; True when every account synced without a problem."""
        self.ticks += 1
        if isinstance(self.h, MicrosoftHarness):
            self.h.fake.state.clock = now
        else:
            self.h.fake.gmail.now_ms = int(now.timestamp() * 1000)
        service.prepare_state_dir(self.config)
        with StateLock(self.config.state_dir):
            return service.sync_locked(self.config, now, opener=self.opener).ok

    def converge(self, now: datetime) -> int:
        for passes in range(1, MAX_PASSES + 1):
            if self.tick(now):
                return passes
        raise AssertionError(f"no clean pass in {MAX_PASSES} ticks at {now}")

    # --- what the user sees, with ids that differ between the two copies normalised ---------

    def drafts(self) -> list[tuple[str, ...]]:
        """Every draft carrying a tool key (a list: a duplicate would show twice)."""
        if isinstance(self.h, MicrosoftHarness):
            fake = self.h.fake
            out = []
            for m in fake.folder("drafts"):
                key = m["_props"].get(KEY_PROPERTY)
                if key:
                    snap = fake.drafts()[key]
                    out.append((key, snap.to, snap.subject, snap.body))
        else:
            gmail = self.h.fake.gmail
            out = []
            for mid in gmail.drafts.values():
                raw = gmail.messages[mid].raw
                key = BytesHeaderParser().parsebytes(raw).get("X-Inbox-Followup-Key")
                if key:
                    snap = snapshot_from_mime(raw)
                    out.append((str(key).strip(), snap.to, snap.subject, snap.body))
        return sorted(tuple(IID.sub("IV", f) for f in d) for d in out)

    def reminders(self) -> list[tuple[str, ...]]:
        if isinstance(self.h, MicrosoftHarness):
            keys = [str(e["_props"].get(KEY_PROPERTY)) for e in self.h.fake.state.events.values()
                    if e["_props"].get(KEY_PROPERTY)]
        else:
            keys = [k for k, _ in ((e["extendedProperties"]["private"]["ifu_key"], e)
                                   for _, e in self.h._reminder_events())]
        seen = self.h.reminders()
        out = [(k, seen[k].title, seen[k].start.isoformat(), seen[k].description) for k in keys]
        return sorted(tuple(IID.sub("IV", f) for f in r) for r in out)

    def ledger(self) -> list[tuple[str, ...]]:
        with closing(sqlite3.connect(self.config.state_dir / "state.sqlite3")) as db:
            rows = db.execute("SELECT key, kind, recipient, due, state FROM ledger").fetchall()
        return sorted(tuple(IID.sub("IV", str(f)) for f in r) for r in rows)

    def world(self) -> dict[str, Any]:
        return {"drafts": self.drafts(), "reminders": self.reminders(), "ledger": self.ledger()}

    def writes(self) -> int:
        if isinstance(self.h, MicrosoftHarness):
            return sum(self.h.fake.count(m) for m in ("POST", "PATCH", "DELETE"))
        return sum(n for m, n in self.h.fake.counts.items()
                   if m.endswith((".insert", ".update", ".patch", ".delete", ".create")))

    def close(self) -> None:
        if self.proxy:
            self.proxy.close()
        self.h.close()


def _sent_message_id(side: Side) -> str:
    if isinstance(side.h, MicrosoftHarness):
        return str(side.h.fake.folder("sentitems")[0]["internetMessageId"])
    [sent] = [m for m in side.h.fake.gmail.messages.values() if "SENT" in m.labels]
    return sent.header("Message-ID").strip()


def _reply(side: Side, when: datetime) -> None:
    raw = (f"From: Jane Doe <jane.doe@acme.io>\r\nTo: {USER}\r\nSubject: Re: Thank you\r\n"
           f"Date: {utils.format_datetime(when)}\r\nMessage-ID: <reply1@acme.io>\r\n"
           f"In-Reply-To: {_sent_message_id(side)}\r\n\r\nThanks, we will be in touch.\r\n")
    side.h.deliver(raw.encode())


@pytest.fixture(params=["google", "microsoft"])
def sides(request: Any, tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    clean = Side(tmp_path / "clean", request.param, faults=0)
    faulty = Side(tmp_path / "faulty", request.param, faults=0.3, seed=20261122, attempts=3)
    yield clean, faulty
    faulty.close()
    clean.close()


def test_a_whole_cycle_under_30_percent_faults_converges_to_the_fault_free_state(
        sides: tuple[Side, Side]) -> None:
    clean, faulty = sides
    sent_at = datetime(2026, 11, 20, 9, 35, tzinfo=CHI)
    fu_day = sent_at + timedelta(days=11)

    def stage(now: datetime) -> None:
        assert clean.tick(now), "the fault-free copy must sync cleanly"
        faulty.converge(now)
        assert faulty.world() == clean.world(), f"the copies differ after the stage at {now}"

    stage(T - timedelta(days=1))  # the notes reminder
    # Mid-way through the writes of the next pass, writes happen but their answers are lost
    # more often than the retries allow: the pass dies and the next one must sort it out.
    assert faulty.proxy is not None
    faulty.proxy.burst(["lost_answer"] * 2 + ["503"] * 10, after=8)
    stage(T0 + timedelta(minutes=5))  # a thank-you draft per interviewer, the cycle's reminders
    assert len(clean.drafts()) == 2 + len(OTHERS) and len(clean.reminders()) >= 20

    for side in (clean, faulty):  # next morning: Raj's draft edited, Jane's sent
        raj = next(k for k in side.h.drafts() if "raj.patel" in k)
        jane = next(k for k in side.h.drafts() if "jane.doe" in k)
        side.h.user_edits_draft(raj, "Dear Raj,\n\nMy own words.")
        if isinstance(side.h, MicrosoftHarness):
            side.h.fake.user_sends_draft(jane, sent_at - timedelta(minutes=5))
        else:
            side.h.fake.gmail.now_ms = int((sent_at - timedelta(minutes=5)).timestamp() * 1000)
            side.h.user_sends_draft(jane)
    stage(sent_at)
    stage(fu_day)  # the follow-up draft, in Jane's thread
    assert any("follow_up_draft" in d[0] for d in clean.drafts())

    for side in (clean, faulty):
        _reply(side, fu_day + timedelta(hours=2))
    stage(fu_day + timedelta(hours=3))  # every pending nudge gone, the edited draft kept
    world = clean.world()
    acme = [d for d in world["drafts"] if "acme.io" in d[1]]
    assert [d[1] for d in acme] == ["raj.patel@acme.io"] and "My own words." in acme[0][3]
    replied = fu_day + timedelta(hours=2)
    assert not [r for r in world["reminders"]
                if "ACME" in r[1] and datetime.fromisoformat(r[2]) > replied]

    assert set(faulty.proxy.injected) == set(FAULTS), faulty.proxy.injected
    assert faulty.ticks > clean.ticks, "no pass failed: the burst did not land"
    faulty.proxy.enabled = False  # once the faults stop, nothing is left to fix up
    before = faulty.writes()
    assert faulty.tick(fu_day + timedelta(hours=4))
    assert faulty.writes() == before
    assert faulty.world() == world
    assert faulty.h.send_attempts() == 0
