"""Errors a user can meet in the store. Each message names the thing, the value and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class MailroomError(Exception):
    """Base of every error meant for the user: shown as its message, never a traceback.

    ``field`` names the field or thing at fault, ``value`` its offending value
    (never a secret), ``fix`` says what to do.
    """

    def __init__(self, message: str, *, field: str = "", value: Any = None, fix: str = "") -> None:
        self.message = message
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class StoreError(MailroomError):
    """A problem with the data folder or the database file."""


class CorruptDatabaseError(StoreError):
    """The database file cannot be read; the last good copies are offered."""

    def __init__(self, path: str, detail: str, backups: list[str]) -> None:
        self.path = path
        self.backups = backups
        if backups:
            fix = (
                "restore the last good copy with `mailroom db restore-copy` "
                f"(newest: {backups[0]}), or move the damaged file away."
            )
        else:
            fix = "no earlier copy exists; restore from a backup (`mailroom restore FILE`)."
        super().__init__(
            f"The database file {path} is damaged and was not opened ({detail}).",
            field="database",
            value=path,
            fix=fix,
        )


class NotFoundError(MailroomError):
    """A record that was asked for does not exist."""


class RecordError(MailroomError):
    """A record failed validation. ``problems`` lists (field, value, message)."""

    def __init__(self, message: str, problems: list[tuple[str, Any, str]]) -> None:
        self.problems = problems
        first_field, first_value, _ = problems[0] if problems else ("", None, "")
        super().__init__(message, field=first_field, value=first_value)

    @classmethod
    def from_validation(
        cls, kind: str, exc: ValidationError, data: Any, where: str = ""
    ) -> RecordError:
        problems: list[tuple[str, Any, str]] = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(record)"
            value = err.get("input")
            msg = str(err["msg"])
            if err["type"] == "extra_forbidden":
                msg = "is not a known field; remove it or check its spelling"
            elif err["type"] == "missing":
                msg = "is required; fill it in"
            elif err["type"] == "literal_error":
                ctx = err.get("ctx") or {}
                msg = f"must be one of {ctx.get('expected', '')}"
            msg = msg.removeprefix("Value error, ")
            problems.append((loc, value, msg))
        ident = ""
        if isinstance(data, dict):
            for k in ("code", "number", "name", "id"):
                if isinstance(data.get(k), str):
                    ident = f" {data[k]!r}"
                    break
        lines = [f"{kind}{ident}{' in ' + where if where else ''} is not valid:"]
        for loc, value, msg in problems:
            shown = _short(value)
            lines.append(f"  - field {loc}: {msg} (value: {shown})")
        return cls("\n".join(lines), problems)

    def __str__(self) -> str:
        return self.message


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{...}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
