"""When each step of the cycle happens: working hours, business days, zones, holidays (pure).

All day arithmetic is done on the wall clock of the user's zone, so "10 days later at 10:00"
stays at 10:00 across a DST change, and the result is converted back with the zone's rules
(a wall time that does not exist, in the spring-forward gap, is moved past the gap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass(frozen=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(17, 30)
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0


@dataclass(frozen=True)
class Timing:
    """RULES.md's delays; config.py maps the YAML ``timing`` section onto these."""

    notes_after: timedelta = timedelta(minutes=15)
    thank_you_same_day_before: time = time(8, 0)
    few_days: int = 7
    follow_up_days: int = 10
    decision_grace_business_days: int = 1
    call_after_business_days: int = 3
    move_on_days: int = 30
    out_of_office_max_days: int = 30


@dataclass(frozen=True)
class WorkCalendar:
    """The user's working time: zone, hours, working weekdays and public holidays."""

    tz: ZoneInfo
    hours: WorkingHours = field(default_factory=WorkingHours)
    holidays: frozenset[date] = frozenset()

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz)

    def wall(self, d: date, t: time) -> datetime:
        """``d`` at wall time ``t`` in the zone; a time in a DST gap moves past the gap."""
        naive = datetime.combine(d, t)
        aware = naive.replace(tzinfo=self.tz)
        # Round-trip through UTC: a nonexistent wall time comes back shifted by the gap.
        back = aware.astimezone(UTC).astimezone(self.tz)
        if back.replace(tzinfo=None) != naive:
            return naive.replace(tzinfo=self.tz, fold=1).astimezone(UTC).astimezone(self.tz)
        return aware

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.hours.days and d not in self.holidays

    def morning(self, d: date) -> datetime:
        return self.wall(d, self.hours.start)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        if not self.hours.days:
            raise ValueError("working_hours.days is empty: no day is a working day")
        d += timedelta(days=1)
        for _ in range(3700):  # ten years of holidays is beyond any real calendar
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError("no working day in ten years: check working_hours and holidays")

    def next_working_morning(self, after: datetime) -> datetime:
        """The morning of the first working day after ``after``'s local date."""
        return self.morning(self.next_working_day(self.local(after).date()))

    def into_working_hours(self, dt: datetime) -> datetime:
        """``dt`` if it is inside working hours on a working day, else the next working
        morning (that same morning when ``dt`` is before the start of a working day)."""
        loc = self.local(dt)
        if self.is_working_day(loc.date()):
            if loc.time() < self.hours.start:
                return self.morning(loc.date())
            if loc.time() <= self.hours.end:
                return loc
        return self.next_working_morning(loc)

    def add_business_days(self, d: date, n: int) -> date:
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def add_days(self, dt: datetime, n: int) -> datetime:
        """``n`` calendar days later at the same wall-clock time in the zone."""
        loc = self.local(dt)
        return self.wall(loc.date() + timedelta(days=n), loc.time().replace(tzinfo=None))


def holiday_dates(country: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of ``country`` ("US", "GB", "US-CA", ...) in ``years``.

    Raises ValueError naming the code when the holidays package does not know it.
    """
    if not country:
        return frozenset()
    import holidays as holidays_lib

    code, _, subdiv = country.strip().upper().partition("-")
    try:
        found = holidays_lib.country_holidays(code, subdiv=subdiv or None, years=list(years))
    except (NotImplementedError, KeyError, ValueError) as exc:
        raise ValueError(f"unknown holidays code {country!r} (use e.g. US, GB, DE, US-CA)") from exc
    return frozenset(found.keys())


def notes_time(t0: datetime, timing: Timing) -> datetime:
    """The notes reminder: exactly ``notes_after`` after the interview ends."""
    return t0 + timing.notes_after


def thank_you_reminder_time(t0: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    """The next calendar morning, weekends included (the 24-48 h window of the seeds);
    the same morning when the interview ended before ``thank_you_same_day_before``."""
    loc = cal.local(t0)
    if loc.time() < timing.thank_you_same_day_before:
        return cal.wall(loc.date(), cal.hours.start)
    return cal.wall(loc.date() + timedelta(days=1), cal.hours.start)


def follow_up_1_time(
    t0: datetime, *, decision_date: date | None, few_days: bool, thank_you_basis: datetime,
    cal: WorkCalendar, timing: Timing,
) -> datetime:
    """Follow-up 1: decision date + grace business days; "a few days": T0 + 7 days; else
    ``follow_up_days`` after the thank-you went out (or its reminder while unsent).
    Never before the thank-you reminder."""
    if decision_date is not None:
        due = cal.morning(cal.add_business_days(decision_date, timing.decision_grace_business_days))
    elif few_days:
        due = cal.into_working_hours(cal.add_days(t0, timing.few_days))
    else:
        due = cal.into_working_hours(cal.add_days(thank_you_basis, timing.follow_up_days))
    floor = thank_you_reminder_time(t0, cal, timing)
    if due <= floor:
        due = cal.next_working_morning(floor)
    return due


def follow_up_2_time(fu1: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    """Follow-up 2 (the call): ``call_after_business_days`` after follow-up 1, same time."""
    loc = cal.local(fu1)
    day = cal.add_business_days(loc.date(), timing.call_after_business_days)
    return cal.into_working_hours(cal.wall(day, loc.time().replace(tzinfo=None)))


def move_on_time(t0: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    return cal.into_working_hours(cal.add_days(t0, timing.move_on_days))


def after_out_of_office(
    due: datetime, return_date: date, now: datetime, cal: WorkCalendar, timing: Timing
) -> datetime:
    """An out-of-office reply naming ``return_date`` moves a pending nudge to the first
    working morning after it, when that date is within ``out_of_office_max_days`` of ``now``
    (a far-off or past date is more likely a misreading than a plan)."""
    today = cal.local(now).date()
    if not today <= return_date <= today + timedelta(days=timing.out_of_office_max_days):
        return due
    shifted = cal.morning(cal.next_working_day(return_date))
    return max(due, shifted)
