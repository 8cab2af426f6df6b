"""JSON encoding of the observed facts kept in the store (events, messages, notes).

Explicit per-type codecs rather than pickle: the store outlives code versions, and a row that
no longer decodes must fail loudly (and be refetched) rather than turn into a wrong object.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from inbox_followup.core.model import Attendee, CalendarEvent, MailMessage, Notes, Person


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _attendee(a: Attendee) -> list[Any]:
    return [a.email, a.name, a.cutype, a.partstat, a.is_self]


def _attendee_from(v: list[Any]) -> Attendee:
    return Attendee(email=v[0], name=v[1], cutype=v[2], partstat=v[3], is_self=v[4])


def dump_event(e: CalendarEvent) -> str:
    return json.dumps(
        {
            "id": e.id, "uid": e.uid, "title": e.title, "start": e.start.isoformat(),
            "end": e.end.isoformat(), "source": e.source, "description": e.description,
            "location": e.location, "all_day": e.all_day, "status": e.status,
            "organizer": _attendee(e.organizer) if e.organizer else None,
            "attendees": [_attendee(a) for a in e.attendees], "key": e.key,
        },
        ensure_ascii=False,
    )


def load_event(text: str) -> CalendarEvent:
    d = json.loads(text)
    return CalendarEvent(
        id=d["id"], uid=d["uid"], title=d["title"], start=_dt(d["start"]), end=_dt(d["end"]),
        source=d["source"], description=d["description"], location=d["location"],
        all_day=d["all_day"], status=d["status"],
        organizer=_attendee_from(d["organizer"]) if d["organizer"] else None,
        attendees=tuple(_attendee_from(a) for a in d["attendees"]), key=d["key"],
    )


def dump_message(m: MailMessage) -> str:
    return json.dumps(
        {
            "id": m.id, "folder": m.folder, "date": m.date.isoformat(),
            "sender": [m.sender.email, m.sender.name] if m.sender else None,
            "recipients": list(m.recipients), "subject": m.subject, "message_id": m.message_id,
            "thread_id": m.thread_id, "references": list(m.references),
            "headers": [list(h) for h in m.headers], "content_type": m.content_type,
            "snippet": m.snippet, "key": m.key,
        },
        ensure_ascii=False,
    )


def load_message(text: str) -> MailMessage:
    d = json.loads(text)
    sender = Person(d["sender"][0], d["sender"][1]) if d["sender"] else None
    return MailMessage(
        id=d["id"], folder=d["folder"], date=_dt(d["date"]), sender=sender,
        recipients=tuple(d["recipients"]), subject=d["subject"], message_id=d["message_id"],
        thread_id=d["thread_id"], references=tuple(d["references"]),
        headers=tuple((h[0], h[1]) for h in d["headers"]), content_type=d["content_type"],
        snippet=d["snippet"], key=d["key"],
    )


def dump_notes(n: Notes) -> str:
    return json.dumps(
        {
            "talking_points": list(n.talking_points), "forgot": list(n.forgot), "text": n.text,
            "decision_date": n.decision_date.isoformat() if n.decision_date else None,
            "few_days": n.few_days, "email_only": n.email_only, "phone": n.phone,
        },
        ensure_ascii=False,
    )


def load_notes(text: str) -> Notes:
    d = json.loads(text)
    return Notes(
        talking_points=tuple(d["talking_points"]), forgot=tuple(d["forgot"]), text=d["text"],
        decision_date=date.fromisoformat(d["decision_date"]) if d["decision_date"] else None,
        few_days=d["few_days"], email_only=d["email_only"], phone=d["phone"],
    )
