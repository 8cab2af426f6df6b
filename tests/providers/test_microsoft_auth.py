"""Microsoft sign-in: MSAL with an injected login stand-in (never Microsoft), token_command."""

from __future__ import annotations

import stat
from pathlib import Path
from zoneinfo import ZoneInfo

import msal
import pytest

from inbox_followup.config.loader import AccountConfig
from inbox_followup.errors import AuthError, ConfigError, ProviderError
from inbox_followup.providers.microsoft.auth import SCOPES, cache_path, connect, token_provider
from tests.fakes.graph_login import FakeLogin

CLIENT = "11111111-2222-3333-4444-555555555555"
USER = "alex@contoso.example"


def account(**fields: object) -> AccountConfig:
    base: dict[str, object] = {"name": "work", "provider": "microsoft", "address": USER,
                               "client_id": CLIENT}
    base.update(fields)
    return AccountConfig(**base)  # type: ignore[arg-type]


def test_scopes_leave_the_reserved_ones_to_msal() -> None:
    assert SCOPES == ["Calendars.ReadWrite", "Mail.ReadWrite"]
    assert not {"openid", "profile", "offline_access"} & set(SCOPES)


def test_device_code_connect_stores_a_private_cache(tmp_path: Path) -> None:
    login = FakeLogin(CLIENT, USER)
    said: list[str] = []
    connect(account(), tmp_path, say=said.append, http_client=login)
    assert any("ABCD-EFGH" in line for line in said)
    path = cache_path(account(), tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "rt-1" in path.read_text()
    [device] = [form for method, url, form in login.calls if url.endswith("/devicecode")]
    assert set(device["scope"].split()) == {*SCOPES, "offline_access", "openid", "profile"}


def test_tokens_come_silently_then_refresh_and_the_cache_follows(tmp_path: Path) -> None:
    login = FakeLogin(CLIENT, USER)
    connect(account(), tmp_path, say=lambda _: None, http_client=login)
    calls_before = len(login.calls)
    get_token = token_provider(account(), tmp_path, http_client=login)
    assert len(login.calls) == calls_before  # nothing is built or fetched until asked
    assert get_token(False) == "at-1"  # from the cache, no token request
    assert not [c for c in login.calls[calls_before:] if c[1].endswith("/token")]
    assert get_token(True) == "at-2"  # refresh token grant
    assert "rt-2" in cache_path(account(), tmp_path).read_text()  # rotated and saved


def test_a_refused_refresh_says_reconnect(tmp_path: Path) -> None:
    login = FakeLogin(CLIENT, USER)
    connect(account(), tmp_path, say=lambda _: None, http_client=login)
    login.refuse_refresh = True
    get_token = token_provider(account(), tmp_path, http_client=login)
    with pytest.raises(AuthError, match="reconnect work"):
        get_token(True)


def test_never_connected_fails_without_network(tmp_path: Path) -> None:
    login = FakeLogin(CLIENT, USER)
    get_token = token_provider(account(), tmp_path, http_client=login)
    with pytest.raises(AuthError, match="inbox-followup connect work"):
        get_token(False)
    assert login.calls == []


def test_a_failed_device_sign_in_is_an_auth_error(tmp_path: Path) -> None:
    class Declined(FakeLogin):
        def _tokens(self):  # type: ignore[no-untyped-def]
            from tests.fakes.graph_login import FakeResponse

            return FakeResponse(400, {"error": "authorization_declined"})

    with pytest.raises(AuthError, match="authorization_declined"):
        connect(account(), tmp_path, say=lambda _: None, http_client=Declined(CLIENT, USER))
    assert not cache_path(account(), tmp_path).exists()


def test_client_id_is_needed_without_token_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="client_id"):
        connect(account(client_id=None), tmp_path, say=lambda _: None)


def test_token_command_is_cached_and_rerun_when_refused(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    command = f'echo x >> {counter}; echo "tok-$(wc -l < {counter} | tr -d " ")"'
    get_token = token_provider(account(token_command=command, client_id=None), tmp_path)
    assert get_token(False) == "tok-1"
    assert get_token(False) == "tok-1"
    assert get_token(True) == "tok-2"
    said: list[str] = []
    connect(account(token_command=command), tmp_path, say=said.append)
    assert said and "token_command" in said[0]


def test_a_failing_token_command_never_shows_its_output(tmp_path: Path) -> None:
    get_token = token_provider(account(token_command="echo secret-value; exit 3"), tmp_path)
    with pytest.raises(AuthError) as info:
        get_token(False)
    assert "secret-value" not in str(info.value) and "exit 3" in str(info.value)


def test_msal_would_refuse_reserved_scopes() -> None:
    app = msal.PublicClientApplication(CLIENT, http_client=FakeLogin(CLIENT, USER))
    with pytest.raises(ValueError):
        app.initiate_device_flow(scopes=["offline_access", *SCOPES])


def test_unreachable_sign_in_is_not_a_refusal(tmp_path: Path) -> None:
    import requests

    connect(account(), tmp_path, say=lambda _: None, http_client=FakeLogin(CLIENT, USER))

    class Down(FakeLogin):
        def get(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            raise requests.ConnectionError("offline")

        post = get

    get_token = token_provider(account(), tmp_path, http_client=Down(CLIENT, USER))
    with pytest.raises(ProviderError) as info:
        get_token(True)
    assert not isinstance(info.value, AuthError)


@pytest.mark.parametrize("status", [503, 400])
def test_a_sign_in_service_hiccup_is_not_a_refusal(tmp_path: Path, status: int) -> None:
    # Only refusals such as invalid_grant / interaction_required mean "connect again"; a
    # 5xx (msal raises MsalServiceError for it) or temporarily_unavailable from the token
    # endpoint is a pass to retry later
    # (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
    from tests.fakes.graph_login import FakeResponse

    login = FakeLogin(CLIENT, USER)
    connect(account(), tmp_path, say=lambda _: None, http_client=login)

    class Busy(FakeLogin):
        def post(self, url: str, params: object = None, data: object = None,  # type: ignore[override]
                 headers: object = None, **_: object) -> FakeResponse:
            return FakeResponse(status, {"error": "temporarily_unavailable",
                                         "error_description": "AADSTS90033: try again"})

    get_token = token_provider(account(), tmp_path, http_client=Busy(CLIENT, USER))
    with pytest.raises(ProviderError) as info:
        get_token(True)
    assert not isinstance(info.value, AuthError)
    assert info.value.retryable
    assert "AADSTS90033" not in str(info.value)


def test_interaction_required_says_reconnect(tmp_path: Path) -> None:
    from tests.fakes.graph_login import FakeResponse

    connect(account(), tmp_path, say=lambda _: None, http_client=FakeLogin(CLIENT, USER))

    class Consent(FakeLogin):
        def post(self, url: str, params: object = None, data: object = None,  # type: ignore[override]
                 headers: object = None, **_: object) -> FakeResponse:
            return FakeResponse(400, {"error": "interaction_required",
                                      "error_description": "AADSTS65001: consent"})

    get_token = token_provider(account(), tmp_path, http_client=Consent(CLIENT, USER))
    with pytest.raises(AuthError, match="reconnect work"):
        get_token(True)


def test_a_device_flow_that_cannot_start_names_the_error(tmp_path: Path) -> None:
    # initiate_device_flow answers an error dict without user_code (msal/application.py),
    # e.g. when "Allow public client flows" is off on the app registration.
    from tests.fakes.graph_login import FakeResponse

    class NoPublicClient(FakeLogin):
        def post(self, url: str, params: object = None, data: object = None,  # type: ignore[override]
                 headers: object = None, **_: object) -> FakeResponse:
            return FakeResponse(400, {"error": "invalid_client",
                                      "error_description": "AADSTS7000218: client_assertion"})

    with pytest.raises(AuthError, match="invalid_client"):
        connect(account(), tmp_path, say=lambda _: None, http_client=NoPublicClient(CLIENT, USER))
    assert not cache_path(account(), tmp_path).exists()


def test_connect_without_the_sign_in_service_is_a_provider_error(tmp_path: Path) -> None:
    import requests

    class Down(FakeLogin):
        def get(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            raise requests.ConnectionError("offline")

        post = get

    with pytest.raises(ProviderError, match="cannot reach Microsoft sign-in"):
        connect(account(), tmp_path, say=lambda _: None, http_client=Down(CLIENT, USER))


def test_the_daemon_keeps_one_sign_in_session_per_account(tmp_path: Path) -> None:
    """MSAL asks the sign-in service for the tenant's metadata whenever its application is
    built: the daemon's opener builds it once, not once a poll."""
    from inbox_followup.config.loader import Config
    from inbox_followup.providers import SessionKeeper

    login = FakeLogin(CLIENT, USER)
    connect(account(), tmp_path, say=lambda _: None, http_client=login)
    config = Config(path=tmp_path / "config.yaml", timezone=ZoneInfo("UTC"), accounts=(account(),),
                    state_dir=tmp_path)

    def discovery_calls() -> int:
        return sum(1 for method, url, _ in login.calls if "openid-configuration" in url)

    keeper = SessionKeeper(http_client=login)
    before = discovery_calls()
    for _ in range(3):  # three passes
        provider = keeper(account(), config)
        assert provider.client._get_token(False) == "at-1"  # type: ignore[attr-defined]
        provider.close()
    assert discovery_calls() - before == 1
    other = keeper(account(tenant="organizations"), config)  # other sign-in settings
    assert other.client._get_token is not provider.client._get_token  # type: ignore[attr-defined]
