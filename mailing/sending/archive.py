"""The archive: what was sent, kept with the document after a send (SPEC §3, §7).

Layout, under the data folder::

    archive/<administration>/<relation>/<doctype>-<number>/
        message.eml          the bytes that were sent (another name of the spool's file)
        record.json          batch, item, Message-ID, sender, recipients, server reply,
                             refused recipients, who approved and when, SHA-256, the
                             DSN envelope id, ``redirected_to`` when it was sent in
                             test mode (to that address only, not to the customers),
                             the names of the attachments and of the copy document,
                             and where each attachment's base64 lies in message.eml
        attachments/<name>   every attachment of the message (SPEC §7), and
        copy-<document>.pdf  the copy document (*kopiedocument*), for the types of SPEC §3
                             that keep one, with background where the table says so
                             (another name of attachments/<document>.pdf): these two
                             are taken out of message.eml, byte for byte, the first
                             time someone asks for them (:mod:`mailing.sending.archive_files`)

A document sent again later (another batch) is kept beside the first as
``<doctype>-<number>.2``, ``.3``, ...; nothing is overwritten. ``record.json`` is
written last (renamed into place): a folder without it is an archive cut short by
a crash, which the next run completes.

What it costs, per message: one ``mkdir``, one ``link`` and ``record.json``. The
message is not parsed again, and its PDF is not decoded nor written a second time
while sending (issue 31: over a tenth of the send's CPU, in the kernel mostly);
the attachments' places in the message are those the build recorded
(``attachments[].at`` of the side-car). Nothing is fsynced per message: a group of
archived items is made durable by one sync of the file system, and only then
listed in the batch's ``archived.txt``; an item a crash left out of that list is
archived (completed) again by the next run, which finds its folder by batch and item.
"""

from __future__ import annotations

import binascii
import errno
import functools
import json
import json.encoder
import os
import re
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pybase64

from mailing.copies import COPY_DOCUMENT_TYPES
from mailing.names import safe_file_name
from store.permissions import dir_mode, file_mode, make_dirs, open_new
from store.spool import Batch

if TYPE_CHECKING:
    from store.store import Store

ARCHIVE_DIR = "archive"
DONE_FILE = "archived.txt"  # per batch: the items already archived, one per line
GROUP = 512  # items archived between two syncs of the file system


def archive_root(home: Path) -> Path:
    return home / ARCHIVE_DIR


# A name safe_file_name leaves as it is (most: numbers, codes): no need to ask it.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@ -]{0,78}[A-Za-z0-9_@-]|[A-Za-z0-9_@-]")


@functools.lru_cache(maxsize=4096)
def _safe(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name):
        return name
    return safe_file_name(name, "attachment")


# Per relation folder of the archive: the modes of a new folder and file in it
# (found once; the folders under it take the same). Only a shortcut: a folder
# removed meanwhile sends archive_item the long way (archive_folder, make_dirs).
_MODES: dict[str, tuple[int, int]] = {}
# (data folder, administration, relation) -> that relation's archive folder
_PARENTS: dict[tuple[Path, str, str], str] = {}


def _first_folder(home: Path, document: dict[str, Any]) -> tuple[str, int] | None:
    """The document's first archive folder, made now (one ``mkdir``), and the mode
    of a new file in it; None when it exists (sent before, or cut short)."""
    key = (home, document["administration"], document["relation"])
    parent = _PARENTS.get(key)
    if parent is None:
        parent = os.path.join(
            archive_root(home), _safe(document["administration"]), _safe(document["relation"])
        )
        if len(_PARENTS) > 10_000:
            _PARENTS.clear()
        _PARENTS[key] = parent
    modes = _MODES.get(parent)
    if modes is None:
        make_dirs(Path(parent))
        if len(_MODES) > 10_000:
            _MODES.clear()
        modes = _MODES[parent] = (dir_mode(Path(parent)), file_mode(Path(parent)))
    folder = f"{parent}/{_safe(document['type'])}-{_safe(document['number'])}"
    try:
        os.mkdir(folder, modes[0] & 0o777)
        if modes[0] & stat.S_ISGID:
            os.chmod(folder, modes[0])  # as store.permissions.make_dir does
    except FileExistsError:
        return None
    except FileNotFoundError:
        _MODES.pop(parent, None)
        return None
    return folder, modes[1]


def archive_folder(home: Path, document: dict[str, Any], batch_id: str, item: str) -> Path:
    """The folder of this send of the document (a new one if it was sent before)."""
    base = (
        archive_root(home)
        / _safe(document["administration"])
        / _safe(document["relation"])
        / f"{_safe(document['type'])}-{_safe(document['number'])}"
    )
    n = 1
    folder = base
    while True:
        rec = folder / "record.json"
        if not folder.exists():
            return folder
        if rec.exists():
            try:
                data = json.loads(rec.read_bytes())
            except ValueError:
                data = {}
            if data.get("batch") == batch_id and data.get("item") == item:
                return folder
        else:
            return folder  # cut short earlier: complete it
        n += 1
        folder = base.with_name(f"{base.name}.{n}")


def parts_by_parsing(raw: bytes) -> list[tuple[str, bytes]]:
    """The attachments of a message, by parsing it (items built before spans were kept)."""
    import email
    import email.policy
    from email.message import EmailMessage

    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    out: list[tuple[str, bytes]] = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out.append((part.get_filename() or "attachment", payload))
    return out


def _spans(meta: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Each attachment's name, size and where its base64 lies in the message, as the
    build recorded them; None when the side-car does not say (built before)."""
    listed = meta.get("attachments")
    if not isinstance(listed, list):
        return None
    out: list[dict[str, Any]] = []
    for entry in listed:
        at = entry.get("at") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not (
            isinstance(at, list)
            and len(at) == 2
            and all(isinstance(x, int) for x in at)
            and isinstance(size, int)
        ):
            return None
        out.append({"name": str(entry.get("name") or "attachment"), "at": at, "size": size})
    return out


def decode_parts(raw: bytes, spans: Any) -> list[tuple[str, bytes]]:
    """Each attachment's name and bytes: decoded where ``spans`` say its base64 lies
    (checking the decoded size), else by parsing the message."""
    if not isinstance(spans, list):
        return parts_by_parsing(raw)
    out: list[tuple[str, bytes]] = []
    for entry in spans:
        try:
            start, end = entry["at"]
            # SIMD base64 (the stdlib's a2b_base64 was half of the archive's CPU time).
            payload = pybase64.b64decode(raw[start:end])
        except (binascii.Error, TypeError, ValueError, KeyError):
            return parts_by_parsing(raw)
        if len(payload) != entry.get("size"):
            return parts_by_parsing(raw)
        out.append((str(entry.get("name") or "attachment"), payload))
    return out


_NEW_FILE = os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)


def _put(path: str, data: bytes, mode: int | None) -> None:
    """Write a file whole through its descriptor (no Python file object: it costs an
    fstat, a tty probe and a seek per file); never through a symbolic link."""
    if mode is None:
        fd = open_new(Path(path), _NEW_FILE)
    else:
        fd = os.open(path, _NEW_FILE | os.O_CREAT, mode)
        if mode & 0o070:
            os.fchmod(fd, mode)  # as store.permissions.open_new: the umask may be private
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _write(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write a file whole, renamed into place (no fsync: the group's sync does that)."""
    tmp = f"{path}.tmp"
    _put(tmp, data, mode)
    os.replace(tmp, path)


def _link(source: str, target: str) -> None:
    """``target`` becomes another name of ``source`` (a copy across file systems)."""
    try:
        os.link(source, target)
    except FileExistsError:
        if os.path.samefile(source, target):
            return
        os.unlink(target)
        _link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        tmp = f"{target}.tmp"
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


_LIBC: Any = None


def sync_file_system(path: Path) -> None:
    """Make everything written on ``path``'s file system durable: one ``syncfs``."""
    global _LIBC
    if _LIBC is None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        _LIBC = ctypes.CDLL(name, use_errno=True) if name else False
    syncfs = getattr(_LIBC, "syncfs", None) if _LIBC else None
    if syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def sent_events(batch: Batch) -> dict[str, dict[str, Any]]:
    """Per item, the event that made it sent (one pass over the log)."""
    out: dict[str, dict[str, Any]] = {}
    for ev in batch.events():
        if ev.get("event") in ("sent", "marked-sent") and isinstance(ev.get("item"), str):
            out[ev["item"]] = ev
    return out


def archive_item(
    home: Path,
    batch: Batch,
    item: str,
    approvals: dict[str, dict[str, str]],
    sent: dict[str, dict[str, Any]],
    state: str = "sent",
    meta: dict[str, Any] | None = None,
    raw: bytes | None = None,
) -> str:
    """Archive one sent item (``state``: sent, or bounced since); return its folder.

    ``meta``, ``raw``: its side-car and bytes, when the caller has them already (the
    sender: the very bytes it sent, whose SHA-256 it checked against the approval).
    Not durable by itself: ``archive_batch`` syncs a group of items at once.
    """
    if meta is None:
        meta = batch.meta(item)
    # str paths on this per-message path: pathlib's joins cost more than the calls
    source = f"{batch.path}/{state}/{item}.eml"
    if raw is None:
        raw = batch.read(item, "email", state)
    document = meta["document"]
    fresh = _first_folder(home, document)
    if fresh is None:
        found = archive_folder(home, document, batch.id, item)
        make_dirs(found)
        folder, mode = os.fspath(found), file_mode(found)
    else:
        folder, mode = fresh
    try:
        _link(source, f"{folder}/message.eml")
    except FileNotFoundError:  # moved on meanwhile (sent -> bounced): the bytes read
        _write(f"{folder}/message.eml", raw, mode)
    # The attachments stay in message.eml until asked for (mailing/sending/archive_files.py).
    spans = _spans(meta)
    if spans is None:
        names = [name for name, _ in parts_by_parsing(raw)]
    else:
        names = [entry["name"] for entry in spans]
    copy_name = None
    pdf_name = meta.get("document_pdf")
    if pdf_name in names and document["type"] in COPY_DOCUMENT_TYPES:
        # Every type that keeps a copy keeps it with background (SPEC §3), which is
        # the PDF that was sent, byte for byte: a second name of that attachment.
        copy_name = f"copy-{_safe(str(pdf_name))}"
    sent_event = sent.get(item, {})
    approval = approvals.get(item, {})
    record = {
        "batch": batch.id,
        "item": item,
        "document": document,
        "message_id": meta.get("message_id"),
        "subject": meta.get("subject"),
        "profile": meta.get("profile"),
        "sender": meta.get("sender"),
        "recipients": meta.get("recipients"),
        "envelope": meta.get("envelope"),
        "sha256": approval.get("sha256"),
        "approved_by": approval.get("by"),
        "approved_at": approval.get("at"),
        "sent_at": sent_event.get("at"),
        "how": sent_event.get("event"),
        "marked_by": sent_event.get("by"),
        "server_reply": sent_event.get("reply"),
        "accepted": sent_event.get("accepted"),
        "refused": sent_event.get("refused"),
        # Test mode: the message went to this address only, not to the customers.
        "redirected_to": sent_event.get("redirected_to"),
        "envelope_id": sent_event.get("envid"),
        "copy_document": copy_name,
        "attachments": names,
        "parts": spans,
    }
    _write(f"{folder}/record.json", record_bytes(record), mode)
    return folder


_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


# json's C encoder made once (``JSONEncoder.encode`` makes one per call, which was
# most of the cost of 24 values a record); None where there is no C encoder.
_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER: Any = (
    _MAKE_ENCODER(None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)
    if _MAKE_ENCODER is not None
    else None
)


def _value(v: Any) -> str:
    if _C_ENCODER is None:
        return _RECORD_ENCODER.encode(v)
    if v is None or type(v) is str:  # most values of a record: no encoder needed
        return "null" if v is None else json.encoder.encode_basestring(v)
    return "".join(_C_ENCODER(v, 0))


def record_bytes(record: dict[str, Any]) -> bytes:
    """``record.json``: one field a line, each value compact (``indent`` would take
    json's pure-Python encoder, a third of the archive's CPU time per message)."""
    body = ",\n".join([f'  "{k}": {_value(v)}' for k, v in record.items()])  # keys: plain words
    return f"{{\n{body}\n}}\n".encode()


def _group_done(root: Path, batch: Batch, items: list[str]) -> None:
    """Make a group's archives durable (one sync), then list them as archived."""
    if not items:
        return
    sync_file_system(root)
    with os.fdopen(open_new(batch.path / DONE_FILE, os.O_WRONLY | os.O_APPEND), "ab") as listed:
        listed.write("".join(f"{item}\n" for item in items).encode())


# An item just sent: its name, its side-car, its ``sent`` event (as in the log), and
# the bytes sent (None: read from sent/).
SentItem = tuple[str, dict[str, Any], dict[str, Any], bytes | None]


class Archiver:
    """Archives the messages of a batch as they are sent, in the sender's thread.

    ``add`` takes items just moved to ``sent/``, each with its side-car, its
    ``sent`` event as written to the log and the bytes sent (nothing is read
    again), and archives them at once; ``close`` makes the last group durable.
    Groups are made durable and listed as ``archive_batch`` does; an item that
    could not be archived is left to ``archive_batch``. (This was a thread beside
    the sender; measured, handing items over cost more CPU and system calls than
    the file-system calls it overlapped: docs/performance.md, issue 31.)
    """

    def __init__(
        self, home: Path, batch: Batch, approvals: dict[str, dict[str, str]] | None = None
    ) -> None:
        self.home, self.batch = home, batch
        self.root = archive_root(home)
        make_dirs(self.root)
        self._approvals = approvals  # the batch's approved_hashes(), when the caller has them
        self._group: list[str] = []
        self._broken = False

    def add(self, items: list[SentItem]) -> None:
        if not items or self._broken:
            return
        try:
            self._archive(items)
        except Exception:
            # Never a traceback from the archive: it stops, and whatever it could not
            # do, archive_batch does (or reports) after the send.
            self._broken = True

    def _archive(self, items: list[SentItem]) -> None:
        batch = self.batch
        if self._approvals is None:
            self._approvals = batch.approved_hashes()
        for item, meta, event, raw in items:
            try:
                archive_item(
                    self.home, batch, item, self._approvals, {item: event}, meta=meta, raw=raw
                )
            except (OSError, ValueError, KeyError):
                continue  # moved on or damaged: archive_batch tries it after the send
            self._group.append(item)
        if len(self._group) >= GROUP:
            _group_done(self.root, batch, self._group)
            self._group = []

    def close(self) -> None:
        if self._broken:
            return
        try:
            _group_done(self.root, self.batch, self._group)
        except OSError:
            return  # archive_batch lists them after the send
        self._group = []


def archived_items(batch: Batch) -> set[str]:
    """The items of the batch whose archive is complete and durable."""
    try:
        return set((batch.path / DONE_FILE).read_text("utf-8").split())
    except FileNotFoundError:
        return set()


def archive_batch(store: Store, batch: Batch) -> int:
    """Archive every sent item of the batch not archived yet; return how many were.

    In groups of ``GROUP``: the group's files are written, one sync of the file
    system makes them durable, then their names are appended to ``archived.txt``
    (not fsynced: a name lost there only means the item is archived again, into
    the same folder). After a kill or a power loss every item the spool says sent
    is either listed with a complete archive or archived by the next run.
    """
    done = archived_items(batch)
    pending = [
        (r.item, r.state)
        for state in ("sent", "bounced")
        for r in batch.items(state)
        if r.kind == "email" and r.item not in done
    ]
    if not pending:
        return 0
    approvals = batch.approved_hashes()
    sent = sent_events(batch)
    root = archive_root(store.home)
    make_dirs(root)
    for start in range(0, len(pending), GROUP):
        group = pending[start : start + GROUP]
        for item, state in group:
            archive_item(store.home, batch, item, approvals, sent, state)
        _group_done(root, batch, [item for item, _ in group])
    return len(pending)
