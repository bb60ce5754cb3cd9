"""The audit log: who changed what, when, with the before and after (never a secret).

``audit.log`` in the data folder, one JSON object a line, only ever appended, fsynced,
under a lock (``.audit.log.lock``) so that two processes' lines never mix and each
finds the true last line. The doors of ``mailing.changes`` write it after their change
was written: approvals, holds, cancels, resends, marks as sent, restores, and every
configuration change (records saved or deleted, settings, an import, sending paused or
resumed, a secret stored, changed or forgotten, without its value).

A line: ``{"at": ISO time (UTC), "user": login, "action": "approve", "what":
"batch 20260101-...", "before": ..., "after": ..., "prev": SHA-256}``; under sudo also
``"by": "alice"`` (who ran sudo; the actor stays root).

**A hash chain.** ``prev`` is the SHA-256 (hex) of the line before it, as written
(without its newline); the first line's is ``"start"``. ``audit.head`` beside the log
holds the hash and end offset of the last line written, so a removed last entry is
seen too. :func:`verify` names the first entry that does not fit. Lines written before
the chain existed (no ``prev``) are accepted at the start only, and counted. Whoever
can write the data folder can rewrite the whole chain: it shows edits made by hand or
by a careless script, it is no ledger against a determined administrator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.permissions import file_mode, open_new

FILE_NAME = "audit.log"
HEAD_NAME = "audit.head"
START = "start"
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
    by: str | None = None  # under sudo: who ran it (the actor is ``user``, root)

    def line(self) -> str:
        """One line for people: when, who, what (the details are in ``--json``)."""
        when = self.at.replace("T", " ")[:19]
        who = f"{self.user} (sudo by {self.by})" if self.by else self.user
        return f"{when}  {who:<12} {self.action:<18} {self.what}"


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("(not shown)" if any(w in str(k).lower() for w in _SECRET_WORDS) else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def line_hash(line: bytes) -> str:
    """The hash the next entry carries: of the line as written, without its newline."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _last_line(fd: int) -> tuple[bytes, int]:
    """The file's last line (without newline) and the file's size."""
    size = os.fstat(fd).st_size
    if size == 0:
        return b"", 0
    chunk = 4096
    end = size
    buf = b""
    while end > 0:
        start = max(0, end - chunk)
        buf = os.pread(fd, end - start, start) + buf
        end = start
        body = buf.rstrip(b"\n") if buf.endswith(b"\n") else buf
        cut = body.rfind(b"\n")
        if cut >= 0:
            return body[cut + 1 :], size
    return buf.rstrip(b"\n"), size


def lock(home: Path) -> Any:
    from filelock import FileLock

    return FileLock(str(home / f".{FILE_NAME}.lock"), timeout=60, mode=file_mode(home))


def append(
    home: Path, user: str, action: str, what: str, before: Any = None, after: Any = None
) -> None:
    """Append one entry, chained to the last. A log that cannot be written is an error."""
    from mailing.identity import sudo_by
    from store.db import atomic_write_bytes
    from store.errors import StoreError

    entry: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "user": user,
    }
    by = sudo_by()
    if by:
        entry["by"] = by
    entry.update({"action": action, "what": what, "before": _scrub(before), "after": _scrub(after)})
    path = home / FILE_NAME
    try:
        with lock(home):
            fd = open_new(path, os.O_RDWR | os.O_APPEND)
            try:
                last, size = _last_line(fd)
                entry["prev"] = line_hash(last) if size else START
                text = json.dumps(entry, ensure_ascii=False, default=str).encode("utf-8")
                # A torn last line (a crash mid-write) stays a line of its own: verify names it.
                torn = size > 0 and not os.pread(fd, 1, size - 1) == b"\n"
                os.write(fd, (b"\n" if torn else b"") + text + b"\n")
                os.fsync(fd)
                end = os.fstat(fd).st_size
            finally:
                os.close(fd)
            count = _count_after(home, last, size, path)
            head = json.dumps({"last": line_hash(text), "end": end, "entries": count}).encode(
                "ascii"
            )
            atomic_write_bytes(home / HEAD_NAME, head)
    except OSError as exc:
        raise StoreError(
            f"The change was made, but the audit log {path} cannot be written ({exc.strerror}).",
            field="audit",
            value=str(path),
            fix="check the data folder's permissions (`mailroom doctor`).",
        ) from None
    except TimeoutError:
        raise StoreError(
            f"The change was made, but the audit log {path} stayed locked for a minute.",
            field="audit",
            value=str(path),
            fix="see which mailroom process hangs (`ps`), then run the command again.",
        ) from None


def _count_after(home: Path, last: bytes, size: int, path: Path) -> int:
    """How many lines the log has after this append: the head's count + 1 when the head
    names the line that was last, else counted (an older log, or a head out of step)."""
    head = _read_head(home)
    if head is not None and head[1] == line_hash(last) and head[0] == size and head[2]:
        return head[2] + 1
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


def entries(home: Path, since: dt.datetime | None = None) -> Iterator[Entry]:
    """The entries, oldest first; from ``since`` on when given. A damaged line is skipped
    (``mailroom audit verify`` names it)."""
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
                    raw.get("by"),
                )
                at = dt.datetime.fromisoformat(entry.at)
            except (ValueError, KeyError, TypeError):
                continue
            if since is None or at >= since:
                yield entry


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``ok``, how many entries, and the first that does not fit."""

    ok: bool
    entries: int
    unchained: int = 0  # lines from before the chain existed, at the start
    bad_line: int | None = None  # 1-based
    why: str = ""
    text: str = ""  # the start of that line, for people
    unreadable: bool = False  # the log cannot be read at all (permissions)

    def sentence(self, path: Path) -> str:
        if self.ok:
            older = (
                f" ({self.unchained} older one(s) from before the chain began, not chained)"
                if self.unchained
                else ""
            )
            return (
                f"the audit log's {self.entries} "
                + ("entry fits" if self.entries == 1 else "entries fit")
                + f" together{older}"
            )
        if self.unreadable:
            return f"{path} {self.why}"
        where = f"entry {self.bad_line}" if self.bad_line else "the end"
        shown = f": {self.text}" if self.text else ""
        return f"{path}: {where} does not fit ({self.why}){shown}"


def verify(home: Path) -> Verdict:
    """Check the chain and the head; the first entry that does not fit."""
    path = home / FILE_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    except OSError as exc:
        return Verdict(False, 0, why=f"cannot be read ({exc.strerror})", unreadable=True)
    head = _read_head(home)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        return Verdict(
            False,
            len(lines),
            bad_line=len(lines),
            why="the line is cut off",
            text=_shown(lines[-1]),
        )
    prev: bytes | None = None
    unchained = 0
    chained = False
    for number, line in enumerate(lines, start=1):
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError
            str(raw["at"]), str(raw["user"]), str(raw["action"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return Verdict(
                False, len(lines), unchained, number, "it is not a log entry", _shown(line)
            )
        link = raw.get("prev")
        if link is None and not chained:
            unchained += 1
        else:
            chained = True
            want = START if prev is None else line_hash(prev)
            if link != want:
                why = (
                    "an entry before it was changed or removed"
                    if prev is not None
                    else "entries before it were removed"
                )
                if link is None:
                    why = "it carries no link to the entry before it"
                return Verdict(False, len(lines), unchained, number, why, _shown(line))
        prev = line
    if head is not None:
        end, last, count = head
        removed = f"it has {len(lines)} entries, but {count} were written: the last were removed"
        if count and len(lines) < count:
            return Verdict(False, len(lines), unchained, None, removed)
        if count and line_hash(lines[count - 1]) != last:
            changed = "it was changed after it was written (it was the last entry then)"
            return Verdict(False, len(lines), unchained, count, changed, _shown(lines[count - 1]))
        if not count and len(data) < end:
            shorter = "the log is shorter than when its last entry was written: entries removed"
            return Verdict(False, len(lines), unchained, None, shorter)
    return Verdict(True, len(lines), unchained)


def _shown(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace")
    return text if len(text) <= 120 else text[:117] + "..."


def _read_head(home: Path) -> tuple[int, str, int] | None:
    """(end offset, hash of the last line, how many lines) as the last append left them."""
    try:
        raw = json.loads((home / HEAD_NAME).read_bytes())
        return int(raw["end"]), str(raw["last"]), int(raw.get("entries", 0))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def parse_since(text: str) -> dt.datetime:
    """``2026-03-01``, ``2026-03-01T08:00`` (UTC unless it says), or ``7d`` / ``12h``."""
    from mailing.errors import ConfigError

    value = text.strip()
    try:
        if value[-1:] in ("d", "h") and value[:-1].isdigit():
            hours = int(value[:-1]) * (24 if value[-1] == "d" else 1)
            return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
        at = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"--since {text!r} is not a date (or lies before the year 1).",
            field="since",
            value=text,
            fix="give a date like 2026-03-01, a time like 2026-03-01T08:00, or 7d / 12h.",
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
