"""The message templates: the packaged ones, replaced file by file by the user's own.

``templates_dir`` may hold files named as in :data:`~inbox_followup.core.letters.TEMPLATE_NAMES`;
a name missing there falls back to the packaged text. Every template is checked when the
config is loaded (``docs/templates.md`` lists the placeholders), so a typo is a config error
that names the file, not a failure on the day its draft is due.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from inbox_followup.core.letters import TEMPLATE_NAMES, TemplateText, check_templates
from inbox_followup.errors import ConfigError


@functools.lru_cache(maxsize=32)
def _packaged(name: str) -> TemplateText:
    # Read once per process: rendering thousands of drafts must not re-read the package.
    text = resources.files("inbox_followup").joinpath("templates", name).read_text(encoding="utf-8")
    return TemplateText(text, f"inbox_followup/templates/{name}")


@functools.lru_cache(maxsize=32)
def _user_file(path: Path, mtime_ns: int) -> TemplateText:
    # Keyed by modification time, so a running daemon sees the user's edits to a template.
    return TemplateText(path.read_text(encoding="utf-8"), str(path))


def _one(name: str, templates_dir: Path | None) -> TemplateText:
    if templates_dir is not None:
        path = templates_dir.expanduser() / name
        try:
            if path.is_file():
                return _user_file(path, path.stat().st_mtime_ns)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"cannot read template: {exc}"], str(path)) from exc
    return _packaged(name)


def load_templates(templates_dir: Path | None) -> dict[str, TemplateText]:
    """Every template by file name. Raises :class:`ConfigError` naming the file for one
    that cannot be read."""
    return {name: _one(name, templates_dir) for name in TEMPLATE_NAMES}


def checked_templates(templates_dir: Path | None) -> dict[str, TemplateText]:
    """:func:`load_templates`, then every template rendered once with sample values.
    Raises :class:`ConfigError` listing each broken file and what is wrong with it."""
    templates = load_templates(templates_dir)
    problems = check_templates(templates)
    if problems:
        raise ConfigError(problems)
    return templates
