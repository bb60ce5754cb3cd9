"""The text of an import file: UTF-8 decoding with the bad lines named, unusable characters."""

from __future__ import annotations

import codecs
import unicodedata

from mailing.importer.problems import _Problems, _short


def _bad_text(text: str) -> bool:
    """Control or format characters (line breaks, NUL, escape, bidi overrides), or
    lone surrogates (not text; a file name the system cannot encode)."""
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text)


def _decode(raw: bytes, problems: _Problems) -> str | None:
    """UTF-8 text (a BOM at the start is dropped); else the lines that are not UTF-8."""
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        first = exc.start
    view = memoryview(body)
    pos, found = first, 0
    while pos >= 0 and found < 5:
        start = body.rfind(b"\n", 0, pos) + 1
        end = body.find(b"\n", pos)
        end = len(body) if end < 0 else end
        near = body[max(start, pos - 30) : min(end, pos + 30)]
        line = near.decode("utf-8", errors="replace").rstrip("\r")
        lineno = body.count(b"\n", 0, start) + 1
        problems.add(
            f"line {lineno}",
            f"is not UTF-8 text (near {_short(line)}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'; in other programs: encoding UTF-8)",
        )
        found += 1
        try:
            codecs.utf_8_decode(view[end:], "strict", True)
            pos = -1
        except UnicodeDecodeError as exc:
            pos = end + exc.start
    return None
