"""`sync` of a 5,000-event calendar with 200 interviews on the local account: first and second
run, wall time, files written and peak memory (each run its own process, measured by wait4)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CONFIG = """timezone: America/Chicago
state_dir: state
accounts:
  - {name: bench, provider: local, address: me@example.com, calendar: calendar.ics,
     reminders: reminders.ics, maildir: mail}
"""


def calendar(n_events: int, n_interviews: int) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    step = n_events // n_interviews
    for i in range(n_events):
        start = NOW - timedelta(days=50) + timedelta(minutes=97 * i)
        stamp = start.strftime("%Y%m%dT%H%M%SZ")
        end = (start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
        lines += ["BEGIN:VEVENT", f"UID:bench-{i}@example", "DTSTAMP:20260101T000000Z",
                  f"DTSTART:{stamp}", f"DTEND:{end}"]
        if i % step == 0:
            co = f"company{i}"
            lines += [f"SUMMARY:Interview with {co}", f"ORGANIZER;CN=Lead:mailto:lead@{co}.example",
                      f"ATTENDEE;CN=Lead:mailto:lead@{co}.example",
                      f"ATTENDEE;CN=Peer:mailto:peer@{co}.example",
                      "ATTENDEE;CN=Me:mailto:me@example.com"]
        else:
            lines += [f"SUMMARY:Busy {i}", "DESCRIPTION:focus time"]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _written(root: Path) -> dict[str, int]:
    files = [root / "reminders.ics", *(root / "mail" / "Drafts").rglob("*")]
    return {str(p): p.stat().st_mtime_ns for p in files if p.is_file()}


def run_sync(root: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS in MB, files written) of one `inbox-followup sync` process."""
    before = _written(root)
    argv = [sys.executable, "-m", "inbox_followup", "--config", str(root / "config.yaml"),
            "--now", NOW.isoformat(), "sync"]
    t = time.perf_counter()
    pid = os.spawnv(os.P_NOWAIT, sys.executable, argv)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"sync exited with {status}")
    after = _written(root)
    changed = sum(1 for k, v in after.items() if before.get(k) != v)
    return seconds, usage.ru_maxrss // 1024, changed


def cases() -> Iterator[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config.yaml").write_text(CONFIG)
        (root / "calendar.ics").write_bytes(calendar(5000, 200))
        for folder in ("INBOX", "Sent", "Drafts"):
            for sub in ("cur", "new", "tmp"):
                (root / "mail" / folder / sub).mkdir(parents=True)
        for label in ("first", "second"):
            seconds, peak_mb, written = run_sync(root)
            yield {"case": f"local_sync_{label}_run", "backend": "local", "events": 5000,
                   "interviews": 200, "wall_ms": round(seconds * 1000), "files_written": written,
                   "peak_rss_mb": peak_mb, "target": "second run: 0 writes, < 1000 ms; < 150 MB"}
