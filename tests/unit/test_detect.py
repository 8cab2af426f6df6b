"""detect: the recognition rules of docs/rules.md on inline events, and never raising."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_followup.core.detect import (
    DetectionRules,
    UserIdentity,
    detect,
    interview_id,
    is_person,
    is_public_domain,
)
from inbox_followup.core.interview_details import (
    company_and_role,
    company_from_domain,
    find_phone,
    sanitize_name,
)
from inbox_followup.core.model import Attendee, CalendarEvent, Interview, Person, SyncWindow
from inbox_followup.formats import ical

RULES = DetectionRules()
WORK = UserIdentity(frozenset({"Alex@MyCorp.com"}))
GMAIL = UserIdentity(frozenset({"alex.morgan@gmail.com"}))
START = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)


def person(email: str, name: str | None = None, **kw: object) -> Attendee:
    return Attendee(email=email, name=name, **kw)  # type: ignore[arg-type]


def event(title: str = "Phone screen: ACME", *, attendees: tuple[Attendee, ...] = (),
          organizer: Attendee | None = None, **kw: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "id": "ev1", "uid": "ev1", "title": title, "start": START,
        "end": START + timedelta(hours=1), "source": "test", **kw}
    return CalendarEvent(organizer=organizer, attendees=attendees, **fields)  # type: ignore[arg-type]


def run(ev: CalendarEvent, user: UserIdentity = WORK, override: str | None = None,
        rules: DetectionRules = RULES) -> Interview | None:
    return detect(ev, account="work", user=user, rules=rules, override=override)


ME = person("alex@mycorp.com", "Alex Morgan", partstat="ACCEPTED", is_self=True)
RECRUITER = person("sam.lee@acme.com", "Sam Lee", partstat="ACCEPTED")
ENGINEER = person("jane@acme.com", "Jane Doe")


def test_recruiter_invite() -> None:
    iv = run(event(organizer=RECRUITER, attendees=(RECRUITER, ME, ENGINEER),
                   location="Phone: +1 (415) 555-0100"))
    assert iv is not None
    assert iv.company == "ACME" and iv.domain == "acme.com"
    assert iv.interviewers == (Person("sam.lee@acme.com", "Sam Lee"), Person("jane@acme.com",
                                                                                "Jane Doe"))
    assert iv.phone == "+1 (415) 555-0100"
    assert iv.id == interview_id("work", "ev1") and iv.event_id == "ev1"
    assert (iv.start, iv.end, iv.forced, iv.cancelled) == (START, START + timedelta(hours=1),
                                                           False, False)


def test_greenhouse_organiser_without_a_keyword() -> None:
    ats = person("no-reply@greenhouse.io", "Greenhouse")
    iv = run(event("Conversation with Sam", organizer=ats, attendees=(ME, RECRUITER)))
    assert iv is not None
    assert iv.company == "Acme" and iv.domain == "acme.com"  # "Sam" is a person on the event
    assert [p.email for p in iv.interviewers] == ["sam.lee@acme.com"]


def test_ats_alone_counts_as_the_outside_party() -> None:
    ats = person("scheduling@goodtime.io")
    iv = run(event("Your interview", organizer=ats, attendees=(ME,)))
    assert iv is not None and iv.interviewers == () and iv.company == "Unknown company"


def test_rooms_and_resources_are_not_interviewers_nor_outsiders() -> None:
    room = person("c_1889abc@resource.calendar.google.com", "HQ-4-Everest (8)",
                  cutype="RESOURCE")
    conf = person("conf-room-2@acme.com", "Conference Room 2")
    iv = run(event(attendees=(ME, room, conf, ENGINEER)))
    assert iv is not None and [p.email for p in iv.interviewers] == ["jane@acme.com"]
    assert run(event(attendees=(ME, room))) is None  # nobody from outside


def test_no_reply_and_groups_are_not_interviewers() -> None:
    bot = person("calendar-notification@acme.com")
    group = person("interviewers@acme.com", cutype="GROUP")
    iv = run(event(organizer=bot, attendees=(ME, group, ENGINEER)))
    assert iv is not None and [p.email for p in iv.interviewers] == ["jane@acme.com"]


@pytest.mark.parametrize("title", ["Mock interview with Sam", "Interview prep", "INTERVIEW-PRACTICE",
                                   "Interviewer training: ACME"])
def test_exclusions(title: str) -> None:
    assert run(event(title, attendees=(ME, ENGINEER))) is None


def test_exclusion_in_description_only_counts_without_a_title_keyword() -> None:
    prep = "Please read our interview prep guide before the call."
    assert run(event("Phone screen", description=prep, attendees=(ME, ENGINEER))) is not None
    assert run(event("Coaching", description="interview practice", attendees=(ME, ENGINEER))) is None


def test_keyword_in_description_and_word_boundaries() -> None:
    assert run(event("Chat", description="Technical-Screen, 45 min", attendees=(ME, ENGINEER)))
    assert run(event("Interviewer sync", attendees=(ME, ENGINEER))) is None
    assert run(event("Onsite interviews", attendees=(ME, ENGINEER))) is not None
    assert run(event("Reviewing notes", attendees=(ME, ENGINEER))) is None


def test_declined_all_day_and_our_own_reminders() -> None:
    declined = person("alex@mycorp.com", partstat="DECLINED", is_self=True)
    assert run(event(attendees=(declined, ENGINEER))) is None
    assert run(event(attendees=(ME, ENGINEER), all_day=True)) is None
    assert run(event(attendees=(ME, ENGINEER), key="ifu-x-notes_reminder-self")) is None
    assert run(event(attendees=(ME, ENGINEER), key="k"), override="track") is None


def test_user_interviewing_a_candidate_with_a_colleague() -> None:
    candidate = person("candidate@gmail.com", "Chris Candidate")
    colleague = person("colleague@mycorp.com", "Pat Colleague")
    ev = event("Interview: Chris Candidate", organizer=ME,
               attendees=(ME, colleague, candidate))
    assert run(ev) is None
    assert run(event("Interview: Chris", organizer=ME, attendees=(ME, candidate))) is not None


def test_gmail_user_with_an_external_interviewer() -> None:
    me = person("alex.morgan@gmail.com", is_self=True)
    friend_of_recruiter = person("recruiter.jo@gmail.com", "Jo Recruiter")
    iv = run(event("Interview", attendees=(me, friend_of_recruiter)), user=GMAIL)
    assert iv is not None
    assert iv.domain is None and iv.company == "Unknown company"
    assert iv.interviewers == (Person("recruiter.jo@gmail.com", "Jo Recruiter"),)
    iv = run(event("Interview with Initech", attendees=(me, friend_of_recruiter)), user=GMAIL)
    assert iv is not None and iv.company == "Initech"
    # Another gmail address is outside even though the domain is the user's own.
    organiser_me = person("alex.morgan@gmail.com")
    assert run(event("Interview", organizer=organiser_me, attendees=(friend_of_recruiter,)),
               user=GMAIL) is not None


def test_overrides() -> None:
    plain = event("Coffee", attendees=(ME,))
    assert run(plain) is None
    forced = run(plain, override="track")
    assert forced is not None and forced.forced and forced.company == "Unknown company"
    assert run(event(attendees=(ME, ENGINEER)), override="ignore") is None
    all_day = run(event("Onsite at Initech", all_day=True), override="track")
    assert all_day is not None and all_day.company == "Initech"


def test_cancelled_events_come_back_marked() -> None:
    iv = run(event(attendees=(ME, ENGINEER), status="CANCELLED"))
    assert iv is not None and iv.cancelled


def test_company_from_the_most_common_domain() -> None:
    others = (person("a@initech.com"), person("b@initech.com"), person("c@globex.com"),
              person("d@gmail.com"), person("e@lever.co"))
    iv = run(event("Final round", attendees=(ME, *others)))
    assert iv is not None and (iv.company, iv.domain) == ("Initech", "initech.com")
    assert iv.application_id == run(event("Onsite", attendees=(ME, others[0])),).application_id  # type: ignore[union-attr]


def test_role_from_the_title() -> None:
    iv = run(event("Interview: Senior Engineer at ACME", attendees=(ME, ENGINEER)))
    assert iv is not None and (iv.company, iv.role) == ("ACME", "Senior Engineer")


def test_hostile_names() -> None:
    nasty = (person("crlf@acme.com", "Jane\r\nBcc: victim@example.com"),
             person("long@acme.com", "x" * 10_000),
             person("rtl@acme.com", "\u202eevil\u202c \u05d3\u05e0\u05d4 \u0644\u064a\u0644\u0649"),
             person("ctl@acme.com", "\x00\x07\x1b[31mRed\u2028Line"))
    iv = run(event("Interview\r\nwith ACME\x00" + "!" * 5000, attendees=(ME, *nasty)))
    assert iv is not None
    names = [p.name or "" for p in iv.interviewers]
    assert names[0] == "Jane Bcc: victim@example.com"
    assert len(names[1]) == 100
    assert names[2] == "evil \u05d3\u05e0\u05d4 \u0644\u064a\u0644\u0649"  # Hebrew, Arabic kept
    assert names[3] == "[31mRed Line"
    for text in (*names, iv.title, iv.company):
        assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)
    assert len(iv.title) <= 300


def test_duplicates_and_declined_interviewers() -> None:
    declined = person("busy@acme.com", partstat="DECLINED")
    iv = run(event(organizer=ENGINEER, attendees=(ME, ENGINEER, declined,
                                                    person("JANE@ACME.COM", "Jane again"))))
    assert iv is not None and [p.email for p in iv.interviewers] == ["jane@acme.com"]


def test_interview_id_is_short_stable_and_per_account() -> None:
    a = interview_id("work", "uid/20260504T150000Z")
    assert a == interview_id("work", "uid/20260504T150000Z")
    assert a != interview_id("home", "uid/20260504T150000Z")
    assert len(a) == 12 and int(a, 16) >= 0


@pytest.mark.parametrize(("domain", "company"), [
    ("acme.com", "Acme"), ("acme-corp.co.uk", "Acme Corp"), ("careers.initech.io", "Initech"),
    ("23andme.com", "23andme"), ("xn--bcher-kva.de", "Bücher"), ("ACME.COM.", "Acme"),
    ("", "Unknown company"),
])
def test_company_from_domain(domain: str, company: str) -> None:
    assert company_from_domain(domain) == company


def test_public_domains() -> None:
    assert is_public_domain("gmail.com", RULES) and is_public_domain("GMX.de", RULES)
    assert is_public_domain("yahoo.co.uk", RULES) and not is_public_domain("acme.com", RULES)
    assert not is_public_domain("gmail.com.evil.com", RULES)


@pytest.mark.parametrize(("attendee", "human"), [
    (person("jane@acme.com", "Jane"), True),
    (person("no-reply@acme.com"), False),
    (person("DoNotReply@acme.com"), False),
    (person("scheduler@greenhouse.io"), False),
    (person("room-12@acme.com"), False),
    (person("jane.broomfield@acme.com"), True),
    (person("x@acme.com", "Board Room"), False),
    (person("x@group.calendar.google.com"), False),
    (person("team@acme.com", cutype="GROUP"), False),
    (person("not an address"), False),
])
def test_is_person(attendee: Attendee, human: bool) -> None:
    assert is_person(attendee, RULES) is human


@pytest.mark.parametrize(("title", "expected"), [
    ("Interview with ACME", ("ACME", None)),
    ("ACME <> Jane Doe", ("ACME", None)),
    ("Jane Doe <> ACME", ("ACME", None)),
    ("ACME - Phone screen", ("ACME", None)),
    ("Phone screen: ACME", ("ACME", None)),
    ("Final round | ACME", ("ACME", None)),
    ("Interview: Senior Engineer at ACME", ("ACME", "Senior Engineer")),
    ("Interview for the Staff Data Scientist role at Initech", ("Initech", "Staff Data Scientist")),
    ("Interview with Jane Doe (ACME)", ("ACME", None)),
    ("Onsite: Acme Corp (Senior Product Designer)", ("Acme Corp", "Senior Product Designer")),
    ("Google Interview", ("Google", None)),
    ("Technical Interview", (None, None)),
    ("Phone screen", (None, None)),
    ("Jane and Alex", (None, None)),
])
def test_company_and_role_from_titles(title: str, expected: tuple[str | None, str | None]) -> None:
    assert company_and_role(title, RULES, frozenset({"jane doe", "jane", "alex"})) == expected


@pytest.mark.parametrize(("location", "description", "phone"), [
    ("Phone call: +1 415 555 0100", "", "+1 415 555 0100"),
    ("", "If the video fails, call me at (415) 555-0199.", "(415) 555-0199"),
    ("", "Join Zoom Meeting https://zoom.us/j/82345678901\nMeeting ID: 823 4567 8901\n"
         "+16699006833,,82345678901# US (San Jose)\nDial by your location\n"
         "        +1 669 900 6833 US (San Jose)", None),
    ("", "Join with Google Meet: https://meet.google.com/abc-defg-hij\n"
         "Or dial: (US) +1 505-555-0100 PIN: 123456789#\nRecruiter mobile: +44 20 7946 0958",
     "+44 20 7946 0958"),
    ("Room 4B", "On 2026-05-04 at 10:30, ref 12345678901234", None),
])
def test_phone(location: str, description: str, phone: str | None) -> None:
    assert find_phone(location, description) == phone


def test_sanitize_name() -> None:
    assert sanitize_name(None) is None and sanitize_name(" \r\n ") is None
    assert sanitize_name('"Jane  Doe"') == "Jane Doe"
    assert sanitize_name("\u0645\u0647\u200c\u0633\u0627") == "\u0645\u0647\u200c\u0633\u0627"  # ZWNJ kept


def test_rules_from_config_lists() -> None:
    rules = DetectionRules(keywords=("chat",), exclusions=(), ats_domains=(),
                           public_domains=("example.org",))
    assert run(event("Coffee chat", attendees=(ME, ENGINEER)), rules=rules) is not None
    assert run(event("Phone screen", attendees=(ME, ENGINEER)), rules=rules) is None
    assert DetectionRules() == RULES and hash(DetectionRules()) == hash(RULES)


def test_parsed_invite_is_recognised() -> None:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
             "METHOD:REQUEST", "BEGIN:VEVENT", "DTSTART:20260504T150000Z",
             "DTEND:20260504T160000Z", "UID:abc@google.com", "SUMMARY:Initech <> Alex Morgan",
             "ORGANIZER;CN=Sam Lee:mailto:sam@initech.com",
             "ATTENDEE;CUTYPE=INDIVIDUAL;PARTSTAT=ACCEPTED;CN=Sam Lee:mailto:sam@initech.com",
             "ATTENDEE;PARTSTAT=NEEDS-ACTION;CN=Alex Morgan:mailto:alex.morgan@gmail.com",
             "ATTENDEE;CUTYPE=RESOURCE;CN=Room:mailto:x@resource.calendar.google.com",
             "DESCRIPTION:Hiring manager conversation\\nCall +1 415 555 0100 if late",
             "END:VEVENT", "END:VCALENDAR"]
    window = SyncWindow(datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    [ev], _ = ical.parse_calendar("\r\n".join(lines).encode(), "cal.ics", window,
                                  default_tz=ZoneInfo("UTC"),
                                  self_addresses=frozenset({"alex.morgan@gmail.com"}))
    iv = run(ev, user=GMAIL)
    assert iv is not None
    assert (iv.company, iv.domain, iv.phone) == ("Initech", "initech.com", "+1 415 555 0100")
    assert iv.interviewers == (Person("sam@initech.com", "Sam Lee"),)


# --- never raises ------------------------------------------------------------------------------

_TEXT = st.text(max_size=60)
_EMAILS = st.one_of(_TEXT, st.emails(), st.sampled_from(
    ["alex@mycorp.com", "x@gmail.com", "no-reply@greenhouse.io", "r@resource.calendar.google.com",
     "@", "a@", "@b", "a@b@c", " ", ""]))
_ATTENDEES = st.builds(
    Attendee, email=_EMAILS, name=st.one_of(st.none(), _TEXT),
    cutype=st.sampled_from(["INDIVIDUAL", "ROOM", "RESOURCE", "GROUP", "UNKNOWN", "", "x"]),
    partstat=st.sampled_from(["ACCEPTED", "DECLINED", "TENTATIVE", "NEEDS-ACTION", ""]),
    is_self=st.booleans())
_TIMES = st.datetimes(timezones=st.just(UTC))
_EVENTS = st.builds(
    CalendarEvent, id=_TEXT, uid=_TEXT,
    title=st.one_of(_TEXT, st.sampled_from(["Interview with ACME", "Mock interview", "x <> y"])),
    start=_TIMES, end=_TIMES, source=_TEXT, description=st.text(max_size=200), location=_TEXT,
    all_day=st.booleans(), status=st.sampled_from(["CONFIRMED", "CANCELLED", "TENTATIVE", ""]),
    organizer=st.one_of(st.none(), _ATTENDEES), attendees=st.tuples(_ATTENDEES, _ATTENDEES),
    key=st.one_of(st.none(), _TEXT))


@settings(max_examples=200, deadline=None)
@given(_EVENTS, st.sampled_from([None, "track", "ignore", "bogus"]),
       st.sampled_from([WORK, GMAIL, UserIdentity(frozenset()), UserIdentity(frozenset({"@", ""}))]))
def test_detect_never_raises(ev: CalendarEvent, override: str | None, user: UserIdentity) -> None:
    iv = run(ev, user=user, override=override)
    if iv is not None:
        assert iv.company and iv.event_id == ev.id
        assert len({p.email for p in iv.interviewers}) == len(iv.interviewers)
        assert all(p.name is None or "\n" not in p.name for p in iv.interviewers)
