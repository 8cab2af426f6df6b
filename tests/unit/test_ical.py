"""parse_calendar on real calendars from other projects (tests/data/ics) and on inline calendars;
the reminders file round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from inbox_followup.core.model import CalendarEvent, Problem, ReminderContent, SyncWindow
from inbox_followup.errors import ItemError
from inbox_followup.formats import ical, reminders_ics

CORPUS = Path(__file__).resolve().parents[1] / "data" / "ics"
CORPUS_FILES = sorted(CORPUS.rglob("*.ics"))
BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")
WIDE = SyncWindow(datetime(1995, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def parse(data: bytes, *, source: str = "test.ics", window: SyncWindow = WIDE,
          tz: ZoneInfo = BERLIN, me: frozenset[str] = frozenset()
          ) -> tuple[list[CalendarEvent], list[Problem]]:
    return ical.parse_calendar(data, source, window, default_tz=tz, self_addresses=me)


def corpus(name: str, **kw: object) -> tuple[list[CalendarEvent], list[Problem]]:
    return parse((CORPUS / name).read_bytes(), source=name, **kw)  # type: ignore[arg-type]


def cal(*lines: str, header: tuple[str, ...] = ()) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *header, *lines,
            "END:VCALENDAR"]
    return ("\r\n".join(body) + "\r\n").encode()


def vevent(uid: str | None = "u1", start: str = "DTSTART:20260504T150000Z",
           end: str = "DTEND:20260504T160000Z", *extra: str) -> tuple[str, ...]:
    uid_line = (f"UID:{uid}",) if uid else ()
    return ("BEGIN:VEVENT", *uid_line, start, end, "SUMMARY:Phone screen", *extra, "END:VEVENT")


def by_id(events: list[CalendarEvent]) -> dict[str, CalendarEvent]:
    return {e.id: e for e in events}


# --- the corpus --------------------------------------------------------------------------------


def test_corpus_is_there() -> None:
    assert len(CORPUS_FILES) >= 30, f"test calendars missing at {CORPUS}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file_parses_or_says_why(path: Path) -> None:
    try:
        events, problems = parse(path.read_bytes(), source=path.name)
    except ItemError as exc:
        assert path.name in str(exc)
        return
    ids = [e.id for e in events]
    assert len(ids) == len(set(ids))
    for e in events:
        assert e.start.tzinfo is not None and e.end.tzinfo is not None
        assert e.start <= e.end
        assert WIDE.start <= e.end and e.start <= WIDE.end
    assert all(p.where.startswith(path.name) for p in problems)
    if len(events) < 1000:  # (the decades-long daily series make a second pass slow)
        again, _ = parse(path.read_bytes(), source=path.name)
        assert by_id(again) == by_id(events)  # ids and content stable across reparses


def test_windows_zone_name_in_tzid() -> None:
    # khal's file pairs the Windows name with a made-up VTIMEZONE; the name wins (khal too
    # expects Pacific/Auckland): 13:00 NZDT is 00:00 UTC.
    [event], problems = corpus("khal/tz_windows_format.ics")
    assert problems == []
    assert event.start == datetime(2019, 11, 20, 0, 0, tzinfo=UTC)
    assert event.start.tzinfo == ZoneInfo("Pacific/Auckland")
    assert event.end - event.start == timedelta(minutes=90)


def test_windows_zone_without_vtimezone() -> None:
    data = cal(*vevent("w", "DTSTART;TZID=FLE Standard Time:20260504T100000",
                       'DTEND;TZID="Pacific Standard Time":20260504T100000'))
    [event], problems = parse(data)
    assert problems == []
    assert event.start == datetime(2026, 5, 4, 7, 0, tzinfo=UTC)  # Kyiv, UTC+3 in May
    assert event.end == datetime(2026, 5, 4, 17, 0, tzinfo=UTC)  # Los Angeles, UTC-7


def test_google_x_wr_timezone_puts_utc_times_in_the_calendar_zone() -> None:
    events, _ = corpus("python-recurring-ical-events/x_wr_timezone_simple_events_issue_59.ics")
    starts = sorted(e.start for e in events)
    new_york = ZoneInfo("America/New_York")
    assert [s.tzinfo for s in starts] == [new_york, new_york]
    assert [(s.hour, s.day) for s in starts] == [(12, 22), (21, 22)]


def test_floating_times_follow_x_wr_timezone_not_the_default() -> None:
    path = "python-recurring-ical-events/issue_86_x_wr_timezone_without_time_zone_in_dt.ics"
    [event], _ = corpus(path, tz=CHICAGO)
    assert event.start == datetime(2021, 9, 16, 21, 0, tzinfo=ZoneInfo("Europe/Brussels"))


def test_floating_times_without_x_wr_timezone_use_the_default_zone() -> None:
    [event], _ = corpus("khal/event_dt_floating.ics", tz=CHICAGO)  # a bare VEVENT, no VCALENDAR
    assert event.start == datetime(2014, 4, 9, 9, 30, tzinfo=CHICAGO)


def test_cancelled_instance_and_moved_instance_of_a_series() -> None:
    events, problems = corpus("khal/event_rrule_recuid_cancelled.ics")
    assert problems == []
    found = by_id(events)
    assert len(found) == 6
    moved = found["event_rrule_recurrence_id/20140707T050000Z"]
    assert moved.start == datetime(2014, 7, 7, 9, 0, tzinfo=BERLIN)  # moved from 07:00
    assert found["event_rrule_recurrence_id/20140714T050000Z"].status == "CANCELLED"
    assert sum(e.status == "CANCELLED" for e in events) == 1
    assert all(e.uid == "event_rrule_recurrence_id" for e in events)


def test_thunderbird_cancelled_occurrence() -> None:
    events, _ = corpus("python-recurring-ical-events/issue_18_cancel_status.ics")
    assert [e.status for e in sorted(events, key=lambda e: e.start)] == [
        "CONFIRMED", "CANCELLED", "CONFIRMED"]


def test_orphan_overrides_without_master() -> None:
    events, _ = corpus("khal/event_dt_multi_recuid_no_master.ics")
    assert sorted(e.id.split("/")[1] for e in events) == ["20140707T033000Z", "20140714T033000Z"]


def test_attendees_partstat_names_and_self() -> None:
    [event], _ = corpus("khal/event_dt_partstat.ics", me=frozenset({"JDoe@Example.com"}))
    people = {a.email: a for a in event.attendees}
    assert len(people) == 6
    assert people["hcabot@example.com"].name == "Henry Cabot"
    assert people["hcabot@example.com"].partstat == "TENTATIVE"
    assert people["iamboss@example.com"].partstat == "DELEGATED"
    assert people["another@example.com"].partstat == "DECLINED"
    assert people["jqpublic@example.com"].name is None
    assert people["jdoe@example.com"].is_self
    assert sum(a.is_self for a in event.attendees) == 1
    assert {a.cutype for a in event.attendees} == {"INDIVIDUAL"}


def test_upper_case_mailto_and_non_ascii_names() -> None:
    [event], _ = corpus("icalendar/property_params.ics")
    assert {a.email for a in event.attendees} == {
        "rembrand@xs4all.nl", "rembrand@daxlab.com", "rembspam@xs4all.nl"}
    assert event.all_day
    [event], _ = corpus("icalendar/issue_101_icalendar_chokes_on_umlauts_in_organizer.ics")
    assert event.organizer is not None
    assert event.organizer.name == "acme, ädmin"
    assert event.organizer.email == "adm-acme@mydomain.de"


def test_event_without_uid_gets_a_stable_synthetic_one() -> None:
    data = (CORPUS / "khal/without_uid.ics").read_bytes()
    [first], _ = parse(data, source="a.ics")
    [again], _ = parse(data, source="a.ics")
    [other], _ = parse(data, source="b.ics")
    assert first.uid.startswith("nouid-") and first.id == first.uid == again.id
    assert other.id != first.id
    assert first.all_day
    assert (first.start, first.end) == (datetime(2014, 4, 9, tzinfo=BERLIN),
                                        datetime(2014, 4, 10, tzinfo=BERLIN))


def test_byte_order_mark() -> None:
    assert corpus("icalendar/bom_calendar.ics") == ([], [])


def test_tzid_without_vtimezone_and_events_without_dtstart() -> None:
    events, problems = corpus("icalendar/issue_722_missing_timezones.ics")
    ny = [e for e in events if e.start.tzinfo == ZoneInfo("America/New_York")]
    assert ny and ny[0].start == datetime(2014, 8, 29, 12, 0, tzinfo=UTC)
    assert [p.message for p in problems] == ["no DTSTART", "no DTSTART"]


def test_custom_vtimezone() -> None:
    [event], _ = corpus("icalendar/issue_218_bad_tzid.ics")
    assert event.start == datetime(2017, 2, 28, 12, 0, tzinfo=UTC)  # 23:00 at UTC+11


def test_google_export_with_95_events() -> None:
    events, problems = corpus("icalevents/basic.ics")
    assert len(events) == 95 and problems == []


def test_broken_rdate_costs_only_its_series() -> None:
    events, problems = corpus("ical.js/google_birthday.ics")
    assert events
    assert len(problems) == 1 and "recurring" in problems[0].message


# --- inline calendars --------------------------------------------------------------------------


def test_unknown_tzid_falls_back_to_default_zone_with_a_problem() -> None:
    data = cal(*vevent("x1", "DTSTART;TZID=Mars/Olympus:20260504T100000",
                       "DTEND;TZID=Mars/Olympus:20260504T110000"))
    [event], [problem] = parse(data, tz=CHICAGO)
    assert event.start == datetime(2026, 5, 4, 10, 0, tzinfo=CHICAGO)
    assert problem.where == "test.ics: event 'Phone screen' (x1)"
    assert "Mars/Olympus" in problem.message


def test_bad_dtstart_skips_only_that_event() -> None:
    data = cal(*vevent("bad", "DTSTART:2026XX04T100000Z"), *vevent("good"))
    events, [problem] = parse(data)
    assert [e.id for e in events] == ["good"]
    assert problem.where == "test.ics: event 'Phone screen' (bad)"
    assert "DTSTART" in problem.message


@pytest.mark.parametrize("data", [
    b"", b"hello world", b"\x00\x01\x02", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n",
    b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260504T100000Z\r\nEND:VEVENT\r\n",
    b"END:VCALENDAR\r\n", b"BEGIN:VCARD\r\nFN:Jane\r\nEND:VCARD\r\n", "caf\u00e9".encode(),
    b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
], ids=["empty", "text", "binary", "no-end", "truncated", "end-only", "vcard", "latin",
        "garbage-line"])
def test_not_a_calendar_raises_item_error_naming_the_source(data: bytes) -> None:
    with pytest.raises(ItemError) as caught:
        parse(data, source="cal/work.ics")
    assert caught.value.where == "cal/work.ics"


def test_recurring_ids_use_the_original_start_and_survive_a_move() -> None:
    master = vevent("s1", "DTSTART;TZID=America/Chicago:20260504T090000",
                    "DTEND;TZID=America/Chicago:20260504T093000", "RRULE:FREQ=DAILY;COUNT=3")
    before, _ = parse(cal(*master))
    moved = ("BEGIN:VEVENT", "UID:s1", "RECURRENCE-ID;TZID=America/Chicago:20260505T090000",
             "DTSTART;TZID=America/Chicago:20260505T140000",
             "DTEND;TZID=America/Chicago:20260505T150000", "SUMMARY:Moved", "END:VEVENT")
    after, _ = parse(cal(*master, *moved))
    assert sorted(by_id(before)) == sorted(by_id(after)) == [
        "s1/20260504T140000Z", "s1/20260505T140000Z", "s1/20260506T140000Z"]
    assert by_id(after)["s1/20260505T140000Z"].start == datetime(2026, 5, 5, 14, tzinfo=CHICAGO)


def test_exdate_and_window() -> None:
    series = vevent("s2", "DTSTART:20260101T100000Z", "DTEND:20260101T110000Z",
                    "RRULE:FREQ=WEEKLY", "EXDATE:20260115T100000Z")
    window = SyncWindow(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC))
    events, _ = parse(cal(*series), window=window)
    assert sorted(e.start.day for e in events) == [1, 8, 22, 29]


# --- recurrence bounds: ical_prescan.series_refusal --------------------------------------------

SPRING = SyncWindow(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC))  # 240 d


@pytest.mark.parametrize(("start", "extra", "says"), [
    # 345,600 occurrences when expanded (15 s and 662 MB before the bound); now none at all
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=MINUTELY", "more than once a day"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=SECONDLY;COUNT=100000", "more than once a day"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=HOURLY;INTERVAL=2", "more than once a day"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=DAILY;BYHOUR=9,17", "more than once a day"),
    ("DTSTART:20200101T000000Z", "RRULE:FREQ=MINUTELY;UNTIL=20200301T000000Z", "step through"),
    ("DTSTART:00010101T150000Z", "RRULE:FREQ=DAILY", "to step through"),
    ("DTSTART;VALUE=DATE:20250101", "RRULE:FREQ=DAILY\r\nDURATION:P3000D", "twice a daily"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=MINUTELY;UNTIL=2030-01-01", "cannot read RRULE"),
    # dateutil looks for the first of these day by day to the year 9999: about 3 s each
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "never occur"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31", "never occur"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=YEARLY;BYMONTH=1;BYYEARDAY=100", "never occur"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=MONTHLY;BYDAY=6FR", "never occur"),
    ("DTSTART:20260504T150000Z", "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=7", "never occur"),
], ids=["minutely", "secondly", "every-2-hours", "twice-a-day", "walk-to-window", "year-1",
        "long-duration", "dashed-until", "february-30", "april-june-31", "yearday-100-in-january",
        "sixth-friday", "seventh-monday"])
def test_a_series_that_would_flood_is_left_out_unexpanded_and_named(start: str, extra: str,
                                                                    says: str) -> None:
    flood = vevent("flood", start, "DURATION:PT30M", *extra.split("\r\n"))
    if "DURATION:P3000D" in extra:
        flood = tuple(x for x in flood if x != "DURATION:PT30M")
    events, [problem] = parse(cal(*flood, *vevent("good")), window=SPRING)
    assert [e.id for e in events] == ["good"]  # the rest of the file is read as usual
    assert problem.where == "test.ics: event 'Phone screen' (flood)"
    assert says in problem.message


@pytest.mark.parametrize(("start", "rule", "count"), [
    ("DTSTART:20260504T150000Z", "FREQ=HOURLY;COUNT=8", 8),  # an onsite day of hourly slots
    ("DTSTART:20260504T150000Z", "FREQ=MINUTELY;INTERVAL=30;UNTIL=20260504T170000Z", 5),
    ("DTSTART:20260504T150000Z", "FREQ=HOURLY;INTERVAL=24", 176),  # daily, spelled hourly
    ("DTSTART:19000101T150000Z", "FREQ=DAILY", 240),  # every day of the window, from 1900
    ("DTSTART:20260101T150000Z", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", 240),
    ("DTSTART;VALUE=DATE:16040504", "FREQ=YEARLY", 1),  # Apple's birthdays without a year
    # tight but possible: a leap year, a month with five Fridays, the last of something
    # (DTSTART, 4 May, is always the first occurrence: RFC 5545 3.8.5.3)
    ("DTSTART:20240229T150000Z", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", 0),
    ("DTSTART:20260504T150000Z", "FREQ=MONTHLY;BYDAY=5FR", 3),  # 29 May, 31 July
    ("DTSTART:20260504T150000Z", "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1", 6),  # 29 May to 25 Sep
    ("DTSTART:20260504T150000Z", "FREQ=MONTHLY;BYMONTHDAY=-1", 6),  # 31 May to 30 Sep
], ids=["hourly-block", "half-hourly-block", "hourly-24", "daily-1900", "weekly-7", "yearly-1604",
        "february-29", "fifth-friday", "last-friday", "last-day"])
def test_series_within_the_bounds_are_read_in_full(start: str, rule: str, count: int) -> None:
    events, problems = parse(cal(*vevent("s", start, "DURATION:PT30M", f"RRULE:{rule}")),
                             window=SPRING)
    assert problems == []
    assert len(events) == count


_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_UNIT = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3_600, "DAILY": 86_400, "WEEKLY": 604_800,
         "MONTHLY": 2_419_200, "YEARLY": 31_536_000}


_RANK = {name: i for i, name in enumerate(_UNIT)}  # SECONDLY=0 ... YEARLY=6
_PARTS = (("BYSECOND", 0, range(60)), ("BYMINUTE", 1, range(60)), ("BYHOUR", 2, range(24)),
          ("BYMONTH", 5, range(1, 13)), ("BYDAY", 3, _DAYS), ("BYMONTHDAY", 3, [1, 2, 15, 28, -1]))


@st.composite
def _rule(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(list(_UNIT)))
    interval = draw(st.one_of(st.just(1), st.integers(2, 30)))
    parts = [f"FREQ={freq}", f"INTERVAL={interval}"]
    # dateutil steps on to the year 9999 when a rule can never match (38 s for one), so none
    # here can: a BY part at or above FREQ's own unit (a filter) only with INTERVAL=1, only
    # month days every month has, and no nth weekday beside them.
    for name, rank, values in _PARTS:
        if rank >= _RANK[freq] and interval > 1:
            continue
        if name == "BYDAY" and freq in ("MONTHLY", "YEARLY"):
            values = [*values, "1MO", "-1FR", "1SU"]
        nth = parts[-1].startswith("BYDAY=") and any(c.isdigit() for c in parts[-1])
        chosen = draw(st.lists(st.sampled_from(list(values)), max_size=4, unique=True))
        if chosen and not (name == "BYMONTHDAY" and nth) and draw(st.booleans()):
            parts.append(f"{name}={','.join(map(str, chosen))}")
    if draw(st.booleans()):
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    return ";".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rule(), st.integers(0, 40), st.integers(0, 60), st.integers(0, 400))
def test_the_bound_is_never_below_the_real_expansion(text: str, before: int, span: int,
                                                     day: int) -> None:
    from dateutil.rrule import rrulestr
    from icalendar import vRecur

    from inbox_followup.formats import ical_prescan

    rule = vRecur.from_ical(text)
    unit = timedelta(seconds=_UNIT[str(rule["FREQ"][0])])
    start = datetime(2026, 1, 1, 9, 30, tzinfo=BERLIN) + timedelta(days=day)  # crosses DST
    low = (start + before * unit).astimezone(UTC)
    high = low + span * unit
    try:
        expansion = rrulestr(text, dtstart=start)
    except ValueError:  # "byxxx generates an empty set": recurring-ical-events fails as well
        assume(False)
    starts = []
    try:
        for occurrence in expansion:
            if occurrence > high:
                break
            if occurrence >= low:
                starts.append(occurrence)
    except ValueError:  # "interval and byhour resulting in empty rule", found only while stepping
        assume(False)
    assert len(starts) <= ical_prescan.starts_between(rule, start, low, high)
    per_day: dict[object, int] = {}
    for occurrence in starts:
        per_day[occurrence.date()] = per_day.get(occurrence.date(), 0) + 1
    assert max(per_day.values(), default=0) <= ical_prescan.times_per_day(rule)


def test_single_events_outside_the_window_are_left_out() -> None:
    window = SyncWindow(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 31, tzinfo=UTC))
    data = cal(*vevent("before", "DTSTART:20260401T100000Z", "DTEND:20260401T110000Z"),
               *vevent("inside"),
               *vevent("edge", "DTSTART:20260430T230000Z", "DURATION:PT2H"),
               *vevent("after", "DTSTART;VALUE=DATE:20260610", "DTEND;VALUE=DATE:20260611"),
               *vevent("far", "DTSTART:20990101T100000Z", "DTEND:20990101T110000Z"))
    events, problems = parse(data, window=window)
    assert sorted(e.id for e in events) == ["edge", "inside"]
    assert problems == []


def test_method_cancel_and_status() -> None:
    data = cal(*vevent("c1"), header=("METHOD:CANCEL",))
    [event], _ = parse(data)
    assert event.status == "CANCELLED"
    [event], _ = parse(cal(*vevent("c2", "DTSTART:20260504T150000Z", "DTEND:20260504T160000Z",
                                   "STATUS:tentative")))
    assert event.status == "TENTATIVE"


def test_key_property_and_people_without_addresses() -> None:
    data = cal(*vevent("k1", "DTSTART:20260504T150000Z", "DTEND:20260504T160000Z",
                       "X-INBOX-FOLLOWUP-KEY:ifu-abc-notes_reminder-self",
                       "ORGANIZER;CN=Recruiter:MAILTO:Recruiter@ACME.com",
                       "ATTENDEE;CN=No Mail:urn:uuid:1234",
                       "ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@resource.calendar.google.com",
                       "ATTENDEE;CN=Zoë Ñandú;PARTSTAT=ACCEPTED:mailto:zoe@acme.com"))
    [event], _ = parse(data)
    assert event.key == "ifu-abc-notes_reminder-self"
    assert event.organizer is not None and event.organizer.email == "recruiter@acme.com"
    assert [(a.email, a.name, a.cutype, a.partstat) for a in event.attendees] == [
        ("room4@resource.calendar.google.com", "Room 4", "ROOM", "NEEDS-ACTION"),
        ("zoe@acme.com", "Zoë Ñandú", "INDIVIDUAL", "ACCEPTED")]


def test_each_file_reads_its_own_vtimezone() -> None:
    """icalendar caches custom VTIMEZONEs process-wide; the first file must not bend the next."""

    def custom(offset: str) -> bytes:
        zone = ("BEGIN:VTIMEZONE", "TZID:Office Time", "BEGIN:STANDARD",
                "DTSTART:19700101T000000", f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}",
                "END:STANDARD", "END:VTIMEZONE")
        return cal(*zone, *vevent("o", "DTSTART;TZID=Office Time:20260504T100000",
                                  "DTEND;TZID=Office Time:20260504T110000"))

    [plus5], _ = parse(custom("+0500"))
    [plus1], _ = parse(custom("+0100"))
    assert plus5.start == datetime(2026, 5, 4, 5, tzinfo=UTC)
    assert plus1.start == datetime(2026, 5, 4, 9, tzinfo=UTC)


_EVERY_MINUTE = ";".join(f"{part}={','.join(map(str, range(n)))}"
                         for part, n in (("BYHOUR", 24), ("BYMINUTE", 60)))


@pytest.mark.parametrize("rule", ["RRULE:FREQ=MINUTELY", "RRULE:FREQ=DAILY",
                                  f"RRULE:FREQ=YEARLY;{_EVERY_MINUTE}"],
                         ids=["minutely", "daily", "yearly-every-minute-of-a-day"])
def test_a_vtimezone_that_changes_more_than_yearly_is_not_used(rule: str) -> None:
    # icalendar expands an observance's RRULE to 2038 to build the zone (and dateutil again on
    # every utcoffset): with FREQ=MINUTELY that took 343 s. Real zones change at most yearly.
    zone = ("BEGIN:VTIMEZONE", "TZID:Office Time", "BEGIN:STANDARD", "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0500", "TZOFFSETTO:+0500", rule, "END:STANDARD", "END:VTIMEZONE")
    [event], [problem] = parse(cal(*zone, *vevent("o", "DTSTART;TZID=Office Time:20260504T100000",
                                                  "DTEND;TZID=Office Time:20260504T110000")))
    assert event.start == datetime(2026, 5, 4, 10, tzinfo=BERLIN)  # the default zone instead
    assert "unknown time zone Office Time" in problem.message


def test_folded_lines_utf8_crlf_and_lf_only() -> None:
    long = "Interview with ACME — " + "é" * 80
    folded = f"SUMMARY:{long[:40]}\r\n {long[40:]}"
    crlf = cal("BEGIN:VEVENT", "UID:f", "DTSTART:20260504T150000Z", folded, "END:VEVENT")
    [event], _ = parse(crlf)
    assert event.title == long
    [same], _ = parse(crlf.replace(b"\r\n", b"\n"))
    assert same == event


def test_cp1252_file() -> None:
    data = cal(*vevent("w1", "DTSTART:20260504T150000Z", "DTEND:20260504T160000Z",
                       "LOCATION:Caf\u00e9")).replace("Caf\u00e9".encode(), b"Caf\xe9")
    [event], _ = parse(data)
    assert event.location == "Café"


# --- hostile input: nothing but ItemError ever leaves -----------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_item_error(data: bytes) -> None:
    try:
        events, problems = parse(data)
    except ItemError:
        return
    assert isinstance(events, list) and isinstance(problems, list)


def _mutate(data: bytes, ops: list[tuple[int, int, bytes]]) -> bytes:
    for kind, pos, chunk in ops:
        at = pos % (len(data) + 1)
        if kind == 0:
            data = data[:at] + chunk + data[at:]
        elif kind == 1:
            data = data[:at] + data[at + len(chunk) + 1:]
        elif kind == 2:
            data = data[:at] + chunk + data[at + len(chunk):]
        else:
            data = data[:at]
    return data


_FRAGMENTS = st.sampled_from([
    b"\r\n", b":", b";", b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n", b"RRULE:FREQ=DAILY\r\n",
    b"DTSTART;TZID=Nowhere:2026", b"RECURRENCE-ID:20140707T050000Z\r\n", b"\r\n ",
    b"EXDATE:bogus\r\n", b"DURATION:-P1W\r\n", b"STATUS:CANCELLED\r\n", b'"', b"\\",
    b"ATTENDEE;CN=\"a\r\n b\":mailto:x@y\r\n", b"\xff\xfe", b"RDATE;VALUE=PERIOD:2026/P1D\r\n",
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS_FILES),
       st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40000),
                          st.one_of(_FRAGMENTS, st.binary(min_size=1, max_size=12))),
                min_size=1, max_size=6),
       st.sampled_from([1997, 2012, 2014, 2017, 2020]))
def test_mutated_corpus_files_raise_only_item_error(path: Path, ops: list[tuple[int, int, bytes]],
                                                    year: int) -> None:
    # Three-year windows around the corpus' dates: every path runs, long series stay short.
    window = SyncWindow(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 3, 1, 1, tzinfo=UTC))
    try:
        events, _ = parse(_mutate(path.read_bytes(), ops), window=window)
    except ItemError:
        return
    assert all(isinstance(e, CalendarEvent) and e.start <= e.end for e in events)


# --- the reminders calendar --------------------------------------------------------------------

START = datetime(2026, 5, 4, 15, 15, tzinfo=UTC)


def test_render_is_deterministic_and_has_the_promised_shape() -> None:
    reminders = {
        "ifu-b-thank_you_reminder-self": ReminderContent("Send thank-you notes", "One each.",
                                                         START + timedelta(hours=18), 0),
        "ifu-a-notes_reminder-self": ReminderContent("Write interview notes — ACME",
                                                     "What went well?\nWhat did not?", START),
    }
    data = reminders_ics.render_reminders(reminders)
    assert data == reminders_ics.render_reminders(dict(reversed(list(reminders.items()))))
    text = data.decode()
    assert text.index("UID:ifu-a-") < text.index("UID:ifu-b-")
    assert "X-WR-CALNAME:Interview follow-ups\r\n" in text
    assert "X-INBOX-FOLLOWUP-KEY:ifu-a-notes_reminder-self\r\n" in text
    assert "DTSTART:20260504T151500Z\r\n" in text and "DTEND:20260504T153000Z\r\n" in text
    assert "DTSTAMP:20260504T151500Z\r\n" in text
    assert "TRIGGER:-PT15M\r\n" in text and "TRIGGER:PT0S\r\n" in text
    assert text.count("TRANSP:TRANSPARENT") == 2 and text.count("ACTION:DISPLAY") == 2
    assert reminders_ics.read_reminders(data) == reminders


def test_render_of_nothing_reads_back_empty() -> None:
    assert reminders_ics.read_reminders(reminders_ics.render_reminders({})) == {}


def test_reminders_come_back_through_parse_calendar_with_their_key() -> None:
    data = reminders_ics.render_reminders({"ifu-a-notes_reminder-self": ReminderContent("T", "D", START)})
    [event], _ = parse(data)
    assert event.key == event.id == "ifu-a-notes_reminder-self"
    assert (event.start, event.end) == (START, START + timedelta(minutes=15))


def test_render_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError):
        reminders_ics.render_reminders({"k": ReminderContent("t", "d", datetime(2026, 5, 4, 10))})


def test_read_reminders_rejects_garbage() -> None:
    with pytest.raises(ItemError):
        reminders_ics.read_reminders(b"this is not a calendar")


_KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.@+", min_size=1, max_size=40)
_CLEAN_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff",
                                    include_characters="\n\t"), max_size=300)
_ANY_TEXT = st.text(max_size=300)
_STARTS = st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1),
                       timezones=st.sampled_from([UTC, BERLIN, CHICAGO, ZoneInfo("Asia/Kolkata")]))


def _contents(text: st.SearchStrategy[str]) -> st.SearchStrategy[ReminderContent]:
    return st.builds(ReminderContent, title=text, description=text,
                     start=_STARTS.map(lambda d: d.replace(microsecond=0)),
                     minutes=st.integers(-10_000, 10_000))


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_KEYS, _contents(_CLEAN_TEXT), max_size=5))
def test_read_is_the_inverse_of_render(reminders: dict[str, ReminderContent]) -> None:
    data = reminders_ics.render_reminders(reminders)
    back = reminders_ics.read_reminders(data)
    # Text comes back exactly; the start as the same instant in UTC. (Python never calls an
    # ambiguous local time, e.g. 01:30 on a fall-back night, equal to any UTC time: PEP 495.)
    assert back == {k: reminders_ics.clean_reminder(v) for k, v in reminders.items()}
    assert {k: (v.title, v.description, v.minutes) for k, v in back.items()} == {
        k: (v.title, v.description, v.minutes) for k, v in reminders.items()}
    assert {k: v.start.timestamp() for k, v in back.items()} == {
        k: v.start.timestamp() for k, v in reminders.items()}
    assert reminders_ics.render_reminders(back) == data


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(_KEYS, _contents(_ANY_TEXT), max_size=4))
def test_hostile_text_round_trips_as_clean_reminder(reminders: dict[str, ReminderContent]) -> None:
    data = reminders_ics.render_reminders(reminders)
    back = reminders_ics.read_reminders(data)
    assert back == {k: reminders_ics.clean_reminder(v) for k, v in reminders.items()}
    assert reminders_ics.render_reminders(back) == data  # sync twice: same bytes


def test_commas_semicolons_backslashes_and_newlines_survive() -> None:
    hostile = ReminderContent("a,b;c\\d\ne", "line1\r\nline2\rline3\\n;,:\u202eevil\x00\x07", START)
    [(key, back)] = reminders_ics.read_reminders(reminders_ics.render_reminders({"k,;\\": hostile})).items()
    assert key == "k,;\\"
    assert back.title == "a,b;c\\d\ne"
    assert back.description == "line1\nline2\nline3\\n;,:\u202eevil"


def test_a_crlf_escaped_as_backslash_r_n_leaves_no_backslash() -> None:
    """Only \\n is a line-break escape (RFC 5545 3.3.11); a writer that escaped CRLF as \\r\\n
    must not put a stray "\\r" into the title a company name is read from."""
    lines = [line if not line.startswith("SUMMARY:")
             else r"SUMMARY:Interview with Acme\r\nBcc: evil@example.com" for line in vevent("x")]
    [event], _ = parse(cal(*lines))
    assert event.title == "Interview with Acme\nBcc: evil@example.com"
    kept = [line if not line.startswith("SUMMARY:") else r"SUMMARY:C:\\r\nX" for line in lines]
    [event], _ = parse(cal(*kept))
    assert event.title == "C:\\r\nX"  # an escaped backslash, then an r: the user's own text
