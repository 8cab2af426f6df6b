"""``inbox-followup run``: sync every ``poll_seconds``, earlier when an action falls due.

Holds the state directory's lock for its whole life (a second daemon exits with code 2), stops
cleanly on SIGTERM/SIGINT between passes, and backs off when passes keep failing.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from inbox_followup.config.loader import Config
from inbox_followup.providers import SessionKeeper
from inbox_followup.sync import service
from inbox_followup.sync.lock import StateLock

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900


def next_wait(config: Config, report: service.SyncReport | None, now: datetime, failures: int) -> float:
    """Seconds until the next pass: the poll interval, earlier for a due action, longer
    (doubling, capped) after consecutive failed passes."""
    wait = float(config.poll_seconds)
    if failures:
        return float(min(wait * 2**failures, MAX_BACKOFF_SECONDS))
    if report is not None and report.next_due is not None:
        wait = min(wait, max(1.0, (report.next_due - now).total_seconds()))
    return wait


def run_forever(
    config: Config, clock: Callable[[], datetime], *, stop: threading.Event | None = None,
    max_passes: int | None = None,
) -> int:
    """Run until stopped. Raises LockHeldError when another process holds the state dir."""
    stop = stop or threading.Event()
    service.prepare_state_dir(config)
    with StateLock(config.state_dir):
        _install_signal_handlers(stop)
        log.info("daemon started: %d account(s), polling every %ds",
                 len(config.accounts), config.poll_seconds)
        failures = passes = 0
        opener = SessionKeeper()  # sign-in sessions outlive a pass
        told: set[tuple[str, str]] = set()  # problems already logged
        while not stop.is_set():
            now = clock()
            report: service.SyncReport | None = None
            try:
                report = service.sync_locked(config, now, opener=opener)
                failures = 0 if all(r.ok for r in report.results) else failures + 1
                told = _log_report(report, told)
            except Exception:  # a bug must not kill the daemon; the pass is retried later
                log.exception("sync pass failed")
                failures += 1
            passes += 1
            if max_passes is not None and passes >= max_passes:
                break
            stop.wait(next_wait(config, report, now, failures))
        log.info("daemon stopped")
    return 0


def _log_report(report: service.SyncReport, told: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Log one pass; a problem still there from the pass before (a broken file is reported
    until it is fixed) is not logged again. Returns the problems of this pass."""
    now_told: set[tuple[str, str]] = set()
    for r in report.results:
        if r.error:
            log.error("%s: %s", r.account, r.error)
        for place, message in r.problems:
            now_told.add((place, message))
            if (place, message) not in told:
                log.warning("%s: %s", place, message)
        t = r.tally
        if t.writes or t.kept_edited or t.sent:
            log.info("%s: %d created, %d updated, %d cancelled, %d kept as edited, %d sent",
                     r.account, t.created, t.updated, t.cancelled, t.kept_edited, t.sent)
    return now_told


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signals can only be handled in the main thread (tests run us elsewhere)

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; stopping after this pass", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
