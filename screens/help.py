"""The help screen: in words, every key of the screen it was opened on, as bound now.

The keys are read from the screen below the help (its focused widget, the widgets
around it, the pane, the screen and the app), so a pane, the preview and the
hand-written mail screen each list their own keys, Space and Enter included.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from screens.textual_adapter import binding_chain

# Key names as a person reads them on a keyboard.
_KEY_WORDS = {
    "space": "Space",
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "slash": "/",
    "full_stop": ".",
    "question_mark": "?",
    "minus": "-",
    "plus": "+",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "delete": "Delete",
    "backspace": "Backspace",
    "ctrl+right_square_bracket": "ctrl+]",
}

# Keys of Textual's own widgets worth listing (the rest is the usual editing), in words.
_WIDGET_KEYS = {
    "enter": "Open or choose the highlighted line",
    "space": "Mark the line, or tick the box",
    "up": "Previous line",
    "down": "Next line",
    "pageup": "A screen up",
    "pagedown": "A screen down",
    "home": "To the first line",
    "end": "To the last line",
}


def key_words(keys: str) -> str:
    """``slash,ctrl+l`` -> ``/, ctrl+l``; ``f7`` -> ``F7``."""
    out = []
    for key in (k.strip() for k in keys.split(",") if k.strip()):
        if key in _KEY_WORDS:
            out.append(_KEY_WORDS[key])
        elif key.startswith("f") and key[1:].isdigit():
            out.append(key.upper())
        else:
            out.append(key)
    return ", ".join(out)


def _where(node: Any, screen: Screen[Any]) -> str:
    from textual.app import App

    from screens.widgets.pane import Pane

    if isinstance(node, App):
        return "Everywhere"
    if isinstance(node, Pane):
        return f"In {node.title}"
    if node is screen:
        return "On this screen"
    return "Where the cursor is"


def help_text(app: Any, screen: Screen[Any], *, on_panes: bool = True) -> str:
    """Sections of ``keys  what it does`` lines for ``screen`` (the one below the help)."""
    # (section, what) -> the keys that do it; a key listed once, for the nearest binding.
    rows: dict[tuple[str, str], list[str]] = {}
    taken: set[str] = set()
    # The chain from the focused widget out to the app: what a key does now.
    for node, bindings in binding_chain(screen):
        for key, binding in bindings:
            if not isinstance(binding, Binding) or binding.action in ("noop", ""):
                continue
            own = bool(binding.id)
            if not own and (key not in _WIDGET_KEYS or not binding.description):
                continue
            if key in taken:
                continue  # a nearer widget's binding wins, as it does when typing
            taken.add(key)
            what = (
                binding.tooltip or binding.description if own else _WIDGET_KEYS[key]
            ) or binding.action
            title = "Panes" if (binding.id or "").startswith("pane.") else _where(node, screen)
            rows.setdefault((title, what), []).append(key_words(key))
    sections: dict[str, list[str]] = {}
    for (title, what), keys in rows.items():
        sections.setdefault(title, []).append(f"  {', '.join(keys):<18} {what}")
    lines: list[str] = []
    order = ["Where the cursor is", *[t for t in sections if t.startswith("In ")]]
    order += ["On this screen", "Panes", "Everywhere"]
    for title in order:
        shown = sections.get(title)
        if shown:
            lines.append(title)
            lines.extend(shown)
            lines.append("")
    lines.append("Tab, Shift+Tab       next / previous field (also out of a text editor)")
    if on_panes:
        lines.append("ctrl+p               command palette: new profile, go to relation, ...")
    lines.append("Keys can be changed in keymap.toml: see docs/keymap.md.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, text: str, title: str = "Keys") -> None:
        super().__init__()
        self.text = text
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(self.title_text, classes="modal-title")
            with VerticalScroll(id="help-body"):
                yield Static(self.text, markup=False, id="help-text")
            yield Label("Esc or F1: close    Up, Down: scroll", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
