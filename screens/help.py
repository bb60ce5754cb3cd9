"""The help screen: every key of the current pane and of the app, as bound now."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from screens.widgets.modals import MODAL_CSS


def _keys_of(binding: Binding, keymap: dict[str, str]) -> str:
    keys = keymap.get(binding.id or "", binding.key) if binding.id else binding.key
    return ", ".join(k.strip() for k in keys.split(","))


def help_text(app: Any) -> str:
    """Sections of (keys, what, id) lines: panes, this pane, lists and the app."""
    from screens.widgets.pane import RecordPane
    from screens.widgets.record_list import RecordList

    keymap: dict[str, str] = dict(getattr(app, "keymap", {}))
    lines: list[str] = []

    def section(title: str, bindings: list[Any]) -> None:
        rows = [b for b in bindings if isinstance(b, Binding) and b.id]
        if not rows:
            return
        lines.append(title)
        for b in rows:
            lines.append(f"  {_keys_of(b, keymap):<16} {b.description or b.action:<12} {b.tooltip}")
            lines.append(f"  {'':<16} id: {b.id}")
        lines.append("")

    app_bindings = [b for b in type(app).BINDINGS if isinstance(b, Binding)]
    section("Panes", [b for b in app_bindings if (b.id or "").startswith("pane.")])
    section("Everywhere", [b for b in app_bindings if not (b.id or "").startswith("pane.")])
    current = getattr(app, "current_pane", None)
    if current:
        pane = app.pane(current)
        own = [b for b in getattr(type(pane), "BINDINGS", []) if isinstance(b, Binding)]
        section(f"In {pane.title}", own)
        if isinstance(pane, RecordPane):
            section("Records", list(RecordPane.BINDINGS))
            section("Lists", list(RecordList.BINDINGS))
    lines.append("Command palette: ctrl+p (new profile, test profile, go to relation, ...)")
    lines.append("Change keys in keymap.toml: see docs/keymap.md.")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = (
        MODAL_CSS
        + """
    HelpScreen { align: center middle; }
    HelpScreen .modal-box { width: 100; height: 90%; }
    HelpScreen VerticalScroll { height: 1fr; }
    """
    )
    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close the help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label("Keys", classes="modal-title")
            with VerticalScroll(id="help-body"):
                yield Static(help_text(self.app), markup=False, id="help-text")
            yield Label("Esc or F1: close    arrows: scroll", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
