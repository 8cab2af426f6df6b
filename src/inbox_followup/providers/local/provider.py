"""The local account: an .ics calendar (or a folder of them) in, reminders.ics out, and a
Maildir whose Drafts/ the tool writes and whose INBOX/ and Sent/ it reads.

The calendar is never written. reminders.ics and each draft are written to a temporary file,
fsynced and renamed, so a reader (or a kill -9) never sees half a file. A draft's file name is
its key; its ``X-Inbox-Followup-Key`` header is the proof it is ours, checked before any
delete, so a file the tool did not create is never removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import (
    Artifact,
    CalendarEvent,
    CalendarPage,
    DraftSnapshot,
    ItemRef,
    MailMessage,
    MailPage,
    Person,
    ReminderContent,
    SyncWindow,
)
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.formats import ical, mailparse, mime, reminders_ics
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.cursor import dump_cursor, load_cursor

log = logging.getLogger(__name__)

MAIL_FOLDERS = {"inbox": "INBOX", "sent": "Sent"}


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def message_id_for(key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"<{digest}@inbox-followup.invalid>"


class LocalProvider:
    """Provider over local files. See the module docstring."""

    def __init__(self, account: AccountConfig, context: ProviderContext) -> None:
        if not (account.calendar and account.reminders and account.maildir):
            raise ProviderError(f"{account.name}: a local account needs calendar, reminders "
                                "and maildir", retryable=False)
        self.account = account.name
        self.calendar = account.calendar
        self.reminders_path = account.reminders
        self.maildir = account.maildir
        self.default_tz = context.timezone
        self.self_addresses = account.addresses
        self.sender = Person(account.address, context.sender_name)
        self._reminders: dict[str, ReminderContent] | None = None
        self._dirty = False

    # --- calendar ---------------------------------------------------------------------------

    def _calendar_files(self) -> list[Path]:
        if self.calendar.is_dir():
            return sorted(p for p in self.calendar.rglob("*.ics") if p.is_file())
        if not self.calendar.exists():
            raise ProviderError(f"{self.calendar}: calendar file not found", retryable=False)
        return [self.calendar]

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Re-parse the calendar files whose content changed since ``cursor`` (file hashes).

        The problems of a file (events it could not read) are kept in the cursor and said
        again while the file is unchanged: they are fixed by editing it, not by waiting.
        """
        old = load_cursor(cursor, f"{self.account}: calendar")
        old_files: dict[str, str] = old.get("files", {})
        old_problems: dict[str, list[str]] = old.get("problems", {})
        kept_problems: dict[str, list[str]] = {}
        same_window = old.get("window") == window.start.date().isoformat()
        files: dict[str, str] = {}
        events: list[CalendarEvent] = []
        replaced: set[str] = set()
        errors: list[str] = []
        for path in self._calendar_files():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            name = str(path)
            if same_window and old_files.get(name) == digest:
                files[name] = digest
                if old_problems.get(name):
                    kept_problems[name] = old_problems[name]
                    errors.extend(old_problems[name])
                continue
            try:
                parsed, problems = ical.parse_calendar(
                    data, name, window, default_tz=self.default_tz,
                    self_addresses=self.self_addresses,
                )
            except ItemError as exc:
                errors.append(str(exc))
                if name in old_files:
                    files[name] = old_files[name]  # keep what is stored; retry next pass
                continue
            said = [f"{p.where}: {p.message}" for p in problems]
            errors.extend(said)
            if said:
                kept_problems[name] = said
            files[name] = digest
            events.extend(parsed)
            replaced.add(name)
        replaced.update(set(old_files) - set(files) - {self._reminders_source})
        events.extend(self._reminder_events(old_files, files, replaced))
        state: dict[str, object] = {"files": files, "window": window.start.date().isoformat()}
        if kept_problems:
            state["problems"] = kept_problems
        new_cursor = dump_cursor(state)
        return CalendarPage(tuple(events), new_cursor, (), frozenset(replaced), tuple(errors))

    @property
    def _reminders_source(self) -> str:
        return str(self.reminders_path)

    def _reminder_events(
        self, old_files: dict[str, str], files: dict[str, str], replaced: set[str]
    ) -> list[CalendarEvent]:
        """Our reminders come back as events with a key, so typed notes are read back."""
        name = self._reminders_source
        if not self.reminders_path.exists():
            return []
        digest = hashlib.sha256(self.reminders_path.read_bytes()).hexdigest()
        files[name] = digest
        if old_files.get(name) == digest:
            return []
        replaced.add(name)
        if not self._dirty:
            self._reminders = None  # the file changed under us (the user typed notes): re-read
        return [
            CalendarEvent(
                id=key, uid=key, title=r.title, start=r.start, end=r.start + timedelta(minutes=15),
                source=name, description=r.description, key=key,
            )
            for key, r in self._load_reminders().items()
        ]

    def _load_reminders(self) -> dict[str, ReminderContent]:
        if self._reminders is None:
            try:
                data = self.reminders_path.read_bytes()
            except FileNotFoundError:
                data = b""
            try:
                self._reminders = reminders_ics.read_reminders(data) if data.strip() else {}
            except ItemError as exc:
                raise ProviderError(
                    f"{self.reminders_path}: cannot read the reminders file ({exc}); "
                    "move it aside and run sync again", retryable=False,
                ) from exc
        return self._reminders

    def put_event(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        assert artifact.reminder is not None
        reminders = self._load_reminders()
        # Compare in the form the file can hold (RFC 5545 text, UTC seconds), or content that
        # cannot round-trip would be rewritten on every pass.
        content = reminders_ics.clean_reminder(artifact.reminder)
        if reminders.get(artifact.key) != content:
            reminders[artifact.key] = content
            self._dirty = True
        return ItemRef(artifact.key, artifact.key)

    def delete_event(self, ref: ItemRef) -> None:
        if self._load_reminders().pop(ref.key, None) is not None:
            self._dirty = True

    def flush(self) -> None:
        if self._dirty and self._reminders is not None:
            atomic_write(self.reminders_path, reminders_ics.render_reminders(self._reminders))
            self._dirty = False

    # --- mail -------------------------------------------------------------------------------

    def _folder(self, name: str) -> Path:
        return self.maildir / name

    def _entries(self, folder: Path) -> Iterator[os.DirEntry[str]]:
        for sub in ("new", "cur"):
            try:
                with os.scandir(folder / sub) as it:
                    yield from (e for e in it if e.is_file() and not e.name.startswith("."))
            except FileNotFoundError:
                continue

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Messages delivered to (or moved into) INBOX/ and Sent/ since the cursor.

        The cursor is, per folder, the newest inode change time seen and the names seen at
        that time: a delivery, a client's move and `mv` all set the change time, unlike the
        modification time a move preserves.
        """
        marks = load_cursor(cursor, f"{self.account}: mail")
        messages: list[MailMessage] = []
        errors: list[str] = []
        new_marks: dict[str, list[Any]] = {}
        for folder, dirname in MAIL_FOLDERS.items():
            since, seen_then = marks.get(folder, [-1, []])
            newest, at_newest = since, set(seen_then)
            for entry in self._entries(self._folder(dirname)):
                changed = entry.stat().st_ctime_ns
                if changed < since or (changed == since and entry.name in seen_then):
                    continue
                if changed > newest:
                    newest, at_newest = changed, set()
                if changed == newest:
                    at_newest.add(entry.name)
                msg = self._read_message(entry, folder, changed, errors)
                if msg is not None and (cursor is not None or msg.date >= window.start):
                    messages.append(msg)
            new_marks[folder] = [newest, sorted(at_newest)]
        return MailPage(tuple(messages), dump_cursor(new_marks), tuple(errors))

    def _read_message(
        self, entry: os.DirEntry[str], folder: str, changed: int, errors: list[str]
    ) -> MailMessage | None:
        msg_id = f"{folder}/{entry.name.split(':', 1)[0]}"
        try:
            return mailparse.parse_message(
                Path(entry.path).read_bytes(), msg_id=msg_id, folder=folder,
                fallback_date=datetime.fromtimestamp(changed / 1e9, UTC),
            )
        except (ItemError, OSError) as exc:
            errors.append(f"{entry.path}: {exc}")
            return None

    def _draft_path(self, key: str) -> Path:
        return self._folder("Drafts") / "cur" / f"{key}:2,DS"

    def _find_draft_file(self, key: str) -> Path | None:
        path = self._draft_path(key)
        if path.exists():
            return path
        # A mail client that saved an edit may have renamed the file; the header stays.
        for entry in self._entries(self._folder("Drafts")):
            if _header(Path(entry.path), "X-Inbox-Followup-Key") == key:
                return Path(entry.path)
        return None

    def put_draft(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        assert artifact.draft is not None
        message_id = message_id_for(artifact.key)
        raw = mime.build_mime(
            artifact.draft, sender=self.sender, key=artifact.key, message_id=message_id,
            date=artifact.due,
        )
        target = self._find_draft_file(artifact.key) if existing else None
        target = target or self._draft_path(artifact.key)
        for sub in ("cur", "new", "tmp"):
            (self._folder("Drafts") / sub).mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != raw:
            atomic_write(target, raw)
        return ItemRef(artifact.key, target.name, None, message_id)

    def get_draft(self, ref: ItemRef) -> DraftSnapshot | None:
        path = self._find_draft_file(ref.key)
        if path is None:
            return None
        return mime.snapshot_from_mime(path.read_bytes())

    def delete_draft(self, ref: ItemRef) -> None:
        path = self._find_draft_file(ref.key)
        if path is not None and _header(path, "X-Inbox-Followup-Key") == ref.key:
            path.unlink(missing_ok=True)

    def find_by_key(self, key: str, is_draft: bool) -> ItemRef | None:
        if is_draft:
            path = self._find_draft_file(key)
            if path is None:
                return None
            return ItemRef(key, path.name, None, message_id_for(key))
        return ItemRef(key, key) if key in self._load_reminders() else None

    def close(self) -> None:
        self.flush()


def _header(path: Path, name: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            value = BytesHeaderParser().parse(fh).get(name)
    except OSError:
        return None
    return str(value).strip() if value is not None else None
