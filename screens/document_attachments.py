"""A document's own e-mail attachments (SPEC §7), from the Documents pane: e.

Adding copies the file into the data folder (``copy_in_file``) and both adding and
removing save at once through ``mailing.changes.set_document_attachments``.

``DocumentAttachments`` is a mixin of ``screens.documents.DocumentsPane``, which
keeps the key binding (Textual merges ``BINDINGS`` only from widget classes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailing import words
from screens.widgets.modals import PickerModal, PromptModal
from store.errors import MailroomError

if TYPE_CHECKING:
    from screens.widgets.paged_list import PagedList
    from screens.widgets.pane import Pane
    from store.records import Document, StoredFileRef

    _PaneBase = Pane
else:
    _PaneBase = object


class DocumentAttachments(_PaneBase):
    """e: add or remove the highlighted document's own attachments."""

    if TYPE_CHECKING:  # what this uses of the pane (screens.documents.DocumentsPane)
        shown: list[Document]

        @property
        def docs_list(self) -> PagedList: ...

        def reload(self) -> None: ...

    def action_attachments(self) -> None:
        from mailing.changes import ATTACHMENT_DOC_TYPES

        key = self.docs_list.highlighted_key
        doc = next((d for d in self.shown if d.id == key), None)
        if doc is None:
            self.app.notify("Choose a document in the list first.", severity="warning")
            return
        if doc.type not in ATTACHMENT_DOC_TYPES:
            kinds = ", ".join(words.doc_type_lower(t) for t in ATTACHMENT_DOC_TYPES)
            self.show_message(
                "No attachments of its own",
                f"A {words.doc_type_lower(doc.type)} has no attachments of its own; a "
                f"{kinds} has. Files for every message go on the template (F3, ctrl+o).",
            )
            return
        current = list(doc.attachments)
        items = [("+", "Add a file by path...")]
        items += [(f"-{i}", f"Remove {a.name}") for i, a in enumerate(current)]
        title = f"E-mail attachments of {words.doc_type_lower(doc.type)} {doc.number}"
        if current:
            title += ": " + ", ".join(a.name for a in current)

        def chosen(choice: str | None) -> None:
            if choice == "+":
                self.app.push_screen(
                    PromptModal(
                        f"Attach which file to {doc.number}? (path)",
                        placeholder="/path/to/delivery-note.pdf",
                    ),
                    lambda path: self._attach_file(doc, current, path),
                )
            elif choice and choice.startswith("-"):
                index = int(choice[1:])
                self._save_attachments(doc, [a for i, a in enumerate(current) if i != index])

        self.app.push_screen(PickerModal(title, items), chosen)

    def _attach_file(self, doc: Document, current: list[StoredFileRef], path: str | None) -> None:
        if not path:
            return
        from mailing.changes import copy_in_file

        try:
            ref = copy_in_file(self.store, path.strip(), "attachment")
        except MailroomError as exc:
            self.show_error(exc, "Not attached")
            return
        self._save_attachments(doc, [*current, ref])

    def _save_attachments(self, doc: Document, attachments: list[StoredFileRef]) -> None:
        from mailing.changes import set_document_attachments

        try:
            changed = set_document_attachments(self.store, doc.id, attachments)
        except MailroomError as exc:
            self.show_error(exc, "Attachments not changed")
            return
        names = ", ".join(a.name for a in changed.attachments) or "none"
        self.app.notify(f"Attachments of {doc.number}: {names}.", timeout=4)
        self.reload()
