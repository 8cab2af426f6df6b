"""parse_message: real messages from other projects (tests/data/eml), hostile bytes, and the fields filled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import MailMessage
from inbox_followup.errors import ItemError
from inbox_followup.formats.mailparse import SNIPPET_CHARS, parse_message

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eml"
FALLBACK = datetime(2030, 1, 1, tzinfo=UTC)
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and "LICENSES" not in p.parts and p.suffix != ".tsv"
)


def parse(raw: bytes, folder: str = "inbox") -> MailMessage:
    return parse_message(raw, msg_id="m1", folder=folder, fallback_date=FALLBACK)


def corpus(name: str) -> MailMessage:
    return parse_message((CORPUS / name).read_bytes(), msg_id=name, folder="inbox",
                         fallback_date=FALLBACK)


def test_corpus_is_there() -> None:
    assert len(CORPUS_FILES) >= 15


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_message_parses(path: Path) -> None:
    msg = parse_message(path.read_bytes(), msg_id=path.name, folder="inbox", fallback_date=FALLBACK)
    assert msg.id == path.name and msg.folder == "inbox"
    assert msg.date != FALLBACK  # every corpus file has a readable Date
    assert msg.sender is not None and "@" in msg.sender.email
    assert msg.subject == " ".join(msg.subject.split())
    assert len(msg.snippet) <= SNIPPET_CHARS
    assert msg.thread_id is None
    assert all(r == r.lower() for r in msg.recipients)
    assert all(name == name.lower() for name, _ in msg.headers)


def test_outlook_auto_reply_fields() -> None:
    msg = corpus("set-of-emails/rfc3834-02.eml")
    assert msg.sender is not None
    assert (msg.sender.email, msg.sender.name) == ("nekonyaan@example.org", "Neko, Nyaan")
    assert msg.recipients == ("kijitora@example.com",)
    assert msg.subject == "Automatic reply: Nyaan"
    assert msg.message_id == "<fb1b2d9ea3df46d9839a6dcb99410ebb@neko.nyaan.example.net>"
    assert msg.header("x-auto-response-suppress") == "All"
    assert msg.header("return-path") == "<>"
    assert msg.header("auto-submitted") is None
    assert msg.date == datetime(2013, 7, 17, 23, 34, 45, tzinfo=UTC)
    assert msg.snippet.startswith("I'm out of the office Friday.")


def test_8bit_latin1_display_name_is_decoded() -> None:
    msg = corpus("flanker/from-encoding.eml")
    assert msg.sender is not None and msg.sender.name == "Ingo L\u00fctkebohle"
    assert msg.references == ("<Pine.BSF.3.95q.970712135859.28530B-100000@valis.worldgate.com>",)


def test_apple_reply_references_in_order_without_repeats() -> None:
    msg = corpus("talon/apple_mail_2.eml")
    assert msg.references == ("<CABzQGhkMXDxUt_tSVQcg=43aniUhtsVfCZVzu-PG0kwS_uzqMw@mail.gmail.com>",)
    assert msg.date.utcoffset() == timedelta(hours=2)


def test_multipart_alternative_snippet_comes_from_text_plain() -> None:
    msg = corpus("talon/gmail.eml")
    assert msg.content_type == "multipart/alternative"
    assert msg.snippet.startswith("Hello\n\nOn Mon, Apr 2, 2012")
    assert "<br>" not in msg.snippet


def test_delivery_status_fields() -> None:
    msg = corpus("set-of-emails/lhost-postfix-01.eml")
    assert msg.content_type == "multipart/report"
    assert msg.header("x-ifu-report-type") == "delivery-status"
    dsn = [(k, v) for k, v in msg.headers if k in ("final-recipient", "original-recipient",
                                                     "action", "status")]
    assert dsn == [("final-recipient", "r@p351355.pool.example.ne.jp"),
                   ("original-recipient", "kijitora@example.org"),
                   ("action", "failed"), ("status", "5.1.1")]
    # the attached original message is not read as this message's text
    assert msg.snippet.startswith("This is the mail system")


def test_dsn_fields_are_grouped_by_recipient_whatever_the_line_order() -> None:
    msg = corpus("cpython/msg_16.txt")  # Action comes before Final-recipient here
    dsn = [(k, v) for k, v in msg.headers if k in ("final-recipient", "action", "status")]
    assert dsn == [("final-recipient", "jangel1@cougar.noc.ucla.edu"), ("action", "failed"),
                   ("status", "5.0.0")]


def test_report_without_boundary_is_scanned_as_text() -> None:
    msg = corpus("cpython/msg_25.txt")  # its Content-Type lost the boundary parameter
    assert msg.content_type == "multipart/report"
    assert ("final-recipient", "scoffman@wellpartner.com") in msg.headers
    assert ("action", "failed") in msg.headers
    assert msg.recipients == ("linuxuser-admin@www.linux.org.uk", "postmaster@zinfandel.lacita.com")


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("releases-comm-central/single-event.eml", "REQUEST"),  # method= parameter
        ("releases-comm-central/outlook-test-invite.eml", "REQUEST"),  # base64 body
        ("releases-comm-central/message-non-invite.eml", "PUBLISH"),  # METHOD: line, QP
    ],
)
def test_calendar_parts(name: str, method: str) -> None:
    msg = corpus(name)
    assert msg.header("x-ifu-has-calendar") == "yes"
    assert msg.header("x-ifu-calendar-method") == method
    assert msg.content_type.startswith("multipart/")  # a calendar part leaves it alone


def test_html_only_message_snippet_has_tags_stripped() -> None:
    raw = (b"From: a@b.com\nSubject: x\nContent-Type: text/html; charset=utf-8\n\n"
           b"<html><style>p{color:red}</style><p>Hello&nbsp;<b>there</b></p></html>\n")
    assert parse(raw).snippet == "Hello there"


def test_encoded_subject_and_name_decoded_and_folded() -> None:
    raw = (b"From: =?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?= <Jorg@Example.COM>\n"
           b"To: A <A@X.com>, b@y.com\nCc: C@Z.com\n"
           b"Subject: =?iso-8859-1?q?R=E9ponse?=\n   about   the\n\tinterview\n"
           b"Message-ID: no-brackets@host\n\nbody\n")
    msg = parse(raw)
    assert msg.sender is not None
    assert (msg.sender.email, msg.sender.name) == ("jorg@example.com", "J\u00f6rg M\u00fcller")
    assert msg.subject == "R\u00e9ponse about the interview"
    assert msg.recipients == ("a@x.com", "b@y.com", "c@z.com")
    assert msg.message_id is None  # not an id: no angle brackets


def test_unknown_charset_and_bad_encoded_words_are_tolerated() -> None:
    raw = (b"From: =?x-nonsense?q?abc?= <a@b.com>\nSubject: =?utf-8?b?!!!?= \xff\xfe\n"
           b"Content-Type: text/plain; charset=x-nonsense\n"
           b"Content-Transfer-Encoding: base64\n\n@@@not base64@@@\n")
    msg = parse(raw)
    assert msg.sender is not None and msg.sender.email == "a@b.com"
    assert isinstance(msg.subject, str) and isinstance(msg.snippet, str)


@pytest.mark.parametrize(
    ("date_header", "expected"),
    [
        (b"Date: yesterday-ish\n", FALLBACK),
        (b"", FALLBACK),
        (b"Date: Tue, 01 Dec 2026 09:00:00 -0000\n", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        (b"Date: Tue, 01 Dec 2026 09:00:00 +0530\n",
         datetime(2026, 12, 1, 9, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    ],
)
def test_dates(date_header: bytes, expected: datetime) -> None:
    msg = parse(b"From: a@b.com\n" + date_header + b"\nbody\n")
    assert msg.date == expected and msg.date.tzinfo is not None


def test_key_header_and_threading() -> None:
    raw = (b"From: me@example.com\nX-Inbox-Followup-Key: ifu-abc-thank_you_draft-j@x.com\n"
           b"In-Reply-To: <b@x>\nReferences: <a@x>\n <b@x>\n\nhi\n")
    msg = parse(raw, folder="sent")
    assert msg.key == "ifu-abc-thank_you_draft-j@x.com"
    assert msg.references == ("<b@x>", "<a@x>")
    assert msg.folder == "sent"


def test_only_classification_headers_are_kept() -> None:
    raw = (b"From: a@b.com\nPrecedence: bulk\nX-Spam: yes\nList-Id: <l.example>\n"
           b"X-Ifu-Calendar-Method: REQUEST\nX-Ifu-Report-Type: delivery-status\n\nhi\n")
    names = [name for name, _ in parse(raw).headers]
    assert names == ["precedence", "list-id"]  # x-ifu-* cannot be forged by a sender


def test_snippet_is_capped() -> None:
    msg = parse(b"From: a@b.com\n\n" + b"x" * 2000)
    assert msg.snippet == "x" * SNIPPET_CHARS


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n", b"just some words, no header\n"])
def test_not_a_message(raw: bytes) -> None:
    with pytest.raises(ItemError) as err:
        parse(raw)
    assert err.value.where == "m1"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_give_a_message_or_item_error(raw: bytes) -> None:
    try:
        msg = parse(raw)
    except ItemError:
        return
    assert isinstance(msg, MailMessage)


_header_names = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "List-Id",
     "X-Failed-Recipients", "MIME-Version", "Final-Recipient", "Action"]
)
_header_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        "multipart/report; report-type=delivery-status; boundary=b",
        "multipart/mixed; boundary=\"b\"", "text/calendar; method=REQUEST", "base64",
        "quoted-printable", "=?utf-8?b?w5w=?=", "=?bogus?q?x?=", "<a@b>", "\"unclosed <x@y>",
        ":Foo <foo@example.com> <bar@example.com>", "(c):", "text/plain; charset*=''",
    ]),
)
_bodies = st.lists(
    st.one_of(st.binary(max_size=80), st.sampled_from([
        b"--b\r\n", b"--b--\r\n", b"Content-Type: message/delivery-status\r\n\r\n",
        b"Final-Recipient: rfc822; x@y\r\nAction: failed\r\n", b"BEGIN:VCALENDAR\r\nMETHOD:",
        b"Content-Type: text/calendar\r\n\r\n", b"Content-Transfer-Encoding: base64\r\n\r\n",
    ])),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_header_names, _header_values), min_size=1, max_size=10), _bodies)
def test_message_shaped_garbage_never_raises(headers: list[tuple[str, str]],
                                             body: list[bytes]) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    raw = head.encode("utf-8", "surrogatepass") + b"\r\n" + b"".join(body)
    try:
        msg = parse(raw)
    except ItemError:
        return
    assert len(msg.snippet) <= SNIPPET_CHARS
    assert msg.date.tzinfo is not None
