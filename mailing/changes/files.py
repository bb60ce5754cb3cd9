"""The doors for files: writing what the user asked for (an .eml, a PDF, an export),
the configuration as JSON, and putting back the last good copy of a database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.records import StoredFileRef
    from store.store import Store


def write_user_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write a file the user named, whole or not at all; a sentence when it cannot be.

    Only a regular file (new or replaced): a device, a folder or a pipe of that name is
    refused, as the write replaces the file by renaming (it would put a regular file in
    the place of ``/dev/full``)."""
    import os
    import stat

    from store.db import atomic_write_bytes
    from store.errors import MailroomError

    target = Path(path).expanduser()
    shown = str(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        st = None
        if exc.errno not in (2, 20):  # ENOENT, ENOTDIR: said below by the write
            raise MailroomError(
                f"The file {shown} cannot be written ({exc.strerror}); nothing was written.",
                field="file",
                value=shown,
                fix="choose a file in a folder you may write to.",
            ) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise MailroomError(
            f"{shown} is {kind}; nothing was written.",
            field="file",
            value=shown,
            fix="give the name of a new file, or of a file to replace.",
        )
    try:
        atomic_write_bytes(target, data, mode=mode)
    except OSError as exc:
        folder = target.parent
        why = "does not exist" if not folder.is_dir() else f"cannot be written ({exc.strerror})"
        raise MailroomError(
            f"The file {shown} cannot be written: the folder {folder} {why}; nothing was written.",
            field="file",
            value=shown,
            fix="choose a file in a folder that exists and that you may write to.",
        ) from None


def export_config_json(store: Store) -> str:
    from store.exchange import export_json

    return export_json(store)


def restore_database_copy(home: Path, documents: bool) -> tuple[Path, str]:
    """Replace a damaged database with its last good copy; return (database, copy used)."""
    from store.db import Database
    from store.documents import Documents
    from store.store import CONFIG_FILE, ensure_home

    home = ensure_home(home)
    from mailing.changes.audit import append
    from store.store import default_user

    db = Documents(home) if documents else Database(home / CONFIG_FILE)
    chosen = db.restore_copy()
    append(home, default_user(), "restore database copy", db.path.name, None, {"copy": chosen})
    return db.path, chosen


def copy_in_file(store: Store, path: str | Path, what: str = "file") -> StoredFileRef:
    """Copy a file the user points at (a letterhead, a template's attachment or image)
    into the data folder. Only a regular file outside /proc, /sys and /dev; its size is
    checked before a byte is read."""
    import os
    import stat as st_mod

    from mailing.importer.attachments import _in_system_folder
    from mailing.importer.files import _not_regular, _open, _read_fd
    from store.errors import MailroomError
    from store.files import MAX_FILE_BYTES

    shown = str(path)

    def refused(why: str, fix: str) -> MailroomError:
        return MailroomError(f"The {what} {shown!r} {why}.", field=what, value=shown, fix=fix)

    try:
        p = Path(path).expanduser()
        real = os.path.realpath(p)
        if _in_system_folder(real):
            raise refused(
                "is in a system folder (/proc, /sys, /dev)", "choose a file saved on disk."
            )
        fd, fst = _open(real, nofollow=False)
    except MailroomError:
        raise
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not a usable file name"
        raise refused(f"cannot be read ({reason})", "check the path and its permissions.") from None
    try:
        why = _not_regular(fst.st_mode)
        if why:
            raise refused(why, "choose a file saved on disk.")
        limit_mb = MAX_FILE_BYTES // 1_000_000
        if st_mod.S_ISREG(fst.st_mode) and fst.st_size > MAX_FILE_BYTES:
            raise refused(
                f"is {fst.st_size / 1_000_000:,.1f} MB; at most {limit_mb} MB can be stored",
                "use a smaller file.",
            )
        data = _read_fd(fd, MAX_FILE_BYTES)
    finally:
        os.close(fd)
    if data is None:
        raise refused(f"grew past {MAX_FILE_BYTES // 1_000_000} MB while it was read", "")
    return store.files.add_bytes(p.name, data)


def read_stored_file(store: Store, ref: StoredFileRef) -> bytes:
    """The bytes of a file stored in the data folder (a letterhead to show)."""
    return store.files.read(ref)
