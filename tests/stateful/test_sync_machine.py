"""A hypothesis state machine over the real store, engine and local provider.

Rules play the world (interviews appear, move, are cancelled; answers, auto-replies arrive; the
user sends or edits drafts; time passes) and the tool (sync, and sync that crashes at a random
provider write, the way kill -9 would: nothing after the crash point runs). After every step the
invariants of docs/design.md must hold.
"""

from __future__ import annotations

import contextlib
import email
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from inbox_followup.config.loader import parse
from inbox_followup.config.settings import settings as core_settings
from inbox_followup.core.model import LedgerState
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.local.provider import LocalProvider
from inbox_followup.sync import engine
from inbox_followup.sync.store import Store

from ..e2e.localenv import LocalEnv

CHI = ZoneInfo("America/Chicago")
START = datetime(2026, 11, 16, 9, 0, tzinfo=CHI)
COMPANIES = ("acme", "globex", "initech")


class Crash(BaseException):
    """Stands for kill -9: not an Exception, so nothing in the product catches it."""


class CrashingProvider:
    """Wraps a provider; the n-th write and every later flush die."""

    def __init__(self, inner: LocalProvider, writes_before_crash: int) -> None:
        self.inner = inner
        self.account = inner.account
        self.left = writes_before_crash
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in ("put_event", "put_draft", "delete_event", "delete_draft", "flush", "close"):
            return attr

        def wrapped(*args: Any) -> Any:
            if name in ("flush", "close"):
                if self.crashed:
                    raise Crash()
                return attr(*args)
            if self.left == 0:
                self.crashed = True
                raise Crash()
            self.left -= 1
            return attr(*args)

        return wrapped


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="ifu-sm-"))
        self.env = LocalEnv(self.root)
        self.config = parse(
            {"timezone": "America/Chicago", "state_dir": "state",
             "accounts": [{"name": "me", "provider": "local", "address": "alex.morgan@example.com",
                           "calendar": "calendar.ics", "reminders": "reminders.ics",
                           "maildir": "mail"}]},
            base=self.root,
        )
        self.account = self.config.accounts[0]
        self.now = START
        self.answered: dict[str, datetime] = {}  # answers a completed sync has seen
        self.delivered: dict[str, datetime] = {}  # answers in the inbox, maybe not seen yet
        self.edited: set[Path] = set()
        self.count = 0

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def provider(self) -> LocalProvider:
        return LocalProvider(self.account, ProviderContext(self.config.state_dir, CHI))

    def _sync(self, provider: Any) -> engine.AccountResult:
        store = Store(self.config.state_dir / "state.sqlite3")
        try:
            return engine.sync_account(store, provider, self.account, self.config,
                                       core_settings(self.config, self.now), self.now)
        finally:
            store.close()

    # --- the world ----------------------------------------------------------------------

    @rule(company=st.sampled_from(COMPANIES), days=st.integers(-3, 10), hour=st.integers(8, 17),
          two=st.booleans())
    def interview(self, company: str, days: int, hour: int, two: bool) -> None:
        self.count += 1
        people = [(f"lead@{company}.example", "Lead Person")]
        if two:
            people.append((f"peer@{company}.example", "Peer Person"))
        start = (self.now + timedelta(days=days)).replace(hour=hour, minute=0)
        self.env.add_interview(f"{company}-{self.count}", f"Interview with {company}", start,
                               people=tuple(people))

    @precondition(lambda self: bool(self.env.events))
    @rule(data=st.data(), hours=st.integers(-48, 48))
    def move(self, data: st.DataObject, hours: int) -> None:
        uid = data.draw(st.sampled_from(sorted(self.env.events)))
        event = self.env.events[uid]
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        for prop in ("dtstart", "dtend"):
            del event[prop]
        event.add("dtstart", start + timedelta(hours=hours))
        event.add("dtend", end + timedelta(hours=hours))
        self.env.write_calendar()

    @precondition(lambda self: bool(self.env.events))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.env.remove_event(data.draw(st.sampled_from(sorted(self.env.events))))

    @rule(company=st.sampled_from(COMPANIES), auto=st.booleans())
    def reply(self, company: str, auto: bool) -> None:
        headers = {"Auto-Submitted": "auto-replied"} if auto else {}
        self.env.deliver(f"Lead <lead@{company}.example>", "Automatic reply" if auto else "Re: hi",
                         self.now, headers=headers)
        if not auto:
            self.delivered.setdefault(company, self.now)

    @rule(hours=st.sampled_from([1, 5, 20, 24 * 3, 24 * 11, 24 * 31]))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(data=st.data(), edit=st.booleans())
    def user_handles_a_draft(self, data: st.DataObject, edit: bool) -> None:
        files = sorted((self.root / "mail" / "Drafts" / "cur").iterdir())
        files = [f for f in files if f not in self.edited]
        if not files:
            return
        path = data.draw(st.sampled_from(files))
        if edit:
            path.write_bytes(path.read_bytes() + b"\nP.S. my own words\n")
            self.edited.add(path)
        else:
            path.rename(self.root / "mail" / "Sent" / "cur" / path.name)

    # --- the tool -----------------------------------------------------------------------

    @rule()
    def sync(self) -> None:
        result = self._sync(self.provider())
        assert result.ok, result.error
        for company, at in self.delivered.items():  # the nudges must go with this pass
            self.answered.setdefault(company, at)
        second = self._sync(self.provider())
        assert second.tally.writes == 0, second.actions  # a second pass changes nothing

    @rule(writes=st.integers(0, 12))
    def sync_killed(self, writes: int) -> None:
        with contextlib.suppress(Crash):
            self._sync(CrashingProvider(self.provider(), writes))

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def no_duplicate_drafts(self) -> None:
        keys = [
            email.message_from_bytes(p.read_bytes())["X-Inbox-Followup-Key"]
            for p in (self.root / "mail" / "Drafts" / "cur").iterdir()
        ]
        assert len(keys) == len(set(keys))

    @invariant()
    def edited_drafts_survive(self) -> None:
        for path in self.edited:
            assert path.exists(), path

    @invariant()
    def ledger_matches_the_reminders_file(self) -> None:
        store = Store(self.config.state_dir / "state.sqlite3")
        try:
            ledger = store.ledger("me")
        finally:
            store.close()
        if any(e.state.value.startswith("pending") for e in ledger.values()):
            return  # a crash just happened: the next sync settles it
        live = {k for k, e in ledger.items() if e.state is LedgerState.LIVE and not e.kind.is_draft}
        assert set(self.env.reminders()) == live

    @invariant()
    def no_nudge_survives_an_answer(self) -> None:
        store = Store(self.config.state_dir / "state.sqlite3")
        try:
            ledger = store.ledger("me")
        finally:
            store.close()
        if any(e.state.value.startswith("pending") for e in ledger.values()):
            return
        nudges = {"follow_up_reminder", "call_reminder", "move_on_reminder", "follow_up_draft"}
        for key, r in self.env.reminders().items():
            kind = key.split("-")[2]
            if kind not in nudges or r["start"] <= self.now:
                continue
            title = r["title"].lower()
            for company, at in self.answered.items():
                if company in title and at < self.now:
                    # an answer after the interview must have removed this nudge
                    entry = ledger[key]
                    assert entry.due <= at or self._interview_after(company, at), (key, at)

    def _interview_after(self, company: str, at: datetime) -> bool:
        """An interview not over before ``at``: a message at its very end is no answer to it."""
        return any(company in uid and e.decoded("dtend") >= at for uid, e in self.env.events.items())


TestSyncMachine = SyncMachine.TestCase
TestSyncMachine.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
