"""The passphrase dialog: create or unlock the encrypted secrets file, inside the TUI.

Nothing ever prompts on the terminal while the TUI runs (the terminal is Textual's);
when a secret is needed and the secrets file is locked, or does not exist yet and a
password is being saved, this dialog asks. A wrong passphrase is told in the dialog,
which stays open. :func:`with_secrets` runs an action once the file is open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PassphraseModal(ModalScreen[bool]):
    """Answers True once the secrets file is open (created or unlocked), else False."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel", tooltip="Close without an answer"),
    ]

    def __init__(self, create: bool, why: str = "") -> None:
        super().__init__()
        self.create = create
        self.why = why

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="passphrase-box"):
            if self.create:
                yield Label("Create the secrets file", classes="modal-title")
                yield Static(
                    (self.why + "\n\n" if self.why else "")
                    + "No system keyring is usable here, so passwords are kept in an "
                    "encrypted file in the data folder. Choose its passphrase (at least "
                    "8 characters) and keep it safe: without it the passwords are lost.",
                    markup=False,
                    id="passphrase-text",
                )
            else:
                yield Label("Unlock the secrets file", classes="modal-title")
                yield Static(
                    (self.why + "\n\n" if self.why else "")
                    + "The passwords of the profiles are in the encrypted secrets file. "
                    "Type its passphrase to open it for this session.",
                    markup=False,
                    id="passphrase-text",
                )
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            if self.create:
                yield Input(password=True, placeholder="the same again", id="passphrase-again")
            yield Label("", id="passphrase-problem")
            yield Label("Enter: OK    Esc: not now", classes="modal-keys")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#passphrase", Input).focus()

    def _problem(self, text: str) -> None:
        self.query_one("#passphrase-problem", Label).update(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        from mailing.changes.secrets import create_secrets_file, unlock_secrets
        from store.errors import MailroomError

        first = self.query_one("#passphrase", Input)
        if self.create and event.input is first:
            self.query_one("#passphrase-again", Input).focus()
            return
        try:
            if self.create:
                again = self.query_one("#passphrase-again", Input)
                if again.value != first.value:
                    again.value = ""
                    self._problem("The two passphrases differ: type it again.")
                    again.focus()
                    return
                create_secrets_file(first.value)
            else:
                unlock_secrets(first.value)
        except MailroomError as exc:
            first.value = ""
            for other in self.query(Input):
                other.value = ""
            first.focus()
            self._problem(str(exc))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def with_secrets(app: Any, then: Callable[[], None], *, create: bool, why: str = "") -> None:
    """Run ``then`` once the secrets file is open: at once, or after the dialog.

    ``create``: when there is no secrets file yet (and no system keyring), ask for a
    new passphrase (a password is about to be stored); otherwise just run ``then``.
    """
    from mailing.changes.secrets import secrets_backend, secrets_file_state

    if secrets_backend()[0] != "file":
        then()
        return
    state = secrets_file_state()
    if state == "unlocked" or (state == "absent" and not create):
        then()
        return

    def answered(opened: bool | None) -> None:
        if opened:
            then()

    app.push_screen(PassphraseModal(create=state == "absent", why=why), answered)


def ask_unlock_at_start(app: Any) -> None:
    """The TUI's start: a locked secrets file is offered to be unlocked (Esc: later)."""
    from mailing.changes.secrets import secrets_backend, secrets_file_state

    if secrets_backend()[0] == "file" and secrets_file_state() == "locked":
        app.push_screen(PassphraseModal(create=False))


EXTRA_BINDING_CLASSES = (PassphraseModal,)
