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


def test_objects_with_strings_or_an_indirect_length_are_copied_whole(tmp_path: Path) -> None:
    """Most objects are copied as written, their references renumbered; one that holds a
    string (which may read like a reference, or hold ``endobj``) or a stream whose length
    is another object is parsed and written again: both come out whole."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter()
    writer.append(PdfReader(_bytes_file(tmp_path, background_pdf("strings page"))))
    note = DictionaryObject(
        {NameObject("/Note"): TextStringObject("see 1 0 R) endobj stream <not hex>")}
    )
    page = writer.pages[0]
    page[NameObject("/PieceInfo")] = writer._add_object(note)
    data = DecodedStreamObject()
    data.set_data(b"1 0 0 1 0 0 cm\n")
    data[NameObject("/Length")] = writer._add_object(NumberObject(15))
    page[NameObject("/Stream")] = writer._add_object(data)
    source = tmp_path / "strings.pdf"
    with open(source, "wb") as fh:
        writer.write(fh)
    dest = tmp_path / "print.pdf"
    assert combine([source, source], dest) == 2
    check = subprocess.run(["qpdf", "--check", str(dest)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert pages_text(dest) == pages_text(source) * 2
    for out_page in PdfReader(dest).pages:
        assert out_page["/PieceInfo"]["/Note"] == "see 1 0 R) endobj stream <not hex>"
        assert out_page["/Stream"].get_data() == b"1 0 0 1 0 0 cm\n"


def _bytes_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    return path
