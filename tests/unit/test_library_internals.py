"""The private parts of reportlab and smtplib that Mailroom uses, pinned by name: an
upgrade that changes one fails here instead of in a PDF or a TLS handshake. (Textual's:
tests/functional/tui/test_textual_internals.py.)

smtplib's go through mailing/transports/smtplib_adapter.py; reportlab's are used in
mailing/pdf/fonts.py (``draw_text``, ``_subset_name``), mailing/pdf/font_objects.py
(subsets written once) and mailing/pdf/pdfa.py (the fixed time stamp)."""

from __future__ import annotations

import inspect
import io
import smtplib

from mailing.pdf.faces import FONT_DIR
from mailing.transports.smtplib_adapter import set_tls_server_name


def test_smtplib_checks_the_certificate_against_the_name_in_host() -> None:
    smtp = smtplib.SMTP()
    set_tls_server_name(smtp, "mail.example.com")
    assert smtp._host == "mail.example.com"  # type: ignore[attr-defined]
    # ... and both ways into TLS hand that name to the TLS layer (SNI, certificate check).
    assert "server_hostname=self._host" in inspect.getsource(smtplib.SMTP.starttls)
    assert "server_hostname=self._host" in inspect.getsource(smtplib.SMTP_SSL._get_socket)


def test_reportlab_canvas_and_document_internals() -> None:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(io.BytesIO())
    assert isinstance(c._pageNumber, int)
    assert isinstance(c._code, list)  # the page's operators, appended to by draw_text
    assert c._escape("a(b)\\") == "a\\(b\\)\\\\"
    stamp = c._doc._timeStamp  # pdfa.py fixes the document's dates through it
    assert len(stamp.YMDhms) == 6 and hasattr(stamp, "dhh") and hasattr(stamp, "dmm")
    assert "BasicFonts" in c._doc.idToObject and hasattr(c._doc.idToObject["BasicFonts"], "dict")
    assert callable(c._doc.Reference)


def test_reportlab_truetype_internals() -> None:
    from reportlab.lib.rl_accel import fp_str
    from reportlab.pdfbase import ttfonts
    from reportlab.pdfgen.canvas import Canvas

    assert fp_str(1.5) == "1.5"
    assert ttfonts.FF_SYMBOLIC and ttfonts.FF_NONSYMBOLIC
    font = ttfonts.TTFont("PinnedDejaVu", str(FONT_DIR / "DejaVuSans.ttf"), asciiReadable=1)
    doc = Canvas(io.BytesIO())._doc
    for name in ("_assignState", "getSubsetInternalName", "splitString", "addObjects"):
        assert callable(getattr(font, name)), name
    assert hasattr(font, "state")
    split = font.splitString("AΩ", doc)  # [(subset, encoded bytes), ...]
    assert all(isinstance(n, int) and isinstance(b, bytes) for n, b in split)
    assert isinstance(font.getSubsetInternalName(0, doc), str)
    assert font._assignState(doc) is font.state[doc]
    assert list(inspect.signature(font.addObjects).parameters) == ["doc"]
    face = font.face
    assert face.getCharWidth(ord("A")) > 0
    for name in ("flags", "bbox", "italicAngle", "ascent", "descent", "charToGlyph"):
        assert hasattr(face, name), name
