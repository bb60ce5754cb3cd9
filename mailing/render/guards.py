"""Guarded filters and loops: every filter call and loop turn checked against the bounds."""

from __future__ import annotations

import functools
import inspect
import itertools
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from jinja2.utils import _PassArg

from mailing.render.limits import (
    MAX_ITEMS,
    MAX_ITERATIONS,
    MAX_SECONDS,
    MAX_WRAP_CHARS,
    MIN_WRAP_WIDTH,
    _check_value,
    _format_spec_size,
    _Limit,
    _refuse_big,
    _weight,
)
from mailing.render.problems import _BadValue
from mailing.render.state import _STATE, _tick

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
