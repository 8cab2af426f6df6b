"""The calendar half of the Google provider: interviews in, reminder events out.

Reading (docs/api-notes.md 1.1-1.2): ``events.list`` on the primary calendar with
``singleEvents=true`` (one item per occurrence, instance ids stable), no time window (a
windowed list cannot be continued with a ``syncToken``), ``maxResults=2500`` (the cap),
following ``nextPageToken`` to the last page, which alone carries ``nextSyncToken``. Later
reads pass that ``syncToken``; a 410 means it expired: the next read is a full one and the page
says so in ``replaced_sources``. Cancelled items come back with little but their id and become
``removed_ids``.

Writing (docs/api-notes.md 1.3): reminders go on a calendar the tool creates (scope
``calendar.app.created``; its id is remembered in ``state_dir/google/NAME.calendars.json``,
because that scope cannot list calendars) or, with ``reminders_calendar: primary``, on the
primary calendar. Each event has a deterministic id, base32hex of a hash of its key, so a
second insert answers 409 instead of duplicating, and carries the key in
``extendedProperties.private``. The reminders calendar is read with its own sync token, so
notes the user types into a notes reminder's description come back.

The cursor is JSON: ``{"p": primary sync token, "r": reminders sync token, "rc": its id}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import Artifact, Attendee, CalendarEvent, CalendarPage, ItemRef, SyncWindow
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.providers.cursor import dump_cursor, load_cursor
from inbox_followup.providers.google.api import GoogleApi

log = logging.getLogger(__name__)

Json = dict[str, Any]
PRIMARY_SOURCE = "primary"
REMINDERS_SOURCE = "reminders"
KEY_PROPERTY = "ifu_key"  # extended-property keys over 44 characters are dropped by Google
PAGE_SIZE = 2500  # events.list maxResults cap (discovery document)
REMINDER_LENGTH = timedelta(minutes=15)
REMINDERS_EVERY = 5  # passes between reads of the reminders calendar (notes typed there)
PARTSTAT = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE",
            "needsAction": "NEEDS-ACTION"}


class _SyncTokenGone(Exception):
    """The calendar answered 410: the sync token expired; read everything again."""


class _CalendarGone(Exception):
    """The calendar answered 404: it was deleted (the user removed the reminders calendar)."""


@dataclass
class _Read:
    events: list[CalendarEvent]
    removed: list[str]
    token: str
    full: bool


def event_id_for(key: str) -> str:
    """A valid client-chosen event id for ``key``: base32hex (0-9, a-v), 32 characters."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()[:20]
    return base64.b32hexencode(digest).decode("ascii").lower().rstrip("=")


class GoogleCalendar:
    """Calendar reads and reminder writes for :class:`~.google.GoogleProvider`. Every method
    raises ProviderError (or AuthError) when Google cannot be reached or refuses; ``put`` also
    raises ItemError for an artifact that cannot be written as an event."""

    def __init__(self, api: GoogleApi, account: AccountConfig, state_dir: Path) -> None:
        self.api = api
        self.service = api.calendar
        self.addresses = frozenset(a.lower() for a in account.addresses)
        self.on_primary = account.reminders_calendar.strip().lower() == "primary"
        self.reminders_name = account.reminders_calendar
        self.state_file = state_dir / "google" / f"{account.name}.calendars.json"
        self._reminders_id: str | None = "primary" if self.on_primary else None

    # --- reading -----------------------------------------------------------------------------

    def changes(self, cursor: str | None, window: SyncWindow) -> CalendarPage:
        state = load_cursor(cursor, f"{self.api.account}: calendar")
        primary = self._sync("primary", state.get("p"), PRIMARY_SOURCE, window)
        events, removed = primary.events, primary.removed
        replaced = {PRIMARY_SOURCE} if primary.full else set()
        new_state: Json = {"p": primary.token}
        rid = None if self.on_primary else self._calendar_id(create=False)
        # The reminders calendar is only where typed notes come back from, so it is read on
        # every REMINDERS_EVERY-th pass: an idle poll costs the 2 requests polling needs.
        passes = int(state.get("n", 0))
        if rid is not None and cursor is not None and state.get("rc") == rid \
                and passes % REMINDERS_EVERY:
            new_state.update(r=state.get("r"), rc=rid, n=passes + 1)
        elif rid is not None:
            new_state["n"] = 1
            token = state.get("r") if state.get("rc") == rid else None
            try:
                rem = self._sync(rid, token, REMINDERS_SOURCE, window)
            except _CalendarGone:
                log.warning("%s: the reminders calendar was deleted", self.api.account)
                self._forget_calendar()
                replaced.add(REMINDERS_SOURCE)
            else:
                events, removed = events + rem.events, removed + rem.removed
                replaced |= {REMINDERS_SOURCE} if rem.full else set()
                new_state.update(r=rem.token, rc=rid)
        return CalendarPage(tuple(events), dump_cursor(new_state), tuple(removed),
                            frozenset(replaced))

    def _sync(self, calendar_id: str, token: str | None, source: str, window: SyncWindow) -> _Read:
        if token:
            try:
                return self._list(calendar_id, token, source, None)
            except _SyncTokenGone:
                log.info("%s: %s sync token expired; reading it all again", self.api.account,
                         source)
        try:
            return self._list(calendar_id, None, source, window)
        except _SyncTokenGone:  # no sync token to drop: a failed read like any other
            raise ProviderError(f"{self.api.account}: calendar.events.list failed: HTTP 410 "
                                "on a full read") from None

    def _list(self, calendar_id: str, token: str | None, source: str,
              window: SyncWindow | None) -> _Read:
        """Every page of one listing. ``window`` filters a full read (an incremental one
        keeps everything, so that an event moved out of the window is not left stale)."""
        out = _Read([], [], "", full=token is None)
        params: Json = {"calendarId": calendar_id, "singleEvents": True, "maxResults": PAGE_SIZE}
        if token:
            params["syncToken"] = token
        last: Json = {}
        for status, body in self.api.pages(self.service.events().list, "calendar.events.list",
                                           params, allow=(404, 410)):
            if status == 410:
                raise _SyncTokenGone()
            if status == 404:
                raise _CalendarGone() if calendar_id != "primary" else ProviderError(
                    f"{self.api.account}: the primary calendar was not found")
            zone = _zone(body.get("timeZone"))
            for item in body.get("items", []):
                self._take(item, zone, source, window, out)
            last = body
        out.token = str(last.get("nextSyncToken") or "")  # only the last page carries it
        if not out.token:
            raise ProviderError(f"{self.api.account}: the last events page had no sync token")
        return out

    def _take(self, item: Json, zone: ZoneInfo, source: str, window: SyncWindow | None,
              out: _Read) -> None:
        if item.get("status") == "cancelled":
            out.removed.append(str(item["id"]))
            return
        try:
            event = self._event(item, zone, source)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("%s: event %s skipped: unreadable (%s)", self.api.account,
                        item.get("id"), type(exc).__name__)
            return
        if window is None or (event.end > window.start and event.start < window.end):
            out.events.append(event)

    def _event(self, item: Json, zone: ZoneInfo, source: str) -> CalendarEvent:
        start, all_day = _when(item["start"], zone)
        end, _ = _when(item.get("end") or item["start"], zone)
        organizer = self._person(item["organizer"]) if item.get("organizer") else None
        attendees = tuple(self._person(a) for a in item.get("attendees", []) if a.get("email"))
        key = item.get("extendedProperties", {}).get("private", {}).get(KEY_PROPERTY)
        return CalendarEvent(
            id=str(item["id"]), uid=str(item.get("iCalUID") or item["id"]),
            title=str(item.get("summary", "")), start=start, end=max(end, start), source=source,
            description=str(item.get("description", "")), location=str(item.get("location", "")),
            all_day=all_day, status=str(item.get("status", "confirmed")).upper(),
            organizer=organizer, attendees=attendees, key=key,
        )

    def _person(self, p: Json) -> Attendee:
        email = str(p.get("email", "")).strip().lower()
        if p.get("resource"):
            cutype = "ROOM" if email.endswith("@resource.calendar.google.com") else "RESOURCE"
        else:
            cutype = "INDIVIDUAL"
        return Attendee(
            email=email, name=p.get("displayName") or None, cutype=cutype,
            partstat=PARTSTAT.get(str(p.get("responseStatus", "")), "NEEDS-ACTION"),
            is_self=bool(p.get("self")) or email in self.addresses,
        )

    # --- the reminders calendar --------------------------------------------------------------

    def _calendar_id(self, *, create: bool) -> str | None:
        if self._reminders_id is not None:
            return self._reminders_id
        try:
            saved = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict) and saved.get("summary") == self.reminders_name and saved.get("id"):
            self._reminders_id = str(saved["id"])
            return self._reminders_id
        if not create:
            return None
        body = {"summary": self.reminders_name,
                "description": "Follow-up reminders written by inbox-followup. "
                               "Deleting this calendar removes all of them."}
        # Not idempotent: a create that timed out but succeeded leaves a spare empty calendar.
        _, made = self.api.call(self.service.calendars().insert(body=body),
                                "calendar.calendars.insert")
        self._reminders_id = str(made["id"])
        self._save_calendar(self._reminders_id)
        log.info("%s: created the calendar %r", self.api.account, self.reminders_name)
        return self._reminders_id

    def _save_calendar(self, calendar_id: str) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"summary": self.reminders_name, "id": calendar_id}))
        os.replace(tmp, self.state_file)

    def _forget_calendar(self) -> None:
        if self.on_primary:
            return
        self._reminders_id = None
        self.state_file.unlink(missing_ok=True)

    # --- writing -----------------------------------------------------------------------------

    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        body = _event_body(artifact)
        events = self.service.events()
        for _ in range(2):  # a second round after re-creating a deleted reminders calendar
            cid = self._calendar_id(create=True)
            assert cid is not None
            if existing is not None:
                status, got = self.api.call(
                    events.update(calendarId=cid, eventId=existing.provider_id, body=body),
                    "calendar.events.update", allow=(404,))
                if status == 200:
                    return ItemRef(artifact.key, str(got["id"]))
            status, got = self.api.call(events.insert(calendarId=cid, body=body),
                                        "calendar.events.insert", allow=(404, 409))
            if status == 409:  # already there (a retry, or a crash before the ledger knew)
                status, got = self.api.call(
                    events.update(calendarId=cid, eventId=body["id"], body=body),
                    "calendar.events.update")
            if status == 200:
                return ItemRef(artifact.key, str(got["id"]))
            self._forget_calendar()
        raise ProviderError(f"{self.api.account}: the reminders calendar keeps disappearing")

    def delete(self, ref: ItemRef) -> None:
        cid = self._calendar_id(create=False)
        if cid is None:
            log.warning("%s: no reminders calendar known; %s not deleted", self.api.account,
                        ref.key)
            return
        self.api.call(self.service.events().delete(calendarId=cid, eventId=ref.provider_id),
                      "calendar.events.delete", allow=(404, 410))

    def find(self, key: str) -> ItemRef | None:
        cid = self._calendar_id(create=False)
        if cid is None:
            return None
        status, got = self.api.call(
            self.service.events().get(calendarId=cid, eventId=event_id_for(key)),
            "calendar.events.get", allow=(404, 410))
        if status != 200 or got.get("status") == "cancelled":
            return None
        if got.get("extendedProperties", {}).get("private", {}).get(KEY_PROPERTY) != key:
            return None
        return ItemRef(key, str(got["id"]))


def _event_body(artifact: Artifact) -> Json:
    r = artifact.reminder
    if r is None:
        raise ItemError(artifact.key, "a reminder artifact without reminder content")
    if len(artifact.key) > 1024:  # Google would cut the value silently (docs/api-notes.md 1.3)
        raise ItemError(artifact.key, "artifact key too long for a Google extended property")
    if r.start.tzinfo is None:  # Google needs an offset or a timeZone (EventDateTime)
        raise ItemError(artifact.key, "a reminder time without a time zone")
    start = r.start.replace(microsecond=0)
    return {
        "id": event_id_for(artifact.key),
        "summary": r.title,
        "description": r.description,
        "start": _when_json(start),
        "end": _when_json(start + REMINDER_LENGTH),
        "status": "confirmed",
        "transparency": "transparent",  # a reminder, not a meeting: it does not make you busy
        "reminders": {"useDefault": False,
                      "overrides": [{"method": "popup", "minutes": max(0, min(r.minutes, 40320))}]},
        "extendedProperties": {"private": {KEY_PROPERTY: artifact.key}},
    }


def _when_json(when: datetime) -> Json:
    out: Json = {"dateTime": when.isoformat()}
    zone = getattr(when.tzinfo, "key", None)
    if zone:
        out["timeZone"] = zone
    return out


def _when(value: Json, zone: ZoneInfo) -> tuple[datetime, bool]:
    if value.get("date"):
        return datetime.combine(date.fromisoformat(value["date"]), time(0), zone), True
    when = datetime.fromisoformat(str(value["dateTime"]))
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone(value.get("timeZone")) if value.get("timeZone") else zone)
    return when, False


def _zone(name: object) -> ZoneInfo:
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")



