"""The one codec of sync cursors, for every provider.

A cursor is a small JSON object with a version (``"v"``), stored by the engine in the same
transaction as the page it covers (docs/design.md, "State and idempotence"). One that cannot
be read (corrupt, or of another version) is treated as no cursor at all: the provider reads
the whole sync window again, which is always safe, and the log says so once per read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1


def load_cursor(cursor: str | None, what: str) -> dict[str, Any]:
    """The state saved in ``cursor``; ``{}`` for none, or for one that is not a readable
    version-1 object (logged, naming ``what``). Cursors from before the version field are
    version 1."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        state = None
    if isinstance(state, dict) and state.get("v", VERSION) == VERSION:
        return state
    log.warning("%s: unreadable sync cursor; reading the whole window again", what)
    return {}


def dump_cursor(state: Mapping[str, Any]) -> str:
    """``state`` as a cursor that :func:`load_cursor` reads back (keys sorted: the same
    state always gives the same text, so an idle pass stores nothing new)."""
    return json.dumps({**state, "v": VERSION}, sort_keys=True)
