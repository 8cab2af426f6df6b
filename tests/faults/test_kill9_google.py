"""kill -9 of a real `sync` process at random moments, repeated, on a Google account.

The local and Microsoft accounts have the same test (tests/e2e/test_local_safety.py,
tests/e2e/test_microsoft_cycle.py); tests/e2e/test_google_cycle.py kills one Google sync at a
chosen moment. Here the moments are random and the kills repeated: each request is slowed so
a pass is long enough to be cut anywhere (between the ledger's pending row and the write, in a
write the fake finishes after the client died, between a write and its applied row).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from zoneinfo import ZoneInfo

from ..contract.harness_google import GoogleHarness

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)
USER = "alex.morgan@example.com"
COMPANIES = 6
WRITES = ("calendar.events.insert", "calendar.events.update", "calendar.events.patch",
          "calendar.events.delete", "gmail.users.drafts.create", "gmail.users.drafts.update",
          "gmail.users.drafts.delete")
CONFIG = """\
timezone: America/Chicago
state_dir: state
profile: {{name: Alex Morgan}}
accounts:
  - {{name: g, provider: google, address: {user}, api_endpoint: '{url}',
     token_command: echo fake-token}}
"""


def _keyed(h: GoogleHarness) -> tuple[Counter[str], Counter[str]]:
    gmail = h.fake.gmail
    drafts = Counter(
        str(BytesHeaderParser().parsebytes(gmail.messages[mid].raw).get("X-Inbox-Followup-Key"))
        for mid in gmail.drafts.values())
    events = Counter(e["extendedProperties"]["private"]["ifu_key"]
                     for _, e in h._reminder_events())
    return drafts, events


def test_kill_9_at_random_moments_then_one_of_each(tmp_path: Path) -> None:
    h = GoogleHarness(tmp_path)
    try:
        for i in range(COMPANIES):
            start = T - timedelta(hours=5 * i)
            lead = f"lead@company{i}.example"
            h.add_event(f"co{i}", f"Interview with Company{i}", start, start + timedelta(hours=1),
                        [(lead, f"Lead {i}"), (USER, "Alex Morgan")], organizer=lead)
        config = tmp_path / "config.yaml"
        config.write_text(CONFIG.format(user=USER, url=h.fake.url))
        now = T + timedelta(days=2)
        argv = [sys.executable, "-m", "inbox_followup", "--config", str(config),
                "--now", now.isoformat(), "sync"]
        h.fake.fail_next(100_000, delay=0.03)  # every answer late: a pass takes seconds
        rng = random.Random(20261123)
        seen: list[int] = []
        for _ in range(3):
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.7, 1.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            time.sleep(0.1)  # a request in flight is finished by the fake, as Google would
            drafts, events = _keyed(h)
            seen.append(sum(drafts.values()) + sum(events.values()))
        h.fake._faults.clear()
        final = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert final.returncode == 0, final.stderr
        drafts, events = _keyed(h)
        assert len(drafts) == COMPANIES and max(drafts.values()) == 1, drafts
        assert "None" not in drafts
        assert events and max(events.values()) == 1, events
        assert len(events) == len(set(events)) and all("reminder" in k for k in events)
        assert any(0 < n < len(drafts) + len(events) for n in seen), seen  # cut mid-pass
        h.fake.reset_counters()
        again = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert again.returncode == 0, again.stderr
        assert sum(h.fake.counts[m] for m in WRITES) == 0
        assert h.fake.send_attempts == 0
    finally:
        h.close()
