"""The docs/rules.md cycle on a Microsoft account, through the real CLI, against the Graph fake.

The account points at the loopback fake with ``api_endpoint`` and gets its token from
``token_command``; nothing reaches Microsoft. The fake plays Outlook: the user edits drafts
(they turn to HTML), sends them (a new id in Sent Items), types notes into the reminder.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.cli.main import main
from inbox_followup.providers.microsoft.calendar import REMINDERS_EVERY
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from tests.fakes.graph_fake import GraphFake, event_start

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)  # a Thursday, 14:00-15:00
T0 = T + timedelta(hours=1)
USER = "alex.morgan@example.com"
PEOPLE: list[tuple[str, str | None]] = [("jane.doe@acme.io", "Jane Doe"), ("raj.patel@acme.io", "Raj Patel")]
CONFIG = """\
timezone: America/Chicago
state_dir: state
profile: {{name: Alex Morgan}}
accounts:
  - name: work
    provider: microsoft
    address: {user}
    api_endpoint: {url}
    token_command: echo fake-token
"""


class Env:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.fake = GraphFake(USER, key_property=KEY_PROPERTY, clock=T - timedelta(days=1))
        self.config = root / "config.yaml"
        self.config.write_text(CONFIG.format(user=USER, url=self.fake.url))
        self.delivered = 0

    def cli(self, *args: str, now: datetime) -> int:
        self.fake.state.clock = now  # the mailbox's own clock follows the test's
        return main(["--config", str(self.config), "--now", now.isoformat(), *args])

    def sync(self, now: datetime) -> int:
        return self.cli("sync", now=now)

    def status(self, now: datetime, capsys: Any) -> dict[str, Any]:
        capsys.readouterr()
        assert self.cli("status", "--json", now=now) in (0, 1)
        return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]

    def argv(self, now: datetime) -> list[str]:
        return [sys.executable, "-m", "inbox_followup", "--config", str(self.config),
                "--now", now.isoformat(), "sync"]

    def deliver(self, sender: str, subject: str, when: datetime, body: str = "Hello",
                headers: dict[str, str] | None = None) -> None:
        self.delivered += 1
        lines = [f"From: {sender}", f"To: {USER}", f"Subject: {subject}",
                 f"Date: {format_datetime(when)}", f"Message-ID: <m{self.delivered}@acme.io>"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.fake.deliver(("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode())

    def kinds(self) -> list[str]:
        return sorted(k.split("-")[2] for k in self.fake.events_with_key())

    def keys_of(self, kind: str) -> list[str]:
        return [k for k in self.fake.drafts() if kind in k]

    def writes(self) -> int:
        return sum(self.fake.count(m) for m in ("POST", "PATCH", "DELETE"))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    e.fake.add_event("acme-1", "Interview with ACME", T, T0, PEOPLE, organizer=PEOPLE[0][0],
                     response="accepted")
    yield e
    assert e.fake.send_attempts == 0
    assert e.fake.prefer_problems == []
    e.fake.close()


def states(doc: dict[str, Any], kind: str) -> list[str]:
    return sorted(a["state"] for app in doc["applications"] for iv in app["interviews"]
                  for a in iv["artifacts"] if a["kind"] == kind)


def test_full_cycle(env: Env, capsys: Any) -> None:
    assert env.sync(T - timedelta(days=1)) == 0
    assert env.kinds() == ["notes_reminder"]
    assert env.fake.drafts() == {}

    assert env.sync(T0 + timedelta(minutes=5)) == 0
    drafts = env.fake.drafts()
    assert sorted(d.to for d in drafts.values()) == sorted(p for p, _ in PEOPLE)
    assert {"thank_you_reminder", "follow_up_reminder"} <= set(env.kinds())

    env.fake.reset_counts()  # nothing new: the three deltas (+ the reminders query), no writes
    assert env.sync(T0 + timedelta(minutes=30)) == 0
    assert env.writes() == 0 and env.fake.count() <= 4

    # Notes typed into the notes reminder (from Outlook on a phone) rewrite untouched drafts.
    notes_key = next(k for k in env.fake.events_with_key() if "notes_reminder" in k)
    env.fake.user_writes_reminder_description(notes_key, "Talking points: their move to event sourcing")
    for minute in range(REMINDERS_EVERY):  # the reminders calendar is asked every few passes
        assert env.sync(T0 + timedelta(hours=1, minutes=minute)) == 0
    assert all("event sourcing" in d.body for d in env.fake.drafts().values())

    # Next morning: Raj's draft edited, Jane's sent (a new id in Sent Items).
    raj_key = env.keys_of("raj.patel")[0]
    jane_key = env.keys_of("jane.doe")[0]
    env.fake.user_edits_draft(raj_key, "Dear Raj,\n\nMy own words.")
    sent_at = datetime(2026, 11, 20, 9, 30, tzinfo=CHI)
    sent = env.fake.user_sends_draft(jane_key, sent_at)
    assert env.sync(sent_at) == 0
    assert states(env.status(sent_at, capsys), "thank_you_draft") == ["created", "sent"]

    # Eleven days later: the follow-up is a reply in the thank-you's conversation.
    fu_day = sent_at + timedelta(days=11)
    assert env.sync(fu_day) == 0
    [follow_key] = env.keys_of("follow_up_draft")
    follow = next(m for m in env.fake.folder("drafts") if m["_props"].get(KEY_PROPERTY) == follow_key)
    assert follow["conversationId"] == sent["conversationId"]
    assert follow["subject"].lower().startswith("re:")
    assert env.fake.count("POST", "createReply") == 1

    # Jane answers: the nudges go, Raj's edited draft stays.
    env.deliver("Jane Doe <jane.doe@acme.io>", "RE: Thank you", fu_day + timedelta(hours=2),
                headers={"In-Reply-To": sent["internetMessageId"]})
    assert env.sync(fu_day + timedelta(hours=3)) == 0
    assert env.keys_of("follow_up_draft") == [] and env.keys_of("raj.patel") == [raj_key]
    assert "call_reminder" not in env.kinds()
    doc = env.status(fu_day + timedelta(hours=3), capsys)
    assert doc["applications"][0]["state"] == "answered"
    assert states(doc, "thank_you_draft") == ["kept_edited", "sent"]
    assert {m["id"] for m in env.fake.folder("sentitems")} == {sent["id"]}  # sent mail untouched


def test_out_of_office_does_not_cancel(env: Env, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    before = env.kinds()
    follow_up = next(e for k, e in env.fake.events_with_key().items() if "follow_up_reminder" in k)
    planned = event_start(follow_up)
    env.deliver("Jane Doe <jane.doe@acme.io>", "Automatic reply: Thank you", T0 + timedelta(days=1),
                body="I am out of the office until December 8, 2026.",
                headers={"X-Auto-Response-Suppress": "All",
                         "X-MS-Exchange-Inbox-Rules-Loop": "jane.doe@acme.io"})
    assert env.sync(T0 + timedelta(days=1, hours=1)) == 0
    doc = env.status(T0 + timedelta(days=1, hours=1), capsys)
    assert doc["applications"][0]["state"] == "active"
    assert env.kinds() == before
    # The return date is read from Graph's bodyPreview: the nudge waits until she is back.
    moved = next(event_start(e) for k, e in env.fake.events_with_key().items()
                 if "follow_up_reminder" in k)
    assert moved > planned and moved.astimezone(CHI).date() > datetime(2026, 12, 8).date()


def test_expired_delta_links_and_a_burst_of_429(env: Env, capsys: Any) -> None:
    assert env.sync(T0 + timedelta(minutes=1)) == 0
    before = (sorted(env.fake.drafts()), env.kinds())
    env.fake.expire_deltas()
    env.fake.fail_next(4, 429, retry_after=0)  # Retry-After: 0 keeps the test fast
    env.fake.reset_counts()
    assert env.sync(T0 + timedelta(minutes=20)) == 0  # waited out within the pass
    assert env.fake.count("GET", "calendarView/delta") >= 2  # 410, then a new round
    assert (sorted(env.fake.drafts()), env.kinds()) == before
    assert env.writes() == 0  # the re-read changed nothing, so nothing was written

    env.fake.fail_next(40, 429, retry_after=0)  # longer than the retry budget
    assert env.sync(T0 + timedelta(minutes=40)) == 1
    assert "gave up" in capsys.readouterr().err
    env.fake.clear_faults()
    assert env.sync(T0 + timedelta(minutes=50)) == 0  # the next pass converges
    assert (sorted(env.fake.drafts()), env.kinds()) == before


def test_kill_9_mid_sync_then_rerun_gives_one_of_each(tmp_path: Path) -> None:
    env = Env(tmp_path)
    try:
        for i in range(6):
            start = T - timedelta(hours=6 * i)
            env.fake.add_event(f"co{i}", f"Interview with Company{i}", start,
                               start + timedelta(hours=1),
                               [(f"lead@company{i}.example", f"Lead {i}")],
                               organizer=f"lead@company{i}.example")
        now = T0 + timedelta(days=2)
        env.fake.state.clock = now
        env.fake.delay = 0.03  # a pass of ~80 requests takes a few seconds: room to kill it
        rng = random.Random(20261122)
        seen: list[int] = []
        for _ in range(4):
            proc = subprocess.Popen(env.argv(now), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.8, 1.8))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            seen.append(len(env.fake.events_with_key()) + len(env.fake.drafts()))
        env.fake.delay = 0
        final = subprocess.run(env.argv(now), capture_output=True, text=True, timeout=60, check=False)
        assert final.returncode == 0, final.stderr
        drafts = Counter(m["_props"].get(KEY_PROPERTY) for m in env.fake.folder("drafts"))
        events = Counter(e["_props"].get(KEY_PROPERTY) for e in env.fake.state.events.values()
                         if e["_props"])
        assert drafts and max(drafts.values()) == 1 and None not in drafts
        assert events and max(events.values()) == 1
        assert len(drafts) == 6 and all("reminder" in k for k in events)
        assert any(0 < n < len(drafts) + len(events) for n in seen)  # killed mid-pass at least once
        env.fake.reset_counts()
        assert subprocess.run(env.argv(now), capture_output=True, timeout=60, check=False).returncode == 0
        assert env.writes() == 0
        assert env.fake.send_attempts == 0
    finally:
        env.fake.close()
