"""Building a batch: every document resolved and rendered into a real message in the spool.

``build_batch`` selects the documents, then renders them with both cores: a
``ProcessPoolExecutor`` whose initializer loads the configuration snapshot once
per worker (letterheads are parsed once per worker too, cached by
``Letterhead.from_refs``); documents go to the workers in chunks and each worker
writes its items straight into the spool, returning only a short summary.

Per document the result is one of:

- ``email``: ``draft/<item>.eml`` — the exact bytes that will be sent, with a
  fixed Message-ID — and ``meta/<item>.json`` (the side-car: document, resolution
  trace, profile, envelope with the Bcc recipients, size, warnings and the
  fingerprints of the template and letterhead used);
- ``print``: the document cannot be mailed (SPEC §6.5): ``print/<item>.pdf`` with
  the reason; all of them are also combined into ``print/print.pdf``;
- ``error``: the document could not be built (a template error, a message over
  the profile's size limit, ...): ``failed/`` with the reason. A message over the
  limit keeps its ``.eml`` there, for inspection: it is never silently changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.fingerprint import letterhead_fingerprint, template_fingerprint
from mailing.once import choose_unsent, mark_sent_before
from store.errors import MailroomError
from store.records import DOC_TYPES, Document, Template
from store.spool import PRINT_PDF, Batch, Spool, now_iso

if TYPE_CHECKING:
    from mailing.compose import Composed
    from store.store import Store

CHUNK = 32  # documents per task given to a worker
MIN_PARALLEL = 24  # below this many documents, build in this process


class BatchError(MailroomError):
    """A batch cannot be built as asked."""


@dataclass
class BuildProgress:
    done: int
    total: int


# ---------------------------------------------------------------- selection


def select_documents(
    store: Store,
    doc_type: str,
    *,
    administration: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    numbers: Iterable[str] | None = None,
) -> list[Document]:
    if doc_type not in DOC_TYPES:
        raise BatchError(
            f"{doc_type!r} is not a document type.",
            field="type",
            value=doc_type,
            fix=f"use one of {', '.join(DOC_TYPES)}.",
        )
    wanted = set(numbers) if numbers is not None else None
    # Only the documents that can match are validated (a month's, not years of
    # history): the stored fields are compared first, the date as its ISO text.
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
            return True  # validated, then compared as a date below
        return (first is None or date >= first) and (last is None or date <= last)

    with store.view(Document) as tx:  # the months that can hold a match, or the numbers'
        found: Iterable[dict[str, Any]]
        if wanted is not None:
            found = (d for n in sorted(wanted) for d in tx.find_number(doc_type, n))
        else:
            found = tx.select(
                doc_type=doc_type, administration=administration, date_from=first, date_to=last
            )
        docs = [Document.model_validate(d) for d in found if may_match(d)]
    out = [
        d
        for d in docs
        if d.type == doc_type
        and (administration is None or d.administration == administration)
        and (date_from is None or d.date >= date_from)
        and (date_to is None or d.date <= date_to)
        and (wanted is None or d.number in wanted)
    ]
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


# ---------------------------------------------------------------- one document


class _Builder:
    """Everything a process needs to build items: loaded once per process."""

    def __init__(self, home: str, user: str, batch_id: str) -> None:
        from mailing.compose import Composer
        from store.store import Store

        self.store = Store(Path(home), user)
        self.user = user
        self.composer = Composer(self.store, user)
        self.cfg = self.composer.cfg
        self.batch = Spool(Path(home)).batch(batch_id)
        self._template_shas: dict[str, str | None] = {}

    def _template_sha(self, template: Template) -> str | None:
        """The template's fingerprint, once per template (the snapshot does not change)."""
        if template.code not in self._template_shas:
            self._template_shas[template.code] = template_fingerprint(template)
        return self._template_shas[template.code]

    def build(self, seq: int, doc: Document) -> dict[str, Any]:
        item = f"{seq:05d}-{doc.number}"
        document = {
            "type": doc.type,
            "number": doc.number,
            "administration": doc.administration,
            "relation": doc.relation,
            "date": doc.date.isoformat(),
        }
        try:
            return self._build(item, doc, document)
        except MailroomError as exc:
            reason = str(exc)
            meta = {"item": item, "kind": "error", "document": document, "error": reason}
            self.batch.add_item(item, "error", "failed", reason.encode("utf-8"), meta, sync=False)
            return {
                "item": item,
                "number": doc.number,
                "administration": doc.administration,
                "kind": "error",
                "state": "failed",
                "reason": reason,
            }

    def _build(self, item: str, doc: Document, document: dict[str, Any]) -> dict[str, Any]:
        c = self.composer.compose(doc)
        res = c.resolution
        base_meta: dict[str, Any] = {
            "item": item,
            "document": document,
            "resolution": res.to_json(),
            "warnings": list(res.warnings),
            "document_pdf": c.pdf_name,
        }
        if c.raw is None:
            meta = {**base_meta, "kind": "print", "reason": res.reason}
            self.batch.add_item(item, "print", "print", c.pdf, meta, sync=False)
            return {
                "item": item,
                "number": doc.number,
                "administration": doc.administration,
                "kind": "print",
                "state": "print",
                "reason": res.reason,
            }
        raw = c.raw
        profile = self.cfg.profiles[res.sender.profile]
        rcpts: list[str] = []
        for addr in (*res.recipients.to, *res.recipients.cc, *res.recipients.bcc):
            if addr not in rcpts:
                rcpts.append(addr)
        template = self.cfg.templates.get(res.template) if res.template else None
        meta = {
            **base_meta,
            "kind": "email",
            "profile": profile.code,
            "sender": res.sender.to_json(),
            "recipients": res.recipients.to_json(),
            "envelope": {"mail_from": res.sender.address, "rcpts": rcpts},
            "message_id": c.message_id,
            "subject": c.subject,
            "size": len(raw),
            "attachments": [
                {"name": n, "size": z, "at": list(span) if span else None}
                for (n, z), span in zip(c.attachments, _spans(c), strict=True)
            ],
            "fingerprints": {
                "template": (
                    {"code": template.code, "sha256": self._template_sha(template)}
                    if template is not None
                    else None
                ),
                "letterhead": letterhead_fingerprint(c.language),
            },
        }
        summary = {
            "item": item,
            "number": doc.number,
            "administration": doc.administration,
            "kind": "email",
            "size": len(raw),
            "to": list(res.recipients.to),
            "profile": profile.code,
        }
        if profile.max_message_bytes and len(raw) > profile.max_message_bytes:
            reason = (
                f"The message is {len(raw):,} bytes; profile {profile.code} allows at most "
                f"{profile.max_message_bytes:,} bytes (max_message_bytes). It was not sent "
                "and not changed."
            )
            meta["error"] = reason
            self.batch.add_item(item, "email", "failed", raw, meta, sync=False)
            return {**summary, "state": "failed", "reason": reason}
        self.batch.add_item(item, "email", "draft", raw, meta, sync=False)
        return {**summary, "state": "draft"}


def _spans(c: Composed) -> list[tuple[int, int] | None]:
    """Where each attachment lies in the message (for the archive), None where unknown."""
    if len(c.spans) == len(c.attachments):
        return c.spans
    return [None] * len(c.attachments)


# One per worker process. With the fork start method it is made once, in the parent,
# before the pool starts, and inherited by both workers together with the documents
# (``_DOCS``): nothing is imported, loaded, parsed or pickled twice. With spawn
# (Windows) the pool's initializer makes it, and chunks of documents are pickled.
_WORKER: _Builder | None = None
_DOCS: list[tuple[int, Document]] = []


def _init_worker(home: str, user: str, batch_id: str) -> None:
    global _WORKER
    if _WORKER is None or _WORKER.batch.id != batch_id:
        _WORKER = _Builder(home, user, batch_id)


def _build_chunk(chunk: list[tuple[int, Document]]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    return [_WORKER.build(seq, doc) for seq, doc in chunk]


def _build_range(start: int, end: int) -> list[dict[str, Any]]:
    """Build ``_DOCS[start:end]``, inherited from the parent at fork."""
    assert _WORKER is not None
    return [_WORKER.build(seq, doc) for seq, doc in _DOCS[start:end]]


def _warm(builder: _Builder, docs: list[Document]) -> None:
    """Compose one document without writing it: imports, fonts, templates, letterhead."""
    with contextlib.suppress(MailroomError):
        builder.composer.compose(docs[0])


def _build_parallel(
    store: Store,
    user: str,
    batch: Batch,
    numbered: list[tuple[int, Document]],
    n_workers: int,
    progress: Callable[[BuildProgress], None] | None,
) -> list[dict[str, Any]]:
    import gc
    import multiprocessing

    global _WORKER, _DOCS
    summaries: list[dict[str, Any]] = []
    total = len(numbered)
    fork = "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"
    if fork:
        _WORKER = _Builder(str(store.home), user, batch.id)
        _warm(_WORKER, [d for _, d in numbered[:1]])
        _DOCS = numbered
        gc.freeze()  # the inherited objects stay shared: the workers' GC does not touch them
    try:
        mp = multiprocessing.get_context("fork" if fork else "spawn")
        with ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=mp,
            initializer=_init_worker,
            initargs=(str(store.home), user, batch.id),
        ) as pool:
            if fork:
                futures = [
                    pool.submit(_build_range, i, min(i + CHUNK, total))
                    for i in range(0, total, CHUNK)
                ]
            else:
                futures = [
                    pool.submit(_build_chunk, numbered[i : i + CHUNK])
                    for i in range(0, total, CHUNK)
                ]
            for fut in as_completed(futures):
                summaries.extend(fut.result())
                if progress is not None:
                    progress(BuildProgress(len(summaries), total))
    finally:
        if fork:
            gc.unfreeze()
            _WORKER, _DOCS = None, []
    return summaries


# ---------------------------------------------------------------- the batch


def build_batch(
    store: Store,
    user: str,
    doc_type: str,
    *,
    administration: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    numbers: Iterable[str] | None = None,
    documents: list[Document] | None = None,
    workers: int | None = None,
    progress: Callable[[BuildProgress], None] | None = None,
    include_sent: bool = False,
    resend: bool = False,
) -> Batch:
    """Build a batch; return it. ``documents`` skips the selection (benchmarks).

    Documents already sent, or waiting in an open batch, are left out (counted in
    ``batch.json``'s ``left_out``); ``include_sent`` puts the sent ones in, each
    marked ``sent_before`` (its last send) in its summary and side-car.
    """
    docs = documents
    selection = None
    if docs is None:
        docs = select_documents(
            store,
            doc_type,
            administration=administration,
            date_from=date_from,
            date_to=date_to,
            numbers=numbers,
        )
        selection = choose_unsent(store.home, docs, include_sent=include_sent)
        docs = selection.documents
        if not docs and selection.left_out():
            raise selection.nothing_left(doc_type)
    if not docs:
        raise BatchError(
            f"No {doc_type} documents match"
            + (f" in administration {administration}" if administration else "")
            + (f" from {date_from}" if date_from else "")
            + (f" to {date_to}" if date_to else "")
            + ".",
            field="type",
            value=doc_type,
            fix="check the selection, or import documents with `mailroom documents import`.",
        )
    started = time.perf_counter()
    spool = Spool(store.home)
    batch = spool.new_batch()
    numbered = list(enumerate(docs, 1))
    summaries: list[dict[str, Any]] = []
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 2)
    if n_workers <= 1 or len(docs) < MIN_PARALLEL:
        builder = _Builder(str(store.home), user, batch.id)
        for seq, doc in numbered:
            summaries.append(builder.build(seq, doc))
            if progress is not None:
                progress(BuildProgress(len(summaries), len(docs)))
    else:
        summaries = _build_parallel(store, user, batch, numbered, n_workers, progress)
    summaries.sort(key=lambda s: str(s["item"]))
    if selection is not None:
        mark_sent_before(batch, summaries, doc_type, selection.sent_before)
    print_items = [s["item"] for s in summaries if s["kind"] == "print"]
    if print_items:
        _combine_print(batch, print_items)
    # Items were written without an fsync each; one flush of the file system makes
    # them all durable before batch.json says the batch is complete.
    _sync_filesystem(batch.path)
    counts: dict[str, int] = {}
    for s in summaries:
        counts[s["state"]] = counts.get(s["state"], 0) + 1
    batch.write_info(
        {
            "id": batch.id,
            "type": doc_type,
            "administration": administration,
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
            "numbers": sorted(numbers) if numbers is not None else None,
            "created_by": user,
            "created_at": now_iso(),
            "build_seconds": round(time.perf_counter() - started, 3),
            "counts_at_build": counts,
            "items": summaries,
            "approvals": [],
            "left_out": selection.left_out() if selection is not None else {},
            "include_sent": include_sent,
            "resend": resend,
        }
    )
    batch.log({"event": "built", "by": user, "counts": counts}, sync=True)
    batch.close()
    return batch


def _sync_filesystem(path: Path) -> None:
    """syncfs(2) of the file system holding ``path`` (Linux), else sync(2); then its folders."""
    import ctypes
    import ctypes.util

    from store.db import fsync_dir

    done = False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            done = libc.syncfs(fd) == 0
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        done = False
    if not done:
        os.sync()
    for sub in os.scandir(path):
        if sub.is_dir():
            fsync_dir(Path(sub.path))


def _combine_print(batch: Batch, items: list[str]) -> None:
    """One PDF of every document to print, in item order, for the printer.

    Written as it is read (``mailing/print_list.py``: each document's objects written
    out and dropped), under a temporary name renamed when whole; made durable by the
    build's one sync. Memory stays flat however long the list.
    """
    from mailing.print_list import combine

    combine(
        (batch.file_of(item, "print", "print") for item in items), batch.path / "print" / PRINT_PDF
    )
