"""Google sign-in: the installed-app OAuth flow, the 0600 token file, and ``token_command``.

``connect`` runs google-auth-oauthlib's ``InstalledAppFlow.run_local_server(port=0)``: a
one-shot HTTP server on a free localhost port receives Google's redirect (the out-of-band
"paste the code" flow was shut down by Google; docs/api-notes.md 3.4). The address to open is
always shown, so a browser on another machine can be used with an SSH port forward.

``credentials_for`` gives the provider its credentials: with ``token_command`` a Credentials
object whose refresh reruns the command; otherwise the saved token, refreshed silently by
google-auth and written back (0600) after each refresh. A token Google refuses (for example
the 7-day refresh tokens of an app left in "Testing") surfaces as
:class:`~inbox_followup.errors.AuthError`, whose message says "reconnect NAME".
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import google.auth.credentials
import google.auth.transport
import google.oauth2.credentials
from google.auth.exceptions import GoogleAuthError, RefreshError
from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from inbox_followup.config.loader import AccountConfig
from inbox_followup.errors import AuthError, ConfigError

log = logging.getLogger(__name__)

_S = "https://www.googleapis.com/auth/"
# docs/design.md "Least privilege": read the user's events; own one calendar the tool creates;
# write drafts; read message headers (no bodies, no search).
SCOPES = [
    _S + "calendar.events.readonly",
    _S + "calendar.app.created",
    _S + "gmail.compose",
    _S + "gmail.metadata",
]
# Only when ``reminders_calendar: primary``: calendar.app.created cannot write to the primary
# calendar, and calendar.events.owned is the narrowest scope that can (discovery document).
PRIMARY_WRITE_SCOPE = _S + "calendar.events.owned"
COMMAND_TIMEOUT = 60.0
CONNECT_TIMEOUT = 900


def scopes_for(account: AccountConfig) -> list[str]:
    """The scopes ``connect`` asks for: :data:`SCOPES`, plus primary-calendar write access
    when the reminders go on the primary calendar."""
    # The same test as the calendar provider's (providers.google.calendar.GoogleCalendar.on_primary).
    on_primary = account.reminders_calendar.strip().lower() == "primary"
    extra = [PRIMARY_WRITE_SCOPE] if on_primary else []
    return SCOPES + extra


def token_path(account: AccountConfig, state_dir: Path) -> Path:
    return state_dir / "tokens" / f"{account.name}.json"


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (0600), atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the mode above is filtered by the umask; this is not
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class _Flow(InstalledAppFlow):  # type: ignore[misc]
    """The installed-app flow, telling the user the address through ``say`` (not print)."""

    say: Callable[[str], None] | None = None

    def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
        url, state = super().authorization_url(**kwargs)
        port = urlsplit(self.redirect_uri).port
        assert self.say is not None
        self.say(
            "Open this address in a browser and allow access:\n\n"
            f"  {url}\n\n"
            f"Waiting for Google's answer on localhost:{port}. If the browser runs on another "
            f"machine, forward that port first: ssh -L {port}:localhost:{port} <this machine>"
        )
        return url, state


def connect(account: AccountConfig, state_dir: Path, *, browser: bool = False,
            say: Callable[[str], None]) -> None:
    """Sign in through Google's consent page and save the token in a 0600 file under
    ``state_dir``. ``browser``: open the page here (else ``say`` shows its address). The
    same signature as the Microsoft ``connect``.

    Raises ConfigError (naming ``accounts.NAME.client_secrets``) when the OAuth client file is
    missing or unusable, and AuthError when Google refuses or nobody answers in time.
    """
    key = f"accounts.{account.name}.client_secrets"
    if account.token_command:
        say(f"{account.name} gets its tokens from token_command; there is nothing to connect.")
        return
    if account.client_secrets is None:
        raise ConfigError([f"{key}: required to connect; download the OAuth client JSON "
                           "(type: Desktop app) from the Google Cloud console"])
    secrets_file = account.client_secrets.expanduser()
    if not secrets_file.is_file():
        raise ConfigError([f"{key}: no file at {secrets_file}"])
    scopes = scopes_for(account)
    try:
        flow = _Flow.from_client_secrets_file(str(secrets_file), scopes=scopes)
    except (ValueError, KeyError, OSError) as exc:
        raise ConfigError([f"{key}: {secrets_file} is not an OAuth client file for a "
                           f"Desktop app ({type(exc).__name__}: {exc})"]) from None
    flow.say = say
    creds = _run_flow(flow, account.name, browser and _has_browser())
    granted = set(creds.granted_scopes or creds.scopes or scopes)
    missing = [s.removeprefix(_S) for s in scopes if s not in granted]
    if missing:
        raise AuthError(account.name, "some permissions were not granted: " + ", ".join(missing))
    path = token_path(account, state_dir)
    write_secret(path, creds.to_json().encode())  # type: ignore[no-untyped-call]
    say(f"Connected {account.name}. The token is saved in {path} (readable by you only).")


def _run_flow(flow: _Flow, name: str, open_browser: bool) -> google.oauth2.credentials.Credentials:
    try:
        creds = flow.run_local_server(
            port=0, open_browser=open_browser, authorization_prompt_message="",
            success_message="inbox-followup is connected. You can close this tab.",
            timeout_seconds=CONNECT_TIMEOUT, prompt="consent",
        )
    except WSGITimeoutError:
        raise AuthError(name, "no answer from the browser in time") from None
    except (OAuth2Error, GoogleAuthError) as exc:
        raise AuthError(name, f"Google refused the sign-in ({type(exc).__name__})") from None
    except Warning as exc:  # oauthlib: "Scope has changed" when boxes were left unticked
        problem = f"the permissions granted differ from those asked for ({exc})"
        raise AuthError(name, problem) from None
    assert isinstance(creds, google.oauth2.credentials.Credentials)
    return creds


def _has_browser() -> bool:
    """A graphical browser can be opened here. Over SSH, webbrowser may find only a text
    browser, which would take over the terminal: the address is shown instead."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not graphical:
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


class SavingCredentials(google.oauth2.credentials.Credentials):
    """OAuth user credentials that write themselves back to their file after a refresh."""

    token_file: Path | None = None

    def refresh(self, request: google.auth.transport.Request) -> None:
        super().refresh(request)  # type: ignore[no-untyped-call]
        if self.token_file is not None:
            write_secret(self.token_file, self.to_json().encode())  # type: ignore[no-untyped-call]
            log.debug("refreshed the Google token of %s", self.token_file.stem)


class CommandCredentials(google.auth.credentials.Credentials):
    """An access token printed by ``token_command``; a refresh (401, or first use) reruns it.

    The command runs through the shell, as the user wrote it in their own config file.
    Its output is a secret: it is never logged, nor is the command's stderr.
    """

    def __init__(self, command: str, account: str, timeout: float = COMMAND_TIMEOUT) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.command = command
        self.account = account
        self.timeout = timeout
        self.runs = 0

    def refresh(self, request: google.auth.transport.Request) -> None:
        self.runs += 1
        try:
            done = subprocess.run(self.command, shell=True, capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"token_command of {self.account} failed ({type(exc).__name__})"
            raise RefreshError(problem) from None  # type: ignore[no-untyped-call]
        token = done.stdout.strip()
        if done.returncode != 0:
            problem = f"token_command of {self.account} exited with {done.returncode}"
            raise RefreshError(problem)  # type: ignore[no-untyped-call]
        if not token or any(c.isspace() for c in token):
            problem = f"token_command of {self.account} printed no single token"
            raise RefreshError(problem)  # type: ignore[no-untyped-call]
        self.token = token
        self.expiry = None


def _with_endpoint_token_uri(creds: Any, saved: object, endpoint: str | None) -> Any:
    """google-auth sends refreshes to Google's token endpoint whatever the file says (a
    token file must not redirect a refresh token elsewhere). With ``api_endpoint`` set, a
    token URI under that same endpoint (a proxy, or the test fake) is honoured."""
    if not endpoint or not isinstance(saved, str):
        return creds
    if not saved.startswith(endpoint.rstrip("/") + "/"):
        return creds
    moved = creds.with_token_uri(saved)
    moved.expiry = creds.expiry  # the copy forgets it
    return moved


def credentials_for(account: AccountConfig, state_dir: Path) -> google.auth.credentials.Credentials:
    """Credentials for ``account``: from ``token_command`` if set, else the saved token.

    Raises AuthError("reconnect NAME ...") when there is no usable saved token. A token that
    Google refuses later raises ``google.auth.exceptions.RefreshError`` inside the HTTP call,
    which the provider turns into AuthError.
    """
    if account.token_command:
        return CommandCredentials(account.token_command, account.name)
    path = token_path(account, state_dir)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthError(account.name, "not connected yet") from None
    except (OSError, ValueError):
        raise AuthError(account.name, f"the token file {path} is unreadable") from None
    try:
        creds = SavingCredentials.from_authorized_user_info(info)  # type: ignore[no-untyped-call]
    except (ValueError, KeyError, TypeError):
        problem = f"the token file {path} is not a saved Google token"
        raise AuthError(account.name, problem) from None
    if not creds.refresh_token and not creds.valid:
        raise AuthError(account.name, "the saved token has expired and cannot be renewed")
    creds = _with_endpoint_token_uri(creds, info.get("token_uri"), account.api_endpoint)
    assert isinstance(creds, SavingCredentials)
    creds.token_file = path
    return creds
