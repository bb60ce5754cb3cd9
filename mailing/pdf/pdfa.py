"""PDF/A-3b for what is mailed and archived: output intent, XMP, dates, in one pass.

Added to reportlab's own document before it is written (no second PDF pass):

* an sRGB output intent (``/OutputIntents`` with ``/S /GTS_PDFA1``), its ICC profile
  made by LittleCMS through Pillow (reportlab's own dependency), 588 bytes;
* XMP metadata (uncompressed) with ``pdfaid:part=3``, ``pdfaid:conformance=B``, the
  title, the document number and the administration, matching the document
  information dictionary entry for entry (PDF/A asks both to agree);
* the creation date: the document's date, so the same document gives the same bytes.

Every font is embedded by fonts.py; a letterhead that would break conformance
(fonts not embedded, transparency, JavaScript, actions) is refused when it is saved
(letterhead_check.py). A Factur-X invoice gets its CII XML (made and checked against
the EN 16931 XSD by mailing/einvoice/ with the ``factur-x`` library) embedded in the
same pass, and the XMP declares the Factur-X schema with the library's own extension
schema description: no second PDF pass (pypdf) per invoice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

PRODUCER = "Mailroom (ReportLab)"
CREATOR = "Mailroom"


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in sRGB, via Pillow), the same bytes in
    every process: LittleCMS writes the time it made the profile into its header, so
    that date is set to a fixed one (the profile's ID, bytes 84-99, is zero: no
    checksum covers it)."""
    from PIL import ImageCms

    made = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    made[ICC_DATE] = ICC_FIXED_DATE
    return bytes(made)


# The ICC header's dateTimeNumber (ICC.1:2010 7.2.8): year, month, day, hour, minute,
# second as big-endian 16-bit numbers.
ICC_DATE = slice(24, 36)
ICC_FIXED_DATE = bytes.fromhex("07ea 0001 0001 0000 0000 0000")  # 2026-01-01 00:00:00


@dataclass(frozen=True)
class ArchiveInfo:
    """What the PDF says about itself, in the info dictionary and the XMP alike."""

    title: str  # "Factuur F20260025"
    number: str  # the document number
    administration: str  # the administration's name
    administration_code: str
    date: dt.date
    language: str = "nl"

    @property
    def subject(self) -> str:
        return f"{self.title} - {self.administration} ({self.administration_code})"

    @property
    def keywords(self) -> str:
        return f"{self.number}, {self.administration_code}"


FACTURX_FILE = "factur-x.xml"


@lru_cache(maxsize=1)
def _facturx_xmp() -> str:
    """The Factur-X properties and their PDF/A extension schema, from the ``factur-x``
    library's own XMP (Factur-X_extension_schema.xmp), at the EN 16931 level."""
    from importlib.resources import files

    text = (files("facturx") / "xmp" / "Factur-X_extension_schema.xmp").read_text("utf-8")
    body = text[text.index("<rdf:Description") : text.rindex("</rdf:RDF>")]
    return body.replace(
        "<fx:ConformanceLevel>BASIC</fx:ConformanceLevel>",
        "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
    )


def _xmp(info: ArchiveInfo, facturx: bool = False) -> bytes:
    when = f"{info.date.isoformat()}T00:00:00+00:00"
    lang = escape(info.language.lower()[:2] or "x-default")
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{escape(info.administration)}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.subject)}</rdf:li></rdf:Alt></dc:description>
<dc:identifier>{escape(info.number)}</dc:identifier>
<dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>{PRODUCER}</pdf:Producer>
<pdf:Keywords>{escape(info.keywords)}</pdf:Keywords>
<pdf:Trapped>False</pdf:Trapped>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreatorTool>{CREATOR}</xmp:CreatorTool>
<xmp:CreateDate>{when}</xmp:CreateDate>
<xmp:ModifyDate>{when}</xmp:ModifyDate>
</rdf:Description>
{_facturx_xmp() if facturx else ""}</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return text.encode("utf-8")


def make_archival(c: Canvas, info: ArchiveInfo, facturx: bytes | None = None) -> None:
    """Turn the canvas's document into PDF/A-3b (call before ``c.save()``).

    With ``facturx`` (the CII XML of the invoice), the XML is embedded as
    ``factur-x.xml`` the way Factur-X 1.0 / ZUGFeRD 2 asks (an associated file with
    relationship Data, in the embedded files, the XMP declaring the Factur-X schema).
    """
    from mailing.pdf.reportlab_adapter import add_object, catalog, document, fix_dates, pdf_types

    pdf = pdf_types()
    PDFArray, PDFDictionary, PDFName = pdf.PDFArray, pdf.PDFDictionary, pdf.PDFName
    PDFStream, PDFString, PDFZCompress = pdf.PDFStream, pdf.PDFString, pdf.PDFZCompress

    c.setTitle(info.title)
    c.setAuthor(info.administration)
    c.setSubject(info.subject)
    c.setKeywords(info.keywords)
    c.setCreator(CREATOR)
    c.setProducer(PRODUCER)
    doc = document(c)
    fix_dates(doc, info.date)

    icc = PDFStream(PDFDictionary({"N": 3}), srgb_profile())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB"),
            "Info": PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": add_object(doc, icc),
        }
    )
    metadata = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        _xmp(info, facturx=facturx is not None),
        filters=[],
    )
    cat = catalog(doc, "OutputIntents", "AF")
    cat.OutputIntents = PDFArray([intent])
    if facturx is not None:
        stamp = PDFString(f"D:{info.date:%Y%m%d}000000+00'00'")
        embedded = PDFStream(
            PDFDictionary(
                {
                    "Type": PDFName("EmbeddedFile"),
                    "Subtype": "/text#2Fxml",  # the name text/xml, its slash escaped
                    "Params": PDFDictionary({"ModDate": stamp, "Size": len(facturx)}),
                }
            ),
            facturx,
            filters=[PDFZCompress],
        )
        ref = add_object(doc, embedded)
        spec = add_object(
            doc,
            PDFDictionary(
                {
                    "Type": PDFName("Filespec"),
                    "F": PDFString(FACTURX_FILE),
                    "UF": PDFString(FACTURX_FILE),
                    "Desc": PDFString("Factur-X XML file"),
                    "AFRelationship": PDFName("Data"),
                    "EF": PDFDictionary({"F": ref, "UF": ref}),
                }
            ),
        )
        cat.AF = PDFArray([spec])
        cat.Names = PDFDictionary(
            {"EmbeddedFiles": PDFDictionary({"Names": PDFArray([PDFString(FACTURX_FILE), spec])})}
        )
        cat.PageMode = PDFName("UseAttachments")
    cat.Metadata = metadata
    cat.Lang = PDFString(info.language.lower()[:2] or "nl")
