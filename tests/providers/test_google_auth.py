"""``connect`` and ``credentials_for`` for Google accounts, with the fake's OAuth endpoints."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import SyncWindow
from inbox_followup.errors import AuthError, ConfigError
from inbox_followup.providers.base import ProviderContext
from inbox_followup.providers.google.auth import (
    PRIMARY_WRITE_SCOPE,
    SCOPES,
    CommandCredentials,
    connect,
    credentials_for,
    scopes_for,
    write_secret,
)
from inbox_followup.providers.google.provider import GoogleProvider

from ..fakes.google_fake import GoogleFake

WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


@pytest.fixture
def fake() -> Iterator[GoogleFake]:
    f = GoogleFake("alex.morgan@example.com", tokens=set())
    yield f
    f.close()


def account(tmp_path: Path, fake: GoogleFake, **kw: object) -> AccountConfig:
    secrets = tmp_path / "client.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "123.apps.googleusercontent.com", "client_secret": "shh",
        "auth_uri": f"{fake.url}/o/oauth2/auth", "token_uri": f"{fake.url}/token",
        "redirect_uris": ["http://localhost"]}}))
    fields: dict[str, object] = {"name": "personal", "provider": "google",
                                 "address": "alex.morgan@example.com", "client_secrets": secrets,
                                 "api_endpoint": fake.url}
    fields.update(kw)
    return AccountConfig(**fields)  # type: ignore[arg-type]


def browser_for(said: list[str]) -> object:
    """The user: reads the address ``connect`` shows and opens it (the fake consents)."""

    def say(text: str) -> None:
        said.append(text)
        found = re.search(r"(http://127\.0\.0\.1:\d+/o/oauth2/auth\S+)", text)
        if found:
            url = found.group(1)
            threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read(),
                             daemon=True).start()

    return say


def test_connect_runs_the_installed_app_flow_and_saves_a_private_token(
        tmp_path: Path, fake: GoogleFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake's token URL is http
    acct = account(tmp_path, fake)
    said: list[str] = []
    connect(acct, tmp_path / "state", browser=False, say=browser_for(said))  # type: ignore[arg-type]
    assert "ssh -L" in said[0] and "Connected personal" in said[-1]
    assert fake.oauth.asked == [" ".join(SCOPES)]
    token = tmp_path / "state" / "tokens" / "personal.json"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert json.loads(token.read_text())["refresh_token"].startswith("1//fake-")
    provider = GoogleProvider(acct, ProviderContext(tmp_path / "state", ZoneInfo("UTC")))
    page = provider.calendar_changes(None, WINDOW)
    assert page.replaced_sources == frozenset({"primary"})


def test_unticked_permissions_are_an_auth_error(
        tmp_path: Path, fake: GoogleFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    fake.oauth.withheld = {SCOPES[2]}  # the user left "manage drafts" unticked
    with pytest.raises(AuthError, match="reconnect personal"):
        connect(account(tmp_path, fake), tmp_path / "state", browser=False,
                say=browser_for([]))  # type: ignore[arg-type]
    assert not (tmp_path / "state" / "tokens" / "personal.json").exists()


def test_a_missing_or_broken_client_file_names_the_config_key(tmp_path: Path, fake: GoogleFake) -> None:
    with pytest.raises(ConfigError, match=r"accounts\.personal\.client_secrets: no file"):
        connect(account(tmp_path, fake, client_secrets=tmp_path / "nope.json"), tmp_path,
                browser=False, say=lambda s: None)
    broken = tmp_path / "broken.json"
    broken.write_text('{"web": 1')
    with pytest.raises(ConfigError, match=r"accounts\.personal\.client_secrets: .*not an OAuth"):
        connect(account(tmp_path, fake, client_secrets=broken), tmp_path, browser=False,
                say=lambda s: None)
    with pytest.raises(ConfigError, match="required to connect"):
        connect(account(tmp_path, fake, client_secrets=None), tmp_path, browser=False,
                say=lambda s: None)


def test_token_command_accounts_need_no_connect(tmp_path: Path, fake: GoogleFake) -> None:
    said: list[str] = []
    connect(account(tmp_path, fake, token_command="echo t"), tmp_path, browser=False,
            say=said.append)
    assert "nothing to connect" in said[0]
    creds = credentials_for(account(tmp_path, fake, token_command="echo t"), tmp_path)
    assert isinstance(creds, CommandCredentials)


def test_a_failing_token_command_is_an_auth_error(tmp_path: Path, fake: GoogleFake) -> None:
    acct = account(tmp_path, fake, token_command="echo secret-token; exit 3")
    with pytest.raises(AuthError) as caught:
        GoogleProvider(acct, ProviderContext(tmp_path, ZoneInfo("UTC"))).calendar_changes(None, WINDOW)
    assert "reconnect personal" in str(caught.value) and "secret-token" not in str(caught.value)


def test_not_connected_yet(tmp_path: Path, fake: GoogleFake) -> None:
    with pytest.raises(AuthError, match=r"reconnect personal.*not connected yet"):
        credentials_for(account(tmp_path, fake), tmp_path)
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "personal.json").write_text("{}")
    with pytest.raises(AuthError, match="not a saved Google token"):
        credentials_for(account(tmp_path, fake), tmp_path)


def test_primary_reminders_ask_for_write_access_to_owned_calendars_only(
        tmp_path: Path, fake: GoogleFake) -> None:
    assert scopes_for(account(tmp_path, fake)) == SCOPES
    assert scopes_for(account(tmp_path, fake, reminders_calendar="primary")) == [
        *SCOPES, PRIMARY_WRITE_SCOPE]
    assert all("readonly" in s or "app.created" in s or "compose" in s or "metadata" in s
               for s in SCOPES)
    # the provider writes to the primary calendar for " Primary " too; connect must agree
    assert PRIMARY_WRITE_SCOPE in scopes_for(account(tmp_path, fake, reminders_calendar=" Primary "))


def test_secret_files_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_secret(tmp_path / "t" / "x.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "t" / "x.json").stat().st_mode) == 0o600
    assert list((tmp_path / "t").iterdir()) == [tmp_path / "t" / "x.json"]
