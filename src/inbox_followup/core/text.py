"""Text that is safe to put in a header or a one-line field, whatever a calendar held.

Every string that reaches a draft's header or a reminder's title passes
:func:`sanitize_header_text` (design invariant 7 in ``docs/design.md``): no control,
line-break or invisible characters, bounded length, and no literal RFC 2047 ``=?`` that a
mail reader would decode as an encoded word.
"""

from __future__ import annotations

import unicodedata

HEADER_LIMIT = 200

# Bidi overrides and zero-width characters can make a header read differently from what
# it says (CVE-2021-42574, "Trojan Source"); they carry no meaning in a name or subject.
_INVISIBLE = frozenset(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
     *range(0x2066, 0x206A), 0xFEFF]
)


def _cut(text: str, limit: int) -> str:
    return text[: max(0, limit - 1)].rstrip() + "…" if len(text) > limit else text


def sanitize_header_text(value: str, *, limit: int = HEADER_LIMIT) -> str:
    """Make ``value`` safe for a header: control, line-break and invisible characters
    become spaces, whitespace runs fold to one space, literal ``=?`` is broken up (else a
    reader would decode it as an RFC 2047 word), and the result is cut to ``limit``
    characters (ending in "…" when cut). Idempotent; never raises."""
    if value.isascii() and value.isprintable():  # the common case, without the per-char walk
        return _cut(" ".join(value.replace("=?", "= ?").split()), limit)
    chars = []
    for ch in value:
        category = unicodedata.category(ch)
        bad = category in ("Cc", "Cs", "Zl", "Zp") or ord(ch) in _INVISIBLE
        chars.append(" " if bad else ch)
    return _cut(" ".join("".join(chars).replace("=?", "= ?").split()), limit)


def one_line(text: str | None, limit: int = 300) -> str:
    """``text`` as one safe line of at most ``limit`` characters ("" for None)."""
    return sanitize_header_text(text or "", limit=limit)


def sentence(text: str) -> str:
    """``text`` as one line ending in a full stop (unless it ends in ! or ?)."""
    text = one_line(text).rstrip(" .;,:")
    return f"{text}." if text and text[-1] not in "!?" else text
