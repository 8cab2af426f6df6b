"""What each CLI command does, without any printing: the CLI formats what these return.

Commands that write to a provider (sync, purge) hold the state directory's lock; the ones that
only record the user's input (note, track, ignore, outcome) write to SQLite, which is safe next
to a running daemon (the daemon reads the input on its next pass).
"""

from __future__ import annotations

import logging
import os
import shlex
import sqlite3
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from inbox_followup.config import settings
from inbox_followup.config.loader import AccountConfig, Config
from inbox_followup.core import planner
from inbox_followup.core.cycle import Settings
from inbox_followup.core.model import Interview, ItemRef, LedgerEntry, LedgerState, Notes, Outcome
from inbox_followup.core.notes import parse_notes
from inbox_followup.errors import ConfigError, ItemError, ProviderError, UsageError
from inbox_followup.providers import open_provider
from inbox_followup.providers.base import Provider
from inbox_followup.sync import engine
from inbox_followup.sync.lock import StateLock
from inbox_followup.sync.store import Store

log = logging.getLogger(__name__)
DB_NAME = "state.sqlite3"


class NotFoundError(UsageError):
    """A CLI argument names no interview or event (or several)."""


@dataclass
class SyncReport:
    results: list[engine.AccountResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok and not r.problems for r in self.results)

    @property
    def next_due(self) -> datetime | None:
        return min((r.next_due for r in self.results if r.next_due), default=None)


def prepare_state_dir(config: Config) -> None:
    """Create the state directory private to the user (0700), or check that it still is.

    It holds sign-in tokens and what the tool knows of the mailbox (docs/design.md invariant 6),
    so a folder that group or others may enter is refused rather than silently repaired: the
    user may have loosened it on purpose. Raises ConfigError naming the path and the fix.
    """
    path = config.state_dir
    try:
        path.mkdir(parents=True, mode=0o700)
    except FileExistsError:
        pass
    else:
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask; this is not
        return
    if not path.is_dir():
        raise ConfigError([f"state_dir: {path} exists and is not a folder"])
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError([
            f"state_dir: {path} is open to other users (mode {mode:04o}); it holds your "
            f"sign-in tokens and mail details, so it must be private. "
            f"Fix it with: chmod 700 {shlex.quote(str(path))}"
        ])


@contextmanager
def open_store(config: Config) -> Iterator[Store]:
    prepare_state_dir(config)
    store = Store(config.state_dir / DB_NAME)
    try:
        yield store
    finally:
        store.close()


def sync(config: Config, now: datetime, *, dry_run: bool = False) -> SyncReport:
    """One observe-plan-reconcile pass over every account. Raises LockHeldError."""
    if dry_run:
        return dry_run_sync(config, now)
    prepare_state_dir(config)
    with StateLock(config.state_dir):
        return sync_locked(config, now)


def dry_run_sync(config: Config, now: datetime) -> SyncReport:
    """``sync --dry-run``: the pass on a throwaway copy of the store, so that it writes
    nothing at all: no provider item, no observed fact or cursor, not even the state folder
    on a first run. Raises LockHeldError (a daemon may be writing the store)."""
    source = config.state_dir / DB_NAME
    with tempfile.TemporaryDirectory(prefix="inbox-followup-dry-run-") as tmp:
        copy = Path(tmp) / DB_NAME
        if source.exists():
            with StateLock(config.state_dir):
                _copy_db(source, copy)
        return sync_locked(config, now, dry_run=True, db_path=copy)


def _copy_db(source: Path, target: Path) -> None:
    # Not mode=ro: a read-only connection to a WAL database leaves -wal and -shm files
    # behind; this one only reads, and removes them as the last connection closes.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


# Accounts synced at once, per provider kind: HTTP accounts mostly wait on the network, so
# several overlap well; each provider's own limit (Graph: 4 requests per mailbox) still holds.
# Bounded so that 1,000 accounts do not open 1,000 connections to one API at once.
MAX_CONCURRENT_ACCOUNTS = {"local": 2, "google": 8, "microsoft": 8}
Opener = Callable[[AccountConfig, Config], Provider]


def sync_locked(config: Config, now: datetime, *, dry_run: bool = False,
                opener: Opener = open_provider, db_path: Path | None = None) -> SyncReport:
    """:func:`sync` for a caller that already holds the lock (the daemon).

    Accounts run in threads, at most :data:`MAX_CONCURRENT_ACCOUNTS` of each provider kind
    at a time, each with its own SQLite connection (WAL lets them write in turn) and its own
    provider from ``opener``; results come back in config order. One account failing, even
    by a bug, never stops the others. ``db_path`` replaces the state directory's database
    (a dry run's copy). Raises ConfigError (the state directory).
    """
    core = settings.settings(config, now)
    if db_path is None:
        prepare_state_dir(config)
        db_path = config.state_dir / DB_NAME
    Store(db_path).close()  # migrate once, before threads race to
    kinds = Counter(a.provider for a in config.accounts)
    pools = {
        kind: ThreadPoolExecutor(min(n, MAX_CONCURRENT_ACCOUNTS.get(kind, 1)),
                                 thread_name_prefix=f"sync-{kind}")
        for kind, n in kinds.items()
    }
    try:
        futures = [
            pools[a.provider].submit(_sync_one, config, a, core, now, dry_run, opener, db_path)
            for a in config.accounts
        ]
        return SyncReport([f.result() for f in futures])
    finally:
        for pool in pools.values():
            pool.shutdown(cancel_futures=True)


def _sync_one(config: Config, account: AccountConfig, core: Settings, now: datetime,
              dry_run: bool, opener: Opener, db_path: Path) -> engine.AccountResult:
    """One account's pass on its own store connection (a worker thread of sync_locked)."""
    with closing(Store(db_path)) as store:
        try:
            provider = opener(account, config)
        except ProviderError as exc:
            store.set_problems(account.name, [(account.name, str(exc))], now)
            return engine.AccountResult(account.name, ok=False, error=str(exc))
        try:
            return engine.sync_account(store, provider, account, config, core, now,
                                       dry_run=dry_run)
        except ConfigError:
            raise
        except Exception as exc:  # a bug in one account's pass must not cost the others
            log.exception("%s: the pass failed unexpectedly", account.name)
            error = f"internal error ({type(exc).__name__}); the log has the details"
            store.set_problems(account.name, [(account.name, error)], now)
            return engine.AccountResult(account.name, ok=False, error=error)


def plans(config: Config, now: datetime) -> list[tuple[AccountConfig, planner.Plan]]:
    """What every account looks like now, from the store alone (no provider call)."""
    core = settings.settings(config, now)
    with open_store(config) as store:
        return [
            (a, planner.plan(engine.snapshot(store, a, config), core, now))
            for a in config.accounts
        ]


def problems(config: Config) -> list[tuple[str, str, str]]:
    with open_store(config) as store:
        return store.problems()


def _all_interviews(store: Store, config: Config) -> list[tuple[AccountConfig, Interview]]:
    return [(a, iv) for a in config.accounts for iv in engine.interviews(store, a, config)]


def find_interview(store: Store, config: Config, ref: str) -> tuple[AccountConfig, Interview]:
    """An interview by id, id prefix, or company name (the latest of that company).

    Raises NotFoundError naming the candidates when ``ref`` is unknown or ambiguous.
    """
    found = _all_interviews(store, config)
    exact = [f for f in found if f[1].id == ref]
    by_prefix = [f for f in found if f[1].id.startswith(ref)] if len(ref) >= 4 else []
    by_company = sorted(
        (f for f in found if f[1].company.lower() == ref.strip().lower()),
        key=lambda f: f[1].start,
    )
    for candidates in (exact, by_prefix):
        if len(candidates) == 1:
            return candidates[0]
    if by_company:
        return by_company[-1]
    choices = ", ".join(f"{iv.id} ({iv.company}, {iv.start:%Y-%m-%d})" for _, iv in found[:10])
    if len(by_prefix) > 1:
        raise NotFoundError(f"'{ref}' matches several interviews: {choices}")
    raise NotFoundError(
        f"no interview '{ref}'" + (f"; known: {choices}" if choices else "; run `sync` first")
    )


def add_note(config: Config, ref: str, notes: Notes, now: datetime, *,
             text: str | None = None) -> Interview:
    """Merge ``notes``, and what free ``text`` says (read as if typed into the notes
    reminder), into what the user already gave for that interview."""
    if text:
        notes = parse_notes(text, reference=now.date()).merged(notes)
    with open_store(config) as store:
        _, iv = find_interview(store, config, ref)
        earlier = store.notes().get(iv.id, {}).get("cli", Notes())
        store.set_notes(iv.id, "cli", earlier.merged(notes), now)
        return iv


def set_override(config: Config, event_ref: str, action: str) -> tuple[str, str]:
    """Force (``track``) or veto (``ignore``) detection of an event by id, UID or title.

    Returns (event id or uid, title). Raises NotFoundError.
    """
    with open_store(config) as store:
        for account in config.accounts:
            events = store.events(account.name)
            exact = [e for e in events if event_ref in (e.id, e.uid)]
            titled = [e for e in events if event_ref.lower() in e.title.lower() and not e.key]
            if exact:
                store.set_override(account.name, event_ref, action)
                return event_ref, exact[0].title
            uids = {e.uid for e in titled}
            if len(uids) == 1:
                store.set_override(account.name, titled[0].uid, action)
                return titled[0].uid, titled[0].title
            if len(uids) > 1:
                names = "; ".join(sorted({f"{e.uid}: {e.title}" for e in titled})[:8])
                raise NotFoundError(f"'{event_ref}' matches several events: {names}")
    raise NotFoundError(f"no event with id, UID or title '{event_ref}' (run `sync` first)")


def set_outcome(config: Config, ref: str, outcome: Outcome, now: datetime) -> Interview:
    with open_store(config) as store:
        _, iv = find_interview(store, config, ref)
        store.set_outcome(iv.application_id, outcome, now)
        return iv


def purge(config: Config, now: datetime) -> tuple[int, int]:
    """Remove everything the tool created and still owns. Returns (removed, kept edited).

    Purged rows become ``dismissed`` so that a later sync does not put them back.
    """
    prepare_state_dir(config)
    removed = kept = 0
    with StateLock(config.state_dir), open_store(config) as store:
        for account in config.accounts:
            provider = open_provider(account, config)
            try:
                entries = [e for e in store.ledger(account.name).values()
                           if e.state in (LedgerState.LIVE, LedgerState.PENDING_CREATE,
                                          LedgerState.PENDING_UPDATE, LedgerState.PENDING_DELETE)]
                done = []
                for entry in entries:
                    gone = _purge_one(provider, entry)
                    removed += gone
                    kept += not gone
                    done.append(replace(entry, state=LedgerState.DISMISSED if gone
                                        else LedgerState.KEPT_EDITED, reason="purged"))
                store.put_ledger(done)
            finally:
                provider.close()
    return removed, kept


def _purge_one(provider: Provider, entry: LedgerEntry) -> bool:
    ref = provider.find_by_key(entry.key, entry.kind.is_draft)
    if ref is None:
        return True
    ref = ItemRef(entry.key, ref.provider_id, ref.thread_id or entry.thread_id, ref.message_id)
    if entry.kind.is_draft:
        snap = provider.get_draft(ref)
        if snap is not None and snap.fingerprint != entry.content_hash:
            return False
        provider.delete_draft(ref)
    else:
        provider.delete_event(ref)
    return True


def connect(config: Config, name: str, *, browser: bool, say: Callable[[str], None]) -> None:
    """Run the OAuth flow for a google/microsoft account. Raises NotFoundError, ConfigError."""
    account = next((a for a in config.accounts if a.name == name), None)
    if account is None:
        names = ", ".join(a.name for a in config.accounts)
        raise NotFoundError(f"no account '{name}' in the config (accounts: {names})")
    if account.provider == "local":
        raise NotFoundError(f"account '{name}' is local: it needs no connecting")
    prepare_state_dir(config)
    if account.provider == "google":
        from inbox_followup.providers.google import auth as google

        google.connect(account, config.state_dir, browser=browser, say=say)
    else:
        from inbox_followup.providers.microsoft import auth as microsoft

        microsoft.connect(account, config.state_dir, browser=browser, say=say)


__all__ = ["ItemError", "NotFoundError", "SyncReport"]
