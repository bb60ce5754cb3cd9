"""Settings: the system profile, each administration's profile, and the personal
settings of the user working now (SPEC §4, §5)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding

from screens.widgets.form import Field, RecordForm
from screens.widgets.modals import error_text
from screens.widgets.pane import Pane
from store.errors import MailroomError


class SettingsPane(Pane):
    title: ClassVar[str] = "Settings"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="settings.save",
            tooltip="Save the settings",
            priority=True,
        ),
        Binding(
            "ctrl+o",
            "administrations",
            "Administrations",
            id="settings.administrations",
            tooltip="Create and edit the administrations (name, address, VAT, IBAN, ...)",
            priority=True,
        ),
    ]

    def action_administrations(self) -> None:
        self.mailroom_app.show_pane("administrations")

    def compose(self) -> ComposeResult:
        from textual.widgets import Label

        yield Label(self.title, classes="pane-title", id="pane-title")
        yield self.make_form()

    def _profiles(self) -> list[Any]:
        from store.records import Profile

        return self.store.all(Profile)

    def make_form(self) -> RecordForm:
        from store.records import Administration

        profiles = [(f"{p.code}  ({p.system}) {p.sender}", p.code) for p in self._profiles()]
        self.admin_codes = [a.code for a in self.store.all(Administration)]
        fields = [
            Field(
                "system_profile",
                "System profile",
                "choice",
                choices=profiles,
                help="Must always exist: the sender when nothing else is set.",
            )
        ]
        for admin in self.store.all(Administration):
            fields.append(
                Field(f"admin_{admin.code}", f"{admin.code} profile", "choice", choices=profiles)
            )
        fields += [
            Field("full_name", f"Your name ({self.user})"),
            Field(
                "personal_profile",
                "Personal profile",
                "choice",
                choices=profiles,
                help="Only with a system profile, and of the same system as it.",
            ),
            Field("signature", "Signature (added to hand-written e-mails)", "multiline"),
            Field(
                "approval",
                "Approval by",
                "choice",
                choices=[
                    ("Anyone, also who built it", "same-user"),
                    ("Four eyes: not who built it", "other-user"),
                ],
                allow_blank=False,
                help="For the whole office; changes are in the audit log (Tools, g).",
            ),
        ]
        return RecordForm(fields, id="settings-form")

    @property
    def form(self) -> RecordForm:
        return self.query_one(RecordForm)

    @property
    def dirty(self) -> bool:
        return self.is_mounted and self.form.dirty

    def on_mount(self) -> None:
        self.load()

    def refresh_data(self) -> None:
        if not self.dirty:
            profiles = [(f"{p.code}  ({p.system}) {p.sender}", p.code) for p in self._profiles()]
            # Only the profile choices follow the profiles; "Approval by" keeps its rules.
            for f in self.form.fields:
                if f.kind == "choice" and f.name != "approval":
                    self.form.set_choices(f.name, profiles)
            self.load()

    def focus_first(self) -> None:
        self.form.widget("system_profile").focus()

    def current_values(self) -> dict[str, Any]:
        from store.records import Administration, User

        with self.store.view() as tx:
            system = tx.system()
            user = tx.find(User, self.user) or User(name=self.user)
            values: dict[str, Any] = {
                "system_profile": system.profile,
                "full_name": user.full_name,
                "personal_profile": user.profile,
                "signature": user.signature,
                "approval": system.approval,
            }
            for admin in tx.all(Administration):
                values[f"admin_{admin.code}"] = admin.profile
        return values

    def load(self) -> None:
        self.form.load(self.current_values())
        self._update_title()

    def _update_title(self) -> None:
        from textual.widgets import Label

        mark = "  * unsaved changes" if self.dirty else ""
        label = self.query_one("#pane-title", Label)
        label.update(f"{self.title}: system, administrations, {self.user}{mark}")
        label.set_class(self.dirty, "dirty")

    @on(RecordForm.DirtyChanged)
    def _dirty(self) -> None:
        self._update_title()

    def save(self, values: dict[str, Any]) -> None:
        from mailing.changes import save_settings

        save_settings(
            self.store,
            self.user,
            system_profile=values.get("system_profile"),
            admin_profiles={
                k.removeprefix("admin_"): v for k, v in values.items() if k.startswith("admin_")
            },
            full_name=values.get("full_name") or "",
            personal_profile=values.get("personal_profile"),
            signature=values.get("signature") or "",
            approval=values.get("approval") or None,
        )

    def action_save(self) -> None:
        values = self.form.read()
        try:
            self.save(values)
        except MailroomError as exc:
            self.form.show_error(error_text(exc))
            self.show_error(exc, "Not saved")
            return
        self.form.show_error(None)
        self.form.mark_clean()
        self._update_title()
        self.app.notify("Settings saved.", timeout=3)
        from screens.widgets.pane import Saved

        self.post_message(Saved())
