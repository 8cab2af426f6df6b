"""YAML -> typed configuration. Every problem is collected, each named by its key path.

The spec is data (khal's approach): :data:`TOP_KEYS` and the per-section tables name every key,
its parser and its default, so an unknown key (a typo) is an error with a suggestion rather than
something silently ignored. Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs
import yaml

from inbox_followup.config import fields as f
from inbox_followup.config.templates import checked_templates
from inbox_followup.core.rules import Timing
from inbox_followup.errors import ConfigError

APP = "inbox-followup"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROVIDERS = ("local", "google", "microsoft")
ADDRESS_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class AccountConfig:
    name: str
    provider: str
    address: str
    aliases: tuple[str, ...] = ()
    calendar: Path | None = None
    reminders: Path | None = None
    maildir: Path | None = None
    client_secrets: Path | None = None
    reminders_calendar: str = "Interview follow-ups"
    client_id: str | None = None
    tenant: str = "common"
    api_endpoint: str | None = None
    token_command: str | None = None

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset({self.address, *self.aliases})


@dataclass(frozen=True)
class DetectionConfig:
    """Each list replaces the built-in one when given; ``extra_*`` adds to it."""

    keywords: tuple[str, ...] | None = None
    extra_keywords: tuple[str, ...] = ()
    exclusions: tuple[str, ...] | None = None
    extra_exclusions: tuple[str, ...] = ()
    ats_domains: tuple[str, ...] | None = None
    extra_ats_domains: tuple[str, ...] = ()
    extra_public_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    path: Path | None
    timezone: ZoneInfo
    state_dir: Path
    accounts: tuple[AccountConfig, ...]
    work_start: time = time(9, 0)
    work_end: time = time(17, 30)
    work_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: str | None = None
    poll_seconds: int = 60
    past_days: int = 60
    future_days: int = 180
    your_name: str | None = None
    pitch: str | None = None
    templates_dir: Path | None = None
    log_level: str = "info"
    timing: Timing = field(default_factory=Timing)
    detection: DetectionConfig = field(default_factory=DetectionConfig)


def default_config_path() -> Path:
    """``INBOX_FOLLOWUP_CONFIG``, else ``config.yaml`` in the platform's config folder."""
    env = os.environ.get("INBOX_FOLLOWUP_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP)) / "config.yaml"


def load(path: Path) -> Config:
    """Read and validate ``path``. Raises ConfigError listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"no config file here; create one with `{APP} init`"], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError([f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"], str(path)) from None
    config = parse(raw if raw is not None else {}, base=path.parent, path=path)
    if config.templates_dir is not None:
        checked_templates(config.templates_dir)  # a typo is exit 2 now, not on the due day
    return config


TOP_KEYS = (
    "timezone", "working_hours", "holidays", "state_dir", "poll_seconds", "window", "profile",
    "templates_dir", "log_level", "timing", "detection", "accounts",
)
ACCOUNT_KEYS = {
    "local": ("name", "provider", "address", "aliases", "calendar", "reminders", "maildir"),
    "google": ("name", "provider", "address", "aliases", "client_secrets", "reminders_calendar",
               "api_endpoint", "token_command"),
    "microsoft": ("name", "provider", "address", "aliases", "client_id", "tenant",
                  "reminders_calendar", "api_endpoint", "token_command"),
}
TIMING_LIMITS = {
    "notes_after_minutes": (0, 240), "few_days": (1, 30), "follow_up_days": (10, 14),
    "decision_grace_business_days": (0, 10), "call_after_business_days": (1, 15),
    "move_on_days": (7, 120), "out_of_office_max_days": (1, 90),
}


def parse(raw: Any, *, base: Path, path: Path | None = None) -> Config:
    """Validate an already-loaded YAML document. Raises ConfigError with every problem."""
    p = f.Problems()
    where = str(path) if path else None
    if not isinstance(raw, dict):
        raise ConfigError(["the top level must be a mapping of keys (timezone, accounts, ...)"], where)
    f.check_keys(raw, TOP_KEYS, "", p)
    values: dict[str, Any] = {}
    tz = f.zone(raw["timezone"], "timezone", p) if "timezone" in raw else f.local_zone()
    values.update(_working_hours(raw.get("working_hours"), p))
    if raw.get("holidays") is not None:
        values["holidays"] = _holidays(raw["holidays"], p)
    state_dir = (
        f.path(raw["state_dir"], "state_dir", p, base) if "state_dir" in raw
        else Path(platformdirs.user_data_dir(APP))
    )
    if "poll_seconds" in raw:
        values["poll_seconds"] = f.int_in(10, 86400)(raw["poll_seconds"], "poll_seconds", p)
    values.update(_window(raw.get("window"), p))
    values.update(_profile(raw.get("profile"), p))
    if raw.get("templates_dir") is not None:
        values["templates_dir"] = f.path(raw["templates_dir"], "templates_dir", p, base)
    if "log_level" in raw:
        level = str(raw["log_level"]).lower()
        if level not in ("debug", "info", "warning", "error"):
            p.add("log_level", f"expected debug, info, warning or error, got {raw['log_level']!r}")
        values["log_level"] = level
    values["timing"] = _timing(raw.get("timing"), p)
    values["detection"] = _detection(raw.get("detection"), p)
    accounts = _accounts(raw.get("accounts"), p, base)
    if p.items:
        raise ConfigError(p.items, where)
    values = {k: v for k, v in values.items() if v is not None}
    assert tz is not None and state_dir is not None
    return Config(path=path, timezone=tz, state_dir=state_dir, accounts=accounts, **values)


def _section(raw: Any, key: str, known: tuple[str, ...], p: f.Problems) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        p.add(key, "expected a mapping of keys")
        return {}
    f.check_keys(raw, known, f"{key}.", p)
    return raw


def _working_hours(raw: Any, p: f.Problems) -> dict[str, Any]:
    section = _section(raw, "working_hours", ("start", "end", "days"), p)
    out: dict[str, Any] = {}
    if "start" in section:
        out["work_start"] = f.clock(section["start"], "working_hours.start", p)
    if "end" in section:
        out["work_end"] = f.clock(section["end"], "working_hours.end", p)
    if out.get("work_start") and out.get("work_end") and out["work_start"] >= out["work_end"]:
        p.add("working_hours.end", "must be later than working_hours.start")
    if "days" in section:
        days = section["days"]
        names = [str(d).lower()[:3] for d in days] if isinstance(days, list) else []
        bad = [d for d in names if d not in DAY_NAMES]
        if not names or bad:
            p.add("working_hours.days", f"expected a list of day names like [mon, tue], got {days!r}")
        else:
            out["work_days"] = frozenset(DAY_NAMES.index(d) for d in names)
    return out


def _holidays(raw: Any, p: f.Problems) -> str | None:
    import holidays as holidays_lib

    code = str(raw).strip().upper()
    country, _, subdiv = code.partition("-")
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv or None)
    except (NotImplementedError, KeyError, ValueError):
        p.add("holidays", f"unknown country or region code {raw!r} (use e.g. US, GB, DE or US-CA)")
        return None
    return code


def _window(raw: Any, p: f.Problems) -> dict[str, Any]:
    section = _section(raw, "window", ("past_days", "future_days"), p)
    out: dict[str, Any] = {}
    if "past_days" in section:
        out["past_days"] = f.int_in(45, 365)(section["past_days"], "window.past_days", p)
    if "future_days" in section:
        out["future_days"] = f.int_in(7, 730)(section["future_days"], "window.future_days", p)
    return out


def _profile(raw: Any, p: f.Problems) -> dict[str, Any]:
    section = _section(raw, "profile", ("name", "pitch"), p)
    out: dict[str, Any] = {}
    if "name" in section:
        out["your_name"] = f.text(section["name"], "profile.name", p)
    if "pitch" in section:
        out["pitch"] = f.text(section["pitch"], "profile.pitch", p)
    return out


def _timing(raw: Any, p: f.Problems) -> Timing:
    """The ``timing`` section onto :class:`rules.Timing` (minutes become a timedelta)."""
    known = (*TIMING_LIMITS, "thank_you_same_day_before")
    section = _section(raw, "timing", known, p)
    values: dict[str, Any] = {}
    for key, (lo, hi) in TIMING_LIMITS.items():
        if key in section:
            values[key] = f.int_in(lo, hi)(section[key], f"timing.{key}", p)
    if "thank_you_same_day_before" in section:
        values["thank_you_same_day_before"] = f.clock(
            section["thank_you_same_day_before"], "timing.thank_you_same_day_before", p
        )
    values = {k: v for k, v in values.items() if v is not None}
    if "notes_after_minutes" in values:
        values["notes_after"] = timedelta(minutes=values.pop("notes_after_minutes"))
    return Timing(**values)


def _detection(raw: Any, p: f.Problems) -> DetectionConfig:
    known = tuple(DetectionConfig.__dataclass_fields__)
    section = _section(raw, "detection", known, p)
    values = {key: f.words(section[key], f"detection.{key}", p) for key in section if key in known}
    return DetectionConfig(**{k: v for k, v in values.items() if v is not None})


def _accounts(raw: Any, p: f.Problems, base: Path) -> tuple[AccountConfig, ...]:
    if raw is None or raw == []:
        p.add("accounts", "no accounts: add at least one (see config.example.yaml)")
        return ()
    if not isinstance(raw, list):
        p.add("accounts", "expected a list of accounts")
        return ()
    accounts = [a for i, item in enumerate(raw) if (a := _account(item, f"accounts[{i}]", p, base))]
    seen: set[str] = set()
    for i, account in enumerate(accounts):
        if account.name in seen:
            p.add(f"accounts[{i}].name", f"duplicate account name {account.name!r}")
        seen.add(account.name)
    return tuple(accounts)


def _account(raw: Any, key: str, p: f.Problems, base: Path) -> AccountConfig | None:
    if not isinstance(raw, dict):
        p.add(key, "expected a mapping with name, provider and address")
        return None
    kind = raw.get("provider")
    if kind not in PROVIDERS:
        p.add(f"{key}.provider", f"expected one of {', '.join(PROVIDERS)}, got {kind!r}")
        return None
    f.check_keys(raw, ACCOUNT_KEYS[kind], f"{key}.", p)
    for needed in _required(kind):
        if needed not in raw:
            p.add(f"{key}.{needed}", f"missing (a {kind} account needs it)")
    name = f.text(raw.get("name", "?"), f"{key}.name", p) or "?"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        p.add(f"{key}.name", "use letters, digits, '.', '_' or '-' (it names files)")
    values: dict[str, Any] = {"name": name, "provider": kind}
    values["address"] = _address(raw.get("address", ""), f"{key}.address", p)
    if "aliases" in raw:
        aliases = raw["aliases"] if isinstance(raw["aliases"], list) else [raw["aliases"]]
        values["aliases"] = tuple(
            _address(a, f"{key}.aliases[{i}]", p) for i, a in enumerate(aliases)
        )
    for path_key in ("calendar", "reminders", "maildir", "client_secrets"):
        if path_key in raw:
            values[path_key] = f.path(raw[path_key], f"{key}.{path_key}", p, base)
    for text_key in ("reminders_calendar", "client_id", "tenant", "api_endpoint", "token_command"):
        if text_key in raw:
            values[text_key] = f.text(raw[text_key], f"{key}.{text_key}", p)
    endpoint = values.get("api_endpoint")
    if endpoint and not re.match(r"^https?://", endpoint):
        p.add(f"{key}.api_endpoint", f"expected an http(s) URL, got {endpoint!r}")
    return AccountConfig(**{k: v for k, v in values.items() if v is not None})


def _required(kind: str) -> tuple[str, ...]:
    return {
        "local": ("name", "address", "calendar", "reminders", "maildir"),
        "google": ("name", "address"),
        "microsoft": ("name", "address"),
    }[kind]


def _address(value: Any, key: str, p: f.Problems) -> str:
    text = str(value).strip().lower()
    if not ADDRESS_RE.match(text):
        p.add(key, f"expected an e-mail address, got {value!r}")
    return text
