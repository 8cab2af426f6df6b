"""The mail half of the Microsoft provider: folder deltas in, drafts out. Never sends.

- Replies and sent mail: ``GET /me/mailFolders/{inbox,sentitems}/messages/delta`` with
  ``changeType=created``, ``$select``, ``$expand`` and ``$filter=receivedDateTime ge`` on the
  first request only; the whole ``@odata.deltaLink`` of each folder is the cursor
  (https://learn.microsoft.com/graph/api/message-delta). An expired token means a bounded
  re-scan of that folder from the window's start, never "no mail".
- Drafts: ``POST /me/messages`` with the key in a single-value extended property and in an
  ``X-Inbox-Followup-Key`` internet header (custom headers must start with ``x-``:
  https://learn.microsoft.com/graph/api/user-post-messages). A follow-up is a ``createReply``
  on the sent thank-you (found by ``internetMessageId``), so it sits in the same conversation;
  its text is then set with PATCH, never ``comment`` and ``body`` together (Graph answers 400:
  https://learn.microsoft.com/graph/api/message-createreply).
- Sending a draft gives the sent copy a new id in Sent Items
  (microsoftgraph/microsoft-graph-docs issues #11969, #1533), so a sent draft is recognised by
  ``conversationId``/``internetMessageId`` and the key, never by the draft id.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import (
    Artifact,
    DraftContent,
    DraftSnapshot,
    ItemRef,
    MailMessage,
    MailPage,
    Person,
    SyncWindow,
)
from inbox_followup.errors import ItemError, ProviderError
from inbox_followup.formats import mailparse
from inbox_followup.providers.cursor import dump_cursor, load_cursor
from inbox_followup.providers.microsoft.graph import (
    JSON,
    KEY_EXPAND,
    KEY_PROPERTY,
    AmbiguousWriteError,
    GraphClient,
    GraphError,
    body_text,
    key_filter,
    parse_time,
    quote_odata,
    tagged_key,
    utc_iso,
)

log = logging.getLogger(__name__)

KEY_HEADER = "X-Inbox-Followup-Key"
PENDING = "#pending"  # key value on a reply draft whose text is not written yet
FOLDERS = (("inbox", "inbox"), ("sentitems", "sent"))  # well-known folder name, MailMessage.folder
PAGE_SIZE = 500
MESSAGE_FIELDS = (
    "id,conversationId,internetMessageId,from,toRecipients,ccRecipients,subject,"
    "receivedDateTime,sentDateTime,bodyPreview,internetMessageHeaders,isDraft"
)
DRAFT_REF_FIELDS = "id,conversationId,internetMessageId"


def message_from_graph(item: JSON, folder: str) -> MailMessage | None:
    """A delta entry as MailMessage; None for drafts and removals. Raises ItemError.

    The internet headers go through :func:`inbox_followup.formats.mailparse.parse_message`,
    the one header reader, as Gmail's do; what Graph gives as properties (sender,
    recipients, subject, ids, dates, preview) then stands in for what the headers said,
    because copies in Sent Items carry no internet headers at all (docs/api-notes.md).
    """
    if "@removed" in item or item.get("isDraft"):
        return None
    msg_id = str(item["id"])
    stamp = item.get("sentDateTime") if folder == "sent" else item.get("receivedDateTime")
    try:
        date = parse_time(str(stamp or item.get("receivedDateTime") or ""))
    except ValueError:
        raise ItemError(f"message {msg_id}", "no usable date") from None
    fields = [(str(h.get("name", "")), str(h.get("value", "")))
              for h in item.get("internetMessageHeaders") or () if isinstance(h, dict)]
    try:
        parsed = mailparse.parse_message(mailparse.header_block(fields), msg_id=msg_id,
                                         folder=folder, fallback_date=date)
    except ItemError:  # no headers: a copy in Sent Items
        parsed = MailMessage(id=msg_id, folder=folder, date=date)
    headers = parsed.headers
    if "eventmessage" in str(item.get("@odata.type", "")).lower():
        headers += (("x-ifu-has-calendar", "yes"),)  # an invitation, as mailparse marks it
    recipients = [
        str((r.get("emailAddress") or {}).get("address") or "").strip().lower()
        for r in [*(item.get("toRecipients") or ()), *(item.get("ccRecipients") or ())]
    ]
    key = parsed.key or tagged_key(item)
    return replace(
        parsed, date=date, sender=_person(item.get("from")),
        recipients=tuple(dict.fromkeys(r for r in recipients if r)),
        subject=str(item.get("subject") or ""),
        message_id=item.get("internetMessageId") or None,
        thread_id=item.get("conversationId") or None, headers=headers,
        snippet=str(item.get("bodyPreview") or ""),
        key=key.removesuffix(PENDING) if key else None,
    )


def _person(recipient: Any) -> Person | None:
    email_address = (recipient or {}).get("emailAddress") or {}
    address = str(email_address.get("address") or "").strip().lower()
    return Person(address, email_address.get("name") or None) if address else None


def draft_fields(draft: DraftContent) -> JSON:
    """Subject, text body and recipient of a draft (whitespace in one-line fields folded)."""
    to: JSON = {"address": draft.to.email.strip()}
    if draft.to.name:
        to["name"] = " ".join(draft.to.name.split())
    return {
        "subject": " ".join(draft.subject.split()),
        "body": {"contentType": "text", "content": draft.body},
        "toRecipients": [{"emailAddress": to}],
    }


def _tag(value: str) -> list[JSON]:
    return [{"id": KEY_PROPERTY, "value": value}]


def _ref(key: str, item: JSON) -> ItemRef:
    return ItemRef(
        key, str(item["id"]), item.get("conversationId") or None,
        item.get("internetMessageId") or None,
    )


class GraphMail:
    """Mail reads and draft writes for one account."""

    def __init__(self, client: GraphClient, account: AccountConfig) -> None:
        self._client = client
        self._account = account.name
        self._drafts_folder: str | None = None  # the id behind the well-known name "drafts"

    # --- reading ------------------------------------------------------------------------------

    def changes(self, cursor: str | None, window: SyncWindow) -> MailPage:
        """Inbox and Sent Items messages since ``cursor``. Raises ProviderError."""
        state = load_cursor(cursor, f"{self._account}: mail")
        messages: list[MailMessage] = []
        new_state: dict[str, Any] = {}
        for folder, label in FOLDERS:
            link = state.get(folder)
            try:
                found, link = self._folder(folder, label, link, window)
            except GraphError as exc:
                if not (link and exc.sync_state_gone):
                    raise
                log.info("%s: %s delta token expired; re-reading since %s",
                         self._account, folder, window.start.date())
                found, link = self._folder(folder, label, None, window)
            messages.extend(found)
            new_state[folder] = link
        return MailPage(tuple(messages), dump_cursor(new_state))

    def _folder(
        self, folder: str, label: str, link: str | None, window: SyncWindow
    ) -> tuple[list[MailMessage], str]:
        url = link or f"me/mailFolders/{folder}/messages/delta"
        params = None if link else {
            "changeType": "created",
            "$select": MESSAGE_FIELDS,
            "$expand": KEY_EXPAND,
            "$filter": f"receivedDateTime ge {utc_iso(window.start)}",
        }
        found: dict[str, MailMessage] = {}
        delta: str | None = None
        for page in self._client.pages(url, params, prefer=(f"odata.maxpagesize={PAGE_SIZE}",)):
            for item in page.get("value") or ():
                try:
                    message = message_from_graph(item, label)
                except ItemError as exc:
                    log.warning("%s: skipped: %s", self._account, exc)
                    continue
                if message is not None:
                    found[message.id] = message
            delta = page.get("@odata.deltaLink") or delta
        if not delta:
            raise ProviderError(f"{folder} delta ended without a deltaLink")
        return list(found.values()), delta

    # --- drafts -------------------------------------------------------------------------------

    def put(self, artifact: Artifact, existing: ItemRef | None) -> ItemRef:
        """Create the draft, or rewrite ``existing``; idempotent by key.

        Raises ItemError (not a draft artifact), ProviderError.
        """
        draft = artifact.draft
        if draft is None:
            raise ItemError(artifact.key, "not a draft artifact")
        key, fields = artifact.key, draft_fields(draft)
        final = {**fields, "singleValueExtendedProperties": _tag(key)}
        if existing is not None and existing.provider_id:
            done = self._patch(existing.provider_id, final)
            if done is not None:
                return _ref(key, done)
        # Idempotent by key: a draft a crash left behind is finished, not duplicated.
        found = self.find(key) or (self._find(key + PENDING) if draft.in_reply_to else None)
        if found is not None:
            done = self._patch(found.provider_id, final)
            if done is not None:
                return _ref(key, done)
        original = self._find_sent(draft.in_reply_to) if draft.in_reply_to else None
        if original is not None:
            return self._reply(original, key, fields)
        body = {
            **fields,
            "internetMessageHeaders": [{"name": KEY_HEADER, "value": key}],
            "singleValueExtendedProperties": _tag(key),
        }
        try:
            created = self._client.request("POST", "me/messages", body=body, idempotent=False)
        except AmbiguousWriteError:
            found = self.find(key)  # the first attempt may have gone through
            if found is None:
                raise
            return found
        return _ref(key, created)

    def _reply(self, original_id: str, key: str, fields: JSON) -> ItemRef:
        # Tagged "pending" at birth: a crash before the PATCH leaves a draft the next
        # put_draft finishes, and that find_by_key does not mistake for a finished one.
        body = {"message": {"singleValueExtendedProperties": _tag(key + PENDING)}}
        try:
            reply = self._client.request(
                "POST", f"me/messages/{original_id}/createReply", body=body, idempotent=False
            )
            reply_id = str(reply["id"])
        except AmbiguousWriteError:
            found = self._find(key + PENDING)
            if found is None:
                raise
            reply_id = found.provider_id
        done = self._patch(reply_id, {**fields, "singleValueExtendedProperties": _tag(key)})
        if done is None:
            raise ProviderError(f"{key}: the new reply draft disappeared before it was written")
        return _ref(key, done)

    def _patch(self, message_id: str, fields: JSON) -> JSON | None:
        try:
            return self._client.request("PATCH", f"me/messages/{message_id}", body=fields)
        except GraphError as exc:
            if exc.missing:
                return None
            raise

    def _find_sent(self, internet_message_id: str) -> str | None:
        params = {
            "$filter": f"internetMessageId eq {quote_odata(internet_message_id)}",
            "$select": "id,isDraft,conversationId",
            "$top": "10",
        }
        for item in self._client.request("GET", "me/messages", params=params).get("value") or ():
            if not item.get("isDraft"):
                return str(item["id"])
        return None

    def find(self, key: str) -> ItemRef | None:
        """The finished draft tagged with ``key`` in Drafts. Raises ProviderError."""
        return self._find(key)

    def _find(self, value: str) -> ItemRef | None:
        params = {"$filter": key_filter(value), "$select": DRAFT_REF_FIELDS, "$top": "5"}
        data = self._client.request("GET", "me/mailFolders/drafts/messages", params=params)
        for item in data.get("value") or ():
            return _ref(value.removesuffix(PENDING), item)
        return None

    def get(self, ref: ItemRef) -> DraftSnapshot | None:
        """The draft's recipient, subject and text, or None once it is not in Drafts."""
        item = self._get(ref.provider_id, "isDraft,parentFolderId,subject,body,toRecipients")
        if item is None or not self._in_drafts(item):
            return None
        to = [_person(r) for r in item.get("toRecipients") or ()]
        address = next((p.email for p in to if p is not None), "")
        return DraftSnapshot(address, str(item.get("subject") or ""), body_text(item.get("body")))

    def delete(self, ref: ItemRef) -> None:
        """Delete our draft. Anything sent, out of Drafts (the user deleted it) or not tagged
        with ``ref.key`` is left alone."""
        item = self._get(ref.provider_id, "isDraft,parentFolderId", expand=True)
        if item is None:
            return
        tagged = tagged_key(item)
        if not self._in_drafts(item) or tagged not in (ref.key, ref.key + PENDING):
            log.warning("%s: %s is not our draft any more; left alone", self._account, ref.key)
            return
        try:
            self._client.request("DELETE", f"me/messages/{ref.provider_id}")
        except GraphError as exc:
            if not exc.missing:
                raise

    def _in_drafts(self, item: JSON) -> bool:
        """Whether ``item`` is a draft in Drafts. A draft the user deletes moves to Deleted
        Items and, under ImmutableId, keeps its id and ``isDraft``
        (https://learn.microsoft.com/graph/outlook-immutable-id: ids stay the same when an
        item moves folder), so the folder says whether it is still a draft to the user."""
        if not item.get("isDraft"):
            return False
        if self._drafts_folder is None:
            folder = self._client.request("GET", "me/mailFolders/drafts", params={"$select": "id"})
            self._drafts_folder = str(folder["id"])
        parent = item.get("parentFolderId")
        return parent is None or parent == self._drafts_folder  # not told: isDraft decides

    def _get(self, message_id: str, select: str, *, expand: bool = False) -> JSON | None:
        params = {"$select": select}
        if expand:
            params["$expand"] = KEY_EXPAND
        try:
            return self._client.request("GET", f"me/messages/{message_id}", params=params)
        except GraphError as exc:
            if exc.missing:
                return None
            raise



__all__ = ["KEY_HEADER", "GraphMail", "message_from_graph"]
