"""Writing a backup archive of the data folder, with its manifest last."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import secrets
import socket
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from mailing.backup.errors import BackupError
from mailing.backup.layout import (
    _CHUNK,
    AUDIT_FILES,
    DATABASES,
    FORMAT,
    MANIFEST,
    SKIP_IN_SPOOL,
    SUFFIX,
    TOP_DIRS,
    TOP_FILES,
    VERSION,
)
from store.permissions import make_dirs, open_new
from store.spool import Spool
from store.store import CONFIG_FILE, Store


class BackupResult(BaseModel):
    """A backup made: where, how large, its checksum, and when.

    The fields in this order are the JSON of ``mailroom backup create --json``.
    """

    model_config = ConfigDict(extra="forbid")

    path: Path
    size: int
    sha256: str
    members: int
    uncompressed: int
    created: str

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _now_stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def default_name() -> str:
    return f"mailroom-backup-{_now_stamp()}{SUFFIX}"


def _walk(home: Path, top: str) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every regular file under ``home/top``, sorted, no dot-names."""
    root = home / top
    if not root.is_dir() or root.is_symlink():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(home).as_posix()
        for name in sorted(filenames):
            if name.startswith("."):
                continue  # locks and temporaries
            if top == "spool" and rel_dir == "spool" and name in SKIP_IN_SPOOL:
                continue
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield f"{rel_dir}/{name}", path


def _read_database(store: Store, name: str) -> bytes | None:
    if name != CONFIG_FILE:  # the documents of every month, as one documents.json
        data = store.documents.export_tinydb()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    db = store.config_db
    with db.locked():  # a consistent copy: no writer can be half-way
        try:
            return db.path.read_bytes()
        except FileNotFoundError:
            return None


def _read_audit(home: Path) -> dict[str, bytes]:
    """The audit log and its head as one consistent pair (no entry is half appended)."""
    from mailing.changes.audit import lock

    found: dict[str, bytes] = {}
    if not (home / AUDIT_FILES[0]).is_file():
        return found
    with lock(home):
        for name in AUDIT_FILES:
            with contextlib.suppress(FileNotFoundError):
                found[name] = (home / name).read_bytes()
    return found


def _add(tar: tarfile.TarFile, name: str, payload: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = int(mtime)
    info.mode = 0o600
    info.type = tarfile.REGTYPE
    tar.addfile(info, io.BytesIO(payload))


def write_backup(store: Store, dest: Path, *, user: str | None = None) -> BackupResult:
    """Write a backup archive of ``store``'s data folder to ``dest``.

    While it is made no message can be sent from this data folder (the one-sender
    lock is held), so the spool does not change under it.
    """
    home = store.home
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and dest.is_dir():
        dest = dest / default_name()
    try:
        make_dirs(dest.parent)
    except OSError as exc:
        raise BackupError(
            f"The folder {dest.parent} for the backup cannot be created ({exc.strerror}).",
            field="file",
            value=str(dest),
            fix="choose another file name.",
        ) from None
    for top in TOP_DIRS:
        with contextlib.suppress(ValueError):
            dest.relative_to(home / top)
            raise BackupError(
                f"The backup cannot be written inside the data folder's {top}/ folder, "
                "which it backs up.",
                field="file",
                value=str(dest),
                fix=f"choose a file outside {home / top}.",
            )
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(3)}")
    members: dict[str, dict[str, Any]] = {}
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    spool = Spool(home)
    try:
        with (
            spool.sender_lock(user or store.user),
            os.fdopen(open_new(tmp, os.O_WRONLY | os.O_EXCL), "wb") as raw,
        ):
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                now = time.time()
                audit = _read_audit(home)
                for name in TOP_FILES:
                    if name in DATABASES:
                        payload = _read_database(store, name)
                    elif name in AUDIT_FILES:
                        payload = audit.get(name)
                    else:
                        path = home / name
                        payload = path.read_bytes() if path.is_file() else None
                    if payload is None:
                        continue
                    _add(tar, name, payload, now)
                    members[name] = _entry(payload)
                for top in TOP_DIRS:
                    for name, path in _walk(home, top):
                        try:
                            payload = path.read_bytes()
                            mtime = path.stat().st_mtime
                        except FileNotFoundError:
                            continue  # removed meanwhile (a temporary we did not recognise)
                        _add(tar, name, payload, mtime)
                        members[name] = _entry(payload)
                manifest = {
                    "format": FORMAT,
                    "version": VERSION,
                    "created": created,
                    "created_by": user or store.user,
                    "host": socket.gethostname(),
                    "members": members,
                }
                _add(tar, MANIFEST, _json(manifest), now)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise BackupError(
            f"The backup {dest} could not be written ({exc.strerror or exc}).",
            field="file",
            value=str(dest),
            fix="check free space and permissions of that folder.",
        ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    size = dest.stat().st_size
    return BackupResult(
        path=dest,
        size=size,
        sha256=_file_sha256(dest),
        members=len(members),
        uncompressed=sum(int(m["size"]) for m in members.values()),
        created=created,
    )


def _entry(payload: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload)}


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
