"""Before drawing: every text a document shows has a glyph in an embedded face.

A character that no face has would print as a box (or nothing), and so would one
that the face has but cannot shape in its place (HarfBuzz gives the empty glyph);
the document is refused instead, naming the document, the field and the character.
The doctor's font check asks the same question (:func:`undrawable`).
"""

from __future__ import annotations

from collections.abc import Iterator

from mailing.errors import DocumentError
from mailing.pdf.fonts import FACE_LIST, FONT, describe, missing, register
from mailing.pdf.shaping import is_complex, shape
from store.records import Administration, Document, Relation


def undrawable(text: str) -> list[str]:
    """The characters of ``text`` that would not print (each once, in order)."""
    bad = missing(text)
    if bad or not is_complex(text):
        return bad
    register()
    return list(shape(text, FONT).notdef)


def needs_layout(text: str) -> bool:
    """Whether ``text`` is laid out by the bidi algorithm and shaped (Arabic, Hebrew,
    Thai, Devanagari, combining marks) rather than drawn letter by letter."""
    return is_complex(text)


def relation_texts(relation: Relation) -> Iterator[tuple[str, str]]:
    """(field in words, text) for what a document draws of the relation."""
    yield "name", relation.name
    for n, line in enumerate(relation.address, start=1):
        yield f"address line {n}", line
    yield "code", relation.code


def administration_texts(adm: Administration) -> Iterator[tuple[str, str]]:
    """(field in words, text) for what a document draws of the administration."""
    yield "name", adm.name
    for n, line in enumerate(adm.address, start=1):
        yield f"address line {n}", line
    yield from (
        ("phone", adm.phone),
        ("e-mail address", adm.email),
        ("website", adm.website),
        ("IBAN", adm.iban),
        ("BIC", adm.bic),
        ("VAT number", adm.vat_number),
        ("chamber of commerce number", adm.coc_number),
    )


def _texts(doc: Document, relation: Relation, adm: Administration) -> Iterator[tuple[str, str]]:
    """(field in words, text) for every text of the document that is drawn."""
    for field, text in relation_texts(relation):
        yield f"the relation's {field}", text
    for field, text in administration_texts(adm):
        yield f"the administration's {field}", text
    yield "the document number", doc.number
    yield "the reference", doc.reference
    yield "the description", doc.description
    yield "the currency", doc.currency
    for n, ln in enumerate(doc.lines, start=1):
        yield f"line {n}'s article", ln.article
        yield f"line {n}'s description", ln.description
    for n, item in enumerate(doc.open_items, start=1):
        yield f"open item {n}'s number", item.number


def check_drawable(doc: Document, relation: Relation, adm: Administration, title: str) -> None:
    """Raise DocumentError for the first text holding a character no face has."""
    for field, text in _texts(doc, relation, adm):
        if not text:
            continue
        bad = undrawable(text)
        if bad:
            chars = ", ".join(describe(ch) for ch in bad)
            raise DocumentError(
                f"{title} cannot be drawn: {field} ({text!r}) holds {chars}, which none of "
                f"the embedded fonts ({FACE_LIST}) can draw; it would print as a box.",
                field=field,
                value=text,
                fix="replace the character in the relation, administration or document "
                "(e.g. with a similar letter), then build the document again.",
            )
