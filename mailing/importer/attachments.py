"""Attachment paths: one folder, no way out of it, regular files of a bounded size."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailing.importer.files import MB, _mb, _not_regular, _open, _read_fd
from mailing.importer.problems import ImportProblems, _Problems, _short
from mailing.importer.text import _bad_text
from store.files import MAX_FILE_BYTES

MAX_ATTACHMENT_BYTES = MAX_FILE_BYTES  # what the data folder stores (store/files.py)
MAX_PATH_CHARS = 1024
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")  # never a source of attachments


@dataclass(frozen=True)
class _Folder:
    """The one folder attachments may come from (its real path, links resolved)."""

    real: str
    described: str  # for messages: which folder this is and why


@dataclass(frozen=True)
class _AttachmentFile:
    """An attachment that passed the checks: a regular file inside the folder."""

    where: str  # documents[0].attachments[1]
    given: str  # the path as written in the file
    real: str
    dev: int
    ino: int


def _in_system_folder(real: str) -> bool:
    return any(real == top or real.startswith(top + "/") for top in SYSTEM_FOLDERS)


def _inside(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip("/") + "/")


def _attachments_folder(path: Path, given: str | Path | None, source: str) -> _Folder:
    """The folder attachment paths are relative to: ``--attachments DIR`` or the file's own."""
    if given is None:
        real = os.path.realpath(os.path.abspath(path.parent))
        return _Folder(real, f"the import file's folder {real}")
    shown = _short(str(given))
    if _bad_text(str(given)):
        raise ImportProblems(source, [("--attachments", f"{shown} is not a usable folder name")])
    real = os.path.realpath(os.path.abspath(os.path.expanduser(str(given))))
    problem = ""
    if _in_system_folder(real):
        problem = (
            f"{shown} is a system folder ({', '.join(SYSTEM_FOLDERS)}); name the folder "
            "that holds the documents' files"
        )
    else:
        try:
            st = os.stat(real)
        except FileNotFoundError:
            problem = f"the folder {shown} does not exist; name the folder that holds the files"
        except OSError as exc:
            problem = f"the folder {shown} cannot be used ({exc.strerror})"
        else:
            if not stat.S_ISDIR(st.st_mode):
                problem = f"{shown} is not a folder; name the folder that holds the files"
    if problem:
        raise ImportProblems(source, [("--attachments", problem)])
    return _Folder(real, f"the --attachments folder {real}")


def _attachment(
    spec: Any, folder: _Folder, where: str, problems: _Problems
) -> _AttachmentFile | None:
    """Check one attachment path; add a problem and return None when it is refused.

    The rules: a relative path without any '..' part, joined to the folder; all links
    resolved, the result must lie inside the folder and outside /proc, /sys and /dev;
    it must be a regular file (not a pipe, device, socket or folder) of at most
    MAX_ATTACHMENT_BYTES according to fstat of the opened descriptor (O_NOFOLLOW).
    Not one byte is read here.
    """
    if not isinstance(spec, str) or not spec.strip():
        problems.add(where, f'must be a file path like "terms.pdf" (value: {_short(spec)})')
        return None
    shown = _short(spec)
    elsewhere = "or name the folder that holds it with --attachments DIR"
    if len(spec) > MAX_PATH_CHARS or _bad_text(spec):
        problems.add(
            where,
            f"{shown} is not a usable file path (too long, or control characters in it)",
        )
        return None
    if os.path.isabs(spec) or spec.startswith("~"):
        problems.add(
            where,
            f"{shown} is an absolute path; attachment paths are relative to "
            f"{folder.described}: give the path from there, {elsewhere}",
        )
        return None
    if ".." in spec.replace("\\", "/").split("/"):
        problems.add(
            where,
            f"{shown} goes up a folder with '..'; only files in {folder.described} and "
            f"its subfolders can be attached: move the file there, {elsewhere}",
        )
        return None
    real = os.path.realpath(os.path.join(folder.real, spec))
    if _in_system_folder(real):
        problems.add(
            where,
            f"{shown} leads into a system folder ({_short(real)}); attach an ordinary "
            "file, never one from /proc, /sys or /dev",
        )
        return None
    if not _inside(real, folder.real):
        problems.add(
            where,
            f"{shown} is a link to {_short(real)}, outside {folder.described}; copy the "
            "file into the folder instead of linking to it",
        )
        return None
    try:
        st = os.lstat(real)
    except FileNotFoundError:
        problems.add(
            where, f"{shown} does not exist in {folder.described}; check the name, {elsewhere}"
        )
        return None
    except OSError as exc:
        problems.add(where, f"{shown} cannot be read ({exc.strerror}); check its permissions")
        return None
    why = _not_regular(st.st_mode)
    if why:
        problems.add(where, f"{shown} {why}; attach an ordinary file")
        return None
    try:
        fd, fst = _open(real, nofollow=True)
    except OSError as exc:
        problems.add(where, f"{shown} cannot be read ({exc.strerror}); check its permissions")
        return None
    os.close(fd)
    why = _not_regular(fst.st_mode)
    if why or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        problems.add(where, f"{shown} changed while it was checked; import again")
        return None
    if fst.st_size > MAX_ATTACHMENT_BYTES:
        problems.add(
            where,
            f"{shown} is {_mb(fst.st_size)}; an attachment can be at most "
            f"{MAX_ATTACHMENT_BYTES // MB} MB: attach a smaller file or share it another way",
        )
        return None
    return _AttachmentFile(where, spec, real, fst.st_dev, fst.st_ino)


def _read_attachment(src: _AttachmentFile, source: str) -> bytes:
    """The bytes of a checked attachment, read in chunks; it must still be the same file."""

    def refused(what: str) -> ImportProblems:
        return ImportProblems(source, [(src.where, f"{_short(src.given)} {what}")])

    try:
        fd, st = _open(src.real, nofollow=True)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    try:
        if (
            not stat.S_ISREG(st.st_mode)
            or (st.st_dev, st.st_ino) != (src.dev, src.ino)
            or st.st_size > MAX_ATTACHMENT_BYTES
        ):
            raise refused("changed while it was imported; import again")
        data = _read_fd(fd, MAX_ATTACHMENT_BYTES)
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if data is None:
        raise refused("grew while it was imported; import again")
    return data
