"""`mailroom documents list` with years of history: the newest page by default, saying
so; dates or --all for more; a bad date is a sentence."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from store.records import Document, DocumentLine
from store.store import Store
from tests.conftest import ROOT, cli_env


def mailroom(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=120,
    )


def _doc(number: str, date: dt.date, doc_type: str = "sales_invoice") -> Document:
    return Document(
        administration="A",
        type=doc_type,
        number=number,
        relation="R1",
        date=date,
        lines=[DocumentLine(description="work", unit_price="10")],
    )


def test_documents_list_shows_the_newest_and_says_how_to_see_older(tmp_path: Path) -> None:
    home = tmp_path / "h"
    start = dt.date(2023, 1, 1)
    # 1,100 invoices, one a day from 2023-01-01 (the newest on 2026-01-04), and 30
    # reminders in the newest month: the reminders must not use up the invoices' page.
    invoices = [_doc(f"F{i:05d}", start + dt.timedelta(days=i)) for i in range(1100)]
    newest = start + dt.timedelta(days=1099)
    reminders = [_doc(f"H{i:03d}", newest, "reminder") for i in range(30)]
    Store(home).put_many([*invoices, *reminders])

    page = mailroom(home, "documents", "list", "--type", "sales_invoice", "--json")
    assert page.returncode == 0, page.stderr
    shown = json.loads(page.stdout)
    assert len(shown) == 1000
    assert {d["number"] for d in shown} == {f"F{i:05d}" for i in range(100, 1100)}
    oldest = (start + dt.timedelta(days=100)).isoformat()
    assert f"The newest 1,000 document(s), from {oldest} on" in page.stderr
    assert "--all every one" in page.stderr and "--from DATE" in page.stderr

    every = mailroom(home, "documents", "list", "--type", "sales_invoice", "--all", "--json")
    assert every.returncode == 0, every.stderr
    assert len(json.loads(every.stdout)) == 1100
    assert every.stderr == ""

    since = mailroom(home, "documents", "list", "--type", "sales_invoice", "--from", "2026-01-01")
    assert since.returncode == 0, since.stderr
    listed = [line.split()[2] for line in since.stdout.splitlines()[1:] if line.startswith("A ")]
    assert listed == ["F01096", "F01097", "F01098", "F01099"]
    assert "4 document(s)" in since.stdout

    few = mailroom(home, "documents", "list", "--type", "reminder", "--json")
    assert len(json.loads(few.stdout)) == 30 and few.stderr == ""  # nothing left out

    bad = mailroom(home, "documents", "list", "--from", "2026-13-01")
    assert bad.returncode == 2
    assert "--from '2026-13-01' is not a date" in bad.stderr
    assert "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr
