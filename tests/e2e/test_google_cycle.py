"""The docs/rules.md cycle on a Google account, through the CLI, against the loopback fake.

The config points the account at the fake with ``api_endpoint`` and authenticates with
``token_command``; the real CLI, store, planner and GoogleProvider do the rest. The fake plays
the user's phone and mail client (typing notes into a reminder, editing and sending drafts) and
the world (an interviewer's reply, an out-of-office, rate limits, expired cursors).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import utils
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.cli.main import main
from inbox_followup.providers.google.calendar import REMINDERS_EVERY

from ..contract.harness_google import GoogleHarness
from .localenv import artifacts, states

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)  # a Thursday, 14:00-15:00
T0 = T + timedelta(hours=1)
USER = "alex.morgan@example.com"
PEOPLE = (("jane.doe@acme.io", "Jane Doe"), ("raj.patel@acme.io", "Raj Patel"))
WRITES = ("calendar.events.insert", "calendar.events.update", "calendar.events.patch",
          "calendar.events.delete", "gmail.users.drafts.create", "gmail.users.drafts.update",
          "gmail.users.drafts.delete")
CONFIG = """\
timezone: America/Chicago
state_dir: state
profile: {{name: Alex Morgan}}
accounts:
  - name: g
    provider: google
    address: {user}
    api_endpoint: {url}
    token_command: echo fake-token
"""


class GoogleEnv(GoogleHarness):
    """The contract harness's fake and user actions, plus a config file and the CLI."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.config = root / "config.yaml"
        self.config.write_text(CONFIG.format(user=USER, url=self.fake.url))
        self.delivered = 0

    def sync(self, now: datetime) -> int:
        return main(["--config", str(self.config), "--now", now.isoformat(), "sync"])

    def cli(self, *args: str, now: datetime) -> int:
        return main(["--config", str(self.config), "--now", now.isoformat(), *args])

    def status(self, now: datetime, capsys: Any) -> dict[str, Any]:
        capsys.readouterr()
        assert self.cli("status", "--json", now=now) in (0, 1)
        doc: dict[str, Any] = json.loads(capsys.readouterr().out)
        return doc

    def interview(self, uid: str = "acme-1", start: datetime = T) -> None:
        self.add_event(uid, "Interview with ACME", start, start + timedelta(hours=1),
                       [*PEOPLE, (USER, "Alex Morgan")], organizer=PEOPLE[0][0])

    def reply(self, sender: str, subject: str, when: datetime, body: str = "Hello",
              headers: dict[str, str] | None = None, in_reply_to: str | None = None) -> None:
        self.delivered += 1
        lines = [f"From: {sender}", f"To: {USER}", f"Subject: {subject}",
                 f"Date: {utils.format_datetime(when)}",
                 f"Message-ID: <m{self.delivered}@acme.io>"]
        if in_reply_to:
            lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.fake.gmail.now_ms = int(when.timestamp() * 1000)
        self.deliver(("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode())

    def kinds(self) -> list[str]:
        return sorted(k.split("-")[2] for k in self.reminders())

    def writes(self) -> int:
        return sum(self.fake.counts[m] for m in WRITES)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[GoogleEnv]:
    e = GoogleEnv(tmp_path)
    e.interview()
    yield e
    e.close()


def test_full_cycle(env: GoogleEnv, capsys: Any) -> None:
    # Before the interview: the notes reminder on the tool's own calendar, with a popup.
    assert env.sync(T - timedelta(days=1)) == 0
    [cal] = env.fake.calendar.app_calendars()
    assert cal.summary == "Interview follow-ups"
    [notes] = env.reminders().values()
    assert notes.title.startswith("Write interview notes")
    assert notes.start == T0 + timedelta(minutes=15)
    assert env.fake.calendar.live_events(cal.id)[0]["reminders"]["overrides"][0]["method"] == "popup"
    assert env.drafts() == {}

    # Right after: one thank-you draft per interviewer, and the cycle's reminders.
    assert env.sync(T0 + timedelta(minutes=5)) == 0
    drafts = env.drafts()
    assert sorted(d.to for d in drafts.values()) == sorted(p for p, _ in PEOPLE)
    assert env.kinds() == sorted(["notes_reminder", "thank_you_reminder", "follow_up_reminder",
                                  "call_reminder", "move_on_reminder"])

    # Nothing new: no writes, and an idle pass is a handful of requests.
    env.fake.reset_counters()
    assert env.sync(T0 + timedelta(minutes=30)) == 0
    assert env.writes() == 0
    # the primary calendar every pass, the reminders calendar every few passes, the mail history
    assert env.fake.calls("calendar.events.list") in (1, 2) and env.fake.calls("gmail.users.history") == 1

    # Notes typed into the reminder from a phone rewrite the drafts nobody edited.
    notes_key = next(k for k in env.reminders() if "notes_reminder" in k)
    env.user_writes_reminder_description(
        notes_key, "What stood out (mention it in the thank-you): their move to event sourcing")
    for minute in range(REMINDERS_EVERY):  # the reminders calendar is read every few passes
        assert env.sync(T0 + timedelta(hours=1, minutes=minute)) == 0
    assert all("event sourcing" in d.body for d in env.drafts().values())

    # Next morning: Raj's draft edited in the Gmail web UI (new draft id), Jane's sent.
    raj = next(k for k in env.drafts() if "raj.patel" in k)
    env.user_edits_draft(raj, "Dear Raj,\n\nMy own words.", web_ui=True)
    jane = next(k for k in env.drafts() if "jane.doe" in k)
    env.fake.gmail.now_ms = int(datetime(2026, 11, 20, 9, 30, tzinfo=CHI).timestamp() * 1000)
    env.user_sends_draft(jane)
    sent_at = datetime(2026, 11, 20, 9, 35, tzinfo=CHI)
    assert env.sync(sent_at) == 0
    assert states(env.status(sent_at, capsys), "thank_you_draft") == ["created", "sent"]

    # Ten days after the thank-you went out: a follow-up draft in Jane's thread.
    fu_day = sent_at + timedelta(days=11)
    assert env.sync(fu_day) == 0
    [follow] = [k for k in env.drafts() if "follow_up_draft" in k]
    [sent] = [m for m in env.fake.gmail.messages.values() if "SENT" in m.labels]
    follow_msg = env.fake.gmail.draft_message(env.draft_id(follow))
    assert follow_msg.thread_id == sent.thread_id
    assert env.drafts()[follow].subject.startswith("Re:")
    assert follow_msg.header("In-Reply-To").strip() == sent.header("Message-ID").strip()

    # Jane answers in the thread: every pending nudge goes, the edited draft stays.
    env.reply("Jane Doe <jane.doe@acme.io>", "Re: Thank you", fu_day + timedelta(hours=2),
              in_reply_to=sent.header("Message-ID").strip())
    assert env.sync(fu_day + timedelta(hours=3)) == 0
    left = env.drafts()
    assert [k for k in left if "follow_up_draft" in k] == []
    assert [k for k in left if "raj.patel" in k] and "My own words." in left[raj].body
    assert "call_reminder" not in env.kinds() and "move_on_reminder" not in env.kinds()
    doc = env.status(fu_day + timedelta(hours=3), capsys)
    assert doc["applications"][0]["state"] == "answered"
    assert states(doc, "thank_you_draft") == ["kept_edited", "sent"]

    env.fake.reset_counters()
    assert env.sync(fu_day + timedelta(hours=4)) == 0
    assert env.writes() == 0 and env.send_attempts() == 0


def test_out_of_office_expired_cursors_and_rate_limits(env: GoogleEnv, capsys: Any) -> None:
    assert env.sync(T0 + timedelta(minutes=1)) == 0
    before = (sorted(env.drafts()), sorted(env.reminders()))
    follow_up_at = next(r.start for k, r in env.reminders().items() if "follow_up_reminder" in k)
    # With gmail.metadata the body is out of reach: the return date has to be in the subject.
    env.reply("Jane Doe <jane.doe@acme.io>", "Out of office until December 8",
              T0 + timedelta(days=1), body="I am out of the office until December 8, 2026.",
              headers={"Auto-Submitted": "auto-replied"})
    assert env.sync(T0 + timedelta(days=1, hours=1)) == 0
    now = T0 + timedelta(days=1, hours=1)
    assert env.status(now, capsys)["applications"][0]["state"] == "active"
    moved = next(r.start for k, r in env.reminders().items() if "follow_up_reminder" in k)
    assert moved > follow_up_at and moved.astimezone(CHI).date() > datetime(2026, 12, 8).date()

    env.expire_cursors()  # 410 on the calendars, 404 on the history id: full reads, no loss
    assert env.sync(now + timedelta(minutes=5)) == 0
    assert (sorted(env.drafts()), sorted(env.reminders())) == before

    env.fake.fail_next(4, status=429, retry_after=0)  # a burst the retries absorb
    assert env.sync(now + timedelta(minutes=10)) == 0
    env.fake.fail_next(5, status=503, retry_after=0)  # more than the retries: this pass fails
    assert env.sync(now + timedelta(minutes=15)) == 1
    assert (sorted(env.drafts()), sorted(env.reminders())) == before  # a failed read lost nothing
    assert env.sync(now + timedelta(minutes=20)) == 0
    assert artifacts(env.status(now, capsys))


def test_kill_9_mid_sync_then_rerun_makes_no_duplicates(env: GoogleEnv) -> None:
    env.sync(T - timedelta(days=1))  # the notes reminder; the thank-yous are due after T0
    # The first draft create is slow; the process is killed while it is in flight, and the
    # fake then finishes it, as Google would: a draft the ledger never heard of.
    env.fake.fail_next(1, method="gmail.users.drafts.create", delay=1.5)
    argv = [sys.executable, "-m", "inbox_followup", "--config", str(env.config),
            "--now", (T0 + timedelta(minutes=5)).isoformat(), "sync"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while env.fake.calls("gmail.users.drafts.create") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=10)
    while not env.fake.gmail.drafts and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(env.fake.gmail.drafts) == 1
    assert env.sync(T0 + timedelta(minutes=6)) == 0
    keys = [k for k in env.drafts()]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert len(env.fake.gmail.drafts) == 2
    kinds = env.kinds()
    assert len(kinds) == len(set(kinds)) == 5

