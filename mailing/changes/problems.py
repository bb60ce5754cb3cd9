"""What a refused change reports: every problem with its position, the value and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from store.errors import MailroomError

# A refusal lists at most this many problems; the rest are counted.
MAX_LISTED = 50


def short(value: Any, limit: int = 60) -> str:
    """A value as shown in a message: quoted, control characters visible, shortened."""
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a change.

    ``where`` is the position in the data as the user knows it: in a file
    ``relations[3].email_addresses.sales_invoice.to[0]``, in a form the record and
    field (``relation HOLT/C1, business_email``).
    """

    where: str
    message: str
    value: Any = None
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.value not in (None, ""):
            text += f" (value: {short(self.value)})"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ChangeRefused(MailroomError):
    """A change broke a rule; nothing was written. ``problems`` lists every one."""

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.problems = problems
        self.what = what
        n = len(problems)
        head = f"{what}: {n} problem{'s' if n != 1 else ''}; nothing was changed."
        lines = [head] + [f"  - {p}" for p in problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            lines.append(f"  … and {n - MAX_LISTED} more.")
        first = problems[0] if problems else Problem("", "")
        super().__init__("\n".join(lines), field=first.where, value=first.value, fix="")

    def __str__(self) -> str:
        return self.message


def problem_from_error(where: str, exc: MailroomError) -> Problem:
    """A domain error (which names its own field) as a problem at ``where``."""
    message = exc.message
    return Problem(where, message, None, exc.fix)
