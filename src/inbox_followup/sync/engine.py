"""One observe -> plan -> reconcile pass over an account, and the snapshot ``status`` reads.

The only place that joins the store, the pure core and a provider. Each account's pass is
independent: one failing never stops the others (the caller collects the results).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from inbox_followup.config.loader import AccountConfig, Config
from inbox_followup.config.settings import detection_rules
from inbox_followup.core import detect, notes, planner, replies
from inbox_followup.core.cycle import Settings
from inbox_followup.core.matching import Mail
from inbox_followup.core.model import ArtifactKind, CalendarEvent, CalendarPage, Interview, Notes, SyncWindow
from inbox_followup.errors import ProviderError
from inbox_followup.providers.base import Provider
from inbox_followup.sync import reconcile
from inbox_followup.sync.store import Store

log = logging.getLogger(__name__)


@dataclass
class AccountResult:
    account: str
    ok: bool = True
    dry_run: bool = False
    actions: list[planner.Action] = field(default_factory=list)
    tally: reconcile.Tally = field(default_factory=reconcile.Tally)
    problems: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    next_due: datetime | None = None


def window(config: Config, now: datetime) -> SyncWindow:
    return SyncWindow(now - timedelta(days=config.past_days), now + timedelta(days=config.future_days))


def observe(store: Store, provider: Provider, account: AccountConfig, config: Config,
            now: datetime) -> list[tuple[str, str]]:
    """Read calendar and mail changes into the store. Raises ProviderError."""
    win = window(config, now)
    page = provider.calendar_changes(store.cursor(account.name, "calendar"), win)
    store.apply_calendar_page(account.name, page, aged_out(store, account.name, page, win))
    mail = provider.mail_changes(store.cursor(account.name, "mail"), win)
    store.apply_mail_page(account.name, mail)
    _read_back_notes(store, page.events, now)
    return [(e.split(": ", 1)[0], e) for e in (*page.errors, *mail.errors)]


def aged_out(store: Store, account: str, page: CalendarPage, win: SyncWindow) -> frozenset[str]:
    """Stored events a complete read leaves out only because they ended before the window,
    and that the ledger still refers to. A full read covers the window alone, so it cannot
    tell "deleted" from "long past"; dropping them would make a past interview look removed
    from the calendar, cancel what belongs to it and lose its application from ``status``."""
    if not page.replaced_sources:
        return frozenset()
    returned = {e.id for e in page.events}
    referenced = store.ledger_interviews(account)
    return frozenset(
        e.id for source in sorted(page.replaced_sources) for e in store.events(account, source)
        if e.id not in returned and e.end < win.start
        and detect.interview_id(account, e.id) in referenced
    )


def _read_back_notes(store: Store, events: Iterable[CalendarEvent], now: datetime) -> None:
    """Notes the user typed into a notes reminder's description (docs/rules.md step 4)."""
    marker = f"-{ArtifactKind.NOTES_REMINDER.value}-"
    known = store.notes()
    for event in events:
        if not event.key or marker not in event.key:
            continue
        interview_id = event.key.removeprefix("ifu-").split(marker, 1)[0]
        parsed = notes.parse_notes(event.description, reference=event.start.date())
        if parsed != known.get(interview_id, {}).get("reminder", Notes()):
            store.set_notes(interview_id, "reminder", parsed, now)


def interviews(store: Store, account: AccountConfig, config: Config) -> list[Interview]:
    """Every stored event of the account that is an interview (or forced to be one)."""
    return _detect_all(store, account, config)[0]


def _detect_all(
    store: Store, account: AccountConfig, config: Config
) -> tuple[list[Interview], frozenset[str]]:
    """(the interviews, the interview ids of events the user vetoed with ``ignore``)."""
    user = detect.UserIdentity(account.addresses)
    rules = detection_rules(config)
    overrides = store.overrides(account.name)
    found, vetoed = [], set()
    for event in store.events(account.name):
        override = overrides.get(event.id) or overrides.get(event.uid)
        if override == "ignore":
            vetoed.add(detect.interview_id(account.name, event.id))
        iv = detect.detect(event, account=account.name, user=user, rules=rules, override=override)
        if iv is not None:
            found.append(iv)
    return found, frozenset(vetoed)


def snapshot(store: Store, account: AccountConfig, config: Config) -> planner.Snapshot:
    mails = tuple(
        Mail(m, replies.classify(m, account.addresses)) for m in store.messages(account.name)
    )
    all_notes = store.notes()
    found, vetoed = _detect_all(store, account, config)
    ivs = tuple(found)
    merged = {
        iv.id: all_notes[iv.id].get("reminder", Notes()).merged(all_notes[iv.id].get("cli", Notes()))
        for iv in ivs if iv.id in all_notes
    }
    return planner.Snapshot(
        account=account.name, interviews=ivs, mails=mails, notes=merged,
        outcomes=store.outcomes(), ledger=store.ledger(account.name), vetoed=vetoed,
    )


def sync_account(store: Store, provider: Provider, account: AccountConfig, config: Config,
                 settings: Settings, now: datetime, *, dry_run: bool = False) -> AccountResult:
    """Resume, observe, plan and (unless ``dry_run``) reconcile one account."""
    result = AccountResult(account.name, dry_run=dry_run)
    try:
        if not dry_run:
            reconcile.resume(store, provider, account.name, now)
        result.problems = observe(store, provider, account, config, now)
        plan = planner.plan(snapshot(store, account, config), settings, now, views=False)
        result.actions = list(plan.actions)
        result.next_due = plan.next_due
        if not dry_run:
            result.tally = reconcile.apply(store, provider, account.name, plan.actions, now)
            result.problems += result.tally.problems
    except ProviderError as exc:
        result.ok, result.error = False, str(exc)
        log.error("%s: %s", account.name, exc)
    finally:
        provider.close()
    if not dry_run:
        store.set_problems(account.name, _with_error(result), now)
    return result


def _with_error(result: AccountResult) -> list[tuple[str, str]]:
    return result.problems + ([(result.account, result.error)] if result.error else [])
