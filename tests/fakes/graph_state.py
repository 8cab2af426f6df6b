"""The Graph fake's mailbox: calendars, events, mail folders, change logs and delta tokens.

Kept the way Exchange behaves where the product depends on it: immutable ids, a change log
that delta rounds replay (``@removed`` for deletions), delta tokens that expire on demand,
drafts whose id changes when the user sends them (the sent copy gets a new id and keeps the
conversationId and internetMessageId), and transactionId dedupe on event creation.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import secrets
import threading
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from .graph_odata import html_to_text, parse_time, stamp

Item = dict[str, Any]
FOLDERS = ("inbox", "sentitems", "drafts", "deleteditems")
# calendarView delta returns an occurrence of a series with these fields only; subject,
# organizer and attendees are the series master's
# (microsoftgraph/microsoft-graph-docs-contrib issue #34: "/delta seems not to return a full
# event for type occurrence").
SPARSE_OCCURRENCE = ("@odata.type", "@odata.etag", "id", "seriesMasterId", "type", "start", "end")
# What an occurrence has of its own; everything else a GET shows comes from the master.
OWN_FIELDS = ("id", "iCalUId", "type", "seriesMasterId", "start", "end", "originalStart",
              "createdDateTime", "lastModifiedDateTime", "changeKey")


def graph_dt(moment: datetime) -> Item:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")
    return {"dateTime": text, "timeZone": "UTC"}


def public(item: Item) -> Item:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def address(addr: str, name: str | None = None) -> Item:
    return {"emailAddress": {"name": name or addr, "address": addr}}


class GraphState:
    """All state behind the fake; every method is called with ``lock`` held by the caller."""

    def __init__(self, user: str, clock: datetime) -> None:
        self.lock = threading.RLock()
        self.user = user
        self.clock = clock
        self.seq = 0
        self._ids = itertools.count(1)
        self.calendars: dict[str, Item] = {}
        self.events: dict[str, Item] = {}
        self.event_log: list[tuple[int, str]] = []
        self.messages: dict[str, Item] = {}
        self.mail_log: list[tuple[int, str, str]] = []  # seq, folder, message id
        self.txids: dict[str, str] = {}
        self.epoch = 0
        self.tokens: dict[str, Item] = {}
        self.default_calendar = self.add_calendar("Calendar", default=True)["id"]
        # Folder ids are opaque; the well-known names are only aliases in a URL
        # (https://learn.microsoft.com/graph/api/resources/mailfolder).
        self.folder_ids = {name: f"AQMkAD{secrets.token_hex(6)}{name[:3]}AAA=" for name in FOLDERS}

    # --- ids and clocks ---------------------------------------------------------------------

    def new_id(self, kind: str) -> str:
        return f"AAMkAD{kind}{next(self._ids):08d}{secrets.token_hex(3)}="

    def tick(self) -> str:
        """Advance the change sequence; a strictly increasing modification stamp."""
        self.seq += 1
        return stamp(self.clock + timedelta(microseconds=self.seq))

    def now_stamp(self) -> str:
        return stamp(self.clock + timedelta(microseconds=self.seq))

    def new_token(self, state: Item) -> str:
        token = secrets.token_urlsafe(12)
        self.tokens[token] = {**state, "epoch": self.epoch}
        return token

    def token(self, token: str) -> Item | None:
        state = self.tokens.get(token)
        return state if state is not None and state["epoch"] == self.epoch else None

    # --- calendars and events ---------------------------------------------------------------

    def add_calendar(self, name: str, default: bool = False) -> Item:
        cal: Item = {
            "id": self.new_id("ca"), "name": name, "isDefaultCalendar": default, "canEdit": True,
            "owner": {"name": self.user, "address": self.user},
        }
        self.calendars[cal["id"]] = cal
        return cal

    def put_event(self, fields: Item, calendar: str | None = None, props: Item | None = None) -> Item:
        now = self.tick()
        event = {
            "id": self.new_id("ev"), "createdDateTime": now, "iCalUId": secrets.token_hex(16),
            "type": "singleInstance", "isAllDay": False, "isCancelled": False,
            "isOrganizer": True, "transactionId": None, "showAs": "busy", "attendees": [],
            "organizer": address(self.user), "responseStatus": {"response": "organizer"},
            "body": {"contentType": "text", "content": ""}, "subject": "",
            "location": {"displayName": ""}, "isReminderOn": True,
            "reminderMinutesBeforeStart": 15,
            **fields,
            "lastModifiedDateTime": now, "changeKey": now,
            "_cal": calendar or self.default_calendar, "_props": dict(props or {}),
        }
        self.events[event["id"]] = event
        self.event_log.append((self.seq, event["id"]))
        return event

    def touch_event(self, event_id: str, fields: Item, props: Item | None = None) -> Item:
        event = self.events[event_id]
        event.update(fields)
        event["_props"].update(props or {})
        event["lastModifiedDateTime"] = event["changeKey"] = self.tick()
        self.event_log.append((self.seq, event_id))
        return event

    def remove_event(self, event_id: str) -> None:
        for occurrence in [e for e in self.events.values() if e.get("_master") == event_id]:
            self.remove_event(occurrence["id"])
        self.events.pop(event_id)
        self.tick()
        self.event_log.append((self.seq, event_id))

    def add_series(self, master_fields: Item, starts: list[datetime], length: timedelta) -> Item:
        """A recurring series: its master (never in a calendar view) and one occurrence each."""
        master = self.put_event({**master_fields, "type": "seriesMaster", "recurrence": {
            "pattern": {"type": "daily", "interval": 7},
            "range": {"type": "numbered", "startDate": starts[0].date().isoformat(),
                      "numberOfOccurrences": len(starts)},
        }})
        for when in starts:
            self.put_event({
                "type": "occurrence", "seriesMasterId": master["id"],
                "start": graph_dt(when), "end": graph_dt(when + length),
                "originalStart": stamp(when), "_master": master["id"],
            })
        return master

    def touch_series(self, master_id: str, fields: Item) -> None:
        """A change to the master shows in every occurrence, as Exchange reports them."""
        self.touch_event(master_id, fields)
        for event in list(self.events.values()):
            if event.get("_master") == master_id:
                self.touch_event(event["id"], {})

    def in_window(self, event: Item, start: datetime, end: datetime) -> bool:
        if event.get("type") == "seriesMaster":
            return False  # a calendar view holds the instances, never the master
        s = parse_time(event["start"]["dateTime"])
        e = parse_time(event["end"]["dateTime"])
        return event["_cal"] == self.default_calendar and s < end and e > start

    def render_event(
        self, event: Item, *, prop_id: str | None, text_body: bool, sparse: bool = False
    ) -> Item:
        out = public(event)
        master = self.events.get(event.get("_master", ""))
        if master is not None:
            if sparse:
                return {"@odata.type": "#microsoft.graph.event", **{
                    k: v for k, v in out.items() if k in SPARSE_OCCURRENCE}}
            inherited = {k: v for k, v in public(master).items()
                         if k not in OWN_FIELDS and k != "recurrence"}
            out = {**inherited, **{k: v for k, v in out.items() if k in OWN_FIELDS}}
        if text_body and str(out["body"].get("contentType", "")).lower() == "html":
            out["body"] = {"contentType": "text", "content": html_to_text(out["body"]["content"])}
        if prop_id is not None and prop_id in event["_props"]:
            out["singleValueExtendedProperties"] = [{"id": prop_id, "value": event["_props"][prop_id]}]
        return out

    def calendar_delta(self, state: Item, text_body: bool) -> list[Item]:
        """Everything to report for one delta round (initial or from a token's seq)."""
        start, end = parse_time(state["start"]), parse_time(state["end"])
        if state["seq"] == 0:
            chosen = [e for e in self.events.values() if self.in_window(e, start, end)]
            return [self.render_event(e, prop_id=None, text_body=text_body, sparse=True)
                    for e in chosen]
        out: list[Item] = []
        seen: set[str] = set()
        for seq, event_id in reversed(self.event_log):
            if seq <= state["seq"] or event_id in seen:
                continue
            seen.add(event_id)
            event = self.events.get(event_id)
            if event is not None and self.in_window(event, start, end):
                out.append(self.render_event(event, prop_id=None, text_body=text_body, sparse=True))
            elif event is None or (event["_cal"] == self.default_calendar
                                   and event.get("type") != "seriesMaster"):
                reason = "deleted" if event is None else "changed"
                out.append({"id": event_id, "@removed": {"reason": reason}})
        out.reverse()
        return out

    # --- messages ---------------------------------------------------------------------------

    def put_message(self, folder: str, fields: Item, props: Item | None = None) -> Item:
        now = self.tick()
        message = {
            "id": self.new_id("ms"), "createdDateTime": now, "receivedDateTime": now,
            "sentDateTime": now, "subject": "", "bodyPreview": "", "isDraft": folder == "drafts",
            "isRead": folder != "inbox", "conversationId": "AAQkAD" + secrets.token_hex(8),
            "internetMessageId": f"<{secrets.token_hex(10)}@fake.outlook.example>",
            "from": address(self.user), "sender": address(self.user), "toRecipients": [],
            "ccRecipients": [], "body": {"contentType": "text", "content": ""},
            "internetMessageHeaders": [],
            **fields,
            "lastModifiedDateTime": now, "changeKey": now,
            "parentFolderId": self.folder_ids[folder], "_folder": folder,
            "_props": dict(props or {}),
        }
        message["bodyPreview"] = self.preview(message)
        self.messages[message["id"]] = message
        self.mail_log.append((self.seq, folder, message["id"]))
        return message

    def preview(self, message: Item) -> str:
        body = message["body"]
        text = body.get("content", "")
        if str(body.get("contentType", "")).lower() == "html":
            text = html_to_text(text)
        return " ".join(text.split())[:255]

    def touch_message(self, message_id: str, fields: Item, props: Item | None = None) -> Item:
        message = self.messages[message_id]
        message.update(fields)
        message["_props"].update(props or {})
        message["bodyPreview"] = self.preview(message)
        message["lastModifiedDateTime"] = message["changeKey"] = self.tick()
        self.mail_log.append((self.seq, message["_folder"], message_id))
        return message

    def move_message(self, message_id: str, folder: str) -> Item:
        """A move keeps the (immutable) id; both folders' delta logs see it."""
        message = self.messages[message_id]
        self.tick()
        self.mail_log.append((self.seq, message["_folder"], message_id))
        message["_folder"], message["parentFolderId"] = folder, self.folder_ids[folder]
        message["lastModifiedDateTime"] = message["changeKey"] = self.tick()
        self.mail_log.append((self.seq, folder, message_id))
        return message

    def delete_message(self, message_id: str) -> None:
        """Graph's DELETE, like Outlook's: a move to Deleted Items; from there, gone."""
        if self.messages[message_id]["_folder"] == "deleteditems":
            self.remove_message(message_id)
        else:
            self.move_message(message_id, "deleteditems")

    def remove_message(self, message_id: str) -> None:
        message = self.messages.pop(message_id)
        self.tick()
        self.mail_log.append((self.seq, message["_folder"], message_id))

    def render_message(
        self, message: Item, *, select: list[str] | None, prop_id: str | None, text_body: bool
    ) -> Item:
        full = public(message)
        if text_body and str(full["body"].get("contentType", "")).lower() == "html":
            full["body"] = {"contentType": "text", "content": html_to_text(full["body"]["content"])}
        if select is None or message["_folder"] == "sentitems":
            # Only returned when $select-ed, and then only for received mail: a message in
            # Sent Items has none (microsoftgraph/microsoft-graph-docs issue #18761,
            # msgraph-sdk-dotnet issue #3025), so a sent draft is known by its extended property.
            full.pop("internetMessageHeaders", None)
        out = full if select is None else {k: full[k] for k in ["id", *select] if k in full}
        if message.get("_type"):
            out["@odata.type"] = message["_type"]
        if prop_id is not None and prop_id in message["_props"]:
            out["singleValueExtendedProperties"] = [{"id": prop_id, "value": message["_props"][prop_id]}]
        return out

    def mail_delta(self, state: Item, text_body: bool) -> list[Item]:
        folder, since = state["folder"], state.get("since")
        select, prop_id = state.get("select"), state.get("expand")

        def wanted(m: Item) -> bool:
            return m["_folder"] == folder and (since is None or since(m))

        def render(m: Item) -> Item:
            return self.render_message(m, select=select, prop_id=prop_id, text_body=text_body)

        if state["seq"] == 0:
            return [render(m) for m in self.messages.values() if wanted(m)]
        out: list[Item] = []
        seen: set[str] = set()
        for seq, log_folder, message_id in self.mail_log:
            if seq <= state["seq"] or log_folder != folder or message_id in seen:
                continue
            seen.add(message_id)
            message = self.messages.get(message_id)
            created = message is not None and message["createdDateTime"] > state["stamp"]
            if message is not None and wanted(message):
                if state.get("change_type") in (None, "created" if created else "updated"):
                    out.append(render(message))
            elif state.get("change_type") in (None, "deleted"):
                out.append({"id": message_id, "@removed": {"reason": "deleted"}})
        return out

    def deliver(self, raw: bytes, *, folder: str = "inbox") -> Item:
        """An RFC 5322 message arrives (headers kept as Graph's internetMessageHeaders)."""
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers = [{"name": k, "value": " ".join(str(v).split())} for k, v in msg.items()]
        refs = f"{msg.get('In-Reply-To', '')} {msg.get('References', '')}".split()
        conversation = next(
            (m["conversationId"] for m in self.messages.values() if m["internetMessageId"] in refs),
            None,
        )
        try:
            sent = parsedate_to_datetime(msg.get("Date", "")).astimezone(UTC)
        except (TypeError, ValueError):
            sent = self.clock
        senders = getaddresses([msg.get("From", "")])
        to = getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))
        payload = msg.get_payload(decode=True) if not msg.is_multipart() else b""
        body = payload if isinstance(payload, bytes) else b""
        fields: Item = {
            "subject": str(msg.get("Subject", "")),
            "from": address(senders[0][1].lower(), senders[0][0] or None) if senders else None,
            "toRecipients": [address(a.lower(), n or None) for n, a in to if a],
            "receivedDateTime": stamp(sent), "sentDateTime": stamp(sent),
            "internetMessageHeaders": headers,
            "body": {"contentType": "text", "content": (body or b"").decode("utf-8", "replace")},
        }
        if msg.get("Message-ID"):
            fields["internetMessageId"] = str(msg["Message-ID"]).strip()
        if conversation:
            fields["conversationId"] = conversation
        fields["sender"] = fields["from"]
        return self.put_message(folder, fields)

    def send_draft(self, draft_id: str, when: datetime | None = None) -> Item:
        """The user sends a draft: it leaves Drafts; a copy with a NEW id lands in Sent Items."""
        draft = self.messages[draft_id]
        headers = list(draft.get("internetMessageHeaders") or [])
        if draft.get("_in_reply_to"):
            headers.append({"name": "In-Reply-To", "value": draft["_in_reply_to"]})
        headers.append({"name": "Message-ID", "value": draft["internetMessageId"]})
        sent = stamp(when or self.clock)
        fields = {
            k: draft[k] for k in (
                "subject", "body", "toRecipients", "ccRecipients", "conversationId",
                "internetMessageId",
            )
        }
        self.remove_message(draft_id)
        return self.put_message(
            "sentitems",
            {**fields, "internetMessageHeaders": headers, "isDraft": False,
             "sentDateTime": sent, "receivedDateTime": sent},
            props=draft["_props"],
        )

    def by_prop(self, items: dict[str, Item], prop_id: str, value: str) -> Item | None:
        return next((i for i in items.values() if i["_props"].get(prop_id) == value), None)
