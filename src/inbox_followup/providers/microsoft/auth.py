"""Microsoft sign-in with MSAL: connect once, then silent refresh from a 0600 token cache.

- ``connect``: the device code flow by default (works over SSH: the user opens the URL on any
  device), or the interactive browser flow on request. Scopes: ``Calendars.ReadWrite`` and
  ``Mail.ReadWrite``; MSAL adds ``offline_access openid profile`` itself and raises ValueError
  when given them (msal ``_decorate_scope``, docs/api-notes.md 5).
- The cache is msal's ``SerializableTokenCache`` in ``state_dir/tokens/{name}.msal.json``,
  written 0600 through an atomic rename whenever ``has_state_changed`` says so: refresh tokens
  replace themselves on every use
  (https://learn.microsoft.com/entra/identity-platform/refresh-tokens).
- ``PublicClientApplication`` fetches the tenant's OpenID configuration when it is built, so
  it is built lazily, on the first token request; tests inject ``http_client`` (an object
  with ``get``/``post``/``close``) or use ``token_command`` and never reach Microsoft.
- Only refusals (``invalid_grant``, ``interaction_required`` and kin) say "reconnect NAME";
  a sign-in service that is down or answers 5xx is a ProviderError, retried next pass.
- ``token_command`` (config): its standard output is the access token; it is run again when
  Graph refuses the token.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from inbox_followup.config.loader import AccountConfig
from inbox_followup.errors import AuthError, ConfigError, ProviderError

log = logging.getLogger(__name__)

SCOPES = ["Calendars.ReadWrite", "Mail.ReadWrite"]
# Token endpoint errors that only the user can fix by signing in again (OAuth 2.0 RFC 6749
# §5.2, OpenID Connect Core §3.1.2.6); anything else (server_error, temporarily_unavailable,
# a 5xx) is passing trouble, retried on a later pass
# (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
REFUSALS = frozenset({
    "invalid_grant", "interaction_required", "consent_required", "login_required",
    "invalid_client", "unauthorized_client", "invalid_scope",
})
AUTHORITY = "https://login.microsoftonline.com/"
TOKEN_COMMAND_TIMEOUT = 120.0


def cache_path(account: AccountConfig, state_dir: Path) -> Path:
    return state_dir / "tokens" / f"{account.name}.msal.json"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as 0600, atomically (temp file in the same folder + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older temp file may have kept looser bits
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class _MsalSession:
    """The cache file and a lazily built PublicClientApplication for one account."""

    def __init__(self, account: AccountConfig, state_dir: Path, http_client: object | None) -> None:
        import msal

        if not account.client_id:
            raise ConfigError(
                [f"accounts.{account.name}.client_id: needed to sign in to Microsoft "
                 "(or set token_command)"]
            )
        self.account = account
        self.path = cache_path(account, state_dir)
        self.cache = msal.SerializableTokenCache()
        if self.path.exists():
            try:
                self.cache.deserialize(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                detail = f"cannot read the token cache ({type(exc).__name__})"
                raise AuthError(account.name, detail) from None
        self._http_client = http_client
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            import msal

            kwargs: dict[str, Any] = {"token_cache": self.cache}
            if self._http_client is not None:
                kwargs["http_client"] = self._http_client
            self._app = msal.PublicClientApplication(
                self.account.client_id, authority=AUTHORITY + self.account.tenant, **kwargs
            )
        return self._app

    def save(self) -> None:
        if self.cache.has_state_changed:
            _write_private(self.path, self.cache.serialize())


def _check(result: Any, account: str) -> str:
    if isinstance(result, dict) and result.get("access_token"):
        return str(result["access_token"])
    error = result.get("error", "no token") if isinstance(result, dict) else "no token"
    # error_description can quote the request; the short error code is enough for the user.
    raise AuthError(account, f"Microsoft sign-in said {error}")


def _silent_token(result: Any, account: str) -> str:
    """The access token of a silent request; AuthError for a refusal, else ProviderError."""
    if not result:
        raise AuthError(account, "the stored sign-in has expired")
    error = str(result.get("error", "")) if isinstance(result, dict) else ""
    if error and error not in REFUSALS:
        raise ProviderError(f"Microsoft sign-in is not answering properly ({error})")
    return _check(result, account)


def connect(
    account: AccountConfig,
    state_dir: Path,
    *,
    browser: bool = False,
    say: Callable[[str], None],
    http_client: object | None = None,
) -> None:
    """Sign in once and store the token cache: with the device code that ``say`` shows, or
    with ``browser`` in a browser on this machine. The same signature as the Google ``connect``.

    Raises ConfigError (no client_id), AuthError (sign-in refused, expired or cancelled),
    ProviderError (the sign-in service cannot be reached).
    """
    from msal.exceptions import MsalServiceError

    if account.token_command:
        say(f"{account.name} gets its tokens from token_command; there is nothing to connect.")
        return
    session = _MsalSession(account, state_dir, http_client)
    try:
        result = _sign_in(session.app, not browser, account.name, say)
    except (requests.RequestException, MsalServiceError) as exc:
        raise ProviderError(f"cannot reach Microsoft sign-in ({type(exc).__name__})") from None
    _check(result, account.name)
    session.save()
    say(f"{account.name} is connected; the token cache is {session.path} (private to you).")


def _sign_in(app: Any, device_code: bool, account: str, say: Callable[[str], None]) -> Any:
    """MSAL's answer to the device code or interactive flow. Raises AuthError when the device
    flow cannot start (msal then answers a dict without ``user_code``)."""
    if device_code:
        flow = app.initiate_device_flow(scopes=SCOPES)
        if "user_code" not in flow:
            detail = f"could not start the device sign-in ({flow.get('error')})"
            raise AuthError(account, detail)
        say(str(flow["message"]))
        return app.acquire_token_by_device_flow(flow)
    say("A browser window opens for the Microsoft sign-in; finish it there.")
    return app.acquire_token_interactive(SCOPES, prompt="select_account")


def token_provider(
    account: AccountConfig, state_dir: Path, *, http_client: object | None = None
) -> Callable[[bool], str]:
    """``get_token(force_refresh) -> access token`` for Graph requests.

    With ``token_command`` the command's output (rerun when ``force_refresh``); otherwise MSAL's
    silent flow from the stored cache. The callable raises AuthError when there is no stored
    sign-in or it is refused (the message says "reconnect NAME"), ConfigError without
    client_id, ProviderError when the sign-in service cannot be reached. Thread-safe.
    """
    if account.token_command:
        return _command_tokens(account)
    lock = threading.Lock()
    holder: list[_MsalSession] = []

    def get_token(force_refresh: bool) -> str:
        from msal.exceptions import MsalServiceError  # msal is imported only when used

        with lock:
            if not holder:
                holder.append(_MsalSession(account, state_dir, http_client))
            session = holder[0]
            cache = session.cache
            lookup = getattr(cache, "search", None) or cache.find  # search() since msal 1.27
            if not any(True for _ in lookup(cache.CredentialType.ACCOUNT)):
                # Checked before the app is built: that would reach Microsoft for nothing.
                raise AuthError(account.name, "not connected yet")
            try:
                accounts = session.app.get_accounts()
                if not accounts:
                    raise AuthError(account.name, "no signed-in account in the token cache")
                # _with_error: acquire_token_silent folds every failure into None, and a
                # sign-in service hiccup must not read as "reconnect".
                result = session.app.acquire_token_silent_with_error(
                    SCOPES, account=accounts[0], force_refresh=force_refresh
                )
            except (requests.RequestException, MsalServiceError) as exc:
                # Sign-in unreachable (msal raises MsalServiceError on a 5xx) is not a
                # refusal: the pass fails and is retried later.
                raise ProviderError(
                    f"cannot reach Microsoft sign-in ({type(exc).__name__})"
                ) from None
            finally:
                session.save()
            return _silent_token(result, account.name)

    return get_token


def _command_tokens(account: AccountConfig) -> Callable[[bool], str]:
    command = account.token_command or ""
    lock = threading.Lock()
    cached: list[str] = []

    def get_token(force_refresh: bool) -> str:
        with lock:
            if cached and not force_refresh:
                return cached[0]
            try:
                # Through the shell, as git runs credential helpers: the user's own config,
                # and pipelines such as `pass show x | head -1` are the point.
                done = subprocess.run(
                    command, shell=True, capture_output=True, text=True,
                    timeout=TOKEN_COMMAND_TIMEOUT, check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                detail = f"token_command did not run ({type(exc).__name__})"
                raise AuthError(account.name, detail) from None
            token = done.stdout.strip()
            if done.returncode != 0 or not token:
                raise AuthError(account.name, f"token_command failed (exit {done.returncode})")
            cached[:] = [token]
            return token

    return get_token


__all__ = ["SCOPES", "cache_path", "connect", "token_provider"]
