"""Classify one message: the user's own, a bounce, an auto-reply, bulk mail, or a person.

Pure: no I/O and no clock; dates are read relative to the message's own ``date``.
Works on what every provider can give (headers and a snippet; see
:mod:`inbox_followup.formats.mailparse` for the derived ``x-ifu-*``/DSN entries a full parse adds).

Decisions, in order (the first that applies wins):

1. OWN: the sender is one of the user's addresses, or the message is in the sent folder.
2. BOUNCE: a delivery report (RFC 3464) with a recipient whose ``Action`` is ``failed`` and
   whose ``Status`` is not a 4.x.x transient code; ``X-Failed-Recipients`` (Exim); or
   mail from MAILER-DAEMON/postmaster that is a delivery report or says it is undeliverable.
   ``Status`` 4.x.x is "persistent transient failure" (RFC 3463 §3.1): the address may be
   fine, so there is nothing for the user to fix (flanker's delayed.eml says ``failed`` with
   4.0.0 after five days of timeouts); that report, a ``delayed``/``delivered``/``relayed``
   report, and read receipts (RFC 8098 ``disposition-notification``) are AUTO_REPLY: about
   delivery, never an answer.
3. AUTO_REPLY: ``Auto-Submitted`` other than ``no`` (RFC 3834 §5), ``X-Autoreply``,
   ``X-Autorespond``, ``Precedence: auto_reply``, ``X-Loop``, Exchange's out-of-office pair
   ``X-Auto-Response-Suppress`` + ``X-MS-Exchange-Inbox-Rules-Loop`` (zammad's
   out_of_office_check.rb, see API-NOTES §2.6), or an out-of-office subject. Outlook's
   "Automatic reply:" carries no ``Auto-Submitted`` and Apple's carries ``In-Reply-To``, so
   neither the absence of the first nor the presence of the second proves a person wrote it.
   ``return_date``: the date after a cue ("back on", "until", "returning") in the subject or
   snippet, the first such date on or after the message's day; none if the cues disagree.
4. BULK: ``Precedence`` bulk/junk/list, ``List-Id`` or ``List-Unsubscribe``.
5. HUMAN.

``rejection`` and ``invitation`` are set on every kind but OWN and BOUNCE: an applicant
tracking system often sends its rejections and interview invitations as automated or bulk
mail, and the planner still needs to know. ``rejection`` needs a phrase that declines
("decided to move forward with other candidates", "position has been filled", ...);
"unfortunately" alone is not enough. ``invitation`` needs an iTIP ``METHOD:REQUEST``
(RFC 5546 §3.2.2): a calendar file attached with ``METHOD:PUBLISH`` (comm-central's
message-non-invite.eml) or without a method is not an invitation. A provider that cannot
see the parts may set ``content_type`` to ``text/calendar`` for a meeting request.
"""

from __future__ import annotations

import re
from datetime import date

from inbox_followup.core.dates import date_mentions
from inbox_followup.core.model import Classification, MailMessage, ReplyKind

_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_UNDELIVERABLE = re.compile(
    r"undeliver|returned\s+mail|delivery\s+(?:status\s+notification\s*\(failure\)|has\s+failed"
    r"|failure|failed)|mail\s+delivery\s+failed|failure\s+notice|non-?delivery",
    re.IGNORECASE,
)
_PREFIX = r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:(?:re|aw|sv|vs|antw|fw|fwd|wg|tr)\s*:\s*)*"
_OOO_SUBJECT = re.compile(
    _PREFIX
    + r"(?:automatic\s+reply|auto(?:matic)?[\s-]?(?:reply|response|respond|antwort)|autoreply"
    r"|out\s+of\s+(?:the\s+)?office|ooo\b|away\b|abwesen|absence|absent\b|on\s+vacation"
    r"|on\s+leave|r[ée]ponse\s+automatique|respuesta\s+autom[áa]tica|risposta\s+automatica"
    r"|automatisch\s+antwoord|afwezig|fr[åa]nvar|autosvar|poza\s+biurem|fuera\s+de\s+la\s+oficina)"
    r"|\bout\s+of\s+(?:the\s+)?office\b|\[ooo\]|\(ooo\)",
    re.IGNORECASE,
)
_RECEIPT_SUBJECT = re.compile(_PREFIX + r"(?:read|delivered|gelesen|lu)\s*:", re.IGNORECASE)
_RETURN_CUE = re.compile(
    r"(?:\bback\b|\breturn(?:s|ing)?\b|\buntil\b|\btill\b|\bthrough\b|\bthru\b"
    r"|\bin\s+the\s+office\b|\bavailable\b|\bresume\b)[^.!?\n]{0,40}$",
    re.IGNORECASE,
)
_REJECTION = re.compile(
    r"decided\s+(?:not\s+to\s+(?:move|go|proceed|continue|pursue|offer|extend)"
    r"|to\s+(?:move|go)\s+(?:forward|ahead)\s+with\s+(?:an?other|other|a\s+different|different)"
    r"|to\s+(?:pursue|proceed\s+with|continue\s+with)\s+(?:an?other|other|a\s+different))"
    r"|(?:not|n't)\s+(?:to\s+)?(?:be\s+)?(?:moving|move|going|go|proceed(?:ing)?)\s+forward"
    r"\s+with\s+(?:your|you\b|the\s+(?:application|candidacy))"
    r"|\bnot\s+to\s+move\s+forward|will\s+not\s+be\s+moving\s+forward|won't\s+be\s+moving\s+forward"
    r"|not\s+be\s+proceeding|not\s+(?:be\s+)?proceed(?:ing)?\s+with\s+your"
    r"|(?:position|role|vacancy|job)\s+has\s+(?:now\s+|already\s+)?been\s+filled"
    r"|pursu(?:e|ing)\s+(?:other|another)\s+candidates?"
    r"|(?:unable|not\s+able)\s+to\s+offer\s+you"
    r"|other\s+candidates\s+whose\s+(?:experience|background|qualifications|skills)"
    r"|no\s+longer\s+(?:being\s+)?considered|(?:have|has)\s+not\s+been\s+selected"
    r"|not\s+(?:been\s+)?selected\s+(?:to|for)\s+(?:move|proceed|the\s+next)",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def _norm_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _report_type(msg: MailMessage) -> str | None:
    """The ``report-type`` of a ``multipart/report``, as the one header reader derived it
    (:mod:`inbox_followup.formats.mailparse`, for every provider)."""
    found = msg.header("x-ifu-report-type")
    return found.lower() if found else None


def _dsn_groups(msg: MailMessage) -> list[dict[str, str]]:
    groups: list[dict[str, str]] = []
    for name, value in msg.headers:
        if name == "final-recipient":
            groups.append({"final-recipient": value})
        elif name in ("original-recipient", "action", "status") and groups:
            groups[-1].setdefault(name, value)
    return groups


def _is_daemon(msg: MailMessage) -> bool:
    if msg.sender is None:
        return False
    return msg.sender.email.partition("@")[0].lower() in _DAEMONS


def _delivery(msg: MailMessage) -> tuple[str, tuple[str, ...]] | None:
    """``("bounce", failed recipients)``, ``("notice", ())`` for a delivery report that
    does not say an address failed for good, or None for anything else."""
    groups = _dsn_groups(msg)
    # Original-Recipient is the address as the user wrote it (RFC 3464 §2.3.1), which is
    # what matches an interviewer; Final-Recipient may be an alias it expanded to.
    failed = tuple(dict.fromkeys(
        addr
        for g in groups
        if g.get("action") == "failed" and not g.get("status", "").startswith("4")
        for addr in (g.get("original-recipient"), g["final-recipient"])
        if addr
    ))
    if failed:
        return "bounce", failed
    x_failed = msg.header("x-failed-recipients")
    if x_failed:
        return "bounce", tuple(
            a.strip().strip("<>").lower() for a in x_failed.split(",") if "@" in a
        )
    if groups:
        return "notice", ()
    is_report = _norm_type(msg.content_type) == "multipart/report"
    if _is_daemon(msg) and (is_report or _UNDELIVERABLE.search(msg.subject)):
        return "bounce", ()  # a report nobody could read: the recipient is unknown
    if is_report and _report_type(msg) in (None, "delivery-status"):
        return "notice", ()
    return None


def _return_date(msg: MailMessage) -> date | None:
    """The return date an out-of-office reply gives, relative to the message's day."""
    reference = msg.date.date()
    found: set[date] = set()
    for text in (msg.subject, msg.snippet):
        text = _clean(text)
        for mention in date_mentions(text, reference):
            if _RETURN_CUE.search(text[max(0, mention.start - 60) : mention.start]):
                found.add(mention.when)
    return found.pop() if len(found) == 1 else None


def _is_auto_reply(msg: MailMessage) -> bool:
    auto = (msg.header("auto-submitted") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if msg.header("x-autoreply") is not None or msg.header("x-autorespond") is not None:
        return True
    if (msg.header("precedence") or "").strip().lower() == "auto_reply":
        return True
    if (msg.header("x-loop") or "").strip().lower() in ("yes", "true"):
        return True
    if (msg.header("x-auto-response-suppress") is not None
            and msg.header("x-ms-exchange-inbox-rules-loop") is not None):
        return True
    return bool(_OOO_SUBJECT.search(_clean(msg.subject)))


def _is_bulk(msg: MailMessage) -> bool:
    precedence = (msg.header("precedence") or "").strip().lower()
    return (precedence in ("bulk", "junk", "list")
            or msg.header("list-id") is not None
            or msg.header("list-unsubscribe") is not None)


def is_rejection(subject: str, snippet: str) -> bool:
    """Whether the text declines the candidate (a phrase such as "decided to move forward
    with other candidates"; "unfortunately" alone does not count)."""
    return bool(_REJECTION.search(_clean(f"{subject}\n{snippet}")))


def _is_invitation(msg: MailMessage) -> bool:
    method = msg.header("x-ifu-calendar-method")
    if method is not None:
        return method.upper() == "REQUEST"
    return _norm_type(msg.content_type) == "text/calendar"


def classify(msg: MailMessage, user_addresses: frozenset[str]) -> Classification:
    """Say what ``msg`` is (see the module docstring for the rules, in order).

    ``user_addresses`` are the user's own addresses (any case). Never raises.
    """
    own = {a.strip().lower() for a in user_addresses}
    if msg.folder == "sent" or (msg.sender is not None and msg.sender.email.lower() in own):
        return Classification(ReplyKind.OWN)
    delivery = _delivery(msg)
    if delivery is not None and delivery[0] == "bounce":
        return Classification(ReplyKind.BOUNCE, bounced_recipients=delivery[1])
    rejection = is_rejection(msg.subject, msg.snippet)
    invitation = _is_invitation(msg)
    receipt = (_report_type(msg) == "disposition-notification"
               or _RECEIPT_SUBJECT.search(msg.subject) is not None)
    kind, return_date = ReplyKind.HUMAN, None
    if delivery is not None or receipt:
        kind = ReplyKind.AUTO_REPLY
    elif _is_auto_reply(msg):
        kind, return_date = ReplyKind.AUTO_REPLY, _return_date(msg)
    elif _is_bulk(msg):
        kind = ReplyKind.BULK
    return Classification(kind, return_date=return_date, rejection=rejection,
                          invitation=invitation)
