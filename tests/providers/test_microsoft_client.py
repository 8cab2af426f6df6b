"""Graph HTTP plumbing: Prefer headers, 401 refresh, 429/Retry-After, 4 requests at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox_followup.core.model import Artifact, ArtifactKind, DraftContent, Person, SyncWindow
from inbox_followup.errors import AuthError, ProviderError
from inbox_followup.providers.microsoft.graph import PREFER, GraphError
from tests.contract.harness_microsoft import MicrosoftHarness
from tests.fakes.graph_odata import parse_prefer

WINDOW = SyncWindow(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


@pytest.fixture
def h(tmp_path: Path) -> Iterator[MicrosoftHarness]:
    harness = MicrosoftHarness(tmp_path)
    yield harness
    harness.close()  # fails the test if any request lacked the Prefer values


def a_draft() -> Artifact:
    content = DraftContent(Person("jane@acme.io"), "Thanks", "Hello")
    return Artifact("ifu-x-thank_you_draft-jane@acme.io", ArtifactKind.THANK_YOU_DRAFT, "x", "a",
                    WINDOW.start, "jane@acme.io", draft=content)


def test_prefer_values_travel_in_one_header() -> None:
    prefs = parse_prefer([", ".join(PREFER)])
    assert prefs["idtype"] == "ImmutableId" and prefs["outlook.timezone"] == "UTC"
    assert prefs["outlook.body-content-type"] == "text"


def test_a_refused_token_is_refreshed_once(tmp_path: Path) -> None:
    marker = tmp_path / "used"
    command = f"if [ -f {marker} ]; then echo fake-token; else touch {marker}; echo stale; fi"
    h = MicrosoftHarness(tmp_path, token_command=command)
    try:
        h.new_provider().mail_changes(None, WINDOW)
        assert h.fake.count() == 3  # one 401, then the two folder deltas
    finally:
        h.close()


def test_refused_twice_says_reconnect(tmp_path: Path) -> None:
    h = MicrosoftHarness(tmp_path, token_command="echo revoked")
    try:
        with pytest.raises(AuthError, match="reconnect ms") as info:
            h.new_provider().calendar_changes(None, WINDOW)
        assert "revoked" not in str(info.value)
        assert h.fake.count() == 2
    finally:
        h.close()


def test_retry_after_is_honoured(h: MicrosoftHarness) -> None:
    h.fake.fail_next(2, 429, 7)
    h.fake.fail_next(1, 503, None)
    page = h.new_provider().mail_changes(None, WINDOW)
    assert page.cursor
    assert h.sleeps[:2] == [7.0, 7.0] and len(h.sleeps) == 3
    assert h.sleeps[2] <= 30  # backoff without Retry-After stays under the cap


def test_a_long_burst_of_429_gives_up_with_a_provider_error(h: MicrosoftHarness) -> None:
    h.fake.fail_next(50, 429, 1)
    with pytest.raises(ProviderError, match="gave up"):
        h.new_provider().calendar_changes(None, WINDOW)
    assert len(h.sleeps) == 4  # attempts - 1


def test_at_most_four_requests_in_flight(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    ref = p.put_draft(a_draft(), None)
    h.fake.delay = 0.05
    errors: list[BaseException] = []

    def read() -> None:
        try:
            assert p.get_draft(ref) is not None
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert 2 <= h.fake.max_inflight <= 4


def test_links_to_other_hosts_are_not_followed(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    with pytest.raises(ProviderError, match="another host"):
        p.client.request("GET", "https://graph.evil.example/v1.0/me/messages")
    assert h.fake.count() == 0


def test_graph_errors_carry_the_odata_code(h: MicrosoftHarness) -> None:
    p = h.new_provider()
    with pytest.raises(GraphError) as info:
        p.client.request("GET", "me/messages/nope")
    assert info.value.status == 404 and info.value.code == "ErrorItemNotFound"
    assert info.value.missing and not info.value.sync_state_gone
