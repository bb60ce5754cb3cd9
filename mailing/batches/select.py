"""Which documents a batch takes: light refs in build order, read part by part later.

A batch of 50,000 keeps a :class:`DocRef` per document (its key, date and the part of
the month it is stored in) until its turn comes; :func:`documents_of` then reads the
documents in order, a few parts of a month at a time (``store/documents.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from store.errors import MailroomError
from store.records import DOC_TYPES, Document

if TYPE_CHECKING:
    from store.store import Store


class BatchError(MailroomError):
    """A batch cannot be built as asked."""


class DocRef(NamedTuple):
    """A selected document, light: what a batch of 50,000 keeps of each until it is built
    (the document itself is read from its part of the month when its turn comes)."""

    administration: str
    type: str
    number: str
    date: str
    part: str

    @property
    def key(self) -> str:
        return f"{self.administration}/{self.type}/{self.number}"


def select_refs(
    store: Store,
    doc_type: str,
    *,
    administration: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    numbers: Iterable[str] | None = None,
) -> list[DocRef]:
    """The documents a batch takes, in build order (administration, date, number)."""
    if doc_type not in DOC_TYPES:
        raise BatchError(
            f"{doc_type!r} is not a document type.",
            field="type",
            value=doc_type,
            fix=f"use one of {', '.join(DOC_TYPES)}.",
        )
    wanted = set(numbers) if numbers is not None else None
    # Only the months that can match are read, and only the stored fields compared (a
    # document is validated when it is built); a date not in ISO form is validated here.
    first = date_from.isoformat() if date_from else None
    last = date_to.isoformat() if date_to else None

    def may_match(d: dict[str, Any]) -> bool:
        if not (
            d.get("type") == doc_type
            and (administration is None or d.get("administration") == administration)
            and (wanted is None or d.get("number") in wanted)
        ):
            return False
        date = d.get("date")
        if not (isinstance(date, str) and len(date) == 10):
            valid = Document.model_validate(d).date
            return (date_from is None or valid >= date_from) and (
                date_to is None or valid <= date_to
            )
        return (first is None or date >= first) and (last is None or date <= last)

    out: list[DocRef] = []
    shared: dict[str, str] = {}
    with store.view(Document) as tx:  # the months that can hold a match, or the numbers'
        found: Iterable[tuple[str | None, dict[str, Any]]]
        if wanted is not None:
            found = (
                (tx.part_of(f"{d.get('administration')}/{doc_type}/{n}"), d)
                for n in sorted(wanted)
                for d in tx.find_number(doc_type, n)
            )
        else:
            found = tx.select_located(
                doc_type=doc_type, administration=administration, date_from=first, date_to=last
            )
        for part, d in found:
            if part is not None and may_match(d):
                # Administrations and dates repeat: one string each, shared by the refs.
                admin = shared.setdefault(str(d["administration"]), str(d["administration"]))
                date = shared.setdefault(str(d["date"]), str(d["date"]))
                out.append(DocRef(admin, doc_type, str(d["number"]), date, part))
    if wanted is not None:
        missing = wanted - {d.number for d in out}
        if missing:
            raise BatchError(
                f"No {doc_type} with number {', '.join(sorted(missing))} was found"
                + (f" in administration {administration}" if administration else "")
                + ".",
                field="numbers",
                value=",".join(sorted(missing)),
                fix="check the numbers with `mailroom documents list`.",
            )
    out.sort(key=lambda d: (d.administration, d.date, d.number))
    return out


def select_documents(
    store: Store,
    doc_type: str,
    *,
    administration: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    numbers: Iterable[str] | None = None,
) -> list[Document]:
    """As :func:`select_refs`, the documents themselves."""
    refs = select_refs(
        store,
        doc_type,
        administration=administration,
        date_from=date_from,
        date_to=date_to,
        numbers=numbers,
    )
    return [Document.model_validate(d) for _, d in documents_of(store, refs) if isinstance(d, dict)]


# What a worker is given per document: the stored fields (validated there), a document
# (benchmarks pass them), or the ref of one deleted since it was selected.
Payload = dict[str, Any] | Document | DocRef


def documents_of(store: Store, refs: Iterable[DocRef]) -> Iterator[tuple[int, Payload]]:
    """(sequence number, stored fields) in ``refs``' order, read part by part as they
    come: no more than a few parts of a month are held at once."""
    with store.view(Document) as tx:
        for seq, ref in enumerate(refs, 1):
            raw = tx.part_doc(ref.part, ref.key) or tx.find_raw(ref.key)
            yield seq, (raw if raw is not None else ref)
