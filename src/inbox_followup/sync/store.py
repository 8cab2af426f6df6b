"""SQLite state: observed facts and cursors (a cache) and the action ledger (authoritative).

Facts (events, messages) and cursors can be thrown away and rebuilt by a full sync. The ledger
records what the tool did to the user's calendar and mailbox, and the user's own inputs (notes,
track/ignore, outcomes) live beside it; neither can be rebuilt, so they are never dropped.
A provider page and its cursor are written in one transaction (docs/design.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from inbox_followup.core.model import (
    ArtifactKind,
    CalendarEvent,
    CalendarPage,
    LedgerEntry,
    LedgerState,
    MailMessage,
    MailPage,
    Notes,
    Outcome,
)
from inbox_followup.sync import codec

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cursors (account TEXT, kind TEXT, value TEXT, PRIMARY KEY (account, kind));
    CREATE TABLE events (account TEXT, id TEXT, source TEXT, data TEXT, PRIMARY KEY (account, id));
    CREATE TABLE messages (account TEXT, id TEXT, data TEXT, PRIMARY KEY (account, id));
    CREATE TABLE notes (interview_id TEXT, source TEXT, data TEXT, updated TEXT,
                        PRIMARY KEY (interview_id, source));
    CREATE TABLE overrides (account TEXT, event_ref TEXT, action TEXT,
                            PRIMARY KEY (account, event_ref));
    CREATE TABLE outcomes (application_id TEXT PRIMARY KEY, outcome TEXT, at TEXT);
    CREATE TABLE ledger (
        key TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL,
        interview_id TEXT NOT NULL, application_id TEXT NOT NULL, recipient TEXT,
        due TEXT NOT NULL, state TEXT NOT NULL, content_hash TEXT NOT NULL,
        provider_id TEXT, thread_id TEXT, message_id TEXT, created_at TEXT, reason TEXT);
    CREATE INDEX ledger_account ON ledger (account);
    CREATE TABLE problems (account TEXT, place TEXT, message TEXT, at TEXT);
    """,
    "ALTER TABLE ledger ADD COLUMN inputs TEXT",
)

LEDGER_COLUMNS = (
    "key, account, kind, interview_id, application_id, recipient, due, state, content_hash, "
    "provider_id, thread_id, message_id, created_at, reason, inputs"
)


class Store:
    """One SQLite database in the state directory. Not shared between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a row marked applied must survive a power cut, or a retry duplicates.
        self.db.execute("PRAGMA synchronous=FULL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction() as db:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    # --- cursors and observed facts -------------------------------------------------------

    def cursor(self, account: str, kind: str) -> str | None:
        row = self.db.execute(
            "SELECT value FROM cursors WHERE account=? AND kind=?", (account, kind)
        ).fetchone()
        return row[0] if row else None

    def _set_cursor(self, db: sqlite3.Connection, account: str, kind: str, value: str | None) -> None:
        db.execute(
            "INSERT OR REPLACE INTO cursors (account, kind, value) VALUES (?, ?, ?)",
            (account, kind, value),
        )

    def apply_calendar_page(
        self, account: str, page: CalendarPage, keep: frozenset[str] = frozenset()
    ) -> None:
        """Store a page of calendar changes and its cursor atomically. ``keep``: ids of
        stored events that a complete source must not drop (see engine.aged_out)."""
        with self.transaction() as db:
            for source in page.replaced_sources:
                rows = db.execute("SELECT id FROM events WHERE account=? AND source=?", (account, source))
                db.executemany(
                    "DELETE FROM events WHERE account=? AND id=?",
                    [(account, r[0]) for r in rows.fetchall() if r[0] not in keep],
                )
            db.executemany(
                "DELETE FROM events WHERE account=? AND id=?",
                [(account, i) for i in page.removed_ids],
            )
            db.executemany(
                "INSERT OR REPLACE INTO events (account, id, source, data) VALUES (?, ?, ?, ?)",
                [(account, e.id, e.source, codec.dump_event(e)) for e in page.events],
            )
            self._set_cursor(db, account, "calendar", page.cursor)

    def apply_mail_page(self, account: str, page: MailPage) -> None:
        """Store a page of message headers and its cursor atomically."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO messages (account, id, data) VALUES (?, ?, ?)",
                [(account, m.id, codec.dump_message(m)) for m in page.messages],
            )
            self._set_cursor(db, account, "mail", page.cursor)

    def events(self, account: str, source: str | None = None) -> list[CalendarEvent]:
        """The account's stored events; only those read from ``source`` when given."""
        if source is None:
            rows = self.db.execute("SELECT data FROM events WHERE account=?", (account,))
        else:
            rows = self.db.execute("SELECT data FROM events WHERE account=? AND source=?",
                                   (account, source))
        return [codec.load_event(r[0]) for r in rows]

    def messages(self, account: str) -> list[MailMessage]:
        rows = self.db.execute("SELECT data FROM messages WHERE account=?", (account,))
        return [codec.load_message(r[0]) for r in rows]

    # --- the user's own inputs --------------------------------------------------------------

    def notes(self) -> dict[str, dict[str, Notes]]:
        out: dict[str, dict[str, Notes]] = {}
        for iid, source, data in self.db.execute("SELECT interview_id, source, data FROM notes"):
            out.setdefault(iid, {})[source] = codec.load_notes(data)
        return out

    def set_notes(self, interview_id: str, source: str, notes: Notes, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO notes (interview_id, source, data, updated) "
                "VALUES (?, ?, ?, ?)",
                (interview_id, source, codec.dump_notes(notes), at.isoformat()),
            )

    def overrides(self, account: str) -> dict[str, str]:
        rows = self.db.execute("SELECT event_ref, action FROM overrides WHERE account=?", (account,))
        return {ref: action for ref, action in rows}

    def set_override(self, account: str, event_ref: str, action: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO overrides (account, event_ref, action) VALUES (?, ?, ?)",
                (account, event_ref, action),
            )

    def outcomes(self) -> dict[str, tuple[Outcome, datetime]]:
        rows = self.db.execute("SELECT application_id, outcome, at FROM outcomes")
        return {a: (Outcome(o), datetime.fromisoformat(at)) for a, o, at in rows}

    def set_outcome(self, application_id: str, outcome: Outcome, at: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO outcomes (application_id, outcome, at) VALUES (?, ?, ?)",
                (application_id, outcome.value, at.isoformat()),
            )

    # --- the ledger ---------------------------------------------------------------------

    def ledger_interviews(self, account: str) -> set[str]:
        """The interview ids the account's ledger has rows for."""
        rows = self.db.execute("SELECT DISTINCT interview_id FROM ledger WHERE account=?", (account,))
        return {r[0] for r in rows}

    def ledger(self, account: str | None = None) -> dict[str, LedgerEntry]:
        query = f"SELECT {LEDGER_COLUMNS} FROM ledger"
        rows = (
            self.db.execute(query + " WHERE account=?", (account,))
            if account is not None
            else self.db.execute(query)
        )
        return {row[0]: _entry(row) for row in rows}

    def put_ledger(self, entries: Iterable[LedgerEntry]) -> None:
        """Write ledger rows in one transaction (the reconciler's pending/applied steps)."""
        with self.transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO ledger ({LEDGER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_row(e) for e in entries],
            )

    # --- problems of the last pass, for `status` -------------------------------------------

    def set_problems(self, account: str, problems: Iterable[tuple[str, str]], at: datetime) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM problems WHERE account=?", (account,))
            db.executemany(
                "INSERT INTO problems (account, place, message, at) VALUES (?, ?, ?, ?)",
                [(account, place, msg, at.isoformat()) for place, msg in problems],
            )

    def problems(self) -> list[tuple[str, str, str]]:
        rows = self.db.execute("SELECT account, place, message FROM problems ORDER BY rowid")
        return [(a, p, m) for a, p, m in rows]


def _row(e: LedgerEntry) -> tuple[object, ...]:
    return (
        e.key, e.account, e.kind.value, e.interview_id, e.application_id, e.recipient,
        e.due.isoformat(), e.state.value, e.content_hash, e.provider_id, e.thread_id,
        e.message_id, e.created_at.isoformat() if e.created_at else None, e.reason, e.inputs,
    )


def _entry(row: tuple[object, ...]) -> LedgerEntry:
    (key, account, kind, iid, app, recipient, due, state, chash, pid, tid, mid, created, reason,
     inputs) = row
    return LedgerEntry(
        key=str(key), account=str(account), kind=ArtifactKind(str(kind)),
        interview_id=str(iid), application_id=str(app),
        recipient=str(recipient) if recipient is not None else None,
        due=datetime.fromisoformat(str(due)), state=LedgerState(str(state)), content_hash=str(chash),
        provider_id=str(pid) if pid is not None else None,
        thread_id=str(tid) if tid is not None else None,
        message_id=str(mid) if mid is not None else None,
        created_at=datetime.fromisoformat(str(created)) if created else None,
        reason=str(reason) if reason is not None else None,
        inputs=str(inputs) if inputs is not None else None,
    )
