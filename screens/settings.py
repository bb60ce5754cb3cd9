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


def check_personal_profile(
    system_profile: Any | None, personal_profile: Any | None, user: str
) -> None:
    """SPEC §5: personal settings need a system profile, and the same system as it."""
    from mailing.errors import ConfigError

    if personal_profile is None:
        return
    if system_profile is None:
        raise ConfigError(
            f"User {user} cannot have a personal profile while there is no system profile.",
            field="personal profile",
            value=personal_profile.code,
            fix="choose the system profile first; it must always exist.",
        )
    if personal_profile.system != system_profile.system:
        raise ConfigError(
            f"The personal profile {personal_profile.code} sends by "
            f"{personal_profile.system}, the system profile {system_profile.code} by "
            f"{system_profile.system}; personal settings must be of the same system.",
            field="personal profile",
            value=personal_profile.code,
            fix=f"choose a {system_profile.system} profile, or none.",
        )


class SettingsPane(Pane):
    title: ClassVar[str] = "Settings"
    DEFAULT_CSS = "SettingsPane RecordForm { height: 1fr; }"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="settings.save",
            tooltip="Save the settings",
            priority=True,
        ),
    ]

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
            for f in self.form.fields:
                if f.kind == "choice":
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
        from store.records import Administration, Profile, User

        with self.store.transaction() as tx:
            profiles = {p.code: p for p in tx.all(Profile)}
            system_code = values.get("system_profile")
            personal_code = values.get("personal_profile")
            check_personal_profile(
                profiles.get(system_code) if system_code else None,
                profiles.get(personal_code) if personal_code else None,
                self.user,
            )
            system = tx.system()
            system.profile = system_code
            tx.put(system)
            for admin in tx.all(Administration):
                name = f"admin_{admin.code}"
                if name in values:
                    admin.profile = values[name]
                    tx.put(admin)
            user = tx.find(User, self.user) or User(name=self.user)
            user.full_name = values.get("full_name") or ""
            user.profile = personal_code
            user.signature = values.get("signature") or ""
            tx.put(User.parse(user.dump()))

    def action_save(self) -> None:
        values = self.form.read()
        try:
            self.save(values)
        except Exception as exc:
            self.form.show_error(error_text(exc))
            self.show_error(exc, "Not saved")
            return
        self.form.show_error(None)
        self.form.mark_clean()
        self._update_title()
        self.app.notify("Settings saved.", timeout=3)
