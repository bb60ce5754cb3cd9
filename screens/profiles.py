"""Profiles: every field of an e-mail profile (SPEC §1), its password, a test mail, sign-in."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from screens.widgets.form import Field, RecordForm
from screens.widgets.modals import MessageModal, PromptModal
from screens.widgets.pane import RecordPane
from screens.widgets.passphrase import PassphraseModal, with_secrets
from screens.widgets.record_list import Page, page_of
from store.errors import MailroomError

PROFILES_TABLE = "profiles"  # store.records.Profile.table (not imported at start)

PASSWORD = "password"


def profile_fields() -> list[Field]:
    return [
        Field("code", "Code (unique)", placeholder="e.g. INFO"),
        Field("description", "Description"),
        Field(
            "system",
            "System",
            "choice",
            choices=[("SMTP (also Office 365)", "smtp"), ("Outbox folder (.eml files)", "outbox")],
            allow_blank=False,
        ),
        Field("server", "SMTP server", placeholder="smtp.example.com"),
        Field("port", "Port", "int", placeholder="587"),
        Field(
            "security",
            "Security",
            "choice",
            choices=[
                ("STARTTLS", "starttls"),
                ("Implicit TLS", "tls"),
                ("None: not encrypted", "none"),
            ],
            allow_blank=False,
            help="None sends the password and every mail unencrypted: only for a server "
            "on this machine or network.",
        ),
        Field("sender", "Sender (From address)", placeholder="info@company.example"),
        Field("sender_name", "Sender name"),
        Field("html", "Send HTML (with a plain-text alternative)", "bool"),
        Field("username", "User name"),
        Field(
            "auth",
            "Authentication",
            "choice",
            choices=[
                ("Password", "password"),
                ("OAuth 2.0 (Office 365)", "oauth2-office365"),
                ("None", "none"),
            ],
            allow_blank=False,
        ),
        Field(
            PASSWORD,
            "Password (stored encrypted; empty keeps the stored one)",
            "password",
            help="Gmail with two-step login needs an app password.",
        ),
        Field("reply_to", "Reply-to (optional)"),
        Field(
            "bcc",
            "Bcc (optional)",
            help="Office 365 keeps no copy of mail sent by SMTP: Bcc yourself to keep one.",
        ),
        Field("rate_per_minute", "Messages per minute (0: no limit)", "int"),
        Field("max_message_bytes", "Largest message in bytes (0: no limit)", "int"),
        Field("ca_file", "Extra CA file (optional, PEM)"),
        Field("timeout_seconds", "Network timeout (seconds)", "float"),
        Field("outbox_dir", "Outbox folder (outbox system)"),
        Field("oauth_tenant", "Office 365 tenant"),
        Field("oauth_client_id", "Office 365 application (client) id"),
        Field("oauth_authority", "Office 365 authority (leave empty)"),
    ]


class ProfilesPane(RecordPane):
    title: ClassVar[str] = "Profiles"
    record_name: ClassVar[str] = "profile"
    search_placeholder: ClassVar[str] = "search profiles"
    BINDINGS = [
        Binding(
            "ctrl+t",
            "test",
            "Test",
            id="profile.test",
            tooltip="Send a test mail with this profile and show what went wrong, if anything",
        ),
        Binding(
            "ctrl+o",
            "sign_in",
            "Sign in",
            id="profile.sign-in",
            tooltip="Sign in to Office 365 with a device code (OAuth 2.0 profiles)",
        ),
    ]

    # ------------------------------------------------------------ data

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        # The stored rows as they are (the first list on screen at start: no pydantic
        # models needed yet); a record is validated when it is opened.
        with self.store.view() as tx:
            stored = tx.rows(PROFILES_TABLE)
        rows = [(str(p["code"]), f"{p['code']}  {p.get('description', '')}") for p in stored]
        return page_of(sorted(rows), query, offset, limit)

    def make_form(self) -> RecordForm:
        return RecordForm(profile_fields(), id="profile-form")

    def blank_values(self) -> dict[str, Any]:
        from store.records import Profile

        values = Profile(code="NEW").dump()
        values["code"] = ""
        values[PASSWORD] = ""
        return values

    def values_of(self, key: str) -> dict[str, Any]:
        from store.records import Profile

        values = self.store.get(Profile, key).dump()
        values[PASSWORD] = ""
        return values

    def after_load(self) -> None:
        field = self.form.widget(PASSWORD, Input)
        placeholder = "not set"
        if self.current_key:
            from keyring.errors import KeyringError

            try:
                from mailing.changes import has_password

                if has_password(self.current_key):
                    placeholder = "stored (type to replace)"
            except (MailroomError, KeyringError) as exc:
                from mailing.changes.secrets import SecretsLocked

                placeholder = (
                    "the secrets file is locked"
                    if isinstance(exc, SecretsLocked)
                    else f"the passwords cannot be read: {type(exc).__name__}"
                )
        field.placeholder = placeholder

    def action_save(self) -> None:
        # A password to store, or to move with a renamed profile: the secrets file is
        # opened (or, for a new password, created) in a dialog first.
        values = self.form.read()
        typed = bool(values.get(PASSWORD))
        renamed = self.current_key is not None and values.get("code") != self.current_key
        if typed or renamed:
            with_secrets(
                self.app,
                super().action_save,
                create=typed,
                why="The password of this profile is kept there.",
            )
            return
        super().action_save()

    def save_values(self, values: dict[str, Any]) -> str:
        from mailing.changes import save_profile
        from store.records import Profile

        values = dict(values)
        password = values.pop(PASSWORD, "") or ""
        profile = Profile.parse(values)
        return save_profile(self.store, profile, self.current_key, password)

    def delete_key(self, key: str) -> None:
        from mailing.changes import delete_profile

        delete_profile(self.store, key)

    # ------------------------------------------------------------ test mail

    def _saved_profile(self) -> Any:
        """The profile as stored, after saving unsaved changes; None if that failed."""
        if self.dirty:
            self.action_save()
            if self.dirty:
                return None
        if self.current_key is None:
            self.show_message("Nothing to test", "Fill in the profile and save it (ctrl+s) first.")
            return None
        from store.records import Profile

        return self.store.get(Profile, self.current_key)

    def action_test(self) -> None:
        profile = self._saved_profile()
        if profile is None:
            return
        code = profile.code

        def answered(to: str | None) -> None:
            if to:
                address = to.strip()

                def send() -> None:
                    self.app.notify(f"Sending a test mail with {code} to {to}...", timeout=3)
                    self.send_test(code, address)

                # A locked secrets file is opened in its dialog first, not told as a failure.
                with_secrets(self.app, send, create=False)

        self.app.push_screen(
            PromptModal(
                f"Send a test mail from profile {code} to:",
                profile.sender or profile.username,
                placeholder="you@example.com",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile-test")
    def send_test(self, code: str, to: str) -> Any:
        from mailing.transports.profiles import test_profile

        return test_profile(self.store, code, to)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "profile-test":
            if event.state == WorkerState.SUCCESS:
                ok, text = describe_test_result(worker.result)
                if ok:
                    self.show_message("Test mail sent", text)
                else:
                    self.app.push_screen(
                        MessageModal("The test mail was not sent", text, error=True)
                    )
            elif event.state == WorkerState.ERROR and worker.error is not None:
                self.show_error(worker.error, "The test mail was not sent")
        elif worker.group == "profile-sign-in" and worker.state == WorkerState.ERROR:
            if isinstance(self.app.screen, SignInModal):
                self.app.pop_screen()
            if worker.error is not None:
                self.show_error(worker.error, "Not signed in")

    # ------------------------------------------------------------ Office 365 sign-in

    def action_sign_in(self) -> None:
        profile = self._saved_profile()
        if profile is None:
            return
        if profile.auth != "oauth2-office365":
            self.show_message(
                "Sign in is for Office 365",
                f"Profile {profile.code} uses authentication {profile.auth!r}. "
                "Choose 'OAuth 2.0 (Office 365)' and save to sign in with a device code.",
            )
            return

        # The sign-in is kept in the secrets file: opened (or created) in a dialog first.
        def start() -> None:
            self.sign_in(profile)

        with_secrets(
            self.app,
            start,
            create=True,
            why="The Office 365 sign-in of this profile is kept there.",
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile-sign-in")
    def sign_in(self, profile: Any) -> str:
        from mailing.transports.office365 import finish_device_login, start_device_login

        # The app may carry an msal http_client (tests: a local fake of the identity
        # endpoints); None means msal's own HTTP client.
        http_client = getattr(self.app, "oauth_http_client", None)
        flow = start_device_login(profile, self.store.home, http_client=http_client)
        modal = SignInModal(
            str(flow.get("verification_uri", "")),
            str(flow.get("user_code", "")),
            float(flow.get("expires_in", 900)),
        )
        self.app.call_from_thread(self.app.push_screen, modal)
        user = finish_device_login(profile, self.store.home, flow, http_client=http_client)

        def done() -> None:
            if isinstance(self.app.screen, SignInModal):
                self.app.pop_screen()
            self.show_message("Signed in", f"Profile {profile.code} is signed in as {user}.")

        self.app.call_from_thread(done)
        return user


def describe_test_result(result: Any) -> tuple[bool, str]:
    """(sent?, what to tell the user) of a ``mailing.transports.profiles.TestResult``."""
    ok = bool(getattr(result, "ok", True))
    diagnosis = getattr(result, "diagnosis", None)
    if not ok and diagnosis is not None:
        return False, str(diagnosis.text())
    return ok, str(getattr(result, "message", result))


class SignInModal(ModalScreen[None]):
    """The device code to type at Microsoft's page, and how long it stays valid."""

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Hide",
            id="sign-in.hide",
            tooltip="Hide this; the sign-in goes on until the code expires",
        )
    ]

    def __init__(self, url: str, code: str, expires_in: float) -> None:
        super().__init__()
        self.url = url
        self.code = code
        self.deadline = time.monotonic() + expires_in

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label("Sign in to Office 365", classes="modal-title")
            yield Static(
                f"Open {self.url} in a browser and enter the code:\n\n    {self.code}\n",
                markup=False,
                id="sign-in-text",
            )
            yield Label("", id="countdown")
            yield Label("Waiting for the sign-in...  Esc: hide", classes="modal-keys")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        left = max(0, int(self.deadline - time.monotonic()))
        self.query_one("#countdown", Label).update(
            f"The code expires in {left // 60}:{left % 60:02d}."
        )

    def action_close(self) -> None:
        self.dismiss(None)


EXTRA_BINDING_CLASSES = (SignInModal, PassphraseModal)
