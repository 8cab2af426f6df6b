"""The words of drafts and reminders (core/letters.py) and the user's templates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import pytest

from inbox_followup.config.templates import load_templates
from inbox_followup.core.letters import (
    PLACEHOLDER_MARK,
    PLACEHOLDERS,
    TEMPLATE_NAMES,
    Profile,
    check_templates,
    feedback,
    first_name,
    follow_up,
    reminder,
    thank_you,
)
from inbox_followup.core.model import ArtifactKind, Interview, Notes, Person
from inbox_followup.core.notes import NOTES_PROMPTS
from inbox_followup.errors import ConfigError

JANE = Person("jane.doe@acme.com", "Jane Doe")
ME = Person("alex@example.com", "Alex Morgan")
PACKAGED = load_templates(None)
PROFILE = Profile(PACKAGED, name="Alex Morgan")
FOLLOW_UP_ON = date(2026, 12, 3)
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KEY = "ifu-abc123-thank_you_draft-jane.doe@acme.com"


def interview(company: str = "ACME", role: str | None = "Senior Engineer") -> Interview:
    return Interview(id="abc123", event_id="e1", title="Interview with ACME", company=company,
                     start=datetime(2026, 11, 30, 15, tzinfo=UTC),
                     end=datetime(2026, 11, 30, 16, tzinfo=UTC), interviewers=(JANE,),
                     domain="acme.com", role=role)


def middle_lines(body: str) -> list[str]:
    """The thank-you's sentence lines: non-empty lines strictly between the greeting (the
    first line) and the sign-off ("Best regards,"); the signature is not counted."""
    lines = body.split("\n")
    end = lines.index("Best regards,")
    return [line for line in lines[1:end] if line.strip()]


# --- thank-you ---------------------------------------------------------------------------


def test_thank_you_without_notes_has_a_placeholder_and_five_lines() -> None:
    subject, body = thank_you(interview(), JANE, Notes(), FOLLOW_UP_ON, PROFILE)
    assert subject == "Thank you for the Senior Engineer interview"
    assert body.startswith("Hi Jane,\n")
    assert PLACEHOLDER_MARK in body
    assert len(middle_lines(body)) == 5
    assert "Thursday, December 3" in body
    assert "the Senior Engineer role at ACME" in body
    assert body.rstrip().endswith("Alex Morgan")


def test_thank_you_with_notes_uses_them_in_six_lines() -> None:
    notes = Notes(talking_points=("their plan to expand into Europe", "the Rust rewrite"),
                  forgot=("I finish my MBA in June",))
    _, body = thank_you(interview(), JANE, notes, FOLLOW_UP_ON, PROFILE)
    assert PLACEHOLDER_MARK not in body
    assert "their plan to expand into Europe." in body
    assert "I finish my MBA in June." in body
    assert len(middle_lines(body)) == 6


def test_thank_you_uses_the_profile_pitch() -> None:
    profile = Profile(PACKAGED, name="Alex", pitch="I have shipped two payment platforms at scale")
    _, body = thank_you(interview(), JANE, Notes(), FOLLOW_UP_ON, profile)
    assert "I have shipped two payment platforms at scale." in body


def test_thank_you_without_role_or_name() -> None:
    subject, body = thank_you(interview(role=None), Person("hr@acme.com"), Notes(),
                              FOLLOW_UP_ON, Profile(PACKAGED))
    assert subject == "Thank you for the ACME interview"
    assert body.startswith("Hello,\n")
    assert "the role at ACME" in body
    assert body.rstrip().endswith("Best regards,")  # no signature line without a name


def test_hostile_calendar_text_does_not_add_lines() -> None:
    evil = interview(company="ACME\r\nBcc: evil@x.com\n\n\n", role="Eng\nineer")
    notes = Notes(talking_points=("line one\nline two\r\nline three",))
    subject, body = thank_you(evil, Person("j@acme.com", "Jane\r\nX: y"), notes,
                              FOLLOW_UP_ON, PROFILE)
    assert "\n" not in subject and "\r" not in subject
    assert len(middle_lines(body)) == 5
    assert "\r" not in body


@pytest.mark.parametrize(
    ("name", "first"),
    [("Jane Doe", "Jane"), ("Doe, Jane", "Jane"), ("Dr. Jane Doe", "Jane"), ("JANE DOE", "Jane"),
     ("jane@acme.com", None), (None, None), ("", None), ("  ", None), ('"Jane"', "Jane"),
     ("12345", None)],
)
def test_first_name(name: str | None, first: str | None) -> None:
    assert first_name(Person("x@acme.com", name)) == first


# --- follow-ups and feedback ---------------------------------------------------------------


def test_follow_up_one_replies_in_the_thank_you_thread() -> None:
    thanks_subject, _ = thank_you(interview(), JANE, Notes(), FOLLOW_UP_ON, PROFILE)
    subject, body = follow_up(interview(), JANE, Notes(), PROFILE, 1)
    assert subject == f"Re: {thanks_subject}"
    assert "still very interested" in body
    assert "take time" in body
    assert "updated timeframe" in body
    assert "You mentioned" not in body


def test_follow_up_one_mentions_the_decision_date_given() -> None:
    _, body = follow_up(interview(), JANE, Notes(decision_date=date(2026, 12, 4)), PROFILE, 1)
    assert "Friday, December 4" in body


def test_follow_up_two_is_a_shorter_last_check_in() -> None:
    _, first = follow_up(interview(), JANE, Notes(), PROFILE, 1)
    subject, second = follow_up(interview(), JANE, Notes(email_only=True), PROFILE, 2)
    assert subject.startswith("Re: ")
    assert len(middle_lines(second)) < len(middle_lines(first))
    assert "last time" in second


def test_follow_up_step_must_be_one_or_two() -> None:
    with pytest.raises(ValueError):
        follow_up(interview(), JANE, Notes(), PROFILE, 3)


def test_feedback_draft() -> None:
    subject, body = feedback(interview(), JANE, PROFILE)
    assert subject and body.startswith("Hi Jane,")
    assert "feedback" in body
    assert "stay in touch" in body


@pytest.mark.parametrize(("theirs", "expected"), [
    ("Your application at ACME", "Re: Your application at ACME"),
    ("RE: Thank you for the ACME interview", "RE: Thank you for the ACME interview"),
    ("Update\r\nBcc: evil@example.com", "Re: Update Bcc: evil@example.com"),
])
def test_feedback_answering_a_rejection_is_a_reply(theirs: str, expected: str) -> None:
    subject, _ = feedback(interview(), JANE, PROFILE, replying_to=theirs)
    assert subject == expected


# --- reminders -----------------------------------------------------------------------------


def test_reminder_titles() -> None:
    iv, notes = interview(), Notes()
    assert reminder(ArtifactKind.NOTES_REMINDER, iv, notes=notes) == (
        "Write interview notes — ACME", NOTES_PROMPTS)
    assert reminder(ArtifactKind.THANK_YOU_REMINDER, iv, notes=notes)[0] == \
        "Send thank-you notes — ACME"
    assert reminder(ArtifactKind.FOLLOW_UP_REMINDER, iv, notes=notes)[0] == "Follow up with ACME"
    assert reminder(ArtifactKind.CALL_REMINDER, iv, notes=notes)[0] == \
        "Call ACME about Senior Engineer"
    assert reminder(ArtifactKind.MOVE_ON_REMINDER, iv, notes=notes)[0] == \
        "No word from ACME in a month — close it, keep applying"


def test_thank_you_reminder_counts_drafts_and_points_at_placeholders() -> None:
    _, text = reminder(ArtifactKind.THANK_YOU_REMINDER, interview(), notes=Notes(), drafts=2,
                       follow_up_on=FOLLOW_UP_ON)
    assert "2 thank-you drafts" in text and "[[...]]" in text
    assert "Thursday, December 3" in text


def test_call_reminder_phone_from_argument_or_notes() -> None:
    iv = interview(role=None)
    title, text = reminder(ArtifactKind.CALL_REMINDER, iv, notes=Notes(phone="+1 312 555 0142"))
    assert title == "Call ACME about your interview"
    assert "+1 312 555 0142" in text
    _, text = reminder(ArtifactKind.CALL_REMINDER, iv, notes=Notes(), phone="020 7946 0958")
    assert "020 7946 0958" in text


def test_reflect_reminder_after_a_rejection() -> None:
    title, text = reminder(ArtifactKind.REFLECT_REMINDER, interview(), notes=Notes())
    assert "Reflect" in title and "LinkedIn" in title
    assert "LinkedIn" in text and "Jane Doe" in text


def test_reminder_for_a_draft_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        reminder(ArtifactKind.THANK_YOU_DRAFT, interview(), notes=Notes())


def test_reminder_title_is_one_line() -> None:
    title, _ = reminder(ArtifactKind.FOLLOW_UP_REMINDER, interview(company="A\r\nB"),
                        notes=Notes())
    assert title == "Follow up with A B"


# --- templates -----------------------------------------------------------------------------


def packaged(name: str) -> str:
    return resources.files("inbox_followup").joinpath("templates", name).read_text("utf-8")


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_packaged_templates_are_short_lined_and_valid(name: str) -> None:
    text = packaged(name)
    assert text.startswith("Subject: ")
    assert max(len(line) for line in text.split("\n")) <= 200


def test_packaged_templates_pass_the_check(tmp_path: Path) -> None:
    assert check_templates(load_templates(tmp_path)) == []  # empty dir: every packaged template is used


def test_user_template_overrides_the_packaged_one(tmp_path: Path) -> None:
    (tmp_path / "thank_you.txt").write_text(
        "Subject: Thanks, $first_name\n\n$greeting\nGreat talking about $talking_point\n"
        "Optional: $forgot\n\n$signature\n", encoding="utf-8")
    subject, body = thank_you(interview(), JANE, Notes(talking_points=("Rust",)),
                              FOLLOW_UP_ON, Profile(load_templates(tmp_path), name="Alex"))
    assert subject == "Thanks, Jane"
    assert body == "Hi Jane,\nGreat talking about Rust.\n\nAlex\n"
    # follow-up still uses the packaged template, with the user's subject in "Re:"
    subject, _ = follow_up(interview(), JANE, Notes(), Profile(load_templates(tmp_path)), 1)
    assert subject == "Re: Thanks, Jane"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Subject: x\n\n$nonsense\n", "unknown placeholder $nonsense"),
        ("Subject: x\n\nCosts $5\n", "bad placeholder"),
        ("Hello $greeting\n", "Subject:"),
    ],
)
def test_broken_user_templates_name_the_file(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "feedback.txt").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        feedback(interview(), JANE, Profile(load_templates(tmp_path)))
    assert problem in str(err.value)
    assert str(tmp_path / "feedback.txt") in str(err.value)
    assert len(check_templates(load_templates(tmp_path))) == 1


def test_every_documented_placeholder_renders(tmp_path: Path) -> None:
    line = " ".join(f"${name}" for name in sorted(PLACEHOLDERS))
    (tmp_path / "feedback.txt").write_text(f"Subject: s\n\n{line}\n", encoding="utf-8")
    assert check_templates(load_templates(tmp_path)) == []
