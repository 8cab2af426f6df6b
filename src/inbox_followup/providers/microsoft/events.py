"""Graph events as the product's CalendarEvent, and reminders as Graph event fields.

The mapping of :mod:`.calendar`, kept apart so that module stays about the requests.
The user's own answer to an invitation is ``responseStatus`` (not their attendee entry);
rooms are attendees of ``type`` resource
(https://learn.microsoft.com/graph/api/resources/attendee).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from inbox_followup.core.model import Artifact, Attendee, CalendarEvent
from inbox_followup.errors import ItemError
from inbox_followup.providers.microsoft.graph import JSON, body_text, graph_time, parse_time, tagged_key

REMINDER_LENGTH = timedelta(minutes=15)
PARTSTAT = {
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "declined": "DECLINED",
    "tentativelyaccepted": "TENTATIVE",
    "none": "NEEDS-ACTION",
    "notresponded": "NEEDS-ACTION",
}

def key_from_transaction(transaction_id: str | None) -> str | None:
    """The key inside a transactionId written by :meth:`GraphCalendar.put_event`."""
    if transaction_id and transaction_id.startswith("ifu-") and "#" in transaction_id:
        return transaction_id.rpartition("#")[0]
    return None


def event_from_graph(item: JSON, addresses: Collection[str], source: str) -> CalendarEvent:
    """One Graph event (an occurrence, exception or single instance) as a CalendarEvent.

    ``addresses``: the user's own, lower-case, the account's main address first.

    Raises ItemError when it has no usable start/end.
    """
    try:
        start = parse_time(item["start"]["dateTime"], item["start"].get("timeZone"))
        end = parse_time(item["end"]["dateTime"], item["end"].get("timeZone"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ItemError(f"event {item.get('id', '?')}", f"no usable start/end ({exc})") from None
    organizer = _person(item.get("organizer"), addresses, "ACCEPTED")
    attendees = [
        a for a in (_attendee(raw, addresses) for raw in item.get("attendees") or ()) if a
    ]
    own = str((item.get("responseStatus") or {}).get("response", "")).casefold()
    if own in PARTSTAT and not item.get("isOrganizer"):
        # The user's answer lives in responseStatus, not in their own attendee entry.
        mine = [a for a in attendees if a.is_self]
        others = [a for a in attendees if not a.is_self]
        me = mine[0] if mine else Attendee(email=next(iter(addresses), ""), is_self=True)
        attendees = [*others, Attendee(me.email, me.name, me.cutype, PARTSTAT[own], True)]
    location = (item.get("location") or {}).get("displayName") or ""
    return CalendarEvent(
        id=str(item["id"]),
        uid=str(item.get("iCalUId") or item["id"]),
        title=str(item.get("subject") or ""),
        start=start,
        end=end,
        source=source,
        description=body_text(item.get("body")),
        location=str(location),
        all_day=bool(item.get("isAllDay")),
        status="CANCELLED" if item.get("isCancelled") else "CONFIRMED",
        organizer=organizer,
        attendees=tuple(attendees),
        key=tagged_key(item) or key_from_transaction(item.get("transactionId")),
    )


def _person(recipient: Any, addresses: Collection[str], partstat: str) -> Attendee | None:
    email_address = (recipient or {}).get("emailAddress") or {}
    address = str(email_address.get("address") or "").strip().lower()
    if not address:
        return None
    name = email_address.get("name") or None
    return Attendee(address, name, "INDIVIDUAL", partstat, address in addresses)


def _attendee(raw: Any, addresses: Collection[str]) -> Attendee | None:
    response = str((raw.get("status") or {}).get("response", "none")).casefold()
    person = _person(raw, addresses, PARTSTAT.get(response, "NEEDS-ACTION"))
    if person is None:
        return None
    cutype = "RESOURCE" if str(raw.get("type", "")).casefold() == "resource" else "INDIVIDUAL"
    return Attendee(person.email, person.name, cutype, person.partstat, person.is_self)


def reminder_body(artifact: Artifact) -> JSON:
    """The event fields of a reminder (no key fields). Raises ItemError without a reminder."""
    r = artifact.reminder
    if r is None:
        raise ItemError(artifact.key, "not a reminder artifact")
    return {
        "subject": " ".join(r.title.split()),
        "body": {"contentType": "text", "content": r.description},
        "start": {"dateTime": graph_time(r.start), "timeZone": "UTC"},
        "end": {"dateTime": graph_time(r.start + REMINDER_LENGTH), "timeZone": "UTC"},
        "isReminderOn": True,
        "reminderMinutesBeforeStart": r.minutes,
        "showAs": "free",
    }


__all__ = ["REMINDER_LENGTH", "event_from_graph", "key_from_transaction", "reminder_body"]
