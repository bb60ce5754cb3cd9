"""A form built from field descriptions, that knows when it holds unsaved changes.

``load(values)`` fills it and remembers what was loaded; ``read()`` gives what is
typed now; ``dirty`` compares the two. A failed save changes neither, so nothing
typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, cast, overload

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static, TextArea
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.select import InvalidSelectValueError
from textual.widgets.text_area import LanguageDoesNotExist

from screens.textual_adapter import toggle_button_inner

Kind = Literal[
    "text",
    "int",
    "float",
    "bool",
    "choice",
    "password",
    "multiline",
    "html",
    "multi",
    "list",
    "custom",
]


@dataclass(frozen=True)
class Field:
    """One input of a form. ``choices`` are (label, value) pairs."""

    name: str
    label: str
    kind: Kind = "text"
    choices: Sequence[tuple[str, Any]] = ()
    placeholder: str = ""
    allow_blank: bool = True
    help: str = ""
    factory: Callable[[], Widget] | None = field(default=None, compare=False)


WidgetType = TypeVar("WidgetType", bound=Widget)


class CustomFieldWidget(Protocol):
    """A ``custom`` field's widget: the form reads and sets its ``value``."""

    value: Any


class FieldChanged(Message):
    """Posted by custom field widgets when their value changes."""


class EditorArea(TextArea):
    """A text area that Tab leaves, like every other field; ctrl+] indents instead."""

    BINDINGS = [
        Binding(
            "ctrl+right_square_bracket",
            "indent",
            "Indent",
            id="editor.indent",
            tooltip="Indent: insert two spaces at the cursor (Tab moves to the next field)",
        ),
    ]

    def action_indent(self) -> None:
        self.insert("  ")


class TickBox(Checkbox):
    """A checkbox readable without colour: ``[x] label`` or ``[ ] label``, label kept on focus."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble(("[x]" if self.value else "[ ]", style))


class TickList(SelectionList[str]):
    """A list of choices readable without colour: each line starts ``[x]`` or ``[ ]``."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 4 or segments[1].text != toggle_button_inner():
            return strip
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        mark = "[x]" if selection.value in self._selected else "[ ]"
        style = segments[1].style
        plain = Segment(mark, style=Style(bold=True, meta=style.meta if style else None))
        return Strip([plain, *segments[3:]])


def html_editor(text: str = "", *, id: str | None = None) -> TextArea:
    """A TextArea for HTML source, highlighted when tree-sitter's HTML grammar is present."""
    try:
        area: TextArea = EditorArea.code_editor(
            text, language="html", id=id, soft_wrap=True, tab_behavior="focus"
        )
    except LanguageDoesNotExist:  # no tree-sitter: plain text is still an editor
        area = EditorArea(text, id=id, soft_wrap=True)
    area.show_line_numbers = False
    area.cursor_blink = False
    return area


class RecordForm(VerticalScroll):
    class DirtyChanged(Message):
        def __init__(self, form: RecordForm, dirty: bool) -> None:
            super().__init__()
            self.form = form
            self.dirty = dirty

        @property
        def control(self) -> RecordForm:
            return self.form

    def __init__(self, fields: Sequence[Field], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fields = list(fields)
        self._loaded: dict[str, Any] = {}
        self._was_dirty = False
        self._loading = False

    # ------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        yield Static("", classes="form-error", id="form-error", markup=False)
        for f in self.fields:
            wid = f"f-{f.name}"
            if f.kind == "bool":
                yield TickBox(f.label, id=wid)
            elif f.kind in ("multiline", "html", "multi", "custom"):
                with Vertical(classes="form-block"):
                    yield Label(f.label, classes="form-block-label", name=f.label)
                    yield self._make(f, wid)
            else:
                with Horizontal(classes="form-row"):
                    yield Label(f.label, classes="form-label", name=f.label)
                    yield self._make(f, wid)
            if f.help:
                yield Static(f.help, classes="form-help", markup=False)

    def _make(self, f: Field, wid: str) -> Widget:
        if f.kind in ("text", "list"):
            return Input(placeholder=f.placeholder, id=wid, compact=True)
        if f.kind == "password":
            return Input(placeholder=f.placeholder, password=True, id=wid, compact=True)
        if f.kind == "int":
            return Input(placeholder=f.placeholder, type="integer", id=wid, compact=True)
        if f.kind == "float":
            return Input(placeholder=f.placeholder, type="number", id=wid, compact=True)
        if f.kind == "choice":
            return Select(
                list(f.choices), allow_blank=f.allow_blank, id=wid, prompt="(none)", compact=True
            )
        if f.kind == "multiline":
            area = EditorArea(id=wid, soft_wrap=True)
            area.cursor_blink = False
            return area
        if f.kind == "html":
            return html_editor(id=wid)
        if f.kind == "multi":
            return TickList(*[(label, value) for label, value in f.choices], id=wid)
        if f.kind == "custom" and f.factory is not None:
            widget = f.factory()
            widget.id = wid
            return widget
        raise ValueError(f"unknown field kind {f.kind!r}")

    def on_mount(self) -> None:
        # Nothing blinks: calmer over slow SSH links, and stable in snapshot tests.
        for w in self.query("Input, TextArea"):
            if isinstance(w, Input | TextArea):
                w.cursor_blink = False

    @overload
    def widget(self, name: str) -> Widget: ...

    @overload
    def widget(self, name: str, expect_type: type[WidgetType]) -> WidgetType: ...

    def widget(self, name: str, expect_type: type[Widget] = Widget) -> Widget:
        """The widget of field ``name``; with ``expect_type``, checked to be one."""
        return self.query_one(f"#f-{name}", expect_type)

    # ------------------------------------------------------------ values

    def read(self) -> dict[str, Any]:
        return {f.name: self._get(f) for f in self.fields}

    def _get(self, f: Field) -> Any:
        w = self.widget(f.name)
        if isinstance(w, Checkbox):
            return w.value
        if isinstance(w, Select):
            return None if w.value is Select.NULL else w.value
        if isinstance(w, TextArea):
            return w.text
        if isinstance(w, SelectionList):
            return sorted(w.selected)
        if isinstance(w, Input):
            text = w.value
            if f.kind == "int":
                try:
                    return int(text)
                except ValueError:
                    return text
            if f.kind == "float":
                try:
                    return float(text)
                except ValueError:
                    return text
            if f.kind == "list":
                return [p.strip() for p in text.split(",") if p.strip()]
            return text
        return getattr(w, "value", None)

    def _set(self, f: Field, value: Any) -> None:
        w = self.widget(f.name)
        if isinstance(w, Checkbox):
            w.value = bool(value)
        elif isinstance(w, Select):
            try:
                w.value = value if value is not None else Select.NULL
            except InvalidSelectValueError:  # no longer offered, e.g. a deleted profile
                if f.allow_blank:
                    w.clear()
                elif f.choices:  # a choice that must hold a value takes its first option
                    w.value = f.choices[0][1]
        elif isinstance(w, TextArea):
            w.load_text(value or "")
        elif isinstance(w, SelectionList):
            w.deselect_all()
            for v in value or []:
                w.select(v)
        elif isinstance(w, Input):
            if f.kind == "list":
                w.value = ", ".join(value or [])
            else:
                w.value = "" if value is None else str(value)
        else:
            cast("CustomFieldWidget", w).value = value

    def load(self, values: dict[str, Any]) -> None:
        """Fill the form and remember it as the saved state."""
        for f in self.fields:
            self._set(f, values.get(f.name))
        self.show_error(None)
        self._loaded = self.read()
        self._notify()

    def mark_clean(self) -> None:
        self._loaded = self.read()
        self._notify()

    def set_choices(self, name: str, choices: Sequence[tuple[str, Any]]) -> None:
        w = self.widget(name)
        if isinstance(w, Select):
            current = w.value
            w.set_options(list(choices))
            if current is not Select.NULL and current in {v for _, v in choices}:
                w.value = current

    @property
    def dirty(self) -> bool:
        return self.read() != self._loaded

    def show_error(self, text: str | None) -> None:
        box = self.query_one("#form-error", Static)
        box.update(text or "")
        box.display = bool(text)
        if text:
            self.scroll_home(animate=False)

    # ------------------------------------------------------------ focus

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._mark_focus)

    def _mark_focus(self) -> None:
        """The label of the focused field gets a ``▸`` and the focus colour (any terminal)."""
        focused = self.screen.focused if self.is_attached else None
        for row in self.query(".form-row, .form-block"):
            has = focused is not None and focused in row.query("*")
            if has == row.has_class("focused"):
                continue  # unchanged: no label is redrawn
            row.set_class(has, "focused")
            label = row.query_children(Label).first()
            bare = label.name or ""
            label.update(f"▸ {bare}" if has else bare)

    # ------------------------------------------------------------ tracking

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(FieldChanged)
    def _changed(self) -> None:
        self._notify()

    def _notify(self) -> None:
        if not self.is_mounted:
            return
        dirty = self.dirty
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.post_message(self.DirtyChanged(self, dirty))
