"""The state of every document (not sent, in a batch, sent, to print), from the spool.

No Textual here: the Documents pane shows it. Nothing is stored per message: each
batch's side-cars are read once (cached until its ``meta/`` folder changes) and
its state folders listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from store.spool import PRINT_PDF, STATES, Batch, Spool

# What "in a batch" means for a document: a message on its way, not yet final.
PENDING_STATES = frozenset({"draft", "approved", "held", "sending", "failed", "unknown"})
DOC_STATES: tuple[str, ...] = ("not sent", "in a batch", "sent", "to print")


@dataclass
class _BatchDocs:
    stamp: int
    docs: dict[str, tuple[str, str, str]]  # item -> (administration, type, number)


class DocumentStates:
    """The state of every document, derived from the spool (nothing stored per message).

    A document is ``sent`` when any batch sent it, else ``in a batch`` while a
    message for it waits (draft, approved, held, failed, unknown), else ``to print``
    when its latest batch put it on the print list, else ``not sent``.
    """

    def __init__(self, home: Path) -> None:
        self.spool = Spool(home)
        self._docs: dict[str, _BatchDocs] = {}

    def _items_of(self, batch: Batch) -> dict[str, tuple[str, str, str]]:
        meta_dir = batch.path / "meta"
        try:
            stamp = os.stat(meta_dir).st_mtime_ns
        except FileNotFoundError:
            return {}
        cached = self._docs.get(batch.id)
        if cached is not None and cached.stamp == stamp:
            return cached.docs
        docs: dict[str, tuple[str, str, str]] = {}
        for item in batch.all_items():
            try:
                doc = batch.meta(item).get("document", {})
            except Exception:
                continue
            docs[item] = (
                str(doc.get("administration")),
                str(doc.get("type")),
                str(doc.get("number")),
            )
        self._docs[batch.id] = _BatchDocs(stamp, docs)
        return docs

    def states(self) -> dict[tuple[str, str, str], tuple[str, str]]:
        """(administration, type, number) -> (state, batch id)."""
        out: dict[tuple[str, str, str], tuple[str, str]] = {}
        for batch in self.spool.batches():  # oldest first: later batches overwrite
            docs = self._items_of(batch)
            if not docs:
                continue
            for state in STATES:
                try:
                    with os.scandir(batch.path / state) as it:
                        names = [e.name for e in it if e.name[0] != "." and e.name != PRINT_PDF]
                except FileNotFoundError:
                    continue
                for name in names:
                    key = docs.get(os.path.splitext(name)[0])
                    if key is None:
                        continue
                    if state == "sent":
                        shown = "sent"
                    elif state == "print":
                        shown = "to print"
                    elif state in PENDING_STATES:
                        shown = "in a batch"
                    else:  # cancelled: as if it was never in this batch
                        continue
                    if out.get(key, ("", ""))[0] == "sent" and shown != "sent":
                        continue
                    out[key] = (shown, batch.id)
        return out
