"""Reading JSON that came from outside (a configuration file, a backup's database):
bounded in size and depth, a BOM accepted, every error a sentence with line and column."""

from __future__ import annotations

import json
from typing import Any

from store.errors import MailroomError

MAX_JSON_BYTES = 200_000_000  # a configuration with its letterheads inlined


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return line, col


def load_json(raw: bytes, source: str, *, fix: str) -> Any:
    """Parse ``raw`` as JSON or raise MailroomError naming the place and the fix."""
    if len(raw) > MAX_JSON_BYTES:
        raise MailroomError(
            f"{source} is larger than {MAX_JSON_BYTES // 1_000_000} MB.",
            field="file",
            value=source,
            fix=fix,
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark, as some Windows editors write
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw, exc.start)
        raise MailroomError(
            f"{source} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, "
            f"column {col} cannot be read.",
            field="file",
            value=source,
            fix="save the file as UTF-8; " + fix,
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MailroomError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            field="file",
            value=source,
            fix=fix,
        ) from None
    except RecursionError:
        raise MailroomError(
            f"{source} nests lists or objects too deep to read; a Mailroom file never does.",
            field="file",
            value=source,
            fix=fix,
        ) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        detail = str(exc).split(";")[0]
        raise MailroomError(
            f"{source} holds a value that cannot be read ({detail}).",
            field="file",
            value=source,
            fix=fix,
        ) from None
