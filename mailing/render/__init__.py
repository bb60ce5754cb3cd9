"""Rendering templates: expressions in a sandbox, bounded, formatted per language.

This package owns the mail templates' expression language from save to send: the
sandbox and its bounds, the formatting filters, validation when a template is
saved, rendering into a :class:`RenderedMessage`, composing the body with the
signature and disclaimer, and choosing a relation's template. One idea a module:

* ``limits`` - the bounds (``MAX_*``) and the size checks on values;
* ``positions`` - line and column of a word in a part;
* ``problems`` - :class:`TemplateProblem`, the internal errors and their messages;
* ``state`` - the locale, deadline and loop count of the render under way;
* ``source`` - the part as typed: unsendable characters, the token scan;
* ``shape`` - the parsed tree: nesting, filter chains, constants too large;
* ``filters`` - ``money``, ``amount``, ``number``, ``date`` in a Babel locale;
* ``guards`` - every filter call and loop turn checked against the bounds;
* ``sandbox`` - :class:`MailEnvironment`, its safety check, :func:`environment`;
* ``validate`` - :func:`validate_template`, the check at save;
* ``message`` - :func:`render_template` into a :class:`RenderedMessage`;
* ``compose`` - :func:`compose_text` / :func:`compose_html` with signature and disclaimer;
* ``choice`` - :func:`language_for` / :func:`template_for`.

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

Before Jinja parses or compiles a part, its shape is bounded too (the limits in ``limits``):
Jinja's parser and Python's compiler recurse, so a template of 50,000 brackets, 20,000
filters in a row or 101 nested ``{% if %}`` would otherwise end in a crash of the
parser instead of a message. ``source._check_source`` refuses characters that cannot be
stored or sent, ``source._scan_tokens`` measures brackets and blocks on Jinja's own
tokens (an iterative scan, before the parser), ``shape._check_shape`` measures the
parsed tree with an explicit stack, and ``shape._check_constants`` refuses a constant
expression that would grow too large (``{{ 'A' * 10**9 }}``) even in a branch the
trial render does not take. What still slips past (a recursion or compiler limit) is
caught around parse and compile and becomes a :class:`TemplateError` as well.
"""

from mailing.render.choice import language_for, template_for
from mailing.render.compose import compose_html, compose_text, last_body_close
from mailing.render.filters import (
    DEFAULT_LOCALE,
    amount_filter,
    check_locale,
    date_filter,
    money_filter,
    number_filter,
)
from mailing.render.html_text import html_to_text
from mailing.render.limits import (
    MAX_EXPR_DEPTH,
    MAX_FILTER_CHAIN,
    MAX_INT_BITS,
    MAX_ITEMS,
    MAX_ITERATIONS,
    MAX_NESTING,
    MAX_PART_CHARS,
    MAX_SECONDS,
    MAX_SOURCE_CHARS,
    MAX_SUBJECT_CHARS,
    MAX_WRAP_CHARS,
    MIN_WRAP_WIDTH,
)
from mailing.render.message import PARTS, RenderedMessage, render_template
from mailing.render.problems import TemplateProblem
from mailing.render.problems import _unreadable as _unreadable  # reached by tests
from mailing.render.sandbox import MailEnvironment, environment
from mailing.render.sandbox import _compiled as _compiled  # reached by tests
from mailing.render.shape import _Shape as _Shape  # reached by tests
from mailing.render.validate import validate_template

__all__ = [
    "DEFAULT_LOCALE",
    "MAX_EXPR_DEPTH",
    "MAX_FILTER_CHAIN",
    "MAX_INT_BITS",
    "MAX_ITEMS",
    "MAX_ITERATIONS",
    "MAX_NESTING",
    "MAX_PART_CHARS",
    "MAX_SECONDS",
    "MAX_SOURCE_CHARS",
    "MAX_SUBJECT_CHARS",
    "MAX_WRAP_CHARS",
    "MIN_WRAP_WIDTH",
    "PARTS",
    "MailEnvironment",
    "RenderedMessage",
    "TemplateProblem",
    "amount_filter",
    "check_locale",
    "compose_html",
    "compose_text",
    "date_filter",
    "environment",
    "html_to_text",
    "language_for",
    "last_body_close",
    "money_filter",
    "number_filter",
    "render_template",
    "template_for",
    "validate_template",
]
