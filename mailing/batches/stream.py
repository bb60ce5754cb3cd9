"""A batch's summaries kept on disk while it is built, so the build's memory does not
grow with the batch: each item's summary is written as one JSON line to a temporary
file in the batch folder as its chunk comes back; only its name, state and place in
that file are kept. ``batch.json`` is then written from the file, items in order, as
one atomic replace — the same file ``Batch.write_info`` writes.
"""

from __future__ import annotations

import os
import secrets
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from store.db import fsync_dir
from store.permissions import open_new
from store.spool import BATCH_FILE, Batch
from store.spool.layout import json_bytes

T = TypeVar("T")

ITEMS_FILE = ".items.jsonl"


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for x in items:
        chunk.append(x)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Summaries:
    """The summaries of a batch being built, on disk; counts and the print list in memory."""

    def __init__(self, batch: Batch, total: int) -> None:
        self.path = batch.path / ITEMS_FILE
        self._fh = os.fdopen(open_new(self.path, os.O_WRONLY | os.O_EXCL | os.O_APPEND), "wb")
        # Per item, by its sequence number (the build order): where its line is, how long.
        self._offset = array("q", bytes(8 * (total + 1)))
        self._length = array("l", bytes(array("l").itemsize * (total + 1)))
        self._n = 0
        self._pos = 0
        self.counts: dict[str, int] = {}
        self.print_items: list[str] = []

    def __len__(self) -> int:
        return self._n

    def add(self, seq: int, summary: dict[str, Any]) -> None:
        line = json_bytes(summary)
        self._fh.write(line + b"\n")
        self._offset[seq], self._length[seq] = self._pos, len(line)
        self._n += 1
        self._pos += len(line) + 1
        state = str(summary["state"])
        self.counts[state] = self.counts.get(state, 0) + 1
        if summary.get("kind") == "print":
            self.print_items.append(str(summary["item"]))

    def finish(self) -> None:
        """Every summary is in: put them (and the print list) in item order."""
        self._fh.flush()
        self.print_items.sort(key=lambda item: int(item.split("-", 1)[0]))

    def in_order(self) -> Iterator[bytes]:
        """Each summary's JSON, in item order."""
        self.finish()
        with open(self.path, "rb") as fh:
            for offset, length in zip(self._offset, self._length, strict=True):
                if length:
                    fh.seek(offset)
                    yield fh.read(length)

    def close(self) -> None:
        self._fh.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def write_batch_json(batch: Batch, head: dict[str, Any], summaries: Summaries) -> None:
    """``batch.json``: ``head`` with ``items`` (read back from ``summaries``), written to
    a temporary name, synced and renamed into place; then its folder synced."""
    path = batch.path / BATCH_FILE
    tmp = path.with_name(f".{BATCH_FILE}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
    body = json_bytes(head)
    assert body.endswith(b"}")
    fd = open_new(tmp, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body[:-1] + (b',"items":[' if head else b'"items":['))
            for i, line in enumerate(summaries.in_order()):
                fh.write(line if i == 0 else b"," + line)
            fh.write(b"]}")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(batch.path)
    batch.write_head(head)
