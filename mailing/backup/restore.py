"""Restoring a verified backup: staging, the swap into place, and pausing sending."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mailing.backup.errors import RestoreError
from mailing.backup.layout import AUDIT_FILES, SUFFIX, TOP_DIRS, TOP_FILES
from mailing.backup.mail import _archive_from_eml, _looks_like_mail
from mailing.backup.unpack import RestoreLimits, _unpack, _Unpacked
from mailing.backup.write import _now_stamp, write_backup
from store.db import Database, fsync_dir
from store.documents_files import FOLDER as DOCUMENTS_FOLDER
from store.permissions import make_dir, make_dirs
from store.spool import Spool
from store.store import CONFIG_FILE, Store


class RestoreResult(BaseModel):
    """A restore done: from what, how much, where the data it replaced was kept.

    The fields in this order are the JSON of ``mailroom restore --json``.
    """

    model_config = ConfigDict(extra="forbid")

    source: str
    members: int
    records: int
    previous_backup: Path | None
    created: str  # when the restored backup was made
    # A restore always leaves sending paused (``mailroom sending resume`` lifts it).
    sending_paused: Literal[True] = True
    warnings: list[str] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def verify_backup(source: Path, home: Path, limits: RestoreLimits | None = None) -> dict[str, Any]:
    """Check an archive (or the .eml carrying one) completely; change nothing.

    Returns its manifest summary; raises RestoreError naming the problem.
    """
    home = Path(home)
    make_dirs(home)
    with _staged(source, home, limits or RestoreLimits()) as unpacked:
        m = unpacked.manifest
        return {
            "source": str(source),
            "created": m.get("created", ""),
            "created_by": m.get("created_by", ""),
            "host": m.get("host", ""),
            "members": unpacked.members,
            "records": unpacked.records,
            "warnings": unpacked.warnings,
        }


@contextlib.contextmanager
def _staged(source: Path, home: Path, limits: RestoreLimits) -> Iterator[_Unpacked]:
    """Unpack and verify into a temporary folder inside ``home``; removed afterwards."""
    src = str(source)
    try:
        size = os.path.getsize(source)
        with open(source, "rb"):
            pass
    except OSError as exc:
        raise RestoreError(
            f"The file {src} cannot be read ({exc.strerror}).",
            field="file",
            value=src,
            fix="check the path and its permissions.",
        ) from None
    stage = home / f".restore-{os.getpid()}-{secrets.token_hex(4)}"
    make_dirs(stage)
    try:
        with open(source, "rb") as fh:
            head = fh.read(4096)
            fh.seek(0)
            if head[:2] == b"\x1f\x8b":
                yield _checked(src, _unpack(src, fh, size, stage / "data", limits))
                return
            if not _looks_like_mail(head):
                raise RestoreError(
                    f"{src} is not a Mailroom backup (not a gzip file). Nothing was restored.",
                    field="file",
                    value=src,
                    fix="give the .tar.gz made by `mailroom backup create`, or the .eml of the "
                    "message that carried one.",
                )
            raw = fh.read()
        payload = _archive_from_eml(src, raw)
        yield _checked(src, _unpack(src, io.BytesIO(payload), len(payload), stage / "data", limits))
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _checked(src: str, unpacked: _Unpacked) -> _Unpacked:
    """The backup's audit log must fit together (its hash chain): else nothing is restored."""
    from mailing.changes.audit import FILE_NAME, verify

    if (unpacked.folder / FILE_NAME).exists():
        verdict = verify(unpacked.folder)
        if not verdict.ok:
            raise RestoreError(
                f"The audit log in the backup {src} does not fit together: "
                f"{verdict.sentence(Path(FILE_NAME))}. Nothing was restored.",
                field="file",
                value=src,
                fix="restore an older backup whose audit log is whole (`mailroom backup "
                "verify FILE` checks one), and find out who changed this one.",
            )
    return unpacked


def restore_backup(
    store: Store,
    source: Path,
    *,
    user: str | None = None,
    limits: RestoreLimits | None = None,
) -> RestoreResult:
    """Replace the data folder's contents with those of a verified backup.

    Everything is checked first; the current data is kept in
    ``backups/before-restore-<time>.tar.gz``; afterwards sending is paused.
    """
    home = store.home
    who = user or store.user
    spool = Spool(home)
    with _staged(source, home, limits or RestoreLimits()) as unpacked:
        new = unpacked.folder
        make_dirs(new)
        previous: Path | None = None
        if any((home / n).exists() for n in (*TOP_FILES, *TOP_DIRS)):
            previous = home / "backups" / f"before-restore-{_now_stamp()}{SUFFIX}"
            if previous.exists():
                previous = previous.with_name(
                    f"before-restore-{_now_stamp()}-{secrets.token_hex(2)}{SUFFIX}"
                )
            write_backup(store, previous, user=who)
        # Paused before it is in place: no sender can pick up a restored queue.
        reason = (
            f"restored from backup {Path(source).name} (made "
            f"{unpacked.manifest.get('created', '?')}) by {who} on "
            f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; check the queues, then resume"
        )
        _pause(Database(new / CONFIG_FILE), reason)
        old = new.parent / "old"
        make_dir(old)
        with spool.sender_lock(who), store.config_db.locked(), store.documents.locked():
            _swap(home, new, old)
        store.config_db.forget_cache()
    from mailing.changes.audit import append

    append(
        home,
        who,
        "restore backup",
        Path(source).name,
        None,
        {"created": str(unpacked.manifest.get("created", "")), "records": unpacked.records},
    )
    return RestoreResult(
        source=str(source),
        members=unpacked.members,
        records=unpacked.records,
        previous_backup=previous,
        created=str(unpacked.manifest.get("created", "")),
        warnings=unpacked.warnings,
    )


def _swap(home: Path, new: Path, old: Path) -> None:
    """Move the current entries to ``old`` and the new ones in; undo on failure."""
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        # The documents by month go too: the backup's documents.json takes their place
        # and is moved into that layout when the data folder is next opened.
        for name in (*TOP_DIRS, *TOP_FILES, DOCUMENTS_FOLDER):
            if (home / name).exists() or (home / name).is_symlink():
                os.rename(home / name, old / name)
                moved_out.append(name)
        # The databases last, each by one atomic rename. The data folder's own audit log
        # goes on (the restore is its next entry); the backup's is taken only when the
        # folder has none (a new server).
        keep_log = AUDIT_FILES[0] in moved_out  # the log and its head go together
        for name in (*TOP_DIRS, *TOP_FILES):
            if name in AUDIT_FILES and keep_log:
                if name in moved_out:
                    os.rename(old / name, home / name)
                    moved_out.remove(name)
                continue
            if (new / name).exists():
                os.rename(new / name, home / name)
                moved_in.append(name)
        fsync_dir(home)
    except OSError as exc:
        for name in moved_in:
            with contextlib.suppress(OSError):
                os.rename(home / name, new / name)
        for name in moved_out:
            with contextlib.suppress(OSError):
                os.rename(old / name, home / name)
        raise RestoreError(
            f"Putting the restored data in place failed ({exc.strerror or exc}); the previous "
            "data was put back.",
            field="home",
            value=str(home),
            fix="check free space and permissions of the data folder, then try again.",
        ) from None


def _pause(db: Database, reason: str) -> None:
    from store.store import Tx

    with db.transaction() as tinydb:
        tx = Tx(tinydb)
        system = tx.system()
        system.sending_paused = True
        system.paused_reason = reason
        tx.put(system)


def resume_sending(store: Store) -> None:
    """Lift the pause a restore put on sending (``mailroom sending resume`` does the same)."""
    with store.transaction() as tx:
        system = tx.system()
        was = {"sending_paused": system.sending_paused, "paused_reason": system.paused_reason}
        system.sending_paused = False
        system.paused_reason = ""
        tx.put(system)
    from mailing.changes.audit import append

    append(store.home, store.user, "resume sending", "sending", was, {"sending_paused": False})
