"""Checking what a backup holds: the records and rules of `config import`, key map, batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mailing.backup.errors import RestoreError, _refuse, _shown
from mailing.backup.keymap import _keymap_problems
from mailing.backup.layout import DATABASES, KEYMAP_FILE, MAX_LISTED
from store.errors import RecordError
from store.records import (
    RECORD_BY_TABLE,
    Document,
    Record,
    StoredFileRef,
    Template,
)
from store.spool import BATCH_FILE, parse_batch_info
from store.store import DOCUMENTS_FILE


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
