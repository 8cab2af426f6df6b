"""The calendar half of the Microsoft provider: calendarView delta in, reminder events out.

- Interviews: ``GET /me/calendarView/delta`` over the sync window. v1.0 offers delta only on
  the primary calendar's calendar view; the window is given on the first request only, every
  later request is the stored ``@odata.deltaLink`` as a whole; ``$select``/``$expand``/
  ``$filter``/``$top`` are not supported there (https://learn.microsoft.com/graph/api/event-delta).
  Deleted occurrences come as ``{"id", "@removed"}``; an expired token as 410 or
  ``syncStateNotFound`` (https://learn.microsoft.com/graph/delta-query-overview), after which the
  window is read again in full. An occurrence of a series comes sparse (id, type,
  seriesMasterId, start, end); its subject and people are read from the master, once a round.
- Reminders: on a calendar the tool creates (``reminders_calendar``, default "Interview
  follow-ups") or on the default calendar ("primary"). Each is created with a
  ``transactionId`` (Graph drops a repeated POST carrying the same one:
  https://learn.microsoft.com/graph/api/resources/event) and the key in a single-value
  extended property. Notes the user types into a reminder come back: on the default calendar
  through the delta (the transactionId carries the key, since delta cannot ``$expand``); on
  the dedicated calendar through one ``lastModifiedDateTime gt`` query per sync.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import Artifact, CalendarEvent, CalendarPage, ItemRef, SyncWindow
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.providers.cursor import dump_cursor, load_cursor
from inbox_followup.providers.microsoft.events import event_from_graph, key_from_transaction, reminder_body
from inbox_followup.providers.microsoft.graph import (
    JSON,
    KEY_EXPAND,
    KEY_PROPERTY,
    AmbiguousWriteError,
    GraphClient,
    GraphError,
    key_filter,
    utc_iso,
)

log = logging.getLogger(__name__)

PRIMARY = "primary"  # CalendarEvent.source of the user's own events
REMINDERS = "reminders"  # source of the reminders on the dedicated calendar
PAGE_SIZE = 1000  # Prefer: odata.maxpagesize; the service may send smaller pages
WINDOW_SLACK = timedelta(days=14)  # the delta window reaches this far past window.end
REMINDERS_EVERY = 5  # passes between queries of the reminders calendar (typed notes)
REMINDER_FIELDS = "id,subject,body,start,end,lastModifiedDateTime,transactionId"
# calendarView delta sends an occurrence of a series as id, type, seriesMasterId, start and end
# only (microsoftgraph/microsoft-graph-docs-contrib issue #34, "/delta seems not to return a
# full event for type occurrence"); the rest is the series master's, read once per round.
SERIES_FIELDS = (
    "subject", "body", "organizer", "attendees", "location", "isAllDay", "isCancelled",
    "isOrganizer", "responseStatus", "transactionId",
)


class GraphCalendar:
    """Calendar reads and reminder writes for one account."""

    def __init__(self, client: GraphClient, account: AccountConfig) -> None:
        self._client = client
        own = [account.address, *account.aliases]
        self._addresses = tuple(dict.fromkeys(a.strip().lower() for a in own))
        self._calendar_name = account.reminders_calendar.strip()
        self._on_primary = self._calendar_name.casefold() in ("primary", "default", "")
        self._reminder_calendar: str | None = None

    # --- reading ------------------------------------------------------------------------------

    def changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        """Changed events since ``cursor``; a full read of ``window`` without one.

        Raises ProviderError (AuthError when refused).
        """
        state = load_cursor(cursor, f"{self._client.account}: calendar")
        if not state.get("delta") or not _covers(state, window):
            return self._full(window)
        try:
            found, removed, link = self._delta(state["delta"], None)
        except GraphError as exc:
            if not exc.sync_state_gone:
                raise
            log.info("%s: calendar delta expired; reading the window again", self._client.account)
            return self._full(window)
        events = list(found)
        rem = state.get("rem") or {}
        # Graph has delta only on the primary calendar; the reminders calendar, where typed
        # notes come back from, costs a query of its own, so it is asked every
        # REMINDERS_EVERY-th pass: an idle poll stays at the 3 deltas polling needs.
        passes = int(state.get("n", 0))
        if not self._on_primary and not passes % REMINDERS_EVERY:
            more, rem = self._reminder_changes(rem.get("cal"), rem.get("since"))
            events.extend(more)
        new_state = {**state, "delta": link, "rem": rem, "n": passes + 1}
        return CalendarPage(tuple(events), dump_cursor(new_state), removed_ids=tuple(removed))

    def _full(self, window: SyncWindow) -> CalendarPage:
        end = window.end + WINDOW_SLACK
        params = {"startDateTime": utc_iso(window.start), "endDateTime": utc_iso(end)}
        found, _, link = self._delta("me/calendarView/delta", params)
        events = list(found)
        replaced = {PRIMARY}
        rem: dict[str, Any] = {}
        if not self._on_primary:
            more, rem = self._reminder_changes(None, None)
            events.extend(more)
            replaced.add(REMINDERS)
        state = {
            "delta": link, "start": window.start.isoformat(), "end": end.isoformat(),
            "rem": rem, "n": 1,
        }
        return CalendarPage(tuple(events), dump_cursor(state), replaced_sources=frozenset(replaced))

    def _delta(
        self, url: str, params: dict[str, str] | None
    ) -> tuple[list[CalendarEvent], list[str], str]:
        seen: dict[str, CalendarEvent | None] = {}
        sources: dict[str, JSON | None] = {}  # series masters (or sparse items) read this round
        link: str | None = None
        prefer = (f"odata.maxpagesize={PAGE_SIZE}",)
        for page in self._client.pages(url, params, prefer=prefer):
            for item in page.get("value") or ():
                event_id = str(item.get("id", ""))
                if not event_id:
                    continue
                if "@removed" in item:
                    seen[event_id] = None  # a replay may repeat an id: the last word wins
                    continue
                item = self._complete(item, sources)
                if item is None:
                    seen[event_id] = None  # its series went away while we read
                    continue
                try:
                    seen[event_id] = event_from_graph(item, self._addresses, PRIMARY)
                except ItemError as exc:
                    log.warning("%s: skipped: %s", self._client.account, exc)
            link = page.get("@odata.deltaLink") or link
        if not link:
            raise ProviderError("calendar delta ended without a deltaLink")
        events = [e for e in seen.values() if e is not None]
        return events, [i for i, e in seen.items() if e is None], link

    def _complete(self, item: JSON, sources: dict[str, JSON | None]) -> JSON | None:
        """A sparse delta entry with the fields it lacks: an occurrence's from its series
        master, anything else's from a GET of itself. None when that source is gone."""
        if "subject" in item and "organizer" in item:
            return item  # a full entry: a GET per event would cost a full sync dearly
        source_id = str(item.get("seriesMasterId") or item["id"])
        if source_id not in sources:
            params = {"$select": ",".join(SERIES_FIELDS)}
            try:
                sources[source_id] = self._client.request(
                    "GET", f"me/events/{source_id}", params=params
                )
            except GraphError as exc:
                if not exc.missing:
                    raise  # unknown, not empty: the round fails and is read again later
                sources[source_id] = None
        source = sources[source_id]
        if source is None:
            return None
        return {**{k: source[k] for k in SERIES_FIELDS if k in source}, **item}

    def _reminder_changes(
        self, calendar_id: str | None, since: str | None
    ) -> tuple[list[CalendarEvent], dict[str, Any]]:
        """Reminders on the dedicated calendar modified after ``since`` (all when None)."""
        calendar_id = calendar_id or self._find_calendar()
        if calendar_id is None:
            return [], {}  # not created yet: nothing of ours to read
        self._reminder_calendar = calendar_id
        params = {"$select": REMINDER_FIELDS, "$expand": KEY_EXPAND, "$top": "200"}
        if since:
            params["$filter"] = f"lastModifiedDateTime gt {since}"
        events: list[CalendarEvent] = []
        latest = since
        try:
            for page in self._client.pages(f"me/calendars/{calendar_id}/events", params):
                for item in page.get("value") or ():
                    stamp = str(item.get("lastModifiedDateTime") or "")
                    latest = max(latest or stamp, stamp)
                    event = self._keyed(item)
                    if event is not None:
                        events.append(event)
        except GraphError as exc:
            if not exc.missing:
                raise
            log.info("%s: the reminders calendar is gone", self._client.account)
            self._reminder_calendar = None
            return [], {}
        return events, {"cal": calendar_id, "since": latest}

    def _keyed(self, item: JSON) -> CalendarEvent | None:
        try:
            event = event_from_graph(item, self._addresses, REMINDERS)
        except ItemError as exc:
            log.warning("%s: skipped: %s", self._client.account, exc)
            return None
        return event if event.key else None

    # --- writing ------------------------------------------------------------------------------

    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create or update the reminder for ``artifact``. Raises ProviderError, ItemError."""
        body = reminder_body(artifact)
        known = existing.provider_id if existing is not None else ""
        if known and self._patch(known, body):
            return ItemRef(artifact.key, known)
        found = self.find(artifact.key)
        if found is not None and self._patch(found.provider_id, body):
            return found
        # A fresh transactionId per call: a retried POST is dropped by Graph, while a reminder
        # that is created again after being deleted is never matched to the deleted one.
        body["transactionId"] = f"{artifact.key}#{uuid.uuid4().hex[:12]}"
        body["singleValueExtendedProperties"] = [{"id": KEY_PROPERTY, "value": artifact.key}]
        base = self._events_base(create=True)
        if base is None:  # pragma: no cover - create=True always yields a calendar
            raise ProviderError("no calendar for reminders")
        created = self._client.request("POST", f"{base}/events", body=body)
        return ItemRef(artifact.key, str(created["id"]))

    def _patch(self, event_id: str, body: JSON) -> bool:
        try:
            self._client.request("PATCH", f"me/events/{event_id}", body=body)
        except GraphError as exc:
            if exc.missing:
                return False
            raise
        return True

    def delete(self, ref: ItemRef) -> None:
        """Delete a reminder; one already gone is fine. Raises ProviderError."""
        try:
            self._client.request("DELETE", f"me/events/{ref.provider_id}")
        except GraphError as exc:
            if not exc.missing:
                raise

    def find(self, key: str) -> ItemRef | None:
        """The reminder tagged with ``key``. Raises ProviderError."""
        base = self._events_base(create=False)
        if base is None:
            return None
        params = {"$filter": key_filter(key), "$select": "id", "$top": "5"}
        data = self._client.request("GET", f"{base}/events", params=params)
        for item in data.get("value") or ():
            return ItemRef(key, str(item["id"]))
        return None

    def _events_base(self, *, create: bool) -> str | None:
        if self._on_primary:
            return "me/calendar"
        calendar_id = self._reminder_calendar or self._find_calendar()
        if calendar_id is None and create:
            calendar_id = self._create_calendar()
        self._reminder_calendar = calendar_id
        return f"me/calendars/{calendar_id}" if calendar_id else None

    def _find_calendar(self) -> str | None:
        params = {"$select": "id,name", "$top": "100"}
        for page in self._client.pages("me/calendars", params):
            for item in page.get("value") or ():
                if str(item.get("name", "")).strip().casefold() == self._calendar_name.casefold():
                    return str(item["id"])
        return None

    def _create_calendar(self) -> str:
        body = {"name": self._calendar_name}
        try:
            created = self._client.request("POST", "me/calendars", body=body, idempotent=False)
            return str(created["id"])
        except (AmbiguousWriteError, GraphError) as exc:
            if isinstance(exc, GraphError) and exc.status != 409:
                raise
            found = self._find_calendar()  # made by the first attempt, or by the user
            if found is None:
                raise
            return found



def _covers(state: dict[str, Any], window: SyncWindow) -> bool:
    """Whether the delta round's window still holds ``window`` (else: start a new round)."""
    try:
        start = datetime.fromisoformat(state["start"])
        end = datetime.fromisoformat(state["end"])
    except (KeyError, TypeError, ValueError):
        return False
    return start <= window.start and window.end <= end


__all__ = [
    "PRIMARY", "REMINDERS", "GraphCalendar", "event_from_graph", "key_from_transaction",
]
