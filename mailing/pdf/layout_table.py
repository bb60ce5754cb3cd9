"""The line table of a layout: columns per document type, rows wrapped to fit, pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from mailing.pdf.layout_geometry import FONT, LEFT, MM, RIGHT, ROW_H, SIZE
from mailing.pdf.layout_texts import Formats
from store.records import Document

# ---------------------------------------------------------------- table model


@dataclass(frozen=True)
class Column:
    key: str  # label key
    x: float  # left edge (left-aligned) or right edge (right-aligned)
    width: float
    right: bool = False


@dataclass
class Row:
    cells: list[list[str]]  # per column, its wrapped lines
    height: float


@dataclass
class Page:
    rows: list[Row] = field(default_factory=list)
    totals: bool = False


def _columns(doc_type: str) -> list[Column]:
    if doc_type == "packing_slip":
        return [
            Column("article", LEFT, 30 * MM),
            Column("description", LEFT + 32 * MM, 115 * MM),
            Column("quantity", RIGHT, 20 * MM, right=True),
        ]
    if doc_type == "reminder":
        return [
            Column("invoice", LEFT, 34 * MM),
            Column("invoice_date", LEFT + 34 * MM, 28 * MM),
            Column("due_date", LEFT + 62 * MM, 28 * MM),
            Column("days", LEFT + 115 * MM, 24 * MM, right=True),
            Column("amount", LEFT + 142 * MM, 26 * MM, right=True),
            Column("open", RIGHT, 26 * MM, right=True),
        ]
    return [
        Column("article", LEFT, 21 * MM),
        Column("description", LEFT + 22 * MM, 73 * MM),
        Column("quantity", LEFT + 113 * MM, 16 * MM, right=True),
        Column("unit_price", LEFT + 137 * MM, 22 * MM, right=True),
        Column("vat", LEFT + 150 * MM, 12 * MM, right=True),
        Column("amount", RIGHT, 22 * MM, right=True),
    ]


def _fit(text: str, width: float, font: str = FONT, size: float = SIZE) -> list[str]:
    """``text`` wrapped at spaces to ``width`` points; a word wider than that is cut."""
    return list(_wrapped(text, width, font, size))


@lru_cache(maxsize=8192)
def _wrapped(text: str, width: float, font: str, size: float) -> tuple[str, ...]:
    """:func:`_fit`, remembered: articles, quantities, amounts and labels repeat."""
    return tuple(_wrap(text, width, font, size))


def _wrap(text: str, width: float, font: str, size: float) -> list[str]:
    from mailing.pdf.fonts import width as measure

    if not text:
        return [""]
    if measure(text, font, size) <= width:
        return [text]
    out: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if measure(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        # a single word wider than the column (or a script without spaces): cut it
        while measure(word, font, size) > width and len(word) > 1:
            cut = max(1, int(len(word) * width / measure(word, font, size)) - 1)
            while cut > 1 and measure(word[:cut], font, size) > width:
                cut -= 1
            out.append(word[:cut])
            word = word[cut:]
        line = word
    out.append(line)
    return out


def _rows(doc: Document, f: Formats, columns: list[Column], font: str = FONT) -> list[Row]:
    rows: list[Row] = []
    if doc.type == "reminder":
        for item in doc.open_items:
            days = (doc.date - item.due_date).days
            values = [
                item.number,
                f.date(item.date),
                f.date(item.due_date),
                str(max(days, 0)),
                f.money(item.amount),
                f.money(item.open_amount),
            ]
            rows.append(Row([[v] for v in values], ROW_H))
        return rows
    for ln in doc.lines:
        if doc.type == "packing_slip":
            values = [ln.article, ln.description, f.number(ln.quantity)]
        else:
            values = [
                ln.article,
                ln.description,
                f.number(ln.quantity),
                f.money(ln.unit_price),
                f.number(ln.vat_rate),
                f.money(ln.amount),
            ]
        cells = [_fit(v, c.width, font) for v, c in zip(values, columns, strict=True)]
        height = max(len(c) for c in cells) * (SIZE + 1.5) + (ROW_H - SIZE - 1.5)
        rows.append(Row(cells, height))
    return rows
