"""One message file (RFC 5322 bytes, as in a Maildir) -> :class:`~inbox_followup.core.model.MailMessage`.

Tolerant by design: real mail is full of broken dates, unknown charsets and 8-bit headers.
Only input that is not a message at all (empty, no header) raises :class:`ItemError`.

The message is parsed with the ``compat32`` policy and headers are decoded here, because the
``email.policy.default`` header classes parse structured headers eagerly and have raised on
hostile input (an IndexError on an invalid address group:
https://github.com/python/cpython/issues/76359); the old API degrades to defects instead.

Besides the classification headers, ``MailMessage.headers`` carries entries this module
derives from the body (names starting ``x-ifu-`` cannot come from the message itself, which
is checked):

- ``("final-recipient", addr)``, then ``("original-recipient", addr)`` when given,
  ``("action", value)`` and ``("status", code)``: one group per recipient of a
  ``message/delivery-status`` part (RFC 3464 §2.3), always starting with final-recipient.
  A ``multipart/report`` without a usable boundary is scanned as text for the same lines.
- ``("x-ifu-report-type", value)``: the ``report-type`` of a ``multipart/report`` (RFC 6522),
  e.g. ``delivery-status`` or ``disposition-notification``.
- ``("x-ifu-has-calendar", "yes")`` when any part is ``text/calendar``, and
  ``("x-ifu-calendar-method", METHOD)`` when its iTIP method is known (RFC 5546 §1.4;
  ``method=`` parameter or the ``METHOD:`` line). ``content_type`` stays the top-level type:
  a calendar part does not change it, so a ``multipart/report`` stays recognisable.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from inbox_followup.core.model import MailMessage, Person
from inbox_followup.errors import ItemError

log = logging.getLogger(__name__)

CLASSIFICATION_HEADERS: tuple[str, ...] = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-ms-exchange-inbox-rules-loop",
    "list-id",
    "list-unsubscribe",
    "return-path",
    "x-failed-recipients",
    "x-loop",
)
SNIPPET_CHARS = 500
_MAX_DEPTH = 12  # nested multiparts deeper than this are not looked into
_FOLD = re.compile(r"\r?\n(?=[ \t])")  # RFC 5322 §2.2.3: unfolding removes CRLF only
_MSGID = re.compile(r"<[^<>\s]+>")
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field-name: printable ASCII but ':'
_CAL_METHOD = re.compile(r"^METHOD:\s*([A-Za-z-]+)", re.MULTILINE)
_DSN_FIELD = re.compile(
    r"^(final-recipient|original-recipient|action|status)[ \t]*:(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
# Bounded, so that hostile markup ("<<<<...") cannot make the scan quadratic in its length.
_TAG = re.compile(r"<[^<>]{0,2000}>")
_HTML_SCAN = 200_000  # characters of an HTML part looked at for a 500-character snippet


def _bytes_text(data: bytes, charset: str | None = None) -> str:
    """Bytes in a declared charset; else UTF-8; else Windows-1252 (what 8-bit headers in
    the wild mostly are). Undecodable bytes are replaced, never raised."""
    if charset:
        try:
            return data.decode(codecs.lookup(charset).name, "replace")
        except (LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _raw_text(value: object) -> str:
    """A compat32 header value (raw 8-bit bytes held as surrogate escapes), unfolded.

    Unfolding first matters: ``decode_header`` strips the whitespace at the start of each
    line, which would glue an encoded word to the word folded onto the next line.
    """
    return _escaped_text(_FOLD.sub("", str(value)))


def _escaped_text(text: str) -> str:
    """Text whose 8-bit bytes the parser kept as surrogate escapes, properly decoded."""
    try:
        return _bytes_text(text.encode("ascii", "surrogateescape"))
    except UnicodeEncodeError:
        return text


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded; anything malformed is kept as written."""
    try:
        parts = decode_header(value)
    except (HeaderParseError, ValueError, LookupError, UnicodeError):
        return value
    out: list[str] = []
    for data, charset in parts:
        if isinstance(data, str):
            out.append(data)
        elif charset is None:
            # decode_header returns the text between encoded words as raw-unicode-escape
            # bytes when the header mixes both.
            try:
                out.append(data.decode("raw-unicode-escape"))
            except UnicodeDecodeError:
                out.append(data.decode("latin-1"))
        else:
            out.append(_bytes_text(data, charset))
    return "".join(out)


def _fold(text: str) -> str:
    return " ".join(text.split())


def _headers(msg: Message) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        table.setdefault(str(name).strip().lower(), []).append(_raw_text(value))
    return table


def _date(values: list[str], fallback: datetime) -> datetime:
    if not values:
        return fallback
    try:
        parsed = parsedate_to_datetime(values[0].strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback
    if parsed is None:  # older Pythons return None instead of raising
        return fallback
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses(values)
    except (HeaderParseError, ValueError, IndexError, TypeError):
        return []
    return [(name, addr.strip()) for name, addr in pairs if addr and addr.strip()]


def _sender(values: list[str]) -> Person | None:
    pairs = _addresses(values[:1])
    if not pairs:
        return None
    name, addr = pairs[0]
    display = _fold(decode_words(name)) or None
    return Person(email=addr.lower(), name=display)


def _ids(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for v in values for m in _MSGID.findall(v)))


def _parts(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Every part, but not the insides of an attached message (a bounce quotes the
    original, whose text and invitations are not this message's)."""
    yield msg
    if depth >= _MAX_DEPTH or not msg.is_multipart():
        return
    payload = msg.get_payload()
    if not isinstance(payload, list):
        return
    for part in payload:
        if isinstance(part, Message):
            yield from _parts(part, depth + 1)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except (HeaderParseError, ValueError, LookupError, UnicodeError):
        return "text/plain"


def _param(part: Message, name: str) -> str | None:
    try:
        value = part.get_param(name)
    except (HeaderParseError, ValueError, LookupError, UnicodeError):
        return None
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        value = value[2]
    return _raw_text(value).strip().lower() if value else None


def _text(part: Message) -> str:
    """The decoded text of a leaf part (transfer encoding and charset undone)."""
    try:
        data = part.get_payload(decode=True)
        charset = part.get_content_charset()
    except (HeaderParseError, ValueError, LookupError, UnicodeError, TypeError):
        return ""
    if isinstance(data, bytes):
        return _bytes_text(data, charset)
    payload = part.get_payload()
    return _escaped_text(payload) if isinstance(payload, str) else ""


def _dsn(part: Message) -> list[tuple[str, str]]:
    """Per-recipient fields of a ``message/delivery-status`` part (RFC 3464 §2.3)."""
    blocks = part.get_payload()
    text = "\n\n".join(
        "\n".join(f"{k}: {_raw_text(v)}" for k, v in block.raw_items())
        for block in (blocks if isinstance(blocks, list) else [])
        if isinstance(block, Message)
    ) if isinstance(blocks, list) else _raw_text(blocks)
    return dsn_fields(text)


def dsn_fields(text: str) -> list[tuple[str, str]]:
    """The per-recipient groups of DSN text: for each blank-line separated block naming a
    ``Final-Recipient``, the entries ``final-recipient`` and ``original-recipient`` (address
    type ``rfc822;`` and angle brackets removed, lower-cased), ``action`` (lower-cased) and
    ``status`` (the code only), in that order whatever the order of the lines."""
    fields: list[tuple[str, str]] = []
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        found: dict[str, str] = {}
        for m in _DSN_FIELD.finditer(block):
            name, value = m.group(1).lower(), _fold(m.group(2))
            if name.endswith("-recipient"):
                value = value.rpartition(";")[2].strip().strip("<>").lower()
            elif name == "status":
                value = value.split(" ")[0] if value else value
            else:
                value = value.lower()
            if value:
                found.setdefault(name, value)
        if "final-recipient" in found:
            order = ("final-recipient", "original-recipient", "action", "status")
            fields.extend((k, found[k]) for k in order if k in found)
    return fields


def _drop_blocks(markup: str, tag: str) -> str:
    """``markup`` without ``<tag ...>...</tag>`` blocks (style sheets, scripts): a linear
    scan, where a lazy regex would be quadratic on many unclosed openers."""
    lower, out, pos = markup.lower(), [], 0
    while (start := lower.find(f"<{tag}", pos)) != -1:
        out.append(markup[pos:start])
        end = lower.find(f"</{tag}", start)
        if end == -1:
            return "".join(out)
        close = lower.find(">", end)
        pos = len(markup) if close == -1 else close + 1
    out.append(markup[pos:])
    return " ".join(out)


def _html_text(markup: str) -> str:
    text = _drop_blocks(_drop_blocks(markup[:_HTML_SCAN], "style"), "script")
    return _fold(html.unescape(_TAG.sub(" ", text)))


def _body_facts(msg: Message) -> tuple[list[tuple[str, str]], str]:
    """Derived header entries and the snippet, from one walk over the parts."""
    derived: list[tuple[str, str]] = []
    plain = html_text = ""
    found_dsn = False
    top = _content_type(msg)
    for part in _parts(msg):
        ctype = _content_type(part)
        if ctype == "message/delivery-status":
            found_dsn = True
            derived.extend(_dsn(part))
        elif ctype == "text/calendar":
            _calendar(part, derived)
        elif ctype == "text/plain" and not plain.strip():
            plain = _text(part)
        elif ctype == "text/html" and not html_text:
            html_text = _html_text(_text(part))
        if ctype == "multipart/report":
            report = _param(part, "report-type")
            if report:
                derived.append(("x-ifu-report-type", report))
    if top.startswith("multipart/") and not msg.is_multipart():
        # A multipart without a usable boundary (cpython msg_25.txt): its body is text.
        body = _text(msg)
        plain = plain if plain.strip() else body
        if top == "multipart/report" and not found_dsn:
            derived.extend(dsn_fields(body))
    snippet = plain if plain.strip() else html_text
    return derived, snippet.replace("\r\n", "\n")[:SNIPPET_CHARS]


def _calendar(part: Message, derived: list[tuple[str, str]]) -> None:
    if ("x-ifu-has-calendar", "yes") not in derived:
        derived.append(("x-ifu-has-calendar", "yes"))
    method = _param(part, "method")
    if not method:
        m = _CAL_METHOD.search(_text(part))
        method = m.group(1) if m else None
    entry = ("x-ifu-calendar-method", method.upper()) if method else None
    if entry and entry not in derived:
        derived.append(entry)


def header_block(fields: Iterable[tuple[str, str]]) -> bytes:
    """Header fields that an API returned as (name, value) pairs, put back into an RFC 5322
    header block, so that :func:`parse_message` reads them exactly as it reads a whole
    message. A name that is not an RFC 5322 field-name is left out, and line breaks inside
    a value are folded away, so no value can start a header of its own."""
    lines = [f"{name}: {' '.join(value.split())}\r\n" for name, value in fields
             if _FIELD_NAME.match(name)]
    return ("".join(lines) + "\r\n").encode("utf-8", "surrogateescape")


def parse_message(raw: bytes, *, msg_id: str, folder: str, fallback_date: datetime) -> MailMessage:
    """Parse one message file into :class:`MailMessage` (headers, and a 500-char snippet).

    ``msg_id`` names the message in errors; ``fallback_date`` stands in for a missing or
    unreadable ``Date``. Raises :class:`ItemError` only when ``raw`` is not a message at
    all (empty, or no header field); anything else is read as well as it can be.
    """
    if not raw.strip():
        raise ItemError(msg_id, "empty message")
    msg = BytesParser(policy=compat32).parsebytes(raw)
    table = _headers(msg)
    if not any(name for name in table):
        raise ItemError(msg_id, "not a mail message (no header fields)")
    derived, snippet = _body_facts(msg)
    headers = [
        (name, _fold(value))
        for name in CLASSIFICATION_HEADERS
        for value in table.get(name, [])
    ]
    recipients = _addresses(table.get("to", []) + table.get("cc", []))
    key = _fold(table.get("x-inbox-followup-key", [""])[0]) or None
    message_ids = _ids(table.get("message-id", []))
    return MailMessage(
        id=msg_id,
        folder=folder,
        date=_date(table.get("date", []), fallback_date),
        sender=_sender(table.get("from", [])),
        recipients=tuple(dict.fromkeys(addr.lower() for _, addr in recipients)),
        subject=_fold(decode_words(" ".join(table.get("subject", [""])[:1]))),
        message_id=message_ids[0] if message_ids else None,
        thread_id=None,  # Maildir has no thread ids; threads come from references
        references=_ids(table.get("in-reply-to", []) + table.get("references", [])),
        headers=tuple(headers + derived),
        content_type=_content_type(msg),
        snippet=snippet,
        key=key,
    )
