"""When each step of the cycle happens: working hours, business days, zones, holidays (pure).

All day arithmetic is done on the wall clock of the user's zone, so "10 days later at 10:00"
stays at 10:00 across a DST change, and the result is converted back with the zone's rules.
A wall time that does not exist (the spring-forward gap) or exists twice (the fall-back
hour) is read the way RFC 5545 §3.3.5 reads such DATE-TIMEs: with the UTC offset in force
before the transition, so a time in the gap moves forward by the gap's length and an
ambiguous time is its first occurrence
(https://www.rfc-editor.org/rfc/rfc5545#section-3.3.5).

Python compares and subtracts two datetimes that share a ``tzinfo`` by their wall times,
ignoring the offset (https://docs.python.org/3/library/datetime.html#datetime.datetime,
"naive and aware" comparison rules), so every ordering here goes through UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Ten years of days off is beyond any real calendar; past it the configuration is broken.
_MAX_SEARCH_DAYS = 3700


@dataclass(frozen=True)
class WorkingHours:
    """The working day ``[start, end)`` on the weekdays in ``days`` (Monday = 0)."""

    start: time = time(9, 0)
    end: time = time(17, 30)
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0


@dataclass(frozen=True)
class Timing:
    """docs/rules.md's delays; config/loader.py maps the YAML ``timing`` section onto these."""

    notes_after: timedelta = timedelta(minutes=15)
    thank_you_same_day_before: time = time(8, 0)
    few_days: int = 7
    follow_up_days: int = 10
    decision_grace_business_days: int = 1
    call_after_business_days: int = 3
    move_on_days: int = 30
    out_of_office_max_days: int = 30


def _utc(dt: datetime) -> datetime:
    """``dt`` as a UTC instant; raises ValueError for a naive datetime."""
    if dt.tzinfo is UTC:
        return dt  # the common case (stored and provider times are UTC): nothing to convert
    if dt.tzinfo is None or dt.utcoffset() is None:
        # astimezone() would silently read a naive value in the machine's zone.
        raise ValueError(f"naive datetime {dt.isoformat()}: the rules need timezone-aware times")
    return dt.astimezone(UTC)


def _later(a: datetime, b: datetime) -> datetime:
    """The later of two instants (compared in UTC, not by wall time)."""
    return a if _utc(a) >= _utc(b) else b


@dataclass(frozen=True)
class WorkCalendar:
    """The user's working time: zone, hours, working weekdays and public holidays."""

    tz: ZoneInfo
    hours: WorkingHours = field(default_factory=WorkingHours)
    holidays: frozenset[date] = frozenset()
    # A pass over thousands of interviews asks for the same few dozen dates again and again.
    # These memos hold answers that depend only on the fields above, so they never change a
    # result; they are left out of equality and hashing.
    _walls: dict[tuple[date, time], datetime] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    _next_days: dict[date, date] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def local(self, dt: datetime) -> datetime:
        """``dt`` in the user's zone. Raises ValueError for a naive datetime."""
        return _utc(dt).astimezone(self.tz)

    def wall(self, d: date, t: time) -> datetime:
        """``d`` at wall time ``t`` in the zone (RFC 5545 reading of gaps and repeats)."""
        found = self._walls.get((d, t))
        if found is None:
            # fold=0 uses the offset before a transition; the UTC round trip normalises a
            # time in the gap to the real wall time after it (02:30 -> 03:30 in spring).
            naive = datetime.combine(d, t.replace(tzinfo=None))
            found = naive.replace(tzinfo=self.tz, fold=0).astimezone(UTC).astimezone(self.tz)
            self._walls[(d, t)] = found
        return found

    def is_working_day(self, d: date) -> bool:
        """A weekday in ``hours.days`` that is not a public holiday."""
        return d.weekday() in self.hours.days and d not in self.holidays

    def is_working_time(self, dt: datetime) -> bool:
        """Inside ``[hours.start, hours.end)`` on a working day, in the user's zone."""
        loc = self.local(dt)
        return self.is_working_day(loc.date()) and self.hours.start <= loc.time() < self.hours.end

    def morning(self, d: date) -> datetime:
        """The start of working hours on ``d``, tz-aware."""
        return self.wall(d, self.hours.start)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``.

        Raises ValueError when no day is a working day (empty ``days`` or endless holidays).
        """
        found = self._next_days.get(d)
        if found is None:
            found = self._next_days[d] = self._search_working_day(d)
        return found

    def _search_working_day(self, d: date) -> date:
        if not self.hours.days:
            raise ValueError("working_hours.days is empty: no day is a working day")
        for offset in range(1, _MAX_SEARCH_DAYS):
            candidate = d + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError("no working day in ten years: check working_hours and holidays")

    def next_working_morning(self, after: datetime) -> datetime:
        """The morning of the first working day after ``after``'s local date.

        Raises ValueError as :meth:`next_working_day` does, or for a naive ``after``.
        """
        return self.morning(self.next_working_day(self.local(after).date()))

    def into_working_hours(self, dt: datetime) -> datetime:
        """``dt`` (in the zone) if it is inside working hours on a working day; else the
        next working morning, which is that same morning when ``dt`` is before the start
        of a working day. Raises ValueError as :meth:`next_working_day` does."""
        loc = self.local(dt)
        if self.is_working_day(loc.date()):
            if loc.time() < self.hours.start:
                return self.morning(loc.date())
            if loc.time() < self.hours.end:
                return loc
        return self.next_working_morning(loc)

    def add_business_days(self, d: date, n: int) -> date:
        """``n`` working days after ``d`` (``d`` itself need not be a working day).

        Raises ValueError for a negative ``n`` or as :meth:`next_working_day` does.
        """
        if n < 0:
            raise ValueError(f"cannot add a negative number of business days ({n})")
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def add_days(self, dt: datetime, n: int) -> datetime:
        """``n`` calendar days later at the same wall-clock time in the zone."""
        loc = self.local(dt)
        return self.wall(loc.date() + timedelta(days=n), loc.time())


def holiday_dates(country: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of ``country`` ("US", "GB", "DE", or "US-CA" for a subdivision)
    in ``years``, from the ``holidays`` package; empty when ``country`` is empty.

    Raises ValueError naming the code when the package does not know the country or the
    subdivision.
    """
    if not country:
        return frozenset()
    # Imported here: loading the package's country tables costs time that a config
    # without holidays should not pay.
    import holidays as holidays_lib

    code, _, subdiv = country.strip().upper().partition("-")
    try:
        # country_holidays raises NotImplementedError for an unknown country (holidays/utils.py)
        # and for an unknown subdivision (holidays/holiday_base.py), as of holidays 0.109
        # (https://github.com/vacanza/holidays).
        found = holidays_lib.country_holidays(code, subdiv=subdiv or None, years=list(years))
    except (NotImplementedError, KeyError, ValueError) as exc:
        raise ValueError(
            f"unknown public-holiday code {country!r} (use e.g. US, GB, DE or US-CA): {exc}"
        ) from exc
    return frozenset(found.keys())


def notes_time(t0: datetime, timing: Timing) -> datetime:
    """The notes reminder: exactly ``notes_after`` of elapsed time after the interview ends
    (added in UTC, so a DST change in between does not stretch it), in ``t0``'s zone.

    Raises ValueError for a naive ``t0``.
    """
    return (_utc(t0) + timing.notes_after).astimezone(t0.tzinfo)


def thank_you_reminder_time(t0: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    """The start of working hours on the next calendar day, weekends and holidays
    included (the seeds' 24-48 h window); that same morning when the interview ended
    before ``thank_you_same_day_before`` and the morning is still ahead of it.

    Raises ValueError for a naive ``t0``.
    """
    loc = cal.local(t0)
    if loc.time() < timing.thank_you_same_day_before:
        same_day = cal.morning(loc.date())
        if _utc(same_day) > _utc(t0):
            return same_day
    return cal.morning(loc.date() + timedelta(days=1))


def follow_up_1_time(
    t0: datetime, *, decision_date: date | None, few_days: bool, thank_you_basis: datetime,
    cal: WorkCalendar, timing: Timing, thank_you_reminder: datetime | None = None,
) -> datetime:
    """Follow-up 1: the morning ``decision_grace_business_days`` after a decision date;
    for "in a few days", ``few_days`` after T0; otherwise ``follow_up_days`` after
    ``thank_you_basis`` (when the thank-you was sent, or its reminder while unsent).
    Always inside working hours and never before the thank-you reminder: a time that
    would be is moved to the next working morning after the reminder.
    ``thank_you_reminder``: that reminder's time when the caller already has it.

    Raises ValueError for naive datetimes or a calendar without working days.
    """
    if decision_date is not None:
        day = cal.add_business_days(decision_date, timing.decision_grace_business_days)
        due = cal.into_working_hours(cal.morning(day))
    elif few_days:
        due = cal.into_working_hours(cal.add_days(t0, timing.few_days))
    else:
        due = cal.into_working_hours(cal.add_days(thank_you_basis, timing.follow_up_days))
    floor = thank_you_reminder or thank_you_reminder_time(t0, cal, timing)
    if _utc(due) <= _utc(floor):
        due = cal.next_working_morning(floor)
    return due


def follow_up_2_time(fu1: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    """Follow-up 2 (the call): ``call_after_business_days`` after follow-up 1's local
    date, at the same wall time, moved into working hours.

    Raises ValueError for a naive ``fu1`` or a calendar without working days.
    """
    loc = cal.local(fu1)
    day = cal.add_business_days(loc.date(), timing.call_after_business_days)
    return cal.into_working_hours(cal.wall(day, loc.time()))


def move_on_time(t0: datetime, cal: WorkCalendar, timing: Timing) -> datetime:
    """The move-on reminder: ``move_on_days`` after T0, moved into working hours.

    Raises ValueError for a naive ``t0`` or a calendar without working days.
    """
    return cal.into_working_hours(cal.add_days(t0, timing.move_on_days))


def after_out_of_office(
    due: datetime, return_date: date, now: datetime, cal: WorkCalendar, timing: Timing
) -> datetime:
    """An out-of-office reply naming ``return_date`` moves a pending nudge to the first
    working morning after it, when that date lies between ``now``'s local date and
    ``out_of_office_max_days`` later (a past or far-off date is more likely a misreading
    than a plan). The nudge never moves earlier: ``due`` is returned when it is later.

    Raises ValueError for naive datetimes or a calendar without working days.
    """
    today = cal.local(now).date()
    if not today <= return_date <= today + timedelta(days=timing.out_of_office_max_days):
        return due
    return _later(due, cal.morning(cal.next_working_day(return_date)))
