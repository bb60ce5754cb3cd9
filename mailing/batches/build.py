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

from mailing.batches.build_items import CHUNK, MIN_PARALLEL, ItemBuilder, build_parallel
from mailing.batches.once import Selection, choose_unsent, mark_one
from mailing.batches.select import (
    BatchError,
    DocRef,
    Payload,
    documents_of,
    select_refs,
)
from mailing.batches.stream import Summaries, chunked, write_batch_json
from store.records import Document
from store.spool import PRINT_PDF, Batch, Spool, now_iso

if TYPE_CHECKING:
    from store.store import Store


@dataclass
class BuildProgress:
    done: int
    total: int


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
            builder = ItemBuilder(str(store.home), user, batch.id)
            # a few documents: smaller chunks, so that progress is seen as they are built
            for chunk in chunked(feed, CHUNK if total >= MIN_PARALLEL else 8):
                sink(builder.build_chunk(chunk))
        else:
            build_parallel(store, user, batch, feed, n_workers, sink)
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
