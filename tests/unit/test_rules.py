"""rules.py: when each step of the cycle falls, in the user's zone (docs/testing.md layer 1).

Fixed cases pin docs/rules.md's table to real dates (weekends, US holidays, the DST changes of
America/Chicago, Europe/Berlin and Australia/Sydney); hypothesis properties check the
invariants for random interview ends over several years and zones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.rules import (
    Timing,
    WorkCalendar,
    WorkingHours,
    after_out_of_office,
    follow_up_1_time,
    follow_up_2_time,
    holiday_dates,
    move_on_time,
    notes_time,
    thank_you_reminder_time,
)

CHI = ZoneInfo("America/Chicago")
BER = ZoneInfo("Europe/Berlin")
SYD = ZoneInfo("Australia/Sydney")
T = Timing()
US_HOLIDAYS = holiday_dates("US", range(2024, 2031))
PLAIN = WorkCalendar(CHI)
US = WorkCalendar(CHI, holidays=US_HOLIDAYS)


def at(tz: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz, fold=fold)


def same_instant(a: datetime, b: datetime) -> bool:
    """Equal as instants AND as local wall times (== alone compares wall times in one zone)."""
    return a.astimezone(UTC) == b.astimezone(UTC) and a.utcoffset() == b.utcoffset()


def wall_of(dt: datetime) -> tuple[date, time, timedelta | None]:
    """What a calendar app shows: local date, local time and the offset in force."""
    return dt.date(), dt.time(), dt.utcoffset()


def fu1(t0: datetime, cal: WorkCalendar = PLAIN, *, decision: date | None = None,
        few_days: bool = False, sent: datetime | None = None, timing: Timing = T) -> datetime:
    basis = sent or thank_you_reminder_time(t0, cal, timing)
    return follow_up_1_time(t0, decision_date=decision, few_days=few_days, thank_you_basis=basis,
                            cal=cal, timing=timing)


# --- notes and thank-you -------------------------------------------------------------------


def test_notes_reminder_is_exactly_fifteen_minutes_even_across_fall_back() -> None:
    t0 = at(CHI, 2026, 11, 1, 1, 50)  # 01:50 CDT, ten minutes before clocks go back
    due = notes_time(t0, T)
    assert due.astimezone(UTC) - t0.astimezone(UTC) == timedelta(minutes=15)
    assert (due.hour, due.minute, due.utcoffset()) == (1, 5, timedelta(hours=-6))


def test_notes_reminder_keeps_a_utc_input_in_utc() -> None:
    t0 = datetime(2026, 6, 9, 20, 0, tzinfo=UTC)
    assert notes_time(t0, T) == datetime(2026, 6, 9, 20, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("t0", "expected"),
    [
        (at(CHI, 2026, 5, 15, 16, 0), at(CHI, 2026, 5, 16, 9)),  # Friday -> Saturday, weekends count
        (at(CHI, 2026, 5, 15, 7, 30), at(CHI, 2026, 5, 15, 9)),  # before 08:00 -> that morning
        (at(CHI, 2026, 5, 15, 8, 0), at(CHI, 2026, 5, 16, 9)),  # 08:00 is no longer "before"
        (at(CHI, 2026, 5, 15, 23, 59), at(CHI, 2026, 5, 16, 9)),
        (at(CHI, 2026, 11, 25, 14), at(CHI, 2026, 11, 26, 9)),  # Thanksgiving still counts
    ],
)
def test_thank_you_reminder_is_the_next_calendar_morning(t0: datetime, expected: datetime) -> None:
    assert same_instant(thank_you_reminder_time(t0, US, T), expected)


def test_thank_you_reminder_accepts_t0_in_any_zone() -> None:
    t0 = datetime(2026, 5, 15, 21, 0, tzinfo=UTC)  # 16:00 in Chicago
    assert same_instant(thank_you_reminder_time(t0, PLAIN, T), at(CHI, 2026, 5, 16, 9))


def test_thank_you_reminder_never_precedes_an_early_interview_with_early_hours() -> None:
    cal = WorkCalendar(CHI, WorkingHours(start=time(7, 0), end=time(15, 0)))
    t0 = at(CHI, 2026, 5, 15, 7, 30)  # before 08:00 but after this user's 07:00 start
    assert same_instant(thank_you_reminder_time(t0, cal, T), at(CHI, 2026, 5, 16, 7))


def test_thank_you_reminder_on_the_morning_clocks_change() -> None:
    # Berlin springs forward on Sunday 2026-03-29: the reminder is 09:00 CEST, 12 h later.
    t0 = at(BER, 2026, 3, 28, 20)
    due = thank_you_reminder_time(t0, WorkCalendar(BER), T)
    assert wall_of(due) == (date(2026, 3, 29), time(9), timedelta(hours=2))
    assert due.astimezone(UTC) - t0.astimezone(UTC) == timedelta(hours=12)


# --- follow-up 1 ---------------------------------------------------------------------------


def test_follow_up_nothing_said_is_ten_days_after_the_reminder_moved_off_the_weekend() -> None:
    t0 = at(CHI, 2026, 6, 9, 15)  # Tuesday; reminder Wed 06-10 09:00; +10 = Saturday 06-20
    assert same_instant(fu1(t0), at(CHI, 2026, 6, 22, 9))


def test_follow_up_counts_from_the_real_sending_time() -> None:
    t0 = at(CHI, 2026, 6, 9, 15)
    assert same_instant(fu1(t0, sent=at(CHI, 2026, 6, 15, 11, 20)), at(CHI, 2026, 6, 25, 11, 20))
    # Sent in the evening: ten days later at 19:00 is after hours -> next working morning.
    assert same_instant(fu1(t0, sent=at(CHI, 2026, 6, 10, 19)), at(CHI, 2026, 6, 22, 9))


def test_follow_up_days_is_configurable() -> None:
    t0 = at(CHI, 2026, 6, 9, 15)
    assert same_instant(fu1(t0, timing=Timing(follow_up_days=14)), at(CHI, 2026, 6, 24, 9))


def test_follow_up_in_a_few_days_is_a_week_after_the_interview() -> None:
    t0 = at(CHI, 2026, 6, 9, 15)
    assert same_instant(fu1(t0, few_days=True), at(CHI, 2026, 6, 16, 15))
    late = at(CHI, 2026, 6, 9, 18)  # 18:00 a week later is after hours
    assert same_instant(fu1(late, few_days=True), at(CHI, 2026, 6, 17, 9))


def test_decision_date_on_a_friday_gives_monday_morning() -> None:
    t0 = at(CHI, 2026, 6, 9, 15)
    assert same_instant(fu1(t0, decision=date(2026, 6, 12)), at(CHI, 2026, 6, 15, 9))


@pytest.mark.parametrize(
    ("decision", "plain", "us"),
    [
        (date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)),  # Thanksgiving skipped
        (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)),  # Christmas (a Friday)
        (date(2026, 7, 2), date(2026, 7, 3), date(2026, 7, 6)),  # July 4th observed on the 3rd
    ],
)
def test_decision_grace_skips_us_holidays(decision: date, plain: date, us: date) -> None:
    t0 = at(CHI, 2026, 6, 9, 15)
    assert fu1(t0, PLAIN, decision=decision) == PLAIN.morning(plain)
    assert fu1(t0, US, decision=decision) == US.morning(us)
    assert fu1(t0, US, decision=decision).time() == time(9)


def test_follow_up_is_never_before_the_thank_you_reminder() -> None:
    t0 = at(CHI, 2026, 5, 15, 16)  # Friday; reminder Saturday 09:00
    # Decision "by Thursday" read as the day before: +1 business day = Friday, too early.
    assert same_instant(fu1(t0, decision=date(2026, 5, 14)), at(CHI, 2026, 5, 18, 9))
    # Zero days after a Wednesday reminder lands on the reminder itself: moved to Thursday.
    zero = Timing(follow_up_days=0)
    assert same_instant(fu1(at(CHI, 2026, 6, 9, 16), timing=zero), at(CHI, 2026, 6, 11, 9))


# --- follow-up 2 and move on ---------------------------------------------------------------


def test_call_is_three_business_days_after_follow_up_1_same_time() -> None:
    assert same_instant(follow_up_2_time(at(CHI, 2026, 6, 12, 10), PLAIN, T), at(CHI, 2026, 6, 17, 10))


def test_call_skips_thanksgiving() -> None:
    first = at(CHI, 2026, 11, 25, 10, 30)
    assert same_instant(follow_up_2_time(first, US, T), at(CHI, 2026, 12, 1, 10, 30))
    assert same_instant(follow_up_2_time(first, PLAIN, T), at(CHI, 2026, 11, 30, 10, 30))


def test_move_on_is_thirty_days_later_inside_working_hours() -> None:
    assert same_instant(move_on_time(at(CHI, 2026, 6, 9, 15), US, T), at(CHI, 2026, 7, 9, 15))
    # Thirty days after Wednesday 06-03 is Friday 07-03, July 4th observed -> Monday.
    assert same_instant(move_on_time(at(CHI, 2026, 6, 3, 11), US, T), at(CHI, 2026, 7, 6, 9))
    assert same_instant(move_on_time(at(CHI, 2026, 6, 3, 11), PLAIN, T), at(CHI, 2026, 7, 3, 11))


# --- out of office -------------------------------------------------------------------------


def test_out_of_office_moves_the_nudge_past_the_return_date() -> None:
    due, now = at(CHI, 2026, 6, 23, 10), at(CHI, 2026, 6, 22, 12)
    assert same_instant(after_out_of_office(due, date(2026, 6, 26), now, PLAIN, T),
                        at(CHI, 2026, 6, 29, 9))  # back Friday -> Monday morning
    assert same_instant(after_out_of_office(due, date(2026, 7, 2), now, US, T),
                        at(CHI, 2026, 7, 6, 9))  # back Thursday; Friday is a holiday


@pytest.mark.parametrize(
    "back",
    [date(2026, 8, 1), date(2026, 6, 20), date(2026, 6, 22)],  # too far, past, before `due`
)
def test_out_of_office_leaves_the_nudge_alone(back: date) -> None:
    due, now = at(CHI, 2026, 6, 29, 10), at(CHI, 2026, 6, 22, 12)
    assert after_out_of_office(due, back, now, PLAIN, T) is due


def test_out_of_office_limit_is_inclusive_and_configurable() -> None:
    due, now = at(CHI, 2026, 6, 23, 10), at(CHI, 2026, 6, 1, 12)
    assert after_out_of_office(due, date(2026, 7, 1), now, PLAIN, T) == PLAIN.morning(date(2026, 7, 2))
    assert after_out_of_office(due, date(2026, 7, 1), now, PLAIN, Timing(out_of_office_max_days=20)) is due


# --- the calendar itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (at(CHI, 2026, 6, 13, 12), at(CHI, 2026, 6, 15, 9)),  # Saturday -> Monday
        (at(CHI, 2026, 6, 15, 8), at(CHI, 2026, 6, 15, 9)),  # before start -> same morning
        (at(CHI, 2026, 6, 15, 12), at(CHI, 2026, 6, 15, 12)),  # inside: unchanged
        (at(CHI, 2026, 6, 15, 17, 29), at(CHI, 2026, 6, 15, 17, 29)),
        (at(CHI, 2026, 6, 15, 17, 30), at(CHI, 2026, 6, 16, 9)),  # the end is exclusive
        (at(CHI, 2026, 6, 12, 18), at(CHI, 2026, 6, 15, 9)),  # Friday evening -> Monday
        (at(CHI, 2026, 11, 25, 18), at(CHI, 2026, 11, 27, 9)),  # eve of Thanksgiving
    ],
)
def test_into_working_hours(dt: datetime, expected: datetime) -> None:
    assert same_instant(US.into_working_hours(dt), expected)


def test_custom_working_days() -> None:
    cal = WorkCalendar(CHI, WorkingHours(days=frozenset({6, 0, 1, 2, 3})))  # Sunday to Thursday
    assert same_instant(cal.into_working_hours(at(CHI, 2026, 6, 12, 10)), at(CHI, 2026, 6, 14, 9))
    assert cal.add_business_days(date(2026, 6, 11), 1) == date(2026, 6, 14)


def test_add_business_days() -> None:
    assert US.add_business_days(date(2026, 11, 25), 0) == date(2026, 11, 25)
    assert US.add_business_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # from a Saturday
    assert US.add_business_days(date(2026, 11, 20), 5) == date(2026, 11, 30)
    with pytest.raises(ValueError, match="negative"):
        US.add_business_days(date(2026, 11, 20), -1)


def test_a_calendar_without_working_days_raises() -> None:
    cal = WorkCalendar(CHI, WorkingHours(days=frozenset()))
    with pytest.raises(ValueError, match="no day is a working day"):
        cal.next_working_morning(at(CHI, 2026, 6, 12, 10))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        thank_you_reminder_time(datetime(2026, 6, 9, 15), PLAIN, T)
    with pytest.raises(ValueError, match="naive"):
        notes_time(datetime(2026, 6, 9, 15), T)


# --- DST ----------------------------------------------------------------------------------


def test_chicago_spring_forward() -> None:
    # 2026-03-08: 02:00 CST -> 03:00 CDT. Day arithmetic keeps the wall clock.
    later = PLAIN.add_days(at(CHI, 2026, 3, 5, 10), 7)
    assert wall_of(later) == (date(2026, 3, 12), time(10), timedelta(hours=-5))
    # A wall time in the gap moves forward by the gap (RFC 5545 §3.3.5), never back.
    gap = PLAIN.wall(date(2026, 3, 8), time(2, 30))
    assert (gap.time(), gap.utcoffset()) == (time(3, 30), timedelta(hours=-5))
    into_gap = PLAIN.add_days(at(CHI, 2026, 3, 7, 2, 30), 1)
    assert same_instant(into_gap, at(CHI, 2026, 3, 8, 3, 30))


def test_chicago_fall_back() -> None:
    # 2026-11-01: 02:00 CDT -> 01:00 CST. An ambiguous wall time is its first occurrence.
    twice = PLAIN.wall(date(2026, 11, 1), time(1, 30))
    assert twice.utcoffset() == timedelta(hours=-5)
    later = PLAIN.add_days(at(CHI, 2026, 10, 28, 10), 7)
    assert wall_of(later) == (date(2026, 11, 4), time(10), timedelta(hours=-6))
    # The second 01:30 (fold=1) plus one day is 01:30 on Monday.
    second = at(CHI, 2026, 11, 1, 1, 30, fold=1)
    assert same_instant(PLAIN.add_days(second, 1), at(CHI, 2026, 11, 2, 1, 30))
    # T0 Friday 10-30 16:00; 30 days later lands on Sunday 11-29 -> Monday 09:00 CST.
    assert same_instant(move_on_time(at(CHI, 2026, 10, 30, 16), PLAIN, T), at(CHI, 2026, 11, 30, 9))


def test_berlin_follow_up_across_autumn_change() -> None:
    cal = WorkCalendar(BER, holidays=holiday_dates("DE", [2026]))
    t0 = at(BER, 2026, 10, 22, 14)  # Thursday, CEST; clocks go back Sunday 10-25
    due = fu1(t0, cal, few_days=True)
    assert wall_of(due) == (date(2026, 10, 29), time(14), timedelta(hours=1))


def test_sydney_autumn_and_spring() -> None:
    cal = WorkCalendar(SYD, holidays=holiday_dates("AU-NSW", [2026]))
    # DST ends Sunday 2026-04-05 (AEDT +11 -> AEST +10).
    due = fu1(at(SYD, 2026, 4, 1, 10), cal, few_days=True)  # Wednesday -> Wednesday 04-08
    assert wall_of(due) == (date(2026, 4, 8), time(10), timedelta(hours=10))
    # DST starts Sunday 2026-10-04 at 02:00 -> 03:00; Monday 10-05 is Labour Day in NSW.
    gap = cal.wall(date(2026, 10, 4), time(2, 15))
    assert (gap.time(), gap.utcoffset()) == (time(3, 15), timedelta(hours=11))
    first = at(SYD, 2026, 10, 2, 11)  # Friday
    assert same_instant(follow_up_2_time(first, cal, T), at(SYD, 2026, 10, 8, 11))


# --- holidays ------------------------------------------------------------------------------


def test_us_holidays() -> None:
    us = holiday_dates("US", [2026])
    assert {date(2026, 11, 26), date(2026, 12, 25), date(2026, 7, 3)} <= us
    assert date(2026, 3, 31) not in us


def test_us_subdivision_adds_state_holidays() -> None:
    ca = holiday_dates("US-CA", [2026])
    assert date(2026, 3, 31) in ca  # Cesar Chavez Day, a California state holiday
    assert date(2026, 11, 26) in ca
    assert holiday_dates(" us-ca ", [2026]) == ca


def test_other_countries_and_years() -> None:
    assert date(2026, 12, 26) in holiday_dates("GB", [2026])  # Boxing Day
    assert date(2026, 10, 3) in holiday_dates("DE", [2026])  # German Unity Day
    assert {date(2025, 1, 1), date(2027, 1, 1)} <= holiday_dates("DE", [2025, 2027])


def test_no_country_means_no_holidays() -> None:
    assert holiday_dates(None, [2026]) == frozenset()
    assert holiday_dates("", [2026]) == frozenset()


@pytest.mark.parametrize("code", ["XX", "US-ZZ", "Narnia"])
def test_unknown_holiday_code_names_the_code(code: str) -> None:
    with pytest.raises(ValueError, match=repr(code)):
        holiday_dates(code, [2026])


# --- properties ----------------------------------------------------------------------------

ZONES = [
    "America/Chicago", "America/New_York", "America/St_Johns", "America/Santiago",
    "Europe/Berlin", "Europe/London", "Australia/Sydney", "Pacific/Auckland",
    "Asia/Kolkata", "Asia/Tokyo", "UTC",
]
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 5 * 366 * 24 * 60


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    start = time(draw(st.integers(6, 10)), draw(st.sampled_from([0, 30])))
    end = time(draw(st.integers(15, 20)), draw(st.sampled_from([0, 30])))
    days = draw(st.sampled_from([frozenset(range(5)), frozenset({6, 0, 1, 2, 3}),
                                 frozenset({1, 2, 3}), frozenset({5})]))
    holidays = US_HOLIDAYS if draw(st.booleans()) else frozenset()
    return WorkCalendar(zone, WorkingHours(start, end, days), holidays)


instants = st.integers(0, SPAN_MINUTES).map(lambda m: START + timedelta(minutes=m))
timings = st.builds(Timing, follow_up_days=st.integers(10, 14))


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), t0=instants, timing=timings, delay_hours=st.integers(0, 24 * 20),
       decision_offset=st.none() | st.integers(-10, 60), few_days=st.booleans())
def test_cycle_invariants(cal: WorkCalendar, t0: datetime, timing: Timing, delay_hours: int,
                          decision_offset: int | None, few_days: bool) -> None:
    reminder = thank_you_reminder_time(t0, cal, timing)
    assert timedelta(0) < reminder.astimezone(UTC) - t0 <= timedelta(hours=48)
    assert cal.local(reminder).time() == cal.hours.start

    local_day = cal.local(t0).date()
    decision = None if decision_offset is None else local_day + timedelta(days=decision_offset)
    sent = None if delay_hours == 0 else reminder + timedelta(hours=delay_hours)
    first = fu1(t0, cal, decision=decision, few_days=few_days, sent=sent, timing=timing)
    second = follow_up_2_time(first, cal, timing)
    move_on = move_on_time(t0, cal, timing)

    for due in (first, second, move_on):
        assert cal.is_working_time(due), cal.local(due)
    assert first.astimezone(UTC) > reminder.astimezone(UTC)
    assert second.astimezone(UTC) > first.astimezone(UTC)
    assert move_on.astimezone(UTC) >= cal.add_days(t0, timing.move_on_days).astimezone(UTC)
    assert notes_time(t0, timing) - t0 == timing.notes_after

    # Deterministic, and the zone the input happens to be written in changes nothing.
    again = fu1(t0.astimezone(cal.tz), cal, decision=decision, few_days=few_days, sent=sent,
                timing=timing)
    assert same_instant(first, again)
    assert same_instant(reminder, thank_you_reminder_time(t0.astimezone(cal.tz), cal, timing))
    assert same_instant(move_on, move_on_time(t0, cal, timing))


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), dt=instants)
def test_into_working_hours_is_the_earliest_working_instant(cal: WorkCalendar, dt: datetime) -> None:
    out = cal.into_working_hours(dt)
    assert cal.is_working_time(out)
    assert out.astimezone(UTC) >= dt
    if cal.is_working_time(dt):
        assert out.astimezone(UTC) == dt
        return
    # Nothing working was skipped: every day between is off, and `out` opens its day.
    loc, out_loc = cal.local(dt), cal.local(out)
    assert out_loc.time() == cal.hours.start
    day = loc.date() + timedelta(days=1)
    while day < out_loc.date():
        assert not cal.is_working_day(day)
        day += timedelta(days=1)
    if out_loc.date() != loc.date():
        assert not cal.is_working_day(loc.date()) or loc.time() >= cal.hours.end


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), dt=instants, n=st.integers(0, 40))
def test_day_arithmetic(cal: WorkCalendar, dt: datetime, n: int) -> None:
    later = cal.add_days(dt, n)
    loc = cal.local(dt)
    assert cal.local(later).date() == loc.date() + timedelta(days=n)
    elapsed = later.astimezone(UTC) - dt
    assert abs(elapsed - timedelta(days=n)) <= timedelta(hours=1)  # at most one DST shift

    end = cal.add_business_days(loc.date(), n)
    between = [loc.date() + timedelta(days=i) for i in range(1, (end - loc.date()).days + 1)]
    assert sum(cal.is_working_day(d) for d in between) == n
    assert n == 0 or cal.is_working_day(end)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), due=instants, now=instants, back_offset=st.integers(-5, 45))
def test_out_of_office_never_pulls_a_nudge_earlier(cal: WorkCalendar, due: datetime, now: datetime,
                                                   back_offset: int) -> None:
    back = cal.local(now).date() + timedelta(days=back_offset)
    out = after_out_of_office(due, back, now, cal, T)
    assert out.astimezone(UTC) >= due
    if out is not due:
        assert cal.is_working_time(out)
        assert cal.local(out).date() > back
        assert 0 <= back_offset <= T.out_of_office_max_days
