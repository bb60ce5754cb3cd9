"""Where in a template part something is: line, column and the words that say so."""

from __future__ import annotations

import re
from typing import Any


def _shorten(text: str, limit: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line_column(source: str, offset: int) -> tuple[int, int]:
    line_start = source.rfind("\n", 0, offset) + 1
    return source.count("\n", 0, offset) + 1, offset - line_start + 1


def _tag_at(source: str, offset: int) -> str:
    """The tag that starts at ``offset`` (shortened), as the value at fault."""
    end = source.find("}", offset, offset + 60)
    return _shorten(source[offset : end + 1] if end >= 0 else source[offset : offset + 60])


def _column(source: str, line: int | None, word: str) -> int | None:
    """Column (1-based) of ``word`` on ``line``, preferring places inside {{ }} / {% %}."""
    if not line:
        return None
    lines = source.split("\n")
    if line > len(lines):
        return None
    text = lines[line - 1]
    if not word:
        opener = re.search(r"\{\{|\{%", text)
        return (opener.start() + 1) if opener else 1
    pattern = (
        re.compile(r"(?<![\w])" + re.escape(word) + r"(?![\w])")
        if word.isidentifier()
        else re.compile(re.escape(word))
    )
    spans = [m.span() for m in re.finditer(r"\{\{.*?(\}\}|$)|\{%.*?(%\}|$)", text)]
    first = None
    for m in pattern.finditer(text):
        if first is None:
            first = m.start()
        if any(a <= m.start() < b for a, b in spans):
            return m.start() + 1
    if first is not None:
        return first + 1
    m2 = re.search(r"\{\{|\{%", text)
    return (m2.start() + 1) if m2 else 1


def _error_line(tb: Any, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _where(template: str, part: str, line: int | None, column: int | None) -> str:
    where = f"the {part} of template {template!r}" if template else f"the {part}"
    if line:
        where += f", line {line}"
        if column:
            where += f", column {column}"
    return where
