"""In-memory model of Gmail v1 for the loopback fake (see google_fake.py).

What it keeps like the real service (docs/api-notes.md section 2): messages with ids, threads,
labels and an ``internalDate``; drafts as containers whose message id changes on every update;
a history log with increasing ids and random gaps, expiring on demand (404); threading of a
draft into ``threadId`` only when References/In-Reply-To and the subject match (else Gmail
quietly starts a new thread); and the ``gmail.metadata`` scope's limits: no ``q`` on
messages.list, no ``format=full|raw`` on messages.get, no snippet.
"""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from typing import Any

from .google_discovery import FakeError, bad_request

Json = dict[str, Any]
Handler = Callable[[dict[str, str], dict[str, Any], Any], tuple[int, Json | None]]

S = "https://www.googleapis.com/auth/"
FULL_READ = {"https://mail.google.com/", S + "gmail.readonly", S + "gmail.modify"}
FAKE_NOW_MS = 1767225600000  # 2026-01-01T00:00:00Z
HISTORY_FIELDS = {"messageAdded": "messagesAdded", "messageDeleted": "messagesDeleted",
                  "labelAdded": "labelsAdded", "labelRemoved": "labelsRemoved"}
SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "IMPORTANT", "STARRED")


@dataclass
class FakeMessage:
    id: str
    thread_id: str
    labels: list[str]
    raw: bytes
    internal_date: int
    history_id: int

    def headers(self) -> list[tuple[str, str]]:
        parsed = BytesHeaderParser().parsebytes(self.raw)
        return [(k, re.sub(r"\r?\n(?=[ \t])", "", str(v))) for k, v in parsed.items()]

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers() if k.lower() == name.lower()), "")

    def ref(self) -> Json:
        return {"id": self.id, "threadId": self.thread_id, "labelIds": list(self.labels)}


def _norm_subject(subject: str) -> str:
    """Subjects compared as Gmail does: decoded, "Re:"/"Fwd:" prefixes and case ignored."""
    with contextlib.suppress(ValueError, LookupError, UnicodeError):
        subject = str(make_header(decode_header(subject)))
    s = " ".join(subject.split()).casefold()
    while True:
        stripped = re.sub(r"^(re|fwd?|aw|sv)\s*:\s*", "", s)
        if stripped == s:
            return s
        s = stripped


def _decode_raw(raw: Any) -> bytes:
    if not isinstance(raw, str) or not raw:
        raise bad_request("Invalid value for ByteString: raw", "invalidArgument")
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except ValueError:
        raise bad_request("Invalid value for ByteString: raw", "invalidArgument") from None


def _page(items: list[Any], q: dict[str, Any], default: int, cap: int) -> tuple[list[Any], str | None]:
    offset = int(q.get("pageToken", "0") or "0") if str(q.get("pageToken", "0")).isdigit() else -1
    if offset < 0:
        raise bad_request("Invalid pageToken")
    size = min(int(q.get("maxResults", default)), cap)
    nxt = str(offset + size) if offset + size < len(items) else None
    return items[offset:offset + size], nxt


class GmailModel:
    """One user's mailbox. Handlers take (path params, typed query, body)."""

    def __init__(self, user: str, scopes: set[str], seed: int = 0) -> None:
        self.user = user
        self.scopes = scopes
        self.messages: dict[str, FakeMessage] = {}
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.history: list[Json] = []
        self.history_id = 1000
        self.min_history = 0
        self.now_ms = FAKE_NOW_MS
        self.rewrite_message_id_on_send = False
        # Gmail may record a sent draft as labels changed on the same message instead of a
        # new message (https://github.com/elie222/inbox-zero/pull/2619).
        self.send_relabels = False
        self._rng = random.Random(seed)
        self._ids = itertools.count(1)

    def handlers(self) -> dict[str, Handler]:
        return {
            "gmail.users.getProfile": self.get_profile,
            "gmail.users.history.list": self.history_list,
            "gmail.users.messages.list": self.messages_list,
            "gmail.users.messages.get": self.messages_get,
            "gmail.users.threads.get": self.threads_get,
            "gmail.users.labels.list": self.labels_list,
            "gmail.users.drafts.create": self.drafts_create,
            "gmail.users.drafts.update": self.drafts_update,
            "gmail.users.drafts.get": self.drafts_get,
            "gmail.users.drafts.list": self.drafts_list,
            "gmail.users.drafts.delete": self.drafts_delete,
        }

    @property
    def metadata_only(self) -> bool:
        """Gmail applies the gmail.metadata limits whenever that scope is granted, even next
        to gmail.readonly (Google issue 115621456, reported in
        https://github.com/googleapis/google-api-python-client/issues/582)."""
        return S + "gmail.metadata" in self.scopes or not (FULL_READ & self.scopes)

    # --- what the tests (the world and the user) do ------------------------------------------

    def deliver(self, raw: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD")) -> FakeMessage:
        parsed = BytesHeaderParser().parsebytes(raw)
        when = self.now_ms
        with contextlib.suppress(TypeError, ValueError):
            when = int(parsedate_to_datetime(str(parsed["Date"])).timestamp() * 1000)
        thread = self._thread_for(raw, None, auto=True)
        return self._add(raw, list(labels), thread, when)

    def user_sends_draft(self, draft_id: str) -> FakeMessage:
        """As Gmail does: the draft is deleted and a new SENT message joins its thread."""
        old = self.messages[self.drafts.pop(draft_id)]
        if self.send_relabels:
            return self._relabel_sent(old)
        self._remove(old.id)
        raw = old.raw
        if self.rewrite_message_id_on_send:
            raw = re.sub(rb"(?im)^Message-ID:[^\r\n]*", f"Message-ID: <sent{old.id}@mail.gmail.com>"
                         .encode(), raw, count=1)
        return self._add(raw, ["SENT"], old.thread_id, self.now_ms)

    def _relabel_sent(self, msg: FakeMessage) -> FakeMessage:
        """SENT added, then DRAFT removed: the labelsAdded record still shows DRAFT."""
        msg.labels.append("SENT")
        self.history.append({"id": str(self._bump()), "messages": [msg.ref()],
                             "labelsAdded": [{"message": msg.ref(), "labelIds": ["SENT"]}]})
        msg.labels.remove("DRAFT")
        msg.history_id = self._bump()
        self.history.append({"id": str(msg.history_id), "messages": [msg.ref()],
                             "labelsRemoved": [{"message": msg.ref(), "labelIds": ["DRAFT"]}]})
        return msg

    def user_edits_draft(self, draft_id: str, raw: bytes, *, new_draft_id: bool = False) -> str:
        """An edit in a mail client: a new message (and with the web UI, maybe a new draft id)."""
        old = self.messages[self.drafts.pop(draft_id)]
        self._remove(old.id)
        msg = self._add(raw, ["DRAFT"], old.thread_id, self.now_ms)
        did = f"r-{next(self._ids) + 900000}" if new_draft_id else draft_id
        self.drafts[did] = msg.id
        return did

    def user_deletes_draft(self, draft_id: str) -> None:
        self._remove(self.drafts.pop(draft_id))

    def draft_message(self, draft_id: str) -> FakeMessage:
        return self.messages[self.drafts[draft_id]]

    def expire_history(self) -> None:
        """Every history id handed out so far becomes too old: history.list answers 404."""
        self._bump()
        self.min_history = self.history_id

    # --- internals ---------------------------------------------------------------------------

    def _bump(self) -> int:
        self.history_id += self._rng.randint(1, 3)  # ids increase with gaps (API-NOTES 2.2)
        return self.history_id

    def _add(self, raw: bytes, labels: list[str], thread: str, when: int) -> FakeMessage:
        mid = f"{0x18c0000000 + next(self._ids):x}"
        msg = FakeMessage(mid, thread or mid, labels, raw, when, self._bump())
        self.messages[mid] = msg
        self.history.append({"id": str(msg.history_id), "messages": [msg.ref()],
                             "messagesAdded": [{"message": msg.ref()}]})
        return msg

    def _remove(self, mid: str) -> None:
        msg = self.messages.pop(mid)
        self.history.append({"id": str(self._bump()), "messages": [msg.ref()],
                             "messagesDeleted": [{"message": msg.ref()}]})

    def _thread_for(self, raw: bytes, requested: str | None, *, auto: bool) -> str:
        """Gmail threads a message when it references one in the thread and the subject
        matches (Message.threadId in the discovery document); otherwise a new thread."""
        if requested is None and not auto:
            return ""  # a draft joins a thread only when asked to
        parsed = BytesHeaderParser().parsebytes(raw)
        refs = set(re.findall(r"<[^<>\s]+>", f"{parsed['In-Reply-To'] or ''} "
                                             f"{parsed['References'] or ''}"))
        subject = _norm_subject(str(parsed["Subject"] or ""))
        for msg in self.messages.values():
            if requested is not None and msg.thread_id != requested:
                continue
            if msg.header("Message-ID").strip() in refs and _norm_subject(
                    msg.header("Subject")) == subject:
                return msg.thread_id
        return ""

    def _message_json(self, msg: FakeMessage, fmt: str, only: list[str] | None = None) -> Json:
        out: Json = {**msg.ref(), "historyId": str(msg.history_id),
                     "internalDate": str(msg.internal_date), "sizeEstimate": len(msg.raw)}
        parsed = message_from_bytes(msg.raw)
        if not self.metadata_only:
            out["snippet"] = html.escape(" ".join(_text(parsed).split())[:100])
        if fmt == "raw":
            out["raw"] = base64.urlsafe_b64encode(msg.raw).decode()
        elif fmt == "metadata":
            wanted = {h.lower() for h in only} if only else None
            headers = [{"name": k, "value": v} for k, v in msg.headers()
                       if wanted is None or k.lower() in wanted]
            out["payload"] = {"mimeType": parsed.get_content_type(), "headers": headers}
        elif fmt == "full":
            out["payload"] = _payload(parsed)
        return out

    # --- handlers ----------------------------------------------------------------------------

    def get_profile(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        return 200, {"emailAddress": self.user, "messagesTotal": len(self.messages),
                     "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                     "historyId": str(self.history_id)}

    def history_list(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        if "startHistoryId" not in q:
            raise bad_request("Missing startHistoryId", "invalidArgument")
        start = int(q["startHistoryId"])
        if start < self.min_history:
            raise FakeError(404, "notFound", "Requested entity was not found.")
        types = {HISTORY_FIELDS[t] for t in q.get("historyTypes", [])}
        records = []
        for rec in self.history:
            if int(rec["id"]) <= start:
                continue
            if types and not types & rec.keys():
                continue
            if "labelId" in q and not any(q["labelId"] in m["labelIds"] for m in rec["messages"]):
                continue
            records.append({k: v for k, v in rec.items()
                            if not types or k in ("id", "messages") or k in types})
        chunk, nxt = _page(records, q, 100, 500)
        out: Json = {"historyId": str(self.history_id)}
        if chunk:
            out["history"] = chunk
        if nxt:
            out["nextPageToken"] = nxt
        return 200, out

    def messages_list(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        if "q" in q and self.metadata_only:
            raise FakeError(403, "forbidden", "Metadata scope does not support 'q' parameter")
        hidden = set() if q.get("includeSpamTrash") else {"SPAM", "TRASH"}
        wanted = set(q.get("labelIds", []))
        found = [m for m in self.messages.values()
                 if wanted <= set(m.labels) and not hidden & set(m.labels)]
        found.sort(key=lambda m: (m.internal_date, m.id), reverse=True)
        chunk, nxt = _page(found, q, 100, 500)
        out: Json = {"resultSizeEstimate": len(found)}
        if chunk:
            out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in chunk]
        if nxt:
            out["nextPageToken"] = nxt
        return 200, out

    def _format(self, q: dict[str, Any], allow_full: bool) -> str:
        fmt = str(q.get("format", "full"))
        if fmt in ("full", "raw") and not allow_full:
            raise FakeError(403, "forbidden", f"Metadata scope doesn't allow format {fmt.upper()}")
        return fmt

    def messages_get(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        fmt = self._format(q, not self.metadata_only)
        msg = self.messages.get(path["id"])
        if msg is None:
            raise FakeError(404, "notFound", "Requested entity was not found.")
        return 200, self._message_json(msg, fmt, q.get("metadataHeaders"))

    def threads_get(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        fmt = self._format(q, not self.metadata_only)
        msgs = [m for m in self.messages.values() if m.thread_id == path["id"]]
        if not msgs:
            raise FakeError(404, "notFound", "Requested entity was not found.")
        return 200, {"id": path["id"], "historyId": str(max(m.history_id for m in msgs)),
                     "messages": [self._message_json(m, fmt, q.get("metadataHeaders"))
                                  for m in msgs]}

    def labels_list(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        return 200, {"labels": [{"id": n, "name": n, "type": "system"} for n in SYSTEM_LABELS]}

    def _draft(self, draft_id: str) -> FakeMessage:
        mid = self.drafts.get(draft_id)
        if mid is None:
            raise FakeError(404, "notFound", "Requested entity was not found.")
        return self.messages[mid]

    def _draft_raw(self, body: Any) -> tuple[bytes, str | None]:
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            raise bad_request("Missing draft message", "invalidArgument")
        return _decode_raw(message.get("raw")), message.get("threadId")

    def _check_thread(self, requested: str | None) -> None:
        if requested is not None and not any(m.thread_id == requested
                                             for m in self.messages.values()):
            raise FakeError(404, "notFound", "Requested entity was not found.")

    def drafts_create(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        raw, requested = self._draft_raw(body)
        self._check_thread(requested)
        msg = self._add(raw, ["DRAFT"], self._thread_for(raw, requested, auto=False), self.now_ms)
        did = f"r-{next(self._ids) + 500000}"
        self.drafts[did] = msg.id
        return 200, {"id": did, "message": msg.ref()}

    def drafts_update(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        old = self._draft(path["id"])
        raw, requested = self._draft_raw(body)
        self._check_thread(requested)
        thread = self._thread_for(raw, requested, auto=False) if requested else ""
        if not requested and sum(m.thread_id == old.thread_id for m in self.messages.values()) == 1:
            thread = old.thread_id  # a draft alone in its thread keeps it
        self._remove(old.id)
        msg = self._add(raw, ["DRAFT"], thread, self.now_ms)
        self.drafts[path["id"]] = msg.id
        return 200, {"id": path["id"], "message": msg.ref()}

    def drafts_get(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        # "Format cannot be used when accessing the api using the gmail.metadata scope"
        # (drafts.get format, gmail.v1 discovery document), and Gmail applies that limit
        # whenever the token carries gmail.metadata, next to gmail.compose too
        # (https://github.com/googleapis/google-api-python-client/issues/582,
        # https://github.com/googleworkspace/cli/pull/200).
        fmt = self._format(q, not self.metadata_only)
        msg = self._draft(path["id"])
        return 200, {"id": path["id"], "message": self._message_json(msg, fmt)}

    def drafts_list(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, Json]:
        if "q" in q:
            raise FakeError(501, "notImplemented", "fake: drafts.list q is not modelled")
        ordered = sorted(self.drafts.items(), key=lambda d: self.messages[d[1]].history_id,
                         reverse=True)
        chunk, nxt = _page(ordered, q, 100, 500)
        out: Json = {"resultSizeEstimate": len(ordered)}
        if chunk:
            out["drafts"] = [{"id": d, "message": {"id": m, "threadId":
                                                   self.messages[m].thread_id}} for d, m in chunk]
        if nxt:
            out["nextPageToken"] = nxt
        return 200, out

    def drafts_delete(self, path: dict[str, str], q: dict[str, Any], body: Any) -> tuple[int, None]:
        self._draft(path["id"])
        self._remove(self.drafts.pop(path["id"]))
        return 204, None


def _text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _payload(part: Message) -> Json:
    out: Json = {"mimeType": part.get_content_type(),
                 "headers": [{"name": k, "value": str(v)} for k, v in part.items()]}
    if part.is_multipart():
        out["parts"] = [_payload(p) for p in part.get_payload()]  # type: ignore[union-attr,arg-type]
    else:
        data = part.get_payload(decode=True)
        data = data if isinstance(data, bytes) else b""
        out["body"] = {"size": len(data), "data": base64.urlsafe_b64encode(data).decode()}
    return out
