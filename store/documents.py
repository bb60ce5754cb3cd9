"""Typed access to the documents, by month: what a query names is all it reads.

``Store.view(Document)`` and ``Store.transaction(Document)`` give a
:class:`DocumentsTx` over one index (``store/documents_files.py``). Besides the
operations every table has (``all``, ``raw``, ``find``, ``put_many``, ...), which read
every month, it answers the everyday questions from the months and shards they need:
``select`` (type, administration, date range), ``find`` and ``find_number`` (one
shard, one month), ``recent`` (the newest months first) and ``keys``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from store.documents_files import (
    KEY,
    KEY_SHARDS,
    PART_SIZE,
    TABLE,
    Doc,
    DocumentFiles,
    Manifest,
    month_of_part,
    part_name,
    period_of,
    shard_of,
)
from store.errors import NotFoundError
from store.records import Record

R = TypeVar("R", bound=Record)


def _strip(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k != KEY}


class DocumentsTx:
    """One consistent snapshot of the documents; in a transaction, the changes to it."""

    def __init__(self, files: DocumentFiles, manifest: Manifest, *, writable: bool) -> None:
        self.files = files
        self.manifest = manifest
        self.writable = writable
        self.changed_periods: dict[str, dict[str, Doc]] = {}  # changed months (copies)
        self.changed_shards: dict[int, dict[str, str]] = {}  # changed shards (copies)

    # ------------------------------------------------------------ reading

    def periods(self) -> list[str]:
        """The parts of months that hold documents, oldest first."""
        return sorted(set(self.manifest["periods"]) | set(self.changed_periods))

    def _docs(self, period: str) -> dict[str, Doc]:
        if period in self.changed_periods:
            return self.changed_periods[period]
        return self.files.period_docs(self.manifest, period)

    def _shard(self, i: int) -> dict[str, str]:
        if i in self.changed_shards:
            return self.changed_shards[i]
        return self.files.shard(self.manifest, i)

    def count(self) -> int:
        return sum(len(self._docs(p)) for p in self.periods())

    def iter_raw(self, periods: Iterable[str] | None = None) -> Iterator[Doc]:
        """Every stored document (without its key field), month by month."""
        for period in self.periods() if periods is None else periods:
            for d in self._docs(period).values():
                yield _strip(d)

    def select(
        self,
        *,
        doc_type: str | None = None,
        administration: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[Doc]:
        """The stored documents that match (dates as ISO text), read from only the months
        that can hold one (by each month's summary in the index)."""
        for _, d in self.select_located(
            doc_type=doc_type, administration=administration, date_from=date_from, date_to=date_to
        ):
            yield d

    def select_located(
        self,
        *,
        doc_type: str | None = None,
        administration: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Iterator[tuple[str, Doc]]:
        """As :meth:`select`, each with the part it is stored in (for :meth:`part_doc`)."""
        for period in self.periods():
            entry = self.manifest["periods"].get(period)
            if period not in self.changed_periods and entry is not None:
                if doc_type is not None and doc_type not in entry.get("types", []):
                    continue
                if administration is not None and administration not in entry.get(
                    "administrations", []
                ):
                    continue
                first, last = entry.get("first"), entry.get("last")
                if date_from is not None and last is not None and last < date_from:
                    continue
                if date_to is not None and first is not None and first > date_to:
                    continue
            for d in self.iter_raw([period]):
                if doc_type is not None and d.get("type") != doc_type:
                    continue
                if administration is not None and d.get("administration") != administration:
                    continue
                date = d.get("date")
                if isinstance(date, str) and (
                    (date_from is not None and date < date_from)
                    or (date_to is not None and date > date_to)
                ):
                    continue
                yield period, d

    def recent(
        self, limit: int, *, doc_type: str | None = None, administration: str | None = None
    ) -> tuple[list[Doc], str | None]:
        """The newest ``limit`` documents (by date, then number; of ``doc_type`` and
        ``administration`` when given), read from the newest months only; and the date
        of the oldest of them when older ones were left out (None when nothing was)."""

        def wanted(d: Doc) -> bool:
            return (doc_type is None or d.get("type") == doc_type) and (
                administration is None or d.get("administration") == administration
            )

        out: list[Doc] = []
        periods = self.periods()
        left_out = False
        for i in range(len(periods) - 1, -1, -1):
            month = month_of_part(periods[i])
            newer = month_of_part(periods[i + 1]) if i + 1 < len(periods) else None
            if len(out) >= limit and month != newer:
                left_out = True
                break
            out.extend(d for d in self.iter_raw([periods[i]]) if wanted(d))
        if len(out) > limit:
            out.sort(key=lambda d: (str(d.get("date")), str(d.get("number"))), reverse=True)
            del out[limit:]
            left_out = True
        if not left_out or not out:
            return out, None
        return out, min(str(d.get("date")) for d in out)

    def find_raw(self, key: str) -> Doc | None:
        number = key.rsplit("/", 1)[-1]
        period = self._shard(shard_of(number)).get(key)
        if period is None:
            return None
        doc = self._docs(period).get(key)
        return _strip(doc) if doc is not None else None

    def part_doc(self, part: str, key: str) -> Doc | None:
        """One document of a known part (its file is read once and kept while used)."""
        doc = self._docs(part).get(key)
        return _strip(doc) if doc is not None else None

    def part_of(self, key: str) -> str | None:
        return self._shard(shard_of(key.rsplit("/", 1)[-1])).get(key)

    def has(self, key: str) -> bool:
        """Whether a document has this key (reads one shard of keys, no month)."""
        return key in self._shard(shard_of(key.rsplit("/", 1)[-1]))

    def find_number(self, doc_type: str, number: str) -> list[Doc]:
        """Every stored document of this type and number (one per administration)."""
        tail = f"/{doc_type}/{number}"
        out = []
        for key in sorted(k for k in self._shard(shard_of(number)) if k.endswith(tail)):
            doc = self.find_raw(key)
            if doc is not None and doc.get("type") == doc_type and doc.get("number") == number:
                out.append(doc)
        return out

    # The operations of store.store.Tx, for code written against any table.
    def all(self, cls: type[R]) -> list[R]:
        return [cls.model_validate(d) for d in self.iter_raw()]

    def raw(self, cls: type[Record]) -> list[Doc]:
        return list(self.iter_raw())

    def find(self, cls: type[R], key: str) -> R | None:
        doc = self.find_raw(key)
        return cls.model_validate(doc) if doc is not None else None

    def get(self, cls: type[R], key: str) -> R:
        found = self.find(cls, key)
        if found is None:
            raise NotFoundError(
                f"No document {key!r} exists.",
                field="document",
                value=key,
                fix="check the spelling, or list them with `mailroom documents list`.",
            )
        return found

    # ------------------------------------------------------------ writing

    def _writable_docs(self, period: str) -> dict[str, Doc]:
        if not self.writable:
            from store.errors import StoreError

            raise StoreError("Internal error: write attempted in a read-only view of documents.")
        if period not in self.changed_periods:
            self.changed_periods[period] = dict(self.files.period_docs(self.manifest, period))
        return self.changed_periods[period]

    def _writable_shard(self, i: int) -> dict[str, str]:
        if i not in self.changed_shards:
            self.changed_shards[i] = dict(self.files.shard(self.manifest, i))
        return self.changed_shards[i]

    def put(self, record: Record) -> None:
        self.put_many([record])

    def put_many(self, records: Iterable[Record]) -> int:
        n = 0
        for rec in records:
            self.put_raw(rec.dump())
            n += 1
        return n

    def put_raw(self, doc: Doc) -> None:
        key = f"{doc['administration']}/{doc['type']}/{doc['number']}"
        month = period_of(doc)
        shard = self._writable_shard(shard_of(str(doc["number"])))
        part = shard.get(key)
        if part is not None and month_of_part(part) != month:
            self._writable_docs(part).pop(key, None)  # a new date: to its month
            part = None
        if part is None:
            part = self._part_with_room(month)
        self._writable_docs(part)[key] = {**doc, KEY: key}
        shard[key] = part

    def _part_with_room(self, month: str) -> str:
        parts = [p for p in self.periods() if month_of_part(p) == month]
        if not parts:
            return part_name(month, 0)
        last = parts[-1]
        if last in self.changed_periods:
            count = len(self.changed_periods[last])
        else:
            count = int(self.manifest["periods"][last].get("count", PART_SIZE))
        if count < PART_SIZE:
            return last
        return part_name(month, int(last.rsplit("-p", 1)[1]) + 1)

    def delete(self, cls: type[Record], key: str) -> bool:
        shard = self._writable_shard(shard_of(key.rsplit("/", 1)[-1]))
        period = shard.pop(key, None)
        if period is None:
            return False
        self._writable_docs(period).pop(key, None)
        return True

    def clear(self, cls: type[Record]) -> None:
        for period in self.periods():
            self._writable_docs(period).clear()
        for i in range(KEY_SHARDS):
            self._writable_shard(i).clear()

    @property
    def dirty(self) -> bool:
        return bool(self.changed_periods or self.changed_shards)


class Documents:
    """The documents of one data folder."""

    def __init__(self, home: Path) -> None:
        self.files = DocumentFiles(home)
        self.path = self.files.path

    @contextlib.contextmanager
    def view(self) -> Iterator[DocumentsTx]:
        """A read-only snapshot; no lock (the index names files that never change)."""
        self.files.ensure()
        yield DocumentsTx(self.files, self.files.manifest(), writable=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DocumentsTx]:
        """Lock, read the index, let the caller change it, commit once; nothing is
        written if the block raises."""
        self.files.ensure()
        with self.files.locked():
            tx = DocumentsTx(self.files, self.files.manifest(), writable=True)
            yield tx
            if tx.dirty:
                self.files.commit(tx.manifest, tx.changed_periods, tx.changed_shards)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return self.files.locked()

    def export_tinydb(self) -> dict[str, Any]:
        """All documents as one TinyDB database (``documents.json`` of a backup)."""
        with self.view() as tx:
            return {TABLE: {str(i): d for i, d in enumerate(tx.iter_raw(), 1)}}

    def good_copies(self) -> list[str]:
        return self.files.good_copies()

    def restore_copy(self, copy: str | None = None) -> str:
        return self.files.restore_copy(copy)
