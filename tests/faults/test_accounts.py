"""Many accounts in one pass: one failing never stops the others; accounts run side by side,
at most a bounded number per provider kind, each on its own SQLite connection."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.config.loader import AccountConfig, Config, load
from inbox_followup.core.model import CalendarPage, MailPage, SyncWindow
from inbox_followup.providers import open_provider
from inbox_followup.providers.base import Provider
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.sync import engine, service
from inbox_followup.sync.lock import StateLock

from ..e2e.localenv import LocalEnv
from ..fakes.google_fake import GoogleFake
from ..fakes.graph_fake import GraphFake

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)
AFTER = T + timedelta(hours=2)
USER = "alex.morgan@example.com"
LEAD = ("lead@acme.example", "Lee Lead")


def _google() -> GoogleFake:
    fake = GoogleFake(USER, tokens={"good-token"})
    fake.calendar.user_put("primary", {
        "summary": "Interview with ACME", "organizer": {"email": LEAD[0]},
        "start": {"dateTime": T.isoformat()},
        "end": {"dateTime": (T + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": LEAD[0], "displayName": LEAD[1]}, {"email": USER, "self": True}]})
    return fake


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A local account that works, a Google account that works, a Google account whose
    token is refused, and a Microsoft account whose server answers 500 to everything."""
    local = LocalEnv(tmp_path)
    local.add_interview("acme-1", "Interview with ACME", T, people=(LEAD,))
    good, revoked = _google(), _google()
    down = GraphFake(USER, key_property=KEY_PROPERTY, token="ms-token", clock=T)
    down.fail_next(10_000, 500, retry_after=0)  # Retry-After: 0 keeps the retries instant
    google = ("  - {{name: {name}, provider: google, address: " + USER +
              ", api_endpoint: '{url}', token_command: echo {token}}}\n")
    local.config.write_text(local.config.read_text()
                            + google.format(name="work", url=good.url, token="good-token")
                            + google.format(name="old", url=revoked.url, token="revoked-token")
                            + f"  - {{name: office, provider: microsoft, address: {USER}, "
                            f"api_endpoint: '{down.url}', token_command: echo ms-token}}\n")
    yield {"local": local, "good": good, "revoked": revoked, "down": down}
    for fake in (good, revoked, down):
        fake.close()


def test_one_account_failing_never_stops_the_others(world: dict[str, Any],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    local: LocalEnv = world["local"]
    assert local.sync(AFTER) == 1  # some accounts failed, the rest synced: exit 1, no crash
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    # the refused token and what to do about it; the server errors; each named by its account
    assert any(x.startswith("old:") and "reconnect old" in x for x in lines), err
    assert any(x.startswith("office:") and "HTTP 500" in x for x in lines), err
    assert any("thank_you_draft" in m["X-Inbox-Followup-Key"] for m in local.drafts().values())
    assert world["good"].gmail.drafts, "the healthy Google account was not synced"
    assert not world["revoked"].gmail.drafts and world["down"].drafts() == {}

    assert local.cli("status", "--json", now=AFTER) == 1
    doc = json.loads(capsys.readouterr().out)
    problems = {p["account"]: p["message"] for p in doc["problems"]}
    assert set(problems) == {"old", "office"}, problems
    assert "reconnect old" in problems["old"] and "500" in problems["office"]
    assert local.cli("status", now=AFTER) == 1
    shown = capsys.readouterr()
    assert "old" in shown.out + shown.err and "reconnect" in shown.out + shown.err

    world["down"].clear_faults()  # the server recovers: the next pass is clean everywhere
    world["revoked"].valid_tokens.add("revoked-token")  # (the user reconnected)
    assert local.sync(AFTER + timedelta(minutes=5)) == 0
    assert world["revoked"].gmail.drafts
    capsys.readouterr()
    assert local.cli("status", "--json", now=AFTER) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []


class _Watched:
    """A real provider, watched: counts how many accounts of each kind are in a pass at once
    (from the moment their provider is opened until ``engine.sync_account`` closes it)."""

    def __init__(self, inner: Provider, kind: str, gauge: _Gauge) -> None:
        self._inner, self._kind, self._gauge = inner, kind, gauge

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def close(self) -> None:
        self._gauge.leave(self._kind)
        self._inner.close()


class _Gauge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.threads: set[int] = set()

    def enter(self, kind: str) -> None:
        with self.lock:
            self.now[kind] += 1
            self.peak[kind] = max(self.peak[kind], self.now[kind])
            self.threads.add(threading.get_ident())

    def leave(self, kind: str) -> None:
        with self.lock:
            self.now[kind] -= 1


def test_accounts_run_side_by_side_bounded_per_provider_results_in_config_order(
        tmp_path: Path) -> None:
    fake = GraphFake(USER, key_property=KEY_PROPERTY, token="ms-token", clock=T)
    fake.delay = 0.02  # every answer a little late: passes overlap if they can
    try:
        local = LocalEnv(tmp_path)
        local.add_interview("acme-1", "Interview with ACME", T, people=(LEAD,))
        lines = [f"  - {{name: ms{i:02d}, provider: microsoft, address: {USER}, "
                 f"api_endpoint: '{fake.url}', token_command: echo ms-token}}" for i in range(12)]
        lines += [f"  - {{name: loc{i}, provider: local, address: {USER}, "
                  f"calendar: calendar.ics, reminders: rem{i}.ics, maildir: mail{i}}}"
                  for i in range(5)]
        local.config.write_text(local.config.read_text() + "\n".join(lines) + "\n")
        config = load(local.config)
        gauge = _Gauge()

        def opener(account: AccountConfig, cfg: Config) -> Provider:
            gauge.enter(account.provider)
            return _Watched(open_provider(account, cfg), account.provider, gauge)  # type: ignore[return-value]

        service.prepare_state_dir(config)
        with StateLock(config.state_dir):
            report = service.sync_locked(config, AFTER, opener=opener)
        assert [r.account for r in report.results] == [a.name for a in config.accounts]
        assert report.ok, [(r.account, r.error, r.problems) for r in report.results]
        limits = service.MAX_CONCURRENT_ACCOUNTS
        assert 2 <= gauge.peak["microsoft"] <= limits["microsoft"], gauge.peak
        assert 1 <= gauge.peak["local"] <= limits["local"], gauge.peak
        assert len(gauge.threads) > 1
        for i in range(5):  # every local account wrote its own reminders file
            assert (tmp_path / f"rem{i}.ics").exists()
    finally:
        fake.close()


class _Broken:
    """A provider with a bug: reading the calendar raises something no one planned for."""

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        raise KeyError("a bug")

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        raise AssertionError("not reached")

    def close(self) -> None:
        pass


def test_a_bug_in_one_account_costs_only_that_account(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    local = LocalEnv(tmp_path)
    local.add_interview("acme-1", "Interview with ACME", T, people=(LEAD,))
    other = f"  - {{name: buggy, provider: local, address: {USER}, calendar: calendar.ics, " \
            "reminders: other.ics, maildir: mail}\n"
    local.config.write_text(local.config.read_text() + other)
    config = load(local.config)

    def opener(account: AccountConfig, cfg: Config) -> Provider:
        if account.name == "buggy":
            return _Broken()  # type: ignore[return-value]
        return open_provider(account, cfg)

    service.prepare_state_dir(config)
    with StateLock(config.state_dir):
        report = service.sync_locked(config, AFTER, opener=opener)
    me, buggy = report.results
    assert me.ok and me.tally.created > 0
    assert not buggy.ok and buggy.error is not None and "internal error" in buggy.error
    assert ("buggy", "buggy", buggy.error) in service.problems(config)
    assert isinstance(me, engine.AccountResult)
