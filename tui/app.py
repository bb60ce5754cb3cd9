"""The Mailroom terminal app: a pane switcher, the panes, a footer with the keys.

Panes are listed once in ``tui.panes.PANES``; adding one is one line there. A pane's
module is imported the first time it is shown, so start-up only pays for the first.
Beside it: the pane bar (``tui.pane_bar``), the order of typed keys while panes and
dialogs load (``tui.key_order``, the app's base class), and starting the app from the
command line (``tui.run``).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import ContentSwitcher, Static
from textual.worker import Worker, WorkerState

from screens.styles import STYLE_SHEETS
from screens.widgets.key_bar import KeyBar
from screens.widgets.pane import READY_SECONDS, Pane, Saved
from tui.key_order import KeyOrderApp
from tui.palette import MailroomCommands
from tui.pane_bar import PaneBar
from tui.panes import APP_BINDINGS, available_panes

if TYPE_CHECKING:
    from screens.widgets.pane import MailroomHost
    from store.store import Store
    from tui.palette import PaletteHost


def _focus_first(pane: Pane) -> None:
    pane.focus_first()  # the pane's own (``Pane.focus_first`` would be the base's no-op)


MIN_SIZE = (80, 24)  # the smallest terminal the panes are laid out for


class MailroomApp(KeyOrderApp):
    TITLE = "Mailroom"
    # Every pane's, dialog's and widget's styles, then the app's own (screens/styles.py).
    CSS_PATH = [*STYLE_SHEETS, Path(__file__).with_name("app.tcss")]
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS
    COMMANDS = App.COMMANDS | {MailroomCommands}

    def __init__(
        self,
        store: Store,
        user: str,
        *,
        keymap: dict[str, str] | None = None,
        first_pane: str = "profiles",
    ) -> None:
        super().__init__()
        self.store = store
        self.user = user
        self.panes = available_panes()
        self.keymap = dict(keymap or {})
        self.first_pane = first_pane
        self.current_pane: str | None = None
        self._mounting: dict[str, Any] = {}
        self.start_warnings: list[str] = []  # pane id -> its AwaitMount, until first shown
        self.started = time.perf_counter()
        self.animation_level = "none"
        self.guide_active = False  # a step of the set-up guide is being done
        self._warmed = False  # the other panes' modules imported in the background
        self._frozen = False  # what start-up made is out of the collector's passes
        from tui.boundary import FailureBoundary, install

        install()
        self.failure_boundary = FailureBoundary(self, store.home)
        # msal's HTTP client for the Office 365 sign-in; None: msal's own (tests set a fake).
        self.oauth_http_client: Any = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("", id="too-small", markup=False)
        yield PaneBar(self.panes, self.keymap)
        from screens.widgets.redirect_banner import RedirectBanner

        yield RedirectBanner(self.store)  # test mode: on every pane while it is on
        yield ContentSwitcher(id="panes")
        # One line of text, the palette's key in F1 (ctrl+p): the pane's own keys fit at 80.
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._release_stale)
        if self.keymap:
            self.set_keymap(self.keymap)
        self.theme = "textual-dark"
        self.show_pane(self.first_pane)
        from screens.widgets.passphrase import ask_unlock_at_start

        ask_unlock_at_start(self)  # a locked secrets file: its dialog, never the terminal
        # A new office: the guide leads the way (under any dialog of the start, which is
        # answered first). Read as stored rows: the records (pydantic) are not imported
        # before the first list is drawn (tests/functional/test_fast_start_imports.py).
        with self.store.view() as tx:
            empty = not tx.rows("administrations") and not tx.rows("profiles")
        if empty:
            if len(self.screen_stack) > 1:
                self.push_screen_under_start_dialogs()
            else:
                self.open_guide()
        if self.start_warnings:  # e.g. a key map that cannot be used: say so, keep going
            from screens.widgets.modals import MessageModal

            self.push_screen(MessageModal("Key map not used", "\n\n".join(self.start_warnings)))

    def on_resize(self, event: events.Resize) -> None:
        """Below 80x24 the panes do not fit: say so instead of showing them cut."""
        width, height = event.size
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        if self.screen_stack:
            screen = self.screen_stack[0]
            screen.set_class(small, "too-small")
            if small:
                screen.query_one("#too-small", Static).update(
                    f"Make the window at least {MIN_SIZE[0]}×{MIN_SIZE[1]} "
                    f"(it is {width}×{height} now)."
                )
            else:  # the panes are shown again: the focus with them (hidden, it was lost)
                self.call_after_refresh(self._focus_on_current_pane)

    def _focus_on_current_pane(self) -> None:
        """After a resize or a closed dialog: the focus in the pane shown, never in a
        hidden one (a pane switched under a dialog) nor nowhere."""
        if len(self.screen_stack) != 1 or self.current_pane is None:
            return
        focused = self.focused
        pane = self.query_one("#panes", ContentSwitcher).query(f"#pane-{self.current_pane}")
        if not pane:
            return
        current = pane.first()
        if focused is not None and focused in current.query("*"):
            return
        if cast("Pane", current).ready:
            cast("Pane", current).focus_first()

    def pop_screen(self) -> Any:
        result = super().pop_screen()
        self.call_after_refresh(self._focus_on_current_pane)
        return result

    # ------------------------------------------------------------ panes

    def pane(self, pane_id: str) -> Pane:
        """The pane widget, created (and its module imported) the first time."""
        switcher = self.query_one("#panes", ContentSwitcher)
        found = switcher.query(f"#pane-{pane_id}")
        if found:
            return cast("Pane", found.first())
        spec = next((p for p in self.panes if p.id == pane_id), None)
        if spec is None:
            raise KeyError(pane_id)
        module = importlib.import_module(spec.module)
        widget: Pane = getattr(module, spec.cls)()
        widget.id = f"pane-{pane_id}"
        self._mounting[pane_id] = switcher.mount(widget)
        return widget

    def show_pane(self, pane_id: str, focus: Callable[[Pane], object] | None = None) -> Pane | None:
        """Show a pane; ``focus(pane)`` puts the focus once it is built (default: where
        work in the pane starts); keys typed meanwhile wait for it."""
        if not any(p.id == pane_id for p in self.panes):
            self.notify(f"The {pane_id} pane is not available yet.", severity="warning")
            return None
        token = self.hold_keys()
        widget = self.pane(pane_id)
        switcher = self.query_one("#panes", ContentSwitcher)
        first_time = self.current_pane is None or not widget.is_mounted
        switcher.current = widget.id
        self.current_pane = pane_id
        self.query_one(PaneBar).show_current(pane_id)
        if not first_time:
            widget.refresh_data()
        if not first_time and widget.ready:
            # A built pane: the focus moves in the same frame that shows it (one layout
            # of the screen, not a second one for the focus styles).
            (focus or _focus_first)(widget)
            self.call_after_refresh(self.release_keys, token)
            return widget
        mounting = self._mounting.pop(pane_id, None)

        async def focus_when_composed() -> None:
            # A pane shown for the first time is focused once it has composed: on a busy
            # machine the refresh can come first, and its widgets are not there yet.
            if mounting is not None:
                await mounting
            try:
                # e.g. a record pane's form, built after the list. A pane whose building
                # failed (the failure boundary has shown it) is never ready: after
                # READY_SECONDS the keys held for it are let go and nobody waits on.
                ready = True
                try:
                    await asyncio.wait_for(widget.wait_ready(), READY_SECONDS)
                except TimeoutError:
                    ready = False
                if (
                    ready
                    and not widget.failed
                    and widget.is_mounted
                    and switcher.current == widget.id
                ):
                    (focus or _focus_first)(widget)
            finally:
                # After the focus has moved: keys typed meanwhile land where aimed.
                self.call_after_refresh(self.release_keys, token)
                self._warm_up_once()

        # A worker, not the callback itself: the screen awaits its after-refresh callbacks
        # one by one, and the pane may finish building in one of them (a record form).
        self.call_after_refresh(self.run_worker, focus_when_composed(), group="show-pane")
        return widget

    def _warm_up_once(self) -> None:
        """Once the first pane is complete: import the other panes' modules in a thread
        while the user reads it, so their first F-key only builds the pane."""
        if self._warmed:
            return
        self._warmed = True
        modules = [p.module for p in self.panes] + ["mailing.config", "store.records"]

        def warm_up() -> None:
            for name in modules:
                try:
                    importlib.import_module(name)
                except Exception:  # shown for real when the pane is opened
                    continue

        self.run_worker(warm_up, thread=True, group="warm-up", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Once the modules are in: what start-up made (modules, classes, the screen and
        its first pane) stays to the end, so it is kept out of the collector's full
        passes (``gc.freeze``, as ``mailroom send`` does). A full pass over it took
        ~70 ms of CPU, 130-220 ms on a busy machine, at whatever key it fell on (issue
        31: one open + End of the Queue in four); now it goes over what came after."""
        if event.worker.group == "warm-up" and event.state == WorkerState.SUCCESS:
            if not self._frozen:
                gc.freeze()
                self._frozen = True

    def on_unmount(self) -> None:
        # What was kept out goes back to the collector: another app in this process
        # (the tests) must not find the garbage of this one out of its reach.
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    # ------------------------------------------------------------ the set-up guide

    def push_screen_under_start_dialogs(self) -> None:
        """Open the guide once the dialogs shown at start are closed."""

        def wait() -> None:
            if len(self.screen_stack) > 1:
                self.set_timer(0.3, wait)
            else:
                self.open_guide()

        self.set_timer(0.3, wait)

    def open_guide(self) -> None:
        from screens.setup_guide import STEPS, SetupGuide

        def chosen(key: str | None) -> None:
            step = next((s for s in STEPS if s.key == key), None)
            self.guide_active = step is not None
            if step is None:
                return

            def start(pane: Pane) -> None:
                if not step.new:
                    pane.focus_first()
                elif getattr(pane, "current_key", "") is None:  # a new record already
                    getattr(pane, "_focus_form", pane.focus_first)()
                else:
                    getattr(pane, "action_new", pane.focus_first)()

            self.show_pane(step.pane, focus=start)

        self.push_screen(SetupGuide(self.store), chosen)

    def on_saved(self, event: Saved) -> None:
        """After a step of the guide was saved, the guide comes back with it ticked."""
        if self.guide_active and len(self.screen_stack) == 1:
            self.guide_active = False
            self.call_after_refresh(self.open_guide)

    def action_command_palette(self) -> None:
        # Textual looks only at the top screen: with a dialog opened from the palette,
        # ctrl+p would open a second palette (two widgets with one id: an error).
        if any(s.id == "--command-palette" for s in self.screen_stack):
            return
        super().action_command_palette()

    def action_show_pane(self, pane_id: str) -> None:
        self.show_pane(pane_id)

    def mounted_panes(self) -> list[Pane]:
        from screens.widgets.pane import Pane

        return list(self.query_one("#panes", ContentSwitcher).query_children(Pane))

    # ------------------------------------------------------------ app actions

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        from screens.help import help_text

        screen = self.screen
        on_panes = len(self.screen_stack) == 1
        if on_panes and self.current_pane:
            title = f"Keys of the {self.pane(self.current_pane).title} pane"
        else:
            title = f"Keys of {getattr(screen, 'help_title', 'this screen')}"
        self.push_screen(HelpScreen(help_text(self, screen, on_panes=on_panes), title))

    def _quit_question(self, had_notes: bool = False) -> tuple[str, bool]:
        """What quitting now would drop or leave running, and whether anything would."""
        panes = self.mounted_panes()
        unsaved = [p.title for p in panes if p.dirty]
        lines = [n for n in (p.quit_note() for p in panes) if n]
        asks = bool(unsaved or lines)
        if had_notes and not lines:  # e.g. the send ended while the question was open
            lines.append("The send has finished: nothing goes on after you quit.")
        if unsaved:
            lines.append(f"Unsaved changes in {', '.join(unsaved)} are dropped.")
        lines.append("Quit Mailroom?")
        return "\n\n".join(lines), asks

    async def action_quit(self) -> None:
        question, asks = self._quit_question()
        if not asks:
            self.exit(0)
            return
        from screens.widgets.modals import ConfirmModal

        had_notes = any(p.quit_note() for p in self.mounted_panes())

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(0)

        def now() -> str:  # the dialog follows what changes while it is open
            return self._quit_question(had_notes)[0]

        self.push_screen(ConfirmModal(question, "Quit?", follow=now), answered)

    def show_error(self, exc: BaseException, title: str = "That did not work") -> None:
        from mailing.changes.secrets import SecretsLocked
        from screens.widgets.modals import MessageModal, error_text

        if isinstance(exc, SecretsLocked):  # ask for the passphrase in a dialog instead
            from screens.widgets.passphrase import with_secrets

            with_secrets(self, lambda: self.notify("Unlocked: do it again."), create=False)
            return

        from store.errors import MailroomError

        if not isinstance(exc, MailroomError):  # a bug: the one failure handler
            self.report_failure(exc)
            return
        self.push_screen(MessageModal(title, error_text(exc), error=True))

    def report_failure(self, error: BaseException) -> None:
        self.failure_boundary.failed(error)

    def _handle_exception(self, error: Exception) -> None:
        # The error boundary (tui/boundary.py): a user error is shown as its message; a
        # bug gets a crash report and a dialog, and the app goes on.
        self.failure_boundary.failed(error)


if TYPE_CHECKING:

    def _is_their_host(app: MailroomApp) -> tuple[MailroomHost, PaletteHost]:
        """Never run: mypy checks that the app is what the panes and the palette take it for."""
        return app, app
