"""parse_notes and the date-phrase reader: the notes reminder read back."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.dates import date_mentions, format_day
from inbox_followup.core.model import Notes
from inbox_followup.core.notes import NOTES_PROMPTS, parse_notes

REF = date(2026, 11, 24)  # a Tuesday


def fill(**answers: str) -> str:
    """NOTES_PROMPTS with an answer typed after the colon of the prompts named."""
    labels = {
        "well": "What went well:",
        "badly": "What did not:",
        "stood_out": "What stood out (mention it in the thank-you):",
        "forgot": "What you forgot to mention:",
        "next": "Next steps and decision date:",
        "contact": "How they want to be contacted:",
    }
    text = NOTES_PROMPTS
    for key, answer in answers.items():
        text = text.replace(labels[key], f"{labels[key]} {answer}")
    return text


def test_prompts_have_intro_and_six_labelled_lines() -> None:
    lines = NOTES_PROMPTS.split("\n")
    assert lines[0].startswith("Type your notes")
    assert len(lines) == 7
    assert all(line.endswith(":") for line in lines[1:])


@pytest.mark.parametrize(
    "text",
    [
        NOTES_PROMPTS,
        NOTES_PROMPTS.replace("\n", "\r\n") + "\r\n\r\n",
        "  " + NOTES_PROMPTS.replace("\n", "  \n  "),
        NOTES_PROMPTS.replace("\n", "<br>"),  # Google Calendar's web editor stores HTML
        "",
        "\n\n  \n",
    ],
)
def test_unfilled_template_reads_as_empty(text: str) -> None:
    assert parse_notes(text, reference=REF) == Notes()


def test_answers_on_the_label_line_and_below() -> None:
    text = NOTES_PROMPTS.replace(
        "What stood out (mention it in the thank-you):",
        "What stood out (mention it in the thank-you): their plan to open a Lisbon office\n"
        "- the new data platform",
    ).replace("What you forgot to mention:", "What you forgot to mention:\nmy AWS certification")
    notes = parse_notes(text, reference=REF)
    assert notes.talking_points == ("their plan to open a Lisbon office", "the new data platform")
    assert notes.forgot == ("my AWS certification",)
    assert "their plan to open a Lisbon office" in notes.text
    assert "What stood out" in notes.text  # an answered label stays for context
    assert "What went well" not in notes.text  # an unanswered one does not


def test_shortened_labels_are_still_recognised() -> None:
    text = "Stood out: the team's on-call rotation\nForgot: I speak Portuguese\n"
    notes = parse_notes(text, reference=REF)
    assert notes.talking_points == ("the team's on-call rotation",)
    assert notes.forgot == ("I speak Portuguese",)


@pytest.mark.parametrize(
    ("line", "point"),
    [
        ("Their Europe expansion really stood out", "Their Europe expansion"),
        ("What stood out was the mentoring programme", "the mentoring programme"),
    ],
)
def test_free_text_stood_out_lines(line: str, point: str) -> None:
    assert parse_notes(line, reference=REF).talking_points == (point,)


@pytest.mark.parametrize(
    ("line", "forgot"),
    [
        ("I forgot to mention my MBA finishes in June", "my MBA finishes in June"),
        ("forgot to say that I led the migration", "I led the migration"),
    ],
)
def test_free_text_forgot_lines(line: str, forgot: str) -> None:
    assert parse_notes(line, reference=REF).forgot == (forgot,)


def test_forgot_line_typed_under_what_did_not() -> None:
    notes = parse_notes(fill(badly="forgot to mention my Kubernetes work"), reference=REF)
    assert notes.forgot == ("my Kubernetes work",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (fill(next="decision by Dec 4"), date(2026, 12, 4)),
        (fill(next="by 12/04"), date(2026, 12, 4)),
        (fill(next="2026-12-04"), date(2026, 12, 4)),
        (fill(next="next Friday"), date(2026, 11, 27)),
        (fill(next="within two weeks"), date(2026, 12, 8)),
        (fill(next="in 10 days"), date(2026, 12, 4)),
        (fill(next="December 4th, 2026"), date(2026, 12, 4)),
        (fill(next="4 December"), date(2026, 12, 4)),
        (fill(next="end of next week"), date(2026, 12, 4)),
        ("They will make a decision by Dec 4.", date(2026, 12, 4)),  # anywhere, with a cue
        ("hear back within two weeks", date(2026, 12, 8)),
        ("2026-12-04", date(2026, 12, 4)),  # the only date in the notes
        ("decide by Jan 8", date(2027, 1, 8)),  # no year: the next one on/after reference
    ],
)
def test_decision_date(text: str, expected: date) -> None:
    assert parse_notes(text, reference=REF).decision_date == expected


@pytest.mark.parametrize(
    "text",
    [
        fill(next="Dec 4 or Dec 11, they were not sure"),  # ambiguous
        fill(next="sometime soon"),
        "decision by 2026-11-01",  # already past
        fill(next="by Feb 30"),  # not a date
    ],
)
def test_no_decision_date(text: str) -> None:
    assert parse_notes(text, reference=REF).decision_date is None


def test_next_steps_section_wins_over_dates_elsewhere() -> None:
    text = fill(stood_out="their launch on March 3", next="decision by Dec 4")
    assert parse_notes(text, reference=REF).decision_date == date(2026, 12, 4)


def test_talking_point_dates_are_not_decision_dates() -> None:
    assert parse_notes(fill(stood_out="the launch on 2027-03-03"), reference=REF).decision_date is None


@pytest.mark.parametrize("text", ["They said in a few days", "few days", "a couple of days"])
def test_few_days(text: str) -> None:
    notes = parse_notes(text, reference=REF)
    assert notes.few_days
    assert notes.decision_date is None


@pytest.mark.parametrize(
    ("text", "email_only"),
    [
        ("email only please", True),
        ("Only email, she is travelling", True),
        ("Please don\u2019t call", True),
        ("do not call", True),
        (fill(contact="email"), True),
        (fill(contact="email or phone"), False),
        (fill(contact="call Jane"), False),
        ("emailed the recruiter my portfolio", False),
    ],
)
def test_email_only(text: str, email_only: bool) -> None:
    assert parse_notes(text, reference=REF).email_only is email_only


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        (fill(contact="call Jane at +1 (312) 555-0142"), "+1 (312) 555-0142"),
        ("Her number: 020 7946 0958", "020 7946 0958"),
        ("decision 2026-12-04, room 555-010", None),  # 7 digits needed; dates are not phones
        ("12.04.2026 and 12/04/2026", None),
    ],
)
def test_phone(text: str, phone: str | None) -> None:
    assert parse_notes(text, reference=REF).phone == phone


def test_html_notes_are_read_as_text_but_addresses_survive() -> None:
    text = ("<b>What stood out:</b> the <i>Lisbon</i> office<br>"
            "How they want to be contacted: Jane &lt;jane@acme.com&gt;, <jane@acme.com>")
    notes = parse_notes(text, reference=REF)
    assert notes.talking_points == ("the Lisbon office",)
    assert "Jane <jane@acme.com>, <jane@acme.com>" in notes.text
    assert notes.email_only is False  # an address is not a wish to be e-mailed only


def test_text_keeps_the_users_words_in_order() -> None:
    notes = parse_notes("first line\n\nsecond line\n", reference=REF)
    assert notes.text == "first line\nsecond line"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("back on Monday, May 5", date(2027, 5, 5)),
        ("until May 5", date(2027, 5, 5)),
        ("returning 12/04/2026", date(2026, 12, 4)),
        ("back on the 5th", date(2026, 12, 5)),
        ("on 13/04", date(2027, 4, 13)),  # the first number cannot be a month: day first
        ("04.12.2026", date(2026, 12, 4)),  # dots: day first
        ("tomorrow", date(2026, 11, 25)),
        ("Tuesday", date(2026, 12, 1)),  # a weekday is strictly after the reference
        ("end of the month", date(2026, 11, 30)),
        ("in 3 business days", date(2026, 11, 27)),
    ],
)
def test_date_mentions(phrase: str, expected: date) -> None:
    assert [m.when for m in date_mentions(phrase, REF)] == [expected]


@pytest.mark.parametrize("phrase", ["Feb 30", "available 24/7", "version 3.11", "1999-02-29"])
def test_not_dates(phrase: str) -> None:
    assert date_mentions(phrase, REF) == []


def test_weekday_inside_a_full_date_is_one_mention() -> None:
    mentions = date_mentions("I am back on Monday, May 5.", date(2025, 4, 29))
    assert [m.when for m in mentions] == [date(2025, 5, 5)]


def test_format_day() -> None:
    assert format_day(date(2026, 12, 3)) == "Thursday, December 3"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_notes_never_raises(text: str) -> None:
    assert isinstance(parse_notes(text, reference=REF), Notes)


_fragments = st.sampled_from(
    [*NOTES_PROMPTS.split("\n"), "by 12/04", "Dec 4", "\n", "within 99 weeks", "the 31st",
     "+1 555", "Feb 29", "9999-12-31", "email only", "stood out", "forgot", "<br>", "&amp;"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=20)), max_size=30),
       st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)))
def test_parse_notes_never_raises_on_note_like_text(parts: list[str], reference: date) -> None:
    notes = parse_notes(" ".join(parts), reference=reference)
    assert notes.decision_date is None or notes.decision_date >= reference


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1,
               max_size=60).filter(lambda s: s.strip() and not s.strip()[0].isdigit()))
def test_an_answer_under_stood_out_becomes_a_talking_point(answer: str) -> None:
    notes = parse_notes(fill(stood_out=f"\nthe {answer}"), reference=REF)
    assert notes.talking_points == (" ".join(f"the {answer}".split()),)
