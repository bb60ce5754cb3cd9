"""Building a batch: every document resolved and rendered into a real message in the spool.

``build_batch`` selects the documents, then renders them with both cores: a
``ProcessPoolExecutor`` whose initializer loads the configuration snapshot once
per worker (letterheads are parsed once per worker too, cached by
``Letterhead.from_refs``); documents go to the workers in chunks and each worker
writes its items straight into the spool, returning only a short summary.

Per document the result is one of:

- ``email``: ``draft/<item>.eml`` — the exact bytes that will be sent, with a
  fixed Message-ID — and its side-car (document, resolution trace, profile,
  envelope with the Bcc recipients, size, warnings and the fingerprints of the
  template and letterhead used), packed with those of its chunk in
  ``meta/pack-<first>-<last>.jsonl`` (``store/spool/sidecars.py``);
- ``print``: the document cannot be mailed (SPEC §6.5): ``print/<item>.pdf`` with
  the reason; all of them are also combined into ``print/print.pdf``;
- ``error``: the document could not be built (a template error, a message over
  the profile's size limit, ...): ``failed/`` with the reason. A message over the
  limit keeps its ``.eml`` there, for inspection: it is never silently changed.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.batches.once import Selection, choose_unsent, mark_one
from mailing.batches.select import (
    BatchError,
    DocRef,
    Payload,
    documents_of,
    select_refs,
)
from mailing.batches.stream import Summaries, chunked, write_batch_json
from mailing.sending import letterhead_fingerprint, template_fingerprint
from store.errors import MailroomError
from store.records import Document, Template
from store.spool import PRINT_PDF, Batch, Spool, now_iso

if TYPE_CHECKING:
    from mailing.batches.compose import Composed
    from store.store import Store

CHUNK = 32  # documents per task given to a worker
MIN_PARALLEL = 24  # below this many documents, build in this process


@dataclass
class BuildProgress:
    done: int
    total: int


# ---------------------------------------------------------------- selection


# ---------------------------------------------------------------- one document


class _Builder:
    """Everything a process needs to build items: loaded once per process."""

    def __init__(self, home: str, user: str, batch_id: str) -> None:
        from mailing.batches.compose import Composer
        from store.store import Store

        self.store = Store(Path(home), user)
        self.user = user
        self.composer = Composer(self.store, user)
        self.cfg = self.composer.cfg
        self.batch = Spool(Path(home)).batch(batch_id)
        self._template_shas: dict[str, str | None] = {}
        self._pending: list[tuple[str, str, str, bytes, dict[str, Any]]] = []

    def _add(self, item: str, kind: str, state: str, payload: bytes, meta: dict[str, Any]) -> None:
        """An item built: written with the rest of its chunk (``build_chunk``)."""
        self._pending.append((item, kind, state, payload, meta))

    def build_chunk(self, chunk: list[tuple[int, Payload]]) -> list[dict[str, Any]]:
        """Build a chunk of documents; write their side-cars as one pack, then their
        files (``Batch.add_items``); return their summaries."""
        self._pending = []
        done = [self.build_any(seq, payload) for seq, payload in chunk]
        self.batch.add_items(self._pending)
        self._pending = []
        return done

    def _template_sha(self, template: Template) -> str | None:
        """The template's fingerprint, once per template (the snapshot does not change)."""
        if template.code not in self._template_shas:
            self._template_shas[template.code] = template_fingerprint(template)
        return self._template_shas[template.code]

    def build_any(self, seq: int, payload: Payload) -> dict[str, Any]:
        if isinstance(payload, Document):
            return self.build(seq, payload)
        if isinstance(payload, DocRef):
            document: dict[str, Any] = {"type": payload.type, "number": payload.number}
            document.update(administration=payload.administration, date=payload.date)
            reason = "The document was deleted while the batch was built."
            return self._error(f"{seq:05d}-{payload.number}", document, reason)
        try:
            doc = Document.parse(payload, f"document {payload.get('number')}")
        except MailroomError as exc:
            stored = {k: payload.get(k) for k in ("type", "number", "administration")}
            return self._error(f"{seq:05d}-{payload.get('number')}", stored, str(exc))
        return self.build(seq, doc)

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
            return self._error(item, document, str(exc))

    def _error(self, item: str, document: dict[str, Any], reason: str) -> dict[str, Any]:
        meta = {"item": item, "kind": "error", "document": document, "error": reason}
        self._add(item, "error", "failed", reason.encode("utf-8"), meta)
        return {
            "item": item,
            "number": document.get("number"),
            "administration": document.get("administration"),
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
            "page_warnings": list(c.page_warnings),  # texts cut to fit: the batch report
            "document_pdf": c.pdf_name,
        }
        if c.raw is None:
            meta = {**base_meta, "kind": "print", "reason": res.reason}
            self._add(item, "print", "print", c.pdf, meta)
            return {
                "item": item,
                "number": doc.number,
                "administration": doc.administration,
                "kind": "print",
                "state": "print",
                "reason": res.reason,
                **({"cut": len(c.page_warnings)} if c.page_warnings else {}),
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
            **({"cut": len(c.page_warnings)} if c.page_warnings else {}),
        }
        if profile.max_message_bytes and len(raw) > profile.max_message_bytes:
            reason = (
                f"The message is {len(raw):,} bytes; profile {profile.code} allows at most "
                f"{profile.max_message_bytes:,} bytes (max_message_bytes). It was not sent "
                "and not changed."
            )
            meta["error"] = reason
            self._add(item, "email", "failed", raw, meta)
            return {**summary, "state": "failed", "reason": reason}
        self._add(item, "email", "draft", raw, meta)
        return {**summary, "state": "draft"}


def _spans(c: Composed) -> list[tuple[int, int] | None]:
    """Where each attachment lies in the message (for the archive), None where unknown."""
    if len(c.spans) == len(c.attachments):
        return c.spans
    return [None] * len(c.attachments)


# One per worker process. With the fork start method it is made once, in the parent,
# before the pool starts, and inherited by both workers: nothing is imported, loaded or
# parsed twice. With spawn (Windows) the pool's initializer makes it. The documents go
# to the workers in chunks as they are read, never more than a few chunks ahead.
_WORKER: _Builder | None = None
AHEAD = 4  # chunks given to each worker before the first comes back


def _init_worker(home: str, user: str, batch_id: str) -> None:
    global _WORKER
    if _WORKER is None or _WORKER.batch.id != batch_id:
        _WORKER = _Builder(home, user, batch_id)


def _build_chunk(chunk: list[tuple[int, Payload]]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    return _WORKER.build_chunk(chunk)


def _build_parallel(
    store: Store,
    user: str,
    batch: Batch,
    feed: Iterator[tuple[int, Payload]],
    n_workers: int,
    sink: Callable[[list[dict[str, Any]]], None],
) -> None:
    import gc
    import multiprocessing

    global _WORKER
    chunks = chunked(feed, CHUNK)
    first = next(chunks, None)
    if first is None:
        return
    fork = "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"
    if fork:
        # The first chunk is built here, before the fork: what its documents load (imports,
        # fonts, every letterhead, template and locale they use) is then loaded once and
        # inherited by both workers, not loaded again in each; and no document is composed
        # twice (was: one composed and thrown away as a warm-up).
        _WORKER = _Builder(str(store.home), user, batch.id)
        sink([_WORKER.build_any(seq, payload) for seq, payload in first])
        first = next(chunks, None)
        if first is None:
            _WORKER = None
            return
    # Imported only here: a batch the parent builds alone needs no pool (~20 ms of imports).
    from concurrent.futures import (
        FIRST_COMPLETED,
        Future,
        ProcessPoolExecutor,
        as_completed,
        wait,
    )

    if fork:
        gc.freeze()  # the inherited objects stay shared: the workers' GC does not touch them
    try:
        mp = multiprocessing.get_context("fork" if fork else "spawn")
        with ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=mp,
            initializer=_init_worker,
            initargs=(str(store.home), user, batch.id),
        ) as pool:
            pending: set[Future[list[dict[str, Any]]]] = {pool.submit(_build_chunk, first)}
            for chunk in chunks:
                pending.add(pool.submit(_build_chunk, chunk))
                if len(pending) >= n_workers * AHEAD:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        sink(fut.result())
            for fut in as_completed(pending):
                sink(fut.result())
    finally:
        if fork:
            gc.unfreeze()
            _WORKER = None


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
    everyone: bool = False,
) -> Batch:
    """Build a batch; return it. ``documents`` skips the selection (benchmarks).

    Documents already sent, or waiting in an open batch, are left out (counted in
    ``batch.json``'s ``left_out``); ``include_sent`` puts the sent ones in, each
    marked ``sent_before`` (its last send) in its summary and side-car.

    Memory stays flat in the batch's size: the selection keeps a light ref per
    document, the documents are read part by part as the workers take them, each
    summary goes to a file as it comes back, and the print list is combined as it is
    read.
    """
    selection: Selection[DocRef] | None = None
    feed: Iterator[tuple[int, Payload]]
    if documents is None:
        refs = select_refs(
            store,
            doc_type,
            administration=administration,
            date_from=date_from,
            date_to=date_to,
            numbers=numbers,
        )
        selection = choose_unsent(
            store.home, refs, include_sent=include_sent, resend=resend, everyone=everyone
        )
        if not selection.documents and selection.left_out():
            raise selection.nothing_left(doc_type)
        total = len(selection.documents)
        feed = documents_of(store, selection.documents)
    else:
        total = len(documents)
        feed = iter(list(enumerate(documents, 1)))
    if not total:
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
    summaries = Summaries(batch, total)
    sent_before = selection.sent_before if selection is not None else {}
    delivered = selection.delivered_before if selection is not None else {}
    with_cut_text = 0  # documents with a text cut to fit the page (their warnings: the report)

    def sink(done: list[dict[str, Any]]) -> None:
        nonlocal with_cut_text
        for s in done:
            with_cut_text += bool(s.get("cut"))
            mark_one(batch, s, doc_type, sent_before, delivered)
            summaries.add(int(str(s["item"]).split("-", 1)[0]), s)
        if progress is not None:
            progress(BuildProgress(len(summaries), total))

    try:
        n_workers = workers if workers is not None else min(os.cpu_count() or 1, 2)
        if n_workers <= 1 or total < MIN_PARALLEL:
            builder = _Builder(str(store.home), user, batch.id)
            # a few documents: smaller chunks, so that progress is seen as they are built
            for chunk in chunked(feed, CHUNK if total >= MIN_PARALLEL else 8):
                sink(builder.build_chunk(chunk))
        else:
            _build_parallel(store, user, batch, feed, n_workers, sink)
        summaries.finish()
        if summaries.print_items:
            _combine_print(batch, summaries.print_items)
        # Items were written without an fsync each; one flush of the file system makes
        # them all durable before batch.json says the batch is complete.
        _sync_filesystem(batch.path)
        counts = dict(summaries.counts)
        write_batch_json(
            batch,
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
                "approvals": [],
                "left_out": selection.left_out() if selection is not None else {},
                "include_sent": include_sent,
                "resend": resend,
                # An explicit choice to send it again to everyone, who got it or not.
                "to_everyone": everyone,
            },
            summaries,
        )
    finally:
        summaries.close()
    built = {
        "event": "built",
        "by": user,
        "counts": counts,
        "items": len(summaries),
        "build_seconds": round(time.perf_counter() - started, 3),
        "left_out": selection.left_out() if selection is not None else {},
        "sent_before": len(sent_before),
        "cut_texts": with_cut_text,
    }
    batch.log(built, sync=True)
    batch.close()
    return batch


def built_summary(batch: Batch) -> dict[str, Any]:
    """What the build said of itself (counts, items, seconds, left out, sent before), from
    its "built" event: a batch of 50,000 need not be read back to report on it."""
    for ev in batch.events(b"built"):
        if ev.get("event") == "built" and "items" in ev:
            return ev
    info = batch.info()  # built by an older version
    return {
        "counts": info.get("counts_at_build", {}),
        "items": len(info.get("items", [])),
        "build_seconds": info.get("build_seconds"),
        "left_out": info.get("left_out", {}),
        "sent_before": sum(1 for s in info.get("items", []) if s.get("sent_before")),
    }


def _sync_filesystem(path: Path) -> None:
    """syncfs(2) of the file system holding ``path`` (Linux), else sync(2); then its folders."""
    import ctypes

    from store.db import fsync_dir

    done = False
    try:
        # The process's own symbols hold libc's (no `ldconfig -p` run by find_library).
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "syncfs"):
            import ctypes.util

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

    Written as it is read (``mailing/batches/print_list.py``: each document's objects written
    out and dropped), under a temporary name renamed when whole; made durable by the
    build's one sync. Memory stays flat however long the list.
    """
    from mailing.batches.print_list import combine

    combine(
        (batch.file_of(item, "print", "print") for item in items), batch.path / "print" / PRINT_PDF
    )
