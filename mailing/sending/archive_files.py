"""The attachments and the copy document of an archived send, as files, when asked.

The send archives a message as ``message.eml`` (the bytes sent) and
``record.json`` (:mod:`mailing.sending.archive`); its attachments stay in the message until
someone asks for them (the Archive pane, a test, a script). Then each is decoded
out of ``message.eml`` — where ``record.json``'s ``parts`` say its base64 lies,
checked against its size, else by parsing the message — and written to
``attachments/<name>``; the copy document (SPEC §3) is a second name of the PDF's
file, ``copy-<name>``. Byte for byte what the customer received. Asked again, the
files are there: nothing is written twice. A folder archived before this (with its
files) is left as it is. Each file is renamed into place whole and not fsynced: what
the archive promises to keep is ``message.eml`` (made durable with the send's
groups); a file lost to a power loss is taken out of it again when next asked for.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from mailing.sending.archive import _link, _safe, _write, decode_parts
from store.permissions import file_mode, make_dirs


@dataclass
class ArchivedFiles:
    """The files of one archived send: each attachment by its name, the copy document."""

    attachments: dict[str, Path] = field(default_factory=dict)
    copy_document: Path | None = None


def archive_files(folder: Path) -> ArchivedFiles:
    """The attachments and copy document of the send archived in ``folder``, taken
    out of its ``message.eml`` now if they are not files yet.

    Raises OSError (a folder or message that cannot be read or written) or
    ValueError (a ``record.json`` that is not JSON).
    """
    record = json.loads((folder / "record.json").read_bytes())
    if not isinstance(record, dict):
        raise ValueError(f"{folder / 'record.json'} is not an archive record")
    names = [str(n) for n in record.get("attachments") or []]
    att_dir = folder / "attachments"
    out = ArchivedFiles({name: att_dir / _safe(name) for name in names})
    missing = [name for name, path in out.attachments.items() if not path.exists()]
    if missing:
        raw = (folder / "message.eml").read_bytes()
        make_dirs(att_dir)
        mode = file_mode(folder)
        for name, payload in decode_parts(raw, record.get("parts")):
            path = out.attachments.get(name)
            if path is not None and name in missing:
                _write(path, payload, mode)
    copy = record.get("copy_document")
    if isinstance(copy, str) and copy:
        target = folder / _safe(copy)
        source = next((p for p in out.attachments.values() if f"copy-{p.name}" == copy), None)
        if source is not None and source.exists():
            if not target.exists():
                _link(os.fspath(source), os.fspath(target))
            out.copy_document = target
        elif target.exists():
            out.copy_document = target
    return out
