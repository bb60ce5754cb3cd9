"""The hand-written e-mail (SPEC §8): To/Cc/Bcc picked from the relations, subject,
body, attachments by path, an optional template; From and its profile shown; sending
asks first. Opened from the Tools pane (n)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from mailing import words
from screens.widgets.form import EditorArea
from screens.widgets.key_bar import KeyBar
from screens.widgets.modals import ConfirmModal, PickerModal, error_text
from store.errors import MailroomError


def address_choices(store: Any) -> list[tuple[str, str]]:
    """(address, label) for every relation address and contact, for the To/Cc/Bcc picker."""
    from store.records import Relation

    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(addr: str, label: str) -> None:
        if addr and addr.lower() not in seen:
            seen.add(addr.lower())
            out.append((addr, f"{addr}  {label}"))

    for rel in store.all(Relation):
        where = f"{rel.administration}/{rel.code} {rel.name}"
        add(rel.business_email, f"{where} (business)")
        for c in rel.contacts:
            add(c.email, f"{where}: {c.name}")
        for doc_type, aset in rel.email_addresses.items():
            for addr in (*aset.to, *aset.cc, *aset.bcc):
                add(addr, f"{where} ({words.doc_type_lower(doc_type)})")
    return out


class ComposeScreen(Screen[Any]):
    """A hand-written e-mail: To/Cc/Bcc (picked from relations and contacts), subject,
    body, attachments by path, an optional template of the manual object."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", id="compose.send", tooltip="Send it", priority=True),
        Binding(
            "ctrl+o",
            "pick",
            "Pick address",
            id="compose.pick",
            tooltip="Pick a relation or contact address for To, Cc or Bcc",
            priority=True,
        ),
        Binding("escape", "close", "Close", id="compose.close", tooltip="Close (asks first)"),
    ]

    def __init__(self, store: Any, user: str) -> None:
        super().__init__()
        self.store = store
        self.user = user
        self.last_address_field = "c-to"

    def compose(self) -> ComposeResult:
        from store.records import Template

        templates = [
            (f"{t.code}  {t.name}", t.code)
            for t in self.store.all(Template)
            if t.object == "manual"
        ]
        yield Label("New hand-written e-mail", id="compose-title")
        yield Static(self.from_line(), id="c-from", markup=False)
        for wid, label, hint in (
            ("c-to", "To", "addresses, comma-separated (ctrl+o picks)"),
            ("c-cc", "Cc", ""),
            ("c-bcc", "Bcc", ""),
            ("c-subject", "Subject", ""),
            ("c-attach", "Attachments", "file paths, separated by ;"),
        ):
            with Horizontal(classes="row"):
                yield Label(label)
                yield Input(placeholder=hint, id=wid, compact=True)
        with Horizontal(classes="row"):
            yield Label("Template")
            yield Select(templates, id="c-template", prompt="(none)", compact=True)
        area = EditorArea(id="c-body", soft_wrap=True)
        area.cursor_blink = False
        yield area
        yield KeyBar()

    help_title: ClassVar[str] = "the hand-written e-mail"

    def from_line(self) -> str:
        """From whom and through which profile and server this mail would go."""
        from mailing.config import ConfigSnapshot
        from mailing.resolve import resolve_sender_for_object
        from mailing.words import profile_destination

        try:
            cfg = ConfigSnapshot.load(self.store)
            choice, _ = resolve_sender_for_object(cfg, "manual", self.user)
        except MailroomError as exc:
            return f"From: no sender ({error_text(exc)})"
        who = f"{choice.name} <{choice.address}>" if choice.name else choice.address
        where = profile_destination(cfg.profiles.get(choice.profile), self.store.home)
        return f"From: {who}, profile {where}"

    def on_mount(self) -> None:
        for w in self.query(Input):
            w.cursor_blink = False
        self.query_one("#c-to", Input).focus()

    def on_descendant_focus(self, event: Any) -> None:
        wid = getattr(event.widget, "id", None)
        if wid in ("c-to", "c-cc", "c-bcc"):
            self.last_address_field = wid

    def values(self) -> dict[str, Any]:
        def v(wid: str) -> str:
            return self.query_one(f"#{wid}", Input).value.strip()

        template = self.query_one("#c-template", Select).value
        return {
            "to": [v("c-to")] if v("c-to") else [],
            "cc": [v("c-cc")] if v("c-cc") else [],
            "bcc": [v("c-bcc")] if v("c-bcc") else [],
            "subject": v("c-subject"),
            "attachments": [Path(p.strip()) for p in v("c-attach").split(";") if p.strip()],
            "template": template if isinstance(template, str) else None,
            "body": self.query_one("#c-body", TextArea).text,
        }

    @property
    def dirty(self) -> bool:
        vals = self.values()
        return bool(vals["to"] or vals["subject"] or vals["body"].strip())

    def action_pick(self) -> None:
        target = self.last_address_field
        choices = address_choices(self.store)

        def chosen(addr: str | None) -> None:
            if not addr:
                return
            field = self.query_one(f"#{target}", Input)
            field.value = f"{field.value.rstrip(', ')}, {addr}" if field.value.strip() else addr
            field.focus()

        self.app.push_screen(PickerModal(f"Add to {target[2:].capitalize()}", choices), chosen)

    def action_send(self) -> None:
        vals = self.values()
        to = ", ".join(vals["to"]) or "(nobody yet)"
        subject = vals["subject"] or "(no subject)"
        question = f"Send this e-mail now?\n\nTo: {to}\nSubject: {subject}\n{self.from_line()}"

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(vals)

        self.app.push_screen(ConfirmModal(question, "Send the e-mail?"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compose-send")
    def _send(self, vals: dict[str, Any]) -> Any:
        from mailing.manual import send_manual

        return send_manual(
            self.store,
            self.user,
            vals["to"],
            vals["cc"],
            vals["bcc"],
            vals["subject"],
            vals["body"],
            vals["attachments"],
            template=vals["template"],
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from screens.widgets.modals import MessageModal

        if event.worker.group != "compose-send":
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR and event.worker.error is not None:
            self.app.push_screen(
                MessageModal("Not sent", error_text(event.worker.error), error=True)
            )

    def action_close(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmModal("Drop this e-mail?"), answered)
