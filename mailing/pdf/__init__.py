"""PDF documents: layouts per document type (layout.py) on the letterhead (letterhead.py)."""

from mailing.pdf.layout import (
    COPY_DOCUMENT_TYPES,
    copy_document_pdf,
    copy_with_background,
    render_document_pdf,
)
from mailing.pdf.letterhead import Letterhead, validate_letterhead

__all__ = [
    "COPY_DOCUMENT_TYPES",
    "Letterhead",
    "copy_document_pdf",
    "copy_with_background",
    "render_document_pdf",
    "validate_letterhead",
]
