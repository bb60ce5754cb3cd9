"""Spool files: a new file by temporary name + rename, a whole file by descriptor, JSON bytes."""

from __future__ import annotations

import itertools
import json
import json.encoder
import os
import secrets
from pathlib import Path
from typing import Any

from store.permissions import open_new

_TMP_TAG: list[str] = []  # "<pid>-<random>" of this process, drawn at its first file
_TMP_SEQ = itertools.count()
if hasattr(os, "register_at_fork"):  # a forked worker draws its own
    os.register_at_fork(after_in_child=_TMP_TAG.clear)


def tmp_name(name: str) -> str:
    """A temporary name beside ``name``, unique to this process: its pid and a random
    tag drawn once per process (a stale file of a dead process of the same pid differs)
    and a counter: no ``getpid`` or ``getrandom`` per file."""
    if not _TMP_TAG:
        _TMP_TAG.append(f"{os.getpid()}-{secrets.token_hex(3)}")
    return f".{name}.tmp-{_TMP_TAG[0]}-{next(_TMP_SEQ)}"


def write_new_file(
    path: Path, payload: bytes, *, sync: bool = True, mode: int | None = None
) -> None:
    """Write a new file by temporary name + rename, so a reader never sees half of it.

    ``mode``: the new file's (``store.permissions.file_mode`` of its folder, when the
    caller knows it already), else taken from the folder."""
    tmp = path.with_name(tmp_name(path.name))
    fd = open_new(tmp, os.O_WRONLY | os.O_EXCL, mode)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


# Spool files are read through a file descriptor, not a Python file object (which
# costs an fstat, a tty probe and two seeks per file), and never through a symbolic
# link: nobody makes links in a spool, so one found there was put by someone else.
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def read_whole(path: str, size_hint: int = 0) -> bytes:
    """A file's bytes in as few system calls as it takes: open, one read, close when
    ``size_hint`` is its size or more (a short read of a regular file is its end)."""
    fd = os.open(path, _READ_FLAGS)
    try:
        want = (size_hint or os.fstat(fd).st_size) + 1
        first = os.read(fd, want)
        if len(first) < want:
            return first
        parts = [first]
        while chunk := os.read(fd, 1 << 20):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=False, default=str)
# json's C encoder, made once: ``JSONEncoder.encode`` makes a new one (and its Python
# closures) per call, which was most of the cost of an event line (issue 31). The
# same output: ``, `` and ``: `` separators, non-ASCII kept, ``str`` of anything else.
# No check for circular references (these are plain values, never circular).
_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER: Any = (
    _MAKE_ENCODER(None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    if _MAKE_ENCODER is not None
    else None
)


def json_text(data: Any) -> str:
    """``data`` as compact JSON text (what ``json.dumps(ensure_ascii=False, default=str)`` gives)."""
    if _C_ENCODER is None:
        return _ENCODER.encode(data)
    if isinstance(data, str):
        return json.encoder.encode_basestring(data)
    return "".join(_C_ENCODER(data, 0))


def json_bytes(data: Any) -> bytes:
    return json_text(data).encode("utf-8")
