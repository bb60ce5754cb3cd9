"""The Documents pane's filters and list: which documents are shown, and how each row reads.

``DocumentFilters`` is a mixin of ``screens.documents.DocumentsPane``, which keeps the
key bindings and the ``@on`` handlers (Textual collects both only from widget classes).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from textual.widgets import Input, Select, Static

from mailing.dates import parse_date
from store.errors import MailroomError

if TYPE_CHECKING:
    from screens.widgets.paged_list import PagedList
    from screens.widgets.pane import Pane
    from store.records import Document

    _PaneBase = Pane
else:
    _PaneBase = object

STATE_MARK = {"not sent": " ", "in a batch": "B", "sent": "S", "to print": "P"}


class DocumentFilters(_PaneBase):
    """The filters (administration, type, state, dates, relation) and the rows they leave."""

    if TYPE_CHECKING:  # what this uses of the pane (screens.documents.DocumentsPane)
        docs: list[Document]
        names: dict[tuple[str, str], str]
        states: dict[tuple[str, str, str], tuple[str, str]]
        shown: list[Document]
        building: object | None
        _applied: dict[str, Any] | None
        loaded_from: dt.date | None
        older_from: str | None

        def read_documents(self) -> None: ...

        @property
        def docs_list(self) -> PagedList: ...

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

    def apply_filters(self, *, unless_same: bool = False) -> None:
        """Show the documents the filters leave; ``unless_same``: not when the filters are
        as last applied (e.g. each Select says Changed once when it is mounted)."""
        try:
            f = self.filter_values()
        except MailroomError as exc:
            self.query_one("#doc-progress", Static).update(str(exc))
            return
        if unless_same and f == self._applied:
            return
        changed, self._applied = f != self._applied, f
        if f["from"] != self.loaded_from and (self.older_from or self.loaded_from):
            try:
                self.read_documents()  # another from date: read from there
            except MailroomError as exc:
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
        # Other filters: the first row of what they leave is highlighted (Enter opens a
        # row of this list, not the row at the old place); the same: the row stays.
        self.docs_list.load(0, highlight=0 if changed else None)
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

    def action_focus_filters(self) -> None:
        self.query_one("#f-admin", Select).focus()

    def action_focus_list(self) -> None:
        self.docs_list.focus_rows()

    def action_mark_all(self) -> None:
        self.docs_list.mark_all([d.id for d in self.shown])
