"""The config contract: every problem is reported at once, each named by its key path."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from inbox_followup.config.loader import load, parse
from inbox_followup.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
LOCAL = {"name": "me", "provider": "local", "address": "me@example.com",
         "calendar": "c.ics", "reminders": "r.ics", "maildir": "mail"}


def problems(raw: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse(raw, base=Path("/base"))
    return info.value.problems


def test_the_example_config_is_valid_and_complete() -> None:
    config = load(REPO / "config.example.yaml")
    assert str(config.timezone) == "America/Chicago"
    assert (config.work_start, config.work_end) == (time(9, 0), time(17, 30))
    assert config.timing.notes_after == timedelta(minutes=15)
    assert config.accounts[0].calendar == REPO / "examples" / "calendar.ics"
    raw = yaml.safe_load((REPO / "config.example.yaml").read_text())
    assert set(raw) >= {"timezone", "working_hours", "state_dir", "accounts", "timing"}


def test_defaults_and_relative_paths() -> None:
    config = parse({"accounts": [LOCAL]}, base=Path("/base"))
    assert config.poll_seconds == 60 and config.holidays is None
    assert config.accounts[0].maildir == Path("/base/mail")
    assert config.timing.follow_up_days == 10


def test_every_problem_is_named_by_its_key_path() -> None:
    found = problems({
        "timezone": "Mars/Olympus", "working_hours": {"strat": "09:00", "days": ["funday"]},
        "poll_seconds": 2, "holidays": "XX", "timing": {"follow_up_days": 30},
        "accounts": [{**LOCAL, "address": "not-an-address", "calender": "x"},
                     {"name": "g", "provider": "gmail", "address": "a@b.example"}],
    })
    text = "\n".join(found)
    for key in ("timezone:", "working_hours.strat: unknown key (did you mean 'start'?)",
                "working_hours.days:", "poll_seconds:", "holidays:", "timing.follow_up_days:",
                "accounts[0].address:", "accounts[0].calender: unknown key (did you mean 'calendar'?)",
                "accounts[1].provider:"):
        assert key in text, key


@pytest.mark.parametrize("raw, key", [
    ({"accounts": []}, "accounts"),
    ({}, "accounts"),
    ({"accounts": [{**LOCAL, "maildir": None}]}, "accounts[0].maildir"),
    ({"accounts": [{k: v for k, v in LOCAL.items() if k != "calendar"}]}, "accounts[0].calendar"),
    ({"accounts": [LOCAL, LOCAL]}, "accounts[1].name"),
    ({"accounts": [LOCAL], "working_hours": {"start": "18:00", "end": "09:00"}}, "working_hours.end"),
    ({"accounts": [{**LOCAL, "name": "../evil"}]}, "accounts[0].name"),
    ({"accounts": [{"name": "w", "provider": "microsoft", "address": "a@b.example",
                    "api_endpoint": "ftp://x"}]}, "accounts[0].api_endpoint"),
    (["not", "a", "mapping"], "top level"),
])
def test_bad_values(raw: Any, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(raw, base=Path("/base"))
    assert key in str(info.value)


def test_unquoted_clock_times_are_understood() -> None:
    # YAML 1.1 reads 09:00 unquoted as 540 (base 60); people write it that way.
    config = parse(yaml.safe_load("working_hours: {start: 08:30, end: 16:00}\naccounts: []") | {
        "accounts": [LOCAL]}, base=Path("/base"))
    assert (config.work_start, config.work_end) == (time(8, 30), time(16, 0))


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="init"):
        load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [\n")
    with pytest.raises(ConfigError, match="line"):
        load(bad)
