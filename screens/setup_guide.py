"""The set-up guide: what a new office does first, in order, and what is done already.

Shown when Mailroom opens on a data folder without an administration, and from the
command palette ("Set-up guide"). Each step's key opens the place where it is done;
after a save there the guide comes back with the step ticked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    how: str
    pane: str
    new: bool  # open a new record there


STEPS: tuple[Step, ...] = (
    Step("a", "An administration", "name, address, VAT, IBAN", "administrations", True),
    Step("p", "A profile", "how mail goes out (SMTP, a folder)", "profiles", True),
    Step("s", "The system profile", "that profile, in Settings", "settings", False),
    Step("t", "A template", "subject and text per document type", "templates", True),
    Step("l", "A language code", "hooks templates to the administration", "language_codes", True),
    Step("r", "Relations", "the customers and their e-mail", "relations", True),
    Step("d", "Documents", "import, build a batch, approve, send", "documents", False),
)


def steps_done(store: Any) -> dict[str, bool]:
    """Which steps are done in this data folder."""
    from store.records import Administration, LanguageCode, Profile, Relation, Template

    with store.view() as tx:
        system = tx.system()
        return {
            "a": bool(tx.all(Administration)),
            "p": bool(tx.all(Profile)),
            "s": bool(system.profile),
            "t": bool(tx.all(Template)),
            "l": any(lc.templates for lc in tx.all(LanguageCode)),
            "r": bool(tx.all(Relation)),
            "d": _has_documents(store),
        }


def _has_documents(store: Any) -> bool:
    from store.records import Document

    with store.view(Document) as tx:
        return any(True for _ in tx.select())


class SetupGuide(ModalScreen[str | None]):
    """The steps with [x] done / [ ] to do; a step's key (or Enter: the next one) opens it.
    Answers the pane id to open, or None."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="guide.close", tooltip="Close the guide"),
        Binding("enter", "next", "Next step", id="guide.next", tooltip="Go to the next step"),
        *[
            Binding(s.key, f"step('{s.key}')", s.title, show=False, id=f"guide.{s.key}")
            for s in STEPS
        ],
    ]
    help_title = "the set-up guide"

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store
        self.done = steps_done(store)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label("Set up a new office", classes="modal-title")
            yield Static(self.text(), id="steps", markup=False)
            yield Label(
                "a p s t l r d: open that step    Enter: next    Esc: close", classes="modal-keys"
            )

    def text(self) -> str:
        lines = []
        for n, s in enumerate(STEPS, 1):
            mark = "[x]" if self.done.get(s.key) else "[ ]"
            lines.append(f"{mark} {n}. {s.key}  {s.title}: {s.how}")
        return "\n".join(lines)

    def next_step(self) -> Step | None:
        return next((s for s in STEPS if not self.done.get(s.key)), None)

    def action_step(self, key: str) -> None:
        self.dismiss(key)

    def action_next(self) -> None:
        step = self.next_step()
        self.dismiss(step.key if step else None)

    def action_close(self) -> None:
        self.dismiss(None)
