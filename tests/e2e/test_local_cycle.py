"""The whole docs/rules.md cycle on the local account, through the CLI, with the clock moved."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .localenv import LocalEnv, artifacts, states

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)  # a Thursday, 14:00-15:00
T0 = T + timedelta(hours=1)
PEOPLE = (("jane.doe@acme.io", "Jane Doe"), ("raj.patel@acme.io", "Raj Patel"))


@pytest.fixture
def env(tmp_path: Path) -> LocalEnv:
    e = LocalEnv(tmp_path)
    e.add_interview("acme-1", "Interview with ACME", T, people=PEOPLE)
    return e


def kinds(env: LocalEnv) -> list[str]:
    return sorted(k.split("-")[2] for k in env.reminders())


def test_full_cycle(env: LocalEnv, capsys: Any) -> None:
    # Before the interview: only the notes reminder, at T0 + 15 min.
    assert env.sync(T - timedelta(days=1)) == 0
    [notes] = env.reminders().values()
    assert notes["title"].startswith("Write interview notes")
    assert notes["start"] == T0 + timedelta(minutes=15)
    assert env.drafts() == {}

    # Right after: a thank-you draft per interviewer, the reminders of the cycle.
    assert env.sync(T0 + timedelta(minutes=5)) == 0
    drafts = env.drafts()
    assert len(drafts) == 2
    for msg in drafts.values():
        assert len(msg.get_all("To")) == 1
        assert msg["X-Inbox-Followup-Key"]
        assert "[[" in msg.get_payload(decode=True).decode()  # no notes yet: a placeholder
    assert {m["To"].split("<")[-1].rstrip(">") for m in drafts.values()} == {p for p, _ in PEOPLE}
    assert kinds(env) == sorted(["notes_reminder", "thank_you_reminder", "follow_up_reminder",
                                 "call_reminder", "move_on_reminder"])
    thank_you = next(r for k, r in env.reminders().items() if "thank_you_reminder" in k)
    assert thank_you["start"] == datetime(2026, 11, 20, 9, 0, tzinfo=CHI)

    # Nothing new: no writes at all.
    before = env.snapshot_files()
    assert env.sync(T0 + timedelta(minutes=30)) == 0
    assert env.snapshot_files() == before

    # Notes rewrite the drafts the user has not touched.
    assert env.cli("note", "acme", "--talking-point", "their move to event sourcing",
                   now=T0 + timedelta(hours=1)) == 0
    assert env.sync(T0 + timedelta(hours=1)) == 0
    for msg in env.drafts().values():
        body = msg.get_payload(decode=True).decode()
        assert "event sourcing" in body and "[[" not in body

    # Next morning: the user edits Raj's draft and sends Jane's.
    raj = env.draft_path("raj.patel")
    raj.write_bytes(raj.read_bytes().replace(b"Hi Raj", b"Dear Raj"))
    env.send_draft("jane.doe")
    sent_at = datetime(2026, 11, 20, 9, 30, tzinfo=CHI)
    assert env.sync(sent_at) == 0
    doc = env.status(sent_at, capsys)
    assert states(doc, "thank_you_draft") == ["created", "sent"]

    # Ten days after the thank-you went out: the follow-up draft, in Jane's thread.
    fu_day = sent_at + timedelta(days=11)
    assert env.sync(fu_day) == 0
    follow = [m for k, m in env.drafts().items() if "follow_up_draft" in k]
    assert len(follow) == 1
    assert follow[0]["Subject"].startswith("Re:")
    assert follow[0]["In-Reply-To"]
    assert "jane.doe@acme.io" in follow[0]["To"]

    # Jane answers: every pending nudge goes, the edited draft stays.
    env.deliver("Jane Doe <jane.doe@acme.io>", "Re: Thank you", fu_day + timedelta(hours=2))
    assert env.sync(fu_day + timedelta(hours=3)) == 0
    remaining = env.drafts()
    assert [k for k in remaining if "follow_up_draft" in k] == []
    assert [k for k in remaining if "raj.patel" in k]  # edited: kept
    assert "call_reminder" not in kinds(env) and "move_on_reminder" not in kinds(env)
    doc = env.status(fu_day + timedelta(hours=3), capsys)
    [app] = doc["applications"]
    assert app["state"] == "answered"
    assert states(doc, "thank_you_draft") == ["kept_edited", "sent"]
    assert "cancelled" in states(doc, "call_reminder")

    before = env.snapshot_files()
    assert env.sync(fu_day + timedelta(hours=4)) == 0
    assert env.snapshot_files() == before


def test_no_answer_leads_to_call_then_move_on(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    month = T0 + timedelta(days=33)  # day 30 is a Saturday: the move-on waits for Monday
    assert env.sync(month) == 0
    doc = env.status(month, capsys)
    [app] = doc["applications"]
    assert app["state"] == "stale"
    assert states(doc, "move_on_reminder") == ["done"]
    assert states(doc, "call_reminder") == ["done"]
    move_on = next(r for k, r in env.reminders().items() if "move_on" in k)
    assert "month" in move_on["title"]
    local = move_on["start"].astimezone(CHI)
    assert local.weekday() < 5 and 9 <= local.hour < 18


def test_decision_date_moves_the_follow_up(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    assert env.cli("note", "acme", "--deadline", "2026-11-27", now=T0 + timedelta(hours=2)) == 0
    env.sync(T0 + timedelta(hours=2))
    fu = next(r for k, r in env.reminders().items() if "follow_up_reminder" in k)
    # Friday the 27th + 1 business day = Monday the 30th, at the start of working hours.
    assert fu["start"] == datetime(2026, 11, 30, 9, 0, tzinfo=CHI)


def test_email_only_gets_a_second_email_instead_of_a_call(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    env.cli("note", "acme", "--contact", "email-only", now=T0 + timedelta(hours=1))
    env.sync(T0 + timedelta(hours=1))
    assert "call_reminder" not in kinds(env)
    late = T0 + timedelta(days=20)
    env.sync(late)
    follow_ups = [k for k in env.drafts() if "follow_up_draft" in k]
    assert len(follow_ups) == 2


def test_out_of_office_does_not_cancel_and_moves_the_nudge(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    fu_before = next(r for k, r in env.reminders().items() if "follow_up_reminder" in k)["start"]
    env.deliver("Jane Doe <jane.doe@acme.io>", "Automatic reply: Thank you",
                T0 + timedelta(days=1), body="I am out of the office until December 8, 2026.",
                headers={"Auto-Submitted": "auto-replied"})
    env.sync(T0 + timedelta(days=1, hours=1))
    doc = env.status(T0 + timedelta(days=1, hours=1), capsys)
    assert doc["applications"][0]["state"] == "active"
    fu = next(r for k, r in env.reminders().items() if "follow_up_reminder" in k)["start"]
    assert fu > fu_before and fu.astimezone(CHI).date() > datetime(2026, 12, 8).date()


def test_bounce_is_shown_and_is_not_an_answer(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    env.deliver("Mail Delivery System <MAILER-DAEMON@mx.example.com>",
                "Undelivered Mail Returned to Sender", T0 + timedelta(hours=20),
                body="The mail system\r\n\r\n<raj.patel@acme.io>: host said: 550 no such user",
                headers={"Auto-Submitted": "auto-replied", "X-Failed-Recipients": "raj.patel@acme.io"})
    env.sync(T0 + timedelta(hours=21))
    doc = env.status(T0 + timedelta(hours=21), capsys)
    [app] = doc["applications"]
    assert app["state"] == "active"
    assert any("raj.patel@acme.io" in n for n in app["notices"])


def test_rejection_brings_a_feedback_draft(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    env.deliver("Jane Doe <jane.doe@acme.io>", "Your application", T0 + timedelta(days=3),
                body="Thank you for your time. We have decided to move forward with other "
                     "candidates whose experience more closely matches our needs.")
    env.sync(T0 + timedelta(days=3, hours=1))
    doc = env.status(T0 + timedelta(days=3, hours=1), capsys)
    [app] = doc["applications"]
    assert app["state"] == "rejected"
    assert states(doc, "feedback_draft") == ["created"]
    assert "follow_up_reminder" not in kinds(env) and "call_reminder" not in kinds(env)
    assert "reflect_reminder" in kinds(env)


def test_outcome_offer_stops_the_nudges(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    assert env.cli("outcome", "acme", "offer", now=T0 + timedelta(days=2)) == 0
    env.sync(T0 + timedelta(days=2))
    doc = env.status(T0 + timedelta(days=2), capsys)
    assert doc["applications"][0]["state"] == "offer"
    assert {"follow_up_reminder", "call_reminder", "move_on_reminder"}.isdisjoint(kinds(env))


def test_cancelled_interview_loses_its_pending_items(env: LocalEnv, capsys: Any) -> None:
    env.sync(T - timedelta(days=2))
    assert kinds(env) == ["notes_reminder"]
    env.remove_event("acme-1")
    env.sync(T - timedelta(days=1))
    assert env.reminders() == {}


def test_moved_interview_is_replanned(env: LocalEnv, capsys: Any) -> None:
    env.sync(T - timedelta(days=2))
    env.add_interview("acme-1", "Interview with ACME", T + timedelta(days=1), people=PEOPLE)
    env.sync(T - timedelta(days=1))
    [notes] = env.reminders().values()
    assert notes["start"] == T0 + timedelta(days=1, minutes=15)


def test_next_round_cancels_the_earlier_follow_ups(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    assert "follow_up_reminder" in kinds(env)
    env.add_interview("acme-2", "Final round - ACME", T + timedelta(days=6), people=PEOPLE[:1])
    env.sync(T0 + timedelta(days=2))
    first = [k for k in env.reminders() if "follow_up_reminder" in k]
    # Only the new round's cycle (which has not ended) may plan follow-ups; the first's are gone.
    assert first == []
    doc = env.status(T0 + timedelta(days=2), capsys)
    assert doc["applications"][0]["state"] == "active"
    assert len(doc["applications"][0]["interviews"]) == 2


def test_status_json_follows_the_contract(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    doc = env.status(T0 + timedelta(minutes=1), capsys)
    [app] = doc["applications"]
    assert set(app) >= {"company", "domain", "state", "interviews"}
    assert app["company"] == "ACME" and app["domain"] == "acme.io"
    [iv] = app["interviews"]
    assert set(iv) >= {"id", "title", "start", "end", "interviewers", "artifacts"}
    assert datetime.fromisoformat(iv["start"]) == T
    assert {"name": "Jane Doe", "email": "jane.doe@acme.io"} in iv["interviewers"]
    kinds_seen = {a["kind"] for a in artifacts(doc)}
    assert {"notes_reminder", "thank_you_draft", "thank_you_reminder"} <= kinds_seen
    for a in artifacts(doc):
        assert set(a) == {"kind", "due", "state", "recipient"}
        datetime.fromisoformat(a["due"])
        assert a["state"] in {"planned", "created", "sent", "cancelled", "kept_edited", "done"}


def test_status_table_is_readable(env: LocalEnv, capsys: Any) -> None:
    env.sync(T0 + timedelta(minutes=1))
    capsys.readouterr()
    assert env.cli("status", now=T0 + timedelta(minutes=1)) == 0
    out = capsys.readouterr().out
    assert "ACME" in out and "Thank-you draft" in out and "Jane Doe" in out


def test_notes_typed_into_the_reminder_feed_the_drafts(env: LocalEnv, capsys: Any) -> None:
    from inbox_followup.formats import reminders_ics

    env.sync(T0 + timedelta(minutes=1))
    path = env.root / "reminders.ics"
    reminders = reminders_ics.read_reminders(path.read_bytes())
    [key] = [k for k in reminders if "notes_reminder" in k]
    old = reminders[key]
    typed = old.description.replace(
        "What stood out (mention it in the thank-you):",
        "What stood out (mention it in the thank-you): their plan to open a Lisbon office",
    ).replace("Next steps and decision date:", "Next steps and decision date: decision by 2026-12-02")
    reminders[key] = type(old)(old.title, typed, old.start, old.minutes)
    path.write_bytes(reminders_ics.render_reminders(reminders))  # as a calendar app saving the event
    env.sync(T0 + timedelta(hours=2))
    for msg in env.drafts().values():
        assert "Lisbon office" in msg.get_payload(decode=True).decode()
    fu = next(r for k, r in env.reminders().items() if "follow_up_reminder" in k)
    assert fu["start"] == datetime(2026, 12, 3, 9, 0, tzinfo=CHI)  # decision date + 1 business day


def test_note_text_from_the_cli_feeds_the_drafts(env: LocalEnv, capsys: Any) -> None:
    """``note --text`` is read as if typed into the notes reminder, and merged with the
    options given beside it."""
    env.sync(T0 + timedelta(minutes=1))
    text = ("What stood out: their plan to open a Lisbon office\n"
            "Next steps and decision date: decision by 2026-12-02")
    assert env.cli("note", "acme", "--text", text, "--forgot", "my Go experience",
                   now=T0 + timedelta(minutes=30)) == 0
    env.sync(T0 + timedelta(hours=2))
    bodies = [m.get_payload(decode=True).decode() for m in env.drafts().values()]
    assert bodies and all("Lisbon office" in b and "my Go experience" in b for b in bodies)
    fu = next(r for k, r in env.reminders().items() if "follow_up_reminder" in k)
    assert fu["start"] == datetime(2026, 12, 3, 9, 0, tzinfo=CHI)  # decision date + 1 business day


def test_track_and_ignore_override_detection(env: LocalEnv, capsys: Any) -> None:
    env.add_interview("coffee-1", "Coffee with Sam", T + timedelta(days=1),
                      people=(("sam@startup.example", "Sam"),))
    env.sync(T - timedelta(days=1))
    doc = env.status(T - timedelta(days=1), capsys)
    assert [a["company"] for a in doc["applications"]] == ["ACME"]
    assert env.cli("track", "Coffee with Sam", now=T - timedelta(days=1)) == 0
    assert env.cli("ignore", "acme-1", now=T - timedelta(days=1)) == 0
    env.sync(T - timedelta(days=1))
    doc = env.status(T - timedelta(days=1), capsys)
    assert [a["domain"] for a in doc["applications"]] == ["startup.example"]
    assert not [k for k in env.reminders() if "acme" in k.lower()]
    capsys.readouterr()
    assert env.cli("track", "no such event", now=T) == 2
    assert "no event" in capsys.readouterr().err
