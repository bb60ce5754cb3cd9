"""The Jinja2 sandbox: MailEnvironment, its statement and attribute safety check, the shared environments."""

from __future__ import annotations

import functools
import inspect
import itertools
import re
from typing import Any

import jinja2
from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from mailing.render.filters import amount_filter, date_filter, money_filter, number_filter
from mailing.render.guards import _guard_filter, _loop_guard, _piece_guard
from mailing.render.limits import (
    MAX_INT_BITS,
    MAX_ITEMS,
    _check_binop,
    _check_str_method,
    _check_value,
    _fail_on_undefined,
    _Limit,
    _refuse_big,
    _weight,
)
from mailing.render.problems import _Forbidden
from mailing.render.shape import _check_constants, _check_shape
from mailing.render.source import _normalise, _scan_tokens
from mailing.render.state import _tick

_LOOP_FILTER = "mailroom_loop_guard"
_PIECE_FILTER = "mailroom_piece_guard"
_ALLOWED_STMTS: tuple[type[nodes.Node], ...] = (
    nodes.Output,
    nodes.If,
    nodes.For,
    nodes.Assign,
    nodes.With,
)


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
    """The sandbox with size, time and statement bounds (see the package docstring)."""

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
        # Jinja's own parse step, overridden (pinned: mailing/render/jinja_adapter.py)
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
