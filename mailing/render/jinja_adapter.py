"""Jinja's private parts that Mailroom uses, in one place (pinned by
``tests/unit/test_library_internals.py``; see mailing/pdf/reportlab_adapter.py for why).

- ``Undefined._fail_with_undefined_error()``: raise the error an undefined value stands
  for (a list shown in the output must not hide one, limits.py);
- ``Environment._parse(source, name, filename)``: overridden by sandbox.py, which checks
  the tokens before the parser and the tree after it.
"""

from __future__ import annotations

import jinja2


def fail_undefined(value: jinja2.Undefined) -> None:
    """Raise the ``UndefinedError`` that ``value`` stands for (StrictUndefined's)."""
    value._fail_with_undefined_error()
