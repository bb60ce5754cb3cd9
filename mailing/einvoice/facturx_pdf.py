"""Embedding the CII XML into the document's PDF/A-3: a Factur-X / ZUGFeRD invoice."""

from __future__ import annotations

import logging

from mailing.pdf.pdfa import ArchiveInfo


def embed_facturx(pdf: bytes, xml: bytes, info: ArchiveInfo) -> bytes:
    """``pdf`` (a PDF/A-3b from the layouts) with ``factur-x.xml`` attached, XMP updated."""
    from facturx import generate_from_binary

    logging.getLogger("factur-x").setLevel(logging.ERROR)
    return bytes(
        generate_from_binary(
            pdf,
            xml,
            flavor="factur-x",
            level="en16931",
            check_xsd=False,  # cii_xml checked it when it was made
            pdf_metadata={
                "author": info.administration,
                "keywords": info.keywords,
                "title": info.title,
                "subject": info.subject,
            },
            lang=info.language.lower()[:2],
        )
    )
