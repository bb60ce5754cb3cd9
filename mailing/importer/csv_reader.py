"""Reading documents from a CSV file: one row per line or open item, grouped by document."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mailing.importer.candidate import MAX_DOCUMENTS, _Candidate
from mailing.importer.numbers import _BOUNDS, _TOTAL_KEYS, _number
from mailing.importer.problems import _Problems, _short
from mailing.importer.text import _decode

MAX_CSV_ROWS = 100_000
MAX_CSV_FIELD = 131_072  # characters in one CSV field: the csv module's default field_size_limit
MAX_CSV_SEPARATORS = 10_000  # separators on one line of a CSV file, counted before parsing

CSV_DOCUMENT_FIELDS = (
    "administration",
    "type",
    "number",
    "relation",
    "invoice_debtor",
    "date",
    "due_date",
    "currency",
    "reference",
    "description",
    "credit_note",
    "corrects",
    "corrects_date",
)
CSV_LINE_FIELDS = (
    "article",
    "line_description",
    "quantity",
    "unit_price",
    "vat_rate",
    "vat_category",
    "vat_exemption",
)
CSV_ITEM_FIELDS = ("item_number", "item_date", "item_due_date", "item_amount", "item_open_amount")
CSV_TOTAL_FIELDS = _TOTAL_KEYS
CSV_FIELDS = (*CSV_DOCUMENT_FIELDS, *CSV_LINE_FIELDS, *CSV_ITEM_FIELDS, *CSV_TOTAL_FIELDS)
CSV_REQUIRED = ("type", "number", "relation", "date")


class _TooWide(Exception):
    """A CSV line with more separators than any document export has."""


def _text_lines(text: str, delimiter: str) -> Iterator[str]:
    """The lines of ``text``, one at a time (a copy of a 50 MB text is not needed),
    each checked for its number of separators before the csv module splits it."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        line = text[start:end]
        if line.count(delimiter) > MAX_CSV_SEPARATORS:
            raise _TooWide
        yield line
        start = end


def _csv_rows(text: str, delimiter: str, problems: _Problems) -> Iterator[tuple[int, list[str]]]:
    """(line number where the row starts, fields); a row that cannot be read ends it."""
    reader = csv.reader(_text_lines(text, delimiter), delimiter=delimiter)
    count = 0
    while True:
        lineno = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except _TooWide:
            problems.add(
                f"line {reader.line_num + 1}",
                f"has more than {MAX_CSV_SEPARATORS:,} {'semicolons' if delimiter == ';' else 'commas'}; "
                "a document file has one per column: check that this is a document export",
            )
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                problems.add(
                    f"line {lineno}",
                    f"a field is longer than {MAX_CSV_FIELD:,} characters (perhaps a quote "
                    '" that is never closed); shorten the field or close the quote',
                )
            else:
                problems.add(f"line {lineno}", "cannot be read as CSV; save it again as CSV")
            return
        count += 1
        if count > MAX_CSV_ROWS + 1:  # + the header
            problems.add(
                f"line {lineno}",
                f"the file has more than {MAX_CSV_ROWS:,} rows; at most that many can be "
                "imported at once: split the file",
            )
            return
        yield lineno, row


def _read_csv(raw: bytes, problems: _Problems) -> Iterator[_Candidate]:
    text = _decode(raw, problems)
    if text is None:
        return
    first = text.split("\n", 1)[0] if len(text) < 4096 else text[:4096].split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = _csv_rows(text, delimiter, problems)
    try:
        _, header_row = next(rows)
    except StopIteration:
        return
    header = [h.strip() for h in header_row]
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown:
        shown = ", ".join(_short(h) for h in unknown[:10])
        problems.add(
            "line 1",
            f"unknown column(s): {shown}{' ...' if len(unknown) > 10 else ''}; the columns "
            "are listed in docs/import-formats.md",
        )
    missing = [h for h in CSV_REQUIRED if h not in header]
    if missing:
        problems.add("line 1", f"missing column(s): {', '.join(missing)}")
    twice = sorted({h for h in header if header.count(h) > 1 and h in CSV_FIELDS})
    if twice:
        problems.add("line 1", f"column(s) given twice: {', '.join(twice)}")
    if unknown or missing or twice:
        return
    groups: dict[tuple[str, str, str], _Candidate] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    for lineno, fields in rows:
        if not fields:
            continue
        if len(fields) > len(header):
            problems.add(f"line {lineno}", "has more fields than the header")
            continue
        row = {h: (fields[i].strip() if i < len(fields) else "") for i, h in enumerate(header)}
        if not any(row.values()):
            continue
        key = (row.get("administration", ""), row["type"], row["number"])
        docfields = {k: row[k] for k in CSV_DOCUMENT_FIELDS if k in row}
        cand = groups.get(key)
        if cand is None:
            if len(groups) >= MAX_DOCUMENTS:
                problems.add(
                    f"line {lineno}",
                    f"the file holds more than {MAX_DOCUMENTS:,} documents; at most that "
                    "many can be imported at once: split the file",
                )
                return
            data: dict[str, Any] = {k: v for k, v in docfields.items() if v != ""}
            data["lines"], data["open_items"] = [], []
            cand = _Candidate(where=f"line {lineno}", data=data)
            cand.locate = {k: f"line {lineno}, column {k}" for k in CSV_DOCUMENT_FIELDS}
            groups[key] = cand
            first_line[key] = lineno
        else:
            for k, v in docfields.items():
                if v != "" and str(cand.data.get(k, "")) != v:
                    problems.add(
                        f"line {lineno}, column {k}",
                        f"{_short(v)} differs from {_short(cand.data.get(k, ''))} on line "
                        f"{first_line[key]} of the same document; give it the same value",
                    )

        for k in CSV_TOTAL_FIELDS:
            if row.get(k):
                cand.totals[k] = _csv_number(row, k, k, lineno, cand, problems)
                cand.locate[k] = f"line {lineno}, column {k}"
        has_line = any(row.get(k) for k in CSV_LINE_FIELDS)
        has_item = any(row.get(k) for k in CSV_ITEM_FIELDS)
        if has_line and has_item:
            problems.add(f"line {lineno}", "holds both a document line and an open item")
        elif has_line:
            n = len(cand.data["lines"])
            line: dict[str, Any] = {"description": row.get("line_description", "")}
            for k in ("article", "vat_category", "vat_exemption"):
                if row.get(k):
                    line[k] = row[k]
            for k in ("quantity", "unit_price", "vat_rate"):
                if row.get(k):
                    line[k] = _csv_number(row, k, k, lineno, cand, problems)
            cand.data["lines"].append(line)
            cand.locate[f"lines.{n}"] = f"line {lineno}"
        elif has_item:
            n = len(cand.data["open_items"])
            cand.data["open_items"].append(
                {
                    "number": row.get("item_number", ""),
                    "date": row.get("item_date", ""),
                    "due_date": row.get("item_due_date", ""),
                    "amount": _csv_number(row, "item_amount", "amount", lineno, cand, problems),
                    "open_amount": _csv_number(
                        row, "item_open_amount", "open_amount", lineno, cand, problems
                    ),
                }
            )
            cand.locate[f"open_items.{n}"] = f"line {lineno}"
    yield from groups.values()


def _csv_number(
    row: dict[str, str],
    column: str,
    name: str,
    lineno: int,
    cand: _Candidate,
    problems: _Problems,
) -> Decimal:
    value, problem = _number(row[column], name, _BOUNDS[name])
    if problem:
        problems.add(f"line {lineno}, column {column}", problem)
        cand.flawed = True
    return value
