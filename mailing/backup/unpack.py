"""Unpacking an untrusted archive: names, sizes, bombs and manifest, checked as it streams."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import posixpath
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mailing.backup.content import _verify_content
from mailing.backup.errors import _refuse, _shown
from mailing.backup.layout import (
    _CHUNK,
    FORMAT,
    MANIFEST,
    MAX_NAME_CHARS,
    MAX_NAME_PART_BYTES,
    MB,
    TOP_DIRS,
    TOP_FILES,
    VERSION,
)
from mailing.names import human_size
from store.permissions import make_dirs, open_new


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
        make_dirs(target.parent)
        with os.fdopen(open_new(target, os.O_WRONLY | os.O_EXCL), "wb") as out:
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
