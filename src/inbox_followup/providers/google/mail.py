"""The mail half of the Google provider: message headers in, drafts out. Never a send.

Reading (docs/api-notes.md 2.2-2.3), with the ``gmail.metadata`` scope (headers, no bodies, no
``q`` search): ``users.history.list`` from the saved ``historyId`` with
``historyTypes=messageAdded,labelAdded`` (SENT added counts as a new sent message), every
page, then ``messages.get(format=metadata)`` with only the headers reply detection needs.
Messages added as drafts are skipped without a fetch. A 404 means the history id is too old:
a bounded re-scan follows (``getProfile`` for the new baseline first, then ``messages.list``
newest first, stopping at the window's start or after :data:`RESCAN_LIMIT` messages), never
an empty answer.

Drafts (docs/api-notes.md 2.1): ``users.drafts.create`` with the raw RFC 5322 message from
:func:`inbox_followup.formats.mime.build_mime` (an ``X-Inbox-Followup-Key`` header, a Message-ID
derived from the key), in ``threadId`` when the draft answers a thread. The draft id is the
handle; Gmail changes the message id on every edit, and the web UI may change the draft id
too, so a draft not found by id is looked for in its thread by key. Drafts are only ever read
with ``format=metadata`` (gmail.metadata refuses full and raw, even next to gmail.compose):
whether the user changed one is told by its message id (:mod:`.written`). A create
that may have succeeded before a timeout is looked up by key before it is retried. A draft is
deleted only after checking it still carries our key.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import (
    Artifact,
    DraftSnapshot,
    ItemRef,
    MailMessage,
    MailPage,
    Person,
    SyncWindow,
)
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.formats import mailparse, mime
from inbox_followup.providers.cursor import dump_cursor, load_cursor
from inbox_followup.providers.google.api import GoogleApi
from inbox_followup.providers.google.written import WrittenDrafts
from inbox_followup.providers.retry import call_with_retries

log = logging.getLogger(__name__)

Json = dict[str, Any]
KEY_HEADER = "X-Inbox-Followup-Key"
RESCAN_LIMIT = 1000
PAGE_SIZE = 500  # history.list, messages.list and drafts.list maxResults cap
SKIP_LABELS = frozenset({"DRAFT", "SPAM", "TRASH"})
METADATA_HEADERS = (
    "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Type", KEY_HEADER, *mailparse.CLASSIFICATION_HEADERS,
)


def message_id_for(key: str, address: str) -> str:
    """The Message-ID of the draft for ``key``: stable across rewrites of the same draft."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    domain = address.rpartition("@")[2] or "inbox-followup.invalid"
    return f"<ifu.{digest}@{domain}>"


def _history_id(state: Json) -> str | None:
    """The history id saved in a cursor's state (``{"h": "12345"}``); None when there is none."""
    value = state.get("h")
    return str(value) if isinstance(value, str | int) and str(value).isdigit() else None


class GoogleMail:
    """Gmail reads and draft writes for :class:`~.google.GoogleProvider`. Every method raises
    ProviderError (or AuthError) when Gmail cannot be reached or refuses; ``put`` also raises
    ItemError for a draft that cannot be written as a message."""

    def __init__(self, api: GoogleApi, account: AccountConfig, sender_name: str | None,
                 written: WrittenDrafts) -> None:
        self.api = api
        self.users = api.gmail.users()
        self.sender = Person(account.address, sender_name)
        self.written = written

    # --- reading -----------------------------------------------------------------------------

    def changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        start = _history_id(load_cursor(cursor, f"{self.api.account}: mail"))
        if start is not None:
            found = self._history(start)
            if found is not None:
                ids, latest = found
                messages = [m for m in (self._fetch(i) for i in ids) if m is not None]
                return MailPage(tuple(messages), dump_cursor({"h": latest}))
            log.info("%s: the saved history id is too old; re-scanning", self.api.account)
        return self._rescan(window)

    def _history(self, start: str) -> tuple[list[str], str] | None:
        """Ids of messages added since ``start`` (drafts left out) and the new history id,
        or None when Gmail no longer knows ``start`` (404)."""
        ids: dict[str, None] = {}
        # labelAdded too: Gmail may record a sent draft as SENT added to the draft's own
        # message rather than as a new message (https://github.com/elie222/inbox-zero/pull/2619).
        params: Json = {"userId": "me", "startHistoryId": start,
                        "historyTypes": ["messageAdded", "labelAdded"], "maxResults": PAGE_SIZE}
        latest = start
        for status, body in self.api.pages(self.users.history().list, "gmail.users.history.list",
                                           params, allow=(404,)):
            if status == 404:
                return None
            for record in body.get("history", []):
                for added in record.get("messagesAdded", []):
                    msg = added.get("message", {})
                    if msg.get("id") and not SKIP_LABELS & set(msg.get("labelIds", [])):
                        ids[str(msg["id"])] = None
                for labelled in record.get("labelsAdded", []):
                    msg = labelled.get("message", {})
                    # the message's labels here may still show DRAFT: checked when fetched
                    if msg.get("id") and "SENT" in labelled.get("labelIds", []):
                        ids[str(msg["id"])] = None
            latest = str(body.get("historyId") or start)
        return list(ids), latest

    def _get_metadata(self, msg_id: str) -> Json | None:
        status, body = self.api.call(
            self.users.messages().get(userId="me", id=msg_id, format="metadata",
                                      metadataHeaders=list(METADATA_HEADERS)),
            "gmail.users.messages.get", allow=(404,))
        return body if status == 200 else None  # 404: deleted since it was added

    def _fetch(self, msg_id: str) -> MailMessage | None:
        body = self._get_metadata(msg_id)
        if body is None or SKIP_LABELS & set(body.get("labelIds", [])):
            return None
        return _mail_message(body)

    def _rescan(self, window: SyncWindow) -> MailPage:
        _, profile = self.api.call(self.users.getProfile(userId="me"), "gmail.users.getProfile")
        baseline = str(profile["historyId"])  # taken first: nothing added meanwhile is lost
        messages: list[MailMessage] = []
        for seen, msg_id in enumerate(self._all_message_ids(), start=1):
            body = self._get_metadata(msg_id)
            if body is not None:
                if _internal_date(body) < window.start:
                    break  # messages.list is newest first
                if not SKIP_LABELS & set(body.get("labelIds", [])):
                    messages.append(_mail_message(body))
            if seen >= RESCAN_LIMIT:
                log.warning("%s: re-scan stopped after %d messages", self.api.account, seen)
                break
        return MailPage(tuple(messages), dump_cursor({"h": baseline}))

    def _all_message_ids(self) -> Iterator[str]:
        listing = self.api.pages(self.users.messages().list, "gmail.users.messages.list",
                                 {"userId": "me", "maxResults": PAGE_SIZE})
        for _, body in listing:
            yield from (str(m["id"]) for m in body.get("messages", []))

    # --- drafts ------------------------------------------------------------------------------

    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        d = artifact.draft
        if d is None:
            raise ItemError(artifact.key, "a draft artifact without draft content")
        mid = message_id_for(artifact.key, self.sender.email)
        raw = mime.build_mime(d, sender=self.sender, key=artifact.key, message_id=mid,
                                date=artifact.due)
        message: Json = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        if d.thread_id:
            message["threadId"] = d.thread_id
        got: Json | None = None
        if existing is not None:
            got = self._update(existing.provider_id, message)
            if got is None:  # maybe re-created under a new id by the web UI
                moved = self._in_thread(existing)
                got = self._update(str(moved["id"]), message) if moved else None
        if got is None:
            got = self._create(artifact.key, message)
        self.written.put(artifact.key, str(got.get("message", {}).get("id", "")),
                         mime.snapshot_from_mime(raw))
        return _ref(artifact.key, got, mid)

    def _update(self, draft_id: str, message: Json) -> Json | None:
        """The rewritten draft, or None when it is gone. A 404 is also Gmail's answer to a
        ``threadId`` it no longer knows, so a threaded rewrite is tried once without it
        before the draft counts as gone (else a second draft would be made)."""
        for body in (message, {k: v for k, v in message.items() if k != "threadId"}):
            status, got = self.api.call(
                self.users.drafts().update(userId="me", id=draft_id,
                                           body={"id": draft_id, "message": body}),
                "gmail.users.drafts.update", allow=(404,))
            if status == 200:
                return got
            if "threadId" not in message:
                break
        return None

    def _create(self, key: str, message: Json) -> Json:
        """The new draft. A ``threadId`` Gmail no longer knows (the user deleted the thread)
        answers 404; the draft is then made outside the thread rather than failing the whole
        pass on every run (Message.threadId, gmail.v1 discovery document)."""
        got = self._create_once(key, message)
        if got is None:
            log.warning("%s: the thread of %s is gone; the draft starts a new one",
                        self.api.account, key)
            got = self._create_once(key, {k: v for k, v in message.items() if k != "threadId"})
        if got is None:
            raise ProviderError(f"{self.api.account}: gmail.users.drafts.create failed: HTTP 404",
                                retryable=False)
        return got

    def _create_once(self, key: str, message: Json) -> Json | None:
        """The new draft, or None for a 404. drafts.create has no client-chosen id, so a
        retry first looks for the draft a timed-out attempt may have made."""
        request = self.users.drafts().create(userId="me", body={"message": message})
        attempts = 0

        def attempt() -> Json | None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                found = self._find(key)
                if found is not None:
                    return found
            status, got = self.api.once(request, "gmail.users.drafts.create", allow=(404,))
            return got if status == 200 else None

        return call_with_retries(attempt, self.api.retry, "gmail.users.drafts.create")

    def _draft(self, draft_id: str) -> Json | None:
        """The draft with its headers. Only ``format=metadata``: gmail.metadata refuses the
        others even next to gmail.compose (see :mod:`.written`)."""
        status, got = self.api.call(
            self.users.drafts().get(userId="me", id=draft_id, format="metadata"),
            "gmail.users.drafts.get", allow=(404,))
        return got if status == 200 else None

    def get(self, ref: ItemRef) -> DraftSnapshot | None:
        got = self._draft(ref.provider_id) or self._in_thread(ref)
        if got is None:
            self.written.forget(ref.key)
            return None  # sent or deleted
        mine = self.written.get(ref.key)
        if mine is not None and mine.message_id == got.get("message", {}).get("id"):
            return mine.snapshot
        # Replaced since we wrote it (an edit, or a re-save by a mail client): its text cannot
        # be read, so the snapshot has the headers and no body, which never matches ours.
        return mime.snapshot_from_mime(_header_block(got.get("message", got)))

    def _in_thread(self, ref: ItemRef) -> Json | None:
        """The draft under a new id (the Gmail web UI may re-create a draft it edits)."""
        if not ref.thread_id:
            return None
        for entry in self._list_drafts():
            if entry.get("message", {}).get("threadId") != ref.thread_id:
                continue
            got = self._draft(str(entry["id"]))
            if got is not None and _header(got, KEY_HEADER) == ref.key:
                return got
        return None

    def delete(self, ref: ItemRef) -> None:
        got = self._draft(ref.provider_id) or self._in_thread(ref)
        if got is None:
            self.written.forget(ref.key)
            return  # sent or deleted already
        if _header(got, KEY_HEADER) != ref.key:
            log.warning("%s: draft %s no longer carries its key; left alone",
                        self.api.account, ref.key)
            return
        self.api.call(self.users.drafts().delete(userId="me", id=str(got["id"])),
                      "gmail.users.drafts.delete", allow=(404,))
        self.written.forget(ref.key)

    def find(self, key: str) -> ItemRef | None:
        got = self._find(key)
        return _ref(key, got, _header(got, "Message-ID") or None) if got is not None else None

    def _find(self, key: str) -> Json | None:
        for entry in self._list_drafts():
            got = self._draft(str(entry["id"]))
            if got is not None and _header(got, KEY_HEADER) == key:
                return got
        return None

    def _list_drafts(self) -> Iterator[Json]:
        listing = self.api.pages(self.users.drafts().list, "gmail.users.drafts.list",
                                 {"userId": "me", "maxResults": PAGE_SIZE})
        for _, body in listing:
            yield from body.get("drafts", [])


def _ref(key: str, draft: Json, message_id: str | None) -> ItemRef:
    thread = draft.get("message", {}).get("threadId")
    return ItemRef(key, str(draft["id"]), str(thread) if thread else None, message_id)


def _header_block(message: Json) -> bytes:
    """The headers of a ``format=metadata`` message as an RFC 5322 header block."""
    headers = message.get("payload", {}).get("headers", [])
    return mailparse.header_block((str(h.get("name", "")), str(h.get("value", ""))) for h in headers)


def _header(message_or_draft: Json, name: str) -> str:
    msg = message_or_draft.get("message", message_or_draft)
    for h in msg.get("payload", {}).get("headers", []):
        if str(h.get("name", "")).lower() == name.lower():
            return " ".join(str(h.get("value", "")).split())
    return ""


def _internal_date(body: Json) -> datetime:
    try:
        return datetime.fromtimestamp(int(body["internalDate"]) / 1000, UTC)
    except (KeyError, ValueError, TypeError, OverflowError):
        return datetime.fromtimestamp(0, UTC)


def _mail_message(body: Json) -> MailMessage:
    """A ``messages.get(format=metadata)`` answer as a MailMessage. The headers are put back
    into a header block and read by :mod:`inbox_followup.formats.mailparse`, so Gmail messages are
    understood exactly as Maildir ones are."""
    labels = set(body.get("labelIds", []))
    folder = "sent" if "SENT" in labels else "inbox"
    date = _internal_date(body)  # "more reliable than the Date header" (discovery document)
    payload = body.get("payload", {})
    raw = _header_block(body)
    msg_id = str(body.get("id", ""))
    try:
        parsed = mailparse.parse_message(raw, msg_id=msg_id, folder=folder, fallback_date=date)
    except ItemError:
        parsed = MailMessage(id=msg_id, folder=folder, date=date)
    has_type = any(str(h.get("name", "")).lower() == "content-type" for h in payload.get("headers", []))
    return replace(
        parsed, date=date, thread_id=body.get("threadId") or None,
        snippet=html.unescape(str(body.get("snippet", ""))),
        content_type=parsed.content_type if has_type else str(payload.get("mimeType") or "text/plain"),
    )
