"""Modal screens shared by every pane: a message, a question, a prompt, a picker.

Each answers through ``dismiss`` so callers use ``push_screen(modal, callback)``
and never block the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

_PATH_WORDS = {"to": "To", "cc": "Cc", "bcc": "Bcc", "email": "e-mail"}


def _path_in_words(path: str) -> str:
    """``.sales_invoice.to[0]`` as ``sales invoice, To 1``: a place inside a field."""
    import re

    out: list[str] = []
    for part in re.findall(r"\[\d+\]|[^.\[\]]+", path):
        if part.startswith("["):
            number = str(int(part[1:-1]) + 1)
            if out:
                out[-1] += f" {number}"
            else:
                out.append(f"number {number}")
        else:
            out.append(_PATH_WORDS.get(part, part.replace("_", " ")))
    return ", ".join(out)


def refusal_for_form(exc: BaseException, labels: dict[str, str]) -> str | None:
    """A refused change told with the form's own labels ("E-mail (business): ...")
    instead of the data's field names; None when ``exc`` is not a refusal."""
    from mailing.changes import ChangeRefused
    from store.errors import RecordError

    if isinstance(exc, RecordError):
        return _record_error_for_form(exc, labels)
    if not isinstance(exc, ChangeRefused):
        return None
    from mailing import words  # not at import: mailing.words reads the records' catalogue

    lines = [f"Not saved; nothing was changed ({words.count(len(exc.problems), 'problem')}):"]
    for p in exc.problems:
        where = p.where
        for name in sorted(labels, key=len, reverse=True):
            i = where.find("." + name)
            end = i + len(name) + 1
            if i >= 0 and (end == len(where) or where[end] in ".["):
                rest = _path_in_words(where[end:])
                where = labels[name] + (f" ({rest})" if rest else "")
                break
        line = f"- {where}: {p.message}"
        if p.fix:
            line += f" Fix: {p.fix}"
        lines.append(line)
    return "\n".join(lines)


def _record_error_for_form(exc: BaseException, labels: dict[str, str]) -> str:
    """A record the form's values do not make, told by the form's labels: "Code: is
    empty; fill it in" instead of "field code: ... (value: '')"."""
    problems = getattr(exc, "problems", [])
    from mailing import words

    lines = [f"Not saved; nothing was changed ({words.count(len(problems), 'problem')}):"]
    for where, value, message in problems:
        name = str(where).split(".")[0]
        label = labels.get(name, name.replace("_", " "))
        if value in (None, "", []) and (
            "valid string" in message or "required" in message or "must be" in message
        ):
            text = "is empty; fill it in" if "must be" not in message else f"is empty: {message}"
        else:
            text = f"{message} (you typed {value!r})" if value not in (None, "") else message
        lines.append(f"- {label}: {text}")
    return "\n".join(lines)


def error_text(exc: BaseException) -> str:
    """What a user reads about an error: our own message, or a plain summary."""
    from store.errors import MailroomError

    if isinstance(exc, MailroomError):
        return str(exc)
    from mailing.crash import crash_sentence, write_crash_report

    return crash_sentence(exc, write_crash_report(None, exc, "a pane"), goes_on=True)


class MessageModal(ModalScreen[None]):
    """A message (or an error) the user closes with Enter or Escape."""

    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="modal.close", tooltip="Close this message"),
    ]

    def __init__(self, title: str, text: str, *, error: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box error" if self.error else "modal-box"):
            yield Label(self.title_text, classes="modal-title")
            with VerticalScroll(classes="modal-body"):
                yield Static(self.text, id="message-text", markup=False)
            yield Label("Enter or Esc: close", classes="modal-keys")

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question: y or Enter is yes, n or Escape is no."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="modal.yes", tooltip="Answer yes"),
        Binding("n,escape", "answer(False)", "No", id="modal.no", tooltip="Answer no"),
    ]

    def __init__(
        self,
        question: str,
        title: str = "Please confirm",
        *,
        follow: Callable[[], str] | None = None,
    ) -> None:
        """``follow``: asked twice a second for the question as it stands now, for a
        question about something that goes on meanwhile (e.g. a send that may end)."""
        super().__init__()
        self.question = question
        self.title_text = title
        self.follow = follow

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(self.title_text, classes="modal-title")
            yield Static(self.question, id="question", markup=False)
            yield Label("y / Enter: yes    n / Esc: no", classes="modal-keys")

    def on_mount(self) -> None:
        if self.follow is not None:
            self.set_interval(0.5, self._follow)

    def _follow(self) -> None:
        if self.follow is None:
            return
        question = self.follow()
        if question != self.question:
            self.question = question
            self.query_one("#question", Static).update(question)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptModal(ModalScreen[str | None]):
    """Ask for one line of text (a path, an address, a password)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel", tooltip="Close without an answer"),
    ]

    def __init__(
        self, question: str, value: str = "", *, password: bool = False, placeholder: str = ""
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.password = password
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question, classes="modal-title", markup=False)
            yield Input(
                self.value, password=self.password, placeholder=self.placeholder, id="answer"
            )
            yield Label("Enter: OK    Esc: cancel", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False

    @on(Input.Submitted, "#answer")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickerModal(ModalScreen[str | None]):
    """Pick one of a list; typing filters it. Answers the chosen value."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel", tooltip="Close without choosing"),
        Binding(
            "down",
            "to_list",
            "Choices",
            id="picker.to-list",
            tooltip="From the filter box down into the list",
            show=False,
        ),
    ]

    def __init__(self, title: str, items: Sequence[tuple[str, str]]) -> None:
        """``items``: (value, label) pairs."""
        super().__init__()
        self.title_text = title
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Label(self.title_text, classes="modal-title")
            yield Input(placeholder="type to filter", id="filter")
            yield OptionList(*self._options(""), id="choices")
            yield Label("Enter: choose    Esc: cancel", classes="modal-keys")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False

    def _options(self, text: str) -> list[Option]:
        needle = text.lower()
        return [
            Option(label, id=value)
            for value, label in self.items
            if not needle or needle in label.lower() or needle in value.lower()
        ]

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#choices", OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#filter")
    def _take_first(self) -> None:
        options = self.query_one("#choices", OptionList)
        if options.option_count:
            index = options.highlighted or 0
            self.dismiss(options.get_option_at_index(index).id)

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_to_list(self) -> None:
        options = self.query_one("#choices", OptionList)
        if self.focused is not options:
            options.focus()
            if options.option_count and options.highlighted is None:
                options.highlighted = 0
        else:
            options.action_cursor_down()

    def action_cancel(self) -> None:
        self.dismiss(None)
