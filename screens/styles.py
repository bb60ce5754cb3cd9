"""The style sheets of the panes, dialogs and widgets.

A module's styles are in the ``.tcss`` file of the same name beside it (``queue.py``:
``queue.tcss``); the app (``tui.app``) loads them all, the widgets' first, then the
panes' and dialogs', then its own (``tui/app.tcss``): at equal specificity the later
rule wins. They are package data (pyproject.toml), so an installed copy has them.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent

STYLE_SHEETS: tuple[Path, ...] = (
    *sorted((_HERE / "widgets").glob("*.tcss")),
    *sorted(_HERE.glob("*.tcss")),
)
