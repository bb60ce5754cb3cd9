"""Language codes: per administration, the template per document type and the letterhead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from screens.widgets.form import Field, FieldChanged, RecordForm
from screens.widgets.modals import PickerModal, PromptModal
from screens.widgets.pane import RecordPane
from screens.widgets.record_list import Page, page_of
from store.errors import MailroomError

if TYPE_CHECKING:
    from store.records import Template

BACKGROUNDS = ("first_background", "second_background")


class LetterheadField(Static):
    """A stored letterhead PDF (or none); its value is a file ref or None."""

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._ref: dict[str, Any] | None = None

    @property
    def value(self) -> dict[str, Any] | None:
        return dict(self._ref) if self._ref else None

    @value.setter
    def value(self, ref: dict[str, Any] | None) -> None:
        self._ref = dict(ref) if ref else None
        if self._ref:
            self.update(f"{self._ref['name']} ({int(self._ref.get('size', 0)) // 1024 + 1} kB)")
        else:
            self.update("(none; ctrl+o sets one)")
        self.post_message(FieldChanged())


def pdf_pages_text(payload: bytes, pages: int = 2) -> list[str]:
    """The text of the first pages of a PDF, to show what lies where on a letterhead."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(payload))
    return [(page.extract_text() or "").strip() for page in reader.pages[:pages]]


def template_choices(templates: Sequence[Template], doc_type: str) -> list[tuple[str, str]]:
    """The templates a language code may choose for ``doc_type``: of that document type
    only (the rules refuse any other), by code."""
    return [
        (f"{t.code}  {t.name}", t.code)
        for t in sorted(templates, key=lambda t: t.code)
        if t.object == doc_type
    ]


class LanguageCodesPane(RecordPane):
    title: ClassVar[str] = "Language codes"
    record_name: ClassVar[str] = "language code"
    search_placeholder: ClassVar[str] = "search codes"
    BINDINGS = [
        Binding(
            "ctrl+o",
            "letterhead",
            "Letterhead",
            id="language.letterhead",
            tooltip="Set or remove the first or second letterhead (a PDF by path)",
            priority=True,
        ),
        Binding(
            "ctrl+t",
            "toggle_preview",
            "Preview",
            id="language.preview",
            tooltip="Show the text on page 1 and 2 of the letterhead",
            priority=True,
        ),
    ]

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        from store.records import LanguageCode

        rows = [(lc.id, f"{lc.id}  {lc.description}") for lc in self.store.all(LanguageCode)]
        return page_of(sorted(rows), query, offset, limit)

    def make_form(self) -> RecordForm:
        from store.records import DOC_TYPES, Administration, Template

        try:
            from mailing.catalogue import OBJECT_LABELS
        except ImportError:
            OBJECT_LABELS = {}
        admins = [(f"{a.code}  {a.name}", a.code) for a in self.store.all(Administration)]
        templates = self.store.all(Template)
        fields = [
            Field("administration", "Administration", "choice", choices=admins),
            Field("code", "Code", placeholder="NL, EN, DE"),
            Field("description", "Description"),
            Field("locale", "Locale (money, dates)", placeholder="nl_NL"),
        ]
        for doc_type in DOC_TYPES:
            label = OBJECT_LABELS.get(doc_type, doc_type)
            choices = template_choices(templates, doc_type)
            fields.append(Field(f"tpl_{doc_type}", label, "choice", choices=choices))
        fields.append(
            Field("first_background", "First letterhead", "custom", factory=LetterheadField)
        )
        fields.append(
            Field("second_background", "Second letterhead", "custom", factory=LetterheadField)
        )
        return RecordForm(fields, id="language-form")

    def compose_side(self) -> ComposeResult:
        with VerticalScroll(id="letterhead-preview"):
            yield Label("Letterhead: text on page 1 and 2")
            yield Static("", id="letterhead-text", markup=False)

    def _to_form(self, values: dict[str, Any]) -> dict[str, Any]:
        templates = values.pop("templates", {}) or {}
        for doc_type, code in templates.items():
            values[f"tpl_{doc_type}"] = code
        return values

    def blank_values(self) -> dict[str, Any]:
        from store.records import Administration

        admins = self.store.all(Administration)
        return {
            "administration": admins[0].code if admins else None,
            "code": "",
            "locale": "nl_NL",
        }

    def values_of(self, key: str) -> dict[str, Any]:
        from store.records import LanguageCode

        return self._to_form(self.store.get(LanguageCode, key).dump())

    def save_values(self, values: dict[str, Any]) -> str:
        from mailing.changes import save_record
        from store.records import LanguageCode

        data = {k: v for k, v in values.items() if not k.startswith("tpl_")}
        data["templates"] = {
            k.removeprefix("tpl_"): v for k, v in values.items() if k.startswith("tpl_") and v
        }
        record = LanguageCode.parse(data)
        return save_record(self.store, record, self.current_key)

    def delete_key(self, key: str) -> None:
        from mailing.changes import delete_record
        from store.records import LanguageCode

        delete_record(self.store, LanguageCode, key)

    def reload_data(self) -> None:
        super().reload_data()
        if not self.form_ready:
            return
        from store.records import Administration, Template

        self.form.set_choices(
            "administration",
            [(f"{a.code}  {a.name}", a.code) for a in self.store.all(Administration)],
        )
        templates = self.store.all(Template)
        for f in self.form.fields:
            if f.name.startswith("tpl_"):
                doc_type = f.name.removeprefix("tpl_")
                self.form.set_choices(f.name, template_choices(templates, doc_type))

    # ------------------------------------------------------------ letterheads

    def action_letterhead(self) -> None:
        values = self.form.read()
        items = [
            ("first_background", "Set the first letterhead (page 1) from a PDF..."),
            ("second_background", "Set the second letterhead (follow-on pages) from a PDF..."),
        ]
        for name in BACKGROUNDS:
            if values.get(name):
                items.append((f"-{name}", f"Remove the {name.split('_')[0]} letterhead"))

        def chosen(choice: str | None) -> None:
            if not choice:
                return
            if choice.startswith("-"):
                self.form.widget(choice[1:], LetterheadField).value = None
                self.update_preview()
                return

            def path_given(path: str | None) -> None:
                if path:
                    self.load_letterhead(choice, path.strip())

            self.app.push_screen(
                PromptModal("Letterhead PDF (path):", placeholder="/path/to/letterhead.pdf"),
                path_given,
            )

        self.app.push_screen(PickerModal("Letterhead", items), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="letterhead")
    def load_letterhead(self, field_name: str, path: str) -> tuple[str, dict[str, Any], list[str]]:
        from pathlib import Path

        from mailing.changes import copy_in_file, read_stored_file
        from mailing.pdf.letterhead import validate_letterhead

        p = Path(path).expanduser()
        ref = copy_in_file(self.store, p, "letterhead")  # names the path when it cannot
        payload = read_stored_file(self.store, ref)
        warnings = validate_letterhead(payload, f"letterhead {p.name}")
        return field_name, ref.model_dump(mode="json"), list(warnings)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "letterhead":
            return
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            field_name, ref, warnings = worker.result
            self.form.widget(field_name, LetterheadField).value = ref
            self.update_preview()
            if warnings:
                self.show_message("Letterhead set, with warnings", "\n".join(warnings))
            else:
                self.app.notify(f"Letterhead {ref['name']} set; save with ctrl+s.", timeout=3)
        elif event.state == WorkerState.ERROR and worker.error is not None:
            self.show_error(worker.error, "Letterhead not set")

    def action_toggle_preview(self) -> None:
        box = self.query_one("#letterhead-preview")
        shown = not box.has_class("shown")
        box.set_class(shown, "shown")
        self.record_list.display = not shown
        self.update_preview()

    def after_load(self) -> None:
        self.update_preview()

    def update_preview(self) -> None:
        if not self.query_one("#letterhead-preview").has_class("shown"):
            return
        self.query_one("#letterhead-text", Static).update(self.preview_text())

    def preview_text(self) -> str:
        from mailing.changes import read_stored_file
        from store.records import StoredFileRef

        values = self.form.read()
        out: list[str] = []
        first, second = values.get("first_background"), values.get("second_background")
        if not first:
            return "No letterhead: documents are drawn on blank paper."
        try:
            pages = pdf_pages_text(
                read_stored_file(self.store, StoredFileRef.model_validate(first))
            )
            out.append(f"Page 1 ({first['name']}):\n{pages[0] or '(no text, images only)'}")
            # All pages of the first letterhead are used first, then the second's.
            if len(pages) > 1:
                out.append(f"Page 2 ({first['name']}, page 2):\n{pages[1] or '(no text)'}")
            elif second:
                follow = pdf_pages_text(
                    read_stored_file(self.store, StoredFileRef.model_validate(second))
                )
                out.append(f"Page 2 ({second['name']}):\n{follow[0] or '(no text, images only)'}")
            else:
                out.append("Page 2: no second letterhead; follow-on pages are blank.")
        except MailroomError as exc:
            from screens.widgets.modals import error_text

            out.append(error_text(exc))
        return "\n\n".join(out)
