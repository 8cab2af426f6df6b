"""The fake itself: it must refuse what Google refuses, or the provider tests prove nothing.

Driven through the real google-api-python-client (bundled discovery documents), as the
provider is; where the client would refuse an argument before sending it, raw HTTP is used.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ..fakes.google_fake import GoogleFake

WHEN = {"start": {"dateTime": "2026-11-19T20:00:00Z"}, "end": {"dateTime": "2026-11-19T21:00:00Z"}}


@pytest.fixture
def fake() -> Iterator[GoogleFake]:
    f = GoogleFake("me@example.com", tokens={"good"})
    yield f
    f.close()
    assert not f.crashes


def clients(fake: GoogleFake, token: str = "good") -> tuple[Any, Any]:
    creds = Credentials(token)  # type: ignore[no-untyped-call]
    http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=5),
                                               max_refresh_attempts=0)
    cal = build("calendar", "v3", http=http, static_discovery=True,
                client_options={"api_endpoint": f"{fake.url}/calendar/v3/"})
    gmail = build("gmail", "v1", http=http, static_discovery=True,
                  client_options={"api_endpoint": f"{fake.url}/"})
    return cal, gmail


def refused(request: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        request.execute()
    reason = json.loads(caught.value.content)["error"]["errors"][0]["reason"]
    return caught.value.status_code, reason


def raw_get(fake: GoogleFake, path: str) -> int:
    req = urllib.request.Request(fake.url + path, headers={"Authorization": "Bearer good"})
    try:
        with urllib.request.urlopen(req, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_calendar_rules(fake: GoogleFake) -> None:
    cal, _ = clients(fake)
    made = cal.calendars().insert(body={"summary": "Interview follow-ups"}).execute()
    events = cal.events()
    assert refused(events.insert(calendarId=made["id"], body={"id": "UPPER_case!", **WHEN}))[0] == 400
    assert refused(events.insert(calendarId=made["id"], body={"id": "abc", **WHEN}))[0] == 400
    events.insert(calendarId=made["id"], body={"id": "abcde01234", **WHEN}).execute()
    assert refused(events.insert(calendarId=made["id"], body={"id": "abcde01234", **WHEN})) == (
        409, "duplicate")
    events.delete(calendarId=made["id"], eventId="abcde01234").execute()
    assert refused(events.delete(calendarId=made["id"], eventId="abcde01234"))[0] == 410
    assert refused(events.insert(calendarId=made["id"], body={"id": "abcde01234", **WHEN}))[0] == 409
    assert refused(events.insert(calendarId=made["id"], body={"colour": 1, **WHEN}))[0] == 400
    assert refused(events.insert(calendarId="primary", body=WHEN)) == (403, "forbidden")
    token = events.list(calendarId="primary").execute()["nextSyncToken"]
    assert refused(events.list(calendarId="primary", syncToken=token,
                               timeMin="2026-01-01T00:00:00Z"))[0] == 400
    assert refused(events.list(calendarId="primary", syncToken=token, singleEvents=True))[0] == 400
    fake.calendar.expire_sync_tokens()
    assert refused(events.list(calendarId="primary", syncToken=token)) == (410, "fullSyncRequired")
    assert raw_get(fake, "/calendar/v3/calendars/primary/events?nosuch=1") == 400


def test_event_pages_are_capped_at_2500(fake: GoogleFake) -> None:
    for i in range(2600):
        fake.calendar.user_put("primary", {"summary": str(i), **WHEN})
    cal, _ = clients(fake)
    page = cal.events().list(calendarId="primary", maxResults=5000).execute()
    assert len(page["items"]) == 2500 and "nextPageToken" in page and "nextSyncToken" not in page


def test_gmail_rules_under_least_privilege(fake: GoogleFake) -> None:
    _, gmail = clients(fake)
    users = gmail.users()
    assert refused(users.messages().list(userId="me", q="from:x"))[0] == 403
    raw = base64.urlsafe_b64encode(b"To: a@b.c\r\nSubject: s\r\n\r\nx\r\n").decode()
    draft = users.drafts().create(userId="me", body={"message": {"raw": raw}}).execute()
    mid = draft["message"]["id"]
    assert refused(users.messages().get(userId="me", id=mid))[0] == 403  # format=full
    assert refused(users.messages().get(userId="me", id=mid, format="raw"))[0] == 403
    meta = users.messages().get(userId="me", id=mid, format="metadata").execute()
    assert "snippet" not in meta
    # the gmail.metadata limits hold for drafts too, though gmail.compose is granted
    assert refused(users.drafts().get(userId="me", id=draft["id"], format="raw"))[0] == 403
    assert refused(users.drafts().get(userId="me", id=draft["id"]))[0] == 403  # format=full
    got = users.drafts().get(userId="me", id=draft["id"], format="metadata").execute()
    assert got["message"]["id"] == mid and "raw" not in got["message"]
    assert refused(users.drafts().send(userId="me", body={"id": draft["id"]}))[0] == 403
    assert refused(users.messages().send(userId="me", body={"raw": raw}))[0] == 403
    assert fake.send_attempts == 2
    fake.send_attempts = 0
    assert refused(users.drafts().create(userId="me", body={"message": {}}))[0] == 400
    assert raw_get(fake, "/gmail/v1/users/me/history") == 400  # startHistoryId is required
    fake.gmail.expire_history()
    assert refused(users.history().list(userId="me", startHistoryId="1000"))[0] == 404
    assert fake.quota_units > 0 and fake.counts["gmail.users.drafts.send"] == 1


def test_tokens_are_checked(fake: GoogleFake) -> None:
    cal, _ = clients(fake, token="bad")
    assert refused(cal.events().list(calendarId="primary"))[0] == 401
    assert raw_get(fake, "/calendar/v3/nowhere") == 404
