"""Template problems told for people: TemplateProblem, the internal errors behind it, their messages."""

from __future__ import annotations

from jinja2.exceptions import TemplateSyntaxError

from mailing.errors import TemplateError
from mailing.render.limits import MAX_EXPR_DEPTH, MAX_NESTING
from mailing.render.positions import _column, _where


class TemplateProblem(TemplateError):
    """A template error with its place: part, line, column, the name at fault, the names available."""

    def __init__(
        self,
        message: str,
        *,
        template: str = "",
        part: str = "",
        line: int | None = None,
        column: int | None = None,
        name: str = "",
        available: list[str] | None = None,
        fix: str = "",
    ) -> None:
        self.template = template
        self.part = part
        self.line = line
        self.column = column
        self.name = name
        self.available = list(available or [])
        super().__init__(message, field=part, value=name or None, fix=fix)


class _BadValue(Exception):
    """A filter got a value it cannot format (internal; becomes a TemplateProblem)."""


class _Forbidden(TemplateSyntaxError):
    def __init__(self, message: str, lineno: int | None, word: str) -> None:
        super().__init__(message, lineno or 1)
        self.word = word


def _forbidden_problem(
    exc: _Forbidden,
    code: str,
    part: str,
    src: str,
    *,
    fix: str,
    available: list[str] | None = None,
) -> TemplateProblem:
    """Something the sandbox does not allow, told with its place (save and render alike)."""
    col = _column(src, exc.lineno, exc.word)
    return TemplateProblem(
        f"In {_where(code, part, exc.lineno, col)}: {exc.message}.",
        template=code,
        part=part,
        line=exc.lineno,
        column=col,
        name=exc.word,
        available=available,
        fix=fix,
    )


class _OverLimit(TemplateSyntaxError):
    """A part is too large, too deep or too slow to prepare (internal; becomes a TemplateProblem).

    Raised while parsing, so Jinja passes it on like a syntax error; ``column`` is
    known when it was found on the tokens, otherwise it is looked up from ``word``.
    """

    def __init__(
        self, message: str, lineno: int | None, word: str, fix: str, column: int | None = None
    ) -> None:
        super().__init__(message, lineno or 1)
        self.word = word
        self.fix = fix
        self.column = column


def _over_limit(
    exc: _OverLimit, code: str, part: str, src: str, rendering: bool
) -> TemplateProblem:
    col = exc.column or _column(src, exc.lineno, exc.word)
    where = _where(code, part, exc.lineno, col)
    return TemplateProblem(
        f"Cannot render {where}: {exc.message}." if rendering else f"In {where}: {exc.message}.",
        template=code,
        part=part,
        line=exc.lineno,
        column=col,
        name=exc.word,
        fix=exc.fix,
    )


def _unreadable(exc: BaseException, code: str, part: str) -> TemplateProblem:
    """The last line of defence: a parser or compiler limit no check above foresaw."""
    if isinstance(exc, UnicodeError):
        what = "contains characters that cannot be read"
        fix = "retype the text; remove characters pasted from other programs."
    elif isinstance(exc, MemoryError):
        what = "is too large to be prepared"
        fix = f"shorten the {part}."
    else:  # RecursionError, or a limit of Python's compiler (SyntaxError, IndentationError)
        what = (
            "has too much inside each other (blocks, brackets, filters or operators) to be prepared"
        )
        fix = (
            f"simplify the {part}: at most {MAX_NESTING} blocks and {MAX_EXPR_DEPTH} levels "
            "of brackets, filters or operators inside each other."
        )
    where = f"The {part} of template {code!r}" if code else f"The {part}"
    return TemplateProblem(f"{where} {what}.", template=code, part=part, fix=fix)


# Python's own errors for a template too deep or too large for its parser or compiler.
_UNREADABLE = (RecursionError, MemoryError, SyntaxError, UnicodeError)
