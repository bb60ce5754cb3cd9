"""What the hostile-import tests share: a store, the refusal helper that also checks
nothing was written and no Python words reached the user, small document builders."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mailing.importer import (
    ImportProblems,
    import_documents,
)
from store.records import Document
from store.store import Store
from tests.pdf_helpers import setup_store

# Words that must never reach an office administrator.
PYTHON_WORDS = re.compile(
    r"Traceback|RecursionError|ValueError|UnicodeDecodeError|InvalidOperation|Overflow\b|"
    r"csv\.Error|_csv\.|JSONDecodeError|DefusedXml|EntitiesForbidden|DTDForbidden|"
    r"Input should be|lines\.\d|open_items\.\d|sys\.set_int_max_str_digits"
)


def import_store(tmp_path: Path) -> Store:
    """A data folder with the administration and relations the documents name."""
    return setup_store(tmp_path / "home")


def snapshot(home: Path) -> dict[str, bytes]:
    """Every file of the data folder with its bytes."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the suite) when the block uses more than ``seconds`` of CPU
    (a busy machine does not count against it), or is stuck for ten times as long."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s of CPU (or {10 * seconds} s stuck)")

    old_prof = signal.signal(signal.SIGPROF, expired)
    old_alarm = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.alarm(10 * seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.alarm(0)
        signal.signal(signal.SIGPROF, old_prof)
        signal.signal(signal.SIGALRM, old_alarm)


def refused(store: Store, path: Path, **kw: Any) -> ImportProblems:
    """Import ``path``, expect a refusal in bounded time, and check nothing was written."""
    before = snapshot(store.home)
    with deadline(60), pytest.raises(ImportProblems) as info:
        import_documents(store, path, administration=kw.pop("administration", "A1"), **kw)
    assert snapshot(store.home) == before
    assert store.all(Document) == []
    text = str(info.value)
    assert not PYTHON_WORDS.search(text), text
    assert "Nothing was imported" in text and "Fix:" in text
    return info.value


def where(exc: ImportProblems) -> list[str]:
    return [w for w, _ in exc.problems]


def problem_at(exc: ImportProblems, place: str) -> str:
    found = [what for w, what in exc.problems if w == place]
    assert found, f"no problem at {place!r}; problems: {exc.problems}"
    return found[0]


def invoice(number: str = "1", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "sales_invoice",
        "number": number,
        "relation": "C100",
        "date": "2025-03-01",
        "lines": [{"description": "Paper", "quantity": 1, "unit_price": "4.95"}],
    }
    doc.update(extra)
    return doc


def write_json(folder: Path, *docs: dict[str, Any], name: str = "docs.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"documents": list(docs)}))
    return path
