"""docs/design.md's safety invariants on the local account, through the CLI."""

from __future__ import annotations

import email
import email.utils
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .localenv import CORPUS, LocalEnv

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)
AFTER = T + timedelta(hours=2)


def test_a_config_typo_names_the_key(tmp_path: Path, capsys: Any) -> None:
    env = LocalEnv(tmp_path, extra="working_hours: {strat: '09:00'}\npoll_seconds: 3")
    assert env.cli("sync", now=AFTER) == 2
    err = capsys.readouterr().err
    assert "working_hours.strat" in err and "did you mean 'start'" in err
    assert "poll_seconds" in err
    assert "Traceback" not in err


def test_bad_yaml_and_missing_file_exit_2(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path)
    env.config.write_text("accounts: [\n")
    result = env.process("sync")
    assert result.returncode == 2 and "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr
    missing = env.process("status")
    env.config.unlink()
    missing = env.process("status")
    assert missing.returncode == 2 and "init" in missing.stderr


def test_malformed_ics_is_named_and_the_rest_syncs(tmp_path: Path, capsys: Any) -> None:
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with ACME", T)
    (tmp_path / "cals").mkdir()
    shutil.copy(env.calendar, tmp_path / "cals" / "good.ics")
    env.calendar_name = "cals"  # a folder of calendars: one good, one broken
    env.write_config()
    (tmp_path / "cals" / "broken.ics").write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:nope")
    assert env.sync(AFTER) == 1
    err = capsys.readouterr().err
    assert "broken.ics" in err and "Traceback" not in err
    assert any("thank_you_draft" in k for k in env.drafts())


@pytest.mark.parametrize("ics", sorted((CORPUS / "ics").rglob("*.ics")), ids=lambda p: p.name)
def test_every_corpus_calendar_syncs_without_a_traceback(tmp_path: Path, ics: Path) -> None:
    env = LocalEnv(tmp_path)
    shutil.copy(ics, env.calendar)
    code = env.cli("sync", now=datetime(2026, 11, 20, 12, 0, tzinfo=CHI))
    assert code in (0, 1)


def test_every_corpus_message_syncs_without_a_traceback(tmp_path: Path, capsys: Any) -> None:
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with ACME", T)
    for i, msg in enumerate(sorted(p for p in (CORPUS / "eml").rglob("*") if p.is_file()
                                   and p.suffix in (".eml", ".txt"))):
        shutil.copy(msg, tmp_path / "mail" / "INBOX" / "new" / f"{i}.corpus")
    (tmp_path / "mail" / "INBOX" / "new" / "empty.corpus").write_bytes(b"")
    (tmp_path / "mail" / "INBOX" / "new" / "junk.corpus").write_bytes(os.urandom(300))
    assert env.sync(AFTER) == 1  # the empty file is not a message: named, skipped
    err = capsys.readouterr().err
    assert "empty.corpus" in err and "Traceback" not in err
    assert any("thank_you_draft" in k for k in env.drafts())


def test_header_injection_is_impossible(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path)
    env.add_interview(
        "evil-1", "Interview with ACME\r\nBcc: evil@attacker.example", T,
        people=(("jane.doe@acme.io", "Jane\r\nBcc: evil@attacker.example"),),
    )
    assert env.sync(AFTER) == 0
    [raw] = [p.read_bytes() for p in (tmp_path / "mail" / "Drafts" / "cur").iterdir()]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["Cc"] is None
    # The hostile text may survive inside the display name; it must not become an address.
    assert [a for _, a in email.utils.getaddresses(msg.get_all("To"))] == ["jane.doe@acme.io"]
    assert set(msg.keys()) <= {
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "X-Inbox-Followup-Key", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
    }
    for line in raw.split(b"\n"):
        assert not line.lower().startswith(b"bcc:")


def test_files_it_did_not_create_are_never_touched(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with ACME", T)
    mine = tmp_path / "mail" / "Drafts" / "cur" / "1700000000.mine:2,D"
    mine.write_bytes(b"From: alex.morgan@example.com\r\nTo: x@y.example\r\nSubject: mine\r\n\r\nhi\r\n")
    calendar_before = env.calendar.read_bytes()
    env.sync(AFTER)
    env.deliver("Jane Doe <jane.doe@acme.io>", "Re: hi", AFTER + timedelta(hours=1))
    env.sync(AFTER + timedelta(hours=2))
    assert env.cli("purge", "--yes", now=AFTER + timedelta(hours=3)) == 0
    assert mine.read_bytes().endswith(b"hi\r\n")
    assert env.calendar.read_bytes() == calendar_before
    assert [p.name for p in (tmp_path / "mail" / "Drafts" / "cur").iterdir()] == [mine.name]
    # purged items are not put back
    env.sync(AFTER + timedelta(hours=4))
    assert [p.name for p in (tmp_path / "mail" / "Drafts" / "cur").iterdir()] == [mine.name]


def test_one_daemon_per_state_dir(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path, extra="poll_seconds: 10")
    env.add_interview("acme-1", "Interview with ACME", T)
    first = subprocess.Popen(
        [sys.executable, "-m", "inbox_followup", "--config", str(env.config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "state" / "lock").exists() or not (tmp_path / "reminders.ics").exists():
            assert time.monotonic() < deadline, "the daemon did not start"
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            time.sleep(0.1)
        second = env.process("run", timeout=30)
        assert second.returncode == 2
        assert "in use" in second.stderr and "Traceback" not in second.stderr
        also_sync = env.process("sync", timeout=30)
        assert also_sync.returncode == 2
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert "daemon stopped" in err


def _count_artifacts(env: LocalEnv) -> tuple[list[str], list[str]]:
    drafts = [m["X-Inbox-Followup-Key"] for m in env.drafts().values()]
    return sorted(drafts), sorted(env.reminders())


def test_kill_9_at_random_moments_never_duplicates(tmp_path: Path) -> None:
    """A real `sync` process killed at random points, then rerun: exactly one of each."""
    env = LocalEnv(tmp_path)
    for i in range(40):
        env.add_interview(f"co{i}-1", f"Interview with Company{i}", T - timedelta(hours=i * 5),
                          people=((f"lead@company{i}.example", f"Lead {i}"),
                                  (f"peer@company{i}.example", f"Peer {i}")))
    reference = LocalEnv(tmp_path / "reference")
    reference.events = dict(env.events)
    reference.write_calendar()
    assert reference.process("sync", now=AFTER + timedelta(days=12)).returncode == 0
    expected = _count_artifacts(reference)
    rng = random.Random(20261122)
    argv = [sys.executable, "-m", "inbox_followup", "--config", str(env.config),
            "--now", (AFTER + timedelta(days=12)).isoformat(), "sync"]
    for _ in range(6):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.4, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = env.process("sync", now=AFTER + timedelta(days=12))
    assert final.returncode == 0, final.stderr
    drafts, reminders = _count_artifacts(env)
    assert len(drafts) == len(set(drafts))
    assert (drafts, reminders) == expected
    again = env.process("sync", now=AFTER + timedelta(days=12))
    assert "0 created, 0 updated, 0 removed" in again.stdout


def test_a_broken_event_is_reported_until_the_file_is_fixed(tmp_path: Path, capsys: Any) -> None:
    """An unchanged file is not parsed again, but what was wrong with it still is: every
    pass says so (exit 1, in status) until the user fixes the file."""
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with ACME", T)
    good = env.calendar.read_bytes()
    broken = good.replace(b"END:VCALENDAR", b"BEGIN:VEVENT\r\nUID:bad-1\r\nSUMMARY:Interview with Bad"
                          b"\r\nDTSTART:nope\r\nEND:VEVENT\r\nEND:VCALENDAR")
    env.calendar.write_bytes(broken)
    for hours in (1, 2):
        assert env.sync(AFTER + timedelta(hours=hours)) == 1
        doc = env.status(AFTER + timedelta(hours=hours), capsys)
        assert any("bad-1" in p["message"] for p in doc["problems"]), doc["problems"]
    env.calendar.write_bytes(good)
    assert env.sync(AFTER + timedelta(hours=3)) == 0
    assert env.status(AFTER + timedelta(hours=3), capsys)["problems"] == []
