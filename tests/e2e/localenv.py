"""A local account in a temp folder, driven through the real CLI (in-process or as a process)."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from inbox_followup.cli.main import main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data"
USER = "alex.morgan@example.com"

CONFIG = """\
timezone: America/Chicago
state_dir: state
profile: {{name: Alex Morgan}}
{extra}
accounts:
  - name: me
    provider: local
    address: {user}
    calendar: {calendar}
    reminders: reminders.ics
    maildir: mail
"""


@dataclass
class LocalEnv:
    root: Path
    calendar_name: str = "calendar.ics"
    extra: str = ""
    events: dict[str, Event] = field(default_factory=dict)
    delivered: int = 0

    def __post_init__(self) -> None:
        for folder in ("INBOX", "Sent", "Drafts"):
            for sub in ("cur", "new", "tmp"):
                (self.root / "mail" / folder / sub).mkdir(parents=True, exist_ok=True)
        self.write_config()
        self.write_calendar()

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def calendar(self) -> Path:
        return self.root / self.calendar_name

    def write_config(self) -> None:
        self.config.write_text(
            CONFIG.format(extra=self.extra, user=USER, calendar=self.calendar_name)
        )

    # --- the calendar ---------------------------------------------------------------------

    def add_interview(self, uid: str, title: str, start: datetime, minutes: int = 60,
                      people: tuple[tuple[str, str | None], ...] = (("jane.doe@acme.io", "Jane Doe"),),
                      organizer: str | None = None, description: str = "",
                      extra: dict[str, Any] | None = None) -> None:
        event = Event()
        event.add("uid", uid)
        event.add("summary", title)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=minutes))
        event.add("dtstamp", datetime(2026, 1, 1, tzinfo=UTC))
        if description:
            event.add("description", description)
        org = vCalAddress(f"mailto:{organizer or people[0][0]}")
        event.add("organizer", org)
        for mail, name in (*people, (USER, "Alex Morgan")):
            who = vCalAddress(f"mailto:{mail}")
            if name:
                who.params["cn"] = vText(name)
            who.params["partstat"] = "ACCEPTED"
            event.add("attendee", who)
        for key, value in (extra or {}).items():
            event.add(key, value)
        self.events[uid] = event
        self.write_calendar()

    def remove_event(self, uid: str) -> None:
        del self.events[uid]
        self.write_calendar()

    def write_calendar(self) -> None:
        cal = Calendar()
        cal.add("prodid", "-//tests//EN")
        cal.add("version", "2.0")
        for event in self.events.values():
            cal.add_component(event)
        self.calendar.write_bytes(cal.to_ical())

    # --- the mailbox ----------------------------------------------------------------------

    def deliver(self, sender: str, subject: str, when: datetime, body: str = "Hello",
                headers: dict[str, str] | None = None, folder: str = "INBOX") -> Path:
        self.delivered += 1
        lines = [f"From: {sender}", f"To: {USER}", f"Subject: {subject}",
                 f"Date: {email.utils.format_datetime(when)}",
                 f"Message-ID: <m{self.delivered}@test.example>"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()
        name = f"{1_900_000_000 + self.delivered}.T{self.delivered}.test"
        path = self.root / "mail" / folder / "new" / name
        path.write_bytes(raw)
        return path

    def drafts(self) -> dict[str, Message]:
        out = {}
        for sub in ("cur", "new"):
            for path in sorted((self.root / "mail" / "Drafts" / sub).iterdir()):
                out[path.name.split(":", 1)[0]] = email.message_from_bytes(path.read_bytes())
        return out

    def draft_path(self, key_part: str) -> Path:
        [path] = [p for p in (self.root / "mail" / "Drafts" / "cur").iterdir() if key_part in p.name]
        return path

    def send_draft(self, key_part: str) -> None:
        """The user sends a draft: it moves to Sent/ (mv keeps its mtime, not its ctime)."""
        path = self.draft_path(key_part)
        os.rename(path, self.root / "mail" / "Sent" / "cur" / path.name)

    def reminders(self) -> dict[str, dict[str, Any]]:
        path = self.root / "reminders.ics"
        if not path.exists():
            return {}
        cal = Calendar.from_ical(path.read_bytes())
        return {
            str(e["uid"]): {"title": str(e["summary"]), "start": e.decoded("dtstart"),
                            "description": str(e.get("description", ""))}
            for e in cal.walk("VEVENT")
        }

    def snapshot_files(self) -> dict[str, tuple[bytes, int]]:
        """Every file the tool writes, with its bytes and mtime (to prove "no writes")."""
        files = [self.root / "reminders.ics", *(self.root / "mail" / "Drafts").rglob("*")]
        return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in files if p.is_file()}

    # --- the CLI --------------------------------------------------------------------------

    def cli(self, *args: str, now: datetime | None = None) -> int:
        argv = ["--config", str(self.config)]
        if now is not None:
            argv += ["--now", now.isoformat()]
        return main([*argv, *args])

    def sync(self, now: datetime) -> int:
        return self.cli("sync", now=now)

    def status(self, now: datetime, capsys: Any) -> dict[str, Any]:
        capsys.readouterr()
        assert self.cli("status", "--json", now=now) in (0, 1)
        doc: dict[str, Any] = json.loads(capsys.readouterr().out)
        return doc

    def process(self, *args: str, now: datetime | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "inbox_followup", "--config", str(self.config)]
        if now is not None:
            argv += ["--now", now.isoformat()]
        return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                              check=False)


def artifacts(doc: dict[str, Any], company: str | None = None) -> list[dict[str, Any]]:
    return [
        a for app in doc["applications"] if company is None or app["company"] == company
        for iv in app["interviews"] for a in iv["artifacts"]
    ]


def states(doc: dict[str, Any], kind: str, company: str | None = None) -> list[str]:
    return sorted(a["state"] for a in artifacts(doc, company) if a["kind"] == kind)
