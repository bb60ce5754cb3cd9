"""Templates: subject, body and disclaimer with expressions, attachments, a live preview."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import DescendantFocus
from textual.timer import Timer
from textual.widgets import Input, Label, Static, TextArea

from mailing import words
from screens.widgets.form import Field, FieldChanged, RecordForm
from screens.widgets.modals import PickerModal, PromptModal, error_text
from screens.widgets.pane import RecordPane
from screens.widgets.record_list import Page, page_of
from store.errors import MailroomError

EXPRESSION_TARGETS = ("subject", "body", "disclaimer")
PREVIEW_MODES = ("off", "text", "html")


class AttachmentList(Static):
    """The template's attachments (stored files); its value is a list of file refs."""

    EMPTY = "(none; ctrl+o adds one)"

    def __init__(self) -> None:
        super().__init__("", markup=False)
        self._files: list[dict[str, Any]] = []

    @property
    def value(self) -> list[dict[str, Any]]:
        return [dict(f) for f in self._files]

    @value.setter
    def value(self, files: list[dict[str, Any]] | None) -> None:
        self._files = [dict(f) for f in files or []]
        names = [f"{f['name']} ({int(f.get('size', 0)) // 1024 + 1} kB)" for f in self._files]
        self.update(", ".join(names) if names else self.EMPTY)
        self.post_message(FieldChanged())


class ImageList(AttachmentList):
    """The template's images, embedded where the HTML says ``<img src="cid:NAME">``."""

    EMPTY = '(none; ctrl+o adds one; in the HTML: <img src="cid:logo.png">)'


def object_choices() -> list[tuple[str, str]]:
    from store.records import OBJECTS

    try:
        from mailing.catalogue import OBJECT_LABELS
    except ImportError:
        OBJECT_LABELS = {}
    return [(OBJECT_LABELS.get(o, o), o) for o in OBJECTS]


def expression_items(obj: str) -> list[tuple[str, str]]:
    """(name, label) of each field a template of ``obj`` may use."""
    from mailing.catalogue import OBJECT_FIELDS

    items = []
    for f in OBJECT_FIELDS.get(obj, []):
        name = getattr(f, "name", str(f))
        description = getattr(f, "description", "")
        # An amount is inserted with its currency: {{ total|money }} -> € 1.493,82.
        value = f"{name}|money" if getattr(f, "type", "") == "money" else name
        items.append((value, f"{name:<22} {description}"))
    return items


def bare_amounts(obj: str, source: str) -> list[str]:
    """Amount fields written without ``|money`` in ``source`` (shown without currency)."""
    import re

    from mailing.catalogue import OBJECT_FIELDS

    money = [f.name for f in OBJECT_FIELDS.get(obj, []) if f.type == "money"]
    return [name for name in money if re.search(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", source)]


class TemplatesPane(RecordPane):
    title: ClassVar[str] = "Templates"
    record_name: ClassVar[str] = "template"
    search_placeholder: ClassVar[str] = "search templates"
    BINDINGS = [
        Binding(
            "ctrl+g",
            "pick_expression",
            "Expression",
            id="template.expression",
            tooltip="Insert a field of the object at the cursor ({{ name }})",
            priority=True,
        ),
        Binding(
            "ctrl+t",
            "toggle_preview",
            "Preview",
            id="template.preview",
            tooltip="Preview off / as text / as HTML source, against a sample document",
            priority=True,
        ),
        Binding(
            "ctrl+o",
            "attachments",
            "Attach",
            id="template.attachments",
            tooltip="Add or remove an attachment, or an image the HTML shows (cid:NAME)",
            priority=True,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.preview_mode = "off"
        self.expression_target = "body"
        self._preview_timer: Timer | None = None

    # ------------------------------------------------------------ data

    def fetch(self, query: str, offset: int, limit: int) -> Page:
        from store.records import Template

        rows = [(t.code, f"{t.code}  {t.name}") for t in self.store.all(Template)]
        return page_of(sorted(rows), query, offset, limit)

    def profile_choices(self) -> list[tuple[str, str]]:
        from store.records import Profile

        return [(f"{p.code}  {p.sender}", p.code) for p in self.store.all(Profile)]

    def make_form(self) -> RecordForm:
        return RecordForm(
            [
                Field("code", "Code (unique)", placeholder="e.g. INV-NL"),
                Field("name", "Name"),
                Field("object", "Object", "choice", choices=object_choices(), allow_blank=False),
                Field("profile", "Profile (sender)", "choice", choices=self.profile_choices()),
                Field(
                    "format",
                    "Format",
                    "choice",
                    choices=[("HTML (with text part)", "html"), ("Plain text", "text")],
                    allow_blank=False,
                ),
                Field("subject", "Subject"),
                Field("body", "Body (ctrl+g: insert a field)", "html"),
                Field("disclaimer", "Disclaimer", "html"),
                Field("attachments", "Attachments (ctrl+o)", "custom", factory=AttachmentList),
                Field("images", "Images in the HTML (ctrl+o)", "custom", factory=ImageList),
            ],
            id="template-form",
        )

    def compose(self) -> ComposeResult:
        yield from super().compose()
        # Under the list and the form: a template no language code uses is sent with
        # no document, and nothing else would say so.
        yield Static("", id="template-use", markup=False)

    def compose_side(self) -> ComposeResult:
        with VerticalScroll(id="preview"):
            yield Label("Preview", id="preview-title")
            yield Static("", id="preview-text", markup=False)

    def reload_data(self) -> None:
        super().reload_data()
        if self.form_ready:
            self.form.set_choices("profile", self.profile_choices())
            self.update_use_note()  # a language code may have taken it up since

    def blank_values(self) -> dict[str, Any]:
        from store.records import Template

        values = Template(code="NEW").dump()
        values["code"] = ""
        return values

    def values_of(self, key: str) -> dict[str, Any]:
        from store.records import Template

        return self.store.get(Template, key).dump()

    def build(self, values: dict[str, Any]) -> Any:
        from store.records import Template

        return Template.parse(values)

    def save_values(self, values: dict[str, Any]) -> str:
        from mailing.changes import save_record

        template = self.build(values)  # the door checks its expressions: line and column
        return save_record(self.store, template, self.current_key)

    def delete_key(self, key: str) -> None:
        from mailing.changes import delete_record
        from store.records import Template

        delete_record(self.store, Template, key)

    def after_load(self) -> None:
        self.update_preview()
        self.update_use_note()

    def update_use_note(self) -> None:
        """Say so when no language code uses the saved template open here."""
        from mailing.checks.doctor_checks import unhooked_templates

        unused = self.current_key is not None and self.current_key in unhooked_templates(self.store)
        note = self.query_one("#template-use", Static)
        note.update(
            "No language code uses this template yet: choose it in Language codes (F4)."
            if unused
            else ""
        )
        note.set_class(unused, "shown")

    # ------------------------------------------------------------ expressions

    @on(DescendantFocus)
    def _remember_target(self, event: DescendantFocus) -> None:
        wid = event.widget.id or ""
        name = wid.removeprefix("f-")
        if name in EXPRESSION_TARGETS:
            self.expression_target = name

    def action_pick_expression(self) -> None:
        obj = self.form.read().get("object") or "sales_invoice"
        try:
            items = expression_items(obj)
        except MailroomError as exc:
            self.show_error(exc, "No field list")
            return
        target = self.expression_target

        def chosen(name: str | None) -> None:
            if name:
                self.insert_expression(target, name)

        self.app.push_screen(
            PickerModal(f"Insert a field of the {words.doc_type_lower(obj)} into {target}", items),
            chosen,
        )

    def insert_expression(self, target: str, name: str) -> None:
        widget = self.form.widget(target)
        text = "{{ " + name + " }}"
        if isinstance(widget, TextArea):
            widget.insert(text)
        elif isinstance(widget, Input):
            widget.insert_text_at_cursor(text)
        widget.focus()

    # ------------------------------------------------------------ attachments

    def action_attachments(self) -> None:
        lists = {name: self.form.widget(name, AttachmentList) for name in ("attachments", "images")}
        items = [("+attachments", "Add an attachment by path..."), ("+images", "Add an image...")]
        for name, widget in lists.items():
            what = "attachment" if name == "attachments" else "image"
            items += [
                (f"-{name}-{i}", f"Remove {what} {f['name']}") for i, f in enumerate(widget.value)
            ]

        def chosen(choice: str | None) -> None:
            if not choice:
                return
            if choice.startswith("+"):
                name = choice[1:]
                question = (
                    "Attach which file? (path)"
                    if name == "attachments"
                    else 'Which image? (path; the HTML shows it with <img src="cid:NAME">)'
                )
                example = "/path/to/terms.pdf" if name == "attachments" else "/path/to/logo.png"
                self.app.push_screen(
                    PromptModal(question, placeholder=example),
                    lambda path: self._add_file(name, path),
                )
            else:
                _, name, index = choice.split("-")
                widget = lists[name]
                widget.value = [f for i, f in enumerate(widget.value) if i != int(index)]

        self.app.push_screen(PickerModal("Attachments and images", items), chosen)

    def _add_file(self, name: str, path: str | None) -> None:
        if not path:
            return
        widget = self.form.widget(name, AttachmentList)
        from mailing.changes import copy_in_file, copy_in_image

        try:
            if name == "images":  # an image the HTML can show, under a name not yet taken
                taken = [f["name"] for f in widget.value]
                ref = copy_in_image(self.store, path.strip(), taken)
            else:
                ref = copy_in_file(self.store, path.strip(), "attachment")
        except MailroomError as exc:
            self.show_error(exc, "Not added")
            return
        widget.value = [*widget.value, ref.model_dump(mode="json")]

    # ------------------------------------------------------------ preview

    def action_toggle_preview(self) -> None:
        index = PREVIEW_MODES.index(self.preview_mode)
        self.preview_mode = PREVIEW_MODES[(index + 1) % len(PREVIEW_MODES)]
        shown = self.preview_mode != "off"
        self.query_one("#preview").set_class(shown, "shown")
        # At 80 columns there is room for the form and one more column: the preview
        # takes the list's place while it is shown.
        self.record_list.display = not shown
        self.update_preview()

    @on(RecordForm.DirtyChanged)
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(FieldChanged)
    def _schedule_preview(self) -> None:
        if self.preview_mode == "off":
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.3, self.update_preview)

    def update_preview(self) -> None:
        if self.preview_mode == "off" or not self.is_mounted:
            return
        title = "Preview (text)" if self.preview_mode == "text" else "Preview (HTML source)"
        self.query_one("#preview-title", Label).update(f"{title}  ctrl+t: next")
        self.query_one("#preview-text", Static).update(self.render_preview())

    def render_preview(self) -> str:
        values = self.form.read()
        try:
            from mailing.catalogue import sample_context
            from mailing.render import render_template

            template = self.build(values)
            locale = "nl_NL"
            message = render_template(template, sample_context(template.object), locale)
        except MailroomError as exc:
            return "Cannot render this template yet:\n\n" + error_text(exc)
        body = message.text if self.preview_mode == "text" else message.html
        source = " ".join(str(values.get(k) or "") for k in ("subject", "body", "disclaimer"))
        bare = bare_amounts(template.object, source)
        note = ""
        if bare:
            note = (
                f"\n\nNote: {', '.join(bare)} shows a bare number here; write "
                f"{{{{ {bare[0]}|money }}}} for the amount with its currency."
            )
        return f"Subject: {message.subject}\n\n{body}{note}"
