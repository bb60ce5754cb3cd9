"""Reading an untrusted file: a regular file only, its size checked before a byte is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mailing.importer.problems import ImportProblems

MB = 1_000_000  # sizes are decimal everywhere: 50 MB is 50,000,000 bytes
MAX_IMPORT_BYTES = 50 * MB
_CHUNK = MB


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode cannot be read as a document or attachment, or None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is not a regular file but a pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is not a regular file but a device"
    if stat.S_ISSOCK(mode):
        return "is not a regular file but a socket"
    return "is not a regular file"


def _open(path: str, *, nofollow: bool) -> tuple[int, os.stat_result]:
    """Open for reading without blocking (a pipe, a terminal) and fstat the descriptor."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if nofollow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        return fd, os.fstat(fd)
    except OSError:
        os.close(fd)
        raise


def _read_fd(fd: int, limit: int) -> bytes | None:
    """All bytes of ``fd`` in chunks, or None as soon as there are more than ``limit``."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _read_import_file(path: Path, source: str) -> bytes:
    """The bytes of the import file: a regular file of at most MAX_IMPORT_BYTES."""

    def refused(what: str) -> ImportProblems:
        return ImportProblems(source, [("file", what)])

    too_big = (
        f"is larger than {MAX_IMPORT_BYTES // MB} MB, the most one import takes; "
        "split it into smaller files"
    )
    try:
        st = os.stat(path)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    except ValueError:  # a NUL character, a name the system cannot encode
        raise refused("is not a usable file name") from None
    why = _not_regular(st.st_mode)
    if why:
        raise refused(f"{why}; import a JSON, CSV or UBL XML file saved on disk")
    if st.st_size > MAX_IMPORT_BYTES:
        raise refused(too_big.replace("is larger", f"is {_mb(st.st_size)}, larger"))
    try:
        fd, fst = _open(str(path), nofollow=False)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise refused("was replaced while it was being read; import it again")
        data = _read_fd(fd, MAX_IMPORT_BYTES)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if data is None:
        raise refused(too_big)
    return data
