"""Field parsers for the config spec: each takes (value, key path, problems) and returns the
typed value or None after recording a problem that names the key path."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Problems:
    """Every problem found, each prefixed with its key path."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{key}: {message}")





Parser = Callable[[Any, str, Problems], Any]


def check_keys(data: Mapping[str, Any], known: tuple[str, ...], prefix: str, p: Problems) -> None:
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(known)})"
            p.add(f"{prefix}{key}", f"unknown key{hint}")


def int_in(lo: int, hi: int) -> Parser:
    def parse_int(value: Any, key: str, p: Problems) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            p.add(key, f"expected a whole number from {lo} to {hi}, got {value!r}")
            return None
        if not lo <= value <= hi:
            p.add(key, f"must be from {lo} to {hi}, got {value}")
            return None
        return value

    return parse_int


def clock(value: Any, key: str, p: Problems) -> time | None:
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 9:00 as the sexagesimal number 540. A number below 60
        # is a bare ``9`` (or ``0:09``): nine o'clock or nine past midnight? Refused below.
        return time(value // 60, value % 60)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        p.add(key, f'expected a time in quotes like "09:00", got {value!r}')
        return None
    return time(int(m.group(1)), int(m.group(2)))


def text(value: Any, key: str, p: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        p.add(key, f"expected text, got {value!r}")
        return None
    return value.strip()


def words(value: Any, key: str, p: Problems) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        p.add(key, "expected a list of words or phrases")
        return None
    return tuple(v.strip().lower() for v in value)


def zone(value: Any, key: str, p: Problems) -> ZoneInfo | None:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        p.add(key, f"unknown time zone {value!r} (use an IANA name such as America/Chicago)")
        return None


def local_zone() -> ZoneInfo:
    """The machine's zone, for when the config names none."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return ZoneInfo("UTC")


def path(value: Any, key: str, p: Problems, base: Path) -> Path | None:
    if not isinstance(value, str) or not value.strip():
        p.add(key, f"expected a path, got {value!r}")
        return None
    path = Path(os.path.expandvars(value)).expanduser()
    return path if path.is_absolute() else (base / path)


