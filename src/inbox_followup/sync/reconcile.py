"""Perform a Plan through a provider, crash-safely.

Every provider write is bracketed by ledger rows: ``pending_*`` is committed before the call and
the final state after it (and after the provider's ``flush``). A crash between the two leaves a
pending row, which :func:`resume` resolves with ``find_by_key`` before anything is planned
again, so a kill -9 at any point neither duplicates nor loses an artifact (docs/design.md invariant 3).

Cancellations run first, so no nudge of an answered application outlives the pass that saw
the answer (invariant 4). A draft is re-read right before it is changed or removed: if the
user edited it, it is kept (invariant 2).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from inbox_followup.core.model import Artifact, ItemRef, LedgerEntry, LedgerState
from inbox_followup.core.planner import Action, Cancel, Create, MarkSent, Restamp, Update
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.providers.base import Provider
from inbox_followup.sync.store import Store

log = logging.getLogger(__name__)

CHUNK = 200
ORDER = {Cancel: 0, MarkSent: 1, Restamp: 1, Update: 2, Create: 3}


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    kept_edited: int = 0
    sent: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.cancelled


def _ref(entry: LedgerEntry) -> ItemRef:
    return ItemRef(entry.key, entry.provider_id or "", entry.thread_id, entry.message_id)


def _live(entry: LedgerEntry, ref: ItemRef, content_hash: str, now: datetime) -> LedgerEntry:
    return replace(
        entry, state=LedgerState.LIVE, provider_id=ref.provider_id, thread_id=ref.thread_id,
        message_id=ref.message_id, content_hash=content_hash,
        created_at=entry.created_at or now, reason=None,
    )


def resume(store: Store, provider: Provider, account: str, now: datetime) -> None:
    """Resolve ledger rows a crash left pending. Raises ProviderError."""
    done: list[LedgerEntry] = []
    for entry in store.ledger(account).values():
        if entry.state is LedgerState.PENDING_CREATE:
            ref = provider.find_by_key(entry.key, entry.kind.is_draft)
            done.append(
                _live(entry, ref, entry.content_hash, now) if ref
                else replace(entry, state=LedgerState.DELETED, reason="interrupted before creation")
            )
        elif entry.state is LedgerState.PENDING_UPDATE:
            done.append(_resume_update(provider, entry, now))
        elif entry.state is LedgerState.PENDING_DELETE:
            kept = _check_untouched(provider, entry, Tally())
            if kept is None:
                _delete(provider, entry)
            done.append(kept or replace(entry, state=LedgerState.DELETED))
    if done:
        log.info("%s: resolved %d interrupted actions", account, len(done))
        store.put_ledger(done)


def _resume_update(provider: Provider, entry: LedgerEntry, now: datetime) -> LedgerEntry:
    previous = (entry.reason or "").removeprefix("previous ")
    ref = provider.find_by_key(entry.key, entry.kind.is_draft)
    if ref is None:
        return replace(entry, state=LedgerState.DISMISSED, reason="gone after an interrupted update")
    if entry.kind.is_draft:
        snap = provider.get_draft(ref)
        if snap is not None and snap.fingerprint == entry.content_hash:
            return _live(entry, ref, entry.content_hash, now)
    # The old text (or an unknown one): keep the previous hash so the planner updates again,
    # and a real user edit is still told apart before anything is overwritten.
    return _live(entry, ref, previous or entry.content_hash, now)


def apply(
    store: Store, provider: Provider, account: str, actions: Sequence[Action], now: datetime
) -> Tally:
    """Perform ``actions`` in safe order. Raises ProviderError when the provider gives up;
    everything finished before that is recorded."""
    tally = Tally()
    ordered = sorted(actions, key=lambda a: ORDER[type(a)])
    for start in range(0, len(ordered), CHUNK):
        _apply_chunk(store, provider, account, ordered[start : start + CHUNK], now, tally)
    return tally


def _pending(action: Action, account: str, now: datetime) -> LedgerEntry:
    if isinstance(action, Create):
        a = action.artifact
        return LedgerEntry(
            key=a.key, account=account, kind=a.kind, interview_id=a.interview_id,
            application_id=a.application_id, due=a.due, state=LedgerState.PENDING_CREATE,
            content_hash=a.content_hash, recipient=a.recipient, created_at=now,
            inputs=action.wanted.inputs,
        )
    if isinstance(action, Update):
        return replace(
            action.entry, state=LedgerState.PENDING_UPDATE, due=action.artifact.due,
            content_hash=action.artifact.content_hash,
            reason=f"previous {action.entry.content_hash}", inputs=action.wanted.inputs,
        )
    if isinstance(action, Cancel):
        return replace(action.entry, state=LedgerState.PENDING_DELETE, reason=action.reason)
    if isinstance(action, Restamp):
        return replace(action.entry, inputs=action.inputs)
    return replace(action.entry, state=LedgerState.SENT, reason=f"sent {action.at.isoformat()}")


def _apply_chunk(
    store: Store, provider: Provider, account: str, chunk: Sequence[Action], now: datetime,
    tally: Tally,
) -> None:
    pending = [_pending(a, account, now) for a in chunk]
    store.put_ledger(pending)
    final: list[LedgerEntry] = []
    try:
        for action, entry in zip(chunk, pending, strict=True):
            try:
                result = _perform(provider, action, entry, now, tally)
            except ItemError as exc:
                tally.problems.append((exc.where, str(exc)))
                continue  # left pending: resume() settles it next pass
            final.append(result)
    finally:
        provider.flush()
        store.put_ledger(final)


def _perform(
    provider: Provider, action: Action, entry: LedgerEntry, now: datetime, tally: Tally
) -> LedgerEntry:
    if isinstance(action, Restamp):
        return entry
    if isinstance(action, MarkSent):
        tally.sent += 1
        return entry
    if isinstance(action, Create):
        ref = _put(provider, action.artifact, None)
        tally.created += 1
        return _live(entry, ref, action.artifact.content_hash, now)
    if isinstance(action, Update):
        kept = _check_untouched(provider, action.entry, tally)
        if kept is not None:
            return kept
        ref = _put(provider, action.artifact, _ref(action.entry))
        tally.updated += 1
        return _live(entry, ref, action.artifact.content_hash, now)
    kept = _check_untouched(provider, action.entry, tally)
    if kept is not None:
        return kept
    _delete(provider, action.entry)
    tally.cancelled += 1
    return replace(entry, state=LedgerState.DELETED)


def _check_untouched(provider: Provider, entry: LedgerEntry, tally: Tally) -> LedgerEntry | None:
    """For a draft: the row to record instead of touching it, or None when it is untouched."""
    if not entry.kind.is_draft:
        return None
    snap = provider.get_draft(_ref(entry))
    if snap is None:
        return replace(entry, state=LedgerState.DISMISSED, reason="removed by the user")
    if snap.fingerprint != entry.content_hash:
        tally.kept_edited += 1
        log.info("%s: edited by the user; kept", entry.key)
        return replace(entry, state=LedgerState.KEPT_EDITED, reason="edited by the user")
    return None


def _put(provider: Provider, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
    if artifact.kind.is_draft:
        return provider.put_draft(artifact, existing)
    return provider.put_event(artifact, existing)


def _delete(provider: Provider, entry: LedgerEntry) -> None:
    if entry.provider_id is None:
        ref = provider.find_by_key(entry.key, entry.kind.is_draft)
        if ref is None:
            return
    else:
        ref = _ref(entry)
    if entry.kind.is_draft:
        provider.delete_draft(ref)
    else:
        provider.delete_event(ref)


__all__ = ["ProviderError", "Tally", "apply", "resume"]
