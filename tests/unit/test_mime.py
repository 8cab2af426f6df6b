"""Drafts as MIME (formats/mime.py): header injection, encoding, reading drafts back."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import DraftContent, Person, draft_fingerprint
from inbox_followup.core.text import sanitize_header_text
from inbox_followup.errors import ItemError
from inbox_followup.formats.mime import build_mime, snapshot_from_mime

JANE = Person("jane.doe@acme.com", "Jane Doe")
ME = Person("alex@example.com", "Alex Morgan")
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "ifu-abc123-thank_you_draft-jane.doe@acme.com"


# --- MIME ----------------------------------------------------------------------------------


def draft(subject: str = "Thank you", body: str = "Hi Jane,\n\nThanks.\n",
          to: Person = JANE, **kw: object) -> DraftContent:
    return DraftContent(to=to, subject=subject, body=body, **kw)  # type: ignore[arg-type]


def parse(raw: bytes):  # type: ignore[no-untyped-def]
    return BytesParser(policy=policy.default).parsebytes(raw)


BASE_HEADERS = ["From", "To", "Subject", "Date", "Message-ID", "X-Inbox-Followup-Key",
                "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]


def test_mime_headers_are_exactly_the_expected_set() -> None:
    raw = build_mime(draft(), sender=ME, key=KEY, message_id="<m1@example.com>", date=WHEN)
    msg = parse(raw)
    assert list(msg.keys()) == BASE_HEADERS
    assert msg["X-Inbox-Followup-Key"] == KEY
    assert msg["Message-ID"] == "<m1@example.com>"
    assert msg["Date"] == "Tue, 01 Dec 2026 09:00:00 +0000"
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"


def test_threading_headers_when_replying() -> None:
    d = draft(in_reply_to="<t1@acme.com>", references=("<t0@acme.com>", "bad ref", "<t1@acme.com>"))
    msg = parse(build_mime(d, sender=ME, key=KEY, message_id="m1@example.com", date=WHEN))
    assert msg["In-Reply-To"] == "<t1@acme.com>"
    assert msg["References"] == "<t0@acme.com> <t1@acme.com>"
    assert msg["Message-ID"] == "<m1@example.com>"  # brackets added


def test_header_injection_through_subject_and_names_is_impossible() -> None:
    d = draft(subject="Interview\r\nBcc: evil@x.com", to=Person("jane@acme.com",
                                                                "Jane\r\nBcc: evil@x.com"))
    sender = Person("alex@example.com", "Alex\nCc: evil2@x.com\r\n\r\nbody")
    raw = build_mime(d, sender=sender, key=KEY, message_id="<m1@example.com>", date=WHEN)
    msg = parse(raw)
    assert list(msg.keys()) == BASE_HEADERS
    assert msg["Bcc"] is None and msg["Cc"] is None
    assert [a.addr_spec for a in msg["To"].addresses] == ["jane@acme.com"]
    assert [a.addr_spec for a in msg["From"].addresses] == ["alex@example.com"]
    assert str(msg["Subject"]) == "Interview Bcc: evil@x.com"
    assert b"evil" not in raw.split(b"\r\n\r\n", 1)[1]  # nothing spilled into the body


@pytest.mark.parametrize("name", ["evil@x.com, " + "x" * 90, ":" + "x" * 90, '"a, b" ' * 12])
def test_long_names_with_specials_stay_one_address(name: str) -> None:
    # CPython's folder once unquoted long quoted names (gh-80222): "a, b" became two addresses
    raw = build_mime(draft(to=Person("jane@acme.com", name)), sender=ME, key=KEY,
                     message_id="<m1@example.com>", date=WHEN)
    addresses = parse(raw)["To"].addresses
    assert [a.addr_spec for a in addresses] == ["jane@acme.com"]
    assert addresses[0].display_name.startswith(name[:40])
    assert b"evil@x.com" not in raw


def test_non_ascii_is_encoded_per_rfc_2047() -> None:
    d = draft(subject="Merci — entretien chez Société Générale",
              to=Person("jane@acme.com", "Zoë Ünal"))
    raw = build_mime(d, sender=ME, key=KEY, message_id="<m1@example.com>", date=WHEN)
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # every header line is plain ASCII
    assert b"=?utf-8?" in head
    msg = parse(raw)
    assert str(msg["Subject"]) == "Merci — entretien chez Société Générale"
    assert msg["To"].addresses[0].display_name == "Zoë Ünal"


@pytest.mark.parametrize(
    "email",
    ["a@b.com, c@d.com", "<a@b.com>", "Jane <a@b.com>", "a b@c.com", "a@b.com\r\nBcc: x@y.com",
     "", "no-at-sign", "a@@b.com", "z\u00fc@b.com", "a@b_c.com", ".a@b.com", "a..b@c.com",
     "a@-b.com", "a;b@c.com"],
)
def test_bad_addresses_are_item_errors(email: str) -> None:
    with pytest.raises(ItemError) as err:
        build_mime(draft(to=Person(email)), sender=ME, key=KEY, message_id="<m@x>", date=WHEN)
    assert err.value.where == KEY


@pytest.mark.parametrize(
    ("key", "message_id"),
    [("ifu-x\r\nBcc: e@x.com", "<m@x>"), ("", "<m@x>"), (KEY, "<m@x>\r\nBcc: e@x.com"),
     (KEY, "no-domain"), (KEY, "<a b@x>")],
)
def test_bad_key_or_message_id_are_item_errors(key: str, message_id: str) -> None:
    with pytest.raises(ItemError):
        build_mime(draft(), sender=ME, key=key, message_id=message_id, date=WHEN)


def test_output_is_deterministic() -> None:
    d = draft(subject="Ünïcode " * 20, body="x" * 500 + "\n" + "é" * 300)
    first = build_mime(d, sender=ME, key=KEY, message_id="<m1@example.com>", date=WHEN)
    second = build_mime(d, sender=ME, key=KEY, message_id="<m1@example.com>", date=WHEN)
    assert first == second


def test_snapshot_of_a_client_edited_multipart_draft() -> None:
    raw = (b"To: Jane <Jane.Doe@ACME.com>\r\nSubject: =?utf-8?q?Thank_you_=E2=80=94_hi?=\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello there\r\n"
           b"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello there</p>\r\n--b--\r\n")
    snap = snapshot_from_mime(raw)
    assert (snap.to, snap.subject, snap.body.strip()) == ("Jane.Doe@ACME.com", "Thank you — hi",
                                                          "Hello there")
    assert snap.fingerprint == draft_fingerprint("jane.doe@acme.com", "Thank you — hi",
                                                 "Hello there")


def test_snapshot_of_an_html_only_draft() -> None:
    raw = b"To: j@x.com\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n<p>Hi<br>there</p>\r\n"
    assert snapshot_from_mime(raw).body.split() == ["Hi", "there"]


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n", b"no headers here\n"])
def test_snapshot_of_nothing_is_an_item_error(raw: bytes) -> None:
    with pytest.raises(ItemError):
        snapshot_from_mime(raw)


_draft_headers = st.sampled_from([
    b"To: ", b"Subject: ", b"Content-Type: ", b"Content-Transfer-Encoding: ", b"MIME-Version: ",
    b'"unclosed <x@y>', b"(c):", b":Foo <foo@example.com> <bar@example.com>", b"=?utf-8?b?w5w=?=",
    b"multipart/alternative; boundary=b", b"text/html; charset=x-bogus", b"base64", b"\r\n",
    b"--b\r\n", b"<p>", b"\r\n\r\n",
])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_draft_headers, st.binary(max_size=20)), max_size=25))
def test_snapshot_of_garbage_gives_a_snapshot_or_item_error(parts: list[bytes]) -> None:
    try:
        snap = snapshot_from_mime(b"".join(parts))
    except ItemError:
        return
    assert isinstance(snap.fingerprint, str)


_hostile = st.lists(
    st.one_of(
        st.text(max_size=8),
        st.sampled_from(["\r", "\n", "\r\n", "Bcc: evil@x.com", "=?utf-8?q?x?=", "\x00", "\t",
                         "\u2028", "\u202e", "\ufeff", '"', "\\", "<", ">", ",", ";", ":", "@",
                         "é", "😀", " ", "From ", ".", "=", "?", "x" * 90]),
    ),
    max_size=25,
).map("".join)
_addresses = st.from_regex(r"\A[a-z0-9][a-z0-9._+-]{0,20}@[a-z0-9]{1,10}\.(com|org|co\.uk)\Z")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=_hostile, body=_hostile, name=_hostile, sender_name=_hostile, to=_addresses)
def test_round_trip_and_header_set_over_hostile_text(subject: str, body: str, name: str,
                                                     sender_name: str, to: str) -> None:
    to = to.replace("..", ".").replace(".@", "@")
    d = draft(subject=subject, body=body, to=Person(to, name))
    raw = build_mime(d, sender=Person("alex@example.com", sender_name), key=KEY,
                     message_id="<m1@example.com>", date=WHEN)
    msg = parse(raw)
    assert list(msg.keys()) == BASE_HEADERS
    assert [a.addr_spec for a in msg["To"].addresses] == [to]
    snap = snapshot_from_mime(raw)
    clean = sanitize_header_text(subject)
    assert snap.fingerprint == draft_fingerprint(to, clean, body)
    if clean == subject:  # a subject the drafts module wrote is already clean
        assert snap.fingerprint == draft_fingerprint(d.to.email, d.subject, d.body)


@settings(max_examples=300, deadline=None)
@given(_hostile, st.integers(min_value=1, max_value=300))
def test_sanitize_is_idempotent_and_clean(text: str, limit: int) -> None:
    clean = sanitize_header_text(text, limit=limit)
    assert sanitize_header_text(clean, limit=limit) == clean
    assert len(clean) <= limit
    assert "\r" not in clean and "\n" not in clean and "=?" not in clean
    assert clean == clean.strip()
