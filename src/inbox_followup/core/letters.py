"""Message text from ``templates/`` (pure), and MIME building with safe headers.

Templates are ``string.Template`` files: a first line ``Subject: ...``, a blank line, then
the body. A body line is left out when any placeholder on it has no value: that is how the
"forgot to mention" line and the deadline line disappear when the notes say nothing, and
the signature when no name is configured. ``Profile.templates_dir`` may hold the user's own
files of the same names (``thank_you.txt``, ``follow_up_1.txt``, ``follow_up_2.txt``,
``feedback.txt``); a name missing there falls back to the packaged one.

Safety (DESIGN.md invariant 7): every header value that can come from a calendar or a
message passes :func:`sanitize_header_text` (no control or line-break characters, bounded
length, no literal RFC 2047 encoded-word syntax) and every address is checked to be one
plain addr-spec, so no input can add a header or a recipient. Non-ASCII text goes out
as RFC 2047 encoded words; see :func:`build_mime` for why the ``compat32`` API builds it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email import charset as _charset
from email import policy
from email.charset import Charset
from email.errors import HeaderParseError
from email.header import Header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from importlib import resources
from pathlib import Path
from string import Template

from inbox_followup.core.model import ArtifactKind, DraftContent, DraftSnapshot, Interview, Notes, Person
from inbox_followup.core.notes import NOTES_PROMPTS, format_day
from inbox_followup.errors import ConfigError, ItemError
from inbox_followup.formats.mailparse import decode_words

PLACEHOLDER_MARK = "[["
TALKING_POINT_PLACEHOLDER = (
    "[[Add one thing you talked about: a project, a plan or a question they raised]]"
)
DEFAULT_PITCH = (
    "From what we discussed, the role is a strong match for my skills and experience, "
    "and I'm excited about what I could contribute."
)
TEMPLATE_NAMES = ("thank_you.txt", "follow_up_1.txt", "follow_up_2.txt", "feedback.txt")
PLACEHOLDERS = frozenset({
    "greeting", "first_name", "position", "role", "company", "topic", "talking_point",
    "pitch", "forgot", "follow_up_date", "decision_date", "signature", "thank_you_subject",
})  # fmt: skip
HEADER_LIMIT = 200
NAME_LIMIT = 80  # a display name; keeps the From/To lines well under 998 octets

# Bidi overrides and zero-width characters can make a header read differently from what
# it says (CVE-2021-42574, "Trojan Source"); they carry no meaning in a name or subject.
_INVISIBLE = frozenset(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065),
     *range(0x2066, 0x206A), 0xFEFF]
)
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_MSG_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII without < > or space
_KEY = re.compile(r"^[!-~]{1,200}$")
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame"})
_TAG = re.compile(r"<[^<>]{0,2000}>")  # bounded: no quadratic scan on "<<<<..."
_ATOMS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# CRLF line ends, and no ">From " mangling of body lines (it would change the text).
_MIME_POLICY = policy.compat32.clone(linesep="\r\n", mangle_from_=False)


_B64_UTF8 = Charset("utf-8")  # base64 encoded words: safe anywhere in a phrase
_B64_UTF8.header_encoding = _charset.BASE64
_QP_UTF8 = Charset("utf-8")  # a quoted-printable body keeps the raw draft readable
_QP_UTF8.header_encoding, _QP_UTF8.body_encoding = _charset.BASE64, _charset.QP


@dataclass(frozen=True)
class Profile:
    """Who the user is, for the drafts: signature, a one-sentence pitch, own templates."""

    name: str | None = None
    pitch: str | None = None
    templates_dir: Path | None = None


# ---------------------------------------------------------------------------------------
# Header safety


def sanitize_header_text(value: str, *, limit: int = HEADER_LIMIT) -> str:
    """Make ``value`` safe for a header: control, line-break and invisible characters
    become spaces, whitespace runs fold to one space, literal ``=?`` is broken up (else a
    reader would decode it as an RFC 2047 word), and the result is cut to ``limit``
    characters (ending in "…" when cut). Idempotent; never raises."""
    if value.isascii() and value.isprintable():  # the common case, without the per-char walk
        text = " ".join(value.replace("=?", "= ?").split())
        if len(text) > limit:
            text = text[: max(0, limit - 1)].rstrip() + "…"
        return text
    chars = []
    for ch in value:
        category = unicodedata.category(ch)
        bad = category in ("Cc", "Cs", "Zl", "Zp") or ord(ch) in _INVISIBLE
        chars.append(" " if bad else ch)
    text = " ".join("".join(chars).replace("=?", "= ?").split())
    if len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text


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


# ---------------------------------------------------------------------------------------
# Texts


def _load(name: str, profile: Profile) -> tuple[str, str]:
    """(template text, where it came from). Raises :class:`ConfigError` for a user
    template that cannot be read."""
    if profile.templates_dir is not None:
        path = Path(profile.templates_dir).expanduser() / name
        if path.is_file():
            try:
                return _read_user_template(path, path.stat().st_mtime_ns), str(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError([f"cannot read template: {exc}"], str(path)) from exc
    return _packaged_template(name), f"inbox_followup/templates/{name}"


@functools.lru_cache(maxsize=32)
def _packaged_template(name: str) -> str:
    # Read once per process: rendering thousands of drafts must not re-read the package.
    return resources.files("inbox_followup").joinpath("templates", name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=32)
def _read_user_template(path: Path, mtime_ns: int) -> str:
    # Keyed by modification time, so a daemon sees the user's edits to a template.
    return path.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=512)
def _template(text: str) -> Template:
    return Template(text)


def _substitute(template: Template, values: dict[str, str], where: str) -> str:
    try:
        return template.substitute(values)
    except KeyError as exc:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise ConfigError([f"unknown placeholder ${exc.args[0]} (known: {known})"], where) from exc
    except ValueError as exc:
        raise ConfigError([f"bad placeholder: {exc} (write $$ for a dollar sign)"], where) from exc


def render(name: str, values: dict[str, str], profile: Profile) -> tuple[str, str]:
    """(subject, body) of template ``name`` filled with ``values``.

    Raises :class:`ConfigError` naming the file for a template without a ``Subject:``
    first line, an unknown placeholder, or a stray ``$``.
    """
    text, where = _load(name, profile)
    first, _, rest = text.replace("\r\n", "\n").partition("\n")
    if not first.lower().startswith("subject:"):
        raise ConfigError(["the first line must be 'Subject: ...'"], where)
    subject = _substitute(_template(first[len("subject:"):].strip()), values, where)
    lines: list[str] = []
    for line in rest.strip("\n").split("\n"):
        template = _template(line)
        if any(not values.get(n, "x") for n in template.get_identifiers()):
            continue  # an optional part with nothing to say
        rendered = _substitute(template, values, where).rstrip()
        if rendered or (lines and lines[-1]):
            lines.append(rendered)
    return sanitize_header_text(subject), "\n".join(lines).strip("\n") + "\n"


def check_templates(templates_dir: Path) -> list[str]:
    """Problems with the user's templates in ``templates_dir`` (empty when all render)."""
    problems: list[str] = []
    sample = {name: "x" for name in PLACEHOLDERS}
    for name in TEMPLATE_NAMES:
        try:
            render(name, sample, Profile(templates_dir=templates_dir))
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def _one_line(text: str | None, limit: int = 300) -> str:
    return sanitize_header_text(text or "", limit=limit)


def _sentence(text: str) -> str:
    text = _one_line(text).rstrip(" .;,:")
    return f"{text}." if text and text[-1] not in "!?" else text


def first_name(person: Person) -> str | None:
    """The first name to greet someone by, or None when the name is unknown or odd."""
    name = _one_line(person.name, 100).strip("\"' ")
    if not name or "@" in name:
        return None
    if "," in name:  # "Doe, Jane"
        name = name.split(",", 1)[1].strip()
    words = [w for w in name.split() if w.rstrip(".").lower() not in _HONORIFICS]
    if not words or not any(ch.isalpha() for ch in words[0]):
        return None
    first = words[0][:40]
    return first.capitalize() if first.isupper() and len(first) > 1 else first


def _common(interview: Interview, to: Person, profile: Profile) -> dict[str, str]:
    role = _one_line(interview.role, 100)
    company = _one_line(interview.company, 100) or "your company"
    greeting_name = first_name(to)
    values = {
        "greeting": f"Hi {greeting_name}," if greeting_name else "Hello,",
        "first_name": greeting_name or "",
        "role": role,
        "position": f"the {role} role" if role else "the role",
        "company": company,
        "topic": role or company,
        "signature": _one_line(profile.name, 100),
        "pitch": _sentence(profile.pitch or DEFAULT_PITCH),
        "talking_point": "", "forgot": "", "follow_up_date": "", "decision_date": "",
    }  # fmt: skip
    values["thank_you_subject"] = render("thank_you.txt", values, profile)[0]
    return values


def thank_you(interview: Interview, to: Person, notes: Notes, follow_up_on: date,
              profile: Profile) -> tuple[str, str]:
    """(subject, body) of the thank-you draft to one interviewer.

    The body has five or six sentence lines between greeting and sign-off: thanks for the
    time and the role, one point from the conversation (or :data:`TALKING_POINT_PLACEHOLDER`),
    why the user fits, what they forgot to mention (only when noted), and the day they will
    follow up. Raises :class:`ConfigError` for a broken user template.
    """
    values = _common(interview, to, profile)
    points = [p for p in notes.talking_points if _one_line(p)]
    values["talking_point"] = _sentence(points[0]) if points else TALKING_POINT_PLACEHOLDER
    values["forgot"] = _sentence("; ".join(_one_line(f, 150) for f in notes.forgot[:2]))
    values["follow_up_date"] = format_day(follow_up_on)
    return render("thank_you.txt", values, profile)


def follow_up(interview: Interview, to: Person, notes: Notes, profile: Profile,
              step: int) -> tuple[str, str]:
    """(subject, body) of follow-up ``step`` (1: still interested, asks for a timeframe;
    2: a shorter last check-in for contacts who want e-mail only). The subject is
    "Re: " and the thank-you subject. Raises ValueError for another step,
    :class:`ConfigError` for a broken user template."""
    if step not in (1, 2):
        raise ValueError(f"follow-up step must be 1 or 2, not {step}")
    values = _common(interview, to, profile)
    if notes.decision_date is not None:
        values["decision_date"] = format_day(notes.decision_date)
    return render(f"follow_up_{step}.txt", values, profile)


def feedback(interview: Interview, to: Person, profile: Profile,
             replying_to: str | None = None) -> tuple[str, str]:
    """(subject, body) of the gracious reply to a rejection that asks for feedback. When it
    answers the rejection (``replying_to``: that message's subject), the subject is "Re: "
    and theirs, as a reply's is (RFC 5322 §3.6.5), which also keeps it in the thread for
    clients that thread by subject. Raises :class:`ConfigError` for a broken user template."""
    subject, body = render("feedback.txt", _common(interview, to, profile), profile)
    theirs = sanitize_header_text(replying_to or "")
    if theirs:
        subject = theirs if theirs[:3].lower() == "re:" else f"Re: {theirs}"
    return subject, body


def _drafts_line(count: int, what: str) -> str:
    if count <= 0:
        return ""
    noun = f"{what} draft" if count == 1 else f"{what} drafts"
    verb = "is" if count == 1 else "are"
    return f"{count} {noun} {verb} in your Drafts folder; fill in anything marked [[...]] first."


def reminder(kind: ArtifactKind, interview: Interview, *, notes: Notes, drafts: int = 0,
             phone: str | None = None, follow_up_on: date | None = None) -> tuple[str, str]:
    """(title, description) of a reminder event of ``kind``.

    ``drafts`` is how many drafts wait for the user, ``phone`` the number to call,
    ``follow_up_on`` the follow-up day the thank-you drafts promise. Raises ValueError for
    a draft kind.
    """
    company = _one_line(interview.company, 100) or "the company"
    role = _one_line(interview.role, 100)
    names = ", ".join(n for n in (_one_line(p.name, 80) for p in interview.interviewers) if n)
    promise = (f"The drafts say you will check in on {format_day(follow_up_on)}."
               if follow_up_on else "")
    number = _one_line(phone or notes.phone, 40)
    deadline = (f"They said they would decide around {format_day(notes.decision_date)}."
                if notes.decision_date else "")
    texts: dict[ArtifactKind, tuple[str, list[str]]] = {
        ArtifactKind.NOTES_REMINDER: (f"Write interview notes — {company}", [NOTES_PROMPTS]),
        ArtifactKind.THANK_YOU_REMINDER: (f"Send thank-you notes — {company}", [
            _drafts_line(drafts, "thank-you")
            or "Send a short, personal thank-you note to each interviewer.",
            "Send each one this morning, within a day of the interview.", promise]),
        ArtifactKind.FOLLOW_UP_REMINDER: (f"Follow up with {company}", [
            _drafts_line(drafts, "follow-up")
            or "Write a short note: still interested, and is there an updated timeframe?",
            deadline, "Polite and brief: hiring takes time, and asking is fair."]),
        ArtifactKind.CALL_REMINDER: (
            f"Call {company} about {role}" if role else f"Call {company} about your interview", [
                "No answer to your follow-up yet. Call and ask, politely, about the timeline.",
                "Say again that you're keen and why the role fits you.",
                f"Phone: {number}" if number else ""]),
        ArtifactKind.MOVE_ON_REMINDER: (
            f"No word from {company} in a month — close it, keep applying", [
                "A month without an answer usually means the process has moved on.",
                "Mark it closed in your own list and put the energy into other applications.",
                "Closing it is not giving up: an answer can still come, and you'll see it."]),
        ArtifactKind.REFLECT_REMINDER: (
            f"Reflect on the {company} interviews, then connect on LinkedIn", [
            "Take ten minutes: what went well, what didn't, and what would you do differently?",
            "Which questions or skills do you want to practise before the next interview?",
            "The process is over, so now is a fine time to connect with your interviewers "
            "on LinkedIn" + (f" ({names})." if names else "."),
        ]),
    }  # fmt: skip
    if kind not in texts:
        raise ValueError(f"{kind.value} is not a reminder")
    title, parts = texts[kind]
    return sanitize_header_text(title), "\n".join(p for p in parts if p)
