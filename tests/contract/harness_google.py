"""The contract harness of the Google provider: the loopback fake of Calendar and Gmail.

The provider under test is the real one, with the real google-api-python-client, pointed at
the fake with ``api_endpoint`` and authenticated with ``token_command`` (the fake accepts
only the token that command prints). The harness plays the user and the world by changing
the fake's state directly, as Google's own apps would.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import DraftSnapshot
from inbox_followup.formats.mime import snapshot_from_mime
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.google.provider import GoogleProvider
from inbox_followup.providers.retry import RetryPolicy

from ..fakes.google_fake import GoogleFake
from .harness import SeenReminder

USER = "alex.morgan@example.com"
TOKEN = "fake-token"


def no_sleep(seconds: float) -> None:
    """Retry waits are recorded by the policy's caller; tests never really sleep."""


def account_for(fake: GoogleFake, **overrides: Any) -> AccountConfig:
    fields: dict[str, Any] = {"name": "g", "provider": "google", "address": USER,
                              "api_endpoint": fake.url, "token_command": f"echo {TOKEN}"}
    fields.update(overrides)
    return AccountConfig(**fields)


class GoogleHarness:
    name = "google"
    user_address = USER

    def __init__(self, root: Path, **account: Any) -> None:
        self.root = root
        self.fake = GoogleFake(USER, tokens={TOKEN})
        self.account = account_for(self.fake, **account)
        self.sleeps: list[float] = []
        self._ids: dict[str, str] = {}

    def new_provider(self, **kwargs: Any) -> GoogleProvider:
        kwargs.setdefault("retry", RetryPolicy(sleep=self.sleeps.append))
        kwargs.setdefault("http_timeout", 5)
        context = ProviderContext(self.root / "state", ZoneInfo("UTC"), "Alex Morgan")
        return GoogleProvider(self.account, context, **kwargs)

    # --- the calendar ------------------------------------------------------------------------

    def add_event(self, uid: str, title: str, start: datetime, end: datetime,
                  attendees: list[tuple[str, str | None]], organizer: str | None = None,
                  description: str = "") -> None:
        event_id = base64.b32hexencode(hashlib.sha1(uid.encode()).digest()).decode().lower()
        self._ids[uid] = event_id.rstrip("=")
        body: dict[str, Any] = {
            "id": self._ids[uid], "iCalUID": uid, "summary": title,
            "start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()},
            "attendees": [{"email": e, "displayName": n, "self": e == USER,
                           "responseStatus": "needsAction"} if n else
                          {"email": e, "self": e == USER, "responseStatus": "needsAction"}
                          for e, n in attendees],
        }
        if organizer:
            body["organizer"] = {"email": organizer}
        if description:
            body["description"] = description
        self.fake.calendar.user_put("primary", body)

    def move_event(self, uid: str, start: datetime, end: datetime) -> None:
        self.fake.calendar.user_patch("primary", self._ids[uid], {
            "start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}})

    def cancel_event(self, uid: str) -> None:
        self.fake.calendar.user_delete("primary", self._ids[uid])

    def _reminder_events(self) -> list[tuple[str, dict[str, Any]]]:
        cals = [c.id for c in self.fake.calendar.app_calendars()] + ["primary"]
        return [(cid, ev) for cid in cals for ev in self.fake.calendar.live_events(cid)
                if ev.get("extendedProperties", {}).get("private", {}).get("ifu_key")]

    def user_writes_reminder_description(self, key: str, text: str) -> None:
        for cid, ev in self._reminder_events():
            if ev["extendedProperties"]["private"]["ifu_key"] == key:
                self.fake.calendar.user_patch(cid, ev["id"], {"description": text})
                return
        raise KeyError(key)

    def reminders(self) -> dict[str, SeenReminder]:
        out = {}
        for _, ev in self._reminder_events():
            key = ev["extendedProperties"]["private"]["ifu_key"]
            start = datetime.fromisoformat(ev["start"]["dateTime"])
            out[key] = SeenReminder(key, ev.get("summary", ""), start, ev.get("description", ""))
        return out

    # --- the mailbox -------------------------------------------------------------------------

    def deliver(self, raw: bytes) -> None:
        self.fake.gmail.deliver(raw)

    def draft_id(self, key: str) -> str:
        for did, mid in self.fake.gmail.drafts.items():
            if self.fake.gmail.messages[mid].header("X-Inbox-Followup-Key").strip() == key:
                return did
        raise KeyError(key)

    def user_edits_draft(self, key: str, new_body: str, *, web_ui: bool = False) -> None:
        did = self.draft_id(key)
        msg = message_from_bytes(self.fake.gmail.draft_message(did).raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        msg.set_content(new_body)
        self.fake.gmail.user_edits_draft(did, msg.as_bytes(), new_draft_id=web_ui)

    def user_sends_draft(self, key: str) -> None:
        self.fake.gmail.user_sends_draft(self.draft_id(key))

    def user_deletes_draft(self, key: str) -> None:
        self.fake.gmail.user_deletes_draft(self.draft_id(key))

    def drafts(self) -> dict[str, DraftSnapshot]:
        out = {}
        for mid in self.fake.gmail.drafts.values():
            raw = self.fake.gmail.messages[mid].raw
            key = BytesHeaderParser().parsebytes(raw).get("X-Inbox-Followup-Key")
            if key:
                out[str(key).strip()] = snapshot_from_mime(raw)
        return out

    # --- the rest ----------------------------------------------------------------------------

    def expire_cursors(self) -> None:
        self.fake.calendar.expire_sync_tokens()
        self.fake.gmail.expire_history()

    def send_attempts(self) -> int:
        return self.fake.send_attempts

    def close(self) -> None:
        self.fake.close()
        assert self.fake.send_attempts == 0, "something tried to send mail"
        assert not self.fake.unimplemented, f"unmodelled methods: {self.fake.unimplemented}"
        assert not self.fake.crashes, f"the fake crashed: {self.fake.crashes}"


def make_harness(tmp_path: Path) -> GoogleHarness:
    return GoogleHarness(tmp_path)
