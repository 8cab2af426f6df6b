"""The Google provider's Gmail half against the loopback fake, through the real client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from inbox_followup.core.model import Artifact, ArtifactKind, DraftContent, Person, SyncWindow, artifact_key

from ..contract.harness_google import USER, GoogleHarness

WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
JANE = Person("jane.doe@acme.io", "Jane Doe")
DUE = datetime(2026, 11, 19, 21, 0, tzinfo=UTC)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[GoogleHarness]:
    harness = GoogleHarness(tmp_path)
    yield harness
    harness.close()


def draft(kind: ArtifactKind = ArtifactKind.THANK_YOU_DRAFT, subject: str = "Thank you — ACME",
          body: str = "Hi Jane,\n\nThank you for your time.\n\nAlex", thread_id: str | None = None,
          in_reply_to: str | None = None) -> Artifact:
    content = DraftContent(JANE, subject, body, in_reply_to,
                           (in_reply_to,) if in_reply_to else (), thread_id)
    return Artifact(artifact_key("abc", kind, JANE.email), kind, "abc", "app", DUE, JANE.email,
                    draft=content)


def mail(n: int, day: int = 23, extra: str = "") -> bytes:
    return (f"From: =?utf-8?q?Jane_D=C3=B6e?= <Jane.Doe@ACME.io>\r\nTo: {USER}\r\n"
            f"Cc: Bob <bob@acme.io>\r\nSubject: =?utf-8?q?Re:_Merci_=C3=A0_vous?=\r\n"
            f"Date: Mon, {day} Nov 2026 10:00:00 -0600\r\nMessage-ID: <r{n}@acme.io>\r\n"
            f"In-Reply-To: <t1@example.com>\r\nReferences: <t0@example.com> <t1@example.com>\r\n"
            f"{extra}\r\nThanks Alex!\r\n").encode()


def test_an_idle_sync_is_one_history_request(h: GoogleHarness) -> None:
    p = h.new_provider()
    page = p.mail_changes(None, WINDOW)
    h.fake.reset_counters()
    again = p.mail_changes(page.cursor, WINDOW)
    assert again.messages == ()
    assert dict(h.fake.counts) == {"gmail.users.history.list": 1} and h.fake.quota_units == 2


def test_a_reply_is_read_from_headers_only(h: GoogleHarness) -> None:
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    h.deliver(mail(1, extra="Auto-Submitted: auto-replied\r\nX-Unrelated: x\r\n"))
    h.fake.reset_counters()
    page = p.mail_changes(cursor, WINDOW)
    assert dict(h.fake.counts) == {"gmail.users.history.list": 1, "gmail.users.messages.get": 1}
    assert h.fake.quota_units == 7
    [m] = page.messages
    assert m.folder == "inbox" and m.sender == Person("jane.doe@acme.io", "Jane Döe")
    assert m.recipients == (USER, "bob@acme.io")
    assert m.subject == "Re: Merci à vous"
    assert m.references == ("<t1@example.com>", "<t0@example.com>")
    assert m.message_id == "<r1@acme.io>" and m.header("auto-submitted") == "auto-replied"
    assert m.header("x-unrelated") is None and m.key is None
    assert m.date == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # internalDate
    assert m.thread_id == h.fake.gmail.messages[m.id].thread_id
    gets = [q for name, q in h.fake.log if name == "gmail.users.messages.get"]
    assert all(q["format"] == ["metadata"] for q in gets)


def test_our_own_drafts_cost_no_message_fetch(h: GoogleHarness) -> None:
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    ref = p.put_draft(draft(), None)
    p.put_draft(draft(body="Hi Jane,\n\nNew words."), ref)
    h.fake.reset_counters()
    page = p.mail_changes(cursor, WINDOW)
    assert page.messages == () and h.fake.calls("gmail.users.messages.get") == 0


def test_an_expired_history_id_is_a_bounded_rescan(h: GoogleHarness) -> None:
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    h.deliver(mail(1, day=23))
    h.deliver(mail(2, day=24))
    h.fake.gmail.deliver(mail(3).replace(b"Nov 2026", b"Jan 2026"))  # before the window
    h.fake.gmail.deliver(mail(4).replace(b"Nov 2026", b"Feb 2026"))
    h.fake.gmail.now_ms = int(datetime(2026, 11, 25, tzinfo=UTC).timestamp() * 1000)
    p.put_draft(draft(), None)
    h.fake.gmail.expire_history()
    h.fake.reset_counters()
    page = p.mail_changes(cursor, WINDOW)
    assert sorted(m.message_id or "" for m in page.messages) == ["<r1@acme.io>", "<r2@acme.io>"]
    # newest first: the draft, r2, r1, then the first one older than the window stops it
    assert h.fake.calls("gmail.users.messages.get") == 4
    assert h.fake.calls("gmail.users.getProfile") == 1
    h.deliver(mail(5))
    later = p.mail_changes(page.cursor, WINDOW)
    assert [m.message_id for m in later.messages] == ["<r5@acme.io>"]


def test_no_search_and_no_bodies_are_ever_asked_for(h: GoogleHarness) -> None:
    p = h.new_provider()
    h.deliver(mail(1))
    p.mail_changes(None, WINDOW)
    ref = p.put_draft(draft(), None)
    p.get_draft(ref)
    p.find_by_key(draft().key, True)
    p.put_draft(draft(body="Hi Jane,\n\nOther words."), ref)
    p.delete_draft(ref)
    for name, q in h.fake.log:
        assert "q" not in q
        if name in ("gmail.users.messages.get", "gmail.users.drafts.get"):
            # gmail.metadata refuses format=full|raw, even next to gmail.compose
            assert q.get("format") == ["metadata"], name


def test_drafts_are_tagged_threaded_and_stable(h: GoogleHarness) -> None:
    p = h.new_provider()
    thanks = draft()
    ref = p.put_draft(thanks, None)
    raw = h.fake.gmail.draft_message(ref.provider_id).raw
    headers = BytesHeaderParser().parsebytes(raw)
    assert headers["X-Inbox-Followup-Key"] == thanks.key
    assert headers["Message-ID"] == ref.message_id and str(ref.message_id).endswith("@example.com>")
    assert headers["From"] == f"Alex Morgan <{USER}>"
    again = p.put_draft(draft(body="Hi Jane,\n\nOther words."), ref)
    assert again.provider_id == ref.provider_id and again.message_id == ref.message_id
    assert len(h.fake.gmail.drafts) == 1
    h.user_sends_draft(thanks.key)
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Re: Thank you — ACME", "Hi Jane,\n\nAny news?",
                   thread_id=ref.thread_id, in_reply_to=ref.message_id)
    fref = p.put_draft(follow, None)
    assert fref.thread_id == ref.thread_id
    sent = [m for m in h.fake.gmail.messages.values() if "SENT" in m.labels]
    assert h.fake.gmail.draft_message(fref.provider_id).thread_id == sent[0].thread_id


def test_sending_is_seen_as_a_sent_message_in_the_thread(h: GoogleHarness) -> None:
    h.fake.gmail.rewrite_message_id_on_send = True  # the worst case (API-NOTES 7, question 3)
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    ref = p.put_draft(draft(), None)
    h.user_sends_draft(draft().key)
    assert p.get_draft(ref) is None
    [m] = p.mail_changes(cursor, WINDOW).messages
    assert m.folder == "sent" and m.thread_id == ref.thread_id and m.key == draft().key
    assert m.message_id != ref.message_id


def test_a_send_recorded_as_a_label_change_is_seen_as_sent(h: GoogleHarness) -> None:
    """Gmail may record a sent draft as SENT added to the draft's own message rather than as
    a new message (https://github.com/elie222/inbox-zero/pull/2619)."""
    h.fake.gmail.send_relabels = True
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    ref = p.put_draft(draft(), None)
    h.user_sends_draft(draft().key)
    assert p.get_draft(ref) is None
    h.fake.reset_counters()
    [m] = p.mail_changes(cursor, WINDOW).messages
    assert m.folder == "sent" and m.thread_id == ref.thread_id and m.key == draft().key
    assert h.fake.calls("gmail.users.history.list") == 1
    h.deliver(mail(1))  # labels added to an inbound message cost no second fetch
    cursor = p.mail_changes(cursor, WINDOW).cursor
    h.fake.reset_counters()
    assert p.mail_changes(cursor, WINDOW).messages == ()
    assert h.fake.calls("gmail.users.messages.get") == 0


def test_a_draft_edited_in_the_web_ui_is_found_under_its_new_id(h: GoogleHarness) -> None:
    p = h.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    h.user_edits_draft(a.key, "Hi Jane,\n\nMy own words.", web_ui=True)
    assert h.draft_id(a.key) != ref.provider_id
    snap = p.get_draft(ref)
    assert snap is not None and snap.fingerprint != a.content_hash
    assert snap.to == JANE.email and snap.subject == "Thank you — ACME"


def test_a_draft_resaved_by_the_web_ui_counts_as_edited_but_is_still_found(
        h: GoogleHarness) -> None:
    """gmail.metadata cannot read a draft's text back; Gmail gives the draft a new message on
    every save, so a re-save looks like an edit (the safe side: it is kept)."""
    p = h.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    assert p.get_draft(ref) == h.drafts()[a.key]  # untouched: what we wrote
    h.user_edits_draft(a.key, a.draft.body if a.draft else "", web_ui=True)  # autosave, no edit
    snap = p.get_draft(ref)
    assert snap is not None and snap.fingerprint != a.content_hash
    newer = draft(body="Hi Jane,\n\nWith my notes now.")
    ref2 = p.put_draft(newer, ref)  # when the caller decides to rewrite, the old ref finds it
    assert ref2.provider_id == h.draft_id(a.key) != ref.provider_id
    assert [s.fingerprint for s in h.drafts().values()] == [newer.content_hash]
    again = p.get_draft(ref2)
    assert again is not None and again.fingerprint == newer.content_hash
    p.delete_draft(ref)  # the old ref still finds it, by thread and key
    assert h.drafts() == {}


def test_a_lost_draft_record_makes_drafts_look_edited_never_untouched(h: GoogleHarness) -> None:
    p = h.new_provider()
    a = draft()
    ref = p.put_draft(a, None)
    [record] = (h.root / "state" / "google").glob("*.drafts.json")
    assert record.stat().st_mode & 0o777 == 0o600  # it holds the user's texts
    record.unlink()
    snap = h.new_provider().get_draft(ref)
    assert snap is not None and snap.fingerprint != a.content_hash


def test_a_draft_without_our_key_is_never_deleted(h: GoogleHarness) -> None:
    p = h.new_provider()
    ref = p.put_draft(draft(), None)
    foreign = b"To: jane.doe@acme.io\r\nSubject: mine\r\n\r\nMy own draft.\r\n"
    h.fake.gmail.user_edits_draft(ref.provider_id, foreign)  # the key header is gone
    p.delete_draft(ref)
    assert ref.provider_id in h.fake.gmail.drafts
    assert h.fake.calls("gmail.users.drafts.delete") == 0


def test_a_create_whose_answer_was_lost_is_not_made_twice(h: GoogleHarness) -> None:
    p = h.new_provider()
    p.mail_changes(None, WINDOW)  # a kept-alive connection, as in a real pass
    h.fake.fail_next(1, method="gmail.users.drafts.create", lose_answer=True)
    ref = p.put_draft(draft(), None)
    assert list(h.fake.gmail.drafts) == [ref.provider_id]
    # httplib2 alone would have replayed the POST at once and made a second draft
    assert h.fake.calls("gmail.users.drafts.create") == 1
    assert h.fake.calls("gmail.users.drafts.list") == 1 and len(h.sleeps) == 1


def test_find_by_key_after_a_crash(h: GoogleHarness) -> None:
    p = h.new_provider()
    ref = p.put_draft(draft(), None)
    for i in range(3):  # the user's own drafts too
        raw = f"To: x@y.com\r\nSubject: n{i}\r\n\r\nbody\r\n".encode()
        h.fake.gmail.drafts_create({}, {}, {"message": {
            "raw": base64.urlsafe_b64encode(raw).decode()}})
    found = h.new_provider().find_by_key(draft().key, True)
    assert found == ref
    assert h.new_provider().find_by_key("ifu-none-thank_you_draft-x@y.com", True) is None


def test_a_late_reply_before_the_window_is_not_reported(h: GoogleHarness) -> None:
    old = mail(9).replace(b"Nov 2026", b"Sep 2026")
    h.fake.gmail.deliver(old)
    page = h.new_provider().mail_changes(None, WINDOW)
    assert page.messages == ()
    assert WINDOW.start - timedelta(days=60) < WINDOW.start  # the window is what bounds it


CORPUS = Path(__file__).resolve().parents[1] / "data" / "eml"


def test_every_corpus_message_reads_without_a_crash(h: GoogleHarness) -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".eml", ".txt"))
    if not files:
        pytest.skip("no corpus")
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    for path in files:
        h.fake.gmail.deliver(path.read_bytes())
    page = p.mail_changes(cursor, WINDOW)
    assert len(page.messages) == len(files)
    reports = [m for m in page.messages if m.content_type == "multipart/report"]
    assert reports  # delivery reports keep their type with headers only


def test_a_bounce_keeps_its_type_and_failed_recipients(h: GoogleHarness) -> None:
    p = h.new_provider()
    cursor = p.mail_changes(None, WINDOW).cursor
    h.deliver(b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: " + USER.encode()
              + b"\r\nSubject: Undelivered Mail\r\nX-Failed-Recipients: raj.patel@acme.io\r\n"
              b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n"
              b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b1--\r\n")
    [m] = p.mail_changes(cursor, WINDOW).messages
    assert m.content_type == "multipart/report"
    assert m.header("x-failed-recipients") == "raj.patel@acme.io"


def test_a_follow_up_whose_thread_was_deleted_is_made_in_a_new_thread(h: GoogleHarness) -> None:
    """drafts.create answers 404 for a threadId that no longer exists; that must not stop the
    account's pass on every run: the draft is made outside the thread instead."""
    p = h.new_provider()
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Re: Thank you — ACME", "Hi Jane,\n\nAny news?",
                   thread_id="18cdeadbeef", in_reply_to="<gone@example.com>")
    ref = p.put_draft(follow, None)
    assert ref.thread_id and ref.thread_id != "18cdeadbeef"
    assert list(h.drafts()) == [follow.key] and h.fake.calls("gmail.users.drafts.create") == 2


def test_rewriting_a_draft_whose_thread_was_deleted_makes_no_second_draft(
        h: GoogleHarness) -> None:
    p = h.new_provider()
    follow = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Re: Thank you — ACME", "Hi Jane,\n\nAny news?")
    ref = p.put_draft(follow, None)
    gone = draft(ArtifactKind.FOLLOW_UP_DRAFT, "Re: Thank you — ACME", "Hi Jane,\n\nAny news?!",
                 thread_id="18cdeadbeef", in_reply_to="<gone@example.com>")
    again = p.put_draft(gone, ref)
    assert again.provider_id == ref.provider_id and len(h.fake.gmail.drafts) == 1
    assert [s.fingerprint for s in h.drafts().values()] == [gone.content_hash]
