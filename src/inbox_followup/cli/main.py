"""inbox-followup's command line: parse, call :mod:`inbox_followup.sync.service`, print.

Exit codes (docs/design.md): 0 ok; 1 some items failed and the rest synced; 2 bad usage, bad
config, or the state directory's lock is held.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from inbox_followup import __version__
from inbox_followup.cli import report
from inbox_followup.config.loader import Config, default_config_path, load
from inbox_followup.core.model import Notes, Outcome
from inbox_followup.core.planner import Action, Cancel, Create, Restamp, Update
from inbox_followup.errors import ConfigError, InboxFollowupError, LockHeldError, UsageError
from inbox_followup.sync import service

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("inbox_followup")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="inbox-followup",
        description="Turns job interviews on your calendar into follow-up reminders and "
        "thank-you drafts. It never sends mail: you do.",
    )
    p.add_argument("--config", type=Path, help="config file (default: $INBOX_FOLLOWUP_CONFIG, "
                   "then the platform config folder)")
    p.add_argument("--now", help="fix the clock, ISO 8601 (default: $INBOX_FOLLOWUP_NOW or now)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    init = sub.add_parser("init", help="write a starter config")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    con = sub.add_parser("connect", help="sign in to a google or microsoft account")
    con.add_argument("account")
    con.add_argument("--browser", action="store_true",
                     help="Microsoft: use a browser instead of a device code; Google: open one")
    sy = sub.add_parser("sync", help="one pass: read calendars and mail, write what is due")
    sy.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    sub.add_parser("run", help="the daemon: sync every poll_seconds until stopped")
    st = sub.add_parser("status", help="applications, interviews and what was made for them")
    st.add_argument("--json", action="store_true", help="machine-readable (docs/design.md contract)")
    note = sub.add_parser("note", help="add notes to an interview (they feed the drafts)")
    note.add_argument("interview", help="interview id (or a unique prefix) or company name")
    note.add_argument("--text", help="free text; dates, 'few days', 'email only' are understood")
    note.add_argument("--deadline", type=date.fromisoformat, metavar="DATE",
                      help="the decision date they gave (YYYY-MM-DD)")
    note.add_argument("--few-days", action="store_true", help="they said 'in a few days'")
    note.add_argument("--contact", choices=["email-only", "any"], help="how they want contact")
    note.add_argument("--talking-point", action="append", default=[], metavar="TEXT",
                      help="something specific from the conversation (repeatable)")
    note.add_argument("--forgot", action="append", default=[], metavar="TEXT",
                      help="something you forgot to mention (repeatable)")
    for name, verb in (("track", "treat EVENT as an interview"),
                       ("ignore", "never treat EVENT as an interview")):
        sp = sub.add_parser(name, help=verb)
        sp.add_argument("event", help="event id, UID, or a unique part of its title")
    out = sub.add_parser("outcome", help="record how an application ended")
    out.add_argument("interview")
    out.add_argument("result", choices=[o.value for o in Outcome])
    pu = sub.add_parser("purge", help="remove every reminder and draft this tool created")
    pu.add_argument("--yes", action="store_true", help="do not ask")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config_path = (args.config or default_config_path()).expanduser()
    try:
        if args.command == "init":
            return cmd_init(config_path, args.force)
        config = load(config_path)
        _setup_logging(config, args.verbose or args.command == "run")
        now = parse_now(args.now or os.environ.get("INBOX_FOLLOWUP_NOW"), config.timezone)
        command: Command = COMMANDS[args.command]
        return command(config, args, now)
    except ConfigError as exc:
        _err(f"config error in {exc.path or config_path}:")
        for problem in exc.problems:
            _err(f"  {problem}")
        return EXIT_USAGE
    except LockHeldError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except InboxFollowupError as exc:
        _err(str(exc))
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        return 130


def parse_now(text: str | None, tz: ZoneInfo) -> datetime:
    """``--now``: ISO 8601; a time without offset is in the configured zone."""
    if not text:
        return datetime.now(tz)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _setup_logging(config: Config, verbose: bool) -> None:
    """The daemon and ``-v`` log at info (or the configured level); otherwise the CLI reports
    problems itself and only a crash-worthy log line gets through."""
    level = getattr(logging, config.log_level.upper()) if verbose else logging.CRITICAL
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


def cmd_init(path: Path, force: bool) -> int:
    if path.exists() and not force:
        _err(f"{path} already exists (use --force to overwrite)")
        return EXIT_USAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    example = resources.files("inbox_followup").joinpath("data/config.example.yaml")
    with resources.as_file(example) as src:
        shutil.copyfile(src, path)
    print(f"wrote {path}\nedit the account's calendar, reminders and maildir paths, then run: "
          f"inbox-followup --config {path} sync")
    return EXIT_OK


def cmd_sync(config: Config, args: argparse.Namespace, now: datetime) -> int:
    result = service.sync(config, now, dry_run=args.dry_run)
    for r in result.results:
        visible = [a for a in r.actions if not isinstance(a, Restamp)]  # ledger bookkeeping
        if r.dry_run:
            for action in visible:
                print(f"{r.account}: would {describe(action)}")
        t = r.tally
        line = (f"{r.account}: {t.created} created, {t.updated} updated, {t.cancelled} removed, "
                f"{t.kept_edited} kept as edited, {t.sent} seen sent")
        if r.error:
            _err(f"{r.account}: not synced: {r.error}")
        elif r.dry_run:
            print(f"{r.account}: {len(visible)} change(s) planned")
        else:
            print(line)
        for place, message in r.problems:
            _err(f"{r.account}: skipped {message}" if place in message else f"{place}: {message}")
    return EXIT_OK if result.ok else EXIT_PARTIAL


def describe(action: Action) -> str:
    if isinstance(action, Create | Update):
        a = action.artifact
        verb = "create" if isinstance(action, Create) else "update"
        who = f" to {a.recipient}" if a.recipient else ""
        return f"{verb} {a.kind.value}{who} due {a.due:%Y-%m-%d %H:%M}"
    if isinstance(action, Cancel):
        return f"remove {action.entry.kind.value} ({action.reason})"
    return f"record {action.entry.kind.value} as sent"


def cmd_run(config: Config, args: argparse.Namespace, now: datetime) -> int:
    from inbox_followup.cli.daemon import run_forever

    fixed = args.now or os.environ.get("INBOX_FOLLOWUP_NOW")
    return run_forever(config, (lambda: now) if fixed else (lambda: datetime.now(config.timezone)))


def cmd_status(config: Config, args: argparse.Namespace, now: datetime) -> int:
    doc = report.status_document(service.plans(config, now), service.problems(config), config.timezone)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        from inbox_followup.cli.status_view import render

        render(doc, now.astimezone(config.timezone))
    return EXIT_PARTIAL if doc["problems"] else EXIT_OK


def cmd_note(config: Config, args: argparse.Namespace, now: datetime) -> int:
    given = Notes(
        talking_points=tuple(args.talking_point), forgot=tuple(args.forgot),
        decision_date=args.deadline, few_days=args.few_days,
        email_only=args.contact == "email-only",
    )
    iv = service.add_note(config, args.interview, given, now, text=args.text)
    print(f"noted for {iv.company} ({iv.id}); drafts not yet edited are rewritten on the next sync")
    return EXIT_OK


def cmd_override(config: Config, args: argparse.Namespace, now: datetime) -> int:
    ref, title = service.set_override(config, args.event, args.command)
    verb = "tracked as an interview" if args.command == "track" else "ignored"
    print(f"'{title}' ({ref}) is {verb} from the next sync on")
    return EXIT_OK


def cmd_outcome(config: Config, args: argparse.Namespace, now: datetime) -> int:
    iv = service.set_outcome(config, args.interview, Outcome(args.result), now)
    print(f"{iv.company}: recorded '{args.result}'; pending nudges go on the next sync")
    return EXIT_OK


def cmd_purge(config: Config, args: argparse.Namespace, now: datetime) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            _err("purge removes every reminder and unedited draft this tool made: add --yes")
            return EXIT_USAGE
        if input("Remove every reminder and unedited draft this tool made? [y/N] ").lower() != "y":
            return EXIT_OK
    removed, kept = service.purge(config, now)
    print(f"removed {removed} item(s); kept {kept} draft(s) you edited")
    return EXIT_OK


def cmd_connect(config: Config, args: argparse.Namespace, now: datetime) -> int:
    service.connect(config, args.account, browser=args.browser, say=print)
    print(f"connected {args.account}")
    return EXIT_OK


Command = Callable[[Config, argparse.Namespace, datetime], int]
COMMANDS: dict[str, Command] = {
    "sync": cmd_sync, "run": cmd_run, "status": cmd_status, "note": cmd_note,
    "track": cmd_override, "ignore": cmd_override, "outcome": cmd_outcome, "purge": cmd_purge,
    "connect": cmd_connect,
}

if __name__ == "__main__":
    sys.exit(main())
