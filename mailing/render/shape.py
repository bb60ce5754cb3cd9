"""The parsed shape of a part: nesting, filter chains and constants that would grow too large."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import nodes

from mailing.render.limits import (
    _FIX_BLOCKS,
    _FIX_FILTERS,
    _FIX_SIMPLER,
    _FIX_SMALLER,
    _FIX_WRAP,
    MAX_EXPR_DEPTH,
    MAX_FILTER_CHAIN,
    MAX_INT_BITS,
    MAX_NESTING,
    MIN_WRAP_WIDTH,
    _check_binop,
    _check_value,
    _Limit,
    _refuse_big,
    _weight,
)
from mailing.render.problems import _OverLimit

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
