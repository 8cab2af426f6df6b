"""docs/design.md's CLI and config contracts, checked from outside: a user's config, a user's
calendar and Maildir, the CLI as a process or through main(), nothing else."""

from __future__ import annotations

import email
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .localenv import CORPUS, LocalEnv, artifacts

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 3, 10, 14, 0, tzinfo=CHI)  # a Tuesday, 14:00-15:00
T0 = T + timedelta(hours=1)

CONTRACT_KINDS = {
    "notes_reminder", "thank_you_draft", "thank_you_reminder", "follow_up_draft",
    "follow_up_reminder", "call_reminder", "move_on_reminder", "feedback_draft",
}
CONTRACT_STATES = {"planned", "created", "sent", "cancelled", "kept_edited", "done"}
APP_STATES = {"active", "answered", "stale", "rejected", "offer", "withdrawn"}


@pytest.fixture
def env(tmp_path: Path) -> LocalEnv:
    e = LocalEnv(tmp_path)
    e.add_interview("acme-1", "Interview with Acme", T)
    return e


def cli_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inbox_followup", *args], capture_output=True,
                          text=True, timeout=60, check=False, cwd=cwd)


def check_status_document(doc: dict[str, Any]) -> None:
    for app in doc["applications"]:
        assert isinstance(app["company"], str) and app["state"] in APP_STATES
        assert app["domain"] is None or isinstance(app["domain"], str)
        for iv in app["interviews"]:
            assert isinstance(iv["id"], str) and isinstance(iv["title"], str)
            assert datetime.fromisoformat(iv["start"]).tzinfo is not None
            assert datetime.fromisoformat(iv["end"]).tzinfo is not None
            for person in iv["interviewers"]:
                assert set(person) == {"name", "email"}
            for a in iv["artifacts"]:
                assert set(a) == {"kind", "due", "state", "recipient"}
                assert a["kind"] in CONTRACT_KINDS, a
                assert a["state"] in CONTRACT_STATES, a
                assert datetime.fromisoformat(a["due"]).tzinfo is not None


# --- status --json ----------------------------------------------------------------------------


def test_status_json_after_a_rejection_uses_only_the_contract_kinds(
    env: LocalEnv, capsys: Any
) -> None:
    """A rejection adds a reflect reminder; docs/design.md's kinds have no name for it, so it must
    not appear among an interview's ``artifacts`` (an outside tool validates that list)."""
    env.sync(T0 + timedelta(minutes=30))
    env.deliver("Jane Doe <jane.doe@acme.io>", "Your application", T0 + timedelta(days=1),
                body="Unfortunately we have decided to move forward with other candidates.")
    env.sync(T0 + timedelta(days=1, hours=1))
    doc = env.status(T0 + timedelta(days=1, hours=1), capsys)
    check_status_document(doc)
    assert doc["applications"][0]["state"] == "rejected"
    assert "feedback_draft" in {a["kind"] for a in artifacts(doc)}
    assert any("reflect_reminder" in key for key in env.reminders())


# --- sync --dry-run ---------------------------------------------------------------------------


def test_dry_run_writes_nothing_at_all(tmp_path: Path) -> None:
    """Not the drafts, not the reminders, not even the state folder: `sync --dry-run` is how
    config.example.yaml tells a new user to check a config."""
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with Acme", T)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    run = env.process("sync", "--dry-run", now=T0 + timedelta(minutes=30))
    assert run.returncode == 0, run.stderr
    assert "would create thank_you_draft to jane.doe@acme.io" in run.stdout
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_dry_run_leaves_the_state_as_it_was(env: LocalEnv) -> None:
    """A reply seen by a dry run must still be news to the next real sync."""
    env.sync(T0 + timedelta(minutes=30))
    before = dump(env.root / "state" / "state.sqlite3")
    env.deliver("Jane Doe <jane.doe@acme.io>", "Re: thanks", T0 + timedelta(days=1))
    env.add_interview("acme-2", "Final round with Acme", T + timedelta(days=3))
    dry = env.process("sync", "--dry-run", now=T0 + timedelta(days=1, hours=1))
    assert "would remove follow_up_reminder" in dry.stdout, dry.stdout
    assert dump(env.root / "state" / "state.sqlite3") == before
    real = env.process("sync", now=T0 + timedelta(days=1, hours=1))
    assert " 0 removed" not in real.stdout, real.stdout
    assert not any("follow_up_reminder" in k for k in env.reminders())


def dump(db: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return list(con.iterdump())


def test_dry_run_on_a_fresh_config_is_fine_without_a_state_folder(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path)
    run = env.process("sync", "--dry-run", now=T0)
    assert run.returncode == 0 and "0 change(s) planned" in run.stdout
    assert not (tmp_path / "state").exists()


# --- config -----------------------------------------------------------------------------------


LOCAL = """\
accounts:
  - name: me
    provider: local
    address: me@example.com
    calendar: cal.ics
    reminders: r.ics
    maildir: mail
"""


@pytest.mark.parametrize(("text", "expected"), [
    ("accounts: []\n", "accounts: no accounts"),
    ("working_hours: {start: 9}\n" + LOCAL, "working_hours.start"),
    ("timing: {thank_you_same_day_before: 8}\n" + LOCAL, "timing.thank_you_same_day_before"),
])
def test_config_mistakes_are_named(tmp_path: Path, text: str, expected: str) -> None:
    """An empty list is "no accounts", not "expected a list"; a bare ``start: 9`` would be
    nine minutes past midnight, so it is refused rather than guessed."""
    (tmp_path / "cal.ics").write_text("")
    (tmp_path / "c.yaml").write_text(text)
    run = cli_process("--config", str(tmp_path / "c.yaml"), "sync", "--dry-run", cwd=tmp_path)
    assert run.returncode == 2
    assert expected in run.stderr and "Traceback" not in run.stderr


def test_unquoted_clock_times_still_work(tmp_path: Path) -> None:
    """YAML 1.1 reads an unquoted 17:30 as the number 1050: that one is unambiguous."""
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    (tmp_path / "c.yaml").write_text("working_hours: {start: 8:30, end: 17:30}\n" + LOCAL)
    run = cli_process("--config", str(tmp_path / "c.yaml"), "sync", "--dry-run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr


def test_relative_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path / "conf")
    env.add_interview("acme-1", "Interview with Acme", T)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = cli_process("--config", str(env.config), "--now", (T0 + timedelta(minutes=30)).isoformat(),
                      "sync", cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "conf" / "reminders.ics").exists() and (tmp_path / "conf" / "state").is_dir()
    assert list(elsewhere.iterdir()) == []


# --- the corpus -------------------------------------------------------------------------------


def test_real_auto_replies_and_bounces_do_not_cancel(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=30))
    for name in ("set-of-emails/rfc3834-01.eml", "set-of-emails/rfc3834-02.eml",
                 "set-of-emails/lhost-postfix-01.eml", "flanker/disposition-notification.eml"):
        msg = email.message_from_bytes((CORPUS / "eml" / name).read_bytes())
        del msg["From"], msg["Date"]
        msg["From"] = "Jane Doe <jane.doe@acme.io>"
        msg["Date"] = email.utils.format_datetime(T0 + timedelta(hours=20))
        path = env.root / "mail" / "INBOX" / "new" / name.replace("/", "_")
        path.write_bytes(msg.as_bytes())
    env.sync(T0 + timedelta(days=1))
    doc = env.status(T0 + timedelta(days=1), capsys)
    assert doc["applications"][0]["state"] == "active"
    assert any("follow_up_reminder" in k for k in env.reminders())


def test_header_injection_from_the_calendar(env: LocalEnv) -> None:
    env.add_interview("acme-2", "Interview with Acme\r\nBcc: evil@x.example", T + timedelta(days=1),
                      people=(("raj.patel@acme.io", "Raj\r\nBcc: evil@x.example"),))
    env.sync(T0 + timedelta(days=1, minutes=30))
    for path in (env.root / "mail" / "Drafts" / "cur").iterdir():
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["Bcc"] is None and len(msg.get_all("To") or []) == 1
        assert msg["X-Inbox-Followup-Key"]


# --- a vetoed event, and an interview that has aged out of the sync window ---------------------


def test_ignore_removes_every_reminder_of_the_event(env: LocalEnv) -> None:
    env.sync(T0 + timedelta(minutes=30))
    assert env.cli("ignore", "acme-1") == 0
    env.sync(T0 + timedelta(minutes=31))
    assert env.reminders() == {}


def test_an_old_interview_is_not_treated_as_cancelled(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=30))
    later = T0 + timedelta(days=61)
    assert env.process("sync", now=later).returncode == 0
    assert len(env.drafts()) == 1
    doc = env.status(later, capsys)
    assert [a["state"] for a in doc["applications"]] == ["stale"]


def test_status_json_is_json_on_stdout_only(env: LocalEnv) -> None:
    env.sync(T0 + timedelta(minutes=30))
    run = env.process("status", "--json", now=T0 + timedelta(minutes=30))
    assert run.returncode == 0 and run.stderr == ""
    check_status_document(json.loads(run.stdout))


def test_a_bounce_notice_names_only_the_companys_addresses(env: LocalEnv, capsys: Any) -> None:
    """A real Postfix bounce names the recipient as given and as delivered (Original- and
    Final-Recipient); the notice names only the address that is one of Acme's people."""
    env.sync(T0 + timedelta(minutes=30))
    raw = (CORPUS / "eml" / "set-of-emails" / "lhost-postfix-01.eml").read_bytes()
    raw = raw.replace(b"Final-Recipient: rfc822; r@p351355.pool.example.ne.jp",
                      b"Final-Recipient: rfc822; jane.doe@acme.io")
    msg = email.message_from_bytes(raw)
    del msg["Date"]
    msg["Date"] = email.utils.format_datetime(T0 + timedelta(hours=20))
    (env.root / "mail" / "INBOX" / "new" / "bounce.eml").write_bytes(msg.as_bytes())
    env.sync(T0 + timedelta(days=1))
    [app] = env.status(T0 + timedelta(days=1), capsys)["applications"]
    assert app["state"] == "active"
    assert [n for n in app["notices"] if "bounced" in n] == [
        "mail to jane.doe@acme.io bounced on 2026-03-11: check the address"
    ]


def test_a_stale_application_keeps_its_drafts_until_someone_answers(
    env: LocalEnv, capsys: Any
) -> None:
    """A month of silence stops the nudges but the unsent drafts are still right to send;
    an answer that comes later removes them like any other answer."""
    env.sync(T0 + timedelta(minutes=30))
    env.sync(T0 + timedelta(days=14))  # the follow-up draft is made (day 10 is a Saturday)
    assert sorted(k.split("-")[2] for k in env.drafts()) == ["follow_up_draft", "thank_you_draft"]
    month = T0 + timedelta(days=33)
    assert env.sync(month) == 0
    [app] = env.status(month, capsys)["applications"]
    assert app["state"] == "stale"
    assert len(env.drafts()) == 2
    env.deliver("Jane Doe <jane.doe@acme.io>", "Re: Thank you", month + timedelta(days=2))
    assert env.sync(month + timedelta(days=2, hours=1)) == 0
    assert env.drafts() == {}


# --- the user's templates ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [("sync",), ("sync", "--dry-run"), ("run",)])
def test_a_template_typo_is_a_config_error_before_anything_runs(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A placeholder the tool does not know fails the config load (exit 2, naming the file and
    the placeholder), not the pass on the day that draft falls due; nothing is written."""
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "follow_up_1.txt").write_text("Subject: Checking in\n\n$greting\n\n$signature\n")
    env = LocalEnv(tmp_path, extra=f"templates_dir: {templates}\n")
    env.add_interview("acme-1", "Interview with Acme", T)
    done = env.process(*command, now=T0 + timedelta(minutes=30), timeout=30)
    assert done.returncode == 2, done.stderr
    assert str(templates / "follow_up_1.txt") in done.stderr
    assert "$greting" in done.stderr
    assert "Traceback" not in done.stderr
    assert env.drafts() == {} and not (tmp_path / "reminders.ics").exists()


def test_editing_a_template_rewrites_the_drafts_not_yet_touched(tmp_path: Path) -> None:
    """The letters' words depend on the template texts, so a template edit reaches every
    unedited draft on the next sync; a sync without an edit writes nothing."""
    templates = tmp_path / "my-templates"
    templates.mkdir()
    thanks = templates / "thank_you.txt"
    thanks.write_text("Subject: Thank you\n\n$greeting\n\nThank you for your time.\n\n$signature\n")
    env = LocalEnv(tmp_path, extra=f"templates_dir: {templates}\n")
    env.add_interview("acme-1", "Interview with Acme", T)
    assert env.sync(T0 + timedelta(minutes=30)) == 0
    [first] = env.drafts().values()
    assert "Thank you for your time." in first.get_payload(decode=True).decode()
    before = env.snapshot_files()
    assert env.sync(T0 + timedelta(minutes=31)) == 0
    assert env.snapshot_files() == before
    thanks.write_text("Subject: Thank you\n\n$greeting\n\nThanks for a great conversation.\n\n$signature\n")
    assert env.sync(T0 + timedelta(minutes=32)) == 0
    [second] = env.drafts().values()
    body = second.get_payload(decode=True).decode()
    assert "Thanks for a great conversation." in body and "for your time" not in body
