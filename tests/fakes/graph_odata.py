"""The small part of OData the Graph fake understands: $select, $expand, $filter, Prefer.

Only the filter shapes the product uses are understood; anything else is a 400, as an
unsupported filter is on Graph, so a new query in the product needs a matching fake change.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_STR = r"'((?:[^']|'')*)'"
_EXT = re.compile(
    r"^singleValueExtendedProperties/Any\(\s*(\w+)\s*:\s*\1/id eq " + _STR
    + r" and \1/value eq " + _STR + r"\s*\)$",
    re.IGNORECASE,
)
_CMP_TIME = re.compile(r"^(\w+) (ge|gt|le|lt) (\d{4}-\d\d-\d\dT[\d:.]+Z?)$")
_EQ_STR = re.compile(r"^(\w+) eq " + _STR + "$")
_EXPAND_EXT = re.compile(r"^singleValueExtendedProperties\(\$filter=id eq " + _STR + r"\)$")
Item = dict[str, Any]


class ODataError(ValueError):
    """A query option Graph would refuse (400)."""


def unquote(text: str) -> str:
    return text.replace("''", "'")


def parse_time(text: str) -> datetime:
    """Graph timestamps: "2024-01-01T10:00:00.1234567Z" or without zone (read as UTC)."""
    text = re.sub(r"(\.\d{1,6})\d*", r"\1", text.strip()).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A Graph-style timestamp with seven fraction digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def parse_filter(text: str, props: Callable[[Item], dict[str, str]]) -> Callable[[Item], bool]:
    """A predicate for ``$filter``; ``props(item)`` gives its extended properties by id."""
    text = text.strip()
    m = _EXT.match(text)
    if m:
        prop_id, value = unquote(m.group(2)), unquote(m.group(3))
        # Graph: the id's name part is case-sensitive, the value comparison is not.
        return lambda item: str(props(item).get(prop_id, "")).casefold() == value.casefold()
    m = _CMP_TIME.match(text)
    if m:
        field, op, when = m.group(1), m.group(2), parse_time(m.group(3))
        ops = {
            "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b,
            "le": lambda a, b: a <= b, "lt": lambda a, b: a < b,
        }
        return lambda item: bool(item.get(field)) and ops[op](parse_time(item[field]), when)
    m = _EQ_STR.match(text)
    if m and m.group(1) in ("internetMessageId", "conversationId", "name", "subject"):
        field, value = m.group(1), unquote(m.group(2))
        return lambda item: item.get(field) == value
    raise ODataError(f"Invalid filter clause: {text}")


def parse_select(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_expand(text: str | None) -> str | None:
    """The extended property id asked for by ``$expand`` (the only expansion supported)."""
    if text is None:
        return None
    m = _EXPAND_EXT.match(text.strip())
    if not m:
        raise ODataError(f"Parsing of $expand failed: {text}")
    return unquote(m.group(1))


def parse_prefer(values: list[str]) -> dict[str, str]:
    """Every preference of every ``Prefer`` header (RFC 7240: comma-separated, repeatable)."""
    out: dict[str, str] = {}
    for value in values:
        for part in re.findall(r'(?:[^,"]|"[^"]*")+', value):
            name, _, setting = part.strip().partition("=")
            if name:
                out[name.strip().lower()] = setting.strip().strip('"')
    return out


def html_to_text(content: str) -> str:
    """What Graph's ``outlook.body-content-type="text"`` gives for an HTML body (roughly)."""
    content = re.sub(r"<(head|style|script)\b.*?</\1>", "", content, flags=re.I | re.S)
    content = re.sub(r"<\s*(br|/p|/div)\b[^>]*>", "\n", content, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]*>", "", content))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def text_to_html(text: str) -> str:
    """How Outlook stores text the user typed: HTML paragraphs."""
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
    return f"<html><head><style>p{{margin:0}}</style></head><body>{paras}</body></html>"
