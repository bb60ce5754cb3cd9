"""Batches: which documents go out, each composed once, written as a batch in the spool.

The build path: :func:`build_batch` (``build``) selects the documents (``select``:
light refs read part by part), leaves out those already sent, printed or waiting
(``once``, from the index of sends: ``history``, ``history_index``), composes each
document's message and PDF (``compose``; in worker processes for a large batch),
writes the summaries as they come (``stream``) and combines the print list as it is
read (``print_list``). The batch then waits in the spool (``store.spool``) for
approval and :mod:`mailing.sending`.

One idea a module:

* ``build`` - :func:`build_batch`, :class:`BuildProgress`, :func:`built_summary`;
* ``select`` - :func:`select_documents`, :class:`DocRef`, :class:`BatchError`;
* ``stream`` - the batch's summaries kept on disk until ``batch.json`` is written;
* ``compose`` - :class:`Composer`: one document's message, PDF and attachments;
* ``once`` - the documents left out because they went out before;
* ``history`` - :func:`document_history`, :func:`document_states`;
* ``history_index`` - the index of sends per document (``spool/.history/``);
* ``print_list`` - the print list, combined as it is read.

Outside this package, import the names below from ``mailing.batches``; they are
loaded lazily (PEP 562), so one of them does not import the whole build.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailing.batches.build import BuildProgress, build_batch, built_summary
    from mailing.batches.compose import Composed, Composer
    from mailing.batches.history import DOC_STATES, SentRecord, document_history, document_states
    from mailing.batches.history_index import INDEX_DIR, DocKey, HistoryIndex
    from mailing.batches.select import BatchError, DocRef, select_documents

_EXPORTS: dict[str, str] = {
    "BatchError": "mailing.batches.select",
    "BuildProgress": "mailing.batches.build",
    "Composed": "mailing.batches.compose",
    "Composer": "mailing.batches.compose",
    "DOC_STATES": "mailing.batches.history",
    "DocKey": "mailing.batches.history_index",
    "DocRef": "mailing.batches.select",
    "HistoryIndex": "mailing.batches.history_index",
    "INDEX_DIR": "mailing.batches.history_index",
    "SentRecord": "mailing.batches.history",
    "build_batch": "mailing.batches.build",
    "built_summary": "mailing.batches.build",
    "document_history": "mailing.batches.history",
    "document_states": "mailing.batches.history",
    "select_documents": "mailing.batches.select",
}

__all__ = [
    "BatchError",
    "BuildProgress",
    "Composed",
    "Composer",
    "DOC_STATES",
    "DocKey",
    "DocRef",
    "HistoryIndex",
    "INDEX_DIR",
    "SentRecord",
    "build_batch",
    "built_summary",
    "document_history",
    "document_states",
    "select_documents",
]


def __getattr__(name: str) -> Any:
    """A name of ``__all__``: imported from its module on first use, then kept."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
