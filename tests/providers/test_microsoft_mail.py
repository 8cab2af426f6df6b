"""The Microsoft provider's mail half against the Graph fake: deltas, drafts, replies, safety."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import (
    Artifact,
    ArtifactKind,
    DraftContent,
    ItemRef,
    Person,
    SyncWindow,
    artifact_key,
)
from inbox_followup.errors import ProviderError
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY
from inbox_followup.providers.microsoft.mail import PENDING, message_from_graph
from tests.contract.harness_microsoft import USER, MicrosoftHarness

WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
JANE = Person("jane.doe@acme.io", "Jane Doe")


@pytest.fixture
def h(tmp_path: Path) -> Iterator[MicrosoftHarness]:
    harness = MicrosoftHarness(tmp_path)
    yield harness
    assert harness.send_attempts() == 0
    harness.close()


def draft(kind: ArtifactKind = ArtifactKind.THANK_YOU_DRAFT, body: str = "Hi Jane,\n\nThanks.",
          subject: str = "Thank you", in_reply_to: str | None = None) -> Artifact:
    content = DraftContent(JANE, subject, body, in_reply_to, (in_reply_to,) if in_reply_to else ())
    key = artifact_key("abc", kind, JANE.email)
    return Artifact(key, kind, "abc", "app", WINDOW.start, JANE.email, draft=content)


def raw_mail(*lines: str, body: str = "Hello") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def test_outlook_out_of_office_headers_are_kept() -> None:
    item = {
        "id": "m1", "receivedDateTime": "2026-11-23T16:00:00Z", "subject": "Automatic reply: Thanks",
        "from": {"emailAddress": {"name": "Jane", "address": "Jane.Doe@ACME.io"}},
        "toRecipients": [{"emailAddress": {"address": USER}}], "bodyPreview": "I am away",
        "conversationId": "c1", "internetMessageId": "<oof@acme.io>",
        "internetMessageHeaders": [
            {"name": "X-Auto-Response-Suppress", "value": "All"},
            {"name": "X-MS-Exchange-Inbox-Rules-Loop", "value": "jane.doe@acme.io"},
            {"name": "In-Reply-To", "value": "<t1@x>"},
            {"name": "References", "value": "<t0@x> <t1@x>"},
            {"name": "X-Ifu-Has-Calendar", "value": "yes"},  # forged: never taken
        ],
    }
    m = message_from_graph(item, "inbox")
    assert m is not None and m.sender is not None and m.sender.email == "jane.doe@acme.io"
    assert m.header("x-auto-response-suppress") == "All"
    assert m.header("x-ms-exchange-inbox-rules-loop") == "jane.doe@acme.io"
    assert m.references == ("<t1@x>", "<t0@x>")
    assert m.header("x-ifu-has-calendar") is None
    assert m.thread_id == "c1" and m.snippet == "I am away"


def test_reports_and_invitations_are_marked() -> None:
    report = {"id": "m2", "receivedDateTime": "2026-11-23T16:00:00Z", "internetMessageHeaders": [
        {"name": "Content-Type", "value": 'multipart/report; report-type=delivery-status; boundary="b"'}]}
    m = message_from_graph(report, "inbox")
    assert m is not None and m.content_type == "multipart/report"
    assert m.header("x-ifu-report-type") == "delivery-status"
    invite = {"id": "m3", "receivedDateTime": "2026-11-23T16:00:00Z",
              "@odata.type": "#microsoft.graph.eventMessageRequest"}
    m = message_from_graph(invite, "inbox")
    assert m is not None and m.header("x-ifu-has-calendar") == "yes"
    assert message_from_graph({**invite, "isDraft": True}, "inbox") is None


def test_first_read_is_bounded_by_the_window(h: MicrosoftHarness) -> None:
    h.deliver(raw_mail("From: a@acme.io", "Subject: old", "Message-ID: <old@a>",
                       "Date: Mon, 01 Jun 2026 10:00:00 +0000"))
    h.deliver(raw_mail("From: a@acme.io", "Subject: new", "Message-ID: <new@a>",
                       "Date: Mon, 23 Nov 2026 10:00:00 +0000"))
    page = h.new_provider().mail_changes(None, WINDOW)
    assert [m.message_id for m in page.messages] == ["<new@a>"]


def test_expired_mail_delta_rescans_the_window(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    first = p.mail_changes(None, WINDOW)
    h.deliver(raw_mail("From: a@acme.io", "Subject: hi", "Message-ID: <m@a>",
                       "Date: Mon, 23 Nov 2026 10:00:00 +0000"))
    h.expire_cursors()
    page = p.mail_changes(first.cursor, WINDOW)
    assert [m.message_id for m in page.messages] == ["<m@a>"]


def test_a_new_draft_carries_the_key_twice(h: MicrosoftHarness) -> None:
    a = draft()
    ref = h.new_provider().put_draft(a, None)
    stored = h.fake.state.messages[ref.provider_id]
    assert stored["_props"] == {KEY_PROPERTY: a.key}
    assert {"name": "X-Inbox-Followup-Key", "value": a.key} in stored["internetMessageHeaders"]
    assert ref.thread_id == stored["conversationId"]
    assert ref.message_id == stored["internetMessageId"]


@given(body=st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.just("\n"), max_size=200),
       subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_an_untouched_draft_keeps_its_fingerprint(h: MicrosoftHarness, body: str, subject: str) -> None:
    a = draft(body=body, subject=subject)
    p = h.new_provider()
    ref = p.put_draft(a, None)
    snap = p.get_draft(ref)
    assert snap is not None and snap.fingerprint == a.content_hash
    p.delete_draft(ref)


def test_a_sent_draft_is_found_by_conversation_not_by_id(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    mail = p.mail_changes(None, WINDOW)
    a = draft()
    ref = p.put_draft(a, None)
    sent = h.fake.user_sends_draft(a.key)
    assert sent["id"] != ref.provider_id
    assert p.get_draft(ref) is None
    [m] = p.mail_changes(mail.cursor, WINDOW).messages
    assert (m.folder, m.thread_id, m.message_id, m.key) == ("sent", ref.thread_id, ref.message_id, a.key)


def test_follow_up_is_a_reply_patched_with_our_text(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    thanks = draft()
    ref = p.put_draft(thanks, None)
    h.user_sends_draft(thanks.key)
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Hi Jane,\n\nAny news?", "Re: Thank you",
                   in_reply_to=ref.message_id)
    fref = p.put_draft(follow, None)
    assert fref.thread_id == ref.thread_id
    snap = p.get_draft(fref)
    assert snap is not None and snap.fingerprint == follow.content_hash  # no quoted thread left
    assert h.fake.count("POST", "createReply") == 1


def test_a_crash_between_create_reply_and_patch_leaves_no_duplicate(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    thanks = draft()
    ref = p.put_draft(thanks, None)
    h.user_sends_draft(thanks.key)
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Any news?", "Re: Thank you", ref.message_id)
    sent_id = h.fake.folder("sentitems")[0]["id"]
    p.client.request("POST", f"me/messages/{sent_id}/createReply", body={
        "message": {"singleValueExtendedProperties": [
            {"id": KEY_PROPERTY, "value": follow.key + PENDING}]}})  # ...and the process dies
    fresh = h.new_provider()
    assert fresh.find_by_key(follow.key, True) is None  # not mistaken for a finished draft
    done = fresh.put_draft(follow, None)
    assert len(h.fake.folder("drafts")) == 1
    snap = fresh.get_draft(done)
    assert snap is not None and snap.fingerprint == follow.content_hash


def test_an_ambiguous_draft_create_is_not_repeated_blindly(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    h.fake.fail_next(1, 502, None, after=True, method="POST")
    ref = p.put_draft(draft(), None)
    assert len(h.fake.folder("drafts")) == 1
    assert h.fake.folder("drafts")[0]["id"] == ref.provider_id
    h.fake.fail_next(1, 502, None, method="POST")  # refused before anything happened
    with pytest.raises(ProviderError):
        p.put_draft(draft(ArtifactKind.FEEDBACK_DRAFT), None)
    assert len(h.fake.folder("drafts")) == 1
    assert h.fake.count("POST", "/me/messages") == 2  # never retried blindly


def test_delete_never_touches_sent_or_foreign_mail(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    sent = h.fake.user_sends_draft(a.key)
    p.delete_draft(ItemRef(a.key, sent["id"]))  # even if the id had survived the send
    with h.fake.state.lock:
        mine = h.fake.state.put_message("drafts", {"subject": "my own draft", "isDraft": True})
    p.delete_draft(ItemRef(a.key, mine["id"]))  # a draft without our key
    assert {m["id"] for m in h.fake.folder("sentitems")} == {sent["id"]}
    assert mine["id"] in h.fake.state.messages
    assert h.fake.count("DELETE") == 0
    assert ref.provider_id not in h.fake.state.messages


def test_rewrite_of_a_sent_draft_does_not_create_a_duplicate_in_sent(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    a = draft()
    p.put_draft(a, None)
    sent = h.fake.user_sends_draft(a.key)
    with pytest.raises(ProviderError):
        p.put_draft(draft(body="newer"), ItemRef(a.key, sent["id"]))  # Graph: 400 on sent mail
    assert h.fake.folder("drafts") == []


def test_inbound_reply_is_in_the_thank_you_conversation(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    mail = p.mail_changes(None, WINDOW)
    a = draft()
    ref = p.put_draft(a, None)
    h.fake.user_sends_draft(a.key, datetime(2026, 11, 20, 9, tzinfo=UTC))
    mail = p.mail_changes(mail.cursor, WINDOW)
    h.deliver(raw_mail("From: Jane Doe <jane.doe@acme.io>", f"To: {USER}", "Subject: RE: Thank you",
                       "Message-ID: <r@acme.io>", f"In-Reply-To: {ref.message_id}",
                       "Date: Mon, 23 Nov 2026 10:00:00 +0000"))
    [m] = p.mail_changes(mail.cursor, WINDOW).messages
    assert m.thread_id == ref.thread_id and ref.message_id in m.references
    assert m.date == datetime(2026, 11, 23, 10, tzinfo=UTC) - timedelta(0)


def test_a_draft_the_user_deleted_is_gone_though_its_id_still_answers(h: MicrosoftHarness) -> None:
    # Outlook's delete (and Graph's DELETE) moves a draft to Deleted Items, where it keeps
    # its immutable id and isDraft; it is no longer a draft in Drafts all the same.
    p = h.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    h.user_deletes_draft(a.key)
    assert ref.provider_id in h.fake.state.messages  # in Deleted Items now
    assert p.get_draft(ref) is None
    assert p.find_by_key(a.key, True) is None
    p.delete_draft(ref)  # left alone: the user's Deleted Items are theirs
    assert ref.provider_id in h.fake.state.messages


def test_delete_moves_our_draft_out_of_drafts(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    ref = p.put_draft(draft(), None)
    p.delete_draft(ref)
    assert h.fake.folder("drafts") == []
    assert p.get_draft(ref) is None
