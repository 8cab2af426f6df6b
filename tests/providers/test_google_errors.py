"""Retries, refused credentials and failed reads of the Google provider, against the fake."""

from __future__ import annotations

import inspect
import json
import random
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inbox_followup.core.model import Artifact, ArtifactKind, CalendarPage, ReminderContent, SyncWindow
from inbox_followup.errors import AuthError, ProviderError
from inbox_followup.providers.google import api as google_api
from inbox_followup.providers.google import calendar as google_calendar
from inbox_followup.providers.google import mail as google_mail
from inbox_followup.providers.google import provider as google
from inbox_followup.providers.google.auth import SCOPES
from inbox_followup.providers.retry import RetryPolicy

from ..contract.harness_google import GoogleHarness

WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
START = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)


@pytest.fixture
def h(tmp_path: Path) -> Iterator[GoogleHarness]:
    harness = GoogleHarness(tmp_path)
    harness.add_event("iv-1", "Interview with ACME", START, START + timedelta(hours=1),
                      [("jane.doe@acme.io", "Jane Doe")])
    yield harness
    harness.close()


def test_429_waits_as_long_as_retry_after_says(h: GoogleHarness) -> None:
    h.fake.fail_next(2, status=429, retry_after=7)
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert [e.title for e in page.events] == ["Interview with ACME"]
    assert h.sleeps == [7, 7]


def test_5xx_backs_off_with_capped_jitter(h: GoogleHarness) -> None:
    h.fake.fail_next(4, status=503)
    policy = RetryPolicy(attempts=5, base=1, cap=3, sleep=h.sleeps.append, rng=random.Random(1))
    h.new_provider(retry=policy).calendar_changes(None, WINDOW)
    assert len(h.sleeps) == 4 and all(0 <= s <= 3 for s in h.sleeps)


def test_a_read_that_keeps_failing_raises_and_never_looks_empty(h: GoogleHarness) -> None:
    p = h.new_provider(retry=RetryPolicy(attempts=3, sleep=h.sleeps.append))
    page = p.calendar_changes(None, WINDOW)
    h.fake.fail_next(3, status=500)
    with pytest.raises(ProviderError, match="gave up after 3 attempts"):
        p.calendar_changes(page.cursor, WINDOW)
    h.fake.fail_next(3, status=502, method="gmail.users.history.list")
    cursor = p.mail_changes(None, WINDOW).cursor
    with pytest.raises(ProviderError):
        p.mail_changes(cursor, WINDOW)


def test_403_rate_limits_are_retried_other_403s_are_not(h: GoogleHarness) -> None:
    p = h.new_provider()
    h.fake.fail_next(1, status=403, reason="forbidden")
    with pytest.raises(ProviderError) as caught:
        p.calendar_changes(None, WINDOW)
    assert caught.value.retryable is False and h.sleeps == []
    h.fake.fail_next(1, status=403, reason="userRateLimitExceeded")
    p.calendar_changes(None, WINDOW)
    assert len(h.sleeps) == 1


def test_a_timeout_and_a_dropped_connection_are_retried(h: GoogleHarness) -> None:
    p = h.new_provider(http_timeout=0.2)
    h.fake.fail_next(1, delay=0.5, method="calendar.events.list")
    h.fake.fail_next(2, drop=True, method="calendar.events.list")
    page = p.calendar_changes(None, WINDOW)
    assert [e.title for e in page.events] == ["Interview with ACME"]
    assert len(h.sleeps) >= 2


def reminder(description: str) -> Artifact:
    content = ReminderContent("Write interview notes — ACME", description, START)
    return Artifact("ifu-abc-notes_reminder-self", ArtifactKind.NOTES_REMINDER, "abc", "app",
                    START, reminder=content)


def test_a_lost_answer_to_an_event_insert_is_a_409_then_an_update(h: GoogleHarness) -> None:
    p = h.new_provider()
    h.fake.fail_next(1, method="calendar.events.insert", lose_answer=True)
    ref = p.put_event(reminder(description="one"), None)
    assert [r.description for r in h.reminders().values()] == ["one"]
    assert h.fake.calls("calendar.events.insert") == 2 and h.fake.calls("calendar.events.update") == 1
    assert ref.provider_id == next(iter(h.fake.calendar.app_calendars()[0].events))


def test_a_flaky_service_converges(h: GoogleHarness) -> None:
    """Half of the requests fail; every pass either completes or raises, and the state
    reached is the one a clean run reaches."""
    p = h.new_provider(retry=RetryPolicy(attempts=2, sleep=h.sleeps.append))
    h.fake.fail_rate(0.5, seed=3)
    page: CalendarPage | None = None
    for _ in range(40):
        try:
            page = p.calendar_changes(None, WINDOW)
            break
        except ProviderError:
            continue
    h.fake.fail_rate(0)
    assert page is not None and [e.title for e in page.events] == ["Interview with ACME"]


def command_printing(tmp_path: Path, tokens: list[str]) -> str:
    """A token_command printing the next token of ``tokens`` at each run."""
    script = tmp_path / "token.py"
    state = tmp_path / "runs"
    script.write_text(
        "import json, pathlib, sys\n"
        f"p = pathlib.Path({str(state)!r})\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        f"print({tokens!r}[min(n, {len(tokens) - 1})])\n")
    return f"{sys.executable} {script}"


def test_token_command_is_rerun_when_the_token_is_refused(h: GoogleHarness, tmp_path: Path) -> None:
    h.account = h.account.__class__(**{**h.account.__dict__,
                                       "token_command": command_printing(tmp_path, ["old", "new"])})
    h.fake.valid_tokens = {"new"}
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert page.events and (tmp_path / "runs").read_text() == "2"


def test_a_refused_token_says_reconnect_and_leaks_nothing(h: GoogleHarness) -> None:
    p = h.new_provider()
    p.calendar_changes(None, WINDOW)
    h.fake.revoke_access_tokens()
    with pytest.raises(AuthError) as caught:
        p.mail_changes(None, WINDOW)
    assert "reconnect g" in str(caught.value) and "fake-token" not in str(caught.value)
    assert caught.value.retryable is False


def saved_token(h: GoogleHarness, path: Path, *, expired: bool) -> None:
    h.fake.oauth.refresh_tokens["1//saved"] = " ".join(SCOPES)
    info = {"token": "stale", "refresh_token": "1//saved", "token_uri": f"{h.fake.url}/token",
            "client_id": "cid.apps.googleusercontent.com", "client_secret": "s", "scopes": SCOPES,
            "expiry": "2000-01-01T00:00:00Z" if expired else "2999-01-01T00:00:00Z"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info))


def test_a_saved_token_is_refreshed_silently_and_rewritten_0600(h: GoogleHarness) -> None:
    h.account = h.account.__class__(**{**h.account.__dict__, "token_command": None})
    path = h.root / "state" / "tokens" / "g.json"
    saved_token(h, path, expired=True)
    h.fake.valid_tokens = set()  # only a token the fake's /token endpoint issues
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert page.events and h.fake.oauth.refreshes == 1
    rewritten = json.loads(path.read_text())
    assert rewritten["token"] != "stale" and rewritten["token"] in h.fake.valid_tokens
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_refresh_google_refuses_is_an_auth_error(h: GoogleHarness) -> None:
    h.account = h.account.__class__(**{**h.account.__dict__, "token_command": None})
    saved_token(h, h.root / "state" / "tokens" / "g.json", expired=True)
    h.fake.oauth.refused = True  # e.g. the 7-day refresh tokens of an app in "Testing"
    with pytest.raises(AuthError, match="reconnect g"):
        h.new_provider().calendar_changes(None, WINDOW)


def test_a_token_endpoint_outage_is_retried_not_a_reconnect(h: GoogleHarness) -> None:
    """google-auth retries a 5xx from the token endpoint three times, then raises
    RefreshError(retryable=True): Google is down, the sign-in is fine."""
    h.account = h.account.__class__(**{**h.account.__dict__, "token_command": None})
    saved_token(h, h.root / "state" / "tokens" / "g.json", expired=True)
    h.fake.valid_tokens = set()
    h.fake.oauth.outage = 3
    page = h.new_provider().calendar_changes(None, WINDOW)
    assert page.events and h.fake.oauth.refreshes == 4 and len(h.sleeps) == 1
    saved_token(h, h.root / "state" / "tokens" / "g.json", expired=True)
    h.fake.oauth.outage = 100
    with pytest.raises(ProviderError) as caught:
        h.new_provider(retry=RetryPolicy(attempts=1)).mail_changes(None, WINDOW)
    assert not isinstance(caught.value, AuthError) and "reconnect" not in str(caught.value)


def test_no_code_path_can_send_mail() -> None:
    for module in (google, google_api, google_calendar, google_mail):
        source = inspect.getsource(module)
        assert ".send(" not in source and "sendMail" not in source
