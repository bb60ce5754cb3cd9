"""Validation at save: a template must parse, be safe and name only its object's fields."""

from __future__ import annotations

import re

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.meta import find_undeclared_variables

from mailing.catalogue import OBJECT_FIELDS, field_names, sample_context
from mailing.render.filters import DEFAULT_LOCALE
from mailing.render.message import render_template
from mailing.render.positions import _column, _where
from mailing.render.problems import (
    _UNREADABLE,
    TemplateProblem,
    _Forbidden,
    _forbidden_problem,
    _over_limit,
    _OverLimit,
    _unreadable,
)
from mailing.render.sandbox import environment
from mailing.render.source import _check_source
from store.records import Template


def _template_parts(t: Template) -> list[tuple[str, str, bool]]:
    html = t.format == "html"
    return [
        ("subject", t.subject, False),
        ("body", t.body, html),
        ("disclaimer", t.disclaimer, html),
    ]


def validate_template(t: Template) -> None:
    """Refuse a template that does not parse, is unsafe, or names a field its object lacks.

    Raises :class:`TemplateProblem` (a TemplateError) naming the part, line, column,
    the name at fault and the names available. A template that passes is also
    rendered once with :func:`sample_context`, so an error that only shows when the
    values are filled in (``{{ item.numbr }}``) is caught at save time too.
    """
    if t.object not in OBJECT_FIELDS:
        raise TemplateProblem(
            f"Template {t.code!r} is for the unknown object {t.object!r}.",
            template=t.code,
            part="object",
            name=t.object,
            available=list(OBJECT_FIELDS),
            fix=f"choose one of: {', '.join(OBJECT_FIELDS)}.",
        )
    available = field_names(t.object)
    for part, source, html in _template_parts(t):
        _validate_part(t.code, part, source, html, available)
    # A trial render: catches errors that only show with values.
    render_template(t, sample_context(t.object), DEFAULT_LOCALE)


def _validate_part(code: str, part: str, source: str, html: bool, available: list[str]) -> None:
    src = _check_source(code, part, source)
    env = environment(html)
    try:
        tree = env.parse(src)
        env.compile(tree)  # unknown filters and tests are found here
    except _OverLimit as exc:
        raise _over_limit(exc, code, part, src, rendering=False) from None
    except _UNREADABLE as exc:
        raise _unreadable(exc, code, part) from None
    except _Forbidden as exc:
        raise _forbidden_problem(
            exc,
            code,
            part,
            src,
            available=available,
            fix="remove it; use only the fields in the list, with filters.",
        ) from None
    except TemplateSyntaxError as exc:
        msg = (exc.message or "syntax error").rstrip(".")
        m = re.search(r"No (?:filter|test) named '([^']+)'", msg)
        word = m.group(1) if m else ""
        col = _column(src, exc.lineno, word) if word else _column(src, exc.lineno, "")
        if word:
            filters = sorted(f for f in env.filters if not f.startswith("mailroom_"))
            fix = f"use one of the filters: {', '.join(filters)}."
        else:
            fix = "check that every {{ has a }} and every {% if %} / {% for %} is closed."
        raise TemplateProblem(
            f"In {_where(code, part, exc.lineno, col)}: {msg}.",
            template=code,
            part=part,
            line=exc.lineno,
            column=col,
            name=word,
            available=available,
            fix=fix,
        ) from None
    unknown = find_undeclared_variables(tree) - set(available) - set(env.globals)
    if unknown:
        first_line: int | None = None
        first_name = ""
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name in unknown:
                if first_line is None or node.lineno < first_line:
                    first_line, first_name = node.lineno, node.name
        col = _column(src, first_line, first_name)
        names = ", ".join(repr(n) for n in sorted(unknown))
        raise TemplateProblem(
            f"In {_where(code, part, first_line, col)}: unknown name {names}. "
            f"Available: {', '.join(available)}.",
            template=code,
            part=part,
            line=first_line,
            column=col,
            name=first_name,
            available=available,
            fix="pick a name from the template's object: in the Templates pane ctrl+g lists them.",
        )
