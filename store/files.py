"""Files a user points at (letterheads, attachments, images), copied in under their SHA-256.

A later edit or deletion of the original cannot change what was approved.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from pathlib import Path
from typing import TYPE_CHECKING

from store.db import atomic_write_bytes
from store.errors import StoreError
from store.permissions import make_dirs

if TYPE_CHECKING:
    from store.records import StoredFileRef

MAX_FILE_BYTES = 50_000_000  # 50 MB; sizes are decimal everywhere (MB = 1,000,000 bytes)


class FileStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add_bytes(
        self, name: str, payload: bytes, content_type: str | None = None
    ) -> StoredFileRef:
        if len(payload) > MAX_FILE_BYTES:
            raise StoreError(
                f"The file {name!r} is {len(payload) / 1e6:.1f} MB; at most "
                f"{MAX_FILE_BYTES // 1_000_000} MB can be stored.",
                field="file",
                value=name,
                fix="use a smaller file.",
            )
        digest = hashlib.sha256(payload).hexdigest()
        make_dirs(self.folder)
        target = self.folder / digest
        if not target.exists():
            atomic_write_bytes(target, payload)
        from store.records import StoredFileRef

        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return StoredFileRef(
            sha256=digest, name=os.path.basename(name), size=len(payload), content_type=ctype
        )

    def add_file(self, path: str | os.PathLike[str], name: str | None = None) -> StoredFileRef:
        p = Path(path)
        try:
            payload = p.read_bytes()
        except OSError as exc:
            raise StoreError(
                f"The file {str(p)!r} cannot be read ({exc.strerror}).",
                field="file",
                value=str(p),
                fix="check the path and its permissions.",
            ) from None
        return self.add_bytes(name or p.name, payload)

    def path(self, ref: StoredFileRef) -> Path:
        return self.folder / ref.sha256

    def read(self, ref: StoredFileRef) -> bytes:
        try:
            payload = self.path(ref).read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"The stored file {ref.name!r} ({ref.sha256[:12]}…) is missing from the data folder.",
                field="file",
                value=ref.name,
                fix="add the file again, or restore the data folder from a backup.",
            ) from None
        if hashlib.sha256(payload).hexdigest() != ref.sha256:
            raise StoreError(
                f"The stored file {ref.name!r} was changed on disk after it was stored.",
                field="file",
                value=ref.name,
                fix="add the file again, or restore the data folder from a backup.",
            )
        return payload
