"""Hostile and careless import files: every one is refused with a plain message that
names the place in the file, the value and the fix; never a traceback, never a hang,
never a large read, and nothing is written to the data folder."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mailing.importer import (
    MAX_CSV_ROWS,
    MAX_CSV_SEPARATORS,
    MAX_DOCUMENTS,
    MAX_JSON_VALUES,
    MAX_LINES,
    MAX_XML_TAGS,
    ImportProblems,
    import_documents,
)
from store.records import Document
from store.store import Store
from tests.conftest import PYTHON, cli_env
from tests.pdf_helpers import setup_store

# Words that must never reach an office administrator.
PYTHON_WORDS = re.compile(
    r"Traceback|RecursionError|ValueError|UnicodeDecodeError|InvalidOperation|Overflow\b|"
    r"csv\.Error|_csv\.|JSONDecodeError|DefusedXml|EntitiesForbidden|DTDForbidden|"
    r"Input should be|lines\.\d|open_items\.\d|sys\.set_int_max_str_digits"
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
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
    """Fail (rather than hang the suite) when the block takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


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


# ---------------------------------------------------------------- attachments


def test_attachment_proc_self_environ_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "in", invoice(attachments=["/proc/self/environ"]))
    exc = refused(store, path)
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "/proc/self/environ" in what and "absolute" in what


def test_attachment_under_proc_is_refused_even_inside_the_named_folder(
    store: Store, tmp_path: Path
) -> None:
    # The administrator named / as the attachments folder: /proc stays out of bounds.
    path = write_json(tmp_path / "in", invoice(attachments=["proc/self/environ"]))
    exc = refused(store, path, attachments_dir="/")
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "system" in what and "proc/self/environ" in what
    # ... and so are /sys and /dev.
    path = write_json(tmp_path / "in", invoice(attachments=["dev/zero", "sys/kernel/notes"]))
    exc = refused(store, path, attachments_dir="/")
    assert where(exc) == ["documents[0].attachments[0]", "documents[0].attachments[1]"]


def test_attachments_folder_under_proc_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "in", invoice(attachments=["environ"]))
    exc = refused(store, path, attachments_dir="/proc/self")
    assert "--attachments" in where(exc)


def test_attachment_etc_passwd_via_dotdot_is_refused(store: Store, tmp_path: Path) -> None:
    depth = len(tmp_path.parts) + 2
    spec = "../" * depth + "etc/passwd"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "terms.txt").write_text("terms")
    path = write_json(tmp_path / "in", invoice(attachments=[spec, "sub/../terms.txt"]))
    exc = refused(store, path)
    first = problem_at(exc, "documents[0].attachments[0]")
    assert "'..'" in first and "../../" in first
    assert "'..'" in problem_at(exc, "documents[0].attachments[1]")


def test_attachment_symlink_out_of_the_folder_is_refused(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("not for customers")
    (folder / "terms.pdf").symlink_to(tmp_path / "secret.txt")
    (folder / "env").symlink_to("/proc/self/environ")
    (folder / "subdir").symlink_to(tmp_path)  # a folder link that leaves, then a file in it
    path = write_json(folder, invoice(attachments=["terms.pdf", "env", "subdir/secret.txt"]))
    exc = refused(store, path)
    assert where(exc) == [f"documents[0].attachments[{i}]" for i in range(3)]
    assert "outside" in problem_at(exc, "documents[0].attachments[0]")


def test_symlink_that_stays_inside_the_folder_is_fine(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "pdfs").mkdir(parents=True)
    (folder / "pdfs" / "terms-2025.pdf").write_bytes(b"%PDF-1.4 terms")
    (folder / "terms.pdf").symlink_to("pdfs/terms-2025.pdf")
    path = write_json(folder, invoice(attachments=["terms.pdf"]))
    import_documents(store, path, administration="A1")
    (doc,) = store.all(Document)
    assert [a.name for a in doc.attachments] == ["terms.pdf"]
    assert store.files.read(doc.attachments[0]) == b"%PDF-1.4 terms"


def test_non_regular_attachments_are_refused_without_hanging(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "adir").mkdir(parents=True)
    os.mkfifo(folder / "pipe")
    path = write_json(folder, invoice(attachments=["pipe", "adir", "missing.pdf"]))
    exc = refused(store, path)
    assert "not a regular file" in problem_at(exc, "documents[0].attachments[0]")
    assert "folder" in problem_at(exc, "documents[0].attachments[1]")
    assert "does not exist" in problem_at(exc, "documents[0].attachments[2]")


def test_attachment_over_the_size_limit_is_refused_before_reading(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "huge.pdf", "wb") as f:
        f.truncate(3 * 1024**3)  # sparse: no disk space, no time
    path = write_json(folder, invoice(attachments=["huge.pdf"]))
    start = time.monotonic()
    exc = refused(store, path)
    assert time.monotonic() - start < 10
    what = problem_at(exc, "documents[0].attachments[0]")
    assert "huge.pdf" in what and "3,221.2 MB" in what and "50 MB" in what


# Runs the import in a child of a small wrapper, so that RUSAGE_CHILDREN holds that
# one process only (not every subprocess this test session started before).
_MEASURE = """
import json, resource, subprocess, sys
limit = int(sys.argv[1])
def cap():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
p = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=120, preexec_fn=cap)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": p.returncode, "out": p.stdout, "err": p.stderr, "peak": peak}))
"""


def run_cli_measured(home: Path, *args: str, address_limit: int = 0) -> dict[str, Any]:
    cmd = [PYTHON, "-m", "tui", "--home", str(home), "documents", "import", *args]
    out = subprocess.run(
        [PYTHON, "-c", _MEASURE, str(address_limit), *cmd],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=180,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    result["peak_mb"] = result["peak"] * unit / 1024**2
    return result


def test_sparse_3gb_attachment_cli_refuses_with_low_memory(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "backup.tar", "wb") as f:
        f.truncate(3 * 1024**3)
    path = write_json(folder, invoice(attachments=["backup.tar"]))
    before = snapshot(store.home)
    res = run_cli_measured(store.home, str(path), "--admin", "A1")
    assert res["rc"] == 2, res
    assert "documents[0].attachments[0]" in res["err"] and "backup.tar" in res["err"]
    assert "Traceback" not in res["err"]
    assert res["peak_mb"] < 200, res["peak_mb"]
    assert snapshot(store.home) == before


def test_cli_attachments_option_names_the_folder(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    files = tmp_path / "pdfs"
    files.mkdir()
    (files / "terms.pdf").write_bytes(b"%PDF terms")
    path = write_json(tmp_path / "exports", invoice(attachments=["terms.pdf"]))
    home = str(store.home)
    # Relative to the import file's folder by default: not there.
    assert main(["--home", home, "documents", "import", str(path), "--admin", "A1"]) == 2
    err = capsys.readouterr().err
    assert "documents[0].attachments[0]" in err and "does not exist" in err
    assert "--attachments" in err  # the message tells how to point elsewhere
    # A folder that is not there is named as such.
    args = ["--home", home, "documents", "import", str(path), "--admin", "A1"]
    assert main([*args, "--attachments", str(tmp_path / "nope")]) == 2
    assert "--attachments" in capsys.readouterr().err
    assert main([*args, "--attachments", str(files)]) == 0
    (doc,) = store.all(Document)
    assert store.files.read(doc.attachments[0]) == b"%PDF terms"


def test_attachment_entries_are_checked(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "terms.pdf").write_bytes(b"%PDF")
    path = write_json(
        folder,
        invoice(
            attachments=[
                {"path": "terms.pdf", "name": "x\x1b[2J.pdf"},
                {"path": "terms.pdf", "nmae": "y.pdf"},
                "",
                "terms.pdf\x00.txt",
            ]
        ),
    )
    exc = refused(store, path)
    assert where(exc) == [f"documents[0].attachments[{i}]" for i in range(4)]


# ---------------------------------------------------------------- the import file itself


def test_import_file_that_is_not_a_regular_file_is_refused(store: Store, tmp_path: Path) -> None:
    fifo = tmp_path / "docs.json"
    os.mkfifo(fifo)
    exc = refused(store, fifo)
    assert "not a regular file" in str(exc)
    exc = refused(store, tmp_path)
    assert "folder" in str(exc)


def test_import_from_dev_zero_is_refused_quickly_and_small(store: Store) -> None:
    res = run_cli_measured(store.home, "/dev/zero", "--admin", "A1", address_limit=2 * 1024**3)
    assert res["rc"] == 2, res
    assert "not a regular file" in res["err"] and "Traceback" not in res["err"]
    assert res["peak_mb"] < 200


# ---------------------------------------------------------------- hostile data


def test_deeply_nested_json_is_refused_with_a_depth_message(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000)
    start = time.monotonic()
    exc = refused(store, path)
    assert time.monotonic() - start < 5
    assert "nested" in str(exc) and "64" in str(exc)
    assert where(exc) == ["line 1, column 65"]


def test_json_unclosed_string_full_of_escaped_quotes_is_quick(store: Store, tmp_path: Path) -> None:
    # A string that never ends, full of escaped quotes: each quote could start a string.
    path = tmp_path / "quotes.json"
    path.write_text('["' + '\\"' * 2_000_000)
    start = time.monotonic()
    exc = refused(store, path)
    assert time.monotonic() - start < 10
    assert "invalid JSON" in problem_at(exc, "line 1, column 2")


def test_json_nesting_inside_strings_does_not_count(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path, invoice(reference="[" * 100 + '"\\"' + "{" * 100))
    import_documents(store, path, administration="A1")
    assert store.all(Document)[0].reference.startswith("[[[")


def test_json_with_a_5000_digit_integer_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    doc = json.dumps(invoice()).replace('"quantity": 1', '"quantity": ' + "9" * 5000)
    path.write_text(f'{{"documents": [{doc}]}}')
    exc = refused(store, path)
    what = problem_at(exc, "documents[0].lines[0]")
    assert "quantity" in what and "999..." in what and "too large" in what
    assert len(str(exc)) < 2000  # the value is shortened


def test_json_too_many_values_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    values = ",".join(["0"] * (MAX_JSON_VALUES + 10))
    path.write_text('{"documents": [], "padding": [' + values + "]}")
    exc = refused(store, path)
    assert f"more than {MAX_JSON_VALUES:,} values" in problem_at(exc, "file")


def test_json_too_many_documents_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text("[" + ",".join(["{}"] * (MAX_DOCUMENTS + 1)) + "]")
    exc = refused(store, path)
    assert f"at most {MAX_DOCUMENTS:,}" in problem_at(exc, "file")


def test_json_oversized_lists_and_objects_are_refused_before_validation(
    store: Store, tmp_path: Path
) -> None:
    # Validation would report every one of 200,000 bad addresses (and take a GB to do it).
    order = invoice(
        "PO-1", type="purchase_order", relation="S100", order_override={"to": [0] * 200_000}
    )
    wide = invoice("2", **{f"field{i}": 1 for i in range(100)})
    path = write_json(tmp_path, order, wide)
    start = time.monotonic()
    exc = refused(store, path)
    assert time.monotonic() - start < 10
    assert f"at most {MAX_LINES:,}" in problem_at(exc, "documents[0].order_override.to")
    assert "at most 64" in problem_at(exc, "documents[1]")
    assert len(exc.problems) == 2


def test_document_with_too_many_lines_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    row = "sales_invoice,1,C100,2025-03-01,Paper\n"
    path.write_text("type,number,relation,date,line_description\n" + row * (MAX_LINES + 1))
    exc = refused(store, path)
    assert f"at most {MAX_LINES:,}" in problem_at(exc, "line 2")


def test_csv_field_over_the_limit_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,line_description\n"
        "sales_invoice,1,C100,2025-03-01,Paper\n"
        f'sales_invoice,1,C100,2025-03-01,"{"x" * 140_000}"\n'
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 3")
    assert "131,072" in what


@pytest.mark.parametrize(
    "value", ["9e999999", "9E+99999999999", "Infinity", "-inf", "NaN", "sNaN", "1e12", "0.00001"]
)
def test_csv_amount_must_be_finite_bounded_and_short(
    store: Store, tmp_path: Path, value: str
) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "type,number,relation,date,line_description,quantity,unit_price\n"
        f"sales_invoice,1,C100,2025-03-01,Paper,1,{value}\n"
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 2, column unit_price")
    assert value in what


def test_csv_open_item_and_total_amounts_are_checked(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rem.csv"
    path.write_text(
        "type,number,relation,date,item_number,item_date,item_due_date,item_amount,item_open_amount,total_incl\n"
        "reminder,R-5,C100,2025-04-30,2025-001,2025-03-01,2025-03-31,9e999999,1,1e400\n"
    )
    exc = refused(store, path)
    assert "9e999999" in problem_at(exc, "line 2, column item_amount")
    assert "1e400" in problem_at(exc, "line 2, column total_incl")


@pytest.mark.parametrize("value", ['"9e999999"', "9e999999", "Infinity", "NaN", '"-Infinity"'])
def test_json_amount_must_be_finite(store: Store, tmp_path: Path, value: str) -> None:
    path = tmp_path / "docs.json"
    doc = json.dumps(invoice()).replace('"unit_price": "4.95"', f'"unit_price": {value}')
    path.write_text(f'{{"documents": [{doc}]}}')
    exc = refused(store, path)
    assert "unit_price" in problem_at(exc, "documents[0].lines[0]")


def test_json_bounds_on_every_number(store: Store, tmp_path: Path) -> None:
    docs = [
        invoice("1", lines=[{"description": "x", "quantity": "1e10", "unit_price": 1}]),
        invoice("2", lines=[{"description": "x", "unit_price": "1.23456"}]),
        invoice("3", lines=[{"description": "x", "vat_rate": "1e9999"}]),
        invoice("4", total_incl="9e999999"),
        {
            "type": "reminder",
            "number": "R-1",
            "relation": "C100",
            "date": "2025-04-30",
            "open_items": [
                {
                    "number": "2025-001",
                    "date": "2025-03-01",
                    "due_date": "2025-03-31",
                    "amount": "1e999999",
                    "open_amount": "-9e999999",
                }
            ],
        },
    ]
    exc = refused(store, write_json(tmp_path, *docs))
    assert "quantity" in problem_at(exc, "documents[0].lines[0]")
    assert "4 decimals" in problem_at(exc, "documents[1].lines[0]")
    assert "vat_rate" in problem_at(exc, "documents[2].lines[0]")
    assert "9e999999" in problem_at(exc, "documents[3].total_incl")
    assert "amount" in problem_at(exc, "documents[4].open_items[0]")


def ubl_invoice(price: str = "4.95", total: str = "59.90", base: str = "1") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>INV-1</cbc:ID>
 <cbc:IssueDate>2025-03-01</cbc:IssueDate>
 <cac:AccountingCustomerParty><cac:Party>
  <cac:PartyIdentification><cbc:ID>C100</cbc:ID></cac:PartyIdentification>
 </cac:Party></cac:AccountingCustomerParty>
 <cac:LegalMonetaryTotal>
  <cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>
 </cac:LegalMonetaryTotal>
 <cac:InvoiceLine>
  <cbc:ID>1</cbc:ID>
  <cbc:InvoicedQuantity unitCode="C62">10</cbc:InvoicedQuantity>
  <cbc:LineExtensionAmount currencyID="EUR">49.50</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Paper</cbc:Name>
   <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent></cac:ClassifiedTaxCategory>
  </cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">{price}</cbc:PriceAmount>
   <cbc:BaseQuantity>{base}</cbc:BaseQuantity></cac:Price>
 </cac:InvoiceLine>
</Invoice>
"""


@pytest.mark.parametrize(
    ("price", "total", "base", "place"),
    [
        ("9e999999", "59.90", "1", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount"),
        ("1e30", "59.90", "1", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount"),
        ("4.95", "9e999999", "1", "/Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
        ("4.95", "59.90", "1e-999999", "/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:BaseQuantity"),
        ("99999999999", "59.90", "0.0001", "/Invoice/cac:InvoiceLine[1]"),
    ],
)
def test_ubl_amounts_must_be_finite_and_bounded(
    store: Store, tmp_path: Path, price: str, total: str, base: str, place: str
) -> None:
    path = tmp_path / "inv.xml"
    path.write_text(ubl_invoice(price, total, base))
    exc = refused(store, path)
    assert where(exc) == [place]  # and no follow-up problems about sums or missing lines


def test_ubl_with_entities_names_no_python_class(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Invoice>&lol;</Invoice>'
    )
    exc = refused(store, path)
    assert "DTDs or entities" in str(exc)


def test_latin1_csv_names_the_line_and_says_utf8(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_bytes(
        "type;number;relation;date;line_description\n"
        "sales_invoice;1;C100;2025-03-01;Paper\n"
        "sales_invoice;1;C100;2025-03-01;Caf\xe9 cr\xe8me\n".encode("latin-1")
    )
    exc = refused(store, path)
    what = problem_at(exc, "line 3")
    assert "UTF-8" in what and "Caf" in what
    assert "byte" not in what


def test_latin1_json_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_bytes(
        json.dumps({"documents": [invoice()]}, indent=1)
        .replace("Paper", "Pap\xe9r")
        .encode("latin-1")
    )
    exc = refused(store, path)
    assert "UTF-8" in problem_at(exc, "line 10")


def test_utf8_bom_is_accepted_for_json_and_csv(store: Store, tmp_path: Path) -> None:
    js = tmp_path / "docs.json"
    js.write_bytes(b"\xef\xbb\xbf" + json.dumps({"documents": [invoice("J1")]}).encode())
    import_documents(store, js, administration="A1")
    cs = tmp_path / "docs.csv"
    cs.write_bytes(
        b"\xef\xbb\xbftype;number;relation;date;line_description;unit_price\n"
        b"sales_invoice;C1;C100;2025-03-01;Caf\xc3\xa9;4,95\n"
    )
    import_documents(store, cs, administration="A1")
    noext = tmp_path / "docs"  # no extension: the content decides, after the BOM
    noext.write_bytes(b"\xef\xbb\xbf" + json.dumps([invoice("J2")]).encode())
    import_documents(store, noext, administration="A1")
    docs = {d.number: d for d in store.all(Document)}
    assert sorted(docs) == ["C1", "J1", "J2"]
    assert docs["C1"].lines[0].description == "Café"


def test_csv_line_with_millions_of_separators_is_refused_before_splitting(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "docs.csv"
    path.write_text("type;number;relation;date\n" + "x;" * 5_000_000 + "\n")
    exc = refused(store, path)
    assert f"more than {MAX_CSV_SEPARATORS:,} semicolons" in problem_at(exc, "line 2")


def test_ubl_with_too_many_tags_is_refused_before_parsing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inv.xml"
    path.write_text("<Invoice>" + "<a/>" * MAX_XML_TAGS + "</Invoice>")
    exc = refused(store, path)
    assert f"more than {MAX_XML_TAGS:,} XML tags" in problem_at(exc, "file")


def test_csv_too_many_rows_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    row = "sales_invoice,1,C100,2025-03-01,Paper\n"
    path.write_text("type,number,relation,date,line_description\n" + row * (MAX_CSV_ROWS + 1))
    exc = refused(store, path)
    assert f"more than {MAX_CSV_ROWS:,} rows" in problem_at(exc, f"line {MAX_CSV_ROWS + 2}")


# ---------------------------------------------------------------- where problems are


def test_reference_problems_name_the_field_where_the_docs_say(store: Store, tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        invoice("1", administration="A1", relation="NOPE", invoice_debtor="GONE"),
        invoice("2", administration="A1", relation="S100"),  # a supplier
        invoice("3", administration="A2"),
        invoice("4", administration=["A1"]),
    )
    exc = refused(store, path, administration=None)
    assert "'NOPE'" in problem_at(exc, "documents[0].relation")
    assert "'GONE'" in problem_at(exc, "documents[0].invoice_debtor")
    assert "supplier" in problem_at(exc, "documents[1].relation")
    assert "'A2'" in problem_at(exc, "documents[2].administration")
    assert "must be a code" in problem_at(exc, "documents[3].administration")
    # a document without any administration names the field to fill in
    exc = refused(store, write_json(tmp_path, invoice("4")), administration=None)
    assert "--admin" in problem_at(exc, "documents[0].administration")


def test_csv_reference_problems_name_line_and_column(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "docs.csv"
    path.write_text(
        "administration,type,number,relation,invoice_debtor,date,line_description\n"
        "A1,sales_invoice,1,NOPE,,2025-03-01,Paper\n"
        "A1,sales_invoice,2,C100,GONE,2025-03-01,Paper\n"
        ",sales_invoice,3,C100,,2025-03-01,Paper\n"
        "A9,sales_invoice,4,C100,,2025-03-01,Paper\n"
    )
    exc = refused(store, path, administration=None)
    assert "'NOPE'" in problem_at(exc, "line 2, column relation")
    assert "'GONE'" in problem_at(exc, "line 3, column invoice_debtor")
    assert "--admin" in problem_at(exc, "line 4, column administration")
    assert "'A9'" in problem_at(exc, "line 5, column administration")


def test_validation_messages_are_plain(store: Store, tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        invoice("1", lines=[{"description": "x", "unit_price": "abc"}]),
        invoice("2", date="tomorrow"),
        {**invoice(), "number": {"a": 1}},
    )
    exc = refused(store, path)
    assert "unit_price" in problem_at(exc, "documents[0].lines[0]")
    assert "2025-03-31" in problem_at(exc, "documents[1].date")  # shows the form to use
    assert problem_at(exc, "documents[2].number")


def test_many_problems_are_listed_but_bounded(store: Store, tmp_path: Path) -> None:
    docs = [invoice(str(i), relation="X" * 5000) for i in range(500)]
    exc = refused(store, write_json(tmp_path, *docs))
    assert len(exc.problems) == 500
    assert len(str(exc)) < 200 * 300
