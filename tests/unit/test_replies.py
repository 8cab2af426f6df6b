"""classify: real corpus messages and synthetic header sets, in the documented order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import Classification, MailMessage, Person, ReplyKind
from inbox_followup.core.replies import classify, is_rejection
from inbox_followup.formats.mailparse import parse_message

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eml"
ME = frozenset({"me@example.com", "Alex@Work.example"})
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and "LICENSES" not in p.parts and p.suffix != ".tsv"
)


def corpus(name: str) -> Classification:
    raw = (CORPUS / name).read_bytes()
    msg = parse_message(raw, msg_id=name, folder="inbox",
                        fallback_date=datetime(2030, 1, 1, tzinfo=UTC))
    return classify(msg, ME)


def message(subject: str = "Re: Thank you for the interview", snippet: str = "Thanks!",
            headers: tuple[tuple[str, str], ...] = (), sender: str = "jane@acme.com",
            content_type: str = "text/plain", folder: str = "inbox",
            when: datetime = datetime(2026, 4, 29, 15, tzinfo=UTC)) -> MailMessage:
    return MailMessage(id="m", folder=folder, date=when, sender=Person(sender, "Jane"),
                       subject=subject, headers=headers, content_type=content_type,
                       snippet=snippet)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_message_classifies(path: Path) -> None:
    result = corpus(str(path.relative_to(CORPUS)))
    assert isinstance(result.kind, ReplyKind)


def test_rfc3834_auto_reply_with_return_date() -> None:
    result = corpus("set-of-emails/rfc3834-01.eml")  # "Away until May 5", sent 2005-04-29
    assert result.kind is ReplyKind.AUTO_REPLY
    assert result.return_date == date(2005, 5, 5)


def test_outlook_automatic_reply_without_auto_submitted() -> None:
    result = corpus("set-of-emails/rfc3834-02.eml")
    assert result.kind is ReplyKind.AUTO_REPLY
    assert result.return_date is None  # "out of the office Friday" names no return day


@pytest.mark.parametrize(
    ("name", "recipient"),
    [
        ("set-of-emails/lhost-postfix-01.eml", "r@p351355.pool.example.ne.jp"),
        ("flanker/mailbox-full.eml", "user@aol.com"),
        ("cpython/msg_25.txt", "scoffman@wellpartner.com"),
        ("cpython/msg_16.txt", "jangel1@cougar.noc.ucla.edu"),  # a DSN relayed by Mailman
    ],
)
def test_bounces_name_the_failed_recipient(name: str, recipient: str) -> None:
    result = corpus(name)
    assert result.kind is ReplyKind.BOUNCE
    assert recipient in result.bounced_recipients


def test_bounce_also_names_the_address_as_the_user_wrote_it() -> None:
    result = corpus("set-of-emails/lhost-postfix-01.eml")
    assert result.bounced_recipients == ("kijitora@example.org", "r@p351355.pool.example.ne.jp")


@pytest.mark.parametrize(
    "name", ["flanker/delayed.eml", "flanker/disposition-notification.eml", "cpython/msg_16.txt"]
)
def test_delivery_notices_are_not_answers(name: str) -> None:
    assert corpus(name).kind is not ReplyKind.HUMAN


def test_transient_failure_is_not_a_bounce() -> None:
    result = corpus("flanker/delayed.eml")  # Action: failed, Status: 4.0.0
    assert result.kind is ReplyKind.AUTO_REPLY
    assert result.bounced_recipients == ()


def test_read_receipt_is_an_auto_reply() -> None:
    assert corpus("flanker/disposition-notification.eml").kind is ReplyKind.AUTO_REPLY


@pytest.mark.parametrize("name", ["talon/apple_mail_2.eml", "talon/gmail.eml"])
def test_human_replies(name: str) -> None:
    result = corpus(name)
    assert result.kind is ReplyKind.HUMAN
    assert not result.rejection and not result.invitation


def test_mailing_list_reply_is_bulk() -> None:
    assert corpus("flanker/from-encoding.eml").kind is ReplyKind.BULK


@pytest.mark.parametrize(
    ("name", "invitation"),
    [
        ("releases-comm-central/single-event.eml", True),
        ("releases-comm-central/repeat-event.eml", True),
        ("releases-comm-central/outlook-test-invite.eml", True),
        ("releases-comm-central/message-non-invite.eml", False),  # METHOD:PUBLISH attachment
    ],
)
def test_invitations(name: str, invitation: bool) -> None:
    result = corpus(name)
    assert result.invitation is invitation
    assert result.kind is ReplyKind.HUMAN


@pytest.mark.parametrize("folder, sender", [("inbox", "ME@example.com"), ("sent", "x@y.com"),
                                            ("inbox", "alex@work.example")])
def test_own_messages(folder: str, sender: str) -> None:
    msg = message(sender=sender, folder=folder, headers=(("auto-submitted", "auto-replied"),))
    assert classify(msg, ME).kind is ReplyKind.OWN


def test_own_bounce_check_comes_after_own() -> None:
    msg = message(sender="me@example.com", headers=(("x-failed-recipients", "jane@acme.com"),))
    assert classify(msg, ME).kind is ReplyKind.OWN


def test_x_failed_recipients() -> None:
    msg = message(sender="mailer-daemon@mx.acme.com", subject="Mail delivery failed",
                  headers=(("x-failed-recipients", "Jane@Acme.com, <bob@acme.com>"),))
    result = classify(msg, ME)
    assert result.kind is ReplyKind.BOUNCE
    assert result.bounced_recipients == ("jane@acme.com", "bob@acme.com")


def test_mailer_daemon_without_readable_report_is_a_bounce() -> None:
    msg = message(sender="MAILER-DAEMON@mx.acme.com", subject="Undelivered Mail Returned to Sender")
    result = classify(msg, ME)
    assert result.kind is ReplyKind.BOUNCE and result.bounced_recipients == ()


def test_delayed_dsn_is_an_auto_reply() -> None:
    headers = (("final-recipient", "jane@acme.com"), ("action", "delayed"), ("status", "4.4.7"))
    msg = message(sender="postmaster@acme.com", headers=headers, content_type="multipart/report")
    assert classify(msg, ME).kind is ReplyKind.AUTO_REPLY


@pytest.mark.parametrize(
    "headers",
    [
        (("auto-submitted", "auto-replied"),),
        (("auto-submitted", "auto-generated"),),
        (("auto-submitted", "auto-notified"),),
        (("x-autoreply", "yes"),),
        (("x-autorespond", "Out of office"),),
        (("precedence", "auto_reply"),),
        (("x-loop", "yes"),),
        (("x-auto-response-suppress", "All"), ("x-ms-exchange-inbox-rules-loop", "jane@acme.com")),
    ],
)
def test_auto_reply_headers(headers: tuple[tuple[str, str], ...]) -> None:
    assert classify(message(headers=headers), ME).kind is ReplyKind.AUTO_REPLY


@pytest.mark.parametrize(
    "headers",
    [
        (("auto-submitted", "no"),),
        (("x-auto-response-suppress", "All"),),  # Outlook sets this on ordinary mail too
        (("return-path", "<jane@acme.com>"),),
    ],
)
def test_headers_that_do_not_make_an_auto_reply(headers: tuple[tuple[str, str], ...]) -> None:
    assert classify(message(headers=headers), ME).kind is ReplyKind.HUMAN


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Thank you for the interview",
        "Auto reply: Thank you",
        "Auto-Reply: Re: Thanks",
        "Autoreply",
        "Out of office",
        "Re: Out of the Office until Monday",
        "OOO: back Tuesday",
        "Away until May 5",
        "Abwesend",
        "Absence du bureau",
        "R\u00e9ponse automatique : merci",
        "[OOO] Jane Doe",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    assert classify(message(subject=subject), ME).kind is ReplyKind.AUTO_REPLY


@pytest.mark.parametrize(
    "subject",
    ["Re: Thank you for the Senior Engineer interview", "Office visit on Friday?",
     "Re: Your absence of experience is fine", "Re: scheduling", "Reading list"],
)
def test_ordinary_subjects_are_human(subject: str) -> None:
    assert classify(message(subject=subject), ME).kind is ReplyKind.HUMAN


@pytest.mark.parametrize("subject", ["Read: Thank you for the interview", "Delivered: Thanks"])
def test_receipts_by_subject(subject: str) -> None:
    assert classify(message(subject=subject), ME).kind is ReplyKind.AUTO_REPLY


@pytest.mark.parametrize(
    ("subject", "snippet", "expected"),
    [
        ("Out of office", "I am back on Monday, May 5.", date(2026, 5, 5)),
        ("Out of office", "I'm away until May 5 with limited access.", date(2026, 5, 5)),
        ("Automatic reply: Thanks", "Returning 12/04/2026.", date(2026, 12, 4)),
        ("Out of office", "I'll be back on the 5th.", date(2026, 5, 5)),
        ("Out of office", "Back on Monday.", date(2026, 5, 4)),
        ("Out of office", "Away May 1 to May 3, back on May 6.", date(2026, 5, 6)),
        ("Out of office", "Back on May 4 or maybe until May 8.", None),  # the cues disagree
        ("Out of office", "I'm out of the office Friday.", None),  # no return cue
        ("Out of office", "Available 24/7 for emergencies.", None),
    ],
)
def test_return_dates(subject: str, snippet: str, expected: date | None) -> None:
    result = classify(message(subject=subject, snippet=snippet), ME)  # sent Wed 2026-04-29
    assert result.kind is ReplyKind.AUTO_REPLY
    assert result.return_date == expected


@pytest.mark.parametrize(
    "headers",
    [(("precedence", "bulk"),), (("precedence", "junk"),), (("precedence", "list"),),
     (("list-id", "<jobs.acme.com>"),), (("list-unsubscribe", "<mailto:u@acme.com>"),)],
)
def test_bulk(headers: tuple[tuple[str, str], ...]) -> None:
    assert classify(message(headers=headers), ME).kind is ReplyKind.BULK


@pytest.mark.parametrize(
    "text",
    [
        "We have decided to move forward with other candidates.",
        "we've decided to move forward with another candidate",
        "After careful consideration we decided not to move forward.",
        "We will not be moving forward with your application.",
        "We won\u2019t be moving forward with your candidacy at this time",
        "The position has been filled.",
        "We will not be proceeding with your application",
        "we have chosen to pursue other candidates",
        "Unfortunately we are unable to offer you the role.",
        "we've decided not to proceed with your application",
    ],
)
def test_rejections(text: str) -> None:
    assert is_rejection("Your application", text)
    result = classify(message(snippet=text), ME)
    assert result.kind is ReplyKind.HUMAN and result.rejection


@pytest.mark.parametrize(
    "text",
    [
        "Unfortunately I'm out sick today, can we move our call?",
        "We'd love to move forward with you! Are you free Tuesday?",
        "Thanks, we are still interviewing other candidates and will be in touch.",
    ],
)
def test_not_rejections(text: str) -> None:
    assert not classify(message(snippet=text), ME).rejection


def test_automated_rejection_keeps_its_flag() -> None:
    msg = message(snippet="We have decided to move forward with other candidates.",
                  headers=(("auto-submitted", "auto-generated"),), sender="no-reply@ats.example")
    result = classify(msg, ME)
    assert result.kind is ReplyKind.AUTO_REPLY and result.rejection


def test_invitation_from_a_provider_that_only_knows_the_type() -> None:
    assert classify(message(content_type="text/calendar"), ME).invitation
    publish = message(content_type="text/calendar",
                      headers=(("x-ifu-calendar-method", "PUBLISH"),))
    assert not classify(publish, ME).invitation


def test_content_type_with_parameters_is_understood() -> None:
    headers = (("final-recipient", "jane@acme.com"), ("action", "failed"), ("status", "5.1.1"))
    msg = message(sender="mailer-daemon@x.com", headers=headers,
                  content_type="multipart/report; report-type=delivery-status; boundary=x")
    assert classify(msg, ME).bounced_recipients == ("jane@acme.com",)


_names = st.sampled_from(
    ["auto-submitted", "precedence", "x-autoreply", "list-id", "x-failed-recipients",
     "final-recipient", "original-recipient", "action", "status", "x-ifu-report-type",
     "x-ifu-calendar-method", "x-auto-response-suppress", "x-ms-exchange-inbox-rules-loop",
     "x-loop", "return-path"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_names, st.text(max_size=30)), max_size=8),
    st.text(max_size=80), st.text(max_size=300),
    st.one_of(st.none(), st.text(max_size=30)),
    st.sampled_from(["text/plain", "multipart/report", "text/calendar", "", ";;", "a/b; x="]),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9990, 1, 1),
                 timezones=st.just(UTC)),
)
def test_classify_never_raises(headers: list[tuple[str, str]], subject: str, snippet: str,
                               sender: str | None, content_type: str, when: datetime) -> None:
    msg = MailMessage(id="m", folder="inbox", date=when,
                      sender=Person(sender) if sender is not None else None,
                      subject=subject, headers=tuple(headers), content_type=content_type,
                      snippet=snippet)
    result = classify(msg, ME)
    assert isinstance(result, Classification)
    if result.return_date is not None:
        assert result.return_date >= when.date()
