"""Documents: per administration and type, filtered by date, state and relation; import; build.

The state of a document (not sent, in a batch, sent, to print) is derived from the
spool (``mailing.batches.history.document_states``, from the index of sends), never stored
per message. This module is the
pane: its layout, keys, data and preview; one idea each lives beside it:
``document_filters`` (the filters and the rows), ``document_import`` (i),
``document_build`` (b: a batch built in a thread worker, its progress read by a timer)
and ``document_attachments`` (e).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker

from mailing import words
from mailing.batches import DOC_STATES
from mailing.dates import parse_date
from screens.document_attachments import DocumentAttachments
from screens.document_build import BuildState, DocumentBuild
from screens.document_filters import DocumentFilters
from screens.document_import import DocumentImport
from screens.widgets.paged_list import PagedList
from screens.widgets.pane import Pane
from store.errors import MailroomError

if TYPE_CHECKING:
    from store.records import Document

# Without a from date the pane reads the newest documents, this many, from the newest
# months only; a from date reads every document from there.
RECENT_DOCUMENTS = 1000


class DocumentsPane(DocumentAttachments, DocumentBuild, DocumentImport, DocumentFilters, Pane):
    title = "Documents"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "b",
            "build",
            "Build batch",
            id="documents.build",
            tooltip="Build a batch of the marked documents, or of every one shown",
        ),
        Binding("i", "import", "Import", id="documents.import", tooltip="Import from a file"),
        Binding(
            "e",
            "attachments",
            "Attachments",
            id="documents.attachments",
            tooltip="The highlighted document's own e-mail attachments: add or remove",
            show=False,
        ),
        Binding(
            "ctrl+a",
            "mark_all",
            "Mark all",
            id="documents.mark-all",
            tooltip="Mark every document shown",
        ),
        Binding(
            "slash",
            "focus_filters",
            "Filters",
            id="documents.filters",
            tooltip="Go to the filters",
        ),
        Binding(
            "ctrl+l",
            "focus_list",
            "List",
            id="documents.list",
            tooltip="Go to the list",
            show=False,
            priority=True,
        ),
        Binding(
            "down",
            "filters_to_list",
            "List",
            id="documents.to-list",
            tooltip="From a date or relation filter down into the list",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.docs: list[Document] = []
        self.names: dict[tuple[str, str], str] = {}
        self.loaded_from: dt.date | None = None  # the from date the documents were read for
        self.older_from: str | None = None  # the oldest date read, when older were not
        self.states: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.shown: list[Document] = []
        self.building: BuildState | None = None
        self._timer: Timer | None = None
        self._filter_timer: Timer | None = None
        self._applied: dict[str, Any] | None = None  # the filters as last applied

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        from store.records import DOC_TYPES, Administration

        admins = [(a.code, a.code) for a in self.store.all(Administration)]
        yield Label("Documents", classes="pane-title", id="pane-title")
        with Horizontal(classes="filters"):
            yield Select(
                admins, id="f-admin", allow_blank=not admins, compact=True, prompt="(admin)"
            )
            yield Select(
                [(words.doc_type(t), t) for t in DOC_TYPES],
                id="f-type",
                allow_blank=False,
                value="sales_invoice",
                compact=True,
            )
            yield Select(
                [("any state", "any"), *[(s, s) for s in DOC_STATES]],
                id="f-state",
                allow_blank=False,
                value="any",
                compact=True,
            )
        with Horizontal(classes="filters"):
            yield Input(placeholder="from date", id="f-from", compact=True)
            yield Input(placeholder="to date", id="f-to", compact=True)
            yield Input(placeholder="relation code or name", id="f-relation", compact=True)
        yield PagedList(self._fetch, page_size=200, id="docs")
        yield Static("", id="doc-progress", markup=False)

    def on_mount(self) -> None:
        for w in self.query(Input):
            w.cursor_blink = False
        self.docs_list.empty_text = "no documents match (import with i, or change the filters: /)"
        self.reload()

    @property
    def docs_list(self) -> PagedList:
        return self.query_one("#docs", PagedList)

    def focus_first(self) -> None:
        self.docs_list.focus_rows()

    def refresh_data(self) -> None:
        if self.is_mounted:
            self.reload()

    # ------------------------------------------------------------ data

    def reload(self) -> None:
        from mailing.config import ConfigSnapshot

        try:
            self.read_documents()
            cfg = ConfigSnapshot.load(self.store)
            self.names = {k: r.name for k, r in cfg.relations.items()}
        except MailroomError as exc:
            self.show_error(exc, "The documents cannot be read")
            return
        self.apply_filters()

    def read_documents(self) -> None:
        """Without a from date, the newest documents from the newest months only (years
        of history are not read to show this month); with one, every document from there."""
        from mailing.batches import document_states
        from store.records import Document

        try:
            since = parse_date(self.query_one("#f-from", Input).value, "from date")
        except MailroomError:  # a from date that is no date: the filter line says so
            since = None
        with self.store.view(Document) as tx:
            if since is not None:
                raw, self.older_from = list(tx.select(date_from=since.isoformat())), None
            else:
                raw, self.older_from = tx.recent(RECENT_DOCUMENTS)
        self.docs = [Document.model_validate(d) for d in raw]
        self.loaded_from = since
        # The states of these documents only, from the index of sends.
        self.states = document_states(
            self.store.home, [(d.administration, d.type, d.number) for d in self.docs]
        )

    @on(Select.Changed)
    def _select_changed(self) -> None:
        if self.is_mounted and self.docs is not None:
            self.apply_filters(unless_same=True)

    @on(Input.Changed)
    def _input_changed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        # Not again when Down or Enter applied these filters already.
        self._filter_timer = self.set_timer(0.2, lambda: self.apply_filters(unless_same=True))

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.apply_filters()
        self.docs_list.focus_rows()

    def action_filters_to_list(self) -> None:
        """Down in a filter box: the filter typed is applied now (not after its pause),
        and the list has the focus, its first row highlighted."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        self.apply_filters(unless_same=True)
        self.docs_list.focus_rows()

    # ------------------------------------------------------------ preview

    @on(PagedList.Chosen, "#docs")
    def _chosen(self, event: PagedList.Chosen) -> None:
        from screens.preview import PreviewScreen, load_document

        doc = next((d for d in self.shown if d.id == event.key), None)
        if doc is None:
            return
        state, batch_id = self.states.get((doc.administration, doc.type, doc.number), ("", ""))
        store, user = self.store, self.user
        if batch_id and state in ("in a batch", "sent", "to print"):
            # In a batch: show what lies in the spool, byte for byte.
            from screens.preview import load_queued
            from screens.widgets.spool_view import BatchView

            item = _item_of(BatchView.open(store.home, batch_id), doc)
            if item is not None:
                home = store.home
                self.app.push_screen(
                    PreviewScreen(lambda: load_queued(home, batch_id, item), f"Preview {doc.id}")
                )
                return
        self.app.push_screen(PreviewScreen(lambda: load_document(store, doc, user), doc.id))

    # ------------------------------------------------------------ workers

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "documents-import":
            self.import_finished(event)
        elif event.worker.group == "documents-build":
            self.build_finished(event)


def _item_of(view: Any, doc: Document) -> str | None:
    """The item of ``doc`` in a batch (items are named ``<seq>-<number>``)."""
    for ref in view.refs("all"):
        if ref.item.split("-", 1)[-1] == doc.number:
            meta = view.meta(ref.item).get("document", {})
            if meta.get("administration") == doc.administration and meta.get("type") == doc.type:
                return str(ref.item)
    return None
