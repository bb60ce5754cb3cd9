"""A structural PDF/A-3b check, with the real tools: qpdf, pdffonts, pypdf, lxml."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from lxml import etree
from pypdf import PdfReader

NS = {
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}


def font_rows(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def assert_pdfa3b(pdf: bytes, path: Path) -> etree._Element:
    """Output intent, XMP with pdfaid part 3 / B, every font embedded, no encryption or
    JavaScript, qpdf finds no damage. Returns the XMP for further checks."""
    path.write_bytes(pdf)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    rows = font_rows(path)
    assert rows, "no fonts at all"
    # columns: name type encoding emb sub uni object ID (type may be two words)
    assert all(row[-5] == "yes" for row in rows), rows
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.is_encrypted
    root = reader.trailer["/Root"].get_object()
    assert "/OpenAction" not in root and "/AA" not in root
    names = root.get("/Names")
    assert names is None or "/JavaScript" not in names.get_object()
    intents = root["/OutputIntents"]
    assert len(intents) == 1
    intent = intents[0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "
    meta = root["/Metadata"].get_object()
    xmp = etree.fromstring(meta.get_data())
    assert xmp.findtext(".//pdfaid:part", namespaces=NS) == "3"
    assert xmp.findtext(".//pdfaid:conformance", namespaces=NS) == "B"
    title = xmp.findtext(".//dc:title/rdf:Alt/rdf:li", namespaces=NS)
    assert title and title == reader.metadata.title
    for page in reader.pages:
        group = page.get("/Group")
        assert group is None or group.get_object().get("/S") != "/Transparency"
    return xmp
