"""Backups of the data folder, and restoring one (SPEC §8).

A backup is one ``.tar.gz`` archive of the data folder with a ``MANIFEST.json``
as its last member, listing the SHA-256 and size of every other member.

What goes in (see docs/backup.md): the configuration database ``mailroom.json``,
the document database ``documents.json``, the key map ``keymap.toml``, the stored
files ``files/``, the spool ``spool/`` and the archive of sent mail ``archive/``.
What stays out: ``backups/`` (copies of the databases, and earlier archives),
``outbox/`` (the trial transport's delivered mail), lock and temporary files
(every name starting with a dot), and anything else Mailroom does not own.
Secrets live in the OS keyring and are never read.

Restoring verifies everything before it changes anything: each member's name
(no ``..``, no absolute path, only regular files and folders: no links, no
devices), its size and SHA-256 against the manifest, that nothing unlisted is
present and nothing listed is missing, the total size and compression ratio
while decompressing (not trusting any header), that the databases parse and
every record validates, and that every stored file has the content its name
says. Only then is the current data kept as a backup
(``backups/before-restore-<time>.tar.gz``), the verified copy swapped into place,
and sending paused so that a restored queue is not sent a second time by accident.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import gzip
import hashlib
import io
import json
import os
import posixpath
import re
import secrets
import shutil
import socket
import tarfile
import time
import tomllib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

from mailing.names import human_size
from store.db import Database, fsync_dir
from store.errors import MailroomError, RecordError
from store.records import (
    RECORD_BY_TABLE,
    Document,
    Record,
    StoredFileRef,
    Template,
)
from store.spool import BATCH_FILE, Spool, parse_batch_info
from store.store import CONFIG_FILE, DOCUMENTS_FILE, Store

FORMAT = "mailroom-backup"
VERSION = 1
MANIFEST = "MANIFEST.json"
SUFFIX = ".tar.gz"
# Top-level entries of the data folder that a backup holds.
DATABASES: tuple[str, ...] = (CONFIG_FILE, DOCUMENTS_FILE)
KEYMAP_FILE = "keymap.toml"
TOP_FILES: tuple[str, ...] = (*DATABASES, KEYMAP_FILE)
TOP_DIRS: tuple[str, ...] = ("files", "spool", "archive")
# Runtime state inside the spool that must not travel.
SKIP_IN_SPOOL: frozenset[str] = frozenset({"sender.json"})

# Sizes are in decimal units throughout (1 MB = 1,000,000 bytes), as `--max-size MB`
# takes them and human_size shows them: the limit of 25 MB is shown as "25 MB".
MB = 1_000_000
DEFAULT_MAIL_LIMIT = 25 * MB
_CHUNK = 1024 * 1024
# A member's name: each part at most what a file system takes, the whole path bounded.
MAX_NAME_PART_BYTES = 255
MAX_NAME_CHARS = 1024
# A refusal lists at most this many problems; the rest are counted.
MAX_LISTED = 50


class BackupError(MailroomError):
    """A backup cannot be made or sent."""


class RestoreError(MailroomError):
    """An archive cannot be restored; nothing was changed."""


@dataclass(frozen=True)
class RestoreLimits:
    """Limits against a decompression bomb, checked on the bytes actually decompressed."""

    max_total_bytes: int = 4000 * MB
    # Decompressed bytes may be at most this many times the compressed archive ...
    max_ratio: int = 100
    # ... once past this floor (a tiny archive of small JSON compresses well).
    ratio_floor_bytes: int = 16 * MB
    max_members: int = 500_000
    max_manifest_bytes: int = 64 * MB


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    members: int
    uncompressed: int
    created: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "members": self.members,
            "uncompressed": self.uncompressed,
            "created": self.created,
        }


@dataclass
class RestoreResult:
    source: str
    members: int
    records: int
    previous_backup: Path | None
    created: str  # when the restored backup was made
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "members": self.members,
            "records": self.records,
            "previous_backup": str(self.previous_backup) if self.previous_backup else None,
            "created": self.created,
            "sending_paused": True,
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- creating


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
    db = store.config_db if name == CONFIG_FILE else store.documents_db
    with db._locked():  # a consistent copy: no writer can be half-way
        try:
            return db.path.read_bytes()
        except FileNotFoundError:
            return None


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
        dest.parent.mkdir(parents=True, exist_ok=True)
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
        with spool.sender_lock(user or store.user), open(tmp, "xb") as raw:
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                now = time.time()
                for name in TOP_FILES:
                    if name in DATABASES:
                        payload = _read_database(store, name)
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


def check_mail_size(size: int, limit: int, what: str = "The backup") -> None:
    """Refuse an attachment that would make the message larger than ``limit`` bytes."""
    # Base64 makes an attachment 4/3 as large, plus line ends.
    encoded = (size + 2) // 3 * 4 * 78 // 76 + 4096
    if limit and encoded > limit:
        raise BackupError(
            f"{what} is {human_size(size)}, about {human_size(encoded)} once attached; "
            f"the limit for mail is {human_size(limit)}.",
            field="size",
            value=size,
            fix="raise the limit with --max-size MB if the mail server accepts larger "
            "messages, or make the backup with `mailroom backup create FILE` and copy it "
            "another way.",
        )


# ---------------------------------------------------------------- reading an archive


class _Counting(io.RawIOBase):
    """Decompresses a gzip stream, counting the bytes that really come out."""

    def __init__(
        self, source: str, fh: IO[bytes], compressed_size: int, limits: RestoreLimits
    ) -> None:
        self.source = source
        self._gz = gzip.GzipFile(fileobj=fh, mode="rb")
        self.total = 0
        self.limit = min(
            limits.max_total_bytes,
            max(limits.ratio_floor_bytes, compressed_size * limits.max_ratio),
        )
        self.limits = limits
        self.compressed_size = compressed_size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._gz.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise _refuse(
                self.source, f"the archive is damaged: it does not decompress ({exc})."
            ) from None
        n = len(data)
        self.total += n
        if self.total > self.limit:
            raise _refuse(
                self.source,
                f"it decompresses to more than {human_size(self.limit)} "
                f"(from {human_size(self.compressed_size)} compressed): this looks like a "
                "decompression bomb, and it was not unpacked.",
                fix="use a backup made by `mailroom backup create`; for a genuinely "
                "large backup, raise the limit with --max-size MB.",
            )
        buffer[:n] = data
        return n


def _refuse(
    source: str, message: str, fix: str = "use another copy of the backup."
) -> RestoreError:
    return RestoreError(
        f"{source}: {message} Nothing was restored.", field="file", value=source, fix=fix
    )


def _shown(name: str) -> str:
    """A member's name as a message shows it: quoted, and shortened when long."""
    if len(name) > 80:
        name = f"{name[:60]}…{name[-12:]}"
    return repr(name)


def _check_name(source: str, member: tarfile.TarInfo) -> str:
    """The member's name if it is a safe, relative path inside the backup's folders."""
    name = member.name
    shown = _shown(name)
    if not name or "\x00" in name or "\\" in name:
        raise _refuse(source, f"the member {shown} has an invalid name.")
    longest = max(len(p.encode("utf-8", "surrogateescape")) for p in name.split("/"))
    if len(name) > MAX_NAME_CHARS or longest > MAX_NAME_PART_BYTES:
        raise _refuse(
            source,
            f"the member {shown} has a name of {len(name)} characters, too long for a "
            "Mailroom data folder (no backup made by Mailroom has one).",
        )
    if name.startswith("/") or posixpath.isabs(name) or (len(name) > 1 and name[1] == ":"):
        raise _refuse(
            source, f"the member {shown} has an absolute path, which would escape the folder."
        )
    parts = name.split("/")
    if ".." in parts:
        raise _refuse(source, f"the member {shown} contains '..', which would escape the folder.")
    norm = posixpath.normpath(name)
    if norm != name.rstrip("/") or norm in (".", ""):
        raise _refuse(source, f"the member {shown} has a path that is not in normal form.")
    if member.issym() or member.islnk():
        raise _refuse(
            source,
            f"the member {shown} is a link (to {_shown(member.linkname)}); links are refused.",
        )
    if member.isdir():
        raise _refuse(source, f"the member {shown} is a folder entry; backups list files only.")
    if not member.isreg():
        raise _refuse(source, f"the member {shown} is a device, pipe or other special file.")
    top = norm.split("/")[0]
    if norm != MANIFEST and not (
        (norm in TOP_FILES and "/" not in norm) or (top in TOP_DIRS and "/" in norm)
    ):
        raise _refuse(source, f"the member {shown} is not a part of a Mailroom data folder.")
    if any(p.startswith(".") for p in parts):
        raise _refuse(source, f"the member {shown} is a hidden file, which backups never hold.")
    return norm


@dataclass
class _Unpacked:
    folder: Path
    manifest: dict[str, Any]
    members: int
    records: int
    warnings: list[str]


def _unpack(source: str, fh: IO[bytes], size: int, into: Path, limits: RestoreLimits) -> _Unpacked:
    """Stream the archive into ``into`` and verify everything; raise RestoreError."""
    counting = _Counting(source, fh, size, limits)
    seen: dict[str, dict[str, Any]] = {}
    manifest_raw: bytes | None = None
    try:
        tar = tarfile.open(fileobj=io.BufferedReader(counting, _CHUNK), mode="r|")
    except tarfile.TarError as exc:
        raise _refuse(source, f"it is not a Mailroom backup archive ({exc}).") from None
    with tar:
        try:
            for member in tar:
                if len(seen) >= limits.max_members:
                    raise _refuse(source, f"it has more than {limits.max_members} members.")
                name = _check_name(source, member)
                if manifest_raw is not None:
                    raise _refuse(source, f"the member {_shown(name)} comes after the manifest.")
                if name in seen:
                    raise _refuse(source, f"the member {_shown(name)} appears twice.")
                stream = tar.extractfile(member)
                if stream is None:  # pragma: no cover - regular files always have one
                    raise _refuse(source, f"the member {_shown(name)} cannot be read.")
                if name == MANIFEST:
                    manifest_raw = stream.read(limits.max_manifest_bytes + 1)
                    if len(manifest_raw) > limits.max_manifest_bytes:
                        raise _refuse(source, "its manifest is too large.")
                    continue
                seen[name] = _unpack_member(source, name, stream, into / name)
        except tarfile.TarError as exc:
            raise _refuse(source, f"the archive is damaged ({exc}).") from None
        except EOFError:
            raise _refuse(source, "the archive is cut short.") from None
    if manifest_raw is None:
        raise _refuse(source, f"it holds no {MANIFEST}, so it is not a Mailroom backup.")
    manifest = _parse_manifest(source, manifest_raw)
    listed: dict[str, Any] = manifest["members"]
    for name in seen:
        if name not in listed:
            raise _refuse(source, f"the member {_shown(name)} is not listed in the manifest.")
    for name, entry in listed.items():
        if name not in seen:
            raise _refuse(source, f"the member {_shown(name)} listed in the manifest is missing.")
        got = seen[name]
        if got["size"] != entry.get("size") or got["sha256"] != entry.get("sha256"):
            raise _refuse(
                source,
                f"the member {_shown(name)} does not match its checksum in the manifest "
                f"(SHA-256 {got['sha256'][:12]}…, expected {str(entry.get('sha256'))[:12]}…): "
                "it was changed or damaged.",
            )
    records, warnings = _verify_content(source, into, seen)
    return _Unpacked(into, manifest, len(seen), records, warnings)


def _unpack_member(source: str, name: str, stream: IO[bytes], target: Path) -> dict[str, Any]:
    """Write one member into the staging folder; its SHA-256 and size."""
    h = hashlib.sha256()
    n = 0
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(target, "xb") as out:
            while chunk := stream.read(_CHUNK):
                h.update(chunk)
                n += len(chunk)
                out.write(chunk)
    except FileExistsError:
        raise _refuse(
            source, f"the member {_shown(name)} clashes with a folder of the same name."
        ) from None
    except OSError as exc:
        raise _refuse(
            source,
            f"the member {_shown(name)} could not be unpacked ({exc.strerror or exc}).",
            fix="check the free space of the data folder's disk, or use another copy "
            "of the backup.",
        ) from None
    return {"sha256": h.hexdigest(), "size": n}


def _parse_manifest(source: str, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _refuse(source, f"its manifest is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(source, "its manifest is not that of a Mailroom backup.")
    if manifest.get("version") != VERSION:
        raise _refuse(
            source,
            f"it is backup format version {manifest.get('version')!r}; this Mailroom reads "
            f"version {VERSION}.",
            fix="restore it with the Mailroom version that made it.",
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(isinstance(v, dict) for v in members.values()):
        raise _refuse(source, "its manifest has no valid member list.")
    return manifest


# What checks the key map of a backup: the UI registers its own (tui.keymap, which knows
# the binding ids; mailing never imports the UI); without one, the file must be text
# and TOML that gives every binding a string of keys.
KeymapCheck = Callable[[bytes], list[str]]
_keymap_check: KeymapCheck | None = None


def register_keymap_check(check: KeymapCheck) -> None:
    """Let restore check ``keymap.toml`` as the application will read it."""
    global _keymap_check
    _keymap_check = check


def _basic_keymap_problems(raw: bytes) -> list[str]:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return ["it is not UTF-8 text"]
    except tomllib.TOMLDecodeError as exc:
        return [f"it is not valid TOML ({exc})"]
    if set(data) == {"keys"} and isinstance(data["keys"], dict):
        data = data["keys"]
    return [
        f"it gives {binding!r} the value {keys!r}, not keys"
        for binding, keys in data.items()
        if not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]
    ]


def _keymap_problems(raw: bytes) -> list[str]:
    check = _keymap_check or _basic_keymap_problems
    fix = 'Fix: correct it (one line per binding, e.g. "record.save" = "ctrl+s"), or remove it.'
    return [f"{KEYMAP_FILE}: {p.rstrip('.')}. {fix}" for p in check(raw)]


def _file_refs(record: Record) -> list[StoredFileRef]:
    """The stored files a record names (letterheads are checked by the rules themselves)."""
    if isinstance(record, Template):
        return record.attachments + record.images
    return []


def _verify_content(
    source: str, folder: Path, seen: dict[str, dict[str, Any]]
) -> tuple[int, list[str]]:
    """Everything that goes in passes the same checks as `mailroom config import`.

    Stored files match their names; the databases parse and every record validates;
    the configuration passes every rule (mailing.changes); the key map can be read
    and every batch's batch.json is usable. Every problem is listed at once.
    """
    from mailing.changes import check_configuration

    for name, entry in seen.items():
        if name.startswith("files/") and name.count("/") == 1:
            if entry["sha256"] != name.split("/", 1)[1]:
                raise _refuse(
                    source,
                    f"the stored file {_shown(name)} does not have the content its name says.",
                )
    records = 0
    warnings: list[str] = []
    problems: list[str] = []
    config: list[Record] = []
    positions: dict[int, str] = {}
    for name in DATABASES:
        path = folder / name
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_bytes())
        except (UnicodeDecodeError, ValueError) as exc:
            raise _refuse(source, f"the database {name} in it is damaged ({exc}).") from None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise _refuse(source, f"the database {name} in it is not a Mailroom database.")
        for table, docs in data.items():
            cls = RECORD_BY_TABLE.get(table)
            if cls is None:
                if docs:
                    warnings.append(f"{name}: table {table!r} is not known and was kept as it is.")
                continue
            if (cls is Document) != (name == DOCUMENTS_FILE):
                raise _refuse(
                    source,
                    f"the database {name} holds the table {table!r}, which belongs elsewhere.",
                )
            keys: dict[str, str] = {}
            for doc_id, doc in docs.items():
                records += 1
                where = f"{name}, {table} entry {doc_id}"
                record = _check_record(where, cls, doc, problems)
                if record is None or cls is Document:
                    continue
                if record.key in keys:
                    problems.append(
                        f"{where}: {cls.key_field} {record.key!r} is there twice (also "
                        f"{table} entry {keys[record.key]}). Fix: use another backup."
                    )
                    continue
                keys[record.key] = str(doc_id)
                positions[len(config)] = where
                config.append(record)
                for ref in _file_refs(record):
                    if f"files/{ref.sha256}" not in seen:
                        problems.append(
                            f"{where}: the file {ref.name!r} ({ref.sha256[:12]}…) is not in "
                            "the backup. Fix: use another backup."
                        )

    def read(ref: StoredFileRef) -> bytes:
        return (folder / "files" / ref.sha256).read_bytes()

    problems += [str(p) for p in check_configuration(config, positions, read)]
    if KEYMAP_FILE in seen:
        problems += _keymap_problems((folder / KEYMAP_FILE).read_bytes())
    for name in seen:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "spool" and parts[2] == BATCH_FILE:
            info, reason = parse_batch_info((folder / name).read_bytes())
            if info is None:
                problems.append(
                    f"{name}: the batch {parts[1]} is damaged: {reason}. Fix: use another "
                    f"backup, or move the folder spool/{parts[1]} away where the backup was "
                    "made and make a new one."
                )
    if problems:
        n = len(problems)
        listed = [f"  - {p}" for p in problems[:MAX_LISTED]]
        if n > MAX_LISTED:
            listed.append(f"  … and {n - MAX_LISTED} more.")
        raise RestoreError(
            f"{source}: the backup has {n} problem{'s' if n != 1 else ''} (the checks of "
            "`mailroom config import`, the key map and the batches). Nothing was restored. "
            "Correct them where the backup was made and make a new backup, or use another "
            "backup.\n" + "\n".join(listed),
            field="file",
            value=source,
        )
    return records, warnings


def _check_record(where: str, cls: type[Record], doc: Any, problems: list[str]) -> Record | None:
    """The record stored at ``where``, or None with its problems added to ``problems``."""
    if not isinstance(doc, dict):
        problems.append(f"{where}: the database is damaged: this entry is not a record.")
        return None
    data = {k: v for k, v in doc.items() if k != "_key"}
    try:
        record = cls.parse(data, where)
    except RecordError as exc:
        for field_name, value, msg in exc.problems:
            text = f"{where}.{field_name}: the record does not validate: {msg}"
            if value not in (None, "") and not isinstance(value, dict):
                text += f" (value: {_short_value(value)})"
            problems.append(text)
        return None
    if "_key" in doc and doc["_key"] != record.key:
        problems.append(
            f"{where}: the database is damaged: the entry has key {doc['_key']!r}, "
            f"not {record.key!r}."
        )
        return None
    return record


def _short_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- e-mail carrier


# The first line of a saved e-mail: a header field ("Received: ...") or an mbox "From ".
_MAIL_START = re.compile(rb"^(From |[!-9;-~]+:)")


def _looks_like_mail(head: bytes) -> bool:
    return bool(_MAIL_START.match(head.lstrip(b"\r\n")))


def _archive_from_eml(source: str, raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    found: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        ctype = part.get_content_type()
        if not (
            filename.endswith((SUFFIX, ".tgz"))
            or ctype in ("application/gzip", "application/x-gzip", "application/x-tar")
        ):
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload[:2] == b"\x1f\x8b":
            found.append(payload)
    if not found:
        raise RestoreError(
            f"{source}: the e-mail carries no backup archive ({SUFFIX} attachment). "
            "Nothing was restored.",
            field="file",
            value=source,
            fix="give the .eml of a message sent by `mailroom backup send`, or the archive itself.",
        )
    if len(found) > 1:
        raise RestoreError(
            f"{source}: the e-mail carries {len(found)} backup archives; it is not clear which "
            "to restore. Nothing was restored.",
            field="file",
            value=source,
            fix="save the attachment you mean and restore that file.",
        )
    return found[0]


# ---------------------------------------------------------------- restoring


def verify_backup(source: Path, home: Path, limits: RestoreLimits | None = None) -> dict[str, Any]:
    """Check an archive (or the .eml carrying one) completely; change nothing.

    Returns its manifest summary; raises RestoreError naming the problem.
    """
    home = Path(home)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    stage.mkdir(mode=0o700)
    try:
        with open(source, "rb") as fh:
            head = fh.read(4096)
            fh.seek(0)
            if head[:2] == b"\x1f\x8b":
                yield _unpack(src, fh, size, stage / "data", limits)
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
        yield _unpack(src, io.BytesIO(payload), len(payload), stage / "data", limits)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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
        new.mkdir(exist_ok=True)
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
        old.mkdir()
        with spool.sender_lock(who), store.config_db._locked(), store.documents_db._locked():
            _swap(home, new, old)
        store.config_db._cache = None
        store.documents_db._cache = None
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
        for name in (*TOP_DIRS, *TOP_FILES):
            if (home / name).exists() or (home / name).is_symlink():
                os.rename(home / name, old / name)
                moved_out.append(name)
        # The databases last, each by one atomic rename.
        for name in (*TOP_DIRS, *TOP_FILES):
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
        system.sending_paused = False
        system.paused_reason = ""
        tx.put(system)


# ---------------------------------------------------------------- sending


@dataclass
class BackupSent:
    backup: BackupResult
    mail: Any  # mailing.manual.SentMail

    def to_json(self) -> dict[str, Any]:
        return {"backup": self.backup.to_json(), "mail": self.mail.to_json()}


def send_backup(
    store: Store,
    user: str,
    to: list[str],
    *,
    cc: list[str] | None = None,
    profile: str | None = None,
    administration: str | None = None,
    template: str | None = None,
    max_bytes: int = DEFAULT_MAIL_LIMIT,
) -> BackupSent:
    """Make a backup and mail it (SPEC §8).

    The sender is the given profile, else personal, administration, system; the
    backup object's template is used when there is one. A backup larger than
    ``max_bytes`` once attached is refused before anything is sent.
    """
    import tempfile

    from mailing.manual import check_recipients, send_mail
    from mailing.message import Attachment

    # Check what the user typed before the (possibly long) work of making the archive.
    check_recipients(to, "To")
    check_recipients(cc or [], "Cc")
    with tempfile.TemporaryDirectory(prefix="mailroom-backup-") as tmp:
        made = write_backup(store, Path(tmp) / default_name(), user=user)
        check_mail_size(made.size, max_bytes)
        payload = made.path.read_bytes()
        host = socket.gethostname()
        created = dt.datetime.fromisoformat(made.created).astimezone()
        when = created.strftime("%Y-%m-%d %H:%M")
        own_text = not (template or _has_backup_template(store))
        mail = send_mail(
            store,
            user,
            "backup",
            to=to,
            cc=cc or [],
            subject=f"Mailroom backup of {host}, {when}" if own_text else "",
            body=(
                f"Attached: a backup of the Mailroom data folder on {host}, made {when} "
                f"({made.members} files, {human_size(made.size)}).\n\n"
                "Restore it with: mailroom restore FILE (the archive, or this e-mail saved "
                "as .eml). Passwords are not in it: enter them again after a restore on "
                "another machine.\n"
                if own_text
                else ""
            ),
            attachments=[Attachment(made.path.name, payload, "application/gzip")],
            template=template,
            auto_template=True,
            values={
                "file_name": made.path.name,
                "created": created.date(),
                "size": human_size(made.size),
                "installation": host,
            },
            profile=profile,
            administration=administration,
            keep_eml=False,
        )
    return BackupSent(made, mail)


def _has_backup_template(store: Store) -> bool:
    from store.records import Template

    return any(t.object == "backup" for t in store.all(Template))
