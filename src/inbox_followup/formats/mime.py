"""Drafts as RFC 5322 bytes with safe headers, and drafts read back from bytes.

Safety (design invariant 7 in ``docs/design.md``): every header value that can come from a
calendar or a message passes :func:`~inbox_followup.core.text.sanitize_header_text` and
every address is checked to be one plain addr-spec, so no input can add a header or a
recipient. Non-ASCII text goes out as RFC 2047 encoded words; see :func:`build_mime` for
why the ``compat32`` API builds it.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import charset as _charset
from email import policy
from email.charset import Charset
from email.errors import HeaderParseError
from email.header import Header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses

from inbox_followup.core.model import DraftContent, DraftSnapshot, Person
from inbox_followup.core.text import sanitize_header_text
from inbox_followup.errors import ItemError
from inbox_followup.formats.mailparse import decode_words

NAME_LIMIT = 80  # a display name; keeps the From/To lines well under 998 octets
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_MSG_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII without < > or space
_KEY = re.compile(r"^[!-~]{1,200}$")
_TAG = re.compile(r"<[^<>]{0,2000}>")  # bounded: no quadratic scan on "<<<<..."
_ATOMS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# CRLF line ends, and no ">From " mangling of body lines (it would change the text).
_MIME_POLICY = policy.compat32.clone(linesep="\r\n", mangle_from_=False)


_B64_UTF8 = Charset("utf-8")  # base64 encoded words: safe anywhere in a phrase
_B64_UTF8.header_encoding = _charset.BASE64
_QP_UTF8 = Charset("utf-8")  # a quoted-printable body keeps the raw draft readable
_QP_UTF8.header_encoding, _QP_UTF8.body_encoding = _charset.BASE64, _charset.QP


def check_address(email: str, where: str) -> str:
    """``email`` if it is exactly one plain ASCII addr-spec; raises :class:`ItemError`
    naming ``where`` otherwise (no display name, comma, angle bracket or whitespace)."""
    if len(email) > 254 or not _ADDR_SPEC.match(email):
        shown = sanitize_header_text(email, limit=80)
        raise ItemError(where, f"not a usable e-mail address: {shown!r}")
    return email


def _message_id(value: str, where: str) -> str:
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MSG_ID.match(value):
        raise ItemError(where, "not a usable Message-ID")
    return value


def _references(draft: DraftContent) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References that are well-formed ids; others are dropped (they come
    from messages we read, and a broken one must not cost the whole draft)."""
    def ok(ref: str | None) -> str | None:
        return ref.strip() if ref and _MSG_ID.match(ref.strip()) else None

    refs = tuple(dict.fromkeys(r for r in (ok(x) for x in draft.references) if r))
    in_reply_to = ok(draft.in_reply_to)
    if in_reply_to and in_reply_to not in refs:
        refs = (*refs, in_reply_to)
    return in_reply_to, refs


def _phrase(name: str) -> str:
    """A display name as RFC 5322 atoms when it is plain ASCII words, otherwise as RFC 2047
    base64 encoded words: never a quoted-string, so no folding can unquote it (CPython's
    folder dropped the quotes of long quoted names, turning ``"a, b ..."`` into two
    addresses: https://github.com/python/cpython/issues/80222, and similarly for encoded
    words: https://github.com/python/cpython/pull/122754)."""
    if not name or _ATOMS.match(name):
        return name
    return Header(name, _B64_UTF8).encode(maxlinelen=76, linesep="\r\n")


def _address(person: Person, where: str) -> str:
    email = check_address(person.email.strip(), where)
    phrase = _phrase(sanitize_header_text(person.name or "", limit=NAME_LIMIT))
    return f"{phrase} <{email}>" if phrase else email


def build_mime(draft: DraftContent, *, sender: Person, key: str, message_id: str,
               date: datetime) -> bytes:
    """The draft as RFC 5322 bytes: plain text, UTF-8, one ``To``, ``From``, ``Subject``,
    ``Date``, ``Message-ID``, ``In-Reply-To``/``References`` when set, and
    ``X-Inbox-Followup-Key``. Deterministic: the same input gives the same bytes.

    Built with the ``compat32`` API from header values this function has already made
    ASCII and unambiguous (checked addresses, atoms or encoded words, well-formed ids), so
    the library only folds at spaces and never re-parses or re-quotes anything.

    Raises :class:`ItemError` (named by ``key``) for an unusable address, Message-ID or
    key, or a body that is not valid Unicode.
    """
    if not _KEY.match(key):
        raise ItemError("draft", "unusable artifact key")
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ItemError(key, "draft body is not valid text") from exc
    msg = Message(policy=_MIME_POLICY)
    msg["From"] = _address(sender, key)
    msg["To"] = _address(draft.to, key)
    subject = sanitize_header_text(draft.subject)
    charset = "us-ascii" if subject.isascii() else _B64_UTF8
    msg["Subject"] = Header(subject, charset, header_name="Subject")  # type: ignore[assignment]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = _message_id(message_id, key)
    in_reply_to, refs = _references(draft)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if refs:
        msg["References"] = " ".join(refs)
    msg["X-Inbox-Followup-Key"] = key
    msg["MIME-Version"] = "1.0"
    msg.set_payload(body, _QP_UTF8)  # adds Content-Type and Content-Transfer-Encoding
    return msg.as_bytes(policy=_MIME_POLICY)


def _html_to_text(markup: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", _TAG.sub("", re.sub(r"(?i)<br\s*/?>|</p>", "\n", markup)))


def _body_text(msg: EmailMessage) -> str:
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        text = part.get_content()
    except (KeyError, LookupError, ValueError, HeaderParseError, AttributeError, IndexError):
        payload = msg.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(text, str):
        return ""
    return _html_to_text(text) if part.get_content_subtype() == "html" else text


def snapshot_from_mime(raw: bytes) -> DraftSnapshot:
    """A draft's recipient, decoded subject and plain-text body, read back from bytes.

    For any draft ``d``, ``snapshot_from_mime(build_mime(d, ...)).fingerprint`` equals
    ``draft_fingerprint(d.to.email, sanitize_header_text(d.subject), d.body)``. Raises
    :class:`ItemError` when ``raw`` is not a message (empty, or no header field).
    """
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    if not raw.strip() or not msg.keys():
        raise ItemError("draft", "not a mail message")
    source = {k.lower(): v for k, v in reversed(list(msg.raw_items()))}  # first wins
    try:
        to_header = msg["To"]
        addresses = to_header.addresses if to_header is not None else ()
        to = addresses[0].addr_spec if addresses else ""
    except (IndexError, ValueError, HeaderParseError, AttributeError, TypeError):
        pairs = getaddresses([source.get("to", "")])
        to = pairs[0][1] if pairs else ""
    try:
        subject = str(msg["Subject"] or "")
    except (IndexError, ValueError, HeaderParseError, LookupError):
        subject = decode_words(source.get("subject", ""))
    return DraftSnapshot(to=to, subject=" ".join(subject.split()), body=_body_text(msg))
