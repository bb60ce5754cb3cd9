"""A batch's events as the screens need them: per item, its last event and its last
failure, for the rows on screen only.

No Textual here. The log (``events.jsonl``, ~4 lines a sent message) is read on
from where the last read stopped, and only the lines that can make a note (an
error, a detail, a deferral, a refusal) are kept, as bytes, by item: nothing is
parsed until a row asks for its item, so opening a 10,000-message batch parses
the events of the twenty rows shown, not 40,000 lines.
"""

from __future__ import annotations

import json
import re
from typing import Any

from store.spool import EVENTS_FILE, Batch

# The lines that can make a note: only failures, unknowns and deferrals are shown;
# "refused" only when someone was (a "sent" line's empty "refused": {} makes no
# note); a delay report on a sent item ("note": true); a send in test mode ("sent to
# the test address"). One pass of one expression over the log, from line to line
# (a line with a marker is kept whole, the search goes on at the next line): on a
# 5.6 MB log of 10,000 messages, 8 ms where a ``bytes.find`` pass per marker took 15.
_MARKED = re.compile(
    rb'"(?:e(?:rror"|vent": "refused")|de(?:tail"|ferred")|refused": [{\[]"'
    rb'|note": true|redirected_to": ")'
)
_ITEM = re.compile(rb'"item": "([^"\\]*)"')


def failure_text(ev: dict[str, Any] | None) -> str:
    """One line on why a message failed: the diagnosis, the server's reply."""
    if not ev:
        return ""
    parts = [str(ev.get("error") or "")]
    code = ev.get("code")
    reply = str(ev.get("reply") or "")
    if code or reply:
        parts.append(f"server: {code or ''} {reply}".strip())
    if ev.get("refused"):
        parts.append("refused: " + ", ".join(ev["refused"]))
    return " - ".join(p for p in parts if p)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        ev = json.loads(line)
    except ValueError:
        return None  # a damaged line: the others still count
    return ev if isinstance(ev, dict) else None


def _is_failure(ev: dict[str, Any]) -> bool:
    return ev.get("event") in ("attempt-failed", "refused") or bool(ev.get("error"))


def delay_text(ev: dict[str, Any] | None) -> str:
    """The note of a delay report: delayed at the customer's server since ..., why."""
    return str((ev or {}).get("text") or "")


class _PerItem:
    """``get(item)``: that item's event of one kind, parsed when asked (then kept)."""

    def __init__(self, index: EventsIndex, failures: bool, notes: bool = False) -> None:
        self._index = index
        self._failures = failures
        self._notes = notes

    def get(self, item: str, default: dict[str, Any] | None = None) -> dict[str, Any] | None:
        found = self._index.find(item, failures=self._failures, notes=self._notes)
        return default if found is None else found

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self.get(item) is not None


class EventsIndex:
    """Per item, its last event, its last failed attempt and its last delay note
    (``last.get(item)``, ``failure.get(item)``, ``delay.get(item)``); :meth:`update`
    reads only what was appended since."""

    def __init__(self, batch: Batch) -> None:
        self.path = batch.path / EVENTS_FILE
        self.offset = 0
        self._lines: dict[str, list[bytes]] = {}
        self._parsed: dict[tuple[str, bool, bool], dict[str, Any] | None] = {}
        self.last = _PerItem(self, failures=False)
        self.failure = _PerItem(self, failures=True)
        self.delay = _PerItem(self, failures=False, notes=True)

    def update(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        end += 1  # the whole lines: a line being written is read next time
        starts: list[int] = []
        search, pos = _MARKED.search, 0
        while (hit := search(data, pos, end)) is not None:
            at = hit.start()
            starts.append(data.rfind(b"\n", 0, at) + 1)
            pos = data.index(b"\n", at) + 1
        changed: set[str] = set()
        for start in starts:
            line = data[start : data.find(b"\n", start)]
            found = _ITEM.search(line)
            if found is not None:
                item = found.group(1).decode("utf-8", "replace")
            else:  # an item name written with escapes, or none
                ev = _parse(line)
                item = ev.get("item") if ev is not None else None
                if not isinstance(item, str):
                    continue
            self._lines.setdefault(item, []).append(line)
            changed.add(item)
        for item in changed:
            for key in ((item, False, False), (item, True, False), (item, False, True)):
                self._parsed.pop(key, None)

    def find(self, item: str, *, failures: bool, notes: bool = False) -> dict[str, Any] | None:
        """The item's last event that can make a note (its last failure: ``failures``;
        its last delay note: ``notes``)."""
        key = (item, failures, notes)
        if key in self._parsed:
            return self._parsed[key]
        found = None
        for line in reversed(self._lines.get(item, ())):
            ev = _parse(line)
            if ev is None or ev.get("item") != item:
                continue
            if bool(ev.get("note")) != notes:
                continue  # a note is not a step of the item, nor a failure
            if not failures or _is_failure(ev):
                found = ev
                break
        self._parsed[key] = found
        return found
