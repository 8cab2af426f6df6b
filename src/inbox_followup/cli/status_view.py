"""The readable ``status`` table (rich), drawn from the same document as ``status --json``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

STATE_STYLE = {
    "planned": "cyan", "created": "green", "sent": "bold green", "cancelled": "dim",
    "kept_edited": "yellow", "done": "dim green",
}
APP_STYLE = {
    "active": "bold", "answered": "bold green", "stale": "dim", "rejected": "red",
    "offer": "bold green", "withdrawn": "dim",
}
KIND_LABEL = {
    "notes_reminder": "Notes reminder", "thank_you_draft": "Thank-you draft",
    "thank_you_reminder": "Send thank-yous", "follow_up_draft": "Follow-up draft",
    "follow_up_reminder": "Follow-up reminder", "call_reminder": "Call reminder",
    "move_on_reminder": "Move-on reminder", "feedback_draft": "Feedback draft",
    "reflect_reminder": "Reflect reminder",
}


def _when(iso: str, now: datetime) -> str:
    dt = datetime.fromisoformat(iso)
    fmt = "%a %d %b %H:%M" if dt.year == now.year else "%a %d %b %Y %H:%M"
    return dt.strftime(fmt)


def render(doc: dict[str, Any], now: datetime, console: Console | None = None) -> None:
    """Print one table per application, newest first, then any problems."""
    console = console or Console()
    if not doc["applications"]:
        console.print("No interviews found yet. Run [bold]inbox-followup sync[/bold] after "
                      "an interview lands on your calendar.")
    for app in doc["applications"]:
        title = Text(f"{app['company']}", style="bold")
        title.append(f"  {app['domain'] or ''}  ", style="dim")
        title.append(app["state"], style=APP_STYLE.get(app["state"], ""))
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("When", no_wrap=True)
        table.add_column("What")
        table.add_column("For")
        table.add_column("State")
        for iv in app["interviews"]:
            cancelled = " (cancelled)" if iv.get("cancelled") else ""
            table.add_row(_when(iv["start"], now), Text(f"{iv['title']}{cancelled}", style="bold"),
                          ", ".join(p["name"] or p["email"] for p in iv["interviewers"]), "")
            both = [*iv["artifacts"], *iv.get("other_artifacts", [])]
            for a in sorted(both, key=lambda a: datetime.fromisoformat(a["due"])):
                table.add_row("  " + _when(a["due"], now), KIND_LABEL.get(a["kind"], a["kind"]),
                              a["recipient"] or "", Text(a["state"], STATE_STYLE.get(a["state"], "")))
        console.print(table)
        for notice in app.get("notices", []):
            console.print(f"  [yellow]![/yellow] {notice}")
        console.print()
    for p in doc.get("problems", []):
        console.print(f"[red]problem[/red] {p['account']}: {p['message']}")
