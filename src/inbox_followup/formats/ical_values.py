"""Small readers shared by the .ics modules: file bytes as text, a property's value as text,
the TEXT escapes of X- properties undone, and one-line texts of errors for problem messages.
"""

from __future__ import annotations

import re
from typing import Any

from icalendar import vText

Component = Any  # icalendar's component and property types are too loose for mypy to help here

_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def decode_bytes(data: bytes) -> str:
    """The text of an .ics file (UTF-16 with a byte-order mark, UTF-8, else Windows-1252)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # old Outlook exports are Windows-1252
        text = data.decode("cp1252", errors="replace")
    return text.lstrip("\ufeff \t\r\n")


def as_list(value: Any) -> list[Any]:
    """A property's values: icalendar gives a list only when the property appears more than once."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def prop_text(comp: Component, name: str) -> str:
    """The first value of property ``name`` as text ("" when absent)."""
    value = comp.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def unescape_text(value: Any) -> str:
    """X- properties come back raw (vUnknown): undo the TEXT escapes of RFC 5545 3.3.11."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, vText):
        return str(value)
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], str(value))


def clean_line(text: str) -> str:
    """One line for a message: no control characters."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()


def brief_error(exc: BaseException) -> str:
    """An exception as a short line for a problem message."""
    return f"{type(exc).__name__}: {clean_line(str(exc))[:160]}"
