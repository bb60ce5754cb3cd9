"""The bounds on a template and its render, and the size checks that keep values within them."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

import jinja2

from mailing.render.jinja_adapter import fail_undefined

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


_FIX_SIMPLER = "simplify the expression: work it out in steps with {% set name = ... %}."
_FIX_BLOCKS = (
    "simplify the template: close a block before opening the next, or combine "
    "conditions with 'and' in one {% if %}."
)
_FIX_FILTERS = "use fewer filters in a row; most fields need one, e.g. {{ total|money }}."
_FIX_WRAP = f"give wordwrap a width of at least {MIN_WRAP_WIDTH}, e.g. wordwrap(72)."
_FIX_SMALLER = "make the template produce less (repeats, very large numbers)."


class _Limit(Exception):
    """A render bound was hit (internal; becomes a TemplateProblem)."""


def _weight(obj: Any, limit: int = MAX_PART_CHARS) -> int:
    """Roughly how many characters ``obj`` becomes as text; stops counting past ``limit``."""
    if type(obj) is str:  # most values: what the loop below gives a text, without it
        return len(obj)
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
            fail_undefined(o)
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
