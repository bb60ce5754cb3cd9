"""Documents kept one file per month: what a month's work reads, the move from one
``documents.json``, crashes and damaged files (store/documents*.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store.db import Database
from store.documents_files import PART_SIZE
from store.errors import CorruptDatabaseError
from store.records import Document, DocumentLine
from store.store import Store
from tests.conftest import ROOT


def doc(number: str, date: str, admin: str = "A", doc_type: str = "sales_invoice") -> Document:
    return Document(
        administration=admin,
        type=doc_type,
        number=number,
        relation="R1",
        date=dt.date.fromisoformat(date),
        lines=[DocumentLine(description=f"work {number}", unit_price="10")],
    )


def parts(home: Path) -> dict[str, int]:
    """part of a month -> how many documents it holds, from the index."""
    index = json.loads((home / "documents" / "index.json").read_bytes())
    return {p: e["count"] for p, e in index["periods"].items()}


def months(home: Path) -> set[str]:
    return {p.rsplit("-p", 1)[0] for p in parts(home)}


def numbers(store: Store) -> dict[str, str]:
    """number -> date of every stored document."""
    with store.view(Document) as tx:
        return {d.number: d.date.isoformat() for d in tx.all(Document)}


def test_each_month_is_its_own_file_and_a_month_is_read_without_the_others(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "h")
    store.put_many([doc("F1", "2021-03-05"), doc("F2", "2021-03-20"), doc("F3", "2026-11-02")])
    store.put(doc("C1", "2026-11-03", doc_type="counter_invoice"))
    assert months(store.home) == {"2021-03", "2026-11"}
    # An old month's file is damaged: this month's work does not read it.
    index = json.loads((store.home / "documents" / "index.json").read_bytes())
    old = store.home / "documents" / index["periods"]["2021-03-p0000"]["file"]
    old.write_bytes(b"{ damaged")
    with store.view(Document) as tx:
        this_month = sorted(d["number"] for d in tx.select(date_from="2026-11-01"))
        assert this_month == ["C1", "F3"]
        assert [d["number"] for d in tx.select(doc_type="counter_invoice")] == ["C1"]
        assert tx.find(Document, "A/sales_invoice/F3") is not None
        assert [d["number"] for d in tx.find_number("sales_invoice", "F3")] == ["F3"]
        # Reading everything names the damaged file.
        with pytest.raises(CorruptDatabaseError) as err:
            tx.all(Document)
    assert old.name in str(err.value)


def test_a_new_date_moves_a_document_to_its_month_and_a_delete_removes_it(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "h")
    store.put_many([doc("F1", "2026-10-30"), doc("F2", "2026-10-31")])
    store.put(doc("F1", "2026-11-02"))  # corrected date: now November's
    assert numbers(Store(store.home)) == {"F1": "2026-11-02", "F2": "2026-10-31"}
    assert months(store.home) == {"2026-10", "2026-11"}
    assert store.delete(Document, "A/sales_invoice/F2")
    assert not store.delete(Document, "A/sales_invoice/F2")
    assert months(store.home) == {"2026-11"}  # an emptied month has no file
    assert numbers(Store(store.home)) == {"F1": "2026-11-02"}
    # Only the files the kept indexes name are left.
    left = {p.name for p in (store.home / "documents").glob("*.json")}
    assert {"index.json", "index.1.json"} <= left
    assert not [p for p in left if p.startswith("2026-10-")][3:]


def test_a_busy_month_is_cut_in_parts_of_bounded_size(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    store.put_many(doc(f"F{i:04d}", "2026-11-02") for i in range(PART_SIZE + 300))
    store.put_many(doc(f"G{i:04d}", "2026-11-03") for i in range(PART_SIZE))
    assert parts(store.home) == {
        "2026-11-p0000": PART_SIZE,
        "2026-11-p0001": PART_SIZE,
        "2026-11-p0002": 300,
    }
    with store.view(Document) as tx:
        assert tx.find(Document, "A/sales_invoice/G0999") is not None
        assert sum(1 for _ in tx.select(date_from="2026-11-03")) == PART_SIZE
        recent, older = tx.recent(10)
    assert [d["number"] for d in recent] == [f"G{i:04d}" for i in range(999, 989, -1)]
    assert older == "2026-11-03"  # the newest ten, and older ones were left out
    with store.view(Document) as tx:
        assert len(tx.recent(5000)[0]) == 2 * PART_SIZE + 300 and tx.recent(5000)[1] is None


def test_a_transaction_that_fails_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "h")
    store.put(doc("F1", "2026-11-01"))
    with pytest.raises(RuntimeError), store.transaction(Document) as tx:
        tx.put(doc("F2", "2026-11-02"))
        tx.delete(Document, "A/sales_invoice/F1")
        raise RuntimeError("stop")
    assert numbers(Store(store.home)) == {"F1": "2026-11-01"}


def legacy_folder(home: Path, docs: list[Document]) -> bytes:
    """A data folder as an older Mailroom left it: every document in one documents.json."""
    home.mkdir(parents=True)
    with Database(home / "documents.json").transaction() as db:
        table = db.table("documents")
        for d in docs:
            table.insert({**d.dump(), "_key": d.key})
    return (home / "documents.json").read_bytes()


def history(n_months: int, per_month: int) -> list[Document]:
    out = []
    for m in range(n_months):
        year, month = 2020 + m // 12, m % 12 + 1
        for i in range(per_month):
            out.append(doc(f"H{m:03d}-{i:04d}", f"{year}-{month:02d}-{1 + i % 28:02d}"))
    return out


def test_an_older_documents_json_is_moved_into_months_on_first_open(tmp_path: Path) -> None:
    home = tmp_path / "h"
    docs = history(14, 5)
    legacy_folder(home, docs)
    store = Store(home)
    assert numbers(store) == {d.number: d.date.isoformat() for d in docs}
    assert len(months(home)) == 14
    assert not (home / "documents.json").exists()
    assert (home / "backups" / "documents.json.migrated").exists()
    # The CLI reads the moved documents like any others.
    run = subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), "documents", "show"]
        + ["sales_invoice", "H013-0004"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "H013-0004" in run.stdout and "2021-02-05" in run.stdout


MIGRATE = """
import signal, resource, sys
sys.path.insert(0, {root!r})
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # the kernel kills it at the limit
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
from pathlib import Path
from store.store import Store
Store(Path({home!r})).documents
"""


def test_a_kill_in_the_middle_of_the_move_leaves_the_old_layout(tmp_path: Path) -> None:
    home = tmp_path / "h"
    docs = history(12, 3)
    docs += [doc(f"BIG{i:04d}", "2023-06-15") for i in range(400)]  # one large month
    legacy = legacy_folder(home, docs)
    os.chmod(home / "documents.json", 0o600)
    # Killed by the kernel when it writes past 64 KB in one file: the large month, after
    # other months were written and before the index.
    script = MIGRATE.format(root=str(ROOT), home=str(home), limit=64 * 1024)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert run.returncode == -signal.SIGXFSZ, run.stderr
    written = [p.name for p in (home / "documents").glob("20*.json")]
    assert written, "the kill came before any month was written"
    assert not (home / "documents" / "index.json").exists()
    assert (home / "documents.json").read_bytes() == legacy  # the old layout, untouched
    # The next open moves it whole.
    store = Store(home)
    assert numbers(store) == {d.number: d.date.isoformat() for d in docs}
    assert not (home / "documents.json").exists()


def test_a_kill_after_the_index_and_before_the_old_file_is_moved_keeps_the_new(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    docs = history(3, 4)
    legacy_folder(home, docs)
    Store(home).put(doc("NEW1", "2026-11-02"))  # moved, then a new document
    # What a kill between the index and the move of the old file leaves: both.
    shutil.copy(home / "backups" / "documents.json.migrated", home / "documents.json")
    store = Store(home)
    found = numbers(store)
    assert found["NEW1"] == "2026-11-02" and len(found) == len(docs) + 1
    assert not (home / "documents.json").exists()


def test_a_damaged_index_names_its_good_copy_and_restore_copy_puts_it_back(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    store = Store(home)
    store.put(doc("F1", "2026-11-01"))
    store.put(doc("F2", "2026-11-02"))
    (home / "documents" / "index.json").write_bytes(b"not json")
    with pytest.raises(CorruptDatabaseError) as err:
        numbers(Store(home))
    assert "index.json" in str(err.value) and "index.1.json" in str(err.value)
    run = subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), "db", "restore-copy", "--documents"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert numbers(Store(home)) == {"F1": "2026-11-01"}  # the copy before the last write
