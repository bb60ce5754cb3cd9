"""The print list combined as it is read (mailing/batches/print_list.py): real documents of the
demo, read back with qpdf, pdftotext and pdffonts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pypdf import PdfReader

from mailing.batches.print_list import combine
from mailing.config import ConfigSnapshot, load_documents
from mailing.demo import load_demo
from mailing.pdf.render import render_stored_document
from store.store import Store
from tests.pdf_helpers import background_pdf


def pages_text(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode().split("\f")[:-1]


def test_the_combined_list_holds_every_page_in_order_and_checks_clean(tmp_path: Path) -> None:
    store = Store(tmp_path / "h", "demo")
    load_demo(store)
    cfg = ConfigSnapshot.load(store)
    invoices = [d for d in load_documents(store) if d.type == "sales_invoice"][:4]
    inputs = []
    for i, d in enumerate(invoices):
        path = tmp_path / f"{i}-{d.number}.pdf"
        path.write_bytes(render_stored_document(store, cfg, d))
        inputs.append(path)
    two_pages = tmp_path / "two.pdf"  # another producer, two pages
    two_pages.write_bytes(background_pdf("first page here", "second page here"))
    inputs.insert(2, two_pages)

    dest = tmp_path / "print.pdf"
    n_pages = sum(len(PdfReader(p).pages) for p in inputs)
    assert n_pages >= 6
    assert combine(iter(inputs), dest) == n_pages
    check = subprocess.run(["qpdf", "--check", str(dest)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors" in check.stdout
    expected = [t for p in inputs for t in pages_text(p)]
    assert pages_text(dest) == expected
    whole = "".join(pages_text(dest))
    at = [whole.index(d.number) for d in invoices]
    assert at == sorted(at) and whole.index("second page here") < at[2]
    fonts = subprocess.run(["pdffonts", str(dest)], capture_output=True, text=True, check=True)
    assert " yes " in fonts.stdout  # the documents' fonts came along, embedded
    assert len(PdfReader(dest).pages) == n_pages
    assert not list(tmp_path.glob(".print.pdf.tmp-*"))
