"""The private parts of reportlab and smtplib that Mailroom uses, pinned by name: an
upgrade that changes one fails here instead of in a PDF or a TLS handshake. (Textual's:
tests/functional/tui/test_textual_internals.py.)

smtplib's go through mailing/transports/smtplib_adapter.py, reportlab's through
mailing/pdf/reportlab_adapter.py (and its writing of a document through
mailing/pdf/reportlab_writer.py, pinned byte for byte by tests/unit/test_reportlab_writer.py), pypdf's through mailing/pdf/pypdf_adapter.py, Jinja's
through mailing/render/jinja_adapter.py: each test below calls the adapter the way Mailroom
does and checks what the library did, and the last one checks that no other module
names those internals."""

from __future__ import annotations

import datetime as dt
import inspect
import io
import re
import smtplib
from pathlib import Path

from mailing.pdf import reportlab_adapter as rl
from mailing.pdf.faces import FONT_DIR
from mailing.transports.smtplib_adapter import set_tls_server_name


def test_smtplib_checks_the_certificate_against_the_name_in_host() -> None:
    smtp = smtplib.SMTP()
    set_tls_server_name(smtp, "mail.example.com")
    assert smtp._host == "mail.example.com"  # type: ignore[attr-defined]
    # ... and both ways into TLS hand that name to the TLS layer (SNI, certificate check).
    assert "server_hostname=self._host" in inspect.getsource(smtplib.SMTP.starttls)
    assert "server_hostname=self._host" in inspect.getsource(smtplib.SMTP_SSL._get_socket)


def test_reportlab_numbers_and_settings() -> None:
    from reportlab import rl_config

    fp_str = rl.number_format()
    assert (fp_str(1.5), fp_str(12.0), fp_str(-0.25)) == ("1.5", "12", "-0.25")
    rl.turn_off_ascii85()
    assert rl_config.useA85 == 0


def test_reportlab_canvas_internals() -> None:
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    c = Canvas(out, pageCompression=0)
    c.setFont("Helvetica", 9)
    assert rl.current_font(c) == ("Helvetica", 9)
    assert rl.page_number(c) == 1
    assert rl.escaper(c)(b"a(b)\\") == "a\\(b\\)\\\\"
    rl.append_operators(c, ["BT /F1 9 Tf 1 0 0 1 10 10 Tm (Pinned) Tj ET"])
    rl.page_operators(c).append("BT /F1 9 Tf 1 0 0 1 10 20 Tm (Appended) Tj ET")
    c.showPage()
    assert rl.page_number(c) == 2
    assert rl.document(c) is c._doc
    c.save()
    assert b"(Pinned) Tj" in out.getvalue() and b"(Appended) Tj" in out.getvalue()


def test_reportlab_page_numbering_canvas() -> None:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    seen: list[tuple[int, int]] = []

    def footer(c: object, page: int, pages: int) -> None:
        seen.append((page, pages))

    body = getSampleStyleSheet()["BodyText"]
    doc = SimpleDocTemplate(io.BytesIO())
    doc.build(
        [Paragraph("one", body), PageBreak(), Paragraph("two", body)],
        canvasmaker=rl.page_numbering_canvas(footer),
    )
    assert seen == [(1, 2), (2, 2)]


def test_reportlab_document_internals() -> None:
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    c = Canvas(out)
    doc = rl.document(c)
    rl.fix_dates(doc, dt.date(2026, 3, 4))
    pdf = rl.pdf_types()
    for name in ("PDFArray", "PDFDictionary", "PDFName", "PDFStream", "PDFString"):
        assert callable(getattr(pdf, name)), name
    assert pdf.PDFZCompress is not None
    ref = rl.add_object(doc, pdf.PDFDictionary({"Pinned": pdf.PDFName("Yes")}), "Pinned")
    assert ref is not None
    assert isinstance(rl.font_dictionary(doc), dict)
    rl.font_dictionary(doc)["PinnedFont"] = rl.object_reference("Pinned")
    cat = rl.catalog(doc, "Mark")
    cat.Mark = pdf.PDFName("Pinned")
    raw = type(
        "Raw",
        (rl.pdf_object_base(),),
        {"format": lambda self, d: b"%d 0 R" % rl.object_numbers(d)["Pinned"][0]},
    )
    rl.add_object(doc, raw(), "RawPinned")
    assert rl.xobject_name("p1").endswith("p1")
    c.drawString(10, 10, "x")
    c.save()
    data = out.getvalue()
    assert b"/CreationDate (D:20260304000000+00'00')" in data
    assert b"/Mark /Pinned" in data
    assert b"/Pinned /Yes" in data
    assert re.search(rb"/PinnedFont \d+ 0 R", data)


def test_reportlab_truetype_internals() -> None:
    from reportlab.pdfbase import ttfonts
    from reportlab.pdfgen.canvas import Canvas

    font = ttfonts.TTFont("PinnedDejaVu", str(FONT_DIR / "DejaVuSans.ttf"), asciiReadable=1)
    assert rl.can_write_own_subsets(font)
    rl.seed_first_subset(font, [ord("é")])
    doc = rl.document(Canvas(io.BytesIO()))
    split = rl.split_string(font, "AéΩ", doc)  # [(subset, encoded bytes), ...]
    assert split == [(0, b"A\x01\x02")]  # é seeded as code 1, Ω the next code
    assert rl.subset_internal_name(font, 0, doc).startswith("/")
    assert rl.used_subsets(font, doc)[0][:3] == [0, ord("é"), ord("Ω")]
    other = rl.document(Canvas(io.BytesIO()))  # a document of its own: its own state
    assert rl.split_string(font, "ΩAé", other) == [(0, b"\x02A\x01")]
    assert rl.used_subsets(font, other)[0][:3] == [0, ord("é"), ord("Ω")]
    fresh = ttfonts.TTFont.State(1, font)  # as reportlab makes a state, but for the seed
    seeded = font.state[rl.document(Canvas(io.BytesIO()))]
    assert seeded.subsets[0][32:] == fresh.subsets[0][32:]
    assert {k: v for k, v in seeded.assignments.items() if k != ord("é")} == fresh.assignments
    assert seeded.nextCode == 2 and not seeded.frozen and seeded.internalName is None
    calls: list[object] = []
    rl.replace_add_objects(font, lambda f, d: calls.append((f, d)))
    font.addObjects(doc)
    assert calls == [(font, doc)]
    rl.forget_document(font, doc)
    face = rl.face_of(font)
    glyph = rl.char_to_glyph(face)[ord("A")]
    assert glyph > 0 and rl.char_width(face, ord("A")) > 0
    rl.char_widths(face)[0xF0000 + glyph] = 500.0
    assert rl.char_width(face, 0xF0000 + glyph) == 500.0
    assert rl.make_subset(face, [0, ord("A")])[:4] in (b"\x00\x01\x00\x00", b"true")
    facts = rl.face_facts(face)
    assert facts.name == b"DejaVuSans" and facts.subfont_name == b""
    assert facts.symbolic_flags & ttfonts.FF_SYMBOLIC
    assert len(facts.bbox) == 4 and facts.ascent > 0 > facts.descent


# The internals the adapter hides: no other module of ours may name them.
_PRIVATE = re.compile(
    r"\._(doc|code|escape|pageNumber|fontname|fontsize|timeStamp|assignState|startPage)\b"
    r"|getSubsetInternalName|splitString|idToObject|\.Reference\(|charToGlyph|charWidths"
    r"|getCharWidth|makeSubset|rl_accel|pdfbase\.pdfdoc|rl_config|FF_(NON)?SYMBOLIC"
    r"|\.Catalog\b|__NoDefault__|TTFont\.State"
    r"|(?<!self)\._data\b|_fail_with_undefined_error"  # pypdf's and Jinja's
)


def test_only_the_adapters_touch_reportlab_pypdf_and_jinja_internals() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for package in ("mailing", "screens", "tui", "store")
        for path in sorted((root / package).rglob("*.py"))
        if path.name
        not in (
            "reportlab_adapter.py",
            "reportlab_writer.py",
            "pypdf_adapter.py",
            "jinja_adapter.py",
        )
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if _PRIVATE.search(line.split("#")[0]) and not line.lstrip().startswith(("``", '"'))
    ]
    assert offenders == []


# Textual's (screens/textual_adapter.py; pinned by tests/functional/tui/test_textual_internals.py).
_TEXTUAL_PRIVATE = re.compile(
    r"_check_bindings|_forward_event|_binding_chain|_dispatch_message|_move_page"
    r"|_index_to_line|_watch__list_visible|\._exception\b|textual\.widgets\._"
)


def test_only_the_adapter_touches_textual_internals() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for package in ("screens", "tui")
        for path in sorted((root / package).rglob("*.py"))
        if path.name != "textual_adapter.py"
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if _TEXTUAL_PRIVATE.search(line.split("#")[0]) and "``" not in line
    ]
    assert offenders == []


def test_pypdf_stream_data_as_stored() -> None:
    import zlib

    from pypdf import PdfReader
    from pypdf.generic import StreamObject
    from reportlab.pdfgen.canvas import Canvas

    from mailing.pdf.pypdf_adapter import encoded_data, encoded_stream

    rl.turn_off_ascii85()  # Flate only, as Mailroom writes its pages
    buf = io.BytesIO()
    c = Canvas(buf, pageCompression=1)
    c.drawString(10, 10, "pinned")
    c.save()
    contents = PdfReader(io.BytesIO(buf.getvalue())).pages[0]["/Contents"].get_object()
    stored = encoded_data(contents)  # as in the file: still compressed
    assert zlib.decompress(stored) == contents.get_data() and b"(pinned) Tj" in contents.get_data()
    copy = encoded_stream(stored)
    assert isinstance(copy, StreamObject) and encoded_data(copy) == stored


def test_jinja_undefined_and_parse_internals() -> None:
    import jinja2
    import pytest

    from mailing.render.jinja_adapter import fail_undefined

    with pytest.raises(jinja2.UndefinedError, match="'missing' is undefined"):
        fail_undefined(jinja2.StrictUndefined(name="missing"))
    params = list(inspect.signature(jinja2.Environment._parse).parameters)
    assert params == ["self", "source", "name", "filename"]
