"""docs/design.md invariant 6: tokens never in logs, ``status`` or error messages; token files 0600;
and the state directory that holds them private (0700), or the run is refused."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.providers.google.auth import SCOPES
from inbox_followup.providers.microsoft.graph import KEY_PROPERTY

from ..e2e.localenv import LocalEnv
from ..fakes.google_fake import GoogleFake
from ..fakes.graph_fake import GraphFake

CHI = ZoneInfo("America/Chicago")
T = datetime(2026, 11, 19, 14, 0, tzinfo=CHI)
AFTER = T + timedelta(hours=2)
USER = "alex.morgan@example.com"
LEAD = ("lead@acme.example", "Lee Lead")
MS_TOKEN = "eyJ0eXAiOiJKV1QiLCJzZWNyZXQiOiJtcyJ9.ms-secret-token-7f3a"
STALE = "ya29.stale-secret-token-41c2"
REFRESH = "1//refresh-secret-token-9b7e"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Local + Google (a saved OAuth token file, expired: the run refreshes it) + Microsoft
    (token_command), each with an interview so every kind of write happens."""
    local = LocalEnv(tmp_path)
    local.add_interview("acme-1", "Interview with ACME", T, people=(LEAD,))
    google = GoogleFake(USER, tokens=set())
    google.oauth.refresh_tokens[REFRESH] = " ".join(SCOPES)
    google.calendar.user_put("primary", {
        "summary": "Interview with ACME", "organizer": {"email": LEAD[0]},
        "start": {"dateTime": T.isoformat()},
        "end": {"dateTime": (T + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": LEAD[0], "displayName": LEAD[1]}, {"email": USER, "self": True}]})
    graph = GraphFake(USER, key_property=KEY_PROPERTY, token=MS_TOKEN, clock=T)
    graph.add_event("acme-1", "Interview with ACME", T, T + timedelta(hours=1), [LEAD],
                    organizer=LEAD[0], response="accepted")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    token_file = state / "tokens" / "gmail.json"
    token_file.parent.mkdir(mode=0o700)
    token_file.write_text(json.dumps({
        "token": STALE, "refresh_token": REFRESH, "token_uri": f"{google.url}/token",
        "client_id": "cid.apps.googleusercontent.com", "client_secret": "client-secret-5d1e",
        "scopes": SCOPES, "expiry": "2000-01-01T00:00:00Z"}))
    token_file.chmod(0o600)
    local.config.write_text(
        local.config.read_text()
        + f"  - {{name: gmail, provider: google, address: {USER}, api_endpoint: '{google.url}'}}\n"
        + f"  - {{name: office, provider: microsoft, address: {USER}, api_endpoint: '{graph.url}',"
        f" token_command: 'echo {MS_TOKEN}'}}\n")
    yield {"local": local, "google": google, "graph": graph, "token_file": token_file}
    google.close()
    graph.close()


def _secrets(world: dict[str, Any]) -> set[str]:
    google: GoogleFake = world["google"]
    issued = set(google.valid_tokens or ()) | set(google.oauth.refresh_tokens)
    return {MS_TOKEN, STALE, REFRESH, "client-secret-5d1e", *issued}


def test_no_token_in_any_log_line_or_status_output(world: dict[str, Any],
                                                   caplog: pytest.LogCaptureFixture,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP libraries' included
    local: LocalEnv = world["local"]
    out: list[str] = []

    def run(*args: str, now: datetime) -> int:
        code = local.cli("-v", *args, now=now)
        captured = capsys.readouterr()
        out.extend([captured.out, captured.err])
        return code

    assert run("sync", now=AFTER) == 0
    google: GoogleFake = world["google"]
    assert google.oauth.refreshes == 1 and google.gmail.drafts and world["graph"].drafts()
    # The refreshed token was written back: still private.
    assert stat.S_IMODE(world["token_file"].stat().st_mode) == 0o600
    assert json.loads(world["token_file"].read_text())["token"] != STALE

    world["graph"].fail_next(3, 429, retry_after=0)  # retried: the retry lines are logged
    assert run("sync", now=AFTER + timedelta(minutes=5)) == 0
    google.revoke_access_tokens()  # then every token is refused: the error paths talk
    google.oauth.refused = True
    world["graph"].valid_tokens.clear()
    assert run("sync", now=AFTER + timedelta(minutes=10)) == 1
    for args in (("status",), ("status", "--json")):
        assert run(*args, now=AFTER + timedelta(minutes=10)) == 1
    assert "reconnect gmail" in "".join(out) and "reconnect office" in "".join(out)

    text = "\n".join([*out, caplog.text, *(str(r.args) for r in caplog.records)])
    assert len(caplog.records) > 20, "too little was logged for this to prove anything"
    leaked = sorted(s for s in _secrets(world) if s in text)
    assert leaked == [], f"secrets in the output: {leaked}"
    for path in (local.root / "state" / "tokens").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o701])
def test_a_state_dir_open_to_others_is_refused_with_the_fix(tmp_path: Path, mode: int,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    env = LocalEnv(tmp_path)
    env.add_interview("acme-1", "Interview with ACME", T, people=(LEAD,))
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(mode)
    for args in (("sync",), ("status",), ("run",)):
        assert env.cli(*args, now=AFTER) == 2
        err = capsys.readouterr().err
        assert str(state) in err and f"chmod 700 {state}" in err and f"{mode:04o}" in err
        assert "Traceback" not in err
    assert not (state / "state.sqlite3").exists() and env.drafts() == {}
    state.chmod(0o700)  # the fix the message gives
    assert env.sync(AFTER) == 0


def test_a_new_state_dir_is_private_whatever_the_umask(tmp_path: Path) -> None:
    env = LocalEnv(tmp_path)
    old = os.umask(0)
    try:
        assert env.sync(AFTER) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    env = LocalEnv(tmp_path)
    (tmp_path / "state").write_text("not a folder")
    assert env.cli("status", now=AFTER) == 2
    assert "not a folder" in capsys.readouterr().err
