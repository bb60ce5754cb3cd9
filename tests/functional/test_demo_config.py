"""The demo installation and the configuration exchange, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store.records import DOC_TYPES, Document, LanguageCode, Profile, Relation
from store.store import Store
from tests.conftest import ROOT, cli_env


def mailroom(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=ROOT,
        input=stdin,
        timeout=120,
    )


def test_demo_export_import_export_round_trip(tmp_path: Path) -> None:
    home, other = tmp_path / "demo", tmp_path / "empty"
    loaded = mailroom("--home", str(home), "demo", "--no-tui")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo loaded" in loaded.stdout
    first = mailroom("--home", str(home), "config", "export")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["format"] == "mailroom-config"
    assert len(data["administrations"]) == 2
    assert len(data["relations"]) == 40
    assert {lc["code"] for lc in data["language_codes"]} == {"NL", "EN", "DE"}
    export_file = tmp_path / "config.json"
    export_file.write_text(first.stdout)
    assert mailroom("--home", str(other), "init").returncode == 0  # only init makes one
    imported = mailroom("--home", str(other), "config", "import", str(export_file))
    assert imported.returncode == 0, imported.stderr
    second = mailroom("--home", str(other), "config", "export")
    assert second.stdout == first.stdout
    # the letterheads came along as files, byte for byte
    store = Store(other)
    lc = store.get(LanguageCode, "HOLT/DE")
    assert lc.first_background is not None
    assert store.files.read(lc.first_background).startswith(b"%PDF")


def test_demo_is_idempotent_and_realistic(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    for _ in range(2):
        assert mailroom("--home", str(home), "demo", "--no-tui").returncode == 0
    store = Store(home)
    assert len(store.all(Relation)) == 40
    docs = store.all(Document)
    assert sum(d.type == "sales_invoice" for d in docs) >= 200
    assert {d.type for d in docs} == set(DOC_TYPES)
    outbox = [p for p in store.all(Profile) if p.system == "outbox"]
    assert outbox and all(p.outbox_dir == "outbox" for p in outbox)
    assert store.system().profile == "SYSTEM"


def test_import_with_problems_lists_all_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert mailroom("--home", str(home), "demo", "--no-tui").returncode == 0
    before = (home / "mailroom.json").read_bytes()
    data = json.loads(mailroom("--home", str(home), "config", "export").stdout)
    data["profiles"][0]["port"] = "many"
    data["relations"][3]["opt_in"] = ["invoices"]
    data["relations"][5]["language"] = "FR"
    data["templates"][0]["colour"] = "blue"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    run = mailroom("--home", str(home), "config", "import", str(bad))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "4 problem(s)" in run.stderr or "problem(s)" in run.stderr
    assert "profiles[0].port" in run.stderr
    assert "relations[3].opt_in.0" in run.stderr and "'invoices'" in run.stderr
    assert "language code 'FR' does not exist" in run.stderr
    assert "templates[0].colour" in run.stderr
    assert (home / "mailroom.json").read_bytes() == before


def test_import_of_non_json_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "mailroom-config",\n "version": 1,,}')
    assert mailroom("--home", str(tmp_path / "h"), "init").returncode == 0
    run = mailroom("--home", str(tmp_path / "h"), "config", "import", str(bad))
    assert run.returncode == 2
    assert "line 2" in run.stderr and str(bad) in run.stderr


def test_demo_letterhead_leaves_out_empty_fields(tmp_path: Path) -> None:
    """An administration without website, phone or e-mail gets no stray '·' separators."""
    from mailing.demo.letterhead import letterhead_pdf
    from store.records import Administration

    admin = Administration(
        code="SOLO", name="Solo BV", address=["Kerkstraat 1", "1234 AB Utrecht"], iban="NL91"
    )
    pdf = tmp_path / "lh.pdf"
    pdf.write_bytes(letterhead_pdf(admin))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "Kerkstraat 1 · 1234 AB Utrecht" in " ".join(" ".join(lines).split())
    assert "Solo BV · IBAN NL91" in " ".join(" ".join(lines).split())
    for line in lines:
        assert not line.endswith("·") and not line.startswith("·"), line
        assert "·  ·" not in line and "· ·" not in line, line
    assert "KvK" not in text and "BTW" not in text
