"""Reading documents from a JSON file, its size and nesting bounded before it is parsed."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from mailing.importer.attachments import _attachment, _Folder
from mailing.importer.candidate import MAX_DOCUMENTS, MAX_LINES, _Candidate
from mailing.importer.numbers import _BOUNDS, _TOTAL_KEYS, _number
from mailing.importer.problems import _clip, _Problems, _short
from mailing.importer.text import _bad_text, _decode

MAX_FIELDS = 64  # fields of one JSON object in a document (a document has 17)
MAX_DOCUMENT_VALUES = 100_000  # fields and entries in one JSON document, all levels
MAX_JSON_DEPTH = 64  # nested objects/lists; a document needs 5
MAX_JSON_VALUES = 1_000_000  # values in a JSON file, counted before it is parsed
MAX_NAME_CHARS = 200

# A JSON string; one that is never closed runs to the end of the text (the closing
# quote is optional), so that no quote is tried twice: linear time on any input.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _json_int(text: str) -> int | Decimal:
    # A long integer as a Decimal: Python refuses int('9' * 5000), and the number
    # checks then name the field and say it is too large.
    return int(text) if len(text) <= 18 else Decimal(text)


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - text.rfind(chr(10), 0, pos)}"


def _json_bounded(text: str, problems: _Problems) -> bool:
    """Count the values and measure the nesting before parsing; both are bounded."""
    skeleton = _JSON_STRING.sub('""', text)  # what is left outside strings
    values = skeleton.count(",") + skeleton.count("[") + skeleton.count("{")
    if values > MAX_JSON_VALUES:
        problems.add(
            "file",
            f"holds more than {MAX_JSON_VALUES:,} values; split it into smaller files",
        )
        return False
    depth = 0
    for n, m in enumerate(_BRACKET.finditer(skeleton), start=1):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                problems.add(
                    _line_col(text, _nth_bracket(text, n)),
                    f"the data is nested more than {MAX_JSON_DEPTH} levels deep; a document "
                    "file needs only a few levels: check that this is a document export",
                )
                return False
        else:
            depth -= 1
    return True


def _nth_bracket(text: str, n: int) -> int:
    """Where the n-th bracket outside strings is in ``text``."""
    for m in _JSON_TOKEN.finditer(text):
        if m.group()[0] != '"':
            n -= 1
            if n == 0:
                return m.start()
    return 0


def _read_json(raw: bytes, folder: _Folder, problems: _Problems) -> Iterator[_Candidate]:
    text = _decode(raw, problems)
    if text is None or not _json_bounded(text, problems):
        return
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=_json_int, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        problems.add(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
        return
    except (ValueError, RecursionError):  # bounded above; never a traceback all the same
        problems.add("file", "cannot be read as JSON; export the documents again")
        return
    del text
    if isinstance(data, dict) and "documents" in data:
        items, base = data["documents"], "documents"
    elif isinstance(data, list):
        items, base = data, ""
    else:
        problems.add("file", 'must hold a list of documents or {"documents": [...]}')
        return
    if not isinstance(items, list):
        problems.add(base, "must be a list of documents")
        return
    if len(items) > MAX_DOCUMENTS:
        problems.add(
            base or "file",
            f"holds {len(items):,} documents; at most {MAX_DOCUMENTS:,} can be imported at "
            "once: split the file",
        )
        return
    for i, item in enumerate(items):
        where = f"{base}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be an object {{...}} (value: {_short(item)})")
            continue
        shape = _json_shape(item, where)
        if shape is not None:
            problems.add(*shape)
            continue
        doc = dict(item)
        cand = _Candidate(where=where, data=doc)
        for k in _TOTAL_KEYS:
            if k in doc:
                value, problem = _number(doc.pop(k), k, _BOUNDS[k])
                if problem:
                    problems.add(f"{where}.{k}", problem)
                    cand.flawed = True
                else:
                    cand.totals[k] = value
        attachments = doc.pop("attachments", [])
        if not isinstance(attachments, list):
            problems.add(
                f"{where}.attachments",
                f'must be a list of file paths like ["terms.pdf"] (value: {_short(attachments)})',
            )
            attachments = []
        for j, att in enumerate(attachments):
            at = f"{where}.attachments[{j}]"
            name = None
            if isinstance(att, dict):
                unknown = [str(k) for k in att if k not in ("path", "name")]
                if unknown:
                    problems.add(
                        at,
                        f"unknown key(s) {', '.join(_short(k) for k in unknown[:5])}; "
                        'an attachment is a path, or {"path": ..., "name": ...}',
                    )
                    continue
                spec, name = att.get("path"), att.get("name")
                if name is not None and (
                    not isinstance(name, str)
                    or not name.strip()
                    or len(name) > MAX_NAME_CHARS
                    or _bad_text(name)
                    or "/" in name
                    or "\\" in name
                ):
                    problems.add(
                        at,
                        f"name {_short(name)} must be a plain file name like "
                        f'"Terms.pdf" (at most {MAX_NAME_CHARS} characters, no folders)',
                    )
                    continue
            else:
                spec = att
            src = _attachment(spec, folder, at, problems)
            if src is not None:
                cand.files.append((name or os.path.basename(src.given), src, ""))
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                rows = []
                for j, row in enumerate(doc[key]):
                    row, flawed = _numbers(row, f"{where}.{key}[{j}]", problems)
                    cand.flawed |= flawed
                    rows.append(row)
                doc[key] = rows
        locate = {k: f"{where}.{_clip(k)}" for k in doc}
        locate.setdefault("administration", f"{where}.administration")
        for key in ("lines", "open_items"):
            if isinstance(doc.get(key), list):
                for j in range(len(doc[key])):
                    locate[f"{key}.{j}"] = f"{where}.{key}[{j}]"
        locate.update({k: f"{where}.{k}" for k in _TOTAL_KEYS})
        cand.locate = locate
        yield cand


def _json_shape(doc: dict[str, Any], where: str) -> tuple[str, str] | None:
    """(where, what) when a list or object in the document is larger than any document
    needs; checked before validation, which would otherwise report each entry."""
    stack: list[tuple[Any, str]] = [(doc, where)]
    total = 0
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            if len(value) > MAX_FIELDS:
                return at, (
                    f"has {len(value):,} fields; at most {MAX_FIELDS} are possible: "
                    "check that this is a document export"
                )
            items: Iterable[tuple[Any, Any]] = value.items()
        else:
            if len(value) > MAX_LINES:
                return at, (
                    f"has {len(value):,} entries; at most {MAX_LINES:,} fit in one document: "
                    "split it into several documents"
                )
            items = enumerate(value)
        total += len(value)
        if total > MAX_DOCUMENT_VALUES:
            return where, (
                f"holds more than {MAX_DOCUMENT_VALUES:,} values; split it into several documents"
            )
        for k, v in items:
            if isinstance(v, dict | list):
                stack.append((v, f"{at}[{k}]" if isinstance(k, int) else f"{at}.{_clip(k)}"))
    return None


def _numbers(item: Any, where: str, problems: _Problems) -> tuple[Any, bool]:
    """A line or open item with its numbers checked; True when one was refused."""
    if not isinstance(item, dict):
        return item, False
    out = dict(item)
    flawed = False
    for key in ("quantity", "unit_price", "vat_rate", "amount", "open_amount"):
        if key in out:
            value, problem = _number(out[key], key, _BOUNDS[key])
            if problem:
                problems.add(where, problem)
                flawed = True
            out[key] = value
    return out, flawed
