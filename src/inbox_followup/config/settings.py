"""Config -> the pure core's inputs (calendar of working time, timings, detection rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from inbox_followup.config.loader import Config
from inbox_followup.config.templates import load_templates
from inbox_followup.core import detect, letters, rules
from inbox_followup.core.cycle import Settings


def detection_rules(config: Config) -> detect.DetectionRules:
    """Built-in detection lists, replaced or extended by the ``detection`` section."""
    d = config.detection
    base = detect.DetectionRules()
    return replace(
        base,
        keywords=(d.keywords if d.keywords is not None else base.keywords) + d.extra_keywords,
        exclusions=(d.exclusions if d.exclusions is not None else base.exclusions)
        + d.extra_exclusions,
        ats_domains=(d.ats_domains if d.ats_domains is not None else base.ats_domains)
        + d.extra_ats_domains,
        public_domains=base.public_domains + d.extra_public_domains,
    )


def public_domains(config: Config) -> frozenset[str]:
    return frozenset(detection_rules(config).public_domains)


def work_calendar(config: Config, now: datetime) -> rules.WorkCalendar:
    """Working time in the user's zone, with public holidays around ``now`` when configured."""
    years = range(now.year - 1, now.year + 3)
    holidays = rules.holiday_dates(config.holidays, years) if config.holidays else frozenset()
    hours = rules.WorkingHours(config.work_start, config.work_end, config.work_days)
    return rules.WorkCalendar(config.timezone, hours, holidays)


def settings(config: Config, now: datetime) -> Settings:
    profile = letters.Profile(
        templates=load_templates(config.templates_dir), name=config.your_name, pitch=config.pitch
    )
    return Settings(
        cal=work_calendar(config, now), timing=config.timing, profile=profile,
        public_domains=public_domains(config),
    )
