"""What the Google provider last wrote into each of its Gmail drafts.

With the ``gmail.metadata`` scope Gmail refuses ``format=full`` and ``format=raw`` on
``drafts.get`` as on ``messages.get`` ("Format cannot be used when accessing the api using
the gmail.metadata scope", gmail.v1 discovery document), and it applies that limit whenever
the token carries gmail.metadata, next to gmail.compose too
(https://github.com/googleapis/google-api-python-client/issues/582,
https://github.com/googleworkspace/cli/pull/200). So a draft's text cannot be read back.

What can be read is the id of the message inside the draft, and Gmail replaces that message,
with a new id, whenever the draft's content changes: "the underlying message IDs change every
time the message is replaced" (https://developers.google.com/gmail/api/guides/drafts). So
the provider keeps, per key, the message id it got back from its own create or update, with
the text it wrote (:class:`~inbox_followup.core.model.DraftSnapshot`). The same message id means
untouched; any other means the draft was edited or re-saved elsewhere, and it is left alone.
The record lives in ``state_dir/google/NAME.drafts.json`` (one small JSON object, replaced
atomically); losing it only makes drafts look edited, which is the safe side.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from inbox_followup.core.model import DraftSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    message_id: str  # Gmail's id of the message inside the draft, not the Message-ID header
    snapshot: DraftSnapshot


class WrittenDrafts:
    """The record file of one account. Not shared between processes (one daemon per state
    directory holds the lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, Written] | None = None

    def get(self, key: str) -> Written | None:
        return self._load().get(key)

    def put(self, key: str, message_id: str, snapshot: DraftSnapshot) -> None:
        entries = self._load()
        entry = Written(message_id, snapshot)
        if entries.get(key) != entry:
            entries[key] = entry
            self._save(entries)

    def forget(self, key: str) -> None:
        entries = self._load()
        if entries.pop(key, None) is not None:
            self._save(entries)

    def _load(self) -> dict[str, Written]:
        if self._entries is None:
            self._entries = {}
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                data = {}
            except (OSError, ValueError):
                log.warning("%s is unreadable; every draft will count as edited", self.path)
                data = {}
            for key, item in (data.items() if isinstance(data, dict) else ()):
                try:
                    snap = DraftSnapshot(str(item["to"]), str(item["s"]), str(item["b"]))
                    self._entries[str(key)] = Written(str(item["m"]), snap)
                except (KeyError, TypeError):
                    continue
        return self._entries

    def _save(self, entries: dict[str, Written]) -> None:
        data = {k: {"m": w.message_id, "to": w.snapshot.to, "s": w.snapshot.subject,
                    "b": w.snapshot.body} for k, w in entries.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the user's texts
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)
