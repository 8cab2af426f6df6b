"""The daemon's loop: when it wakes, how it backs off, and that it stops when asked."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.cli import daemon
from inbox_followup.config.loader import parse
from inbox_followup.sync import engine, service

from ..e2e.localenv import LocalEnv

CHI = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 19, 12, 0, tzinfo=CHI)


def config(tmp_path: Path, poll: int = 60):  # type: ignore[no-untyped-def]
    LocalEnv(tmp_path).add_interview("acme-1", "Interview with ACME", NOW + timedelta(hours=2))
    return parse({"timezone": "America/Chicago", "state_dir": "state", "poll_seconds": poll,
                  "accounts": [{"name": "me", "provider": "local", "address": "a@example.com",
                                "calendar": "calendar.ics", "reminders": "reminders.ics",
                                "maildir": "mail"}]}, base=tmp_path)


def test_wakes_early_for_the_next_due_action(tmp_path: Path) -> None:
    cfg = config(tmp_path, poll=3600)
    report = service.SyncReport([engine.AccountResult("me", next_due=NOW + timedelta(minutes=5))])
    assert daemon.next_wait(cfg, report, NOW, failures=0) == 300
    assert daemon.next_wait(cfg, service.SyncReport(), NOW, failures=0) == 3600


def test_backs_off_after_failed_passes_up_to_a_cap(tmp_path: Path) -> None:
    cfg = config(tmp_path, poll=60)
    waits = [daemon.next_wait(cfg, None, NOW, failures=n) for n in range(1, 8)]
    assert waits[:3] == [120, 240, 480]
    assert max(waits) == daemon.MAX_BACKOFF_SECONDS


def test_runs_passes_until_stopped(tmp_path: Path) -> None:
    cfg = config(tmp_path, poll=10)
    stop = threading.Event()
    passes: list[datetime] = []

    def clock() -> datetime:
        passes.append(NOW)
        if len(passes) == 2:
            stop.set()
        return NOW

    thread = threading.Thread(target=daemon.run_forever, args=(cfg, clock), kwargs={"stop": stop})
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(passes) == 2
    assert (tmp_path / "reminders.ics").exists()  # the passes did their work


def test_a_problem_that_stays_is_logged_once(tmp_path: Path, caplog: Any) -> None:
    """A broken event is reported by every pass (status, exit code), but the daemon's log
    says it once, not every poll."""
    cfg = config(tmp_path)
    cal = tmp_path / "calendar.ics"
    cal.write_bytes(cal.read_bytes().replace(
        b"END:VCALENDAR", b"BEGIN:VEVENT\r\nUID:bad-1\r\nDTSTART:nope\r\nEND:VEVENT\r\nEND:VCALENDAR"))
    times = iter([NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)])
    with caplog.at_level(logging.WARNING, logger="inbox_followup"):
        daemon.run_forever(cfg, lambda: next(times), stop=_NeverSet(), max_passes=3)
    said = [r for r in caplog.records if "bad-1" in r.getMessage()]
    assert len(said) == 1


class _NeverSet(threading.Event):
    def wait(self, timeout: float | None = None) -> bool:
        return False  # no sleeping between the passes of a test
