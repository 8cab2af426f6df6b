"""Which observed messages concern which application (pure).

docs/rules.md "What counts as an answer": a message after the interview ended, from an interviewer's
address or the application's company domain (public domains such as gmail.com only by exact
address), or any reply in the thank-you thread; never from the user. A bounce concerns the
application whose interviewer's address bounced.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from inbox_followup.core.model import Classification, Interview, LedgerEntry, MailMessage, ReplyKind


@dataclass(frozen=True)
class Mail:
    """A message with what :func:`replies.classify` said of it."""

    message: MailMessage
    classification: Classification

    @property
    def date(self) -> datetime:
        return self.message.date


@dataclass
class AppMail:
    """The messages of one application, oldest first."""

    inbound: list[Mail]  # human, auto-reply and bounce messages about the application
    sent: list[MailMessage]  # the user's own sent messages (to tell which drafts were sent)


def index_mail(
    mails: Iterable[Mail],
    interviews: Iterable[Interview],
    ledger: Mapping[str, LedgerEntry],
    public_domains: frozenset[str],
) -> dict[str, AppMail]:
    """Group messages by application id."""
    by_address: dict[str, set[str]] = defaultdict(set)
    by_domain: dict[str, set[str]] = defaultdict(set)
    for iv in interviews:
        app = iv.application_id
        for person in iv.interviewers:
            by_address[person.email.lower()].add(app)
        if iv.domain and iv.domain not in public_domains:
            by_domain[iv.domain].add(app)
    by_thread: dict[str, str] = {}
    for entry in ledger.values():
        if entry.kind.is_draft:
            for ref in (entry.thread_id, entry.message_id):
                if ref:
                    by_thread[ref] = entry.application_id
    out: dict[str, AppMail] = defaultdict(lambda: AppMail([], []))
    for mail in sorted(mails, key=lambda m: m.date):
        for app in _apps_of(mail, by_address, by_domain, by_thread):
            if mail.classification.kind is ReplyKind.OWN:
                out[app].sent.append(mail.message)
            elif mail.classification.kind is not ReplyKind.BULK:
                out[app].inbound.append(_as_seen_by(app, mail, by_address))
    return dict(out)


def _as_seen_by(app: str, mail: Mail, by_address: Mapping[str, set[str]]) -> Mail:
    """A bounce as one application sees it: only the failed addresses of its own people
    (a report can list several recipients; ``status`` names the ones this company's are)."""
    c = mail.classification
    if c.kind is not ReplyKind.BOUNCE:
        return mail
    mine = tuple(r for r in c.bounced_recipients if app in by_address.get(r.lower(), set()))
    if not mine or mine == c.bounced_recipients:  # matched by its thread: keep what it says
        return mail
    return replace(mail, classification=replace(c, bounced_recipients=mine))


def _apps_of(
    mail: Mail,
    by_address: Mapping[str, set[str]],
    by_domain: Mapping[str, set[str]],
    by_thread: Mapping[str, str],
) -> set[str]:
    msg = mail.message
    apps: set[str] = set()
    refs = [*msg.references, *([msg.thread_id] if msg.thread_id else [])]
    apps.update(by_thread[r] for r in refs if r in by_thread)
    if mail.classification.kind is ReplyKind.OWN:
        for rcpt in msg.recipients:
            apps |= by_address.get(rcpt.lower(), set())
        return apps
    if mail.classification.kind is ReplyKind.BOUNCE:
        for rcpt in mail.classification.bounced_recipients:
            apps |= by_address.get(rcpt.lower(), set())
        return apps
    if msg.sender is not None:
        apps |= by_address.get(msg.sender.email.lower(), set())
        apps |= by_domain.get(msg.sender.domain, set())
    return apps
