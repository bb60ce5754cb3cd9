"""Spool files: a new file by temporary name + rename, a whole file by descriptor, JSON bytes."""

from __future__ import annotations

import json
import json.encoder
import os
import secrets
from pathlib import Path
from typing import Any

from store.permissions import open_new


def write_new_file(path: Path, payload: bytes, *, sync: bool = True) -> None:
    """Write a new file by temporary name + rename, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
    fd = open_new(tmp, os.O_WRONLY | os.O_EXCL)
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
