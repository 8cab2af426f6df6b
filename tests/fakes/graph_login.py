"""A stand-in for login.microsoftonline.com, injected into MSAL as its ``http_client``.

MSAL calls ``get``/``post``/``close`` on the object and reads ``status_code``, ``text`` and
``headers`` from the answers (msal/application.py; docs/api-notes.md 5). This one answers tenant
discovery, the device code flow and the token endpoint (device code and refresh token
grants), hands out tokens ``at-1``, ``at-2``, ... and records every call.
"""

from __future__ import annotations

import base64
import json
from typing import Any

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
OID = "00000000-0000-0000-66f3-3332eca7ea81"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.text = json.dumps(body)
        self.headers: dict[str, str] = {"Content-Type": "application/json"}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeLogin:
    def __init__(self, client_id: str, user: str) -> None:
        self.client_id = client_id
        self.user = user
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.refresh_tokens: set[str] = set()
        self.issued = 0
        self.refuse_refresh = False

    def get(self, url: str, params: Any = None, headers: Any = None, **_: Any) -> FakeResponse:
        self.calls.append(("GET", url, dict(params or {})))
        if "discovery/instance" in url:
            return FakeResponse(200, {
                "tenant_discovery_endpoint": "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
                "metadata": [{"preferred_network": "login.microsoftonline.com",
                              "preferred_cache": "login.windows.net",
                              "aliases": ["login.microsoftonline.com", "login.windows.net"]}],
            })
        base = "https://login.microsoftonline.com/common/oauth2/v2.0"
        return FakeResponse(200, {
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/devicecode",
            "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        })

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **_: Any
    ) -> FakeResponse:
        form = dict(data or {})
        self.calls.append(("POST", url, form))
        if url.endswith("/devicecode"):
            return FakeResponse(200, {
                "user_code": "ABCD-EFGH", "device_code": "dev-code", "expires_in": 900,
                "interval": 0, "verification_uri": "https://microsoft.com/devicelogin",
                "message": "Open https://microsoft.com/devicelogin and enter ABCD-EFGH.",
            })
        grant = form.get("grant_type", "")
        if grant.endswith("device_code"):
            return self._tokens()
        if grant == "refresh_token":
            if self.refuse_refresh or form.get("refresh_token") not in self.refresh_tokens:
                return FakeResponse(400, {"error": "invalid_grant",
                                          "error_description": "AADSTS70000: the grant is revoked"})
            self.refresh_tokens.discard(form["refresh_token"])
            return self._tokens()
        return FakeResponse(400, {"error": "unsupported_grant_type"})

    def close(self) -> None:
        """Nothing to release."""

    def _tokens(self) -> FakeResponse:
        self.issued += 1
        refresh = f"rt-{self.issued}"
        self.refresh_tokens.add(refresh)
        claims = {
            "aud": self.client_id, "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "iat": 1700000000, "nbf": 1700000000, "exp": 4102444800, "oid": OID,
            "sub": "subject", "tid": TENANT, "preferred_username": self.user, "name": "Alex",
        }
        return FakeResponse(200, {
            "token_type": "Bearer", "scope": "Calendars.ReadWrite Mail.ReadWrite openid profile",
            "expires_in": 3600, "ext_expires_in": 3600, "access_token": f"at-{self.issued}",
            "refresh_token": refresh, "id_token": f"{_b64({'alg': 'none'})}.{_b64(claims)}.",
            "client_info": _b64({"uid": OID, "utid": TENANT}),
        })
