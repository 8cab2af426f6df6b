"""The contract harness of the Microsoft provider: the loopback Graph fake.

The provider under test is the real one (requests, the real Graph paths), pointed at the fake
with ``api_endpoint`` and authenticated with ``token_command``; MSAL is never built, so nothing
reaches Microsoft. The harness plays the user by changing the fake's mailbox directly, as
Outlook would: sent drafts get a new id in Sent Items, typed notes become HTML.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import DraftSnapshot
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.providers.microsoft.provider import MicrosoftProvider
from inbox_followup.providers.retry import RetryPolicy

from ..fakes.graph_fake import GraphFake, event_start
from ..fakes.graph_odata import html_to_text
from .harness import SeenReminder

USER = "alex.morgan@example.com"
TOKEN = "fake-token"
CLOCK = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the contract suite's "now"


def account_for(fake: GraphFake, **overrides: Any) -> AccountConfig:
    fields: dict[str, Any] = {
        "name": "ms", "provider": "microsoft", "address": USER,
        "api_endpoint": fake.url, "token_command": f"echo {TOKEN}",
    }
    fields.update(overrides)
    return AccountConfig(**fields)


class MicrosoftHarness:
    name = "microsoft"
    user_address = USER

    def __init__(self, root: Path, *, clock: datetime = CLOCK, **account: Any) -> None:
        self.root = root
        self.fake = GraphFake(USER, key_property=KEY_PROPERTY, token=TOKEN, clock=clock)
        self.account = account_for(self.fake, **account)
        self.sleeps: list[float] = []

    def new_provider(self, **kwargs: Any) -> MicrosoftProvider:
        kwargs.setdefault("retry", RetryPolicy(sleep=self.sleeps.append))
        kwargs.setdefault("http_timeout", 5)
        return MicrosoftProvider(self.account, ProviderContext(self.root / "state", ZoneInfo("UTC")),
                                 **kwargs)

    # --- the calendar -------------------------------------------------------------------------

    def add_event(
        self, uid: str, title: str, start: datetime, end: datetime,
        attendees: list[tuple[str, str | None]], organizer: str | None = None,
        description: str = "",
    ) -> None:
        self.fake.add_event(uid, title, start, end, attendees, organizer, description)

    def move_event(self, uid: str, start: datetime, end: datetime) -> None:
        self.fake.move_event(uid, start, end)

    def cancel_event(self, uid: str) -> None:
        self.fake.cancel_event(uid)

    def user_writes_reminder_description(self, key: str, text: str) -> None:
        self.fake.user_writes_reminder_description(key, text)

    def reminders(self) -> dict[str, SeenReminder]:
        out = {}
        for key, event in self.fake.events_with_key().items():
            body = event["body"]
            text = body["content"] if body["contentType"].lower() != "html" else html_to_text(body["content"])
            out[key] = SeenReminder(key, event["subject"], event_start(event), text)
        return out

    # --- the mailbox --------------------------------------------------------------------------

    def deliver(self, raw: bytes) -> None:
        self.fake.deliver(raw)

    def user_edits_draft(self, key: str, new_body: str) -> None:
        self.fake.user_edits_draft(key, new_body)

    def user_sends_draft(self, key: str) -> None:
        self.fake.user_sends_draft(key)

    def user_deletes_draft(self, key: str) -> None:
        self.fake.user_deletes_draft(key)

    def drafts(self) -> dict[str, DraftSnapshot]:
        return self.fake.drafts()

    # --- the service --------------------------------------------------------------------------

    def expire_cursors(self) -> None:
        self.fake.expire_deltas()

    def send_attempts(self) -> int:
        return self.fake.send_attempts

    def close(self) -> None:
        problems = list(self.fake.prefer_problems)
        self.fake.close()
        assert not problems, f"requests without the Graph Prefer headers: {problems}"


def make_harness(tmp_path: Path) -> MicrosoftHarness:
    return MicrosoftHarness(tmp_path)
