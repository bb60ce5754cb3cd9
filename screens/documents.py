"""Documents: per administration and type, filtered by date, state and relation; import; build.

The state of a document (not sent, in a batch, sent, to print) is derived from the
spool (``mailing.history.document_states``), never stored per message. Building a batch
runs in a thread worker; its progress is read by a timer.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from mailing import words
from screens.document_attachments import DocumentAttachments
from screens.widgets.modals import ConfirmModal, PromptModal
from screens.widgets.paged_list import PagedList
from screens.widgets.pane import Pane
from screens.widgets.spool_view import DOC_STATES

if TYPE_CHECKING:
    from store.records import Document

# Without a from date the pane reads the newest documents, this many, from the newest
# months only (years of history are not read to show this month); a from date reads
# every document from there.
RECENT_DOCUMENTS = 1000
STATE_MARK = {"not sent": " ", "in a batch": "B", "sent": "S", "to print": "P"}


@dataclass
class BuildState:
    done: int = 0
    total: int = 0
    started: float = 0.0


def parse_date(value: str, field: str) -> dt.date | None:
    from mailing.errors import DocumentError

    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DocumentError(
            f"{field} {value!r} is not a date.",
            field=field,
            value=value,
            fix="write it as YYYY-MM-DD, e.g. 2026-11-01, or leave it empty.",
        ) from None


class DocumentsPane(DocumentAttachments, Pane):
    title = "Documents"
    DEFAULT_CSS = """
    DocumentsPane .filters { height: 1; }
    DocumentsPane .filters Label { width: auto; padding: 0 1 0 1; color: $text-muted; }
    DocumentsPane #f-admin { width: 14; }
    DocumentsPane #f-type { width: 26; }
    DocumentsPane #f-state { width: 16; }
    DocumentsPane #f-from, DocumentsPane #f-to { width: 12; }
    DocumentsPane #f-relation { width: 1fr; }
    DocumentsPane #doc-progress { height: 1; padding: 0 1; color: $success; }
    DocumentsPane #docs { height: 1fr; }
    """
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
    ]

    def __init__(self) -> None:
        super().__init__()
        self.docs: list[Document] = []
        self.loaded_from: dt.date | None = None  # the from date the documents were read for
        self.older_from: str | None = None  # the oldest date read, when older were not
        self.names: dict[tuple[str, str], str] = {}
        self.states: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.shown: list[Document] = []
        self.building: BuildState | None = None
        self._timer: Timer | None = None
        self._filter_timer: Timer | None = None

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
            self._read_documents()
            cfg = ConfigSnapshot.load(self.store)
            self.names = {k: r.name for k, r in cfg.relations.items()}
        except Exception as exc:
            self.show_error(exc, "The documents cannot be read")
            return
        self.apply_filters()

    def _read_documents(self) -> None:
        from store.records import Document

        try:
            since = parse_date(self.query_one("#f-from", Input).value, "from date")
        except Exception:
            since = None
        with self.store.view(Document) as tx:
            if since is not None:
                raw, self.older_from = list(tx.select(date_from=since.isoformat())), None
            else:
                raw, self.older_from = tx.recent(RECENT_DOCUMENTS)
        self.docs = [Document.model_validate(d) for d in raw]
        self.loaded_from = since
        # The states of these documents only, from the index of sends (mailing/history.py).
        from mailing.history import document_states

        self.states = document_states(
            self.store.home, [(d.administration, d.type, d.number) for d in self.docs]
        )

    def filter_values(self) -> dict[str, Any]:
        admin = self.query_one("#f-admin", Select).value
        return {
            "admin": admin if isinstance(admin, str) else None,
            "type": str(self.query_one("#f-type", Select).value),
            "state": str(self.query_one("#f-state", Select).value),
            "from": parse_date(self.query_one("#f-from", Input).value, "from date"),
            "to": parse_date(self.query_one("#f-to", Input).value, "to date"),
            "relation": self.query_one("#f-relation", Input).value.strip().lower(),
        }

    def state_of(self, doc: Document) -> str:
        return self.states.get((doc.administration, doc.type, doc.number), ("not sent", ""))[0]

    def apply_filters(self) -> None:
        try:
            f = self.filter_values()
        except Exception as exc:
            self.query_one("#doc-progress", Static).update(str(exc))
            return
        if f["from"] != self.loaded_from and (self.older_from or self.loaded_from):
            try:
                self._read_documents()  # another from date: read from there
            except Exception as exc:
                self.show_error(exc, "The documents cannot be read")
                return
        out = []
        for d in self.docs:
            if f["admin"] and d.administration != f["admin"]:
                continue
            if d.type != f["type"]:
                continue
            if f["from"] and d.date < f["from"]:
                continue
            if f["to"] and d.date > f["to"]:
                continue
            if f["relation"]:
                name = self.names.get((d.administration, d.relation), "")
                if f["relation"] not in d.relation.lower() and f["relation"] not in name.lower():
                    continue
            if f["state"] != "any" and self.state_of(d) != f["state"]:
                continue
            out.append(d)
        out.sort(key=lambda d: (d.administration, d.date, d.number))
        self.shown = out
        keys = {d.id for d in out}
        self.docs_list.marked &= keys
        self.docs_list.load(0)
        if self.building is None:
            older = " (the newest only: a from date reads older)" if self.older_from else ""
            self.query_one("#doc-progress", Static).update(
                f"{len(out):,} shown{older}.  B in a batch, S sent, P to print.  Enter: preview"
            )

    def _fetch(self, offset: int, limit: int) -> tuple[list[tuple[str, str]], int]:
        rows = []
        for d in self.shown[offset : offset + limit]:
            state = self.state_of(d)
            name = self.names.get((d.administration, d.relation), "")
            total = f"{d.currency} {d.total_incl:,.2f}"
            rows.append(
                (
                    d.id,
                    f"{STATE_MARK.get(state, '?')} {d.number:<12} {d.date.isoformat()} "
                    f"{d.relation:<8} {name[:22]:<22} {total:>15}",
                )
            )
        return rows, len(self.shown)

    @on(Select.Changed)
    def _select_changed(self) -> None:
        if self.is_mounted and self.docs is not None:
            self.apply_filters()

    @on(Input.Changed)
    def _input_changed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(0.2, self.apply_filters)

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.apply_filters()
        self.docs_list.focus_rows()

    def action_focus_filters(self) -> None:
        self.query_one("#f-admin", Select).focus()

    def action_focus_list(self) -> None:
        self.docs_list.focus_rows()

    def action_mark_all(self) -> None:
        self.docs_list.mark_all([d.id for d in self.shown])

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

    # ------------------------------------------------------------ import

    def action_import(self) -> None:
        admin = self.query_one("#f-admin", Select).value
        admin_code = admin if isinstance(admin, str) else None

        def answered(path: str | None) -> None:
            if path:
                self._import(path.strip(), admin_code)

        self.app.push_screen(
            PromptModal(
                f"Import documents (JSON, CSV or UBL XML) into administration "
                f"{admin_code or '(from the file)'} from the file:",
                placeholder="/path/to/documents.json",
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="documents-import")
    def _import(self, path: str, admin: str | None) -> int:
        from pathlib import Path

        from mailing.importer import import_documents

        return import_documents(self.store, Path(path).expanduser(), administration=admin).count

    # ------------------------------------------------------------ build

    def action_build(self) -> None:
        if self.building is not None:
            self.app.notify("A batch is being built.", severity="warning")
            return
        try:
            f = self.filter_values()
        except Exception as exc:
            self.show_error(exc, "Check the filters")
            return
        chosen = [d for d in self.shown if d.id in self.docs_list.marked] or list(self.shown)
        if not chosen:
            self.app.notify("No documents are shown: nothing to build.", severity="warning")
            return
        admins = sorted({d.administration for d in chosen})
        if len(admins) > 1:
            self.app.notify("Choose one administration first (/).", severity="warning")
            return
        numbers = [d.number for d in chosen]
        already = sum(1 for d in chosen if self.state_of(d) in ("in a batch", "sent"))
        warn = f"\n{already} of them are already in a batch or sent." if already else ""
        question = (
            f"Build a batch of {len(chosen):,} {words.doc_type_lower(f['type'])} document(s) of {admins[0]}?{warn}\n"
            "Nothing is sent: the batch waits in the queue for approval."
        )

        # One document, one send: those sent (or printed) before go in only when asked.
        again = sum(1 for d in chosen if self.state_of(d) in ("sent", "to print"))

        def start(include_sent: bool) -> None:
            self.building = BuildState(total=len(numbers), started=time.monotonic())
            self._timer = self.set_interval(0.25, self._show_build)
            self._build(f["type"], admins[0], numbers, self.building, include_sent)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if not again:
                start(False)
                return
            self.app.push_screen(
                ConfirmModal(
                    f"{again} of them were sent (or printed) before.\nPut them in again? "
                    "Each is marked 'sent before' in the queue. No leaves them out.",
                    "Send again?",
                ),
                lambda include: start(bool(include)),
            )

        self.app.push_screen(ConfirmModal(question), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="documents-build")
    def _build(
        self,
        doc_type: str,
        admin: str,
        numbers: list[str],
        state: BuildState,
        include_sent: bool = False,
    ) -> Any:
        from mailing.batch import BuildProgress, build_batch

        def progress(p: BuildProgress) -> None:
            state.done, state.total = p.done, p.total

        return build_batch(
            self.store,
            self.user,
            doc_type,
            administration=admin,
            numbers=numbers,
            progress=progress,
            include_sent=include_sent,
        )

    def _show_build(self) -> None:
        from screens.queue import progress_line

        st = self.building
        if st is None:
            return
        if st.done == 0:
            # Before the first document is done the workers are starting: say that,
            # not a bar standing at 0.
            secs = int(time.monotonic() - st.started)
            total = f"{st.total:,} " if st.total else ""
            line = f"Building {total}document(s): starting the PDF workers… {secs} s"
        else:
            line = progress_line(st.done, st.total, time.monotonic() - st.started, "building")
        self.query_one("#doc-progress", Static).update(line)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "documents-import":
            if event.state == WorkerState.SUCCESS:
                self.app.notify(f"Imported {worker.result} document(s).", timeout=4)
                self.reload()
            elif event.state == WorkerState.ERROR and worker.error is not None:
                self.show_error(worker.error, "Nothing was imported")
        elif worker.group == "documents-build":
            if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
                return
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.building = None
            if event.state == WorkerState.ERROR and worker.error is not None:
                self.query_one("#doc-progress", Static).update("The batch was not built.")
                self.show_error(worker.error, "The batch was not built")
                return
            batch = worker.result
            if batch is None:
                return
            self.docs_list.marked.clear()
            self.reload()
            counts = {k: v for k, v in batch.counts().items() if v}
            text = ", ".join(f"{v} {k}" for k, v in counts.items())
            left = sum(batch.info().get("left_out", {}).values())
            if left:
                text += f"; {left} left out (sent, printed or in an open batch)"
            self.query_one("#doc-progress", Static).update(f"Batch {batch.id} built: {text}")

            def answered(yes: bool | None) -> None:
                if yes:
                    pane = self.mailroom_app.show_pane("queue")
                    if pane is not None and hasattr(pane, "open_batch"):
                        pane.call_after_refresh(pane.open_batch, batch.id)

            self.app.push_screen(
                ConfirmModal(
                    f"Batch {batch.id} is built: {text}.\nOpen it in the queue to preview "
                    "and approve it?",
                    "Batch built",
                ),
                answered,
            )


def _item_of(view: Any, doc: Document) -> str | None:
    """The item of ``doc`` in a batch (items are named ``<seq>-<number>``)."""
    for ref in view.refs("all"):
        if ref.item.split("-", 1)[-1] == doc.number:
            meta = view.meta(ref.item).get("document", {})
            if meta.get("administration") == doc.administration and meta.get("type") == doc.type:
                return str(ref.item)
    return None
