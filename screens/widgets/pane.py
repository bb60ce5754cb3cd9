"""The base of every pane, and of the panes that are a record list beside a form.

A pane is kept alive while the app runs, so switching panes loses nothing; what
can lose work (opening another record, quitting) asks first when there are
unsaved changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label

from screens.widgets.form import RecordForm
from screens.widgets.modals import ConfirmModal, MessageModal, error_text, refusal_for_form
from screens.widgets.record_list import Page, RecordList
from store.errors import MailroomError

# A pane not ready by then failed to build (the failure boundary has shown it): whoever
# waits for it stops waiting, and keys held for it are let go.
READY_SECONDS = 30.0

if TYPE_CHECKING:
    from store.store import Store


class MailroomHost(Protocol):
    """What the panes use of the app beyond Textual's ``App``.

    The app (``tui.app.MailroomApp``) sits above ``screens``, so the panes cannot
    import it; mypy checks in ``tui.app`` that it is such a host.
    """

    store: Store
    user: str

    def show_pane(self, pane_id: str) -> Pane | None: ...

    def report_failure(self, error: BaseException) -> None:
        """An unexpected error: a crash report and the dialog "That action stopped"."""


class Saved(Message):
    """A pane saved what was typed (the set-up guide comes back after a step)."""


class Pane(Container):
    """One pane of the app (Profiles, Templates, ...)."""

    title: ClassVar[str] = ""

    @property
    def mailroom_app(self) -> MailroomHost:
        """The app, typed as what the panes use of it (``self.app`` is any Textual app)."""
        return cast("MailroomHost", self.app)

    @property
    def store(self) -> Store:
        return self.mailroom_app.store

    @property
    def user(self) -> str:
        return self.mailroom_app.user

    @property
    def dirty(self) -> bool:
        return False

    def quit_note(self) -> str | None:
        """What quitting now would mean for work running in this pane (None: nothing)."""
        return None

    def refresh_data(self) -> None:
        """Called each time the pane is shown: re-read what others may have changed."""

    def focus_first(self) -> None:
        """Put the focus where work in this pane starts."""

    @property
    def ready(self) -> bool:
        """Whether the pane can take keys now (``wait_ready`` would return at once)."""
        return True

    @property
    def failed(self) -> bool:
        """Whether building the pane's parts failed (the failure boundary has shown it)."""
        return False

    async def wait_ready(self) -> None:
        """Return once the pane can take keys (its parts built after the first paint)."""

    def when_ready(self, then: Callable[[], object]) -> None:
        """Run ``then()`` once the pane is complete (at once when it is already)."""

        async def wait_then() -> None:
            try:  # a pane whose building failed is never ready: nobody waits for ever
                await asyncio.wait_for(self.wait_ready(), READY_SECONDS)
            except TimeoutError:
                return
            if not self.failed:  # nothing to do in a pane that is not there
                then()

        self.run_worker(wait_then(), group="when-ready")

    def show_error(self, exc: BaseException, title: str = "That did not work") -> None:
        from mailing.changes.secrets import SecretsLocked

        if isinstance(exc, SecretsLocked):  # ask for the passphrase in a dialog instead
            from screens.widgets.passphrase import with_secrets

            with_secrets(self.app, lambda: self.app.notify("Unlocked: do it again."), create=False)
            return
        from store.errors import MailroomError

        if not isinstance(exc, MailroomError):  # a bug: the app's one failure handler
            self.mailroom_app.report_failure(exc)
            return
        self.app.push_screen(MessageModal(title, error_text(exc), error=True))

    def show_message(self, title: str, text: str) -> None:
        self.app.push_screen(MessageModal(title, text))


class RecordPane(Pane):
    """A searchable list of records on the left, the selected one's form on the right."""

    BINDINGS = [
        Binding(
            "ctrl+s", "save", "Save", id="record.save", tooltip="Save the record", priority=True
        ),
        Binding("ctrl+n", "new", "New", id="record.new", tooltip="Start a new record"),
        Binding(
            "ctrl+r",
            "delete",
            "Delete",
            id="record.delete",
            tooltip="Delete the record (asks first)",
        ),
        Binding(
            "ctrl+l",
            "focus_list",
            "List",
            id="record.list",
            tooltip="Go to the search box of the list",
        ),
    ]
    record_name: ClassVar[str] = "record"
    search_placeholder: ClassVar[str] = "search"
    page_size: ClassVar[int] = 200

    def __init__(self) -> None:
        super().__init__()
        self.current_key: str | None = None  # None: a new record
        # The form is built after the list is on screen (the list first: it is what the
        # user looks at; a form of ~20 fields is most of a pane's styling and layout).
        self._form: RecordForm | None = None
        self._form_built = asyncio.Event()
        self._stamp: tuple[int, int, int] | None = None  # the data file when last read

    # ------------------------------------------------------------ to fill in per pane

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        raise NotImplementedError

    def make_form(self) -> RecordForm:
        raise NotImplementedError

    def blank_values(self) -> dict[str, Any]:
        return {}

    def values_of(self, key: str) -> dict[str, Any]:
        """Form values of the stored record ``key``."""
        raise NotImplementedError

    def save_values(self, values: dict[str, Any]) -> str:
        """Validate and store; return the key. Raise MailroomError to refuse."""
        raise NotImplementedError

    def delete_key(self, key: str) -> None:
        raise NotImplementedError

    def compose_side(self) -> ComposeResult:
        """Extra widgets right of (or below) the form."""
        yield from ()

    # ------------------------------------------------------------ shell

    def compose(self) -> ComposeResult:
        self._stamp = self.store.config_stamp()  # before the list reads the file
        yield Label(self.title, classes="pane-title", id="pane-title")
        with Horizontal():
            yield RecordList(
                self.fetch,
                page_size=self.page_size,
                placeholder=self.search_placeholder,
                id="record-list",
            )
            yield Vertical(classes="editor", id="editor")
            yield from self.compose_side()

    def on_mount(self) -> None:
        self.call_after_refresh(self._build_form)

    async def _build_form(self) -> None:
        """After the first paint: the form, filled with a new record."""
        try:
            form = self.make_form()
            await self.query_one("#editor", Vertical).mount(form)
            self._form = form
            self.new_record()
        finally:  # failed (the error boundary tells it): nobody waits for ever
            self._form_built.set()

    async def wait_ready(self) -> None:
        await self._form_built.wait()

    @property
    def ready(self) -> bool:
        return self._form_built.is_set()

    @property
    def form_ready(self) -> bool:
        return self._form is not None

    @property
    def failed(self) -> bool:
        return self._form_built.is_set() and self._form is None

    @property
    def form(self) -> RecordForm:
        if self._form is None:
            raise RuntimeError("the form is built after the first paint; wait_ready() first")
        return self._form

    @property
    def record_list(self) -> RecordList:
        return self.query_one(RecordList)

    @property
    def dirty(self) -> bool:
        return self._form is not None and self.form.dirty

    def refresh_data(self) -> None:
        """Re-read the list (and choices) only when the data file changed since."""
        stamp = self.store.config_stamp()
        if stamp is not None and stamp == self._stamp:
            return  # nothing written since: the switch stays cheap
        self._stamp = stamp
        self.reload_data()

    def reload_data(self) -> None:
        """Re-read what others may have changed: the list; panes add their choices."""
        if self.is_mounted:
            self.record_list.reload(keep_offset=True, select=self.current_key)

    def focus_first(self) -> None:
        self.record_list.focus_rows()

    def _update_title(self) -> None:
        if not self.form_ready:
            return
        what = self.current_key or f"new {self.record_name}"
        mark = "  * unsaved changes" if self.dirty else ""
        label = self.query_one("#pane-title", Label)
        label.update(f"{self.title}: {what}{mark}")
        label.set_class(self.dirty, "dirty")

    @on(RecordForm.DirtyChanged)
    def _dirty_changed(self) -> None:
        self._update_title()

    # ------------------------------------------------------------ opening

    def new_record(self) -> None:
        self.current_key = None
        self.form.load(self.blank_values())
        self.after_load()
        self._update_title()

    def open_record(self, key: str) -> None:
        try:
            values = self.values_of(key)
        except MailroomError as exc:
            self.show_error(exc, "Cannot open")
            return
        self.current_key = key
        self.form.load(values)
        self.after_load()
        self._update_title()

    def after_load(self) -> None:
        """Hook: refresh side panels after a record was opened."""

    def when_clean(self, then: Any, what: str = "continue") -> None:
        """Run ``then()`` now, or after the user agreed to drop unsaved changes."""
        if not self.dirty:
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        who = self.current_key or f"the new {self.record_name}"
        self.app.push_screen(
            ConfirmModal(f"{who} has unsaved changes. Drop them and {what}?"), answered
        )

    @on(RecordList.Selected)
    def _selected(self, event: RecordList.Selected) -> None:
        key = event.key

        def go() -> None:
            self.open_record(key)
            self._focus_form()

        if not self.form_ready:  # e.g. a click before the form is built: open it then
            self.when_ready(go)
            return
        self.when_clean(go, f"open {key}")

    def _focus_form(self) -> None:
        for widget in self.form.query("Input, Select, TextArea, Checkbox, SelectionList"):
            if widget.focusable and widget.display:
                widget.focus()
                return

    # ------------------------------------------------------------ actions

    def action_new(self) -> None:
        def go() -> None:
            self.new_record()
            self._focus_form()

        self.when_clean(go, f"start a new {self.record_name}")

    def action_focus_list(self) -> None:
        self.record_list.focus_search()

    def action_save(self) -> None:
        values = self.form.read()
        try:
            key = self.save_values(values)
        except MailroomError as exc:
            # What was typed stays in the form; the message says what to fix, by the
            # form's labels.
            labels = {f.name: f.label for f in self.form.fields}
            text = refusal_for_form(exc, labels) or error_text(exc)
            self.form.show_error(text)
            self.app.push_screen(MessageModal("Not saved", text, error=True))
            return
        self.current_key = key
        self.form.show_error(None)
        self.open_record(key)
        self.record_list.reload(keep_offset=True, select=key)
        self.app.notify(f"Saved {self.record_name} {key}.", timeout=3)
        self.post_message(Saved())

    def action_delete(self) -> None:
        key = self.current_key
        if key is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.delete_key(key)
            except MailroomError as exc:
                self.show_error(exc, "Not deleted")
                return
            self.new_record()
            self.record_list.reload()
            self.app.notify(f"Deleted {self.record_name} {key}.", timeout=3)

        self.app.push_screen(ConfirmModal(f"Delete {self.record_name} {key}?"), answered)
