"""The Documents pane's import (i): a file of documents, read in a thread worker.

``DocumentImport`` is a mixin of ``screens.documents.DocumentsPane``, which keeps the
key binding and passes the worker's end to ``import_finished``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Select
from textual.worker import Worker, WorkerState

from mailing import words
from screens.widgets.modals import PromptModal

if TYPE_CHECKING:
    from screens.widgets.pane import Pane

    _PaneBase = Pane
else:
    _PaneBase = object


class DocumentImport(_PaneBase):
    """i: import documents (JSON, CSV or UBL XML) into the administration chosen."""

    if TYPE_CHECKING:  # what this uses of the pane (screens.documents.DocumentsPane)

        def reload(self) -> None: ...

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

    def import_finished(self, event: Worker.StateChanged) -> None:
        """The import worker ended: say how many, or why none."""
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            self.app.notify(
                f"Imported {words.count(int(worker.result or 0), 'document')}.", timeout=4
            )
            self.reload()
        elif event.state == WorkerState.ERROR and worker.error is not None:
            self.show_error(worker.error, "Nothing was imported")
