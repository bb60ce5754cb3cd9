"""Import problems: the collector, the error that lists them, values shortened for messages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from store.errors import MailroomError

MAX_PROBLEMS_SHOWN = 200
MAX_PROBLEMS_KEPT = 10_000


class ImportProblems(MailroomError):
    """An import found problems; nothing was imported. ``problems`` is [(where, what)].

    ``total`` counts the problems found when more were found than ``problems`` keeps.
    """

    def __init__(
        self, source: str, problems: list[tuple[str, str]], *, total: int | None = None
    ) -> None:
        self.problems = problems
        count = max(total or 0, len(problems))
        shown = problems[:MAX_PROBLEMS_SHOWN]
        lines = [f"Nothing was imported from {source}: {count} problem(s) found."]
        lines += [f"  - {where}: {what}" for where, what in shown]
        if count > len(shown):
            lines.append(f"  ... and {count - len(shown)} more.")
        super().__init__(
            "\n".join(lines),
            field=problems[0][0] if problems else "",
            value=source,
            fix="correct the file and import it again; see docs/import-formats.md.",
        )


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.count = 0

    def add(self, where: str, what: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS_KEPT:
            self.items.append((where, what))


def _short(value: Any) -> str:
    """A value from the file for a message: quoted, escaped, at most 60 characters."""
    if isinstance(value, dict):
        return "{...}" if value else "{}"
    if isinstance(value, list | tuple):
        return "[...]" if value else "[]"
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _clip(name: str) -> str:
    """A field name from the file, shortened for a message."""
    return name if len(name) <= 40 else name[:37] + "..."
