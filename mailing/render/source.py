"""The part as typed: characters that cannot be sent, and brackets and blocks nested too deep."""

from __future__ import annotations

import re

import jinja2

from mailing.render.limits import (
    _FIX_BLOCKS,
    _FIX_SIMPLER,
    MAX_EXPR_DEPTH,
    MAX_NESTING,
    MAX_SOURCE_CHARS,
)
from mailing.render.positions import _line_column, _shorten, _tag_at, _where
from mailing.render.problems import TemplateProblem, _OverLimit

_BLOCK_OPENERS = frozenset(
    {"if", "for", "with", "macro", "call", "filter", "block", "autoescape", "trans"}
)
_EXPR_KEYWORDS = frozenset({"not", "and", "or", "in", "is", "if", "else"})
_OPEN = frozenset({"(", "[", "{"})
_CLOSE = frozenset({")", "]", "}"})
_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _normalise(source: str) -> str:
    return source.replace("\r\n", "\n").replace("\r", "\n")
