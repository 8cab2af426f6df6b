"""In-memory model of Google Calendar v3 for the loopback fake (see google_fake.py).

What it keeps like the real service (citations in docs/api-notes.md section 1):
calendars with ids, events with etags and a change sequence, deleted events kept as
``status: cancelled`` tombstones (so re-inserting their id answers 409), client-chosen ids
checked against base32hex, sync tokens on the last page only that expire on demand (410),
the parameters Google refuses together with ``syncToken`` (400), ``singleEvents`` expansion of
simple RRULEs into instances, extended-property limits (long keys dropped, long values cut),
and write access to the primary calendar only with a scope that grants it.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from .google_calendar_time import in_range, parse_when, rrule_starts, when_json
from .google_discovery import FakeError, bad_request

Json = dict[str, Any]
Handler = Callable[[dict[str, str], dict[str, Any], Any], tuple[int, Json | None]]

S = "https://www.googleapis.com/auth/"
APP_CREATED = S + "calendar.app.created"
WRITE_ANY = {S + "calendar", S + "calendar.events", S + "calendar.events.owned"}
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
SYNC_FORBIDDEN = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                  "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")
MAX_PAGE = 2500
FAKE_NOW = "2026-01-01T00:00:00.000Z"


@dataclass
class FakeCalendar:
    id: str
    summary: str
    time_zone: str
    app_created: bool
    events: dict[str, Json] = field(default_factory=dict)  # masters, singles, exceptions
    seqs: dict[str, int] = field(default_factory=dict)


def _b64(obj: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode()


def _unb64(token: str) -> Json | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class CalendarModel:
    """The calendars of one user. Handlers take (path params, typed query, body)."""

    def __init__(self, owner: str, scopes: set[str], time_zone: str = "UTC") -> None:
        self.owner = owner
        self.scopes = scopes
        self.calendars = {owner: FakeCalendar(owner, owner, time_zone, app_created=False)}
        self.seq = 0
        self.epoch = 0
        self._ids = itertools.count(1)

    def handlers(self) -> dict[str, Handler]:
        return {
            "calendar.events.list": self.events_list,
            "calendar.events.get": self.events_get,
            "calendar.events.insert": self.events_insert,
            "calendar.events.update": self.events_update,
            "calendar.events.patch": self.events_patch,
            "calendar.events.delete": self.events_delete,
            "calendar.calendars.insert": self.calendars_insert,
            "calendar.calendars.get": self.calendars_get,
            "calendar.calendars.delete": self.calendars_delete,
        }

    # --- helpers the tests (the "user") call directly ----------------------------------------

    def calendar(self, calendar_id: str) -> FakeCalendar:
        cal = self.calendars.get(self.owner if calendar_id == "primary" else calendar_id)
        if cal is None:
            raise FakeError(404, "notFound", "Not Found")
        return cal

    def user_put(self, calendar_id: str, event: Json) -> Json:
        """An event appears (typed in by the user, or an invitation): any id is fine."""
        cal = self.calendar(calendar_id)
        ev = dict(event)
        ev.setdefault("id", f"u{next(self._ids):09d}")
        old = cal.events.get(ev["id"], {})
        ev.setdefault("status", "confirmed")
        ev.setdefault("iCalUID", old.get("iCalUID", f"{ev['id']}@google.com"))
        ev.setdefault("created", FAKE_NOW)
        ev["kind"] = "calendar#event"
        cal.events[ev["id"]] = ev
        self._stamp(cal, ev)
        return ev

    def user_patch(self, calendar_id: str, event_id: str, fields: Json) -> Json:
        cal = self.calendar(calendar_id)
        ev = cal.events[event_id]
        ev.update(fields)
        self._stamp(cal, ev)
        return ev

    def user_delete(self, calendar_id: str, event_id: str) -> None:
        """The user deletes an event, or one occurrence of a series."""
        self._delete(self.calendar(calendar_id), event_id)

    def expire_sync_tokens(self) -> None:
        self.epoch += 1

    def live_events(self, calendar_id: str) -> list[Json]:
        cal = self.calendar(calendar_id)
        return [e for e in cal.events.values() if e.get("status") != "cancelled"]

    def app_calendars(self) -> list[FakeCalendar]:
        return [c for c in self.calendars.values() if c.app_created]

    # --- internals ---------------------------------------------------------------------------

    def _stamp(self, cal: FakeCalendar, ev: Json) -> None:
        self.seq += 1
        cal.seqs[ev["id"]] = self.seq
        ev["etag"] = f'"{self.seq}"'
        ev["updated"] = FAKE_NOW

    def _cancel(self, cal: FakeCalendar, ev: Json) -> None:
        ev["status"] = "cancelled"
        self._stamp(cal, ev)

    def _check_write(self, cal: FakeCalendar) -> None:
        if cal.app_created and APP_CREATED in self.scopes:
            return
        if not WRITE_ANY & self.scopes:
            raise FakeError(403, "forbidden", "You need to have writer access to this calendar.")

    def _instances(self, cal: FakeCalendar, master: Json) -> list[tuple[Json, int]]:
        """A recurring master as its instances (exceptions applied), each with its seq."""
        base_seq = cal.seqs[master["id"]]
        start, all_day = parse_when(master["start"], "start")
        end, _ = parse_when(master["end"], "end")
        out: list[tuple[Json, int]] = []
        for when in rrule_starts(master["recurrence"], start):
            suffix = when.strftime("%Y%m%d") if all_day else when.astimezone(UTC).strftime(
                "%Y%m%dT%H%M%SZ")
            iid = f"{master['id']}_{suffix}"
            original = when_json(when, all_day, master["start"])
            inst = {k: v for k, v in master.items() if k != "recurrence"}
            inst.update(id=iid, recurringEventId=master["id"], originalStartTime=original,
                        start=original, end=when_json(when + (end - start), all_day,
                                                       master["end"]))
            seq = base_seq
            exc = cal.events.get(iid)
            if exc is not None:
                inst, seq = dict(exc), max(seq, cal.seqs[iid])
            if master.get("status") == "cancelled":
                inst["status"] = "cancelled"
            out.append((inst, seq))
        return out

    def _items(self, cal: FakeCalendar, single: bool) -> list[tuple[Json, int]]:
        out: list[tuple[Json, int]] = []
        for ev in cal.events.values():
            if single and ev.get("recurringEventId"):
                continue  # exceptions are folded into their series' instances
            if single and ev.get("recurrence"):
                out.extend(self._instances(cal, ev))
            else:
                out.append((ev, cal.seqs[ev["id"]]))
        return out

    # --- events.list -------------------------------------------------------------------------

    def events_list(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        cal = self.calendar(path["calendarId"])
        single = bool(q.get("singleEvents", False))
        query_sig = {k: v for k, v in q.items() if k not in ("pageToken", "maxResults", "alt")}
        if "pageToken" in q:
            page = _unb64(q["pageToken"])
            if page is None or page.get("q") != _b64(query_sig):
                raise bad_request("Invalid page token value.")
            offset, snapshot = int(page["o"]), int(page["s"])
        else:
            offset, snapshot = 0, self.seq
        items = self._select(cal, q, single)
        size = min(int(q.get("maxResults", 250)), MAX_PAGE)
        chunk = items[offset:offset + size]
        out: Json = {
            "kind": "calendar#events", "etag": f'"{self.seq}"', "summary": cal.summary,
            "updated": FAKE_NOW, "timeZone": cal.time_zone, "accessRole": "owner",
            "defaultReminders": [], "items": [self._view(e, "syncToken" in q) for e in chunk],
        }
        if offset + size < len(items):
            out["nextPageToken"] = _b64({"o": offset + size, "s": snapshot, "q": _b64(query_sig)})
        else:
            out["nextSyncToken"] = _b64(
                {"c": cal.id, "s": snapshot, "e": self.epoch, "single": single})
        return 200, out

    def _select(self, cal: FakeCalendar, q: dict[str, Any], single: bool) -> list[Json]:
        if "syncToken" in q:
            used = [k for k in SYNC_FORBIDDEN if k in q]
            if used:
                raise bad_request(f"Sync token cannot be used with {', '.join(used)}.")
            if q.get("showDeleted") is False:
                raise bad_request("showDeleted cannot be false with a sync token.")
            tok = _unb64(q["syncToken"])
            if tok is None or tok.get("e") != self.epoch or tok.get("c") != cal.id:
                raise FakeError(410, "fullSyncRequired",
                                "Sync token is no longer valid, a full sync is required.")
            if tok.get("single") != single:
                raise bad_request("singleEvents differs from the initial synchronization.")
            return [e for e, s in self._items(cal, single) if s > int(tok["s"])]
        if q.get("orderBy") == "startTime" and not single:
            raise bad_request("The requested ordering is not available for the particular query.")
        items = [e for e, _ in self._items(cal, single)]
        if not q.get("showDeleted"):
            items = [e for e in items if e.get("status") != "cancelled"]
        for cond in q.get("privateExtendedProperty", []):
            name, _, value = cond.partition("=")
            items = [e for e in items
                     if e.get("extendedProperties", {}).get("private", {}).get(name) == value]
        if "iCalUID" in q:
            items = [e for e in items if e.get("iCalUID") == q["iCalUID"]]
        if "timeMin" in q or "timeMax" in q:
            items = [e for e in items if e.get("status") == "cancelled" or in_range(e, q)]
        if q.get("orderBy") == "startTime":
            items.sort(key=lambda e: parse_when(e["start"], "start")[0])
        return items

    def _view(self, ev: Json, incremental: bool) -> Json:
        if ev.get("status") == "cancelled" and incremental:
            # Deleted events come back with little more than their id (API-NOTES 1.2).
            keep = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
            return {k: ev[k] for k in keep if k in ev}
        return dict(ev)

    # --- single-event methods ----------------------------------------------------------------

    def _find(self, cal: FakeCalendar, event_id: str) -> Json:
        ev = cal.events.get(event_id)
        if ev is None and "_" in event_id:
            master = cal.events.get(event_id.rsplit("_", 1)[0])
            if master is not None and master.get("recurrence"):
                for inst, _ in self._instances(cal, master):
                    if inst["id"] == event_id:
                        return inst
        if ev is None:
            raise FakeError(404, "notFound", "Not Found")
        return ev

    def events_get(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        cal = self.calendar(path["calendarId"])
        return 200, dict(self._find(cal, path["eventId"]))

    def events_insert(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        cal = self.calendar(path["calendarId"])
        self._check_write(cal)
        ev = self._validated(dict(body))
        if "id" in ev:
            if not EVENT_ID.fullmatch(ev["id"]):
                raise bad_request("Invalid resource id value.")
            if ev["id"] in cal.events:
                raise FakeError(409, "duplicate", "The requested identifier already exists.")
        else:
            ev["id"] = f"ev{next(self._ids):010d}"
        ev.setdefault("status", "confirmed")
        ev.setdefault("reminders", {"useDefault": True})
        ev.update(kind="calendar#event", created=FAKE_NOW, iCalUID=f"{ev['id']}@google.com",
                  sequence=0, htmlLink=f"https://calendar.example/event?eid={ev['id']}",
                  creator={"email": self.owner}, organizer={"email": cal.id, "self": True})
        cal.events[ev["id"]] = ev
        self._stamp(cal, ev)
        return 200, dict(ev)

    def events_update(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        cal = self.calendar(path["calendarId"])
        self._check_write(cal)
        old = self._find(cal, path["eventId"])
        if body.get("id", old["id"]) != old["id"]:
            raise bad_request("The event id cannot be changed.")
        ev = self._validated(dict(body))
        for k in ("id", "kind", "created", "iCalUID", "creator", "organizer", "htmlLink"):
            if k in old:
                ev[k] = old[k]
        ev.setdefault("status", "confirmed")
        ev["sequence"] = int(old.get("sequence", 0)) + 1
        cal.events[ev["id"]] = ev
        self._stamp(cal, ev)
        return 200, dict(ev)

    def events_patch(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        cal = self.calendar(path["calendarId"])
        self._check_write(cal)
        ev = dict(self._find(cal, path["eventId"]))
        for key, value in body.items():
            if key == "extendedProperties" and isinstance(value, dict):
                merged = ev.setdefault("extendedProperties", {})
                for scope, props in value.items():
                    target = merged.setdefault(scope, {})
                    target.update(props or {})
                    for k in [k for k, v in target.items() if v is None]:
                        del target[k]
            elif value is None:
                ev.pop(key, None)
            else:
                ev[key] = value
        ev = self._validated(ev)
        cal.events[ev["id"]] = ev
        self._stamp(cal, ev)
        return 200, dict(ev)

    def events_delete(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, None]:
        cal = self.calendar(path["calendarId"])
        self._check_write(cal)
        self._delete(cal, path["eventId"])
        return 204, None

    def _delete(self, cal: FakeCalendar, event_id: str) -> None:
        ev = self._find(cal, event_id)
        if ev.get("status") == "cancelled":
            raise FakeError(410, "deleted", "Resource has been deleted")
        if ev["id"] not in cal.events:  # an instance of a series: store a cancelled exception
            cal.events[ev["id"]] = dict(ev)
            ev = cal.events[ev["id"]]
        self._cancel(cal, ev)

    def _validated(self, ev: Json) -> Json:
        if "start" not in ev or "end" not in ev:
            raise bad_request("Missing end time." if "start" in ev else "Missing start time.",
                              "required")
        start, _ = parse_when(ev["start"], "start")
        end, _ = parse_when(ev["end"], "end")
        if end < start:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        overrides = ev.get("reminders", {}).get("overrides") or []
        if len(overrides) > 5:
            raise bad_request("Too many reminders.", "cannotUseDefaultRemindersAndSpecifyOverride")
        for r in overrides:
            if r.get("method") not in ("email", "popup") or not 0 <= r.get("minutes", -1) <= 40320:
                raise bad_request("Invalid reminder.")
        private = ev.get("extendedProperties", {}).get("private")
        if private:
            # Keys over 44 characters are dropped and values cut at 1024, silently (API-NOTES 1.3).
            ev["extendedProperties"]["private"] = {
                k: v[:1024] for k, v in private.items() if len(k) <= 44}
        return ev

    # --- calendars ---------------------------------------------------------------------------

    def calendars_insert(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        if not body.get("summary"):
            raise bad_request("Missing title.", "required")
        cid = f"c{next(self._ids):08d}fake@group.calendar.google.com"
        cal = FakeCalendar(cid, body["summary"], body.get("timeZone", "UTC"), app_created=True)
        self.calendars[cid] = cal
        return 200, self._calendar_json(cal)

    def calendars_get(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        return 200, self._calendar_json(self.calendar(path["calendarId"]))

    def calendars_delete(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, None]:
        cal = self.calendar(path["calendarId"])
        if not cal.app_created:
            raise bad_request("The primary calendar cannot be deleted.", "cannotDeletePrimaryCalendar")
        del self.calendars[cal.id]
        return 204, None

    def _calendar_json(self, cal: FakeCalendar) -> Json:
        return {"kind": "calendar#calendar", "etag": '"c"', "id": cal.id, "summary": cal.summary,
                "timeZone": cal.time_zone}
