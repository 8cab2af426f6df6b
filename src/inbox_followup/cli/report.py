"""The ``status`` document (docs/design.md's JSON contract), built from plans (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from inbox_followup.config.loader import AccountConfig
from inbox_followup.core.model import ArtifactKind
from inbox_followup.core.planner import AppView, ArtifactView, Plan

# docs/design.md's artifact kinds; an outside tool may validate ``artifacts`` against this list.
CONTRACT_KINDS = frozenset({
    ArtifactKind.NOTES_REMINDER, ArtifactKind.THANK_YOU_DRAFT, ArtifactKind.THANK_YOU_REMINDER,
    ArtifactKind.FOLLOW_UP_DRAFT, ArtifactKind.FOLLOW_UP_REMINDER, ArtifactKind.CALL_REMINDER,
    ArtifactKind.MOVE_ON_REMINDER, ArtifactKind.FEEDBACK_DRAFT,
})


def _iso(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).isoformat()


def status_document(
    plans: Sequence[tuple[AccountConfig, Plan]], problems: Sequence[tuple[str, str, str]],
    tz: ZoneInfo,
) -> dict[str, Any]:
    """``{"applications": [...], "problems": [...]}``; times in the user's zone."""
    apps = [
        _application(app, account.name, tz)
        for account, plan in plans for app in plan.applications
    ]
    apps.sort(key=lambda a: (a["interviews"][-1]["start"] if a["interviews"] else ""), reverse=True)
    return {
        "applications": apps,
        "problems": [{"account": a, "where": w, "message": m} for a, w, m in problems],
    }


def _application(app: AppView, account: str, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "company": app.company,
        "domain": app.domain,
        "state": app.state.value,
        "account": account,
        "notices": list(app.notices),
        "interviews": [
            {
                "id": v.interview.id,
                "title": v.interview.title,
                "start": _iso(v.interview.start, tz),
                "end": _iso(v.interview.end, tz),
                "cancelled": v.interview.cancelled,
                "interviewers": [{"name": p.name, "email": p.email} for p in v.interview.interviewers],
                "artifacts": [_artifact(a, tz) for a in v.artifacts if a.kind in CONTRACT_KINDS],
                # Kinds beyond docs/design.md's list (the reflect reminder after a rejection).
                "other_artifacts": [
                    _artifact(a, tz) for a in v.artifacts if a.kind not in CONTRACT_KINDS
                ],
            }
            for v in app.interviews
        ],
    }


def _artifact(a: ArtifactView, tz: ZoneInfo) -> dict[str, Any]:
    return {"kind": a.kind.value, "due": _iso(a.due, tz), "state": a.state.value,
            "recipient": a.recipient}
