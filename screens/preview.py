"""Preview: one message (queued, or a document not yet in a batch) and its resolution trace.

Shows the headers (From, To, Cc, Bcc, Reply-To, Subject), the text of the message,
the attachments with their sizes, the PDF's pages as text, and the resolution
trace: every step of SPEC §5 and §6, what it found, which one decided (marked
``>>`` and ``<= DECIDED``), and the warnings. At 80 columns the trace is below the
message; from 120 columns beside it. ``e`` saves the ``.eml``, ``h`` shows the
HTML source. Everything is read in a thread: a large PDF never freezes the app.
"""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from mailing import words
from screens.widgets.key_bar import KeyBar
from screens.widgets.modals import MessageModal, PromptModal, error_text
from screens.widgets.spool_events import failure_text
from screens.widgets.spool_view import human_size
from store.errors import MailroomError

if TYPE_CHECKING:
    from mailing.resolve import Resolution
    from store.records import Document
    from store.store import Store

MAX_PDF_PAGES = 4
MAX_PAGE_CHARS = 3000


@dataclass
class PreviewData:
    """Everything the preview shows; built in a thread by one of the loaders below."""

    title: str
    file_name: str  # suggested name for saving the .eml
    raw: bytes | None = None  # the message, byte for byte
    pdf: bytes | None = None  # the document, when there is no message (print)
    resolution: Resolution | None = None
    bcc: list[str] = field(default_factory=list)  # Bcc is in the envelope, not the .eml
    state: str = ""
    notes: list[str] = field(default_factory=list)  # failure diagnosis, build error, ...


# ---------------------------------------------------------------- loaders


def load_queued(home: Path, batch_id: str, item: str) -> PreviewData:
    """A message (or print item) of a batch, as it lies in the spool."""
    from mailing.resolve import Resolution
    from screens.widgets.spool_events import EventsIndex
    from store.spool import Spool

    batch = Spool(home).batch(batch_id)
    ref = batch.locate(batch.find_item(item))
    meta = batch.meta(ref.item)
    data = PreviewData(
        title=f"Batch {batch_id}, item {ref.item} ({words.item_state(ref.state)})",
        file_name=f"{ref.item}.eml",
        state=ref.state,
    )
    if meta.get("resolution"):
        data.resolution = Resolution.from_json(meta["resolution"])
    data.bcc = list(meta.get("recipients", {}).get("bcc", []))
    payload = batch.read(ref.item, ref.kind, ref.state)
    if ref.kind == "email":
        data.raw = payload
    elif ref.kind == "print":
        data.pdf = payload
        data.notes.append(f"Goes to print: {words.print_reason(meta.get('reason'))}.")
    else:
        data.notes.append(payload.decode("utf-8", "replace"))
    if meta.get("error"):
        data.notes.append(str(meta["error"]))
    before = meta.get("sent_before")
    if isinstance(before, dict):
        data.notes.append(
            f"Sent before on {str(before.get('at'))[:10]} (batch {before.get('batch')}, "
            f"Message-ID {before.get('message_id')}); this batch sends it again."
        )
    events = EventsIndex(batch)
    events.update()
    failure = events.failure.get(ref.item)
    if failure and ref.state in ("failed", "unknown", "approved"):
        data.notes.append("Last failure: " + failure_text(failure))
    if failure and ref.state == "bounced":
        data.notes.append("A delivery report came back: " + failure_text(failure))
    delay = events.delay.get(ref.item)
    if delay and ref.state == "sent":
        data.notes.append(
            f"Sent; a delivery report says: {delay.get('text')}. Nothing is sent again "
            "because of it; a failure would be reported as such."
        )
    if ref.state == "unknown":
        data.notes.append(
            "UNKNOWN: it was being sent when the sender stopped; it may or may not have "
            "arrived. Check with the recipient, then re-send (r) or mark sent (m) in the queue."
        )
    approvals = batch.approved_hashes().get(ref.item)
    if approvals:
        data.notes.append(f"Approved by {approvals.get('by')} at {approvals.get('at')}.")
    return data


def load_document(store: Store, doc: Document, user: str) -> PreviewData:
    """A document not yet in a batch, composed by the batch's own path (mailing.batches.compose)."""
    from mailing.batches import Composer

    composer = Composer(store, user)
    data = PreviewData(
        title=f"{words.doc_type(doc.type)} {doc.number} ({doc.administration}, "
        f"relation {doc.relation}), "
        "not yet in a batch",
        file_name=f"{doc.type}-{doc.number}.eml",
        state="preview",
    )
    try:
        composed = composer.compose(doc)
    except MailroomError as exc:  # a template error etc.: still show the trace when there is one
        data.notes.append("The message cannot be built: " + error_text(exc))
        try:
            data.resolution = composer.resolver.resolve(doc, user)
        except MailroomError as again:
            data.notes.append("The document cannot be resolved: " + error_text(again))
        return data
    res = composed.resolution
    data.resolution = res
    data.bcc = list(res.recipients.bcc)
    if composed.raw is None:
        data.pdf = composed.pdf
        data.notes.append(f"Goes to print: {words.print_reason(res.reason)}.")
    else:
        data.raw = composed.raw
    return data


# ---------------------------------------------------------------- what is shown


@dataclass
class MessageParts:
    headers: list[tuple[str, str]]
    text: str
    html: str
    attachments: list[tuple[str, str, int]]
    pdf_texts: list[tuple[str, str]]  # (attachment name, its text)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = []
        for i, page in enumerate(reader.pages):
            if i >= MAX_PDF_PAGES:
                pages.append(f"... {words.count(len(reader.pages) - i, 'more page')}")
                break
            text = (page.extract_text() or "").strip()
            if len(text) > MAX_PAGE_CHARS:
                text = text[:MAX_PAGE_CHARS] + " ..."
            pages.append(f"-- page {i + 1} --\n{text}")
        return "\n".join(pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:  # a damaged PDF, as pypdf says
        return f"(the PDF cannot be read as text: {exc})"


def message_parts(raw: bytes, bcc: list[str]) -> MessageParts:
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    headers: list[tuple[str, str]] = []
    for name in ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID"):
        value = msg.get(name)
        if value is not None:
            headers.append((name, str(value)))
        if name == "Cc" and bcc:
            headers.append(("Bcc", ", ".join(bcc) + "  (envelope only)"))
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else ""
    attachments: list[tuple[str, str, int]] = []
    pdfs: list[tuple[str, str]] = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        name = part.get_filename() or "(no name)"
        attachments.append((name, part.get_content_type(), size))
        if part.get_content_type() == "application/pdf" and isinstance(payload, bytes):
            pdfs.append((name, pdf_text(payload)))
    return MessageParts(headers, str(text), str(html), attachments, pdfs)


def message_view(data: PreviewData, parts: MessageParts | None) -> Text:
    out = Text()
    for note in data.notes:
        out.append(note + "\n", style="bold yellow")
    if parts is None:
        if data.pdf is not None:
            out.append("\nThe document (PDF as text):\n", style="bold")
            out.append(pdf_text(data.pdf) + "\n")
        return out
    for name, value in parts.headers:
        out.append(f"{name + ':':<12}", style="bold")
        out.append(value + "\n")
    out.append("\n")
    out.append(parts.text.rstrip() + "\n")
    out.append("\nAttachments:\n", style="bold")
    for name, ctype, size in parts.attachments:
        out.append(f"  {name}  {ctype}  {human_size(size)}\n")
    if not parts.attachments:
        out.append("  (none)\n")
    for name, text in parts.pdf_texts:
        out.append(f"\n{name} as text:\n", style="bold")
        out.append(text + "\n")
    return out


def trace_view(res: Resolution | None) -> Text:
    out = Text()
    if res is None:
        out.append("No resolution trace is kept for this item.")
        return out
    out.append("Resolution trace", style="bold underline")
    out.append("   (>> marks the step that decided)\n")
    if res.action == "email":
        r = res.recipients
        out.append(f"Outcome:   e-mail; recipients: {words.trace_rule(r.rule)}\n")
    else:
        out.append(f"Outcome:   to print ({words.print_reason(res.reason)})\n", style="bold yellow")
    s = res.sender
    who = f"{s.name} <{s.address}>" if s.name else s.address
    out.append(f"Sender:    {who}, profile {s.profile} ({words.level(s.level)})\n")
    out.append(f"Template:  {res.template or '(none)'}\n")
    for w in res.warnings:
        out.append(f"WARNING:   {words.plain(w)}\n", style="bold yellow")
    for i, step in enumerate(res.trace, 1):
        if step.decided:
            out.append(
                f">> {i:2}. {words.trace_rule(step.rule)} <= DECIDED\n", style="bold reverse"
            )
        else:
            out.append(f"   {i:2}. {words.trace_rule(step.rule)}\n", style="bold")
        out.append(f"       {words.plain(step.looked_at)}: {words.plain(step.found)}\n")
    return out


# ---------------------------------------------------------------- the screen


class PreviewScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="preview.close", tooltip="Back to the list"),
        Binding("e", "save_eml", "Save .eml", id="preview.save", tooltip="Save the message"),
        Binding("h", "toggle_html", "HTML", id="preview.html", tooltip="Show the HTML source"),
        Binding("t", "focus_trace", "Trace", id="preview.trace", tooltip="Scroll the trace"),
        Binding(
            "m", "focus_message", "Message", id="preview.message", tooltip="Scroll the message"
        ),
    ]

    help_title: ClassVar[str] = "the preview"

    def __init__(self, loader: Callable[[], PreviewData], title: str = "Preview") -> None:
        super().__init__()
        self.loader = loader
        self.title_text = title
        self.data: PreviewData | None = None
        self.parts: MessageParts | None = None
        self.showing_html = False

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, id="preview-title", markup=False)
        with Container(id="preview-body"):
            with VerticalScroll(id="preview-message", can_focus=True):
                yield Static("Loading ...", id="message-text", markup=False)
            with VerticalScroll(id="preview-trace", can_focus=True):
                yield Static("", id="trace-text", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_class(self.app.size.width >= 120, "wide")
        self.query_one("#preview-message").focus()
        self._load()

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= 120, "wide")

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def _load(self) -> tuple[PreviewData, MessageParts | None]:
        data = self.loader()
        parts = message_parts(data.raw, data.bcc) if data.raw is not None else None
        return data, parts

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "preview":
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.data, self.parts = event.worker.result
            self.query_one("#preview-title", Label).update(self.data.title)
            self._show()
        elif event.state == WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#message-text", Static).update(
                "This cannot be previewed:\n" + error_text(event.worker.error)
            )

    def _show(self) -> None:
        assert self.data is not None
        if self.showing_html and self.parts is not None:
            body: Text | str = self.parts.html or "(this message has no HTML part)"
        else:
            body = message_view(self.data, self.parts)
        self.query_one("#message-text", Static).update(body)
        self.query_one("#trace-text", Static).update(trace_view(self.data.resolution))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_html(self) -> None:
        if self.data is None:
            return
        self.showing_html = not self.showing_html
        self._show()

    def action_focus_trace(self) -> None:
        self.query_one("#preview-trace").focus()

    def action_focus_message(self) -> None:
        self.query_one("#preview-message").focus()

    def action_save_eml(self) -> None:
        data = self.data
        if data is None or data.raw is None:
            self.app.push_screen(MessageModal("Nothing to save", "This item has no message."))
            return
        raw = data.raw

        def answered(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                from mailing.changes.files import write_user_file

                if target.is_dir():
                    target = target / data.file_name
                write_user_file(target, raw)
            except OSError as exc:
                self.app.push_screen(
                    MessageModal(
                        "Not saved",
                        f"The message cannot be written to {target} ({exc.strerror}).\n"
                        "Choose a folder you can write to.",
                        error=True,
                    )
                )
                return
            self.app.notify(f"Saved {len(raw):,} bytes to {target}.", timeout=4)

        self.app.push_screen(
            PromptModal("Save the .eml to (file or folder):", str(Path.cwd() / data.file_name)),
            answered,
        )
