"""The panes the app shows, the app's own keys, and every binding id a key map may name.

Panes are listed once in ``PANES``; adding one is one line there. A pane's module
is imported the first time it is shown, so start-up only pays for the first.

Kept apart from ``tui.app`` so that the key map and the command palette read these
without importing the app (which imports both).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class PaneSpec:
    id: str
    title: str
    key: str
    module: str
    cls: str
    short: str = ""  # the title on a narrow terminal (80 columns)
    # A pane without a key of its own, opened from another (``under``), whose name the
    # pane bar highlights while it is shown (the bar has no room for more at 80 columns).
    under: str = ""


PANES: tuple[PaneSpec, ...] = (
    PaneSpec("profiles", "Profiles", "f2", "screens.profiles", "ProfilesPane", "Prof"),
    PaneSpec("templates", "Templates", "f3", "screens.templates", "TemplatesPane", "Tmpl"),
    PaneSpec(
        "language_codes", "Languages", "f4", "screens.language_codes", "LanguageCodesPane", "Lang"
    ),
    PaneSpec("relations", "Relations", "f5", "screens.relations", "RelationsPane", "Rel"),
    PaneSpec("settings", "Settings", "f6", "screens.settings", "SettingsPane", "Set"),
    PaneSpec(
        "administrations",
        "Administrations",
        "",
        "screens.administrations",
        "AdministrationsPane",
        under="settings",
    ),
    PaneSpec("documents", "Documents", "f7", "screens.documents", "DocumentsPane", "Docs"),
    PaneSpec("queue", "Queue", "f8", "screens.queue", "QueuePane", "Queue"),
    PaneSpec("archive", "Archive", "f9", "screens.archive", "ArchivePane", "Arch"),
    PaneSpec("tools", "Tools", "f10", "screens.tools", "ToolsPane", "Tools"),
)


def available_panes() -> tuple[PaneSpec, ...]:
    """The panes whose module exists (panes of later issues may not be built yet)."""
    import importlib.util

    return tuple(p for p in PANES if importlib.util.find_spec(p.module) is not None)


def _pane_bindings(panes: tuple[PaneSpec, ...]) -> list[BindingType]:
    return [
        Binding(
            p.key,
            f"show_pane('{p.id}')",
            p.title,
            id=f"pane.{p.id}",
            tooltip=f"Show the {p.title} pane",
            show=False,
            priority=True,
        )
        for p in panes
        if p.key
    ]


# The app's keys (``MailroomApp.BINDINGS``): help, quit and one key per pane.
APP_BINDINGS: list[BindingType] = [
    Binding(
        "f1",
        "help",
        "Help",
        id="app.help",
        tooltip="List every key of this pane and the app",
        priority=True,
    ),
    Binding(
        "ctrl+q",
        "quit",
        "Quit",
        id="app.quit",
        tooltip="Leave Mailroom (asks when something is unsaved or a send runs)",
        priority=True,
        show=False,  # the footer keeps room for the pane's keys; F1 lists it
    ),
    *_pane_bindings(PANES),
]


def all_binding_ids() -> set[str]:
    """Every binding id a key map may name (imports every pane module)."""
    from screens.widgets import form, modals, pane, record_list

    classes: list[Any] = [
        pane.RecordPane,
        record_list.RecordList,
        modals.MessageModal,
        modals.ConfirmModal,
        modals.PromptModal,
        modals.PickerModal,
        form.RecordForm,
        form.EditorArea,
    ]
    for spec in available_panes():
        module = importlib.import_module(spec.module)
        classes.append(getattr(module, spec.cls))
        classes.extend(getattr(module, "EXTRA_BINDING_CLASSES", ()))
    bindings: list[Any] = list(APP_BINDINGS)
    for cls in classes:
        bindings.extend(getattr(cls, "BINDINGS", []))
    return {b.id for b in bindings if isinstance(b, Binding) and b.id}
