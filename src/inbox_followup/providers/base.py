"""The Provider protocol: one contract, held by every backend (local, Google, Microsoft).

The contract suite in ``tests/contract`` runs against every implementation. Rules every
provider keeps:

- Reads that fail raise :class:`~inbox_followup.errors.ProviderError`; they never return an
  empty page, because "empty" would look like every event was deleted.
- An expired cursor is handled inside ``calendar_changes``/``mail_changes`` by a full read
  (``CalendarPage.replaced_sources`` then names what is complete).
- Writes are idempotent by ``Artifact.key``: ``put_*`` with the key of an item that exists
  updates it (or returns it), never duplicates; ``delete_*`` of a missing item is a no-op.
- ``find_by_key`` lets the reconciler resolve a ledger row left ``pending`` by a crash.
- Nothing in a provider sends mail, ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from inbox_followup.core.model import Artifact, CalendarPage, DraftSnapshot, ItemRef, MailPage, SyncWindow


@dataclass(frozen=True)
class ProviderContext:
    """What every provider is opened with besides its account, the same for all three:
    ``XProvider(account, context, **test_hooks)``."""

    state_dir: Path  # where a provider keeps its own small records (tokens, ids written)
    timezone: ZoneInfo  # the user's zone: floating calendar times are read in it
    sender_name: str | None = None  # the display name drafts are written from


@runtime_checkable
class Provider(Protocol):
    """Calendar in, reminders out, drafts out, message headers in."""

    account: str

    def calendar_changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Events changed since ``cursor`` (all events in ``window`` when ``cursor`` is None).

        Tool-created reminder events may be included with ``CalendarEvent.key`` set, so that
        notes typed into a notes reminder are read back. Raises ProviderError.
        """
        ...

    def mail_changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Headers of inbound and sent messages since ``cursor`` (since ``window.start``
        when None). Drafts are not included. Raises ProviderError."""
        ...

    def put_event(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or update the reminder event for ``artifact`` (idempotent by key)."""
        ...

    def delete_event(self, ref: ItemRef) -> None:
        """Remove a reminder event the tool created; missing is fine."""
        ...

    def put_draft(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create the draft, or replace ``existing`` with the new text (idempotent by key)."""
        ...

    def get_draft(self, ref: ItemRef) -> DraftSnapshot | None:
        """The draft as it is now, or None when it is no longer in Drafts."""
        ...

    def delete_draft(self, ref: ItemRef) -> None:
        """Remove a draft the tool created; missing is fine."""
        ...

    def find_by_key(self, key: str, is_draft: bool) -> ItemRef | None:
        """The item tagged with ``key``, if it exists (used to resolve pending rows)."""
        ...

    def flush(self) -> None:
        """Make every write so far durable (the local provider batches its file writes)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
