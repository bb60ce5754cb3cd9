"""Moving the whole configuration (never secrets) in and out as one JSON document.

The format is documented in ``docs/config-format.md``. Export is deterministic
(records sorted by key, stored files inlined as base64 and sorted by SHA-256),
so exporting, importing into an empty home and exporting again gives the same
text. Import validates everything first and writes nothing when anything is
wrong, listing every problem.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from store.errors import MailroomError, RecordError
from store.records import (
    Administration,
    LanguageCode,
    Profile,
    Record,
    Relation,
    StoredFileRef,
    SystemSettings,
    Template,
    User,
)
from store.store import Store

FORMAT = "mailroom-config"
VERSION = 1

SECTIONS: dict[str, type[Record]] = {
    "system": SystemSettings,
    "administrations": Administration,
    "profiles": Profile,
    "users": User,
    "templates": Template,
    "language_codes": LanguageCode,
    "relations": Relation,
}


class ConfigImportError(MailroomError):
    """The configuration file has problems; nothing was imported."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = [f"{source}: {len(problems)} problem(s); nothing was imported."]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines), field="file", value=source)

    def __str__(self) -> str:
        return self.message


def _file_refs(record: Record) -> list[StoredFileRef]:
    refs: list[StoredFileRef] = []
    if isinstance(record, Template):
        refs += record.attachments + record.images
    if isinstance(record, LanguageCode):
        refs += [r for r in (record.first_background, record.second_background) if r]
    return refs


def export_config(store: Store) -> dict[str, Any]:
    with store.view() as tx:
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        files: dict[str, str] = {}
        for section, cls in SECTIONS.items():
            records = sorted(tx.all(cls), key=lambda r: r.key)
            if cls is SystemSettings:
                out[section] = (records[0] if records else SystemSettings()).dump()
                continue
            out[section] = [r.dump() for r in records]
            for rec in records:
                for ref in _file_refs(rec):
                    if ref.sha256 not in files:
                        files[ref.sha256] = base64.b64encode(store.files.read(ref)).decode()
    out["files"] = dict(sorted(files.items()))
    return out


def export_json(store: Store) -> str:
    return json.dumps(export_config(store), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def parse_config(
    data: Any, source: str = "configuration"
) -> tuple[list[Record], dict[str, bytes], dict[int, str], list[str]]:
    """Validate the shape of a whole exported configuration: every record on its own.

    Returns the records, the stored files by SHA-256, and each record's position in
    the file (``relations[3]``) by its index in the list. How records refer to each
    other is a rule of the domain (``mailing.changes``), not checked here. The last
    item lists every problem found (the records returned are those without one).
    """
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigImportError(source, ["the top level must be a JSON object"])
    if data.get("format") != FORMAT:
        problems.append(f"field format: must be {FORMAT!r} (found {data.get('format')!r})")
    if data.get("version") != VERSION:
        problems.append(f"field version: must be {VERSION} (found {data.get('version')!r})")
    unknown = set(data) - set(SECTIONS) - {"format", "version", "files"}
    for name in sorted(unknown):
        problems.append(f"section {name!r} is not known; remove it")

    files: dict[str, bytes] = {}
    raw_files = data.get("files", {})
    if not isinstance(raw_files, dict):
        problems.append("section files: must be an object of sha256 -> base64")
        raw_files = {}
    for sha, b64 in raw_files.items():
        try:
            payload = base64.b64decode(b64, validate=True)
        except (binascii.Error, TypeError, ValueError):
            problems.append(f"files.{sha}: not valid base64")
            continue
        if hashlib.sha256(payload).hexdigest() != sha:
            problems.append(f"files.{sha}: content does not match its SHA-256")
            continue
        files[sha] = payload

    records: list[Record] = []
    positions: dict[int, str] = {}
    for section, cls in SECTIONS.items():
        raw = data.get(section)
        if raw is None:
            continue
        items = [raw] if cls is SystemSettings else raw
        if not isinstance(items, list):
            problems.append(f"section {section}: must be a list")
            continue
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = section if cls is SystemSettings else f"{section}[{i}]"
            try:
                rec = cls.parse(item, where)
            except RecordError as exc:
                for field, value, msg in exc.problems:
                    problems.append(f"{where}.{field}: {msg} (value: {value!r})"[:300])
                continue
            if rec.key in seen:
                problems.append(f"{where}: duplicate {cls.key_field} {rec.key!r}")
            seen.add(rec.key)
            for ref in _file_refs(rec):
                if ref.sha256 not in files:
                    problems.append(
                        f"{where}: file {ref.name!r} ({ref.sha256[:12]}…) is not in section files"
                    )
            positions[len(records)] = where
            records.append(rec)
    return records, files, positions, problems
