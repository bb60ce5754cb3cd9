"""Rendering a template into a RenderedMessage: each part bounded, every error a TemplateProblem."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import InvalidOperation
from typing import Any

from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from mailing.errors import TemplateError
from mailing.render.compose import compose_html, compose_text
from mailing.render.filters import check_locale
from mailing.render.html_text import html_to_text
from mailing.render.limits import MAX_PART_CHARS, MAX_SECONDS, MAX_SUBJECT_CHARS, _Limit
from mailing.render.positions import _error_line, _where
from mailing.render.problems import (
    _UNREADABLE,
    TemplateProblem,
    _BadValue,
    _Forbidden,
    _forbidden_problem,
    _over_limit,
    _OverLimit,
    _unreadable,
)
from mailing.render.sandbox import _compiled
from mailing.render.source import _check_source
from mailing.render.state import _STATE, _RenderState, _tick
from store.records import StoredFileRef, Template

PARTS: tuple[str, ...] = ("subject", "body", "disclaimer")


@dataclass
class RenderedMessage:
    """The rendered parts of one message, before it is built into MIME."""

    subject: str
    html: str | None  # None when the template's format is text
    text: str
    template: str = ""
    attachments: list[StoredFileRef] = field(default_factory=list)
    images: list[StoredFileRef] = field(default_factory=list)


def _render_part(
    code: str, part: str, source: str, html: bool, context: dict[str, Any], limit: int
) -> str:
    if not source:
        return ""
    src = _check_source(code, part, source)
    try:
        tmpl = _compiled(html, part, source)
    except _OverLimit as exc:
        raise _over_limit(exc, code, part, src, rendering=True) from None
    except _UNREADABLE as exc:
        raise _unreadable(exc, code, part) from None
    except _Forbidden as exc:
        raise _forbidden_problem(exc, code, part, src, fix="remove it from the template.") from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"In {_where(code, part, exc.lineno, None)}: {exc.message}.",
            template=code,
            part=part,
            line=exc.lineno,
            fix="correct the template (it is checked when it is saved).",
        ) from None
    out: list[str] = []
    size = 0
    try:
        for chunk in tmpl.generate(context):
            size += len(chunk)
            if size > limit:
                raise _Limit(f"the text would be longer than {limit:,} characters")
            out.append(chunk)
            _tick()
    except TemplateError:
        raise
    except Exception as exc:  # everything a template can raise becomes our error
        line = _error_line(exc.__traceback__, "<template>")
        if isinstance(exc, _Limit):
            msg, fix = str(exc), "make the template produce less (loops, repeats)."
        elif isinstance(exc, _BadValue):
            msg, fix = str(exc), "correct the expression or the filter's arguments."
        elif isinstance(exc, SecurityError):
            msg, fix = (
                f"not allowed: {exc}",
                "remove it; templates can only read the listed fields.",
            )
        elif isinstance(exc, UndefinedError):
            msg, fix = f"{exc.message}", "use only the fields of the template's object."
        elif isinstance(exc, ZeroDivisionError):
            msg, fix = "division by zero", "check the divisor, e.g. with {% if x %}."
        elif isinstance(exc, InvalidOperation):
            msg, fix = "a calculation with an invalid number", "correct the expression."
        elif isinstance(exc, RecursionError | MemoryError):
            msg, fix = "it needs too much memory or nesting", "simplify the template."
        else:
            msg, fix = f"{type(exc).__name__}: {exc}", "correct the expression."
        raise TemplateProblem(
            f"Cannot render {_where(code, part, line, None)}: {msg.rstrip('.')}.",
            template=code,
            part=part,
            line=line,
            fix=fix,
        ) from None
    return "".join(out)


def render_template(
    t: Template,
    context: dict[str, Any],
    locale: str,
    *,
    signature: str = "",
) -> RenderedMessage:
    """Render ``t`` with ``context`` in ``locale`` (e.g. ``nl_NL``).

    The disclaimer is appended to the body, after the personal ``signature`` when one
    is given (plain text; SPEC §5). For an HTML template ``html`` is a complete HTML
    document and ``text`` the plain-text alternative made from it; for a text
    template ``html`` is None.
    """
    check_locale(locale)
    state = _RenderState(locale=locale, deadline=time.monotonic() + MAX_SECONDS)
    token = _STATE.set(state)
    try:
        html = t.format == "html"
        subject = _render_part(t.code, "subject", t.subject, False, context, MAX_SUBJECT_CHARS * 4)
        body = _render_part(t.code, "body", t.body, html, context, MAX_PART_CHARS)
        disclaimer = _render_part(t.code, "disclaimer", t.disclaimer, html, context, MAX_PART_CHARS)
    finally:
        _STATE.reset(token)
    subject = subject.strip()
    if any(c in subject for c in "\r\n\x00"):
        raise TemplateProblem(
            f"The subject of template {t.code!r} contains a line break once the fields are "
            "filled in, which could add mail headers.",
            template=t.code,
            part="subject",
            name="subject",
            fix="remove the line break from the subject, or from the field it shows "
            "(e.g. the relation's name).",
        )
    if len(subject) > MAX_SUBJECT_CHARS:
        raise TemplateProblem(
            f"The subject of template {t.code!r} is {len(subject):,} characters once rendered; "
            f"at most {MAX_SUBJECT_CHARS:,} are allowed.",
            template=t.code,
            part="subject",
            fix="shorten the subject.",
        )
    if html:
        document = compose_html(body, disclaimer, signature)
        text = html_to_text(document)
        return RenderedMessage(subject, document, text, t.code, list(t.attachments), list(t.images))
    text = compose_text(body, disclaimer, signature)
    return RenderedMessage(subject, None, text, t.code, list(t.attachments), [])
