"""Archive: what was sent, by relation and document (and hand-written mail, reports, backups).

Each row is a folder of ``archive/`` (see ``mailing.sending.archive``); only the rows on
the page have their ``record.json`` read. Enter opens the message in the preview,
with the copy document, the attachments, the server's reply and who approved it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input, Label

from screens.widgets.paged_list import PagedList
from screens.widgets.pane import Pane
from screens.widgets.spool_view import human_size
from store.errors import MailroomError

OBJECT_FOLDERS = ("manual", "report", "backup")


def archive_folders(home: Path) -> list[str]:
    """Every archived send, as a path relative to ``archive/``, sorted."""
    root = home / "archive"
    out: list[str] = []
    try:
        tops = sorted(e.name for e in os.scandir(root) if e.is_dir())
    except FileNotFoundError:
        return []
    for top in tops:
        if top in OBJECT_FOLDERS:
            out.extend(f"{top}/{n}" for n in sorted(_dirs(root / top)))
            continue
        for rel in sorted(_dirs(root / top)):
            out.extend(f"{top}/{rel}/{n}" for n in sorted(_dirs(root / top / rel)))
    return out


def archive_label(rel: str) -> str:
    """``HOLT/D1003/sales_invoice-F20260001`` -> ``HOLT  D1003  Sales invoice F20260001``."""
    from mailing.words import doc_type

    parts = rel.split("/")
    if len(parts) != 3 or "-" not in parts[2]:
        return rel
    admin, relation, folder = parts
    kind, number = folder.split("-", 1)
    return f"{admin}  {relation}  {doc_type(kind)} {number}"


def _dirs(path: Path) -> list[str]:
    try:
        with os.scandir(path) as it:
            return [e.name for e in it if e.is_dir() and e.name[0] != "."]
    except FileNotFoundError:
        return []


def read_record(folder: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder / "record.json").read_bytes())
        return data
    except (FileNotFoundError, ValueError):
        return {}


def record_notes(folder: Path, record: dict[str, Any]) -> list[str]:
    """What the archive keeps about one send, for people."""
    notes = [f"Archived in {folder}"]
    from mailing.sending.archive_files import archive_files

    try:
        archive_files(folder)  # taken out of message.eml the first time they are shown
    except (OSError, ValueError) as exc:
        notes.append(f"The attachments could not be taken out of the message: {exc}")
    if record.get("copy_document"):
        notes.append(f"Copy document: {folder / record['copy_document']}")
    att_dir = folder / "attachments"
    for name in record.get("attachments") or []:
        path = att_dir / name
        size = path.stat().st_size if path.exists() else None
        notes.append(f"Attachment: {name} {human_size(size)}")
    if (folder / "message.eml").exists():
        notes.append(f"Message: {folder / 'message.eml'}")
    sent_at = record.get("sent_at")
    how = record.get("how")
    if how == "marked-sent":
        notes.append(f"Marked sent by {record.get('marked_by')} at {sent_at}")
    elif sent_at:
        notes.append(f"Sent at {sent_at} by profile {record.get('profile')}")
    if record.get("server_reply") or record.get("reply"):
        notes.append(f"Server reply: {record.get('server_reply') or record.get('reply')}")
    if record.get("refused"):
        notes.append(f"Refused recipients: {record['refused']}")
    if record.get("approved_by"):
        notes.append(f"Approved by {record['approved_by']} at {record.get('approved_at')}")
    if record.get("sent_by"):
        notes.append(f"Sent by {record['sent_by']}")
    return notes


def load_archived(home: Path, rel: str) -> Any:
    """The preview data of one archived send."""
    from mailing.resolve import Resolution
    from screens.preview import PreviewData

    folder = home / "archive" / rel
    record = read_record(folder)
    data = PreviewData(
        title=f"Archive: {archive_label(rel)}", file_name=f"{Path(rel).name}.eml", state="sent"
    )
    eml = folder / "message.eml"
    if eml.exists():
        data.raw = eml.read_bytes()
    data.notes = record_notes(folder, record)
    recipients = record.get("recipients") or {}
    data.bcc = list(recipients.get("bcc", []) if isinstance(recipients, dict) else [])
    if not data.bcc and record.get("bcc"):
        data.bcc = list(record["bcc"])
    # The trace stays in the batch's side-car while the batch is in the spool.
    if record.get("batch") and record.get("item"):
        try:
            from store.spool import Spool

            meta = Spool(home).batch(record["batch"]).meta(record["item"])
            if meta.get("resolution"):
                data.resolution = Resolution.from_json(meta["resolution"])
        except MailroomError:
            data.notes.append("(the batch is no longer in the spool: no trace)")
    return data


class ArchivePane(Pane):
    title = "Archive"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+l",
            "focus_search",
            "Search",
            id="archive.search",
            tooltip="Search by administration, relation, document",
            priority=True,
        ),
        Binding(
            "down",
            "search_to_list",
            "List",
            id="archive.to-list",
            tooltip="From the search box down into the list",
            show=False,
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.folders: list[str] = []
        self.shown: list[str] = []
        self._timer: Timer | None = None
        self._searched: str | None = None  # the search the list shows

    def compose(self) -> ComposeResult:
        yield Label("Archive: what was sent, by relation and document", classes="pane-title")
        yield Input(
            placeholder="search: relation, document number, type", id="archive-search", compact=True
        )
        yield PagedList(self._fetch, page_size=200, id="archive-list")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.query_one(PagedList).empty_text = "nothing archived yet (it fills as batches are sent)"
        self.reload()

    def focus_first(self) -> None:
        self.query_one(PagedList).focus_rows()

    def refresh_data(self) -> None:
        if self.is_mounted:
            self.reload()

    def reload(self) -> None:
        self.folders = archive_folders(self.store.home)
        self.apply_search()

    def apply_search(self) -> None:
        needle = self.query_one(Input).value.strip().lower()
        self.shown = (
            [f for f in self.folders if needle in f.lower() or needle in archive_label(f).lower()]
            if needle
            else self.folders
        )
        # Another search: its first row is highlighted; the same: the row stays.
        same, self._searched = needle == self._searched, needle
        self.query_one(PagedList).load(0, highlight=None if same else 0)

    def _fetch(self, offset: int, limit: int) -> tuple[list[tuple[str, str]], int]:
        rows = []
        root = self.store.home / "archive"
        for rel in self.shown[offset : offset + limit]:
            rec = read_record(root / rel)
            when = str(rec.get("sent_at") or "")[:16].replace("T", " ")
            to = rec.get("to") or (rec.get("recipients") or {}).get("to") or []
            copy = "copy" if rec.get("copy_document") else "    "
            label = archive_label(rel)
            rows.append((rel, f"{label:<40} {when:<16} {copy} {', '.join(to)}"))
        return rows, len(self.shown)

    @on(Input.Changed, "#archive-search")
    def _search(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.15, self._search_typed)

    def _search_typed(self) -> None:
        self._timer = None
        if self.query_one(Input).value.strip().lower() != self._searched:
            self.apply_search()  # not searched already (Down, Enter)

    @on(Input.Submitted, "#archive-search")
    def _search_done(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.apply_search()
        self.query_one(PagedList).focus_rows()

    def action_search_to_list(self) -> None:
        """Down in the search box: the search typed is done now (not after its pause),
        and the list has the focus."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._search_typed()
        self.query_one(PagedList).focus_rows()

    def action_focus_search(self) -> None:
        self.query_one(Input).focus()

    @on(PagedList.Chosen, "#archive-list")
    def _chosen(self, event: PagedList.Chosen) -> None:
        from screens.preview import PreviewScreen

        home, rel = self.store.home, event.key
        self.app.push_screen(
            PreviewScreen(lambda: load_archived(home, rel), f"Archive {archive_label(rel)}")
        )
