"""The audit log: who changed what, when, with the before and after (never a secret).

``audit.log`` in the data folder, one JSON object a line, only ever appended
(``O_APPEND``: each line is one write, so two processes' lines never mix), fsynced.
The doors of ``mailing.changes`` write it after their change was written: approvals,
holds, cancels, resends, marks as sent, restores, and every configuration change
(records saved or deleted, settings, an import, sending paused or resumed, a
password stored or forgotten, without its value).

A line: ``{"at": ISO time (UTC), "user": login, "action": "approve", "what":
"batch 20260101-...", "before": ..., "after": ...}``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.permissions import open_new

FILE_NAME = "audit.log"
# Field names whose values are never written, whatever record they are in.
_SECRET_WORDS = ("password", "secret", "token", "passphrase")


@dataclass(frozen=True)
class Entry:
    at: str
    user: str
    action: str
    what: str
    before: Any = None
    after: Any = None

    def line(self) -> str:
        """One line for people: when, who, what (the details are in ``--json``)."""
        when = self.at.replace("T", " ")[:19]
        return f"{when}  {self.user:<12} {self.action:<18} {self.what}"


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("(not shown)" if any(w in str(k).lower() for w in _SECRET_WORDS) else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def append(
    home: Path, user: str, action: str, what: str, before: Any = None, after: Any = None
) -> None:
    """Append one entry. A log that cannot be written is an error, never silent."""
    from store.errors import StoreError

    entry = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": action,
        "what": what,
        "before": _scrub(before),
        "after": _scrub(after),
    }
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path = home / FILE_NAME
    try:
        fd = open_new(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(
            f"The change was made, but the audit log {path} cannot be written ({exc.strerror}).",
            field="audit",
            value=str(path),
            fix="check the data folder's permissions (`mailroom doctor`).",
        ) from None


def entries(home: Path, since: dt.datetime | None = None) -> Iterator[Entry]:
    """The entries, oldest first; from ``since`` on when given. A damaged line is skipped."""
    try:
        fh = open(home / FILE_NAME, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with fh:
        for text in fh:
            try:
                raw = json.loads(text)
                entry = Entry(
                    str(raw["at"]),
                    str(raw["user"]),
                    str(raw["action"]),
                    str(raw["what"]),
                    raw.get("before"),
                    raw.get("after"),
                )
                at = dt.datetime.fromisoformat(entry.at)
            except (ValueError, KeyError, TypeError):
                continue
            if since is None or at >= since:
                yield entry


def parse_since(text: str) -> dt.datetime:
    """``2026-03-01``, ``2026-03-01T08:00`` (UTC unless it says), or ``7d`` / ``12h``."""
    from mailing.errors import ConfigError

    value = text.strip()
    try:
        if value[-1:] in ("d", "h") and value[:-1].isdigit():
            hours = int(value[:-1]) * (24 if value[-1] == "d" else 1)
            return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a date.",
            field="since",
            value=text,
            fix="give a date like 2026-03-01, a time like 2026-03-01T08:00, or 7d / 12h.",
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
