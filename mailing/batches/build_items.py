"""Building a batch's items: one document into a spool item (``ItemBuilder``), in this
process or, for a larger batch, in two worker processes fed chunks of documents
(``build_parallel``). What a batch is and how it is chosen and finished:
:mod:`mailing.batches.build`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailing.batches.select import (
    DocRef,
    Payload,
)
from mailing.batches.stream import chunked
from mailing.sending import letterhead_fingerprint, template_fingerprint
from store.errors import MailroomError
from store.records import Document, Template
from store.spool import Batch, Spool

if TYPE_CHECKING:
    from mailing.batches.compose import Composed
    from store.store import Store

CHUNK = 32  # documents per task given to a worker
MIN_PARALLEL = 24  # below this many documents, build in this process


# ---------------------------------------------------------------- one document


class ItemBuilder:
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
                for (n, z), span in zip(c.attachments, attachment_spans(c), strict=True)
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


def attachment_spans(c: Composed) -> list[tuple[int, int] | None]:
    """Where each attachment lies in the message (for the archive), None where unknown."""
    if len(c.spans) == len(c.attachments):
        return c.spans
    return [None] * len(c.attachments)


# One per worker process. With the fork start method it is made once, in the parent,
# before the pool starts, and inherited by both workers: nothing is imported, loaded or
# parsed twice. With spawn (Windows) the pool's initializer makes it. The documents go
# to the workers in chunks as they are read, never more than a few chunks ahead.
_WORKER: ItemBuilder | None = None
AHEAD = 4  # chunks given to each worker before the first comes back


def _init_worker(home: str, user: str, batch_id: str) -> None:
    global _WORKER
    if _WORKER is None or _WORKER.batch.id != batch_id:
        _WORKER = ItemBuilder(home, user, batch_id)


def _build_chunk(chunk: list[tuple[int, Payload]]) -> list[dict[str, Any]]:
    assert _WORKER is not None
    return _WORKER.build_chunk(chunk)


def build_parallel(
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
        _WORKER = ItemBuilder(str(store.home), user, batch.id)
        sink(_WORKER.build_chunk(first))
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
