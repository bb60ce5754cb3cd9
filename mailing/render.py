"""Rendering templates: expressions in a sandbox, bounded, formatted per language.

Expressions are Jinja2 in an :class:`ImmutableSandboxedEnvironment` with
``StrictUndefined``; HTML parts are autoescaped, the subject and text parts are not.
A template is checked when it is saved (:func:`validate_template`): it must parse,
use only the statements an e-mail needs, and name only the fields of its object
(:mod:`mailing.catalogue`). Rendering (:func:`render_template`) is bounded: every
part at most ``MAX_PART_CHARS`` characters, every message at most ``MAX_SECONDS``,
at most ``MAX_ITERATIONS`` loop turns, and no single value may grow past the part
limit, so ``{{ 'A' * 10**9 }}`` or a runaway loop is a :class:`TemplateError`
raised before the memory is taken, not a hang.

How the bounds hold without a separate process:

* only ``if``, ``for`` (not recursive), ``set`` (expression form), ``with`` and
  output are allowed; macros, blocks, block-``set``, ``filter`` blocks, includes and
  ``autoescape`` switches are refused. So all output streams out of
  ``Template.generate`` and is counted as it comes;
* every operator that can multiply size (``*``, ``**``, ``+``, ``%``) is intercepted
  and checked *before* it runs; so is every call (``str.center``, ``str.replace``,
  ``str.join``, ``str.format`` …) and every filter (``center``, ``indent``,
  ``replace``, ``join``, ``batch``, ``format`` …); ``~`` concatenations are checked;
* every ``for`` iterates through a counter that also checks the clock.

Before Jinja parses or compiles a part, its shape is bounded too (the limits below):
Jinja's parser and Python's compiler recurse, so a template of 50,000 brackets, 20,000
filters in a row or 101 nested ``{% if %}`` would otherwise end in a crash of the
parser instead of a message. :func:`_check_source` refuses characters that cannot be
stored or sent, :func:`_scan_tokens` measures brackets and blocks on Jinja's own
tokens (an iterative scan, before the parser), :func:`_check_shape` measures the
parsed tree with an explicit stack, and :func:`_check_constants` refuses a constant
expression that would grow too large (``{{ 'A' * 10**9 }}``) even in a branch the
trial render does not take. What still slips past (a recursion or compiler limit) is
caught around parse and compile and becomes a :class:`TemplateError` as well.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import inspect
import itertools
import operator
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html import escape as html_escape
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer

from mailing.catalogue import OBJECT_FIELDS, field_names, sample_context
from mailing.errors import ConfigError, TemplateError
from mailing.html_text import html_to_text
from store.records import LanguageCode, Relation, StoredFileRef, Template

if TYPE_CHECKING:
    from mailing.config import ConfigSnapshot

MAX_PART_CHARS = 1_000_000  # per rendered part, and per value inside an expression
MAX_SUBJECT_CHARS = 1_000
MAX_SOURCE_CHARS = 200_000  # per part of the template as typed
MAX_SECONDS = 2.0  # per message
MAX_ITERATIONS = 100_000  # loop turns per message
MAX_ITEMS = 100_000  # items a filter may produce or join
MAX_INT_BITS = 100_000

# The shape of a template part, checked before Jinja's parser and Python's compiler
# see it (both recurse; Python allows at most 20 nested loops and 100 indentations).
MAX_NESTING = 20  # {% if %} / {% for %} / {% with %} blocks inside each other
MAX_EXPR_DEPTH = 30  # brackets, signs, operators and filters inside each other
MAX_FILTER_CHAIN = 20  # filters in a row: {{ x|trim|upper|... }}
# wordwrap is slow on long words when the width is small (a 400,000-character word
# at width 1 takes seconds), so the width and the text it wraps are bounded.
MIN_WRAP_WIDTH = 10
MAX_WRAP_CHARS = 100_000

PARTS: tuple[str, ...] = ("subject", "body", "disclaimer")
DEFAULT_LOCALE = "nl_NL"


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


class _Limit(Exception):
    """A render bound was hit (internal; becomes a TemplateProblem)."""


class _BadValue(Exception):
    """A filter got a value it cannot format (internal; becomes a TemplateProblem)."""


# ---------------------------------------------------------------- per-render state


@dataclass
class _RenderState:
    locale: str
    deadline: float
    iterations: int = 0


_STATE: contextvars.ContextVar[_RenderState | None] = contextvars.ContextVar(
    "mailroom_render_state", default=None
)


def _tick() -> None:
    st = _STATE.get()
    if st is not None and time.monotonic() > st.deadline:
        raise _Limit(f"it took longer than {MAX_SECONDS:g} seconds to render")


def _weight(obj: Any, limit: int = MAX_PART_CHARS) -> int:
    """Roughly how many characters ``obj`` becomes as text; stops counting past ``limit``."""
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str | bytes):
            total += len(o)
        elif isinstance(o, dict):
            total += 1 + len(o)
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list | tuple | set | frozenset):
            total += 1 + len(o)
            if total > limit:
                return total
            stack.extend(o)
        elif isinstance(o, range):
            total += len(o) * 2
        elif isinstance(o, bool):
            total += 1
        elif isinstance(o, int):
            total += o.bit_length() // 3 + 1
        elif isinstance(o, Decimal):
            if o.is_finite():
                t = o.as_tuple()
                total += len(t.digits) + abs(int(t.exponent))
            else:
                total += 3
        else:
            total += 1
        if total > limit:
            return total
    return total


def _fail_on_undefined(obj: Any) -> None:
    """A list shown in the output must not hide an undefined value (StrictUndefined)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, jinja2.Undefined):
            o._fail_with_undefined_error()
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, list | tuple | set | frozenset):
            stack.extend(o)


def _refuse_big(what: str, size: int, limit: int = MAX_PART_CHARS) -> None:
    if size > limit:
        raise _Limit(f"{what} would be about {size:,} characters; at most {limit:,} are allowed")


def _check_value(obj: Any, what: str = "a value") -> None:
    _refuse_big(what, _weight(obj))


def _format_spec_size(fmt: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Upper bound of padding a format string (``%`` or ``{}``) can ask for."""
    size = len(fmt) + sum(int(d) for d in re.findall(r"\d+", fmt) if len(d) < 12)
    if any(len(d) >= 12 for d in re.findall(r"\d+", fmt)):
        return MAX_PART_CHARS + 1
    for a in itertools.chain(args, kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool):
            size += abs(a) if abs(a) > 1000 else 0
        size += _weight(a)
    return size


def _check_str_method(owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            _refuse_big(f"str.{name}()", width)
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            _refuse_big("str.expandtabs()", len(owner) + owner.count("\t") * max(tab, 0))
    elif name == "replace" and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        n = owner.count(old) if old else len(owner) + 1
        if isinstance(count, int) and count >= 0:
            n = min(n, count)
        _refuse_big("str.replace()", len(owner) + n * max(len(new) - len(old), 0))
    elif name in ("format", "format_map"):
        values = (
            args
            if name == "format"
            else tuple(args[0].values())
            if args and isinstance(args[0], dict)
            else args
        )
        _refuse_big(f"str.{name}()", _format_spec_size(owner, tuple(values), kwargs))


def _check_binop(op: str, left: Any, right: Any) -> None:
    """Raise _Limit when ``left op right`` would grow too large; checked before it runs."""
    if op == "*":
        _refuse_big("a multiplication", _mul_size(left, right))
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            if left.bit_length() * right > MAX_INT_BITS:
                raise _Limit("a power would be too large a number")
    elif op == "+":
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            _refuse_big("an addition", _weight(left) + _weight(right))
    elif op == "%" and isinstance(left, str):
        values = right if isinstance(right, tuple) else (right,)
        _refuse_big(
            "a % format",
            _format_spec_size(left, values, right if isinstance(right, dict) else {}),
        )


def _mul_size(left: Any, right: Any) -> int:
    for seq, n in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(n, int):
            return _weight(seq) * max(n, 0)
    if isinstance(left, int) and isinstance(right, int):
        return (left.bit_length() + right.bit_length()) // 3
    return 0


# ---------------------------------------------------------------- formatting filters


@functools.lru_cache(maxsize=64)
def _babel_locale(name: str) -> Any:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"The locale {name!r} is not known ({exc}).",
            field="locale",
            value=name,
            fix="use a locale such as nl_NL, en_GB or de_DE on the language code.",
        ) from None


def check_locale(name: str) -> str:
    """Raise ConfigError unless Babel knows ``name``; return it."""
    _babel_locale(name)
    return name


def _current_locale() -> Any:
    st = _STATE.get()
    return _babel_locale(st.locale if st else DEFAULT_LOCALE)


def _as_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        d = Decimal(str(value))
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise _BadValue(f"{what}: {value!r} is not a number") from None
    else:
        raise _BadValue(f"{what}: a {type(value).__name__} is not a number")
    if not d.is_finite() or (d != 0 and abs(d.adjusted()) > 30):
        raise _BadValue(f"{what}: {value!r} is out of range for an amount")
    return d


@jinja2.pass_context
def money_filter(
    context: jinja2.runtime.Context,
    value: Any,
    currency: str | None = None,
    symbol: bool = True,
) -> str:
    """``{{ total|money }}``: the amount in the document's currency and the language.

    ``€ 1.234,56`` for nl_NL, ``€1,234.56`` for en_GB, ``1.234,56 €`` for de_DE;
    ``symbol=False`` leaves the currency out (``1.234,56``). Empty for no value.
    """
    from babel.numbers import format_currency

    if value is None or value == "":
        return ""
    amount = _as_decimal(value, "money")
    cur = currency or context.get("currency") or "EUR"
    if not isinstance(cur, str) or not re.fullmatch(r"[A-Z]{3}", cur):
        raise _BadValue(f"money: {cur!r} is not a currency code such as EUR")
    loc = _current_locale()
    if symbol:
        return str(format_currency(amount, cur, locale=loc))
    return str(format_currency(amount, cur, format="#,##0.00", locale=loc, currency_digits=True))


@jinja2.pass_context
def amount_filter(context: jinja2.runtime.Context, value: Any, currency: str | None = None) -> str:
    """``{{ total|amount }}``: the amount without the currency, ``1.234,56`` / ``1,234.56``."""
    result: str = money_filter(context, value, currency, False)
    return result


def number_filter(value: Any, digits: int | None = None) -> str:
    """``{{ quantity|number }}``: a number with the language's separators."""
    from babel.numbers import format_decimal

    if value is None or value == "":
        return ""
    d = _as_decimal(value, "number")
    if digits is not None:
        if not isinstance(digits, int) or not 0 <= digits <= 10:
            raise _BadValue("number: digits must be between 0 and 10")
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return str(format_decimal(d, format=fmt, locale=_current_locale()))
    return str(format_decimal(d, locale=_current_locale()))


def _numeric_pattern(loc: Any) -> str:
    pattern = str(loc.date_formats["short"].pattern)
    return re.sub(r"y+", "yyyy", pattern)


def date_filter(value: Any, format: str = "short") -> str:
    """``{{ date|date }}``: ``14-03-2025`` (nl), ``14/03/2025`` (en_GB), ``14.03.2025`` (de).

    ``format`` may be ``short`` (the default: numeric with a four-digit year),
    ``medium``, ``long`` (``14 maart 2025``) or ``full``, or a Babel pattern such as
    ``d MMMM y``. Empty for no value.
    """
    from babel.dates import format_date

    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise _BadValue(f"date: a {type(value).__name__} is not a date")
    if not isinstance(format, str) or len(format) > 64:
        raise _BadValue("date: the format must be short, medium, long, full or a short pattern")
    loc = _current_locale()
    if format == "short":
        return str(format_date(value, _numeric_pattern(loc), locale=loc))
    return str(format_date(value, format, locale=loc))


# ---------------------------------------------------------------- guarded filters


_PASSED_NAMES = frozenset({"context", "eval_ctx", "environment", "env", "ctx"})


def _bind(
    f: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """(the filtered value, all arguments by name) of a filter call.

    Filters made with Jinja's ``async_variant`` take the passed context but show the
    signature of the plain function without it; both shapes are handled.
    """
    sig = inspect.signature(f)
    names = list(sig.parameters)
    skip = 1 if _PassArg.from_obj(f) is not None else 0
    if skip and names and names[0] in _PASSED_NAMES:
        to_bind = args
    else:
        to_bind, skip = args[skip:], 0
    try:
        bound = sig.bind(*to_bind, **kwargs)
    except TypeError:
        return None, {}
    bound.apply_defaults()
    values = list(bound.arguments.values())
    return (values[skip] if len(values) > skip else None), dict(bound.arguments)


def _check_filter_args(
    name: str, f: Callable[..., Any], args: tuple[Any, ...], kw: dict[str, Any]
) -> tuple[Any, ...]:
    """Specific checks for the filters that can multiply size; may return new args."""
    if name not in _SPECIAL_FILTERS:
        return args
    value, a = _bind(f, args, kw)
    skip = 1 if _PassArg.from_obj(f) is not None else 0
    if name == "center":
        width = a.get("width", 80)
        if isinstance(width, int):
            _refuse_big("center", width)
    elif name == "indent":
        width = a.get("width", 4)
        pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        _refuse_big("indent", _weight(value) + (str(value).count("\n") + 1) * max(pad, 0))
    elif name == "format":
        fmt = str(value)
        _refuse_big(
            "format", _format_spec_size(fmt, tuple(a.get("args", ())), dict(a.get("kwargs", {})))
        )
    elif name == "replace":
        s, old, new = str(value), str(a.get("old", "")), str(a.get("new", ""))
        n = s.count(old) if old else len(s) + 1
        count = a.get("count")
        if isinstance(count, int) and count >= 0:
            n = min(n, count)
        _refuse_big("replace", len(s) + n * max(len(new) - len(old), 0))
    elif name == "join":
        if not isinstance(value, str | list | tuple | dict):
            items = list(itertools.islice(iter(value), MAX_ITEMS + 1)) if value is not None else []
            if len(items) > MAX_ITEMS:
                raise _Limit(f"join: more than {MAX_ITEMS:,} items")
            args = (*args[:skip], items, *args[skip + 1 :])
            value = items
        sep = a.get("d", "")
        n = len(value) if isinstance(value, str | list | tuple | dict) else 0
        _refuse_big("join", _weight(value) + len(str(sep)) * n)
    elif name in ("batch", "slice"):
        count = a.get("linecount" if name == "batch" else "slices")
        if isinstance(count, int) and count > MAX_ITEMS:
            raise _Limit(f"{name}: at most {MAX_ITEMS:,} per group")
    elif name == "sum":
        start = a.get("start", 0)
        if not isinstance(start, int | float | Decimal):
            raise _Limit("sum: only numbers can be added up")
    elif name == "tojson":
        indent = a.get("indent")
        if isinstance(indent, int) and indent > 16:
            raise _Limit("tojson: indent at most 16")
    elif name == "wordwrap":
        width = a.get("width", 79)
        if isinstance(width, int) and width < MIN_WRAP_WIDTH:
            raise _BadValue(
                f"wordwrap: the width must be at least {MIN_WRAP_WIDTH} characters, not {width}"
            )
        if _weight(value, MAX_WRAP_CHARS) > MAX_WRAP_CHARS:
            raise _BadValue(
                f"wordwrap: the text is about {_weight(value):,} characters; at most "
                f"{MAX_WRAP_CHARS:,} can be wrapped"
            )
        wrap = a.get("wrapstring") or "\n"
        _refuse_big("wordwrap", _weight(value) * (1 + len(str(wrap))))
    elif name == "round":
        precision = a.get("precision", 0)
        if isinstance(precision, int) and precision > 30:
            raise _Limit("round: at most 30 digits")
    elif name == "truncate":
        end = a.get("end", "...")
        _refuse_big("truncate", _weight(value) + len(str(end)))
    return args


_SPECIAL_FILTERS = frozenset(
    {
        "center",
        "indent",
        "format",
        "replace",
        "join",
        "batch",
        "slice",
        "sum",
        "tojson",
        "wordwrap",
        "round",
        "truncate",
    }
)


def _guard_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    skip = 1 if _PassArg.from_obj(f) is not None else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        for v in itertools.chain(args[skip:], kwargs.values()):
            _check_value(v, f"the input of the {name} filter")
        args = _check_filter_args(name, f, args, kwargs)
        result = f(*args, **kwargs)
        _check_value(result, f"the result of the {name} filter")
        return result

    functools.update_wrapper(guarded, f)
    return guarded


def _loop_guard(iterable: Any) -> Iterator[Any]:
    """Wraps the iterable of every ``for``: counts turns and checks the clock."""
    st = _STATE.get()
    for item in iterable:
        if st is not None:
            st.iterations += 1
            if st.iterations > MAX_ITERATIONS:
                raise _Limit(f"loops turned more than {MAX_ITERATIONS:,} times")
            if st.iterations % 256 == 0 and time.monotonic() > st.deadline:
                raise _Limit(f"it took longer than {MAX_SECONDS:g} seconds to render")
        yield item


def _piece_guard(value: Any) -> Any:
    _check_value(value, "a joined text (~)")
    return value


# ---------------------------------------------------------------- the environment

_LOOP_FILTER = "mailroom_loop_guard"
_PIECE_FILTER = "mailroom_piece_guard"
_ALLOWED_STMTS: tuple[type[nodes.Node], ...] = (
    nodes.Output,
    nodes.If,
    nodes.For,
    nodes.Assign,
    nodes.With,
)


class _Forbidden(TemplateSyntaxError):
    def __init__(self, message: str, lineno: int | None, word: str) -> None:
        super().__init__(message, lineno or 1)
        self.word = word


_STMT_WORDS: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.FilterBlock: "filter",
    nodes.AssignBlock: "set",
    nodes.Block: "block",
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
    nodes.ScopedEvalContextModifier: "autoescape",
    nodes.Scope: "autoescape",
    nodes.EvalContextModifier: "autoescape",
}


def _check_safety(tree: nodes.Template) -> None:
    """Refuse what a mail template does not need and what would escape the bounds."""
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Stmt) and not isinstance(node, _ALLOWED_STMTS):
            word = _STMT_WORDS.get(type(node), type(node).__name__.lower())
            extra = " (use {% set name = ... %} instead)" if word == "set" else ""
            raise _Forbidden(
                f"'{{% {word} %}}' cannot be used in a mail template{extra}; "
                "if, for, set and with can",
                node.lineno,
                word,
            )
        if isinstance(node, nodes.For) and node.recursive:
            raise _Forbidden(
                "recursive loops cannot be used in a mail template", node.lineno, "recursive"
            )
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise _Forbidden(f"the attribute {node.attr!r} is not allowed", node.lineno, node.attr)
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            if isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
                raise _Forbidden(
                    f"the item {node.arg.value!r} is not allowed", node.lineno, node.arg.value
                )
        if isinstance(node, nodes.Filter | nodes.Test | nodes.Call):
            # |attr('_x'), |map('attr', '_x'), |map(attribute='_x'), |sort(attribute=...)
            args = [*node.args, *(kw.value for kw in node.kwargs)]
            for arg in args:
                if isinstance(arg, nodes.Const) and str(arg.value).startswith("_"):
                    word = node.name if isinstance(node, nodes.Filter | nodes.Test) else ""
                    raise _Forbidden(
                        f"the attribute {arg.value!r} is not allowed",
                        node.lineno,
                        word or str(arg.value),
                    )
        if isinstance(node, nodes.Filter | nodes.Test) and node.name.startswith("mailroom_"):
            raise _Forbidden(f"the filter {node.name!r} is internal", node.lineno, node.name)
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            if re.search(r"\{[^{}]*[.\[]_", node.value):
                raise _Forbidden(
                    "a format string may not reach attributes starting with '_'",
                    node.lineno,
                    node.value[:20],
                )
        if isinstance(node, nodes.Name) and node.name == "self":
            raise _Forbidden("the name 'self' is not allowed", node.lineno, "self")


# ---------------------------------------------------------------- the shape of a part


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


_FIX_SIMPLER = "simplify the expression: work it out in steps with {% set name = ... %}."
_FIX_BLOCKS = (
    "simplify the template: close a block before opening the next, or combine "
    "conditions with 'and' in one {% if %}."
)
_FIX_FILTERS = "use fewer filters in a row; most fields need one, e.g. {{ total|money }}."
_FIX_WRAP = f"give wordwrap a width of at least {MIN_WRAP_WIDTH}, e.g. wordwrap(72)."
_FIX_SMALLER = "make the template produce less (repeats, very large numbers)."

_BLOCK_OPENERS = frozenset(
    {"if", "for", "with", "macro", "call", "filter", "block", "autoescape", "trans"}
)
_EXPR_KEYWORDS = frozenset({"not", "and", "or", "in", "is", "if", "else"})
_OPEN = frozenset({"(", "[", "{"})
_CLOSE = frozenset({")", "]", "}"})
_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _check_source(code: str, part: str, source: str) -> str:
    """The part with line ends normalised; TemplateProblem when it is too long or unsendable."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateProblem(
            f"The {part} of template {code!r} is {len(source):,} characters; at most "
            f"{MAX_SOURCE_CHARS:,} are allowed.",
            template=code,
            part=part,
            name=_shorten(source[:60]),
            fix=f"shorten the {part}.",
        )
    src = _normalise(source)
    bad = _SURROGATE.search(src)
    if bad is not None:
        line, col = _line_column(src, bad.start())
        char = f"U+{ord(bad.group()):04X}"
        raise TemplateProblem(
            f"In {_where(code, part, line, col)}: there is an invalid character ({char}, half "
            "of a broken character pair); it cannot be stored or sent.",
            template=code,
            part=part,
            line=line,
            column=col,
            name=char,
            fix="delete that character and type it again; it usually comes from copying and "
            "pasting.",
        )
    return src


def _scan_tokens(env: jinja2.Environment, source: str, name: str | None) -> None:
    """Refuse brackets or blocks nested too deep, on Jinja's tokens, before the parser runs.

    The parser recurses for every bracket, every ``not`` or sign in front of a value and
    every block, so this is measured here, iteratively, on the lexer's token stream.
    Scans the whole part so the message gives the deepest nesting; raises _OverLimit.
    """
    pos = 0
    blocks = 0  # blocks open now
    deepest_blocks, blocks_at = 0, -1  # the deepest, and where the limit was first passed
    brackets: list[int] = []  # per open bracket: the signs in a row just before it
    signs_outside = 0  # signs before the open brackets and inline ifs, together
    signs = 0  # `not` / `-` / `+` in a row now
    deepest_expr, expr_at, by_signs = 0, -1, False
    keyword_next = set_block = False
    tag_start = 0
    prev_kind, prev_value = "", ""
    for _lineno, kind, value in env.lexer.tokeniter(source, name):
        found = source.find(value, pos) if value else -1
        at = found if found >= 0 else pos
        pos = at + len(value)
        if kind == "whitespace":
            continue
        operand_before = (
            prev_kind in ("name", "integer", "float", "string") and prev_value not in _EXPR_KEYWORDS
        ) or (prev_kind == "operator" and prev_value in _CLOSE)
        if kind in ("variable_begin", "block_begin"):
            brackets.clear()
            signs_outside = signs = 0
            keyword_next = kind == "block_begin"
            set_block = False
            tag_start = at
        elif keyword_next:
            keyword_next = False
            if kind != "name":
                pass
            elif value in _BLOCK_OPENERS:
                blocks += 1
                if blocks > deepest_blocks:
                    deepest_blocks = blocks
                    if blocks == MAX_NESTING + 1:
                        blocks_at = tag_start
            elif value.startswith("end"):
                blocks = max(blocks - 1, 0)
            elif value == "set":
                set_block = True  # a block unless an '=' follows
        elif kind == "block_end":
            if set_block:
                blocks += 1
                if blocks > deepest_blocks:
                    deepest_blocks = blocks
                    if blocks == MAX_NESTING + 1:
                        blocks_at = tag_start
            set_block = False
        elif kind == "operator" and value in _OPEN:
            brackets.append(signs)
            signs_outside += signs
            signs = 0
        elif kind == "operator" and value in _CLOSE:
            signs_outside -= brackets.pop() if brackets else 0
            signs = 0
        elif not operand_before and (
            (kind == "operator" and value in ("-", "+")) or (kind == "name" and value == "not")
        ):
            signs += 1
        elif operand_before and kind == "name" and value == "if":
            # `a if b else c if d else ...`: the parser recurses for every inline if,
            # until the bracket around it closes.
            signs = 0
            signs_outside += 1
            if brackets:
                brackets[-1] += 1
        else:
            if kind == "operator" and value == "=":
                set_block = False
            signs = 0
        level = len(brackets) + signs_outside + signs
        if level > deepest_expr:
            deepest_expr = level
            if level == MAX_EXPR_DEPTH + 1:
                expr_at, by_signs = at, len(brackets) <= MAX_EXPR_DEPTH
        prev_kind, prev_value = kind, value
    if blocks_at >= 0:
        line, col = _line_column(source, blocks_at)
        raise _OverLimit(
            f"blocks ({{% if %}}, {{% for %}}, {{% with %}}) are nested {deepest_blocks:,} "
            f"deep; at most {MAX_NESTING} are allowed",
            line,
            _tag_at(source, blocks_at),
            _FIX_BLOCKS,
            col,
        )
    if expr_at >= 0:
        line, col = _line_column(source, expr_at)
        what = "brackets, signs (not, -) and inline ifs" if by_signs else "brackets"
        raise _OverLimit(
            f"{what} are nested {deepest_expr:,} deep; at most {MAX_EXPR_DEPTH} are allowed",
            line,
            _shorten(source[expr_at : expr_at + 60]),
            _FIX_SIMPLER,
            col,
        )


_BLOCK_STMTS: tuple[type[nodes.Node], ...] = (
    nodes.If,
    nodes.For,
    nodes.With,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
    nodes.Block,
    nodes.Scope,
    nodes.ScopedEvalContextModifier,
    nodes.OverlayScope,
)
# Expressions whose value the constant check can work out (with Const).
_FOLDABLE: tuple[type[nodes.Node], ...] = (
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
)


@dataclass
class _Shape:
    """What :func:`_check_shape` found for the later checks."""

    constants: list[nodes.Expr] = field(default_factory=list)  # outermost foldable nodes
    wraps: list[nodes.Filter] = field(default_factory=list)  # wordwrap filters


def _check_shape(tree: nodes.Template) -> _Shape:
    """Refuse a parsed part nested too deep, with an explicit stack (no recursion).

    Blocks inside blocks (``elif`` counts as its ``if``), expressions inside
    expressions, and filters in a row are measured over the whole tree; the first
    limit passed raises _OverLimit with the deepest value found.
    """
    shape = _Shape()
    deepest_blocks, blocks_line = 0, 0
    longest_chain, chain_line, chain_word = 0, 0, ""
    deepest_expr, expr_line = 0, 0
    # node, parent, blocks around it, expression depth of its parent, filters in a row below
    stack: list[tuple[nodes.Node, nodes.Node | None, int, int, int]] = [(tree, None, 0, 0, 0)]
    while stack:
        node, parent, blocks, depth, chain = stack.pop()
        lineno = getattr(node, "lineno", 0) or 0
        inner = blocks
        if isinstance(node, _BLOCK_STMTS):
            inner = blocks + 1
            if inner > deepest_blocks:
                deepest_blocks = inner
                if inner == MAX_NESTING + 1:
                    blocks_line = lineno
        if isinstance(node, nodes.Expr):
            depth += 1
            if depth > deepest_expr:
                deepest_expr = depth
                if depth == MAX_EXPR_DEPTH + 1:
                    expr_line = lineno
            if isinstance(node, _FOLDABLE) and not isinstance(parent, _FOLDABLE):
                shape.constants.append(node)
        elif not isinstance(node, nodes.Helper):
            depth = 0  # a statement starts its expressions afresh
        if isinstance(node, nodes.Filter):
            chain += 1
            if chain > longest_chain:
                longest_chain = chain
                if chain == MAX_FILTER_CHAIN + 1:
                    chain_line, chain_word = lineno, node.name
            if node.name == "wordwrap":
                shape.wraps.append(node)
        elif_ids = {id(n) for n in node.elif_} if isinstance(node, nodes.If) else set()
        for child in node.iter_child_nodes():
            if id(child) in elif_ids:
                stack.append((child, node, blocks, 0, 0))  # an elif is as deep as its if
                continue
            follows = isinstance(node, nodes.Filter) and child is node.node
            stack.append((child, node, inner, depth, chain if follows else 0))
    if blocks_line:
        raise _OverLimit(
            f"blocks ({{% if %}}, {{% for %}}, {{% with %}}) are nested {deepest_blocks:,} "
            f"deep; at most {MAX_NESTING} are allowed",
            blocks_line,
            "",
            _FIX_BLOCKS,
        )
    if chain_line:
        raise _OverLimit(
            f"{longest_chain:,} filters follow each other (|{chain_word}|…); at most "
            f"{MAX_FILTER_CHAIN} are allowed in a row",
            chain_line,
            chain_word,
            _FIX_FILTERS,
        )
    if expr_line:
        raise _OverLimit(
            f"an expression is nested {deepest_expr:,} levels deep (brackets, operators and "
            f"filters inside each other); at most {MAX_EXPR_DEPTH} are allowed",
            expr_line,
            "",
            _FIX_SIMPLER,
        )
    return shape


_NOT_CONSTANT = object()
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


def _constant_value(node: nodes.Node) -> Any:
    """The value of a constant expression, worked out only while it stays within the bounds.

    Raises _Limit before a value would grow too large (the same checks as at render
    time); _NOT_CONSTANT when the expression needs a field or fails otherwise (the
    render reports that). Recursive, but only over a tree :func:`_check_shape` bounded.
    """
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.List | nodes.Tuple):
        items = [_constant_value(n) for n in node.items]
        if any(i is _NOT_CONSTANT for i in items):
            return _NOT_CONSTANT
        _check_value(items, "a list")
        return items if isinstance(node, nodes.List) else tuple(items)
    if isinstance(node, nodes.Concat):
        pieces = [_constant_value(n) for n in node.nodes]
        if any(p is _NOT_CONSTANT for p in pieces):
            return _NOT_CONSTANT
        _refuse_big("a joined text (~)", sum(_weight(p) for p in pieces))
        return "".join(str(p) for p in pieces)
    if isinstance(node, nodes.Neg | nodes.Pos):
        value = _constant_value(node.node)
        if isinstance(value, int | float):
            return -value if isinstance(node, nodes.Neg) else +value
        return _NOT_CONSTANT
    if isinstance(node, nodes.BinExpr) and node.operator in _ARITHMETIC:
        left, right = _constant_value(node.left), _constant_value(node.right)
        if left is _NOT_CONSTANT or right is _NOT_CONSTANT:
            return _NOT_CONSTANT
        _check_binop(node.operator, left, right)
        try:
            result = _ARITHMETIC[node.operator](left, right)
        except (ArithmeticError, TypeError, ValueError):
            return _NOT_CONSTANT
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise _Limit("a number would grow too large")
        _check_value(result)
        return result
    return _NOT_CONSTANT


def _check_constants(shape: _Shape) -> None:
    """Refuse at save what is bound to fail at render whatever the fields hold."""
    for node in shape.constants:
        try:
            _constant_value(node)
        except _Limit as exc:
            raise _OverLimit(str(exc), node.lineno, "", _FIX_SMALLER) from None
    for wrap in shape.wraps:
        width: nodes.Expr | None = wrap.args[0] if wrap.args else None
        for kw in wrap.kwargs:
            if kw.key == "width":
                width = kw.value
        try:
            value = _constant_value(width) if width is not None else _NOT_CONSTANT
        except _Limit:
            value = _NOT_CONSTANT
        if isinstance(value, int) and value < MIN_WRAP_WIDTH:
            raise _OverLimit(
                f"wordwrap({value}) is too narrow; the width must be at least "
                f"{MIN_WRAP_WIDTH} characters",
                wrap.lineno,
                "wordwrap",
                _FIX_WRAP,
            )


class _Guard(NodeTransformer):
    """Route every loop through the counter and every ``~`` through the size check."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [
            nodes.Filter(n, _PIECE_FILTER, [], [], None, None, lineno=node.lineno)
            for n in node.nodes
        ]
        return nodes.Filter(node, _PIECE_FILTER, [], [], None, None, lineno=node.lineno)


class MailEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with size, time and statement bounds (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "-", "/", "//"})

    def __init__(self, autoescape: bool) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            optimized=False,  # no constant folding: nothing runs at save time
            keep_trailing_newline=True,
            finalize=self._finalize,
        )
        self.globals.pop("lipsum", None)
        self.filters["money"] = money_filter
        self.filters["amount"] = amount_filter
        self.filters["number"] = number_filter
        self.filters["date"] = date_filter
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters[_LOOP_FILTER] = _loop_guard
        self.filters[_PIECE_FILTER] = _piece_guard

    @staticmethod
    def _finalize(value: Any) -> Any:
        _check_value(value, "an expression's value")
        if isinstance(value, list | tuple | set | frozenset | dict):
            _fail_on_undefined(value)
        return value

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        _scan_tokens(self, source, name)  # before the parser, which recurses
        tree = super()._parse(source, name, filename)
        shape = _check_shape(tree)  # before anything walks the tree recursively
        _check_safety(tree)
        _check_constants(shape)
        result = _Guard().visit(tree)
        assert isinstance(result, nodes.Template)
        return result

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        _tick()
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise _Limit("a number grew too large")
        return result

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:
        _tick()
        for v in itertools.chain(args, kwargs.values()):
            _check_value(v, "an argument")
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            name = getattr(target, "__name__", "")
            if name == "join" and args:
                items = list(itertools.islice(iter(args[0]), MAX_ITEMS + 1))
                if len(items) > MAX_ITEMS:
                    raise _Limit(f"join: more than {MAX_ITEMS:,} items")
                _refuse_big("str.join()", _weight(items) + len(owner) * len(items))
                args = (items, *args[1:])
            else:
                _check_str_method(owner, name, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if not inspect.isgenerator(result):
            _check_value(result, "the result of a call")
        return result


_ENVS: dict[bool, MailEnvironment] = {}


def environment(html: bool) -> MailEnvironment:
    """The shared environment: autoescaped for HTML parts, plain for subject and text."""
    env = _ENVS.get(html)
    if env is None:
        env = _ENVS[html] = MailEnvironment(autoescape=html)
    return env


@functools.lru_cache(maxsize=512)
def _compiled(html: bool, part: str, source: str) -> jinja2.Template:
    return environment(html).from_string(_normalise(source))


def _normalise(source: str) -> str:
    return source.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- positions


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


# ---------------------------------------------------------------- validation


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
        col = _column(src, exc.lineno, exc.word)
        raise TemplateProblem(
            f"In {_where(code, part, exc.lineno, col)}: {exc.message}.",
            template=code,
            part=part,
            line=exc.lineno,
            column=col,
            name=exc.word,
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
            fix="pick a name from the list of the template's object (Formule wijzigen).",
        )


# ---------------------------------------------------------------- rendering


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
        col = _column(src, exc.lineno, exc.word)
        raise TemplateProblem(
            f"In {_where(code, part, exc.lineno, col)}: {exc.message}.",
            template=code,
            part=part,
            line=exc.lineno,
            column=col,
            name=exc.word,
            fix="remove it from the template.",
        ) from None
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


def compose_text(body: str, disclaimer: str = "", signature: str = "") -> str:
    parts = [body.strip("\n")]
    if signature.strip():
        parts.append(signature.strip("\n"))
    if disclaimer.strip():
        parts.append(disclaimer.strip("\n"))
    return "\n\n".join(p for p in parts if p) + "\n"


def last_body_close(html: str) -> int | None:
    """Where the last ``</body>`` starts, if any."""
    ends = [m.start() for m in re.finditer(r"</body\s*>", html, re.IGNORECASE)]
    return ends[-1] if ends else None


def compose_html(body: str, disclaimer: str = "", signature: str = "") -> str:
    """Body, signature (escaped text) and disclaimer as one HTML document."""
    extra = ""
    if signature.strip():
        sig = html_escape(signature.strip("\n")).replace("\n", "<br>\n")
        extra += f'\n<p class="signature">{sig}</p>'
    if disclaimer.strip():
        extra += (
            '\n<div class="disclaimer" style="margin-top:2em;font-size:smaller;color:#666666">'
            f"{disclaimer}</div>"
        )
    if re.search(r"<html[\s>]", body, re.I):
        end = last_body_close(body)
        if end is not None:
            return body[:end] + extra + "\n" + body[end:]
        return body + extra
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n'
        f"{body}{extra}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------- language codes


def language_for(cfg: ConfigSnapshot, relation: Relation) -> LanguageCode:
    """The relation's language code, or ConfigError naming the relation and the code."""
    lc = cfg.language_of(relation)
    if lc is None:
        known = sorted(code for (adm, code) in cfg.language_codes if adm == relation.administration)
        raise ConfigError(
            f"Relation {relation.code} ({relation.name}) has language code {relation.language!r}, "
            f"which administration {relation.administration} does not have.",
            field="language",
            value=relation.language,
            fix=(
                f"give the relation one of {', '.join(known)}, or add language code "
                f"{relation.language} to administration {relation.administration}."
                if known
                else f"add language code {relation.language} to administration "
                f"{relation.administration}."
            ),
        )
    return lc


def template_for(cfg: ConfigSnapshot, relation: Relation, doc_type: str) -> Template:
    """The template the relation's language code assigns to ``doc_type`` (SPEC §2).

    Raises ConfigError naming the language code and the document type when the code
    has no template for that type, when the template does not exist, or when it is
    for another object.
    """
    lc = language_for(cfg, relation)
    code = lc.templates.get(doc_type)  # type: ignore[call-overload]
    if not code:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} has no template "
            f"for document type {doc_type}.",
            field=f"language code {lc.code} / {doc_type}",
            value=doc_type,
            fix=f"assign a {doc_type} template to language code {lc.code}.",
        )
    t = cfg.templates.get(code)
    if t is None:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} assigns template "
            f"{code!r} to document type {doc_type}, but that template does not exist.",
            field=f"language code {lc.code} / {doc_type}",
            value=code,
            fix=f"create template {code}, or assign an existing {doc_type} template.",
        )
    if t.object != doc_type:
        raise ConfigError(
            f"Language code {lc.code} of administration {lc.administration} assigns template "
            f"{code!r} to document type {doc_type}, but that template is for {t.object}.",
            field=f"language code {lc.code} / {doc_type}",
            value=code,
            fix=f"assign a template whose object is {doc_type}.",
        )
    return t
