"""A document as read from an import file, before the checks, and how many a file holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mailing.importer.attachments import _AttachmentFile

MAX_DOCUMENTS = 20_000  # per import file
MAX_LINES = 10_000  # lines (or open items) of one document; entries of any JSON list in it


@dataclass
class _Candidate:
    """A document as read from the file, before the checks."""

    where: str  # "documents[3]", "line 4", "/Invoice"
    data: dict[str, Any]
    locate: dict[str, str] = field(default_factory=dict)  # field path -> where
    files: list[tuple[str, _AttachmentFile | bytes, str]] = field(default_factory=list)
    ubl: bytes | None = None
    totals: dict[str, Decimal] = field(default_factory=dict)  # totals the file states
    party: tuple[list[str], list[str]] | None = None  # UBL customer: (ids, names)
    flawed: bool = False  # a number was refused while reading: skip the sums
