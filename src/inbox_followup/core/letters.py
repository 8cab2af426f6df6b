"""The words of every draft and reminder, from templates (pure).

Templates are ``string.Template`` texts: a first line ``Subject: ...``, a blank line, then
the body. A body line is left out when any placeholder on it has no value: that is how the
"forgot to mention" line and the deadline line disappear when the notes say nothing, and
the signature when no name is configured. The texts come in :attr:`Profile.templates`,
read by :mod:`inbox_followup.config.templates` (the packaged ones, or the user's own files
of the same names in ``templates_dir``); ``docs/templates.md`` lists every placeholder.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from string import Template

from inbox_followup.core.dates import format_day
from inbox_followup.core.model import ArtifactKind, Interview, Notes, Person
from inbox_followup.core.notes import NOTES_PROMPTS
from inbox_followup.core.text import one_line as _one_line
from inbox_followup.core.text import sanitize_header_text
from inbox_followup.core.text import sentence as _sentence
from inbox_followup.errors import ConfigError

PLACEHOLDER_MARK = "[["
TALKING_POINT_PLACEHOLDER = (
    f"{PLACEHOLDER_MARK}Add one thing you talked about: a project, a plan or a question they raised]]"
)
DEFAULT_PITCH = (
    "From what we discussed, the role is a strong match for my skills and experience, "
    "and I'm excited about what I could contribute."
)
TEMPLATE_NAMES = ("thank_you.txt", "follow_up_1.txt", "follow_up_2.txt", "feedback.txt")
PLACEHOLDERS = frozenset({
    "greeting", "first_name", "position", "role", "company", "topic", "talking_point",
    "pitch", "forgot", "follow_up_date", "decision_date", "signature", "thank_you_subject",
})  # fmt: skip
_HONORIFICS = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "sir", "dame"})


@dataclass(frozen=True)
class TemplateText:
    """One template's text and where it came from (named in every error about it)."""

    text: str
    where: str


@dataclass(frozen=True)
class Profile:
    """Who the user is, for the drafts: signature, a one-sentence pitch, and the templates
    by file name (every name of :data:`TEMPLATE_NAMES`)."""

    templates: Mapping[str, TemplateText]
    name: str | None = None
    pitch: str | None = None

    @functools.cached_property
    def digest(self) -> str:
        """Everything the letters' words depend on, as one short stable string (template
        texts included, so editing a template rewrites the drafts you have not touched).
        Computed once per profile: the planner asks for it for every interview."""
        text = repr((self.name, self.pitch, sorted((k, v.text) for k, v in self.templates.items())))
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


# ---------------------------------------------------------------------------------------
# Texts


def _load(name: str, profile: Profile) -> TemplateText:
    found = profile.templates.get(name)
    if found is None:
        raise ConfigError([f"no template named {name}"])
    return found


@functools.lru_cache(maxsize=512)
def _template(text: str) -> Template:
    return Template(text)


def _substitute(template: Template, values: dict[str, str], where: str) -> str:
    try:
        return template.substitute(values)
    except KeyError as exc:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise ConfigError([f"unknown placeholder ${exc.args[0]} (known: {known})"], where) from exc
    except ValueError as exc:
        raise ConfigError([f"bad placeholder: {exc} (write $$ for a dollar sign)"], where) from exc


def render(name: str, values: dict[str, str], profile: Profile) -> tuple[str, str]:
    """(subject, body) of template ``name`` filled with ``values``.

    Raises :class:`ConfigError` naming the file for a template without a ``Subject:``
    first line, an unknown placeholder, or a stray ``$``.
    """
    source = _load(name, profile)
    text, where = source.text, source.where
    first, _, rest = text.replace("\r\n", "\n").partition("\n")
    if not first.lower().startswith("subject:"):
        raise ConfigError(["the first line must be 'Subject: ...'"], where)
    subject = _substitute(_template(first[len("subject:"):].strip()), values, where)
    lines: list[str] = []
    for line in rest.strip("\n").split("\n"):
        template = _template(line)
        if any(not values.get(n, "x") for n in template.get_identifiers()):
            continue  # an optional part with nothing to say
        rendered = _substitute(template, values, where).rstrip()
        if rendered or (lines and lines[-1]):
            lines.append(rendered)
    return sanitize_header_text(subject), "\n".join(lines).strip("\n") + "\n"


def check_templates(templates: Mapping[str, TemplateText]) -> list[str]:
    """Problems with ``templates``, each naming its file (empty when all render)."""
    problems: list[str] = []
    sample = {name: "x" for name in PLACEHOLDERS}
    profile = Profile(templates=templates)
    for name in TEMPLATE_NAMES:
        try:
            render(name, sample, profile)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def first_name(person: Person) -> str | None:
    """The first name to greet someone by, or None when the name is unknown or odd."""
    name = _one_line(person.name, 100).strip("\"' ")
    if not name or "@" in name:
        return None
    if "," in name:  # "Doe, Jane"
        name = name.split(",", 1)[1].strip()
    words = [w for w in name.split() if w.rstrip(".").lower() not in _HONORIFICS]
    if not words or not any(ch.isalpha() for ch in words[0]):
        return None
    first = words[0][:40]
    return first.capitalize() if first.isupper() and len(first) > 1 else first


def _common(interview: Interview, to: Person, profile: Profile) -> dict[str, str]:
    role = _one_line(interview.role, 100)
    company = _one_line(interview.company, 100) or "your company"
    greeting_name = first_name(to)
    values = {
        "greeting": f"Hi {greeting_name}," if greeting_name else "Hello,",
        "first_name": greeting_name or "",
        "role": role,
        "position": f"the {role} role" if role else "the role",
        "company": company,
        "topic": role or company,
        "signature": _one_line(profile.name, 100),
        "pitch": _sentence(profile.pitch or DEFAULT_PITCH),
        "talking_point": "", "forgot": "", "follow_up_date": "", "decision_date": "",
    }  # fmt: skip
    values["thank_you_subject"] = render("thank_you.txt", values, profile)[0]
    return values


def thank_you(interview: Interview, to: Person, notes: Notes, follow_up_on: date,
              profile: Profile) -> tuple[str, str]:
    """(subject, body) of the thank-you draft to one interviewer.

    The body has five or six sentence lines between greeting and sign-off: thanks for the
    time and the role, one point from the conversation (or :data:`TALKING_POINT_PLACEHOLDER`),
    why the user fits, what they forgot to mention (only when noted), and the day they will
    follow up. Raises :class:`ConfigError` for a broken user template.
    """
    values = _common(interview, to, profile)
    points = [p for p in notes.talking_points if _one_line(p)]
    values["talking_point"] = _sentence(points[0]) if points else TALKING_POINT_PLACEHOLDER
    values["forgot"] = _sentence("; ".join(_one_line(f, 150) for f in notes.forgot[:2]))
    values["follow_up_date"] = format_day(follow_up_on)
    return render("thank_you.txt", values, profile)


def follow_up(interview: Interview, to: Person, notes: Notes, profile: Profile,
              step: int) -> tuple[str, str]:
    """(subject, body) of follow-up ``step`` (1: still interested, asks for a timeframe;
    2: a shorter last check-in for contacts who want e-mail only). The subject is
    "Re: " and the thank-you subject. Raises ValueError for another step,
    :class:`ConfigError` for a broken user template."""
    if step not in (1, 2):
        raise ValueError(f"follow-up step must be 1 or 2, not {step}")
    values = _common(interview, to, profile)
    if notes.decision_date is not None:
        values["decision_date"] = format_day(notes.decision_date)
    return render(f"follow_up_{step}.txt", values, profile)


def feedback(interview: Interview, to: Person, profile: Profile,
             replying_to: str | None = None) -> tuple[str, str]:
    """(subject, body) of the gracious reply to a rejection that asks for feedback. When it
    answers the rejection (``replying_to``: that message's subject), the subject is "Re: "
    and theirs, as a reply's is (RFC 5322 §3.6.5), which also keeps it in the thread for
    clients that thread by subject. Raises :class:`ConfigError` for a broken user template."""
    subject, body = render("feedback.txt", _common(interview, to, profile), profile)
    theirs = sanitize_header_text(replying_to or "")
    if theirs:
        subject = theirs if theirs[:3].lower() == "re:" else f"Re: {theirs}"
    return subject, body


def _drafts_line(count: int, what: str) -> str:
    if count <= 0:
        return ""
    noun = f"{what} draft" if count == 1 else f"{what} drafts"
    verb = "is" if count == 1 else "are"
    return f"{count} {noun} {verb} in your Drafts folder; fill in anything marked [[...]] first."


def reminder(kind: ArtifactKind, interview: Interview, *, notes: Notes, drafts: int = 0,
             phone: str | None = None, follow_up_on: date | None = None) -> tuple[str, str]:
    """(title, description) of a reminder event of ``kind``.

    ``drafts`` is how many drafts wait for the user, ``phone`` the number to call,
    ``follow_up_on`` the follow-up day the thank-you drafts promise. Raises ValueError for
    a draft kind.
    """
    company = _one_line(interview.company, 100) or "the company"
    role = _one_line(interview.role, 100)
    names = ", ".join(n for n in (_one_line(p.name, 80) for p in interview.interviewers) if n)
    promise = (f"The drafts say you will check in on {format_day(follow_up_on)}."
               if follow_up_on else "")
    number = _one_line(phone or notes.phone, 40)
    deadline = (f"They said they would decide around {format_day(notes.decision_date)}."
                if notes.decision_date else "")
    texts: dict[ArtifactKind, tuple[str, list[str]]] = {
        ArtifactKind.NOTES_REMINDER: (f"Write interview notes — {company}", [NOTES_PROMPTS]),
        ArtifactKind.THANK_YOU_REMINDER: (f"Send thank-you notes — {company}", [
            _drafts_line(drafts, "thank-you")
            or "Send a short, personal thank-you note to each interviewer.",
            "Send each one this morning, within a day of the interview.", promise]),
        ArtifactKind.FOLLOW_UP_REMINDER: (f"Follow up with {company}", [
            _drafts_line(drafts, "follow-up")
            or "Write a short note: still interested, and is there an updated timeframe?",
            deadline, "Polite and brief: hiring takes time, and asking is fair."]),
        ArtifactKind.CALL_REMINDER: (
            f"Call {company} about {role}" if role else f"Call {company} about your interview", [
                "No answer to your follow-up yet. Call and ask, politely, about the timeline.",
                "Say again that you're keen and why the role fits you.",
                f"Phone: {number}" if number else ""]),
        ArtifactKind.MOVE_ON_REMINDER: (
            f"No word from {company} in a month — close it, keep applying", [
                "A month without an answer usually means the process has moved on.",
                "Mark it closed in your own list and put the energy into other applications.",
                "Closing it is not giving up: an answer can still come, and you'll see it."]),
        ArtifactKind.REFLECT_REMINDER: (
            f"Reflect on the {company} interviews, then connect on LinkedIn", [
            "Take ten minutes: what went well, what didn't, and what would you do differently?",
            "Which questions or skills do you want to practise before the next interview?",
            "The process is over, so now is a fine time to connect with your interviewers "
            "on LinkedIn" + (f" ({names})." if names else "."),
        ]),
    }  # fmt: skip
    if kind not in texts:
        raise ValueError(f"{kind.value} is not a reminder")
    title, parts = texts[kind]
    return sanitize_header_text(title), "\n".join(p for p in parts if p)
