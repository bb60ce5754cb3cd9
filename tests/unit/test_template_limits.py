"""Hostile templates are refused when they are saved, with a sentence, never a traceback.

Jinja's parser and Python's compiler recurse and have fixed limits (20 nested loops,
100 indentations, 200 brackets), so a template of 50,000 brackets, 20,000 filters
in a row or 101 nested ``{% if %}`` used to end in RecursionError, IndentationError
or SyntaxError. :mod:`mailing.render` now measures the shape of every part before
Jinja parses or compiles it. Each hostile input below must give a TemplateError at
save (:func:`validate_template`) that names the part, says what is wrong and how to
fix it, and a TemplateError (nothing else) when it is rendered anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mailing import render
from mailing.catalogue import sample_context
from mailing.errors import TemplateError
from mailing.render import (
    MAX_EXPR_DEPTH,
    MAX_FILTER_CHAIN,
    MAX_NESTING,
    MAX_SOURCE_CHARS,
    MAX_WRAP_CHARS,
    MIN_WRAP_WIDTH,
    TemplateProblem,
    render_template,
    validate_template,
)
from store.records import Template


def _t(part: str = "body", source: str = "", fmt: str = "html") -> Template:
    parts = {"subject": "S", "body": "", "disclaimer": ""}
    parts[part] = source
    return Template(code="T", object="sales_invoice", format=fmt, **parts)


@dataclass(frozen=True)
class Hostile:
    id: str
    part: str
    source: str
    says: tuple[str, ...]  # fragments the message must contain
    line: int | None = None
    column: int | None = None


def _nested(open_tag: str, close_tag: str, n: int, inner: str = "x") -> str:
    return open_tag * n + inner + close_tag * n


HOSTILE = [
    # 1. deep expressions: the parser and the compiler recurse
    Hostile(
        "50000-brackets",
        "body",
        "{{ " + "(" * 50_000 + "1" + ")" * 50_000 + " }}",
        ("brackets are nested 50,000 deep", f"at most {MAX_EXPR_DEPTH} are allowed"),
        line=1,
        column=3 + MAX_EXPR_DEPTH + 1,  # the first bracket past the limit
    ),
    Hostile(
        "20000-chained-filters",
        "disclaimer",
        "{{ relation_name" + "|trim" * 20_000 + " }}",
        ("20,000 filters follow each other", f"at most {MAX_FILTER_CHAIN} are allowed"),
        line=1,
    ),
    Hostile(
        "20000-nots",
        "subject",
        "{{ " + "not " * 20_000 + "true }}",
        ("nested 20,000 deep", f"at most {MAX_EXPR_DEPTH}"),
        line=1,
    ),
    Hostile(
        "5000-inline-ifs",
        "body",
        "{{ " + "1 if true else " * 5_000 + "2 }}",
        ("inline ifs are nested 5,000 deep",),
        line=1,
    ),
    Hostile(
        "20000-additions",
        "body",
        "{{ 1" + " + 1" * 20_000 + " }}",
        ("an expression is nested 20,001 levels deep", f"at most {MAX_EXPR_DEPTH}"),
        line=1,
    ),
    Hostile(
        "20000-attributes",
        "body",
        "{{ relation_name" + ".x" * 20_000 + " }}",
        ("an expression is nested 20,001 levels deep",),
        line=1,
    ),
    Hostile(
        "31-additions",
        "body",
        "{{ 1" + " + 1" * MAX_EXPR_DEPTH + " }}",
        (f"nested {MAX_EXPR_DEPTH + 1} levels deep",),
        line=1,
    ),
    Hostile(
        "60-nested-concatenations",  # 200 brackets in Python's code: its compiler's limit
        "body",
        "{{ " + "(number ~ " * 60 + "1" + ")" * 60 + " }}",
        ("brackets are nested 60 deep",),
        line=1,
    ),
    # 2. deep blocks: Python allows 100 indentations and 20 nested loops
    Hostile(
        "101-nested-ifs",
        "body",
        _nested("{% if true %}", "{% endif %}", 101),
        ("blocks ({% if %}, {% for %}, {% with %}) are nested 101 deep", "at most 20"),
        line=1,
        column=len("{% if true %}") * MAX_NESTING + 1,
    ),
    Hostile(
        "25-nested-fors",
        "body",
        _nested("{% for i in lines %}", "{% endfor %}", 25),
        ("are nested 25 deep", f"at most {MAX_NESTING} are allowed"),
        line=1,
        column=len("{% for i in lines %}") * MAX_NESTING + 1,
    ),
    Hostile(
        "30-nested-withs-on-lines",
        "disclaimer",
        _nested("{% with a = 1 %}\n", "{% endwith %}\n", 30),
        ("are nested 30 deep",),
        line=MAX_NESTING + 1,
        column=1,
    ),
    Hostile(
        "30-nested-block-sets",
        "body",
        _nested("{% set x %}", "{% endset %}", 30),
        ("are nested 30 deep",),
        line=1,
    ),
    # 3. characters that cannot be stored or sent
    Hostile(
        "lone-surrogate-subject",
        "subject",
        "Factuur \ud800 {{ number }}",
        ("invalid character (U+D800", "cannot be stored or sent"),
        line=1,
        column=9,
    ),
    Hostile(
        "lone-surrogate-disclaimer",
        "disclaimer",
        "Regel een\nregel twee\nxx\udfff",
        ("invalid character (U+DFFF",),
        line=3,
        column=3,
    ),
    Hostile(
        "too-long",
        "body",
        "x" * (MAX_SOURCE_CHARS + 1),
        (f"{MAX_SOURCE_CHARS + 1:,} characters", f"at most {MAX_SOURCE_CHARS:,}"),
    ),
    # 4. escapes and bombs, refused at save by the checks of the tree
    Hostile("dunder-mro", "body", "{{ ''.__class__.__mro__ }}", ("'__mro__' is not allowed",), 1),
    Hostile("include", "body", "{% include 'x' %}", ("'{% include %}' cannot be used",), 1, 4),
    Hostile("import", "body", "{% import 'x' as y %}", ("'{% import %}' cannot be used",), 1),
    Hostile("from-import", "body", "{% from 'x' import y %}", ("cannot be used",), 1),
    Hostile("extends", "disclaimer", "{% extends 'x' %}", ("'{% extends %}' cannot be used",), 1),
    Hostile(
        "constant-bomb",
        "body",
        "{{ 'A'*10**9 }}",
        ("a multiplication would be about 1,000,000,000 characters", "at most 1,000,000"),
        line=1,
    ),
    Hostile(
        "constant-bomb-in-a-branch-not-taken",
        "body",
        "Beste klant,\n{% if relation_name == 'nobody' %}\n{{ 'A' * 10**9 }}\n{% endif %}",
        ("1,000,000,000 characters",),
        line=3,
    ),
    Hostile("power-bomb", "body", "{{ 2 ** (10 ** 9) }}", ("too large a number",), 1),
    Hostile("format-bomb", "subject", "{{ '%0999999999d' % 1 }}", ("a % format would be",), 1),
    # 5. wordwrap with a tiny width is slow on long words
    Hostile(
        "wordwrap-1",
        "body",
        "{{ relation_name|wordwrap(1) }}",
        ("wordwrap(1) is too narrow", f"at least {MIN_WRAP_WIDTH} characters"),
        line=1,
    ),
    Hostile(
        "wordwrap-width-keyword",
        "body",
        "{{ relation_name|wordwrap(width=-3) }}",
        ("wordwrap(-3) is too narrow",),
        line=1,
    ),
    Hostile(
        "wordwrap-width-from-a-variable",  # found by the trial render at save
        "body",
        "{% set w = 1 %}{{ relation_name|wordwrap(w) }}",
        (f"the width must be at least {MIN_WRAP_WIDTH} characters, not 1",),
        line=1,
    ),
]

# Words on screen are for people: no Python class names, no tracebacks.
_PYTHON_WORDS = re.compile(r"[A-Z]\w*(Error|Exception)\b|Traceback|jinja|nodes\.")


def _assert_for_people(err: TemplateError, part: str) -> None:
    msg = str(err)
    assert err.field == part
    assert part in err.message  # "In the body of template 'T' ...": the part is named
    assert err.fix and f"Fix: {err.fix}" in msg
    assert not _PYTHON_WORDS.search(msg), msg
    assert err.value is None or len(str(err.value)) <= 40  # the value at fault, shortened


@pytest.fixture(autouse=True)
def _fresh_compile_cache() -> Iterator[None]:
    """No compiled template leaks between tests (one test switches the checks off)."""
    render._compiled.cache_clear()
    yield
    render._compiled.cache_clear()


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.id)
def test_hostile_template_is_refused_at_save_with_a_sentence(case: Hostile) -> None:
    with pytest.raises(TemplateError) as info:
        validate_template(_t(case.part, case.source))
    err = info.value
    _assert_for_people(err, case.part)
    for fragment in case.says:
        assert fragment in err.message, err.message
    assert isinstance(err, TemplateProblem)
    if case.line is not None:
        assert err.line == case.line, err.message
        assert f"line {case.line}" in err.message
    if case.column is not None:
        assert err.column == case.column, err.message
        assert f"column {case.column}" in err.message


@pytest.mark.parametrize("case", HOSTILE, ids=lambda c: c.id)
@pytest.mark.parametrize("fmt", ["html", "text"])
def test_hostile_template_rendered_anyway_is_a_template_error(case: Hostile, fmt: str) -> None:
    # pytest.raises lets any other exception through, failing the test
    with pytest.raises(TemplateError) as info:
        render_template(_t(case.part, case.source, fmt), sample_context("sales_invoice"), "nl_NL")
    _assert_for_people(info.value, case.part)


def test_wordwrap_of_a_very_long_text_stops_with_a_template_error() -> None:
    t = _t("body", "{{ relation_name|wordwrap }}", "text")
    validate_template(t)  # fine with the sample values
    ctx = sample_context("sales_invoice")
    ctx["relation_name"] = "a" * 400_000  # one long word: wrapping it is quadratic
    with pytest.raises(TemplateError) as info:
        render_template(t, ctx, "nl_NL")
    _assert_for_people(info.value, "body")
    assert f"at most {MAX_WRAP_CHARS:,} can be wrapped" in info.value.message


def test_wordwrap_within_its_bounds_still_wraps() -> None:
    ctx = sample_context("sales_invoice")
    ctx["relation_name"] = "a" * MAX_WRAP_CHARS
    text = render_template(
        _t("body", f"{{{{ relation_name|wordwrap({MIN_WRAP_WIDTH}) }}}}", "text"), ctx, "nl_NL"
    ).text
    assert {len(line) for line in text.split()} == {MIN_WRAP_WIDTH}


LIMIT = [
    (
        "20-nested-blocks",
        _nested("{% if number %}", "{% endif %}", MAX_NESTING // 2)
        + _nested("{% for i in [1] %}", "{% endfor %}", MAX_NESTING // 2 - 1, "")
        + _nested(
            "{% for i in [1] %}{% with a = 1 %}",
            "{% endwith %}{% endfor %}",
            1,
            "{{ loop.index }}",
        ),
    ),
    ("a-long-elif-chain", "{% if number %}a" + "{% elif number %}b" * 60 + "{% endif %}"),
    ("brackets-at-the-limit", "{{ " + "(" * MAX_EXPR_DEPTH + "1" + ")" * MAX_EXPR_DEPTH + " }}"),
    (
        "concatenations-at-the-limit",
        "{{ " + "(number ~ " * (MAX_EXPR_DEPTH - 2) + "1" + ")" * (MAX_EXPR_DEPTH - 2) + " }}",
    ),
    ("filters-at-the-limit", "{{ relation_name" + "|trim" * MAX_FILTER_CHAIN + " }}"),
    ("nots-at-the-limit", "{{ " + "not " * (MAX_EXPR_DEPTH - 1) + "true }}"),
    ("many-tags-in-a-row", "{% if number %}{{ number }}{% endif %}" * 500),
    ("brackets-in-text-strings-and-raw", "((((" * 50 + "{{ '" + "(" * 100 + "' }}"),
    ("raw-block", "{% raw %}" + "{{ (" * 100 + "{% endraw %}"),
    ("signs-and-subtraction", "{{ -1 - -2 + +3 }} {{ not number is defined }}"),
    ("a-small-constant", "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ [1, 2] * 2 }} {{ 1 / 0 if false }}"),
    ("wordwrap-at-the-minimum", f"{{{{ relation_name|wordwrap({MIN_WRAP_WIDTH}) }}}}"),
]


@pytest.mark.parametrize(("name", "source"), LIMIT, ids=[n for n, _ in LIMIT])
def test_templates_within_the_limits_are_accepted(name: str, source: str) -> None:
    for fmt in ("html", "text"):
        t = _t("body", source, fmt)
        validate_template(t)
        render_template(t, sample_context("sales_invoice"), "nl_NL")


@pytest.mark.parametrize(
    "source",
    [
        _nested("{% for i in [1] %}", "{% endfor %}", 25),  # SyntaxError from Python
        _nested("{% if true %}", "{% endif %}", 101),  # IndentationError from Python
        "{{ " + "(" * 50_000 + "1" + ")" * 50_000 + " }}",  # RecursionError in the parser
        "{{ relation_name" + "|trim" * 20_000 + " }}",  # RecursionError in the compiler
    ],
    ids=["python-syntax-error", "python-indentation-error", "parser-recursion", "deep-tree"],
)
def test_last_line_of_defence_when_the_checks_miss_something(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Switch the shape checks off: what Python's parser or compiler then raises must
    # still become a TemplateError that names the part.
    monkeypatch.setattr(render.sandbox, "_scan_tokens", lambda *args: None)
    monkeypatch.setattr(render.sandbox, "_check_shape", lambda tree: render._Shape())
    with pytest.raises(TemplateError) as info:
        validate_template(_t("body", source))
    _assert_for_people(info.value, "body")
    assert "too much inside each other" in info.value.message
    with pytest.raises(TemplateError) as info:
        render_template(_t("body", source), sample_context("sales_invoice"), "nl_NL")
    _assert_for_people(info.value, "body")


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (MemoryError(), "too large to be prepared"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "cannot be read"),
        (RecursionError("maximum recursion depth exceeded"), "too much inside each other"),
    ],
    ids=["memory", "unicode", "recursion"],
)
def test_python_errors_are_told_in_plain_words(exc: BaseException, says: str) -> None:
    err = render._unreadable(exc, "T", "disclaimer")
    _assert_for_people(err, "disclaimer")
    assert says in err.message
