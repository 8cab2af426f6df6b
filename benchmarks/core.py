"""Planning 10,000 interviews in the pure core (target: under 500 ms)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox_followup.config.templates import load_templates
from inbox_followup.core import letters, rules
from inbox_followup.core.cycle import Settings
from inbox_followup.core.model import Interview, LedgerEntry, LedgerState, Person
from inbox_followup.core.planner import Create, Plan, Snapshot, plan

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def interviews(n: int) -> tuple[Interview, ...]:
    """``n`` interviews spread over the 60 days before and 30 after ``NOW``, 1-3 people each."""
    out = []
    for i in range(n):
        start = NOW - timedelta(days=60) + timedelta(minutes=(i * 1297) % (90 * 24 * 60))
        company = f"company{i % 2500}"
        people = tuple(Person(f"p{j}@{company}.example", f"Person {j}") for j in range(1 + i % 3))
        out.append(Interview(
            id=f"iv{i:05d}", event_id=f"ev{i}", title=f"Interview with {company}",
            company=company.title(), start=start, end=start + timedelta(hours=1),
            interviewers=people, domain=f"{company}.example",
        ))
    return tuple(out)


HOLIDAYS = rules.holiday_dates("US", range(2025, 2028))


def settings() -> Settings:
    """New settings, as every sync pass builds them: the calendar's memos start empty, so no
    timed run profits from the one before it."""
    cal = rules.WorkCalendar(ZoneInfo("America/Chicago"), rules.WorkingHours(), HOLIDAYS)
    profile = letters.Profile(load_templates(None), name="Alex")
    return Settings(cal=cal, timing=rules.Timing(), profile=profile)


def cases() -> Iterator[dict[str, object]]:
    ivs = interviews(10_000)
    first = Snapshot("bench", ivs, (), {}, {}, {})
    result = plan(first, settings(), NOW, views=False)
    steady = Snapshot("bench", ivs, (), {}, {}, applied(result, NOW))
    for label, snap in (("first_plan", first), ("steady_state", steady)):
        best, best_cpu = float("inf"), float("inf")
        for _ in range(5):
            core = settings()
            t, cpu = time.perf_counter(), time.process_time()
            result = plan(snap, core, NOW, views=False)  # as sync plans; status adds its view
            best = min(best, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        yield {"case": f"plan_10000_interviews_{label}", "backend": "core",
               "interviews": 10_000, "actions": len(result.actions),
               "wall_ms": round(best * 1000, 1), "cpu_ms": round(best_cpu * 1000, 1),
               "target_ms": 500}


def applied(result: Plan, now: datetime) -> dict[str, LedgerEntry]:
    """The ledger after every create of ``result`` succeeded (what the next pass sees)."""
    return {
        a.artifact.key: LedgerEntry(
            a.artifact.key, "bench", a.artifact.kind, a.artifact.interview_id,
            a.artifact.application_id, a.artifact.due, LedgerState.LIVE, a.artifact.content_hash,
            a.artifact.recipient, provider_id=a.artifact.key, created_at=now,
            inputs=a.wanted.inputs,
        )
        for a in result.actions if isinstance(a, Create)
    }
