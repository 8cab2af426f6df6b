"""The Graph fake refuses what Graph refuses, so the product's requests are held to Graph's rules.

Checked against Graph's own metadata (``tests/data/graph``) and documentation:
calendarView delta takes no ``$select`` (https://learn.microsoft.com/graph/api/event-delta),
createReply takes ``comment`` or ``message.body``, not both
(https://learn.microsoft.com/graph/api/message-createreply).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from inbox_followup.providers.microsoft.graph import PREFER
from tests.contract.harness_microsoft import TOKEN, MicrosoftHarness
from tests.fakes.graph_schema import load

HEADERS = {"Authorization": f"Bearer {TOKEN}", "Prefer": ", ".join(PREFER)}


@pytest.fixture
def h(tmp_path: Path) -> Iterator[MicrosoftHarness]:
    harness = MicrosoftHarness(tmp_path)
    yield harness
    harness.close()


def call(h: MicrosoftHarness, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{h.fake.url}/v1.0/{path}", headers=HEADERS, timeout=5, **kwargs)


def test_the_metadata_knows_the_types_the_product_writes() -> None:
    schema = load()
    event = schema.properties("event")
    for name in ("transactionId", "singleValueExtendedProperties", "isReminderOn", "showAs"):
        assert name in event
    message = schema.properties("message")
    for name in ("internetMessageHeaders", "conversationId", "internetMessageId", "isDraft"):
        assert name in message
    assert set(schema.actions["createReply"]) >= {"Message", "Comment"}


def test_unknown_properties_are_refused(h: MicrosoftHarness) -> None:
    r = call(h, "POST", "me/messages", json={"subject": "x", "toRecipient": []})
    assert r.status_code == 400
    assert "toRecipient" in r.json()["error"]["message"]
    r = call(h, "POST", "me/events", json={"subject": "x", "body": {"contentType": "rtf"}})
    assert r.status_code == 400


def test_select_on_calendar_view_delta_is_refused(h: MicrosoftHarness) -> None:
    r = call(h, "GET", "me/calendarView/delta", params={
        "startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z",
        "$select": "subject"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "ErrorInvalidUrlQuery"
    r = call(h, "GET", "me/calendarView/delta")
    assert r.status_code == 400  # the first request needs the window


def test_comment_and_body_together_are_refused(h: MicrosoftHarness) -> None:
    created = call(h, "POST", "me/messages", json={"subject": "hi"}).json()
    r = call(h, "POST", f"me/messages/{created['id']}/createReply",
             json={"comment": "hello", "message": {"body": {"contentType": "text", "content": "x"}}})
    assert r.status_code == 400


def test_custom_headers_must_start_with_x(h: MicrosoftHarness) -> None:
    r = call(h, "POST", "me/messages",
             json={"internetMessageHeaders": [{"name": "Followup-Key", "value": "k"}]})
    assert r.status_code == 400


def test_sending_is_refused_and_counted(h: MicrosoftHarness) -> None:
    created = call(h, "POST", "me/messages", json={"subject": "hi"}).json()
    for path in (f"me/messages/{created['id']}/send", "me/sendMail",
                 f"me/messages/{created['id']}/reply", f"me/messages/{created['id']}/forward"):
        assert call(h, "POST", path, json={}).status_code == 403
    assert h.send_attempts() == 4
    h.fake.send_attempts = 0  # the fixture would otherwise fail this test


def test_missing_prefer_values_are_recorded(h: MicrosoftHarness) -> None:
    requests.get(f"{h.fake.url}/v1.0/me/calendars", headers={"Authorization": f"Bearer {TOKEN}"},
                 timeout=5)
    assert h.fake.prefer_problems == ["GET me/calendars"]
    h.fake.prefer_problems.clear()


def test_an_expired_token_answers_410(h: MicrosoftHarness) -> None:
    first = call(h, "GET", "me/mailFolders/inbox/messages/delta").json()
    h.expire_cursors()
    r = requests.get(first["@odata.deltaLink"], headers=HEADERS, timeout=5)
    assert r.status_code == 410 and r.json()["error"]["code"].lower() == "syncstatenotfound"


def test_at_most_five_custom_headers(h: MicrosoftHarness) -> None:
    headers = [{"name": f"X-H{i}", "value": "v"} for i in range(6)]
    r = call(h, "POST", "me/messages", json={"internetMessageHeaders": headers})
    assert r.status_code == 400
    assert call(h, "POST", "me/messages", json={"internetMessageHeaders": headers[:5]}).ok


def test_a_series_master_is_never_in_the_calendar_view(h: MicrosoftHarness) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 19, 20, tzinfo=UTC)
    master = h.fake.add_series("s", "Weekly sync", [start, start + timedelta(days=7)],
                               timedelta(hours=1), [("a@b.io", None)], organizer="a@b.io")
    r = call(h, "GET", "me/calendarView/delta", params={
        "startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"})
    items = r.json()["value"]
    assert {i["type"] for i in items} == {"occurrence"} and master not in {i["id"] for i in items}
    assert all("subject" not in i for i in items)  # sparse, as Graph sends occurrences
    full = call(h, "GET", f"me/events/{items[0]['id']}").json()
    assert full["subject"] == "Weekly sync" and full["seriesMasterId"] == master
